# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Application credentials against the real Keystone + Glance of tests/real_openstack (start.sh WORKDIR, then
source WORKDIR/openstack.env). The owner creates an application credential through Keystone's API in the set-up;
the modules then share, read and fail with it in real ansible-playbook runs. Skipped without the stack."""

import json
import os
import uuid

import pytest
import requests

from relsupport import play

CONFIG_PATH = os.environ.get('IMS_REAL_OPENSTACK_JSON', '')
HTTP_TIMEOUT = 30
MEMBER = 'imscloud.sharing.ims_image_member'
INFO = 'imscloud.sharing.ims_image_member_info'

pytestmark = pytest.mark.skipif(not CONFIG_PATH, reason='IMS_REAL_OPENSTACK_JSON is not set: no real Keystone + Glance '
                                '(start one with tests/real_openstack/start.sh WORKDIR and source its openstack.env)')


@pytest.fixture(scope='module')
def stack():
    with open(CONFIG_PATH, encoding='utf-8') as stream:
        return json.load(stream)


def sign_in(stack, name):
    """(token, user id) of the account `name` of openstack.json, scoped to its project."""
    account = stack[name]
    body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
        'name': account['username'], 'password': account['password'], 'domain': {'id': stack['user_domain_id']}}}},
        'scope': {'project': {'id': account['project_id']}}}}
    response = requests.post(stack['auth_url'] + '/auth/tokens', json=body, timeout=HTTP_TIMEOUT)
    assert response.status_code == 201, response.text
    return response.headers['X-Subject-Token'], response.json()['token']['user']['id']


@pytest.fixture(scope='module')
def owner_credential(stack):
    """An application credential of the owner (Keystone API), deleted after the module's tests."""
    token, user_id = sign_in(stack, 'owner')
    url = '%s/users/%s/application_credentials' % (stack['auth_url'], user_id)
    name = 'ims-login-%s' % uuid.uuid4().hex[:8]
    response = requests.post(url, json={'application_credential': {'name': name}},
                             headers={'X-Auth-Token': token}, timeout=HTTP_TIMEOUT)
    assert response.status_code == 201, response.text
    credential = response.json()['application_credential']
    yield dict(credential, user_id=user_id, token=token)
    requests.delete('%s/%s' % (url, credential['id']), headers={'X-Auth-Token': token}, timeout=HTTP_TIMEOUT)


@pytest.fixture
def image_id(stack, owner_credential):
    """A fresh shared image of the owner, deleted afterwards."""
    headers = {'X-Auth-Token': owner_credential['token'], 'Accept': 'application/json'}
    body = {'name': 'ims-login-%s' % uuid.uuid4().hex[:8], 'visibility': 'shared', 'disk_format': 'raw',
            'container_format': 'bare'}
    response = requests.post(stack['image_url'] + '/v2/images', json=body, headers=headers, timeout=HTTP_TIMEOUT)
    assert response.status_code == 201, response.text
    created = response.json()['id']
    yield created
    requests.delete('%s/v2/images/%s' % (stack['image_url'], created), headers=headers, timeout=HTTP_TIMEOUT)


def members(stack, owner_credential, image):
    response = requests.get('%s/v2/images/%s/members' % (stack['image_url'], image), timeout=HTTP_TIMEOUT,
                            headers={'X-Auth-Token': owner_credential['token'], 'Accept': 'application/json'})
    assert response.status_code == 200, response.text
    return sorted((member['member_id'], member['status']) for member in response.json()['members'])


def test_share_and_read_with_an_application_credential(stack, owner_credential, image_id, workspace):
    consumer = stack['consumer']['project_id']
    by_id = {'auth_url': stack['auth_url'], 'application_credential_id': owner_credential['id'],
             'application_credential_secret': owner_credential['secret']}
    by_name = {'auth_url': stack['auth_url'], 'application_credential_name': owner_credential['name'],
               'application_credential_secret': owner_credential['secret'], 'username': stack['owner']['username'],
               'user_domain_id': stack['user_domain_id'], 'project_id': stack['owner']['project_id']}
    tasks = [
        {'name': 'Share, signed in with the credential id', MEMBER: {
            'auth_type': 'v3applicationcredential', 'auth': by_id, 'image': image_id, 'members': [consumer]},
         'register': 'shared'},
        {'name': 'Read, signed in with the credential name and its user', INFO: {'auth': by_name, 'images': [image_id]},
         'register': 'read'},
        {'name': 'A project other than the credential project fails', INFO: {
            'auth': dict(by_id, project_id=stack['consumer']['project_id']), 'images': [image_id],
            'token_cache': False}, 'register': 'wrong_project', 'ignore_errors': True},
    ]
    run = workspace.run(play(tasks), collect=['shared', 'read', 'wrong_project'])
    assert run.results is not None, run.describe()
    assert run.results['shared']['changed'] is True
    assert members(stack, owner_credential, image_id) == [(consumer, 'pending')]
    read = run.results['read']
    assert read['project_id'] == stack['owner']['project_id']
    assert [m['member_id'] for m in read['images'][0]['members']] == [consumer]
    wrong = run.results['wrong_project']
    assert wrong['failed'] is True
    assert ('is scoped to project %s (owner), not to the project_id %s that is set'
            % (stack['owner']['project_id'], stack['consumer']['project_id'])) in wrong['msg']
    assert owner_credential['secret'] not in run.output + json.dumps(run.results)


def test_a_wrong_secret_is_explained(stack, owner_credential, image_id, workspace):
    auth = {'auth_url': stack['auth_url'], 'application_credential_id': owner_credential['id'],
            'application_credential_secret': 'not-the-secret-%s' % uuid.uuid4().hex[:6]}
    task = {'name': 'Wrong secret', INFO: {'auth': auth, 'images': [image_id]}, 'register': 'out', 'ignore_errors': True}
    run = workspace.run(play([task]), collect=['out'])
    message = run.results['out']['msg']
    assert message.startswith('IAM refused the sign-in of application credential id %s' % owner_credential['id'])
    assert 'returned 401' in message and 'the secret does not belong to the credential' in message
    assert auth['application_credential_secret'] not in run.output
