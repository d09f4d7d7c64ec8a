# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sign-in methods of issue 17: application credentials (Keystone), password + virtual MFA (OTC IAM), and the IAM
401 bodies for a wrong password, a wrong domain and a locked user."""

import base64
import time

import pytest

from emutest import DOMAIN, DOMAIN_ID, PROJECTS, USERS, password_auth, totp_code
from harness import EmulatorError

OWNER = USERS['owner-user']
CREDENTIAL = OWNER['application_credentials'][0]
MFA = USERS['mfa-user']
SECRET = MFA['mfa']['totp_secret']
WRONG = {'error': {'code': 401, 'title': 'Unauthorized', 'message': 'The username or password is wrong.'}}


def app_credential_auth(**credential):
    return {'auth': {'identity': {'methods': ['application_credential'], 'application_credential': credential}}}


def mfa_auth(passcode, user_id=None):
    body = password_auth(MFA['name'], MFA['password'], {'project': {'id': PROJECTS['owner']}})
    body['auth']['identity']['methods'] = ['password', 'totp']
    body['auth']['identity']['totp'] = {'user': {'id': user_id or MFA['id'], 'passcode': passcode}}
    return body


@pytest.fixture
def mid_step(cloud):
    """Put the emulator's clock in the middle of a 30 s step; returns a function giving the emulator's time now."""
    offset = 15.0 - time.time() % 30
    cloud.emulator.configure(clock_offset=offset)
    return lambda: time.time() + offset


def test_totp_helper_matches_the_rfc_6238_vectors():
    secret = base64.b32encode(b'12345678901234567890').decode()
    assert [totp_code(secret, t) for t in (59, 1111111109, 1234567890)] == ['287082', '081804', '005924']


@pytest.mark.parametrize('credential', [
    {'id': CREDENTIAL['id'], 'secret': CREDENTIAL['secret']},
    {'name': CREDENTIAL['name'], 'secret': CREDENTIAL['secret'], 'user': {'name': OWNER['name'], 'domain': {'name': DOMAIN}}},
    {'name': CREDENTIAL['name'], 'secret': CREDENTIAL['secret'], 'user': {'name': OWNER['name'], 'domain': {'id': DOMAIN_ID}}},
])
def test_application_credential_token_is_scoped_by_the_credential(cloud, credential):
    issued = cloud.issue(app_credential_auth(**credential))
    assert issued.status_code == 201, issued.text
    token = issued.json()['token']
    assert token['methods'] == ['application_credential']
    assert token['project']['id'] == PROJECTS['owner'] == PROJECTS[CREDENTIAL['project'].split('_', 1)[1]]
    assert token['application_credential'] == {'id': CREDENTIAL['id'], 'name': CREDENTIAL['name'], 'restricted': True}
    assert cloud.get('/v2/images', token=issued.headers['X-Subject-Token']).status_code == 200


def test_application_credential_by_name_and_user_id(cloud):
    user_id = cloud.issue(password_auth(OWNER['name'], OWNER['password'], None)).json()['token']['user']['id']
    issued = cloud.issue(app_credential_auth(name=CREDENTIAL['name'], secret=CREDENTIAL['secret'], user={'id': user_id}))
    assert issued.status_code == 201, issued.text


@pytest.mark.parametrize('credential', [
    {'id': CREDENTIAL['id'], 'secret': 'wrong-secret'},
    {'id': 'f' * 32, 'secret': CREDENTIAL['secret']},
    {'name': 'no-such-credential', 'secret': CREDENTIAL['secret'], 'user': {'name': OWNER['name'], 'domain': {'name': DOMAIN}}},
    {'name': CREDENTIAL['name'], 'secret': CREDENTIAL['secret'], 'user': {'name': 'consumer-user', 'domain': {'name': DOMAIN}}},
])
def test_application_credential_refusals(cloud, credential):
    refused = cloud.issue(app_credential_auth(**credential))
    assert refused.status_code == 401 and 'X-Subject-Token' not in refused.headers
    assert refused.json()['error']['code'] == 401


def test_application_credential_cannot_request_a_scope(cloud):
    body = app_credential_auth(id=CREDENTIAL['id'], secret=CREDENTIAL['secret'])
    body['auth']['scope'] = {'project': {'id': PROJECTS['owner']}}
    refused = cloud.issue(body)
    assert refused.status_code == 401
    assert refused.json()['error']['message'] == 'Application credentials cannot request a scope.'
    malformed = cloud.issue(app_credential_auth(id=CREDENTIAL['id']))
    assert malformed.status_code == 400


def test_mfa_user_needs_a_passcode(cloud):
    refused = cloud.issue(password_auth(MFA['name'], MFA['password'], {'project': {'id': PROJECTS['owner']}}))
    assert refused.status_code == 401
    body = refused.json()
    assert body['error_code'] == 'IAM.0001' and body['error']['code'] == 401
    assert '"totp"' in body['error']['message'] and MFA['id'] in body['error']['message']
    assert cloud.emulator.stats()['tokens_issued'] == 0


def test_password_and_totp_sign_in_and_each_passcode_works_once(cloud, mid_step):
    code = totp_code(SECRET, mid_step())
    issued = cloud.issue(mfa_auth(code))
    assert issued.status_code == 201, issued.text
    token = issued.json()['token']
    assert token['methods'] == ['password', 'totp'] and token['mfa_authn_at'].endswith('Z')
    assert cloud.get('/v2/images', token=issued.headers['X-Subject-Token']).status_code == 200
    replay = cloud.issue(mfa_auth(code))
    assert replay.status_code == 401
    assert replay.json()['error_code'] == 'IAM.1061' and replay.json()['error']['message'] == 'Invalid TOTP passcode.'


def test_totp_accepts_one_step_of_drift_either_way(cloud, mid_step):
    for drift in (-30, 30):
        assert cloud.issue(mfa_auth(totp_code(SECRET, mid_step() + drift))).status_code == 201
    for drift in (-60, 60):
        refused = cloud.issue(mfa_auth(totp_code(SECRET, mid_step() + drift)))
        assert refused.status_code == 401 and refused.json()['error_code'] == 'IAM.1061'


@pytest.mark.parametrize('passcode, user_id', [
    ('000000', None), ('12345', None), ('abcdef', None), ('CURRENT', 'f' * 32),
])
def test_bad_passcodes_are_refused(cloud, mid_step, passcode, user_id):
    if passcode == 'CURRENT':
        passcode = totp_code(SECRET, mid_step())
    elif passcode == '000000' and totp_code(SECRET, mid_step()) == '000000':
        pytest.skip('the current passcode happens to be 000000')
    refused = cloud.issue(mfa_auth(passcode, user_id))
    assert refused.status_code == 401 and refused.json()['error_code'] == 'IAM.1061'


def test_totp_without_the_user_part_is_400(cloud):
    body = mfa_auth('123456')
    body['auth']['identity']['totp'] = {'passcode': '123456'}
    assert cloud.issue(body).status_code == 400


@pytest.mark.parametrize('body', [
    password_auth(OWNER['name'], 'wrong-password', {'project': {'id': PROJECTS['owner']}}),
    password_auth('nobody', 'x', {'project': {'id': PROJECTS['owner']}}),
    {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
        'name': OWNER['name'], 'password': OWNER['password'], 'domain': {'name': 'default'}}}}}},
])
def test_wrong_password_user_or_domain_get_iams_401(cloud, body):
    refused = cloud.issue(body)
    assert refused.status_code == 401
    assert refused.json() == WRONG


def test_locked_user_gets_iam_0061_even_with_the_right_password(cloud):
    locked = USERS['locked-user']
    refused = cloud.issue(password_auth(locked['name'], locked['password'], {'project': {'id': PROJECTS['owner']}}))
    assert refused.status_code == 401
    assert refused.json() == {'error': {'code': 401, 'title': 'Unauthorized', 'message': 'Account locked.'},
                              'error_code': 'IAM.0061', 'error_msg': 'Account locked.'}


def test_glance_mode_answers_like_keystone(cloud):
    cloud.emulator.configure(mode='glance')
    wrong = cloud.issue(password_auth(OWNER['name'], 'wrong-password', {'project': {'id': PROJECTS['owner']}}))
    assert wrong.json() == {'error': {'code': 401, 'title': 'Unauthorized',
                                      'message': 'The request you have made requires authentication.'}}
    mfa = cloud.issue(password_auth(MFA['name'], MFA['password'], {'project': {'id': PROJECTS['owner']}}))
    assert mfa.status_code == 401 and mfa.json()['error']['message'] == 'Additional authentications steps required.'


def test_seed_rejects_bad_login_entries(cloud):
    base = {'domains': [{'name': 'd'}], 'projects': [{'id': 'b' * 32, 'name': 'p', 'domain': 'd'}]}
    bad_users = [
        {'name': 'u', 'password': 'pw', 'domain': 'd', 'projects': ['p'], 'mfa': {'totp_secret': 'not base32!'}},
        {'name': 'u', 'password': 'pw', 'domain': 'd', 'projects': ['p'], 'mfa': 'yes'},
        {'name': 'u', 'password': 'pw', 'domain': 'd', 'projects': [], 'application_credentials': [
            {'name': 'c', 'secret': 's', 'project': 'p'}]},
        {'name': 'u', 'password': 'pw', 'domain': 'd', 'projects': ['p'], 'application_credentials': [{'name': 'c'}]},
    ]
    for user in bad_users:
        with pytest.raises(EmulatorError, match='400'):
            cloud.emulator.reset(dict(base, users=[user]))
