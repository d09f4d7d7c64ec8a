# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json as jsonlib
import os
import platform
import random
import re
import threading
import time
import traceback
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Optional, Sequence, TypeVar
from urllib.parse import quote, urlencode, urlsplit

try:
    import requests
    from requests.adapters import HTTPAdapter
    REQUESTS_IMPORT_ERROR: Optional[str] = None
except ImportError:
    requests = None
    HTTPAdapter = object
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.imscloud.sharing.plugins.module_utils.config import ConnectionConfig
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import parse_error_response
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import sanitize_url
from ansible_collections.imscloud.sharing.plugins.module_utils.retry import FAIL
from ansible_collections.imscloud.sharing.plugins.module_utils.retry import RETRY
from ansible_collections.imscloud.sharing.plugins.module_utils.retry import UNCERTAIN
from ansible_collections.imscloud.sharing.plugins.module_utils.retry import RetryPolicy
from ansible_collections.imscloud.sharing.plugins.module_utils.retry import classify_exception
from ansible_collections.imscloud.sharing.plugins.module_utils.retry import classify_status
from ansible_collections.imscloud.sharing.plugins.module_utils.retry import parse_retry_after
from ansible_collections.imscloud.sharing.plugins.module_utils.signer import sign_request
from ansible_collections.imscloud.sharing.plugins.module_utils.token_cache import TokenCache
from ansible_collections.imscloud.sharing.plugins.module_utils.version import COLLECTION_VERSION
from ansible_collections.imscloud.sharing.plugins.module_utils.waiter import wait_for_job
from ansible_collections.imscloud.sharing.plugins.module_utils.waiter import wait_for_jobs

# OTC IMS endpoints follow this pattern (ims_api.md section 0); used for AK/SK without ims_endpoint.
IMS_ENDPOINT_TEMPLATE = 'https://ims.{region}.otc.t-systems.com'
BATCH_MEMBERS_PATH = '/v1/cloudimages/members'
JSON_PATCH_CONTENT_TYPE = 'application/openstack-images-v2.1-json-patch'
DEFAULT_POOL_SIZE = 16
LIST_PAGE_SIZE = 100
MAX_PAGES = 1000
# A token is reused while more than this share of its life (at most TOKEN_MARGIN_MAX seconds) is left.
TOKEN_MARGIN_SHARE = 0.1
TOKEN_MARGIN_MAX = 600.0
DEFAULT_TOKEN_LIFETIME = 3600.0

UUID_PATTERN = re.compile(r'^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$')
_VERSION_SUFFIX = re.compile(r'/v\d+(\.\d+)?/*$')
_TIMESTAMP = re.compile(r'^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$')
_ROUTES = (
    (re.compile(r'/auth/tokens$'), '/v3/auth/tokens'),
    (re.compile(r'/v2/images$'), '/v2/images'),
    (re.compile(r'/v2/images/[^/]+$'), '/v2/images/{image_id}'),
    (re.compile(r'/v2/images/[^/]+/members$'), '/v2/images/{image_id}/members'),
    (re.compile(r'/v2/images/[^/]+/members/[^/]+$'), '/v2/images/{image_id}/members/{member_id}'),
    (re.compile(r'/v1/cloudimages/members$'), '/v1/cloudimages/members'),
    (re.compile(r'/v1/[^/]+/jobs/[^/]+$'), '/v1/{project_id}/jobs/{job_id}'),
)

T = TypeVar('T')
R = TypeVar('R')


def user_agent() -> str:
    agent = 'imscloud.sharing/%s python-requests/%s Python/%s' % (
        COLLECTION_VERSION, getattr(requests, '__version__', 'unknown'), platform.python_version())
    if os.environ.get('AWX_HOST') or os.environ.get('TOWER_HOST'):
        agent += ' AWX'
    return agent


def route_of(method: str, url: str) -> str:
    """'METHOD /route/template' of a request, the key of client.stats['requests']."""
    path = urlsplit(url).path.rstrip('/')
    for pattern, template in _ROUTES:
        if pattern.search(path):
            return '%s %s' % (method.upper(), template)
    return '%s %s' % (method.upper(), path or '/')


