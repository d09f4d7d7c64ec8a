# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ims_image_member_info: the real module and the real client, with HTTP faked by responses."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
import yaml

from ansible_collections.imscloud.sharing.plugins.modules import ims_image_member_info as info
from ansible_collections.imscloud.sharing.tests.unit.helpers import add_token
from ansible_collections.imscloud.sharing.tests.unit.helpers import run_module as run

IAM = 'https://iam.example.test/v3'
TOKENS = IAM + '/auth/tokens'
IMS = 'https://ims.example.test'
OWNER = '0123456789abcdef0123456789abcdef'
CONSUMER = 'fedcba9876543210fedcba9876543210'
OTHER = 'aaaabbbbccccddddeeeeffff00001111'
PASSWORD = 'owner-pa55word-SECRET'
IMAGE_A = 'd164b5df-1bc3-4c3f-893e-3e471fd16e64'
IMAGE_B = '0b680482-acaa-4045-b14c-9a8c7dfe9c70'
IMAGE_C = '6596628c-42d4-4ff1-8660-8ea5ae61f243'


def token_response(mock, project_id):
    add_token(mock, TOKENS, project_id, IMS)


def auth(project_id=OWNER):
    return {'auth_url': IAM, 'username': 'alice', 'password': PASSWORD, 'user_domain_name': 'dom',
            'project_id': project_id}


def image(image_id, name, owner=OWNER, visibility='shared', **extra):
    return dict({'id': image_id, 'name': name, 'owner': owner, 'visibility': visibility, 'status': 'active',
                 'schema': '/v2/schemas/image', 'size': 1024}, **extra)


def member(image_id, member_id, status):
    return {'image_id': image_id, 'member_id': member_id, 'status': status, 'created_at': '2026-03-01T10:15:02Z',
            'updated_at': '2026-03-01T10:20:44Z', 'schema': '/v2/schemas/member'}


def members_url(image_id):
    return '%s/v2/images/%s/members' % (IMS, image_id)


def run_module(args, check_mode=False):
    return run(info.main, args, check_mode=check_mode)


def ims_requests(mock):
    """(method, path, query) of every request except the token request."""
    calls = []
    for call in mock.calls:
        if call.request.url.startswith(TOKENS):
            continue
        parts = urlsplit(call.request.url)
        calls.append((call.request.method, parts.path, dict((k, v[0]) for k, v in parse_qs(parts.query).items())))
    return calls


def documented_return():
    return yaml.safe_load(info.RETURN)


def owner_setup(http):
    token_response(http, OWNER)
    http.add(responses.GET, IMS + '/v2/images', json={'images': [image(IMAGE_A, 'golden-ubuntu')], 'schema': '/v2/schemas/images'})
    http.add(responses.GET, IMS + '/v2/images/' + IMAGE_B, json=image(IMAGE_B, 'golden-debian', visibility='private'))
    http.add(responses.GET, members_url(IMAGE_A), json={'members': [
        member(IMAGE_A, OTHER, 'pending'), member(IMAGE_A, CONSUMER, 'accepted')], 'schema': '/v2/schemas/members'})
    http.add(responses.GET, members_url(IMAGE_B), json={'members': [], 'schema': '/v2/schemas/members'})


# ---------------------------------------------------------------- owner view

def test_owner_view_lists_members_of_images_given_by_name_and_id(http):
    owner_setup(http)
    result = run_module({'auth': auth(), 'images': ['golden-ubuntu', IMAGE_B]})

    assert result['changed'] is False
    assert result['view'] == 'owner'
    assert result['project_id'] == OWNER
    assert result['images'] == [
        # members sorted by member id, with exactly the documented keys
        {'id': IMAGE_A, 'name': 'golden-ubuntu', 'owner': OWNER, 'visibility': 'shared', 'members': [
            {'member_id': OTHER, 'status': 'pending', 'created_at': '2026-03-01T10:15:02Z', 'updated_at': '2026-03-01T10:20:44Z'},
            {'member_id': CONSUMER, 'status': 'accepted', 'created_at': '2026-03-01T10:15:02Z',
             'updated_at': '2026-03-01T10:20:44Z'},
        ]},
        {'id': IMAGE_B, 'name': 'golden-debian', 'owner': OWNER, 'visibility': 'private', 'members': []},
    ]
    requests_sent = ims_requests(http)
    # the name is looked up among the caller's own images; the id is read directly; one member listing per image
    assert ('GET', '/v2/images', {'owner': OWNER, 'name': 'golden-ubuntu', 'limit': '1000'}) in requests_sent
    assert ('GET', '/v2/images/' + IMAGE_B, {}) in requests_sent
    assert sorted(r for r in requests_sent if r[1].endswith('/members')) == sorted([
        ('GET', '/v2/images/%s/members' % IMAGE_A, {}), ('GET', '/v2/images/%s/members' % IMAGE_B, {})])
    assert len(requests_sent) == 4


