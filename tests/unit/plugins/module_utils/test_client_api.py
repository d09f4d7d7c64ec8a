# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IMSClient: member calls, image resolution, pagination, jobs, concurrent reads (HTTP faked with responses)."""
from __future__ import annotations

import json
import threading
import time

import pytest
import responses

from ansible_collections.imscloud.sharing.plugins.module_utils.client import IMSClient
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import IMS
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import IMAGE
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import MEMBERS
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import OTHER_PROJECT
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import PROJECT
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import TOKENS
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import add_token
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import make_config
from ansible_collections.imscloud.sharing.tests.unit.helpers import FakeClock

IMAGES = IMS + '/v2/images'
JOB = '9a175ac692fa12540193002a6d4b2720'
THIRD_PROJECT = 'aaaabbbbccccddddeeeeffff00001111'


def image(number: int, name: str = 'img', owner: str = PROJECT) -> dict:
    return {'id': 'd164b5df-1bc3-4c3f-893e-%012d' % number, 'name': name, 'owner': owner, 'visibility': 'shared'}


@pytest.fixture
def fake_time():
    return FakeClock(start=50.0)


@pytest.fixture
def mock():
    with responses.RequestsMock() as rsps:
        add_token(rsps)
        yield rsps


@pytest.fixture
def client(tmp_path, fake_time):
    return IMSClient(make_config(tmp_path), sleep=fake_time.sleep, clock=fake_time.monotonic, rand=lambda: 0.5)


def query_of(call) -> dict:
    return dict(call.request.params)


def ims_calls(mock) -> list:
    return [c for c in mock.calls if not c.request.url.startswith(TOKENS)]


# ---------------------------------------------------------------- members

def test_member_calls_send_the_documented_requests(mock, client):
    member = {'member_id': OTHER_PROJECT, 'image_id': IMAGE, 'status': 'pending', 'schema': '/v2/schemas/member'}
    mock.add(responses.POST, MEMBERS, json=member)
    mock.add(responses.GET, MEMBERS, json={'members': [member], 'schema': '/v2/schemas/members'})
    mock.add(responses.GET, MEMBERS + '/' + OTHER_PROJECT, json=member)
    mock.add(responses.PUT, MEMBERS + '/' + OTHER_PROJECT, json=dict(member, status='accepted'))
    mock.add(responses.DELETE, MEMBERS + '/' + OTHER_PROJECT, status=204)
    assert client.add_member(IMAGE, OTHER_PROJECT) == member
    assert client.list_members(IMAGE) == [member]
    assert client.get_member(IMAGE, OTHER_PROJECT) == member
    assert client.update_member_status(IMAGE, OTHER_PROJECT, 'accepted', vault_id='vault-1')['status'] == 'accepted'
    assert client.remove_member(IMAGE, OTHER_PROJECT) is None
    post, _list, _get, put, delete = ims_calls(mock)
    assert json.loads(post.request.body) == {'member': OTHER_PROJECT}
    assert json.loads(put.request.body) == {'status': 'accepted', 'vault_id': 'vault-1'}
    assert delete.request.body is None
    assert client.stats['requests'] == {
        'POST /v3/auth/tokens': 1,
        'POST /v2/images/{image_id}/members': 1,
        'GET /v2/images/{image_id}/members': 1,
        'GET /v2/images/{image_id}/members/{member_id}': 1,
        'PUT /v2/images/{image_id}/members/{member_id}': 1,
        'DELETE /v2/images/{image_id}/members/{member_id}': 1,
    }
    assert client.stats['total_requests'] == 6


def test_update_without_vault_sends_only_status(mock, client):
    mock.add(responses.PUT, MEMBERS + '/' + PROJECT, json={'status': 'rejected'})
    client.update_member_status(IMAGE, PROJECT, 'rejected')
    assert json.loads(ims_calls(mock)[0].request.body) == {'status': 'rejected'}


def test_get_member_is_none_on_404(mock, client):
    mock.add(responses.GET, MEMBERS + '/' + OTHER_PROJECT, status=404, json={'message': 'not found', 'code': '404 Not Found'})
    assert client.get_member(IMAGE, OTHER_PROJECT) is None


def test_list_members_tolerates_a_missing_list(mock, client):
    mock.add(responses.GET, MEMBERS, json={'schema': '/v2/schemas/members'})
    assert client.list_members(IMAGE) == []


# ---------------------------------------------------------------- concurrent reads

