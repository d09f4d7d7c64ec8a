# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The executors' shared pieces: the api rule, the native executor (HTTP faked with responses), the probe, the journal."""
from __future__ import annotations

import os
import re
import stat
import threading

import pytest
import responses

from ansible_collections.imscloud.sharing.plugins.module_utils import executor
from ansible_collections.imscloud.sharing.plugins.module_utils.client import IMSClient
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.job_journal import JobJournal
from ansible_collections.imscloud.sharing.tests.unit.helpers import FakeClock
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import IMS
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import PROJECT
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import add_token
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import make_config

IMG_A = 'd164b5df-1bc3-4c3f-893e-3e471fd16e64'
IMG_B = '0b680482-acaa-4045-b14c-9a8c7dfe9c70'
P1 = 'cc000000000000000000000000000001'
P2 = 'dd000000000000000000000000000001'
MEMBER_URL = re.compile(re.escape(IMS) + r'/v2/images/([^/]+)/members(/([^/]+))?$')


@pytest.fixture
def mock():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        add_token(rsps)
        yield rsps


@pytest.fixture
def client(tmp_path):
    clock = FakeClock()
    return IMSClient(make_config(tmp_path), sleep=clock.sleep, clock=clock.monotonic, rand=lambda: 0.5)


# ---------------------------------------------------------------- the api rule

@pytest.mark.parametrize('api, batch_api, pairs, expected', [
    ('native', True, 10000, 'native'),
    ('native', False, 1, 'native'),
    ('jobs', True, 1, 'jobs'),
    ('jobs', None, 1, 'jobs'),
    ('auto', False, 10000, 'native'),
    ('auto', None, 10000, 'native'),
    ('auto', True, 25 * 16, 'native'),
    ('auto', True, 25 * 16 + 1, 'jobs'),
    ('auto', True, 2, 'native'),
])
def test_the_api_rule(api, batch_api, pairs, expected):
    name, reason = executor.choose_api(api, batch_api, pairs, 16)
    assert name == expected
    assert reason.startswith('auto: ' if api == 'auto' else 'api: ' + api)


def test_jobs_on_plain_glance_is_refused_with_what_works():
    with pytest.raises(IMSError) as info:
        executor.choose_api('jobs', False, 5, 16)
    assert 'this cloud is plain OpenStack Glance' in str(info.value)
    assert 'use api: native or api: auto' in str(info.value)


def test_operations_of_expands_every_request_into_pairs():
    plan = [{'method': 'POST', 'images': [IMG_A, IMG_B], 'projects': [P1]},
            {'method': 'DELETE', 'images': [IMG_A], 'projects': [P2]},
            {'method': 'PUT', 'images': [IMG_B], 'project_id': P1, 'status': 'accepted', 'vault_id': 'v'}]
    assert executor.operations_of(plan) == [
        {'op': 'add', 'image_id': IMG_A, 'project_id': P1}, {'op': 'add', 'image_id': IMG_B, 'project_id': P1},
        {'op': 'remove', 'image_id': IMG_A, 'project_id': P2},
        {'op': 'set_status', 'image_id': IMG_B, 'project_id': P1, 'status': 'accepted', 'vault_id': 'v'}]
    assert executor.pair_count(plan) == 4


# ---------------------------------------------------------------- the native executor

class Members:
    """Native member calls answered from a table; answers[(method, image, project)] overrides one call."""

    def __init__(self, mock):
        self.rows = {}
        self.answers = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.gate = None
        for method in ('POST', 'DELETE', 'PUT', 'GET'):
            mock.add_callback(method, MEMBER_URL, callback=self.answer)

    def answer(self, request):
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                self.gate.wait(5)
            return self._answer(request)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _answer(self, request):
        match = MEMBER_URL.match(request.url)
        image_id = match.group(1)
        project_id = match.group(3) or (request.body and __import__('json').loads(request.body).get('member'))
        key = (request.method, image_id, project_id)
        if key in self.answers:
            return self.answers[key]
        if request.method == 'POST':
            if (image_id, project_id) in self.rows:
                return 409, {}, '{"message": "Member is duplicated", "code": "409 Conflict", "title": "Conflict"}'
            self.rows[(image_id, project_id)] = 'pending'
        elif request.method == 'DELETE':
            if self.rows.pop((image_id, project_id), None) is None:
                return 404, {}, '{"message": "not found in the member list", "code": "404 Not Found"}'
            return 204, {}, ''
        elif request.method == 'PUT':
            self.rows[(image_id, project_id)] = 'accepted'
        elif (image_id, project_id) not in self.rows:
            return 404, {}, '{"message": "not found", "code": "404 Not Found"}'
        return 200, {}, '{"member_id": "%s", "image_id": "%s", "status": "%s"}' % (
            project_id, image_id, self.rows[(image_id, project_id)])


