# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of project ids and the pure planning of native (per image) membership changes.

Everything here works on plain data (lists, dicts, strings) and sends no request, so the modules can validate
before any call and the same plan drives ``changed``, check mode, diff mode and the real run.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Optional

from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError

# Keystone/IAM project ids are UUID4 hex strings without dashes. \A...\Z, not ^...$: '$' also matches before a trailing newline.
PROJECT_ID_PATTERN = re.compile(r'\A[0-9a-fA-F]{32}\Z')

MEMBER_STATUSES = ('pending', 'accepted', 'rejected')

# The member keys the modules return (the API also sends image_id and schema).
MEMBER_KEYS = ('member_id', 'status', 'created_at', 'updated_at')

_EXAMPLE_PROJECT_ID = '0123456789abcdef0123456789abcdef'


def validate_project_ids(name: str, values: Any, allow_empty: bool = False) -> tuple[list[str], list[str]]:
    """Check a list of project ids given in the option ``name``.

    Returns ``(deduplicated, warnings)``: the ids in their first-seen order, lower-cased (IAM ids are lower-case hex,
    and Glance compares member ids as plain strings), and one warning per id that was listed more than once.
    Raises IMSError (status None) naming the option, every bad value and what is allowed.
    """
    if values is None:
        values = []
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)):
        raise IMSError('%s must be a list of project ids, got %s %r' % (name, type(values).__name__, values))

    problems = []
    for index, value in enumerate(values):
        if not isinstance(value, str):
            problems.append('item %d is a %s (%r), not a string' % (index, type(value).__name__, value))
        elif not PROJECT_ID_PATTERN.match(value):
            problems.append('item %d %r' % (index, value))
    if problems:
        raise IMSError(
            '%s: invalid project id(s): %s. A project id is 32 hexadecimal characters (0-9, a-f), for example %s; '
            'find it with "openstack project list" or in the console under My Credentials > Projects.'
            % (name, '; '.join(problems), _EXAMPLE_PROJECT_ID))

    deduplicated = []
    counts = {}
    for value in values:
        project_id = value.lower()
        if project_id not in counts:
            counts[project_id] = 0
            deduplicated.append(project_id)
        counts[project_id] += 1
    warnings = ['%s: project id %s is listed %d times; the duplicates were removed' % (name, project_id, counts[project_id])
                for project_id in deduplicated if counts[project_id] > 1]

    if not deduplicated and not allow_empty:
        raise IMSError('%s is empty: give at least one project id' % name)
    return deduplicated, warnings


def validate_image_refs(name: str, values: Optional[list]) -> tuple[list[str], list[str]]:
    """Check image names or ids given in the option ``name``, before any request.

    Returns ``(references, warnings)``: the references stripped, in first-seen order, without duplicates (each
    duplicate gives a warning). Raises IMSError naming the option when the list or one of its items is empty.
    """
    references, warnings = [], []
    for index, value in enumerate(values or []):
        text = value.strip() if isinstance(value, str) else ''
        if not text:
            raise IMSError('%s: item %d is empty (%r); give an image name or id' % (name, index, value))
        if text in references:
            warnings.append('%s: image %s is listed more than once; it counts once' % (name, text))
            continue
        references.append(text)
    if not references:
        raise IMSError('%s is empty: give at least one image name or id' % name)
    return references, warnings


def validate_project_id(name: str, value: Any) -> str:
    """Check one project id (for options such as ``member``); returns it lower-cased."""
    return validate_project_ids(name, [value])[0][0]


def _member_ids(members: Iterable[dict]) -> set[str]:
    return set(member['member_id'] for member in members)


def plan_membership_changes(current: Iterable[dict], desired: Iterable[str], state: str, purge: bool) -> list[dict]:
    """Plan the owner-side changes that turn ``current`` into what the user declared.

    ``current``: the member dicts of the image (as the API lists them); ``desired``: validated project ids;
    ``state``: ``present`` or ``absent``; ``purge``: with ``present``, remove members that are not listed.
    Returns ``[{"op": "add"|"remove", "member_id": ...}]``: adds first (sorted), then removes (sorted), so that a
    failure that hits every add (visibility, key authorisation, quota) stops the run before anything is removed.
    """
    if state not in ('present', 'absent'):
        raise IMSError('state must be one of present, absent, got %r' % (state,))
    if purge and state == 'absent':
        raise IMSError('purge_members=true cannot be combined with state=absent: to remove every member use '
                       'state=present, purge_members=true and an empty members list')
    existing = _member_ids(current)
    wanted = set(desired)
    if state == 'present':
        to_add = wanted - existing
        to_remove = existing - wanted if purge else set()
    else:
        to_add = set()
        to_remove = existing & wanted
    return ([{'op': 'add', 'member_id': member_id} for member_id in sorted(to_add)]
            + [{'op': 'remove', 'member_id': member_id} for member_id in sorted(to_remove)])


