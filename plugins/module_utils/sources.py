# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

# Where connection settings come from: module options, a clouds.yaml entry (or a cloud dict), OS_* variables.
# Each is read into a Source (values + how the user wrote each key, for messages); merging picks, per group of
# alternatives, the first source that sets any of them; one value is read as a URL, a boolean, seconds or a file here.
# Which combinations of settings are valid is config.py's.

import math
import os
import re
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import SplitResult, urlsplit, urlunsplit

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.imscloud.sharing.plugins.module_utils.auth_methods import APPLICATION_CREDENTIAL
from ansible_collections.imscloud.sharing.plugins.module_utils.clouds import apply_profile
from ansible_collections.imscloud.sharing.plugins.module_utils.clouds import load_cloud
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError

AUTH_KEYS = (
    'auth_url', 'username', 'user_id', 'password', 'passcode', 'user_domain_name', 'user_domain_id', 'domain_name',
    'project_id', 'project_name', 'project_domain_name', 'project_domain_id', 'token', 'application_credential_id',
    'application_credential_name', 'application_credential_secret', 'access_key', 'secret_key', 'security_token',
)
SECRET_AUTH_KEYS = ('password', 'passcode', 'token', 'application_credential_secret', 'secret_key', 'security_token')
# The auth keys that are no_log options; access_key is not a secret but identifies the key pair, like a user name.
NO_LOG_AUTH_KEYS = SECRET_AUTH_KEYS + ('access_key',)
AUTH_TYPES = ('password', 'token', APPLICATION_CREDENTIAL, 'aksk')
AUTH_TYPE_ALIASES = {'v3password': 'password', 'v3token': 'token', 'applicationcredential': APPLICATION_CREDENTIAL,
                     'application_credential': APPLICATION_CREDENTIAL}
CREDENTIAL_KEYS = {
    'password': ('password',),
    'token': ('token',),
    APPLICATION_CREDENTIAL: ('application_credential_secret', 'application_credential_id', 'application_credential_name'),
    'aksk': ('access_key', 'secret_key', 'security_token'),
}
# Credential keys that may be left out (the others of the kind are required).
OPTIONAL_CREDENTIAL_KEYS = ('security_token', 'application_credential_id', 'application_credential_name')
# Alternatives: taken together from the first source that sets any of them.
AUTH_KEY_GROUPS = (
    ('auth_url',),
    ('username', 'user_id'),
    ('user_domain_name', 'user_domain_id'),
    ('domain_name',),
    ('project_id', 'project_name'),
    ('project_domain_name', 'project_domain_id'),
    ('passcode',),
)

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
    'passcode': ('OS_PASSCODE',),
    'user_domain_name': ('OS_USER_DOMAIN_NAME',),
    'user_domain_id': ('OS_USER_DOMAIN_ID',),
    'domain_name': ('OS_DOMAIN_NAME',),
    'project_id': ('OS_PROJECT_ID', 'OS_TENANT_ID'),
    'project_name': ('OS_PROJECT_NAME', 'OS_TENANT_NAME'),
    'project_domain_name': ('OS_PROJECT_DOMAIN_NAME',),
    'project_domain_id': ('OS_PROJECT_DOMAIN_ID',),
    'token': ('OS_TOKEN', 'OS_AUTH_TOKEN'),
    'application_credential_id': ('OS_APPLICATION_CREDENTIAL_ID',),
    'application_credential_name': ('OS_APPLICATION_CREDENTIAL_NAME',),
    'application_credential_secret': ('OS_APPLICATION_CREDENTIAL_SECRET',),
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


class Source:
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


def setting_error(message: str, **details: Any) -> IMSError:
    return IMSError(message, details=details or None)


