# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM: POST /v3/auth/tokens, token use on IMS, lifetime, revocation, rate limit, clock offset."""

import time
from datetime import datetime, timezone

import requests

from emutest import DOMAIN, DOMAIN_ID, PROJECT_NAMES, PROJECTS, USERS, password_auth

OWNER = USERS['owner-user']


def parse_ts(text):
    assert text.endswith('Z')
    return datetime.strptime(text, '%Y-%m-%dT%H:%M:%S.%fZ')


def owner_auth(scope):
    return password_auth(OWNER['name'], OWNER['password'], scope)


def test_password_token_scoped_to_project_id(cloud):
    response = cloud.issue(owner_auth({'project': {'id': PROJECTS['owner']}}))
    assert response.status_code == 201
    token = response.headers['X-Subject-Token']
    assert token.startswith('MII') and len(token) > 100
    body = response.json()['token']
    assert body['methods'] == ['password']
    assert body['project'] == {'id': PROJECTS['owner'], 'name': PROJECT_NAMES['owner'], 'domain': {'id': DOMAIN_ID, 'name': DOMAIN}}
    assert body['user']['name'] == 'owner-user' and body['user']['domain'] == {'id': DOMAIN_ID, 'name': DOMAIN}
    assert 'domain' not in body
    lifetime = parse_ts(body['expires_at']) - parse_ts(body['issued_at'])
    assert lifetime.total_seconds() == 86400
    services = dict((entry['type'], entry) for entry in body['catalog'])
    image = services['image']
    assert image['name'] == 'glance'
    assert image['endpoints'] == [dict(image['endpoints'][0], interface='public', region='eu-de', region_id='eu-de', url=cloud.url)]
    assert services['identity']['endpoints'][0]['url'] == cloud.url + '/v3'
    # The token works on IMS.
    assert cloud.get('/v2/images', token=token).status_code == 200


def test_project_scope_by_name_and_domain(cloud):
    for domain in ({'name': DOMAIN}, {'id': DOMAIN_ID}):
        response = cloud.issue(owner_auth({'project': {'name': PROJECT_NAMES['owner'], 'domain': domain}}))
        assert response.status_code == 201, response.text
        assert response.json()['token']['project']['id'] == PROJECTS['owner']


def test_project_name_without_domain_is_looked_up_in_the_users_domain(cloud):
    """The OTC IAM doc allows scope.project.name alone; the emulator takes the authenticating user's domain."""
    response = cloud.issue(owner_auth({'project': {'name': PROJECT_NAMES['owner']}}))
    assert response.status_code == 201, response.text
    project = response.json()['token']['project']
    assert project['id'] == PROJECTS['owner'] and project['domain']['id'] == DOMAIN_ID
    # A project of the domain that is not the user's is still refused.
    assert cloud.issue(owner_auth({'project': {'name': PROJECT_NAMES['consumer']}})).status_code == 401


def test_user_name_without_domain_is_rejected(cloud):
    body = owner_auth({'project': {'id': PROJECTS['owner']}})
    del body['auth']['identity']['password']['user']['domain']
    response = cloud.issue(body)
    assert response.status_code == 400
    assert response.json()['error']['code'] == 400


def test_user_by_id(cloud):
    user_id = cloud.issue(owner_auth({'project': {'id': PROJECTS['owner']}})).json()['token']['user']['id']
    body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {'id': user_id, 'password': OWNER['password']}}},
                     'scope': {'project': {'id': PROJECTS['owner']}}}}
    assert cloud.issue(body).status_code == 201


def test_nocatalog_suppresses_the_catalog(cloud):
    response = cloud.issue(owner_auth({'project': {'id': PROJECTS['owner']}}), params={'nocatalog': 'true'})
    assert response.status_code == 201
    assert 'catalog' not in response.json()['token']


def test_token_method_issues_a_new_token(cloud):
    first = cloud.token('owner')
    body = {'auth': {'identity': {'methods': ['token'], 'token': {'id': first}}, 'scope': {'project': {'id': PROJECTS['owner']}}}}
    response = cloud.issue(body)
    assert response.status_code == 201
    assert response.json()['token']['methods'] == ['token']
    assert response.headers['X-Subject-Token'] != first
    # The token may also come in X-Auth-Token, as gophertelekomcloud sends it.
    body['auth']['identity']['token'] = {}
    assert cloud.issue(body, headers={'X-Auth-Token': first}).status_code == 201
    body['auth']['identity']['token'] = {'id': 'MIIinvalid'}
    assert cloud.issue(body).status_code == 401


def test_domain_scope_is_refused_by_ims(cloud):
    response = cloud.issue(owner_auth({'domain': {'name': DOMAIN}}))
    assert response.status_code == 201
    body = response.json()['token']
    assert body['domain'] == {'id': DOMAIN_ID, 'name': DOMAIN} and 'project' not in body
    token = response.headers['X-Subject-Token']
    refused = cloud.get('/v2/images', token=token)
    assert refused.status_code == 400
    assert refused.json()['error']['code'] == 'IMG.0030'
    # Project wins when both are given.
    both = cloud.issue(owner_auth({'domain': {'name': DOMAIN}, 'project': {'id': PROJECTS['owner']}}))
    assert both.json()['token']['project']['id'] == PROJECTS['owner']


def test_unscoped_token_is_refused_by_ims_in_glance_mode_with_403(cloud):
    cloud.emulator.configure(mode='glance')
    body = owner_auth(None)
    del body['auth']['scope']
    token = cloud.issue(body).headers['X-Subject-Token']
    refused = cloud.get('/v2/images', token=token)
    assert refused.status_code == 403
    assert set(refused.json()) == {'code', 'message', 'title'}


