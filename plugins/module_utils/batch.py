# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning and reporting for the IMS batch member API (POST/PUT/DELETE /v1/cloudimages/members).

Everything here works on plain data (image ids, project ids, member statuses) and sends no request, so the
module's plan, check mode, diff and failure report all come from the same tested functions.

Shapes:
  membership     {image_id: [project_id, ...]}     the members of each image (any member status)
  statuses       {image_id: status or None}        one project's member status per image (None: not a member)
  owner request  {"method": "POST"|"DELETE", "images": [...], "projects": [...]}
  status request {"method": "PUT", "images": [...], "project_id": ..., "status": ..., ["vault_id": ...]}
  pair           {"image_id": ..., "project_id": ...}
"""
from __future__ import annotations

from typing import Any, Iterable, Optional, Union

from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import check_memberships_exist
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import validate_positive_int
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import validate_state_and_purge

# The member statuses the batch API can set (membership.MEMBER_STATUSES has all three a membership can have).
BATCH_STATUSES = ('accepted', 'rejected')
# The job type IMS gives each kind of batch request (ims_api.md section 4).
JOB_TYPES = {'POST': 'imsAddImageMembersJob', 'DELETE': 'imsDelImageMembersJob', 'PUT': 'imsUpdateImageMembersJob'}
BATCH_SIZE_MEANING = 'the most image ids, and the most project ids, one batch request carries'
JOB_FIELDS = ('job_id', 'job_type', 'status', 'begin_time', 'end_time', 'error_code', 'fail_reason')


def _chunks(values: list[str], size: int) -> list[list[str]]:
    return [values[start:start + size] for start in range(0, len(values), size)]


def membership_from_members(members_by_image: dict[str, list[dict]]) -> dict[str, list[str]]:
    """{image_id: [member dict]} as read from the API -> membership {image_id: sorted [project_id]}."""
    return dict((image_id, sorted(set(member['member_id'] for member in members)))
                for image_id, members in members_by_image.items())


def statuses_from_members(members_by_image: dict[str, list[dict]], project_id: str) -> dict[str, Optional[str]]:
    """{image_id: [member dict]} -> {image_id: status of project_id's membership, or None}."""
    statuses = {}
    for image_id, members in members_by_image.items():
        statuses[image_id] = None
        for member in members:
            if member.get('member_id') == project_id:
                statuses[image_id] = member.get('status')
    return statuses


def _grouped_requests(method: str, lacking_by_image: Iterable[tuple[str, set[str]]], batch_size: int) -> list[dict]:
    """One request per (group of images lacking the same project set) x image chunk x project chunk."""
    groups = {}
    for image_id, projects in lacking_by_image:
        if projects:
            groups.setdefault(tuple(sorted(projects)), []).append(image_id)
    requests = []
    for projects, images in groups.items():
        for image_chunk in _chunks(images, batch_size):
            for project_chunk in _chunks(list(projects), batch_size):
                requests.append({'method': method, 'images': image_chunk, 'projects': project_chunk})
    return requests


def plan_batch_changes(current_by_image: dict[str, list[str]], projects: Iterable[str], state: str, purge: bool,
                       batch_size: int) -> list[dict]:
    """Plan the owner-side batch requests that bring each image's members to the desired state.

    state=present adds the listed projects each image lacks; with purge it also removes members not listed.
    state=absent removes the listed projects that are members (purge is refused: it would be ambiguous).
    Images lacking (or holding surplus of) the same project set share requests; each request carries at most
    batch_size images and batch_size projects. Additions come first, then removals. No change -> [].
    """
    validate_state_and_purge(state, 'purge_projects', purge, 'projects')
    validate_positive_int('batch_size', batch_size, BATCH_SIZE_MEANING)
    wanted = set(projects)
    missing, surplus = [], []
    for image_id, current in current_by_image.items():
        current = set(current)
        if state == 'present':
            missing.append((image_id, wanted - current))
            surplus.append((image_id, current - wanted if purge else set()))
        else:
            surplus.append((image_id, current & wanted))
    return _grouped_requests('POST', missing, batch_size) + _grouped_requests('DELETE', surplus, batch_size)


def plan_batch_status_changes(current_status_by_image: dict[str, Optional[str]], status: str, project_id: str,
                              vault_id: Optional[str], batch_size: int) -> list[dict]:
    """Plan the recipient-side PUT requests for the images whose member status differs from status.

    Every image must already have a membership for project_id (status not None): there is nothing to accept
    otherwise, and the caller reports those images before planning (see images_without_membership).
    """
    if status not in BATCH_STATUSES:
        raise IMSError('status must be one of %s, got %r' % (', '.join(BATCH_STATUSES), status))
    validate_positive_int('batch_size', batch_size, BATCH_SIZE_MEANING)
    check_memberships_exist(project_id, images_without_membership(current_status_by_image))
    differing = [image_id for image_id, current in current_status_by_image.items() if current != status]
    requests = []
    for image_chunk in _chunks(differing, batch_size):
        request = {'method': 'PUT', 'images': image_chunk, 'project_id': project_id, 'status': status}
        if vault_id:
            request['vault_id'] = vault_id
        requests.append(request)
    return requests


def images_without_membership(current_status_by_image: dict[str, Optional[str]]) -> list[str]:
    """The images (in order) on which the project has no membership at all."""
    return [image_id for image_id, current in current_status_by_image.items() if current is None]


def request_keys(request: dict) -> list[tuple]:
    """The (image_id, project_id) of every pair one request changes, in request order (lighter than the dicts)."""
    if request['method'] == 'PUT':
        return [(image_id, request['project_id']) for image_id in request['images']]
    return [(image_id, project_id) for image_id in request['images'] for project_id in request['projects']]


def request_pairs(request: dict) -> list[dict[str, str]]:
    """The image-project pairs one request changes, in request order."""
    return [{'image_id': image_id, 'project_id': project_id} for image_id, project_id in request_keys(request)]


def planned_keys(requests: Iterable[dict], method: str) -> list[tuple]:
    """The (image_id, project_id) of every pair the requests with the given method change, sorted."""
    return sorted(key for request in requests if request['method'] == method for key in request_keys(request))


def planned_pairs(requests: Iterable[dict], method: str) -> list[dict[str, str]]:
    """All pairs the requests with the given method change, sorted by image then project."""
    return [{'image_id': image_id, 'project_id': project_id} for image_id, project_id in planned_keys(requests, method)]


def predict_membership(current_by_image: dict[str, list[str]], requests: Iterable[dict]) -> dict[str, list[str]]:
    """The membership once every owner-side request has been applied: {image_id: sorted [project_id]}."""
    after = dict((image_id, set(projects)) for image_id, projects in current_by_image.items())
    for request in requests:
        for image_id, project_id in request_keys(request):
            members = after.setdefault(image_id, set())
            if request['method'] == 'POST':
                members.add(project_id)
            else:
                members.discard(project_id)
    return dict((image_id, sorted(projects)) for image_id, projects in after.items())


def predict_statuses(current_status_by_image: dict[str, Optional[str]], requests: Iterable[dict]) -> dict[str, Optional[str]]:
    """The member status per image once every PUT request has been applied."""
    after = dict(current_status_by_image)
    for request in requests:
        for image_id in request['images']:
            after[image_id] = request['status']
    return after


def _pair_applied(request: dict, pair: dict[str, str], after: Union[dict[str, list[str]], dict[str, Optional[str]]]) -> bool:
    """Whether the effect of the request on the pair is visible in after (membership or statuses)."""
    current = after.get(pair['image_id'])
    if request['method'] == 'PUT':
        return current == request['status']
    is_member = pair['project_id'] in (current or ())
    return is_member if request['method'] == 'POST' else not is_member


def split_applied(requests: Iterable[dict],
                  after: Union[dict[str, list[str]], dict[str, Optional[str]]]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Split the pairs of the requests into (applied, not_applied) against what was read back afterwards.

    after is a membership for owner-side requests and statuses for PUT requests. A pair counts as applied
    when its effect is visible: member after POST, no member after DELETE, the requested status after PUT.
    """
    applied, not_applied = [], []
    for request in requests:
        for pair in request_pairs(request):
            (applied if _pair_applied(request, pair, after) else not_applied).append(pair)
    return applied, not_applied


def status_changes(before: dict[str, Optional[str]], after: dict[str, Optional[str]]) -> list[dict[str, Optional[str]]]:
    """[{image_id, before, after}] for each image whose status differs, in image order."""
    return [{'image_id': image_id, 'before': before.get(image_id), 'after': after[image_id]}
            for image_id in after if before.get(image_id) != after[image_id]]


def job_record(request: dict, job: Optional[dict] = None, job_id: Optional[str] = None) -> dict[str, Any]:
    """The report of one submitted job: the job's own fields, its per-image results and the request it served.

    job is the job as last read (GET /v1/{project_id}/jobs/{job_id}); without it (wait=false) the job is
    reported as INIT, the status every job starts with, and with the job type of its kind of request.
    """
    job = job or {}
    record = dict((field, job.get(field)) for field in JOB_FIELDS)
    record['job_id'] = job.get('job_id') or job_id
    record['job_type'] = job.get('job_type') or JOB_TYPES.get(request['method'])
    record['status'] = job.get('status') or 'INIT'
    entities = job.get('entities') or {}
    record['results'] = list(entities.get('results') or []) if isinstance(entities, dict) else []
    record['request'] = dict(request)
    return record


def describe_pairs(pairs: list[dict[str, str]], limit: int = 10) -> str:
    """'image/project, ...' for a message, at most limit pairs, then 'and N more'."""
    shown = ['%s/%s' % (pair['image_id'], pair['project_id']) for pair in pairs[:limit]]
    if len(pairs) > limit:
        shown.append('and %d more' % (len(pairs) - limit))
    return ', '.join(shown) if shown else 'none'


def failure_message(problems: list[str], applied: list[dict[str, str]], not_applied: list[dict[str, str]]) -> str:
    """The message of a failed run: what went wrong per job, then which pairs were and were not applied.

    problems: ["job 1234 (imsAddImageMembersJob) failed: IMG.0098 ...", ...] already worded by the caller.
    """
    total = len(applied) + len(not_applied)
    return '%s. %d of %d pair(s) applied (%s); not applied: %s. ' \
           'Fix the cause and re-run the task: it sends only what is still missing.' % (
               '; '.join(problems).rstrip('.'), len(applied), total, describe_pairs(applied), describe_pairs(not_applied))


def replan_request(request: dict, state: Union[dict[str, list[str]], dict[str, Optional[str]]],
                   batch_size: int) -> list[dict]:
    """The requests still needed for one request's pairs, given the state read back (after an uncertain submission)."""
    if request['method'] == 'PUT':
        # an image whose membership vanished meanwhile has nothing left to accept
        current = dict((image_id, state.get(image_id)) for image_id in request['images'] if state.get(image_id))
        return plan_batch_status_changes(current, request['status'], request['project_id'], request.get('vault_id'),
                                         batch_size)
    listed = set(request['projects'])
    current = dict((image_id, [p for p in state.get(image_id, []) if p in listed]) for image_id in request['images'])
    return plan_batch_changes(current, request['projects'], 'present' if request['method'] == 'POST' else 'absent',
                              False, batch_size)
