#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r'''
---
module: ims_image_member_batch
short_description: Share many images with many projects, or accept them, through the IMS batch member API
version_added: 0.1.0
description:
  - Manages the members of several images at once with the Open Telekom Cloud IMS batch API
    C(POST|DELETE|PUT /v1/cloudimages/members), which runs each change as an asynchronous job.
  - B(Owner side) (O(projects) given) makes the listed projects members of every listed image (O(state=present)),
    or removes them (O(state=absent)). With O(purge_projects=true) it also removes the members that are not listed.
  - B(Recipient side) (O(status) given) accepts or rejects, as the project the images are shared with, the
    memberships of every listed image.
  - The module is idempotent. It reads the current members of every image (in parallel), plans only the
    image-project pairs that differ, and sends one request per group of images that lack the same projects,
    split so that no request carries more than O(batch_size) images or O(batch_size) projects. An unchanged
    re-run sends no write.
  - Every option is checked before the first request, so bad input never leaves a change half applied.
  - When a job fails, the module reads the members again and reports which pairs were applied and which were not.
    A re-run sends only what is still missing.
  - For one image and single members, M(imscloud.sharing.ims_image_member) uses the native (Glance) member API,
    which also works on plain OpenStack.
author: imscloud.sharing contributors (@imscloud)
requirements:
  - requests
extends_documentation_fragment:
  - imscloud.sharing.connection
  - imscloud.sharing.connection.wait
attributes:
  check_mode:
    support: full
    description: Reads the members and returns the exact plan (RV(plan), RV(added), RV(removed), RV(after)) without any write.
  diff_mode:
    support: full
    description: Per image, the member projects (owner side) or the member status (recipient side) before and after.
options:
  images:
    description:
      - The images, by name or id.
      - Owner side, a name is looked up among the images the caller's project owns; recipient side, among the images
        shared with the caller's project (in any member status). A name must match exactly one image.
      - An id (a UUID) is used as it is, without looking the image up; the member read fails when it does not exist.
      - Duplicates (also a name and the id of the same image) count once.
    type: list
    elements: str
    required: true
  projects:
    description:
      - Owner side. The project ids (32 hexadecimal characters) that should (O(state=present)) or should not
        (O(state=absent)) be members of every image in O(images).
      - May be empty only with O(purge_projects=true), which then removes every member of the images.
      - Mutually exclusive with O(status).
    type: list
    elements: str
  state:
    description:
      - Owner side. V(present) adds the O(projects) each image lacks, V(absent) removes the O(projects) that are members.
    type: str
    choices: [present, absent]
    default: present
  purge_projects:
    description:
      - Owner side, with O(state=present). Also remove, from every listed image, the members that are not in O(projects).
      - Images not listed in O(images) are never touched.
    type: bool
    default: false
  status:
    description:
      - Recipient side. The member status to set on every image in O(images), V(accepted) or V(rejected).
      - Only the images whose status differs are sent. Every image must already be shared with the project.
      - Mutually exclusive with O(projects), O(state) and O(purge_projects).
    type: str
    choices: [accepted, rejected]
  project_id:
    description:
      - Recipient side. The project whose membership is accepted or rejected. Defaults to the caller's project
        (the project of the token, or O(auth.project_id) with AK/SK).
    type: str
  vault_id:
    description:
      - Recipient side, with O(status=accepted). The id of the CBR server-backup vault that receives a shared
        full-ECS image; IMS requires it to accept such images.
    type: str
  batch_size:
    description:
      - The most image ids, and the most project ids, one batch request carries. Larger changes are split into
        several jobs.
      - The default is the console's limit of 100 project ids per share action; the API documents no limit.
    type: int
    default: 100
