# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

# Connection settings: module options + clouds.yaml (+ secure.yaml) + OS_* environment -> ConnectionConfig.
#
# Precedence, per setting: module options that are set > the cloud entry (cloud option or OS_CLOUD) > OS_* variables.
# Settings that are alternatives of each other are taken together from the first source that sets any of them:
# {username, user_id}, {user_domain_name, user_domain_id}, {project_id, project_name},
# {project_domain_name, project_domain_id}, and the credential ({password} | {token} |
# {access_key, secret_key, security_token}). The kind of credential (auth_type) comes from the first source that
# sets auth_type or holds a credential; credentials of another kind in lower sources are ignored.
# All validation happens here, before any request.

import hashlib
import json
import math
import os
import re
from dataclasses import dataclass, field, fields
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union
from urllib.parse import SplitResult, urlsplit, urlunsplit

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.imscloud.sharing.plugins.module_utils.clouds import apply_profile
from ansible_collections.imscloud.sharing.plugins.module_utils.clouds import expand_path as _expand_path
from ansible_collections.imscloud.sharing.plugins.module_utils.clouds import home_dir as _home
from ansible_collections.imscloud.sharing.plugins.module_utils.clouds import load_cloud
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError


AUTH_KEYS = (
    'auth_url', 'username', 'user_id', 'password', 'user_domain_name', 'user_domain_id', 'domain_name',
    'project_id', 'project_name', 'project_domain_name', 'project_domain_id', 'token', 'access_key',
    'secret_key', 'security_token',
)
SECRET_AUTH_KEYS = ('password', 'token', 'secret_key', 'security_token')
# The auth keys that are no_log options; access_key is not a secret but identifies the key pair, like a user name.
NO_LOG_AUTH_KEYS = SECRET_AUTH_KEYS + ('access_key',)
AUTH_TYPES = ('password', 'token', 'aksk')
AUTH_TYPE_ALIASES = {'v3password': 'password', 'v3token': 'token'}
CREDENTIAL_KEYS = {
    'password': ('password',),
    'token': ('token',),
    'aksk': ('access_key', 'secret_key', 'security_token'),
}
# Alternatives: taken together from the first source that sets any of them.
AUTH_KEY_GROUPS = (
    ('auth_url',),
    ('username', 'user_id'),
    ('user_domain_name', 'user_domain_id'),
    ('domain_name',),
    ('project_id', 'project_name'),
    ('project_domain_name', 'project_domain_id'),
)
INTERFACES = ('public', 'internal', 'admin')
DEFAULT_INTERFACE = 'public'
DEFAULT_API_TIMEOUT = 30.0
DEFAULT_RETRIES = 5
# Beyond this a timeout is a typo (and a much longer one overflows the socket layer).
MAX_API_TIMEOUT = 86400
# IMS endpoint for AK/SK when ims_endpoint is not given (no catalog without a token).
AKSK_ENDPOINT_TEMPLATE = 'https://ims.{region_name}.otc.t-systems.com'
_REGION_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_-]*$')
# IAM and Keystone project ids (the scope of every request, X-Project-Id for AK/SK).
PROJECT_ID_PATTERN = re.compile(r'\A[0-9a-fA-F]{32}\Z')

# Module options that a cloud dict replaces (same list as openstack.cloud).
CLOUD_DICT_EXCLUSIVE = ('auth', 'auth_type', 'region_name', 'interface', 'validate_certs', 'ca_cert',
                        'client_cert', 'client_key', 'api_timeout')
# Settings other than auth: module option name -> key in a clouds.yaml entry.
CLOUD_SETTING_KEYS = {
    'auth_type': 'auth_type',
    'region_name': 'region_name',
    'interface': 'interface',
    'validate_certs': 'verify',
    'ca_cert': 'cacert',
    'client_cert': 'cert',
    'client_key': 'key',
    'api_timeout': 'api_timeout',
}
# Old keystone names accepted in clouds.yaml auth sections (as openstacksdk does).
CLOUD_AUTH_ALIASES = {'tenant_id': 'project_id', 'tenant_name': 'project_name'}

