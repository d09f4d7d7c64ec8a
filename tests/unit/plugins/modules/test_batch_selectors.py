# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ims_image_member_batch with a selector: rotation (purge_older), empty selections, project names (the fake IMS of
the batch module's tests; HTTP faked with responses)."""
from __future__ import annotations

import responses

# the fake IMS, its fixtures and the run helper of the batch module's tests
from ansible_collections.imscloud.sharing.tests.unit.plugins.modules.test_ims_image_member_batch import CONSUMER
from ansible_collections.imscloud.sharing.tests.unit.plugins.modules.test_ims_image_member_batch import IAM
from ansible_collections.imscloud.sharing.tests.unit.plugins.modules.test_ims_image_member_batch import IMG_A
from ansible_collections.imscloud.sharing.tests.unit.plugins.modules.test_ims_image_member_batch import IMG_B
from ansible_collections.imscloud.sharing.tests.unit.plugins.modules.test_ims_image_member_batch import IMG_C
from ansible_collections.imscloud.sharing.tests.unit.plugins.modules.test_ims_image_member_batch import OTHER
from ansible_collections.imscloud.sharing.tests.unit.plugins.modules.test_ims_image_member_batch import clock  # noqa: F401  pylint: disable=unused-import
from ansible_collections.imscloud.sharing.tests.unit.plugins.modules.test_ims_image_member_batch import ims  # noqa: F401  pylint: disable=unused-import
from ansible_collections.imscloud.sharing.tests.unit.plugins.modules.test_ims_image_member_batch import run_module

ROTATE = {'name': 'golden-*', 'newest': 2, 'family_pattern': '-[0-9]{8}$'}


def three_weeks(fake):
    fake.image(IMG_A, 'golden-20261117', members=[(CONSUMER, 'accepted'), (OTHER, 'accepted')])
    fake.image(IMG_B, 'golden-20261124', members=[(CONSUMER, 'accepted')])
    fake.image(IMG_C, 'golden-20261201')


def test_rotation_in_check_mode_shows_who_gains_and_who_loses(ims):
    three_weeks(ims)
    result = run_module({'selector': ROTATE, 'projects': [CONSUMER], 'purge_older': True}, check_mode=True, diff=True)
    assert 'failed' not in result, result.get('msg')
    assert ims.submissions == []
    assert [i['id'] for i in result['images']] == [IMG_C, IMG_B]
    assert result['selection']['older'] == [{'id': IMG_A, 'name': 'golden-20261117'}]
    assert result['added'] == [{'image_id': IMG_C, 'project_id': CONSUMER}]
    assert result['removed'] == [{'image_id': IMG_A, 'project_id': CONSUMER}]
    # the other member of the older build stays
    assert result['after'][IMG_A] == [OTHER]
    assert result['diff']['before'][IMG_A] == sorted([CONSUMER, OTHER])


def test_rotation_shares_the_newest_and_unshares_the_older_then_is_idempotent(ims):
    three_weeks(ims)
    result = run_module({'selector': ROTATE, 'projects': [CONSUMER], 'purge_older': True})
    assert result['changed'] is True, result.get('msg')
    assert [method for method, _body in ims.submissions] == ['POST', 'DELETE']
    assert ims.submissions[0][1] == {'images': [IMG_C], 'projects': [CONSUMER]}
    assert ims.submissions[1][1] == {'images': [IMG_A], 'projects': [CONSUMER]}
    again = run_module({'selector': ROTATE, 'projects': [CONSUMER], 'purge_older': True})
    assert again['changed'] is False and len(ims.submissions) == 2


def test_without_purge_older_the_older_builds_are_left_alone(ims):
    three_weeks(ims)
    result = run_module({'selector': ROTATE, 'projects': [CONSUMER]}, check_mode=True)
    assert result['removed'] == [] and result['selection']['older'] == []


def test_an_empty_selection_changes_nothing_and_fails_only_when_asked(ims):
    three_weeks(ims)
    empty = run_module({'selector': {'name': 'windows-*'}, 'projects': [CONSUMER]})
    assert 'failed' not in empty and empty['changed'] is False
    assert empty['images'] == [] and empty['selection']['matched'] == 0
    assert empty['selection']['filters'] == "name matches 'windows-*', status active"
    failed = run_module({'selector': {'name': 'windows-*'}, 'projects': [CONSUMER], 'fail_on_empty': True})
    assert failed['failed'] is True and 'selector matched no image' in failed['msg']


def test_bad_rotations_fail_before_any_request(ims):
    for args, message in (
            ({'selector': {'name': 'golden-*'}, 'projects': [CONSUMER], 'purge_older': True}, 'purge_older needs selector with newest'),
            ({'images': [IMG_A], 'projects': [CONSUMER], 'purge_older': True}, 'purge_older needs selector with newest'),
            ({'selector': ROTATE, 'projects': [CONSUMER], 'purge_older': True, 'state': 'absent'}, 'purge_older works on the owner side'),
            ({'selector': {'newest': 0}, 'projects': [CONSUMER]}, 'selector.newest must be a whole number of at least 1'),
            ({'selector': ROTATE, 'images': [IMG_A], 'projects': [CONSUMER]}, 'mutually exclusive')):
        result = run_module(args)
        assert result['failed'] is True and message in result['msg'], (args, result['msg'])
    assert ims.submissions == []
    assert len(ims.mock.calls) == 0


def test_project_names_are_looked_up_in_iam(ims):
    ims.image(IMG_A, 'a')
    ims.mock.add(responses.GET, IAM + '/projects', json={'projects': [{'id': CONSUMER, 'name': 'eu-de_consumer', 'domain_id': 'd1'}]})
    result = run_module({'images': [IMG_A], 'projects': [OTHER], 'project_names': ['eu-de_consumer']})
    assert result['changed'] is True, result.get('msg')
    assert ims.submissions == [('POST', {'images': [IMG_A], 'projects': sorted([OTHER, CONSUMER])})]
