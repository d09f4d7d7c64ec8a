# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import hashlib
import os
import re
import sys

import pytest
import yaml

from ansible_collections.imscloud.sharing.plugins.module_utils import clouds
from ansible_collections.imscloud.sharing.plugins.module_utils.config import (
    ConnectionConfig,
    default_cache_dir,
    resolve_connection,
)
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import AUTH_KEYS

PROJECT = '0123456789abcdef0123456789abcdef'
OTHER_PROJECT = 'fedcba9876543210fedcba9876543210'
PASSWORD = 'S3cret-Passw0rd!'
TOKEN = 'gAAAAA-token-value-0123456789'
SECRET_KEY = 'SK-very-secret-0123456789'
IAM = 'https://iam.eu-de.otc.t-systems.com/v3'
NOT_VERIFIED = ('validate_certs is false: TLS certificates are not verified, so anyone on the network path can read the '
                'credentials; use it only in a lab, and set ca_cert for a private CA instead')


class Paths:
    """Where clouds.yaml may live in a test: cwd, ~/.config/openstack, /etc/openstack (all under tmp_path)."""

    def __init__(self, root):
        self.root = root
        self.home = root / 'home'
        self.cwd = root / 'work'
        self.site = root / 'etc-openstack'
        self.user_config = self.home / '.config' / 'openstack'
        for path in (self.home, self.cwd, self.site, self.user_config):
            path.mkdir(parents=True, exist_ok=True)

    def env(self, **variables):
        environ = {'HOME': str(self.home)}
        environ.update(variables)
        return environ


@pytest.fixture
def paths(tmp_path, monkeypatch):
    found = Paths(tmp_path)
    monkeypatch.chdir(found.cwd)
    monkeypatch.setattr(clouds, 'SITE_CONFIG_DIR', str(found.site))
    monkeypatch.setattr(clouds, 'XDG_CONFIG_DIRS_DEFAULT', str(root_xdg(tmp_path)))
    return found


def root_xdg(root):
    return root / 'etc-xdg'


def write_clouds(directory, clouds, name='clouds.yaml'):
    path = directory / name
    path.write_text(yaml.safe_dump({'clouds': clouds}))
    return path


def password_auth(**overrides):
    auth = dict(auth_url=IAM, username='alice', password=PASSWORD, user_domain_name='OTC-EU-DE-0001', project_id=PROJECT)
    auth.update(overrides)
    return {key: value for key, value in auth.items() if value is not None}


def error_of(params, environ):
    with pytest.raises(IMSError) as caught:
        resolve_connection(params, environ)
    err = caught.value
    assert err.status is None
    for secret in (PASSWORD, TOKEN, SECRET_KEY):
        assert secret not in str(err)
        assert secret not in repr(err.to_dict())
    return str(err)


# ---------------------------------------------------------------- plain module options


def test_password_auth_from_module_options(paths):
    cfg = resolve_connection({'auth': password_auth(), 'region_name': 'eu-de'}, paths.env())
    assert cfg.auth_type == 'password'
    assert cfg.auth_url == IAM
    assert (cfg.username, cfg.password, cfg.user_domain_name, cfg.project_id) == ('alice', PASSWORD, 'OTC-EU-DE-0001', PROJECT)
    assert cfg.token is None and cfg.secret_key is None
    assert cfg.region_name == 'eu-de'
    assert cfg.interface == 'public'
    assert cfg.verify is True
    assert cfg.cert is None
    assert cfg.api_timeout == 30.0
    assert cfg.retries == 5
    assert cfg.token_cache is True
    assert cfg.ims_endpoint is None
    assert cfg.warnings == []


def test_module_params_as_ansible_gives_them(paths):
    # AnsibleModule passes every suboption of auth, unset ones as None, and every option.
    auth = dict.fromkeys(AUTH_KEYS)
    auth.update(password_auth())
    params = dict(cloud=None, auth=auth, auth_type=None, region_name=None, interface=None, ims_endpoint=None,
                  validate_certs=None, ca_cert=None, client_cert=None, client_key=None, api_timeout=None,
                  token_cache=False, retries=0)
    cfg = resolve_connection(params, paths.env())
    assert cfg.auth_type == 'password'
    assert cfg.token_cache is False
    assert cfg.retries == 0


def test_auth_url_gets_v3_appended_and_trailing_slash_removed(paths):
    assert resolve_connection({'auth': password_auth(auth_url='http://127.0.0.1:5000/')}, paths.env()).auth_url == \
        'http://127.0.0.1:5000/v3'
    assert resolve_connection({'auth': password_auth(auth_url='http://127.0.0.1/identity/v3/')}, paths.env()).auth_url == \
        'http://127.0.0.1/identity/v3'


def test_token_auth(paths):
    cfg = resolve_connection({'auth': {'auth_url': IAM, 'token': TOKEN, 'project_id': PROJECT}}, paths.env())
    assert cfg.auth_type == 'token'
    assert cfg.token == TOKEN
    assert cfg.password is None


def test_aksk_auth_with_region_leaves_the_endpoint_to_the_catalog(paths):
    # the endpoint is found at run time (IAM's catalog, else the table: test_endpoints.py, test_login_methods.py)
    cfg = resolve_connection({'auth': {'access_key': 'AK1', 'secret_key': SECRET_KEY, 'project_id': PROJECT,
                                       'security_token': 'sts-token'}, 'region_name': 'eu-nl'}, paths.env())
    assert cfg.auth_type == 'aksk'
    assert (cfg.ims_endpoint, cfg.region_name) == (None, 'eu-nl')
    assert (cfg.access_key, cfg.secret_key, cfg.security_token) == ('AK1', SECRET_KEY, 'sts-token')
    assert cfg.auth_url is None


def test_aksk_with_explicit_endpoint(paths):
    cfg = resolve_connection({'auth': {'access_key': 'AK1', 'secret_key': SECRET_KEY, 'project_id': PROJECT},
                              'ims_endpoint': 'http://127.0.0.1:8080/'}, paths.env())
    assert cfg.ims_endpoint == 'http://127.0.0.1:8080'


