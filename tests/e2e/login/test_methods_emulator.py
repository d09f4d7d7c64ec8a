# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sign-in methods of issue 17 in real ansible-playbook runs against the emulator: application credentials (also
through the AWX credential type of docs/awx), password + virtual MFA (RFC 6238 passcodes; one sign-in for a play of
several tasks; a spent passcode refused with a message), IAM's refusals explained (MFA needed, locked user), and AK/SK
without ims_endpoint (the endpoint from IAM's signed catalog, cached)."""

import importlib.util
import json
import os
import pathlib
import time

from imsemu.totp import passcode_at
from relsupport import DOMAIN, IMAGE, PROJECT, SEED, USERS, play

INFO = 'imscloud.sharing.ims_image_member_info'
MEMBER = 'imscloud.sharing.ims_image_member'
TOKEN_ROUTE = 'POST /v3/auth/tokens'
CATALOG_ROUTE = 'GET /v3/auth/catalog'
OWNER = USERS['owner-user']
MFA = USERS['mfa-user']
APP = OWNER['application_credentials'][0]
AWX_TEST = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'awx', 'test_awx_credential.py')


def awx_helpers():
    """The AWX rules and injector rendering of tests/e2e/awx (one implementation of what AWX does)."""
    spec = importlib.util.spec_from_file_location('awx_credential_rules', AWX_TEST)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fresh_passcode():
    """A passcode of the MFA user that has not been used: the next 30 s step when the current one is half gone."""
    now = time.time()
    if now % 30 > 20:
        time.sleep(30 - now % 30 + 0.5)
        now = time.time()
    return passcode_at(MFA['mfa']['totp_secret'], now)


def app_auth(url, **extra):
    return dict({'auth_url': url + '/v3', 'application_credential_id': APP['id'],
                 'application_credential_secret': APP['secret']}, **extra)


def test_application_credential_by_id_and_by_name(emu, workspace):
    by_name = {'auth_url': emu.url + '/v3', 'application_credential_name': APP['name'],
               'application_credential_secret': APP['secret'], 'username': 'owner-user', 'user_domain_name': DOMAIN}
    tasks = [
        {'name': 'share', MEMBER: {'auth': app_auth(emu.url), 'image': 'shareable-01',
                                   'members': [PROJECT['eu-de_consumer']]}, 'register': 'shared'},
        {'name': 'read by name', INFO: {'auth': by_name, 'images': ['shareable-01']}, 'register': 'read'},
        {'name': 'a project of another credential', INFO: {
            'auth': app_auth(emu.url, project_id=PROJECT['eu-de_consumer']), 'images': ['shareable-01']},
         'register': 'wrong', 'ignore_errors': True},
    ]
    run = workspace.run(play(tasks), collect=['shared', 'read', 'wrong'])
    assert run.results is not None, run.describe()
    assert run.results['shared']['changed'] is True
    assert run.results['read']['project_id'] == PROJECT['eu-de_owner']
    assert [m['member_id'] for m in run.results['read']['images'][0]['members']] == [PROJECT['eu-de_consumer']]
    assert 'is scoped to project %s' % PROJECT['eu-de_owner'] in run.results['wrong']['msg']
    assert APP['secret'] not in run.output + json.dumps(run.results)


def test_application_credential_through_the_awx_credential_type(emu, workspace):
    awx = awx_helpers()
    definition = awx.load_credential_type('credential_type_ims_application_credential.yml')
    assert awx.awx_validation_errors(definition) == []
    fields = dict((field['id'], field) for field in definition['inputs']['fields'])
    assert fields['application_credential_secret']['secret'] is True
    variables, args = awx.awx_inject(definition, {'auth_url': emu.url + '/v3', 'application_credential_id': APP['id'],
                                                  'application_credential_secret': APP['secret']}, workspace_dir(workspace))
    assert args == []
    env = workspace.env(**variables)
    run = workspace.run(play([{'name': 'read', INFO: {'images': ['shareable-02']}, 'register': 'out'},
                              {'name': 'again', INFO: {'images': ['shareable-03']}, 'register': 'again'}]),
                        collect=['out', 'again'], env=env)
    assert run.results is not None, run.describe()
    assert run.results['out']['project_id'] == PROJECT['eu-de_owner']
    assert emu.stats()['requests'][TOKEN_ROUTE] == 1
    assert APP['secret'] not in run.output


def workspace_dir(workspace):
    """The workspace as the AWX job directory of awx_inject (its env/ holds the injected files)."""
    path = pathlib.Path(workspace.path)
    (path / 'env').mkdir(exist_ok=True)
    return path


