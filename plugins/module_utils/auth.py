# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

# Identity: the token lifecycle (obtain from IAM, share through the on-disk cache, judge its validity, forget a
# rejected one), the endpoint and project of the caller, and the credentials put on each request.
#
# The configuration was validated by config.resolve_connection(); nothing here checks it again. The HTTP
# exchange with IAM goes through the transport's send function, so it has the same retries and error handling.

import json
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, List, Optional, Tuple
from urllib.parse import urlsplit

from ansible_collections.imscloud.sharing.plugins.module_utils.auth_methods import check_token_project
from ansible_collections.imscloud.sharing.plugins.module_utils.auth_methods import explain_iam_refusal
from ansible_collections.imscloud.sharing.plugins.module_utils.auth_methods import identity_body
from ansible_collections.imscloud.sharing.plugins.module_utils.auth_methods import passcode_digest
from ansible_collections.imscloud.sharing.plugins.module_utils.auth_methods import passcode_reused
from ansible_collections.imscloud.sharing.plugins.module_utils.auth_methods import project_scope
from ansible_collections.imscloud.sharing.plugins.module_utils.auth_methods import spent_record
from ansible_collections.imscloud.sharing.plugins.module_utils.config import ConnectionConfig
from ansible_collections.imscloud.sharing.plugins.module_utils.endpoints import AkskEndpoint
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import response_json
from ansible_collections.imscloud.sharing.plugins.module_utils.signer import sign_request
from ansible_collections.imscloud.sharing.plugins.module_utils.token_cache import TokenCache
from ansible_collections.imscloud.sharing.plugins.module_utils.token_cache import valid_record

# A token is reused while more than this share of its life (at most TOKEN_MARGIN_MAX seconds) is left.
TOKEN_MARGIN_SHARE = 0.1
TOKEN_MARGIN_MAX = 600.0
DEFAULT_TOKEN_LIFETIME = 3600.0

_VERSION_SUFFIX = re.compile(r'/v\d+(\.\d+)?/*$')
_TIMESTAMP = re.compile(r'^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$')

# send(method, url, body, ok=..., idempotent=..., authenticated=False, service='IAM', extra_headers=...) -> response
SendFunction = Callable[..., Any]


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


def token_lifetime(info: dict, issued_locally: float) -> float:
    """Seconds the token lives: from IAM's issued_at/expires_at, else until expires_at on the local clock."""
    server_issued = parse_timestamp(info.get('issued_at'))
    server_expires = parse_timestamp(info.get('expires_at'))
    if server_issued is not None and server_expires is not None and server_expires > server_issued:
        return server_expires - server_issued
    if server_expires is not None:
        return server_expires - issued_locally
    return DEFAULT_TOKEN_LIFETIME


def _encode(body: Any) -> bytes:
    return json.dumps(body, separators=(',', ':')).encode('utf-8')


