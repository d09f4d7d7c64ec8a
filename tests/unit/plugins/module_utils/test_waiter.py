# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.waiter import wait_for_job
from ansible_collections.imscloud.sharing.tests.unit.helpers import FakeClock

JOB = '9a175ac692fa12540193002a6d4b2720'


class ScriptedJob:
    """get_job replacement answering with a fixed sequence of statuses (the last one repeats)."""

    def __init__(self, statuses, fake_time, final=None) -> None:
        self.statuses = list(statuses)
        self.time = fake_time
        self.final = final or {}
        self.poll_times: list = []

    def __call__(self, job_id: str) -> dict:
        assert job_id == JOB
        self.poll_times.append(self.time.now)
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        job = {'job_id': JOB, 'job_type': 'imsAddImageMembersJob', 'status': status, 'entities': {}}
        if status.upper() in ('SUCCESS', 'FAIL'):
            job.update(self.final)
        return job


def test_success_after_running_with_growing_interval():
    clock = FakeClock()
    job = ScriptedJob(['INIT', 'RUNNING', 'RUNNING', 'RUNNING', 'SUCCESS'], clock)
    result = wait_for_job(job, JOB, timeout=300, clock=clock.monotonic, sleep=clock.sleep)
    assert result['status'] == 'SUCCESS'
    assert clock.sleeps == [1.0, 1.5, 2.25, 3.375]
    assert len(job.poll_times) == 5


def test_lower_case_terminal_statuses_are_accepted():
    clock = FakeClock()
    assert wait_for_job(ScriptedJob(['running', 'success'], clock), JOB, 10, clock=clock.monotonic, sleep=clock.sleep)['status'] == 'success'
    with pytest.raises(IMSError):
        wait_for_job(ScriptedJob(['fail'], clock), JOB, 10, clock=clock.monotonic, sleep=clock.sleep)


def test_interval_is_capped():
    clock = FakeClock()
    job = ScriptedJob(['RUNNING'] * 12 + ['SUCCESS'], clock)
    wait_for_job(job, JOB, timeout=1000, poll_initial=1.0, poll_max=10.0, clock=clock.monotonic, sleep=clock.sleep)
    assert max(clock.sleeps) == 10.0
    assert clock.sleeps[-3:] == [10.0, 10.0, 10.0]


def test_failure_carries_the_job_details():
    clock = FakeClock()
    results = [{'image_id': 'img-1', 'project_id': 'p1', 'status': 'failed'}, {'image_id': 'img-2', 'status': 'success'}]
    job = ScriptedJob(['RUNNING', 'FAIL'], clock, final={
        'error_code': 'IMG.0088', 'fail_reason': 'member quota exceeded', 'entities': {'results': results},
        'begin_time': '2024-11-06T06:30:00.778Z', 'end_time': '2024-11-06T06:30:03.179Z'})
    with pytest.raises(IMSError) as caught:
        wait_for_job(job, JOB, timeout=60, clock=clock.monotonic, sleep=clock.sleep)
    err = caught.value
    assert err.status is None and err.code == 'IMG.0088'
    assert err.details == {'job_id': JOB, 'job_type': 'imsAddImageMembersJob', 'status': 'FAIL', 'error_code': 'IMG.0088',
                           'fail_reason': 'member quota exceeded', 'results': results,
                           'begin_time': '2024-11-06T06:30:00.778Z', 'end_time': '2024-11-06T06:30:03.179Z'}
    assert str(err) == ('IMS job %s (imsAddImageMembersJob) failed with IMG.0088: member quota exceeded '
                        '(1 of 2 results failed)' % JOB)


def test_failure_without_reason():
    clock = FakeClock()
    with pytest.raises(IMSError, match='failed: the service gave no reason$'):
        wait_for_job(ScriptedJob(['FAIL'], clock), JOB, timeout=5, clock=clock.monotonic, sleep=clock.sleep)


def test_timeout_never_sleeps_past_the_deadline_and_polls_at_the_deadline():
    clock = FakeClock()
    job = ScriptedJob(['RUNNING'], clock)
    with pytest.raises(IMSError) as caught:
        wait_for_job(job, JOB, timeout=5, clock=clock.monotonic, sleep=clock.sleep)
    # polls at 0, 1, 2.5 and 4.75 s, then sleeps only the 0.25 s left and polls a last time at the deadline
    assert clock.sleeps == [1.0, 1.5, 2.25, 0.25]
    assert [t - 1000.0 for t in job.poll_times] == [0.0, 1.0, 2.5, 4.75, 5.0]
    assert clock.now == 1005.0
    assert caught.value.details == {'job_id': JOB, 'last_status': 'RUNNING', 'timeout': 5}
    assert 'did not finish within 5 seconds (last status RUNNING, 5 polls)' in str(caught.value)


def test_zero_timeout_polls_once():
    clock = FakeClock()
    job = ScriptedJob(['INIT'], clock)
    with pytest.raises(IMSError):
        wait_for_job(job, JOB, timeout=0, clock=clock.monotonic, sleep=clock.sleep)
    assert len(job.poll_times) == 1 and clock.sleeps == []


def test_poll_errors_propagate():
    def broken(job_id):
        raise IMSError('forbidden', status=403, method='GET', url='https://ims.test/v1/p/jobs/' + job_id)

    clock = FakeClock()
    with pytest.raises(IMSError) as caught:
        wait_for_job(broken, JOB, timeout=10, clock=clock.monotonic, sleep=clock.sleep)
    assert caught.value.status == 403


def test_log_reports_each_wait():
    clock = FakeClock()
    lines = []
    wait_for_job(ScriptedJob(['INIT', 'SUCCESS'], clock), JOB, 10, clock=clock.monotonic, sleep=clock.sleep, log=lines.append)
    assert lines == ['job %s is INIT; next poll in 1.0 s' % JOB]