def mfa_auth(url, passcode):
    return {'auth_url': url + '/v3', 'user_id': MFA['id'], 'password': MFA['password'], 'passcode': passcode,
            'project_id': PROJECT['eu-de_owner']}


def test_mfa_one_sign_in_serves_the_play_and_a_spent_passcode_is_refused(emu, workspace):
    passcode = fresh_passcode()
    tasks = [{'name': 'task %d' % n, INFO: {'images': ['shareable-0%d' % n]}, 'register': 'r%d' % n} for n in (1, 2, 3)]
    run = workspace.run(play(tasks, module_defaults={'auth': mfa_auth(emu.url, passcode)}),
                        collect=['r1', 'r2', 'r3'])
    assert run.results is not None, run.describe()
    assert all(run.results['r%d' % n]['project_id'] == PROJECT['eu-de_owner'] for n in (1, 2, 3))
    assert emu.stats()['requests'][TOKEN_ROUTE] == 1

    # the token is revoked; the next run still has the same (spent) passcode
    emu.revoke_tokens()
    emu.reset_stats()
    again = workspace.run(play([{'name': 'needs a new token', INFO: {'images': ['shareable-01']}, 'register': 'out',
                                 'ignore_errors': True}], module_defaults={'auth': mfa_auth(emu.url, passcode)}),
                          collect=['out'])
    message = again.results['out']['msg']
    assert message.startswith('a new token is needed, but auth.passcode was already used by an earlier task to sign in')
    assert emu.stats()['requests'].get(TOKEN_ROUTE, 0) == 0
    assert MFA['password'] not in run.output + again.output
    for output in (run.output, again.output, json.dumps(run.results), json.dumps(again.results)):
        assert '"%s"' % passcode not in output and "'%s'" % passcode not in output


def test_iam_refusals_name_mfa_and_the_locked_user(emu, workspace):
    locked = USERS['locked-user']
    tasks = [
        {'name': 'MFA user without passcode', INFO: {
            'auth': {'auth_url': emu.url + '/v3', 'username': 'mfa-user', 'password': MFA['password'],
                     'user_domain_name': DOMAIN, 'project_id': PROJECT['eu-de_owner']}, 'images': ['shareable-01']},
         'register': 'mfa', 'ignore_errors': True},
        {'name': 'locked user', INFO: {
            'auth': {'auth_url': emu.url + '/v3', 'username': 'locked-user', 'password': locked['password'],
                     'user_domain_name': DOMAIN, 'project_id': PROJECT['eu-de_owner']}, 'images': ['shareable-01']},
         'register': 'locked', 'ignore_errors': True},
    ]
    run = workspace.run(play(tasks, module_defaults={'token_cache': False}), collect=['mfa', 'locked'])
    mfa = run.results['mfa']
    assert mfa['msg'].startswith("IAM refused the sign-in of user 'mfa-user' (given as a name, username)")
    assert 'Virtual MFA login protection is enabled' in mfa['msg']
    assert 'needs auth.passcode with auth.user_id' in mfa['msg']
    locked_result = run.results['locked']
    assert locked_result['error']['code'] == 'IAM.0061'
    assert 'the user is locked (too many failed sign-ins) or disabled (IAM.0061)' in locked_result['msg']
    assert locked['password'] not in run.output + json.dumps(run.results)


def test_aksk_endpoint_from_the_signed_catalog(emu, workspace):
    aksk = {'auth_url': emu.url + '/v3', 'access_key': OWNER['access_key'], 'secret_key': OWNER['secret_key'],
            'project_id': PROJECT['eu-de_owner']}
    tasks = [{'name': 'read %d' % n, INFO: {'auth': aksk, 'region_name': 'eu-de', 'images': ['shareable-0%d' % n],
                                            'trace': True}, 'register': 'r%d' % n} for n in (1, 2)]
    run = workspace.run(play(tasks), collect=['r1', 'r2'])
    assert run.results is not None, run.describe()
    assert run.results['r1']['images'][0]['id'] == IMAGE['shareable-01']
    stats = emu.stats()
    # asked once, signed; the second task takes the endpoint from the cache
    assert stats['requests'][CATALOG_ROUTE] == 1
    assert stats['requests'].get(TOKEN_ROUTE, 0) == 0
    assert run.results['r1']['request_trace'][0].startswith('#1 GET %s/v3/auth/catalog' % emu.url)
    assert all(line.endswith('token aksk') for line in run.results['r1']['request_trace'])
    assert not any('/auth/catalog' in line for line in run.results['r2']['request_trace'])
    assert OWNER['secret_key'] not in run.output


def test_seed_has_what_these_tests_use():
    names = [user['name'] for user in SEED['users']]
    assert {'mfa-user', 'locked-user', 'owner-user'} <= set(names)
