# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""selection.py: a listing in, the chosen images out (pure)."""
from __future__ import annotations

import pytest

from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.selection import select_images
from ansible_collections.imscloud.sharing.plugins.module_utils.selection import server_filters
from ansible_collections.imscloud.sharing.plugins.module_utils.selection import validate_selector

DATE_SUFFIX = '-[0-9]{8}$'


def image(number, name, created='2026-12-01T10:00:00Z', **extra):
    return dict({'id': '00000000-0000-4000-8000-%012d' % number, 'name': name, 'created_at': created,
                 'status': 'active', 'visibility': 'private', 'tags': []}, **extra)


def chosen(listing, **selector):
    return [i['name'] for i in select_images(listing, validate_selector('selector', selector)).chosen]


BUILDS = [
    image(1, 'golden-ubuntu-24.04-20261117', '2026-11-17T03:00:00Z'),
    image(2, 'golden-ubuntu-24.04-20261124', '2026-11-24T03:00:00Z'),
    image(3, 'golden-ubuntu-24.04-20261201', '2026-12-01T03:00:00Z'),
    image(4, 'golden-rhel-9-20261124', '2026-11-24T04:00:00Z'),
    image(5, 'golden-rhel-9-20261201', '2026-12-01T04:00:00Z'),
    image(6, 'scratch-test', '2026-12-01T05:00:00Z'),
]


def test_newest_per_family_and_the_older_ones():
    selection = select_images(BUILDS, validate_selector('selector', {'name': 'golden-*', 'newest': 1,
                                                                     'family_pattern': DATE_SUFFIX}))
    assert [i['name'] for i in selection.chosen] == ['golden-rhel-9-20261201', 'golden-ubuntu-24.04-20261201']
    assert [i['name'] for i in selection.older] == ['golden-rhel-9-20261124', 'golden-ubuntu-24.04-20261124',
                                                    'golden-ubuntu-24.04-20261117']
    assert selection.families == {'golden-rhel-9': [BUILDS[4]['id']], 'golden-ubuntu-24.04': [BUILDS[2]['id']]}


def test_newest_without_family_is_over_all_matches():
    assert chosen(BUILDS, name='golden-*', newest=2) == ['golden-rhel-9-20261201', 'golden-ubuntu-24.04-20261201']


def test_newest_larger_than_a_family_keeps_the_whole_family():
    assert chosen(BUILDS, name='golden-rhel-*', newest=5, family_pattern=DATE_SUFFIX) == [
        'golden-rhel-9-20261201', 'golden-rhel-9-20261124']


def test_equal_times_break_by_name_descending_then_id():
    same = '2026-12-01T00:00:00Z'
    listing = [image(3, 'b-20261201', same), image(1, 'b-20261130', same), image(2, 'b-20261201', same)]
    selection = select_images(listing, validate_selector('s', {'newest': 2}))
    assert [i['id'] for i in selection.chosen] == [listing[2]['id'], listing[0]['id']]
    assert selection.older == [listing[1]]


def test_the_order_does_not_depend_on_the_listing_order():
    selector = validate_selector('s', {'newest': 3, 'family_pattern': DATE_SUFFIX})
    forward = select_images(BUILDS, selector)
    backward = select_images(list(reversed(BUILDS)), selector)
    assert [i['id'] for i in forward.chosen] == [i['id'] for i in backward.chosen]
    assert [i['id'] for i in forward.older] == [i['id'] for i in backward.older]


def test_missing_or_unreadable_created_at_counts_as_oldest():
    listing = [image(1, 'a', None), image(2, 'b', 'yesterday'), image(3, 'c', '2020-01-01T00:00:00')]
    assert chosen(listing, newest=1) == ['c']
    assert chosen(listing, newest=3) == ['c', 'b', 'a']


def test_time_zones_are_compared_as_instants():
    listing = [image(1, 'utc', '2026-12-01T10:30:00Z'), image(2, 'berlin', '2026-12-01T11:00:00+01:00')]
    assert chosen(listing, newest=1) == ['utc']


