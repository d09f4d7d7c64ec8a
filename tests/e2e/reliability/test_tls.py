# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS: against an HTTPS emulator whose certificate comes from a CA made by the test (trustme), ca_cert works;
without it the task fails with a certificate error (validate_certs defaults to true), after one attempt."""

import pytest
import trustme

from harness import Emulator
from relsupport import CONSUMER_PROJECT, IMAGE, SEED_FILE, memberships, password_auth, play, record_figures, wait_for_jobs

MEMBER = 'imscloud.sharing.ims_image_member'
BATCH = 'imscloud.sharing.ims_image_member_batch'
INFO = 'imscloud.sharing.ims_image_member_info'


@pytest.fixture(scope='module')
def tls_files(tmp_path_factory):
    directory = tmp_path_factory.mktemp('tls')
    authority = trustme.CA()
    server = authority.issue_cert('127.0.0.1', 'localhost')
    files = {'ca': directory / 'ca.pem', 'cert': directory / 'server.pem', 'key': directory / 'server.key',
             'other_ca': directory / 'other-ca.pem'}
    authority.cert_pem.write_to_path(str(files['ca']))
    server.private_key_pem.write_to_path(str(files['key']))
    for number, blob in enumerate(server.cert_chain_pems):
        blob.write_to_path(str(files['cert']), append=number > 0)
    trustme.CA().cert_pem.write_to_path(str(files['other_ca']))
    return dict((name, str(path)) for name, path in files.items())


@pytest.fixture(scope='module')
def tls_emulator(tls_files):
    emu = Emulator(seed=SEED_FILE, tls=(tls_files['cert'], tls_files['key']), ca_cert=tls_files['ca'],
                   extra_args=['--job-duration', '0.2'], max_lifetime=900)
    try:
        yield emu
    finally:
        emu.stop()


def test_ca_cert_works_and_its_absence_fails_with_a_certificate_error(tls_emulator, tls_files, workspace):
    emu = tls_emulator
    emu.reset()
    assert emu.url.startswith('https://127.0.0.1:')
    auth = password_auth(emu.url, 'owner-user')
    tasks = [
        {'name': 'share over HTTPS with the CA', MEMBER: {'auth': auth, 'ca_cert': tls_files['ca'], 'image': 'shareable-01',
                                                          'members': [CONSUMER_PROJECT]}, 'register': 'with_ca'},
        {'name': 'batch over HTTPS with the CA', BATCH: {'auth': auth, 'ca_cert': tls_files['ca'],
                                                         'images': ['shareable-02'], 'projects': [CONSUMER_PROJECT]},
         'register': 'batch_with_ca'},
        {'name': 'no CA given', INFO: {'auth': auth, 'images': ['shareable-01'], 'token_cache': False},
         'register': 'without_ca', 'ignore_errors': True},
        {'name': 'another CA', INFO: {'auth': auth, 'images': ['shareable-01'], 'token_cache': False,
                                      'ca_cert': tls_files['other_ca']},
         'register': 'other_ca', 'ignore_errors': True},
        {'name': 'validate_certs false', INFO: {'auth': auth, 'images': ['shareable-01'], 'token_cache': False,
                                                'validate_certs': False},
         'register': 'unverified'},
    ]
    names = ['with_ca', 'batch_with_ca', 'without_ca', 'other_ca', 'unverified']
    stats_before = emu.stats()
    run = workspace.run(play(tasks), collect=names)
    results = run.results

    assert results is not None, run.describe()
    assert results['with_ca'].get('failed') is not True and results['batch_with_ca'].get('failed') is not True, run.describe()
    assert memberships(wait_for_jobs(emu)) == {IMAGE['shareable-01']: {CONSUMER_PROJECT: 'pending'},
                                               IMAGE['shareable-02']: {CONSUMER_PROJECT: 'pending'}}
    for name in ('without_ca', 'other_ca'):
        result = results[name]
        assert result.get('failed') is True, (name, result)
        message = result['msg']
        # which call, which kind of error, and the verification failure itself
        assert message.startswith('IAM request failed: POST %s/v3/auth/tokens: TLS error' % emu.url), message
        assert 'CERTIFICATE_VERIFY_FAILED' in message and 'certificate verify failed' in message, message
        # a certificate problem is not retried, and the message says what to do
        assert result['attempts'] == 1 and result['error_type'] == 'SSLError', result
        assert 'set ca_cert to the CA bundle that signed it, or validate_certs: false for a lab' in message, message
    assert 'checked against %s' % tls_files['other_ca'] in results['other_ca']['msg']
    assert results['without_ca']['ca_bundle'] and 'checked against' in results['without_ca']['msg']
    # certificates not verified: the run says so
    assert any('validate_certs is false: TLS certificates are not verified' in str(warning)
               for warning in results['unverified'].get('warnings', [])), results['unverified']
    assert results['unverified']['images'][0]['members'][0]['member_id'] == CONSUMER_PROJECT
    record_figures('tls', verified_tasks=2, refused_without_ca=2, attempts_on_refusal=1,
                   requests=emu.stats()['total'] - stats_before['total'])


def test_a_token_from_https_is_not_sent_to_an_http_endpoint(tls_emulator, tls_files, emu, workspace):
    """Credentials obtained over https (the TLS emulator's IAM) and an http IMS endpoint (the plain emulator): the
    task fails before sending, naming the endpoint; the http side receives nothing."""
    tls_emulator.reset()
    auth = password_auth(tls_emulator.url, 'owner-user')
    arguments = {'auth': auth, 'ca_cert': tls_files['ca'], 'ims_endpoint': emu.url, 'images': ['shareable-01']}
    tasks = [{'name': 'https credentials, http endpoint', INFO: arguments, 'register': 'http_endpoint',
              'ignore_errors': True}]
    run = workspace.run(play(tasks), collect=['http_endpoint'])
    result = run.results['http_endpoint']
    assert result.get('failed') is True, run.describe()
    endpoint = emu.url.split('://', 1)[1]
    assert 'refusing to send the token obtained over https from 127.0.0.1' in result['msg'], result['msg']
    assert 'over http to http://%s' % endpoint in result['msg'] and 'allow_insecure_http' in result['msg']
    assert result['endpoint'] == emu.url
    assert emu.stats()['total'] == 0                       # nothing reached the http endpoint
    assert tls_emulator.stats()['requests'].get('POST /v3/auth/tokens') == 1
    record_figures('tls_http', refused=1, http_requests=emu.stats()['total'])