# Environment: auth key -> variables, the first one set wins.
ENV_AUTH = {
    'auth_url': ('OS_AUTH_URL',),
    'username': ('OS_USERNAME',),
    'user_id': ('OS_USER_ID',),
    'password': ('OS_PASSWORD',),
    'user_domain_name': ('OS_USER_DOMAIN_NAME',),
    'user_domain_id': ('OS_USER_DOMAIN_ID',),
    'domain_name': ('OS_DOMAIN_NAME',),
    'project_id': ('OS_PROJECT_ID', 'OS_TENANT_ID'),
    'project_name': ('OS_PROJECT_NAME', 'OS_TENANT_NAME'),
    'project_domain_name': ('OS_PROJECT_DOMAIN_NAME',),
    'project_domain_id': ('OS_PROJECT_DOMAIN_ID',),
    'token': ('OS_TOKEN', 'OS_AUTH_TOKEN'),
    'access_key': ('OS_ACCESS_KEY',),
    'secret_key': ('OS_SECRET_KEY',),
    'security_token': ('OS_SECURITY_TOKEN',),
}
ENV_SETTINGS = {
    'auth_type': 'OS_AUTH_TYPE',
    'region_name': 'OS_REGION_NAME',
    'interface': 'OS_INTERFACE',
    'ca_cert': 'OS_CACERT',
    'client_cert': 'OS_CERT',
    'client_key': 'OS_KEY',
}

CACHE_DIR_ENV = 'IMSCLOUD_SHARING_CACHE_DIR'
CACHE_DIR_NAME = 'imscloud.sharing'
# Cost of hashing the credential into the cache key: the key (a file name) must not allow a cheap password guess.
CACHE_KEY_ITERATIONS = 20000
_MASK = '********'


def default_cache_dir(environ: Optional[Mapping[str, str]] = None) -> str:
    """$IMSCLOUD_SHARING_CACHE_DIR, else $XDG_CACHE_HOME/imscloud.sharing, else ~/.cache/imscloud.sharing."""
    environ = os.environ if environ is None else environ
    explicit = environ.get(CACHE_DIR_ENV)
    if explicit:
        return _expand_path(explicit, environ)
    xdg = environ.get('XDG_CACHE_HOME')
    # The XDG spec says relative paths are to be ignored.
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, CACHE_DIR_NAME)
    return os.path.join(_home(environ), '.cache', CACHE_DIR_NAME)


@dataclass(repr=False)
class ConnectionConfig:
    """Everything the client needs to talk to IAM and IMS; produced (and validated) by resolve_connection()."""

    auth_type: str
    auth_url: Optional[str] = None
    username: Optional[str] = None
    user_id: Optional[str] = None
    password: Optional[str] = None
    user_domain_name: Optional[str] = None
    user_domain_id: Optional[str] = None
    domain_name: Optional[str] = None
    project_id: Optional[str] = None
    project_name: Optional[str] = None
    project_domain_name: Optional[str] = None
    project_domain_id: Optional[str] = None
    token: Optional[str] = None
    access_key: Optional[str] = None
    secret_key: Optional[str] = None
    security_token: Optional[str] = None
    region_name: Optional[str] = None
    interface: str = DEFAULT_INTERFACE
    ims_endpoint: Optional[str] = None
    verify: Union[bool, str] = True
    cert: Optional[Union[str, Tuple[str, str]]] = None
    api_timeout: float = DEFAULT_API_TIMEOUT
    token_cache: bool = True
    retries: int = DEFAULT_RETRIES
    # Send a token over http although it was obtained over https (labs only; see auth.TokenProvider).
    allow_insecure_http: bool = False
    cache_dir: str = field(default_factory=default_cache_dir)
    # Notes for the user found while resolving (no secrets); the module passes them to module.warn().
    warnings: List[str] = field(default_factory=list)

    def secrets(self) -> List[str]:
        """The secret values of this configuration (to mask them wherever they might be echoed)."""
        return [value for value in (getattr(self, key) for key in SECRET_AUTH_KEYS) if value]

    def cache_key(self) -> str:
        """sha256 hex of the identity + scope + endpoint selection and a slow hash of the credential.

        Changes when the password (token, secret key) changes; holds no secret in clear.
        """
        identity = {
            'v': 1,
            'auth_type': self.auth_type,
            'auth_url': self.auth_url,
            'username': self.username,
            'user_id': self.user_id,
            'user_domain_name': self.user_domain_name,
            'user_domain_id': self.user_domain_id,
            'project_id': self.project_id,
            'project_name': self.project_name,
            'project_domain_name': self.project_domain_name,
            'project_domain_id': self.project_domain_id,
            'access_key': self.access_key,
            'region_name': self.region_name,
            'interface': self.interface,
            'ims_endpoint': self.ims_endpoint,
        }
        identity_bytes = json.dumps(identity, sort_keys=True).encode('utf-8')
        credential = {'password': self.password, 'token': self.token, 'aksk': self.secret_key}.get(self.auth_type) or ''
        credential_digest = hashlib.pbkdf2_hmac('sha256', credential.encode('utf-8'), hashlib.sha256(identity_bytes).digest(),
                                                CACHE_KEY_ITERATIONS)
        return hashlib.sha256(identity_bytes + b'\0' + credential_digest).hexdigest()

    def __repr__(self) -> str:
        parts = []
        for item in fields(self):
            if item.name == 'warnings':
                continue
            value = getattr(self, item.name)
            if item.name in SECRET_AUTH_KEYS and value is not None:
                value = _MASK
            parts.append('%s=%r' % (item.name, value))
        return 'ConnectionConfig(%s)' % ', '.join(parts)