def test_ims_endpoint_override_for_password_auth(paths):
    cfg = resolve_connection({'auth': password_auth(), 'ims_endpoint': 'https://ims.example.test/base/'}, paths.env())
    assert cfg.ims_endpoint == 'https://ims.example.test/base'


def test_user_id_needs_no_domain(paths):
    cfg = resolve_connection({'auth': password_auth(username=None, user_domain_name=None, user_id='u-123')}, paths.env())
    assert cfg.user_id == 'u-123'
    assert cfg.username is None


def test_project_name_with_project_domain_id(paths):
    cfg = resolve_connection({'auth': password_auth(project_id=None, project_name='eu-de', project_domain_id='d-1')},
                             paths.env())
    assert (cfg.project_name, cfg.project_domain_id, cfg.project_domain_name) == ('eu-de', 'd-1', None)


def test_domain_name_fills_user_and_project_domain(paths):
    cfg = resolve_connection({'auth': password_auth(user_domain_name=None, project_id=None, project_name='eu-de',
                                                    domain_name='OTC-EU-DE-1')}, paths.env())
    assert cfg.user_domain_name == 'OTC-EU-DE-1'
    assert cfg.project_domain_name == 'OTC-EU-DE-1'
    assert cfg.domain_name == 'OTC-EU-DE-1'


def test_domain_name_does_not_override_given_domains(paths):
    cfg = resolve_connection({'auth': password_auth(user_domain_id='ud', user_domain_name=None, project_id=None,
                                                    project_name='p', project_domain_name='pd', domain_name='dn')},
                             paths.env())
    assert (cfg.user_domain_id, cfg.user_domain_name) == ('ud', None)
    assert cfg.project_domain_name == 'pd'


def test_v3_auth_type_synonyms(paths):
    assert resolve_connection({'auth': password_auth(), 'auth_type': 'v3password'}, paths.env()).auth_type == 'password'
    params = {'auth': {'auth_url': IAM, 'token': TOKEN, 'project_id': PROJECT}, 'auth_type': 'v3token'}
    assert resolve_connection(params, paths.env()).auth_type == 'token'


def test_integer_auth_values_become_strings(paths):
    cfg = resolve_connection({'auth': password_auth(project_id=int('1' * 32))}, paths.env())
    assert cfg.project_id == '1' * 32


def test_names_are_trimmed_but_secrets_kept_as_given(paths):
    environ = paths.env(OS_PASSWORD=' pass phrase ', OS_USERNAME=' alice ')
    cfg = resolve_connection({'auth': password_auth(password=None, username=None, project_id=' %s ' % PROJECT)}, environ)
    assert (cfg.username, cfg.password, cfg.project_id) == ('alice', ' pass phrase ', PROJECT)


def test_empty_strings_count_as_unset(paths):
    environ = paths.env(OS_REGION_NAME='eu-de')
    cfg = resolve_connection({'auth': password_auth(user_id=''), 'region_name': ''}, environ)
    assert cfg.user_id is None
    assert cfg.region_name == 'eu-de'


# ---------------------------------------------------------------- validation errors


def test_no_credentials_at_all(paths):
    message = error_of({}, paths.env())
    assert 'no credentials' in message
    assert 'auth.password' in message and 'auth.token' in message and 'auth.access_key' in message


def test_token_and_password_both(paths):
    message = error_of({'auth': password_auth(token=TOKEN)}, paths.env())
    assert 'conflicting credentials in module options' in message
    assert 'auth.password' in message and 'auth.token' in message
    assert 'auth_type' in message


def test_explicit_auth_type_with_credential_of_other_kind(paths):
    message = error_of({'auth': password_auth(token=TOKEN), 'auth_type': 'token'}, paths.env())
    assert message.startswith("auth.password cannot be used with auth_type 'token'")


def test_explicit_auth_type_without_its_credential(paths):
    message = error_of({'auth': {'auth_url': IAM, 'project_id': PROJECT}, 'auth_type': 'token'}, paths.env())
    assert "auth_type 'token' needs auth.token (or OS_TOKEN/OS_AUTH_TOKEN)" in message
    assert 'module options' in message and 'environment' in message


def test_auth_type_from_environment_not_consulted_when_module_has_credential(paths):
    cfg = resolve_connection({'auth': password_auth()}, paths.env(OS_AUTH_TYPE='v3oidcpassword'))
    assert cfg.auth_type == 'password'


def test_unknown_auth_type_is_named_with_allowed_values(paths):
    message = error_of({}, paths.env(OS_AUTH_TYPE='v3oidcpassword', OS_PASSWORD=PASSWORD))
    assert "OS_AUTH_TYPE: 'v3oidcpassword' is not supported" in message
    assert 'password, token, v3applicationcredential, aksk' in message


def test_aksk_without_project_id(paths):
    message = error_of({'auth': {'access_key': 'AK', 'secret_key': SECRET_KEY}, 'region_name': 'eu-de'}, paths.env())
    assert "auth_type 'aksk' needs auth.project_id" in message


def test_aksk_with_project_name_only_explains(paths):
    message = error_of({'auth': {'access_key': 'AK', 'secret_key': SECRET_KEY, 'project_name': 'eu-de',
                                 'project_domain_name': 'd'}, 'region_name': 'eu-de'}, paths.env())
    assert 'auth.project_name is set, but a name cannot be resolved without a token' in message


def test_aksk_without_endpoint_or_region(paths):
    message = error_of({'auth': {'access_key': 'AK', 'secret_key': SECRET_KEY, 'project_id': PROJECT}}, paths.env())
    assert 'needs ims_endpoint (or OS_IMS_ENDPOINT), or region_name (or OS_REGION_NAME)' in message
    assert "IAM's catalog or the table of known regions" in message


def test_aksk_with_region_unusable_in_a_host_name(paths):
    message = error_of({'auth': {'access_key': 'AK', 'secret_key': SECRET_KEY, 'project_id': PROJECT},
                        'region_name': 'eu de/x'}, paths.env())
    assert "region_name: 'eu de/x' is not a region name" in message


