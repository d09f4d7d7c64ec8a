# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The real module and the real IMSClient, with HTTP answered by the stateful Glance/IMS fake of tests/unit/helpers.py.

from __future__ import annotations

import json

import pytest
import yaml

from ansible_collections.imscloud.sharing.plugins.modules import ims_image_member
from ansible_collections.imscloud.sharing.tests.unit.helpers import FakeImageService
from ansible_collections.imscloud.sharing.tests.unit.helpers import ims_error
from ansible_collections.imscloud.sharing.tests.unit.helpers import run_module
from ansible_collections.imscloud.sharing.tests.unit.helpers import webob_error as webob

IAM = 'http://iam.test/v3'
IMS = 'http://ims.test'
OWNER = '0' * 31 + 'a'
CONSUMER = '0' * 31 + 'b'
OTHER = '0' * 31 + 'c'
FOURTH = '0' * 31 + 'd'
IMAGE_ID = '11111111-1111-4111-8111-111111111111'
PRIVATE_ID = '22222222-2222-4222-8222-222222222222'
ENCRYPTED_ID = '33333333-3333-4333-8333-333333333333'
TWIN_A = '44444444-4444-4444-8444-444444444444'
TWIN_B = '55555555-5555-4555-8555-555555555555'
STAMP = FakeImageService.SEEDED


@pytest.fixture
def cloud(http):
    fake = FakeImageService(http, IAM, IMS, OWNER)
    fake.image(IMAGE_ID, 'golden', visibility='shared')
    fake.image(PRIVATE_ID, 'plain')
    fake.image(ENCRYPTED_ID, 'secret', __system__cmkid='kms-key-1')
    fake.image(TWIN_A, 'twin', visibility='shared')
    fake.image(TWIN_B, 'twin', visibility='shared')
    return fake


def auth(project):
    return {'auth_url': IAM, 'username': 'user-' + project[-1], 'password': 'secret-password',
            'user_domain_name': 'Default', 'project_id': project}


def run(args, project=OWNER, check=False, diff=False):
    """Run the module; returns (result, failed)."""
    result = run_module(ims_image_member.main, dict(args, auth=auth(project), ims_endpoint=IMS), check_mode=check, diff=diff)
    return result, result.get('failed') is True


def ok(args, **kwargs):
    result, failed = run(args, **kwargs)
    assert not failed, result
    return result


def failure(args, **kwargs):
    result, failed = run(args, **kwargs)
    assert failed, result
    return result


def requests_sent(cloud, prefix=IMS):
    return [(call.request.method, call.request.url) for call in cloud.mock.calls if call.request.url.startswith(prefix)]


# --- owner side -------------------------------------------------------------------------------------------------

def test_check_mode_reports_the_plan_and_writes_nothing(cloud):
    cloud.seed(IMAGE_ID, OTHER, 'accepted')
    result = ok({'image': 'golden', 'members': [CONSUMER, FOURTH]}, check=True)
    assert result['changed'] is True
    assert result['added'] == [CONSUMER, FOURTH]
    assert result['removed'] == [] and result['status_changed'] == [] and result['visibility_changed'] is False
    assert result['image'] == {'id': IMAGE_ID, 'name': 'golden'}
    assert result['members'] == [
        {'member_id': CONSUMER, 'status': 'pending', 'created_at': None, 'updated_at': None},
        {'member_id': OTHER, 'status': 'accepted', 'created_at': STAMP, 'updated_at': STAMP},
        {'member_id': FOURTH, 'status': 'pending', 'created_at': None, 'updated_at': None},
    ]
    assert cloud.writes == []
    assert cloud.statuses(IMAGE_ID) == {OTHER: 'accepted'}


def test_apply_then_unchanged_rerun(cloud):
    first = ok({'image': 'golden', 'members': [FOURTH, CONSUMER]})
    assert first['changed'] is True
    assert first['added'] == [CONSUMER, FOURTH]
    assert cloud.statuses(IMAGE_ID) == {CONSUMER: 'pending', FOURTH: 'pending'}
    assert [member['member_id'] for member in first['members']] == [CONSUMER, FOURTH]
    assert first['members'][0]['created_at'] == '2026-02-02T00:00:00Z'

    writes = len(cloud.writes)
    second = ok({'image': IMAGE_ID, 'members': [CONSUMER, FOURTH]})
    assert second['changed'] is False
    assert second['added'] == [] and second['removed'] == []
    assert second['members'] == first['members']
    assert len(cloud.writes) == writes