def test_read_members_runs_in_parallel_with_one_token(mock, client):
    ids = [image(n)['id'] for n in range(12)]
    state = {'active': 0, 'peak': 0}
    lock = threading.Lock()

    def slow_members(request):
        with lock:
            state['active'] += 1
            state['peak'] = max(state['peak'], state['active'])
        time.sleep(0.05)
        with lock:
            state['active'] -= 1
        image_id = request.url.split('/')[-2]
        return 200, {}, json.dumps({'members': [{'image_id': image_id, 'member_id': OTHER_PROJECT}]})

    for image_id in ids:
        mock.add_callback(responses.GET, '%s/%s/members' % (IMAGES, image_id), callback=slow_members)
    result = client.read_members(ids + ids[:3], concurrency=4)
    assert list(result) == ids  # de-duplicated, input order
    assert all(result[i] == [{'image_id': i, 'member_id': OTHER_PROJECT}] for i in ids)
    assert 2 <= state['peak'] <= 4
    assert client.stats['tokens_obtained'] == 1
    assert len([c for c in mock.calls if c.request.url.startswith(TOKENS)]) == 1


def test_read_members_raises_the_first_error(mock, client):
    ids = [image(n)['id'] for n in range(6)]
    for number, image_id in enumerate(ids):
        if number == 2:
            mock.add(responses.GET, '%s/%s/members' % (IMAGES, image_id), status=403,
                     json={'message': 'Not allowed to list members for image %s: Only shared images have members.' % image_id,
                           'code': '403 Forbidden'})
        else:
            mock.add(responses.GET, '%s/%s/members' % (IMAGES, image_id), json={'members': []})
    mock.assert_all_requests_are_fired = False  # the pool may cancel reads after the failure
    with pytest.raises(IMSError) as caught:
        client.read_members(ids, concurrency=3)
    assert caught.value.status == 403 and ids[2] in str(caught.value)


def test_read_members_sequential_path(mock, client):
    mock.add(responses.GET, MEMBERS, json={'members': []})
    assert client.read_members([IMAGE], concurrency=8) == {IMAGE: []}
    assert client.read_members([], concurrency=8) == {}


# ---------------------------------------------------------------- jobs

JOBS = '%s/v1/%s/jobs/%s' % (IMS, PROJECT, JOB)


def job(status: str, **extra) -> dict:
    body = {'job_id': JOB, 'job_type': 'imsAddImageMembersJob', 'status': status, 'begin_time': '2024-11-06T06:30:00.778Z',
            'end_time': None, 'error_code': None, 'fail_reason': None, 'entities': {}}
    body.update(extra)
    return body


def test_wait_for_job_polls_until_success(mock, client, fake_time):
    for status in ('INIT', 'RUNNING', 'RUNNING'):
        mock.add(responses.GET, JOBS, json=job(status))
    mock.add(responses.GET, JOBS, json=job('SUCCESS', entities={'results': [{'image_id': IMAGE, 'status': 'success'}]}))
    result = client.wait_for_job(JOB, timeout=300)
    assert result['entities']['results'] == [{'image_id': IMAGE, 'status': 'success'}]
    assert fake_time.sleeps == [1.0, 0.5, 0.5, 0.5]
    assert client.stats['requests']['GET /v1/{project_id}/jobs/{job_id}'] == 4
    assert client.stats['job_polls'] == {JOB: 4}
    assert ims_calls(mock)[0].request.headers['Content-Type'] == 'application/json'


def test_wait_for_job_fail_carries_results(mock, client):
    results = [{'image_id': IMAGE, 'project_id': OTHER_PROJECT, 'status': 'failed'}]
    failed = job('FAIL', error_code='IMG.0088', fail_reason='quota', entities={'results': results}, end_time='2024-11-06T06:30:03.179Z')
    mock.add(responses.GET, JOBS, json=failed)
    with pytest.raises(IMSError) as caught:
        client.wait_for_job(JOB, timeout=60)
    details = caught.value.details
    assert (details['error_code'], details['fail_reason'], details['results'], details['job_type']) == (
        'IMG.0088', 'quota', results, 'imsAddImageMembersJob')


def test_wait_for_job_timeout_respects_the_deadline(mock, client, fake_time):
    mock.add(responses.GET, JOBS, json=job('RUNNING'))
    with pytest.raises(IMSError) as caught:
        client.wait_for_job(JOB, timeout=1.7)
    assert fake_time.sleeps == pytest.approx([1.0, 0.5, 0.2])  # the last sleep is capped by the time left
    assert len(ims_calls(mock)) == 3
    assert caught.value.details == {'job_id': JOB, 'last_status': 'RUNNING', 'timeout': 1.7}


def test_transient_poll_failure_is_retried(mock, client, fake_time):
    mock.add(responses.GET, JOBS, status=503)
    mock.add(responses.GET, JOBS, json=job('SUCCESS'))
    assert client.wait_for_job(JOB, timeout=30)['status'] == 'SUCCESS'
    assert fake_time.sleeps == [1.0, 0.375]  # the first poll's delay, then the retry backoff
