# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real IMSClient against the real emulator (tests/emulator/server.py): auth, members, jobs, the cache.

Name resolution is tested in tests/e2e/images."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest
import yaml

from ansible_collections.imscloud.sharing.plugins.module_utils import images as image_api
from ansible_collections.imscloud.sharing.plugins.module_utils.client import IMSClient
from ansible_collections.imscloud.sharing.plugins.module_utils.config import resolve_connection
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError

from harness import TEST_SEED  # tests/emulator is on sys.path: tests/e2e/conftest.py

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

with open(TEST_SEED, encoding='utf-8') as _handle:
    SEED = yaml.safe_load(_handle)
DOMAIN = SEED['domains'][0]['name']
PROJECT = {p['name'].split('_', 1)[1]: p['id'] for p in SEED['projects']}
USERS = {u['name']: u for u in SEED['users']}
IMAGE = {}
for _image in SEED['images']:
    IMAGE.setdefault(_image['name'], _image['id'])
TOKEN_ROUTE = 'POST /v3/auth/tokens'
MEMBERS_ROUTE = 'GET /v2/images/{image_id}/members'
JOB_ROUTE = 'GET /v1/{project_id}/jobs/{job_id}'


@pytest.fixture
def cache_dir(tmp_path):
    path = tmp_path / 'token-cache'
    return str(path)


def password_params(emu, user: str, project: str, **extra) -> dict:
    params = {'auth': {'auth_url': emu.url + '/v3', 'username': user, 'password': USERS[user]['password'],
                       'user_domain_name': DOMAIN, 'project_id': PROJECT[project]},
              'region_name': 'eu-de', 'retries': 3}
    params.update(extra)
    return params


def client_for(params: dict, cache_dir: str, logs: list | None = None) -> IMSClient:
    config = resolve_connection(params, environ={'IMSCLOUD_SHARING_CACHE_DIR': cache_dir, 'HOME': os.path.dirname(cache_dir)})
    return IMSClient(config, log=logs.append if logs is not None else None)


def owner(emu, cache_dir, **extra) -> IMSClient:
    return client_for(password_params(emu, 'owner-user', 'owner', **extra), cache_dir)


def consumer(emu, cache_dir, **extra) -> IMSClient:
    return client_for(password_params(emu, 'consumer-user', 'consumer', **extra), cache_dir)


def members_in_state(emu, image_id: str) -> dict:
    return {m['member_id']: m['status'] for m in emu.state()['members'] if m['image_id'] == image_id}


def test_password_auth_takes_project_and_endpoint_from_the_token(emu, cache_dir):
    client = owner(emu, cache_dir)
    assert client.project_id == PROJECT['owner']
    assert client.endpoint == emu.url
    assert client.list_members(IMAGE['shareable-01']) == []
    stats = emu.stats()
    assert stats['requests'][TOKEN_ROUTE] == 1 and stats['by_auth']['token'] == 1


def test_project_scope_by_name(emu, cache_dir):
    params = password_params(emu, 'consumer-user', 'consumer')
    del params['auth']['project_id']
    params['auth'].update(project_name='eu-de_consumer', project_domain_name=DOMAIN)
    assert client_for(params, cache_dir).project_id == PROJECT['consumer']


def test_wrong_password_reports_iams_message(emu, cache_dir):
    params = password_params(emu, 'owner-user', 'owner')
    params['auth']['password'] = 'not-the-password'
    with pytest.raises(IMSError) as caught:
        client_for(params, cache_dir).list_members(IMAGE['shareable-01'])
    err = caught.value
    assert err.status == 401 and err.service == 'IAM'
    assert 'not-the-password' not in str(err) and 'not-the-password' not in json.dumps(err.to_dict())
    assert emu.stats()['requests'][TOKEN_ROUTE] == 1  # not retried


def test_aksk_signs_requests_and_never_calls_iam(emu, cache_dir):
    user = USERS['multi-user']
    params = {'auth': {'access_key': user['access_key'], 'secret_key': user['secret_key'], 'project_id': PROJECT['consumer2']},
              'auth_type': 'aksk', 'ims_endpoint': emu.url}
    aksk_cache = cache_dir + '-aksk'
    client = client_for(params, aksk_cache)
    owner(emu, cache_dir).add_member(IMAGE['shareable-05'], PROJECT['consumer2'])
    emu.reset_stats()
    member = client.update_member_status(IMAGE['shareable-05'], PROJECT['consumer2'], 'accepted')
    assert member['status'] == 'accepted'
    assert [i['id'] for i in image_api.list_shared_with_me(client, 'accepted')] == [IMAGE['shareable-05']]
    stats = emu.stats()
    assert TOKEN_ROUTE not in stats['requests']
    assert stats['by_auth'].get('aksk') == 2 and stats['by_auth'].get('token', 0) == 0
    assert client.stats['tokens_obtained'] == 0
    assert not os.path.exists(aksk_cache)  # AK/SK has no token, so nothing is cached


