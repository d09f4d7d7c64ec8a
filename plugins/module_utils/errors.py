# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json
import re
from http import HTTPStatus
from typing import Any, Iterable, List, Optional
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit, urlunsplit

REQUEST_ID_HEADERS = ('X-Request-Id', 'X-Openstack-Request-Id', 'X-Compute-Request-Id')

# Query parameters whose values must never be shown (none of the client's own calls use them, but a
# user-supplied endpoint or a pagination link might).
_SECRET_QUERY_KEY = re.compile(r'(token|password|secret|signature|credential|key|auth)', re.IGNORECASE)
_BR_TAIL = re.compile(r'(\s*<br\s*/?>)+\s*$', re.IGNORECASE)
_BR_ANY = re.compile(r'\s*<br\s*/?>\s*', re.IGNORECASE)
_HTML_HEAD = re.compile(r'<(head|script|style)\b.*?</\1\s*>', re.IGNORECASE | re.DOTALL)
_HTML_H1 = re.compile(r'<h1\b[^>]*>(.*?)</h1\s*>', re.IGNORECASE | re.DOTALL)
_HTML_TITLE = re.compile(r'<title\b[^>]*>(.*?)</title\s*>', re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(r'<[^>]+>')
_WHITESPACE = re.compile(r'\s+')
# "409 Conflict", 401: an HTTP status used as a "code", which says nothing beyond the status itself.
_STATUS_LINE_CODE = re.compile(r'^\d{3}(\s.*)?$')
MAX_MESSAGE_LENGTH = 1000
REDACTED = '********'


def status_reason(status: Optional[int]) -> str:
    """The standard reason phrase of an HTTP status ('' when unknown)."""
    if status is None:
        return ''
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ''


def sanitize_url(url: Optional[str]) -> Optional[str]:
    """The URL with user info removed and the values of secret-looking query parameters masked."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split('?', 1)[0]
    netloc = parts.netloc.rsplit('@', 1)[-1]
    pairs = []
    for pair in parts.query.split('&') if parts.query else []:
        key = unquote_plus(pair.split('=', 1)[0])
        pairs.append('%s=%s' % (pair.split('=', 1)[0], REDACTED) if _SECRET_QUERY_KEY.search(key) else pair)
    return urlunsplit((parts.scheme, netloc, parts.path, '&'.join(pairs), ''))


def clean_message(text: Any) -> str:
    """A service message as one readable line: Glance's '<br />' tail removed, HTML reduced to text."""
    if text is None:
        return ''
    if not isinstance(text, str):
        text = json.dumps(text) if isinstance(text, (dict, list)) else str(text)
    text = _BR_TAIL.sub('', text)
    text = _BR_ANY.sub(' ', text)
    if '<' in text and '>' in text:
        text = _HTML_TAG.sub(' ', text)
    if '&' in text:
        # imported here: html loads its entity tables (~6 ms of every module run), and only a message with an
        # entity needs them
        import html  # pylint: disable=import-outside-toplevel
        text = html.unescape(text)
    text = _WHITESPACE.sub(' ', text).strip()
    if len(text) > MAX_MESSAGE_LENGTH:
        text = text[:MAX_MESSAGE_LENGTH - 3] + '...'
    return text


def html_to_message(body: str) -> str:
    """The message text of an HTML error page (webob: <title>/<h1> hold the status line, the body the message)."""
    without_head = _HTML_HEAD.sub(' ', body)
    headings = [clean_message(h) for h in _HTML_H1.findall(without_head)]
    text = clean_message(_HTML_H1.sub(' ', without_head))
    if text:
        return text
    if headings and headings[0]:
        return headings[0]
    title = _HTML_TITLE.search(body)
    return clean_message(title.group(1)) if title else ''


def _service_code(value: Any) -> Optional[str]:
    """A service error code such as IMG.0088 or APIGW.0301; None for an HTTP status reused as 'code'."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None
    text = str(value).strip()
    if not text or _STATUS_LINE_CODE.match(text):
        return None
    return text


def _first_text(*values: Any) -> Optional[str]:
    for value in values:
        if isinstance(value, str) and value.strip():
            return value
    return None


def parse_error_body(body: Any) -> tuple[str, Optional[str], Optional[str]]:
    """(message, service code, request id) from a decoded JSON error body of any known shape."""
    if not isinstance(body, dict):
        return clean_message(body), None, None
    request_id = _first_text(body.get('request_id'), body.get('requestId'))
    error = body.get('error')
    if isinstance(error, dict):
        # {"error": {"code": "IMG.0024", "message": ...}} (IMS) and {"error": {"code": 401, "message", "title"}} (Keystone)
        message = _first_text(error.get('message'), error.get('title')) or ''
        request_id = request_id or _first_text(error.get('request_id'))
        # OTC IAM adds its own code beside Keystone's body: {"error": {...}, "error_code": "IAM.0061", "error_msg": ...}
        code = _service_code(error.get('code')) or _service_code(body.get('error_code'))
        return clean_message(message), code, request_id
    if 'error_code' in body or 'error_msg' in body:
        # API gateway: {"error_code": "APIGW.0301", "error_msg": ..., "request_id": ...}
        return clean_message(body.get('error_msg') or ''), _service_code(body.get('error_code')), request_id
    if 'message' in body:
        # Glance/webob: {"message": "...<br /><br />\n\n\n", "code": "409 Conflict", "title": "Conflict"}
        return clean_message(body.get('message')), _service_code(body.get('code')), request_id
    if isinstance(error, str):
        return clean_message(error), _service_code(body.get('code')), request_id
    if len(body) == 1:
        # Nova style {"badRequest": {"message": ..., "code": 400}}
        inner = next(iter(body.values()))
        if isinstance(inner, dict) and 'message' in inner:
            return clean_message(inner.get('message')), _service_code(inner.get('code')), request_id
    return clean_message(body), None, request_id


def _html_escape(text: str, quote_marks: bool) -> str:
    """html.escape(text, quote_marks), without importing html for every secret (see clean_message)."""
    text = text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
    return text.replace('"', '&quot;').replace("'", '&#x27;') if quote_marks else text


def secret_forms(secret: str) -> List[str]:
    """The secret as it may appear in text: raw, JSON-escaped, repr-escaped, URL-encoded, HTML-escaped."""
    forms = [secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1], repr(secret)[1:-1],
             secret.replace('\\', '\\\\').replace("'", "\\'"), secret.replace('\\', '\\\\').replace('"', '\\"'),
             quote(secret, safe=''), quote_plus(secret, safe=''), quote(secret), _html_escape(secret, True),
             _html_escape(secret, False)]
    unique: List[str] = []
    for form in forms:
        if form not in unique:
            unique.append(form)
    return unique


def scrub(text: str, secrets: Iterable[Optional[str]]) -> str:
    """text with every occurrence of a secret, in any of its forms (secret_forms), replaced."""
    for secret in secrets:
        if not secret or len(secret) < 4:
            continue
        # the longest forms first: an escaped form contains parts of the raw one
        for form in sorted(secret_forms(secret), key=len, reverse=True):
            if form in text:
                text = text.replace(form, REDACTED)
    return text


class IMSError(Exception):
    """The one exception type of the collection.

    status is None for errors found before any request (bad input, configuration) and for failures that
    carry no HTTP status (connection errors, failed or timed-out jobs).
    """

    def __init__(self, message: str, status: Optional[int] = None, code: Optional[str] = None,
                 request_id: Optional[str] = None, method: Optional[str] = None, url: Optional[str] = None,
                 details: Optional[dict] = None, service: str = 'IMS', context: Optional[str] = None,
                 hint: Optional[str] = None) -> None:
        self.message = message
        self.context = context
        self.hint = hint
        self.status = status
        self.code = code
        self.request_id = request_id
        self.method = method.upper() if method else method
        self.url = sanitize_url(url)
        self.details: dict = dict(details or {})
        self.service = service
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = self._describe()
        if self.context:
            text = '%s: %s' % (self.context, text)
        if self.hint:
            text = '%s. %s' % (text.rstrip('. '), self.hint)
        return text

    def with_context(self, context: Optional[str] = None, hint: Optional[str] = None, **details: Any) -> IMSError:
        """A copy that says what was being done (context, before) and what to do about it (hint, after).

        The service's own message stays as it was in to_dict(); the hint is also reported as a detail.
        """
        merged = dict(self.details)
        merged.update(details)
        if hint:
            merged['hint'] = hint
        return IMSError(self.message, status=self.status, code=self.code, request_id=self.request_id,
                        method=self.method, url=self.url, details=merged, service=self.service,
                        context=context or self.context, hint=hint or self.hint)

    def _describe(self) -> str:
        if not self.method or not self.url:
            return self.message
        text = '%s request failed: %s %s' % (self.service, self.method, self.url)
        if self.status is not None:
            text += (' returned %s %s' % (self.status, status_reason(self.status))).rstrip()
        notes = []
        if self.code:
            notes.append(self.code)
        if self.request_id:
            notes.append('request id %s' % self.request_id)
        if notes:
            text += ' (%s)' % ', '.join(notes)
        if self.message:
            text += ': ' + self.message
        return text

    def to_dict(self) -> dict:
        """The fixed keys that say what failed where. Details are reported beside them, not inside, by IMSModule."""
        return {
            'status': self.status,
            'code': self.code,
            'message': self.message,
            'request_id': self.request_id,
            'method': self.method,
            'url': self.url,
        }

    def redact(self, secrets: Iterable[Optional[str]]) -> IMSError:
        """Mask any secret a service echoed back in its message or in string details (in place; returns self)."""
        secrets = [s for s in secrets if s]
        if secrets:
            self.message = scrub(self.message, secrets)
            self.details = {key: scrub(value, secrets) if isinstance(value, str) else value
                            for key, value in self.details.items()}
            self.args = (self.__str__(),)
        return self


def response_json(response: Any, service: str = 'IMS') -> Any:
    """The decoded JSON body of a successful response; IMSError naming the request when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        request = getattr(response, 'request', None)
        raise IMSError('the response is not valid JSON', status=response.status_code,
                       method=getattr(request, 'method', None), url=getattr(request, 'url', None), service=service)


def parse_error_response(response: Any, method: Optional[str] = None, url: Optional[str] = None,
                         service: str = 'IMS', details: Optional[dict] = None) -> IMSError:
    """An IMSError for a failed HTTP response (a requests.Response or anything shaped like one).

    Understands the three IMS body shapes ({"error": {"code", "message"}}, {"error_code", "error_msg",
    "request_id"}, Glance/webob {"message", "code", "title"}), Keystone's {"error": {"message", "code", "title"}},
    HTML pages and plain text.
    """
    request = getattr(response, 'request', None)
    method = method or getattr(request, 'method', None)
    url = url or getattr(request, 'url', None) or getattr(response, 'url', None)
    status = response.status_code
    headers = response.headers or {}
    text = response.text or ''
    content_type = headers.get('Content-Type', '') or ''
    body: Any = None
    message = ''
    code = None
    body_request_id = None
    stripped = text.strip()
    if stripped[:1] in ('{', '['):
        try:
            body = json.loads(stripped)
        except ValueError:
            body = None
    if body is not None:
        message, code, body_request_id = parse_error_body(body)
    elif 'html' in content_type.lower() or stripped.lower().startswith(('<!doctype', '<html')):
        message = html_to_message(text)
    else:
        message = clean_message(text)
        status_line = '%s %s' % (status, status_reason(status))
        # webob's text/plain error starts with the status line; keep only what follows it
        if message.startswith(status_line + ' ') and len(message) > len(status_line) + 1:
            message = message[len(status_line) + 1:].strip()
    if not message:
        message = getattr(response, 'reason', None) or status_reason(status) or 'no error message in the response'
    request_id = None
    for name in REQUEST_ID_HEADERS:
        if headers.get(name):
            request_id = headers.get(name)
            break
    return IMSError(message, status=status, code=code, request_id=request_id or body_request_id,
                    method=method, url=url, details=details, service=service)
