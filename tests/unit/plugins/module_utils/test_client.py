# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IMSClient: authentication, catalog, token cache, retries, 401 re-auth, AK/SK (HTTP faked with responses)."""
from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta, timezone
from email.utils import formatdate

import pytest
import requests
import responses
import urllib3

from ansible_collections.imscloud.sharing.plugins.module_utils.client import IMSClient
from ansible_collections.imscloud.sharing.plugins.module_utils.auth import parse_timestamp
from ansible_collections.imscloud.sharing.plugins.module_utils.auth import select_image_endpoint
from ansible_collections.imscloud.sharing.plugins.module_utils.auth import strip_version
from ansible_collections.imscloud.sharing.plugins.module_utils.trace import route_of
from ansible_collections.imscloud.sharing.plugins.module_utils.version import COLLECTION_VERSION
from ansible_collections.imscloud.sharing.plugins.module_utils.config import ConnectionConfig
from ansible_collections.imscloud.sharing.plugins.module_utils.config import resolve_connection
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.token_cache import TokenCache

IAM = 'https://iam.example.test/v3'
TOKENS = IAM + '/auth/tokens'
IMS = 'https://ims.eu-de.example.test'
PROJECT = '0123456789abcdef0123456789abcdef'
OTHER_PROJECT = 'fedcba9876543210fedcba9876543210'
IMAGE = 'd164b5df-1bc3-4c3f-893e-3e471fd16e64'
MEMBERS = '%s/v2/images/%s/members' % (IMS, IMAGE)
PASSWORD = 'pa55-word-SECRET'
USER_TOKEN = 'user-token-SECRET'


def iso(moment: datetime) -> str:
    return moment.strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def catalog(*endpoints) -> list:
    """A Keystone v3 catalog with an identity service and an image service holding endpoints."""
    return [
        {'type': 'identity', 'name': 'keystone', 'id': 'i1',
         'endpoints': [{'interface': 'public', 'region': '*', 'region_id': '*', 'url': IAM, 'id': 'e0'}]},
        {'type': 'image', 'name': 'glance', 'id': 'g1', 'endpoints': list(endpoints or [
            {'interface': 'public', 'region': 'eu-de', 'region_id': 'eu-de', 'url': IMS + '/v2', 'id': 'e1'}])},
    ]


def token_body(project_id: str = PROJECT, life: float = 86400.0, left: float | None = None, with_catalog=True, endpoints=()) -> dict:
    now = datetime.now(timezone.utc)
    left = life if left is None else left
    token = {
        'methods': ['password'],
        'issued_at': iso(now - timedelta(seconds=life - left)),
        'expires_at': iso(now + timedelta(seconds=left)),
        'user': {'id': 'u1', 'name': 'alice', 'domain': {'id': 'd1', 'name': 'dom'}},
        'project': {'id': project_id, 'name': 'eu-de', 'domain': {'id': 'd1', 'name': 'dom'}},
        'roles': [{'id': 'r1', 'name': 'te_admin'}],
    }
    if with_catalog:
        token['catalog'] = catalog(*endpoints)
    return {'token': token}


def add_token(mock, token='tok-1', status=201, **kwargs):
    mock.add(responses.POST, TOKENS, json=token_body(**kwargs), status=status, headers={'X-Subject-Token': token})


def make_config(tmp_path, **overrides) -> ConnectionConfig:
    values = dict(
        auth_type='password', auth_url=IAM, username='alice', user_id=None, password=PASSWORD,
        user_domain_name='dom', user_domain_id=None, domain_name=None, project_id=PROJECT, project_name=None,
        project_domain_name=None, project_domain_id=None, token=None, access_key=None, secret_key=None,
        security_token=None, region_name='eu-de', interface='public', ims_endpoint=None, verify=True, cert=None,
        api_timeout=5.0, token_cache=True, retries=3, cache_dir=str(tmp_path / 'cache'),
    )
    values.update(overrides)
    return ConnectionConfig(**values)


class Recorder:
    def __init__(self) -> None:
        self.sleeps: list = []
        self.logs: list = []
        self.warnings: list = []


@pytest.fixture
def rec():
    return Recorder()


@pytest.fixture
def make_client(tmp_path, rec):
    def factory(**overrides) -> IMSClient:
        return IMSClient(make_config(tmp_path, **overrides), warn=rec.warnings.append, log=rec.logs.append,
                         sleep=rec.sleeps.append, rand=lambda: 0.5)
    return factory


@pytest.fixture
def mock():
    with responses.RequestsMock() as rsps:
        yield rsps


def calls_to(mock, url_prefix, method=None) -> list:
    return [c for c in mock.calls if c.request.url.startswith(url_prefix) and (method is None or c.request.method == method)]


def sent_json(call) -> dict:
    return json.loads(call.request.body)


def all_text(mock, rec, *errors) -> str:
    """Everything a user could see: logs, warnings, errors, stats."""
    return json.dumps([rec.logs, rec.warnings, [str(e) for e in errors], [e.to_dict() for e in errors]])


# ---------------------------------------------------------------- pure helpers