def test_a_failing_pair_stops_no_other(mock, client):
    table = Members(mock)
    table.answers[('POST', IMG_B, P1)] = (403, {}, '{"message": "Not allowed", "code": "403 Forbidden"}')
    ops = [{'op': 'add', 'image_id': image_id, 'project_id': project_id} for image_id in (IMG_A, IMG_B)
           for project_id in (P1, P2)]
    outcome = executor.run_native(client, ops, 4, 'test')
    assert outcome['applied'] == [{'image_id': IMG_A, 'project_id': P1}, {'image_id': IMG_A, 'project_id': P2},
                                  {'image_id': IMG_B, 'project_id': P2}]
    assert outcome['not_applied'] == [{'image_id': IMG_B, 'project_id': P1}]
    [error] = outcome['errors']
    assert (error['image_id'], error['project_id'], error['operation'], error['error']['status']) == (IMG_B, P1, 'add', 403)
    assert executor.failed(outcome) and outcome['changed'] is True
    err = executor.failure(outcome, {'applied': outcome['applied']})
    assert err.status == 403
    assert str(err).startswith('1 native call(s) failed: add %s/%s' % (IMG_B, P1))
    assert '3 of 4 pair(s) applied' in str(err)
    assert table.rows == {(IMG_A, P1): 'pending', (IMG_A, P2): 'pending', (IMG_B, P2): 'pending'}


def test_409_on_add_and_404_on_remove_mean_the_state_holds(mock, client):
    table = Members(mock)
    table.rows[(IMG_A, P1)] = 'accepted'
    ops = [{'op': 'add', 'image_id': IMG_A, 'project_id': P1}, {'op': 'remove', 'image_id': IMG_A, 'project_id': P2}]
    outcome = executor.run_native(client, ops, 2, 'test')
    assert not executor.failed(outcome)
    assert outcome['members'][(IMG_A, P1)]['status'] == 'accepted'
    assert outcome['errors'] == []


def test_the_pool_is_bounded_by_concurrency(mock, client):
    table = Members(mock)
    table.gate = threading.Event()
    threading.Timer(0.3, table.gate.set).start()
    ops = [{'op': 'add', 'image_id': IMG_A, 'project_id': '%032x' % n} for n in range(12)]
    outcome = executor.run_native(client, ops, 3, 'test')
    assert len(outcome['applied']) == 12
    assert table.max_in_flight == 3


def test_recipient_side_is_one_put_per_image(mock, client):
    table = Members(mock)
    ops = executor.operations_of([{'method': 'PUT', 'images': [IMG_A, IMG_B], 'project_id': PROJECT,
                                   'status': 'accepted'}])
    outcome = executor.run_native(client, ops, 4, 'test')
    assert table.rows == {(IMG_A, PROJECT): 'accepted', (IMG_B, PROJECT): 'accepted'}
    assert len(outcome['applied']) == 2


# ---------------------------------------------------------------- the batch API probe

def test_the_probe_is_one_cheap_read_cached_with_the_token(mock, tmp_path):
    mock.add(responses.GET, re.compile(re.escape(IMS) + r'/v2/cloudimages'), json={'images': []})
    first = IMSClient(make_config(tmp_path))
    assert first.has_batch_api() is True and first.has_batch_api() is True
    second = IMSClient(make_config(tmp_path))       # the next task: the token and the answer come from the cache
    assert second.has_batch_api() is True
    probes = [c for c in mock.calls if '/v2/cloudimages' in c.request.url]
    assert len(probes) == 1 and probes[0].request.method == 'GET' and 'limit=1' in probes[0].request.url


@pytest.mark.parametrize('status, expected', [(404, False), (300, False), (403, None)])
def test_the_probe_on_other_clouds(mock, client, status, expected):
    mock.add(responses.GET, re.compile(re.escape(IMS) + r'/v2/cloudimages'), status=status, json={'versions': []})
    assert client.has_batch_api() is expected


# ---------------------------------------------------------------- the job journal

def test_the_journal_remembers_pending_jobs_privately_and_forgets_them(tmp_path):
    now = [1000.0]
    journal = JobJournal(str(tmp_path / 'cache'), 'https://ims.test', PROJECT, clock=lambda: now[0])
    journal.add('j1', {'method': 'POST', 'images': [IMG_A], 'projects': [P1]})
    journal.add('j2', {'method': 'POST', 'images': [IMG_B], 'projects': [P1]})
    other = JobJournal(str(tmp_path / 'cache'), 'https://ims.test', P2, clock=lambda: now[0])
    assert other.pending() == []
    assert [entry['job_id'] for entry in journal.pending([IMG_A])] == ['j1']
    [path] = [os.path.join(tmp_path, 'cache', name) for name in os.listdir(tmp_path / 'cache') if name.endswith('.json')]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    journal.forget(['j1'])
    assert [entry['job_id'] for entry in journal.pending()] == ['j2']
    now[0] += 3601
    assert journal.pending() == [], 'entries expire'


def test_the_journal_without_a_directory_does_nothing():
    journal = JobJournal(None, 'https://ims.test', PROJECT)
    journal.add('j1', {'method': 'POST', 'images': [IMG_A], 'projects': [P1]})
    assert journal.pending() == []