def test_member_round_trip(emu, cache_dir):
    image_id = IMAGE['shareable-02']
    own, cons = owner(emu, cache_dir), consumer(emu, cache_dir)
    added = own.add_member(image_id, PROJECT['consumer'])
    assert (added['member_id'], added['status']) == (PROJECT['consumer'], 'pending')
    assert cons.get_member(image_id, PROJECT['consumer'])['status'] == 'pending'
    assert cons.update_member_status(image_id, PROJECT['consumer'], 'accepted')['status'] == 'accepted'
    assert [(m['member_id'], m['status']) for m in own.list_members(image_id)] == [(PROJECT['consumer'], 'accepted')]
    assert members_in_state(emu, image_id) == {PROJECT['consumer']: 'accepted'}
    assert own.remove_member(image_id, PROJECT['consumer']) is None
    assert own.get_member(image_id, PROJECT['consumer']) is None
    assert cons.get_member(image_id, PROJECT['consumer']) is None
    with pytest.raises(IMSError) as caught:
        own.remove_member(image_id, PROJECT['consumer'])
    assert caught.value.status == 404


def test_batch_job_runs_to_success(emu, cache_dir):
    own, cons = owner(emu, cache_dir), consumer(emu, cache_dir)
    images = [IMAGE['shareable-03'], IMAGE['shareable-04']]
    job_id = own.submit_member_job('POST', {'images': images, 'projects': [PROJECT['consumer'], PROJECT['consumer2']]})
    job = own.wait_for_job(job_id, timeout=30, poll_initial=0.1, poll_max=0.5)
    assert job['status'] == 'SUCCESS' and job['job_type'] == 'imsAddImageMembersJob'
    assert members_in_state(emu, images[0]) == {PROJECT['consumer']: 'pending', PROJECT['consumer2']: 'pending'}
    accept = cons.submit_member_job('PUT', {'images': images, 'project_id': cons.project_id, 'status': 'accepted'})
    assert cons.wait_for_job(accept, timeout=30, poll_initial=0.1)['status'] == 'SUCCESS'
    assert all(members_in_state(emu, i)[PROJECT['consumer']] == 'accepted' for i in images)
    remove = own.submit_member_job('DELETE', {'images': images, 'projects': [PROJECT['consumer2']]})
    assert own.wait_for_job(remove, timeout=30, poll_initial=0.1)['status'] == 'SUCCESS'
    assert members_in_state(emu, images[1]) == {PROJECT['consumer']: 'accepted'}


def test_failed_batch_job_reports_its_details(emu, cache_dir):
    own = owner(emu, cache_dir)
    projects = [PROJECT['consumer'], PROJECT['consumer2'], PROJECT['other']]
    job_id = own.submit_member_job('POST', {'images': [IMAGE['small-quota']], 'projects': projects})
    with pytest.raises(IMSError) as caught:
        own.wait_for_job(job_id, timeout=30, poll_initial=0.1)
    details = caught.value.details
    assert details['job_id'] == job_id and details['status'].upper() == 'FAIL'
    assert details['error_code'] and details['fail_reason']
    assert isinstance(details['results'], list)


def test_job_wait_times_out_at_the_deadline(emu, cache_dir):
    emu.configure(job_duration=30)
    own = owner(emu, cache_dir)
    job_id = own.submit_member_job('POST', {'images': [IMAGE['shareable-06']], 'projects': [PROJECT['consumer']]})
    emu.reset_stats()
    with pytest.raises(IMSError) as caught:
        own.wait_for_job(job_id, timeout=1.5, poll_initial=0.5, poll_max=1.0)
    details = caught.value.details
    assert details['job_id'] == job_id and details['last_status'] in ('INIT', 'RUNNING') and details['timeout'] == 1.5
    assert 'did not finish within 1.5 seconds' in str(caught.value)
    # it polled until the deadline (more than once), and gave up while the job still runs in IMS
    polls = emu.stats()['requests'][JOB_ROUTE]
    assert polls >= 2 and '%d polls' % polls in str(caught.value)
    assert own.get_job(job_id)['status'] in ('INIT', 'RUNNING')


def test_read_members_of_many_images_with_one_token(emu, cache_dir):
    own = owner(emu, cache_dir)
    ids = [IMAGE['shareable-%02d' % n] for n in range(1, 11)]
    own.add_member(ids[0], PROJECT['consumer'])
    result = own.read_members(ids, concurrency=8)
    assert list(result) == ids
    assert [m['member_id'] for m in result[ids[0]]] == [PROJECT['consumer']]
    stats = emu.stats()
    assert stats['requests'][TOKEN_ROUTE] == 1 and stats['requests'][MEMBERS_ROUTE] == 10


