# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""images.py: the image API, name and id resolution, names in one listing, member reads and their 403/404
tolerance, check-mode predictions (HTTP faked with responses; the real client)."""
from __future__ import annotations

import json

import pytest
import responses

from ansible_collections.imscloud.sharing.plugins.module_utils import images as image_api
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import IMS
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import IMAGE
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import OTHER_PROJECT
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import PROJECT
# the client fixtures (a token answer, a client with a fake clock) and request helpers of the client API tests
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client_api import client  # noqa: F401  pylint: disable=unused-import
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client_api import fake_time  # noqa: F401  pylint: disable=unused-import
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client_api import ims_calls
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client_api import mock  # noqa: F401  pylint: disable=unused-import
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client_api import query_of

IMAGES = IMS + '/v2/images'


def image(number: int, name: str = 'img', owner: str = PROJECT, **extra) -> dict:
    return dict({'id': 'd164b5df-1bc3-4c3f-893e-%012d' % number, 'name': name, 'owner': owner, 'visibility': 'shared'},
                **extra)


# ---------------------------------------------------------------- image API

def test_ids_are_quoted_in_paths(mock, client):
    mock.add(responses.GET, IMAGES + '/a%2Fb', json={'id': 'a/b'})
    assert image_api.get_image(client, 'a/b') == {'id': 'a/b'}


def test_set_image_visibility_sends_a_json_patch(mock, client):
    mock.add(responses.PATCH, IMAGES + '/' + IMAGE, json={'id': IMAGE, 'visibility': 'shared'})
    assert image_api.set_image_visibility(client, IMAGE, 'shared')['visibility'] == 'shared'
    call = ims_calls(mock)[0]
    assert call.request.headers['Content-Type'] == 'application/openstack-images-v2.1-json-patch'
    assert json.loads(call.request.body) == [{'op': 'replace', 'path': '/visibility', 'value': 'shared'}]


# ---------------------------------------------------------------- resolution

def test_resolve_by_id_and_name_on_the_owner_side(mock, client):
    mine = image(1, 'ubuntu-golden')
    by_id = image(2, 'other')
    mock.add(responses.GET, IMAGES, json={'images': [mine], 'schema': '/v2/schemas/images', 'first': '/v2/images'})
    mock.add(responses.GET, IMAGES + '/' + by_id['id'], json=by_id)
    resolved = image_api.resolve_images(client, ['ubuntu-golden', by_id['id'], ' ubuntu-golden ', None], 'owner').images
    assert resolved == [mine, by_id]
    list_call = [c for c in ims_calls(mock) if c.request.url.startswith(IMAGES + '?')][0]
    assert query_of(list_call) == {'owner': PROJECT, 'name': 'ubuntu-golden', 'limit': '1000'}


def test_name_and_id_of_the_same_image_resolve_once(mock, client):
    mine = image(1, 'golden')
    mock.add(responses.GET, IMAGES, json={'images': [mine]})
    mock.add(responses.GET, IMAGES + '/' + mine['id'], json=mine)
    assert image_api.resolve_images(client, [mine['id'], 'golden'], 'owner').images == [mine]


def test_recipient_side_lists_shared_images_in_any_status(mock, client):
    theirs = image(3, 'base image', owner=OTHER_PROJECT)
    own_shared = image(4, 'base image', owner=PROJECT)
    mock.add(responses.GET, IMAGES, json={'images': [theirs, own_shared]})
    assert image_api.resolve_images(client, ['base image'], 'recipient').images == [theirs]
    call = ims_calls(mock)[0]
    assert query_of(call) == {'visibility': 'shared', 'member_status': 'all', 'name': 'base image', 'limit': '1000'}
    assert '?visibility=shared&member_status=all&name=base%20image&limit=1000' in call.request.url


def test_ambiguous_name_lists_the_ids(mock, client):
    first, second = image(5, 'dup'), image(6, 'dup')
    mock.add(responses.GET, IMAGES, json={'images': [first, second]})
    with pytest.raises(IMSError) as caught:
        image_api.resolve_images(client, ['dup'], 'owner').images
    err = caught.value
    assert "image name 'dup' is ambiguous: 2 images owned by project %s have it (%s, %s); use an id" % (
        PROJECT, first['id'], second['id']) == str(err)
    assert err.details == {'image': 'dup', 'side': 'owner', 'matching_ids': [first['id'], second['id']]}


@pytest.mark.parametrize('side, where', [('owner', 'owned by'), ('recipient', 'shared with')])
def test_missing_name_names_the_image_and_the_side(mock, client, side, where):
    # the server ignores the name filter here; only exact names count
    mock.add(responses.GET, IMAGES, json={'images': [image(7, 'almost', owner=OTHER_PROJECT)]})
    with pytest.raises(IMSError) as caught:
        image_api.resolve_images(client, ['wanted'], side).images
    assert str(caught.value) == "image 'wanted' not found among the images %s project %s" % (where, PROJECT)
    assert caught.value.details == {'image': 'wanted', 'side': side}


def test_unknown_id_is_not_found(mock, client):
    mock.add(responses.GET, IMAGES + '/' + IMAGE, status=404, json={'message': 'No image found with ID %s' % IMAGE,
                                                                    'code': '404 Not Found'},
             headers={'X-Openstack-Request-Id': 'req-404'})
    with pytest.raises(IMSError) as caught:
        image_api.resolve_images(client, [IMAGE], 'owner').images
    err = caught.value
    assert (err.status, err.request_id, err.details) == (404, 'req-404', {'image': IMAGE})
    assert 'image %s not found (or not visible to project %s)' % (IMAGE, PROJECT) in str(err)


def test_other_errors_while_resolving_ids_propagate(mock, client):
    mock.add(responses.GET, IMAGES + '/' + IMAGE, status=403, json={'message': 'forbidden', 'code': '403 Forbidden'})
    with pytest.raises(IMSError) as caught:
        image_api.resolve_images(client, [IMAGE], 'owner').images
    assert caught.value.status == 403


def test_ids_are_fetched_concurrently(mock, client):
    images = [image(n) for n in range(10, 16)]
    for img in images:
        mock.add(responses.GET, IMAGES + '/' + img['id'], json=img)
    assert image_api.resolve_images(client, [i['id'] for i in images], 'owner', concurrency=3).images == images


def test_resolve_checks_the_side(client):
    with pytest.raises(IMSError, match="side must be 'owner' or 'recipient'"):
        image_api.resolve_images(client, ['x'], 'both')


# ---------------------------------------------------------------- pagination

def test_pagination_follows_next_links(mock, client):
    page1 = [image(n, 'many', owner=OTHER_PROJECT) for n in range(3)]
    page2 = [image(n, 'many', owner=OTHER_PROJECT) for n in range(3, 5)]
    mock.add(responses.GET, IMAGES, json={'images': page1, 'next': '/v2/images?marker=%s&visibility=shared&member_status=pending'
                                          % page1[-1]['id']})
    mock.add(responses.GET, IMAGES, json={'images': page2})
    assert image_api.list_shared_with_me(client, 'pending') == page1 + page2
    first, second = ims_calls(mock)
    assert query_of(first) == {'visibility': 'shared', 'member_status': 'pending', 'limit': '1000'}
    assert query_of(second) == {'marker': page1[-1]['id'], 'visibility': 'shared', 'member_status': 'pending'}


def test_pagination_falls_back_to_markers_when_pages_are_full(mock, client, monkeypatch):
    monkeypatch.setattr(image_api, 'LIST_PAGE_SIZE', 2)
    full = [image(20, 'x', owner=OTHER_PROJECT), image(21, 'x', owner=OTHER_PROJECT)]
    mock.add(responses.GET, IMAGES, json={'images': full})
    mock.add(responses.GET, IMAGES, json={'images': [image(22, 'x', owner=OTHER_PROJECT)]})
    assert len(image_api.list_shared_with_me(client)) == 3
    assert query_of(ims_calls(mock)[1]) == {'visibility': 'shared', 'member_status': 'all', 'limit': '2', 'marker': full[-1]['id']}


def test_pagination_loop_is_detected(mock, client):
    mock.add(responses.GET, IMAGES, json={'images': [image(30)], 'next': '/v2/images?marker=same'})
    with pytest.raises(IMSError, match='does not end'):
        image_api.list_images(client, {})


def test_next_link_to_another_host_is_refused(mock, client):
    mock.add(responses.GET, IMAGES, json={'images': [], 'next': 'https://evil.test/v2/images?marker=x'})
    with pytest.raises(IMSError, match='refusing to follow a link to another host: https://evil.test/v2/images'):
        image_api.list_images(client, {})


def test_absolute_next_link_on_the_same_host_is_followed(mock, client):
    mock.add(responses.GET, IMAGES, json={'images': [image(31)], 'next': IMS + '/v2/images?marker=m'})
    mock.add(responses.GET, IMAGES, json={'images': [image(32)]})
    assert [i['id'] for i in image_api.list_images(client, {})] == [image(31)['id'], image(32)['id']]


def test_invalid_json_from_ims(mock, client):
    mock.add(responses.GET, IMAGES, body='not json', status=200)
    with pytest.raises(IMSError, match='not valid JSON') as caught:
        image_api.list_images(client, {})
    assert caught.value.status == 200 and caught.value.method == 'GET'


# ---------------------------------------------------------------- names in one listing

def test_three_names_cost_one_listing_of_the_project_images(mock, client):
    listed = [image(1, 'a'), image(2, 'b'), image(3, 'c'), image(4, 'unrelated')]
    mock.add(responses.GET, IMAGES, json={'images': listed})
    resolved = image_api.resolve_images(client, ['c', 'a', 'b'], 'owner').images
    assert [i['name'] for i in resolved] == ['c', 'a', 'b']
    calls = ims_calls(mock)
    assert len(calls) == 1
    assert query_of(calls[0]) == {'owner': PROJECT, 'limit': '1000'}


def test_two_names_cost_one_filtered_listing_each(mock, client):
    mock.add(responses.GET, IMAGES, json={'images': [image(1, 'a')]},
             match=[responses.matchers.query_param_matcher({'owner': PROJECT, 'name': 'a', 'limit': '1000'})])
    mock.add(responses.GET, IMAGES, json={'images': [image(2, 'b')]},
             match=[responses.matchers.query_param_matcher({'owner': PROJECT, 'name': 'b', 'limit': '1000'})])
    assert [i['name'] for i in image_api.resolve_images(client, ['a', 'b'], 'owner').images] == ['a', 'b']
    assert len(ims_calls(mock)) == 2


def test_one_listing_keeps_the_ambiguity_rule(mock, client):
    mock.add(responses.GET, IMAGES, json={'images': [image(1, 'a'), image(2, 'b'), image(3, 'a'), image(4, 'c')]})
    with pytest.raises(IMSError) as caught:
        image_api.resolve_images(client, ['a', 'b', 'c'], 'owner')
    assert caught.value.details['matching_ids'] == [image(1)['id'], image(3)['id']]
    assert "image name 'a' is ambiguous: 2 images owned by project %s" % PROJECT in str(caught.value)


def test_one_listing_matches_names_exactly_and_reports_the_missing_one(mock, client):
    mock.add(responses.GET, IMAGES, json={'images': [image(1, 'a'), image(2, 'B'), image(3, 'c ')]})
    with pytest.raises(IMSError, match="image 'b' not found among the images owned by project"):
        image_api.resolve_images(client, ['a', 'b', 'c'], 'owner')


def test_recipient_one_listing_skips_own_images_and_lists_every_status(mock, client):
    theirs = [image(n, name, owner=OTHER_PROJECT) for n, name in ((1, 'a'), (2, 'b'), (3, 'c'))]
    mock.add(responses.GET, IMAGES, json={'images': theirs + [image(4, 'a')]})
    assert image_api.resolve_images(client, ['a', 'b', 'c'], 'recipient').images == theirs
    assert query_of(ims_calls(mock)[0]) == {'visibility': 'shared', 'member_status': 'all', 'limit': '1000'}


def test_a_listing_longer_than_the_names_falls_back_to_one_lookup_per_name(mock, client, monkeypatch):
    monkeypatch.setattr(image_api, 'LIST_PAGE_SIZE', 2)
    pages = [[image(1, 'x'), image(2, 'y')], [image(3, 'z'), image(4, 'w')], [image(5, 'a'), image(6, 'b')]]
    for number, page in enumerate(pages):
        mock.add(responses.GET, IMAGES, json={'images': page, 'next': '/v2/images?owner=%s&limit=2&marker=p%d' % (PROJECT, number)},
                 match=[responses.matchers.query_param_matcher(
                     {'owner': PROJECT, 'limit': '2'} if number == 0 else {'owner': PROJECT, 'limit': '2', 'marker': 'p%d' % (number - 1)})])
    for number, name in ((5, 'a'), (6, 'b'), (7, 'c')):
        mock.add(responses.GET, IMAGES, json={'images': [image(number, name)]},
                 match=[responses.matchers.query_param_matcher({'owner': PROJECT, 'name': name, 'limit': '2'})])
    resolved = image_api.resolve_images(client, ['a', 'b', 'c'], 'owner').images
    assert [i['name'] for i in resolved] == ['a', 'b', 'c']
    # three pages of the listing (as many as names) without its end, then one filtered listing per name
    assert [sorted(query_of(c)) for c in ims_calls(mock)].count(['limit', 'name', 'owner']) == 3
    assert len(ims_calls(mock)) == 6


def test_ids_can_be_taken_without_a_request(mock, client):
    resolution = image_api.resolve_images(client, [IMAGE.upper()], 'owner', read_ids=False)
    assert resolution.images == [{'id': IMAGE, 'name': None}]
    assert ims_calls(mock) == []


def test_duplicates_by_name_and_id_give_one_warning(mock, client):
    mine = image(1, 'golden')
    mock.add(responses.GET, IMAGES, json={'images': [mine]})
    mock.add(responses.GET, IMAGES + '/' + mine['id'], json=mine)
    resolution = image_api.resolve_images(client, ['golden', mine['id']], 'owner')
    assert resolution.images == [mine]
    assert resolution.warnings == ['image %s is named more than once (by name and by id); it counts once' % mine['id']]


# ---------------------------------------------------------------- check mode across tasks

def test_recipient_check_mode_predicts_an_image_it_cannot_find_by_name(mock, client):
    mock.add(responses.GET, IMAGES, json={'images': []})
    resolution = image_api.resolve_images(client, ['golden'], 'recipient', check_mode=True)
    predicted = resolution.images[0]
    assert (predicted['id'], predicted['name'], predicted['unverified']) == (None, 'golden', True)
    assert resolution.unverified == [predicted]
    assert resolution.result_fields() == {'unverified': True, 'unverified_images': [
        {'id': None, 'name': 'golden', 'reason': predicted['reason']}]}
    assert 'image golden is not shared with project %s (yet)' % PROJECT in predicted['reason']
    assert len(resolution.warnings) == 1
    assert resolution.warnings[0].startswith('check mode: image golden is not shared with project %s (yet)' % PROJECT)
    assert 'could not verify' in resolution.warnings[0] and 'outside check mode this is an error' in resolution.warnings[0]


def test_recipient_check_mode_predicts_an_image_it_cannot_see_by_id(mock, client):
    mock.add(responses.GET, IMAGES + '/' + IMAGE, status=404, json={'message': 'No image found', 'code': '404 Not Found'})
    resolution = image_api.resolve_images(client, [IMAGE], 'recipient', check_mode=True)
    assert resolution.images[0]['id'] == IMAGE and resolution.images[0]['unverified'] is True
    assert 'no image with this id is visible to it' in resolution.images[0]['reason']


def test_a_found_image_is_not_unverified(mock, client):
    theirs = image(1, 'golden', owner=OTHER_PROJECT)
    mock.add(responses.GET, IMAGES, json={'images': [theirs]})
    resolution = image_api.resolve_images(client, ['golden'], 'recipient', check_mode=True)
    assert resolution.images == [theirs] and resolution.warnings == []
    assert resolution.result_fields() == {'unverified': False, 'unverified_images': []}


@pytest.mark.parametrize('side, check_mode', [('recipient', False), ('owner', True)])
def test_a_missing_image_is_an_error_outside_recipient_check_mode(mock, client, side, check_mode):
    mock.add(responses.GET, IMAGES, json={'images': []})
    with pytest.raises(IMSError, match="image 'golden' not found"):
        image_api.resolve_images(client, ['golden'], side, check_mode=check_mode)


def test_require_shares_fails_outside_check_mode_and_predicts_in_check_mode():
    resolution = image_api.Resolution([{'id': IMAGE, 'name': 'golden'}, {'id': 'other', 'name': 'x'}], [], [])
    with pytest.raises(IMSError) as caught:
        image_api.require_shares(resolution, [IMAGE], PROJECT, check_mode=False)
    assert str(caught.value).startswith('project %s is not a member of image(s) %s' % (PROJECT, IMAGE))
    assert caught.value.details == {'not_shared': [IMAGE]}
    image_api.require_shares(resolution, [IMAGE], PROJECT, check_mode=True)
    assert resolution.images[0]['unverified'] is True and resolution.images[0]['name'] == 'golden'
    assert resolution.images[1] == {'id': 'other', 'name': 'x'}
    assert [i['id'] for i in resolution.unverified] == [IMAGE] and len(resolution.warnings) == 1


# ---------------------------------------------------------------- member reads

def members_of(image_id):
    return '%s/%s/members' % (IMAGES, image_id)


def test_member_reads_tolerate_a_glance_refusal_only_for_images_not_shared(mock, client):
    private, shared = image(1, visibility='private'), image(2, visibility='shared')
    refusal = {'message': 'Not allowed to list members for image.<br /><br />', 'code': '403 Forbidden'}
    mock.add(responses.GET, members_of(private['id']), status=403, json=refusal)
    reads = image_api.read_member_lists(client, [private], 'owner')
    assert (reads.members, reads.refused, reads.missing) == ({private['id']: []}, [private['id']], [])
    mock.add(responses.GET, members_of(shared['id']), status=403, json=refusal)
    with pytest.raises(IMSError) as caught:
        image_api.read_member_lists(client, [shared], 'owner')
    assert caught.value.status == 403


def test_an_ims_permission_error_is_not_tolerated(mock, client):
    private = image(1, visibility='private')
    mock.add(responses.GET, members_of(private['id']), status=403,
             json={'error': {'code': 'IMG.0047', 'message': 'no permission'}})
    with pytest.raises(IMSError) as caught:
        image_api.read_member_lists(client, [private], 'owner')
    assert caught.value.code == 'IMG.0047'


def test_owner_404_is_an_error_naming_the_image_recipient_404_is_missing(mock, client):
    mock.add(responses.GET, members_of(IMAGE), status=404, json={'message': 'Image not found', 'code': '404 Not Found'},
             headers={'X-Openstack-Request-Id': 'req-1'})
    with pytest.raises(IMSError) as caught:
        image_api.read_member_lists(client, [IMAGE], 'owner')
    assert str(caught.value).startswith('reading the members of image %s: IMS request failed' % IMAGE)
    assert caught.value.request_id == 'req-1' and 'not visible to project %s' % PROJECT in str(caught.value)
    reads = image_api.read_member_lists(client, [IMAGE, IMAGE], 'recipient')
    assert (reads.members, reads.refused, reads.missing) == ({IMAGE: []}, [], [IMAGE])


def test_member_reads_run_concurrently_within_the_bound(mock, client):
    import threading
    import time
    ids = [image(n)['id'] for n in range(9)]
    state = {'running': 0, 'peak': 0}
    lock = threading.Lock()

    def slow(request):
        with lock:
            state['running'] += 1
            state['peak'] = max(state['peak'], state['running'])
        time.sleep(0.05)
        with lock:
            state['running'] -= 1
        return 200, {}, json.dumps({'members': [{'member_id': OTHER_PROJECT, 'status': 'pending'}]})

    for image_id in ids:
        mock.add_callback(responses.GET, members_of(image_id), callback=slow)
    reads = image_api.read_member_lists(client, ids, 'owner', concurrency=3)
    assert list(reads.members) == ids
    assert 1 < state['peak'] <= 3
    assert client.stats['requests']['POST /v3/auth/tokens'] == 1
