#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r'''
---
module: ims_image_member_info
short_description: List the members of your images, or the images other projects share with you
version_added: 0.1.0
description:
  - B(Owner view) (O(view=owner), the default when O(images) is given). For each image in O(images), its members
    (the projects it is shared with) and their status.
  - B(Recipient view) (O(view=recipient), the default otherwise). The images other projects share with the
    caller's project, with their names, owners and the caller's member status, filtered by O(member_status).
  - The module only reads. It never reports a change and runs in check mode.
  - Every option is checked before the first request.
  - Works with the native (Glance v2) API only, so it runs on Open Telekom Cloud IMS and on plain OpenStack Glance.
author: imscloud.sharing contributors (@imscloud)
requirements:
  - requests
extends_documentation_fragment:
  - imscloud.sharing.connection
  - imscloud.sharing.attributes
attributes:
  check_mode:
    support: full
    description: The module only reads, so check mode changes nothing in what it does or returns.
  diff_mode:
    support: N/A
    description: The module changes nothing, so there is no diff.
options:
  view:
    description:
      - V(owner) lists the members of the images in O(images). The caller's project should own them (a member
        sees only its own row).
      - V(recipient) lists the images shared with the caller's project.
      - Default V(owner) when O(images) is given, else V(recipient).
    type: str
    choices: [owner, recipient]
  images:
    description:
      - Owner view. The images, by name or id. A name is looked up among the images the caller's project owns and must
        match exactly one image; an id (a UUID) is read directly.
      - Duplicates (also a name and the id of the same image) count once.
      - Not allowed in the recipient view.
    type: list
    elements: str
  member_status:
    description:
      - Which memberships to list. V(all) lists every status.
      - Recipient view. Only the images whose share with the caller's project has this status.
      - Owner view. Only the members with this status; every image is returned, with an empty RV(images[].members)
        when none of its members matches.
    type: str
    choices: [pending, accepted, rejected, all]
    default: all
  concurrency:
    description:
      - Owner view. How many images are read at the same time (1 to 64).
    type: int
    default: 8
notes:
  - B(Requests, owner view.) One member listing per image; an image given by name costs one image listing more,
    an image given by id one image read more. The members of images whose visibility is C(shared) are read in
    parallel (O(concurrency) at a time), those of other images one after the other.
  - B(Plain Glance) lists the members of C(shared) images only and answers C(403) for other images. Such an image
    is returned without members, with a warning.
  - B(Requests, recipient view.) An image listing does not say which member status the caller's share has, so the
    module lists the shared images once per status it needs (C(visibility=shared&member_status=<status>), following
    pages) and takes each image's status from the listing it appears in. O(member_status=all) thus costs three
    listings (pending, accepted, rejected), however many images there are, where one C(member_status=all) listing
    followed by a member read per image would cost one request more per image. It also works on clouds that do not
    implement C(member_status=all). Another status costs one listing.
  - B(Pending shares.) A pending share is hidden from the recipient's normal image list; this module still finds
    it, as it filters by member status.
  - Images the caller's project owns are never listed in the recipient view.
seealso:
  - module: imscloud.sharing.ims_image_member
  - module: imscloud.sharing.ims_image_member_batch
  - name: IMS API reference
    description: The native member listing this module uses is under Native OpenStack APIs, Image Sharing.
    link: https://docs.otc.t-systems.com/image-management-service/api-ref/
'''

EXAMPLES = r'''
- name: Show who the golden images are shared with (owner view)
  imscloud.sharing.ims_image_member_info:
    cloud: otc-owner
    images:
      - golden-ubuntu-24.04
      - 5e0fcd5c-8d2f-4a4e-9f5b-2d3c6f7a8b90
  register: shares

- name: Show the projects that have not answered yet
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.members | selectattr('status', 'equalto', 'pending') | map(attribute='member_id') | list }}"
  loop: "{{ shares.images }}"
  loop_control:
    label: "{{ item.name }}"

