# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The transport: throttle gate, bodies that are not JSON, plain http, redirects, TLS advice, paging links, attempts."""
from __future__ import annotations

import threading
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses

from ansible_collections.imscloud.sharing.plugins.module_utils.client import IMSClient
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.images import list_images
from ansible_collections.imscloud.sharing.plugins.module_utils.retry import ThrottleGate
from ansible_collections.imscloud.sharing.plugins.module_utils.signer import canonical_query
from ansible_collections.imscloud.sharing.tests.unit.helpers import FakeClock
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import IMAGE
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import IMS
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import MEMBERS
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import PROJECT
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import TOKENS
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import add_token
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import make_config

LOGIN_PAGE = '<html><head><title>Sign in</title></head><body><form action="/login"></form></body></html>'
BATCH = IMS + '/v1/cloudimages/members'
IMAGES = ['d164b5df-1bc3-4c3f-893e-00000000000%d' % n for n in range(4)]


@pytest.fixture
def mock():
    with responses.RequestsMock() as rsps:
        yield rsps


@pytest.fixture
def clock():
    return FakeClock(start=100.0)


@pytest.fixture
def client(tmp_path, clock):
    return IMSClient(make_config(tmp_path, token_cache=False), sleep=clock.sleep, clock=clock.monotonic, rand=lambda: 0.0)


# ---------------------------------------------------------------- throttle gate

def test_gate_holds_every_caller_until_the_deadline(clock):
    gate = ThrottleGate(clock=clock.monotonic, sleep=clock.sleep)
    assert gate.wait() is False and clock.sleeps == []
    gate.close_for(5.0)                 # this thread was throttled: it sleeps out its own pause
    assert gate.wait() is False
    held = []
    other = threading.Thread(target=lambda: held.append(gate.wait()))
    other.start()
    other.join()
    assert held == [True] and clock.sleeps == [5.0] and clock.now == 105.0
    assert gate.wait() is False         # open again


def test_a_429_holds_back_the_other_threads_of_the_client(mock, tmp_path, clock):
    """While one thread waits out a 429's Retry-After, the other sends nothing until then; the run completes."""
    add_token(mock)
    events = []                        # what happened, in order: ('send', thread, image, time), ('sleep', thread, s)
    throttled_thread = []
    other_slept = threading.Event()

    def sleep(seconds):
        me = threading.current_thread().name
        events.append(('sleep', me, seconds))
        if throttled_thread and me == throttled_thread[0]:
            other_slept.wait(5)        # the throttled thread's own pause ends only after the other one was held
        else:
            other_slept.set()
        clock.now += seconds

    client = IMSClient(make_config(tmp_path, token_cache=False), sleep=sleep, clock=clock.monotonic, rand=lambda: 0.0)
    first_answered = threading.Event()

    def answer(request):
        image = urlsplit(request.url).path.split('/')[3]
        me = threading.current_thread().name
        events.append(('send', me, image, clock.now))
        if image == IMAGES[0] and not throttled_thread:
            throttled_thread.append(me)
            first_answered.set()
            return 429, {'Retry-After': '5'}, '{"error": {"code": "IMG.0429", "message": "too many requests"}}'
        if image == IMAGES[1]:
            first_answered.wait(5)     # in flight while the other thread is throttled
        return 200, {}, '{"members": []}'

    for image in IMAGES:
        mock.add_callback(responses.GET, '%s/v2/images/%s/members' % (IMS, image), callback=answer)
    assert client.read_members(IMAGES, concurrency=2) == {image: [] for image in IMAGES}
    throttled = throttled_thread[0]
    throttle_at = [e for e in events if e[0] == 'send' and e[2] == IMAGES[0]][0][3]
    held = [e for e in events if e[0] == 'sleep' and e[1] != throttled]
    assert [round(e[2], 3) for e in held] == [5.0]    # the other thread was held for the Retry-After
    sends = [e for e in events if e[0] == 'send']
    # after the 429, nothing reached the cloud before Retry-After had passed, except the request already in flight
    later = sends[[e[2] for e in sends].index(IMAGES[0]) + 1:]
    assert all(moment >= throttle_at + 5 for _kind, _thread, image, moment in later if image != IMAGES[1])
    assert sorted(e[2] for e in sends) == sorted(IMAGES + [IMAGES[0]])
    assert client.stats['retries'] == 1 and client.stats['throttle_waits'] == 1


def test_a_503_without_retry_after_does_not_close_the_gate(mock, client, clock):
    add_token(mock)
    mock.add(responses.GET, MEMBERS, status=503)
    mock.add(responses.GET, MEMBERS, json={'members': []})
    client.list_members(IMAGE)
    assert client._gate.wait() is False and client.stats['throttle_waits'] == 0


# ---------------------------------------------------------------- a 200 that is not JSON

def test_a_login_page_on_a_read_is_retried(mock, client):
    add_token(mock)
    mock.add(responses.GET, MEMBERS, body=LOGIN_PAGE, content_type='text/html')
    mock.add(responses.GET, MEMBERS, json={'members': [{'member_id': PROJECT}]})
    assert client.list_members(IMAGE) == [{'member_id': PROJECT}]
    assert client.stats['retries'] == 1


