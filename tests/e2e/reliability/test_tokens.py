# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tokens revoked or expiring in the middle of a play or of a job wait: the modules get a new token and go on."""

import threading
import time

import requests

from relsupport import (CONSUMER2_PROJECT, CONSUMER_PROJECT, DOMAIN, IMAGE, JOB_ROUTE, TOKEN_ROUTE, USERS, memberships,
                        password_auth, play, record_figures, wait_for_jobs)

C, C2 = CONSUMER_PROJECT, CONSUMER2_PROJECT
BATCH = 'imscloud.sharing.ims_image_member_batch'
MEMBER = 'imscloud.sharing.ims_image_member'
INFO = 'imscloud.sharing.ims_image_member_info'


def responses_with(stats, status):
    """{route: count} of the responses with this HTTP status."""
    return dict((route, codes[status]) for route, codes in stats['responses'].items() if codes.get(status))


def revoke_task(emu):
    return {'name': 'revoke every token (outside the play, as an IAM admin would)',
            'ansible.builtin.uri': {'url': emu.url + '/_emulator/tokens/revoke', 'method': 'POST',
                                    'body_format': 'json', 'body': {'all': True}}}


def test_token_revoked_between_tasks_is_replaced_transparently(emu, workspace):
    tasks = [
        {'name': 'share natively', MEMBER: {'image': 'shareable-01', 'members': [C]}},
        revoke_task(emu),
        {'name': 'share in a batch with the cached, now revoked, token', BATCH: {'images': ['shareable-02'], 'projects': [C, C2]}},
        {'name': 'read back', INFO: {'images': ['shareable-01', 'shareable-02']}, 'register': 'members'},
    ]
    run = workspace.run(play(tasks, module_defaults={'auth': password_auth(emu.url, 'owner-user')}), collect=['members'])
    stats = emu.stats()

    assert run.returncode == 0, run.describe()
    assert memberships(wait_for_jobs(emu)) == {IMAGE['shareable-01']: {C: 'pending'},
                                               IMAGE['shareable-02']: {C: 'pending', C2: 'pending'}}
    # one token before the revocation, one after the single 401; the last task reuses the new one from the cache
    assert stats['requests'][TOKEN_ROUTE] == 2
    assert sum(responses_with(stats, '401').values()) == 1, stats['responses']
    record_figures('tokens', case='revoked between tasks', token_requests=stats['requests'][TOKEN_ROUTE],
                   unauthorized=1, succeeded=True)


def test_token_expiring_during_a_long_job_wait_is_renewed(emu, workspace):
    # tokens live 3 s, the job takes 7 s: the wait outlives two tokens
    emu.configure(token_lifetime=3, job_duration=7)
    tasks = [{'name': 'share and wait', BATCH: {'images': ['shareable-03'], 'projects': [C], 'timeout': 60},
              'register': 'share'}]
    run = workspace.run(play(tasks, module_defaults={'auth': password_auth(emu.url, 'owner-user')}), collect=['share'])
    stats = emu.stats()

    assert run.returncode == 0, run.describe()
    assert run.results['share']['jobs'][0]['status'] == 'SUCCESS'
    assert memberships(emu.state()) == {IMAGE['shareable-03']: {C: 'pending'}}
    assert stats['requests'][TOKEN_ROUTE] >= 2, stats['requests']
    assert stats['job_polls'] >= 2
    record_figures('tokens', case='expired during a 7 s job wait (3 s tokens)',
                   token_requests=stats['requests'][TOKEN_ROUTE], unauthorized=sum(responses_with(stats, '401').values()),
                   succeeded=True)


def test_token_revoked_during_a_job_wait_is_replaced(emu, workspace):
    emu.configure(job_duration=4)
    revoked = {}

    def revoke_once_the_job_runs():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not emu.stats()['job_submissions']:
            time.sleep(0.05)
        time.sleep(0.5)
        revoked.update(emu.revoke_tokens())

    revoker = threading.Thread(target=revoke_once_the_job_runs, daemon=True)
    revoker.start()
    tasks = [{'name': 'share and wait', BATCH: {'images': ['shareable-04'], 'projects': [C], 'timeout': 60},
              'register': 'share'}]
    run = workspace.run(play(tasks, module_defaults={'auth': password_auth(emu.url, 'owner-user')}), collect=['share'])
    revoker.join(5)
    stats = emu.stats()

    assert revoked.get('revoked', 0) >= 1, revoked
    assert run.returncode == 0, run.describe()
    assert run.results['share']['jobs'][0]['status'] == 'SUCCESS'
    assert memberships(emu.state()) == {IMAGE['shareable-04']: {C: 'pending'}}
    assert responses_with(stats, '401') == {JOB_ROUTE: 1}, stats['responses']
    assert stats['requests'][TOKEN_ROUTE] == 2
    record_figures('tokens', case='revoked during a job wait', token_requests=stats['requests'][TOKEN_ROUTE],
                   unauthorized=1, succeeded=True)


def test_revoked_user_token_fails_with_a_clear_message(emu, workspace):
    """With auth.token the module cannot get a new token by itself: it must say that the given token was refused."""
    body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
        'name': 'consumer-user', 'password': USERS['consumer-user']['password'], 'domain': {'name': DOMAIN}}}},
        'scope': {'project': {'id': C}}}}
    response = requests.post(emu.url + '/v3/auth/tokens', json=body, timeout=30)
    assert response.status_code == 201, response.text
    user_token = response.headers['X-Subject-Token']
    auth = {'auth_url': emu.url + '/v3', 'token': user_token, 'project_id': C}
    tasks = [
        {'name': 'list what is shared with me', INFO: {'view': 'recipient'}},
        revoke_task(emu),
        {'name': 'list again with the revoked token', INFO: {'view': 'recipient', 'token_cache': False},
         'register': 'again', 'ignore_errors': True},
    ]
    run = workspace.run(play(tasks, module_defaults={'auth': auth}), collect=['again'])
    result = run.results['again']

    assert result.get('failed') is True, run.describe()
    assert result['error']['status'] == 401 and result['error']['url'] == emu.url + '/v3/auth/tokens', result['error']
    assert result['msg'].startswith('IAM request failed: POST %s/v3/auth/tokens returned 401' % emu.url), result['msg']
    assert user_token not in run.output
    stats = emu.stats()
    record_figures('tokens', case="auth.token revoked (the user's own token request counted too)",
                   token_requests=stats['requests'][TOKEN_ROUTE], unauthorized=sum(responses_with(stats, '401').values()),
                   succeeded=False)