notes:
  - B(Requests.) Sharing N images with M projects from nothing costs N member reads, one job per group of images
    lacking the same projects and per O(batch_size) chunk, and the polls of those jobs. An unchanged run costs the
    N reads only. Image names (not ids) cost one listing each.
  - B(Order.) Additions are submitted before removals; all jobs are submitted first, then waited for together, so
    that O(timeout) bounds the wait for all of them.
  - B(Failed jobs.) A job that ends in C(FAIL) fails the task. The module first waits for the other jobs, then
    reads the members of the affected images again, and reports RV(applied) and RV(not_applied) pairs, the job's
    error code and reason, and what to do about known causes (encrypted image whose KMS key is not authorised,
    image owned by another project, member quota, region).
  - B(Timeout.) A job still running after O(timeout) seconds fails the task, but the job keeps running in IMS.
    Re-run the task later; it sends only what is still missing.
  - B(Uncertain submissions.) When a batch request fails in a way that may still have created a job (dropped
    connection, read timeout, 5xx), the request is never re-sent blindly, because IMS offers no way to list jobs and
    the job applies its changes only when it completes. The module instead re-reads the members of the images of
    that request until its pairs appear, for at most 30 seconds (or O(timeout), when shorter), then sends only the
    pairs still missing, as many times as O(retries) allows. This wait comes before, and does not count against, the wait for
    the jobs. A job that was merely slow may then meet members a re-sent
    request added again; when a re-sent job fails but every one of its pairs is in place afterwards, the module
    reports success with a warning instead of a failure.
  - B(wait=false.) The jobs are submitted and returned with status C(INIT); RV(after) is the predicted membership.
    Running the task again before the jobs finish submits their pairs again.
  - Check mode and diff mode are supported; both come from the same plan as the real run.
seealso:
  - module: imscloud.sharing.ims_image_member
  - module: imscloud.sharing.ims_image_member_info
  - name: Adding Image Sharing Members (IMS API reference)
    description: The batch API this module uses.
    link: https://docs.otc.t-systems.com/image-management-service/api-ref/ims_apis/image_sharing/adding_image_sharing_members.html
'''

EXAMPLES = r'''
- name: Share three images with two projects (one batch job)
  imscloud.sharing.ims_image_member_batch:
    cloud: otc-owner
    images:
      - golden-ubuntu-24.04
      - golden-debian-12
      - 5e0fcd5c-8d2f-4a4e-9f5b-2d3c6f7a8b90
    projects:
      - 0a6f1e6b1c1d4f2c9d1e8f7a6b5c4d3e
      - 9c61004714024f9586705d090530f9fa
  register: share

- name: Make these projects the only members of the images
  imscloud.sharing.ims_image_member_batch:
    cloud: otc-owner
    images: "{{ golden_images }}"
    projects: "{{ consumer_projects }}"
    purge_projects: true

- name: Stop sharing the images with one project, without waiting for the job
  imscloud.sharing.ims_image_member_batch:
    cloud: otc-owner
    images: "{{ golden_images }}"
    projects:
      - 9c61004714024f9586705d090530f9fa
    state: absent
    wait: false

- name: Accept the shared images in the consumer project
  imscloud.sharing.ims_image_member_batch:
    cloud: otc-consumer
    images:
      - golden-ubuntu-24.04
      - golden-debian-12
    status: accepted

- name: Share with credentials from module_defaults, and show the plan first
  module_defaults:
    group/imscloud.sharing.ims:
      auth:
        auth_url: https://iam.eu-de.otc.t-systems.com/v3
        username: "{{ otc_user }}"
        password: "{{ otc_password }}"
        user_domain_name: "{{ otc_domain }}"
        project_id: "{{ otc_owner_project }}"
  block:
    - name: Plan only
      imscloud.sharing.ims_image_member_batch:
        images: "{{ golden_images }}"
        projects: "{{ consumer_projects }}"
        timeout: 600
      check_mode: true
      diff: true
      register: planned

    - name: Show the jobs the change needs
      ansible.builtin.debug:
        var: planned.plan
'''

RETURN = r'''
images:
  description: The images the module worked on, resolved from O(images), in that order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The image id.
      type: str
      sample: 5e0fcd5c-8d2f-4a4e-9f5b-2d3c6f7a8b90
    name:
      description: The image name; null for an image given by id (ids are used without looking the image up).
      type: str
      sample: golden-ubuntu-24.04