def test_aksk_half_a_key_pair(paths):
    message = error_of({'auth': {'access_key': 'AK', 'project_id': PROJECT}, 'region_name': 'eu-de'},
                       paths.env(OS_SECRET_KEY=SECRET_KEY))
    assert 'auth.access_key is set but auth.secret_key (or OS_SECRET_KEY) is not' in message
    assert 'taken together from one place' in message


@pytest.mark.parametrize('auth_type, auth', [
    ('password', {'username': 'alice', 'password': PASSWORD, 'user_domain_name': 'd', 'project_id': PROJECT}),
    ('token', {'token': TOKEN, 'project_id': PROJECT}),
])
def test_no_auth_url(paths, auth_type, auth):
    message = error_of({'auth': auth}, paths.env())
    assert "auth_type %r needs auth.auth_url (or OS_AUTH_URL)" % auth_type in message


def test_password_without_username_or_user_id(paths):
    message = error_of({'auth': password_auth(username=None)}, paths.env())
    assert "auth_type 'password' needs auth.username (or OS_USERNAME) or auth.user_id (or OS_USER_ID)" in message


def test_username_without_domain(paths):
    message = error_of({'auth': password_auth(user_domain_name=None)}, paths.env())
    assert "auth.username needs the user's domain" in message
    assert 'auth.user_domain_name' in message and 'auth.domain_name' in message


def test_project_name_without_project_domain(paths):
    message = error_of({'auth': password_auth(project_id=None, project_name='eu-de')}, paths.env())
    assert "auth.project_name needs the project's domain" in message
    assert 'auth.project_domain_name' in message and 'auth.project_domain_id' in message


def test_project_name_without_domain_from_environment(paths):
    message = error_of({'auth': password_auth(project_id=None)}, paths.env(OS_PROJECT_NAME='eu-de'))
    assert message.startswith("OS_PROJECT_NAME needs the project's domain")


@pytest.mark.parametrize('auth_type, auth', [
    ('password', password_auth(project_id=None)),
    ('token', {'auth_url': IAM, 'token': TOKEN}),
])
def test_no_project_scope(paths, auth_type, auth):
    message = error_of({'auth': auth}, paths.env())
    assert 'auth_type %r needs a project scope' % auth_type in message


def test_unknown_keys_in_auth(paths):
    message = error_of({'auth': password_auth(tenant='x', passwd='y')}, paths.env())
    assert 'auth has unknown key(s): passwd, tenant' in message
    assert 'Allowed keys: ' + ', '.join(AUTH_KEYS) in message


def test_auth_must_be_a_dict(paths):
    assert 'auth must be a dict, got str' in error_of({'auth': 'alice:secret'}, paths.env())


def test_auth_value_must_be_text(paths):
    assert 'auth.project_id must be a string, got list' in error_of({'auth': password_auth(project_id=['a'])}, paths.env())


@pytest.mark.parametrize('endpoint, expected', [
    ('ims.eu-de.otc.t-systems.com', "got 'ims.eu-de.otc.t-systems.com'"),
    ('ftp://ims.example.test', "got 'ftp://ims.example.test'"),
    ('https://', "got 'https://'"),
    ('http://host:notaport', "got 'http://host:notaport'"),
])
def test_ims_endpoint_must_be_http_url(paths, endpoint, expected):
    message = error_of({'auth': password_auth(), 'ims_endpoint': endpoint}, paths.env())
    assert message.startswith('ims_endpoint must be an http:// or https:// URL such as https://ims.eu-de.otc.t-systems.com')
    assert expected in message


def test_ims_endpoint_with_credentials_is_refused_without_echoing_them(paths):
    message = error_of({'auth': password_auth(), 'ims_endpoint': 'https://bob:%s@ims.example.test' % PASSWORD}, paths.env())
    assert 'must not contain user information' in message
    assert 'ims.example.test' in message


def test_ims_endpoint_with_query(paths):
    message = error_of({'auth': password_auth(), 'ims_endpoint': 'https://ims.example.test/?x=1'}, paths.env())
    assert "must not have a query string or fragment, got 'https://ims.example.test/'" in message


def test_auth_url_not_http(paths):
    message = error_of({'auth': password_auth(auth_url='iam.example.test')}, paths.env())
    assert message.startswith('auth.auth_url must be an http:// or https:// URL')


def test_auth_url_keystone_v2(paths):
    message = error_of({'auth': password_auth(auth_url='http://127.0.0.1:5000/v2.0')}, paths.env())
    assert 'points to the Keystone v2 API' in message


def test_ca_cert_missing(paths):
    missing = str(paths.root / 'nope.pem')
    message = error_of({'auth': password_auth(), 'ca_cert': missing}, paths.env())
    assert message == 'ca_cert: CA bundle file %s does not exist or is not a file' % missing


def test_ca_cert_becomes_verify(paths):
    bundle = paths.root / 'ca.pem'
    bundle.write_text('-----BEGIN CERTIFICATE-----\n')
    cfg = resolve_connection({'auth': password_auth(), 'ca_cert': str(bundle)}, paths.env())
    assert cfg.verify == str(bundle)


def test_ca_cert_ignored_when_not_validating(paths):
    cfg = resolve_connection({'auth': password_auth(), 'ca_cert': '/does/not/exist.pem', 'validate_certs': False},
                             paths.env())
    assert cfg.verify is False
    assert cfg.warnings == [NOT_VERIFIED, 'ca_cert is ignored because validate_certs is false']


def test_ca_cert_from_environment_ignored_silently_when_not_validating(paths):
    cfg = resolve_connection({'auth': password_auth(), 'validate_certs': False}, paths.env(OS_CACERT='/nope.pem'))
    assert cfg.verify is False
    assert cfg.warnings == [NOT_VERIFIED]


