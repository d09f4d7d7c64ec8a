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
# Reading and merging the sources is sources.py's; all validation happens here, before any request.

import hashlib
import json
import os
import re
from dataclasses import dataclass, field, fields
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from ansible_collections.imscloud.sharing.plugins.module_utils.auth_methods import APPLICATION_CREDENTIAL
from ansible_collections.imscloud.sharing.plugins.module_utils.clouds import expand_path as _expand_path
from ansible_collections.imscloud.sharing.plugins.module_utils.clouds import home_dir as _home
from ansible_collections.imscloud.sharing.plugins.module_utils.endpoints import IMS_ENDPOINT_ENV
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import CREDENTIAL_KEYS
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import ENV_AUTH
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import OPTIONAL_CREDENTIAL_KEYS
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import SECRET_AUTH_KEYS
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import Source
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import check_url
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import choose_auth_type
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import cloud_source
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import env_source
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import existing_file
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import first_setting
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import is_unset
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import merge_auth
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import module_source
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import normalize_auth_url
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import positive_number
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import setting_error
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import to_bool
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import PROJECT_ID_PATTERN


# A TOTP passcode of a virtual MFA device: 6 digits on OTC/Huawei IAM and Keystone (8 allowed by RFC 6238).
_PASSCODE = re.compile(r'^[0-9]{6,8}$')
INTERFACES = ('public', 'internal', 'admin')
DEFAULT_INTERFACE = 'public'
DEFAULT_API_TIMEOUT = 30.0
DEFAULT_RETRIES = 5
# Beyond this a timeout is a typo (and a much longer one overflows the socket layer).
MAX_API_TIMEOUT = 86400
_REGION_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_-]*$')

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
    passcode: Optional[str] = None
    user_domain_name: Optional[str] = None
    user_domain_id: Optional[str] = None
    domain_name: Optional[str] = None
    project_id: Optional[str] = None
    project_name: Optional[str] = None
    project_domain_name: Optional[str] = None
    project_domain_id: Optional[str] = None
    token: Optional[str] = None
    application_credential_id: Optional[str] = None
    application_credential_name: Optional[str] = None
    application_credential_secret: Optional[str] = None
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

        Changes when the password (token, secret key, application credential secret) changes; holds no secret in
        clear. The passcode is left out: a new one every 30 s must not force a new sign-in.
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
        if self.auth_type == APPLICATION_CREDENTIAL:
            identity['application_credential'] = [self.application_credential_id, self.application_credential_name]
        identity_bytes = json.dumps(identity, sort_keys=True).encode('utf-8')
        credential = {'password': self.password, 'token': self.token, 'aksk': self.secret_key,
                      APPLICATION_CREDENTIAL: self.application_credential_secret}.get(self.auth_type) or ''
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


def _normalize_interface(value: Any, where: str) -> str:
    text = str(value).strip().lower()
    if text.endswith('url'):   # keystoneauth also accepts publicURL, internalURL, adminURL
        text = text[:-3]
    if text not in INTERFACES:
        raise setting_error('%s: %r is not a valid interface; use one of: %s' % (where, str(value), ', '.join(INTERFACES)))
    return text


def _hint(key: str) -> str:
    env = ENV_AUTH.get(key, ())
    return 'auth.%s%s' % (key, ' (or %s)' % '/'.join(env) if env else '')


def _validate_method(auth_type: str, values: Dict[str, str], origin: Dict[str, str]) -> None:
    """The rules of the passcode (password + TOTP) and of the application credential."""
    if 'passcode' in values:
        if auth_type != 'password':
            if origin['passcode'].startswith('OS_'):
                del values['passcode']   # a leftover of another login in the environment
            else:
                raise setting_error('%s is the TOTP code of a password sign-in; it cannot be used with auth_type %r'
                                    % (origin['passcode'], auth_type))
        elif not _PASSCODE.match(values['passcode']):
            raise setting_error('%s must be the 6-digit code of the virtual MFA device (6 to 8 digits); the value given is not'
                                % origin['passcode'])
        elif 'user_id' not in values:
            raise setting_error("%s needs %s: IAM's totp method names the user by id (%s is not enough); the id is shown in the "
                                'console under My Credentials, or by openstack token issue' % (
                                    origin['passcode'], _hint('user_id'), origin.get('username', 'a user name')))
    if auth_type == APPLICATION_CREDENTIAL and not any(
            key in values for key in ('application_credential_id', 'application_credential_name')):
        raise setting_error('%s is set but the credential is not named: set %s, or %s with its user' % (
            origin['application_credential_secret'], _hint('application_credential_id'),
            _hint('application_credential_name')))


