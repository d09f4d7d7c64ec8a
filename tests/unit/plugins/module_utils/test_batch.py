# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Table-driven tests of the pure batch planning and reporting (plugins/module_utils/batch.py)."""
from __future__ import annotations

import pytest

from ansible_collections.imscloud.sharing.plugins.module_utils import batch
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError

IMG1 = '11111111-1111-4111-8111-111111111111'
IMG2 = '22222222-2222-4222-8222-222222222222'
IMG3 = '33333333-3333-4333-8333-333333333333'
IMG4 = '44444444-4444-4444-8444-444444444444'
PA = 'a' * 32
PB = 'b' * 32
PC = 'c' * 32
PD = 'd' * 32


def post(images, projects):
    return {'method': 'POST', 'images': images, 'projects': projects}


def delete(images, projects):
    return {'method': 'DELETE', 'images': images, 'projects': projects}


def put(images, project_id, status, vault_id=None):
    request = {'method': 'PUT', 'images': images, 'project_id': project_id, 'status': status}
    if vault_id:
        request['vault_id'] = vault_id
    return request


PLAN_CASES = [
    pytest.param({IMG1: [], IMG2: []}, [PA, PB], 'present', False, 100,
                 [post([IMG1, IMG2], [PA, PB])], id='share-from-nothing-is-one-call'),
    pytest.param({IMG1: [PA, PB], IMG2: [PB, PA]}, [PA, PB], 'present', False, 100,
                 [], id='unchanged-is-no-call'),
    pytest.param({IMG1: [PA], IMG2: [], IMG3: [PA]}, [PA, PB], 'present', False, 100,
                 [post([IMG1, IMG3], [PB]), post([IMG2], [PA, PB])], id='partial-overlap-grouped-by-missing-set'),
    pytest.param({IMG1: [PA, PC], IMG2: [PD]}, [PA], 'present', False, 100,
                 [post([IMG2], [PA])], id='no-purge-keeps-unlisted-members'),
    pytest.param({IMG1: [PA, PC], IMG2: [PD]}, [PA], 'present', True, 100,
                 [post([IMG2], [PA]), delete([IMG1], [PC]), delete([IMG2], [PD])], id='purge-adds-first-then-removes'),
    pytest.param({IMG1: [PC], IMG2: [PC]}, [], 'present', True, 100,
                 [delete([IMG1, IMG2], [PC])], id='purge-with-empty-list-clears-all'),
    pytest.param({IMG1: [PA, PB, PC], IMG2: [PB], IMG3: []}, [PA, PB], 'absent', False, 100,
                 [delete([IMG1], [PA, PB]), delete([IMG2], [PB])], id='absent-removes-only-present-listed'),
    pytest.param({IMG1: [], IMG2: [], IMG3: []}, [PA, PB, PC], 'present', False, 2,
                 [post([IMG1, IMG2], [PA, PB]), post([IMG1, IMG2], [PC]), post([IMG3], [PA, PB]), post([IMG3], [PC])],
                 id='batch-size-bounds-images-and-projects'),
    pytest.param({}, [PA], 'present', False, 100, [], id='no-images'),
]


@pytest.mark.parametrize('current, projects, state, purge, batch_size, expected', PLAN_CASES)
def test_plan_batch_changes(current, projects, state, purge, batch_size, expected):
    assert batch.plan_batch_changes(current, projects, state, purge, batch_size) == expected


def test_plan_sorts_projects_but_keeps_image_order():
    plan = batch.plan_batch_changes({IMG3: [], IMG1: []}, [PB, PA], 'present', False, 100)
    assert plan == [post([IMG3, IMG1], [PA, PB])]


