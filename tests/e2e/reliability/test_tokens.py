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
    tasks = [{'name': 'share and wait', BATCH: {'images': ['shareable-03'], 'projects': [C], 'timeout': 60, 'api': 'jobs'},
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
    tasks = [{'name': 'share and wait', BATCH: {'images': ['shareable-04'], 'projects': [C], 'timeout': 60, 'api': 'jobs'},
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
    # who signed in where comes first (auth_methods.explain_iam_refusal), then IAM's answer
    assert 'IAM request failed: POST %s/v3/auth/tokens returned 401' % emu.url in result['msg'], result['msg']
    assert user_token not in run.output
    stats = emu.stats()
    record_figures('tokens', case="auth.token revoked (the user's own token request counted too)",
                   token_requests=stats['requests'][TOKEN_ROUTE], unauthorized=sum(responses_with(stats, '401').values()),
                   succeeded=False)


def test_ten_task_playbook_costs_one_token_and_its_second_run_none(emu, workspace):
    """The token cache across tasks and runs: 10 tasks of the three modules in one play, then the same play again."""
    share = [{'name': 'share shareable-%02d' % number, MEMBER: {'image': 'shareable-%02d' % number, 'members': [C]}}
             for number in range(1, 7)]
    tasks = share + [
        {'name': 'share two images in a batch', BATCH: {'images': ['shareable-07', 'shareable-08'], 'projects': [C, C2]}},
        {'name': 'read the members', INFO: {'images': ['shareable-01', 'shareable-07']}},
        {'name': 'unshare shareable-06', MEMBER: {'image': 'shareable-06', 'members': [C], 'state': 'absent'}},
        {'name': 'read them again', INFO: {'images': ['shareable-06']}},
    ]
    assert len(tasks) == 10
    the_play = play(tasks, module_defaults={'auth': password_auth(emu.url, 'owner-user')})

    first = workspace.run(the_play)
    first_stats = emu.stats()
    emu.reset_stats()
    second = workspace.run(the_play)
    second_stats = emu.stats()

    assert first.returncode == 0, first.describe()
    assert second.returncode == 0, second.describe()
    assert first_stats['requests'][TOKEN_ROUTE] == 1 and first_stats['tokens_issued'] == 1
    assert second_stats['requests'].get(TOKEN_ROUTE, 0) == 0 and second_stats['tokens_issued'] == 0
    # the second run found everything in place except the member the first run removed, which it removes again
    # after re-adding it: tasks 6 (add shareable-06) and 9 (remove it) change, nothing else does
    assert second.recap()['changed'] == 2, second.describe()
    assert memberships(wait_for_jobs(emu)) == dict(
        [(IMAGE['shareable-%02d' % n], {C: 'pending'}) for n in range(1, 6)]
        + [(IMAGE['shareable-07'], {C: 'pending', C2: 'pending'}), (IMAGE['shareable-08'], {C: 'pending', C2: 'pending'})])
    record_figures('tokens', case='a 10-task playbook, then the same playbook again (%d token request(s) in the second run)'
                   % second_stats['requests'].get(TOKEN_ROUTE, 0), token_requests=first_stats['requests'][TOKEN_ROUTE],
                   unauthorized=0, succeeded=True)