def test_strip_version_and_route_templates():
    assert strip_version('https://ims.test/v2/') == 'https://ims.test'
    assert strip_version('https://ims.test/v2.1') == 'https://ims.test'
    assert strip_version('http://127.0.0.1:80/image') == 'http://127.0.0.1:80/image'
    assert route_of('get', IMS + '/v2/images/x/members/y') == 'GET /v2/images/{image_id}/members/{member_id}'
    assert route_of('GET', IMS + '/v1/%s/jobs/abc' % PROJECT) == 'GET /v1/{project_id}/jobs/{job_id}'
    assert route_of('POST', TOKENS + '?nocatalog=1') == 'POST /v3/auth/tokens'
    assert route_of('GET', IMS + '/v2/images?name=a') == 'GET /v2/images'
    assert route_of('GET', IMS + '/other/') == 'GET /other'


def test_parse_timestamp_formats():
    assert parse_timestamp('1970-01-01T00:00:10Z') == 10.0
    assert parse_timestamp('1970-01-01T00:00:10.500000Z') == 10.5
    assert parse_timestamp('1970-01-01T01:00:10+01:00') == 10.0
    assert parse_timestamp('1970-01-01T00:00:10.778') == pytest.approx(10.778)
    assert parse_timestamp('yesterday') is None
    assert parse_timestamp('2024-02-30T00:00:00Z') is None
    assert parse_timestamp(None) is None


# ---------------------------------------------------------------- catalog

def test_catalog_selects_interface_and_region():
    cat = catalog(
        {'interface': 'public', 'region': 'eu-de', 'url': 'https://public.de/v2'},
        {'interface': 'internal', 'region': 'eu-de', 'url': 'https://internal.de/v2/'},
        {'interface': 'public', 'region_id': 'eu-nl', 'url': 'https://public.nl'},
    )
    assert select_image_endpoint(cat, 'public', 'eu-de') == 'https://public.de'
    assert select_image_endpoint(cat, 'internal', 'eu-de') == 'https://internal.de'
    assert select_image_endpoint(cat, 'public', 'eu-nl') == 'https://public.nl'


def test_catalog_with_several_regions_needs_region_name():
    cat = catalog({'interface': 'public', 'region': 'eu-de', 'url': 'https://a'},
                  {'interface': 'public', 'region': 'eu-nl', 'url': 'https://b'})
    with pytest.raises(IMSError, match=r'several regions \(eu-de, eu-nl\); set region_name'):
        select_image_endpoint(cat, 'public', None)
    single = catalog({'interface': 'public', 'region': 'eu-de', 'url': 'https://a/v2'})
    assert select_image_endpoint(single, 'public', None) == 'https://a'


def test_catalog_without_matching_endpoint_names_what_exists():
    cat = catalog({'interface': 'internal', 'region': 'eu-de', 'url': 'https://a'})
    with pytest.raises(IMSError, match=r"interface 'admin' in region 'eu-de' \(image endpoints: internal/eu-de\)"):
        select_image_endpoint(cat, 'admin', 'eu-de')
    with pytest.raises(IMSError, match='it has no image service at all'):
        select_image_endpoint([c for c in cat if c['type'] != 'image'], 'public', None)


# ---------------------------------------------------------------- password / token auth

def test_password_auth_scoped_by_project_id(mock, make_client):
    add_token(mock, project_id=PROJECT)
    mock.add(responses.GET, MEMBERS, json={'members': [], 'schema': '/v2/schemas/members'})
    client = make_client()
    assert client.list_members(IMAGE) == []
    iam_call, ims_call = mock.calls
    assert iam_call.request.url == TOKENS  # no ?nocatalog without ims_endpoint
    assert sent_json(iam_call) == {'auth': {
        'identity': {'methods': ['password'],
                     'password': {'user': {'name': 'alice', 'password': PASSWORD, 'domain': {'name': 'dom'}}}},
        'scope': {'project': {'id': PROJECT}}}}
    for call in (iam_call, ims_call):
        assert call.request.headers['Content-Type'] == 'application/json'
        assert call.request.headers['Accept'] == 'application/json'
        assert call.request.headers['User-Agent'].startswith('imscloud.sharing/')
    assert ims_call.request.headers['X-Auth-Token'] == 'tok-1'
    assert 'X-Auth-Token' not in iam_call.request.headers
    assert client.endpoint == IMS
    assert client.project_id == PROJECT
    assert client.stats['tokens_obtained'] == 1


def test_project_id_comes_from_the_token_when_scoped_by_name(mock, make_client):
    add_token(mock, project_id=OTHER_PROJECT)
    client = make_client(project_id=None, project_name='eu-de_sub', project_domain_name='acct', user_id='u-77',
                         username=None, user_domain_name=None)
    assert client.project_id == OTHER_PROJECT
    assert sent_json(mock.calls[0])['auth'] == {
        'identity': {'methods': ['password'], 'password': {'user': {'id': 'u-77', 'password': PASSWORD}}},
        'scope': {'project': {'name': 'eu-de_sub', 'domain': {'name': 'acct'}}}}


def resolved_client(tmp_path, rec, auth, **params) -> IMSClient:
    """A client of the configuration resolve_connection() makes of module options (the one validator)."""
    environ = {'HOME': str(tmp_path), 'IMSCLOUD_SHARING_CACHE_DIR': str(tmp_path / 'cache')}
    config = resolve_connection(dict(params, auth=auth), environ)
    return IMSClient(config, warn=rec.warnings.append, log=rec.logs.append, sleep=rec.sleeps.append, rand=lambda: 0.5)


def password_auth(**overrides) -> dict:
    auth = dict(auth_url=IAM, username='alice', password=PASSWORD, user_domain_name='dom', project_id=PROJECT)
    auth.update(overrides)
    return {key: value for key, value in auth.items() if value is not None}


