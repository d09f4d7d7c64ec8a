# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Native (Glance v2) member API: the owner / member / outsider table of ims_api.md section 2.8, status codes, bodies."""

import re

import pytest
import requests

from emutest import IMAGES, PROJECTS, UNKNOWN_IMAGE

IMAGE = IMAGES['shareable-01']
MEMBERS = '/v2/images/%s/members' % IMAGE
CONSUMER, CONSUMER2 = PROJECTS['consumer'], PROJECTS['consumer2']
MEMBER_KEYS = {'status', 'created_at', 'updated_at', 'image_id', 'member_id', 'schema'}
TIMESTAMP = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')


def webob_message(response):
    body = response.json()
    assert set(body) == {'code', 'message', 'title'}
    assert body['message'].endswith('<br /><br />\n\n\n')
    assert body['code'].startswith(str(response.status_code) + ' ')
    return body['message'][:-len('<br /><br />\n\n\n')]


@pytest.fixture
def shared(cloud):
    """shareable-01 shared with consumer and consumer2 (both pending)."""
    assert cloud.add_member(IMAGE, CONSUMER).status_code == 200
    assert cloud.add_member(IMAGE, CONSUMER2).status_code == 200
    return cloud


def test_owner_adds_a_member(cloud):
    response = cloud.add_member(IMAGE, CONSUMER)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == MEMBER_KEYS
    assert body['status'] == 'pending' and body['member_id'] == CONSUMER and body['image_id'] == IMAGE
    assert body['schema'] == '/v2/schemas/member'
    assert TIMESTAMP.match(body['created_at']) and TIMESTAMP.match(body['updated_at'])
    assert response.headers['Content-Type'] == 'application/json'


def test_post_status_is_ignored_and_int_member_is_echoed(cloud):
    response = cloud.call('POST', MEMBERS, json={'member': CONSUMER, 'status': 'accepted'})
    assert response.json()['status'] == 'pending'
    as_int = cloud.call('POST', '/v2/images/%s/members' % IMAGES['shareable-02'], json={'member': 123})
    assert as_int.status_code == 200 and as_int.json()['member_id'] == 123
    listed = cloud.get('/v2/images/%s/members' % IMAGES['shareable-02']).json()['members']
    assert [m['member_id'] for m in listed] == ['123']


def test_member_and_outsider_cannot_add(shared):
    refused = shared.add_member(IMAGE, PROJECTS['other'], who='consumer')
    assert refused.status_code == 403
    assert webob_message(refused) == 'You are not authorized to complete add_member action.'
    hidden = shared.add_member(IMAGE, PROJECTS['other'], who='other')
    assert hidden.status_code == 404
    assert webob_message(hidden) == 'Image %s not found.' % IMAGE


def test_list_owner_sees_all_member_sees_own_row_outsider_404(shared):
    owner = shared.get(MEMBERS)
    assert owner.status_code == 200
    assert owner.json()['schema'] == '/v2/schemas/members'
    assert sorted(m['member_id'] for m in owner.json()['members']) == sorted([CONSUMER, CONSUMER2])
    member = shared.get(MEMBERS, who='consumer')
    assert [m['member_id'] for m in member.json()['members']] == [CONSUMER]
    assert shared.get(MEMBERS, who='other').status_code == 404


def test_show_member(shared):
    assert shared.get(MEMBERS + '/' + CONSUMER2).json()['member_id'] == CONSUMER2
    assert shared.get(MEMBERS + '/' + CONSUMER, who='consumer').json()['member_id'] == CONSUMER
    not_own = shared.get(MEMBERS + '/' + CONSUMER2, who='consumer')
    assert not_own.status_code == 404
    assert webob_message(not_own) == '%s not found in the member list of the image %s.' % (CONSUMER2, IMAGE)
    assert shared.get(MEMBERS + '/' + CONSUMER, who='other').status_code == 404


def test_update_member(shared):
    owner = shared.set_status(IMAGE, CONSUMER, 'accepted', who='owner')
    assert owner.status_code == 403
    assert webob_message(owner) == 'You are not authorized to complete modify_member action.'
    assert shared.set_status(IMAGE, CONSUMER2, 'accepted', who='consumer').status_code == 404
    assert shared.set_status(IMAGE, CONSUMER, 'accepted', who='other').status_code == 404
    mine = shared.set_status(IMAGE, CONSUMER, 'accepted', who='consumer')
    assert mine.status_code == 200 and mine.json()['status'] == 'accepted' and set(mine.json()) == MEMBER_KEYS