class _Source:
    """One place settings come from: module options, a cloud entry, or the environment."""

    def __init__(self, kind: str, label: str) -> None:
        self.kind = kind          # 'module' | 'cloud' | 'env'
        self.label = label        # for messages: "module options", "cloud 'devstack' (/path/clouds.yaml)", ...
        self.auth: Dict[str, str] = {}
        self.settings: Dict[str, Any] = {}
        self.names: Dict[str, str] = {}   # auth key or setting -> how the user wrote it ("auth.password", "OS_PASSWORD")
        self.warnings: List[str] = []

    def where(self, key: str) -> str:
        name = self.names.get(key, key)
        if self.kind == 'cloud' and not name.startswith('cloud.'):
            return '%s of %s' % (name, self.label)
        return name

    def credential_kinds(self) -> List[str]:
        return [kind for kind in AUTH_TYPES if any(key in self.auth for key in CREDENTIAL_KEYS[kind])]


def _fail(message: str, **details: Any) -> IMSError:
    return IMSError(message, details=details or None)


def _is_unset(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _auth_value(key: str, value: Any, where: str) -> str:
    # YAML turns an all-digit project id into an int; anything else that is not text is a mistake.
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _fail('%s must be a string, got %s' % (where, type(value).__name__))
    _check_utf8(str(value), where)
    # Spaces around a name or id are a typo; around a password they may be part of it.
    return str(value) if key in SECRET_AUTH_KEYS else str(value).strip()


def _check_utf8(text: str, where: str) -> None:
    """Environment values that are not UTF-8 reach Python as lone surrogates; they cannot be sent."""
    try:
        text.encode('utf-8')
    except UnicodeEncodeError as exc:
        raise _fail('%s holds bytes that are not valid UTF-8 (at character %d); set it in UTF-8'
                    % (where, exc.start + 1))


def _check_auth_keys(auth: Mapping[str, Any], where: str) -> None:
    unknown = sorted(str(key) for key in auth if key not in AUTH_KEYS)
    if unknown:
        raise _fail('%s has unknown key(s): %s. Allowed keys: %s' % (where, ', '.join(unknown), ', '.join(AUTH_KEYS)))


def _module_source(params: Mapping[str, Any]) -> _Source:
    source = _Source('module', 'module options')
    auth = params.get('auth')
    if auth is not None:
        if not isinstance(auth, dict):
            raise _fail('auth must be a dict, got %s' % type(auth).__name__)
        _check_auth_keys(auth, 'auth')
        for key, value in auth.items():
            if not _is_unset(value):
                source.auth[key] = _auth_value(key, value, 'auth.' + key)
                source.names[key] = 'auth.' + key
    for option in CLOUD_SETTING_KEYS:
        value = params.get(option)
        if not _is_unset(value):
            source.settings[option] = value
            source.names[option] = option
    return source


def _entry_source(entry: Any, label: str, prefix: str, region_name: Optional[str] = None) -> _Source:
    """A source from a clouds.yaml entry or a cloud dict; prefix is how keys are shown ('cloud.' for a dict)."""
    entry = apply_profile(entry, label, prefix, region_name)
    if not isinstance(entry, dict):
        raise _fail('%s must be a mapping, got %s' % (label, type(entry).__name__))
    source = _Source('cloud', label)
    auth = entry.get('auth')
    if auth is not None:
        if not isinstance(auth, dict):
            raise _fail('%sauth of %s must be a mapping, got %s' % (prefix, label, type(auth).__name__))
        auth = {CLOUD_AUTH_ALIASES.get(key, key): value for key, value in auth.items()}
        _check_auth_keys(auth, '%sauth of %s' % (prefix, label))
        for key, value in auth.items():
            if not _is_unset(value):
                source.names[key] = '%sauth.%s' % (prefix, key)
                source.auth[key] = _auth_value(key, value, source.where(key))
    for option, key in CLOUD_SETTING_KEYS.items():
        value = entry.get(key)
        if not _is_unset(value):
            source.settings[option] = value
            source.names[option] = prefix + key
    if 'region_name' not in source.settings:
        # openstacksdk: the first entry of 'regions' (a name or {name: ...}) is the default region.
        regions = entry.get('regions')
        if isinstance(regions, list) and regions:
            first = regions[0]
            name = first.get('name') if isinstance(first, dict) else first
            if isinstance(name, str) and name:
                source.settings['region_name'] = name
                source.names['region_name'] = prefix + 'regions[0]'
    return source


def _cloud_source(params: Mapping[str, Any], module: _Source, environ: Mapping[str, str]) -> Optional[_Source]:
    cloud = params.get('cloud')
    if isinstance(cloud, dict):
        given = [option for option in CLOUD_DICT_EXCLUSIVE
                 if (option == 'auth' and module.auth) or (option != 'auth' and option in module.settings)]
        if given:
            raise _fail('cloud is a dict (a complete cloud entry) and cannot be combined with: %s. Put these keys in the '
                        'cloud dict (verify, cacert, cert, key for the TLS options), or give cloud as a name from clouds.yaml'
                        % ', '.join(given))
        return _entry_source(cloud, 'the cloud dict', 'cloud.')
    if isinstance(cloud, str) and cloud.strip():
        entry, label = load_cloud(cloud.strip(), environ, 'cloud')
        return _entry_source(entry, label, '', module.settings.get('region_name'))
    if cloud is not None and not isinstance(cloud, str):
        raise _fail('cloud must be a cloud name (string) or a cloud entry (dict), got %s' % type(cloud).__name__)
    name = environ.get('OS_CLOUD')
    if name and name.strip():
        entry, label = load_cloud(name.strip(), environ, 'OS_CLOUD')
        return _entry_source(entry, label, '', module.settings.get('region_name'))
    return None


def _env_source(environ: Mapping[str, str]) -> _Source:
    source = _Source('env', 'environment')
    for key, names in ENV_AUTH.items():
        for name in names:
            if not _is_unset(environ.get(name)):
                source.auth[key] = _auth_value(key, environ[name], name)
                source.names[key] = name
                break
    for option, name in ENV_SETTINGS.items():
        if not _is_unset(environ.get(name)):
            _check_utf8(environ[name], name)
            source.settings[option] = environ[name].strip()
            source.names[option] = name
    return source


def _normalize_auth_type(value: Any, where: str) -> str:
    text = str(value).strip().lower()
    text = AUTH_TYPE_ALIASES.get(text, text)
    if text not in AUTH_TYPES:
        raise _fail('%s: %r is not supported; use one of: %s (v3password and v3token are accepted as synonyms)'
                    % (where, str(value), ', '.join(AUTH_TYPES)))
    return text


def _choose_auth_type(sources: List[_Source]) -> str:
    for source in sources:
        kinds = source.credential_kinds()
        if 'auth_type' in source.settings:
            auth_type = _normalize_auth_type(source.settings['auth_type'], source.where('auth_type'))
            other_keys = [key for kind in AUTH_TYPES if kind != auth_type for key in CREDENTIAL_KEYS[kind]]
            # Explicit options must be consistent; a cloud entry or the environment may hold other credentials.
            stray = [source.where(key) for key in other_keys if key in source.auth] if source.kind == 'module' else []
            if stray:
                raise _fail('%s cannot be used with auth_type %r; remove %s or change auth_type'
                            % (', '.join(stray), auth_type, 'them' if len(stray) > 1 else 'it'))
            return auth_type
        if len(kinds) > 1:
            keys = [source.where(key) for kind in kinds for key in CREDENTIAL_KEYS[kind] if key in source.auth]
            raise _fail('conflicting credentials in %s: %s are set. Give one kind of credential (password, token, or '
                        'access_key + secret_key), or set auth_type to choose' % (source.label, ', '.join(keys)))
        if kinds:
            return kinds[0]
    raise _fail('no credentials: set auth.password (with auth.username or auth.user_id), auth.token, or auth.access_key and '
                'auth.secret_key; or use cloud (a clouds.yaml entry) or OS_* environment variables (OS_PASSWORD, OS_TOKEN, '
                'OS_ACCESS_KEY/OS_SECRET_KEY, ...)')


def _merge_auth(sources: List[_Source], auth_type: str) -> Tuple[Dict[str, str], Dict[str, str]]:
    """(values, where each value came from) for the auth keys used with auth_type."""
    values: Dict[str, str] = {}
    origin: Dict[str, str] = {}
    for group in AUTH_KEY_GROUPS + (CREDENTIAL_KEYS[auth_type],):
        for source in sources:
            present = [key for key in group if key in source.auth]
            if present:
                for key in present:
                    values[key] = source.auth[key]
                    origin[key] = source.where(key)
                break
    return values, origin


def _first_setting(sources: List[_Source], option: str) -> Tuple[Any, Optional[str]]:
    for source in sources:
        if option in source.settings:
            return source.settings[option], source.where(option)
    return None, None


def _split_http_url(value: str) -> Optional[SplitResult]:
    try:
        parts = urlsplit(value)
        # .port raises ValueError for a port that is not a number
        if parts.scheme in ('http', 'https') and parts.hostname and (parts.port is None or parts.port > 0):
            return parts
    except ValueError:
        pass
    return None


def _check_url(value: str, where: str, example: str) -> str:
    parts = _split_http_url(value)
    if parts is None:
        shown = value.split('?', 1)[0].rsplit('@', 1)[-1]
        raise _fail('%s must be an http:// or https:// URL such as %s, got %r' % (where, example, shown))
    if parts.username or parts.password:
        raise _fail('%s must not contain user information (user:password@); got a URL for host %s' % (where, parts.hostname))
    if parts.query or parts.fragment:
        raise _fail('%s must not have a query string or fragment, got %r' % (where, urlunsplit(parts[:3] + ('', ''))))
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip('/'), '', ''))


