"""Smoke test of the real Keystone + Glance that tests/real_openstack/start.sh runs on loopback.

It checks with plain HTTP that the stack gives the member-API behaviour the collection is built on.
Run it with IMS_REAL_OPENSTACK_JSON pointing at the openstack.json that start.sh wrote
(`source WORKDIR/openstack.env` sets it); without that variable every test is skipped.
"""
import json
import os
import uuid

import pytest
import requests

CONFIG_PATH = os.environ.get('IMS_REAL_OPENSTACK_JSON', '')
HTTP_TIMEOUT = 30

pytestmark = pytest.mark.skipif(
    not CONFIG_PATH,
    reason='IMS_REAL_OPENSTACK_JSON is not set: no real Keystone + Glance to test (start one with tests/real_openstack/start.sh WORKDIR)',
)


@pytest.fixture(scope='module')
def stack():
    with open(CONFIG_PATH, encoding='utf-8') as stream:
        return json.load(stream)


def password_token(stack, name):
    """POST /v3/auth/tokens for the account `name` of openstack.json, scoped to its project."""
    account = stack[name]
    body = {'auth': {
        'identity': {'methods': ['password'], 'password': {'user': {
            'name': account['username'], 'password': account['password'], 'domain': {'id': stack['user_domain_id']}}}},
        'scope': {'project': {'id': account['project_id']}},
    }}
    return requests.post(f"{stack['auth_url']}/auth/tokens", json=body, timeout=HTTP_TIMEOUT)


class Glance:
    """Glance v2 calls as one user."""

    def __init__(self, url, token):
        self.url = url
        self.token = token

    def request(self, method, path, body=None):
        headers = {'X-Auth-Token': self.token, 'Accept': 'application/json'}
        return requests.request(method, f'{self.url}{path}', json=body, headers=headers, timeout=HTTP_TIMEOUT)

    def add_member(self, image_id, project_id):
        return self.request('POST', f'/v2/images/{image_id}/members', {'member': project_id})


@pytest.fixture(scope='module')
def glance(stack):
    """A Glance client per test account."""
    clients = {}
    for name in ('owner', 'consumer', 'other'):
        response = password_token(stack, name)
        assert response.status_code == 201, f'{name} token: HTTP {response.status_code} {response.text[:200]}'
        clients[name] = Glance(stack['image_url'], response.headers['X-Subject-Token'])
    return clients


@pytest.fixture
def image_id(glance):
    """A fresh shared image of the owner, deleted afterwards."""
    body = {'name': f'ims-smoke-{uuid.uuid4().hex[:8]}', 'visibility': 'shared', 'disk_format': 'raw', 'container_format': 'bare'}
    response = glance['owner'].request('POST', '/v2/images', body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created['visibility'] == 'shared'
    yield created['id']
    assert glance['owner'].request('DELETE', f"/v2/images/{created['id']}").status_code == 204


def test_owner_token_is_scoped_to_owner_and_lists_the_image_endpoint(stack):
    response = password_token(stack, 'owner')

    assert response.status_code == 201
    token = response.json()['token']
    assert token['project']['id'] == stack['owner']['project_id']
    public_image_urls = [
        endpoint['url']
        for service in token['catalog'] if service['type'] == 'image'
        for endpoint in service['endpoints'] if endpoint['interface'] == 'public' and endpoint['region_id'] == stack['region_name']
    ]
    assert public_image_urls == [stack['image_url']]
    images = requests.get(f"{stack['image_url']}/v2/images", headers={'X-Auth-Token': response.headers['X-Subject-Token']}, timeout=HTTP_TIMEOUT)
    assert images.status_code == 200
    assert 'images' in images.json()


def test_wrong_password_gets_no_token(stack):
    wrong = dict(stack, owner=dict(stack['owner'], password=stack['owner']['password'] + 'x'))

    assert password_token(wrong, 'owner').status_code == 401


def test_owner_adds_consumer_as_pending_member(stack, glance, image_id):
    response = glance['owner'].add_member(image_id, stack['consumer']['project_id'])

    assert response.status_code == 200
    member = response.json()
    assert (member['image_id'], member['member_id'], member['status']) == (image_id, stack['consumer']['project_id'], 'pending')
    listed = glance['owner'].request('GET', f'/v2/images/{image_id}/members').json()['members']
    assert [entry['member_id'] for entry in listed] == [stack['consumer']['project_id']]


def test_adding_the_same_member_twice_is_a_conflict(stack, glance, image_id):
    assert glance['owner'].add_member(image_id, stack['consumer']['project_id']).status_code == 200

    response = glance['owner'].add_member(image_id, stack['consumer']['project_id'])

    assert response.status_code == 409
    assert 'is duplicated for image' in response.json()['message']


def test_a_member_cannot_add_members(stack, glance, image_id):
    assert glance['owner'].add_member(image_id, stack['consumer']['project_id']).status_code == 200

    response = glance['consumer'].add_member(image_id, stack['other']['project_id'])

    assert response.status_code == 403
    members = glance['owner'].request('GET', f'/v2/images/{image_id}/members').json()['members']
    assert [entry['member_id'] for entry in members] == [stack['consumer']['project_id']]


def test_consumer_accepts_and_then_sees_the_image(stack, glance, image_id):
    consumer_project = stack['consumer']['project_id']
    assert glance['owner'].add_member(image_id, consumer_project).status_code == 200

    response = glance['consumer'].request('PUT', f'/v2/images/{image_id}/members/{consumer_project}', {'status': 'accepted'})

    assert response.status_code == 200
    assert response.json()['status'] == 'accepted'
    owner_view = glance['owner'].request('GET', f'/v2/images/{image_id}/members/{consumer_project}').json()
    assert owner_view['status'] == 'accepted'
    consumer_images = glance['consumer'].request('GET', '/v2/images').json()['images']
    assert image_id in [image['id'] for image in consumer_images]


def test_owner_cannot_accept_for_the_consumer(stack, glance, image_id):
    consumer_project = stack['consumer']['project_id']
    assert glance['owner'].add_member(image_id, consumer_project).status_code == 200

    response = glance['owner'].request('PUT', f'/v2/images/{image_id}/members/{consumer_project}', {'status': 'accepted'})

    assert response.status_code == 403


def test_owner_removes_member_and_consumer_loses_the_image(stack, glance, image_id):
    consumer_project = stack['consumer']['project_id']
    assert glance['owner'].add_member(image_id, consumer_project).status_code == 200
    assert glance['consumer'].request('GET', f'/v2/images/{image_id}').status_code == 200

    response = glance['owner'].request('DELETE', f'/v2/images/{image_id}/members/{consumer_project}')

    assert response.status_code == 204
    assert response.content == b''
    assert glance['owner'].request('GET', f'/v2/images/{image_id}/members').json()['members'] == []
    assert glance['consumer'].request('GET', f'/v2/images/{image_id}').status_code == 404
    assert glance['owner'].request('DELETE', f'/v2/images/{image_id}/members/{consumer_project}').status_code == 404


def test_an_outsider_gets_not_found(stack, glance, image_id):
    consumer_project = stack['consumer']['project_id']
    assert glance['owner'].add_member(image_id, consumer_project).status_code == 200
    outsider = glance['other']

    assert outsider.request('GET', f'/v2/images/{image_id}/members').status_code == 404
    assert outsider.request('GET', f'/v2/images/{image_id}/members/{consumer_project}').status_code == 404
    assert outsider.add_member(image_id, stack['other']['project_id']).status_code == 404
    assert outsider.request('PUT', f'/v2/images/{image_id}/members/{consumer_project}', {'status': 'rejected'}).status_code == 404