def plan_status_change(current_member: Optional[dict], status: str) -> list[dict]:
    """Plan the recipient-side change of one membership row to ``status``.

    Returns ``[]`` when the row already has that status, else
    ``[{"op": "set_status", "member_id": ..., "before": ..., "after": status}]``.
    """
    if status not in MEMBER_STATUSES:
        raise IMSError('status must be one of %s, got %r' % (', '.join(MEMBER_STATUSES), status))
    if current_member is None:
        raise IMSError('there is no membership row to change: the image is not shared with this project')
    if current_member.get('status') == status:
        return []
    return [{'op': 'set_status', 'member_id': current_member['member_id'],
             'before': current_member.get('status'), 'after': status}]


def plan_visibility_change(image: dict, changes: Iterable[dict], set_shared_visibility: bool, listing_refused: bool) -> list[dict]:
    """Plan switching a ``private`` image to ``shared`` before members are added.

    Plain Glance only shares images whose visibility is ``shared`` and refuses even to list the members of a private
    image (``listing_refused``); IMS shares private images directly and lists their members, so an IMS image is never
    switched, even with ``set_shared_visibility``.
    Returns ``[]`` or ``[{"op": "set_visibility", "image_id", "before": "private", "after": "shared"}]``.
    """
    if not set_shared_visibility or not listing_refused or image.get('visibility') != 'private':
        return []
    if not any(change['op'] == 'add' for change in changes):
        return []
    return [{'op': 'set_visibility', 'image_id': image['id'], 'before': 'private', 'after': 'shared'}]


def member_view(member: dict) -> dict[str, Any]:
    """The returned form of one member: exactly MEMBER_KEYS, missing ones as None."""
    return dict((key, member.get(key)) for key in MEMBER_KEYS)


def members_view(members: Iterable[dict]) -> list[dict[str, Any]]:
    """The returned form of a member list: MEMBER_KEYS only, sorted by member_id."""
    return sorted((member_view(member) for member in members), key=lambda member: member['member_id'])


def predict_members(current: Iterable[dict], changes: Iterable[dict]) -> list[dict[str, Any]]:
    """The member list after ``changes`` (check mode): a new member starts ``pending`` and its timestamps are not
    known yet (None); a status change keeps created_at and clears updated_at."""
    by_id = dict((member['member_id'], member_view(member)) for member in current)
    for change in changes:
        member_id = change.get('member_id')
        if change['op'] == 'add':
            by_id[member_id] = {'member_id': member_id, 'status': 'pending', 'created_at': None, 'updated_at': None}
        elif change['op'] == 'remove':
            by_id.pop(member_id, None)
        elif change['op'] == 'set_status' and member_id in by_id:
            by_id[member_id] = dict(by_id[member_id], status=change['after'], updated_at=None)
    return members_view(by_id.values())


def summarize_changes(changes: list[dict]) -> dict[str, Any]:
    """The ``added``, ``removed``, ``status_changed`` and ``visibility_changed`` values of a module result."""
    return {
        'added': sorted(change['member_id'] for change in changes if change['op'] == 'add'),
        'removed': sorted(change['member_id'] for change in changes if change['op'] == 'remove'),
        'status_changed': sorted(({'member_id': change['member_id'], 'before': change['before'], 'after': change['after']}
                                  for change in changes if change['op'] == 'set_status'),
                                 key=lambda item: item['member_id']),
        'visibility_changed': any(change['op'] == 'set_visibility' for change in changes),
    }


def membership_diff(image: dict, before_members: Iterable[dict], after_members: Iterable[dict],
                    before_visibility: Optional[str] = None, after_visibility: Optional[str] = None) -> dict[str, Any]:
    """An Ansible ``diff`` of the member list: ``{member_id: status}`` before and after (one line per member in
    the diff output), plus the visibility when it changes."""
    before = {'members': dict((member['member_id'], member.get('status')) for member in before_members)}
    after = {'members': dict((member['member_id'], member.get('status')) for member in after_members)}
    if before_visibility != after_visibility:
        before['visibility'] = before_visibility
        after['visibility'] = after_visibility
    label = 'image %s (%s)' % (image.get('name'), image.get('id'))
    return {'before': before, 'after': after,
            'before_header': '%s: members before' % label, 'after_header': '%s: members after' % label}


