# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM (Keystone v3 as OTC runs it, ims_api.md section 1): tokens and the catalog."""

import hmac

from . import totp
from .api_base import Api
from .clock import iso_micros
from .seed import derived_id
from .shapes import KEYSTONE_401, ApiError, json_response, parse_json

MALFORMED = (' The server could not comply with the request since it is either malformed or otherwise incorrect. '
             'The client is assumed to be in error.')


def bad_request(message):
    return ApiError(400, 'keystone', message)


def unauthorized(message=KEYSTONE_401, code=None):
    return ApiError(401, 'keystone', message, code)


# IAM's 401s for a sign-in that fails: (otc message, otc IAM error code, Keystone message). The OTC codes and
# messages are from the IAM API reference's error code table; "The username or password is wrong." is the body
# OTC IAM answers (seen in terraform-provider-opentelekomcloud issue 1404). No source documents the answer to a
# password-only sign-in of an MFA user: the emulator uses IAM.0001 with a message that says what is missing.
SIGN_IN_FAILURES = {
    'credentials': ('The username or password is wrong.', None, KEYSTONE_401),
    'locked': ('Account locked.', 'IAM.0061', 'The account is locked for user: %(user)s.'),
    'mfa_required': ('Virtual MFA login protection is enabled for user %(user)s: authenticate with the methods '
                     '"password" and "totp".', 'IAM.0001', 'Additional authentications steps required.'),
    'passcode': ('Invalid TOTP passcode.', 'IAM.1061', KEYSTONE_401),
}