def test_a_login_page_on_every_read_attempt_fails_naming_the_attempts(mock, client):
    add_token(mock)
    mock.add(responses.GET, MEMBERS, body=LOGIN_PAGE, content_type='text/html')
    with pytest.raises(IMSError) as caught:
        client.list_members(IMAGE)
    err = caught.value
    assert err.status == 200 and err.details['attempts'] == 4 and 'uncertain' not in err.details
    assert 'not valid JSON (status 200, Content-Type text/html' in str(err) and str(err).endswith('after 4 attempts')


def test_a_login_page_after_a_batch_submission_is_uncertain_and_not_resent(mock, client):
    add_token(mock)
    mock.add(responses.POST, BATCH, body=LOGIN_PAGE, content_type='text/html')
    with pytest.raises(IMSError) as caught:
        client.submit_member_job('POST', {'images': [IMAGE], 'projects': [PROJECT]})
    assert caught.value.details['uncertain'] is True
    assert 'may have been processed' in str(caught.value)
    assert len([c for c in mock.calls if c.request.url == BATCH]) == 1


def test_an_empty_success_is_not_a_json_problem(mock, client):
    add_token(mock)
    mock.add(responses.DELETE, MEMBERS + '/' + PROJECT, status=204)
    client.remove_member(IMAGE, PROJECT)
    assert client.stats['retries'] == 0


# ---------------------------------------------------------------- plain http

def http_catalog_token(mock):
    add_token(mock, endpoints=[{'interface': 'public', 'region': 'eu-de', 'url': 'http://ims.eu-de.example.test'}])


def test_a_token_from_https_is_not_sent_over_http(mock, tmp_path):
    http_catalog_token(mock)
    client = IMSClient(make_config(tmp_path, token_cache=False))
    with pytest.raises(IMSError) as caught:
        client.list_members(IMAGE)
    message = str(caught.value)
    assert 'refusing to send the token obtained over https from iam.example.test in clear over http to ' \
           'http://ims.eu-de.example.test' in message and 'allow_insecure_http' in message
    assert [c.request.url for c in mock.calls] == [TOKENS]
    assert 'tok-1' not in message


def test_allow_insecure_http_sends_it(mock, tmp_path):
    http_catalog_token(mock)
    mock.add(responses.GET, 'http://ims.eu-de.example.test/v2/images/%s/members' % IMAGE, json={'members': []})
    client = IMSClient(make_config(tmp_path, token_cache=False, allow_insecure_http=True))
    assert client.list_members(IMAGE) == []
    assert mock.calls[1].request.headers['X-Auth-Token'] == 'tok-1'


def test_http_everywhere_is_a_lab_and_allowed(mock, tmp_path):
    mock.add(responses.POST, 'http://iam.lab.test/v3/auth/tokens', status=201, headers={'X-Subject-Token': 'tok-1'},
             json={'token': {'project': {'id': PROJECT}, 'catalog': []}})
    mock.add(responses.GET, 'http://ims.lab.test/v2/images/%s/members' % IMAGE, json={'members': []})
    client = IMSClient(make_config(tmp_path, token_cache=False, auth_url='http://iam.lab.test/v3',
                                   ims_endpoint='http://ims.lab.test'))
    assert client.list_members(IMAGE) == []


# ---------------------------------------------------------------- redirects, TLS, attempts

def test_a_refused_redirect_names_its_location_host(mock, client):
    add_token(mock)
    mock.add(responses.GET, MEMBERS, status=302, headers={'Location': 'https://login.proxy.test/sso?next=x'})
    with pytest.raises(IMSError) as caught:
        client.list_members(IMAGE)
    assert caught.value.status == 302
    assert 'redirect to login.proxy.test refused' in str(caught.value)
    assert not any(c.request.url.startswith('https://login.proxy.test') for c in mock.calls)


def test_a_tls_failure_names_the_ca_bundle_and_the_options(mock, tmp_path):
    add_token(mock)
    mock.add(responses.GET, MEMBERS, body=requests.exceptions.SSLError('certificate verify failed'))
    bundle = tmp_path / 'corp-ca.pem'
    client = IMSClient(make_config(tmp_path, token_cache=False, verify=str(bundle)))
    with pytest.raises(IMSError) as caught:
        client.list_members(IMAGE)
    message = str(caught.value)
    assert 'checked against %s' % bundle in message and 'ca_cert' in message and 'validate_certs: false' in message
    assert caught.value.details['ca_bundle'] == str(bundle)


def test_the_default_ca_bundle_is_named(mock, client, monkeypatch):
    monkeypatch.delenv('REQUESTS_CA_BUNDLE', raising=False)
    monkeypatch.delenv('CURL_CA_BUNDLE', raising=False)
    add_token(mock)
    mock.add(responses.GET, MEMBERS, body=requests.exceptions.SSLError('certificate verify failed'))
    with pytest.raises(IMSError) as caught:
        client.list_members(IMAGE)
    assert caught.value.details['ca_bundle'] == '%s (the default bundle of requests)' % requests.certs.where()