def parse_timestamp(value: Any) -> Optional[float]:
    """Epoch seconds of an ISO 8601 timestamp such as 2015-11-09T01:42:57.527363Z (naive = UTC)."""
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction = float(match.group(7)) if match.group(7) else 0.0
    offset = timedelta(0)
    zone = match.group(8)
    if zone and zone != 'Z':
        sign = -1 if zone[0] == '-' else 1
        digits = zone[1:].replace(':', '')
        offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=timezone(offset))
    except ValueError:
        return None
    return moment.timestamp() + fraction


def strip_version(url: str) -> str:
    """An endpoint URL without a trailing API version (/v2, /v2.1) and without trailing slashes."""
    return _VERSION_SUFFIX.sub('', url.strip()).rstrip('/')


def select_image_endpoint(catalog: Any, interface: str, region: Optional[str]) -> str:
    """The IMS base URL from a Keystone v3 catalog: type 'image', the interface and (when set) the region."""
    found: list = []
    available: list = []
    for service in catalog if isinstance(catalog, list) else []:
        if not isinstance(service, dict) or service.get('type') != 'image':
            continue
        for endpoint in service.get('endpoints') or []:
            if not isinstance(endpoint, dict) or not endpoint.get('url'):
                continue
            regions = [r for r in (endpoint.get('region_id'), endpoint.get('region')) if r]
            available.append('%s/%s' % (endpoint.get('interface'), regions[0] if regions else '-'))
            if endpoint.get('interface') != interface:
                continue
            if region and region not in regions:
                continue
            url = strip_version(endpoint['url'])
            if url not in [u for u, _r in found]:
                found.append((url, regions[0] if regions else None))
    if not found:
        where = "interface '%s'" % interface + (" in region '%s'" % region if region else '')
        message = "the service catalog has no 'image' (IMS) endpoint with %s" % where
        message += ' (image endpoints: %s)' % ', '.join(available) if available else ' (it has no image service at all)'
        raise IMSError(message + '; set ims_endpoint, interface or region_name')
    if len(found) > 1 and not region:
        raise IMSError("the service catalog has image endpoints in several regions (%s); set region_name"
                       % ', '.join(sorted(str(r) for _u, r in found)))
    return found[0][0]


def _domain(domain_id: Optional[str], domain_name: Optional[str]) -> Optional[dict]:
    if domain_id:
        return {'id': domain_id}
    if domain_name:
        return {'name': domain_name}
    return None


def _dedupe(values: Iterable[T]) -> list:
    seen: set = set()
    result: list = []
    for value in values:
        if value not in seen:
            seen.add(value)
            result.append(value)
    return result


class _PoolAdapter(HTTPAdapter):  # type: ignore[misc,valid-type]
    """Plain requests adapter; retries are done by the client, not by urllib3."""

    def __init__(self, pool_size: int) -> None:
        super().__init__(pool_connections=4, pool_maxsize=pool_size, max_retries=0, pool_block=False)