def test_certificates_not_verified_is_warned_wherever_it_is_set(paths):
    write_clouds(paths.cwd, {'lab': {'auth': password_auth(), 'verify': False}})
    assert resolve_connection({'cloud': 'lab'}, paths.env()).warnings == [
        NOT_VERIFIED.replace('validate_certs is', "verify of cloud 'lab' (%s) is" % (paths.cwd / 'clouds.yaml'))]
    assert resolve_connection({'auth': password_auth()}, paths.env()).warnings == []


@pytest.mark.parametrize('value', ['my-project', '0123456789abcdef0123456789abcdeg', '0123456789abcdef', 'eu-de'])
def test_project_id_that_is_not_hex_fails_naming_the_option(paths, value):
    message = error_of({'auth': password_auth(project_id=value)}, paths.env())
    assert message.startswith('auth.project_id: %r is not a project id (32 hexadecimal digits)' % value)
    assert 'auth.project_name' in message


def test_project_id_from_the_environment_is_checked_too(paths):
    message = error_of({'auth': password_auth(project_id=None)}, paths.env(OS_PROJECT_ID='not-hex'))
    assert message.startswith("OS_PROJECT_ID: 'not-hex' is not a project id")


def test_password_that_is_not_utf8_in_the_environment_is_a_message(paths):
    environ = paths.env(OS_PASSWORD=b'caf\xe9-pw'.decode('utf-8', 'surrogateescape'))
    message = error_of({'auth': password_auth(password=None)}, environ)
    assert message == 'OS_PASSWORD holds bytes that are not valid UTF-8 (at character 4); set it in UTF-8'


def test_clouds_yaml_that_is_not_utf8_is_a_message(paths):
    (paths.cwd / 'clouds.yaml').write_bytes(b'clouds:\n  c:\n    auth:\n      password: caf\xe9\n')
    message = error_of({'cloud': 'c'}, paths.env())
    assert message.startswith('cannot read %s: it is not valid utf-8 (byte ' % (paths.cwd / 'clouds.yaml'))
    assert 'save it as UTF-8' in message and 'caf' not in message


@pytest.mark.parametrize('value', [86401, 10 ** 30, float('1e300')])
def test_huge_api_timeout_is_refused(paths, value):
    message = error_of({'auth': password_auth(), 'api_timeout': value}, paths.env())
    assert message.startswith('api_timeout must be at most 86400 seconds, got ')


def test_client_cert_and_key(paths):
    cert = paths.root / 'client.crt'
    key = paths.root / 'client.key'
    cert.write_text('c')
    key.write_text('k')
    cfg = resolve_connection({'auth': password_auth(), 'client_cert': str(cert), 'client_key': str(key)}, paths.env())
    assert cfg.cert == (str(cert), str(key))
    cfg = resolve_connection({'auth': password_auth()}, paths.env(OS_CERT=str(cert)))
    assert cfg.cert == str(cert)


def test_client_key_without_cert(paths):
    key = paths.root / 'client.key'
    key.write_text('k')
    message = error_of({'auth': password_auth(), 'client_key': str(key)}, paths.env())
    assert message.startswith('client_key is set but client_cert')


def test_client_cert_missing(paths):
    message = error_of({'auth': password_auth()}, paths.env(OS_CERT='/no/such/cert.pem'))
    assert message == 'OS_CERT: client certificate file /no/such/cert.pem does not exist or is not a file'


@pytest.mark.parametrize('value, expected', [('internalURL', 'internal'), ('ADMIN', 'admin'), ('public', 'public')])
def test_interface_from_environment(paths, value, expected):
    assert resolve_connection({'auth': password_auth()}, paths.env(OS_INTERFACE=value)).interface == expected


def test_interface_invalid(paths):
    message = error_of({'auth': password_auth()}, paths.env(OS_INTERFACE='private'))
    assert message == "OS_INTERFACE: 'private' is not a valid interface; use one of: public, internal, admin"


def test_retries_must_not_be_negative(paths):
    assert error_of({'auth': password_auth(), 'retries': -1}, paths.env()) == 'retries must be an integer >= 0, got -1'


def test_token_cache_must_be_boolean(paths):
    assert 'token_cache must be a boolean' in error_of({'auth': password_auth(), 'token_cache': 'sometimes'}, paths.env())


@pytest.mark.parametrize('value, message', [
    ('soon', "cloud.api_timeout must be a number of seconds, got 'soon'"),
    (0, 'cloud.api_timeout must be a positive number of seconds, got 0'),
    ('nan', "cloud.api_timeout must be a positive number of seconds, got 'nan'"),
    ('inf', "cloud.api_timeout must be a positive number of seconds, got 'inf'"),
    (True, 'cloud.api_timeout must be a number of seconds, got True'),
])
def test_api_timeout_invalid(paths, value, message):
    cloud = {'auth': password_auth(), 'api_timeout': value}
    assert error_of({'cloud': cloud}, paths.env()) == message


def test_verify_invalid_in_cloud(paths):
    message = error_of({'cloud': {'auth': password_auth(), 'verify': 'maybe'}}, paths.env())
    assert message == "cloud.verify must be a boolean (true or false), got 'maybe'"


# ---------------------------------------------------------------- precedence


def test_precedence_module_over_cloud_over_environment(paths):
    write_clouds(paths.cwd, {'c': {'auth': password_auth(), 'region_name': 'from-cloud', 'interface': 'internal'}})
    environ = paths.env(OS_REGION_NAME='from-env', OS_INTERFACE='admin')
    assert resolve_connection({'cloud': 'c', 'region_name': 'from-module'}, environ).region_name == 'from-module'
    cfg = resolve_connection({'cloud': 'c'}, environ)
    assert (cfg.region_name, cfg.interface) == ('from-cloud', 'internal')
    cfg = resolve_connection({'auth': password_auth()}, environ)
    assert (cfg.region_name, cfg.interface) == ('from-env', 'admin')