class IamApi(Api):
    """POST /v3/auth/tokens and what hangs off it."""

    def __init__(self, state, authenticator):
        super(IamApi, self).__init__(state)
        self.auth = authenticator

    def h_iam_version(self, ctx):
        return json_response({'version': {'id': 'v3.0', 'status': 'stable', 'updated': '2020-01-01T00:00:00Z',
                                          'links': [{'rel': 'self', 'href': self.state.base_url + '/v3/'}],
                                          'media-types': [{'base': 'application/json',
                                                           'type': 'application/vnd.openstack.identity-v3+json'}]}})

    def h_iam_issue_token(self, ctx):
        data, problem = parse_json(ctx.body)
        if problem or not isinstance(data, dict) or not isinstance(data.get('auth'), dict):
            raise bad_request('Expecting to find auth in request body.' + MALFORMED)
        auth = data['auth']
        identity = auth.get('identity')
        if not isinstance(identity, dict) or not isinstance(identity.get('methods'), list) or not identity['methods']:
            raise bad_request('Expecting to find identity in auth.' + MALFORMED)
        user, methods, fixed_project, extra = self.identify(ctx, identity)
        if fixed_project is not None:
            if auth.get('scope') is not None:  # as Keystone: the credential decides the scope
                raise unauthorized('Application credentials cannot request a scope.')
            project, domain = fixed_project, None
        else:
            project, domain = self.token_scope(auth.get('scope'), user)
        retry_after = self.state.token_slot(user)
        if retry_after is not None:
            limit = self.state.setting('token_rate_limit')
            raise ApiError(429, 'iam', 'The throttling threshold has been reached. Threshold: %d times per %g seconds'
                           % (limit['per_user'], limit['window']), 'IAM.0012', {'Retry-After': str(retry_after)})
        token, record = self.state.issue_token(user, project, domain, methods, extra)
        body = self.token_body(user, project, domain, record, with_catalog=not ctx.request.args.get('nocatalog'))
        return json_response(body, 201, {'X-Subject-Token': token})

    def sign_in_failure(self, kind, user=None):
        otc_message, code, keystone_message = SIGN_IN_FAILURES[kind]
        values = {'user': user['id'] if user else ''}
        if self.state.mode == 'glance':
            return unauthorized(keystone_message % values)
        return unauthorized(otc_message % values, code)

    def identify(self, ctx, identity):
        """(user, methods, project the method fixes or None, extra token fields) of the identity, or the IAM error."""
        methods = identity['methods']
        if 'application_credential' in methods:
            return self.application_credential_user(identity.get('application_credential'))
        if 'password' in methods:
            user = self.password_user(identity.get('password'))
            if user['locked']:
                raise self.sign_in_failure('locked', user)
            if 'totp' in methods:
                return user, ['password', 'totp'], None, self.verify_totp(user, identity.get('totp'))
            if user['totp_secret']:
                raise self.sign_in_failure('mfa_required', user)
            return user, ['password'], None, {}
        if 'token' in methods:
            token_value = (identity.get('token') or {}).get('id') or ctx.request.headers.get('X-Auth-Token')
            record, _problem = self.state.token_record(token_value or '')
            if record is None:
                raise unauthorized()
            return self.state.user(record['user_id']), ['token'], None, {}
        raise unauthorized('Attempted to authenticate with an unsupported method.')

    def verify_totp(self, user, totp_spec):
        """Check identity.totp {user: {id, passcode}} (RFC 6238, +-1 step, each passcode once per user)."""
        spec = totp_spec.get('user') if isinstance(totp_spec, dict) else None
        if not isinstance(spec, dict) or not spec.get('id') or 'passcode' not in spec:
            raise bad_request('Expecting to find user id and passcode in totp.' + MALFORMED)
        if str(spec['id']) != user['id'] or not user['totp_secret']:
            raise self.sign_in_failure('passcode', user)
        step = totp.matching_step(user['totp_secret'], spec['passcode'], self.state.now())
        if step is None or not self.state.use_passcode(user['id'], step):
            raise self.sign_in_failure('passcode', user)
        return {'mfa_authn_at': iso_micros(self.state.now())}

    def application_credential_user(self, spec):
        """Keystone's application_credential method: {id, secret} or {name, secret, user: {id} | {name, domain}}."""
        if not isinstance(spec, dict) or not isinstance(spec.get('secret'), str) or not (spec.get('id') or spec.get('name')):
            raise bad_request('Expecting to find id or name, and secret, in application_credential.' + MALFORMED)
        if spec.get('id'):
            credential = self.state.app_credential(credential_id=spec['id'])
        else:
            if not isinstance(spec.get('user'), dict):
                raise bad_request('Expecting to find user in application_credential.' + MALFORMED)
            user = self.named('user', spec['user'])
            credential = self.state.app_credential(user_id=user['id'], name=spec['name']) if user else None
        if credential is None or not hmac.compare_digest(spec['secret'].encode('utf-8'), credential['secret'].encode('utf-8')):
            raise unauthorized()
        user = self.state.user(credential['user_id'])
        extra = {'application_credential': {'id': credential['id'], 'name': credential['name'], 'restricted': True}}
        return user, ['application_credential'], self.state.project(credential['project_id']), extra

    def named(self, kind, spec, default_domain_id=None):
        """A user or project given as {id} or {name, domain: {id|name}} (None when there is no such entry).

        Without a domain, a name is looked up in default_domain_id; when that is None too, it is a 400.
        """
        if spec.get('id'):
            return self.state.find(kind, entry_id=spec['id'])
        if not spec.get('name'):
            raise bad_request('Expecting to find id or name in %s.' % kind)
        domain_spec = spec.get('domain')
        if isinstance(domain_spec, dict) and (domain_spec.get('id') or domain_spec.get('name')):
            domain_id = self.state.domain_id_of(domain_spec)
            if domain_id is None:
                return None
        elif default_domain_id is not None:
            domain_id = default_domain_id
        else:
            raise bad_request('Expecting to find domain in %s.' % kind + MALFORMED)
        return self.state.find(kind, name=spec['name'], domain_id=domain_id)

    def password_user(self, password):
        if not isinstance(password, dict) or not isinstance(password.get('user'), dict):
            raise bad_request('Expecting to find user in password.' + MALFORMED)
        spec = password['user']
        if not spec.get('id') and not spec.get('name'):
            raise bad_request('Expecting to find name or id in user.')
        user = self.named('user', spec)
        secret = spec.get('password')
        if user is None or not isinstance(secret, str) or not hmac.compare_digest(secret.encode('utf-8'), user['password'].encode('utf-8')):
            raise self.sign_in_failure('credentials')
        return user

    def token_scope(self, scope, user):
        """(project, domain) of the requested scope; both None for a global token. Project wins over domain.

        A project name without a domain is looked up in the user's own domain (the OTC IAM doc lists
        scope.project.name on its own; project names are region names, unique within an account).
        """
        if scope is None:
            return None, None
        if not isinstance(scope, dict):
            raise bad_request('The scope must be an object.')
        if isinstance(scope.get('project'), dict):
            project = self.named('project', scope['project'], default_domain_id=user['domain_id'])
            if project is None or project['id'] not in user['projects']:
                raise unauthorized()
            return project, None
        if isinstance(scope.get('domain'), dict):
            domain_id = self.state.domain_id_of(scope['domain'])
            if domain_id != user['domain_id']:
                raise unauthorized()
            return None, self.state.domain(domain_id)
        raise bad_request('The scope must name a project or a domain.')

    # -- GET /v3/auth/catalog and GET /v3/projects: a token or an AK/SK signature
    def caller(self, ctx):
        """Authenticate an IAM read: X-Auth-Token or AK/SK (401 in IAM's shape otherwise)."""
        try:
            token = ctx.request.headers.get('X-Auth-Token')
            if token:
                self.auth.token_caller(ctx, token)
            elif ctx.request.headers.get('Authorization', '').startswith('SDK-HMAC-SHA256'):
                self.auth.aksk_caller(ctx)
            else:
                raise unauthorized()
        except ApiError as err:
            raise unauthorized(err.message if err.shape == 'gateway' else KEYSTONE_401, err.code)
        if ctx.user is None:
            raise unauthorized()

    def h_iam_catalog(self, ctx):
        self.caller(ctx)
        project = self.state.project(ctx.project_id) if ctx.project_id else None
        if project is None:
            raise ApiError(403, 'keystone', 'The token must be scoped to a project to read the catalog.', 'IAM.0002')
        return json_response({'catalog': self.catalog(project['region']),
                              'links': {'self': self.state.base_url + '/v3/auth/catalog'}})

    def h_iam_projects(self, ctx):
        """The projects of the caller's domain, filtered by name, domain_id, enabled (OTC IAM API reference,
        "Querying Project Information Based on the Specified Criteria")."""
        self.caller(ctx)
        user = ctx.user
        if not user.get('list_projects', True):
            raise ApiError(403, 'keystone', 'You are not authorized to perform the requested action.', 'IAM.0002')
        args = ctx.request.args
        domain_id = args.get('domain_id', user['domain_id'])
        if domain_id != user['domain_id']:
            raise ApiError(403, 'keystone', 'You are not authorized to perform the requested action.', 'IAM.0002')
        base = self.state.base_url + '/v3/projects'
        projects = [p for p in self.state.projects() if p['domain_id'] == domain_id
                    and args.get('name') in (None, p['name']) and args.get('enabled', 'true').lower() == 'true']
        query = ctx.request.query_string.decode('latin-1')
        return json_response({
            'links': {'self': base + ('?' + query if query else ''), 'previous': None, 'next': None},
            'projects': [{'is_domain': False, 'description': '', 'enabled': True, 'id': p['id'],
                          'parent_id': p['domain_id'], 'domain_id': p['domain_id'], 'name': p['name'],
                          'links': {'self': '%s/%s' % (base, p['id'])}}
                         for p in sorted(projects, key=lambda p: (p['name'], p['id']))],
        })

    def token_body(self, user, project, domain, record, with_catalog):
        user_domain = self.state.domain(user['domain_id'])
        token = {
            'methods': record['methods'], 'expires_at': iso_micros(record['expires_at']), 'issued_at': iso_micros(record['issued_at']),
            'user': {'id': user['id'], 'name': user['name'], 'password_expires_at': '',
                     'domain': {'id': user_domain['id'], 'name': user_domain['name']}},
            'roles': [{'id': derived_id('role', 'te_admin'), 'name': 'te_admin'}],
        }
        for key in ('mfa_authn_at', 'application_credential'):
            if key in record:
                token[key] = record[key]
        if project is not None:
            project_domain = self.state.domain(project['domain_id'])
            token['project'] = {'id': project['id'], 'name': project['name'],
                                'domain': {'id': project_domain['id'], 'name': project_domain['name']}}
        elif domain is not None:
            token['domain'] = {'id': domain['id'], 'name': domain['name']}
        if with_catalog:
            token['catalog'] = self.catalog(project['region'] if project else 'eu-de')
        return {'token': token}

    def catalog(self, region):
        # OTC publishes only public endpoints; a Keystone bootstrap registers all three interfaces.
        interfaces = ('public',) if self.state.mode == 'otc' else ('public', 'internal', 'admin')
        base_url = self.state.base_url

        def endpoints(service, url, endpoint_region):
            return [{'id': derived_id(service + interface, url), 'interface': interface, 'region': endpoint_region,
                     'region_id': endpoint_region, 'url': url} for interface in interfaces]
        return [
            {'type': 'identity', 'id': derived_id('service', 'iam'), 'name': 'iam',
             'endpoints': endpoints('identity', base_url + '/v3', '*')},
            {'type': 'image', 'id': derived_id('service', 'glance'), 'name': 'glance',
             'endpoints': endpoints('image', base_url, region)},
        ]