def _normalize_auth_url(value: str, where: str) -> str:
    url = _check_url(value, where, 'https://iam.eu-de.otc.t-systems.com/v3')
    last = url.rsplit('/', 1)[-1]
    if last == 'v3':
        return url
    if re.match(r'^v2(\.0)?$', last):
        raise _fail('%s: %r points to the Keystone v2 API; use the v3 URL (ending in /v3)' % (where, url))
    return url + '/v3'


def _normalize_interface(value: Any, where: str) -> str:
    text = str(value).strip().lower()
    if text.endswith('url'):   # keystoneauth also accepts publicURL, internalURL, adminURL
        text = text[:-3]
    if text not in INTERFACES:
        raise _fail('%s: %r is not a valid interface; use one of: %s' % (where, str(value), ', '.join(INTERFACES)))
    return text


def _to_bool(value: Any, where: str) -> bool:
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise _fail('%s must be a boolean (true or false), got %r' % (where, value))


def _positive_number(value: Any, where: str) -> float:
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        number = float(value)
    except (TypeError, ValueError):
        raise _fail('%s must be a number of seconds, got %r' % (where, value))
    if not math.isfinite(number) or number <= 0:
        raise _fail('%s must be a positive number of seconds, got %r' % (where, value))
    return number


def _existing_file(value: Any, where: str, what: str) -> str:
    path = os.path.abspath(os.path.expanduser(str(value)))
    if not os.path.isfile(path):
        raise _fail('%s: %s file %s does not exist or is not a file' % (where, what, path))
    return path