def test_plan_never_repeats_a_pair_and_covers_exactly_the_difference():
    current = {IMG1: [PA], IMG2: [PB, PC], IMG3: [], IMG4: [PD]}
    plan = batch.plan_batch_changes(current, [PA, PB, PC], 'present', True, 2)
    added = batch.planned_pairs(plan, 'POST')
    removed = batch.planned_pairs(plan, 'DELETE')
    keys = [(p['image_id'], p['project_id']) for p in added + removed]
    assert len(keys) == len(set(keys))
    assert batch.predict_membership(current, plan) == {IMG1: [PA, PB, PC], IMG2: [PA, PB, PC], IMG3: [PA, PB, PC],
                                                       IMG4: [PA, PB, PC]}
    assert all(len(r['images']) <= 2 and len(r['projects']) <= 2 for r in plan)


@pytest.mark.parametrize('kwargs, message', [
    ({'state': 'gone'}, 'state must be one of present, absent'),
    ({'state': 'absent', 'purge': True}, 'purge_projects=true cannot be combined with state=absent'),
    ({'batch_size': 0}, 'batch_size must be an integer of at least 1'),
    ({'batch_size': True}, 'batch_size must be an integer of at least 1'),
])
def test_plan_batch_changes_rejects_bad_arguments(kwargs, message):
    arguments = {'current_by_image': {IMG1: []}, 'projects': [PA], 'state': 'present', 'purge': False, 'batch_size': 10}
    arguments.update(kwargs)
    with pytest.raises(IMSError, match=message):
        batch.plan_batch_changes(**arguments)


STATUS_CASES = [
    pytest.param({IMG1: 'pending', IMG2: 'rejected'}, 'accepted', None, 100,
                 [put([IMG1, IMG2], PA, 'accepted')], id='accept-pending-and-rejected'),
    pytest.param({IMG1: 'accepted', IMG2: 'pending'}, 'accepted', None, 100,
                 [put([IMG2], PA, 'accepted')], id='only-differing'),
    pytest.param({IMG1: 'accepted'}, 'accepted', 'vault-1', 100, [], id='unchanged'),
    pytest.param({IMG1: 'accepted', IMG2: 'pending'}, 'rejected', None, 100,
                 [put([IMG1, IMG2], PA, 'rejected')], id='reject'),
    pytest.param({IMG1: 'pending', IMG2: 'pending', IMG3: 'pending'}, 'accepted', 'vault-1', 2,
                 [put([IMG1, IMG2], PA, 'accepted', 'vault-1'), put([IMG3], PA, 'accepted', 'vault-1')],
                 id='vault-and-chunks'),
]


@pytest.mark.parametrize('current, status, vault_id, batch_size, expected', STATUS_CASES)
def test_plan_batch_status_changes(current, status, vault_id, batch_size, expected):
    assert batch.plan_batch_status_changes(current, status, PA, vault_id, batch_size) == expected


def test_plan_batch_status_changes_refuses_images_without_membership():
    current = {IMG1: 'pending', IMG2: None, IMG3: None}
    assert batch.images_without_membership(current) == [IMG2, IMG3]
    with pytest.raises(IMSError, match='not a member of image.*%s, %s' % (IMG2, IMG3)):
        batch.plan_batch_status_changes(current, 'accepted', PA, None, 100)


def test_plan_batch_status_changes_rejects_pending():
    with pytest.raises(IMSError, match='status must be one of accepted, rejected'):
        batch.plan_batch_status_changes({IMG1: 'accepted'}, 'pending', PA, None, 100)


def test_membership_and_statuses_from_members():
    members = {
        IMG1: [{'member_id': PB, 'status': 'accepted'}, {'member_id': PA, 'status': 'pending'}],
        IMG2: [],
    }
    assert batch.membership_from_members(members) == {IMG1: [PA, PB], IMG2: []}
    assert batch.statuses_from_members(members, PA) == {IMG1: 'pending', IMG2: None}


def test_planned_pairs_and_predicted_membership():
    current = {IMG1: [PC], IMG2: []}
    plan = [post([IMG1, IMG2], [PA]), delete([IMG1], [PC])]
    assert batch.planned_pairs(plan, 'POST') == [{'image_id': IMG1, 'project_id': PA}, {'image_id': IMG2, 'project_id': PA}]
    assert batch.planned_pairs(plan, 'DELETE') == [{'image_id': IMG1, 'project_id': PC}]
    assert batch.predict_membership(current, plan) == {IMG1: [PA], IMG2: [PA]}
    assert current == {IMG1: [PC], IMG2: []}, 'the prediction must not modify its input'