def test_unauthorized_bodies_are_keystone_shaped(cloud):
    # A wrong password or user: see test_login_methods (OTC's "The username or password is wrong.").
    cases = [
        owner_auth({'project': {'id': PROJECTS['consumer']}}),  # not a project of the user
        owner_auth({'project': {'id': 'f' * 32}}),
    ]
    for body in cases:
        response = cloud.issue(body)
        assert response.status_code == 401
        assert response.json() == {'error': {'code': 401, 'title': 'Unauthorized',
                                             'message': 'The request you have made requires authentication.'}}
        assert 'X-Subject-Token' not in response.headers


def test_malformed_token_requests_are_400(cloud):
    for body in ({}, {'auth': {}}, {'auth': {'identity': {'methods': ['password'], 'password': {}}}}):
        response = cloud.issue(body)
        assert response.status_code == 400
        assert response.json()['error']['title'] == 'Bad Request'
    raw = requests.post(cloud.url + '/v3/auth/tokens', data=b'{not json', headers={'Content-Type': 'application/json'}, timeout=10)
    assert raw.status_code == 400


def test_missing_and_bad_tokens_get_gateway_401(cloud):
    for token in (None, 'MIIgarbage'):
        headers = {'Accept': 'application/json'}
        if token:
            headers['X-Auth-Token'] = token
        response = requests.get(cloud.url + '/v2/images', headers=headers, timeout=10)
        assert response.status_code == 401
        body = response.json()
        assert set(body) == {'error_code', 'error_msg', 'request_id'}
        assert body['error_code'] == 'APIGW.0301'
        assert body['request_id'] == response.headers['X-Request-Id']
    assert 'x-auth-token not found' in requests.post(cloud.url + '/v1/cloudimages/members', json={}, timeout=10).json()['error_msg']


def test_glance_mode_401_is_webob_with_keystone_challenge(cloud):
    cloud.emulator.configure(mode='glance')
    response = requests.get(cloud.url + '/v2/images', headers={'Accept': 'application/json', 'X-Auth-Token': 'bad'}, timeout=10)
    assert response.status_code == 401
    assert response.headers['WWW-Authenticate'] == 'Keystone uri="%s/v3"' % cloud.url
    assert set(response.json()) == {'code', 'message', 'title'}
    catalog = cloud.issue(owner_auth({'project': {'id': PROJECTS['owner']}})).json()['token']['catalog']
    image = [entry for entry in catalog if entry['type'] == 'image'][0]
    assert sorted(e['interface'] for e in image['endpoints']) == ['admin', 'internal', 'public']


def test_token_lifetime_setting(cloud):
    cloud.emulator.configure(token_lifetime=120)
    body = cloud.issue(owner_auth({'project': {'id': PROJECTS['owner']}})).json()['token']
    assert (parse_ts(body['expires_at']) - parse_ts(body['issued_at'])).total_seconds() == 120


def test_token_expires_in_real_time(cloud):
    cloud.emulator.configure(token_lifetime=1.0)
    token = cloud.token('owner')
    assert cloud.get('/v2/images', token=token).status_code == 200
    time.sleep(1.1)
    response = cloud.get('/v2/images', token=token)
    assert response.status_code == 401
    assert response.json()['error_code'] == 'APIGW.0301'
    assert 'expired' in response.json()['error_msg']


def test_clock_offset_moves_token_times_and_expires_tokens(cloud):
    cloud.emulator.configure(token_lifetime=600, clock_offset=-3600)
    response = cloud.issue(owner_auth({'project': {'id': PROJECTS['owner']}}))
    issued = parse_ts(response.json()['token']['issued_at'])
    skew = (datetime.now(timezone.utc).replace(tzinfo=None) - issued).total_seconds()
    assert 3590 < skew < 3610
    token = response.headers['X-Subject-Token']
    assert cloud.get('/v2/images', token=token).status_code == 200
    cloud.emulator.configure(clock_offset=0)  # the emulator's clock jumps an hour ahead: the token is past its expiry
    expired = cloud.get('/v2/images', token=token)
    assert expired.status_code == 401 and expired.json()['error_code'] == 'APIGW.0301'


def test_revocation_of_one_user_and_of_all(cloud):
    owner, consumer = cloud.token('owner'), cloud.token('consumer')
    assert cloud.emulator.revoke_tokens(user='consumer-user') == {'revoked': 1}
    assert cloud.get('/v2/images', token=consumer).status_code == 401
    assert cloud.get('/v2/images', token=owner).status_code == 200
    cloud.tokens.clear()
    assert cloud.get('/v2/images', who='consumer').status_code == 200  # a new token works
    cloud.emulator.revoke_tokens()
    revoked = cloud.get('/v2/images', token=owner)
    assert revoked.status_code == 401 and 'revoked' in revoked.json()['error_msg']


def test_per_user_token_rate_limit(cloud):
    cloud.emulator.configure(token_rate_limit={'per_user': 2, 'window': 30})
    body = owner_auth({'project': {'id': PROJECTS['owner']}})
    assert [cloud.issue(body).status_code for _attempt in range(2)] == [201, 201]
    throttled = cloud.issue(body)
    assert throttled.status_code == 429
    assert throttled.json()['error_code'] == 'IAM.0012'
    assert 'Threshold: 2 times per 30 seconds' in throttled.json()['error_msg']
    assert 1 <= int(throttled.headers['Retry-After']) <= 30
    other = USERS['other-user']
    assert cloud.issue(password_auth(other['name'], other['password'], {'project': {'id': PROJECTS['other']}})).status_code == 201
    stats = cloud.emulator.stats()
    assert stats['token_requests'] == 4 and stats['tokens_issued'] == 3
