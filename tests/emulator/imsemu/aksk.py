# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AK/SK request signatures (SDK-HMAC-SHA256, ims_api.md section 1.4), verified from the documented algorithm.

Written independently of the collection's plugins/module_utils/signer.py on purpose: this is the oracle the
client's signer is tested against, so it must not share its code (or its mistakes).
"""

import hashlib
import hmac
import re
from urllib.parse import quote

from .clock import parse_sdk_date, sdk_date

SIGNATURE_MAX_SKEW = 15 * 60
AKSK_MAX_BODY = 12 * 1024 * 1024
IAM_PREFIX = 'Incorrect IAM authentication information: '


class SignatureError(Exception):
    """The request's signature is not acceptable: message and gateway error code."""

    def __init__(self, message, code='APIGW.0301'):
        super(SignatureError, self).__init__(message)
        self.message = message
        self.code = code


def canonical_uri(path):
    uri = '/'.join(quote(segment, safe='~') for segment in path.split('/'))
    return uri if uri.endswith('/') else uri + '/'


def canonical_query(args):
    """The documented form: every key=value pair URI-encoded, sorted by key then value."""
    pairs = sorted((key, value) for key, value in args.items(multi=True))
    return '&'.join('%s=%s' % (quote(k, safe='~'), quote(v, safe='~')) for k, v in pairs)


def gopher_canonical_query(args):
    """The form gophertelekomcloud's signer (signer_helper.go encodeQueryString) produces: the encoded keys sorted
    case-insensitively, and only the first value of a repeated key."""
    keys = sorted(dict.fromkeys(args.keys()), key=lambda k: quote(k, safe='~').lower())
    return '&'.join('%s=%s' % (quote(k, safe='~'), quote(args.get(k), safe='~')) for k in keys)


def parse_authorization(value):
    """'SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex' -> dict, or None if malformed."""
    algorithm, _sep, rest = value.strip().partition(' ')
    if algorithm != 'SDK-HMAC-SHA256':
        return None
    fields = {}
    for part in rest.split(','):
        key, sep, val = part.strip().partition('=')
        if not sep:
            return None
        fields[key] = val
    if 'SignedHeaders' not in fields or 'Signature' not in fields:
        return None
    if ('Access' in fields) == ('Credential' in fields):
        return None
    return fields


def _hmac(key, message):
    return hmac.new(key, message.encode('utf-8'), hashlib.sha256).digest()


def check_preconditions(authorization, headers, body, now):
    """Parse the header and check the body size and X-Sdk-Date skew. Returns (fields, access_key, scope, date)."""
    if len(body) > AKSK_MAX_BODY:
        raise SignatureError(IAM_PREFIX + 'calc aksk signature fail:body too large')
    fields = parse_authorization(authorization)
    if fields is None:
        raise SignatureError(IAM_PREFIX + 'Authorization header is malformed')
    date = headers.get('X-Sdk-Date', '')
    try:
        signed_at = parse_sdk_date(date)
    except ValueError:
        raise SignatureError(IAM_PREFIX + 'X-Sdk-Date is missing or malformed')
    if abs(now - signed_at) > SIGNATURE_MAX_SKEW:
        raise SignatureError('Incorrect app authentication information: signature expired, signature time:%s,server time:%s'
                             % (date, sdk_date(now)), code='APIGW.0303')
    if 'Credential' in fields:
        access_key, _sep, scope = fields['Credential'].partition('/')
    else:
        access_key, scope = fields['Access'], None
    return fields, access_key, scope, date


def canonical_request(method, path, query, headers, signed_headers, body, collapse_spaces=False):
    """The canonical request text; raises SignatureError when a signed header is missing or misnamed.

    collapse_spaces: header values with runs of white space made one space (gophertelekomcloud's signer).
    """
    if 'host' not in signed_headers or 'x-sdk-date' not in signed_headers or signed_headers != sorted(signed_headers):
        raise SignatureError(IAM_PREFIX + 'SignedHeaders must be sorted and include host and x-sdk-date')
    header_lines = []
    for name in signed_headers:
        if name != name.lower() or name not in headers:
            raise SignatureError(IAM_PREFIX + 'signed header %s is missing' % name)
        value = headers.get(name).strip()
        header_lines.append('%s:%s' % (name, re.sub(r'\s+', ' ', value) if collapse_spaces else value))
    payload_hash = headers.get('X-Sdk-Content-Sha256') or hashlib.sha256(body).hexdigest()
    return '\n'.join([method.upper(), canonical_uri(path), query, '\n'.join(header_lines) + '\n',
                      ';'.join(signed_headers), payload_hash])


def canonical_forms(request, body, signed_headers):
    """Every canonical request a legitimate signer may have produced: the documented one first, then
    gophertelekomcloud's (first value per key, case-insensitive key order, collapsed header spaces)."""
    documented = canonical_request(request.method, request.path, canonical_query(request.args), request.headers,
                                   signed_headers, body)
    gopher = canonical_request(request.method, request.path, gopher_canonical_query(request.args), request.headers,
                               signed_headers, body, collapse_spaces=True)
    return [documented] + ([gopher] if gopher != documented else [])


def expected_signature(secret, date, scope, canonical):
    """The signature of the 'Access=' form (scope None) or of the scoped 'Credential=' form."""
    canonical_hash = hashlib.sha256(canonical.encode('utf-8')).hexdigest()
    if scope is None:
        return hmac.new(secret.encode('utf-8'), ('SDK-HMAC-SHA256\n%s\n%s' % (date, canonical_hash)).encode('utf-8'),
                        hashlib.sha256).hexdigest()
    parts = scope.split('/')
    if len(parts) != 4 or parts[3] != 'sdk_request':
        raise SignatureError(IAM_PREFIX + 'bad credential scope')
    key = ('SDK' + secret).encode('utf-8')
    for part in parts:
        key = _hmac(key, part)
    return hmac.new(key, ('SDK-HMAC-SHA256\n%s\n%s\n%s' % (date, scope, canonical_hash)).encode('utf-8'),
                    hashlib.sha256).hexdigest()


def verify(request, body, now, secret_of):
    """Verify an SDK-HMAC-SHA256 signed werkzeug request. secret_of(access_key) -> secret or None.

    Returns the access key; raises SignatureError with the gateway's message otherwise.
    """
    fields, access_key, scope, date = check_preconditions(request.headers.get('Authorization', ''), request.headers, body, now)
    secret = secret_of(access_key)
    if secret is None:
        raise SignatureError(IAM_PREFIX + 'ak %s not found' % access_key)
    signed_headers = fields['SignedHeaders'].split(';')
    forms = canonical_forms(request, body, signed_headers)
    for canonical in forms:
        if hmac.compare_digest(expected_signature(str(secret), date, scope, canonical), fields['Signature']):
            return access_key
    raise SignatureError(IAM_PREFIX + 'verify aksk signature fail, canonicalRequest:%s' % forms[0].replace('\n', '|'))
