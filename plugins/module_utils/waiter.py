# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one job waiter: polls IMS jobs (GET /v1/{project_id}/jobs/{job_id}) until they end, and returns them as data.

The schedule (docs/guides/native-vs-batch.md, "Waiting for jobs"): no poll at submission (a job takes 1-3 s, so
that poll could never see it finished); the first poll FIRST_POLL seconds after the submission, as
gophertelekomcloud and terraform do; then every FINE_INTERVAL seconds while most jobs end (up to FINE_UNTIL seconds
after submission); then intervals growing by BACKOFF_FACTOR up to MAX_INTERVAL (community.general's hwc waiter
caps at 10 s). Several jobs are polled side by side, at most MAX_POLLS_PER_SECOND polls in any second and at most
MAX_POLLS_PER_JOB polls per job.
"""
from __future__ import annotations

import time
from collections import deque
from typing import Any, Callable, Optional

from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError

JOB_SUCCESS = 'SUCCESS'
JOB_FAIL = 'FAIL'
FINAL_STATUSES = (JOB_SUCCESS, JOB_FAIL)

FIRST_POLL = 1.0
FINE_INTERVAL = 0.5
FINE_UNTIL = 6.0
BACKOFF_FACTOR = 1.5
MAX_INTERVAL = 10.0
MAX_POLLS_PER_JOB = 120
MAX_POLLS_PER_SECOND = 5


def job_status(job: Any) -> str:
    """The job's status in upper case ('' when missing); IMS documents SUCCESS/FAIL/RUNNING/INIT."""
    if not isinstance(job, dict):
        return ''
    return str(job.get('status') or '').strip().upper()


def job_results(job: dict) -> list:
    entities = job.get('entities')
    if isinstance(entities, dict) and isinstance(entities.get('results'), list):
        return entities['results']
    return []


def job_failure(job_id: str, job: dict) -> IMSError:
    details = {
        'job_id': job.get('job_id') or job_id,
        'job_type': job.get('job_type'),
        'status': job.get('status'),
        'error_code': job.get('error_code'),
        'fail_reason': job.get('fail_reason'),
        'results': job_results(job),
        'begin_time': job.get('begin_time'),
        'end_time': job.get('end_time'),
    }
    message = 'IMS job %s' % details['job_id']
    if details['job_type']:
        message += ' (%s)' % details['job_type']
    message += ' failed'
    if details['error_code']:
        message += ' with %s' % details['error_code']
    message += ': %s' % (details['fail_reason'] or 'the service gave no reason')
    failed = [r for r in details['results'] if isinstance(r, dict) and str(r.get('status', '')).lower() not in ('success', '')]
    if failed:
        message += ' (%d of %d results failed)' % (len(failed), len(details['results']))
    return IMSError(message, code=details['error_code'], details=details)


def next_poll_delay(polls_done: int, age: float) -> float:
    """Seconds from now to the next poll of a job ``age`` seconds after its submission, ``polls_done`` polls in."""
    if polls_done == 0:
        return max(0.0, FIRST_POLL - age)
    if age < FINE_UNTIL:
        return FINE_INTERVAL
    steps = polls_done - int((FINE_UNTIL - FIRST_POLL) / FINE_INTERVAL) - 1
    return min(MAX_INTERVAL, FINE_INTERVAL * (BACKOFF_FACTOR ** max(1, steps)))


class _Watch:
    """One job being waited for: when it was submitted, when it is due, what was last seen."""

    def __init__(self, job_id: str, submitted_at: float) -> None:
        self.job_id = job_id
        self.submitted_at = submitted_at
        self.due = submitted_at + FIRST_POLL
        self.polls = 0
        self.job: Optional[dict] = None
        self.error: Optional[IMSError] = None

    @property
    def final(self) -> bool:
        return job_status(self.job) in FINAL_STATUSES or self.error is not None

    def report(self, timed_out: bool) -> dict:
        return {'job': self.job, 'status': job_status(self.job) or None, 'final': job_status(self.job) in FINAL_STATUSES,
                'polls': self.polls, 'error': self.error, 'timed_out': timed_out and not self.final}