@pytest.mark.parametrize('overrides, user_domain, project_domain', [
    ({'user_domain_id': 'ud1', 'user_domain_name': None, 'project_domain_id': 'pd1'}, {'id': 'ud1'}, {'id': 'pd1'}),
    ({'user_domain_name': None, 'domain_name': 'acct'}, {'name': 'acct'}, {'name': 'acct'}),
    ({'user_domain_name': 'users', 'domain_name': 'acct'}, {'name': 'users'}, {'name': 'acct'}),
])
def test_domain_fallbacks(mock, tmp_path, rec, overrides, user_domain, project_domain):
    add_token(mock)
    client = resolved_client(tmp_path, rec, password_auth(project_id=None, project_name='eu-de', **overrides))
    assert client.project_id == PROJECT
    body = sent_json(mock.calls[0])['auth']
    assert body['identity']['password']['user']['domain'] == user_domain
    assert body['scope']['project'] == {'name': 'eu-de', 'domain': project_domain}


@pytest.mark.parametrize('overrides, message', [
    ({'project_id': None}, 'needs a project scope'),
    ({'user_domain_name': None}, "auth.username needs the user's domain"),
    ({'project_id': None, 'project_name': 'eu-de', 'user_domain_name': None, 'user_id': 'u', 'username': None},
     "auth.project_name needs the project's domain"),
    ({'username': None}, 'needs auth.username'),
    ({'password': None}, 'no credentials: set auth.password'),
    ({'auth_url': None}, 'needs auth.auth_url'),
])
def test_incomplete_credentials_fail_before_any_request(mock, tmp_path, rec, overrides, message):
    with pytest.raises(IMSError, match=message) as caught:
        resolved_client(tmp_path, rec, password_auth(**overrides))
    assert caught.value.status is None
    assert len(mock.calls) == 0


@pytest.mark.parametrize('params, message', [
    ({'auth_type': 'token'}, 'needs auth.token'),
    ({'auth_type': 'kerberos'}, "auth_type: 'kerberos' is not supported"),
])
def test_unusable_auth_type_fails_before_any_request(mock, tmp_path, rec, params, message):
    with pytest.raises(IMSError, match=message):
        resolved_client(tmp_path, rec, {'auth_url': IAM, 'project_id': PROJECT}, **params)
    assert len(mock.calls) == 0


def test_token_auth_rescopes_the_user_token(mock, make_client):
    add_token(mock, token='scoped-1')
    mock.add(responses.GET, MEMBERS, json={'members': []})
    client = make_client(auth_type='token', token=USER_TOKEN, username=None, password=None)
    client.list_members(IMAGE)
    iam_call = mock.calls[0]
    assert sent_json(iam_call)['auth'] == {'identity': {'methods': ['token'], 'token': {'id': USER_TOKEN}},
                                           'scope': {'project': {'id': PROJECT}}}
    assert iam_call.request.headers['X-Auth-Token'] == USER_TOKEN
    assert mock.calls[1].request.headers['X-Auth-Token'] == 'scoped-1'


def test_ims_endpoint_override_uses_nocatalog(mock, make_client):
    mock.add(responses.POST, TOKENS, json=token_body(with_catalog=False), status=201, headers={'X-Subject-Token': 'tok-1'})
    mock.add(responses.GET, 'https://override.test/ims/v2/images/%s/members' % IMAGE, json={'members': [{'member_id': 'm'}]})
    client = make_client(ims_endpoint='https://override.test/ims/v2/')
    assert client.list_members(IMAGE) == [{'member_id': 'm'}]
    assert mock.calls[0].request.url == TOKENS + '?nocatalog=1'
    assert client.endpoint == 'https://override.test/ims'


def test_internal_interface_is_taken_from_the_catalog(mock, make_client):
    add_token(mock, endpoints=[{'interface': 'public', 'region': 'eu-de', 'url': 'https://public.test'},
                               {'interface': 'internal', 'region': 'eu-de', 'url': 'https://internal.test/v2'}])
    mock.add(responses.GET, 'https://internal.test/v2/images/%s/members' % IMAGE, json={'members': [{'member_id': 'm'}]})
    client = make_client(interface='internal')
    assert client.list_members(IMAGE) == [{'member_id': 'm'}]
    assert client.endpoint == 'https://internal.test'
    assert [c.request.url for c in mock.calls] == [TOKENS, 'https://internal.test/v2/images/%s/members' % IMAGE]


def test_missing_image_service_is_an_error(mock, make_client):
    add_token(mock, endpoints=[{'interface': 'public', 'region': 'eu-nl', 'url': 'https://nl.test'}])
    with pytest.raises(IMSError, match="no 'image' \\(IMS\\) endpoint with interface 'public' in region 'eu-de'"):
        make_client().list_members(IMAGE)


def test_iam_401_is_reported_with_iams_message_and_not_retried(mock, make_client, rec):
    mock.add(responses.POST, TOKENS, status=401, headers={'X-Request-Id': 'iam-req-9'},
             json={'error': {'message': 'The username or password is wrong.', 'code': 401, 'title': 'Unauthorized'}})
    with pytest.raises(IMSError) as caught:
        make_client().list_members(IMAGE)
    err = caught.value
    assert len(mock.calls) == 1
    assert (err.status, err.request_id, err.service) == (401, 'iam-req-9', 'IAM')
    # who signed in where, then IAM's own answer (the causes: tests/unit/plugins/module_utils/test_auth_methods.py)
    assert ('IAM request failed: POST %s returned 401 Unauthorized (request id iam-req-9): '
            'The username or password is wrong.' % TOKENS) in str(err)
    assert str(err).startswith('IAM refused the sign-in of user ')
    assert PASSWORD not in all_text(mock, rec, err)


