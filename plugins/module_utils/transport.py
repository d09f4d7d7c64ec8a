# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

# Transport: the one HTTP path of the collection. URL building, credentials on each request (from auth.py),
# retries (retry.py decides), 401 re-authentication, the throttle gate, error mapping, request counters, and
# the bounded thread pool that the API calls use for parallel reads.

import json as jsonlib
import os
import platform
import random
import re
import threading
import time
import traceback
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Any, Callable, Optional, Sequence, TypeVar
from urllib.parse import quote, urlencode, urlsplit

try:
    import requests
    from requests.adapters import HTTPAdapter
    REQUESTS_IMPORT_ERROR: Optional[str] = None
except ImportError:
    requests = None
    HTTPAdapter = object
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.imscloud.sharing.plugins.module_utils.auth import TokenProvider
from ansible_collections.imscloud.sharing.plugins.module_utils.config import ConnectionConfig
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import parse_error_response
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import response_json
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import sanitize_url
from ansible_collections.imscloud.sharing.plugins.module_utils.retry import FAIL
from ansible_collections.imscloud.sharing.plugins.module_utils.retry import RETRY
from ansible_collections.imscloud.sharing.plugins.module_utils.retry import UNCERTAIN
from ansible_collections.imscloud.sharing.plugins.module_utils.retry import RetryPolicy
from ansible_collections.imscloud.sharing.plugins.module_utils.retry import classify_exception
from ansible_collections.imscloud.sharing.plugins.module_utils.retry import classify_status
from ansible_collections.imscloud.sharing.plugins.module_utils.retry import parse_retry_after
from ansible_collections.imscloud.sharing.plugins.module_utils.retry import ThrottleGate
from ansible_collections.imscloud.sharing.plugins.module_utils.signer import canonical_link
from ansible_collections.imscloud.sharing.plugins.module_utils.trace import RequestTrace
from ansible_collections.imscloud.sharing.plugins.module_utils.trace import route_of
from ansible_collections.imscloud.sharing.plugins.module_utils.version import COLLECTION_VERSION

BATCH_MEMBERS_PATH = '/v1/cloudimages/members'
DEFAULT_POOL_SIZE = 16
T = TypeVar('T')
R = TypeVar('R')


def user_agent() -> str:
    agent = 'imscloud.sharing/%s python-requests/%s Python/%s' % (
        COLLECTION_VERSION, getattr(requests, '__version__', 'unknown'), platform.python_version())
    if os.environ.get('AWX_HOST') or os.environ.get('TOWER_HOST'):
        agent += ' AWX'
    return agent


def ca_bundle_in_use(verify: Any) -> str:
    """The CA bundle requests checks server certificates against, for messages."""
    if isinstance(verify, str):
        return verify
    for name in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
        if os.environ.get(name):
            return '%s (from $%s)' % (os.environ[name], name)
    where = getattr(getattr(requests, 'certs', None), 'where', None)
    return '%s (the default bundle of requests)' % where() if where else 'the default bundle of requests'


def _encode(body: Any) -> bytes:
    return jsonlib.dumps(body, separators=(',', ':')).encode('utf-8')