def _validate_identity(auth_type: str, values: Dict[str, str], origin: Dict[str, str], sources: List[_Source]) -> None:
    def hint(key: str) -> str:
        env = ENV_AUTH.get(key, ())
        return 'auth.%s%s' % (key, ' (or %s)' % '/'.join(env) if env else '')

    required = [key for key in CREDENTIAL_KEYS[auth_type] if key != 'security_token']
    missing = [key for key in required if key not in values]
    if missing:
        present = [key for key in CREDENTIAL_KEYS[auth_type] if key in values]
        if present:
            raise _fail('%s is set but %s is not; %s are taken together from one place' % (
                ', '.join(origin[key] for key in present), ', '.join(hint(key) for key in missing),
                ', '.join(CREDENTIAL_KEYS[auth_type])))
        raise _fail('auth_type %r needs %s; it is not set in %s' % (
            auth_type, ' and '.join(hint(key) for key in missing), ', '.join(source.label for source in sources)))
    if auth_type == 'aksk':
        if 'project_id' not in values:
            where = (' (%s is set, but a name cannot be resolved without a token)' % origin['project_name']
                     if 'project_name' in values else '')
            raise _fail("auth_type 'aksk' needs %s: requests are signed for one project%s" % (hint('project_id'), where))
        return
    if 'auth_url' not in values:
        raise _fail('auth_type %r needs %s, the IAM/Keystone URL such as https://iam.eu-de.otc.t-systems.com/v3'
                    % (auth_type, hint('auth_url')))
    if auth_type == 'password':
        if 'username' not in values and 'user_id' not in values:
            raise _fail("auth_type 'password' needs %s or %s" % (hint('username'), hint('user_id')))
        if 'user_id' not in values and not any(key in values for key in ('user_domain_name', 'user_domain_id')):
            raise _fail("%s needs the user's domain: set %s, %s or %s" % (
                origin['username'], hint('user_domain_name'), hint('user_domain_id'), hint('domain_name')))
    if 'project_id' not in values and 'project_name' not in values:
        raise _fail('auth_type %r needs a project scope (IMS is a project-level service): set %s, or %s with its domain'
                    % (auth_type, hint('project_id'), hint('project_name')))
    if 'project_id' not in values and not any(key in values for key in ('project_domain_name', 'project_domain_id')):
        raise _fail("%s needs the project's domain: set %s, %s or %s" % (
            origin['project_name'], hint('project_domain_name'), hint('project_domain_id'), hint('domain_name')))


