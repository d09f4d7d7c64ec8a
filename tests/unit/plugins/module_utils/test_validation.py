# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import (
    PROJECT_ID_PATTERN,
    check_memberships_exist,
    check_not_own_project,
    check_recipient_project,
    validate_member_list,
    validate_positive_int,
    validate_project_id,
    validate_project_ids,
    validate_state_and_purge,
    validate_vault_id,
)

A = 'a' * 32
B = 'b' * 32
C = 'c' * 32
D = '0123456789abcdef0123456789abcdef'


# --- validate_project_ids ---------------------------------------------------------------------------------------

@pytest.mark.parametrize('values, allow_empty, expected, warning_count', [
    ([A], False, [A], 0),
    ([B, A], False, [B, A], 0),
    ([A, B, A, A], False, [A, B], 1),
    ([A.upper(), A], False, [A], 1),
    ([D.upper()], False, [D], 0),
    ([], True, [], 0),
    (None, True, [], 0),
    ((A, B), False, [A, B], 0),
])
def test_validate_project_ids_accepts(values, allow_empty, expected, warning_count):
    deduplicated, warnings = validate_project_ids('members', values, allow_empty=allow_empty)
    assert deduplicated == expected
    assert len(warnings) == warning_count


def test_duplicate_warning_names_option_id_and_count():
    _ids, warnings = validate_project_ids('members', [A, B, A, A])
    assert warnings == ['members: project id %s is listed 3 times; the duplicates were removed' % A]


@pytest.mark.parametrize('values, fragments', [
    (['nothex' * 6], ["item 0 'nothexnothexnothexnothexnothexnothex'"]),
    ([A, 'x' * 32], ["item 1 '%s'" % ('x' * 32)]),
    ([A[:31]], ['item 0']),
    ([A + 'a'], ['item 0']),
    (['%s-%s' % (A[:16], A[16:])], ['item 0']),
    ([' ' + A], ['item 0']),
    ([A + '\n'], ['item 0']),
    ([''], ["item 0 ''"]),
    ([12345], ['item 0 is a int']),
    (['bad', 'worse'], ["item 0 'bad'", "item 1 'worse'"]),
])
def test_validate_project_ids_rejects(values, fragments):
    with pytest.raises(IMSError) as info:
        validate_project_ids('members', values)
    message = str(info.value)
    assert info.value.status is None
    assert message.startswith('members: invalid project id(s)')
    assert '32 hexadecimal characters' in message
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize('values', [A, 42, {'id': A}])
def test_validate_project_ids_rejects_non_lists(values):
    with pytest.raises(IMSError, match='projects must be a list of project ids'):
        validate_project_ids('projects', values)


@pytest.mark.parametrize('values', [[], None])
def test_empty_list_needs_allow_empty(values):
    with pytest.raises(IMSError, match='projects is empty: give at least one project id'):
        validate_project_ids('projects', values)


def test_project_id_pattern_is_exactly_32_hex():
    assert PROJECT_ID_PATTERN.match(D)
    assert not PROJECT_ID_PATTERN.match(D + '0')
    assert not PROJECT_ID_PATTERN.match('g' * 32)
    assert not PROJECT_ID_PATTERN.match(D + '\n')


def test_validate_project_id_single():
    assert validate_project_id('member', D.upper()) == D
    with pytest.raises(IMSError, match="member: invalid project id"):
        validate_project_id('member', 'me')


# --- one rule, one message --------------------------------------------------------------------------------------

@pytest.mark.parametrize('purge_option, list_option', [('purge_members', 'members'), ('purge_projects', 'projects')])
def test_purge_with_absent_names_the_options_of_the_module(purge_option, list_option):
    with pytest.raises(IMSError) as info:
        validate_state_and_purge('absent', purge_option, True, list_option)
    assert str(info.value) == ('%s=true cannot be combined with state=absent: to remove every member use '
                               'state=present, %s=true and %s: []' % (purge_option, purge_option, list_option))
    validate_state_and_purge('present', purge_option, True, list_option)
    validate_state_and_purge('absent', purge_option, False, list_option)


def test_an_empty_member_list_needs_purge():
    with pytest.raises(IMSError, match=r'members is empty: an empty list is only allowed with purge_members: true'):
        validate_member_list('members', [], 'purge_members', False)
    assert validate_member_list('members', [], 'purge_members', True) == ([], [])


@pytest.mark.parametrize('value', [0, -1, True, '3', None])
def test_positive_int_refuses_what_is_not_a_count(value):
    with pytest.raises(IMSError) as info:
        validate_positive_int('batch_size', value, 'the most ids per request')
    assert str(info.value) == 'batch_size must be an integer of at least 1 (the most ids per request), got %r' % (value,)


@pytest.mark.parametrize('vault_id, status, message', [
    (' ', 'accepted', 'vault_id is empty'),
    ('v1', 'rejected', 'vault_id applies only with status=accepted'),
])
def test_vault_id_rules(vault_id, status, message):
    with pytest.raises(IMSError, match=message):
        validate_vault_id(vault_id, status)
    assert validate_vault_id(' v1 ', 'accepted') == 'v1'
    assert validate_vault_id(None, 'rejected') is None


def test_own_project_is_refused_also_for_images_given_by_id():
    with pytest.raises(IMSError) as info:
        check_not_own_project('projects', [B, A], A)
    assert 'projects lists %s, the project that owns the images' % A in str(info.value)
    with pytest.raises(IMSError, match='lists %s' % C):
        check_not_own_project('projects', [B, C], A, [{'id': 'x', 'owner': C}])
    check_not_own_project('projects', [B], A, [{'id': 'x', 'owner': A}])


def test_recipient_project_of_another_project_says_what_is_wrong():
    assert check_recipient_project('project_id', None, A) == A
    assert check_recipient_project('project_id', A, A) == A
    with pytest.raises(IMSError) as info:
        check_recipient_project('project_id', B, A)
    message = str(info.value)
    assert 'only by the project it belongs to' in message
    assert 'credentials scoped to project %s' % B in message
    assert 'is not a member' not in message


def test_missing_memberships_name_the_images_and_the_owner():
    check_memberships_exist(A, [])
    with pytest.raises(IMSError) as info:
        check_memberships_exist(A, ['i1', 'i2'], {'i1': C})
    assert str(info.value).startswith('project %s is not a member of image(s) i1, i2' % A)
    assert '(project %s)' % C in str(info.value)
    with pytest.raises(IMSError, match='owns image'):
        check_memberships_exist(A, ['i1'], {'i1': A})