def test_iam_throttling_is_retried_after_retry_after(mock, make_client, rec):
    mock.add(responses.POST, TOKENS, status=429, headers={'Retry-After': '3'},
             json={'error': {'code': 'IAM.0012', 'message': 'The throttling threshold has been reached.'}})
    add_token(mock)
    mock.add(responses.GET, MEMBERS, json={'members': []})
    make_client().list_members(IMAGE)
    assert rec.sleeps == [pytest.approx(3.15)]
    assert len(calls_to(mock, TOKENS)) == 2


@pytest.mark.parametrize('headers, body, message', [
    ({}, token_body(), 'IAM answered without a token'),
    ({'X-Subject-Token': 't'}, {'token': dict(token_body()['token'], project=None)}, 'without a project scope'),
])
def test_unusable_iam_answers(mock, make_client, headers, body, message):
    mock.add(responses.POST, TOKENS, json=body, status=201, headers=headers)
    with pytest.raises(IMSError, match=message):
        make_client().list_members(IMAGE)


def test_iam_answer_that_is_not_json(mock, make_client):
    mock.add(responses.POST, TOKENS, body='<html>ok</html>', status=201, headers={'X-Subject-Token': 't'})
    with pytest.raises(IMSError, match='not valid JSON'):
        make_client().list_members(IMAGE)


def test_auth_url_without_version_gets_v3(mock, tmp_path, rec):
    add_token(mock)
    assert resolved_client(tmp_path, rec, password_auth(auth_url='https://iam.example.test/')).project_id == PROJECT
    assert mock.calls[0].request.url == TOKENS


def test_missing_expiry_defaults_to_one_hour(mock, make_client):
    body = token_body()
    del body['token']['expires_at']
    mock.add(responses.POST, TOKENS, json=body, status=201, headers={'X-Subject-Token': 't'})
    client = make_client(token_cache=False)
    assert client.project_id == PROJECT
    assert client.auth.current()['expires_at'] - client.auth.current()['issued_at'] == 3600.0


# ---------------------------------------------------------------- token reuse and cache

def test_token_is_reused_within_the_client_without_disk(mock, make_client, tmp_path):
    add_token(mock)
    mock.add(responses.GET, MEMBERS, json={'members': []})
    client = make_client(token_cache=False)
    for attempt in range(3):
        assert client.list_members(IMAGE) == [], attempt
    assert len(calls_to(mock, TOKENS)) == 1
    assert not (tmp_path / 'cache').exists()


def test_second_client_uses_the_disk_cache(mock, make_client):
    add_token(mock)
    mock.add(responses.GET, MEMBERS, json={'members': []})
    make_client().list_members(IMAGE)
    second = make_client()
    second.list_members(IMAGE)
    assert len(calls_to(mock, TOKENS)) == 1
    assert second.stats['tokens_obtained'] == 0 and second.stats['token_cache_hits'] == 1
    assert second.project_id == PROJECT and second.endpoint == IMS
    assert [c.request.headers['X-Auth-Token'] for c in calls_to(mock, MEMBERS)] == ['tok-1', 'tok-1']


def test_cached_token_near_expiry_is_refreshed(mock, make_client, tmp_path):
    # a 24 h token stored by an earlier task, 5 minutes left: below the 10 minute margin
    config = make_config(tmp_path)
    now = time.time()
    TokenCache(config.cache_dir).store(config.cache_key(), {
        'token': 'old', 'issued_at': now - 86100, 'expires_at': now + 300, 'project_id': PROJECT, 'endpoint': IMS,
        'catalog': catalog()})
    add_token(mock, token='new')
    mock.add(responses.GET, MEMBERS, json={'members': []})
    client = make_client()
    client.list_members(IMAGE)
    client.list_members(IMAGE)
    assert [c.request.headers['X-Auth-Token'] for c in calls_to(mock, MEMBERS)] == ['new', 'new']
    assert client.stats['tokens_obtained'] == 1 and client.stats['token_cache_hits'] == 0
    assert TokenCache(config.cache_dir).load(config.cache_key())['token'] == 'new'


def test_token_life_is_measured_on_the_local_clock(mock, make_client):
    # IAM's clock is 2 hours ahead: its 1 h token looks expired to us, its lifetime does not
    body = token_body(life=3600)
    for key in ('issued_at', 'expires_at'):
        moment = datetime.strptime(body['token'][key], '%Y-%m-%dT%H:%M:%S.%fZ') + timedelta(hours=-2)
        body['token'][key] = iso(moment)
    mock.add(responses.POST, TOKENS, json=body, status=201, headers={'X-Subject-Token': 'skewed'})
    mock.add(responses.GET, MEMBERS, json={'members': []})
    client = make_client()
    client.list_members(IMAGE)
    client.list_members(IMAGE)
    assert len(calls_to(mock, TOKENS)) == 1
    assert client.auth.current()['expires_at'] == pytest.approx(time.time() + 3600, abs=5)


