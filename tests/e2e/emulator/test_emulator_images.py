# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Images: GET by id, listing filters used for name resolution, pagination, both modes, POST/PATCH/DELETE."""

from urllib.parse import parse_qs, urlsplit

import pytest

from emutest import DUPLICATE_IDS, IMAGES, OWNER_IMAGE_IDS, PROJECTS

IMAGE = IMAGES['shareable-01']
CONSUMER = PROJECTS['consumer']
JSON_PATCH = {'Content-Type': 'application/openstack-images-v2.1-json-patch'}


def listed_ids(cloud, who='owner', **params):
    response = cloud.get('/v2/images', who=who, params=params)
    assert response.status_code == 200, response.text
    return [image['id'] for image in response.json()['images']]


def listed_non_public(cloud, who, **params):
    """Listed ids without the public image, which every project sees."""
    return [image_id for image_id in listed_ids(cloud, who, **params) if image_id != IMAGES['public-image']]


def follow_pages(cloud, first_url, who='owner'):
    """All pages from first_url by following 'next'; returns the list of pages (lists of ids)."""
    pages, url = [], first_url
    while url:
        body = cloud.get(url, who=who).json()
        pages.append([image['id'] for image in body['images']])
        url = body.get('next')
        assert len(pages) < 50
    return pages


def test_image_details_and_imagetype(cloud):
    image = cloud.get('/v2/images/' + IMAGE).json()
    assert image['id'] == IMAGE and image['name'] == 'shareable-01' and image['owner'] == PROJECTS['owner']
    assert image['visibility'] == 'private' and image['__imagetype'] == 'private' and image['status'] == 'active'
    assert cloud.get('/v2/images/' + IMAGES['public-image']).json()['__imagetype'] == 'gold'
    assert cloud.get('/v2/images/' + IMAGES['full-ecs-image']).json()['__whole_image'] == 'true'
    assert '__system__cmkid' in cloud.get('/v2/images/' + IMAGES['encrypted-key-ok']).json()
    cloud.add_member(IMAGE, CONSUMER)
    shared = cloud.get('/v2/images/' + IMAGE).json()
    assert shared['__imagetype'] == 'shared' and shared['visibility'] == 'shared'
    as_member = cloud.get('/v2/images/' + IMAGE, who='consumer').json()
    assert as_member['__imagetype'] == 'shared'
    cloud.emulator.configure(otc_shared_visibility='private')
    kept = cloud.get('/v2/images/' + IMAGE).json()
    assert kept['visibility'] == 'private' and kept['__imagetype'] == 'shared'


def test_owner_default_list_and_name_filters(cloud):
    assert sorted(listed_ids(cloud)) == sorted(OWNER_IMAGE_IDS)
    assert listed_ids(cloud, name='shareable-03') == [IMAGES['shareable-03']]
    assert sorted(listed_ids(cloud, name='duplicate-name')) == sorted(DUPLICATE_IDS)
    assert listed_ids(cloud, name='bild-grün-日本') == [IMAGES['bild-grün-日本']]
    assert listed_ids(cloud, name='shareable') == []  # exact match only
    assert listed_ids(cloud, owner=PROJECTS['owner'], name='small-quota') == [IMAGES['small-quota']]
    assert listed_ids(cloud, who='other', name='shareable-03') == []
    assert listed_ids(cloud, who='other', owner=PROJECTS['other']) == [IMAGES['other-private']]


def test_private_filter_excludes_shared_images_in_otc_mode(cloud):
    cloud.add_member(IMAGE, CONSUMER)
    assert IMAGE not in listed_ids(cloud, visibility='private')
    assert IMAGE in listed_ids(cloud, visibility='shared')
    assert IMAGES['shareable-02'] in listed_ids(cloud, visibility='private')
    assert IMAGE in listed_ids(cloud, owner=PROJECTS['owner'])


def test_recipient_lists_by_member_status(cloud):
    cloud.add_member(IMAGE, CONSUMER)
    pending = dict(visibility='shared', member_status='pending')
    assert listed_ids(cloud, who='consumer') == [IMAGES['public-image']]  # pending shares are not in the default list
    assert listed_ids(cloud, who='consumer', **pending) == [IMAGE]
    assert listed_ids(cloud, who='consumer', visibility='shared', member_status='all') == [IMAGE]
    cloud.set_status(IMAGE, CONSUMER, 'accepted', who='consumer')
    assert listed_non_public(cloud, 'consumer') == [IMAGE]
    assert listed_ids(cloud, who='consumer', visibility='shared', member_status='accepted', __imagetype='shared') == [IMAGE]
    assert listed_ids(cloud, who='consumer', name='shareable-01', visibility='shared', member_status='all') == [IMAGE]
    cloud.set_status(IMAGE, CONSUMER, 'rejected', who='consumer')
    assert listed_non_public(cloud, 'consumer') == []
    assert listed_ids(cloud, who='consumer', visibility='shared', member_status='rejected') == [IMAGE]


