# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils import waiter
from ansible_collections.imscloud.sharing.plugins.module_utils.waiter import next_poll_delay
from ansible_collections.imscloud.sharing.plugins.module_utils.waiter import wait_for_job
from ansible_collections.imscloud.sharing.plugins.module_utils.waiter import wait_for_jobs
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
        self.poll_times.append(self.time.now)
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        job = {'job_id': JOB, 'job_type': 'imsAddImageMembersJob', 'status': status, 'entities': {}}
        if status.upper() in ('SUCCESS', 'FAIL'):
            job.update(self.final)
        return job


def offsets(times, start=1000.0):
    return [round(t - start, 3) for t in times]


def test_no_poll_at_submission_then_fine_then_backing_off():
    clock = FakeClock()
    job = ScriptedJob(['RUNNING'] * 14 + ['SUCCESS'], clock)
    assert wait_for_job(job, JOB, timeout=300, clock=clock.monotonic, sleep=clock.sleep)['status'] == 'SUCCESS'
    # first poll after 1 s (a job takes 1-3 s), every 0.5 s up to 6 s, then growing intervals
    assert offsets(job.poll_times)[:12] == [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.75]
    gaps = [b - a for a, b in zip(job.poll_times[11:], job.poll_times[12:])]
    assert gaps == sorted(gaps) and gaps[0] > 0.5


def test_interval_is_capped():
    delays = [next_poll_delay(polls, 6.0 + polls) for polls in range(11, 40)]
    assert max(delays) == waiter.MAX_INTERVAL
    assert delays[-3:] == [waiter.MAX_INTERVAL] * 3


def test_a_job_submitted_a_while_ago_is_polled_at_once():
    assert next_poll_delay(0, 0.0) == waiter.FIRST_POLL
    assert next_poll_delay(0, 5.0) == 0.0


def test_lower_case_terminal_statuses_are_accepted():
    clock = FakeClock()
    assert wait_for_job(ScriptedJob(['running', 'success'], clock), JOB, 10, clock=clock.monotonic, sleep=clock.sleep)['status'] == 'success'
    with pytest.raises(IMSError):
        wait_for_job(ScriptedJob(['fail'], clock), JOB, 10, clock=clock.monotonic, sleep=clock.sleep)


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
        wait_for_job(job, JOB, timeout=2.2, clock=clock.monotonic, sleep=clock.sleep)
    assert offsets(job.poll_times) == pytest.approx([1.0, 1.5, 2.0, 2.2])
    assert clock.now == pytest.approx(1002.2)
    assert caught.value.details == {'job_id': JOB, 'last_status': 'RUNNING', 'timeout': 2.2}
    assert 'did not finish within 2.2 seconds (last status RUNNING, 4 polls)' in str(caught.value)


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


def test_several_jobs_are_polled_together_and_returned_as_data():
    clock = FakeClock()
    jobs = {'j1': ScriptedJob(['RUNNING', 'SUCCESS'], clock), 'j2': ScriptedJob(['FAIL'], clock),
            'j3': ScriptedJob(['RUNNING', 'RUNNING', 'SUCCESS'], clock)}
    batches = []

    def together(func, items):
        batches.append(sorted(watch.job_id for watch in items))
        return [func(item) for item in items]

    seen = wait_for_jobs(lambda job_id: jobs[job_id](job_id), dict.fromkeys(jobs, clock.now), 60,
                         clock=clock.monotonic, sleep=clock.sleep, map_concurrently=together)
    assert batches == [['j1', 'j2', 'j3'], ['j1', 'j3'], ['j3']]
    assert dict((job_id, (s['status'], s['polls'], s['final'])) for job_id, s in seen.items()) == {
        'j1': ('SUCCESS', 2, True), 'j2': ('FAIL', 1, True), 'j3': ('SUCCESS', 3, True)}


def test_polls_per_second_are_capped_across_jobs():
    clock = FakeClock()
    polled = []

    def get_job(job_id):
        polled.append(clock.now)
        return {'job_id': job_id, 'status': 'SUCCESS'}

    many = dict(('j%d' % n, clock.now) for n in range(12))
    seen = wait_for_jobs(get_job, many, 60, clock=clock.monotonic, sleep=clock.sleep)
    assert all(s['status'] == 'SUCCESS' for s in seen.values())
    for moment in polled:
        assert len([t for t in polled if moment <= t < moment + 1.0]) <= waiter.MAX_POLLS_PER_SECOND


def test_polls_per_job_are_capped(monkeypatch):
    monkeypatch.setattr(waiter, 'MAX_POLLS_PER_JOB', 3)
    clock = FakeClock()
    job = ScriptedJob(['RUNNING'], clock)
    seen = wait_for_jobs(job, {JOB: clock.now}, 600, clock=clock.monotonic, sleep=clock.sleep)[JOB]
    assert (seen['polls'], seen['final'], seen['status']) == (3, False, 'RUNNING')


class SlowJob(ScriptedJob):
    """A job whose every poll takes `rtt` seconds to answer."""

    def __init__(self, statuses, fake_time, rtt):
        super().__init__(statuses, fake_time)
        self.rtt = rtt

    def __call__(self, job_id):
        job = super().__call__(job_id)
        self.time.sleep(self.rtt)
        return job


def test_the_round_trip_of_a_poll_does_not_delay_the_next_ones():
    clock = FakeClock()
    job = SlowJob(['RUNNING'] * 4 + ['SUCCESS'], clock, rtt=0.04)
    assert wait_for_job(job, JOB, timeout=300, clock=clock.monotonic, sleep=clock.sleep)['status'] == 'SUCCESS'
    # a 2 s job is seen by the poll sent 2 s after submission, not by one pushed back by earlier round trips
    assert offsets(job.poll_times) == [1.0, 1.5, 2.0, 2.5, 3.0]


def test_a_poll_slower_than_the_interval_starts_the_grid_anew():
    clock = FakeClock()
    job = SlowJob(['RUNNING'] * 3 + ['SUCCESS'], clock, rtt=0.7)
    assert wait_for_job(job, JOB, timeout=300, clock=clock.monotonic, sleep=clock.sleep)['status'] == 'SUCCESS'
    # never back to back: each poll starts a full interval after the previous answer
    assert offsets(job.poll_times) == [1.0, 2.2, 3.4, 4.6]
