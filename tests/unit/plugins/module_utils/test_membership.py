# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.membership import (
    member_view,
    members_view,
    membership_diff,
    plan_membership_changes,
    plan_status_change,
    plan_visibility_change,
    predict_members,
    summarize_changes,
)

A = 'a' * 32
B = 'b' * 32
C = 'c' * 32
D = '0123456789abcdef0123456789abcdef'


def member(member_id, status='pending', created_at='2024-01-01T00:00:00Z', updated_at='2024-01-01T00:00:00Z'):
    return {'member_id': member_id, 'status': status, 'created_at': created_at, 'updated_at': updated_at,
            'image_id': '11111111-2222-3333-4444-555555555555', 'schema': '/v2/schemas/member'}


# --- plan_membership_changes ------------------------------------------------------------------------------------

@pytest.mark.parametrize('current, desired, state, purge, expected', [
    # present adds what is missing, leaves the rest
    ([], [B, A], 'present', False, [('add', A), ('add', B)]),
    ([member(A)], [A, B], 'present', False, [('add', B)]),
    ([member(A), member(C)], [A], 'present', False, []),
    ([member(A, 'accepted')], [A], 'present', False, []),
    # purge makes the membership exactly the list
    ([member(A), member(C)], [A, B], 'present', True, [('add', B), ('remove', C)]),
    ([member(A), member(C, 'rejected')], [], 'present', True, [('remove', A), ('remove', C)]),
    ([member(A)], [A], 'present', True, []),
    ([], [], 'present', True, []),
    # absent removes only the listed members that exist
    ([member(A), member(B)], [B, C], 'absent', False, [('remove', B)]),
    ([member(A)], [C], 'absent', False, []),
    ([], [A], 'absent', False, []),
])
def test_plan_membership_changes(current, desired, state, purge, expected):
    plan = plan_membership_changes(current, desired, state, purge)
    assert [(change['op'], change['member_id']) for change in plan] == expected


def test_plan_adds_come_before_removes():
    plan = plan_membership_changes([member(A), member(B)], [C, D], 'present', True)
    assert [change['op'] for change in plan] == ['add', 'add', 'remove', 'remove']


def test_plan_rejects_purge_with_absent():
    with pytest.raises(IMSError, match='purge_members=true cannot be combined with state=absent'):
        plan_membership_changes([member(A)], [A], 'absent', True)


def test_plan_rejects_unknown_state():
    with pytest.raises(IMSError, match='state must be one of present, absent'):
        plan_membership_changes([], [A], 'exact', False)


# --- plan_status_change -----------------------------------------------------------------------------------------

@pytest.mark.parametrize('before, wanted, expected', [
    ('pending', 'accepted', [{'op': 'set_status', 'member_id': A, 'before': 'pending', 'after': 'accepted'}]),
    ('accepted', 'rejected', [{'op': 'set_status', 'member_id': A, 'before': 'accepted', 'after': 'rejected'}]),
    ('rejected', 'accepted', [{'op': 'set_status', 'member_id': A, 'before': 'rejected', 'after': 'accepted'}]),
    ('accepted', 'pending', [{'op': 'set_status', 'member_id': A, 'before': 'accepted', 'after': 'pending'}]),
    ('accepted', 'accepted', []),
    ('rejected', 'rejected', []),
    ('pending', 'pending', []),
])
def test_plan_status_change(before, wanted, expected):
    assert plan_status_change(member(A, before), wanted) == expected


def test_plan_status_change_without_row():
    with pytest.raises(IMSError, match='not shared with this project'):
        plan_status_change(None, 'accepted')


def test_plan_status_change_rejects_unknown_status():
    with pytest.raises(IMSError, match='status must be one of pending, accepted, rejected'):
        plan_status_change(member(A), 'Accepted')


# --- plan_visibility_change -------------------------------------------------------------------------------------

IMAGE = {'id': '11111111-2222-3333-4444-555555555555', 'name': 'web', 'visibility': 'private'}
ADD = [{'op': 'add', 'member_id': A}]
REMOVE = [{'op': 'remove', 'member_id': A}]


@pytest.mark.parametrize('visibility, changes, enabled, refused, expected', [
    ('private', ADD, True, True, [{'op': 'set_visibility', 'image_id': IMAGE['id'], 'before': 'private', 'after': 'shared'}]),
    ('private', ADD, False, True, []),
    # IMS lists the members of a private image and shares it as it is: never switched
    ('private', ADD, True, False, []),
    ('private', REMOVE, True, True, []),
    ('private', [], True, True, []),
    ('shared', ADD, True, True, []),
    ('public', ADD, True, True, []),
    (None, ADD, True, True, []),
])
def test_plan_visibility_change(visibility, changes, enabled, refused, expected):
    image = dict(IMAGE, visibility=visibility)
    assert plan_visibility_change(image, changes, enabled, refused) == expected


# --- views, prediction, summary, diff ---------------------------------------------------------------------------

def test_members_view_keeps_four_keys_sorted():
    view = members_view([member(C, 'accepted'), member(A)])
    assert [item['member_id'] for item in view] == [A, C]
    assert all(sorted(item) == ['created_at', 'member_id', 'status', 'updated_at'] for item in view)
    assert member_view({'member_id': A}) == {'member_id': A, 'status': None, 'created_at': None, 'updated_at': None}


def test_predict_members_applies_each_change():
    current = [member(A, 'accepted'), member(C, 'rejected')]
    changes = [{'op': 'add', 'member_id': B}, {'op': 'remove', 'member_id': C}]
    assert predict_members(current, changes) == [
        member_view(member(A, 'accepted')),
        {'member_id': B, 'status': 'pending', 'created_at': None, 'updated_at': None},
    ]


def test_predict_members_status_change_clears_updated_at():
    changes = [{'op': 'set_status', 'member_id': A, 'before': 'pending', 'after': 'accepted'}]
    assert predict_members([member(A)], changes) == [
        {'member_id': A, 'status': 'accepted', 'created_at': '2024-01-01T00:00:00Z', 'updated_at': None}]


def test_summarize_changes():
    changes = [
        {'op': 'set_visibility', 'image_id': IMAGE['id'], 'before': 'private', 'after': 'shared'},
        {'op': 'add', 'member_id': C}, {'op': 'add', 'member_id': A}, {'op': 'remove', 'member_id': B},
    ]
    assert summarize_changes(changes) == {'added': [A, C], 'removed': [B], 'status_changed': [], 'visibility_changed': True}
    status = [{'op': 'set_status', 'member_id': A, 'before': 'pending', 'after': 'rejected'}]
    assert summarize_changes(status) == {
        'added': [], 'removed': [], 'visibility_changed': False,
        'status_changed': [{'member_id': A, 'before': 'pending', 'after': 'rejected'}]}
    assert summarize_changes([]) == {'added': [], 'removed': [], 'status_changed': [], 'visibility_changed': False}


def test_membership_diff_shows_statuses_and_visibility():
    diff = membership_diff(IMAGE, [member(A, 'accepted')], [member(A, 'accepted'), member(B)], 'private', 'shared')
    assert diff['before'] == {'members': {A: 'accepted'}, 'visibility': 'private'}
    assert diff['after'] == {'members': {A: 'accepted', B: 'pending'}, 'visibility': 'shared'}
    assert IMAGE['id'] in diff['before_header'] and 'web' in diff['after_header']


def test_membership_diff_omits_unchanged_visibility():
    diff = membership_diff(IMAGE, [], [], 'shared', 'shared')
    assert diff['before'] == {'members': {}}
    assert diff['after'] == {'members': {}}