def _resolve_identity(sources: List[_Source]) -> Tuple[str, Dict[str, str]]:
    """auth_type and the validated auth values of the ConnectionConfig (auth_url normalized to end in /v3)."""
    auth_type = _choose_auth_type(sources)
    values, origin = _merge_auth(sources, auth_type)
    # AWX's OpenStack credential writes domain_name only: it is the user's and the project's domain when those are missing.
    if 'domain_name' in values:
        if not any(key in values for key in ('user_domain_name', 'user_domain_id')):
            values['user_domain_name'] = values['domain_name']
            origin['user_domain_name'] = origin['domain_name']
        if not any(key in values for key in ('project_domain_name', 'project_domain_id')):
            values['project_domain_name'] = values['domain_name']
            origin['project_domain_name'] = origin['domain_name']
    _validate_identity(auth_type, values, origin, sources)
    if 'project_id' in values and not PROJECT_ID_PATTERN.match(values['project_id']):
        raise _fail('%s: %r is not a project id (32 hexadecimal digits); give the project name as auth.project_name '
                    '(with its domain) instead' % (origin['project_id'], values['project_id']))
    if auth_type == 'aksk':
        values.pop('auth_url', None)
    else:
        values['auth_url'] = _normalize_auth_url(values['auth_url'], origin['auth_url'])
    return auth_type, values


def _resolve_endpoint(params: Mapping[str, Any], sources: List[_Source], auth_type: str) -> Dict[str, Any]:
    """region_name, interface and ims_endpoint (built from the region for AK/SK: there is no catalog without a token)."""
    region_name, region_where = _first_setting(sources, 'region_name')
    if region_name is not None:
        region_name = str(region_name).strip()
    interface_value, interface_where = _first_setting(sources, 'interface')
    interface = _normalize_interface(interface_value, interface_where) if interface_value is not None else DEFAULT_INTERFACE
    ims_endpoint = params.get('ims_endpoint')
    if not _is_unset(ims_endpoint):
        ims_endpoint = _check_url(str(ims_endpoint).strip(), 'ims_endpoint', 'https://ims.eu-de.otc.t-systems.com')
    else:
        ims_endpoint = None
        if auth_type == 'aksk':
            if not region_name:
                raise _fail("auth_type 'aksk' needs ims_endpoint, or region_name (or OS_REGION_NAME) to build it from %s: "
                            'there is no service catalog without a token' % AKSK_ENDPOINT_TEMPLATE)
            if not _REGION_NAME.match(region_name):
                raise _fail('%s: %r cannot be used in %s; give ims_endpoint instead'
                            % (region_where, region_name, AKSK_ENDPOINT_TEMPLATE))
            ims_endpoint = AKSK_ENDPOINT_TEMPLATE.format(region_name=region_name)
    return dict(region_name=region_name or None, interface=interface, ims_endpoint=ims_endpoint)


