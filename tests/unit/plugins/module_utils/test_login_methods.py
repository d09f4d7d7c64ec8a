# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The login methods end to end inside the client: configuration (resolve_connection) -> IMSClient -> HTTP, with
IAM and IMS faked by responses: application credentials, password + TOTP passcode, AK/SK endpoint from IAM's
catalog, the request trace; and the bad input of each new option, refused before any request."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import responses

from ansible_collections.imscloud.sharing.plugins.module_utils.client import IMSClient
from ansible_collections.imscloud.sharing.plugins.module_utils.config import resolve_connection
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError, parse_error_body
from ansible_collections.imscloud.sharing.plugins.module_utils.trace import RequestTrace

# The secrets each method uses; none may appear in a message, a trace line or a cache file.
APP_SECRET, PASSWORD, PASSCODE, SECRET_KEY = 'app-cred-SECRET-value', 'pa55-word-SECRET', '493021', 'sk-SECRET-0123456789'
IAM = 'https://iam.example.test/v3'
TOKENS = IAM + '/auth/tokens'
IMS = 'https://ims.eu-de.example.test'
PROJECT, OTHER = '0123456789abcdef0123456789abcdef', 'fedcba9876543210fedcba9876543210'
IMAGE = 'd164b5df-1bc3-4c3f-893e-3e471fd16e64'
MEMBERS = '%s/v2/images/%s/members' % (IMS, IMAGE)


@pytest.fixture
def env(tmp_path):
    return {'HOME': str(tmp_path), 'IMSCLOUD_SHARING_CACHE_DIR': str(tmp_path / 'cache')}


@pytest.fixture
def mock():
    with responses.RequestsMock() as rsps:
        yield rsps


def token_answer(mock, token='tok-1', project=PROJECT, project_name='owner', left=86400.0, methods=('password',)):
    now = datetime.now(timezone.utc)
    body = {'token': {
        'methods': list(methods),
        'issued_at': now.strftime('%Y-%m-%dT%H:%M:%S.%fZ'),
        'expires_at': (now + timedelta(seconds=left)).strftime('%Y-%m-%dT%H:%M:%S.%fZ'),
        'user': {'id': 'u-1', 'name': 'alice', 'domain': {'id': 'd1', 'name': 'dom'}},
        'project': {'id': project, 'name': project_name, 'domain': {'id': 'd1', 'name': 'dom'}},
        'catalog': [{'type': 'image', 'name': 'glance', 'endpoints': [
            {'interface': 'public', 'region': 'eu-de', 'region_id': 'eu-de', 'url': IMS, 'id': 'e1'}]}],
    }}
    mock.add(responses.POST, TOKENS, json=body, status=201, headers={'X-Subject-Token': token})


def client(params, env, trace=None):
    return IMSClient(resolve_connection(params, env), sleep=lambda _s: None, rand=lambda: 0.5, trace=trace)


def error_of(params, env):
    with pytest.raises(IMSError) as caught:
        resolve_connection(params, env)
    for secret in (APP_SECRET, PASSWORD, PASSCODE, SECRET_KEY):
        assert secret not in str(caught.value)
    return str(caught.value)


def sent(call):
    return json.loads(call.request.body)


# ---------------------------------------------------------------- application credentials

def test_application_credential_by_id_signs_in_without_a_scope(mock, env):
    token_answer(mock, methods=('application_credential',))
    mock.add(responses.GET, MEMBERS, json={'members': []})
    auth = {'auth_url': IAM, 'application_credential_id': 'ac-1', 'application_credential_secret': APP_SECRET}
    ims = client({'auth': auth}, env)
    assert ims.config.auth_type == 'v3applicationcredential'
    assert ims.list_members(IMAGE) == []
    assert sent(mock.calls[0]) == {'auth': {'identity': {'methods': ['application_credential'], 'application_credential':
                                                         {'id': 'ac-1', 'secret': APP_SECRET}}}}
    assert ims.project_id == PROJECT


def test_application_credential_by_name_from_the_environment(mock, env):
    token_answer(mock)
    mock.add(responses.GET, MEMBERS, json={'members': []})
    env.update(OS_AUTH_URL=IAM, OS_AUTH_TYPE='v3applicationcredential', OS_APPLICATION_CREDENTIAL_NAME='ci',
               OS_APPLICATION_CREDENTIAL_SECRET=APP_SECRET, OS_USERNAME='alice', OS_USER_DOMAIN_NAME='Default')
    client({}, env).list_members(IMAGE)
    assert sent(mock.calls[0])['auth']['identity']['application_credential'] == {
        'name': 'ci', 'secret': APP_SECRET, 'user': {'name': 'alice', 'domain': {'name': 'Default'}}}