def test_check_mode_result_matches_the_real_run(cloud):
    cloud.seed(IMAGE_ID, OTHER)
    args = {'image': 'golden', 'members': [CONSUMER], 'purge_members': True}
    planned = ok(args, check=True)
    applied = ok(args)
    for key in ('changed', 'added', 'removed', 'status_changed', 'visibility_changed', 'image'):
        assert planned[key] == applied[key]
    assert [(m['member_id'], m['status']) for m in planned['members']] == [(m['member_id'], m['status']) for m in applied['members']]


def test_purge_makes_membership_exactly_the_list(cloud):
    cloud.seed(IMAGE_ID, CONSUMER, 'accepted')
    cloud.seed(IMAGE_ID, OTHER, 'rejected')
    result = ok({'image': 'golden', 'members': [CONSUMER, FOURTH], 'purge_members': True})
    assert result['added'] == [FOURTH]
    assert result['removed'] == [OTHER]
    assert cloud.statuses(IMAGE_ID) == {CONSUMER: 'accepted', FOURTH: 'pending'}
    assert [(m['member_id'], m['status']) for m in result['members']] == [(CONSUMER, 'accepted'), (FOURTH, 'pending')]


def test_purge_with_empty_list_removes_everyone(cloud):
    cloud.seed(IMAGE_ID, CONSUMER)
    cloud.seed(IMAGE_ID, OTHER)
    result = ok({'image': 'golden', 'members': [], 'purge_members': True})
    assert result['removed'] == [CONSUMER, OTHER]
    assert result['members'] == []
    assert cloud.statuses(IMAGE_ID) == {}
    assert ok({'image': 'golden', 'members': [], 'purge_members': True})['changed'] is False


def test_state_absent_removes_only_listed_members(cloud):
    cloud.seed(IMAGE_ID, CONSUMER)
    cloud.seed(IMAGE_ID, OTHER)
    result = ok({'image': 'golden', 'members': [CONSUMER, FOURTH], 'state': 'absent'})
    assert result['changed'] is True
    assert result['removed'] == [CONSUMER]
    assert cloud.statuses(IMAGE_ID) == {OTHER: 'pending'}
    assert ok({'image': 'golden', 'members': [CONSUMER], 'state': 'absent'})['changed'] is False


def test_duplicates_are_removed_with_a_warning(cloud):
    result = ok({'image': 'golden', 'members': [CONSUMER, CONSUMER.upper(), CONSUMER]})
    assert result['added'] == [CONSUMER]
    assert result['warnings'] == ['members: project id %s is listed 3 times; the duplicates were removed' % CONSUMER]


def test_diff_shows_members_with_status(cloud):
    cloud.seed(IMAGE_ID, OTHER, 'accepted')
    result = ok({'image': 'golden', 'members': [CONSUMER], 'purge_members': True}, diff=True)
    assert result['diff']['before'] == {'members': {OTHER: 'accepted'}}
    assert result['diff']['after'] == {'members': {CONSUMER: 'pending'}}
    assert IMAGE_ID in result['diff']['before_header']


def test_add_meeting_409_is_success(cloud):
    # the member appears between the read and the add (another run of the same task, for example)
    cloud.before['add'] = lambda request: cloud.seed(IMAGE_ID, CONSUMER, 'accepted')
    result = ok({'image': 'golden', 'members': [CONSUMER]})
    assert result['changed'] is True
    assert result['added'] == [CONSUMER]
    assert [(m['member_id'], m['status']) for m in result['members']] == [(CONSUMER, 'accepted')]
    assert [call.response.status_code for call in cloud.mock.calls if call.request.method == 'POST'
            and '/members' in call.request.url] == [409]


# --- set_shared_visibility (plain Glance) -----------------------------------------------------------------------

def test_private_image_on_glance_needs_set_shared_visibility(cloud):
    cloud.glance = True
    result = failure({'image': 'plain', 'members': [CONSUMER]})
    assert 'set_shared_visibility: true' in result['msg']
    assert 'never needed on OTC IMS' in result['msg']
    assert cloud.writes == []