def test_short_lived_token_is_used_until_ten_percent_of_its_life_is_left(mock, make_client):
    # 5 minute token with 4 minutes left: margin is 30 s, so it is still good
    add_token(mock, token='short', life=300, left=240)
    mock.add(responses.GET, MEMBERS, json={'members': []})
    make_client().list_members(IMAGE)
    make_client().list_members(IMAGE)
    assert len(calls_to(mock, TOKENS)) == 1


def test_cached_token_without_catalog_is_not_used_when_the_catalog_is_needed(mock, make_client, tmp_path):
    config = make_config(tmp_path)
    now = time.time()
    TokenCache(config.cache_dir).store(config.cache_key(), {
        'token': 'nocat', 'issued_at': now, 'expires_at': now + 86400, 'project_id': PROJECT, 'endpoint': None, 'catalog': []})
    add_token(mock, token='full')
    mock.add(responses.GET, MEMBERS, json={'members': []})
    make_client().list_members(IMAGE)
    assert calls_to(mock, MEMBERS)[0].request.headers['X-Auth-Token'] == 'full'


def test_unwritable_cache_directory_only_warns(mock, make_client, tmp_path, rec):
    blocker = tmp_path / 'file'
    blocker.write_text('not a directory')
    add_token(mock)
    mock.add(responses.GET, MEMBERS, json={'members': []})
    client = make_client(cache_dir=str(blocker / 'cache'))
    assert client.list_members(IMAGE) == []
    assert rec.warnings, 'a warning says the cache could not be used'
    assert PASSWORD not in all_text(mock, rec)


def test_401_drops_the_token_and_reauthenticates_once(mock, make_client, rec):
    add_token(mock, token='revoked')
    add_token(mock, token='fresh')
    mock.add(responses.GET, MEMBERS, status=401, json={'error_msg': 'token expired', 'error_code': 'APIGW.0301'})
    mock.add(responses.GET, MEMBERS, json={'members': [{'member_id': OTHER_PROJECT}]})
    client = make_client()
    assert client.list_members(IMAGE) == [{'member_id': OTHER_PROJECT}]
    assert [c.request.headers['X-Auth-Token'] for c in calls_to(mock, MEMBERS)] == ['revoked', 'fresh']
    assert client.stats['reauthentications'] == 1 and client.stats['tokens_obtained'] == 2
    assert TokenCache(client.config.cache_dir).load(client.config.cache_key())['token'] == 'fresh'
    assert rec.sleeps == []  # re-authentication is not a retry with backoff
    # the next client starts from the fresh cached token
    make_client().list_members(IMAGE)
    assert len(calls_to(mock, TOKENS)) == 2


def test_second_401_fails(mock, make_client, rec):
    add_token(mock, token='t1')
    add_token(mock, token='t2')
    mock.add(responses.GET, MEMBERS, status=401, json={'error_msg': 'Incorrect IAM authentication information',
                                                       'error_code': 'APIGW.0301', 'request_id': 'gw-1'})
    with pytest.raises(IMSError) as caught:
        make_client().list_members(IMAGE)
    err = caught.value
    assert (err.status, err.code, err.request_id) == (401, 'APIGW.0301', 'gw-1')
    assert len(calls_to(mock, TOKENS)) == 2 and len(calls_to(mock, MEMBERS)) == 2
    assert 't1' not in str(err) and 't2' not in json.dumps(err.to_dict())


def test_401_adopts_a_token_another_process_already_refreshed(mock, make_client, tmp_path):
    config = make_config(tmp_path)
    add_token(mock, token='stale')

    def unauthorized_and_other_process_refreshes(request):
        now = time.time()
        TokenCache(config.cache_dir).store(config.cache_key(), {
            'token': 'refreshed-elsewhere', 'issued_at': now, 'expires_at': now + 86400, 'project_id': PROJECT,
            'endpoint': IMS, 'catalog': catalog()})
        return 401, {}, json.dumps({'error': {'code': 'APIGW.0301', 'message': 'expired'}})

    mock.add_callback(responses.GET, MEMBERS, callback=unauthorized_and_other_process_refreshes)
    mock.add(responses.GET, MEMBERS, json={'members': []})
    client = make_client()
    client.list_members(IMAGE)
    assert len(calls_to(mock, TOKENS)) == 1
    assert calls_to(mock, MEMBERS)[1].request.headers['X-Auth-Token'] == 'refreshed-elsewhere'


# ---------------------------------------------------------------- AK/SK

def test_aksk_signs_every_request_and_never_calls_iam(mock, tmp_path, rec):
    default_endpoint = 'https://ims.eu-de.otc.t-systems.com'
    mock.add(responses.GET, '%s/v2/images/%s/members' % (default_endpoint, IMAGE), json={'members': []})
    mock.add(responses.POST, default_endpoint + '/v1/cloudimages/members', json={'job_id': 'j1'})
    client = resolved_client(tmp_path, rec, {'access_key': 'AKEXAMPLE', 'secret_key': 'SK-SECRET-123',
                                             'security_token': 'STS-SECRET-456', 'project_id': PROJECT},
                             region_name='eu-de')
    client.list_members(IMAGE)
    assert client.submit_member_job('POST', {'images': [IMAGE], 'projects': [OTHER_PROJECT]}) == 'j1'
    assert all(not c.request.url.startswith(IAM) for c in mock.calls)
    for call in mock.calls:
        headers = call.request.headers
        assert headers['Authorization'].startswith('SDK-HMAC-SHA256 Access=AKEXAMPLE, SignedHeaders=')
        assert 'X-Sdk-Date' in headers
        assert headers['X-Project-Id'] == PROJECT
        assert headers['X-Security-Token'] == 'STS-SECRET-456'
        assert headers['Content-Type'] == 'application/json'
        assert 'X-Auth-Token' not in headers
        assert 'SK-SECRET-123' not in json.dumps(dict(headers))
    assert client.stats['tokens_obtained'] == 0