def test_an_http_failure_after_retries_says_how_many_attempts(mock, client):
    add_token(mock)
    mock.add(responses.GET, MEMBERS, status=503, json={'error': {'code': 'IMG.0503', 'message': 'busy'}})
    with pytest.raises(IMSError) as caught:
        client.list_members(IMAGE)
    assert str(caught.value).endswith('busy (gave up after 4 attempts)')


def test_a_failure_without_retries_does_not_mention_attempts(mock, client):
    add_token(mock)
    mock.add(responses.GET, MEMBERS, status=403, json={'error': {'code': 'IMG.0403', 'message': 'no'}})
    with pytest.raises(IMSError) as caught:
        client.list_members(IMAGE)
    assert 'attempts' not in str(caught.value)


# ---------------------------------------------------------------- paging links

def test_a_plus_in_a_next_link_is_sent_as_it_is_signed(mock, tmp_path):
    """A '+' in a followed link is a space (form encoding): sent as %20, so the signed and the sent query agree."""
    endpoint = 'https://ims.private.test'
    first = {'images': [{'id': IMAGES[0], 'name': 'golden image'}], 'next': '/v2/images?name=golden+image&marker=%s' % IMAGES[0]}
    mock.add(responses.GET, endpoint + '/v2/images', json=first)
    mock.add(responses.GET, endpoint + '/v2/images', json={'images': []})
    client = IMSClient(make_config(tmp_path, auth_type='aksk', auth_url=None, username=None, password=None,
                                   access_key='AK', secret_key='SK-SECRET-123', ims_endpoint=endpoint))
    list_images(client, {'name': 'golden image', 'limit': 1})
    second = urlsplit(mock.calls[1].request.url)
    assert 'name=golden%20image' in second.query and '+' not in second.query
    assert dict(parse_qsl(second.query)) == {'name': 'golden image', 'marker': IMAGES[0]}
    assert canonical_query(second.query) == 'marker=%s&name=golden%%20image' % IMAGES[0]


def test_a_literal_plus_in_a_link_stays_a_plus(mock, tmp_path):
    endpoint = 'https://ims.private.test'
    mock.add(responses.GET, endpoint + '/v2/images', json={'images': [{'id': IMAGES[0]}], 'next': '/v2/images?name=c%2B%2B'})
    mock.add(responses.GET, endpoint + '/v2/images', json={'images': []})
    client = IMSClient(make_config(tmp_path, auth_type='aksk', auth_url=None, access_key='AK', secret_key='SK-SECRET-123',
                                   ims_endpoint=endpoint))
    list_images(client, {'limit': 5})
    assert urlsplit(mock.calls[1].request.url).query == 'name=c%2B%2B'


# ---------------------------------------------------------------- the environment (proxies, CA bundle, .netrc)

def test_proxy_and_ca_bundle_variables_apply_as_requests_takes_them(mock, tmp_path, monkeypatch):
    monkeypatch.setenv('https_proxy', 'http://proxy.corp.test:3128')
    monkeypatch.setenv('no_proxy', urlsplit(TOKENS).hostname)   # IAM directly, IMS through the proxy
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', str(tmp_path / 'corp-ca.pem'))
    add_token(mock)
    mock.add(responses.GET, MEMBERS, json={'members': []})
    client = IMSClient(make_config(tmp_path, token_cache=False))
    client.list_members(IMAGE)
    client.list_members(IMAGE)
    sent = dict((call.request.url.split('?')[0], call.request.req_kwargs) for call in mock.calls)
    assert sent[MEMBERS]['proxies'] == {'https': 'http://proxy.corp.test:3128', 'no': urlsplit(TOKENS).hostname}
    assert sent[TOKENS]['proxies'] == {}
    assert sent[MEMBERS]['verify'] == sent[TOKENS]['verify'] == str(tmp_path / 'corp-ca.pem')


def test_an_explicit_ca_cert_wins_over_the_environment(mock, tmp_path, monkeypatch):
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', str(tmp_path / 'corp-ca.pem'))
    add_token(mock)
    mock.add(responses.GET, MEMBERS, json={'members': []})
    IMSClient(make_config(tmp_path, token_cache=False, verify=str(tmp_path / 'own.pem'))).list_members(IMAGE)
    assert [call.request.req_kwargs['verify'] for call in mock.calls] == [str(tmp_path / 'own.pem')] * 2


def test_a_netrc_password_never_reaches_the_cloud(mock, tmp_path, monkeypatch):
    netrc = tmp_path / 'netrc'
    netrc.write_text('machine %s login alice password netrc-secret\n' % urlsplit(IMS).hostname)
    netrc.chmod(0o600)
    monkeypatch.setenv('NETRC', str(netrc))
    add_token(mock)
    mock.add(responses.GET, MEMBERS, json={'members': []})
    IMSClient(make_config(tmp_path, token_cache=False)).list_members(IMAGE)
    assert 'Authorization' not in mock.calls[-1].request.headers
    assert mock.calls[-1].request.headers['X-Auth-Token']
