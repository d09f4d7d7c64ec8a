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
  - B(Owner view) (O(view=owner), the default when O(images) or O(selector) is given). For each image, its members
    (the projects it is shared with) and their status. The images are those of O(images); or those O(selector)
    chooses; or, with neither, every image of the caller's project (the B(audit)).
  - B(Recipient view) (O(view=recipient), the default otherwise). The images other projects share with the
    caller's project, with their names, owners and the caller's member status, filtered by O(member_status) and,
    when given, by O(selector).
  - B(The audit.) O(view=owner) without O(images) lists the images of the project, reads the member list of each
    one concurrently (O(concurrency) at a time) and returns every image that has members, with each member and its
    status. RV(shares) has the same information as one flat row per image and member, ready for a CSV file or a
    report (see the examples).
  - Images found by listing (the audit and O(selector)) are returned only when they have a member (with
    O(member_status)), unless O(include_unshared=true). Images given in O(images) are always returned.
  - The module only reads. It never reports a change and runs in check mode.
  - Every option is checked before the first request.
  - Works with the native (Glance v2) API only, so it runs on Open Telekom Cloud IMS and on plain OpenStack Glance.
author: imscloud.sharing contributors (@imscloud)
requirements:
  - requests
extends_documentation_fragment:
  - imscloud.sharing.connection
  - imscloud.sharing.attributes
  - imscloud.sharing.image_selector
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
      - V(owner) lists the members of the caller's images (O(images), O(selector), or every image). The caller's
        project should own them (a member sees only its own row).
      - V(recipient) lists the images shared with the caller's project.
      - Default V(owner) when O(images) or O(selector) is given, else V(recipient).
    type: str
    choices: [owner, recipient]
  images:
    description:
      - Owner view. The images, by name or id. A name is looked up among the images the caller's project owns and must
        match exactly one image; an id (a UUID) is read directly.
      - Duplicates (also a name and the id of the same image) count once.
      - Leave out (with O(view=owner)) for the audit of every image of the project.
      - Not allowed in the recipient view; mutually exclusive with O(selector).
    type: list
    elements: str
  include_unshared:
    description:
      - Owner view without O(images). Also return the listed images that have no (matching) member, with an empty
        RV(images[].members).
    type: bool
    default: false
  member_status:
    description:
      - Which memberships to list. V(all) lists every status.
      - Recipient view. Only the images whose share with the caller's project has this status.
      - Owner view. Only the members with this status; an image given in O(images) is returned also when none of its
        members matches, with an empty RV(images[].members).
    type: str
    choices: [pending, accepted, rejected, all]
    default: all
  concurrency:
    description:
      - Owner view. How many member lists are read at the same time (1 to 64).
    type: int
    default: 8
notes:
  - B(Requests, owner view.) One member listing per image, read concurrently (O(concurrency) at a time); an image
    given by id costs one image read more. Names cost one filtered image listing each, or, from three names on, one
    paged listing of the project's images for all of them.
  - B(Requests, audit and selector, owner view.) The listing pages of the project's images (1000 images a page)
    plus one member listing per image; images whose visibility is C(public) or C(community) cannot have members and
    are not read. An audit of 200 images costs one listing page and 200 member listings.
  - B(Plain Glance) lists the members of C(shared) images only and answers C(403) for other images. Such an image
    has no members to report; the module says so in one warning.
  - B(Requests, recipient view.) An image listing does not say which member status the caller's share has, so the
    module lists the shared images once per status it needs (C(visibility=shared&member_status=<status>), following
    pages) and takes each image's status from the listing it appears in. O(member_status=all) thus costs three
    listings (pending, accepted, rejected), however many images there are, where one C(member_status=all) listing
    followed by a member read per image would cost one request more per image. It also works on clouds that do not
    implement C(member_status=all). Another status costs one listing. O(selector) adds its server-side filters to
    each listing.
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

- name: Audit every image of the project that is shared, with whom and in what status
  imscloud.sharing.ims_image_member_info:
    cloud: otc-owner
    view: owner
  register: audit

- name: Write the audit as a CSV file, one row per image and member
  ansible.builtin.copy:
    dest: /tmp/image-shares.csv
    mode: "0644"
    content: |
      image_id,image_name,member_id,status,updated_at
      {% for row in audit.shares %}
      {{ row.image_id }},{{ row.image_name }},{{ row.member_id }},{{ row.status }},{{ row.updated_at }}
      {% endfor %}

