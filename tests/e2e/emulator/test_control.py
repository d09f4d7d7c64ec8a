# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Control API: faults, latency, stats, reset, state and settings validation."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from emutest import DEMO_SEED, IMAGES, JOB_DURATION, PROJECTS, USERS

from harness import EmulatorError

A = IMAGES['shareable-01']
MEMBERS_ROUTE = 'GET /v2/images/{image_id}/members'
MEMBERS = '/v2/images/%s/members' % A


def test_fault_sequence_with_retry_after(cloud):
    cloud.token('owner')
    cloud.emulator.set_faults([{'route': MEMBERS_ROUTE, 'sequence': ['429', '500', '503', 'ok', '500'], 'retry_after': 2}])
    responses = [cloud.get(MEMBERS) for _attempt in range(6)]
    assert [r.status_code for r in responses] == [429, 500, 503, 200, 500, 200]
    throttled = responses[0]
    assert throttled.headers['Retry-After'] == '2'
    assert throttled.json()['error_code'] == 'APIGW.0308'
    assert set(responses[1].json()) == {'code', 'message', 'title'}  # native routes fail like Glance
    assert cloud.get('/v2/images/' + A).status_code == 200  # other routes are untouched
    stats = cloud.emulator.stats()
    assert stats['requests'][MEMBERS_ROUTE] == 6
    assert stats['faults_injected']['total'] == 4
    assert stats['faults_injected']['by_route'] == {MEMBERS_ROUTE: {'429': 1, '500': 2, '503': 1}}
    assert stats['responses'][MEMBERS_ROUTE] == {'200': 2, '429': 1, '500': 2, '503': 1}
    assert cloud.emulator.control('GET', '/faults')['rules'][0]['injected'] == 4


def test_batch_and_iam_fault_shapes(cloud):
    cloud.token('owner')
    cloud.emulator.set_faults([{'route': 'POST /v1/cloudimages/members', 'sequence': ['500', '429'], 'retry_after': 0},
                               {'route': 'IAM', 'sequence': ['429', '503']}])
    payload = {'images': [A], 'projects': [PROJECTS['consumer']]}
    failed = cloud.call('POST', '/v1/cloudimages/members', json=payload)
    assert failed.status_code == 500 and failed.json()['error']['code'] == 'IMG.0014'
    throttled = cloud.call('POST', '/v1/cloudimages/members', json=payload)
    assert throttled.status_code == 429 and throttled.headers['Retry-After'] == '0'
    user = USERS['consumer-user']
    body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
        'name': user['name'], 'password': user['password'], 'domain': {'name': 'imscloud-test'}}}},
        'scope': {'project': {'id': PROJECTS['consumer']}}}}
    iam_throttled = cloud.issue(body)
    assert iam_throttled.status_code == 429 and iam_throttled.json()['error_code'] == 'IAM.0012'
    assert 'Retry-After' in iam_throttled.headers
    assert cloud.issue(body).status_code == 503
    assert cloud.issue(body).status_code == 201


def test_dropped_connection(cloud):
    cloud.token('owner')
    cloud.emulator.set_faults([{'route': '/v2/images/{image_id}/members', 'sequence': ['drop']}])
    with pytest.raises(requests.exceptions.ConnectionError):
        cloud.get(MEMBERS)
    assert cloud.get(MEMBERS).status_code == 200
    stats = cloud.emulator.stats()
    assert stats['faults_injected']['by_kind'] == {'drop': 1}
    assert stats['requests'][MEMBERS_ROUTE] == 2


def test_html200_faults_answer_a_login_page_before_or_after_the_cloud(cloud):
    """html200: the proxy answers, the cloud never sees the request; html200-processed: the job is created, only the
    answer is the proxy's page."""
    cloud.token('owner')
    cloud.emulator.set_faults([{'route': 'POST /v1/cloudimages/members', 'sequence': ['html200', 'html200-processed']}])
    payload = {'images': [A], 'projects': [PROJECTS['consumer']]}
    intercepted = cloud.call('POST', '/v1/cloudimages/members', json=payload)
    assert intercepted.status_code == 200 and intercepted.headers['Content-Type'].startswith('text/html')
    assert '<form' in intercepted.text
    with pytest.raises(ValueError):
        intercepted.json()
    assert cloud.emulator.state()['jobs'] == {}
    processed = cloud.call('POST', '/v1/cloudimages/members', json=payload)
    assert processed.status_code == 200 and processed.text == intercepted.text
    (job,) = cloud.emulator.state()['jobs'].values()
    assert job['job_type'] == 'imsAddImageMembersJob' and job['request']['images'] == [A]
    stats = cloud.emulator.stats()
    assert stats['faults_injected']['by_kind'] == {'html200': 1, 'html200-processed': 1}
    assert stats['responses']['POST /v1/cloudimages/members'] == {'200': 2}


