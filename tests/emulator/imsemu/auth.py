# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who is calling: an IAM token (X-Auth-Token) or an AK/SK signature, as the API gateway in front of IMS checks it."""

from . import aksk
from .routes import GLANCE_ACTIONS
from .shapes import IMG_ERRORS, WEBOB_401, ApiError


def auth_kind_of(request):
    """The credentials presented, for the stats: token, aksk or none."""
    if request.headers.get('X-Auth-Token'):
        return 'token'
    if request.headers.get('Authorization', '').startswith('SDK-HMAC-SHA256'):
        return 'aksk'
    return 'none'


class Authenticator(object):
    """Sets ctx.user and ctx.project_id from the request's credentials, or raises the gateway's 401."""

    def __init__(self, state):
        self.state = state

    def auth_error(self, message, code='APIGW.0301', status=401):
        if self.state.mode == 'glance':
            return ApiError(401, 'webob', WEBOB_401, headers={'WWW-Authenticate': 'Keystone uri="%s/v3"' % self.state.base_url})
        return ApiError(status, 'gateway', message, code)

    def authenticate(self, ctx):
        """IMS: a project-scoped token or (otc mode) an AK/SK signature."""
        token = ctx.request.headers.get('X-Auth-Token')
        if token:
            self.token_caller(ctx, token)
            if ctx.project_id is None:
                if self.state.mode == 'glance':
                    raise ApiError(403, 'webob', 'You are not authorized to complete %s action.'
                                   % GLANCE_ACTIONS.get(ctx.endpoint, ctx.endpoint))
                raise ApiError(400, 'ims', IMG_ERRORS['IMG.0030'] + ' A project-scoped token is required.', 'IMG.0030')
            return
        if ctx.request.headers.get('Authorization', '').startswith('SDK-HMAC-SHA256') and self.state.mode == 'otc':
            self.aksk_caller(ctx)
            return
        raise self.auth_error('Incorrect IAM authentication information: x-auth-token not found')

    def token_caller(self, ctx, token):
        record, problem = self.state.token_record(token)
        if record is None:
            raise self.auth_error('Incorrect IAM authentication information: %s' % problem)
        ctx.auth_kind = 'token'
        ctx.token = record
        ctx.user = self.state.user(record['user_id'])
        ctx.project_id = record['project_id']

    def aksk_caller(self, ctx):
        """Verify the signature; X-Project-Id (unsigned is fine) picks the project of a user with several."""
        ctx.auth_kind = 'aksk'
        try:
            access_key = aksk.verify(ctx.request, ctx.body, self.state.now(), self.state.secret_of)
        except aksk.SignatureError as exc:
            raise self.auth_error(exc.message, code=exc.code)
        user = self.state.user_by_access_key(access_key)
        project_id = ctx.request.headers.get('X-Project-Id')
        if project_id is None:
            if len(user['projects']) != 1:
                raise self.auth_error('Incorrect IAM authentication information: X-Project-Id is required for this access key')
            project_id = user['projects'][0]
        elif project_id not in user['projects']:
            raise self.auth_error('Incorrect IAM authentication information: the access key has no access to project %s' % project_id)
        ctx.user, ctx.project_id = user, project_id
