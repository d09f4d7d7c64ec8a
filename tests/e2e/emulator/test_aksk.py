# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AK/SK: SDK-HMAC-SHA256 signatures (ims_api.md section 1.4) with X-Project-Id."""

import hashlib
import hmac
import json
import time
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import requests

from emutest import IMAGES, PROJECTS, USERS, sdk_date, sign_request

OWNER = USERS['owner-user']
MULTI = USERS['multi-user']
IMAGE = IMAGES['shareable-01']


def owner_call(cloud, method, path, **kwargs):
    kwargs.setdefault('project_id', PROJECTS['owner'])
    return cloud.aksk_call(method, path, OWNER['access_key'], OWNER['secret_key'], **kwargs)


def assert_gateway_401(response, code='APIGW.0301', text=None):
    assert response.status_code == 401, response.text
    body = response.json()
    assert body['error_code'] == code
    assert body['request_id'] == response.headers['X-Request-Id']
    if text:
        assert text in body['error_msg']


def test_signed_get_and_post(cloud):
    listed = owner_call(cloud, 'GET', '/v2/images', params={'name': 'shareable-01', 'limit': '5'})
    assert listed.status_code == 200, listed.text
    assert [image['id'] for image in listed.json()['images']] == [IMAGE]
    added = owner_call(cloud, 'POST', '/v2/images/%s/members' % IMAGE, body=json.dumps({'member': PROJECTS['consumer']}))
    assert added.status_code == 200, added.text
    assert cloud.member_rows(IMAGE) == {(IMAGE, PROJECTS['consumer']): 'pending'}
    job = owner_call(cloud, 'POST', '/v1/cloudimages/members',
                     body=json.dumps({'images': [IMAGES['shareable-02']], 'projects': [PROJECTS['consumer']]}))
    assert job.status_code == 200
    polled = owner_call(cloud, 'GET', '/v1/%s/jobs/%s' % (PROJECTS['owner'], job.json()['job_id']))
    assert polled.status_code == 200
    assert cloud.emulator.stats()['by_auth'] == {'token': 0, 'aksk': 4, 'none': 0}


def test_non_ascii_query_and_repeated_keys_are_canonicalized(cloud):
    listed = owner_call(cloud, 'GET', '/v2/images', params={'name': 'bild-grün-日本'})
    assert listed.status_code == 200, listed.text
    assert [image['id'] for image in listed.json()['images']] == [IMAGES['bild-grün-日本']]
    # Keys and the values of a repeated key are sorted before signing: send them unsorted.
    repeated = owner_call(cloud, 'GET', '/v2/images?sort_dir=asc&name=shareable-02&limit=2&name=shareable-01')
    assert repeated.status_code == 200, repeated.text


def test_unsigned_payload_header_is_honoured(cloud):
    response = owner_call(cloud, 'POST', '/v2/images/%s/members' % IMAGE, body=json.dumps({'member': PROJECTS['consumer']}),
                          extra_headers={'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD'})
    assert response.status_code == 200, response.text


def test_scoped_credential_form_is_accepted(cloud):
    response = owner_call(cloud, 'GET', '/v2/images', scoped=True)
    assert response.status_code == 200, response.text


def test_bad_signature(cloud):
    response = cloud.aksk_call('GET', '/v2/images', OWNER['access_key'], 'not-the-secret', project_id=PROJECTS['owner'])
    assert_gateway_401(response, text='verify aksk signature fail')


def test_body_changed_after_signing(cloud):
    url = '/v2/images/%s/members' % IMAGE
    signed = owner_call(cloud, 'POST', url, body=json.dumps({'member': PROJECTS['consumer']}))
    assert signed.status_code == 200
    # Same headers and signature, different body.
    request = signed.request
    replay = requests.post(request.url, data=json.dumps({'member': PROJECTS['consumer2']}).encode(),
                           headers=dict(request.headers), timeout=10)
    assert_gateway_401(replay, text='verify aksk signature fail')


def test_unknown_access_key(cloud):
    response = cloud.aksk_call('GET', '/v2/images', 'NOSUCHAK000000000000', 'whatever', project_id=PROJECTS['owner'])
    assert_gateway_401(response, text='NOSUCHAK000000000000')


def test_clock_skew_over_15_minutes(cloud):
    assert owner_call(cloud, 'GET', '/v2/images', date=sdk_date(time.time() - 14 * 60)).status_code == 200
    assert_gateway_401(owner_call(cloud, 'GET', '/v2/images', date=sdk_date(time.time() - 16 * 60)), code='APIGW.0303',
                       text='signature expired')
    assert_gateway_401(owner_call(cloud, 'GET', '/v2/images', date=sdk_date(time.time() + 16 * 60)), code='APIGW.0303')
    assert_gateway_401(owner_call(cloud, 'GET', '/v2/images', date='2024-01-01T00:00:00Z'), text='X-Sdk-Date')


def test_clock_offset_applies_to_signatures(cloud):
    cloud.emulator.configure(clock_offset=20 * 60)
    assert_gateway_401(owner_call(cloud, 'GET', '/v2/images'), code='APIGW.0303')
    assert owner_call(cloud, 'GET', '/v2/images', date=sdk_date(time.time() + 20 * 60)).status_code == 200


