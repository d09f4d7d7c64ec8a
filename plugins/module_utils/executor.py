# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One plan, two executors: which one runs (the ``api`` rule), the native executor, and the result both return.

The plan is the batch planner's request list (batch.py): ``{"method": "POST"|"DELETE", "images", "projects"}`` or
``{"method": "PUT", "images", "project_id", "status", ["vault_id"]}``. The job executor (executor_jobs.py) sends
those requests to the IMS batch API; the native executor sends one Glance v2 call per pair (POST/DELETE
``/v2/images/{id}/members[/{member}]``, or PUT ``.../members/{project}`` per image) on a bounded pool of threads.

Both return an outcome (plain data):
  executor      "jobs" or "native";  reason: why it was chosen
  applied       [{image_id, project_id}] pairs whose desired state holds after the run (in plan order)
  not_applied   [{image_id, project_id}] pairs whose change did not happen
  errors        native: [{image_id, project_id, operation, message, error, hint}] one per failed pair
  jobs          jobs: the job records (batch.job_record)
  problems      what went wrong, worded for the message
  changed       True only when at least one pair was really changed by this run
  members       native: {(image_id, project_id): member as the API returned it} (not part of a module result)
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Optional

from ansible_collections.imscloud.sharing.plugins.module_utils import batch
from ansible_collections.imscloud.sharing.plugins.module_utils.advice import explain
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError

API_AUTO = 'auto'
API_JOBS = 'jobs'
API_NATIVE = 'native'
API_CHOICES = (API_AUTO, API_JOBS, API_NATIVE)
# Measured against the emulator with realistic latency (docs/guides/native-vs-batch.md, "Concurrency").
DEFAULT_CONCURRENCY = 32
# One job round (submission, 1-3 s of job, the poll that sees it) lasts about as long as this many waves of native
# calls (40-80 ms each): auto uses jobs only for plans bigger than JOB_WAVES x concurrency pairs.
JOB_WAVES = 25
_OPERATIONS = {'POST': 'add', 'DELETE': 'remove', 'PUT': 'set_status'}
_ERRORS_SHOWN = 5


def new_outcome(executor: str, reason: str) -> dict:
    return {'executor': executor, 'reason': reason, 'applied': [], 'not_applied': [], 'errors': [], 'jobs': [],
            'problems': [], 'changed': False, 'members': {}}


def pair_count(plan: Iterable[dict]) -> int:
    return sum(len(batch.request_keys(request)) for request in plan)


def choose_api(api: str, batch_api: Optional[bool], pairs: int, concurrency: int) -> tuple:
    """(executor, reason) for the api option; api: jobs on plain Glance fails before any write."""
    if api == API_NATIVE:
        return API_NATIVE, 'api: native'
    if api == API_JOBS:
        if batch_api is False:
            raise IMSError('api: jobs needs the IMS batch member API (/v1/cloudimages/members), and this cloud is plain '
                           'OpenStack Glance, which has only the native member API; use api: native or api: auto '
                           '(the default), which share the same images concurrently. Nothing was changed')
        return API_JOBS, 'api: jobs'
    if api != API_AUTO:
        raise IMSError('api must be one of %s, got %r' % (', '.join(API_CHOICES), api))
    if batch_api is None:
        return API_NATIVE, 'auto: whether the cloud has the IMS batch API could not be read; the native API works everywhere'
    if not batch_api:
        return API_NATIVE, 'auto: the cloud is plain OpenStack Glance (no IMS batch API)'
    waves = int(math.ceil(pairs / float(max(1, concurrency))))
    if pairs > JOB_WAVES * concurrency:
        return API_JOBS, ('auto: %d pairs need %d waves of %d native calls, longer than one job round'
                          % (pairs, waves, concurrency))
    return API_NATIVE, ('auto: %d pair(s) take %d wave(s) of at most %d native calls, faster than a job (at most %d '
                        'waves use native calls)' % (pairs, waves, concurrency, JOB_WAVES))


def operations_of(plan: Iterable[dict]) -> list:
    """The plan as one operation per pair: {op: add|remove|set_status, image_id, project_id[, status, vault_id]}."""
    operations = []
    for request in plan:
        for pair in batch.request_pairs(request):
            operation = dict(pair, op=_OPERATIONS[request['method']])
            if request['method'] == 'PUT':
                operation['status'] = request['status']
                if request.get('vault_id'):
                    operation['vault_id'] = request['vault_id']
            operations.append(operation)
    return operations