def test_application_credential_from_clouds_yaml_and_secure_yaml(env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'clouds.yaml').write_text(json.dumps({'clouds': {'lab': {
        'auth_type': 'v3applicationcredential', 'region_name': 'RegionOne',
        'auth': {'auth_url': IAM, 'application_credential_id': 'ac-1'}}}}))
    (tmp_path / 'secure.yaml').write_text(json.dumps({'clouds': {'lab': {'auth': {
        'application_credential_secret': APP_SECRET}}}}))
    config = resolve_connection({'cloud': 'lab'}, env)
    assert (config.auth_type, config.application_credential_id, config.application_credential_secret) == (
        'v3applicationcredential', 'ac-1', APP_SECRET)
    assert config.region_name == 'RegionOne'


def test_application_credential_project_must_be_the_tokens(mock, env):
    token_answer(mock, project=OTHER, project_name='consumer')
    auth = {'auth_url': IAM, 'application_credential_id': 'ac-1', 'application_credential_secret': APP_SECRET,
            'project_id': PROJECT}
    with pytest.raises(IMSError) as caught:
        client({'auth': auth, 'token_cache': False}, env).list_members(IMAGE)
    assert str(caught.value).startswith('the application credential id ac-1 is scoped to project %s (consumer), not to '
                                        'the project_id %s that is set' % (OTHER, PROJECT))
    assert len(mock.calls) == 1


def test_application_credential_tokens_are_cached_by_secret(mock, env):
    token_answer(mock, token='tok-a')
    mock.add(responses.GET, MEMBERS, json={'members': []})
    auth = {'auth_url': IAM, 'application_credential_id': 'ac-1', 'application_credential_secret': APP_SECRET}
    client({'auth': auth}, env).list_members(IMAGE)
    client({'auth': auth}, env).list_members(IMAGE)
    assert len([c for c in mock.calls if c.request.url == TOKENS]) == 1
    other = resolve_connection({'auth': dict(auth, application_credential_secret='another-secret')}, env)
    assert other.cache_key() != resolve_connection({'auth': auth}, env).cache_key()


@pytest.mark.parametrize('auth, expect', [
    ({'application_credential_secret': APP_SECRET, 'auth_url': IAM},
     'auth.application_credential_secret is set but the credential is not named: set auth.application_credential_id'),
    ({'application_credential_id': 'ac-1', 'auth_url': IAM},
     'auth.application_credential_id is set but auth.application_credential_secret (or OS_APPLICATION_CREDENTIAL_SECRET)'
     ' is not'),
    ({'application_credential_name': 'ci', 'application_credential_secret': APP_SECRET, 'auth_url': IAM},
     "auth_type 'v3applicationcredential' needs auth.username (or OS_USERNAME) or auth.user_id"),
    ({'application_credential_name': 'ci', 'application_credential_secret': APP_SECRET, 'auth_url': IAM,
      'username': 'alice'}, "auth.username needs the user's domain"),
    ({'application_credential_id': 'ac-1', 'application_credential_secret': APP_SECRET},
     "auth_type 'v3applicationcredential' needs auth.auth_url"),
    ({'application_credential_id': 'ac-1', 'application_credential_secret': APP_SECRET, 'auth_url': IAM,
      'password': PASSWORD}, 'conflicting credentials in module options'),
])
def test_application_credential_bad_input(env, auth, expect):
    assert expect in error_of({'auth': auth}, env)


def test_iam_code_beside_keystones_body_is_the_error_code():
    body = {'error': {'code': 401, 'title': 'Unauthorized', 'message': 'Account locked.'}, 'error_code': 'IAM.0061',
            'error_msg': 'Account locked.'}
    assert parse_error_body(body) == ('Account locked.', 'IAM.0061', None)
    assert parse_error_body({'error': {'code': 401, 'message': 'x'}}) == ('x', None, None)


# ---------------------------------------------------------------- password + TOTP passcode

def mfa_auth(**extra):
    return dict({'auth_url': IAM, 'user_id': 'u-1', 'password': PASSWORD, 'passcode': PASSCODE, 'project_id': PROJECT},
                **extra)