def _exception_text(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + '...'


def _not_json(response: Any) -> bool:
    """True for a success whose non-empty body is not JSON (e.g. a proxy's HTML login page)."""
    if not (response.content or b'').strip():
        return False
    try:
        response.json()
    except ValueError:
        return True
    return False


def _attempts_note(message: str, details: dict, uncertain: bool, attempts: int) -> str:
    """The message of a failure that may have been processed (details marked uncertain), or that was retried."""
    if uncertain:
        details['uncertain'] = True
        return message + '; the request may have been processed'
    return message + (' after %d attempts' % attempts if attempts > 1 else '')


class _PoolAdapter(HTTPAdapter):  # type: ignore[misc,valid-type]
    """Plain requests adapter; retries are done by the client, not by urllib3."""

    def __init__(self, pool_size: int) -> None:
        super().__init__(pool_connections=4, pool_maxsize=pool_size, max_retries=0, pool_block=False)


class _Attempts:
    """The state of one call across its attempts."""

    def __init__(self) -> None:
        self.retries_done = 0
        self.reauthenticated = False
        self.maybe_processed = False
        self.reason: Optional[str] = None    # why the attempt now due is a retry (for the request trace)


class Transport:
    """Sends the calls of one client: credentials from its TokenProvider (self.auth), retries, errors, counters."""

    def __init__(self, config: ConnectionConfig, warn: Optional[Callable[[str], None]] = None,
                 log: Optional[Callable[[str], None]] = None, *, sleep: Callable[[float], Any] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, rand: Callable[[], float] = random.random,
                 session: Any = None, trace: Optional[RequestTrace] = None) -> None:
        if requests is None:
            raise IMSError('the Python library requests is required (import failed)',
                           details={'exception': REQUESTS_IMPORT_ERROR})
        self.config = config
        self._warn_callback = warn
        self._log_callback = log
        self._sleep = sleep
        self._clock = clock
        self.retry_policy = RetryPolicy(config.retries, sleep=sleep, rand=rand)
        self._gate = ThrottleGate(clock=clock, sleep=sleep)
        self.session = session if session is not None else requests.Session()
        self.session.headers['User-Agent'] = user_agent()
        # requests reads the proxy and CA-bundle variables (and ~/.netrc) on every call, a third of its CPU time: read
        # once per host instead (_environment_for), and .netrc never (tokens and signatures are the only credentials)
        self.session.trust_env = False
        self._environment: dict = {}
        self._pool_size = 0
        self._ensure_pool(DEFAULT_POOL_SIZE)
        self._stats_lock = threading.Lock()
        self.stats: dict = {
            'requests': {},            # 'GET /v2/images/{image_id}/members' -> requests sent (each attempt counts)
            'total_requests': 0,
            'tokens_obtained': 0,      # successful POST /v3/auth/tokens
            'token_cache_hits': 0,     # tokens taken from the on-disk cache
            'retries': 0,
            'reauthentications': 0,    # 401 from IMS -> new token
            'throttle_waits': 0,       # requests held back while the cloud throttled (429, 503 + Retry-After)
        }
        self.auth = TokenProvider(config, self._send, self._count, self._warn, self._log)
        # one line per request when the trace is on (IMSModule turns it on); secrets are scrubbed from each line
        self.trace = trace if trace is not None else RequestTrace()
        self.trace.set_secrets(self._secrets)

    # ------------------------------------------------------------------ plumbing

    def _warn(self, message: str) -> None:
        if self._warn_callback:
            self._warn_callback(message)

    def _log(self, message: str) -> None:
        if self._log_callback:
            self._log_callback('imscloud.sharing: ' + message)

    def _count(self, key: str, amount: int = 1) -> None:
        with self._stats_lock:
            self.stats[key] += amount

    def _count_request(self, route: str) -> None:
        with self._stats_lock:
            self.stats['requests'][route] = self.stats['requests'].get(route, 0) + 1
            self.stats['total_requests'] += 1

    def _ensure_pool(self, size: int) -> None:
        """Mount adapters whose connection pools hold at least size connections (one per worker)."""
        if size <= self._pool_size:
            return
        self._pool_size = size
        for prefix in ('https://', 'http://'):
            self.session.mount(prefix, _PoolAdapter(size))

    def _environment_for(self, url: str) -> tuple:
        """(proxies, verify) of a request to url, as requests takes them from the environment with trust_env."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        found = self._environment.get(key)
        if found is None:
            verify = self.config.verify
            if verify is True or verify is None:
                verify = os.environ.get('REQUESTS_CA_BUNDLE') or os.environ.get('CURL_CA_BUNDLE') or verify
            # {} when $no_proxy names the host, else every *_proxy variable
            found = self._environment[key] = (requests.utils.get_environ_proxies(url), verify)
        return found

    def _secrets(self) -> list:
        return self.auth.secrets()

    def close(self) -> None:
        self.session.close()

    @property
    def project_id(self) -> str:
        return self.auth.project_id

    @property
    def endpoint(self) -> str:
        return self.auth.endpoint

    # ------------------------------------------------------------------ requests

    def _url(self, path: str, params: Optional[dict] = None) -> str:
        """Absolute URL for a path below the endpoint (or a same-origin absolute URL), with the query encoded."""
        endpoint = self.endpoint
        if re.match(r'^https?://', path, re.IGNORECASE):
            target, base = urlsplit(path), urlsplit(endpoint)
            if (target.scheme.lower(), target.netloc.lower()) != (base.scheme.lower(), base.netloc.lower()):
                raise IMSError('refusing to follow a link to another host: %s' % sanitize_url(path))
            url = path
        else:
            url = endpoint + ('' if path.startswith('/') else '/') + path
        url = canonical_link(url)
        if params:
            query = urlencode([(k, v) for k, v in params.items() if v is not None], quote_via=quote)
            if query:
                url += ('&' if '?' in url else '?') + query
        return url

    def request(self, method: str, path: str, json: Any = None, params: Optional[dict] = None,
                ok: Sequence[int] = (200,), idempotent: Optional[bool] = None, headers: Optional[dict] = None,
                ok_after_retry: Sequence[int] = ()) -> Any:
        """Send one IMS call with retries and 401 re-authentication; return the requests.Response.

        idempotent=None infers it: the batch member API and other POSTs are not retried after a failure
        that may have been processed (they raise IMSError with details {"uncertain": True}).
        ok_after_retry: statuses that count as success once an earlier attempt may have been processed
        (409 for adding a member, 404 for removing one).
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method != 'POST' and BATCH_MEMBERS_PATH not in path
        url = self._url(path, params)
        body = None if json is None else _encode(json)
        return self._send(method, url, body, ok=ok, idempotent=idempotent, extra_headers=headers,
                          ok_after_retry=ok_after_retry)

    def _send(self, method: str, url: str, body: Optional[bytes], ok: Sequence[int], idempotent: bool,
              authenticated: bool = True, service: str = 'IMS', extra_headers: Optional[dict] = None,
              ok_after_retry: Sequence[int] = ()) -> Any:
        route = route_of(method, url)
        shown_url = sanitize_url(url)
        state = _Attempts()
        while True:
            if self._gate.wait():
                self._count('throttle_waits')
            headers = {'Content-Type': 'application/json', 'Accept': 'application/json'}
            headers.update(extra_headers or {})
            token = None
            if authenticated:
                headers, token = self.auth.headers_for(method, url, body, headers)
            self._count_request(route)
            started = self.trace.start()
            source = self.auth.token_source if token is not None else ('aksk' if authenticated else 'none')
            proxies, verify = self._environment_for(url)
            try:
                response = self.session.request(method, url, data=body, headers=headers, timeout=self.config.api_timeout,
                                                verify=verify, cert=self.config.cert, proxies=proxies,
                                                allow_redirects=False)
            except requests.exceptions.RequestException as exc:
                self.trace.record(method, url, started, attempt=state.retries_done + 1, reason=state.reason,
                                  token_source=source, error=type(exc).__name__)
                verdict = classify_exception(exc, idempotent)
                if verdict.action == RETRY and state.retries_done < self.retry_policy.retries:
                    state.maybe_processed = state.maybe_processed or verdict.maybe_processed
                    self._pause(method, shown_url, type(exc).__name__, state, self.retry_policy.delay(state.retries_done))
                    continue
                raise self._transport_error(exc, method, url, service, verdict.action, state.retries_done + 1)
            self.trace.record(method, url, started, status=response.status_code, headers=response.headers,
                              attempt=state.retries_done + 1, reason=state.reason, token_source=source)
            if response.status_code == 401 and token is not None and not state.reauthenticated:
                # the token was revoked or expired early: get a new one once
                state.reauthenticated = True
                response.close()
                self._count('reauthentications')
                self._log('%s %s returned 401; re-authenticating once' % (method, shown_url))
                self.auth.invalidate(token)
                continue
            if response.status_code in ok or (state.maybe_processed and response.status_code in ok_after_retry):
                if not _not_json(response):
                    return response
                if self._retry_not_json(response, method, shown_url, idempotent, state):
                    continue
                raise self._not_json_error(response, method, url, service, idempotent, state)
            if not self._retry_status(response, method, shown_url, idempotent, state):
                raise self._status_error(response, method, url, service, idempotent, state)

    def _retry_status(self, response: Any, method: str, shown_url: str, idempotent: bool, state: _Attempts) -> bool:
        """True after waiting for the retry of a failed status; False when it is the final answer."""
        status = response.status_code
        verdict = classify_status(status, response.headers, idempotent)
        if verdict.action != RETRY or state.retries_done >= self.retry_policy.retries:
            return False
        state.maybe_processed = state.maybe_processed or verdict.maybe_processed
        retry_after = parse_retry_after(response.headers.get('Retry-After'))
        delay = self.retry_policy.delay(state.retries_done, retry_after)
        response.close()
        if status == 429 or (status == 503 and retry_after is not None):
            # the cloud throttles this caller: every thread of this client holds back until the delay has passed
            self._gate.close_for(delay)
        self._pause(method, shown_url, '%s' % status, state, delay)
        return True

    def _retry_not_json(self, response: Any, method: str, shown_url: str, idempotent: bool, state: _Attempts) -> bool:
        """A read answered with a page that is not JSON (a proxy's login page) is retried like a 502."""
        if not idempotent or state.retries_done >= self.retry_policy.retries:
            return False
        response.close()
        self._pause(method, shown_url, '%s with a body that is not JSON' % response.status_code, state,
                    self.retry_policy.delay(state.retries_done))
        return True

    def _pause(self, method: str, shown_url: str, reason: str, state: _Attempts, delay: float) -> None:
        self._count('retries')
        self._log('retry %d/%d of %s %s after %s, waiting %.2f s'
                  % (state.retries_done + 1, self.retry_policy.retries, method, shown_url, reason, delay))
        state.retries_done += 1
        state.reason = reason
        self.retry_policy.sleep(delay)

    def _status_error(self, response: Any, method: str, url: str, service: str, idempotent: bool,
                      state: _Attempts) -> IMSError:
        details: dict = {}
        verdict = classify_status(response.status_code, response.headers, idempotent)
        if state.retries_done:
            details['attempts'] = state.retries_done + 1
        if verdict.action == UNCERTAIN:
            details['uncertain'] = True
        err = parse_error_response(response, method=method, url=url, service=service, details=details)
        if 300 <= response.status_code < 400:
            location = urlsplit(response.headers.get('Location') or '')
            err.message = 'redirect to %s refused (redirects are never followed; set ims_endpoint or auth_url to ' \
                          'the URL that answers)' % (location.hostname or 'an unnamed location')
        if state.retries_done:
            err.message += ' (gave up after %d attempts)' % (state.retries_done + 1)
        return err.redact(self._secrets())

    def _not_json_error(self, response: Any, method: str, url: str, service: str, idempotent: bool,
                        state: _Attempts) -> IMSError:
        details: dict = {'attempts': state.retries_done + 1, 'content_type': response.headers.get('Content-Type')}
        message = 'the response is not valid JSON (status %d, Content-Type %s)' % (
            response.status_code, response.headers.get('Content-Type') or 'not set')
        message = _attempts_note(message, details, not idempotent, state.retries_done + 1)
        return IMSError(message, status=response.status_code, method=method, url=url, service=service,
                        details=details).redact(self._secrets())

    def _transport_error(self, exc: BaseException, method: str, url: str, service: str, action: str,
                         attempts: int) -> IMSError:
        kind = 'timed out' if isinstance(exc, requests.exceptions.Timeout) else 'connection failed'
        details: dict = {'attempts': attempts, 'error_type': type(exc).__name__}
        message = '%s (%s)' % (kind, _exception_text(exc))
        if isinstance(exc, requests.exceptions.SSLError):
            bundle = ca_bundle_in_use(self.config.verify)
            message = 'TLS error (%s); the server certificate was checked against %s: set ca_cert to the CA bundle ' \
                      'that signed it, or validate_certs: false for a lab' % (_exception_text(exc), bundle)
            details['ca_bundle'] = bundle
        message = _attempts_note(message, details, action == UNCERTAIN, attempts if action != FAIL else 1)
        return IMSError(message, method=method, url=url, service=service, details=details).redact(self._secrets())

    def _json(self, response: Any, service: str = 'IMS') -> Any:
        return response_json(response, service)

    def _get_json(self, path: str, params: Optional[dict] = None) -> Any:
        return self._json(self.request('GET', path, params=params))

    # ------------------------------------------------------------------ concurrency

    def _map_concurrently(self, func: Callable[[T], R], items: Sequence[T], concurrency: int) -> list:
        """[func(item) for item in items] on at most concurrency threads; the first error is raised."""
        items = list(items)
        workers = max(1, min(int(concurrency or 1), len(items)))
        if workers <= 1:
            return [func(item) for item in items]
        self.auth.prepare()
        self._ensure_pool(workers)
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix='imscloud')
        try:
            futures = [pool.submit(func, item) for item in items]
            done, _pending = wait(futures, return_when=FIRST_EXCEPTION)
            for future in futures:
                if future in done and future.exception() is not None:
                    for other in futures:
                        other.cancel()
                    raise future.exception()  # type: ignore[misc]
            return [future.result() for future in futures]
        finally:
            pool.shutdown(wait=True)