def _apply_one(client: Any, operation: dict) -> tuple:
    """(state, member or None, error or None); state: changed, in_place (someone else did it) or failed."""
    image_id, project_id = operation['image_id'], operation['project_id']
    try:
        if operation['op'] == 'add':
            return 'changed', client.add_member(image_id, project_id), None
        if operation['op'] == 'remove':
            client.remove_member(image_id, project_id)
            return 'changed', None, None
        member = client.update_member_status(image_id, project_id, operation['status'],
                                             vault_id=operation.get('vault_id'))
        return 'changed', member, None
    except IMSError as err:
        return _absorbed(client, operation, err)


def _absorbed(client: Any, operation: dict, err: IMSError) -> tuple:
    """409 on add (someone added it) and 404 on remove (someone removed it): the desired state holds."""
    if operation['op'] == 'remove' and err.status == 404:
        return 'in_place', None, None
    if operation['op'] == 'add' and err.status == 409:
        try:
            existing = client.get_member(operation['image_id'], operation['project_id'])
        except IMSError:
            existing = None
        if existing is not None:
            return 'in_place', existing, None
    return 'failed', None, err


def run_native(client: Any, operations: list, concurrency: int, reason: str,
               images: Optional[dict] = None) -> dict:
    """Apply every operation, at most ``concurrency`` at once; a failing pair does not stop the others."""
    outcome = new_outcome(API_NATIVE, reason)
    results = client._map_concurrently(lambda operation: _apply_one(client, operation), operations, concurrency)
    caller = client.project_id if operations else None
    for operation, (state, member, err) in zip(operations, results):
        pair = {'image_id': operation['image_id'], 'project_id': operation['project_id']}
        if state == 'failed':
            outcome['not_applied'].append(pair)
            hint = explain(err, operation['op'], (images or {}).get(pair['image_id'], {'id': pair['image_id']}),
                           caller, pair['project_id'])
            err = err.with_context(None, hint)
            outcome['errors'].append(dict(pair, operation=operation['op'], message=str(err), error=err.to_dict(),
                                          hint=hint))
            continue
        # a pair someone else changed meanwhile (409 on add, 404 on remove) also went from what was read to what
        # was asked: counted like a pair this run changed, as a job whose pairs were already in place is
        outcome['applied'].append(pair)
        outcome['changed'] = True
        if member is not None:
            outcome['members'][(pair['image_id'], pair['project_id'])] = member
    if outcome['errors']:
        shown = ['%s %s/%s: %s' % (e['operation'], e['image_id'], e['project_id'], e['message'])
                 for e in outcome['errors'][:_ERRORS_SHOWN]]
        if len(outcome['errors']) > _ERRORS_SHOWN:
            shown.append('and %d more failed pair(s), see errors' % (len(outcome['errors']) - _ERRORS_SHOWN))
        outcome['problems'].append('%d native call(s) failed: %s' % (len(outcome['errors']), '; '.join(shown)))
    return outcome


def failed(outcome: dict) -> bool:
    return bool(outcome['problems'] or outcome['not_applied'])


def failure(outcome: dict, result: dict) -> IMSError:
    """The IMSError that fails the task after a partial run: what went wrong, then applied / not applied."""
    message = outcome.get('message') or batch.failure_message(outcome['problems'] or ['some changes were not applied'],
                                                              outcome['applied'], outcome['not_applied'])
    first = outcome['errors'][0]['error'] if outcome['errors'] else {}
    failed_jobs = [job for job in outcome['jobs'] if job.get('status') == 'FAIL']
    code = first.get('code') or (failed_jobs[0].get('error_code') if failed_jobs else None)
    details = dict(result)
    if outcome['errors'] and outcome['errors'][0].get('hint'):
        details.setdefault('hint', outcome['errors'][0]['hint'])
    return IMSError(message, status=first.get('status'), code=code, request_id=first.get('request_id'),
                    details=details)


def result_fields(outcome: dict) -> dict:
    """The keys a module returns from an outcome (members is internal)."""
    return {'executor': {'name': outcome['executor'], 'reason': outcome['reason']},
            'applied': outcome['applied'], 'not_applied': outcome['not_applied'], 'errors': outcome['errors'],
            'jobs': outcome['jobs']}
