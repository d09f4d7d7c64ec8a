#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r'''
---
module: ims_image_member_batch
short_description: Share many images with many projects, or accept them, on IMS or plain OpenStack Glance
version_added: 0.1.0
description:
  - Manages the members of several images at once. The module plans once and executes the plan the fastest correct
    way the cloud offers (O(api)) - through the Open Telekom Cloud IMS batch API
    C(POST|DELETE|PUT /v1/cloudimages/members), which runs each change as an asynchronous job, or through concurrent
    native (Glance v2) member calls, which every OpenStack cloud has.
  - B(Owner side) (O(projects) given) makes the listed projects members of every listed image (O(state=present)),
    or removes them (O(state=absent)). With O(purge_projects=true) it also removes the members that are not listed.
  - B(Recipient side) (O(status) given) accepts or rejects, as the project the images are shared with, the
    memberships of every listed image.
  - The module is idempotent. It reads the current members of every image (in parallel), plans only the
    image-project pairs that differ, and sends them either as one batch request per group of images that lack the
    same projects (split so that no request carries more than O(batch_size) images or O(batch_size) projects), or as
    one native call per pair. An unchanged re-run sends no write.
  - Every option is checked before the first request, so bad input never leaves a change half applied.
  - When a job or a native call fails, the other pairs still go out; the task then fails and reports which pairs
    were applied and which were not, with each error. A re-run sends only what is still missing.
  - For one image, M(imscloud.sharing.ims_image_member) uses the same native executor.
author: imscloud.sharing contributors (@imscloud)
requirements:
  - requests
extends_documentation_fragment:
  - imscloud.sharing.connection
  - imscloud.sharing.connection.wait
  - imscloud.sharing.image_selector
  - imscloud.sharing.attributes
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
      - Give O(images) or O(selector).
    type: list
    elements: str
  purge_older:
    description:
      - B(Rotation.) Owner side, with O(selector) and O(selector.newest). Also removes the projects in O(projects) from
        the images that O(selector) would choose but for O(selector.newest) (the older builds of each family), so that
        the projects keep exactly the newest N builds. Other members of the older images stay.
      - Check mode and diff show which images gain the projects and which lose them (RV(added), RV(removed),
        RV(selection.older)).
    type: bool
    default: false
  project_names:
    description:
      - Owner side. Projects by name, added to O(projects). Ids are the fast path (no request); each name costs one
        C(GET /v3/projects?name=<name>), in the project domain of the connection when it is given by id.
      - Listing projects needs credentials that may do so (Keystone, a domain or system reader; OTC IAM, the
        permission C(iam:projects:list)). Without it the task fails before any change and says to use ids. Not
        with AK/SK. A name must match exactly one project.
      - Mutually exclusive with O(status).
    type: list
    elements: str
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
  set_shared_visibility:
    description:
      - Owner side. Plain OpenStack Glance adds members only to images whose visibility is C(shared). With V(true),
        every private image of the task that gets new members is switched to C(shared) first (one C(PATCH) per image).
      - Without it, private images on plain Glance fail the task before any write, naming the images.
      - Never needed, and never used, on OTC IMS, which shares private images directly.
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
  api:
    description:
      - How the plan is executed.
      - V(auto) uses the IMS batch API (jobs) where the cloud has it and the plan is big enough for one job round to
        be faster than the native calls - more than 25 x O(concurrency) pairs (800 with the default concurrency) -
        and native calls otherwise, also on every cloud without the batch API (plain OpenStack Glance).
      - V(jobs) always uses the batch API; on plain Glance the task fails before any write.
      - V(native) always uses one native member call per pair (per image on the recipient side).
      - Whether the cloud has the batch API is read once per endpoint and token (one C(GET /v2/cloudimages?limit=1),
        no write) and kept with the cached token. RV(executor) says which ran and why.
    type: str
    choices: [auto, jobs, native]
    default: auto
  concurrency:
    description:
      - The most native member calls (and member reads) in flight at once.
      - The default 32 came from measurements against the emulator with realistic latency (docs/guides/native-vs-batch.md);
        50 member reads go out in 2 waves, and 500 native adds took the least time at 32.
    type: int
    default: 32
  batch_size:
    description:
      - Jobs only. The most image ids, and the most project ids, one batch request carries. Larger changes are split
        into several jobs.
      - The default is the console's limit of 100 project ids per share action; the API documents no limit.
    type: int
    default: 100
