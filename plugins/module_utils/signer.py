# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

# AK/SK request signing, "SDK-HMAC-SHA256" with the Access= header form (the API gateway in front of OTC IMS).
#
#   CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n hex(sha256(body))
#   StringToSign     = "SDK-HMAC-SHA256" \n X-Sdk-Date \n hex(sha256(CanonicalRequest))
#   Signature        = hex(HMAC-SHA256(secret key, StringToSign))
#   Authorization: SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<h1;h2>, Signature=<sig>
#
# CanonicalHeaders ends with "\n" and is followed by the "\n" separator (an empty line before SignedHeaders).
# The query is read as the Huawei SDK reads it: split on "&" and "=", each part percent-decoded ("+" stays "+"),
# so the caller should encode spaces in query values as %20 (urllib.parse.urlencode(..., quote_via=quote)).

import hashlib
import hmac
from datetime import datetime, timezone
from typing import Dict, List, Mapping, Optional, Tuple, Union
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

ALGORITHM = 'SDK-HMAC-SHA256'
DATE_HEADER = 'X-Sdk-Date'
DATE_FORMAT = '%Y%m%dT%H%M%SZ'
CONTENT_SHA256_HEADER = 'X-Sdk-Content-Sha256'
# Always signed.
REQUIRED_SIGNED_HEADERS = ('host', 'x-sdk-date')
# Signed when present.
OPTIONAL_SIGNED_HEADERS = ('content-type', 'x-project-id', 'x-security-token', 'x-sdk-content-sha256')
EMPTY_BODY_SHA256 = hashlib.sha256(b'').hexdigest()
_DEFAULT_PORTS = {'http': 80, 'https': 443}


def _encode(text: str) -> str:
    # RFC 3986: only unreserved characters stay as they are.
    return quote(text, safe='~')


def canonical_uri(path: str) -> str:
    """Each path segment percent-encoded (after decoding what the URL already encoded); always ends with '/'."""
    if not path:
        return '/'
    encoded = '/'.join(_encode(segment) for segment in unquote(path).split('/'))
    return encoded if encoded.endswith('/') else encoded + '/'


def canonical_query(query: str) -> str:
    """key=value pairs percent-encoded, sorted by key then value, joined by '&'; '' without a query."""
    pairs: Dict[str, List[str]] = {}
    for item in query.split('&'):
        if not item:
            continue
        key, _sep, value = item.partition('=')
        key = unquote(key)
        if not key:
            continue
        pairs.setdefault(key, []).append(unquote(value))
    return '&'.join('%s=%s' % (_encode(key), _encode(value)) for key in sorted(pairs) for value in sorted(pairs[key]))


def canonical_link(url: str) -> str:
    """A link (a next page) with its query decoded as a form (a '+' is a space) and encoded again as it is signed (%20, %2B)."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = urlencode(parse_qsl(parts.query, keep_blank_values=True), quote_via=quote)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ''))


def host_header(url: str) -> str:
    """host[:port] as sent in the Host header (the scheme's default port left out)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit('@', 1)[-1]
    default = _DEFAULT_PORTS.get(parts.scheme)
    if default and netloc.endswith(':%d' % default):
        netloc = netloc[:-len(':%d' % default)]
    return netloc


def canonical_request(method: str, url: str, headers: Mapping[str, str], signed_headers: List[str], payload_hash: str) -> str:
    """The canonical request; headers maps lower-case names to values, signed_headers is sorted and lower-case."""
    parts = urlsplit(url)
    canonical_headers = ''.join('%s:%s\n' % (name, headers[name].strip()) for name in signed_headers)
    return '%s\n%s\n%s\n%s\n%s\n%s' % (method.upper(), canonical_uri(parts.path), canonical_query(parts.query),
                                       canonical_headers, ';'.join(signed_headers), payload_hash)


def string_to_sign(canonical: str, sdk_date: str) -> str:
    return '%s\n%s\n%s' % (ALGORITHM, sdk_date, hashlib.sha256(canonical.encode('utf-8')).hexdigest())


def signature(secret_key: str, text: str) -> str:
    return hmac.new(secret_key.encode('utf-8'), text.encode('utf-8'), hashlib.sha256).hexdigest()


def format_sdk_date(moment: datetime) -> str:
    """YYYYMMDDTHHMMSSZ in UTC; a naive datetime is taken as UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime(DATE_FORMAT)


def _text(value: Union[str, bytes]) -> str:
    return value.decode('utf-8') if isinstance(value, bytes) else str(value)


def _set_header(headers: Dict[str, str], name: str, value: str) -> None:
    for existing in [key for key in headers if key.lower() == name.lower()]:
        del headers[existing]
    headers[name] = value


def sign_request(method: str, url: str, headers: Optional[Mapping[str, str]], body: Optional[Union[bytes, str]],
                 access_key: str, secret_key: str, now: Optional[datetime] = None) -> Dict[str, str]:
    """The headers to send: the given ones plus Host, X-Sdk-Date and Authorization (Access= form).

    url is the URL exactly as it is sent (query included); body the exact bytes sent (None or b'' when empty).
    Put X-Project-Id (and X-Security-Token for temporary credentials) in headers before signing: they are signed.
    The returned Host header must be sent as is (it is part of the signature).
    """
    if not access_key or not secret_key:
        raise ValueError('AK/SK signing needs both an access key and a secret key')
    result: Dict[str, str] = {}
    for name, value in (headers or {}).items():
        if name.lower() != 'authorization':
            result[name] = _text(value)
    lower = {name.lower(): name for name in result}
    if now is not None:
        sdk_date = format_sdk_date(now)
        _set_header(result, DATE_HEADER, sdk_date)
    elif 'x-sdk-date' in lower:
        sdk_date = result[lower['x-sdk-date']].strip()
        datetime.strptime(sdk_date, DATE_FORMAT)   # ValueError for a malformed date
    else:
        sdk_date = format_sdk_date(datetime.now(timezone.utc))
        _set_header(result, DATE_HEADER, sdk_date)
    if 'host' not in lower:
        result['Host'] = host_header(url)
    by_name = {name.lower(): value for name, value in result.items()}
    signed = sorted(name for name in by_name if name in REQUIRED_SIGNED_HEADERS + OPTIONAL_SIGNED_HEADERS)
    if body is None:
        body = b''
    elif isinstance(body, str):
        body = body.encode('utf-8')
    payload_hash = by_name.get('x-sdk-content-sha256', '').strip() or hashlib.sha256(body).hexdigest()
    canonical = canonical_request(method, url, by_name, signed, payload_hash)
    result['Authorization'] = '%s Access=%s, SignedHeaders=%s, Signature=%s' % (
        ALGORITHM, access_key, ';'.join(signed), signature(secret_key, string_to_sign(canonical, sdk_date)))
    return result


def parse_authorization(value: str) -> Optional[Tuple[str, List[str], str]]:
    """(access key, signed header names, signature) of an Access= form Authorization header; None for anything else."""
    if not value or not value.startswith(ALGORITHM + ' '):
        return None
    fields: Dict[str, str] = {}
    for item in value[len(ALGORITHM) + 1:].split(','):
        key, sep, field_value = item.strip().partition('=')
        if not sep:
            return None
        fields[key] = field_value
    if not all(fields.get(key) for key in ('Access', 'SignedHeaders', 'Signature')):
        return None
    return fields['Access'], fields['SignedHeaders'].split(';'), fields['Signature']