def test_module_auth_keys_override_cloud_auth_key_by_key(paths):
    write_clouds(paths.cwd, {'c': {'auth': password_auth(username='cloud-user')}})
    cfg = resolve_connection({'cloud': 'c', 'auth': {'username': 'task-user'}}, paths.env())
    assert cfg.username == 'task-user'
    assert cfg.password == PASSWORD          # still from the cloud entry
    assert cfg.auth_url == IAM


def test_alternatives_come_from_one_source(paths):
    write_clouds(paths.cwd, {'c': {'auth': password_auth(project_id=None, project_name='eu-de', project_domain_name='pd')}})
    cfg = resolve_connection({'cloud': 'c', 'auth': {'project_id': OTHER_PROJECT}}, paths.env(OS_USER_ID='env-user-id'))
    assert cfg.project_id == OTHER_PROJECT
    assert cfg.project_name is None           # not mixed with the cloud's project name
    assert cfg.username == 'alice'
    assert cfg.user_id is None                # OS_USER_ID does not mix into the cloud's user


def test_credential_kind_from_highest_source_ignores_others_below(paths):
    environ = paths.env(OS_PASSWORD='left-over', OS_USERNAME='someone')
    cfg = resolve_connection({'auth': {'auth_url': IAM, 'token': TOKEN, 'project_id': PROJECT}}, environ)
    assert cfg.auth_type == 'token'
    assert cfg.password is None


def test_credential_from_environment_when_module_gives_identity_only(paths):
    cfg = resolve_connection({'auth': password_auth(password=None)}, paths.env(OS_PASSWORD=PASSWORD))
    assert cfg.auth_type == 'password'
    assert cfg.password == PASSWORD


def test_auth_type_from_cloud_selects_credential(paths):
    cloud_auth = {'auth_url': IAM, 'token': TOKEN, 'project_id': PROJECT, 'password': 'ignored'}
    write_clouds(paths.cwd, {'c': {'auth_type': 'v3token', 'auth': cloud_auth}})
    cfg = resolve_connection({'cloud': 'c'}, paths.env())
    assert cfg.auth_type == 'token'
    assert cfg.password is None


def test_module_credential_wins_over_cloud_auth_type(paths):
    write_clouds(paths.cwd, {'c': {'auth_type': 'password', 'auth': password_auth()}})
    cfg = resolve_connection({'cloud': 'c', 'auth': {'token': TOKEN}}, paths.env())
    assert cfg.auth_type == 'token'
    assert cfg.token == TOKEN
    assert cfg.auth_url == IAM and cfg.project_id == PROJECT


def test_conflicting_credentials_in_environment(paths):
    message = error_of({}, paths.env(OS_TOKEN=TOKEN, OS_PASSWORD=PASSWORD))
    assert 'conflicting credentials in environment: OS_PASSWORD, OS_TOKEN are set' in message


def test_os_auth_type_chooses_between_environment_credentials(paths):
    environ = paths.env(OS_TOKEN=TOKEN, OS_PASSWORD=PASSWORD, OS_AUTH_TYPE='token', OS_AUTH_URL=IAM, OS_PROJECT_ID=PROJECT)
    cfg = resolve_connection({}, environ)
    assert cfg.auth_type == 'token'
    assert cfg.password is None


def test_environment_variable_fallbacks(paths):
    environ = paths.env(
        OS_AUTH_URL='http://127.0.0.1:5000', OS_USERNAME='envuser', OS_PASSWORD=PASSWORD, OS_USER_DOMAIN_NAME='ud',
        OS_TENANT_NAME='tenant', OS_PROJECT_DOMAIN_ID='pdid', OS_REGION_NAME='eu-de', OS_INTERFACE='internal',
    )
    cfg = resolve_connection({}, environ)
    assert (cfg.auth_url, cfg.username, cfg.user_domain_name) == ('http://127.0.0.1:5000/v3', 'envuser', 'ud')
    assert (cfg.project_name, cfg.project_domain_id) == ('tenant', 'pdid')
    assert (cfg.region_name, cfg.interface) == ('eu-de', 'internal')


def test_environment_preferred_names(paths):
    environ = paths.env(OS_AUTH_URL=IAM, OS_TOKEN='first', OS_AUTH_TOKEN='second', OS_PROJECT_ID=PROJECT,
                        OS_TENANT_ID=OTHER_PROJECT)
    cfg = resolve_connection({}, environ)
    assert (cfg.token, cfg.project_id) == ('first', PROJECT)
    environ = paths.env(OS_AUTH_URL=IAM, OS_AUTH_TOKEN='second', OS_TENANT_ID=OTHER_PROJECT)
    cfg = resolve_connection({}, environ)
    assert (cfg.token, cfg.project_id) == ('second', OTHER_PROJECT)


def test_environment_aksk(paths):
    environ = paths.env(OS_ACCESS_KEY='AK', OS_SECRET_KEY=SECRET_KEY, OS_SECURITY_TOKEN='sts', OS_PROJECT_ID=PROJECT,
                        OS_REGION_NAME='eu-de', OS_USER_ID='uid', OS_DOMAIN_NAME='dn', OS_USER_DOMAIN_ID='udid',
                        OS_PROJECT_DOMAIN_NAME='pdn')
    cfg = resolve_connection({'ims_endpoint': 'https://ims.example.test'}, environ)
    assert (cfg.auth_type, cfg.access_key, cfg.security_token) == ('aksk', 'AK', 'sts')
    assert cfg.ims_endpoint == 'https://ims.example.test'


# ---------------------------------------------------------------- cloud dict


def test_cloud_dict_alone(paths):
    cloud = {'auth': password_auth(), 'region_name': 'eu-de', 'verify': False, 'interface': 'admin', 'api_timeout': 12.5}
    cfg = resolve_connection({'cloud': cloud, 'ims_endpoint': 'https://ims.example.test', 'retries': 2}, paths.env())
    assert (cfg.username, cfg.region_name, cfg.verify, cfg.interface, cfg.api_timeout) == ('alice', 'eu-de', False, 'admin', 12.5)
    assert cfg.ims_endpoint == 'https://ims.example.test'
    assert cfg.retries == 2