def test_passcode_sends_password_and_totp_and_one_login_serves_later_tasks(mock, env):
    token_answer(mock, methods=('password', 'totp'))
    mock.add(responses.GET, MEMBERS, json={'members': []})
    client({'auth': mfa_auth()}, env).list_members(IMAGE)
    identity = sent(mock.calls[0])['auth']['identity']
    assert identity['methods'] == ['password', 'totp']
    assert identity['totp'] == {'user': {'id': 'u-1', 'passcode': PASSCODE}}
    # a later task of the play, even with the next code: the cached token, no sign-in
    client({'auth': mfa_auth(passcode='111111')}, env).list_members(IMAGE)
    assert len([c for c in mock.calls if c.request.url == TOKENS]) == 1
    with open(str(env['IMSCLOUD_SHARING_CACHE_DIR']) + '/' + resolve_connection({'auth': mfa_auth()}, env).cache_key()
              + '.json', encoding='utf-8') as handle:
        assert PASSCODE not in handle.read()


def test_a_used_passcode_is_refused_before_iam_is_asked(mock, env):
    token_answer(mock, token='tok-old')
    mock.add(responses.GET, MEMBERS, status=401, json={'error_code': 'APIGW.0301', 'error_msg': 'revoked'})
    with pytest.raises(IMSError) as caught:
        client({'auth': mfa_auth()}, env).list_members(IMAGE)
    message = str(caught.value)
    assert message.startswith('a new token is needed, but auth.passcode was already used by this task to sign in')
    assert 'give the current code of the MFA device' in message
    assert len([c for c in mock.calls if c.request.url == TOKENS]) == 1
    # the next task with the same code: the cached token was rejected, and the code is spent
    with pytest.raises(IMSError) as caught:
        client({'auth': mfa_auth()}, env).list_members(IMAGE)
    assert 'was already used by an earlier task' in str(caught.value)
    assert len([c for c in mock.calls if c.request.url == TOKENS]) == 1


def test_passcode_from_os_passcode(mock, env):
    token_answer(mock)
    mock.add(responses.GET, MEMBERS, json={'members': []})
    env['OS_PASSCODE'] = PASSCODE
    auth = dict(mfa_auth())
    del auth['passcode']
    client({'auth': auth}, env).list_members(IMAGE)
    assert sent(mock.calls[0])['auth']['identity']['totp']['user']['passcode'] == PASSCODE


@pytest.mark.parametrize('auth, expect', [
    (mfa_auth(passcode='12 34 56'), 'auth.passcode must be the 6-digit code of the virtual MFA device'),
    (dict(mfa_auth(user_id=None), username='alice', user_domain_name='dom'),
     "auth.passcode needs auth.user_id (or OS_USER_ID): IAM's totp method names the user by id (auth.username is not "
     'enough)'),
    ({'auth_url': IAM, 'token': 'a-token', 'passcode': PASSCODE, 'project_id': PROJECT},
     "auth.passcode is the TOTP code of a password sign-in; it cannot be used with auth_type 'token'"),
])
def test_passcode_bad_input(env, auth, expect):
    auth = dict((key, value) for key, value in auth.items() if value is not None)
    assert expect in error_of({'auth': auth}, env)


def test_an_os_passcode_left_in_the_environment_does_not_break_a_token_login(env):
    env['OS_PASSCODE'] = PASSCODE
    config = resolve_connection({'auth': {'auth_url': IAM, 'token': 'a-token', 'project_id': PROJECT}}, env)
    assert config.passcode is None


def test_new_secrets_are_masked_in_the_configuration(env):
    config = resolve_connection({'auth': mfa_auth()}, env)
    assert PASSCODE in config.secrets() and PASSCODE not in repr(config)
    app = resolve_connection({'auth': {'auth_url': IAM, 'application_credential_id': 'a',
                                       'application_credential_secret': APP_SECRET}}, env)
    assert APP_SECRET in app.secrets() and APP_SECRET not in repr(app)


# ---------------------------------------------------------------- AK/SK: the endpoint from IAM's catalog

def aksk(**extra):
    return dict({'access_key': 'AK-1', 'secret_key': SECRET_KEY, 'project_id': PROJECT}, **extra)


def catalog_answer(mock, url=IAM + '/auth/catalog', status=200):
    body = {'catalog': [{'type': 'image', 'name': 'glance', 'endpoints': [
        {'interface': 'public', 'region': 'eu-de', 'region_id': 'eu-de', 'url': IMS + '/', 'id': 'e1'},
        {'interface': 'public', 'region': 'eu-nl', 'region_id': 'eu-nl', 'url': 'https://ims.nl.example.test'}]}],
        'links': {'self': url}}
    mock.add(responses.GET, url, json=body if status == 200 else {'error_code': 'APIGW.0301'}, status=status)


