# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM reads that independent AK/SK clients make: GET /v3/auth/catalog and GET /v3/projects, by token or AK/SK."""

import requests

from emutest import DOMAIN_ID, PROJECTS, SEED, USERS, password_auth

OWNER = USERS['owner-user']
MULTI = USERS['multi-user']
DOMAIN_PROJECTS = sorted(p['name'] for p in SEED['projects'])


def image_endpoints(body):
    return [e for service in body['catalog'] if service['type'] == 'image' for e in service['endpoints']]


def test_catalog_with_a_token_names_the_image_endpoint_of_the_projects_region(cloud):
    response = cloud.get('/v3/auth/catalog', who='remote')
    assert response.status_code == 200, response.text
    body = response.json()
    assert body['links'] == {'self': cloud.url + '/v3/auth/catalog'}
    assert [(e['url'], e['region'], e['interface']) for e in image_endpoints(body)] == [(cloud.url, 'eu-nl', 'public')]


def test_catalog_with_aksk_uses_the_signed_project(cloud):
    response = cloud.aksk_call('GET', '/v3/auth/catalog', OWNER['access_key'], OWNER['secret_key'], project_id=PROJECTS['owner'])
    assert response.status_code == 200, response.text
    assert [e['region'] for e in image_endpoints(response.json())] == ['eu-de']
    assert cloud.emulator.stats()['by_auth']['aksk'] == 1


def test_catalog_refuses_bad_credentials_and_domain_tokens(cloud):
    assert requests.get(cloud.url + '/v3/auth/catalog', timeout=10).status_code == 401
    bad = cloud.aksk_call('GET', '/v3/auth/catalog', OWNER['access_key'], 'not-the-secret', project_id=PROJECTS['owner'])
    assert bad.status_code == 401 and bad.json()['error']['code'] == 401
    issued = cloud.issue(password_auth(OWNER['name'], OWNER['password'], {'domain': {'id': DOMAIN_ID}}))
    domain_token = issued.headers['X-Subject-Token']
    assert cloud.get('/v3/auth/catalog', token=domain_token).status_code == 403


def test_projects_of_the_callers_domain_with_filters(cloud):
    listed = cloud.get('/v3/projects', who='consumer')
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert sorted(p['name'] for p in body['projects']) == DOMAIN_PROJECTS
    assert body['links'] == {'self': cloud.url + '/v3/projects', 'previous': None, 'next': None}
    first = body['projects'][0]
    assert set(first) == {'is_domain', 'description', 'links', 'enabled', 'id', 'parent_id', 'domain_id', 'name'}
    by_name = cloud.get('/v3/projects', who='consumer', params={'name': 'eu-de_owner', 'domain_id': DOMAIN_ID}).json()
    assert [(p['id'], p['domain_id']) for p in by_name['projects']] == [(PROJECTS['owner'], DOMAIN_ID)]
    assert by_name['links']['self'].endswith('?name=eu-de_owner&domain_id=' + DOMAIN_ID)
    assert cloud.get('/v3/projects', who='consumer', params={'name': 'no-such'}).json()['projects'] == []


def test_projects_with_aksk_and_refusals(cloud):
    signed = cloud.aksk_call('GET', '/v3/projects', MULTI['access_key'], MULTI['secret_key'], project_id=PROJECTS['consumer'],
                             params={'name': 'eu-de_consumer2'})
    assert signed.status_code == 200, signed.text
    assert [p['id'] for p in signed.json()['projects']] == [PROJECTS['consumer2']]
    other_domain = cloud.get('/v3/projects', who='consumer', params={'domain_id': 'f' * 32})
    assert other_domain.status_code == 403 and other_domain.json()['error_code'] == 'IAM.0002'
    assert requests.get(cloud.url + '/v3/projects', timeout=10).status_code == 401


def test_a_user_without_the_right_to_list_projects_gets_403(cloud):
    seed = dict(SEED)
    seed['users'] = [dict(u, list_projects=False) if u['name'] == 'consumer-user' else u for u in SEED['users']]
    cloud.emulator.reset(seed)
    refused = cloud.get('/v3/projects', who='consumer')
    assert refused.status_code == 403
    assert refused.json()['error_code'] == 'IAM.0002'
    assert cloud.get('/v3/projects', who='owner').status_code == 200