# IMS error codes (ims_api.md section 5.1) that mean "the image's KMS key is not usable by the recipient".
KEY_ERROR_CODES = frozenset(('IMG.0095', 'IMG.0097', 'IMG.0098', 'IMG.0099'))
QUOTA_ERROR_CODES = frozenset(('IMG.0088',))
OWNER_ONLY_ERROR_CODES = frozenset(('IMG.0047', 'IMG.0106'))
# Vault errors on accepting a full-ECS image made from a CBR backup.
VAULT_ERROR_CODES = frozenset(('IMG.0182', 'IMG.0184', 'IMG.0188', 'IMG.0193'))
_KEY_WORDS = ('kms', 'encrypt', 'cmk')


def _mentions_key(text: Optional[str]) -> bool:
    text = (text or '').lower()
    return any(word in text for word in _KEY_WORDS)


def private_image_hint(image_id: str) -> str:
    """What to do when plain Glance refuses members for a private image."""
    return ('This cloud (plain OpenStack Glance) only adds members to images whose visibility is "shared", and image '
            '%s is private. Set set_shared_visibility: true to switch it to shared before the members are added '
            '(never needed on OTC IMS, which shares private images directly).' % image_id)


def explain_member_error(err: IMSError, operation: str, image: dict, caller_project_id: Optional[str] = None,
                         member_id: Optional[str] = None) -> Optional[str]:
    """What to do about a failed member call: a hint (one or two sentences) or None when there is nothing to add.

    ``operation`` is ``add``, ``remove``, ``set_status`` or ``set_visibility``; ``image`` the image dict as read.
    """
    status = err.status
    code = err.code
    image_id = image.get('id')
    owner = image.get('owner')
    visibility = image.get('visibility')
    encrypted = bool(image.get('__system__cmkid')) or str(image.get('encrypted', '')).lower() == 'true'

    if operation == 'add' and (status == 413 or code in QUOTA_ERROR_CODES):
        return ('The image has reached its member quota (IMS: 256 members for system and data disk images, 10 for '
                'full-ECS images; Glance: image_member_quota, 128 by default, counting pending and rejected members '
                'too). Remove members you no longer need (state: absent, or purge_members: true) or share a copy of '
                'the image.')
    foreign = bool(owner and caller_project_id and owner != caller_project_id)
    if operation == 'add' and (code in KEY_ERROR_CODES or _mentions_key(err.message) or (status in (400, 403) and encrypted and not foreign)):
        return ('The image is encrypted with a KMS key that is not authorised for the recipient project. Grant the '
                'key to project %s in KMS (Key Management > Grants) first; images encrypted with the default key '
                'cannot be shared at all.' % (member_id or 'of the recipient'))
    if operation == 'set_status':
        if status == 403:
            return ('Changing the status of a membership needs credentials scoped to the recipient project %s; the '
                    'owner cannot accept or reject for the recipient. Run the task with the recipient\'s credentials '
                    '(and without member, or with member set to that project).' % (member_id or ''))
        if status == 404:
            return ('Image %s is not shared with project %s: nothing to accept or reject. Ask the owner (project %s) '
                    'to add the project as a member.' % (image_id, member_id, owner or 'unknown'))
        if code in VAULT_ERROR_CODES:
            return ('The image is a full-ECS image created from a CBR backup: accepting it needs vault_id, the id of '
                    'a server backup vault of project %s with enough free capacity.' % (member_id or ''))
        return None
    if operation in ('add', 'remove', 'list', 'set_visibility') and (status == 403 or code in OWNER_ONLY_ERROR_CODES):
        if foreign:
            return ('Adding and removing members needs credentials scoped to the owner\'s project %s (these are '
                    'scoped to project %s).' % (owner, caller_project_id))
        if operation == 'add' and visibility == 'private':
            return private_image_hint(image_id)
        if operation == 'add' and visibility in ('public', 'community'):
            return ('Image %s is %s: only private or shared images can have members.' % (image_id, visibility))
        return ('Adding and removing members needs credentials scoped to the owner\'s project%s, with a role that '
                'allows image sharing (ims:images:share).' % (' ' + owner if owner else ''))
    return None
