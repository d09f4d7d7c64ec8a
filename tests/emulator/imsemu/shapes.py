# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Responses and the error shapes of the real services: Glance/webob, IMS, API gateway, Keystone, IAM."""

import html
import json
import re

from werkzeug.wrappers import Response

HTTP_TITLES = {
    400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
    409: 'Conflict', 413: 'Request Entity Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests',
    500: 'Internal Server Error', 503: 'Service Unavailable',
}
# webob renders "${explanation}<br /><br />\n${detail}\n${comment}\n"; Glance sets no detail or comment.
WEBOB_TAIL = '<br /><br />\n\n\n'
WEBOB_401 = ('This server could not verify that you are authorized to access the document you requested. Either you '
             'supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply '
             'the credentials required.')
KEYSTONE_401 = 'The request you have made requires authentication.'

# IMS v1 error codes (ims_api.md section 5.1) used by the batch API and its jobs.
IMG_ERRORS = {
    'IMG.0001': 'The request message format is invalid.',
    'IMG.0007': 'The request body is empty.',
    'IMG.0014': 'An exception occurred when IaaS OpenStack was executing the task.',
    'IMG.0023': 'An exception occurred during task query.',
    'IMG.0027': 'The image ID in the request does not exist.',
    'IMG.0030': 'The project ID and token in the request are invalid.',
    'IMG.0046': 'The image is unavailable.',
    'IMG.0047': 'This operation can be performed only by the image owner.',
    'IMG.0066': 'The image ID is incorrect.',
    'IMG.0067': 'The project ID is incorrect.',
    'IMG.0076': 'You cannot share an image with yourself.',
    'IMG.0086': 'No image was found.',
    'IMG.0088': 'The number of shared images has reached the maximum allowed.',
    'IMG.0089': 'The public image cannot be shared.',
    'IMG.0099': 'You do not have permission to access the KMS key.',
    'IMG.0108': 'The tenant ID was not found in the current region.',
    'IMG.0112': 'Failed to add the tenant.',
    'IMG.0113': 'Failed to delete the tenant.',
    'IMG.0177': 'The source and target tenants reside in different regions.',
}


class ApiError(Exception):
    """Ends a request with an error response in one of the error shapes."""

    def __init__(self, status, shape, message, code=None, headers=None, tail=None):
        super(ApiError, self).__init__(message)
        self.status = status
        self.shape = shape  # webob | ims | gateway | keystone | iam
        self.message = message
        self.code = code
        self.headers = headers or {}
        self.tail = WEBOB_TAIL if tail is None else tail  # webob only: what follows the explanation


class DropConnection(ConnectionAbortedError):
    """Raised after the socket was shut down, so werkzeug ends the request silently."""


def img_error(code, status=400, detail=None):
    """An IMS extension error {"error": {"code": "IMG.xxxx", "message"}}."""
    message = IMG_ERRORS[code] + (' ' + detail if detail else '')
    return ApiError(status, 'ims', message, code)


def keystone_error(status, message, code=None):
    """A Keystone-shaped IAM error; code (an IAM.xxxx) is added as "error_code", as OTC IAM does."""
    return ApiError(status, 'keystone', message, code)


def webob_body(status, message, accept, tail=WEBOB_TAIL):
    """Glance error bodies, as webob renders them: JSON only when Accept prefers it, else HTML or plain text."""
    title = HTTP_TITLES.get(status, 'Error')
    status_line = '%d %s' % (status, title)
    best = accept.best_match(['text/html', 'application/json', 'text/plain']) if accept else None
    if best == 'application/json':
        payload = {'message': message + tail, 'code': status_line, 'title': title}
        return json.dumps(payload), 'application/json'
    if best == 'text/plain':
        # webob's strip_tags: newlines become spaces, <br> tags newlines, other tags vanish.
        text = re.sub(r'<br.*?>', '\n', (message + tail).replace('\n', ' ').replace('\r', ''), flags=re.I | re.S)
        return '%s\n\n%s' % (status_line, re.sub(r'<.*?>', '', text, flags=re.S)), 'text/plain; charset=UTF-8'
    body = '<html>\n <head>\n  <title>%s</title>\n </head>\n <body>\n  <h1>%s</h1>\n  %s%s\n </body>\n</html>' % (
        status_line, status_line, html.escape(message, quote=False), tail)
    return body, 'text/html; charset=UTF-8'


def json_response(payload, status=200, headers=None):
    response = Response(json.dumps(payload, ensure_ascii=False), status=status, mimetype='application/json')
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def no_content():
    response = Response(status=204)
    del response.headers['Content-Type']
    return response


def parse_json(body):
    """Return (value, problem): problem is None, 'empty' or 'malformed'."""
    if not body or not body.strip():
        return None, 'empty'
    try:
        return json.loads(body.decode('utf-8')), None
    except (ValueError, UnicodeDecodeError):
        return None, 'malformed'


def error_response(err, accept, request_id):
    """Render an ApiError in its shape."""
    if err.shape == 'webob':
        body, content_type = webob_body(err.status, err.message, accept, err.tail)
        response = Response(body, status=err.status, content_type=content_type)
    elif err.shape == 'ims':
        response = json_response({'error': {'code': err.code, 'message': err.message}}, err.status)
    elif err.shape == 'gateway':
        response = json_response({'error_msg': err.message, 'error_code': err.code, 'request_id': request_id}, err.status)
    elif err.shape == 'iam':
        response = json_response({'error_msg': err.message, 'error_code': err.code}, err.status)
    else:  # keystone
        error = {'code': err.status, 'title': HTTP_TITLES.get(err.status, 'Error'), 'message': err.message}
        payload = {'error': error}
        if err.code:
            payload['error_code'] = err.code
            payload['error_msg'] = err.message
        response = json_response(payload, err.status)
    for key, value in err.headers.items():
        response.headers[key] = value
    return response