def test_project_selection_with_x_project_id(cloud):
    cloud.add_member(IMAGE, PROJECTS['consumer2'])
    path = '/v2/images/%s/members' % IMAGE
    ak, sk = MULTI['access_key'], MULTI['secret_key']
    as_consumer2 = cloud.aksk_call('GET', path, ak, sk, project_id=PROJECTS['consumer2'])
    assert as_consumer2.status_code == 200
    assert [m['member_id'] for m in as_consumer2.json()['members']] == [PROJECTS['consumer2']]
    # As consumer the image is invisible (no membership).
    assert cloud.aksk_call('GET', path, ak, sk, project_id=PROJECTS['consumer']).status_code == 404
    assert_gateway_401(cloud.aksk_call('GET', path, ak, sk), text='X-Project-Id')
    assert_gateway_401(cloud.aksk_call('GET', path, ak, sk, project_id=PROJECTS['owner']), text='no access')
    # A single-project user may leave X-Project-Id out.
    assert owner_call(cloud, 'GET', '/v2/images', project_id=None).status_code == 200


def test_body_over_12_mb(cloud):
    huge = b'{"member": "' + b'x' * (12 * 1024 * 1024) + b'"}'
    response = owner_call(cloud, 'POST', '/v2/images/%s/members' % IMAGE, body=huge)
    assert_gateway_401(response, text='body too large')


def test_glance_mode_does_not_know_aksk(cloud):
    cloud.emulator.configure(mode='glance')
    response = owner_call(cloud, 'GET', '/v2/images')
    assert response.status_code == 401
    assert set(response.json()) == {'code', 'message', 'title'}


def gopher_signature(method, url, headers, body, access_key, secret_key):
    """gophertelekomcloud's form (signer_helper.go), written from its description: the scoped Credential= header,
    the query keys sorted case-insensitively and only the first value of a repeated key signed."""
    parts = urlsplit(url)
    values = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        values.setdefault(key, value)
    keys = sorted(values, key=lambda k: quote(k, safe='~').lower())
    query = '&'.join('%s=%s' % (quote(k, safe='~'), quote(values[k], safe='~')) for k in keys)
    lowered = dict((name.lower(), str(value).strip()) for name, value in headers.items())
    signed = sorted(lowered)
    path = '/'.join(quote(unquote(s), safe='~') for s in parts.path.split('/'))
    canonical = '\n'.join([method, path if path.endswith('/') else path + '/', query,
                           ''.join('%s:%s\n' % (n, lowered[n]) for n in signed), ';'.join(signed),
                           hashlib.sha256(body).hexdigest()])
    date = lowered['x-sdk-date']
    scope = '%s///sdk_request' % date[:8]
    key = ('SDK' + secret_key).encode()
    for part in (date[:8], '', '', 'sdk_request'):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    text = 'SDK-HMAC-SHA256\n%s\n%s\n%s' % (date, scope, hashlib.sha256(canonical.encode()).hexdigest())
    return 'SDK-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s' % (
        access_key, scope, ';'.join(signed), hmac.new(key, text.encode(), hashlib.sha256).hexdigest())


def gopher_get(cloud, path_and_query, secret_key=None):
    url = cloud.url + path_and_query
    headers = {'Host': urlsplit(cloud.url).netloc, 'X-Sdk-Date': sdk_date(), 'Content-Type': 'application/json'}
    headers['Authorization'] = gopher_signature('GET', url, headers, b'', OWNER['access_key'], secret_key or OWNER['secret_key'])
    headers['X-Project-Id'] = PROJECTS['owner']  # added after signing, as gophertelekomcloud does
    return requests.get(url, headers=headers, timeout=30)


def test_gophertelekomcloud_signatures_are_accepted(cloud):
    # A repeated key (only its first value signed) and keys whose case-insensitive order differs from byte order.
    path = '/v2/images?name=shareable-01&Sort_key=name&limit=5&name=shareable-02'
    response = gopher_get(cloud, path)
    assert response.status_code == 200, response.text
    # Both forms are honest signatures; a wrong secret is still refused in either.
    assert_gateway_401(gopher_get(cloud, path, secret_key='wrong-secret'), text='verify aksk signature fail')
    tampered = gopher_get(cloud, '/v2/images?name=shareable-01&limit=5')
    assert tampered.status_code == 200
    headers = dict(tampered.request.headers)
    forged = requests.get(cloud.url + '/v2/images?name=shareable-02&limit=5', headers=headers, timeout=30)
    assert_gateway_401(forged, text='verify aksk signature fail')


def test_plus_in_a_query_means_a_space(cloud):
    """The gateway decodes queries with form semantics: '+' is a space, a literal plus travels as %2B."""
    space = owner_call(cloud, 'GET', '/v2/images', params={'name': 'golden image'})  # sent as name=golden+image
    assert space.status_code == 200, space.text
    assert '?name=golden+image' in space.request.url
    # Signed with the plus as a plus (%2B) but sent as '+': the server reads a space, so the signature fails.
    url = cloud.url + '/v2/images?name=a%2Bb'
    headers = {'Host': urlsplit(cloud.url).netloc, 'X-Sdk-Date': sdk_date(), 'X-Project-Id': PROJECTS['owner']}
    headers['Authorization'] = sign_request('GET', url, headers, b'', OWNER['access_key'], OWNER['secret_key'])
    assert requests.get(url, headers=headers, timeout=30).status_code == 200
    assert_gateway_401(requests.get(cloud.url + '/v2/images?name=a+b', headers=headers, timeout=30))