notes:
  - B(Requests.) N images with M projects from nothing cost N member reads (O(concurrency) at a time), then either
    one job per group of images lacking the same projects and per O(batch_size) chunk plus its polls, or N x M native
    calls, O(concurrency) at a time. An unchanged run costs the N reads only. Image names (not ids) cost one listing
    each.
  - B(Order.) Additions are submitted before removals; all jobs are submitted first, then waited for together
    (O(timeout) bounds the wait for all of them). Jobs are polled from one second after their submission, finely at
    first, then less often (docs/guides/native-vs-batch.md).
  - B(Failures.) A failing job or native call does not stop the others. The task fails at the end, after reading the
    members again (jobs), and reports RV(applied) and RV(not_applied) pairs, RV(errors) (native) and the job's error
    code and reason, with what to do about known causes. C(changed) is true only when at least one pair was really
    changed. A job that failed only because its pairs were already in place counts as a success.
  - B(Before any write) the task fails when the plan cannot work - the owner project in O(projects), private images
    on plain Glance without O(set_shared_visibility), more members than the member quota allows (IMS 256, full-ECS
    images 10; Glance's default 128), or O(api=jobs) on plain Glance.
  - B(Timeout.) A job still running after O(timeout) seconds fails the task, but the job keeps running in IMS.
    Re-run the task later; it sends only what is still missing.
  - B(Uncertain submissions.) When a batch request fails in a way that may still have created a job (dropped
    connection, read timeout, 5xx), the request is never re-sent blindly, because IMS offers no way to list jobs and
    the job applies its changes only when it completes. The module re-reads the members of the images of that
    request until its pairs appear, for at most 30 seconds (or O(timeout), when shorter), then sends only the pairs
    still missing, as many times as O(retries) allows.
  - B(Jobs of an earlier run.) Every submitted job is remembered next to the token cache (private files, per endpoint
    and project, for an hour) until it is seen finished. A run that finds jobs of an earlier, interrupted run for its
    images waits for them before it reads, so that their pairs are not submitted twice.
  - B(wait=false.) The jobs are submitted and returned with status C(INIT); RV(after) is the predicted membership.
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
request_trace:
  description:
    - One line per HTTP request the module sent, in order (method, URL, status, duration, request ID, retry and its
      reason, where the token came from); see O(trace). Never holds a secret.
  returned: when O(trace) is on (also after a failure)
  type: list
  elements: str
  sample: ['#1 POST https://iam.eu-de.otc.t-systems.com/v3/auth/tokens, -> 201, 0.412 s, request id 5f0c, token none']
selection:
  description:
    - What O(selector) chose, and for a rotation (O(purge_older=true)) the older images that lose the projects.
    - An empty selection (RV(selection.matched=0)) is not an error unless O(fail_on_empty=true); nothing is changed.
  returned: when O(selector) is given
  type: dict
  contains:
    filters:
      description: The selector's filters in words.
      type: str
      sample: "name matches 'golden-*', status active, the newest 2 per family (name without /-[0-9]{8}$/)"
    matched:
      description: How many images the selector chose (listed in RV(images)).
      type: int
      sample: 4
    older:
      description: With O(purge_older=true), the older images of the families, which lose the projects (empty otherwise).
      type: list
      elements: dict
      sample: [{id: 5e0fcd5c-8d2f-4a4e-9f5b-2d3c6f7a8b90, name: golden-ubuntu-24.04-20261117}]
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
unverified:
  description:
    - Recipient side, check mode. True when an image is not shared with the project yet (an earlier task of the play
      would share it, but check mode did not), so its answer is predicted, not verified; see RV(unverified_images).
  returned: always
  type: bool
  sample: false
unverified_images:
  description: The images RV(unverified) is about, with why each could not be verified.
  returned: always
  type: list
  elements: dict
  sample: []
  contains:
    id:
      description: The image id (null for a name that could not be looked up).
      type: str
    name:
      description: The image name, when given by name.
      type: str
    reason:
      description: Why the image could not be verified.
      type: str
executor:
  description: Which executor ran the plan, and why (the O(api) rule). C(name) is null when nothing had to change.
  returned: always
  type: dict
  sample: {name: native, reason: "auto: 6 pair(s) take 1 wave(s) of at most 32 native calls, faster than a job (at most 25 waves use native calls)"}
  contains:
    name:
      description: C(jobs) or C(native); null when the plan was empty.
      type: str
    reason:
      description: Why this executor ran.
      type: str
errors:
  description: Native executor. One entry per pair whose call failed; empty otherwise.
  returned: always
  type: list
  elements: dict
  sample: [{image_id: 0b680482-acaa-4045-b14c-9a8c7dfe9c70, project_id: 9c61004714024f9586705d090530f9fa, operation: add,
            message: "IMS request failed: ...", error: {status: 404, code: null, message: "...", request_id: "...",
            method: POST, url: "..."}}]
  contains:
    image_id:
      description: The image id.
      type: str
    project_id:
      description: The member project id.
      type: str
    operation:
      description: C(add), C(remove) or C(set_status).
      type: str
    message:
      description: The error, with what to do about it.
      type: str
    error:
      description: The error's fixed keys, as the C(error) of a failed task.
      type: dict
    hint:
      description: What to do about it (the advice catalogue); null when there is nothing to add.
      type: str
applied:
  description:
    - The planned pairs whose desired state holds after the run. On success every planned pair (none in check mode
      and with O(wait=false)); after a failure, what was confirmed (native) or read back (jobs).
  returned: always
  type: list
  elements: dict
  sample: [{image_id: 5e0fcd5c-8d2f-4a4e-9f5b-2d3c6f7a8b90, project_id: 9c61004714024f9586705d090530f9fa}]
not_applied:
  description: The planned pairs whose change did not happen (empty on success).
  returned: always
  type: list
  elements: dict
  sample: [{image_id: 0b680482-acaa-4045-b14c-9a8c7dfe9c70, project_id: 9c61004714024f9586705d090530f9fa}]
'''

from ansible_collections.imscloud.sharing.plugins.module_utils import batch
from ansible_collections.imscloud.sharing.plugins.module_utils import executor
from ansible_collections.imscloud.sharing.plugins.module_utils import images as image_api
from ansible_collections.imscloud.sharing.plugins.module_utils.advice import explain
from ansible_collections.imscloud.sharing.plugins.module_utils.advice import private_image_hint
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.executor_jobs import JobRun
from ansible_collections.imscloud.sharing.plugins.module_utils.executor_jobs import settle_pending_jobs
from ansible_collections.imscloud.sharing.plugins.module_utils.job_journal import JobJournal
from ansible_collections.imscloud.sharing.plugins.module_utils.module import IMSModule
from ansible_collections.imscloud.sharing.plugins.module_utils.module import wait_argument_spec
from ansible_collections.imscloud.sharing.plugins.module_utils.projects import resolve_projects
from ansible_collections.imscloud.sharing.plugins.module_utils.projects import split_project_refs
from ansible_collections.imscloud.sharing.plugins.module_utils.selection import check_rotation
from ansible_collections.imscloud.sharing.plugins.module_utils.selection import selector_argument_spec
from ansible_collections.imscloud.sharing.plugins.module_utils.selection import validate_selector
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import check_member_quota
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import check_memberships_exist
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import check_not_own_project
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import check_recipient_project
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import member_quota
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import min_member_quota
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import validate_image_refs
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import validate_positive_int
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import validate_project_id
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import validate_project_ids
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import validate_state_and_purge
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import validate_timeout
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import validate_vault_id

# The visibility of an image given by id on plain Glance whose member listing was refused: not "shared".
GLANCE_NOT_SHARED = 'not shared (member listing refused)'


class ImsImageMemberBatch(IMSModule):
    argument_spec = dict(
        images=dict(type='list', elements='str'),
        selector=selector_argument_spec(),
        fail_on_empty=dict(type='bool', default=False),
        purge_older=dict(type='bool', default=False),
        projects=dict(type='list', elements='str'),
        project_names=dict(type='list', elements='str'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        purge_projects=dict(type='bool', default=False),
        set_shared_visibility=dict(type='bool', default=False),
        status=dict(type='str', choices=list(batch.BATCH_STATUSES)),
        project_id=dict(type='str'),
        vault_id=dict(type='str'),
        api=dict(type='str', choices=list(executor.API_CHOICES), default=executor.API_AUTO),
        concurrency=dict(type='int', default=executor.DEFAULT_CONCURRENCY),
        batch_size=dict(type='int', default=100),
        **wait_argument_spec()
    )
    module_kwargs = dict(
        supports_check_mode=True,
        required_one_of=[('projects', 'project_names', 'status'), ('images', 'selector')],
        mutually_exclusive=[('images', 'selector'), ('projects', 'status'), ('project_names', 'status'), ('state', 'status'),
                            ('purge_projects', 'status'),
                            ('set_shared_visibility', 'status')],
        required_by={'project_id': 'status', 'vault_id': 'status'},
    )

    # ------------------------------------------------------------------ parse (no request)

    def _parse(self):
        """The validated input: {refs, owner, projects, project_id}."""
        p = self.params
        refs, warnings = validate_image_refs('images', p['images']) if p['images'] is not None else ([], [])
        selector = validate_selector('selector', p['selector'])
        check_rotation(p['purge_older'], selector, p['status'], p['state'])
        validate_positive_int('batch_size', p['batch_size'], batch.BATCH_SIZE_MEANING)
        validate_positive_int('concurrency', p['concurrency'], 'the most native calls in flight at once')
        validate_timeout(p['timeout'])
        parsed = {'refs': refs, 'selector': selector, 'owner': p['status'] is None, 'projects': None, 'names': [],
                  'project_id': None}
        if parsed['owner']:
            validate_state_and_purge(p['state'], 'purge_projects', p['purge_projects'], 'projects')
            parsed['names'], more = split_project_refs('project_names', p['project_names'])
            warnings += more
            parsed['projects'], more = validate_project_ids('projects', p['projects'] or [],
                                                            allow_empty=p['purge_projects'] or bool(parsed['names']))
            warnings += more
        else:
            if p['project_id'] is not None:
                parsed['project_id'] = validate_project_id('project_id', p['project_id'])
            validate_vault_id(p['vault_id'], p['status'])
        for warning in warnings:
            self.module.warn(warning)
        return parsed

    def run(self):
        parsed = self._parse()
        result = {'changed': False, 'images': [], 'plan': [], 'jobs': [], 'before': {}, 'after': {},
                  'unverified': False, 'unverified_images': [],
                  'executor': {'name': None, 'reason': None}, 'applied': [], 'not_applied': [], 'errors': []}
        result.update({'added': [], 'removed': []} if parsed['owner'] else {'status_changed': []})
        try:
            return self._run(parsed, result)
        except IMSError as err:
            # keys documented as always returned are there after an early failure too
            raise err.with_context(**dict((key, value) for key, value in result.items() if key not in err.details))

    def _run(self, parsed, result):
        p = self.params
        older = []
        if parsed['selector'] is not None:
            resolution, older = self._select(parsed, result)
            if not resolution.images:
                return result
        else:
            resolution = self._resolve(parsed['refs'], 'owner' if parsed['owner'] else 'recipient')
        images = resolution.images
        if parsed['owner'] and parsed['names']:
            named = resolve_projects(self.client, 'project_names', parsed['names'], concurrency=p['concurrency'])
            parsed['projects'] += [project_id for project_id in named if project_id not in parsed['projects']]
        result['images'] = [{'id': image['id'], 'name': image.get('name')} for image in images if image['id'] not in older]
        caller = self.client.project_id
        if parsed['owner'] and p['state'] == 'present':
            check_not_own_project('projects', parsed['projects'], caller, images)
        project_id = None if parsed['owner'] else check_recipient_project('project_id', parsed['project_id'], caller)
        image_ids = [image['id'] for image in images]
        journal = JobJournal(self.connection.cache_dir if self.connection.token_cache else None,
                             self.client.endpoint, caller, warn=self.module.warn)
        if not self.check_mode and p['wait']:
            settle_pending_jobs(self.client, journal, image_ids, p['timeout'], self.module.warn)
        task = _Task(self, parsed, resolution, project_id, older)
        task.read_and_plan()
        result['before'], result['plan'] = task.before, task.plan
        result['images'] = [{'id': image['id'], 'name': image.get('name')} for image in task.images
                            if image['id'] not in older]
        result.update(resolution.result_fields())
        name, reason = None, 'nothing to change'
        if task.plan:
            name, reason = executor.choose_api(p['api'], task.batch_api(p['api']), executor.pair_count(task.plan),
                                               p['concurrency'])
        result['executor'] = {'name': name, 'reason': reason}
        task.check_before_writing()
        result['changed'] = bool(task.plan or task.to_share)
        if self.check_mode or not result['changed']:
            self._report(result, task, task.predicted(), task.plan_pairs())
            return result
        # a real run reports what happened: nothing yet, should the execution raise (and at 100 000 pairs the
        # module's peak memory holds one list of pairs, not the prediction's as well)
        self._report(result, task, task.before, [])
        outcome = task.execute(name, reason, journal)
        result.update(executor.result_fields(outcome))
        result['changed'] = outcome['changed'] or bool(task.to_share)
        self._report(result, task, task.after(outcome), outcome['applied'])
        if executor.failed(outcome):
            raise executor.failure(outcome, result)
        return result

    def _select(self, parsed, result):
        """(Resolution of the images the selector chooses, plus for a rotation the older ones; the older ids).

        An empty selection is returned as such, or fails with fail_on_empty."""
        selection = image_api.select(self.client, parsed['selector'], 'owner' if parsed['owner'] else 'recipient')
        rotate = self.params['purge_older']
        older = selection.older if rotate else []
        result['selection'] = {'filters': selection.filters, 'matched': len(selection.chosen),
                               'older': [{'id': i['id'], 'name': i.get('name')} for i in older]}
        if not selection.chosen and self.params['fail_on_empty']:
            raise IMSError('selector matched no image (filters: %s); fail_on_empty is set' % selection.filters)
        return image_api.Resolution(selection.chosen + older, [], []), [image['id'] for image in older]

    def _resolve(self, refs, side):
        """Image dicts ({id, name, owner, ...}) for names and ids, in order, each image once.

        Names are looked up; ids are taken as they are, without a request: the member read that follows fails for an
        image that does not exist or is not visible.
        """
        # check mode across tasks: a recipient may not see yet what an earlier task of the play would share
        resolution = image_api.resolve_images(self.client, refs, side, read_ids=False,
                                              check_mode=self.check_mode and side == 'recipient')
        for warning in resolution.warnings:
            self.module.warn(warning)
        return resolution

    def _report(self, result, task, after, applied):
        """before/after/diff and the per-side change lists, from the state after (predicted or read back)."""
        result['after'] = after
        # the change lists name the dicts of `applied` again: one dict per pair, however many lists hold it (at
        # 100 000 pairs each copy costs ~18 MB, and the module's peak memory is what limits its size)
        done = dict(((pair['image_id'], pair['project_id']), pair) for pair in applied)
        if task.owner:
            for key, method in (('added', 'POST'), ('removed', 'DELETE')):
                result[key] = [done[pair_key] for pair_key in batch.planned_keys(task.plan, method) if pair_key in done]
        else:
            result['status_changed'] = batch.status_changes(task.before, after)
        if self.module._diff:
            what = 'member projects' if task.owner else 'member status of %s' % task.project_id
            result['diff'] = {'before': task.before, 'after': after, 'before_header': '%s per image, before' % what,
                              'after_header': '%s per image, after' % what}


class _Task:
    """What one run reads, plans and executes: plain data plus the reads that fill it."""

    def __init__(self, module, parsed, resolution, project_id, older=()):
        self.module = module
        self.client = module.client
        self.params = module.params
        self.owner = parsed['owner']
        self.projects = parsed['projects']
        self.project_id = project_id
        self.resolution = resolution
        self.images = resolution.images
        self.older = set(older)  # rotation: images of the families that lose the projects
        self.by_id = dict((_key(image), image) for image in self.images)
        self.before = {}
        self.plan = []
        self.hidden = []         # plain Glance: private images, whose members cannot be listed
        self.to_share = []       # ... and that set_shared_visibility switches to shared
        self._batch_api = 'unknown'

    def batch_api(self, api):
        """Whether the cloud has the IMS batch API (read at most once, cached with the token)."""
        if self._batch_api == 'unknown':
            self._batch_api = self.client.has_batch_api()
        return self._batch_api

    def read(self, image_ids):
        """The state in the planner's form: {image_id: [member project ids]} or {image_id: status or None}."""
        # unverified images (check mode, recipient): not shared yet, nothing to read
        unverified = [image_id for image_id in image_ids if self.by_id.get(image_id, {}).get('unverified')]
        image_ids = [image_id for image_id in image_ids if image_id not in unverified]
        side = 'owner' if self.owner else 'recipient'
        images = [self.by_id.get(image_id) or {'id': image_id} for image_id in image_ids]
        try:
            reads = image_api.read_member_lists(self.client, images, side, concurrency=self.params['concurrency'])
        except IMSError as err:
            if not (self.owner and err.status == 403 and not err.code and self.batch_api(None) is False):
                raise err.with_context(None, explain(err, 'list', {}, self.client.project_id))
            # plain Glance lists no members of an image that is not shared: for images given by id the visibility
            # is not known before, and that refusal says it
            images = [image if image.get('visibility') else dict(image, visibility=GLANCE_NOT_SHARED) for image in images]
            reads = image_api.read_member_lists(self.client, images, side, concurrency=self.params['concurrency'])
        self.hidden.extend(image_id for image_id in reads.refused if image_id not in self.hidden)
        members = dict(reads.members, **dict((image_id, []) for image_id in unverified))
        if self.owner:
            return batch.membership_from_members(members)
        return batch.statuses_from_members(members, self.project_id)

    def read_and_plan(self):
        p = self.params
        self.before = self.read([image['id'] for image in self.images if not image.get('unverified')])
        if not self.owner and self.module.check_mode:
            # an image not shared yet: predicted as the new share an earlier task of the play would make
            missing = [image_id for image_id, status in self.before.items() if status is None]
            given = len(self.resolution.warnings)
            image_api.require_shares(self.resolution, missing, self.project_id, True)
            for warning in self.resolution.warnings[given:]:
                self.module.module.warn(warning)
            self.images = self.resolution.images
            self.by_id = dict((_key(image), image) for image in self.images)
            self.before = dict((_key(image), self.before.get(image['id']) or image_api.PREDICTED_MEMBER_STATUS)
                               for image in self.images)
        if self.owner:
            older = self.older
            keep = dict((i, m) for i, m in self.before.items() if i not in older)
            self.plan = batch.plan_batch_changes(keep, self.projects, p['state'], p['purge_projects'], p['batch_size'])
            if older:
                # rotation: the older builds lose the task's projects (after the newest gained them)
                self.plan += batch.plan_batch_changes(dict((i, m) for i, m in self.before.items() if i in older),
                                                      self.projects, 'absent', False, p['batch_size'])
            adding = set(image_id for image_id, _project in batch.planned_keys(self.plan, 'POST'))
            self.to_share = [image_id for image_id in self.hidden if image_id in adding]
        else:
            check_memberships_exist(self.project_id, batch.images_without_membership(self.before),
                                    dict((_key(image), image.get('owner')) for image in self.images))
            self.plan = batch.plan_batch_status_changes(self.before, p['status'], self.project_id, p['vault_id'],
                                                        p['batch_size'])

    def check_before_writing(self):
        """Refuse, before any write, what cannot work: private images on plain Glance, a plan over the quota."""
        if self.to_share and not self.params['set_shared_visibility']:
            raise IMSError('image(s) %s are private, and this cloud (plain OpenStack Glance) adds members only to images '
                           'whose visibility is "shared": set set_shared_visibility: true to switch them before the '
                           'members are added. Nothing was changed' % ', '.join(self.to_share),
                           details={'private_images': self.to_share, 'hint': private_image_hint(self.to_share[0])})
        if not self.owner or not self.plan:
            return
        additions = {}
        for image_id, _project in batch.planned_keys(self.plan, 'POST'):
            additions[image_id] = additions.get(image_id, 0) + 1
        counts = dict((image_id, len(members)) for image_id, members in self.before.items())
        if all(counts.get(image_id, 0) + added <= min_member_quota() for image_id, added in additions.items()):
            return
        for image_id, added in additions.items():
            quota, where = member_quota(self.batch_api(None), self.by_id[image_id])
            check_member_quota({image_id: added}, counts, quota, where)

    def plan_pairs(self):
        return [pair for request in self.plan for pair in batch.request_pairs(request)]

    def predicted(self):
        if self.owner:
            return batch.predict_membership(self.before, self.plan)
        return batch.predict_statuses(self.before, self.plan)

    def execute(self, name, reason, journal):
        p = self.params
        for image_id in self.to_share:
            try:
                image_api.set_image_visibility(self.client, image_id, 'shared')
            except IMSError as err:
                raise err.with_context(None, explain(err, 'set_visibility', self.by_id[image_id],
                                                     self.client.project_id))
        if self.to_share:
            # members kept while the images were private are listed again now: plan against them
            self.hidden = []
            self.read_and_plan()
        if name == executor.API_JOBS:
            run = JobRun(self.client, self.read, p['batch_size'], p['wait'], p['timeout'], journal, self.module.module.warn,
                         reason, self.module.connection.retries)
            return run.run(self.plan)
        return executor.run_native(self.client, executor.operations_of(self.plan), p['concurrency'], reason, self.by_id)

    def after(self, outcome):
        if not self.params['wait'] and outcome['executor'] == executor.API_JOBS:
            # the jobs keep running: what they will apply, as planned
            submitted = [job['request'] for job in outcome['jobs']]
            if self.owner:
                return batch.predict_membership(self.before, submitted)
            return batch.predict_statuses(self.before, submitted)
        if 'after' in outcome:
            return dict(self.before, **outcome['after'])
        if not outcome['not_applied']:
            return self.predicted()
        touched = sorted(set(pair['image_id'] for pair in outcome['not_applied'] + outcome['applied']))
        return dict(self.before, **self.read(touched))


def _key(image):
    """An image's key in plan and state: its id; a name for an image check mode could not see (unverified)."""
    return image.get('id') or image.get('name')


def main():
    ImsImageMemberBatch()()


if __name__ == '__main__':
    main()