- name: Find the images waiting for our answer (recipient view)
  imscloud.sharing.ims_image_member_info:
    cloud: otc-consumer
    member_status: pending
  register: waiting

- name: Accept them all in one batch
  imscloud.sharing.ims_image_member_batch:
    cloud: otc-consumer
    images: "{{ waiting.images | map(attribute='id') | list }}"
    status: accepted
  when: waiting.images | length > 0

- name: Everything shared with this project, with credentials from module_defaults
  module_defaults:
    group/imscloud.sharing.ims:
      auth:
        auth_url: https://iam.eu-de.otc.t-systems.com/v3
        username: "{{ otc_user }}"
        password: "{{ otc_password }}"
        user_domain_name: "{{ otc_domain }}"
        project_name: eu-de_consumer
        project_domain_name: "{{ otc_domain }}"
  block:
    - name: All shares, whatever their status
      imscloud.sharing.ims_image_member_info:
        view: recipient
      register: all_shares

    - name: Show them
      ansible.builtin.debug:
        msg: "{{ all_shares.images | map(attribute='name') | zip(all_shares.images | map(attribute='member_status')) | list }}"
'''

RETURN = r'''
view:
  description: The view the module used (O(view), or the default it chose).
  returned: always
  type: str
  sample: owner
project_id:
  description: The caller's project (the project of the token, or O(auth.project_id) with AK/SK).
  returned: always
  type: str
  sample: 9c61004714024f9586705d090530f9fa
images:
  description:
    - Owner view. The images of O(images), in that order, each with its members.
    - Recipient view. The images shared with the caller's project whose member status matches O(member_status),
      sorted by name, then id.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The image id.
      type: str
      sample: 5e0fcd5c-8d2f-4a4e-9f5b-2d3c6f7a8b90
    name:
      description: The image name.
      type: str
      sample: golden-ubuntu-24.04
    owner:
      description: The id of the project that owns the image.
      type: str
      sample: 0a6f1e6b1c1d4f2c9d1e8f7a6b5c4d3e
    visibility:
      description: The image visibility, C(private), C(shared), C(community) or C(public).
      type: str
      sample: shared
    members:
      description:
        - Owner view only. The members of the image whose status matches O(member_status), sorted by member id.
      returned: owner view
      type: list
      elements: dict
      sample:
        - member_id: 9c61004714024f9586705d090530f9fa
          status: accepted
          created_at: '2026-03-01T10:15:02Z'
          updated_at: '2026-03-01T10:20:44Z'
      contains:
        member_id:
          description: The member project id.
          type: str
          sample: 9c61004714024f9586705d090530f9fa
        status:
          description: The member status, C(pending), C(accepted) or C(rejected).
          type: str
          sample: accepted
        created_at:
          description: When the image was shared with the project (UTC).
          type: str
          sample: '2026-03-01T10:15:02Z'
        updated_at:
          description: When the member was last changed (UTC).
          type: str
          sample: '2026-03-01T10:20:44Z'
    member_status:
      description:
        - Recipient view only. The caller's member status for the image, C(pending), C(accepted) or C(rejected).
      returned: recipient view
      type: str
      sample: pending
