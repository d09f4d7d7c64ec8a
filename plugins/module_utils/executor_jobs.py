# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The job executor: the plan's requests through the IMS batch API (/v1/cloudimages/members) and their jobs.

Submission never re-sends blindly: after a failure that may have created a job (dropped connection, 5xx), the
images of the request are re-read until its pairs appear (SETTLE_SECONDS at most), then only the pairs still
missing are planned again (batch.replan_request) and sent, as often as the client's retries allow. Every job is
remembered in the job journal until it is seen finished. All jobs are waited for together (waiter.wait_for_jobs).
After a FAIL, a timeout or a refused request the images are read again and the plan is split into applied and
not applied pairs; a FAILed job whose pairs are all in place (applied by an earlier job, for example) is a success.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Optional

from ansible_collections.imscloud.sharing.plugins.module_utils import batch
from ansible_collections.imscloud.sharing.plugins.module_utils.advice import OPERATION_OF_METHOD
from ansible_collections.imscloud.sharing.plugins.module_utils.advice import advice_for_code
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.executor import API_JOBS
from ansible_collections.imscloud.sharing.plugins.module_utils.executor import new_outcome

SETTLE_SECONDS = 30.0
SETTLE_POLL_INITIAL = 1.0
SETTLE_POLL_MAX = 8.0


def describe_request(request: dict) -> str:
    if request['method'] == 'PUT':
        return 'PUT of %d image(s) to %s' % (len(request['images']), request['status'])
    return '%s of %d image(s) x %d project(s)' % (request['method'], len(request['images']), len(request['projects']))


def _hint(code: Optional[str], method: str) -> str:
    advice = advice_for_code(code, OPERATION_OF_METHOD.get(method, '*'))
    return (' (%s)' % advice.rstrip('.')) if advice else ''


def _body(request: dict) -> dict:
    return dict((key, value) for key, value in request.items() if key != 'method')


