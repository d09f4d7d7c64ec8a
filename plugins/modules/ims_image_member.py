#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r'''
---
module: ims_image_member
short_description: Share an image with projects, or accept or reject an image shared with you
version_added: 0.1.0
description:
  - Declarative management of the members of one image through the native image member API
    (C(/v2/images/{image_id}/members)) of Open Telekom Cloud IMS or OpenStack Glance.
  - B(Owner side) (O(members)). The image owner adds projects as members (O(state=present)), removes them
    (O(state=absent)), or, with O(purge_members=true), makes the membership exactly the listed projects.
  - B(Recipient side) (O(status)). A project the image is shared with accepts, rejects or resets its membership
    (pending). The owner cannot do this for the recipient; run it with the recipient's credentials.
  - The owner options (O(members), O(purge_members), O(set_shared_visibility)) and the recipient options
    (O(status), O(member), O(vault_id)) cannot be combined.
  - All input is checked before any request. Nothing is changed when the image does not exist, its name is
    ambiguous, or a project id is malformed.
  - A new member starts in status C(pending) until the recipient accepts it.
  - To share many images with many projects in one asynchronous call (IMS only), see M(imscloud.sharing.ims_image_member_batch).
author: imscloud.sharing contributors (@imscloud)
requirements:
  - requests
extends_documentation_fragment:
  - imscloud.sharing.connection
  - imscloud.sharing.attributes
attributes:
  check_mode:
    support: full
    description: Reports exactly what would change (the same keys as a real run, with the predicted members) and writes nothing.
  diff_mode:
    support: full
    description: Shows the member list with the status of each member (and the visibility, when it changes) before and after.