SPLIT_CASES = [
    pytest.param([post([IMG1, IMG2], [PA, PB])], {IMG1: [PA, PB], IMG2: []},
                 [(IMG1, PA), (IMG1, PB)], [(IMG2, PA), (IMG2, PB)], id='add-half-applied'),
    pytest.param([delete([IMG1], [PA, PB])], {IMG1: [PB]},
                 [(IMG1, PA)], [(IMG1, PB)], id='delete-half-applied'),
    pytest.param([put([IMG1, IMG2], PA, 'accepted')], {IMG1: 'accepted', IMG2: 'pending'},
                 [(IMG1, PA)], [(IMG2, PA)], id='status-half-applied'),
    pytest.param([post([IMG3], [PA])], {}, [], [(IMG3, PA)], id='image-not-read-back'),
]


@pytest.mark.parametrize('requests, after, applied, not_applied', SPLIT_CASES)
def test_split_applied(requests, after, applied, not_applied):
    got_applied, got_not_applied = batch.split_applied(requests, after)
    assert [(p['image_id'], p['project_id']) for p in got_applied] == applied
    assert [(p['image_id'], p['project_id']) for p in got_not_applied] == not_applied


def test_predict_statuses_and_status_changes():
    before = {IMG1: 'pending', IMG2: 'accepted'}
    after = batch.predict_statuses(before, [put([IMG1], PA, 'accepted')])
    assert after == {IMG1: 'accepted', IMG2: 'accepted'}
    assert batch.status_changes(before, after) == [{'image_id': IMG1, 'before': 'pending', 'after': 'accepted'}]


def test_job_record_from_a_finished_job():
    job = {'job_id': 'f' * 32, 'job_type': 'imsAddImageMembersJob', 'status': 'FAIL', 'begin_time': '2024-11-06T06:30:00.778Z',
           'end_time': '2024-11-06T06:30:03.179Z', 'error_code': 'IMG.0098', 'fail_reason': 'The encrypted image cannot be shared.',
           'entities': {'results': [{'image_id': IMG1, 'status': 'failed'}]}}
    record = batch.job_record(post([IMG1], [PA]), job)
    assert record == {'job_id': 'f' * 32, 'job_type': 'imsAddImageMembersJob', 'status': 'FAIL',
                      'begin_time': '2024-11-06T06:30:00.778Z', 'end_time': '2024-11-06T06:30:03.179Z',
                      'error_code': 'IMG.0098', 'fail_reason': 'The encrypted image cannot be shared.',
                      'results': [{'image_id': IMG1, 'status': 'failed'}], 'request': post([IMG1], [PA])}


def test_job_record_of_a_job_not_waited_for():
    record = batch.job_record(put([IMG1], PA, 'accepted'), job_id='e' * 32)
    assert record['job_id'] == 'e' * 32
    assert record['status'] == 'INIT'
    assert record['job_type'] == 'imsUpdateImageMembersJob'
    assert record['results'] == []
    assert record['error_code'] is None and record['end_time'] is None


def test_describe_pairs_and_failure_message():
    pairs = [{'image_id': 'i%d' % n, 'project_id': 'p'} for n in range(12)]
    assert batch.describe_pairs(pairs[:2]) == 'i0/p, i1/p'
    assert batch.describe_pairs(pairs).endswith('i9/p, and 2 more')
    assert batch.describe_pairs([]) == 'none'
    message = batch.failure_message(['job 42 (imsAddImageMembersJob) failed: IMG.0098 encrypted'], pairs[:1], pairs[1:3])
    assert message.startswith('job 42 (imsAddImageMembersJob) failed: IMG.0098 encrypted. ')
    assert '1 of 3 pair(s) applied (i0/p); not applied: i1/p, i2/p.' in message
    assert 're-run' in message
