# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ims_image_member_batch: the real module and the real client, with IMS faked by responses.

FakeImageService (tests/unit/helpers.py) keeps a membership table and answers the member listings, the native member
calls, the batch API and the job query from it, so the tests can assert what the module sent, what it returned and
what the cloud holds afterwards.
"""
from __future__ import annotations

import json

import pytest
import yaml

from ansible_collections.imscloud.sharing.plugins.module_utils import executor_jobs
from ansible_collections.imscloud.sharing.plugins.module_utils import waiter
from ansible_collections.imscloud.sharing.plugins.module_utils.client import IMSClient
from ansible_collections.imscloud.sharing.plugins.modules import ims_image_member_batch as batch_module
from ansible_collections.imscloud.sharing.tests.unit.helpers import FakeClock
from ansible_collections.imscloud.sharing.tests.unit.helpers import FakeImageService
from ansible_collections.imscloud.sharing.tests.unit.helpers import run_module as run

IAM = 'https://iam.example.test/v3'
IMS = 'https://ims.example.test'
# sorted: OWNER < CONSUMER < THIRD < OTHER (the plan sorts project ids)
OWNER = 'aa000000000000000000000000000001'
CONSUMER = 'cc000000000000000000000000000001'
THIRD = 'dd000000000000000000000000000001'
OTHER = 'ee000000000000000000000000000001'
PASSWORD = 'owner-pa55word-SECRET'
IMG_A = 'd164b5df-1bc3-4c3f-893e-3e471fd16e64'
IMG_B = '0b680482-acaa-4045-b14c-9a8c7dfe9c70'
IMG_C = '6596628c-42d4-4ff1-8660-8ea5ae61f243'
IMG_ENC = '30e55148-deb9-4923-adb9-91618de16ba0'
STANDARD_KEYS = {'changed', 'failed', 'msg', 'warnings', 'diff', 'error'}


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setitem(IMSClient.__init__.__kwdefaults__, 'sleep', fake.sleep)
    monkeypatch.setitem(IMSClient.__init__.__kwdefaults__, 'clock', fake.monotonic)
    return fake


@pytest.fixture
def ims(http, clock):
    return FakeImageService(http, IAM, IMS, OWNER)


@pytest.fixture
def consumer_ims(http, clock):
    # the same cloud; these tests run the module with credentials scoped to CONSUMER
    return FakeImageService(http, IAM, IMS, OWNER)


def auth(project_id=OWNER):
    return {'auth_url': IAM, 'username': 'alice', 'password': PASSWORD, 'user_domain_name': 'dom', 'project_id': project_id}


def run_module(args, check_mode=False, diff=False):
    args = dict(args)
    args.setdefault('auth', auth())
    # these tests drive the job executor; the api rule and the native executor have their own tests below
    args.setdefault('api', 'jobs')
    return run(batch_module.main, args, check_mode=check_mode, diff=diff)


def pairs(*items):
    return [{'image_id': image_id, 'project_id': project_id} for image_id, project_id in items]


# ---------------------------------------------------------------- owner side

def test_share_from_nothing_is_one_job_and_reports_it(ims):
    ims.image(IMG_A, 'golden-a')
    ims.image(IMG_B, 'golden-b')
    result = run_module({'images': [IMG_A, IMG_B], 'projects': [OTHER, CONSUMER]}, diff=True)

    assert result['changed'] is True
    assert ims.submissions == [('POST', {'images': [IMG_A, IMG_B], 'projects': [CONSUMER, OTHER]})]
    assert result['plan'] == [{'method': 'POST', 'images': [IMG_A, IMG_B], 'projects': [CONSUMER, OTHER]}]
    [job] = result['jobs']
    assert job['job_id'] == '%032x' % 1
    assert job['job_type'] == 'imsAddImageMembersJob'
    assert job['status'] == 'SUCCESS'
    assert job['error_code'] is None and job['fail_reason'] is None
    assert job['begin_time'] == '2024-11-06T06:30:00.778Z' and job['end_time'] == '2024-11-06T06:30:03.179Z'
    assert job['results'] == [{'image_id': IMG_A, 'status': 'success'}, {'image_id': IMG_B, 'status': 'success'}]
    assert job['request'] == result['plan'][0]
    assert result['added'] == pairs((IMG_B, CONSUMER), (IMG_B, OTHER), (IMG_A, CONSUMER), (IMG_A, OTHER))
    assert result['removed'] == []
    assert result['before'] == {IMG_A: [], IMG_B: []}
    assert result['after'] == {IMG_A: [CONSUMER, OTHER], IMG_B: [CONSUMER, OTHER]}
    assert result['diff'] == {'before': result['before'], 'after': result['after'],
                              'before_header': 'member projects per image, before',
                              'after_header': 'member projects per image, after'}
    assert result['images'] == [{'id': IMG_A, 'name': None}, {'id': IMG_B, 'name': None}]
    assert ims.membership() == {IMG_A: {CONSUMER: 'pending', OTHER: 'pending'}, IMG_B: {CONSUMER: 'pending', OTHER: 'pending'}}
    # the request budget: N member reads, one submission, one poll; ids cost no image lookup
    assert len(ims.calls('GET', '/members')) == 2
    assert len(ims.calls('GET', '/jobs/')) == 1
    # one cheap read says the cloud has the batch API (then it is cached with the token)
    assert len(ims.calls('GET', '/v2/cloudimages')) == 1
    assert len(ims.calls()) == 5
    assert result['executor'] == {'name': 'jobs', 'reason': 'api: jobs'}


def test_unchanged_rerun_reads_only(ims):
    ims.image(IMG_A, 'golden-a', members=[(CONSUMER, 'accepted'), (OTHER, 'pending')])
    ims.image(IMG_B, 'golden-b', members=[(CONSUMER, 'rejected'), (OTHER, 'accepted'), (THIRD, 'pending')])
    result = run_module({'images': [IMG_A, IMG_B], 'projects': [CONSUMER, OTHER]})
    assert result['changed'] is False
    assert result['plan'] == [] and result['jobs'] == [] and result['added'] == [] and result['removed'] == []
    assert result['before'] == result['after'] == {IMG_A: [CONSUMER, OTHER], IMG_B: [CONSUMER, THIRD, OTHER]}
    assert ims.submissions == []
    assert len(ims.calls()) == 2


def test_check_mode_returns_the_exact_plan_without_writing(ims):
    ims.image(IMG_A, 'golden-a', members=[(CONSUMER, 'accepted')])
    ims.image(IMG_B, 'golden-b')
    result = run_module({'images': ['golden-a', 'golden-b'], 'projects': [CONSUMER, OTHER]}, check_mode=True, diff=True)
    assert result['changed'] is True
    assert result['plan'] == [{'method': 'POST', 'images': [IMG_A], 'projects': [OTHER]},
                              {'method': 'POST', 'images': [IMG_B], 'projects': [CONSUMER, OTHER]}]
    assert result['jobs'] == []
    assert result['added'] == pairs((IMG_B, CONSUMER), (IMG_B, OTHER), (IMG_A, OTHER))
    assert result['after'] == {IMG_A: [CONSUMER, OTHER], IMG_B: [CONSUMER, OTHER]}
    assert result['diff']['before'] == {IMG_A: [CONSUMER], IMG_B: []}
    assert result['images'] == [{'id': IMG_A, 'name': 'golden-a', }, {'id': IMG_B, 'name': 'golden-b'}]
    assert ims.submissions == []
    assert ims.calls('POST') == []
    # names are looked up among the caller's own images
    assert all('owner=%s' % OWNER in request.url for request in ims.calls('GET', '/v2/images?'))


def test_partial_overlap_sends_only_the_missing_pairs_grouped(ims):
    ims.image(IMG_A, 'a', members=[(CONSUMER, 'accepted')])
    ims.image(IMG_B, 'b')
    ims.image(IMG_C, 'c', members=[(CONSUMER, 'pending')])
    result = run_module({'images': [IMG_A, IMG_B, IMG_C], 'projects': [CONSUMER, OTHER]})
    assert [body for _method, body in ims.submissions] == [
        {'images': [IMG_A, IMG_C], 'projects': [OTHER]}, {'images': [IMG_B], 'projects': [CONSUMER, OTHER]}]
    assert [job['status'] for job in result['jobs']] == ['SUCCESS', 'SUCCESS']
    assert result['after'] == {IMG_A: [CONSUMER, OTHER], IMG_B: [CONSUMER, OTHER], IMG_C: [CONSUMER, OTHER]}


def test_batch_size_splits_images_and_projects(ims):
    for image_id in (IMG_A, IMG_B, IMG_C):
        ims.image(image_id, image_id)
    result = run_module({'images': [IMG_A, IMG_B, IMG_C], 'projects': [CONSUMER, OTHER, THIRD], 'batch_size': 2})
    assert [(body['images'], body['projects']) for _m, body in ims.submissions] == [
        ([IMG_A, IMG_B], [CONSUMER, THIRD]), ([IMG_A, IMG_B], [OTHER]), ([IMG_C], [CONSUMER, THIRD]), ([IMG_C], [OTHER])]
    assert len(result['jobs']) == 4
    assert all(len(ims.membership()[image_id]) == 3 for image_id in (IMG_A, IMG_B, IMG_C))


def test_purge_removes_unlisted_members_after_adding(ims):
    ims.image(IMG_A, 'a', members=[(CONSUMER, 'accepted'), (OTHER, 'pending')])
    ims.image(IMG_B, 'b', members=[(THIRD, 'accepted')])
    result = run_module({'images': [IMG_A, IMG_B], 'projects': [CONSUMER], 'purge_projects': True})
    assert ims.submissions == [('POST', {'images': [IMG_B], 'projects': [CONSUMER]}),
                               ('DELETE', {'images': [IMG_A], 'projects': [OTHER]}),
                               ('DELETE', {'images': [IMG_B], 'projects': [THIRD]})]
    assert [job['job_type'] for job in result['jobs']] == ['imsAddImageMembersJob', 'imsDelImageMembersJob', 'imsDelImageMembersJob']
    assert result['removed'] == pairs((IMG_B, THIRD), (IMG_A, OTHER))
    assert ims.membership() == {IMG_A: {CONSUMER: 'accepted'}, IMG_B: {CONSUMER: 'pending'}}


def test_purge_with_an_empty_list_clears_every_member(ims):
    ims.image(IMG_A, 'a', members=[(CONSUMER, 'accepted'), (OTHER, 'pending')])
    result = run_module({'images': [IMG_A], 'projects': [], 'purge_projects': True})
    assert ims.submissions == [('DELETE', {'images': [IMG_A], 'projects': [CONSUMER, OTHER]})]
    assert result['after'] == {IMG_A: []}
    assert ims.membership() == {}


def test_absent_removes_only_listed_members(ims):
    ims.image(IMG_A, 'a', members=[(CONSUMER, 'accepted'), (OTHER, 'pending')])
    ims.image(IMG_B, 'b', members=[(OTHER, 'pending')])
    result = run_module({'images': [IMG_A, IMG_B], 'projects': [CONSUMER], 'state': 'absent'})
    assert ims.submissions == [('DELETE', {'images': [IMG_A], 'projects': [CONSUMER]})]
    assert result['removed'] == pairs((IMG_A, CONSUMER))
    assert ims.membership() == {IMG_A: {OTHER: 'pending'}, IMG_B: {OTHER: 'pending'}}


def test_wait_false_returns_the_submitted_jobs(ims):
    ims.image(IMG_A, 'a')
    result = run_module({'images': [IMG_A], 'projects': [CONSUMER], 'wait': False})
    assert result['changed'] is True
    [job] = result['jobs']
    assert job['job_id'] == '%032x' % 1 and job['status'] == 'INIT' and job['end_time'] is None
    assert job['job_type'] == 'imsAddImageMembersJob' and job['results'] == []
    assert result['after'] == {IMG_A: [CONSUMER]}
    assert ims.calls('GET', '/jobs/') == []


def test_failed_job_reports_applied_and_not_applied_pairs(ims):
    ims.image(IMG_A, 'a')
    ims.image(IMG_ENC, 'encrypted')
    ims.job_script = [{'fail': {IMG_ENC: 'IMG.0099'}}]
    result = run_module({'images': [IMG_A, IMG_ENC], 'projects': [CONSUMER]})
    assert result['failed'] is True
    job_id = '%032x' % 1
    assert 'job %s (imsAddImageMembersJob' % job_id in result['msg']
    assert 'failed with IMG.0099: The reason of IMG.0099.' in result['msg']
    assert 'Grant the key' in result['msg']
    assert '1 of 2 pair(s) applied (%s/%s); not applied: %s/%s.' % (IMG_A, CONSUMER, IMG_ENC, CONSUMER) in result['msg']
    assert result['applied'] == pairs((IMG_A, CONSUMER))
    assert result['not_applied'] == pairs((IMG_ENC, CONSUMER))
    assert result['added'] == pairs((IMG_A, CONSUMER)), 'added lists only what was read back'
    assert result['jobs'][0]['status'] == 'FAIL' and result['jobs'][0]['error_code'] == 'IMG.0099'
    assert result['jobs'][0]['results'] == [{'image_id': IMG_A, 'status': 'success'}, {'image_id': IMG_ENC, 'status': 'failed'}]
    assert result['before'] == {IMG_A: [], IMG_ENC: []}
    assert result['after'] == {IMG_A: [CONSUMER], IMG_ENC: []}, 'after is read back, not predicted'
    assert result['changed'] is True
    # the members were read again after the failure
    assert len(ims.calls('GET', '/members')) == 4

    # a re-run without the bad image converges with reads only
    again = run_module({'images': [IMG_A], 'projects': [CONSUMER]})
    assert again['changed'] is False and len(ims.submissions) == 1


def test_timeout_fails_and_names_the_running_job(ims, clock):
    ims.image(IMG_A, 'a')
    ims.job_script = ['running']
    result = run_module({'images': [IMG_A], 'projects': [CONSUMER], 'timeout': 5})
    assert result['failed'] is True
    job_id = '%032x' % 1
    assert 'job %s (imsAddImageMembersJob) did not finish within 5 seconds (last status RUNNING)' % job_id in result['msg']
    assert 'it keeps running in IMS' in result['msg']
    assert result['jobs'][0]['status'] == 'RUNNING'
    assert result['not_applied'] == pairs((IMG_A, CONSUMER))
    assert sum(clock.sleeps) == pytest.approx(5.0)


def test_refused_submission_stops_and_reports(ims):
    ims.image(IMG_A, 'a')
    ims.image(IMG_B, 'b', members=[(OTHER, 'accepted')])
    ims.submit_script = ['ok', (400, 'IMG.0060')]
    result = run_module({'images': [IMG_A, IMG_B], 'projects': [CONSUMER], 'purge_projects': True})
    assert result['failed'] is True
    assert len(ims.submissions) == 2
    assert 'DELETE of 1 image(s) x 1 project(s) was refused' in result['msg']
    assert 'IMG.0060' in result['msg'] and 'throttling' in result['msg']
    assert result['applied'] == pairs((IMG_A, CONSUMER), (IMG_B, CONSUMER))
    assert result['not_applied'] == pairs((IMG_B, OTHER))
    assert result['removed'] == []
    assert result['changed'] is True


def test_unreadable_job_status_fails_naming_the_job(ims):
    ims.image(IMG_A, 'a')
    ims.job_poll_error = 400
    result = run_module({'images': [IMG_A], 'projects': [CONSUMER]})
    # nothing was applied when the members were read again: not changed (the job may still apply it later)
    assert result['failed'] is True and result['changed'] is False
    assert result['not_applied'] == pairs((IMG_A, CONSUMER))
    assert 'could not read the status of job %032x' % 1 in result['msg'] and 'IMG.0023' in result['msg']
    assert result['jobs'][0]['status'] == 'INIT'


def test_refused_first_request_changes_nothing(ims):
    ims.image(IMG_A, 'a')
    ims.submit_script = [(400, 'IMG.0001')]
    result = run_module({'images': [IMG_A], 'projects': [CONSUMER]})
    assert result['failed'] is True and result['changed'] is False
    assert result['jobs'] == [] and result['added'] == []
    assert result['not_applied'] == pairs((IMG_A, CONSUMER))


def test_refused_request_without_waiting_reports_the_jobs_submitted(ims):
    ims.image(IMG_A, 'a')
    ims.image(IMG_B, 'b', members=[(OTHER, 'accepted')])
    ims.submit_script = ['ok', (400, 'IMG.0047')]
    result = run_module({'images': [IMG_A, IMG_B], 'projects': [CONSUMER], 'purge_projects': True, 'wait': False})
    assert result['failed'] is True and result['changed'] is True
    assert 'Only the image owner can do this' in result['msg']
    assert 'Jobs submitted before: %032x' % 1 in result['msg']
    assert [job['status'] for job in result['jobs']] == ['INIT']
    assert result['after'] == {IMG_A: [CONSUMER], IMG_B: [CONSUMER, OTHER]}, 'the prediction of the submitted job only'
    assert ims.calls('GET', '/jobs/') == []


def test_sharing_with_the_owner_project_is_refused_before_any_write(ims):
    ims.image(IMG_A, 'golden-a')
    result = run_module({'images': ['golden-a'], 'projects': [OWNER]})
    assert result['failed'] is True
    assert 'cannot be shared with its own project' in result['msg'] and IMG_A in result['msg']
    assert ims.calls('GET', '/members') == [] and ims.submissions == []


def test_unknown_image_id_fails_naming_the_option(ims):
    result = run_module({'images': [IMG_C], 'projects': [CONSUMER]})
    assert result['failed'] is True
    assert 'check the image id' in result['msg'] and IMG_C in result['msg']
    assert ims.submissions == []


# ---------------------------------------------------------------- uncertain submissions

def test_uncertain_submission_that_created_no_job_is_sent_again_after_settling(ims, clock):
    ims.image(IMG_A, 'a')
    ims.submit_script = ['500']
    result = run_module({'images': [IMG_A], 'projects': [CONSUMER, OTHER]})
    assert result['changed'] is True
    assert len(ims.submissions) == 2 and ims.submissions[0] == ims.submissions[1]
    assert [job['job_id'] for job in result['jobs']] == ['%032x' % 1]
    assert ims.membership() == {IMG_A: {CONSUMER: 'pending', OTHER: 'pending'}}
    assert any('may or may not have created a job' in w and 'sent again' in w for w in result['warnings'])
    # it watched the members for the settle window (30 s), not longer
    assert sum(clock.sleeps) == pytest.approx(executor_jobs.SETTLE_SECONDS + waiter.FIRST_POLL)


def test_uncertain_submission_whose_job_exists_is_not_sent_again(ims):
    ims.image(IMG_A, 'a')
    ims.image(IMG_B, 'b')
    ims.submit_script = ['drop-after']
    result = run_module({'images': [IMG_A, IMG_B], 'projects': [CONSUMER]})
    assert result['changed'] is True
    assert len(ims.submissions) == 1
    assert result['jobs'] == []
    assert ims.membership() == {IMG_A: {CONSUMER: 'pending'}, IMG_B: {CONSUMER: 'pending'}}
    assert any('every pair is in place' in w for w in result['warnings'])


def test_uncertain_submission_resends_only_the_missing_pairs(ims):
    ims.image(IMG_A, 'a')
    ims.image(IMG_B, 'b')
    ims.submit_script = ['500']

    def race(request):
        if not ims.submissions:
            # someone else adds one of the pairs while the first request is in doubt
            ims.seed(IMG_A, CONSUMER, 'pending')

    ims.before['submit'] = race
    run_module({'images': [IMG_A, IMG_B], 'projects': [CONSUMER]})
    assert [body for _m, body in ims.submissions] == [{'images': [IMG_A, IMG_B], 'projects': [CONSUMER]},
                                                      {'images': [IMG_B], 'projects': [CONSUMER]}]


def test_resent_job_failing_on_pairs_already_in_place_counts_as_converged(ims):
    ims.image(IMG_A, 'a')
    # the first submission was processed but its answer lost; its job completes only after the settle window
    ims.submit_script = ['500']
    ims.job_script = [{'fail': {IMG_A: 'IMG.0112'}}]
    ims.before['poll'] = lambda request: ims.seed(IMG_A, CONSUMER, 'pending')
    result = run_module({'images': [IMG_A], 'projects': [CONSUMER]})
    assert 'failed' not in result
    assert result['changed'] is True
    assert result['jobs'][0]['status'] == 'FAIL'
    assert any('every pair it was sent for is in place' in w and 'counted as a success' in w for w in result['warnings'])
    # a job that failed only because its pairs were already in place: a success, and the message says nothing else
    assert result['applied'] == pairs((IMG_A, CONSUMER)) and result['not_applied'] == []
    assert result['after'] == {IMG_A: [CONSUMER]}


def test_repeatedly_uncertain_submission_gives_up_after_retries_plus_one_attempts(ims):
    ims.image(IMG_A, 'a')
    ims.submit_script = ['500', '500', '500', '500']
    result = run_module({'images': [IMG_A], 'projects': [CONSUMER], 'retries': 2})
    assert result['failed'] is True
    assert len(ims.submissions) == 3
    assert 'stayed uncertain after 3 attempts' in result['msg']
    assert result['not_applied'] == pairs((IMG_A, CONSUMER))


# ---------------------------------------------------------------- recipient side

def test_recipient_accepts_only_what_differs(consumer_ims):
    ims = consumer_ims
    ims.image(IMG_A, 'a', members=[(CONSUMER, 'pending')])
    ims.image(IMG_B, 'b', members=[(CONSUMER, 'accepted'), (OTHER, 'pending')])
    ims.image(IMG_C, 'c', members=[(CONSUMER, 'rejected')])
    result = run_module({'auth': auth(CONSUMER), 'images': ['a', 'b', 'c'], 'status': 'accepted'}, diff=True)
    assert ims.submissions == [('PUT', {'images': [IMG_A, IMG_C], 'project_id': CONSUMER, 'status': 'accepted'})]
    assert result['jobs'][0]['job_type'] == 'imsUpdateImageMembersJob'
    assert result['status_changed'] == [{'image_id': IMG_A, 'before': 'pending', 'after': 'accepted'},
                                        {'image_id': IMG_C, 'before': 'rejected', 'after': 'accepted'}]
    assert result['before'] == {IMG_A: 'pending', IMG_B: 'accepted', IMG_C: 'rejected'}
    assert result['after'] == {IMG_A: 'accepted', IMG_B: 'accepted', IMG_C: 'accepted'}
    assert result['diff']['before'] == result['before'] and result['diff']['after'] == result['after']
    assert result['diff']['after_header'] == 'member status of %s per image, after' % CONSUMER
    assert 'added' not in result and 'removed' not in result
    # names are looked up among the images shared with the caller
    assert all('visibility=shared' in request.url for request in ims.calls('GET', '/v2/images?'))

    again = run_module({'auth': auth(CONSUMER), 'images': [IMG_A, IMG_B, IMG_C], 'status': 'accepted'})
    assert again['changed'] is False and len(ims.submissions) == 1


def test_recipient_passes_the_vault(consumer_ims):
    consumer_ims.image(IMG_A, 'a', members=[(CONSUMER, 'pending')])
    run_module({'auth': auth(CONSUMER), 'images': [IMG_A], 'status': 'accepted', 'vault_id': 'vault-1'})
    assert consumer_ims.submissions == [('PUT', {'images': [IMG_A], 'project_id': CONSUMER, 'status': 'accepted',
                                                 'vault_id': 'vault-1'})]


def test_recipient_without_membership_fails_before_any_write(consumer_ims):
    consumer_ims.image(IMG_A, 'a', members=[(CONSUMER, 'pending')])
    consumer_ims.image(IMG_B, 'b', members=[(OTHER, 'pending')])
    result = run_module({'auth': auth(CONSUMER), 'images': [IMG_A, IMG_B], 'status': 'rejected'})
    assert result['failed'] is True
    assert 'project %s is not a member of image(s) %s' % (CONSUMER, IMG_B) in result['msg']
    assert consumer_ims.submissions == []


def test_recipient_uncertain_submission_is_planned_again(consumer_ims, clock):
    consumer_ims.image(IMG_A, 'a', members=[(CONSUMER, 'pending')])
    consumer_ims.image(IMG_B, 'b', members=[(CONSUMER, 'pending')])
    consumer_ims.submit_script = ['500']
    result = run_module({'auth': auth(CONSUMER), 'images': [IMG_A, IMG_B], 'status': 'accepted', 'timeout': 4})
    assert consumer_ims.submissions == [('PUT', {'images': [IMG_A, IMG_B], 'project_id': CONSUMER, 'status': 'accepted'})] * 2
    assert result['status_changed'] == [{'image_id': IMG_A, 'before': 'pending', 'after': 'accepted'},
                                        {'image_id': IMG_B, 'before': 'pending', 'after': 'accepted'}]
    # the settle window is min(30 s, timeout)
    assert sum(clock.sleeps) == pytest.approx(4.0 + waiter.FIRST_POLL)


def test_recipient_check_mode(consumer_ims):
    consumer_ims.image(IMG_A, 'a', members=[(CONSUMER, 'accepted')])
    result = run_module({'auth': auth(CONSUMER), 'images': [IMG_A], 'status': 'rejected'}, check_mode=True)
    assert result['changed'] is True
    assert result['plan'] == [{'method': 'PUT', 'images': [IMG_A], 'project_id': CONSUMER, 'status': 'rejected'}]
    assert result['status_changed'] == [{'image_id': IMG_A, 'before': 'accepted', 'after': 'rejected'}]
    assert consumer_ims.submissions == []


def test_recipient_failed_job_reports_per_image(consumer_ims):
    consumer_ims.image(IMG_A, 'a', members=[(CONSUMER, 'pending')])
    consumer_ims.image(IMG_B, 'b', members=[(CONSUMER, 'pending')])
    consumer_ims.job_script = [{'fail': {IMG_B: 'IMG.0086'}}]
    result = run_module({'auth': auth(CONSUMER), 'images': [IMG_A, IMG_B], 'status': 'accepted'})
    assert result['failed'] is True
    assert result['applied'] == pairs((IMG_A, CONSUMER))
    assert result['not_applied'] == pairs((IMG_B, CONSUMER))
    assert result['after'] == {IMG_A: 'accepted', IMG_B: 'pending'}


# ---------------------------------------------------------------- validation: before any request

@pytest.mark.parametrize('args, message', [
    ({'images': [IMG_A], 'projects': ['not-a-project']}, "projects: invalid project id(s): item 0 'not-a-project'"),
    ({'images': [IMG_A], 'projects': []}, 'projects is empty'),
    ({'images': [IMG_A], 'projects': [CONSUMER], 'state': 'absent', 'purge_projects': True},
     'purge_projects=true cannot be combined with state=absent'),
    ({'images': [IMG_A], 'projects': [CONSUMER], 'batch_size': 0}, 'batch_size must be an integer of at least 1'),
    ({'images': [IMG_A], 'projects': [CONSUMER], 'timeout': 0}, 'timeout must be a positive number of seconds'),
    ({'images': ['  '], 'projects': [CONSUMER]}, 'images: item 0 is empty'),
    ({'images': [], 'projects': [CONSUMER]}, 'images is empty'),
    ({'images': [IMG_A], 'status': 'rejected', 'vault_id': 'v1'}, 'vault_id applies only with status=accepted'),
    ({'images': [IMG_A], 'status': 'accepted', 'vault_id': ' '}, 'vault_id is empty'),
    ({'images': [IMG_A], 'status': 'accepted', 'project_id': 'xyz'}, "project_id: invalid project id(s): item 0 'xyz'"),
    ({'images': [IMG_A], 'projects': [CONSUMER], 'status': 'accepted'}, 'mutually exclusive'),
    ({'images': [IMG_A], 'state': 'absent', 'status': 'accepted'}, 'mutually exclusive'),
    ({'images': [IMG_A]}, 'one of the following is required: projects, project_names, status'),
    ({'images': [IMG_A], 'projects': [CONSUMER], 'vault_id': 'v1'}, 'missing parameter(s) required by \'vault_id\': status'),
])
def test_bad_input_fails_before_any_request(http, args, message):
    result = run_module(args)
    assert result['failed'] is True
    assert message in result['msg']
    assert len(http.calls) == 0


def test_duplicate_projects_warn(ims):
    ims.image(IMG_A, 'a')
    result = run_module({'images': [IMG_A, IMG_A.upper()], 'projects': [CONSUMER, CONSUMER.upper()]})
    assert ims.submissions == [('POST', {'images': [IMG_A], 'projects': [CONSUMER]})]
    assert any('listed 2 times' in w for w in result['warnings'])
    assert any('more than once' in w for w in result['warnings'])


# ---------------------------------------------------------------- documentation

def _documented(returned):
    return dict((key, value) for key, value in yaml.safe_load(batch_module.RETURN).items() if returned(value['returned']))


def test_return_documents_exactly_the_keys_returned(ims):
    ims.image(IMG_A, 'a')
    owner = run_module({'images': [IMG_A], 'projects': [CONSUMER]})
    documented = yaml.safe_load(batch_module.RETURN)
    always = set(key for key, doc in documented.items() if doc['returned'] == 'always')
    owner_keys = always | {'added', 'removed'}
    assert set(owner) - STANDARD_KEYS == owner_keys
    job_keys = set(documented['jobs']['contains'])
    assert set(owner['jobs'][0]) == job_keys

    ims.job_script = [{'fail': {IMG_A: 'IMG.0099'}}]
    failed = run_module({'images': [IMG_A], 'projects': [OTHER]})
    assert set(failed) - STANDARD_KEYS == owner_keys | {'applied', 'not_applied'}


def test_return_documents_the_recipient_keys(consumer_ims):
    consumer_ims.image(IMG_A, 'a', members=[(CONSUMER, 'pending')])
    result = run_module({'auth': auth(CONSUMER), 'images': [IMG_A], 'status': 'accepted'})
    documented = yaml.safe_load(batch_module.RETURN)
    always = set(key for key, doc in documented.items() if doc['returned'] == 'always')
    assert set(result) - STANDARD_KEYS == always | {'status_changed', 'unverified', 'unverified_images'}
    assert (result['unverified'], result['unverified_images']) == (False, [])
    assert PASSWORD not in json.dumps(result)


# ---------------------------------------------------------------- the engine: api, native executor, partial failure

def test_auto_uses_native_calls_for_a_small_change_on_ims(ims):
    ims.image(IMG_A, 'a')
    result = run_module({'images': [IMG_A], 'projects': [CONSUMER, OTHER], 'api': 'auto'})
    assert result['changed'] is True
    assert result['executor']['name'] == 'native'
    assert result['executor']['reason'].startswith('auto: 2 pair(s) take 1 wave(s)')
    assert ims.submissions == [] and ims.calls('GET', '/jobs/') == []
    assert sorted(ims.writes) == [('POST', IMG_A, CONSUMER), ('POST', IMG_A, OTHER)]
    assert result['applied'] == pairs((IMG_A, CONSUMER), (IMG_A, OTHER)) and result['not_applied'] == []
    assert result['jobs'] == [] and result['errors'] == []
    assert ims.membership() == {IMG_A: {CONSUMER: 'pending', OTHER: 'pending'}}


def test_auto_uses_jobs_where_the_plan_is_bigger_than_the_native_waves(ims):
    ims.image(IMG_A, 'a')
    ims.image(IMG_B, 'b')
    # 26 pairs at concurrency 1 are 26 waves of native calls: more than a job round (25)
    projects = ['%032x' % (0xf0 + n) for n in range(13)]
    result = run_module({'images': [IMG_A, IMG_B], 'projects': projects, 'api': 'auto', 'concurrency': 1})
    assert result['executor']['name'] == 'jobs'
    assert result['executor']['reason'] == 'auto: 26 pairs need 26 waves of 1 native calls, longer than one job round'
    assert len(ims.submissions) == 1 and ims.writes == []


def test_auto_on_plain_glance_is_native_and_the_probe_is_cached_with_the_token(ims):
    ims.glance = True
    ims.image(IMG_A, 'a', visibility='shared')
    first = run_module({'images': [IMG_A], 'projects': [CONSUMER], 'api': 'auto'})
    assert first['executor'] == {'name': 'native', 'reason': 'auto: the cloud is plain OpenStack Glance (no IMS batch API)'}
    second = run_module({'images': [IMG_A], 'projects': [OTHER], 'api': 'auto'})
    assert second['executor']['name'] == 'native'
    assert len(ims.calls('GET', '/v2/cloudimages')) == 1
    assert ims.membership() == {IMG_A: {CONSUMER: 'pending', OTHER: 'pending'}}


def test_jobs_on_plain_glance_fail_before_any_write(ims):
    ims.glance = True
    ims.image(IMG_A, 'a', visibility='shared')
    result = run_module({'images': [IMG_A], 'projects': [CONSUMER], 'api': 'jobs'})
    assert result['failed'] is True
    assert 'this cloud is plain OpenStack Glance' in result['msg'] and 'api: native or api: auto' in result['msg']
    assert ims.submissions == [] and ims.writes == []
    assert result['changed'] is False and result['plan'] and result['jobs'] == []


def test_private_images_on_plain_glance_need_set_shared_visibility(ims):
    ims.glance = True
    ims.image(IMG_A, 'a')
    ims.image(IMG_B, 'b', visibility='shared')
    result = run_module({'images': [IMG_A, IMG_B], 'projects': [CONSUMER], 'api': 'native'})
    assert result['failed'] is True
    assert 'image(s) %s are private' % IMG_A in result['msg'] and 'set_shared_visibility: true' in result['msg']
    assert ims.writes == []
    shared = run_module({'images': [IMG_A, IMG_B], 'projects': [CONSUMER], 'api': 'native',
                         'set_shared_visibility': True})
    assert shared['changed'] is True
    assert ims.writes[0] == ('PATCH', IMG_A, None)
    assert ims.membership() == {IMG_A: {CONSUMER: 'pending'}, IMG_B: {CONSUMER: 'pending'}}


def test_native_partial_failure_applies_the_rest_and_reports_each_error(ims):
    ims.image(IMG_A, 'a')
    ims.image(IMG_B, 'b')
    ims.image(IMG_C, 'c', owner=OTHER, members=[(OWNER, 'accepted')])      # another owner's image, visible to us
    result = run_module({'images': [IMG_A, IMG_B, IMG_C], 'projects': [CONSUMER, THIRD], 'api': 'native'})
    assert result['failed'] is True
    assert result['changed'] is True
    assert result['applied'] == pairs((IMG_A, CONSUMER), (IMG_A, THIRD), (IMG_B, CONSUMER), (IMG_B, THIRD))
    assert result['not_applied'] == pairs((IMG_C, CONSUMER), (IMG_C, THIRD))
    assert [(e['image_id'], e['project_id'], e['operation'], e['error']['status']) for e in result['errors']] == [
        (IMG_C, CONSUMER, 'add', 403), (IMG_C, THIRD, 'add', 403)]
    assert '4 of 6 pair(s) applied' in result['msg'] and 'not applied: %s/%s' % (IMG_C, CONSUMER) in result['msg']
    assert result['error']['status'] == 403
    assert ims.membership()[IMG_A] == {CONSUMER: 'pending', THIRD: 'pending'}
    # a re-run sends only what is missing
    ims.writes.clear()
    again = run_module({'images': [IMG_A, IMG_B, IMG_C], 'projects': [CONSUMER, THIRD], 'api': 'native'})
    assert sorted(ims.writes) == [('POST', IMG_C, CONSUMER), ('POST', IMG_C, THIRD)]
    assert again['failed'] is True


def test_native_remove_meeting_404_means_the_member_is_gone(ims):
    ims.image(IMG_A, 'a', members=[(CONSUMER, 'accepted'), (OTHER, 'accepted')])
    # another process purged it first
    ims.before['delete'] = lambda request: ims.members.pop((IMG_A, OTHER), None)
    result = run_module({'images': [IMG_A], 'projects': [OTHER], 'state': 'absent', 'api': 'native'})
    assert 'failed' not in result
    assert result['removed'] == pairs((IMG_A, OTHER))
    assert ims.membership() == {IMG_A: {CONSUMER: 'accepted'}}


def test_failed_job_that_applied_nothing_is_not_changed(ims):
    ims.image(IMG_A, 'a')
    ims.job_script = [{'fail': {IMG_A: 'IMG.0099'}}]
    result = run_module({'images': [IMG_A], 'projects': [CONSUMER]})
    assert result['failed'] is True and result['changed'] is False
    assert result['applied'] == [] and result['not_applied'] == pairs((IMG_A, CONSUMER))
    assert result['error']['code'] == 'IMG.0099'


def test_the_owner_project_given_by_id_is_refused_before_any_read(ims):
    ims.image(IMG_A, 'a')
    result = run_module({'images': [IMG_A], 'projects': [CONSUMER, OWNER], 'api': 'native'})
    assert result['failed'] is True
    assert 'projects lists %s, the project that owns image(s) %s' % (OWNER, IMG_A) in result['msg']
    assert ims.calls('GET', '/members') == [] and ims.writes == []
    assert set(('images', 'plan', 'jobs', 'before', 'after', 'executor')) <= set(result)


def test_a_plan_over_the_member_quota_is_refused_before_any_write(ims):
    ims.image(IMG_A, 'a', members=[('%032x' % (0xa000 + n), 'accepted') for n in range(255)])
    result = run_module({'images': [IMG_A], 'projects': [CONSUMER, OTHER], 'api': 'native'})
    assert result['failed'] is True
    assert 'member quota of 256 per image (IMS)' in result['msg'] and '255 members + 2 new' in result['msg']
    assert ims.writes == [] and ims.submissions == []


def test_recipient_project_id_of_another_project_says_what_is_wrong(consumer_ims):
    consumer_ims.image(IMG_A, 'a', members=[(CONSUMER, 'pending'), (OTHER, 'pending')])
    result = run_module({'auth': auth(CONSUMER), 'images': [IMG_A], 'status': 'accepted', 'project_id': OTHER})
    assert result['failed'] is True
    assert 'only by the project it belongs to' in result['msg'] and 'is not a member' not in result['msg']
    assert consumer_ims.submissions == [] and consumer_ims.writes == []


def test_recipient_accepts_natively_one_put_per_image(consumer_ims):
    consumer_ims.glance = True
    consumer_ims.image(IMG_A, 'a', members=[(CONSUMER, 'pending')], visibility='shared')
    consumer_ims.image(IMG_B, 'b', members=[(CONSUMER, 'accepted')], visibility='shared')
    consumer_ims.image(IMG_C, 'c', members=[(CONSUMER, 'rejected')], visibility='shared')
    result = run_module({'auth': auth(CONSUMER), 'images': [IMG_A, IMG_B, IMG_C], 'status': 'accepted', 'api': 'auto'})
    assert result['executor']['name'] == 'native'
    assert sorted(consumer_ims.writes) == sorted([('PUT', IMG_A, CONSUMER), ('PUT', IMG_C, CONSUMER)])
    assert result['status_changed'] == [{'image_id': IMG_A, 'before': 'pending', 'after': 'accepted'},
                                        {'image_id': IMG_C, 'before': 'rejected', 'after': 'accepted'}]


def test_check_mode_predicts_what_the_native_run_does(ims):
    ims.image(IMG_A, 'a', members=[(OTHER, 'accepted')])
    ims.image(IMG_B, 'b')
    args = {'images': [IMG_A, IMG_B], 'projects': [CONSUMER], 'purge_projects': True, 'api': 'native'}
    planned = run_module(args, check_mode=True)
    assert ims.writes == []
    done = run_module(args)
    for key in ('plan', 'added', 'removed', 'after', 'executor'):
        assert planned[key] == done[key], key
    assert run_module(args)['changed'] is False


def test_a_job_left_pending_by_an_interrupted_run_is_waited_for_before_reading(ims):
    ims.image(IMG_A, 'a')
    ims.job_script = ['running']
    first = run_module({'images': [IMG_A], 'projects': [CONSUMER], 'wait': False})
    assert [job['status'] for job in first['jobs']] == ['INIT']
    # the job runs on; the controller is gone. The next run finds it in the journal and waits for it.
    ims.jobs['%032x' % 1]['script'] = None
    again = run_module({'images': [IMG_A], 'projects': [CONSUMER]})
    assert len(ims.submissions) == 1, 'the pair was not submitted twice'
    assert again['changed'] is False and again['plan'] == []
    assert any('earlier run submitted' in warning for warning in again['warnings'])
    assert ims.calls('GET', '/jobs/')


def test_recipient_check_mode_predicts_an_image_not_shared_yet(consumer_ims):
    consumer_ims.image(IMG_A, 'a', members=[(CONSUMER, 'pending')])
    consumer_ims.image(IMG_B, 'b', members=[(OTHER, 'pending')])        # not shared with the consumer yet
    result = run_module({'auth': auth(CONSUMER), 'images': [IMG_A, IMG_B], 'status': 'accepted'}, check_mode=True)
    assert 'failed' not in result and result['changed'] is True
    assert result['unverified'] is True
    assert [image['id'] for image in result['unverified_images']] == [IMG_B]
    assert result['plan'] == [{'method': 'PUT', 'images': [IMG_A, IMG_B], 'project_id': CONSUMER, 'status': 'accepted'}]
    assert any('not shared with project %s (yet)' % CONSUMER in warning for warning in result['warnings'])
    assert consumer_ims.submissions == [] and consumer_ims.writes == []
    # outside check mode a missing share is still an error
    real = run_module({'auth': auth(CONSUMER), 'images': [IMG_A, IMG_B], 'status': 'accepted'})
    assert real['failed'] is True and 'is not a member of image(s) %s' % IMG_B in real['msg']


def test_recipient_check_mode_predicts_shares_that_do_not_exist_yet(consumer_ims):
    consumer_ims.image(IMG_A, 'a', members=[(CONSUMER, 'pending')])
    consumer_ims.image(IMG_B, 'b')
    result = run_module({'auth': auth(CONSUMER), 'images': [IMG_A, IMG_B, 'not-yet'], 'status': 'accepted'},
                        check_mode=True)
    assert 'failed' not in result, result.get('msg')
    assert result['changed'] is True and result['unverified'] is True
    assert [(i['id'], i['name']) for i in result['unverified_images']] == [(None, 'not-yet'), (IMG_B, None)]
    assert [i['id'] for i in result['images']] == [IMG_A, IMG_B, None]
    assert sorted(result['plan'][0]['images']) == sorted([IMG_A, IMG_B, 'not-yet'])
    assert sum(1 for w in result['warnings'] if w.startswith('check mode:')) == 2
    assert consumer_ims.submissions == []


def test_recipient_without_the_share_fails_outside_check_mode(consumer_ims):
    consumer_ims.image(IMG_B, 'b')
    result = run_module({'auth': auth(CONSUMER), 'images': [IMG_B], 'status': 'accepted'})
    assert result['failed'] is True
    assert 'not a member' in result['msg'] or 'not shared' in result['msg']