@pytest.mark.parametrize('params, message', [
    ({'member_status': 'bogus'}, 'Invalid status: bogus'),
    ({'visibility': 'everything'}, 'Invalid visibility value: everything'),
    ({'limit': 'ten'}, 'limit param must be an integer'),
    ({'limit': '-1'}, 'limit param must be positive'),
    ({'marker': '0fffffff-0000-4000-8000-00000000dead'}, 'No image found with ID 0fffffff-0000-4000-8000-00000000dead'),
    ({'sort_dir': 'up'}, 'Invalid sort direction: up'),
])
def test_bad_list_parameters_are_400(cloud, params, message):
    response = cloud.get('/v2/images', params=params)
    assert response.status_code == 400
    assert response.json()['message'].startswith(message)


def test_member_status_all_can_be_switched_off(cloud):
    cloud.emulator.configure(member_status_all=False)
    assert cloud.get('/v2/images', params={'visibility': 'shared', 'member_status': 'all'}).status_code == 400


def test_pagination_follows_next_links(cloud):
    everything = listed_ids(cloud)
    assert len(everything) == 21
    pages = follow_pages(cloud, '/v2/images?limit=5')
    assert [len(page) for page in pages] == [5, 5, 5, 5, 1]
    assert sum(pages, []) == everything
    # Like Glance, a full last page still has "next", which then yields an empty page.
    pages = follow_pages(cloud, '/v2/images?limit=7')
    assert [len(page) for page in pages] == [7, 7, 7, 0]
    first = cloud.get('/v2/images', params={'limit': 5, 'name': 'x'}).json()
    assert first['first'] == '/v2/images?limit=5&name=x'
    body = cloud.get('/v2/images', params={'limit': 3, 'sort_key': 'name', 'sort_dir': 'asc'}).json()
    assert [i['name'] for i in body['images']] == ['bild-grün-日本', 'duplicate-name', 'duplicate-name']
    query = parse_qs(urlsplit(body['next']).query)
    assert query['sort_key'] == ['name'] and query['limit'] == ['3'] and query['marker'] == [body['images'][-1]['id']]


def test_default_page_size_is_25(cloud):
    for n in range(5):
        assert cloud.call('POST', '/v2/images', json={'name': 'extra-%d' % n}).status_code == 201
    body = cloud.get('/v2/images').json()
    assert len(body['images']) == 25 and 'next' in body
    assert len(cloud.get(body['next']).json()['images']) == 1


def test_cloudimages_listing(cloud):
    body = cloud.get('/v2/cloudimages', params={'name': 'shareable-02'}).json()
    assert [i['id'] for i in body['images']] == [IMAGES['shareable-02']] and 'next' not in body
    assert len(cloud.get('/v2/cloudimages').json()['images']) == 21  # default limit 500
    cloud.emulator.configure(mode='glance')
    assert cloud.get('/v2/cloudimages').status_code == 404


def test_create_and_delete_image(cloud):
    created = cloud.call('POST', '/v2/images', json={'name': 'fresh', 'disk_format': 'qcow2'})
    assert created.status_code == 201
    image = created.json()
    assert image['visibility'] == 'private' and image['status'] == 'queued' and image['owner'] == PROJECTS['owner']
    assert cloud.call('POST', '/v2/images', json={'name': 'x', 'visibility': 'shared'}).status_code == 400
    assert cloud.call('POST', '/v2/images', json={'name': 'x', 'visibility': 'public'}).status_code == 403
    assert cloud.call('DELETE', '/v2/images/' + image['id'], who='other').status_code == 404
    cloud.add_member(image['id'], CONSUMER)
    assert cloud.call('DELETE', '/v2/images/' + image['id'], who='consumer').status_code == 403
    assert cloud.call('DELETE', '/v2/images/' + image['id']).status_code == 204
    assert cloud.get('/v2/images/' + image['id']).status_code == 404
    assert cloud.member_rows(image['id']) == {}