def test_aksk_uses_ims_endpoint_and_fails_on_401_without_reauth(mock, make_client):
    mock.add(responses.GET, 'https://ims.private.test/v2/images/%s/members' % IMAGE, status=401,
             json={'error_msg': 'calc aksk signature fail', 'error_code': 'APIGW.0301'})
    client = make_client(auth_type='aksk', auth_url=None, access_key='AK', secret_key='SK-SECRET-123',
                         ims_endpoint='https://ims.private.test')
    with pytest.raises(IMSError) as caught:
        client.list_members(IMAGE)
    assert caught.value.status == 401 and len(mock.calls) == 1


@pytest.mark.parametrize('auth, params, message', [
    ({'access_key': 'AK', 'secret_key': 'SK-SECRET-123'}, {'region_name': 'eu-de'}, 'needs auth.project_id'),
    ({'access_key': 'AK', 'secret_key': 'SK-SECRET-123', 'project_id': PROJECT}, {},
     r'needs ims_endpoint \(or OS_IMS_ENDPOINT\), or region_name'),
])
def test_aksk_needs_project_and_endpoint(mock, tmp_path, rec, auth, params, message):
    with pytest.raises(IMSError, match=message):
        resolved_client(tmp_path, rec, auth, **params)
    assert len(mock.calls) == 0


# ---------------------------------------------------------------- retries

@pytest.fixture
def authed(mock, make_client):
    """A password client whose token request is already registered."""
    add_token(mock)
    return make_client()


