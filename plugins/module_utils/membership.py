# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure planning of native (per image) membership changes.

Everything here works on plain data (lists, dicts, strings) and sends no request, so the modules can validate
before any call and the same plan drives ``changed``, check mode, diff mode and the real run.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import validate_state_and_purge

# The three statuses a membership can have (Glance and IMS). The batch API sets only two of them (batch.BATCH_STATUSES).
MEMBER_STATUSES = ('pending', 'accepted', 'rejected')

# The member keys the modules return (the API also sends image_id and schema).
MEMBER_KEYS = ('member_id', 'status', 'created_at', 'updated_at')


def _member_ids(members: Iterable[dict]) -> set[str]:
    return set(member['member_id'] for member in members)


def plan_membership_changes(current: Iterable[dict], desired: Iterable[str], state: str, purge: bool) -> list[dict]:
    """Plan the owner-side changes that turn ``current`` into what the user declared.

    ``current``: the member dicts of the image (as the API lists them); ``desired``: validated project ids;
    ``state``: ``present`` or ``absent``; ``purge``: with ``present``, remove members that are not listed.
    Returns ``[{"op": "add"|"remove", "member_id": ...}]``: adds first (sorted), then removes (sorted), so that a
    failure that hits every add (visibility, key authorisation, quota) stops the run before anything is removed.
    """
    validate_state_and_purge(state, 'purge_members', purge, 'members')
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