def test_owner_view_filters_members_by_status_but_keeps_every_image(http):
    owner_setup(http)
    result = run_module({'auth': auth(), 'images': ['golden-ubuntu', IMAGE_B], 'member_status': 'pending'})
    assert [(i['id'], [m['member_id'] for m in i['members']]) for i in result['images']] == [(IMAGE_A, [OTHER]), (IMAGE_B, [])]
    assert result['images'][0]['members'][0]['status'] == 'pending'


def test_owner_view_is_the_default_when_images_are_given_and_view_is_explicit_too(http):
    owner_setup(http)
    implicit = run_module({'auth': auth(), 'images': [IMAGE_B]})
    explicit = run_module({'auth': auth(), 'images': [IMAGE_B], 'view': 'owner'})
    assert implicit['view'] == explicit['view'] == 'owner'
    assert implicit['images'] == explicit['images']


def test_owner_view_in_check_mode_reads_and_reports_the_same(http):
    owner_setup(http)
    normal = run_module({'auth': auth(), 'images': ['golden-ubuntu', IMAGE_B]})
    checked = run_module({'auth': auth(), 'images': ['golden-ubuntu', IMAGE_B]}, check_mode=True)
    assert checked['changed'] is False
    assert checked['images'] == normal['images']


def test_owner_view_counts_a_duplicate_image_once_with_a_warning(http):
    owner_setup(http)
    result = run_module({'auth': auth(), 'images': [IMAGE_B, IMAGE_B, ' %s ' % IMAGE_B]})
    assert [i['id'] for i in result['images']] == [IMAGE_B]
    assert any('more than once' in warning for warning in result['warnings'])
    assert [r for r in ims_requests(http) if r[1].endswith('/members')] == [('GET', '/v2/images/%s/members' % IMAGE_B, {})]


def test_owner_view_warns_about_an_image_of_another_project(http):
    token_response(http, OWNER)
    http.add(responses.GET, IMS + '/v2/images/' + IMAGE_C, json=image(IMAGE_C, 'their-image', owner=OTHER))
    http.add(responses.GET, members_url(IMAGE_C), json={'members': [member(IMAGE_C, OWNER, 'accepted')]})
    result = run_module({'auth': auth(), 'images': [IMAGE_C]})
    assert result['images'][0]['members'] == [{'member_id': OWNER, 'status': 'accepted', 'created_at': '2026-03-01T10:15:02Z',
                                               'updated_at': '2026-03-01T10:20:44Z'}]
    assert any('owned by project %s' % OTHER in warning and 'view=recipient' in warning for warning in result['warnings'])


def test_owner_view_reads_members_concurrently_up_to_the_limit(http):
    token_response(http, OWNER)
    ids = ['d164b5df-1bc3-4c3f-893e-%012d' % number for number in range(12)]
    for image_id in ids:
        http.add(responses.GET, IMS + '/v2/images/' + image_id, json=image(image_id, 'img-' + image_id[-2:]))
        http.add(responses.GET, members_url(image_id), json={'members': [member(image_id, CONSUMER, 'pending')]})
    result = run_module({'auth': auth(), 'images': ids, 'concurrency': 3})
    assert [i['id'] for i in result['images']] == ids
    assert all(i['members'][0]['member_id'] == CONSUMER for i in result['images'])
    assert len(ims_requests(http)) == 24


def test_owner_view_missing_image_fails_with_the_reason(http):
    token_response(http, OWNER)
    http.add(responses.GET, IMS + '/v2/images', json={'images': []})
    result = run_module({'auth': auth(), 'images': ['no-such-image']})
    assert result['failed'] is True
    assert "image 'no-such-image' not found" in result['msg']
    assert OWNER in result['msg']
    assert not [r for r in ims_requests(http) if r[1].endswith('/members')]