def test_revoked_token_is_replaced_once(emu, cache_dir):
    own = owner(emu, cache_dir)
    own.list_members(IMAGE['shareable-01'])
    emu.revoke_tokens()
    assert own.list_members(IMAGE['shareable-01']) == []
    assert own.stats['reauthentications'] == 1
    assert emu.stats()['requests'][TOKEN_ROUTE] == 2
    # the replacement went to the cache: a new task needs no IAM call
    owner(emu, cache_dir).list_members(IMAGE['shareable-01'])
    assert emu.stats()['requests'][TOKEN_ROUTE] == 2


def test_injected_faults_are_retried(emu, cache_dir):
    own = owner(emu, cache_dir)
    assert own.project_id == PROJECT['owner']  # authenticated before the faults start
    emu.set_faults([{'route': MEMBERS_ROUTE, 'sequence': ['503', '429', 'drop', 'ok'], 'retry_after': 0}])
    assert own.list_members(IMAGE['shareable-01']) == []
    assert own.stats['retries'] == 3
    assert emu.stats()['requests'][MEMBERS_ROUTE] == 4


def test_dropped_batch_submit_is_uncertain_and_not_resent(emu, cache_dir):
    own = owner(emu, cache_dir)
    assert own.project_id == PROJECT['owner']  # authenticated before the faults start
    emu.set_faults([{'route': 'POST /v1/cloudimages/members', 'sequence': ['drop', 'ok']}])
    with pytest.raises(IMSError) as caught:
        own.submit_member_job('POST', {'images': [IMAGE['shareable-09']], 'projects': [PROJECT['consumer']]})
    assert caught.value.details['uncertain'] is True
    assert emu.stats()['requests']['POST /v1/cloudimages/members'] == 1


WORKER = textwrap.dedent('''
    import json, os, sys, time
    sys.path.insert(0, sys.argv[1])
    from ansible_collections.imscloud.sharing.plugins.module_utils.client import IMSClient
    from ansible_collections.imscloud.sharing.plugins.module_utils.config import resolve_connection
    params, image_id, cache_dir, gate = json.loads(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    client = IMSClient(resolve_connection(params, environ={'IMSCLOUD_SHARING_CACHE_DIR': cache_dir, 'HOME': cache_dir}))
    # everything is imported and set up: report ready, then start together with the others
    open(os.path.join(gate, 'ready-%d' % os.getpid()), 'w').close()
    deadline = time.monotonic() + 60
    while not os.path.exists(os.path.join(gate, 'go')) and time.monotonic() < deadline:
        time.sleep(0.005)
    members = client.list_members(image_id)
    print(json.dumps({'members': len(members), 'tokens': client.stats['tokens_obtained'],
                      'cache_hits': client.stats['token_cache_hits']}))
''')
PROCESSES = 20


def collection_tree() -> str:
    """The directory that holds ansible_collections/ for this checkout (set up by tests/conftest.py)."""
    import ansible_collections.imscloud.sharing as collection
    return os.path.dirname(os.path.dirname(os.path.dirname(list(collection.__path__)[0])))


def test_twenty_cold_processes_cost_one_token_request(emu, cache_dir, tmp_path):
    # a slow IAM widens the window in which the other processes must wait for the first one's token
    emu.configure(latency={'IAM': {'fixed': 0.3, 'jitter': 0.0}})
    script = tmp_path / 'worker.py'
    script.write_text(WORKER)
    gate = tmp_path / 'gate'
    gate.mkdir()
    params = json.dumps(password_params(emu, 'owner-user', 'owner'))
    command = [sys.executable, str(script), collection_tree(), params, IMAGE['shareable-01'], cache_dir, str(gate)]
    workers = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _number in range(PROCESSES)]
    try:
        deadline = time.monotonic() + 90
        while len(list(gate.glob('ready-*'))) < PROCESSES and time.monotonic() < deadline:
            assert all(w.poll() is None for w in workers), 'a worker exited before the start'
            time.sleep(0.05)
        assert len(list(gate.glob('ready-*'))) == PROCESSES
        assert not os.path.exists(cache_dir) and emu.stats()['total'] == 0  # still cold: no request, no cache
        (gate / 'go').touch()
        outputs = []
        for worker in workers:
            out, err = worker.communicate(timeout=120)
            assert worker.returncode == 0, err.decode()
            outputs.append(json.loads(out))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    stats = emu.stats()
    assert stats['requests'][TOKEN_ROUTE] == 1
    assert stats['tokens_issued'] == 1
    assert stats['requests'][MEMBERS_ROUTE] == PROCESSES
    assert all(o['members'] == 0 for o in outputs)
    assert sum(o['tokens'] for o in outputs) == 1 and sum(o['cache_hits'] for o in outputs) == PROCESSES - 1