def _resolve_tls(sources: List[_Source], module: _Source, warnings: List[str]) -> Dict[str, Any]:
    """verify (True, False or a CA bundle path) and cert (a file, or certificate and key files)."""
    validate_value, validate_where = _first_setting(sources, 'validate_certs')
    validate_certs = _to_bool(validate_value, validate_where) if validate_value is not None else True
    ca_value, ca_where = _first_setting(sources, 'ca_cert')
    verify: Union[bool, str] = validate_certs
    if not validate_certs:
        warnings.append('%s is false: TLS certificates are not verified, so anyone on the network path can read the '
                        'credentials; use it only in a lab, and set ca_cert for a private CA instead' % validate_where)
    if ca_value is not None:
        if validate_certs:
            verify = _existing_file(ca_value, ca_where, 'CA bundle')
        elif module.settings.get('ca_cert') is not None:
            warnings.append('ca_cert is ignored because validate_certs is false')
    cert_value, cert_where = _first_setting(sources, 'client_cert')
    key_value, key_where = _first_setting(sources, 'client_key')
    cert: Optional[Union[str, Tuple[str, str]]] = None
    if key_value is not None and cert_value is None:
        raise _fail('%s is set but client_cert (cert, OS_CERT) is not: a client key needs its certificate' % key_where)
    if cert_value is not None:
        cert = _existing_file(cert_value, cert_where, 'client certificate')
        if key_value is not None:
            cert = (cert, _existing_file(key_value, key_where, 'client key'))
    return dict(verify=verify, cert=cert)


def _resolve_limits(params: Mapping[str, Any], sources: List[_Source]) -> Dict[str, Any]:
    """api_timeout, retries, token_cache and allow_insecure_http."""
    timeout_value, timeout_where = _first_setting(sources, 'api_timeout')
    api_timeout = _positive_number(timeout_value, timeout_where) if timeout_value is not None else DEFAULT_API_TIMEOUT
    if api_timeout > MAX_API_TIMEOUT:
        raise _fail('%s must be at most %d seconds, got %r' % (timeout_where, MAX_API_TIMEOUT, timeout_value))
    retries = params.get('retries')
    if retries is None:
        retries = DEFAULT_RETRIES
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise _fail('retries must be an integer >= 0, got %r' % (retries,))
    token_cache = params.get('token_cache')
    insecure = params.get('allow_insecure_http')
    return dict(api_timeout=api_timeout, retries=retries,
                token_cache=True if token_cache is None else _to_bool(token_cache, 'token_cache'),
                allow_insecure_http=False if insecure is None else _to_bool(insecure, 'allow_insecure_http'))


def resolve_connection(params: Mapping[str, Any], environ: Optional[Mapping[str, str]] = None) -> ConnectionConfig:
    """Merge module options, the cloud entry and OS_* variables (environ, default os.environ) into a validated
    ConnectionConfig.

    Raises IMSError (status None) naming the parameter, the bad value (never a secret) and what is allowed.
    """
    environ = os.environ if environ is None else environ
    params = params or {}
    module = _module_source(params)
    cloud = _cloud_source(params, module, environ)
    env = _env_source(environ)
    sources = [source for source in (module, cloud, env) if source is not None]
    warnings: List[str] = list(cloud.warnings) if cloud else []

    auth_type, values = _resolve_identity(sources)
    endpoint = _resolve_endpoint(params, sources, auth_type)
    tls = _resolve_tls(sources, module, warnings)
    limits = _resolve_limits(params, sources)
    return ConnectionConfig(
        auth_type=auth_type,
        cache_dir=default_cache_dir(environ),
        warnings=warnings,
        **values, **endpoint, **tls, **limits,
    )
