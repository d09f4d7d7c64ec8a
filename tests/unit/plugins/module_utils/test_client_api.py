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


def test_ids_are_quoted_in_paths(mock, client):
    mock.add(responses.GET, IMAGES + '/a%2Fb', json={'id': 'a/b'})
    assert client.get_image('a/b') == {'id': 'a/b'}


def test_set_image_visibility_sends_a_json_patch(mock, client):
    mock.add(responses.PATCH, IMAGES + '/' + IMAGE, json={'id': IMAGE, 'visibility': 'shared'})
    assert client.set_image_visibility(IMAGE, 'shared')['visibility'] == 'shared'
    call = ims_calls(mock)[0]
    assert call.request.headers['Content-Type'] == 'application/openstack-images-v2.1-json-patch'
    assert json.loads(call.request.body) == [{'op': 'replace', 'path': '/visibility', 'value': 'shared'}]


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


# ---------------------------------------------------------------- image resolution

def test_resolve_by_id_and_name_on_the_owner_side(mock, client):
    mine = image(1, 'ubuntu-golden')
    by_id = image(2, 'other')
    mock.add(responses.GET, IMAGES, json={'images': [mine], 'schema': '/v2/schemas/images', 'first': '/v2/images'})
    mock.add(responses.GET, IMAGES + '/' + by_id['id'], json=by_id)
    resolved = client.resolve_images(['ubuntu-golden', by_id['id'], ' ubuntu-golden ', None], side='owner')
    assert resolved == [mine, by_id]
    list_call = [c for c in ims_calls(mock) if c.request.url.startswith(IMAGES + '?')][0]
    assert query_of(list_call) == {'owner': PROJECT, 'name': 'ubuntu-golden', 'limit': '100'}


def test_name_and_id_of_the_same_image_resolve_once(mock, client):
    mine = image(1, 'golden')
    mock.add(responses.GET, IMAGES, json={'images': [mine]})
    mock.add(responses.GET, IMAGES + '/' + mine['id'], json=mine)
    assert client.resolve_images([mine['id'], 'golden']) == [mine]


def test_recipient_side_lists_shared_images_in_any_status(mock, client):
    theirs = image(3, 'base image', owner=OTHER_PROJECT)
    own_shared = image(4, 'base image', owner=PROJECT)
    mock.add(responses.GET, IMAGES, json={'images': [theirs, own_shared]})
    assert client.resolve_images(['base image'], side='recipient') == [theirs]
    call = ims_calls(mock)[0]
    assert query_of(call) == {'visibility': 'shared', 'member_status': 'all', 'name': 'base image', 'limit': '100'}
    assert '?visibility=shared&member_status=all&name=base%20image&limit=100' in call.request.url


def test_ambiguous_name_lists_the_ids(mock, client):
    first, second = image(5, 'dup'), image(6, 'dup')
    mock.add(responses.GET, IMAGES, json={'images': [first, second]})
    with pytest.raises(IMSError) as caught:
        client.resolve_images(['dup'])
    err = caught.value
    assert "image name 'dup' is ambiguous: 2 images owned by project %s have it (%s, %s); use an id" % (
        PROJECT, first['id'], second['id']) == str(err)
    assert err.details == {'image': 'dup', 'side': 'owner', 'matching_ids': [first['id'], second['id']]}


@pytest.mark.parametrize('side, where', [('owner', 'owned by'), ('recipient', 'shared with')])
def test_missing_name_names_the_image_and_the_side(mock, client, side, where):
    # the server ignores the name filter here; only exact names count
    mock.add(responses.GET, IMAGES, json={'images': [image(7, 'almost', owner=OTHER_PROJECT)]})
    with pytest.raises(IMSError) as caught:
        client.resolve_images(['wanted'], side=side)
    assert str(caught.value) == "image 'wanted' not found among the images %s project %s" % (where, PROJECT)
    assert caught.value.details == {'image': 'wanted', 'side': side}