def _sequential(func: Callable, items: list) -> list:
    return [func(item) for item in items]


def wait_for_jobs(get_job: Callable[[str], dict], submitted: dict, timeout: float,
                  clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], Any] = time.sleep,
                  map_concurrently: Optional[Callable[[Callable, list], list]] = None,
                  log: Optional[Callable[[str], None]] = None) -> dict:
    """Poll the jobs {job_id: submitted_at (clock time)} until each ends, fails to be read, or the time is up.

    Returns {job_id: {"job": last job read or None, "status", "final", "polls", "error": IMSError of the last
    failed poll or None, "timed_out"}}. Never raises for a job: the caller decides what a FAIL or a timeout means.
    """
    watches = [_Watch(job_id, at) for job_id, at in submitted.items()]
    deadline = clock() + max(0.0, float(timeout))
    recent: deque = deque()
    poll_all = map_concurrently or _sequential
    last_round: set = set()   # the jobs polled once more at the deadline
    while True:
        open_watches = [w for w in watches if not w.final and w.polls < MAX_POLLS_PER_JOB]
        now = clock()
        if now >= deadline:
            open_watches = [w for w in open_watches if w.job_id not in last_round]
        if not open_watches:
            return dict((w.job_id, w.report(now >= deadline)) for w in watches)
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        due = sorted((w for w in open_watches if w.due <= now or now >= deadline), key=lambda w: w.due)
        due = due[:max(0, MAX_POLLS_PER_SECOND - len(recent))]
        if not due:
            wake = min([w.due for w in open_watches] + [deadline] + ([recent[0] + 1.0] if recent else []))
            sleep(max(0.0, min(wake, deadline) - now) or 0.01)
            continue
        if now >= deadline:
            last_round.update(w.job_id for w in due)
        poll_all(lambda watch: _poll(get_job, watch), due)
        now = clock()
        for watch in due:
            recent.append(now)
            # on the schedule's grid, so that a poll's own round trip does not push every later poll back (a 2 s
            # job is seen by the poll due 2 s after submission); a poll that ran late starts the grid anew
            delay = next_poll_delay(watch.polls, now - watch.submitted_at)
            on_grid = watch.due + delay
            watch.due = on_grid if on_grid > now else now + delay
            if log and not watch.final:
                log('job %s is %s after %d poll(s)' % (watch.job_id, job_status(watch.job) or 'unknown', watch.polls))


def _poll(get_job: Callable[[str], dict], watch: _Watch) -> None:
    watch.polls += 1
    try:
        watch.job = get_job(watch.job_id)
        watch.error = None
    except IMSError as err:
        watch.error = err


def wait_for_job(get_job: Callable[[str], dict], job_id: str, timeout: float,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], Any] = time.sleep,
                 log: Optional[Callable[[str], None]] = None, submitted_at: Optional[float] = None) -> dict:
    """One job: the job on SUCCESS; IMSError on FAIL (job_failure), on a failed read, or on timeout."""
    start = clock() if submitted_at is None else submitted_at
    seen = wait_for_jobs(get_job, {job_id: start}, timeout, clock=clock, sleep=sleep, log=log)[job_id]
    if seen['error'] is not None:
        raise seen['error']
    if seen['status'] == JOB_SUCCESS:
        return seen['job']
    if seen['status'] == JOB_FAIL:
        raise job_failure(job_id, seen['job'])
    raise IMSError('IMS job %s did not finish within %s seconds (last status %s, %d polls)'
                   % (job_id, '%g' % timeout, seen['status'] or 'unknown', seen['polls']),
                   details={'job_id': job_id, 'last_status': seen['status'], 'timeout': timeout})