class JobRun:
    """One execution of a plan through jobs. reader(image_ids) returns the state in the planner's form
    (membership for the owner side, statuses for the recipient side)."""

    def __init__(self, client: Any, reader: Callable[[list], dict], batch_size: int, wait: bool, timeout: float,
                 journal: Any, warn: Callable[[str], None], reason: str, retries: int) -> None:
        self.client = client
        self.reader = reader
        self.batch_size = batch_size
        self.wait = wait
        self.timeout = timeout
        self.journal = journal
        self.warn = warn
        self.retries = retries
        self.outcome = new_outcome(API_JOBS, reason)
        self.records: list = []        # (request, job record, submitted_at, resubmitted)
        self.wrote = False             # a request was accepted, or may have been

    def run(self, plan: list) -> dict:
        for request in plan:
            if not self._submit(request):
                break
        self.outcome['jobs'] = [record for _request, record, _at, _again in self.records]
        if self.wait:
            self._wait_all()
        if not self.wait:
            return self._not_waited(plan)
        if not self.outcome['problems'] and all(record['status'] == 'SUCCESS' for record in self.outcome['jobs']):
            self.outcome['applied'] = [pair for request in plan for pair in batch.request_pairs(request)]
            self.outcome['changed'] = bool(self.outcome['applied'])
            return self.outcome
        return self._settle_failure(plan)

    def _not_waited(self, plan: list) -> dict:
        """wait=false: the jobs are left running; what they will apply is not known yet."""
        self.outcome['changed'] = self.wrote
        if self.outcome['problems']:
            sent = set((p['image_id'], p['project_id']) for r, _j, _a, _s in self.records for p in batch.request_pairs(r))
            self.outcome['not_applied'] = [pair for request in plan for pair in batch.request_pairs(request)
                                           if (pair['image_id'], pair['project_id']) not in sent]
            self.outcome['message'] = '%s. Jobs submitted before: %s (not waited for: wait=false); re-run the task once ' \
                                      'the cause is fixed.' % ('; '.join(self.outcome['problems']).rstrip('.'), ', '.join(
                                          record['job_id'] for _r, record, _a, _s in self.records) or 'none')
        return self.outcome

    def _submit(self, request: dict, rounds: int = 0, resubmitted: bool = False) -> bool:
        """False when IMS refused the request (recorded as a problem; nothing more is submitted)."""
        try:
            job_id = self.client.submit_member_job(request['method'], _body(request))
        except IMSError as err:
            if not err.details.get('uncertain'):
                self.outcome['problems'].append('%s was refused: %s%s' % (describe_request(request), err,
                                                                          _hint(err.code, request['method'])))
                return False
            self.wrote = True
            if rounds >= self.retries:
                self.outcome['problems'].append('%s stayed uncertain after %d attempts (%s); no more requests were sent'
                                                % (describe_request(request), rounds + 1, err))
                return False
            missing = self._settle(request)
            self.warn('the submission of a %s may or may not have created a job (%s); after re-reading the members, %s'
                      % (describe_request(request), err, 'every pair is in place' if not missing
                         else 'the pairs still missing are sent again'))
            return all(self._submit(again, rounds + 1, resubmitted=True) for again in missing)
        self.wrote = True
        self.journal.add(job_id, request)
        self.records.append((request, batch.job_record(request, job_id=job_id), self.client.now(), resubmitted))
        return True

    def _settle(self, request: dict) -> list:
        """Watch the request's images until its pairs are in place or the window closes; the requests still needed."""
        window_end = self.client.now() + min(SETTLE_SECONDS, self.timeout)
        interval = SETTLE_POLL_INITIAL
        while True:
            state = self.reader(request['images'])
            if not batch.split_applied([request], state)[1]:
                return []
            remaining = window_end - self.client.now()
            if remaining <= 0:
                return batch.replan_request(request, state, self.batch_size)
            self.client.sleep(min(interval, remaining))
            interval = min(SETTLE_POLL_MAX, interval * 2)

    def _wait_all(self) -> None:
        submitted = dict((record['job_id'], at) for _request, record, at, _again in self.records)
        if not submitted:
            return
        seen = self.client.wait_for_jobs(submitted, self.timeout)
        finished = []
        for request, record, _at, _again in self.records:
            found = seen[record['job_id']]
            if found['job'] is not None:
                record.update(batch.job_record(request, found['job']))
            if found['final']:
                finished.append(record['job_id'])
            elif found['error'] is not None:
                self.outcome['problems'].append('could not read the status of job %s: %s' % (record['job_id'], found['error']))
            else:
                self.outcome['problems'].append(
                    'job %s (%s) did not finish within %s seconds (last status %s); it keeps running in IMS: re-run the '
                    'task later, it sends only what is still missing'
                    % (record['job_id'], record['job_type'], '%g' % self.timeout, record['status']))
        self.journal.forget(finished)

    def _settle_failure(self, plan: list) -> dict:
        """Re-read the touched images, split the plan into applied / not applied, and word what failed."""
        touched = []
        for request in plan:
            touched.extend(image_id for image_id in request['images'] if image_id not in touched)
        after = self.reader(touched)
        applied, not_applied = batch.split_applied(plan, after)
        problems = [] if not not_applied else list(self.outcome['problems'])
        for request, record, _at, _again in self.records:
            if record['status'] != 'FAIL':
                continue
            if not batch.split_applied([request], after)[1]:
                self.warn('job %s failed (%s: %s), but every pair it was sent for is in place (an earlier job applied '
                          'them): counted as a success' % (record['job_id'], record['error_code'], record['fail_reason']))
                continue
            problems.append('job %s (%s, %s) failed with %s: %s%s' % (
                record['job_id'], record['job_type'], describe_request(request), record['error_code'] or 'no error code',
                record['fail_reason'] or 'IMS gave no reason', _hint(record['error_code'], request['method'])))
        self.outcome.update(applied=applied, not_applied=not_applied, problems=problems, changed=bool(applied),
                            after=after)
        return self.outcome


def settle_pending_jobs(client: Any, journal: Any, image_ids: list, timeout: float, warn: Callable[[str], None]) -> list:
    """Before reading: wait for the jobs an earlier run submitted for these images and did not see finish.

    Returns the job ids waited for. Jobs that ended, or that IMS no longer knows, leave the journal.
    """
    pending = journal.pending(image_ids)
    if not pending:
        return []
    warn('%d job(s) an earlier run submitted for these images (%s) had not been seen finished; waiting for them '
         'before reading the members, so that their pairs are not submitted twice'
         % (len(pending), ', '.join(entry['job_id'] for entry in pending)))
    now, wall = client.now(), time.time()
    submitted = dict((entry['job_id'], now - max(0.0, wall - entry['submitted_at'])) for entry in pending)
    seen = client.wait_for_jobs(submitted, timeout)
    done = [job_id for job_id, found in seen.items()
            if found['final'] or (found['error'] is not None and found['error'].status in (400, 404))]
    journal.forget(done)
    return list(submitted)
