# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-side helpers for the emulator self-tests: seed lookups, an HTTP client and an AK/SK signer.

The signer is written from ims_api.md section 1.4, independently of the emulator and of the collection's client.
"""

import base64
import hashlib
import hmac
import os
import struct
import time
from datetime import datetime, timezone
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import requests
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
EMULATOR_DIR = os.path.join(ROOT, 'tests', 'emulator')
TEST_SEED = os.path.join(EMULATOR_DIR, 'seeds', 'test.yml')
DEMO_SEED = os.path.join(EMULATOR_DIR, 'seeds', 'demo.yml')

with open(TEST_SEED, encoding='utf-8') as _handle:
    SEED = yaml.safe_load(_handle)

DOMAIN = SEED['domains'][0]['name']
DOMAIN_ID = SEED['domains'][0]['id']
# Short names: owner, consumer, consumer2, other, remote.
PROJECTS = dict((p['name'].split('_', 1)[1], p['id']) for p in SEED['projects'])
PROJECT_NAMES = dict((p['name'].split('_', 1)[1], p['name']) for p in SEED['projects'])
USERS = dict((u['name'], u) for u in SEED['users'])
USER_OF = {'owner': 'owner-user', 'consumer': 'consumer-user', 'consumer2': 'consumer2-user', 'other': 'other-user',
           'remote': 'remote-user'}
IMAGES = {}
for _image in SEED['images']:
    IMAGES.setdefault(_image['name'], _image['id'])
DUPLICATE_IDS = [i['id'] for i in SEED['images'] if i['name'] == 'duplicate-name']
OWNER_IMAGE_IDS = [i['id'] for i in SEED['images'] if i['owner'] == 'eu-de_owner']
UNKNOWN_IMAGE = '0fffffff-0000-4000-8000-00000000dead'
UNKNOWN_PROJECT = 'f' * 32

# The session emulator's job duration: short jobs keep the suite fast; tests watching INIT/RUNNING set their own.
JOB_DURATION = 0.1


def sdk_date(ts=None):
    return datetime.fromtimestamp(time.time() if ts is None else ts, timezone.utc).strftime('%Y%m%dT%H%M%SZ')


def sign_request(method, url, headers, body, access_key, secret_key):
    """Return the Authorization header value of the documented 'Access=' form of SDK-HMAC-SHA256.

    headers must already hold every header to sign, Host and X-Sdk-Date included.
    """
    parts = urlsplit(url)
    path = parts.path or '/'
    canonical_uri = '/'.join(quote(unquote(segment), safe='~') for segment in path.split('/'))
    if not canonical_uri.endswith('/'):
        canonical_uri += '/'
    query = sorted(parse_qsl(parts.query, keep_blank_values=True))
    canonical_query = '&'.join('%s=%s' % (quote(k, safe='~'), quote(v, safe='~')) for k, v in query)
    lowered = dict((name.lower(), str(value).strip()) for name, value in headers.items())
    signed = sorted(lowered)
    canonical_headers = ''.join('%s:%s\n' % (name, lowered[name]) for name in signed)
    payload_hash = lowered.get('x-sdk-content-sha256') or hashlib.sha256(body or b'').hexdigest()
    canonical_request = '%s\n%s\n%s\n%s\n%s\n%s' % (
        method.upper(), canonical_uri, canonical_query, canonical_headers, ';'.join(signed), payload_hash)
    string_to_sign = 'SDK-HMAC-SHA256\n%s\n%s' % (lowered['x-sdk-date'], hashlib.sha256(canonical_request.encode('utf-8')).hexdigest())
    signature = hmac.new(secret_key.encode('utf-8'), string_to_sign.encode('utf-8'), hashlib.sha256).hexdigest()
    return 'SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%s' % (access_key, ';'.join(signed), signature)


def sign_request_scoped(method, url, headers, body, access_key, secret_key):
    """The 'Credential=' variant (gophertelekomcloud): derived key and a YYYYMMDD///sdk_request scope."""
    parts = urlsplit(url)
    canonical_uri = '/'.join(quote(unquote(s), safe='~') for s in (parts.path or '/').split('/'))
    canonical_uri += '' if canonical_uri.endswith('/') else '/'
    query = sorted(parse_qsl(parts.query, keep_blank_values=True))
    canonical_query = '&'.join('%s=%s' % (quote(k, safe='~'), quote(v, safe='~')) for k, v in query)
    lowered = dict((name.lower(), str(value).strip()) for name, value in headers.items())
    signed = sorted(lowered)
    canonical_request = '\n'.join([method.upper(), canonical_uri, canonical_query,
                                   ''.join('%s:%s\n' % (n, lowered[n]) for n in signed), ';'.join(signed),
                                   hashlib.sha256(body or b'').hexdigest()])
    date = lowered['x-sdk-date']
    scope = '%s///sdk_request' % date[:8]
    string_to_sign = 'SDK-HMAC-SHA256\n%s\n%s\n%s' % (date, scope, hashlib.sha256(canonical_request.encode('utf-8')).hexdigest())
    key = ('SDK' + secret_key).encode('utf-8')
    for part in (date[:8], '', '', 'sdk_request'):
        key = hmac.new(key, part.encode('utf-8'), hashlib.sha256).digest()
    signature = hmac.new(key, string_to_sign.encode('utf-8'), hashlib.sha256).hexdigest()
    return 'SDK-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s' % (access_key, scope, ';'.join(signed), signature)