def is_unset(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _auth_value(key: str, value: Any, where: str) -> str:
    # YAML turns an all-digit project id into an int; anything else that is not text is a mistake.
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise setting_error('%s must be a string, got %s' % (where, type(value).__name__))
    check_utf8(str(value), where)
    # Spaces around a name or id are a typo; around a password they may be part of it.
    return str(value) if key in SECRET_AUTH_KEYS else str(value).strip()


def check_utf8(text: str, where: str) -> None:
    """Environment values that are not UTF-8 reach Python as lone surrogates; they cannot be sent."""
    try:
        text.encode('utf-8')
    except UnicodeEncodeError as exc:
        raise setting_error('%s holds bytes that are not valid UTF-8 (at character %d); set it in UTF-8'
                            % (where, exc.start + 1))


def _check_auth_keys(auth: Mapping[str, Any], where: str) -> None:
    unknown = sorted(str(key) for key in auth if key not in AUTH_KEYS)
    if unknown:
        raise setting_error('%s has unknown key(s): %s. Allowed keys: %s' % (where, ', '.join(unknown), ', '.join(AUTH_KEYS)))


def module_source(params: Mapping[str, Any]) -> Source:
    source = Source('module', 'module options')
    auth = params.get('auth')
    if auth is not None:
        if not isinstance(auth, dict):
            raise setting_error('auth must be a dict, got %s' % type(auth).__name__)
        _check_auth_keys(auth, 'auth')
        for key, value in auth.items():
            if not is_unset(value):
                source.auth[key] = _auth_value(key, value, 'auth.' + key)
                source.names[key] = 'auth.' + key
    for option in CLOUD_SETTING_KEYS:
        value = params.get(option)
        if not is_unset(value):
            source.settings[option] = value
            source.names[option] = option
    return source


def entry_source(entry: Any, label: str, prefix: str, region_name: Optional[str] = None) -> Source:
    """A source from a clouds.yaml entry or a cloud dict; prefix is how keys are shown ('cloud.' for a dict)."""
    entry = apply_profile(entry, label, prefix, region_name)
    if not isinstance(entry, dict):
        raise setting_error('%s must be a mapping, got %s' % (label, type(entry).__name__))
    source = Source('cloud', label)
    auth = entry.get('auth')
    if auth is not None:
        if not isinstance(auth, dict):
            raise setting_error('%sauth of %s must be a mapping, got %s' % (prefix, label, type(auth).__name__))
        auth = {CLOUD_AUTH_ALIASES.get(key, key): value for key, value in auth.items()}
        _check_auth_keys(auth, '%sauth of %s' % (prefix, label))
        for key, value in auth.items():
            if not is_unset(value):
                source.names[key] = '%sauth.%s' % (prefix, key)
                source.auth[key] = _auth_value(key, value, source.where(key))
    for option, key in CLOUD_SETTING_KEYS.items():
        value = entry.get(key)
        if not is_unset(value):
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


def cloud_source(params: Mapping[str, Any], module: Source, environ: Mapping[str, str]) -> Optional[Source]:
    cloud = params.get('cloud')
    if isinstance(cloud, dict):
        given = [option for option in CLOUD_DICT_EXCLUSIVE
                 if (option == 'auth' and module.auth) or (option != 'auth' and option in module.settings)]
        if given:
            raise setting_error('cloud is a dict (a complete cloud entry) and cannot be combined with: %s. Put these keys in the '
                                'cloud dict (verify, cacert, cert, key for the TLS options), or give cloud as a name from clouds.yaml'
                                % ', '.join(given))
        return entry_source(cloud, 'the cloud dict', 'cloud.')
    if isinstance(cloud, str) and cloud.strip():
        entry, label = load_cloud(cloud.strip(), environ, 'cloud')
        return entry_source(entry, label, '', module.settings.get('region_name'))
    if cloud is not None and not isinstance(cloud, str):
        raise setting_error('cloud must be a cloud name (string) or a cloud entry (dict), got %s' % type(cloud).__name__)
    name = environ.get('OS_CLOUD')
    if name and name.strip():
        entry, label = load_cloud(name.strip(), environ, 'OS_CLOUD')
        return entry_source(entry, label, '', module.settings.get('region_name'))
    return None


def env_source(environ: Mapping[str, str]) -> Source:
    source = Source('env', 'environment')
    for key, names in ENV_AUTH.items():
        for name in names:
            if not is_unset(environ.get(name)):
                source.auth[key] = _auth_value(key, environ[name], name)
                source.names[key] = name
                break
    for option, name in ENV_SETTINGS.items():
        if not is_unset(environ.get(name)):
            check_utf8(environ[name], name)
            source.settings[option] = environ[name].strip()
            source.names[option] = name
    return source


def _normalize_auth_type(value: Any, where: str) -> str:
    text = str(value).strip().lower()
    text = AUTH_TYPE_ALIASES.get(text, text)
    if text not in AUTH_TYPES:
        raise setting_error('%s: %r is not supported; use one of: %s (v3password and v3token are accepted as synonyms)'
                            % (where, str(value), ', '.join(AUTH_TYPES)))
    return text


def choose_auth_type(sources: List[Source]) -> str:
    for source in sources:
        kinds = source.credential_kinds()
        if 'auth_type' in source.settings:
            auth_type = _normalize_auth_type(source.settings['auth_type'], source.where('auth_type'))
            other_keys = [key for kind in AUTH_TYPES if kind != auth_type for key in CREDENTIAL_KEYS[kind]]
            # Explicit options must be consistent; a cloud entry or the environment may hold other credentials.
            stray = [source.where(key) for key in other_keys if key in source.auth] if source.kind == 'module' else []
            if stray:
                raise setting_error('%s cannot be used with auth_type %r; remove %s or change auth_type'
                                    % (', '.join(stray), auth_type, 'them' if len(stray) > 1 else 'it'))
            return auth_type
        if len(kinds) > 1:
            keys = [source.where(key) for kind in kinds for key in CREDENTIAL_KEYS[kind] if key in source.auth]
            raise setting_error('conflicting credentials in %s: %s are set. Give one kind of credential (password, token, '
                                'application credential, or access_key + secret_key), or set auth_type to choose' % (source.label, ', '.join(keys)))
        if kinds:
            return kinds[0]
    raise setting_error('no credentials: set auth.password (with auth.username or auth.user_id), auth.token, '
                        'auth.application_credential_secret (with its id or name), or auth.access_key and auth.secret_key; or use '
                        'cloud (a clouds.yaml entry) or OS_* environment variables (OS_PASSWORD, OS_TOKEN, '
                        'OS_APPLICATION_CREDENTIAL_SECRET, OS_ACCESS_KEY/OS_SECRET_KEY, ...)')


def merge_auth(sources: List[Source], auth_type: str) -> Tuple[Dict[str, str], Dict[str, str]]:
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


def first_setting(sources: List[Source], option: str) -> Tuple[Any, Optional[str]]:
    for source in sources:
        if option in source.settings:
            return source.settings[option], source.where(option)
    return None, None


# ------------------------------------------------------------------ one value: URL, boolean, seconds, file

def split_http_url(value: str) -> Optional[SplitResult]:
    try:
        parts = urlsplit(value)
        # .port raises ValueError for a port that is not a number
        if parts.scheme in ('http', 'https') and parts.hostname and (parts.port is None or parts.port > 0):
            return parts
    except ValueError:
        pass
    return None


def check_url(value: str, where: str, example: str) -> str:
    parts = split_http_url(value)
    if parts is None:
        shown = value.split('?', 1)[0].rsplit('@', 1)[-1]
        raise setting_error('%s must be an http:// or https:// URL such as %s, got %r' % (where, example, shown))
    if parts.username or parts.password:
        raise setting_error('%s must not contain user information (user:password@); got a URL for host %s' % (where, parts.hostname))
    if parts.query or parts.fragment:
        raise setting_error('%s must not have a query string or fragment, got %r' % (where, urlunsplit(parts[:3] + ('', ''))))
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip('/'), '', ''))


def normalize_auth_url(value: str, where: str) -> str:
    url = check_url(value, where, 'https://iam.eu-de.otc.t-systems.com/v3')
    last = url.rsplit('/', 1)[-1]
    if last == 'v3':
        return url
    if re.match(r'^v2(\.0)?$', last):
        raise setting_error('%s: %r points to the Keystone v2 API; use the v3 URL (ending in /v3)' % (where, url))
    return url + '/v3'


def to_bool(value: Any, where: str) -> bool:
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise setting_error('%s must be a boolean (true or false), got %r' % (where, value))


def positive_number(value: Any, where: str) -> float:
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        number = float(value)
    except (TypeError, ValueError):
        raise setting_error('%s must be a number of seconds, got %r' % (where, value))
    if not math.isfinite(number) or number <= 0:
        raise setting_error('%s must be a positive number of seconds, got %r' % (where, value))
    return number


def existing_file(value: Any, where: str, what: str) -> str:
    path = os.path.abspath(os.path.expanduser(str(value)))
    if not os.path.isfile(path):
        raise setting_error('%s: %s file %s does not exist or is not a file' % (where, what, path))
    return path