def test_aksk_endpoint_from_the_signed_catalog_request_and_cached(mock, env):
    catalog_answer(mock)
    mock.add(responses.GET, MEMBERS, json={'members': []})
    params = {'auth': aksk(auth_url=IAM), 'region_name': 'eu-de'}
    client(params, env).list_members(IMAGE)
    request = mock.calls[0].request
    assert request.url == IAM + '/auth/catalog'
    assert request.headers['Authorization'].startswith('SDK-HMAC-SHA256 Access=AK-1, ')
    assert request.headers['X-Project-Id'] == PROJECT
    assert mock.calls[1].request.url == MEMBERS
    client(params, env).list_members(IMAGE)
    assert [c.request.url for c in mock.calls].count(IAM + '/auth/catalog') == 1
    # another region is another cache entry
    mock.add(responses.GET, 'https://ims.nl.example.test/v2/images/%s/members' % IMAGE, json={'members': []})
    client(dict(params, region_name='eu-nl'), env).list_members(IMAGE)
    assert [c.request.url for c in mock.calls].count(IAM + '/auth/catalog') == 2


def test_aksk_endpoint_falls_back_to_the_table(mock, env):
    catalog_answer(mock, url='https://iam.eu-de.otc.t-systems.com/v3/auth/catalog', status=403)
    mock.add(responses.GET, 'https://ims.eu-de.otc.t-systems.com/v2/images/%s/members' % IMAGE, json={'members': []})
    ims = client({'auth': aksk(), 'region_name': 'eu-de', 'retries': 0}, env)
    ims.list_members(IMAGE)
    assert ims.endpoint == 'https://ims.eu-de.otc.t-systems.com'


def test_aksk_unknown_region_names_the_catalog_problem_and_the_known_regions(mock, env):
    catalog_answer(mock, status=404)
    with pytest.raises(IMSError) as caught:
        client({'auth': aksk(auth_url=IAM), 'region_name': 'xx-moon-1', 'retries': 0}, env).list_members(IMAGE)
    message = str(caught.value)
    assert message.startswith("IAM's catalog could not tell the IMS endpoint of region 'xx-moon-1' (")
    assert "region 'xx-moon-1' is not a known region" in message and 'Open Telekom Cloud: eu-de, eu-nl' in message
    assert SECRET_KEY not in message


def test_os_ims_endpoint_is_the_endpoint(env):
    env['OS_IMS_ENDPOINT'] = 'https://ims.proxy.example.test/'
    assert resolve_connection({'auth': aksk()}, env).ims_endpoint == 'https://ims.proxy.example.test'
    env['OS_IMS_ENDPOINT'] = 'ims.proxy.example.test'
    assert "OS_IMS_ENDPOINT must be an http:// or https:// URL" in error_of({'auth': aksk()}, env)
    assert resolve_connection({'auth': aksk(), 'ims_endpoint': 'https://x.test'}, env).ims_endpoint == 'https://x.test'


# ---------------------------------------------------------------- the request trace

def test_trace_of_a_client(mock, env):
    token_answer(mock)
    mock.add(responses.GET, MEMBERS, status=503, headers={'X-Request-Id': 'r-1'})
    mock.add(responses.GET, MEMBERS, json={'members': []}, headers={'X-Request-Id': 'r-2'})
    trace = RequestTrace(True)
    auth = {'auth_url': IAM, 'username': 'alice', 'password': PASSWORD, 'user_domain_name': 'dom', 'project_id': PROJECT}
    client({'auth': auth}, env, trace).list_members(IMAGE)
    lines = trace.lines
    assert [line.split(' ')[1:3] for line in lines] == [['POST', TOKENS + ',']] + [['GET', MEMBERS + ',']] * 2
    assert lines[0].endswith('token none') and '-> 201' in lines[0]
    assert '-> 503' in lines[1] and 'request id r-1' in lines[1] and lines[1].endswith('token new')
    assert 'retry 1 after 503' in lines[2] and 'request id r-2' in lines[2]
    mock.add(responses.GET, MEMBERS, json={'members': []})
    trace2 = RequestTrace(True)
    client({'auth': auth}, env, trace2).list_members(IMAGE)
    assert len(trace2.lines) == 1 and trace2.lines[0].endswith('token cache')
    assert all(PASSWORD not in line and 'tok-1' not in line for line in lines + trace2.lines)