def _validate_identity(auth_type: str, values: Dict[str, str], origin: Dict[str, str], sources: List[Source]) -> None:
    hint = _hint
    _validate_method(auth_type, values, origin)
    required = [key for key in CREDENTIAL_KEYS[auth_type] if key not in OPTIONAL_CREDENTIAL_KEYS]
    missing = [key for key in required if key not in values]
    if missing:
        present = [key for key in CREDENTIAL_KEYS[auth_type] if key in values]
        if present:
            raise setting_error('%s is set but %s is not; %s are taken together from one place' % (
                ', '.join(origin[key] for key in present), ', '.join(hint(key) for key in missing),
                ', '.join(CREDENTIAL_KEYS[auth_type])))
        raise setting_error('auth_type %r needs %s; it is not set in %s' % (
            auth_type, ' and '.join(hint(key) for key in missing), ', '.join(source.label for source in sources)))
    if auth_type == 'aksk':
        if 'project_id' not in values:
            where = (' (%s is set, but a name cannot be resolved without a token)' % origin['project_name']
                     if 'project_name' in values else '')
            raise setting_error("auth_type 'aksk' needs %s: requests are signed for one project%s" % (hint('project_id'), where))
        return
    if 'auth_url' not in values:
        raise setting_error('auth_type %r needs %s, the IAM/Keystone URL such as https://iam.eu-de.otc.t-systems.com/v3'
                            % (auth_type, hint('auth_url')))
    if auth_type == 'password' or (auth_type == APPLICATION_CREDENTIAL and 'application_credential_id' not in values):
        if 'username' not in values and 'user_id' not in values:
            raise setting_error("auth_type %r needs %s or %s" % (auth_type, hint('username'), hint('user_id')))
        if 'user_id' not in values and not any(key in values for key in ('user_domain_name', 'user_domain_id')):
            raise setting_error("%s needs the user's domain: set %s, %s or %s" % (
                origin['username'], hint('user_domain_name'), hint('user_domain_id'), hint('domain_name')))
    if auth_type == APPLICATION_CREDENTIAL:
        return   # the credential is scoped to its project; a project given is checked against the token's
    if 'project_id' not in values and 'project_name' not in values:
        raise setting_error('auth_type %r needs a project scope (IMS is a project-level service): set %s, or %s with its domain'
                            % (auth_type, hint('project_id'), hint('project_name')))
    if 'project_id' not in values and not any(key in values for key in ('project_domain_name', 'project_domain_id')):
        raise setting_error("%s needs the project's domain: set %s, %s or %s" % (
            origin['project_name'], hint('project_domain_name'), hint('project_domain_id'), hint('domain_name')))


def _ims_endpoint(params: Mapping[str, Any], environ: Mapping[str, str], auth_type: str, region_name: Optional[str],
                  region_where: Optional[str]) -> Optional[str]:
    """ims_endpoint (or $OS_IMS_ENDPOINT); None means: from the catalog (with AK/SK, IAM's catalog for the region)."""
    value, where = params.get('ims_endpoint'), 'ims_endpoint'
    if is_unset(value):
        value, where = environ.get(IMS_ENDPOINT_ENV), IMS_ENDPOINT_ENV
    if not is_unset(value):
        return check_url(str(value).strip(), where, 'https://ims.eu-de.otc.t-systems.com')
    if auth_type == 'aksk':
        if not region_name:
            raise setting_error("auth_type 'aksk' needs ims_endpoint (or %s), or region_name (or OS_REGION_NAME) to find the "
                                "endpoint in IAM's catalog or the table of known regions" % IMS_ENDPOINT_ENV)
        if not _REGION_NAME.match(region_name):
            raise setting_error('%s: %r is not a region name (letters, digits, - and _); give ims_endpoint instead'
                                % (region_where, region_name))
    return None


def _resolve_identity(sources: List[Source]) -> Tuple[str, Dict[str, str]]:
    """auth_type and the validated auth values of the ConnectionConfig (auth_url normalized to end in /v3)."""
    auth_type = choose_auth_type(sources)
    values, origin = merge_auth(sources, auth_type)
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
        raise setting_error('%s: %r is not a project id (32 hexadecimal digits); give the project name as auth.project_name '
                            '(with its domain) instead' % (origin['project_id'], values['project_id']))
    # with AK/SK, auth_url is optional: where IAM's catalog is asked for the IMS endpoint
    if 'auth_url' in values:
        values['auth_url'] = normalize_auth_url(values['auth_url'], origin['auth_url'])
    return auth_type, values