class IMSClient:
    """The one HTTP client of the collection: auth, catalog, retries, 401 re-auth, errors, jobs, images."""

    def __init__(self, config: ConnectionConfig, warn: Optional[Callable[[str], None]] = None,
                 log: Optional[Callable[[str], None]] = None, *, sleep: Callable[[float], Any] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, rand: Callable[[], float] = random.random,
                 session: Any = None) -> None:
        if requests is None:
            raise IMSError('the Python library requests is required (import failed)',
                           details={'exception': REQUESTS_IMPORT_ERROR})
        self.config = config
        self._warn_callback = warn
        self._log_callback = log
        self._sleep = sleep
        self._clock = clock
        self.retry_policy = RetryPolicy(config.retries, sleep=sleep, rand=rand)
        self.session = session if session is not None else requests.Session()
        self.session.headers['User-Agent'] = user_agent()
        self._pool_size = 0
        self._ensure_pool(DEFAULT_POOL_SIZE)
        self._auth_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self._auth: Optional[dict] = None
        self._rejected_token: Optional[str] = None
        self._cache: Optional[TokenCache] = None
        self._cache_key: Optional[str] = None
        if config.auth_type != 'aksk' and config.token_cache:
            self._cache = TokenCache(config.cache_dir, warn=self._warn)
            self._cache_key = config.cache_key()
        self.stats: dict = {
            'requests': {},            # 'GET /v2/images/{image_id}/members' -> requests sent (each attempt counts)
            'total_requests': 0,
            'tokens_obtained': 0,      # successful POST /v3/auth/tokens
            'token_cache_hits': 0,     # tokens taken from the on-disk cache
            'retries': 0,
            'reauthentications': 0,    # 401 from IMS -> new token
        }

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

    def _secrets(self) -> list:
        c = self.config
        current = self._auth.get('token') if self._auth else None
        return [c.password, c.token, c.secret_key, c.security_token, current, self._rejected_token]

    def close(self) -> None:
        self.session.close()

    # ------------------------------------------------------------------ identity

    @property
    def project_id(self) -> str:
        """The caller's project: from the token, or from the configuration for AK/SK."""
        if self.config.auth_type == 'aksk':
            if not self.config.project_id:
                raise IMSError('AK/SK authentication needs project_id (it is sent as X-Project-Id)')
            return self.config.project_id
        return self._current_auth()['project_id']

    @property
    def endpoint(self) -> str:
        """The IMS base URL without trailing slash or version."""
        if self.config.ims_endpoint:
            return strip_version(self.config.ims_endpoint)
        if self.config.auth_type == 'aksk':
            if not self.config.region_name:
                raise IMSError('AK/SK authentication needs region_name or ims_endpoint to find the IMS endpoint')
            return IMS_ENDPOINT_TEMPLATE.format(region=self.config.region_name)
        return select_image_endpoint(self._current_auth().get('catalog'), self.config.interface, self.config.region_name)

    def _auth_base(self) -> str:
        url = (self.config.auth_url or '').strip().rstrip('/')
        if not url:
            raise IMSError('auth_url is required for %s authentication' % self.config.auth_type)
        if not re.search(r'/v3$', url):
            url += '/v3'
        return url

    def _usable(self, record: Any, now: Optional[float] = None) -> bool:
        """True when record is a token with enough life left that fits this configuration."""
        if not isinstance(record, dict):
            return False
        token = record.get('token')
        expires_at = record.get('expires_at')
        if not isinstance(token, str) or not token or not record.get('project_id'):
            return False
        if not isinstance(expires_at, (int, float)) or isinstance(expires_at, bool):
            return False
        if token == self._rejected_token:
            return False
        now = time.time() if now is None else now
        issued_at = record.get('issued_at')
        if isinstance(issued_at, (int, float)) and not isinstance(issued_at, bool) and issued_at < expires_at:
            lifetime = expires_at - issued_at
        else:
            lifetime = DEFAULT_TOKEN_LIFETIME
        margin = min(TOKEN_MARGIN_MAX, TOKEN_MARGIN_SHARE * lifetime)
        if expires_at - now <= margin:
            return False
        if not self.config.ims_endpoint and not record.get('catalog'):
            # obtained with ?nocatalog=1 for a configuration that had ims_endpoint
            return False
        return True

    def _current_auth(self) -> dict:
        """The token record in use, obtaining one if needed (memory, then disk cache, then IAM)."""
        record = self._auth
        if record is not None and self._usable(record):
            return record
        with self._auth_lock:
            record = self._auth
            if record is None or not self._usable(record):
                record = self._obtain_token()
                self._auth = record
            return record

    def _load_cached(self) -> Optional[dict]:
        if self._cache is None or self._cache_key is None:
            return None
        # TokenCache warns about and ignores unreadable, foreign or corrupt files itself
        record = self._cache.load(self._cache_key)
        if self._usable(record):
            self._count('token_cache_hits')
            self._log('using a cached token for project %s' % record.get('project_id'))
            return record
        return None

    def _obtain_token(self) -> dict:
        """A usable token record: from the on-disk cache if another task or process left one, else from IAM.

        Reads without the lock first (the common warm case costs no locking), then takes the file lock
        and reads again, so concurrent cold processes wait for the first one instead of all calling IAM.
        """
        record = self._load_cached()
        if record is not None:
            return record
        if self._cache is None or self._cache_key is None:
            return self._authenticate()
        # the lock degrades to "no lock" (with a warning) when the directory is unusable or the wait too long
        with self._cache.lock(self._cache_key):
            record = self._load_cached()
            if record is not None:
                return record
            if self._rejected_token:
                cached = self._cache.load(self._cache_key)
                if isinstance(cached, dict) and cached.get('token') == self._rejected_token:
                    self._cache.drop(self._cache_key)
            record = self._authenticate()
            self._cache.store(self._cache_key, record)
            return record

    def _invalidate(self, token: Optional[str]) -> None:
        """Forget a token IMS rejected with 401 (here and in the cache, unless already replaced)."""
        with self._auth_lock:
            if token:
                self._rejected_token = token
            if self._auth is not None and self._auth.get('token') == token:
                self._auth = None

    def _identity(self) -> dict:
        c = self.config
        if c.auth_type == 'token':
            if not c.token:
                raise IMSError('token authentication needs auth.token')
            return {'methods': ['token'], 'token': {'id': c.token}}
        if c.auth_type != 'password':
            raise IMSError("unsupported auth_type '%s' (allowed: password, token, aksk)" % c.auth_type)
        if not c.password:
            raise IMSError('password authentication needs auth.password')
        if c.user_id:
            user: dict = {'id': c.user_id, 'password': c.password}
        elif c.username:
            domain = _domain(c.user_domain_id, c.user_domain_name) or _domain(None, c.domain_name)
            if not domain:
                raise IMSError('auth.username needs user_domain_name, user_domain_id or domain_name '
                               '(user names are unique only within a domain)')
            user = {'name': c.username, 'password': c.password, 'domain': domain}
        else:
            raise IMSError('password authentication needs auth.username or auth.user_id')
        return {'methods': ['password'], 'password': {'user': user}}

    def _project_scope(self) -> dict:
        c = self.config
        if c.project_id:
            return {'id': c.project_id}
        if c.project_name:
            domain = (_domain(c.project_domain_id, c.project_domain_name) or _domain(c.user_domain_id, c.user_domain_name)
                      or _domain(None, c.domain_name))
            if not domain:
                raise IMSError('auth.project_name needs project_domain_name or project_domain_id')
            return {'name': c.project_name, 'domain': domain}
        raise IMSError('IMS needs a project-scoped token: set auth.project_id or auth.project_name')

    def _authenticate(self) -> dict:
        """POST {auth_url}/auth/tokens and return the token record for the cache."""
        c = self.config
        body = {'auth': {'identity': self._identity(), 'scope': {'project': self._project_scope()}}}
        url = self._auth_base() + '/auth/tokens'
        if c.ims_endpoint:
            url += '?nocatalog=1'
        headers = {'X-Auth-Token': c.token} if c.auth_type == 'token' and c.token else None
        issued_locally = time.time()
        response = self._send('POST', url, _encode(body), ok=(200, 201), idempotent=True, authenticated=False,
                              service='IAM', extra_headers=headers)
        token = response.headers.get('X-Subject-Token')
        data = self._json(response, 'IAM')
        info = data.get('token') if isinstance(data, dict) else None
        if not token or not isinstance(info, dict):
            raise IMSError('IAM answered without a token (no X-Subject-Token header or token body)',
                           status=response.status_code, method='POST', url=url, service='IAM')
        project = info.get('project') if isinstance(info.get('project'), dict) else {}
        if not project.get('id'):
            raise IMSError('IAM returned a token without a project scope', status=response.status_code,
                           method='POST', url=url, service='IAM')
        # The lifetime comes from IAM, the start from the local clock: a skewed local clock then neither
        # makes fresh tokens look expired nor keeps expired ones alive.
        server_issued = parse_timestamp(info.get('issued_at'))
        server_expires = parse_timestamp(info.get('expires_at'))
        if server_issued is not None and server_expires is not None and server_expires > server_issued:
            lifetime = server_expires - server_issued
        elif server_expires is not None:
            lifetime = server_expires - issued_locally
        else:
            lifetime = DEFAULT_TOKEN_LIFETIME
        issued_at = issued_locally
        expires_at = issued_locally + lifetime
        # keep only the image service: the full OTC catalog is large and nothing else is used
        catalog = [s for s in info.get('catalog') or [] if isinstance(s, dict) and s.get('type') == 'image']
        record = {
            'token': token,
            'issued_at': issued_at,
            'expires_at': expires_at,
            'project_id': project['id'],
            'endpoint': strip_version(c.ims_endpoint) if c.ims_endpoint else None,
            'catalog': catalog,
        }
        if not c.ims_endpoint:
            record['endpoint'] = select_image_endpoint(catalog, c.interface, c.region_name)
        self._count('tokens_obtained')
        self._log('obtained a token from IAM for project %s (expires %s)' % (project['id'], info.get('expires_at')))
        return record

    # ------------------------------------------------------------------ HTTP

    def _auth_headers(self, method: str, url: str, body: Optional[bytes], headers: dict) -> tuple:
        """(headers with credentials, token used or None)."""
        c = self.config
        if c.auth_type == 'aksk':
            headers['X-Project-Id'] = self.project_id
            if c.security_token:
                headers['X-Security-Token'] = c.security_token
            signed = sign_request(method, url, headers, body or b'', c.access_key or '', c.secret_key or '')
            return signed, None
        token = self._current_auth()['token']
        headers['X-Auth-Token'] = token
        return headers, token

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
        retries_done = 0
        reauthenticated = False
        maybe_processed = False
        while True:
            headers = {'Content-Type': 'application/json', 'Accept': 'application/json'}
            headers.update(extra_headers or {})
            token = None
            if authenticated:
                headers, token = self._auth_headers(method, url, body, headers)
            self._count_request(route)
            try:
                response = self.session.request(method, url, data=body, headers=headers, timeout=self.config.api_timeout,
                                                verify=self.config.verify, cert=self.config.cert, allow_redirects=False)
            except requests.exceptions.RequestException as exc:
                verdict = classify_exception(exc, idempotent)
                if verdict.action == RETRY and retries_done < self.retry_policy.retries:
                    maybe_processed = maybe_processed or verdict.maybe_processed
                    self._pause(method, shown_url, type(exc).__name__, retries_done, self.retry_policy.delay(retries_done))
                    retries_done += 1
                    continue
                raise self._transport_error(exc, method, url, service, verdict.action, retries_done + 1)

            status = response.status_code
            if status == 401 and authenticated and token is not None and not reauthenticated:
                # the token was revoked or expired early: get a new one once
                reauthenticated = True
                response.close()
                self._count('reauthentications')
                self._log('%s %s returned 401; re-authenticating once' % (method, shown_url))
                self._invalidate(token)
                continue
            if status in ok or (maybe_processed and status in ok_after_retry):
                return response
            verdict = classify_status(status, response.headers, idempotent)
            if verdict.action == RETRY and retries_done < self.retry_policy.retries:
                maybe_processed = maybe_processed or verdict.maybe_processed
                delay = self.retry_policy.delay(retries_done, parse_retry_after(response.headers.get('Retry-After')))
                response.close()
                self._pause(method, shown_url, '%s' % status, retries_done, delay)
                retries_done += 1
                continue
            details: dict = {}
            if retries_done:
                details['attempts'] = retries_done + 1
            if verdict.action == UNCERTAIN:
                details['uncertain'] = True
            raise parse_error_response(response, method=method, url=url, service=service,
                                       details=details).redact(self._secrets())

    def _pause(self, method: str, shown_url: str, reason: str, retries_done: int, delay: float) -> None:
        self._count('retries')
        self._log('retry %d/%d of %s %s after %s, waiting %.2f s'
                  % (retries_done + 1, self.retry_policy.retries, method, shown_url, reason, delay))
        self.retry_policy.sleep(delay)

    def _transport_error(self, exc: BaseException, method: str, url: str, service: str, action: str,
                         attempts: int) -> IMSError:
        kind = 'timed out' if isinstance(exc, requests.exceptions.Timeout) else 'connection failed'
        if isinstance(exc, requests.exceptions.SSLError):
            kind = 'TLS error'
        details: dict = {'attempts': attempts, 'error_type': type(exc).__name__}
        message = '%s (%s)' % (kind, _exception_text(exc))
        if action == UNCERTAIN:
            details['uncertain'] = True
            message += '; the request may have been processed'
        elif action != FAIL and attempts > 1:
            message += ' after %d attempts' % attempts
        return IMSError(message, method=method, url=url, service=service, details=details).redact(self._secrets())

    def _json(self, response: Any, service: str = 'IMS') -> Any:
        try:
            return response.json()
        except ValueError:
            request = getattr(response, 'request', None)
            raise IMSError('the response is not valid JSON', status=response.status_code,
                           method=getattr(request, 'method', None), url=getattr(request, 'url', None), service=service)

    def _get_json(self, path: str, params: Optional[dict] = None) -> Any:
        return self._json(self.request('GET', path, params=params))

    # ------------------------------------------------------------------ concurrency

    def _map_concurrently(self, func: Callable[[T], R], items: Sequence[T], concurrency: int) -> list:
        """[func(item) for item in items] on at most concurrency threads; the first error is raised."""
        items = list(items)
        workers = max(1, min(int(concurrency or 1), len(items)))
        if workers <= 1:
            return [func(item) for item in items]
        # obtain the token before the threads start, so they do not race for it
        if self.config.auth_type != 'aksk':
            self._current_auth()
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

    # ------------------------------------------------------------------ native members

    def list_members(self, image_id: str) -> list:
        data = self._get_json('/v2/images/%s/members' % quote(image_id, safe=''))
        members = data.get('members') if isinstance(data, dict) else None
        return members if isinstance(members, list) else []

    def get_member(self, image_id: str, member_id: str) -> Optional[dict]:
        """The member, or None when IMS answers 404 (no such member or image not visible)."""
        response = self.request('GET', _member_path(image_id, member_id), ok=(200, 404))
        if response.status_code == 404:
            return None
        return self._json(response)

    def add_member(self, image_id: str, member_id: str) -> dict:
        response = self.request('POST', '/v2/images/%s/members' % quote(image_id, safe=''), json={'member': member_id},
                                ok=(200,), idempotent=True, ok_after_retry=(409,))
        if response.status_code == 409:
            # an earlier attempt created it before the connection failed
            member = self.get_member(image_id, member_id)
            if member is None:
                raise parse_error_response(response).redact(self._secrets())
            return member
        return self._json(response)

    def remove_member(self, image_id: str, member_id: str) -> None:
        self.request('DELETE', _member_path(image_id, member_id), ok=(200, 204), ok_after_retry=(404,))

    def update_member_status(self, image_id: str, member_id: str, status: str, vault_id: Optional[str] = None) -> dict:
        body = {'status': status}
        if vault_id:
            body['vault_id'] = vault_id
        return self._json(self.request('PUT', _member_path(image_id, member_id), json=body))

    def read_members(self, image_ids: Iterable[str], concurrency: int = 8) -> dict:
        """{image_id: [members]} for many images, read in parallel by a bounded thread pool."""
        ids = _dedupe(image_ids)
        lists = self._map_concurrently(self.list_members, ids, concurrency)
        return dict(zip(ids, lists))

    # ------------------------------------------------------------------ images

    def get_image(self, image_id: str) -> dict:
        return self._get_json('/v2/images/%s' % quote(image_id, safe=''))

    def set_image_visibility(self, image_id: str, visibility: str) -> dict:
        patch = [{'op': 'replace', 'path': '/visibility', 'value': visibility}]
        response = self.request('PATCH', '/v2/images/%s' % quote(image_id, safe=''), json=patch,
                                headers={'Content-Type': JSON_PATCH_CONTENT_TYPE})
        return self._json(response)

    def list_images(self, params: dict) -> list:
        """GET /v2/images with filters, following 'next' links (or markers) over all pages."""
        query = dict(params)
        query.setdefault('limit', LIST_PAGE_SIZE)
        images: list = []
        url: Optional[str] = self._url('/v2/images', query)
        visited: set = set()
        while url:
            if url in visited or len(visited) >= MAX_PAGES:
                raise IMSError('image listing does not end (page %s repeats)' % sanitize_url(url))
            visited.add(url)
            response = self._send('GET', url, None, ok=(200,), idempotent=True)
            data = self._json(response)
            page = data.get('images') if isinstance(data, dict) else None
            page = page if isinstance(page, list) else []
            images.extend(page)
            next_link = data.get('next') if isinstance(data, dict) else None
            if next_link:
                url = self._url(next_link)
            elif page and len(page) >= int(query['limit']) and isinstance(page[-1], dict) and page[-1].get('id'):
                url = self._url('/v2/images', dict(query, marker=page[-1]['id']))
            else:
                url = None
        return images

    def list_shared_with_me(self, member_status: str = 'all') -> list:
        """Images other projects share with this project, in the given member status (or 'all')."""
        images = self.list_images({'visibility': 'shared', 'member_status': member_status})
        own = self.project_id
        return [image for image in images if image.get('owner') != own]

    def _find_by_name(self, name: str, side: str) -> dict:
        project = self.project_id
        if side == 'owner':
            candidates = self.list_images({'owner': project, 'name': name})
            where = 'owned by project %s' % project
        else:
            candidates = [image for image in self.list_images({'visibility': 'shared', 'member_status': 'all', 'name': name})
                          if image.get('owner') != project]
            where = 'shared with project %s' % project
        matches = [image for image in candidates if image.get('name') == name]
        if not matches:
            raise IMSError("image '%s' not found among the images %s" % (name, where),
                           details={'image': name, 'side': side})
        ids = _dedupe(image.get('id') for image in matches)
        if len(ids) > 1:
            raise IMSError("image name '%s' is ambiguous: %d images %s have it (%s); use an id"
                           % (name, len(ids), where, ', '.join(str(i) for i in ids)),
                           details={'image': name, 'side': side, 'matching_ids': ids})
        return matches[0]

    def _find_by_id(self, image_id: str) -> dict:
        try:
            return self.get_image(image_id)
        except IMSError as err:
            if err.status == 404:
                raise IMSError('image %s not found (or not visible to project %s)' % (image_id, self.project_id),
                               status=404, request_id=err.request_id, method=err.method, url=err.url,
                               details={'image': image_id})
            raise

    def resolve_images(self, names_or_ids: Iterable[str], side: str = 'owner', concurrency: int = 8) -> list:
        """Image dicts for names or ids, de-duplicated, in the given order.

        side='owner' looks names up among the caller's own images, side='recipient' among the images shared
        with the caller (any member status). Ids are fetched directly; ids and names are looked up concurrently.
        """
        if side not in ('owner', 'recipient'):
            raise IMSError("side must be 'owner' or 'recipient', not '%s'" % side)
        refs = _dedupe(str(ref).strip() for ref in names_or_ids if ref is not None and str(ref).strip())
        ids = [ref for ref in refs if UUID_PATTERN.match(ref)]
        names = [ref for ref in refs if not UUID_PATTERN.match(ref)]
        by_ref = dict(zip(ids, self._map_concurrently(self._find_by_id, ids, concurrency)))
        by_ref.update(zip(names, self._map_concurrently(lambda name: self._find_by_name(name, side), names, concurrency)))
        images: list = []
        seen: set = set()
        for ref in refs:
            image = by_ref[ref]
            if image.get('id') not in seen:
                seen.add(image.get('id'))
                images.append(image)
        return images

    # ------------------------------------------------------------------ batch members and jobs

    def has_batch_api(self) -> Optional[bool]:
        """Whether this endpoint offers the IMS batch member API (True), is plain Glance (False), or cannot tell (None).

        Costs no write and at most one cheap read (GET /v2/cloudimages?limit=1, an IMS extension that plain Glance
        does not have) per endpoint and token: the answer is kept in the token record, also on disk. AK/SK signing
        exists only in front of IMS, so it needs no read.
        """
        if self.config.auth_type == 'aksk':
            return True
        record = self._current_auth()
        known = (record.get('capabilities') or {}).get(self.endpoint)
        if isinstance(known, dict) and isinstance(known.get('batch_api'), bool):
            return known['batch_api']
        response = self.request('GET', '/v2/cloudimages', params={'limit': 1}, ok=(200, 300, 400, 403, 404))
        if response.status_code == 403:
            return None
        try:
            data = response.json()
        except ValueError:
            data = None
        found = response.status_code == 200 and isinstance(data, dict) and isinstance(data.get('images'), list)
        record.setdefault('capabilities', {})[self.endpoint] = {'batch_api': found}
        if self._cache is not None and self._cache_key is not None:
            self._cache.store(self._cache_key, record)
        return found


    def submit_member_job(self, method: str, body: dict) -> str:
        """POST/PUT/DELETE /v1/cloudimages/members; returns the job id.

        Never re-sent after a failure that may have been processed: that raises IMSError with
        details {"uncertain": True}, and the caller re-reads the state and plans again.
        """
        method = method.upper()
        if method not in ('POST', 'PUT', 'DELETE'):
            raise IMSError("batch member method must be POST, PUT or DELETE, not '%s'" % method)
        response = self.request(method, BATCH_MEMBERS_PATH, json=body, ok=(200,), idempotent=False)
        data = self._json(response)
        job_id = data.get('job_id') if isinstance(data, dict) else None
        if not job_id:
            raise IMSError('IMS accepted the batch request but returned no job_id', status=response.status_code,
                           method=method, url=response.request.url if response.request is not None else None)
        return str(job_id)

    def get_job(self, job_id: str) -> dict:
        with self._stats_lock:
            polls = self.stats.setdefault('job_polls', {})
            polls[job_id] = polls.get(job_id, 0) + 1
        return self._get_json('/v1/%s/jobs/%s' % (quote(self.project_id, safe=''), quote(job_id, safe='')))

    def wait_for_jobs(self, submitted: dict, timeout: float, concurrency: int = 8) -> dict:
        """Poll the jobs {job_id: submitted_at (client clock)} side by side until they end (waiter.wait_for_jobs)."""
        def poll_all(func: Callable, watches: list) -> list:
            return self._map_concurrently(func, watches, concurrency)
        return wait_for_jobs(self.get_job, submitted, timeout, clock=self._clock, sleep=self._sleep,
                             map_concurrently=poll_all, log=self._log)

    def wait_for_job(self, job_id: str, timeout: float, submitted_at: Optional[float] = None) -> dict:
        """Poll the job until SUCCESS (returned) or FAIL / timeout (IMSError with the job's details)."""
        return wait_for_job(self.get_job, job_id, timeout, clock=self._clock, sleep=self._sleep, log=self._log,
                            submitted_at=submitted_at)

    def now(self) -> float:
        """The client's clock (monotonic seconds): job submission times for wait_for_jobs."""
        return self._clock()

    def sleep(self, seconds: float) -> None:
        """Wait on the client's clock (so that tests with a fake clock take no time)."""
        if seconds > 0:
            self._sleep(seconds)


def _member_path(image_id: str, member_id: str) -> str:
    return '/v2/images/%s/members/%s' % (quote(image_id, safe=''), quote(member_id, safe=''))


def _encode(body: Any) -> bytes:
    return jsonlib.dumps(body, separators=(',', ':')).encode('utf-8')


def _exception_text(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + '...'
