# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The WSGI application: routing, stats, latency, faults, authentication, then the handler of the route's API."""

import random
import socket
import time
import uuid

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .api_batch import BatchApi
from .api_iam import IamApi
from .api_images import ImagesApi
from .api_members import MembersApi
from .auth import Authenticator, auth_kind_of
from .control import ControlApi
from .faults import PROXY_LOGIN_PAGE, fault_error
from .routes import ROUTE_GROUPS, ROUTE_INFO, ROUTES
from .shapes import HTTP_TITLES, ApiError, DropConnection, error_response, json_response, webob_body


def proxy_login_page():
    """A 200 that is not the API's answer: a proxy's HTML login page."""
    return Response(PROXY_LOGIN_PAGE, status=200, content_type='text/html; charset=UTF-8')


class Context(object):
    """One request as the handlers see it."""

    def __init__(self, request, body, args, route, request_id):
        self.request = request
        self.body = body
        self.args = args
        self.route = route  # the ROUTES tuple, None when unmatched
        self.request_id = request_id
        self.user = None
        self.project_id = None
        self.token = None
        self.auth_kind = 'none'

    @property
    def endpoint(self):
        return self.route[2]

    @property
    def native(self):
        return self.route is not None and self.route[1].startswith('/v2/') and self.route[2] != 'list_cloudimages'


class EmulatorApp(object):
    """Routes each request to the handler of its API; the control API under /_emulator/ bypasses all of it."""

    def __init__(self, state):
        self.state = state
        self.auth = Authenticator(state)
        self.handlers = {}
        for api in (IamApi(state, self.auth), ImagesApi(state), MembersApi(state), BatchApi(state)):
            self.handlers.update(api.handlers())
        self.control = ControlApi(state)
        self.jitter_rng = random.Random()
        self.url_map = Map([Rule(template.replace('{', '<').replace('}', '>'), endpoint='%s %s' % (method, template),
                                 methods=[method]) for method, template, _e, _f, _k in ROUTES],
                           strict_slashes=False, merge_slashes=False)

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path == '/_emulator' or request.path.startswith('/_emulator/'):
            return self.control(request)(environ, start_response)
        return self.api(request, environ)(environ, start_response)

    def match(self, request, environ):
        """(route_key, args, route, not_allowed)."""
        try:
            route_key, args = self.url_map.bind_to_environ(environ).match()
            return route_key, args, ROUTE_INFO[route_key], False
        except (NotFound, MethodNotAllowed) as exc:
            return '%s <unmatched>' % request.method, {}, None, isinstance(exc, MethodNotAllowed)

    def api(self, request, environ):
        request_id = uuid.uuid4().hex
        body = request.get_data(cache=True)
        route_key, args, route, not_allowed = self.match(request, environ)
        family = route[3] if route else ('IAM' if request.path.startswith('/v3') else 'IMS')
        group = ROUTE_GROUPS.get(route[2], family) if route else family
        state = self.state
        with state.lock:
            state.stats.enter(group)
            state.stats.record_request(route_key, route[4] if route else 'other', family, auth_kind_of(request))
            fault = state.pick_fault(route_key, family)
            delay = state.pick_latency(route_key, family, self.jitter_rng)
            mode = state.mode
        try:
            if fault and fault[0] == 'delay':
                delay += fault[1]
                fault = None
            with state.lock:
                state.stats.slept(route_key, delay)
            if delay > 0:
                time.sleep(delay)  # outside the lock, so slow requests overlap
            ctx = Context(request, body, args, route, request_id)
            if fault and fault[0] == 'html200-processed':
                if route is not None:
                    self.dispatch(ctx)   # the cloud does the work; the proxy swallows its answer
                response = proxy_login_page()
            elif fault:
                response = self.fault_response(fault, ctx, family, mode, environ)
            elif route is None:
                response = self.unmatched(request, family, mode, not_allowed, request_id)
            else:
                response = self.dispatch(ctx)
        finally:
            with state.lock:
                state.stats.leave(group)
        response.headers['X-Request-Id'] = request_id
        if request.path.startswith('/v2/') and not request.path.startswith('/v2/cloudimages'):  # Glance's own calls
            response.headers['X-Openstack-Request-Id'] = 'req-' + str(uuid.UUID(request_id))
        with state.lock:
            state.stats.record_response(route_key, response.status_code)
        return response

    def dispatch(self, ctx):
        handler = self.handlers[ctx.endpoint]
        try:
            with self.state.lock:
                self.state.jobs.settle_due()
                if ctx.route[3] == 'IMS':
                    if self.state.mode == 'glance' and not ctx.native:  # real Glance has no IMS extension APIs
                        raise ApiError(404, 'webob', 'The resource could not be found.')
                    self.auth.authenticate(ctx)
                return handler(ctx)
        except ApiError as err:
            return error_response(err, ctx.request.accept_mimetypes, ctx.request_id)

    @staticmethod
    def unmatched(request, family, mode, not_allowed, request_id):
        if family == 'IAM':
            status = 405 if not_allowed else 404
            message = 'The method is not allowed for the requested URL.' if not_allowed else 'The resource could not be found.'
            return json_response({'error': {'code': status, 'title': HTTP_TITLES[status], 'message': message}}, status)
        if not_allowed:
            body, content_type = webob_body(405, 'The method %s is not allowed for this resource. ' % request.method,
                                            request.accept_mimetypes, tail='<br /><br />\n')
            return Response(body, status=405, content_type=content_type)
        if family == 'IMS' and mode == 'otc':
            return json_response({'error_code': 'APIGW.0101', 'error_msg': 'The API does not exist or has not been published in the environment',
                                  'request_id': request_id}, 404)
        body, content_type = webob_body(404, 'The resource could not be found.', request.accept_mimetypes)
        return Response(body, status=404, content_type=content_type)

    @staticmethod
    def fault_response(fault, ctx, family, mode, environ):
        kind, argument = fault
        if kind == 'html200':
            return proxy_login_page()
        if kind == 'drop':
            sock = environ.get('werkzeug.socket')
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            raise DropConnection('fault injection: connection dropped')
        err = fault_error(int(kind), argument, family, mode, ctx.native)
        return error_response(err, ctx.request.accept_mimetypes, ctx.request_id)