def _resolve_endpoint(params: Mapping[str, Any], environ: Mapping[str, str], sources: List[Source],
                      auth_type: str) -> Dict[str, Any]:
    """region_name, interface and ims_endpoint (None: from the token's catalog, or for AK/SK from IAM's, at run time)."""
    region_name, region_where = first_setting(sources, 'region_name')
    if region_name is not None:
        region_name = str(region_name).strip()
    interface_value, interface_where = first_setting(sources, 'interface')
    interface = _normalize_interface(interface_value, interface_where) if interface_value is not None else DEFAULT_INTERFACE
    ims_endpoint = _ims_endpoint(params, environ, auth_type, region_name, region_where)
    return dict(region_name=region_name or None, interface=interface, ims_endpoint=ims_endpoint)


def _resolve_tls(sources: List[Source], module: Source, warnings: List[str]) -> Dict[str, Any]:
    """verify (True, False or a CA bundle path) and cert (a file, or certificate and key files)."""
    validate_value, validate_where = first_setting(sources, 'validate_certs')
    validate_certs = to_bool(validate_value, validate_where) if validate_value is not None else True
    ca_value, ca_where = first_setting(sources, 'ca_cert')
    verify: Union[bool, str] = validate_certs
    if not validate_certs:
        warnings.append('%s is false: TLS certificates are not verified, so anyone on the network path can read the '
                        'credentials; use it only in a lab, and set ca_cert for a private CA instead' % validate_where)
    if ca_value is not None:
        if validate_certs:
            verify = existing_file(ca_value, ca_where, 'CA bundle')
        elif module.settings.get('ca_cert') is not None:
            warnings.append('ca_cert is ignored because validate_certs is false')
    cert_value, cert_where = first_setting(sources, 'client_cert')
    key_value, key_where = first_setting(sources, 'client_key')
    cert: Optional[Union[str, Tuple[str, str]]] = None
    if key_value is not None and cert_value is None:
        raise setting_error('%s is set but client_cert (cert, OS_CERT) is not: a client key needs its certificate' % key_where)
    if cert_value is not None:
        cert = existing_file(cert_value, cert_where, 'client certificate')
        if key_value is not None:
            cert = (cert, existing_file(key_value, key_where, 'client key'))
    return dict(verify=verify, cert=cert)


def _resolve_limits(params: Mapping[str, Any], sources: List[Source]) -> Dict[str, Any]:
    """api_timeout, retries, token_cache and allow_insecure_http."""
    timeout_value, timeout_where = first_setting(sources, 'api_timeout')
    api_timeout = positive_number(timeout_value, timeout_where) if timeout_value is not None else DEFAULT_API_TIMEOUT
    if api_timeout > MAX_API_TIMEOUT:
        raise setting_error('%s must be at most %d seconds, got %r' % (timeout_where, MAX_API_TIMEOUT, timeout_value))
    retries = params.get('retries')
    if retries is None:
        retries = DEFAULT_RETRIES
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise setting_error('retries must be an integer >= 0, got %r' % (retries,))
    token_cache = params.get('token_cache')
    insecure = params.get('allow_insecure_http')
    return dict(api_timeout=api_timeout, retries=retries,
                token_cache=True if token_cache is None else to_bool(token_cache, 'token_cache'),
                allow_insecure_http=False if insecure is None else to_bool(insecure, 'allow_insecure_http'))


def resolve_connection(params: Mapping[str, Any], environ: Optional[Mapping[str, str]] = None) -> ConnectionConfig:
    """Merge module options, the cloud entry and OS_* variables (environ, default os.environ) into a validated
    ConnectionConfig.

    Raises IMSError (status None) naming the parameter, the bad value (never a secret) and what is allowed.
    """
    environ = os.environ if environ is None else environ
    params = params or {}
    module = module_source(params)
    cloud = cloud_source(params, module, environ)
    env = env_source(environ)
    sources = [source for source in (module, cloud, env) if source is not None]
    warnings: List[str] = list(cloud.warnings) if cloud else []

    auth_type, values = _resolve_identity(sources)
    endpoint = _resolve_endpoint(params, environ, sources, auth_type)
    tls = _resolve_tls(sources, module, warnings)
    limits = _resolve_limits(params, sources)
    return ConnectionConfig(
        auth_type=auth_type,
        cache_dir=default_cache_dir(environ),
        warnings=warnings,
        **values, **endpoint, **tls, **limits,
    )