def test_owner_view_ambiguous_name_fails_listing_the_ids(http):
    token_response(http, OWNER)
    http.add(responses.GET, IMS + '/v2/images', json={'images': [image(IMAGE_A, 'twin'), image(IMAGE_B, 'twin')]})
    result = run_module({'auth': auth(), 'images': ['twin']})
    assert result['failed'] is True
    assert 'ambiguous' in result['msg'] and IMAGE_A in result['msg'] and IMAGE_B in result['msg']


def test_owner_view_of_a_private_image_on_plain_glance_has_no_members(http):
    token_response(http, OWNER)
    http.add(responses.GET, IMS + '/v2/images/' + IMAGE_A, json=image(IMAGE_A, 'private-one', visibility='private'))
    http.add(responses.GET, members_url(IMAGE_A), status=403,
             json={'message': 'Only shared images have members.<br /><br />', 'code': '403 Forbidden', 'title': 'Forbidden'})
    result = run_module({'auth': auth(), 'images': [IMAGE_A]})
    assert 'failed' not in result
    assert result['images'] == [{'id': IMAGE_A, 'name': 'private-one', 'owner': OWNER, 'visibility': 'private', 'members': []}]
    assert any('lists members of shared images only' in warning for warning in result['warnings'])


def test_owner_view_a_403_with_an_ims_code_on_a_private_image_is_a_failure(http):
    token_response(http, OWNER)
    http.add(responses.GET, IMS + '/v2/images/' + IMAGE_A, json=image(IMAGE_A, 'private-one', visibility='private'))
    http.add(responses.GET, members_url(IMAGE_A), status=403,
             json={'error': {'code': 'IMG.0026', 'message': 'The role is invalid.'}})
    result = run_module({'auth': auth(), 'images': [IMAGE_A]})
    assert result['failed'] is True
    assert result['error']['code'] == 'IMG.0026'


def test_api_error_is_reported_with_status_code_and_request_id(http):
    token_response(http, OWNER)
    http.add(responses.GET, IMS + '/v2/images/' + IMAGE_A, json=image(IMAGE_A, 'golden-ubuntu'))
    http.add(responses.GET, members_url(IMAGE_A), status=403, headers={'X-Request-Id': 'req-403'},
             json={'message': 'Not allowed to list members for image %s.<br /><br />\n\n\n' % IMAGE_A,
                   'code': '403 Forbidden', 'title': 'Forbidden'})
    result = run_module({'auth': auth(), 'images': [IMAGE_A]})
    assert result['failed'] is True
    assert result['error']['status'] == 403
    assert result['error']['request_id'] == 'req-403'
    assert '<br' not in result['msg']
    assert PASSWORD not in json.dumps(result)


# ---------------------------------------------------------------- recipient view

def recipient_setup(http):
    token_response(http, CONSUMER)
    listings = {
        'pending': [image(IMAGE_B, 'zeta')],
        'accepted': [image(IMAGE_A, 'alpha'), image(IMAGE_C, 'alpha', owner=OTHER)],
        'rejected': [],
    }
    for status, images in listings.items():
        http.add(responses.GET, IMS + '/v2/images', json={'images': images, 'schema': '/v2/schemas/images'},
                 match=[responses.matchers.query_param_matcher(
                     {'visibility': 'shared', 'member_status': status, 'limit': '1000'})])


def test_recipient_view_lists_every_status_with_one_listing_per_status(http):
    recipient_setup(http)
    result = run_module({'auth': auth(CONSUMER)})

    assert result['changed'] is False
    assert result['view'] == 'recipient'
    assert result['project_id'] == CONSUMER
    # sorted by name, then id; each image carries the status of the listing it was found in
    assert result['images'] == [
        {'id': IMAGE_C, 'name': 'alpha', 'owner': OTHER, 'visibility': 'shared', 'member_status': 'accepted'},
        {'id': IMAGE_A, 'name': 'alpha', 'owner': OWNER, 'visibility': 'shared', 'member_status': 'accepted'},
        {'id': IMAGE_B, 'name': 'zeta', 'owner': OWNER, 'visibility': 'shared', 'member_status': 'pending'},
    ]
    assert sorted(query['member_status'] for _m, _p, query in ims_requests(http)) == ['accepted', 'pending', 'rejected']
    assert len(ims_requests(http)) == 3