def test_filters_tags_all_of_properties_status_visibility():
    listing = [
        image(1, 'a', tags=['golden', 'approved'], __os_version='Ubuntu 24.04', visibility='shared'),
        image(2, 'b', tags=['golden'], __os_version='Ubuntu 24.04'),
        image(3, 'c', tags=['golden', 'approved'], __os_version='Ubuntu 22.04'),
        image(4, 'd', tags=['golden', 'approved'], __os_version='Ubuntu 24.04', status='queued'),
        image(5, 'e', tags=['approved', 'golden', 'x'], __os_version='Ubuntu 24.04', hw_secure=True),
    ]
    assert chosen(listing, tags=['golden', 'approved']) == ['e', 'c', 'a']
    assert chosen(listing, tags=['approved'], properties={'__os_version': 'Ubuntu 24.04'}) == ['e', 'a']
    assert chosen(listing, tags=['approved'], status='any', properties={'__os_version': 'Ubuntu 24.04'}) == ['e', 'd', 'a']
    assert chosen(listing, visibility='shared') == ['a']
    assert chosen(listing, properties={'hw_secure': True}) == ['e']
    assert chosen(listing, properties={'hw_secure': 'true'}) == ['e']


def test_name_glob_is_case_sensitive_and_whole_name_regex_searches():
    listing = [image(1, 'Golden-1'), image(2, 'golden-2'), image(3, 'my-golden-3')]
    assert chosen(listing, name='golden-*') == ['golden-2']
    assert chosen(listing, name_regex='golden-[0-9]') == ['my-golden-3', 'golden-2']
    assert chosen(listing, name_regex='^golden-[0-9]$') == ['golden-2']


def test_an_empty_selection_is_empty_and_says_which_filters_applied():
    selection = select_images(BUILDS, validate_selector('s', {'name': 'nothing-*', 'tags': ['x'], 'newest': 2}))
    assert selection.chosen == [] and selection.older == [] and selection.families == {}
    assert selection.filters == "name matches 'nothing-*', tags include x, status active, the newest 2"


def test_each_image_counts_once():
    assert chosen(BUILDS[:1] + BUILDS[:1]) == ['golden-ubuntu-24.04-20261117']


def test_server_filters_are_status_tags_and_properties():
    selector = validate_selector('s', {'name': 'g*', 'tags': ['b', 'a', 'a'], 'properties': {'os_distro': 'ubuntu'},
                                       'visibility': 'private', 'newest': 1})
    assert server_filters(selector) == {'status': 'active', 'tag': ['a', 'b'], 'os_distro': 'ubuntu',
                                        'sort_key': 'created_at', 'sort_dir': 'desc'}
    assert 'status' not in server_filters(validate_selector('s', {'status': 'any'}))


@pytest.mark.parametrize('selector, message', [
    ({'newest': 0}, 'selector.newest must be a whole number of at least 1'),
    ({'newest': True}, 'selector.newest must be a whole number of at least 1'),
    ({'nme': 'x'}, 'selector: unknown key(s) nme; allowed: name, name_regex, tags'),
    ({'name_regex': '('}, "selector.name_regex: '(' is not a valid regular expression"),
    ({'family_pattern': '-[0-9]{8}$'}, 'selector.family_pattern needs newest'),
    ({'newest': 1, 'family_pattern': '[unclosed'}, 'selector.family_pattern'),
    ({'name': ''}, 'selector.name must be a non-empty glob pattern'),
    ({'tags': 'golden'}, 'selector.tags must be a list of non-empty tags'),
    ({'properties': {'name': 'x'}}, 'selector.properties: name is not an image property'),
    ({'properties': {'a': ['x']}}, 'selector.properties: the value of a must be a string'),
    ({'visibility': 'hidden'}, 'selector.visibility must be one of private, shared, public, community, any'),
    (['golden-*'], 'selector must be a mapping'),
])
def test_bad_selectors_fail_with_a_clear_message(selector, message):
    with pytest.raises(IMSError) as caught:
        validate_selector('selector', selector)
    assert message in str(caught.value)
    assert caught.value.status is None


def test_no_selector_is_none():
    assert validate_selector('selector', None) is None
