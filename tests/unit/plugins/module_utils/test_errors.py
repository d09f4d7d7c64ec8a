# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json

import pytest
import requests
import responses

from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import clean_message
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import parse_error_body
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import parse_error_response
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import sanitize_url
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import secret_forms

IMAGE = 'd08afcda-066e-4eb4-97fe-4b0ac0b80443'
URL = 'https://ims.example.test/v2/images/%s/members' % IMAGE

GLANCE_HTML = """<html>
 <head>
  <title>409 Conflict</title>
 </head>
 <body>
  <h1>409 Conflict</h1>
  Member 0123 is duplicated for image %s<br /><br />



 </body>
</html>""" % IMAGE


def fetch(status, body=None, headers=None, content_type='application/json', method='POST', url=URL):
    """A real requests.Response produced by the responses library."""
    with responses.RequestsMock() as mock:
        if isinstance(body, (dict, list)):
            mock.add(method, url, json=body, status=status, headers=headers)
        else:
            mock.add(method, url, body=body or '', status=status, headers=headers, content_type=content_type)
        return requests.request(method, url)


def test_glance_webob_json_br_tail_is_stripped():
    body = {'message': 'Not allowed to create members for image %s.<br /><br />\n\n\n' % IMAGE,
            'code': '403 Forbidden', 'title': 'Forbidden'}
    err = parse_error_response(fetch(403, body, headers={'X-Openstack-Request-Id': 'req-1'}))
    assert err.status == 403
    assert err.message == 'Not allowed to create members for image %s.' % IMAGE
    assert err.code is None  # "403 Forbidden" is only the status line
    assert err.request_id == 'req-1'
    assert str(err) == ('IMS request failed: POST %s returned 403 Forbidden (request id req-1): '
                        'Not allowed to create members for image %s.' % (URL, IMAGE))


def test_ims_error_object_code_is_shown():
    body = {'error': {'message': 'The number of shared images has reached the maximum allowed.', 'code': 'IMG.0088'}}
    err = parse_error_response(fetch(400, body, headers={'X-Request-Id': 'abc'}))
    assert (err.status, err.code, err.request_id) == (400, 'IMG.0088', 'abc')
    assert str(err).endswith('returned 400 Bad Request (IMG.0088, request id abc): '
                             'The number of shared images has reached the maximum allowed.')


def test_gateway_shape_with_body_request_id():
    body = {'error_msg': 'Incorrect IAM authentication information: x-auth-token not found',
            'error_code': 'APIGW.0301', 'request_id': 'gw-77'}
    err = parse_error_response(fetch(401, body, method='GET'))
    assert (err.code, err.request_id, err.method) == ('APIGW.0301', 'gw-77', 'GET')
    assert err.message == 'Incorrect IAM authentication information: x-auth-token not found'


def test_header_request_id_wins_over_body_and_compute_header_is_read():
    body = {'error_msg': 'boom', 'error_code': 'APIGW.0308', 'request_id': 'body-id'}
    assert parse_error_response(fetch(429, body, headers={'X-Compute-Request-Id': 'hdr-id'})).request_id == 'hdr-id'


def test_keystone_shape_numeric_code_is_not_a_service_code():
    body = {'error': {'message': 'The request you have made requires authentication.', 'code': 401, 'title': 'Unauthorized'}}
    err = parse_error_response(fetch(401, body, url='https://iam.example.test/v3/auth/tokens'), service='IAM')
    assert err.code is None
    assert err.message == 'The request you have made requires authentication.'
    assert str(err).startswith('IAM request failed: POST https://iam.example.test/v3/auth/tokens returned 401 Unauthorized: ')


def test_html_body_is_reduced_to_its_message():
    err = parse_error_response(fetch(409, GLANCE_HTML, content_type='text/html; charset=UTF-8'))
    assert err.message == 'Member 0123 is duplicated for image %s' % IMAGE


def test_html_without_body_text_falls_back_to_heading():
    page = '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>'
    assert parse_error_response(fetch(502, page, content_type='text/html')).message == '502 Bad Gateway'


def test_plain_text_webob_status_line_is_dropped():
    text = '404 Not Found\n\nImage %s not found.\n\n   ' % IMAGE
    err = parse_error_response(fetch(404, text, content_type='text/plain'))
    assert err.message == 'Image %s not found.' % IMAGE


def test_empty_body_uses_reason_phrase():
    err = parse_error_response(fetch(503, ''))
    assert err.message == 'Service Unavailable'
    assert 'returned 503 Service Unavailable: Service Unavailable' in str(err)


def test_invalid_json_is_treated_as_text():
    assert parse_error_response(fetch(500, '{"broken', content_type='application/json')).message == '{"broken'