@pytest.mark.parametrize('extra, named', [
    ({'auth': {'username': 'bob'}}, 'auth'),
    ({'region_name': 'eu-de'}, 'region_name'),
    ({'validate_certs': False, 'api_timeout': 5}, 'validate_certs, api_timeout'),
    ({'interface': 'public'}, 'interface'),
])
def test_cloud_dict_with_explicit_connection_options_fails(paths, extra, named):
    params = {'cloud': {'auth': password_auth()}}
    params.update(extra)
    message = error_of(params, paths.env())
    assert message.startswith('cloud is a dict (a complete cloud entry) and cannot be combined with: %s.' % named)


def test_cloud_dict_errors_name_the_key(paths):
    message = error_of({'cloud': {'auth': password_auth(user_domain_name=None)}}, paths.env())
    assert message.startswith("cloud.auth.username needs the user's domain")
    message = error_of({'cloud': {'auth': password_auth(colour='blue')}}, paths.env())
    assert message.startswith('cloud.auth of the cloud dict has unknown key(s): colour.')


def test_cloud_dict_auth_must_be_mapping(paths):
    assert error_of({'cloud': {'auth': ['x']}}, paths.env()) == 'cloud.auth of the cloud dict must be a mapping, got list'


def test_cloud_of_wrong_type(paths):
    assert error_of({'cloud': ['a']}, paths.env()) == 'cloud must be a cloud name (string) or a cloud entry (dict), got list'


# ---------------------------------------------------------------- clouds.yaml


def test_clouds_yaml_search_order(paths):
    explicit_dir = paths.root / 'explicit'
    explicit_dir.mkdir()
    locations = [('explicit', explicit_dir), ('cwd', paths.cwd), ('user', paths.user_config), ('site', paths.site)]
    for label, directory in locations:
        write_clouds(directory, {'c': {'auth': password_auth(username=label)}})
    environ = paths.env(OS_CLIENT_CONFIG_FILE=str(explicit_dir / 'clouds.yaml'))
    for label, directory in locations:
        assert resolve_connection({'cloud': 'c'}, environ).username == label
        os.unlink(str(directory / 'clouds.yaml'))


def test_clouds_yaml_candidates_listed_in_order(paths):
    environ = paths.env(OS_CLIENT_CONFIG_FILE='~/x/mine.yaml')
    directories = [paths.cwd, paths.user_config, root_xdg(paths.root) / 'openstack', paths.site]
    assert clouds.clouds_yaml_candidates(environ) == [str(paths.home / 'x' / 'mine.yaml')] + [
        str(directory / ('clouds' + suffix)) for directory in directories for suffix in ('.yaml', '.yml', '.json')]


def test_first_clouds_yaml_found_is_used_even_without_the_cloud(paths):
    write_clouds(paths.cwd, {'other': {'auth': password_auth()}, 'dev': {'auth': password_auth()}})
    write_clouds(paths.user_config, {'c': {'auth': password_auth()}})
    message = error_of({'cloud': 'c'}, paths.env())
    assert message.startswith("cloud='c' is not a cloud defined in %s (clouds defined there: dev, other)." % (
        paths.cwd / 'clouds.yaml'))
    assert 'clouds.yaml is looked up in this order, the first one found is used: ' in message
    assert '%s (found)' % (paths.user_config / 'clouds.yaml') in message
    assert '%s (missing)' % (paths.site / 'clouds.yaml') in message


def test_unknown_cloud_names_the_environment_variable_file(paths):
    file_path = write_clouds(paths.root, {'dev': {'auth': password_auth()}}, 'awx.yaml')
    message = error_of({'cloud': 'prod'}, paths.env(OS_CLIENT_CONFIG_FILE=str(file_path)))
    assert '(clouds defined there: dev)' in message
    assert '$OS_CLIENT_CONFIG_FILE=%s (found)' % file_path in message


def test_no_clouds_yaml_anywhere(paths):
    message = error_of({'cloud': 'dev'}, paths.env(OS_CLIENT_CONFIG_FILE=str(paths.root / 'gone.yaml')))
    assert message.startswith("cloud='dev' names a cloud, but no clouds.yaml was found.")
    assert '$OS_CLIENT_CONFIG_FILE=%s (missing)' % (paths.root / 'gone.yaml') in message
    assert '%s (missing)' % (paths.cwd / 'clouds.yaml') in message


def test_empty_clouds_yaml(paths):
    (paths.cwd / 'clouds.yaml').write_text('')
    assert '(clouds defined there: none)' in error_of({'cloud': 'dev'}, paths.env())
    (paths.cwd / 'clouds.yaml').write_text('client: {}\n')
    assert '(clouds defined there: none)' in error_of({'cloud': 'dev'}, paths.env())


def test_os_cloud_selects_the_cloud(paths):
    write_clouds(paths.cwd, {'a': {'auth': password_auth(username='ua')}, 'b': {'auth': password_auth(username='ub')}})
    assert resolve_connection({}, paths.env(OS_CLOUD='b')).username == 'ub'
    assert resolve_connection({'cloud': 'a'}, paths.env(OS_CLOUD='b')).username == 'ua'
    message = error_of({}, paths.env(OS_CLOUD='zzz'))
    assert message.startswith("OS_CLOUD='zzz' is not a cloud defined in")


def test_malformed_clouds_yaml_names_file_and_line_without_content(paths):
    path = paths.cwd / 'clouds.yaml'
    path.write_text('clouds:\n  dev:\n    auth:\n      password: "%s\n      username: x\n' % PASSWORD)
    message = error_of({'cloud': 'dev'}, paths.env())
    assert message.startswith('cannot parse %s: ' % path)
    assert 'at line 6, column 1' in message


def test_malformed_yaml_structure(paths):
    path = paths.cwd / 'clouds.yaml'
    path.write_text('[1, 2]\n')
    assert error_of({'cloud': 'dev'}, paths.env()) == '%s must hold a mapping with a "clouds" key, got list' % path
    path.write_text('clouds: [dev]\n')
    assert error_of({'cloud': 'dev'}, paths.env()) == \
        '"clouds" in %s must be a mapping of cloud names to entries, got list' % path
    path.write_text('clouds:\n  dev: just-a-string\n')
    assert error_of({'cloud': 'dev'}, paths.env()) == "cloud 'dev' (%s) must be a mapping, got str" % path