def test_set_shared_visibility_check_mode_then_apply(cloud):
    cloud.glance = True
    args = {'image': 'plain', 'members': [CONSUMER], 'set_shared_visibility': True}
    planned = ok(args, check=True, diff=True)
    assert planned['changed'] is True and planned['visibility_changed'] is True
    assert planned['added'] == [CONSUMER]
    assert planned['diff']['before']['visibility'] == 'private' and planned['diff']['after']['visibility'] == 'shared'
    assert cloud.writes == []

    applied = ok(args)
    assert applied['visibility_changed'] is True and applied['added'] == [CONSUMER]
    assert cloud.writes == [('PATCH', PRIVATE_ID, None), ('POST', PRIVATE_ID, CONSUMER)]
    assert cloud.images[PRIVATE_ID]['visibility'] == 'shared'
    again = ok(args)
    assert again['changed'] is False and again['visibility_changed'] is False


def test_set_shared_visibility_replans_against_members_hidden_while_private(cloud):
    cloud.glance = True
    cloud.seed(PRIVATE_ID, CONSUMER, 'accepted')   # kept by Glance while the image was private
    result = ok({'image': 'plain', 'members': [CONSUMER, OTHER], 'set_shared_visibility': True})
    assert result['added'] == [OTHER]
    assert cloud.statuses(PRIVATE_ID) == {CONSUMER: 'accepted', OTHER: 'pending'}


def test_ims_private_image_is_shared_without_switching(cloud):
    result = ok({'image': 'plain', 'members': [CONSUMER], 'set_shared_visibility': True})
    assert result['visibility_changed'] is False
    assert cloud.images[PRIVATE_ID]['visibility'] == 'private'
    assert cloud.writes == [('POST', PRIVATE_ID, CONSUMER)]


# --- owner-side errors ------------------------------------------------------------------------------------------

def test_add_by_non_owner_says_owner_project_is_needed(cloud):
    cloud.seed(IMAGE_ID, CONSUMER, 'accepted')
    result = failure({'image': IMAGE_ID, 'members': [OTHER]}, project=CONSUMER)
    assert result['error']['status'] == 403
    assert "owner's project %s" % OWNER in result['msg']
    assert result['changed'] is False


def test_remove_by_non_owner_says_owner_project_is_needed(cloud):
    cloud.seed(IMAGE_ID, CONSUMER, 'accepted')
    result = failure({'image': IMAGE_ID, 'members': [CONSUMER], 'state': 'absent'}, project=CONSUMER)
    assert result['error']['status'] == 403
    assert "owner's project %s" % OWNER in result['msg']


@pytest.mark.parametrize('answer', [
    webob(413, 'Image member limit exceeded for image %s' % IMAGE_ID),
    ims_error(400, 'IMG.0088', 'The number of shared images has reached the maximum allowed.'),
])
def test_member_quota_exceeded(cloud, answer):
    cloud.add_failures[CONSUMER] = answer
    result = failure({'image': 'golden', 'members': [CONSUMER]})
    assert 'member quota' in result['msg']
    assert 'purge_members' in result['msg']
    assert result['hint'] in result['msg']


@pytest.mark.parametrize('answer', [
    webob(403, 'Not allowed to create members for image %s: the KMS key of the encrypted image is not authorized for '
               'project %s.' % (ENCRYPTED_ID, CONSUMER)),
    ims_error(400, 'IMG.0099', 'You do not have permission to access the KMS key.'),
])
def test_encrypted_image_with_unauthorised_key(cloud, answer):
    cloud.add_failures[CONSUMER] = answer
    result = failure({'image': 'secret', 'members': [CONSUMER]})
    assert 'KMS key' in result['hint']
    assert 'Grant the key to the recipient project' in result['msg']


def test_partial_failure_reports_what_was_applied(cloud):
    cloud.add_failures[OTHER] = webob(413, 'Image member limit exceeded for image %s' % IMAGE_ID)
    result = failure({'image': 'golden', 'members': [CONSUMER, OTHER]})
    assert result['changed'] is True
    assert result['added'] == [CONSUMER]
    assert cloud.statuses(IMAGE_ID) == {CONSUMER: 'pending'}
    assert [(e['project_id'], e['operation'], e['error']['status']) for e in result['errors']] == [(OTHER, 'add', 413)]
    assert set(result['errors'][0]) == set(yaml.safe_load(ims_image_member.RETURN)['errors']['contains'])