def test_recipient_view_with_one_status_costs_one_listing(http):
    recipient_setup(http)
    result = run_module({'auth': auth(CONSUMER), 'view': 'recipient', 'member_status': 'pending'})
    assert [(i['id'], i['member_status']) for i in result['images']] == [(IMAGE_B, 'pending')]
    assert ims_requests(http) == [('GET', '/v2/images', {'visibility': 'shared', 'member_status': 'pending', 'limit': '1000'})]


def test_recipient_view_leaves_out_images_the_caller_owns(http):
    token_response(http, CONSUMER)
    http.add(responses.GET, IMS + '/v2/images', json={'images': [
        image(IMAGE_A, 'mine', owner=CONSUMER), image(IMAGE_B, 'theirs', owner=OWNER)]})
    result = run_module({'auth': auth(CONSUMER), 'member_status': 'accepted'})
    assert [i['id'] for i in result['images']] == [IMAGE_B]


def test_recipient_view_follows_pages(http):
    token_response(http, CONSUMER)
    first = [image('d164b5df-1bc3-4c3f-893e-%012d' % n, 'img-%03d' % n) for n in range(100)]
    second = [image('d164b5df-1bc3-4c3f-893e-%012d' % n, 'img-%03d' % n) for n in range(100, 130)]
    http.add(responses.GET, IMS + '/v2/images', json={'images': first,
                                                      'next': '/v2/images?visibility=shared&member_status=rejected&limit=1000'
                                                              '&marker=' + first[-1]['id']},
             match=[responses.matchers.query_param_matcher({'visibility': 'shared', 'member_status': 'rejected', 'limit': '1000'})])
    http.add(responses.GET, IMS + '/v2/images', json={'images': second},
             match=[responses.matchers.query_param_matcher({'visibility': 'shared', 'member_status': 'rejected', 'limit': '1000',
                                                            'marker': first[-1]['id']})])
    result = run_module({'auth': auth(CONSUMER), 'member_status': 'rejected'})
    assert len(result['images']) == 130
    assert {i['member_status'] for i in result['images']} == {'rejected'}


def test_recipient_view_an_image_whose_status_changed_between_listings_appears_once():
    listings = [('pending', [image(IMAGE_A, 'moving')]), ('accepted', [image(IMAGE_A, 'moving')]), ('rejected', [])]
    assert info.recipient_images(listings) == [
        {'id': IMAGE_A, 'name': 'moving', 'owner': OWNER, 'visibility': 'shared', 'member_status': 'accepted'}]


# ---------------------------------------------------------------- validation: nothing is sent

@pytest.mark.parametrize('args, message', [
    ({'view': 'recipient', 'images': ['golden']}, 'images applies only to the owner view'),
    ({'view': 'owner', 'images': []}, 'images is empty'),
    ({'selector': {'newest': 0}}, 'selector.newest must be a whole number of at least 1'),
    ({'selector': {'nme': 'golden-*'}}, 'nme'),
    ({'selector': {'name_regex': '(golden'}}, "selector.name_regex: '(golden' is not a valid regular expression"),
    ({'selector': {'family_pattern': '-[0-9]+$'}}, 'selector.family_pattern needs newest'),
    ({'images': ['golden'], 'selector': {'name': 'golden*'}}, 'mutually exclusive'),
    ({'images': ['golden', '  ']}, 'images: item 1 is empty'),
    ({'images': ['golden'], 'concurrency': 0}, 'concurrency must be between 1 and 64, got 0'),
    ({'images': ['golden'], 'concurrency': 65}, 'concurrency must be between 1 and 64, got 65'),
    ({'member_status': 'waiting'}, 'member_status'),
    ({'view': 'sideways'}, 'view'),
])
def test_bad_input_fails_before_any_request(http, args, message):
    token_response(http, OWNER)
    result = run_module(dict(args, auth=auth()))
    assert result['failed'] is True
    assert message in result['msg']
    assert len(http.calls) == 0


def test_bad_connection_fails_before_any_request(http):
    result = run_module({'auth': {'auth_url': IAM, 'username': 'alice', 'password': PASSWORD}, 'images': ['golden']})
    assert result['failed'] is True
    assert 'domain' in result['msg']
    assert PASSWORD not in json.dumps(result)
    assert len(http.calls) == 0


# ---------------------------------------------------------------- RETURN matches the results