def test_delay_fault(cloud):
    cloud.token('owner')
    cloud.emulator.reset_stats()
    cloud.emulator.set_faults([{'route': 'IMS', 'sequence': ['delay:0.4', 'ok']}])
    slow = cloud.get(MEMBERS)
    fast = cloud.get(MEMBERS)
    assert slow.status_code == fast.status_code == 200
    stats = cloud.emulator.stats()
    # The first request waited the injected 0.4 s, the second none: one delayed request of the two.
    assert stats['requests'][MEMBERS_ROUTE] == 2
    assert stats['latency']['by_route'] == {MEMBERS_ROUTE: {'delayed': 1, 'seconds': 0.4, 'min': 0.4, 'max': 0.4}}
    assert stats['faults_injected']['by_route'] == {MEMBERS_ROUTE: {'delay': 1}}


def fault_pattern(cloud, rule, count=40):
    cloud.emulator.set_faults([rule])
    return [cloud.get(MEMBERS).status_code for _attempt in range(count)]


def test_probability_faults_are_seeded(cloud):
    cloud.token('owner')
    rule = {'route': MEMBERS_ROUTE, 'probability': 0.5, 'kinds': ['503', '500'], 'seed': 42}
    first = fault_pattern(cloud, rule)
    second = fault_pattern(cloud, rule)
    assert first == second
    assert 5 < sum(1 for code in first if code != 200) < 35
    assert set(first) == {200, 500, 503}
    assert set(fault_pattern(cloud, dict(rule, probability=0.0), 10)) == {200}
    assert set(fault_pattern(cloud, dict(rule, probability=1.0, kinds=['503']), 10)) == {503}
    capped = fault_pattern(cloud, dict(rule, probability=1.0, kinds=['503'], max_faults=3), 10)
    assert capped == [503] * 3 + [200] * 7


def test_clear_faults(cloud):
    cloud.token('owner')
    cloud.emulator.set_faults([{'route': '*', 'probability': 1.0, 'kinds': ['500']}])
    assert cloud.get(MEMBERS).status_code == 500
    cloud.emulator.clear_faults()
    assert cloud.get(MEMBERS).status_code == 200


@pytest.mark.parametrize('rules', [
    [{'route': 'GET /nowhere', 'sequence': ['500']}],
    [{'route': '*', 'sequence': ['418']}],
    [{'route': '*'}],
    [{'route': '*', 'sequence': ['500'], 'probability': 0.5}],
    [{'route': '*', 'probability': 2}],
    [{'route': '*', 'probability': 0.5, 'kinds': ['ok']}],
    [{'route': '*', 'sequence': ['500'], 'retry_after': -1}],
    [{'route': '*', 'sequence': ['500:3']}],
    [{'route': '*', 'sequence': ['500'], 'colour': 'red'}],
])
def test_bad_fault_rules_are_rejected(cloud, rules):
    with pytest.raises(EmulatorError, match='400'):
        cloud.emulator.set_faults(rules)


def test_latency_profile(cloud):
    cloud.emulator.configure(latency={'IAM': {'fixed': 0.3, 'jitter': 0.0}, MEMBERS_ROUTE: {'fixed': 0.3, 'jitter': 0.1}})
    cloud.token('owner')
    assert cloud.get('/v2/images/' + A).status_code == 200
    for _attempt in range(3):
        assert cloud.get(MEMBERS).status_code == 200
    latency = cloud.emulator.stats()['latency']['by_route']
    # The most specific selector wins: the token request gets the IAM latency, the member list its own route's
    # fixed + jitter, the image (no selector for it) nothing.
    assert latency['POST /v3/auth/tokens'] == {'delayed': 1, 'seconds': 0.3, 'min': 0.3, 'max': 0.3}
    assert 'GET /v2/images/{image_id}' not in latency
    members = latency[MEMBERS_ROUTE]
    assert members['delayed'] == 3
    assert 0.3 <= members['min'] <= members['max'] <= 0.4
    preset = cloud.emulator.configure(latency='realistic')['latency']
    assert preset['IAM']['fixed'] > preset['IMS']['fixed']


def test_latency_requests_overlap(cloud):
    """Latency is slept outside the state lock: slow requests are in flight together."""
    cloud.token('owner')
    cloud.emulator.configure(latency={MEMBERS_ROUTE: {'fixed': 0.5, 'jitter': 0.0}})
    cloud.emulator.reset_stats()
    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(lambda _i: cloud.get(MEMBERS).status_code, range(6)))
    assert codes == [200] * 6
    stats = cloud.emulator.stats()
    assert stats['max_in_flight'] >= 2
    assert stats['max_in_flight_by_family']['members'] >= 2