def totp_code(secret, when):
    """RFC 6238 (SHA1, 6 digits, 30 s) at epoch seconds `when`, written from the RFC for the tests."""
    key = base64.b32decode(secret + '=' * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack('>Q', int(when) // 30), hashlib.sha1).digest()
    offset = digest[19] & 15
    return '%06d' % ((struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000)


def password_auth(user, password, scope):
    return {'auth': {'identity': {'methods': ['password'],
                                  'password': {'user': {'name': user, 'password': password, 'domain': {'name': DOMAIN}}}},
                     'scope': scope}}


class Cloud(object):
    """An HTTP client for one emulator: tokens per seed project, plain and AK/SK-signed calls."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.url = emulator.url
        self.verify = emulator.verify
        self.tokens = {}

    # -- IAM
    def issue(self, body, params=None, headers=None):
        return requests.post(self.url + '/v3/auth/tokens', json=body, params=params, headers=headers, verify=self.verify, timeout=30)

    def token(self, who='owner'):
        if who not in self.tokens:
            user = USERS[USER_OF[who]]
            response = self.issue(password_auth(user['name'], user['password'], {'project': {'id': PROJECTS[who]}}))
            assert response.status_code == 201, response.text
            self.tokens[who] = response.headers['X-Subject-Token']
        return self.tokens[who]

    # -- IMS
    def call(self, method, path, who='owner', json=None, headers=None, accept='application/json', token=None, **kwargs):
        all_headers = {}
        if accept is not None:
            all_headers['Accept'] = accept
        if who is not None:
            all_headers['X-Auth-Token'] = token or self.token(who)
        all_headers.update(headers or {})
        return requests.request(method, self.url + path, json=json, headers=all_headers, verify=self.verify, timeout=30, **kwargs)

    def get(self, path, who='owner', **kwargs):
        return self.call('GET', path, who, **kwargs)

    def add_member(self, image_id, member_id, who='owner'):
        return self.call('POST', '/v2/images/%s/members' % image_id, who, json={'member': member_id})

    def set_status(self, image_id, member_id, status, who):
        return self.call('PUT', '/v2/images/%s/members/%s' % (image_id, member_id), who, json={'status': status})

    def aksk_call(self, method, path, access_key, secret_key, project_id=None, body=None, params=None, date=None,
                  extra_headers=None, scoped=False, content_type='application/json'):
        url = self.url + path
        if params:
            url += '?' + urlencode(params)
        headers = {'Host': urlsplit(self.url).netloc, 'X-Sdk-Date': date or sdk_date()}
        if content_type:
            headers['Content-Type'] = content_type
        if project_id:
            headers['X-Project-Id'] = project_id
        headers.update(extra_headers or {})
        raw = body if isinstance(body, bytes) else (body.encode('utf-8') if body is not None else b'')
        signer = sign_request_scoped if scoped else sign_request
        headers['Authorization'] = signer(method, url, headers, raw, access_key, secret_key)
        headers['Accept'] = 'application/json'
        return requests.request(method, url, data=raw, headers=headers, verify=self.verify, timeout=30)

    # -- batch jobs
    def submit(self, method, payload, who='owner'):
        response = self.call(method, '/v1/cloudimages/members', who, json=payload)
        assert response.status_code == 200, response.text
        return response.json()['job_id']

    def job(self, job_id, who='owner'):
        return self.call('GET', '/v1/%s/jobs/%s' % (PROJECTS[who], job_id), who)

    def wait_job(self, job_id, who='owner', timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            response = self.job(job_id, who)
            assert response.status_code == 200, response.text
            body = response.json()
            if body['status'] in ('SUCCESS', 'FAIL') or time.monotonic() > deadline:
                return body
            time.sleep(0.05)

    # -- state
    def member_rows(self, image_id=None):
        rows = self.emulator.state()['members']
        return dict(((r['image_id'], r['member_id']), r['status']) for r in rows if image_id in (None, r['image_id']))
