# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import time
from typing import Any, Callable, Optional

from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError

JOB_SUCCESS = 'SUCCESS'
JOB_FAIL = 'FAIL'


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


def wait_for_job(get_job: Callable[[str], dict], job_id: str, timeout: float, poll_initial: float = 1.0,
                 poll_max: float = 10.0, factor: float = 1.5, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Any] = time.sleep, log: Optional[Callable[[str], None]] = None) -> dict:
    """Poll get_job(job_id) until SUCCESS (returns the job) or FAIL (raises); raises on timeout.

    The first poll is immediate, then the interval starts at poll_initial and grows by factor up to
    poll_max. No sleep goes past the deadline, and the last poll happens at the deadline.
    """
    deadline = clock() + max(0.0, float(timeout))
    interval = max(0.0, float(poll_initial))
    polls = 0
    last_status = ''
    while True:
        job = get_job(job_id)
        polls += 1
        last_status = job_status(job)
        if last_status == JOB_SUCCESS:
            return job
        if last_status == JOB_FAIL:
            raise job_failure(job_id, job)
        remaining = deadline - clock()
        if remaining <= 0:
            raise IMSError('IMS job %s did not finish within %s seconds (last status %s, %d polls)'
                           % (job_id, _seconds(timeout), last_status or 'unknown', polls),
                           details={'job_id': job_id, 'last_status': last_status or None, 'timeout': timeout})
        pause = min(interval, remaining)
        if log:
            log('job %s is %s; next poll in %.1f s' % (job_id, last_status or 'unknown', pause))
        sleep(pause)
        interval = min(poll_max, interval * factor) if interval > 0 else min(poll_max, 1.0)


def _seconds(value: float) -> str:
    return ('%g' % value) if isinstance(value, (int, float)) else str(value)