class TokenProvider:
    """The caller's identity for one client: the token record in use, its project and endpoint, request credentials.

    count(key) is told 'tokens_obtained' and 'token_cache_hits'; send is the transport's send function (IAM calls).
    token_source says where the token in use came from, for the request trace: 'cache', 'new' (obtained by this
    client) or 'refreshed' (obtained again after the previous one expired or was rejected).
    """

    def __init__(self, config: ConnectionConfig, send: SendFunction, count: Callable[[str], None],
                 warn: Callable[[str], None], log: Callable[[str], None]) -> None:
        self.config = config
        self._send = send
        self._count = count
        self._log = log
        self._lock = threading.Lock()
        self._record: Optional[dict] = None
        self._rejected_token: Optional[str] = None
        self._cache: Optional[TokenCache] = None
        self._cache_key: Optional[str] = None
        if config.auth_type != 'aksk' and config.token_cache:
            self._cache = TokenCache(config.cache_dir, warn=warn)
            self._cache_key = config.cache_key()
        self.token_source = 'none'
        # the digest of the passcode this client signed in with: a passcode works once
        self._passcode_used: Optional[str] = None
        self._aksk_endpoint: Optional[AkskEndpoint] = None
        if config.auth_type == 'aksk' and not config.ims_endpoint:
            self._aksk_endpoint = AkskEndpoint(config, TokenCache(config.cache_dir, warn=warn) if config.token_cache
                                               else None, log)

    # ------------------------------------------------------------------ what the transport asks

    @property
    def project_id(self) -> str:
        """The caller's project: from the token, or from the configuration for AK/SK."""
        if self.config.auth_type == 'aksk':
            return str(self.config.project_id)
        return self.current()['project_id']

    @property
    def endpoint(self) -> str:
        """The IMS base URL without trailing slash or version; for AK/SK without ims_endpoint from IAM's catalog."""
        if self._aksk_endpoint is not None:
            return self._aksk_endpoint.resolve(self._send, select_image_endpoint)
        if self.config.ims_endpoint or self.config.auth_type == 'aksk':
            return strip_version(str(self.config.ims_endpoint))
        return select_image_endpoint(self.current().get('catalog'), self.config.interface, self.config.region_name)

    def prepare(self) -> None:
        """Obtain the token now (before worker threads start, so they do not race for it)."""
        if self.config.auth_type != 'aksk':
            self.current()
        elif self._aksk_endpoint is not None:
            self.endpoint  # pylint: disable=pointless-statement  # discovered once, before the threads

    def capability(self, endpoint: str, name: str) -> Any:
        """What was learnt about an endpoint with this token (e.g. 'batch_api'), or None."""
        known = (self.current().get('capabilities') or {}).get(endpoint)
        return known.get(name) if isinstance(known, dict) else None

    def remember_capability(self, endpoint: str, name: str, value: Any) -> None:
        """Keep what was learnt about an endpoint in the token record, also on disk, so no later task asks again."""
        record = self.current()
        record.setdefault('capabilities', {}).setdefault(endpoint, {})[name] = value
        if self._cache is not None and self._cache_key is not None:
            self._cache.store(self._cache_key, record)

    def secrets(self) -> List[Optional[str]]:
        current = self._record.get('token') if self._record else None
        return list(self.config.secrets()) + [current, self._rejected_token]

    def headers_for(self, method: str, url: str, body: Optional[bytes], headers: dict) -> Tuple[dict, Optional[str]]:
        """(headers with the credentials of this request, the token used or None for AK/SK)."""
        c = self.config
        if c.auth_type == 'aksk':
            headers['X-Project-Id'] = self.project_id
            if c.security_token:
                headers['X-Security-Token'] = c.security_token
            signed = sign_request(method, url, headers, body or b'', c.access_key or '', c.secret_key or '')
            return signed, None
        token = self.current()['token']
        self._refuse_plain_http(url)
        headers['X-Auth-Token'] = token
        return headers, token

    def _refuse_plain_http(self, url: str) -> None:
        """A token obtained over https is not sent in clear, unless allow_insecure_http says so."""
        if self.config.allow_insecure_http or urlsplit(url).scheme.lower() != 'http':
            return
        if urlsplit(self.config.auth_url or '').scheme.lower() != 'https':
            return
        endpoint = urlsplit(url)
        raise IMSError('refusing to send the token obtained over https from %s in clear over http to %s://%s; '
                       'use an https ims_endpoint (or fix the catalog), or set allow_insecure_http: true for a lab'
                       % (urlsplit(self.config.auth_url or '').netloc, endpoint.scheme, endpoint.netloc),
                       details={'endpoint': '%s://%s' % (endpoint.scheme, endpoint.netloc)})

    # ------------------------------------------------------------------ token lifecycle

    def usable(self, record: Any, now: Optional[float] = None) -> bool:
        """True when record is a token record with enough life left that fits this configuration."""
        if not valid_record(record) or record['token'] == self._rejected_token:
            return False
        expires_at = record['expires_at']
        now = time.time() if now is None else now
        issued_at = record.get('issued_at')
        if isinstance(issued_at, (int, float)) and not isinstance(issued_at, bool) and issued_at < expires_at:
            lifetime = expires_at - issued_at
        else:
            lifetime = DEFAULT_TOKEN_LIFETIME
        if expires_at - now <= min(TOKEN_MARGIN_MAX, TOKEN_MARGIN_SHARE * lifetime):
            return False
        # a record obtained with ?nocatalog=1 (for a configuration with ims_endpoint) cannot select an endpoint
        return bool(self.config.ims_endpoint or record.get('catalog'))

    def current(self) -> dict:
        """The token record in use, obtaining one if needed (memory, then disk cache, then IAM)."""
        record = self._record
        if record is not None and self.usable(record):
            return record
        with self._lock:
            record = self._record
            if record is None or not self.usable(record):
                record = self._obtain()
                self._record = record
            return record

    def invalidate(self, token: Optional[str]) -> None:
        """Forget a token IMS rejected with 401 (here and, on the next obtain, in the cache unless replaced)."""
        with self._lock:
            if token:
                self._rejected_token = token
            if self._record is not None and self._record.get('token') == token:
                self._record = None

    def _load_cached(self) -> Optional[dict]:
        if self._cache is None or self._cache_key is None:
            return None
        # TokenCache warns about and ignores unreadable, foreign or corrupt files itself
        record = self._cache.load(self._cache_key)
        if record is not None and self.usable(record):
            self.token_source = 'cache'
            self._count('token_cache_hits')
            self._log('using a cached token for project %s' % record.get('project_id'))
            return record
        return None

    def _obtain(self) -> dict:
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
            cached = self._cache.load(self._cache_key)
            if self._rejected_token and isinstance(cached, dict) and cached.get('token') == self._rejected_token:
                if cached.get('passcode_digest'):   # kept, so that the next task knows its passcode is spent
                    self._cache.store(self._cache_key, spent_record(cached))
                else:
                    self._cache.drop(self._cache_key)
            if passcode_reused(self.config, cached):
                raise self._passcode_error('this task' if self._passcode_used else 'an earlier task')
            record = self._authenticate()
            self._cache.store(self._cache_key, record)
            return record

    def _authenticate(self) -> dict:
        """POST {auth_url}/auth/tokens and return the token record for the cache."""
        c = self.config
        if c.passcode and self._passcode_used == passcode_digest(c):
            raise self._passcode_error('this task')
        scope = project_scope(c)
        body = {'auth': dict({'identity': identity_body(c)}, **({'scope': {'project': scope}} if scope else {}))}
        url = str(c.auth_url) + '/auth/tokens' + ('?nocatalog=1' if c.ims_endpoint else '')
        headers = {'X-Auth-Token': c.token} if c.auth_type == 'token' else None
        issued_locally = time.time()
        try:
            response = self._send('POST', url, _encode(body), ok=(200, 201), idempotent=True, authenticated=False,
                                  service='IAM', extra_headers=headers)
        except IMSError as err:
            raise explain_iam_refusal(err, c)
        finally:
            # sent, so spent, whatever IAM answered
            self._passcode_used = passcode_digest(c)
        token = response.headers.get('X-Subject-Token')
        data = response_json(response, 'IAM')
        info = data.get('token') if isinstance(data, dict) else None
        if not token or not isinstance(info, dict):
            raise IMSError('IAM answered without a token (no X-Subject-Token header or token body)',
                           status=response.status_code, method='POST', url=url, service='IAM')
        project = info.get('project') if isinstance(info.get('project'), dict) else {}
        if not project.get('id'):
            raise IMSError('IAM returned a token without a project scope', status=response.status_code,
                           method='POST', url=url, service='IAM')
        check_token_project(c, project)
        # The lifetime comes from IAM, the start from the local clock: a skewed local clock then neither
        # makes fresh tokens look expired nor keeps expired ones alive.
        # Only the image service is kept: the full OTC catalog is large and nothing else is used.
        catalog = [s for s in info.get('catalog') or [] if isinstance(s, dict) and s.get('type') == 'image']
        record = {
            'token': token,
            'issued_at': issued_locally,
            'expires_at': issued_locally + token_lifetime(info, issued_locally),
            'project_id': project['id'],
            'endpoint': strip_version(c.ims_endpoint) if c.ims_endpoint else
            select_image_endpoint(catalog, c.interface, c.region_name),
            'catalog': catalog,
        }
        if c.passcode:
            record['passcode_digest'] = passcode_digest(c)
        self.token_source = 'refreshed' if self.token_source != 'none' else 'new'
        self._count('tokens_obtained')
        self._log('obtained a token from IAM for project %s (expires %s)' % (project['id'], info.get('expires_at')))
        return record

    def _passcode_error(self, who: str) -> IMSError:
        return IMSError('a new token is needed, but auth.passcode was already used by %s to sign in, and a TOTP passcode '
                        'works only once: give the current code of the MFA device. With token_cache (the default) the '
                        'token of the first task serves the whole play and every fork until it expires; this task '
                        'needed a new one because the cached token was missing, expired or rejected' % who)