plan:
  description:
    - The batch requests the change needs, in the order they are (or, in check mode, would be) sent. Empty when
      nothing differs.
    - Owner-side requests carry C(images) and C(projects); recipient-side requests carry C(images), C(project_id),
      C(status) and, when given, C(vault_id).
  returned: always
  type: list
  elements: dict
  sample:
    - method: POST
      images: [5e0fcd5c-8d2f-4a4e-9f5b-2d3c6f7a8b90]
      projects: [9c61004714024f9586705d090530f9fa]
  contains:
    method:
      description: C(POST) adds members, C(DELETE) removes them, C(PUT) sets the recipient's status.
      type: str
      sample: POST
    images:
      description: The image ids of the request.
      type: list
      elements: str
    projects:
      description: Owner side. The project ids of the request (every image x every project).
      type: list
      elements: str
    project_id:
      description: Recipient side. The project whose membership is changed.
      type: str
    status:
      description: Recipient side. The member status requested.
      type: str
    vault_id:
      description: Recipient side. The vault given in O(vault_id), when given.
      type: str
jobs:
  description:
    - The jobs submitted, in submission order (a request re-sent after an uncertain submission is its own job).
      Empty in check mode and when nothing differs.
    - With O(wait=false), the job fields other than C(job_id) and C(job_type) are as submitted (C(status) is
      C(INIT)).
  returned: always
  type: list
  elements: dict
  contains:
    job_id:
      description: The IMS job id.
      type: str
      sample: 9a175ac692fa12540193002a6d4b2720
    job_type:
      description: C(imsAddImageMembersJob), C(imsDelImageMembersJob) or C(imsUpdateImageMembersJob).
      type: str
      sample: imsAddImageMembersJob
    status:
      description: The job status as last read. C(SUCCESS), C(FAIL), C(RUNNING) or C(INIT).
      type: str
      sample: SUCCESS
    begin_time:
      description: When the job began (UTC).
      type: str
      sample: '2024-11-06T06:30:00.778Z'
    end_time:
      description: When the job ended (UTC); null while it runs.
      type: str
      sample: '2024-11-06T06:30:03.179Z'
    error_code:
      description: The IMS error code of a failed job, for example C(IMG.0098); null otherwise.
      type: str
      sample: null
    fail_reason:
      description: Why the job failed; null otherwise.
      type: str
      sample: null
    results:
      description: The per-image results IMS reports for the job (C(entities.results)), as IMS sends them.
      type: list
      elements: dict
      sample: [{image_id: 5e0fcd5c-8d2f-4a4e-9f5b-2d3c6f7a8b90, status: success}]
    request:
      description: The request the job serves, in the form of an element of RV(plan).
      type: dict
added:
  description:
    - Owner side. The image-project pairs added (or, in check mode, to be added), sorted.
    - When the task fails after submitting jobs, only the pairs that were read back as added.
  returned: owner side (O(projects) given)
  type: list
  elements: dict
  sample: [{image_id: 5e0fcd5c-8d2f-4a4e-9f5b-2d3c6f7a8b90, project_id: 9c61004714024f9586705d090530f9fa}]
  contains:
    image_id:
      description: The image id.
      type: str
    project_id:
      description: The member project id.
      type: str
removed:
  description:
    - Owner side. The image-project pairs removed (or, in check mode, to be removed), sorted.
    - When the task fails after submitting jobs, only the pairs that were read back as removed.
  returned: owner side (O(projects) given)
  type: list
  elements: dict
  sample: []
  contains:
    image_id:
      description: The image id.
      type: str
    project_id:
      description: The member project id.
      type: str
status_changed:
  description: Recipient side. The images whose member status changed (or, in check mode, would change).
  returned: recipient side (O(status) given)
  type: list
  elements: dict
  sample: [{image_id: 5e0fcd5c-8d2f-4a4e-9f5b-2d3c6f7a8b90, before: pending, after: accepted}]
  contains:
    image_id:
      description: The image id.
      type: str
    before:
      description: The status before.
      type: str
    after:
      description: The status after.
      type: str
before:
  description:
    - The state read before any change, per image id.
    - Owner side, the sorted member project ids of the image (any member status); recipient side, the member status
      of the project.
  returned: always
  type: dict
  sample: {5e0fcd5c-8d2f-4a4e-9f5b-2d3c6f7a8b90: []}
after:
  description:
    - The state after the change, in the form of RV(before).
    - The prediction of the plan when every job succeeded, in check mode and with O(wait=false); what was read back
      from IMS when a job failed or timed out.
  returned: always
  type: dict
  sample: {5e0fcd5c-8d2f-4a4e-9f5b-2d3c6f7a8b90: [9c61004714024f9586705d090530f9fa]}