def test_yaml_error_without_position(paths, monkeypatch):
    write_clouds(paths.cwd, {'dev': {}})

    def broken(_stream):
        raise yaml.YAMLError('unreadable')
    monkeypatch.setattr(yaml, 'safe_load', broken)
    assert error_of({'cloud': 'dev'}, paths.env()) == 'cannot parse %s: YAMLError' % (paths.cwd / 'clouds.yaml')


def test_unreadable_clouds_yaml(paths, monkeypatch):
    write_clouds(paths.cwd, {'dev': {}})

    def denied(*_args, **_kwargs):
        raise PermissionError(13, 'Permission denied')
    monkeypatch.setattr(clouds, 'open', denied, raising=False)
    assert error_of({'cloud': 'dev'}, paths.env()) == 'cannot read %s: Permission denied' % (paths.cwd / 'clouds.yaml')


def test_pyyaml_missing(paths, monkeypatch):
    write_clouds(paths.cwd, {'dev': {}})
    monkeypatch.setitem(sys.modules, 'yaml', None)   # import yaml raises ImportError
    with pytest.raises(IMSError) as caught:
        resolve_connection({'cloud': 'dev'}, paths.env())
    assert 'PyYAML' in str(caught.value)
    assert 'ModuleNotFoundError' in caught.value.details['exception'] and 'yaml' in caught.value.details['exception']


def test_secure_yaml_is_merged(paths):
    auth = password_auth(password=None)
    write_clouds(paths.cwd, {'dev': {'auth': auth, 'region_name': 'eu-de'}})
    write_clouds(paths.user_config, {'dev': {'auth': {'password': PASSWORD}}, 'other': {'auth': {'password': 'x'}}},
                 'secure.yaml')
    cfg = resolve_connection({'cloud': 'dev'}, paths.env())
    assert (cfg.password, cfg.username, cfg.region_name) == (PASSWORD, 'alice', 'eu-de')


def test_secure_yaml_overrides_and_its_search_order(paths):
    write_clouds(paths.cwd, {'dev': {'auth': password_auth(password='in-clouds-yaml')}})
    write_clouds(paths.site, {'dev': {'auth': {'password': 'site-secure'}}}, 'secure.yaml')
    assert resolve_connection({'cloud': 'dev'}, paths.env()).password == 'site-secure'
    write_clouds(paths.cwd, {'dev': {'auth': {'password': 'cwd-secure'}}}, 'secure.yaml')
    assert resolve_connection({'cloud': 'dev'}, paths.env()).password == 'cwd-secure'
    explicit = write_clouds(paths.root, {'dev': {'auth': {'password': PASSWORD}}}, 'my-secure.yaml')
    assert resolve_connection({'cloud': 'dev'}, paths.env(OS_CLIENT_SECURE_FILE=str(explicit))).password == PASSWORD


def test_secure_yaml_entries_count_as_clouds(paths):
    # As in openstacksdk, secure.yaml is merged as a whole: a cloud may be defined there only.
    write_clouds(paths.cwd, {'dev': {'auth': password_auth()}})
    secure = write_clouds(paths.cwd, {'prod': {'auth': password_auth(username='prod-user')}}, 'secure.yaml')
    assert resolve_connection({'cloud': 'prod'}, paths.env()).username == 'prod-user'
    message = error_of({'cloud': 'test'}, paths.env())
    assert "cloud='test' is not a cloud defined in %s and %s (clouds defined there: dev, prod)." % (
        paths.cwd / 'clouds.yaml', secure) in message


def test_awx_openstack_credential_file(paths):
    # What AWX's OpenStack credential injector writes; it points OS_CLIENT_CONFIG_FILE at it.
    awx_file = paths.root / 'awx-private' / 'tmpabc123'
    awx_file.parent.mkdir()
    awx_file.write_text(yaml.safe_dump({'clouds': {'devstack': {
        'auth': {'auth_url': 'https://iam.eu-de.otc.t-systems.com:443/v3', 'username': 'ansible', 'password': PASSWORD,
                 'project_name': 'eu-de_demo', 'domain_name': 'OTC-EU-DE-00000000001000000001',
                 'project_domain_name': 'OTC-EU-DE-00000000001000000001'},
        'verify': False,
        'region_name': 'eu-de',
    }}}, default_flow_style=False, allow_unicode=True))
    cfg = resolve_connection({'cloud': 'devstack'}, paths.env(OS_CLIENT_CONFIG_FILE=str(awx_file)))
    assert cfg.auth_type == 'password'
    assert cfg.auth_url == 'https://iam.eu-de.otc.t-systems.com:443/v3'
    assert (cfg.username, cfg.password, cfg.project_name) == ('ansible', PASSWORD, 'eu-de_demo')
    assert cfg.user_domain_name == 'OTC-EU-DE-00000000001000000001'
    assert cfg.project_domain_name == 'OTC-EU-DE-00000000001000000001'
    assert (cfg.verify, cfg.region_name) == (False, 'eu-de')


def test_awx_file_with_user_domain_and_empty_values(paths):
    awx_file = write_clouds(paths.root, {'devstack': {
        'auth': {'auth_url': 'http://127.0.0.1:5000/v3', 'username': 'demo', 'password': PASSWORD,
                 'project_name': 'demo', 'domain_name': '', 'project_domain_name': 'Default', 'user_domain_name': 'Default'},
        'verify': True}}, 'awx.yaml')
    cfg = resolve_connection({'cloud': 'devstack'}, paths.env(OS_CLIENT_CONFIG_FILE=str(awx_file)))
    assert (cfg.user_domain_name, cfg.project_domain_name, cfg.domain_name) == ('Default', 'Default', None)
    assert cfg.verify is True