def _check_documented(value, doc, where):
    """Every key of value is documented in doc (a RETURN 'contains' mapping), recursively."""
    assert set(value) <= set(doc), '%s: undocumented keys %s' % (where, sorted(set(value) - set(doc)))
    for key, item in value.items():
        spec = doc[key]
        if isinstance(item, list) and item and isinstance(item[0], dict):
            assert spec.get('elements') == 'dict', where + '.' + key
            for element in item:
                _check_documented(element, spec['contains'], where + '.' + key)


def test_return_documents_exactly_the_keys_of_both_views(http):
    owner_setup(http)
    owner = run_module({'auth': auth(), 'images': ['golden-ubuntu', IMAGE_B]})
    http.reset()
    recipient_setup(http)
    recipient = run_module({'auth': auth(CONSUMER)})
    documented = documented_return()
    internal = {'changed', 'invocation', 'warnings', 'deprecations'}

    for result in (owner, recipient):
        keys = set(result) - internal
        # selection is returned only when the images were not named
        # request_trace only when the trace is on
        assert keys == set(documented) - {'selection', 'request_trace'}, sorted(keys ^ set(documented))
        _check_documented(dict((k, result[k]) for k in keys), documented, 'result')

    image_doc = documented['images']['contains']
    owner_only = set(k for k, v in image_doc.items() if v.get('returned') == 'owner view')
    recipient_only = set(k for k, v in image_doc.items() if v.get('returned') == 'recipient view')
    common = set(image_doc) - owner_only - recipient_only
    assert owner_only == {'members'} and recipient_only == {'member_status'}
    assert all(set(i) == common | owner_only for i in owner['images'])
    assert all(set(i) == common | recipient_only for i in recipient['images'])
    assert set(owner['images'][0]['members'][0]) == set(image_doc['members']['contains'])


# ---------------------------------------------------------------- the audit and selectors

def audit_setup(http, count=12):
    """count images of the owner (plus a public one and an image of another owner), every third one with members."""
    token_response(http, OWNER)
    ids = ['d164b5df-1bc3-4c3f-893e-%012d' % number for number in range(count)]
    listed = [image(image_id, 'img-%02d' % (count - number), visibility='shared' if number % 3 == 0 else 'private')
              for number, image_id in enumerate(ids)]
    listed.append(image(IMAGE_C, 'public-one', visibility='public'))
    http.add(responses.GET, IMS + '/v2/images', json={'images': listed},
             match=[responses.matchers.query_param_matcher({'owner': OWNER, 'limit': '1000'})])
    for number, image_id in enumerate(ids):
        rows = [member(image_id, CONSUMER, 'accepted'), member(image_id, OTHER, 'pending')] if number % 3 == 0 else []
        http.add(responses.GET, members_url(image_id), json={'members': rows})
    return ids


def test_the_audit_returns_every_image_with_members_and_flat_share_rows(http):
    ids = audit_setup(http)
    result = run_module({'auth': auth(), 'view': 'owner', 'concurrency': 4})
    shared = [ids[n] for n in range(0, 12, 3)]
    # sorted by name: img-12 (ids[0]), img-09 (ids[3]), ...; only the images with members
    assert sorted(i['id'] for i in result['images']) == sorted(shared)
    assert [i['name'] for i in result['images']] == sorted(i['name'] for i in result['images'])
    assert result['selection'] == {'filters': None, 'matched': 13}
    assert len(result['shares']) == 8
    first = result['images'][0]
    assert result['shares'][:2] == [
        {'image_id': first['id'], 'image_name': first['name'], 'owner': OWNER, 'member_id': OTHER, 'status': 'pending',
         'created_at': '2026-03-01T10:15:02Z', 'updated_at': '2026-03-01T10:20:44Z'},
        {'image_id': first['id'], 'image_name': first['name'], 'owner': OWNER, 'member_id': CONSUMER, 'status': 'accepted',
         'created_at': '2026-03-01T10:15:02Z', 'updated_at': '2026-03-01T10:20:44Z'}]
    # one listing, one member read per image that can have members (not the public one)
    sent = ims_requests(http)
    assert [r for r in sent if r[1] == '/v2/images'] == [('GET', '/v2/images', {'owner': OWNER, 'limit': '1000'})]
    assert sorted(r[1] for r in sent if r[1].endswith('/members')) == sorted('/v2/images/%s/members' % i for i in ids)
    assert len(sent) == 13