applied:
  description: On failure, the planned pairs whose change is visible when the members were read again.
  returned: when a job failed or did not finish, or a request was refused
  type: list
  elements: dict
  sample: [{image_id: 5e0fcd5c-8d2f-4a4e-9f5b-2d3c6f7a8b90, project_id: 9c61004714024f9586705d090530f9fa}]
not_applied:
  description: On failure, the planned pairs whose change is not visible when the members were read again.
  returned: when a job failed or did not finish, or a request was refused
  type: list
  elements: dict
  sample: [{image_id: 0b680482-acaa-4045-b14c-9a8c7dfe9c70, project_id: 9c61004714024f9586705d090530f9fa}]
'''

import time

from ansible_collections.imscloud.sharing.plugins.module_utils import batch
from ansible_collections.imscloud.sharing.plugins.module_utils import images as image_api
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.membership import validate_image_refs
from ansible_collections.imscloud.sharing.plugins.module_utils.membership import validate_project_ids
from ansible_collections.imscloud.sharing.plugins.module_utils.module import IMSModule
from ansible_collections.imscloud.sharing.plugins.module_utils.module import wait_argument_spec

# After an uncertain submission: how long to watch the members for the job that may exist, and how often. A planned
# request may meet as many uncertain submissions as the retries option allows requests to be retried.
SETTLE_SECONDS = 30.0
SETTLE_POLL_INITIAL = 1.0
SETTLE_POLL_MAX = 8.0

# What to do about the IMS error codes a member job or request is known to end with (ims_api.md section 5.1).
HINTS = {
    'IMG.0098': 'an encrypted image can be shared only after its KMS key is authorised for the target projects; '
                'authorise the key (images encrypted with the default key cannot be shared) or drop the image from images',
    'IMG.0095': 'the KMS key of an encrypted image does not exist; drop the image from images',
    'IMG.0097': 'the KMS key of an encrypted image is not enabled; enable it or drop the image from images',
    'IMG.0099': 'no permission on the KMS key of an encrypted image; authorise the key or drop the image from images',
    'IMG.0047': 'only the owner project can change the members of an image; drop images of other projects from images',
    'IMG.0106': 'only the owner project can change the members of an image; drop images of other projects from images',
    'IMG.0088': 'an image has reached its member quota (256, or 10 for full-ECS images); remove members first',
    'IMG.0076': 'an image cannot be shared with its own project; remove the owner project from projects',
    'IMG.0178': 'an image cannot be shared with its own project; remove the owner project from projects',
    'IMG.0108': 'images can be shared only with projects of the same region; check projects',
    'IMG.0177': 'images can be shared only with projects of the same region; check projects',
    'IMG.0067': 'a project id is not known to IAM; check projects',
    'IMG.0135': 'full-ECS images can be shared only when they were created from a CBR backup',
    'IMG.0089': 'public images cannot be shared',
    'IMG.0083': 'public images cannot be shared',
    'IMG.0060': 'IMS is throttling tasks; re-run later, or use a larger batch_size for fewer jobs',
    'IMG.0182': 'the vault given in vault_id has not enough capacity for the image',
    'IMG.0184': 'the vault given in vault_id could not be found; check vault_id',
    'IMG.0188': 'the vault given in vault_id is not available; check vault_id',
    'IMG.0193': 'vault_id must be a cloud server backup vault',
    'IMG.0027': 'an image id does not exist; check images',
    'IMG.0046': 'an image is not active (queued or saving); wait until it is active',
    'IMG.0086': 'the project is not a member of an image; the owner must share it first',
    'IMG.0112': 'IMS could not add a member; re-run the task, it sends only what is still missing',
    'IMG.0113': 'IMS could not remove a member; re-run the task, it sends only what is still missing',
}


def _hint(code):
    return (' (%s)' % HINTS[code]) if code in HINTS else ''


def _describe_request(request):
    if request['method'] == 'PUT':
        return 'PUT of %d image(s) to %s' % (len(request['images']), request['status'])
    return '%s of %d image(s) x %d project(s)' % (request['method'], len(request['images']), len(request['projects']))


def _request_body(request):
    return dict((key, value) for key, value in request.items() if key != 'method')


class ImsImageMemberBatch(IMSModule):
    argument_spec = dict(
        images=dict(type='list', elements='str', required=True),
        projects=dict(type='list', elements='str'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        purge_projects=dict(type='bool', default=False),
        status=dict(type='str', choices=['accepted', 'rejected']),
        project_id=dict(type='str'),
        vault_id=dict(type='str'),
        batch_size=dict(type='int', default=100),
        **wait_argument_spec()
    )
    module_kwargs = dict(
        supports_check_mode=True,
        required_one_of=[('projects', 'status')],
        mutually_exclusive=[('projects', 'status'), ('state', 'status'), ('purge_projects', 'status')],
        required_by={'project_id': 'status', 'vault_id': 'status'},
    )

    # ------------------------------------------------------------------ validation (no request)

    def _validate(self):
        params = self.module.params
        images, warnings = validate_image_refs('images', params['images'])
        for warning in warnings:
            self.module.warn(warning)
        if params['batch_size'] < 1:
            raise IMSError('batch_size must be at least 1, got %d' % params['batch_size'])
        if params['timeout'] is not None and params['timeout'] <= 0:
            raise IMSError('timeout must be a positive number of seconds, got %s' % params['timeout'])
        if params['status'] is None:
            if params['purge_projects'] and params['state'] == 'absent':
                raise IMSError('purge_projects=true cannot be combined with state=absent: to remove every member use '
                               'state=present, purge_projects=true and an empty projects list')
            allow_empty = params['purge_projects'] and params['state'] == 'present'
            projects, warnings = validate_project_ids('projects', params['projects'], allow_empty=allow_empty)
            for warning in warnings:
                self.module.warn(warning)
            return images, projects, None
        project_id = None
        if params['project_id'] is not None:
            project_id = validate_project_ids('project_id', [params['project_id']])[0][0]
        if params['vault_id'] is not None:
            if not params['vault_id'].strip():
                raise IMSError('vault_id is empty; give the id of a server-backup vault or leave vault_id out')
            if params['status'] != 'accepted':
                raise IMSError('vault_id applies only with status=accepted (it names the vault that receives an '
                               'accepted full-ECS image), got status=%s' % params['status'])
        return images, None, project_id

    # ------------------------------------------------------------------ run

    def run(self):
        images, projects, project_id = self._validate()
        params = self.module.params
        owner_side = params['status'] is None
        resolved = self._resolve(images, 'owner' if owner_side else 'recipient')
        image_ids = [image['id'] for image in resolved]
        self.result = {
            'changed': False,
            'images': [{'id': image['id'], 'name': image.get('name')} for image in resolved],
            'jobs': [],
        }
        if owner_side:
            self._check_not_sharing_with_owner(resolved, projects)
            self.reader = self._read_membership
            self.before = self.reader(image_ids)
            self.plan = batch.plan_batch_changes(self.before, projects, params['state'], params['purge_projects'],
                                                 params['batch_size'])
            self.predicted = batch.predict_membership(self.before, self.plan)
        else:
            self.project_id = project_id or self.client.project_id
            self.reader = self._read_statuses
            self.before = self.reader(image_ids)
            orphans = batch.images_without_membership(self.before)
            if orphans:
                raise IMSError('project %s is not a member of image(s) %s: there is nothing to accept or reject; the '
                               'owner must share the image(s) with the project first'
                               % (self.project_id, ', '.join(orphans)))
            self.plan = batch.plan_batch_status_changes(self.before, params['status'], self.project_id,
                                                        params['vault_id'], params['batch_size'])
            self.predicted = batch.predict_statuses(self.before, self.plan)
        self.result['plan'] = self.plan
        self.result['changed'] = bool(self.plan)
        self._report_state(self.predicted)
        if not self.plan or self.module.check_mode:
            return self.result
        return self._apply()

    def _resolve(self, refs, side):
        """Image dicts ({id, name, owner}) for names and ids, in order, each image once.

        Names are looked up; ids are taken as they are, without a request: the member read that follows fails for an
        image that does not exist or is not visible.
        """
        resolution = image_api.resolve_images(self.client, refs, side, read_ids=False)
        for warning in resolution.warnings:
            self.module.warn(warning)
        return resolution.images

    def _check_not_sharing_with_owner(self, resolved, projects):
        own = [(image['id'], image['owner']) for image in resolved if image.get('owner') in set(projects)]
        if own and self.module.params['state'] == 'present':
            raise IMSError('projects lists the owner project of image(s) %s; an image cannot be shared with its own '
                           'project: remove it from projects' % ', '.join('%s (owner %s)' % pair for pair in own))

    def _read_members(self, image_ids):
        try:
            return self.client.read_members(image_ids)
        except IMSError as err:
            if err.status == 404:
                raise IMSError('%s. Check images: an image given by id does not exist or is not visible to project %s'
                               % (err, self.client.project_id), status=err.status, code=err.code,
                               request_id=err.request_id)
            raise

    def _read_membership(self, image_ids):
        return batch.membership_from_members(self._read_members(image_ids))

    def _read_statuses(self, image_ids):
        try:
            members = self.client.read_members(image_ids)
        except IMSError as err:
            if err.status != 404:
                raise
            # an image that is not shared with the caller is not visible: read one by one to name every such image
            members = {}
            for image_id in image_ids:
                try:
                    members[image_id] = self.client.list_members(image_id)
                except IMSError as inner:
                    if inner.status != 404:
                        raise
                    members[image_id] = []
        return batch.statuses_from_members(members, self.project_id)

    def _report_state(self, after):
        """Fill before/after/diff and the per-side change lists from the state after (predicted or read)."""
        self.result['before'] = self.before
        self.result['after'] = after
        if self.module.params['status'] is None:
            self.result['added'] = batch.planned_pairs(self.plan, 'POST')
            self.result['removed'] = batch.planned_pairs(self.plan, 'DELETE')
        else:
            self.result['status_changed'] = batch.status_changes(self.before, after)
        if self.module._diff:
            what = 'member projects' if self.module.params['status'] is None else 'member status of %s' % self.project_id
            self.result['diff'] = {'before': self.before, 'after': after,
                                   'before_header': '%s per image, before' % what,
                                   'after_header': '%s per image, after' % what}

    # ------------------------------------------------------------------ apply

    def _apply(self):
        self.records = []      # (request, job record, resubmitted) in submission order
        self.problems = []     # what went wrong besides failed jobs, worded for the message
        self.wrote = False     # a request was accepted, or may have been (uncertain)
        for request in self.plan:
            if not self._submit(request):
                break
        if self.module.params['wait']:
            # all jobs run side by side; timeout bounds the wait for all of them together
            self.deadline = time.monotonic() + self.module.params['timeout']
            for record in self.records:
                self._wait(record)
            if self.problems or any(job['status'] == 'FAIL' for _request, job, _resubmitted in self.records):
                return self._report_failure()
        elif self.problems:
            # IMS refused a request: report the jobs already submitted; they may still be running
            submitted = [request for request, _job, _resubmitted in self.records]
            after = (batch.predict_membership if self.module.params['status'] is None else batch.predict_statuses)(
                self.before, submitted)
            self._report_state(after)
            self.result['changed'] = self.wrote
            self.module.fail_json(msg='%s. Jobs submitted before: %s; re-run the task once the cause is fixed.' % (
                '; '.join(self.problems), ', '.join(job['job_id'] for _r, job, _s in self.records) or 'none'),
                **self.result)
        return self.result

    def _submit(self, request, rounds=0, resubmitted=False):
        """Submit one request; after an uncertain submission, re-read and submit only what is still missing.

        Returns False when IMS refused a request (the problem is recorded and nothing more is submitted).
        """
        try:
            job_id = self.client.submit_member_job(request['method'], _request_body(request))
        except IMSError as err:
            if not err.details.get('uncertain'):
                self.problems.append('%s was refused: %s%s' % (_describe_request(request), err, _hint(err.code)))
                return False
            self.wrote = True
            if rounds >= self.connection.retries:
                self.problems.append('%s stayed uncertain after %d attempts (%s); the module stopped sending requests'
                                     % (_describe_request(request), rounds + 1, err))
                return False
            missing = self._settle(request)
            self.module.warn('the submission of a %s may or may not have created a job (%s); after re-reading the '
                             'members, %s' % (_describe_request(request), err,
                                              'every pair is in place' if not missing
                                              else 'the pairs still missing are sent again'))
            for retry in missing:
                if not self._submit(retry, rounds + 1, resubmitted=True):
                    return False
            return True
        self.wrote = True
        self.records.append((request, batch.job_record(request, job_id=job_id), resubmitted))
        self.result['jobs'] = [record for _request, record, _resubmitted in self.records]
        return True

    def _settle(self, request):
        """Watch the request's images until its pairs are in place (a job was created) or the window closes.

        Returns the requests for the pairs still missing (re-planned, so possibly several or none).
        """
        window_end = time.monotonic() + min(SETTLE_SECONDS, self.module.params['timeout'])
        interval = SETTLE_POLL_INITIAL
        while True:
            state = self.reader(request['images'])
            if not batch.split_applied([request], state)[1]:
                return []
            remaining = window_end - time.monotonic()
            if remaining <= 0:
                return self._replan(request, state)
            time.sleep(min(interval, remaining))
            interval = min(SETTLE_POLL_MAX, interval * 2)

    def _replan(self, request, state):
        batch_size = self.module.params['batch_size']
        if request['method'] == 'PUT':
            # an image whose membership vanished meanwhile has nothing left to accept
            current = dict((image_id, state.get(image_id)) for image_id in request['images'] if state.get(image_id))
            return batch.plan_batch_status_changes(current, request['status'], request['project_id'],
                                                   request.get('vault_id'), batch_size)
        listed = set(request['projects'])
        current = dict((image_id, [p for p in state.get(image_id, []) if p in listed]) for image_id in request['images'])
        state_wanted = 'present' if request['method'] == 'POST' else 'absent'
        return batch.plan_batch_changes(current, request['projects'], state_wanted, False, batch_size)

    def _wait(self, record):
        request, job, _resubmitted = record
        remaining = max(0.0, self.deadline - time.monotonic())
        try:
            finished = self.client.wait_for_job(job['job_id'], remaining)
        except IMSError as err:
            details = err.details
            if str(details.get('status') or '').upper() == 'FAIL':
                job.update(batch.job_record(request, details))
                job['results'] = list(details.get('results') or [])
            elif 'last_status' in details:
                job['status'] = details.get('last_status') or job['status']
                self.problems.append('job %s (%s) did not finish within %s seconds (last status %s); it keeps running '
                                     'in IMS: re-run the task later, it sends only what is still missing'
                                     % (job['job_id'], job['job_type'],
                                        self.module.params['timeout'], job['status']))
            else:
                self.problems.append('could not read the status of job %s: %s' % (job['job_id'], err))
            return
        job.update(batch.job_record(request, finished))

    def _job_failure(self, request, job):
        return 'job %s (%s, %s) failed with %s: %s%s' % (
            job['job_id'], job['job_type'], _describe_request(request),
            job['error_code'] or 'no error code', job['fail_reason'] or 'IMS gave no reason', _hint(job['error_code']))

    def _report_failure(self):
        """Re-read the touched images, split the plan into applied / not applied pairs, and fail."""
        touched = []
        for request in self.plan:
            touched.extend(image_id for image_id in request['images'] if image_id not in touched)
        after = dict(self.before)
        after.update(self.reader(touched))
        failures = []
        for request, job, resubmitted in self.records:
            if job['status'] != 'FAIL':
                continue
            if resubmitted and not batch.split_applied([request], after)[1]:
                # the job of the uncertain submission was only slow and applied these pairs before this one ran
                self.module.warn('job %s failed (%s: %s), but every pair it was re-sent for is in place: the job of '
                                 'the uncertain submission completed late'
                                 % (job['job_id'], job['error_code'], job['fail_reason']))
                continue
            failures.append(self._job_failure(request, job))
        problems = failures + self.problems
        self.result['changed'] = self.wrote
        self._report_state(after)
        if not problems:
            return self.result
        applied, not_applied = batch.split_applied(self.plan, after)
        self.result['applied'] = applied
        self.result['not_applied'] = not_applied
        if 'added' in self.result:
            # only what happened: the planned pairs are in applied + not_applied
            for key, method in (('added', 'POST'), ('removed', 'DELETE')):
                done = batch.split_applied([r for r in self.plan if r['method'] == method], after)[0]
                self.result[key] = sorted(done, key=lambda pair: (pair['image_id'], pair['project_id']))
        self.module.fail_json(msg=batch.failure_message(problems, applied, not_applied), **self.result)
        return self.result


def main():
    ImsImageMemberBatch()()


if __name__ == '__main__':
    main()