def test_image_not_found(cloud):
    result = failure({'image': 'no-such-image', 'members': [CONSUMER]})
    assert "image 'no-such-image' not found" in result['msg']
    assert 'give the image id' in result['msg']
    assert cloud.writes == []


def test_ambiguous_name_lists_the_ids(cloud):
    result = failure({'image': 'twin', 'members': [CONSUMER]})
    assert 'ambiguous' in result['msg']
    assert TWIN_A in result['msg'] and TWIN_B in result['msg']
    assert cloud.writes == []


# --- validation before any request ------------------------------------------------------------------------------

@pytest.mark.parametrize('args, fragment', [
    ({'image': 'golden', 'members': ['not-a-project']}, "members: invalid project id(s): item 0 'not-a-project'"),
    ({'image': 'golden', 'members': [CONSUMER, CONSUMER[:-1]]}, 'item 1'),
    ({'image': 'golden', 'members': []}, 'an empty list is only allowed with purge_members: true'),
    ({'image': 'golden'}, 'give members'),
    ({'image': 'golden', 'members': [CONSUMER], 'state': 'absent', 'purge_members': True},
     'purge_members=true cannot be combined with state=absent'),
    ({'image': 'golden', 'members': [CONSUMER], 'status': 'accepted'}, 'cannot be combined'),
    ({'image': 'golden', 'purge_members': True, 'status': 'accepted'}, 'cannot be combined'),
    ({'image': 'golden', 'set_shared_visibility': True, 'member': CONSUMER, 'status': 'accepted'}, 'cannot be combined'),
    ({'image': 'golden', 'status': 'accepted', 'state': 'absent'}, 'state=absent cannot be combined with status'),
    ({'image': 'golden', 'member': CONSUMER}, 'member needs status'),
    ({'image': 'golden', 'status': 'rejected', 'vault_id': 'vault-1'}, 'vault_id applies only with status=accepted'),
    ({'image': 'golden', 'status': 'accepted', 'member': 'me'}, "member: invalid project id(s): item 0 'me'"),
])
def test_invalid_input_fails_before_any_request(cloud, args, fragment):
    result = failure(args)
    assert fragment in result['msg']
    assert list(cloud.mock.calls) == []


def test_invalid_choice_is_refused_by_ansible(cloud):
    result = failure({'image': 'golden', 'status': 'Accepted'})
    assert 'status' in result['msg']
    assert list(cloud.mock.calls) == []


# --- recipient side ---------------------------------------------------------------------------------------------

def test_recipient_accepts_rejects_and_reaccepts(cloud):
    cloud.seed(IMAGE_ID, CONSUMER)
    planned = ok({'image': 'golden', 'status': 'accepted'}, project=CONSUMER, check=True)
    assert planned['changed'] is True
    assert planned['status_changed'] == [{'member_id': CONSUMER, 'before': 'pending', 'after': 'accepted'}]
    assert planned['members'] == [{'member_id': CONSUMER, 'status': 'accepted', 'created_at': STAMP, 'updated_at': None}]
    assert cloud.writes == []

    accepted = ok({'image': 'golden', 'status': 'accepted'}, project=CONSUMER, diff=True)
    assert accepted['status_changed'] == [{'member_id': CONSUMER, 'before': 'pending', 'after': 'accepted'}]
    assert accepted['members'] == [{'member_id': CONSUMER, 'status': 'accepted', 'created_at': STAMP,
                                    'updated_at': '2026-03-03T00:00:00Z'}]
    assert accepted['added'] == [] and accepted['removed'] == [] and accepted['visibility_changed'] is False
    assert accepted['diff']['before'] == {'members': {CONSUMER: 'pending'}}
    assert accepted['diff']['after'] == {'members': {CONSUMER: 'accepted'}}

    assert ok({'image': IMAGE_ID, 'status': 'accepted'}, project=CONSUMER)['changed'] is False
    rejected = ok({'image': IMAGE_ID, 'status': 'rejected'}, project=CONSUMER)
    assert rejected['status_changed'] == [{'member_id': CONSUMER, 'before': 'accepted', 'after': 'rejected'}]
    again = ok({'image': IMAGE_ID, 'status': 'accepted', 'member': CONSUMER}, project=CONSUMER)
    assert again['status_changed'] == [{'member_id': CONSUMER, 'before': 'rejected', 'after': 'accepted'}]
    assert cloud.statuses(IMAGE_ID) == {CONSUMER: 'accepted'}
    assert [write[0] for write in cloud.writes] == ['PUT', 'PUT', 'PUT']