def test_status_moves_from_any_value_to_any_other(shared):
    for status in ('accepted', 'rejected', 'pending', 'rejected', 'accepted', 'accepted', 'pending', 'accepted'):
        response = shared.set_status(IMAGE, CONSUMER, status, who='consumer')
        assert response.status_code == 200 and response.json()['status'] == status
    assert shared.member_rows(IMAGE)[(IMAGE, CONSUMER)] == 'accepted'


def test_remove_member(shared):
    assert shared.call('DELETE', MEMBERS + '/' + CONSUMER, who='consumer').status_code == 403
    assert webob_message(shared.call('DELETE', MEMBERS + '/' + CONSUMER, who='consumer')) == \
        'You are not authorized to complete delete_member action.'
    assert shared.call('DELETE', MEMBERS + '/' + CONSUMER, who='other').status_code == 404
    removed = shared.call('DELETE', MEMBERS + '/' + CONSUMER)
    assert removed.status_code == 204
    assert removed.content == b'' and 'Content-Type' not in removed.headers
    again = shared.call('DELETE', MEMBERS + '/' + CONSUMER)
    assert again.status_code == 404
    assert webob_message(again) == '%s not found in the member list of the image %s.' % (CONSUMER, IMAGE)
    # After removal the former member sees nothing.
    image = shared.get('/v2/images/' + IMAGE, who='consumer')
    assert image.status_code == 404 and webob_message(image) == 'No image found with ID %s' % IMAGE
    assert webob_message(shared.get(MEMBERS + '/' + CONSUMER, who='consumer')) == 'Image %s not found.' % IMAGE
    # Re-adding starts again at pending.
    assert shared.add_member(IMAGE, CONSUMER).json()['status'] == 'pending'


def test_duplicate_is_409(shared):
    response = shared.add_member(IMAGE, CONSUMER)
    assert response.status_code == 409
    assert webob_message(response) == 'Member %s is duplicated for image %s' % (CONSUMER, IMAGE)


def test_member_quota_is_413(cloud):
    small = IMAGES['small-quota']
    assert [cloud.add_member(small, p).status_code for p in (CONSUMER, CONSUMER2)] == [200, 200]
    response = cloud.add_member(small, PROJECTS['other'])
    assert response.status_code == 413
    assert webob_message(response) == ('Image member limit exceeded for image %s: The limit has been exceeded on the number of allowed '
                                       'image members for this image. Attempted: 3, Maximum: 2:' % small)
    assert response.json()['title'] == 'Request Entity Too Large'


def test_full_ecs_image_has_10_members_at_most(cloud):
    image = IMAGES['full-ecs-image']
    codes = [cloud.add_member(image, '%032x' % n).status_code for n in range(1, 11)]
    assert codes == [200] * 10
    assert cloud.add_member(image, '%032x' % 11).status_code == 413


@pytest.mark.parametrize('body, message', [
    (None, 'Body expected in request.'),
    ({}, 'Member to be added not specified'),
    ({'foo': 'x'}, 'Member to be added not specified'),
    ({'member': ''}, "Member can't be empty"),
    (['x'], 'Expected a member in the form: {"member": "image_id"}'),
])
def test_add_member_bad_bodies_are_400(cloud, body, message):
    response = cloud.call('POST', MEMBERS, json=body)
    assert response.status_code == 400
    assert webob_message(response) == message


@pytest.mark.parametrize('body, message', [
    ({'foo': 'bar'}, 'Status not specified'),
    ({'status': 'bogus'}, 'Incorrect request: Status must be "pending", "accepted" or "rejected".'),
    ({'status': 'Accepted'}, 'Incorrect request: Status must be "pending", "accepted" or "rejected".'),
])
def test_update_member_bad_bodies_are_400(shared, body, message):
    response = shared.call('PUT', MEMBERS + '/' + CONSUMER, who='consumer', json=body)
    assert response.status_code == 400
    assert webob_message(response) == message


def test_unknown_image_and_member_are_404(cloud):
    response = cloud.add_member(UNKNOWN_IMAGE, CONSUMER)
    assert response.status_code == 404 and webob_message(response) == 'Image %s not found.' % UNKNOWN_IMAGE
    for method in ('GET', 'PUT', 'DELETE'):
        missing = cloud.call(method, MEMBERS + '/does-not-exist', json={'status': 'accepted'} if method == 'PUT' else None)
        assert missing.status_code == 404
        assert webob_message(missing) == 'does-not-exist not found in the member list of the image %s.' % IMAGE