def test_glance_mode_only_shared_images_have_members(cloud):
    cloud.emulator.configure(mode='glance')
    refused = cloud.add_member(IMAGE, CONSUMER)
    assert refused.status_code == 403
    assert refused.json()['message'].startswith('Not allowed to create members for image %s.' % IMAGE)
    listing = cloud.get('/v2/images/%s/members' % IMAGE)
    assert listing.status_code == 403
    assert listing.json()['message'].startswith('Not allowed to list members for image %s: Only shared images have members.' % IMAGE)
    assert cloud.add_member(IMAGES['public-image'], CONSUMER).status_code == 403
    assert cloud.add_member(IMAGES['glance-shared-01'], CONSUMER).status_code == 200
    image = cloud.get('/v2/images/' + IMAGE).json()
    assert '__imagetype' not in image  # a Glance image has no OTC extension fields
    created = cloud.call('POST', '/v2/images', json={'name': 'g'})
    assert created.status_code == 201 and created.json()['visibility'] == 'shared'


def test_glance_mode_patch_visibility(cloud):
    cloud.emulator.configure(mode='glance')
    patch = [{'op': 'replace', 'path': '/visibility', 'value': 'shared'}]
    wrong_type = cloud.call('PATCH', '/v2/images/' + IMAGE, json=patch)
    assert wrong_type.status_code == 415
    assert wrong_type.json()['message'].startswith('The request media type application/json is not supported by this server.')
    assert 'application/openstack-images-v2.1-json-patch' in wrong_type.headers['Accept-Patch']
    assert cloud.call('PATCH', '/v2/images/' + IMAGE, json=patch, headers=JSON_PATCH, who='consumer').status_code == 404
    patched = cloud.call('PATCH', '/v2/images/' + IMAGE, json=patch, headers=JSON_PATCH)
    assert patched.status_code == 200 and patched.json()['visibility'] == 'shared'
    assert cloud.add_member(IMAGE, CONSUMER).status_code == 200
    assert cloud.get('/v2/images/' + IMAGE, who='consumer').status_code == 200
    # Back to private: members are kept but hidden; the member loses sight of the image.
    back = [{'op': 'replace', 'path': '/visibility', 'value': 'private'}]
    assert cloud.call('PATCH', '/v2/images/' + IMAGE, json=back, headers=JSON_PATCH).status_code == 200
    assert cloud.get('/v2/images/%s/members' % IMAGE).status_code == 403
    hidden_row = cloud.get('/v2/images/%s/members/%s' % (IMAGE, CONSUMER))
    assert hidden_row.status_code == 404 and hidden_row.json()['message'].startswith('Only shared images have members.')
    assert cloud.call('DELETE', '/v2/images/%s/members/%s' % (IMAGE, CONSUMER)).status_code == 403
    assert cloud.get('/v2/images/' + IMAGE, who='consumer').status_code == 404
    assert cloud.call('PATCH', '/v2/images/' + IMAGE, json=patch, headers=JSON_PATCH).status_code == 200
    assert [m['member_id'] for m in cloud.get('/v2/images/%s/members' % IMAGE).json()['members']] == [CONSUMER]
    public = [{'op': 'replace', 'path': '/visibility', 'value': 'public'}]
    assert cloud.call('PATCH', '/v2/images/' + IMAGE, json=public, headers=JSON_PATCH).status_code == 403
    bad = [{'op': 'replace', 'path': '/visibility', 'value': 'nope'}]
    assert cloud.call('PATCH', '/v2/images/' + IMAGE, json=bad, headers=JSON_PATCH).status_code == 400
    renamed = cloud.call('PATCH', '/v2/images/' + IMAGE, json=[{'op': 'replace', 'path': '/name', 'value': 'renamed'}],
                         headers=JSON_PATCH)
    assert renamed.json()['name'] == 'renamed'


def test_glance_mode_lists_like_glance(cloud):
    cloud.emulator.configure(mode='glance')
    shared = IMAGES['glance-shared-01']
    cloud.add_member(shared, CONSUMER)
    assert listed_non_public(cloud, 'consumer') == []
    assert listed_non_public(cloud, 'consumer', member_status='pending') == [shared]
    assert listed_ids(cloud, who='consumer', visibility='shared', member_status='all') == [shared]
    assert IMAGE in listed_ids(cloud, visibility='private')