@pytest.mark.parametrize('status', [429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried(mock, authed, rec, status):
    mock.add(responses.GET, MEMBERS, status=status, json={'error': {'code': 'IMG.0000', 'message': 'busy'}})
    mock.add(responses.GET, MEMBERS, json={'members': []})
    assert authed.list_members(IMAGE) == []
    assert len(calls_to(mock, MEMBERS)) == 2
    assert rec.sleeps == [0.375]  # first backoff: 0.5 s ceiling, half fixed + rand 0.5 * half
    assert authed.stats['retries'] == 1


def test_backoff_grows_and_retries_are_exhausted(mock, authed, rec):
    mock.add(responses.GET, MEMBERS, status=503, json={'message': 'down', 'code': '503 Service Unavailable'},
             headers={'X-Openstack-Request-Id': 'req-last'})
    with pytest.raises(IMSError) as caught:
        authed.list_members(IMAGE)
    err = caught.value
    assert len(calls_to(mock, MEMBERS)) == 4  # retries=3 plus the first attempt
    assert rec.sleeps == [0.375, 0.75, 1.5]
    assert (err.status, err.request_id, err.details) == (503, 'req-last', {'attempts': 4})
    assert authed.stats['requests']['GET /v2/images/{image_id}/members'] == 4


def test_retry_after_seconds_and_http_date_are_honoured(mock, authed, rec):
    mock.add(responses.GET, MEMBERS, status=429, headers={'Retry-After': '2'})
    mock.add(responses.GET, MEMBERS, status=429, headers={'Retry-After': formatdate(time.time() + 30, usegmt=True)})
    mock.add(responses.GET, MEMBERS, status=429, headers={'Retry-After': '86400'})
    mock.add(responses.GET, MEMBERS, json={'members': []})
    authed.list_members(IMAGE)
    assert rec.sleeps[0] == pytest.approx(2.1)
    assert 28.0 <= rec.sleeps[1] <= 31.5
    assert rec.sleeps[2] == pytest.approx(60.5)  # capped at 60 s


@pytest.mark.parametrize('status', [400, 403, 404, 409, 413])
def test_client_errors_are_not_retried(mock, authed, rec, status):
    mock.add(responses.PUT, MEMBERS + '/' + OTHER_PROJECT, status=status, json={'message': 'no', 'code': '%d x' % status})
    with pytest.raises(IMSError) as caught:
        authed.update_member_status(IMAGE, OTHER_PROJECT, 'accepted')
    assert caught.value.status == status
    assert len(calls_to(mock, MEMBERS)) == 1 and rec.sleeps == []


@pytest.mark.parametrize('error', [
    requests.exceptions.ConnectionError('Connection aborted.'),
    requests.exceptions.ReadTimeout('read timed out'),
    requests.exceptions.ConnectTimeout('connect timed out'),
])
def test_transport_errors_are_retried_for_reads(mock, authed, rec, error):
    mock.add(responses.GET, MEMBERS, body=error)
    mock.add(responses.GET, MEMBERS, json={'members': []})
    assert authed.list_members(IMAGE) == []
    assert len(rec.sleeps) == 1


def test_transport_errors_exhausted(mock, authed):
    mock.add(responses.GET, MEMBERS, body=requests.exceptions.ReadTimeout('read timed out'))
    with pytest.raises(IMSError) as caught:
        authed.list_members(IMAGE)
    err = caught.value
    assert err.status is None and err.details == {'attempts': 4, 'error_type': 'ReadTimeout'}
    assert str(err).startswith('IMS request failed: GET %s: timed out (read timed out) after 4 attempts' % MEMBERS)


def test_tls_errors_are_not_retried(mock, authed, rec):
    mock.add(responses.GET, MEMBERS, body=requests.exceptions.SSLError('certificate verify failed'))
    with pytest.raises(IMSError, match='TLS error'):
        authed.list_members(IMAGE)
    assert rec.sleeps == []


def test_zero_retries(mock, make_client, rec):
    add_token(mock)
    mock.add(responses.GET, MEMBERS, status=502)
    with pytest.raises(IMSError):
        make_client(retries=0).list_members(IMAGE)
    assert len(calls_to(mock, MEMBERS)) == 1


def test_retry_log_has_no_secrets(mock, authed, rec):
    mock.add(responses.GET, MEMBERS, status=503)
    mock.add(responses.GET, MEMBERS, json={'members': []})
    authed.list_members(IMAGE)
    assert any('retry 1/3 of GET %s after 503, waiting 0.38 s' % MEMBERS in line for line in rec.logs)
    assert 'tok-1' not in all_text(mock, rec) and PASSWORD not in all_text(mock, rec)


def test_secret_echoed_by_the_service_is_masked(mock, authed):
    mock.add(responses.GET, MEMBERS, status=400, json={'error': {'code': 'IMG.0087', 'message': 'The token tok-1 is incorrect.'}})
    with pytest.raises(IMSError) as caught:
        authed.list_members(IMAGE)
    assert str(caught.value).endswith('(IMG.0087): The token ******** is incorrect.')


def test_redirects_are_not_followed(mock, authed):
    mock.add(responses.GET, MEMBERS, status=302, headers={'Location': 'https://elsewhere.test/'})
    with pytest.raises(IMSError) as caught:
        authed.list_members(IMAGE)
    assert caught.value.status == 302 and len(mock.calls) == 2


# ---------------------------------------------------------------- non-idempotent calls

BATCH = IMS + '/v1/cloudimages/members'
BATCH_BODY = {'images': [IMAGE], 'projects': [OTHER_PROJECT]}


def refused() -> requests.exceptions.ConnectionError:
    inner = urllib3.exceptions.NewConnectionError(None, 'Failed to establish a new connection: [Errno 111] Connection refused')
    return requests.exceptions.ConnectionError(urllib3.exceptions.MaxRetryError(None, '/v1/cloudimages/members', inner))


@pytest.mark.parametrize('first', [
    {'status': 500, 'json': {'error': {'code': 'IMG.0000', 'message': 'internal'}}},
    {'status': 502},
    {'status': 503},
    {'status': 504},
    {'body': requests.exceptions.ReadTimeout('read timed out')},
    {'body': requests.exceptions.ConnectionError(urllib3.exceptions.ProtocolError('Connection aborted.', ConnectionResetError(104, 'reset')))},
])
@pytest.mark.parametrize('method', ['POST', 'PUT', 'DELETE'])
def test_batch_submit_is_not_resent_after_an_uncertain_failure(mock, authed, rec, method, first):
    mock.add(method, BATCH, **first)
    with pytest.raises(IMSError) as caught:
        authed.submit_member_job(method, BATCH_BODY)
    assert caught.value.details['uncertain'] is True
    assert len(calls_to(mock, BATCH)) == 1 and rec.sleeps == []


@pytest.mark.parametrize('first', [
    {'status': 429, 'json': {'error_code': 'APIGW.0308', 'error_msg': 'throttled'}},
    {'status': 503, 'headers': {'Retry-After': '1'}},
    {'body': requests.exceptions.ConnectTimeout('connect timed out')},
    {'body': refused()},
])
def test_batch_submit_is_retried_when_surely_not_processed(mock, authed, first):
    mock.add(responses.POST, BATCH, **first)
    mock.add(responses.POST, BATCH, json={'job_id': 'job-2'})
    assert authed.submit_member_job('post', BATCH_BODY) == 'job-2'
    assert [sent_json(c) for c in calls_to(mock, BATCH)] == [BATCH_BODY, BATCH_BODY]


def test_batch_throttling_exhausted_is_not_uncertain(mock, authed):
    mock.add(responses.PUT, BATCH, status=429)
    with pytest.raises(IMSError) as caught:
        authed.submit_member_job('PUT', {'images': [IMAGE], 'project_id': PROJECT, 'status': 'accepted'})
    assert 'uncertain' not in caught.value.details and caught.value.details['attempts'] == 4


def test_batch_delete_carries_a_json_body(mock, authed):
    mock.add(responses.DELETE, BATCH, json={'job_id': 'j-del'})
    assert authed.submit_member_job('DELETE', BATCH_BODY) == 'j-del'
    call = calls_to(mock, BATCH)[0]
    assert sent_json(call) == BATCH_BODY and call.request.headers['Content-Type'] == 'application/json'


def test_batch_answer_without_job_id(mock, authed):
    mock.add(responses.POST, BATCH, json={'status': 'ok'})
    with pytest.raises(IMSError, match='no job_id'):
        authed.submit_member_job('POST', BATCH_BODY)


def test_batch_method_is_checked(mock, make_client):
    with pytest.raises(IMSError, match="must be POST, PUT or DELETE, not 'PATCH'"):
        make_client().submit_member_job('PATCH', BATCH_BODY)
    assert len(mock.calls) == 0


def test_unknown_post_is_treated_as_non_idempotent(mock, authed):
    mock.add(responses.POST, IMS + '/v2/cloudimages/action', status=500)
    with pytest.raises(IMSError) as caught:
        authed.request('POST', '/v2/cloudimages/action', json={})
    assert caught.value.details == {'uncertain': True}


def test_add_member_409_after_a_retry_returns_the_existing_member(mock, authed):
    member = {'member_id': OTHER_PROJECT, 'image_id': IMAGE, 'status': 'pending'}
    mock.add(responses.POST, MEMBERS, body=requests.exceptions.ReadTimeout('read timed out'))
    mock.add(responses.POST, MEMBERS, status=409, json={'message': 'Member is duplicated<br /><br />', 'code': '409 Conflict'})
    mock.add(responses.GET, MEMBERS + '/' + OTHER_PROJECT, json=member)
    assert authed.add_member(IMAGE, OTHER_PROJECT) == member
    assert [sent_json(c) for c in calls_to(mock, MEMBERS, 'POST')] == [{'member': OTHER_PROJECT}] * 2


def test_add_member_409_after_retry_but_member_gone(mock, authed):
    mock.add(responses.POST, MEMBERS, status=502)
    mock.add(responses.POST, MEMBERS, status=409, json={'message': 'Member is duplicated', 'code': '409 Conflict'})
    mock.add(responses.GET, MEMBERS + '/' + OTHER_PROJECT, status=404)
    with pytest.raises(IMSError) as caught:
        authed.add_member(IMAGE, OTHER_PROJECT)
    assert caught.value.status == 409


def test_add_member_first_409_is_an_error(mock, authed):
    message = 'Member %s is duplicated for image %s<br /><br />\n\n\n' % (OTHER_PROJECT, IMAGE)
    mock.add(responses.POST, MEMBERS, status=409, json={'message': message, 'code': '409 Conflict', 'title': 'Conflict'})
    with pytest.raises(IMSError) as caught:
        authed.add_member(IMAGE, OTHER_PROJECT)
    assert str(caught.value).endswith('returned 409 Conflict: Member %s is duplicated for image %s' % (OTHER_PROJECT, IMAGE))


def test_add_member_409_after_throttling_is_an_error(mock, authed):
    # a 429 means the first POST was not processed, so the 409 is someone else's member
    mock.add(responses.POST, MEMBERS, status=429)
    mock.add(responses.POST, MEMBERS, status=409, json={'message': 'duplicated', 'code': '409 Conflict'})
    with pytest.raises(IMSError):
        authed.add_member(IMAGE, OTHER_PROJECT)


def test_remove_member_404_after_a_retry_is_done(mock, authed):
    mock.add(responses.DELETE, MEMBERS + '/' + OTHER_PROJECT, status=504)
    mock.add(responses.DELETE, MEMBERS + '/' + OTHER_PROJECT, status=404)
    assert authed.remove_member(IMAGE, OTHER_PROJECT) is None
    assert len(calls_to(mock, MEMBERS, 'DELETE')) == 2


def test_remove_member_first_404_is_an_error(mock, authed):
    mock.add(responses.DELETE, MEMBERS + '/' + OTHER_PROJECT, status=404,
             json={'message': '%s not found in the member list of the image %s.' % (OTHER_PROJECT, IMAGE), 'code': '404 Not Found'})
    with pytest.raises(IMSError) as caught:
        authed.remove_member(IMAGE, OTHER_PROJECT)
    assert caught.value.status == 404


# ---------------------------------------------------------------- session details

def test_user_agent_mentions_awx(monkeypatch, tmp_path):
    monkeypatch.setenv('AWX_HOST', 'https://awx.example')
    agent = IMSClient(make_config(tmp_path)).session.headers['User-Agent']
    assert agent.startswith('imscloud.sharing/%s python-requests/' % COLLECTION_VERSION)
    assert agent.endswith(' AWX')
    monkeypatch.delenv('AWX_HOST')
    monkeypatch.delenv('TOWER_HOST', raising=False)
    assert not IMSClient(make_config(tmp_path)).session.headers['User-Agent'].endswith('AWX')


def test_collection_version_matches_galaxy_yml():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
    with open(os.path.join(root, 'galaxy.yml')) as handle:
        versions = [line.split(':', 1)[1].strip().strip('\'"') for line in handle if line.startswith('version:')]
    assert versions == [COLLECTION_VERSION]


def test_tls_options_and_timeout_are_passed(tmp_path):
    seen = {}

    class Session(requests.Session):
        def request(self, method, url, **kwargs):
            seen.update(kwargs)
            raise requests.exceptions.InvalidURL('stop here')

    client = IMSClient(make_config(tmp_path, verify='/etc/ca.pem', cert=('c.pem', 'k.pem'), api_timeout=12.5,
                                   ims_endpoint='https://ims.test', auth_type='aksk', access_key='AK', secret_key='SK'),
                       session=Session())
    with pytest.raises(IMSError):
        client.request('GET', '/v2/images/' + IMAGE)
    assert (seen['verify'], seen['cert'], seen['timeout'], seen['allow_redirects']) == ('/etc/ca.pem', ('c.pem', 'k.pem'), 12.5, False)
    adapter = client.session.get_adapter('https://ims.test')
    assert adapter._pool_maxsize >= 16
    client.close()