def test_member_sees_image_by_id_in_any_status(shared):
    assert shared.get('/v2/images/' + IMAGE, who='other').status_code == 404
    for status in ('pending', 'rejected', 'accepted'):
        shared.set_status(IMAGE, CONSUMER, status, who='consumer')
        assert shared.get('/v2/images/' + IMAGE, who='consumer').status_code == 200


def test_otc_mode_refuses_public_and_unauthorised_encrypted_images(cloud):
    public = cloud.add_member(IMAGES['public-image'], CONSUMER)
    assert public.status_code == 403
    assert webob_message(public) == 'Not allowed to create members for image %s.' % IMAGES['public-image']
    locked = cloud.add_member(IMAGES['encrypted-no-key'], CONSUMER)
    assert locked.status_code == 403 and 'KMS key' in webob_message(locked)
    assert cloud.add_member(IMAGES['encrypted-key-ok'], CONSUMER).status_code == 200
    # Glance lets the owner add its own project.
    assert cloud.add_member(IMAGES['shareable-02'], PROJECTS['owner']).status_code == 200


def test_error_format_follows_accept(shared):
    duplicate = {'member': CONSUMER}
    as_json = shared.call('POST', MEMBERS, json=duplicate, accept='application/json')
    assert as_json.headers['Content-Type'] == 'application/json'
    assert as_json.json()['code'] == '409 Conflict' and as_json.json()['title'] == 'Conflict'
    # requests sends "Accept: */*" unless told otherwise; {'Accept': None} sends no Accept header at all.
    for accept, headers in (('*/*', None), (None, {'Accept': None}), ('text/html', None)):
        as_html = shared.call('POST', MEMBERS, json=duplicate, accept=accept, headers=headers)
        assert as_html.request.headers.get('Accept') == accept
        assert as_html.status_code == 409
        assert as_html.headers['Content-Type'] == 'text/html; charset=UTF-8'
        assert '<h1>409 Conflict</h1>' in as_html.text
        assert 'Member %s is duplicated for image %s<br /><br />' % (CONSUMER, IMAGE) in as_html.text
    plain = shared.call('POST', MEMBERS, json=duplicate, accept='text/plain')
    assert plain.headers['Content-Type'] == 'text/plain; charset=UTF-8'
    assert plain.text.startswith('409 Conflict\n\nMember %s is duplicated' % CONSUMER)


def test_request_id_headers(cloud):
    native = cloud.get(MEMBERS)
    assert re.match(r'^[0-9a-f]{32}$', native.headers['X-Request-Id'])
    assert re.match(r'^req-[0-9a-f-]{36}$', native.headers['X-Openstack-Request-Id'])
    error = cloud.get(MEMBERS, who='other')
    assert error.status_code == 404 and 'X-Openstack-Request-Id' in error.headers
    job = cloud.call('POST', '/v1/cloudimages/members', json={'images': [IMAGE], 'projects': [CONSUMER]})
    assert 'X-Request-Id' in job.headers and 'X-Openstack-Request-Id' not in job.headers
    token = cloud.issue({'auth': {}})
    assert 'X-Request-Id' in token.headers and 'X-Openstack-Request-Id' not in token.headers


def test_schemas(cloud):
    member = cloud.get('/v2/schemas/member').json()
    assert member['name'] == 'member'
    assert member['properties']['status']['enum'] == ['pending', 'accepted', 'rejected']
    members = cloud.get('/v2/schemas/members').json()
    assert members['name'] == 'members'
    assert members['properties']['members']['items']['properties'] == member['properties']


def test_unknown_route_and_method(cloud):
    response = cloud.get('/v2/nothing-here')
    assert response.status_code == 404 and response.json()['error_code'] == 'APIGW.0101'
    not_allowed = requests.patch(cloud.url + MEMBERS, headers={'Accept': 'application/json'}, timeout=10)
    assert not_allowed.status_code == 405
    assert not_allowed.json()['code'] == '405 Method Not Allowed'
    assert 'X-Openstack-Request-Id' in not_allowed.headers
    iam = requests.get(cloud.url + '/v3/nothing-here', timeout=10)
    assert iam.status_code == 404 and iam.json()['error']['code'] == 404