- name: Which builds of the golden images are shared (the newest two of each family)
  imscloud.sharing.ims_image_member_info:
    cloud: otc-owner
    selector:
      name: golden-*
      tags: [approved]
      newest: 2
      family_pattern: "-[0-9]{8}$"
  register: golden

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
request_trace:
  description:
    - One line per HTTP request the module sent, in order (method, URL, status, duration, request ID, retry and its
      reason, where the token came from); see O(trace). Never holds a secret.
  returned: when O(trace) is on (also after a failure)
  type: list
  elements: str
  sample: ['#1 POST https://iam.eu-de.otc.t-systems.com/v3/auth/tokens, -> 201, 0.412 s, request id 5f0c, token none']
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
    - Owner view with O(images). The images of O(images), in that order, each with its members.
    - Owner view without O(images) (the audit, or O(selector)). The images that have members (all with
      O(include_unshared=true)), sorted by name, then id (audit), or in the selector's order.
    - Recipient view. The images shared with the caller's project whose member status matches O(member_status),
      sorted by name, then id, or in the selector's order.
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
shares:
  description:
    - RV(images) flattened, one row per image and member, in the order of RV(images) (members by member id), with
      the same keys in both views, so that it turns into a CSV file or a report table directly.
    - Recipient view. One row per image, for the caller's project.
  returned: always
  type: list
  elements: dict
  sample:
    - image_id: 5e0fcd5c-8d2f-4a4e-9f5b-2d3c6f7a8b90
      image_name: golden-ubuntu-24.04-20261201
      owner: 0a6f1e6b1c1d4f2c9d1e8f7a6b5c4d3e
      member_id: 9c61004714024f9586705d090530f9fa
      status: accepted
      created_at: '2026-12-01T10:15:02Z'
      updated_at: '2026-12-01T10:20:44Z'
  contains:
    image_id:
      description: The image id.
      type: str
    image_name:
      description: The image name.
      type: str
    owner:
      description: The project that owns the image.
      type: str
    member_id:
      description: The member project (recipient view, the caller's project).
      type: str
    status:
      description: The member status, C(pending), C(accepted) or C(rejected).
      type: str
    created_at:
      description: When the image was shared with the project (UTC); null in the recipient view.
      type: str
    updated_at:
      description: When the member was last changed (UTC); null in the recipient view.
      type: str
selection:
  description:
    - What the listing chose, when the images were not named (O(selector), or the owner view without O(images)).
    - An empty selection (RV(selection.matched=0)) is not an error unless O(fail_on_empty=true).
  returned: when O(selector) is given, or in the owner view without O(images)
  type: dict
  contains:
    filters:
      description: The selector's filters in words; null for the audit without a selector.
      type: str
      sample: "name matches 'golden-*', tags include approved, status active, the newest 2 per family (name without /-[0-9]{8}$/)"
    matched:
      description: How many images the selector chose (the audit, how many images the project has), before the
        images without members are left out.
      type: int
      sample: 4
'''

from ansible_collections.imscloud.sharing.plugins.module_utils import images as image_api
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.membership import MEMBER_STATUSES
from ansible_collections.imscloud.sharing.plugins.module_utils.membership import members_view
from ansible_collections.imscloud.sharing.plugins.module_utils.module import IMSModule
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import validate_image_refs
from ansible_collections.imscloud.sharing.plugins.module_utils.selection import describe as describe_filters
from ansible_collections.imscloud.sharing.plugins.module_utils.selection import select_images
from ansible_collections.imscloud.sharing.plugins.module_utils.selection import selector_argument_spec
from ansible_collections.imscloud.sharing.plugins.module_utils.selection import server_filters
from ansible_collections.imscloud.sharing.plugins.module_utils.selection import validate_selector

MAX_CONCURRENCY = 64
IMAGE_KEYS = ('id', 'name', 'owner', 'visibility')
# Images of these visibilities never have members (IMS and Glance refuse them): the audit does not read them.
MEMBERLESS_VISIBILITIES = ('public', 'community')
SHARE_KEYS = ('image_id', 'image_name', 'owner', 'member_id', 'status', 'created_at', 'updated_at')


def choose_view(view, images, selector=None):
    """The view to use: the one asked for, else owner when images or a selector are given, else recipient."""
    if view:
        return view
    return 'owner' if images or selector else 'recipient'


def validate_images(view, images):
    """Check O(images) against the view; returns (references without duplicates, warnings). No request."""
    if view == 'recipient':
        if images:
            raise IMSError('images applies only to the owner view (view=owner), not to view=recipient, which lists every '
                           'image shared with your project; remove images, or use view=owner to list the members of '
                           'your own images')
        return [], []
    if images is None:
        return [], []
    if not images:
        raise IMSError('images is empty: give image names or ids, or leave images out to list every image of your '
                       'project that has members')
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


def owner_images(images, members_by_image, member_status, with_members_only=False):
    """The owner view: the images in order, each with its members (filtered by status); with_members_only drops the
    images left without members."""
    result = []
    for image in images:
        members = members_view(members_by_image.get(image['id']) or [])
        if member_status != 'all':
            members = [member for member in members if member['status'] == member_status]
        if members or not with_members_only:
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


def share_rows(view, images, project_id):
    """One flat row per image and member (SHARE_KEYS), for a CSV or a report."""
    rows = []
    for image in images:
        base = {'image_id': image['id'], 'image_name': image.get('name'), 'owner': image.get('owner')}
        if view == 'owner':
            rows.extend(dict(base, member_id=member['member_id'], status=member['status'],
                             created_at=member.get('created_at'), updated_at=member.get('updated_at'))
                        for member in image['members'])
        else:
            rows.append(dict(base, member_id=project_id, status=image['member_status'], created_at=None, updated_at=None))
    return rows


class ImsImageMemberInfo(IMSModule):
    argument_spec = dict(
        view=dict(type='str', choices=['owner', 'recipient']),
        images=dict(type='list', elements='str'),
        selector=selector_argument_spec(),
        fail_on_empty=dict(type='bool', default=False),
        include_unshared=dict(type='bool', default=False),
        member_status=dict(type='str', choices=['pending', 'accepted', 'rejected', 'all'], default='all'),
        concurrency=dict(type='int', default=8),
    )
    module_kwargs = dict(supports_check_mode=True, mutually_exclusive=[('images', 'selector')])

    def run(self):
        params = self.module.params
        view = choose_view(params['view'], params['images'], params['selector'])
        references, warnings = validate_images(view, params['images'])
        selector = validate_selector('selector', params['selector'])
        concurrency = validate_concurrency(params['concurrency'])
        for warning in warnings:
            self.module.warn(warning)

        selection = None
        if view == 'owner' and references:
            images = self._resolve(references, concurrency)
            members = self._read_members(images, concurrency)
            result_images = owner_images(images, members, params['member_status'])
        elif view == 'owner':
            found, selection = self._discover(selector)
            members = self._read_members([i for i in found if i.get('visibility') not in MEMBERLESS_VISIBILITIES],
                                         concurrency)
            result_images = owner_images(found, members, params['member_status'], not params['include_unshared'])
        else:
            # list_shared_with_me leaves out the images the caller's project owns
            listings = [(status, self._shared_with_me(status, selector)) for status in statuses_to_list(params['member_status'])]
            if selector is None:
                result_images = recipient_images(listings)
            else:
                result_images, selection = self._select_shared(listings, selector)
        project_id = self.client.project_id
        result = {'changed': False, 'view': view, 'project_id': project_id, 'images': result_images,
                  'shares': share_rows(view, result_images, project_id)}
        if selection is not None:
            result['selection'] = selection
            self._check_empty(selection)
        return result

    def _discover(self, selector):
        """Owner view without images: every image of the project, or those the selector chooses."""
        if selector is None:
            found = image_api.list_images(self.client, image_api.candidate_filters('owner', self.client.project_id))
            found = sorted(found, key=lambda image: (image.get('name') or '', image['id']))
            return found, {'filters': None, 'matched': len(found)}
        chosen = image_api.select(self.client, selector, 'owner').chosen
        return chosen, {'filters': describe_filters(selector), 'matched': len(chosen)}

    def _shared_with_me(self, status, selector):
        if selector is None:
            return image_api.list_shared_with_me(self.client, status)
        params = dict(server_filters(selector), visibility='shared', member_status=status)
        return image_api.candidates_of('recipient', image_api.list_images(self.client, params), self.client.project_id)

    @staticmethod
    def _select_shared(listings, selector):
        """The recipient view of the images the selector chooses among the listed ones, in the selector's order."""
        listed = dict((image['id'], image) for _status, images in listings for image in images)
        views = dict((image['id'], image) for image in recipient_images(listings))
        chosen = select_images(listed.values(), selector).chosen
        return [views[image['id']] for image in chosen], {'filters': describe_filters(selector), 'matched': len(chosen)}

    def _check_empty(self, selection):
        if selection['matched'] == 0 and self.module.params['fail_on_empty'] and selection['filters']:
            raise IMSError('selector matched no image (filters: %s); fail_on_empty is set' % selection['filters'],
                           details={'selection': selection})

    def _read_members(self, images, concurrency):
        """{image_id: members}, read concurrently. Plain Glance refuses (403) to list the members of an image that is
        not shared, which then has no usable members: such images are reported without members, with one warning."""
        reads = image_api.read_member_lists(self.client, images, 'owner', concurrency=concurrency)
        if reads.refused:
            shown = ', '.join(reads.refused[:10]) + (' and %d more' % (len(reads.refused) - 10) if len(reads.refused) > 10 else '')
            self.module.warn('%d image(s) are not shared and this cloud lists members of shared images only: they are '
                             'reported without members (%s)' % (len(reads.refused), shown))
        return reads.members

    def _resolve(self, references, concurrency):
        resolution = image_api.resolve_images(self.client, references, 'owner', concurrency=concurrency)
        for warning in resolution.warnings:
            self.module.warn(warning)
        project_id = self.client.project_id
        for image in resolution.images:
            if image.get('owner') and image.get('owner') != project_id:
                self.module.warn('image %s (%s) is owned by project %s, not by your project %s: as a member you see only '
                                 'your own membership; use view=recipient for images shared with you'
                                 % (image.get('name'), image['id'], image.get('owner'), project_id))
        return resolution.images


def main():
    ImsImageMemberInfo()()


if __name__ == '__main__':
    main()