def test_stats_count_by_route_kind_and_auth(cloud):
    owner = USERS['owner-user']
    cloud.token('owner')
    cloud.get(MEMBERS)
    cloud.get('/v2/images')
    cloud.add_member(A, PROJECTS['consumer'])
    job_id = cloud.submit('POST', {'images': [IMAGES['shareable-02']], 'projects': [PROJECTS['consumer']]})
    cloud.wait_job(job_id)
    cloud.aksk_call('GET', '/v2/images/' + A, owner['access_key'], owner['secret_key'], project_id=PROJECTS['owner'])
    requests.get(cloud.url + '/v2/images', timeout=10)  # no credentials
    cloud.emulator.state()  # control calls are not counted
    stats = cloud.emulator.stats()
    polls = stats['job_polls']
    assert polls >= 1
    assert stats['requests']['POST /v3/auth/tokens'] == 1
    assert stats['requests'][MEMBERS_ROUTE] == 1
    assert stats['requests']['GET /v2/images'] == 2
    assert stats['requests']['POST /v2/images/{image_id}/members'] == 1
    assert stats['requests']['POST /v1/cloudimages/members'] == 1
    assert stats['requests']['GET /v1/{project_id}/jobs/{job_id}'] == polls
    assert stats['requests']['GET /v2/images/{image_id}'] == 1
    assert stats['token_requests'] == 1 and stats['tokens_issued'] == 1
    assert stats['reads'] == 4 and stats['writes'] == 2 and stats['job_submissions'] == 1
    assert stats['total'] == 7 + polls
    assert stats['by_auth'] == {'token': 4 + polls, 'aksk': 1, 'none': 2}
    assert stats['responses']['GET /v2/images'] == {'200': 1, '401': 1}
    assert stats['max_in_flight'] >= 1
    cloud.emulator.reset_stats()
    cleared = cloud.emulator.stats()
    assert cleared['total'] == 0 and cleared['requests'] == {} and cleared['by_auth'] == {'token': 0, 'aksk': 0, 'none': 0}


def test_reset_restores_seed_settings_and_drops_tokens(cloud):
    emulator = cloud.emulator
    token = cloud.token('owner')
    cloud.add_member(A, PROJECTS['consumer'])
    emulator.configure(job_duration=5, mode='glance')
    emulator.set_faults([{'route': '*', 'probability': 1.0, 'kinds': ['500']}])
    emulator.reset()
    assert emulator.state()['members'] == []
    config = emulator.config()
    assert config['mode'] == 'otc' and config['job_duration'] == JOB_DURATION
    assert emulator.control('GET', '/faults') == {'rules': []}
    assert cloud.get('/v2/images', token=token).status_code == 401
    assert emulator.stats()['total'] == 1


def test_reset_with_another_seed(cloud):
    emulator = cloud.emulator
    emulator.reset(DEMO_SEED)
    names = sorted(image['name'] for image in emulator.state()['images'].values())
    assert names == ['rhel-9-hardened', 'ubuntu-22.04-golden', 'ubuntu-24.04-golden', 'windows-2022-base']
    assert [m['status'] for m in emulator.state()['members']] == ['accepted']
    inline = {'domains': [{'name': 'd'}], 'projects': [{'id': 'b' * 32, 'name': 'p', 'domain': 'd'}],
              'users': [{'name': 'u', 'password': 'pw', 'domain': 'd', 'projects': ['p']}],
              'images': [{'id': IMAGES['shareable-01'], 'name': 'only', 'owner': 'p'}]}
    emulator.reset(inline)
    assert list(emulator.state()['images']) == [IMAGES['shareable-01']]
    with pytest.raises(EmulatorError, match='unknown project'):
        emulator.reset({'projects': [], 'images': [{'id': A, 'owner': 'nobody'}]})


def test_state_shows_members_and_jobs(cloud):
    cloud.add_member(A, PROJECTS['consumer'])
    job_id = cloud.submit('POST', {'images': [IMAGES['shareable-02']], 'projects': [PROJECTS['consumer']]})
    state = cloud.emulator.state()
    assert state['members'] == [dict(state['members'][0], image_id=A, member_id=PROJECTS['consumer'], status='pending')]
    assert set(state['members'][0]) == {'image_id', 'member_id', 'status', 'created_at', 'updated_at'}
    job = state['jobs'][job_id]
    assert job['project_id'] == PROJECTS['owner'] and job['status'] in ('INIT', 'RUNNING')
    assert job['request'] == {'images': [IMAGES['shareable-02']], 'projects': [PROJECTS['consumer']]}
    assert state['images'][A]['reported_visibility'] == 'shared'


@pytest.mark.parametrize('settings', [
    {'mode': 'aws'}, {'job_duration': -1}, {'token_lifetime': 0}, {'batch_readd': 'maybe'}, {'batch_fail_mode': 'all'},
    {'member_status_all': 'yes'}, {'latency': {'GET /nowhere': {'fixed': 1}}}, {'latency': {'IMS': {'fixed': -1}}},
    {'latency': 'slow'}, {'token_rate_limit': {'per_user': 0, 'window': 1}}, {'clock_offset': 'soon'}, {'colour': 'red'},
])
def test_bad_settings_are_rejected(cloud, settings):
    with pytest.raises(EmulatorError, match='400'):
        cloud.emulator.configure(**settings)


def test_configure_returns_the_effective_settings(cloud):
    config = cloud.emulator.configure(batch_readd='fail', token_rate_limit={'per_user': 3, 'window': 2})
    assert config['batch_readd'] == 'fail' and config['token_rate_limit'] == {'per_user': 3, 'window': 2.0}
    assert config['batch_fail_mode'] == 'partial'
    assert cloud.emulator.configure(token_rate_limit=None)['token_rate_limit'] is None