def test_cloud_entry_settings_and_aliases(paths):
    ca = paths.root / 'ca.pem'
    ca.write_text('x')
    auth = password_auth(project_id=None, project_domain_name='pd')
    auth['tenant_name'] = 'old-style'
    write_clouds(paths.cwd, {'dev': {'auth': auth, 'regions': [{'name': 'eu-nl', 'values': {}}, 'eu-de'], 'cacert': str(ca),
                                     'interface': 'internal', 'api_timeout': '7', 'verify': 'yes'}})
    cfg = resolve_connection({'cloud': 'dev'}, paths.env())
    assert cfg.project_name == 'old-style'
    assert cfg.region_name == 'eu-nl'
    assert cfg.verify == str(ca)
    assert (cfg.interface, cfg.api_timeout) == ('internal', 7.0)


def test_cloud_entry_unknown_auth_key_names_the_file(paths):
    path = write_clouds(paths.cwd, {'dev': {'auth': password_auth(application_credential_ref='x')}})
    message = error_of({'cloud': 'dev'}, paths.env())
    assert message.startswith("auth of cloud 'dev' (%s) has unknown key(s): application_credential_ref." % path)


def test_cloud_entry_errors_name_the_cloud_and_file(paths):
    path = write_clouds(paths.cwd, {'dev': {'auth': password_auth(user_domain_name=None)}})
    message = error_of({'cloud': 'dev'}, paths.env())
    assert message.startswith("auth.username of cloud 'dev' (%s) needs the user's domain" % path)


def test_cloud_entry_with_secure_yaml_label(paths):
    clouds = write_clouds(paths.cwd, {'dev': {'auth': {'username': 'u'}, 'auth_type': 'saml'}})
    secure = write_clouds(paths.cwd, {'dev': {'auth': {'password': PASSWORD}}}, 'secure.yaml')
    message = error_of({'cloud': 'dev'}, paths.env())
    assert message.startswith("auth_type of cloud 'dev' (%s + %s): 'saml' is not supported" % (clouds, secure))


def test_cloud_entry_profile_fills_auth_url(paths):
    # More profile cases: tests/unit/plugins/module_utils/test_clouds.py
    write_clouds(paths.cwd, {'otc': {'profile': 'otc', 'auth': password_auth(auth_url=None), 'region_name': 'eu-nl'}})
    cfg = resolve_connection({'cloud': 'otc'}, paths.env())
    assert (cfg.auth_url, cfg.region_name, cfg.warnings) == ('https://iam.eu-nl.otc.t-systems.com/v3', 'eu-nl', [])


# ---------------------------------------------------------------- ConnectionConfig


def test_repr_hides_secrets():
    cfg = ConnectionConfig(auth_type='aksk', password=PASSWORD, token=TOKEN, secret_key=SECRET_KEY, security_token='sts-1',
                           access_key='AK', project_id=PROJECT, warnings=['w'])
    text = repr(cfg)
    for secret in (PASSWORD, TOKEN, SECRET_KEY, 'sts-1'):
        assert secret not in text
    assert "password='********'" in text and 'user_id=None' in text
    assert "project_id='%s'" % PROJECT in text
    assert 'warnings' not in text
    assert sorted(cfg.secrets()) == sorted([PASSWORD, TOKEN, SECRET_KEY, 'sts-1'])


def test_cache_key_changes_with_credential_identity_and_scope():
    base = dict(auth_type='password', auth_url=IAM, username='alice', user_domain_name='d', password=PASSWORD,
                project_id=PROJECT, region_name='eu-de')
    key = ConnectionConfig(**base).cache_key()
    assert re.fullmatch('[0-9a-f]{64}', key)   # a sha256 hex digest: usable as a file name
    assert PASSWORD not in key and hashlib.sha256(PASSWORD.encode()).hexdigest() != key
    assert ConnectionConfig(**base).cache_key() == key
    for change in ({'password': PASSWORD + '2'}, {'username': 'bob'}, {'project_id': OTHER_PROJECT},
                   {'region_name': 'eu-nl'}, {'auth_url': 'https://iam.example.test/v3'}, {'interface': 'internal'}):
        changed = dict(base)
        changed.update(change)
        assert ConnectionConfig(**changed).cache_key() != key, change
    # Settings that do not change the token do not change the key.
    assert ConnectionConfig(retries=1, api_timeout=3, **base).cache_key() == key


def test_cache_key_uses_the_credential_of_the_auth_type():
    token_cfg = ConnectionConfig(auth_type='token', auth_url=IAM, token=TOKEN, project_id=PROJECT)
    assert ConnectionConfig(auth_type='token', auth_url=IAM, token=TOKEN + 'x', project_id=PROJECT).cache_key() != \
        token_cfg.cache_key()
    aksk = ConnectionConfig(auth_type='aksk', access_key='AK', secret_key=SECRET_KEY, project_id=PROJECT)
    assert ConnectionConfig(auth_type='aksk', access_key='AK', secret_key='other', project_id=PROJECT).cache_key() != \
        aksk.cache_key()


def test_default_cache_dir(tmp_path):
    assert default_cache_dir({'IMSCLOUD_SHARING_CACHE_DIR': str(tmp_path / 'c'), 'XDG_CACHE_HOME': '/x'}) == str(tmp_path / 'c')
    assert default_cache_dir({'XDG_CACHE_HOME': '/var/cache/me', 'HOME': '/home/me'}) == '/var/cache/me/imscloud.sharing'
    assert default_cache_dir({'XDG_CACHE_HOME': 'relative', 'HOME': '/home/me'}) == '/home/me/.cache/imscloud.sharing'
    assert default_cache_dir({'HOME': '/home/me'}) == '/home/me/.cache/imscloud.sharing'


def test_resolved_cache_dir_follows_environment(paths):
    environ = paths.env(IMSCLOUD_SHARING_CACHE_DIR=str(paths.root / 'tc'))
    assert resolve_connection({'auth': password_auth()}, environ).cache_dir == str(paths.root / 'tc')