'''

from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.membership import MEMBER_STATUSES
from ansible_collections.imscloud.sharing.plugins.module_utils.membership import members_view
from ansible_collections.imscloud.sharing.plugins.module_utils.module import IMSModule
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import validate_image_refs

MAX_CONCURRENCY = 64
IMAGE_KEYS = ('id', 'name', 'owner', 'visibility')


def choose_view(view, images):
    """The view to use: the one asked for, else owner when images are given, else recipient."""
    if view:
        return view
    return 'owner' if images else 'recipient'


def validate_images(view, images):
    """Check O(images) against the view; returns (references without duplicates, warnings). No request."""
    if view == 'recipient':
        if images:
            raise IMSError('images applies only to the owner view (view=owner), not to view=recipient, which lists every '
                           'image shared with your project; remove images, or use view=owner to list the members of '
                           'your own images')
        return [], []
    if not images:
        raise IMSError('view=owner needs images: the names or ids of images your project owns')
    return validate_image_refs('images', images)


def validate_concurrency(value):
    if value < 1 or value > MAX_CONCURRENCY:
        raise IMSError('concurrency must be between 1 and %d, got %d' % (MAX_CONCURRENCY, value))
    return value


def statuses_to_list(member_status):
    """The member statuses the recipient view lists, one listing each."""
    return list(MEMBER_STATUSES) if member_status == 'all' else [member_status]


def image_view(image):
    return dict((key, image.get(key)) for key in IMAGE_KEYS)


def owner_images(images, members_by_image, member_status):
    """The owner view: the resolved images in order, each with its members (filtered by status)."""
    result = []
    for image in images:
        members = members_view(members_by_image.get(image['id']) or [])
        if member_status != 'all':
            members = [member for member in members if member['status'] == member_status]
        result.append(dict(image_view(image), members=members))
    return result


def recipient_images(listings):
    """The recipient view from one image listing per member status: [(status, [image dicts])], in reading order.

    An image is in the listing of its member status. If its status changed between two listings it shows up in both,
    and the listing read last wins.
    """
    by_id = {}
    for status, images in listings:
        for image in images:
            by_id[image['id']] = dict(image_view(image), member_status=status)
    return sorted(by_id.values(), key=lambda image: (image.get('name') or '', image['id']))


class ImsImageMemberInfo(IMSModule):
    argument_spec = dict(
        view=dict(type='str', choices=['owner', 'recipient']),
        images=dict(type='list', elements='str'),
        member_status=dict(type='str', choices=['pending', 'accepted', 'rejected', 'all'], default='all'),
        concurrency=dict(type='int', default=8),
    )
    module_kwargs = dict(supports_check_mode=True)

    def run(self):
        params = self.module.params
        view = choose_view(params['view'], params['images'])
        references, warnings = validate_images(view, params['images'])
        concurrency = validate_concurrency(params['concurrency'])
        for warning in warnings:
            self.module.warn(warning)

        if view == 'owner':
            images = self._resolve(references, concurrency)
            members = self._read_members(images, concurrency)
            result_images = owner_images(images, members, params['member_status'])
        else:
            # list_shared_with_me leaves out the images the caller's project owns
            listings = [(status, self.client.list_shared_with_me(status)) for status in statuses_to_list(params['member_status'])]
            result_images = recipient_images(listings)
        return {'changed': False, 'view': view, 'project_id': self.client.project_id, 'images': result_images}

    def _read_members(self, images, concurrency):
        """{image_id: members}. Shared images are read in parallel. Plain Glance refuses (403) to list the members
        of an image that is not shared, which then has no usable members; those are read one by one."""
        shared = [image['id'] for image in images if image.get('visibility') == 'shared']
        members = self.client.read_members(shared, concurrency=concurrency) if shared else {}
        for image in images:
            if image['id'] in members:
                continue
            try:
                members[image['id']] = self.client.list_members(image['id'])
            except IMSError as err:
                # Glance's refusal carries no service code; an IMS permission error (IMG.xxxx) is a real failure
                if err.status != 403 or err.code:
                    raise
                members[image['id']] = []
                self.module.warn('image %s (%s) is %s and this cloud lists members of shared images only: it is '
                                 'reported without members' % (image.get('name'), image['id'], image.get('visibility')))
        return members

    def _resolve(self, references, concurrency):
        images = self.client.resolve_images(references, side='owner', concurrency=concurrency)
        if len(images) < len(references):
            self.module.warn('images names the same image more than once (by name and by id); it counts once')
        project_id = self.client.project_id
        for image in images:
            if image.get('owner') and image.get('owner') != project_id:
                self.module.warn('image %s (%s) is owned by project %s, not by your project %s: as a member you see only '
                                 'your own membership; use view=recipient for images shared with you'
                                 % (image.get('name'), image['id'], image.get('owner'), project_id))
        return images


def main():
    ImsImageMemberInfo()()


if __name__ == '__main__':
    main()