options:
  image:
    description:
      - Name or id of the image.
      - On the owner side a name is looked up among the images owned by the caller's project; on the recipient side
        among the images shared with the caller's project, whatever their member status.
      - A name must match exactly one image; give the id when several images have the same name.
    type: str
    required: true
  members:
    description:
      - Owner side. Project ids (32 hexadecimal characters) that should (O(state=present)) or should not
        (O(state=absent)) be members of the image.
      - Ids are lower-cased; duplicates are removed with a warning.
      - An empty list is only allowed with O(purge_members=true), where it removes every member.
    type: list
    elements: str
  state:
    description:
      - Owner side. V(present) adds the listed projects that are not members yet, V(absent) removes the listed
        projects that are members.
      - V(absent) cannot be combined with O(purge_members=true) or with the recipient options.
    type: str
    choices: [present, absent]
    default: present
  purge_members:
    description:
      - Owner side. With O(state=present), also remove every member that is not in O(members), so that the
        membership becomes exactly the list (whatever the members' status).
    type: bool
    default: false
  set_shared_visibility:
    description:
      - Owner side. Plain OpenStack Glance only adds members to images whose visibility is C(shared), and does not
        even list the members of a C(private) image. With this option, such a private image is switched to C(shared)
        before members are added to it (reported as RV(visibility_changed)).
      - Never needed on OTC IMS, which shares private images directly; an IMS image is never switched.
    type: bool
    default: false
  status:
    description:
      - Recipient side. The membership status to set for O(member) (by default the caller's project).
      - V(accepted) lists the image in the recipient's image list; V(rejected) hides it (it stays usable by id);
        V(pending) resets the decision.
    type: str
    choices: [accepted, rejected, pending]
  member:
    description:
      - Recipient side. The project whose membership gets O(status). Defaults to the caller's own project, which is
        the only project the API lets the caller change.
    type: str
  vault_id:
    description:
      - Recipient side, with O(status=accepted). The id of a server backup vault of the recipient project; needed
        when accepting a full-ECS image created from a CBR backup (IMS only).
    type: str
notes:
  - A repeated run with the same options reports C(changed=false).
  - The adds and removes of the image are sent concurrently (at most 32 at once). A failing one does not stop the
    others; the task fails at the end, naming every failed member (RV(errors)).
  - An add that meets C(409 Conflict) (the member already exists, added by a retry or by another process) is a
    success, as is a removal that meets C(404) (the member is already gone).
  - The owner's own project in O(members) is refused before any write (an image cannot be shared with itself), as is
    a change that would take the image past its member quota where the quota is known.
  - Member quota per image - IMS 256 for system and data disk images and 10 for full-ECS images;
    Glance C(image_member_quota) (128 by default). Pending and rejected members count too.
'''

EXAMPLES = r'''
- name: Share the golden image with two projects (owner's credentials)
  imscloud.sharing.ims_image_member:
    cloud: otc-owner
    image: golden-ubuntu-24.04
    members:
      - 5b1f0c6a1e2d4c8f9a7b3d2e1f0a9b8c
      - 0f1e2d3c4b5a69788796a5b4c3d2e1f0

- name: Make the membership exactly this list (removes everyone else)
  imscloud.sharing.ims_image_member:
    cloud: otc-owner
    image: 8a0d5c5e-9f4b-4a61-b7e2-3f0c1d2e4b5a
    members:
      - 5b1f0c6a1e2d4c8f9a7b3d2e1f0a9b8c
    purge_members: true

- name: Stop sharing with one project
  imscloud.sharing.ims_image_member:
    cloud: otc-owner
    image: golden-ubuntu-24.04
    members:
      - 0f1e2d3c4b5a69788796a5b4c3d2e1f0
    state: absent

- name: Remove every member
  imscloud.sharing.ims_image_member:
    cloud: otc-owner
    image: golden-ubuntu-24.04
    members: []
    purge_members: true

- name: Share an image on a plain OpenStack Glance, switching it from private to shared if needed
  imscloud.sharing.ims_image_member:
    cloud: devstack
    image: cirros
    members:
      - 5b1f0c6a1e2d4c8f9a7b3d2e1f0a9b8c
    set_shared_visibility: true

- name: Accept the image in the recipient project (recipient's credentials)
  imscloud.sharing.ims_image_member:
    cloud: otc-consumer
    image: golden-ubuntu-24.04
    status: accepted

- name: Accept a full-ECS image created from a CBR backup
  imscloud.sharing.ims_image_member:
    auth:
      auth_url: https://iam.eu-de.otc.t-systems.com/v3
      username: deployer
      password: "{{ vault_consumer_password }}"
      user_domain_name: OTC00000000001000000xxx
      project_id: 5b1f0c6a1e2d4c8f9a7b3d2e1f0a9b8c
    image: 8a0d5c5e-9f4b-4a61-b7e2-3f0c1d2e4b5a
    status: accepted
    vault_id: 3c1e8a3e-6b9c-4f7d-8e2a-1b0c9d8e7f6a

- name: Share several images with the same settings, authenticating once
  module_defaults:
    group/imscloud.sharing.ims:
      cloud: otc-owner
  block:
    - name: Share each image
      imscloud.sharing.ims_image_member:
        image: "{{ item }}"
        members: "{{ consumer_projects }}"
      loop: "{{ images_to_share }}"
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
image:
  description: The image the task worked on.
  returned: always
  type: dict
  contains:
    id:
      description: Image id.
      type: str
      sample: 8a0d5c5e-9f4b-4a61-b7e2-3f0c1d2e4b5a
    name:
      description: Image name.
      type: str
      sample: golden-ubuntu-24.04
members:
  description:
    - The members after the run, sorted by member_id. In check mode, the predicted members.
    - On the owner side every member of the image; on the recipient side only the caller's own membership (the API
      shows a member nothing else).
    - In check mode the timestamps of members that would be added or changed are null (not known before the change).
  returned: always
  type: list
  elements: dict
  contains:
    member_id:
      description: Project id of the member.
      type: str
      sample: 5b1f0c6a1e2d4c8f9a7b3d2e1f0a9b8c
    status:
      description: Membership status.
      type: str
      sample: pending
    created_at:
      description: When the member was added (UTC).
      type: str
      sample: '2026-11-23T09:03:23Z'
    updated_at:
      description: When the member last changed (UTC).
      type: str
      sample: '2026-11-23T09:03:23Z'
added:
  description: Project ids added as members (or that would be added, in check mode), sorted.
  returned: always
  type: list
  elements: str
  sample: [5b1f0c6a1e2d4c8f9a7b3d2e1f0a9b8c]
removed:
  description: Project ids removed from the members (or that would be removed, in check mode), sorted.
  returned: always
  type: list
  elements: str
  sample: [0f1e2d3c4b5a69788796a5b4c3d2e1f0]
status_changed:
  description: Recipient side. The membership whose status changed (or would change). Empty on the owner side.
  returned: always
  type: list
  elements: dict
  contains:
    member_id:
      description: Project id of the member.
      type: str
      sample: 5b1f0c6a1e2d4c8f9a7b3d2e1f0a9b8c
    before:
      description: Status before the run.
      type: str
      sample: pending
    after:
      description: Status after the run.
      type: str
      sample: accepted
unverified:
  description:
    - Recipient side, check mode. True when the image is not shared with the project yet (an earlier task of the play
      would share it, but check mode did not), so the answer is predicted from a new, pending share, not verified.
  returned: always
  type: bool
  sample: false
unverified_images:
  description: The image RV(unverified) is about, with why it could not be verified (empty otherwise).
  returned: always
  type: list
  elements: dict
  sample: []
  contains:
    id:
      description: The image id (null for a name that could not be looked up).
      type: str
    name:
      description: The image name, when known.
      type: str
    reason:
      description: Why the image could not be verified.
      type: str
errors:
  description:
    - Owner side, when member calls failed. One entry per failed add or remove; the other calls went out all the
      same (the adds and removes of the image are sent concurrently), and the task fails at the end.
  returned: when a member call failed
  type: list
  elements: dict
  contains:
    image_id:
      description: The image id.
      type: str
    project_id:
      description: The member project id.
      type: str
    operation:
      description: C(add) or C(remove).
      type: str
    message:
      description: The error, with what to do about it.
      type: str
    error:
      description: The error's fixed keys (status, code, message, request_id, method, url).
      type: dict
    hint:
      description: What to do about it; null when there is nothing to add.
      type: str
visibility_changed:
  description:
    - Whether the image was switched (or would be switched, in check mode) from C(private) to C(shared) because of
      O(set_shared_visibility=true). Always false on the recipient side.
  returned: always
  type: bool
  sample: false
'''

from ansible_collections.imscloud.sharing.plugins.module_utils import images as image_api
from ansible_collections.imscloud.sharing.plugins.module_utils.advice import explain
from ansible_collections.imscloud.sharing.plugins.module_utils.advice import private_image_hint
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.executor import DEFAULT_CONCURRENCY as NATIVE_CONCURRENCY
from ansible_collections.imscloud.sharing.plugins.module_utils.executor import failed
from ansible_collections.imscloud.sharing.plugins.module_utils.executor import failure
from ansible_collections.imscloud.sharing.plugins.module_utils.executor import run_native
from ansible_collections.imscloud.sharing.plugins.module_utils.membership import member_view
from ansible_collections.imscloud.sharing.plugins.module_utils.membership import members_view
from ansible_collections.imscloud.sharing.plugins.module_utils.membership import membership_diff
from ansible_collections.imscloud.sharing.plugins.module_utils.membership import plan_membership_changes
from ansible_collections.imscloud.sharing.plugins.module_utils.membership import plan_status_change
from ansible_collections.imscloud.sharing.plugins.module_utils.membership import plan_visibility_change
from ansible_collections.imscloud.sharing.plugins.module_utils.membership import predict_members
from ansible_collections.imscloud.sharing.plugins.module_utils.membership import summarize_changes
from ansible_collections.imscloud.sharing.plugins.module_utils.module import IMSModule
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import check_member_quota
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import check_not_own_project
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import member_quota
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import min_member_quota
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import validate_image_refs
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import validate_member_list
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import validate_project_id
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import validate_state_and_purge
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import validate_vault_id

OWNER_OPTIONS = ('members', 'purge_members', 'set_shared_visibility')
RECIPIENT_OPTIONS = ('status', 'member', 'vault_id')


class ImageMemberModule(IMSModule):
    argument_spec = dict(
        image=dict(type='str', required=True),
        members=dict(type='list', elements='str'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        purge_members=dict(type='bool', default=False),
        set_shared_visibility=dict(type='bool', default=False),
        status=dict(type='str', choices=['accepted', 'rejected', 'pending']),
        member=dict(type='str'),
        vault_id=dict(type='str'),
    )
    module_kwargs = dict(supports_check_mode=True)

    # ------------------------------------------------------------------ validation (no request)

    def _validate(self):
        p = self.params
        validate_image_refs('image', [p['image']])
        owner = [name for name in OWNER_OPTIONS if p[name] not in (None, False)]
        recipient = [name for name in RECIPIENT_OPTIONS if p[name] is not None]
        if owner and recipient:
            raise IMSError('owner options (%s) and recipient options (%s) cannot be combined: the owner manages the '
                           'member list with members, the recipient accepts or rejects with status; given: %s'
                           % (', '.join(OWNER_OPTIONS), ', '.join(RECIPIENT_OPTIONS), ', '.join(owner + recipient)))
        if recipient:
            if p['status'] is None:
                raise IMSError('%s needs status (accepted, rejected or pending): the recipient side sets the status of '
                               'a membership' % ' and '.join(recipient))
            if p['state'] == 'absent':
                raise IMSError('state=absent cannot be combined with status: a recipient cannot leave a membership; '
                               'use status=rejected to hide the image, or ask the owner to remove the member')
            validate_vault_id(p['vault_id'], p['status'])
            if p['member'] is not None:
                validate_project_id('member', p['member'])
            return []
        if p['members'] is None:
            raise IMSError('give members (owner side: the project ids to share the image with; members: [] with '
                           'purge_members: true removes every member) or status (recipient side: accepted, rejected '
                           'or pending)')
        validate_state_and_purge(p['state'], 'purge_members', p['purge_members'], 'members')
        members, warnings = validate_member_list('members', p['members'], 'purge_members', p['purge_members'])
        for warning in warnings:
            self.module.warn(warning)
        return members

    # ------------------------------------------------------------------ shared

    def _resolve(self, side):
        try:
            # check mode across tasks: a recipient may not see yet what an earlier task of the play would share
            resolution = image_api.resolve_images(self.client, [self.params['image']], side,
                                                  check_mode=self.check_mode and side == 'recipient')
        except IMSError as err:
            if 'matching_ids' in err.details:
                raise
            if err.status not in (None, 404):
                raise
            if side == 'owner':
                raise err.with_context(None, 'Check the name (an exact, case-sensitive match) or give the image id; the '
                                       'credentials must be scoped to the project that owns the image')
            project_id = self.client.project_id
            hint = ('Nothing to accept or reject: ask the image owner to add project %s as a member, or check the '
                    'name (an exact match) or id' % project_id)
            raise err.with_context('image %s is not shared with project %s (or does not exist)'
                                   % (self.params['image'], project_id), hint)
        for warning in resolution.warnings:
            self.module.warn(warning)
        return resolution.images[0]

    def _report(self, image, changes, before_members, after_members, before_visibility, after_visibility):
        result = dict(changed=bool(changes), image={'id': image.get('id'), 'name': image.get('name')},
                      members=members_view(after_members), unverified=bool(image.get('unverified')),
                      unverified_images=[dict((key, image.get(key)) for key in ('id', 'name', 'reason'))]
                      if image.get('unverified') else [])
        result.update(summarize_changes(changes))
        if self.module._diff:
            result['diff'] = membership_diff(image, before_members, after_members, before_visibility, after_visibility)
        return result

    def run(self):
        members = self._validate()
        try:
            if self.params['status'] is not None:
                return self._run_recipient()
            return self._run_owner(members)
        except IMSError as err:
            # the keys documented as always returned are there after a failure too
            empty = dict(changed=False, image={'id': None, 'name': self.params['image']}, members=[], added=[],
                         removed=[], status_changed=[], visibility_changed=False, unverified=False,
                         unverified_images=[])
            raise err.with_context(**dict((key, value) for key, value in empty.items() if key not in err.details))

    # ------------------------------------------------------------------ owner side

    def _read_members(self, image):
        """(members, hidden): plain Glance refuses to list the members of a private image (403), which then has no
        visible members; they reappear when the image is switched back to shared."""
        try:
            return self.client.list_members(image['id']), False
        except IMSError as err:
            if err.status == 403 and image.get('visibility') == 'private':
                return [], True
            raise err.with_context(None, explain(err, 'list', image, self.client.project_id))

    def _run_owner(self, desired):
        p = self.params
        image = self._resolve('owner')
        current, hidden = self._read_members(image)
        if p['state'] == 'present':
            check_not_own_project('members', desired, self.client.project_id, [image])
        changes = plan_membership_changes(current, desired, p['state'], p['purge_members'])
        self._check_quota(image, current, changes)
        visibility_change = plan_visibility_change(image, changes, p['set_shared_visibility'], hidden)
        if hidden and not visibility_change and any(change['op'] == 'add' for change in changes):
            hint = private_image_hint(image['id'])
            raise IMSError('cannot add members to image %s: %s' % (image.get('name'), hint), status=403,
                           details={'hint': hint})
        before_visibility = image.get('visibility')
        after_visibility = 'shared' if visibility_change else before_visibility

        if self.check_mode:
            planned = visibility_change + changes
            return self._report(image, planned, current, predict_members(current, changes),
                                before_visibility, after_visibility)

        done = []
        if visibility_change:
            try:
                image_api.set_image_visibility(self.client, image['id'], 'shared')
            except IMSError as err:
                raise err.with_context(None, explain(err, 'set_visibility', image, self.client.project_id))
            done.extend(visibility_change)
            if hidden:
                # members kept while the image was private are listed again now: plan against them
                current, hidden = self._read_members(dict(image, visibility='shared'))
                changes = plan_membership_changes(current, desired, p['state'], p['purge_members'])
        return self._apply_owner(image, changes, current, done, before_visibility, after_visibility)

    def _apply_owner(self, image, changes, current, done, before_visibility, after_visibility):
        """The adds and removes of one image, concurrently (the native executor); a failing one stops no other."""
        operations = [{'op': change['op'], 'image_id': image['id'], 'project_id': change['member_id']}
                      for change in changes]
        outcome = run_native(self.client, operations, NATIVE_CONCURRENCY, 'ims_image_member: native calls',
                             {image['id']: image})
        after = dict((member['member_id'], member) for member in current)
        for change, operation in zip(changes, operations):
            pair = {'image_id': image['id'], 'project_id': change['member_id']}
            if pair not in outcome['applied']:
                continue
            done.append(change)
            if change['op'] == 'add':
                after[change['member_id']] = outcome['members'].get((image['id'], change['member_id'])) or {
                    'member_id': change['member_id'], 'status': 'pending'}
            else:
                after.pop(change['member_id'], None)
        report = self._report(image, done, current, list(after.values()), before_visibility, after_visibility)
        report['changed'] = outcome['changed'] or any(change['op'] == 'set_visibility' for change in done)
        if failed(outcome):
            report.update(errors=outcome['errors'], failed_member=outcome['errors'][0]['project_id'],
                          not_applied=[dict(op=change['op'], member_id=change['member_id']) for change in changes
                                       if {'image_id': image['id'], 'project_id': change['member_id']}
                                       in outcome['not_applied']])
            raise failure(outcome, report)
        return report

    def _check_quota(self, image, current, changes):
        """Refuse, before any write, more members than the image can have (only looked up when it could matter)."""
        adding = len([change for change in changes if change['op'] == 'add'])
        if not adding or len(current) + adding <= min_member_quota():
            return
        quota, where = member_quota(self.client.has_batch_api(), image)
        check_member_quota({image['id']: adding}, {image['id']: len(current)}, quota, where)

    # ------------------------------------------------------------------ recipient side

    def _unverified(self, image, member_id):
        """Check mode: an image not shared with the caller yet is predicted as the share an earlier task would make."""
        if image.get('unverified'):
            return image
        predicted = image_api.unverified_image(image['id'], member_id, 'its member list does not show the project')
        predicted['name'] = image.get('name')
        self.module.warn(image_api.unverified_warning(predicted))
        return predicted

    def _run_recipient(self):
        p = self.params
        image = self._resolve('recipient')
        member_id = validate_project_id('member', p['member']) if p['member'] else self.client.project_id
        current = None if image.get('unverified') else self.client.get_member(image['id'], member_id)
        if current is None and self.check_mode and member_id == self.client.project_id:
            image = self._unverified(image, member_id)
            current = {'member_id': member_id, 'status': image_api.PREDICTED_MEMBER_STATUS}
        if current is None:
            if member_id == image.get('owner'):
                detail = ('project %s owns the image; a status belongs to the projects the image is shared with. '
                          'Run the task with the credentials of such a project' % member_id)
            elif member_id != self.client.project_id:
                detail = ('the API shows a membership only to that project; run the task with credentials scoped to '
                          'project %s, or leave member out to act for project %s' % (member_id, self.client.project_id))
            else:
                detail = ('nothing to accept or reject. Ask the owner (project %s) to add project %s as a member'
                          % (image.get('owner') or 'unknown', member_id))
            raise IMSError('image %s (%s) is not shared with project %s: %s'
                           % (image.get('name'), image['id'], member_id, detail),
                           details={'image_id': image['id'], 'member_id': member_id})
        changes = plan_status_change(current, p['status'])
        if self.check_mode or not changes:
            return self._report(image, changes, [current], predict_members([current], changes), None, None)
        try:
            updated = self.client.update_member_status(image['id'], member_id, p['status'], vault_id=p['vault_id'])
        except IMSError as err:
            raise err.with_context(None, explain(err, 'set_status', image, self.client.project_id, member_id))
        after = dict(current)
        after.update(updated or {})
        return self._report(image, changes, [current], [member_view(after)], None, None)


def main():
    ImageMemberModule()()


if __name__ == '__main__':
    main()