def test_recipient_sends_vault_id(cloud):
    cloud.seed(IMAGE_ID, CONSUMER)
    ok({'image': IMAGE_ID, 'status': 'accepted', 'vault_id': 'vault-1'}, project=CONSUMER)
    puts = [call.request for call in cloud.mock.calls if call.request.method == 'PUT']
    assert json.loads(puts[0].body) == {'status': 'accepted', 'vault_id': 'vault-1'}


def test_recipient_image_not_shared(cloud):
    result = failure({'image': 'golden', 'status': 'accepted'}, project=OTHER)
    assert 'is not shared with project %s' % OTHER in result['msg']
    assert 'ask the image owner' in result['msg']
    result = failure({'image': IMAGE_ID, 'status': 'accepted'}, project=OTHER)
    assert 'is not shared with project %s' % OTHER in result['msg']
    assert cloud.writes == []


def test_recipient_member_other_than_caller(cloud):
    cloud.seed(IMAGE_ID, CONSUMER)
    cloud.seed(IMAGE_ID, OTHER)
    result = failure({'image': IMAGE_ID, 'status': 'accepted', 'member': OTHER}, project=CONSUMER)
    assert 'is not shared with project %s' % OTHER in result['msg']
    assert 'credentials scoped to project %s' % OTHER in result['msg']


def test_status_change_by_owner_says_recipient_project_is_needed(cloud):
    cloud.seed(IMAGE_ID, CONSUMER)
    result = failure({'image': IMAGE_ID, 'status': 'accepted', 'member': CONSUMER}, project=OWNER)
    assert result['error']['status'] == 403
    assert 'recipient project %s' % CONSUMER in result['msg']
    assert cloud.statuses(IMAGE_ID) == {CONSUMER: 'pending'}


# --- documentation agrees with the result -----------------------------------------------------------------------

def test_return_documents_exactly_the_result_keys(cloud):
    cloud.seed(IMAGE_ID, CONSUMER)
    documented = yaml.safe_load(ims_image_member.RETURN)
    owner = ok({'image': 'golden', 'members': [OTHER]})
    recipient = ok({'image': 'golden', 'status': 'accepted'}, project=CONSUMER)
    for result in (owner, recipient):
        keys = set(result) - {'changed', 'warnings', 'invocation', 'diff'}
        assert keys == set(name for name, doc in documented.items() if doc['returned'] == 'always')
        assert set(result['image']) == set(documented['image']['contains'])
        for member in result['members']:
            assert set(member) == set(documented['members']['contains'])
    for change in recipient['status_changed']:
        assert set(change) == set(documented['status_changed']['contains'])


def test_documented_options_match_the_argument_spec():
    documented = yaml.safe_load(ims_image_member.DOCUMENTATION)['options']
    spec = ims_image_member.ImageMemberModule.argument_spec
    assert set(documented) == set(spec)
    for name, option in spec.items():
        assert documented[name].get('default') == option.get('default'), name
        assert documented[name].get('choices') == option.get('choices'), name


def test_owner_setting_a_status_on_its_own_image(cloud):
    result = failure({'image': IMAGE_ID, 'status': 'accepted'}, project=OWNER)
    assert 'is not shared with project %s' % OWNER in result['msg']
    assert 'project %s owns the image' % OWNER in result['msg']


def test_empty_vault_id_is_refused(cloud):
    result = failure({'image': IMAGE_ID, 'status': 'accepted', 'vault_id': ' '})
    assert 'vault_id is empty' in result['msg']
    assert list(cloud.mock.calls) == []


def test_listing_refused_on_a_shared_image_explains_the_owner_project(cloud):
    # a recipient that is no member at all cannot even see the image: the owner side reports it as not found
    result = failure({'image': IMAGE_ID, 'members': [OTHER]}, project=CONSUMER)
    assert 'not found' in result['msg']
    assert 'scoped to the project that owns the image' in result['msg']


def test_the_owner_project_as_a_member_is_refused_before_any_write(cloud):
    result = failure({'image': 'golden', 'members': [CONSUMER, OWNER]})
    assert 'members lists %s, the project that owns image(s) %s' % (OWNER, IMAGE_ID) in result['msg']
    assert cloud.writes == []
    assert result['added'] == [] and result['members'] == [] and result['changed'] is False