def test_the_audit_with_include_unshared_and_a_member_status(http):
    ids = audit_setup(http, count=3)
    everything = run_module({'auth': auth(), 'view': 'owner', 'include_unshared': True})
    assert sorted(i['id'] for i in everything['images']) == sorted(ids + [IMAGE_C])
    pending = run_module({'auth': auth(), 'view': 'owner', 'member_status': 'pending'})
    assert [(i['id'], [m['member_id'] for m in i['members']]) for i in pending['images']] == [(ids[0], [OTHER])]
    assert [row['status'] for row in pending['shares']] == ['pending']


def builds(owner=OWNER):
    return [
        image('00000000-0000-4000-8000-000000000001', 'golden-ubuntu-20261117', owner=owner, created_at='2026-11-17T03:00:00Z', tags=['golden']),
        image('00000000-0000-4000-8000-000000000002', 'golden-ubuntu-20261124', owner=owner, created_at='2026-11-24T03:00:00Z', tags=['golden']),
        image('00000000-0000-4000-8000-000000000003', 'golden-ubuntu-20261201', owner=owner, created_at='2026-12-01T03:00:00Z', tags=['golden']),
        image('00000000-0000-4000-8000-000000000004', 'golden-rhel-20261201', owner=owner, created_at='2026-12-01T04:00:00Z', tags=['golden']),
        image('00000000-0000-4000-8000-000000000005', 'golden-rhel-test', owner=owner, created_at='2026-12-02T04:00:00Z', tags=[]),
    ]


def test_owner_selector_sends_server_filters_and_keeps_the_newest_of_each_family(http):
    token_response(http, OWNER)
    http.add(responses.GET, IMS + '/v2/images', json={'images': builds()})
    for build in builds():
        http.add(responses.GET, members_url(build['id']), json={'members': [member(build['id'], CONSUMER, 'accepted')]})
    selector = {'name': 'golden-*', 'tags': ['golden'], 'newest': 1, 'family_pattern': '-[0-9]{8}$'}
    result = run_module({'auth': auth(), 'selector': selector})
    assert result['view'] == 'owner'
    assert [i['name'] for i in result['images']] == ['golden-rhel-20261201', 'golden-ubuntu-20261201']
    assert result['selection']['matched'] == 2
    assert "tags include golden" in result['selection']['filters']
    listing = [r for r in ims_requests(http) if r[1] == '/v2/images']
    assert listing == [('GET', '/v2/images', {'owner': OWNER, 'status': 'active', 'tag': 'golden', 'sort_key': 'created_at',
                                              'sort_dir': 'desc', 'limit': '1000'})]
    assert len([r for r in ims_requests(http) if r[1].endswith('/members')]) == 2


def test_recipient_selector_filters_the_shared_images(http):
    token_response(http, CONSUMER)
    theirs = builds(owner=OWNER)
    for status, listed in (('pending', theirs[:2]), ('accepted', theirs[2:]), ('rejected', [])):
        http.add(responses.GET, IMS + '/v2/images', json={'images': listed},
                 match=[responses.matchers.query_param_matcher({'visibility': 'shared', 'member_status': status, 'status': 'active',
                                                                'sort_key': 'created_at', 'sort_dir': 'desc', 'limit': '1000'})])
    result = run_module({'auth': auth(CONSUMER), 'view': 'recipient', 'selector': {'name': 'golden-ubuntu-*', 'newest': 2}})
    assert [(i['name'], i['member_status']) for i in result['images']] == [
        ('golden-ubuntu-20261201', 'accepted'), ('golden-ubuntu-20261124', 'pending')]
    assert [row['member_id'] for row in result['shares']] == [CONSUMER, CONSUMER]
    assert len(ims_requests(http)) == 3


def test_an_empty_selection_says_so_and_fails_only_when_asked(http):
    token_response(http, OWNER)
    http.add(responses.GET, IMS + '/v2/images', json={'images': builds()})
    selector = {'name': 'windows-*'}
    empty = run_module({'auth': auth(), 'selector': selector})
    assert 'failed' not in empty
    assert empty['images'] == [] and empty['shares'] == []
    assert empty['selection'] == {'filters': "name matches 'windows-*', status active", 'matched': 0}
    failed = run_module({'auth': auth(), 'selector': selector, 'fail_on_empty': True})
    assert failed['failed'] is True
    assert failed['msg'] == "selector matched no image (filters: name matches 'windows-*', status active); fail_on_empty is set"
