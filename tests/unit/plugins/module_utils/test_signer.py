# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.imscloud.sharing.plugins.module_utils.signer import (
    EMPTY_BODY_SHA256,
    canonical_query,
    canonical_uri,
    host_header,
    parse_authorization,
    sign_request,
)

AK = 'HPUAEXAMPLEAK'
SK = 'exampleSecretKey0123456789'
PROJECT = '0123456789abcdef0123456789abcdef'
NOW = datetime(2024, 4, 16, 9, 53, 41, tzinfo=timezone.utc)
URL = 'https://ims.eu-de.otc.t-systems.com/v1/cloudimages/members?b=2&a=x%20y&a=1&c='
BODY = b'{"images": ["img-1"], "projects": ["p"]}'
HEADERS = {'Content-Type': 'application/json', 'X-Project-Id': PROJECT, 'User-Agent': 'imscloud.sharing',
           'X-Auth-Token': 'not-signed'}
AUTH_PATTERN = re.compile(r'^SDK-HMAC-SHA256 Access=([^,]+), SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$')


def signature_of(headers):
    return AUTH_PATTERN.match(headers['Authorization']).group(3)


def test_known_answer_vector_recomputed_by_hand():
    signed = sign_request('post', URL, HEADERS, BODY, AK, SK, now=NOW)
    # ims_api.md §1.4, written out for this request: path with a trailing '/', query sorted by key then value and
    # re-encoded with %20, lower-case signed headers (each line ending in \n), an empty line, the signed header
    # list, the hex SHA-256 of the body.
    canonical_request = (
        'POST\n'
        '/v1/cloudimages/members/\n'
        'a=1&a=x%20y&b=2&c=\n'
        'content-type:application/json\n'
        'host:ims.eu-de.otc.t-systems.com\n'
        'x-project-id:0123456789abcdef0123456789abcdef\n'
        'x-sdk-date:20240416T095341Z\n'
        '\n'
        'content-type;host;x-project-id;x-sdk-date\n'
        + hashlib.sha256(BODY).hexdigest()
    )
    string_to_sign = 'SDK-HMAC-SHA256\n20240416T095341Z\n' + hashlib.sha256(canonical_request.encode()).hexdigest()
    expected = hmac.new(SK.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    # The same value computed with `openssl dgst -sha256 -hmac` from a shell printf of the canonical request.
    assert expected == '030802d096ad669d162ab322d544e78751c4ee43db05292a25549117869d935f'
    assert signed['Authorization'] == ('SDK-HMAC-SHA256 Access=HPUAEXAMPLEAK, SignedHeaders=content-type;host;x-project-id;'
                                       'x-sdk-date, Signature=' + expected)
    assert signed['X-Sdk-Date'] == '20240416T095341Z'
    assert signed['Host'] == 'ims.eu-de.otc.t-systems.com'


def test_original_headers_are_kept_and_not_modified():
    original = dict(HEADERS)
    signed = sign_request('POST', URL, original, BODY, AK, SK, now=NOW)
    assert original == HEADERS
    for name, value in HEADERS.items():
        assert signed[name] == value
    assert set(signed) == set(HEADERS) | {'Host', 'X-Sdk-Date', 'Authorization'}


def test_only_the_defined_headers_are_signed():
    signed = sign_request('GET', 'http://127.0.0.1:8080/v2/images', {'Accept': 'application/json', 'X-Auth-Token': 't',
                                                                     'x-security-token': 'sts'}, None, AK, SK, now=NOW)
    access, signed_headers, _signature = parse_authorization(signed['Authorization'])
    assert access == AK
    assert signed_headers == ['host', 'x-sdk-date', 'x-security-token']


def test_unsigned_headers_do_not_change_the_signature():
    plain = sign_request('POST', URL, HEADERS, BODY, AK, SK, now=NOW)
    extra = dict(HEADERS, Accept='*/*', **{'X-Auth-Token': 'other'})
    assert signature_of(sign_request('POST', URL, extra, BODY, AK, SK, now=NOW)) == signature_of(plain)


@pytest.mark.parametrize('change', [
    dict(method='PUT'),
    dict(url=URL.replace('members', 'member')),
    dict(url=URL.replace('b=2', 'b=3')),
    dict(body=BODY + b' '),
    dict(secret_key=SK + 'x'),
    dict(now=NOW + timedelta(seconds=1)),
    dict(headers=dict(HEADERS, **{'X-Project-Id': 'f' * 32})),
    dict(headers=dict(HEADERS, **{'X-Security-Token': 'sts'})),
    dict(headers=dict(HEADERS, **{'Content-Type': 'application/json;charset=utf8'})),
])
def test_signed_parts_change_the_signature(change):
    args = dict(method='POST', url=URL, headers=HEADERS, body=BODY, access_key=AK, secret_key=SK, now=NOW)
    baseline = signature_of(sign_request(**args))
    args.update(change)
    assert signature_of(sign_request(**args)) != baseline


def test_header_name_case_and_value_whitespace_do_not_matter():
    lower = {'content-type': '  application/json ', 'x-project-id': PROJECT}
    assert signature_of(sign_request('POST', URL, lower, BODY, AK, SK, now=NOW)) == \
        signature_of(sign_request('POST', URL, HEADERS, BODY, AK, SK, now=NOW))


def test_text_body_is_signed_as_utf8_and_empty_body_hash():
    assert signature_of(sign_request('POST', URL, HEADERS, BODY.decode(), AK, SK, now=NOW)) == \
        signature_of(sign_request('POST', URL, HEADERS, BODY, AK, SK, now=NOW))
    assert EMPTY_BODY_SHA256 == 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    assert signature_of(sign_request('GET', URL, {}, None, AK, SK, now=NOW)) == \
        signature_of(sign_request('GET', URL, {}, b'', AK, SK, now=NOW))


def test_unsigned_payload_header_replaces_the_body_hash():
    headers = {'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD'}
    first = sign_request('PUT', URL, headers, b'one', AK, SK, now=NOW)
    second = sign_request('PUT', URL, headers, b'two', AK, SK, now=NOW)
    assert signature_of(first) == signature_of(second)
    assert parse_authorization(first['Authorization'])[1] == ['host', 'x-sdk-content-sha256', 'x-sdk-date']


def test_date_from_aware_or_naive_datetime_or_existing_header():
    cet = timezone(timedelta(hours=2))
    aware = sign_request('GET', URL, {}, None, AK, SK, now=datetime(2024, 4, 16, 11, 53, 41, tzinfo=cet))
    naive = sign_request('GET', URL, {}, None, AK, SK, now=datetime(2024, 4, 16, 9, 53, 41))
    header = sign_request('GET', URL, {'x-sdk-date': '20240416T095341Z'}, None, AK, SK)
    assert aware['X-Sdk-Date'] == naive['X-Sdk-Date'] == '20240416T095341Z'
    assert header['x-sdk-date'] == '20240416T095341Z' and 'X-Sdk-Date' not in header
    assert signature_of(aware) == signature_of(naive) == signature_of(header)


def test_now_replaces_an_existing_date_header():
    signed = sign_request('GET', URL, {'x-sdk-date': '20000101T000000Z'}, None, AK, SK, now=NOW)
    assert [name for name in signed if name.lower() == 'x-sdk-date'] == ['X-Sdk-Date']
    assert signed['X-Sdk-Date'] == '20240416T095341Z'


def test_current_time_is_used_by_default():
    before = datetime.now(timezone.utc).replace(microsecond=0)
    signed = sign_request('GET', URL, None, None, AK, SK)
    after = datetime.now(timezone.utc)
    stamped = datetime.strptime(signed['X-Sdk-Date'], '%Y%m%dT%H%M%SZ').replace(tzinfo=timezone.utc)
    assert before <= stamped <= after


def test_malformed_date_header_and_missing_keys_are_errors():
    with pytest.raises(ValueError):
        sign_request('GET', URL, {'X-Sdk-Date': '2024-04-16 09:53:41'}, None, AK, SK)
    with pytest.raises(ValueError):
        sign_request('GET', URL, {}, None, AK, '', now=NOW)
    with pytest.raises(ValueError):
        sign_request('GET', URL, {}, None, '', SK, now=NOW)


def test_existing_authorization_is_replaced_and_host_kept():
    signed = sign_request('GET', 'https://ims.example.test:8443/v2/images', {'authorization': 'old', 'HOST': 'proxy.test'},
                          None, AK, SK, now=NOW)
    assert 'authorization' not in signed
    assert signed['HOST'] == 'proxy.test' and 'Host' not in signed
    assert signed['Authorization'].startswith('SDK-HMAC-SHA256 Access=HPUAEXAMPLEAK, SignedHeaders=host;x-sdk-date, ')


@pytest.mark.parametrize('url, host', [
    ('https://ims.example.test/v2', 'ims.example.test'),
    ('https://ims.example.test:443/v2', 'ims.example.test'),
    ('http://127.0.0.1:80/v2', '127.0.0.1'),
    ('http://127.0.0.1:8080/v2', '127.0.0.1:8080'),
    ('https://ims.example.test:80/', 'ims.example.test:80'),
    ('http://user:pw@[::1]:9000/x', '[::1]:9000'),
])
def test_host_header(url, host):
    assert host_header(url) == host


@pytest.mark.parametrize('path, expected', [
    ('', '/'),
    ('/', '/'),
    ('/v2/images', '/v2/images/'),
    ('/v2/images/', '/v2/images/'),
    ('/v2/images/a%20b/members', '/v2/images/a%20b/members/'),
    ('/v2/images/a b', '/v2/images/a%20b/'),
    ('/v1/x~y/a+b/%C3%A9', '/v1/x~y/a%2Bb/%C3%A9/'),
])
def test_canonical_uri(path, expected):
    assert canonical_uri(path) == expected


@pytest.mark.parametrize('query, expected', [
    ('', ''),
    ('limit=10', 'limit=10'),
    ('name=my%20image&owner=p', 'name=my%20image&owner=p'),
    ('name=a+b', 'name=a%2Bb'),           # '+' is a plus sign, as in the Huawei SDK
    ('z=1&a=2&m', 'a=2&m=&z=1'),
    ('k=b&k=a&k=c', 'k=a&k=b&k=c'),
    ('=x&&k=%7E', 'k=~'),
    ('t%C3%A9=%C3%A9', 't%C3%A9=%C3%A9'),
])
def test_canonical_query(query, expected):
    assert canonical_query(query) == expected


@pytest.mark.parametrize('value', [
    '', 'Bearer x', 'SDK-HMAC-SHA256 Credential=AK/20240416///sdk_request, SignedHeaders=host, Signature=00',
    'SDK-HMAC-SHA256 Access=AK, SignedHeaders=host', 'SDK-HMAC-SHA256 Access=AK SignedHeaders=host Signature=0',
    'SDK-HMAC-SHA256 Access=AK, SignedHeaders, Signature=0',
])
def test_parse_authorization_rejects_other_forms(value):
    assert parse_authorization(value) is None