@pytest.mark.parametrize('body, expected', [
    ({'error': {'code': 'IMG.0024', 'message': 'The imagetype is invalid.'}}, ('The imagetype is invalid.', 'IMG.0024', None)),
    ({'error': {'title': 'Conflict', 'code': 409}}, ('Conflict', None, None)),
    ({'error': 'plain', 'code': 'X.1'}, ('plain', 'X.1', None)),
    ({'badRequest': {'message': 'Invalid input', 'code': 400}}, ('Invalid input', None, None)),
    ({'something': 'else', 'request_id': 'r'}, ('{"something": "else", "request_id": "r"}', None, 'r')),
    (['a', 'b'], ('["a", "b"]', None, None)),
])
def test_parse_error_body_shapes(body, expected):
    assert parse_error_body(body) == expected


def test_clean_message_truncates_and_unescapes():
    assert clean_message('a &amp; b<br/>c') == 'a & b c'
    assert clean_message(None) == ''
    assert clean_message(42) == '42'
    long_text = clean_message('x' * 5000)
    assert len(long_text) == 1000 and long_text.endswith('...')


def test_sanitize_url_masks_secret_query_values_and_user_info():
    assert sanitize_url('https://user:pw@ims.test/v2/images?name=a&token=abc') == 'https://ims.test/v2/images?name=a&token=********'
    assert sanitize_url('https://ims.test/v2/images?name=a b') == 'https://ims.test/v2/images?name=a b'
    assert sanitize_url(None) is None


def test_to_dict_has_the_fixed_keys_only():
    err = IMSError('m', status=404, code='IMG.0086', request_id='r', method='get', url='https://x.test/a?password=p',
                   details={'image': 'x'})
    assert err.to_dict() == {'status': 404, 'code': 'IMG.0086', 'message': 'm', 'request_id': 'r', 'method': 'GET',
                             'url': 'https://x.test/a?password=********'}
    assert err.details == {'image': 'x'}


def test_error_without_request_is_just_the_message():
    err = IMSError("parameter 'retries' must be >= 0, got -1")
    assert str(err) == "parameter 'retries' must be >= 0, got -1"
    assert err.status is None and err.details == {}


def test_redact_masks_echoed_secrets():
    err = IMSError('token tok-SECRET-1 is invalid', status=401, method='GET', url=URL, details={'raw': 'tok-SECRET-1'})
    err.redact(['tok-SECRET-1', None, ''])
    assert 'tok-SECRET-1' not in str(err)
    assert 'tok-SECRET-1' not in json.dumps(err.to_dict())
    assert 'tok-SECRET-1' not in json.dumps(err.details)
    assert err.message == 'token ******** is invalid'


def test_details_never_replace_fixed_keys():
    err = IMSError('IMS job j failed', code='IMG.0088', details={'job_id': 'j', 'status': 'FAIL'})
    assert err.to_dict()['status'] is None
    assert 'job_id' not in err.to_dict() and err.details == {'job_id': 'j', 'status': 'FAIL'}


@pytest.mark.parametrize('secret', ['back\\slash-pw', 'quote"d-pw', "apos'-pw", 'plus+sp ace&amp', '\u00e9t\u00e9-pw<>'])
def test_every_encoding_of_a_secret_is_scrubbed(secret):
    from urllib.parse import quote, quote_plus
    import html as htmllib
    echoes = [json.dumps({'password': secret}), json.dumps({'password': secret}, ensure_ascii=False), repr({'p': secret}),
              'password=%s' % quote_plus(secret), 'p=%s' % quote(secret, safe=''), htmllib.escape(secret), secret]
    for echo in echoes:
        err = IMSError('gateway said: %s' % echo, details={'body': echo}).redact([secret])
        assert secret not in str(err) and '********' in str(err), echo
        for form in (json.dumps(secret)[1:-1], repr(secret)[1:-1], quote_plus(secret), quote(secret, safe='')):
            assert form not in str(err) and form not in err.details['body'], (echo, form)


@pytest.mark.parametrize('secret', ['plain', 'a&b<c>d"e\'f', '&amp;already', '<<>>""\'\'&&', u'p\u00e4ss&w\u00f6rd'])
def test_the_html_escaped_forms_of_a_secret_are_the_ones_html_escape_makes(secret):
    import html  # pylint: disable=import-outside-toplevel
    forms = secret_forms(secret)
    assert html.escape(secret) in forms and html.escape(secret, quote=False) in forms


def test_an_html_entity_in_a_service_message_is_decoded():
    assert clean_message('Image &quot;x&quot; &amp; its members &lt;br&gt;') == 'Image "x" & its members <br>'