def test_unknown_id_is_not_found(mock, client):
    mock.add(responses.GET, IMAGES + '/' + IMAGE, status=404, json={'message': 'No image found with ID %s' % IMAGE,
                                                                    'code': '404 Not Found'},
             headers={'X-Openstack-Request-Id': 'req-404'})
    with pytest.raises(IMSError) as caught:
        client.resolve_images([IMAGE])
    err = caught.value
    assert (err.status, err.request_id, err.details) == (404, 'req-404', {'image': IMAGE})
    assert 'image %s not found (or not visible to project %s)' % (IMAGE, PROJECT) in str(err)


def test_other_errors_while_resolving_ids_propagate(mock, client):
    mock.add(responses.GET, IMAGES + '/' + IMAGE, status=403, json={'message': 'forbidden', 'code': '403 Forbidden'})
    with pytest.raises(IMSError) as caught:
        client.resolve_images([IMAGE])
    assert caught.value.status == 403


def test_ids_are_fetched_concurrently(mock, client):
    images = [image(n) for n in range(10, 16)]
    for img in images:
        mock.add(responses.GET, IMAGES + '/' + img['id'], json=img)
    assert client.resolve_images([i['id'] for i in images], concurrency=3) == images


def test_resolve_checks_the_side(client):
    with pytest.raises(IMSError, match="side must be 'owner' or 'recipient'"):
        client.resolve_images(['x'], side='both')


# ---------------------------------------------------------------- pagination

def test_pagination_follows_next_links(mock, client):
    page1 = [image(n, 'many', owner=OTHER_PROJECT) for n in range(3)]
    page2 = [image(n, 'many', owner=OTHER_PROJECT) for n in range(3, 5)]
    mock.add(responses.GET, IMAGES, json={'images': page1, 'next': '/v2/images?marker=%s&visibility=shared&member_status=pending'
                                          % page1[-1]['id']})
    mock.add(responses.GET, IMAGES, json={'images': page2})
    assert client.list_shared_with_me('pending') == page1 + page2
    first, second = ims_calls(mock)
    assert query_of(first) == {'visibility': 'shared', 'member_status': 'pending', 'limit': '100'}
    assert query_of(second) == {'marker': page1[-1]['id'], 'visibility': 'shared', 'member_status': 'pending'}


def test_pagination_falls_back_to_markers_when_pages_are_full(mock, client, monkeypatch):
    from ansible_collections.imscloud.sharing.plugins.module_utils import client as client_module
    monkeypatch.setattr(client_module, 'LIST_PAGE_SIZE', 2)
    full = [image(20, 'x', owner=OTHER_PROJECT), image(21, 'x', owner=OTHER_PROJECT)]
    mock.add(responses.GET, IMAGES, json={'images': full})
    mock.add(responses.GET, IMAGES, json={'images': [image(22, 'x', owner=OTHER_PROJECT)]})
    assert len(client.list_shared_with_me()) == 3
    assert query_of(ims_calls(mock)[1]) == {'visibility': 'shared', 'member_status': 'all', 'limit': '2', 'marker': full[-1]['id']}


def test_pagination_loop_is_detected(mock, client):
    mock.add(responses.GET, IMAGES, json={'images': [image(30)], 'next': '/v2/images?marker=same'})
    with pytest.raises(IMSError, match='does not end'):
        client.list_images({})


def test_next_link_to_another_host_is_refused(mock, client):
    mock.add(responses.GET, IMAGES, json={'images': [], 'next': 'https://evil.test/v2/images?marker=x'})
    with pytest.raises(IMSError, match='refusing to follow a link to another host: https://evil.test/v2/images'):
        client.list_images({})


def test_absolute_next_link_on_the_same_host_is_followed(mock, client):
    mock.add(responses.GET, IMAGES, json={'images': [image(31)], 'next': IMS + '/v2/images?marker=m'})
    mock.add(responses.GET, IMAGES, json={'images': [image(32)]})
    assert [i['id'] for i in client.list_images({})] == [image(31)['id'], image(32)['id']]


def test_invalid_json_from_ims(mock, client):
    mock.add(responses.GET, IMAGES, body='not json', status=200)
    with pytest.raises(IMSError, match='not valid JSON') as caught:
        client.list_images({})
    assert caught.value.status == 200 and caught.value.method == 'GET'


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
