# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""No secret in clear: every module runs with -vvvv and ANSIBLE_DEBUG=1, with a password (auth dict, cloud dict and
clouds.yaml), a token (auth.token) and AK/SK, plus failing tasks. Then the output, the Ansible log, the registered
results, the temporary directories and the token cache are searched for every password, secret key and token.

What counts as a leak (docs/reliability.md):
* a password, secret key or user token (the auth.token given to a module) anywhere: output, log, results, cache
  files, file names, temporary files;
* a token IAM issued to a module anywhere except inside the one cache record (<key>.json) of the identity it was
  issued to: that file is the cache, so it must hold the token, and only it.
Secrets are given the way AWX gives them: in an extra-vars file (-e @file), never in the playbook.

With ANSIBLE_DEBUG, ansible-core prints every module's arguments ("<pid> <time>: done with _execute_module
(<module>, {...})", ansible/plugins/action/__init__.py). For a plain module that line holds its no_log options in
clear; the collection's action plugin (plugins/plugin_utils/module_action.py) makes it print them masked. Those lines
are searched like the rest of the output, and the test checks that they were written, one per module run."""

import json
import os
import re
import time

import requests
import yaml

import pytest

from imsemu.totp import passcode_at
from relsupport import (CONSUMER2_PROJECT, CONSUMER_PROJECT, DOMAIN, IMAGE, SEED, SyslogCapture, memberships, record_figures,
                        secret_forms, seed_with, wait_for_jobs)

C, C2 = CONSUMER_PROJECT, CONSUMER2_PROJECT
MEMBER = 'imscloud.sharing.ims_image_member'
BATCH = 'imscloud.sharing.ims_image_member_batch'
INFO = 'imscloud.sharing.ims_image_member_info'
# Distinctive values, so that a hit cannot be a coincidence. Backslashes and quotes, because ansible-core looks for
# the raw value inside str() of an option, where they are escaped; '+', '&', ' ' and non-ASCII for URL encoding.
OWNER_PASSWORD = 'Pw-owner-Zq81\\xV7"mK2'
CONSUMER_PASSWORD = "Pw-consumer-Hn47'tR3+wQ9"
CONSUMER2_PASSWORD = 'Pw-consumer2-Lb52 yE8&pS6\u00e9'
WRONG_PASSWORD = 'Pw-wrong-Uc93\\kD1fJ4'
OWNER_SECRET_KEY = 'Sk-owner-Wd28gN6bT0aa11bb22cc33dd44ee55ff66'
CONSUMER_SECRET_KEY = 'Sk-consumer-Rm73hP5cY1aa11bb22cc33dd44ee55ff'
APP_CREDENTIAL_SECRET = 'Ac-owner-Tg64vB9nX3'
MFA_PASSWORD = 'Pw-mfa-Jk35sW7qE2'


def secret_seed():
    users = []
    for user in SEED['users']:
        user = dict(user)
        user['password'] = {'owner-user': OWNER_PASSWORD, 'consumer-user': CONSUMER_PASSWORD,
                            'consumer2-user': CONSUMER2_PASSWORD}.get(user['name'], user['password'])
        if user['name'] == 'mfa-user':
            user['password'] = MFA_PASSWORD
        if user.get('application_credentials'):
            user['application_credentials'] = [dict(credential, secret=APP_CREDENTIAL_SECRET)
                                               for credential in user['application_credentials']]
        if 'secret_key' in user:
            user['secret_key'] = {'owner-user': OWNER_SECRET_KEY, 'consumer-user': CONSUMER_SECRET_KEY}.get(
                user['name'], user['secret_key'])
        users.append(user)
    return seed_with([('shareable-05', 'eu-de_consumer2', 'pending'), ('shareable-06', 'eu-de_consumer2', 'pending')],
                     users=users)


def user_token(emu, user_name, password, project_id):
    body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
        'name': user_name, 'password': password, 'domain': {'name': DOMAIN}}}}, 'scope': {'project': {'id': project_id}}}}
    response = requests.post(emu.url + '/v3/auth/tokens', json=body, timeout=30)
    assert response.status_code == 201, response.text
    return response.headers['X-Subject-Token']


def secret_plays(emu):
    """Every module with every kind of credential; the secrets come from extra vars ({{ ... }})."""
    url = emu.url
    owner_auth = {'auth_url': url + '/v3', 'username': 'owner-user', 'password': '{{ owner_password }}',
                  'user_domain_name': DOMAIN, 'project_id': '{{ owner_project }}'}
    owner_aksk = {'access_key': '{{ owner_access_key }}', 'secret_key': '{{ owner_secret_key }}',
                  'project_id': '{{ owner_project }}'}
    consumer_aksk = {'access_key': '{{ consumer_access_key }}', 'secret_key': '{{ consumer_secret_key }}',
                     'project_id': C}
    consumer2_token = {'auth_url': url + '/v3', 'token': '{{ consumer2_user_token }}', 'project_id': C2}
    app_credential = {'auth_url': url + '/v3', 'application_credential_id': '{{ app_credential_id }}',
                      'application_credential_secret': '{{ app_credential_secret }}'}
    mfa = {'auth_url': url + '/v3', 'user_id': '{{ mfa_user_id }}', 'password': '{{ mfa_password }}',
           'passcode': '{{ mfa_passcode }}', 'project_id': '{{ owner_project }}'}
    tasks = [
        # first: the passcode is valid for a minute at most
        {'name': 'password + passcode: read', INFO: {'auth': mfa, 'images': ['shareable-01'], 'trace': True},
         'register': 'result_mfa_info'},
        {'name': 'application credential: read', 'register': 'result_app_credential_info',
         INFO: {'auth': app_credential, 'images': ['shareable-01'], 'trace': True}},
        {'name': 'password: share', MEMBER: {'auth': owner_auth, 'image': 'shareable-01', 'members': [C, C2]},
         'register': 'result_password_member'},
        {'name': 'password: batch share', BATCH: {'auth': owner_auth, 'images': ['shareable-02', 'shareable-03'],
                                                  'projects': [C, C2]}, 'register': 'result_password_batch'},
        {'name': 'password: read', INFO: {'auth': owner_auth, 'images': ['shareable-01']}, 'register': 'result_password_info'},
        {'name': 'cloud dict: read', INFO: {'cloud': {'auth': owner_auth}, 'images': ['shareable-02']},
         'register': 'result_cloud_dict_info'},
        {'name': 'cloud dict, wrong password: fails',
         INFO: {'cloud': {'auth': dict(owner_auth, password='{{ wrong_password }}')}, 'images': ['shareable-02']},
         'register': 'result_cloud_dict_wrong', 'ignore_errors': True},
        {'name': 'clouds.yaml: diff and check mode', MEMBER: {'cloud': 'owner', 'image': 'shareable-04', 'members': [C]},
         'check_mode': True, 'diff': True, 'register': 'result_clouds_yaml_member',
         'environment': {'OS_CLIENT_CONFIG_FILE': '{{ clouds_yaml }}'}},
        {'name': 'aksk: share', MEMBER: {'auth': owner_aksk, 'ims_endpoint': url, 'image': IMAGE['shareable-04'],
                                         'members': [C]}, 'register': 'result_aksk_member'},
        {'name': 'aksk: batch accept', BATCH: {'auth': consumer_aksk, 'ims_endpoint': url, 'status': 'accepted',
                                               'images': [IMAGE['shareable-02'], IMAGE['shareable-03']]},
         'register': 'result_aksk_batch'},
        {'name': 'aksk: read', INFO: {'auth': consumer_aksk, 'ims_endpoint': url, 'view': 'recipient'},
         'register': 'result_aksk_info'},
        {'name': 'token: accept', MEMBER: {'auth': consumer2_token, 'image': 'shareable-01', 'status': 'accepted'},
         'register': 'result_token_member'},
        {'name': 'token: batch reject', BATCH: {'auth': consumer2_token, 'images': ['shareable-05', 'shareable-06'],
                                                'status': 'rejected'}, 'register': 'result_token_batch'},
        {'name': 'token: read', INFO: {'auth': consumer2_token, 'view': 'recipient'}, 'register': 'result_token_info'},
        {'name': 'wrong password: fails', INFO: {'auth': dict(owner_auth, password='{{ wrong_password }}'),
                                                 'images': ['shareable-01']},
         'register': 'result_wrong_password', 'ignore_errors': True},
        {'name': 'wrong secret key: fails', MEMBER: {'auth': dict(owner_aksk, secret_key='{{ wrong_password }}'),
                                                     'ims_endpoint': url, 'image': IMAGE['shareable-07'], 'members': [C]},
         'register': 'result_wrong_secret_key', 'ignore_errors': True},
        {'name': 'bad input next to a password: fails', BATCH: {'auth': owner_auth, 'images': ['shareable-01'],
                                                                'projects': ['%s-not-an-id' % OWNER_PASSWORD]},
         'register': 'result_bad_input', 'ignore_errors': True},
    ]
    return [{'name': 'secrets', 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}]


# registered as result_<name>: a register name must not be an extra var, which would win over it
CORE_DEBUG_ARGS_LINE = re.compile(r'^ *\d+ \d+\.\d+: done with _execute_module \(imscloud\.sharing\.')
REGISTERED = ('mfa_info', 'app_credential_info', 'password_member', 'password_batch', 'password_info', 'cloud_dict_info',
              'cloud_dict_wrong', 'clouds_yaml_member',
              'aksk_member', 'aksk_batch', 'aksk_info', 'token_member', 'token_batch', 'token_info',
              'wrong_password', 'wrong_secret_key', 'bad_input')


def files_below(directory):
    for parent, _dirs, names in os.walk(directory):
        for name in names:
            yield os.path.join(parent, name)


def read_bytes(path):
    with open(path, 'rb') as handle:
        return handle.read()


INVOKED = re.compile(rb'ansible-imscloud\.sharing\.\w+: Invoked with ')
FAILING = ('wrong_password', 'wrong_secret_key', 'bad_input', 'cloud_dict_wrong')


@pytest.mark.skipif(not SyslogCapture.available(), reason='needs root and unshare(1) to give the modules a /dev/log')
def test_no_secret_in_output_logs_results_or_cache(emu, workspace):
    emu.reset(secret_seed())
    consumer2_user_token = user_token(emu, 'consumer2-user', CONSUMER2_PASSWORD, C2)
    emu.reset_stats()
    clouds_yaml = os.path.join(workspace.path, 'clouds', 'clouds.yaml')
    os.mkdir(os.path.dirname(clouds_yaml))
    with open(clouds_yaml, 'w', encoding='utf-8') as handle:
        yaml.safe_dump({'clouds': {'owner': {'auth': {
            'auth_url': emu.url + '/v3', 'username': 'owner-user', 'password': OWNER_PASSWORD,
            'user_domain_name': DOMAIN, 'project_id': SEED['projects'][0]['id']}}}}, handle)
    extra_vars = os.path.join(workspace.path, 'clouds', 'extra_vars.yml')
    owner = next(user for user in SEED['users'] if user['name'] == 'owner-user')
    consumer = next(user for user in SEED['users'] if user['name'] == 'consumer-user')
    mfa_user = next(user for user in SEED['users'] if user['name'] == 'mfa-user')
    passcode = fresh_passcode(mfa_user['mfa']['totp_secret'])
    with open(extra_vars, 'w', encoding='utf-8') as handle:
        yaml.safe_dump({'owner_password': OWNER_PASSWORD, 'owner_project': SEED['projects'][0]['id'],
                        'owner_access_key': owner['access_key'], 'owner_secret_key': OWNER_SECRET_KEY,
                        'consumer_access_key': consumer['access_key'], 'consumer_secret_key': CONSUMER_SECRET_KEY,
                        'consumer2_user_token': consumer2_user_token, 'wrong_password': WRONG_PASSWORD,
                        'clouds_yaml': clouds_yaml, 'app_credential_id': owner['application_credentials'][0]['id'],
                        'app_credential_secret': APP_CREDENTIAL_SECRET, 'mfa_user_id': mfa_user['id'],
                        'mfa_password': MFA_PASSWORD, 'mfa_passcode': passcode}, handle)
    env = workspace.env(ANSIBLE_DEBUG='1', ANSIBLE_LOG_PATH=workspace.log_path, ANSIBLE_KEEP_REMOTE_FILES='0')

    syslog = SyslogCapture()
    try:
        run = workspace.run(secret_plays(emu), collect=['result_' + name for name in REGISTERED], env=env,
                            args=['-vvvv', '-e', '@' + extra_vars], prefix=syslog.prefix)
    finally:
        system_log = syslog.close()
    stats = emu.stats()

    assert run.results is not None, run.describe()
    results = dict((name, run.results['result_' + name]) for name in REGISTERED)
    for name in REGISTERED:
        expect_failure = name in FAILING
        assert bool(results[name].get('failed')) is expect_failure, (name, results[name])
    assert memberships(wait_for_jobs(emu)) == {
        IMAGE['shareable-01']: {C: 'pending', C2: 'accepted'}, IMAGE['shareable-02']: {C: 'accepted', C2: 'pending'},
        IMAGE['shareable-03']: {C: 'accepted', C2: 'pending'}, IMAGE['shareable-04']: {C: 'pending'},
        IMAGE['shareable-05']: {C2: 'rejected'}, IMAGE['shareable-06']: {C2: 'rejected'}}
    assert stats['by_auth']['aksk'] > 0 and stats['by_auth']['token'] > 0

    # the tokens IAM issued to the modules: each sits in the cache record of its identity
    cache_files = sorted(files_below(workspace.cache_dir))
    records = dict((path, json.loads(read_bytes(path))) for path in cache_files if path.endswith('.json'))
    issued = [record['token'] for record in records.values()]
    # every token IAM issued during the play is accounted for (password owner, token consumer2, MFA user, application
    # credential)
    assert len(set(issued)) == len(issued) == stats['tokens_issued'] == 4, (stats, cache_files)
    user_secrets = {'owner password': OWNER_PASSWORD, 'consumer password': CONSUMER_PASSWORD,
                    'consumer2 password': CONSUMER2_PASSWORD, 'wrong password': WRONG_PASSWORD,
                    'owner secret key': OWNER_SECRET_KEY, 'consumer secret key': CONSUMER_SECRET_KEY,
                    'consumer2 user token': consumer2_user_token, 'application credential secret': APP_CREDENTIAL_SECRET,
                    'MFA password': MFA_PASSWORD}
    secrets = dict(user_secrets, **dict(('issued token %d' % n, token) for n, token in enumerate(issued)))

    # ansible-core's debug line with the module arguments (see the module docstring), one per module run
    core_dumps = [line for line in run.stdout.splitlines() if CORE_DEBUG_ARGS_LINE.match(line)]
    places = {'stdout': run.stdout.encode(), 'stderr': run.stderr.encode(), 'ansible log': read_bytes(workspace.log_path),
              'registered results': json.dumps(results).encode('utf-8'), 'syslog': system_log}
    for directory in ('ansible-tmp', 'ansible-remote-tmp', '.ansible'):
        for path in files_below(os.path.join(workspace.path, directory)):
            places[path] = read_bytes(path)
    for path in cache_files:
        record_holds = records.get(path, {}).get('token')
        places['cache file ' + path] = read_bytes(path).replace(record_holds.encode(), b'') if record_holds else read_bytes(path)
        places['cache file name ' + path] = os.path.basename(path).encode()
    leaks = sorted('%s in %s (as %r)' % (what, where, form) for where, data in places.items()
                   for what, value in secrets.items() for form in secret_forms(value) if form in data)
    # the passcode: 6 digits, so only where no digit or decimal point is next to it (not inside a pid or a time)
    passcode_pattern = re.compile(br'(?<![0-9.])' + passcode.encode() + br'(?![0-9])')
    leaks += sorted('passcode in %s' % where for where, data in places.items() if passcode_pattern.search(data))
    invoked = INVOKED.findall(system_log)
    # the passcode is searched too (above): one more secret value
    record_figures('secrets', places=len(places), bytes=sum(len(data) for data in places.values()),
                   secrets=len(secrets) + 1, names=sorted(user_secrets) + ['MFA passcode', '%d issued tokens' % len(issued)],
                   tasks=len(REGISTERED), leaks=len(leaks),
                   core_debug_lines=len(core_dumps), syslog_lines=len(syslog.messages), syslog_invocations=len(invoked))

    # ansible-core really wrote to the system log: one 'Invoked with' line per module run
    assert len(invoked) == len(REGISTERED), system_log[:3000]

    # ANSIBLE_DEBUG lines ('<pid> <epoch>: ...') and -vvvv lines were really written
    assert len(re.findall(r'(?m)^ *\d+ \d+\.\d+: ', run.stdout)) > 1000, run.stdout[:2000]
    assert '<127.0.0.1> EXEC' in run.stdout or 'ESTABLISH LOCAL CONNECTION' in run.stdout
    assert leaks == [], leaks
    # every task ran its module (bad input fails inside it), so each printed its arguments, masked
    assert len(core_dumps) == len(REGISTERED), core_dumps
    # all but the clouds.yaml task (no secret in its arguments) hand secrets to the module, shown masked
    assert sum('VALUE_SPECIFIED_IN_NO_LOG_PARAMETER' in line for line in core_dumps) == len(REGISTERED) - 1, core_dumps
    # each cache record: the token and what to use it for, nothing secret besides it
    for path, record in records.items():
        assert set(record) <= {'token', 'issued_at', 'expires_at', 'project_id', 'endpoint', 'catalog', 'capabilities',
                               'passcode_digest'}, record
    # the failures are reported, with the secret masked or absent
    assert results['wrong_password']['error']['status'] == 401
    assert results['wrong_secret_key']['error']['status'] == 401
    assert results['cloud_dict_wrong']['error']['status'] == 401
    assert 'projects: invalid project id(s)' in results['bad_input']['msg']
    # the request trace was returned, and holds no secret either (it is part of the registered results searched)
    assert results['mfa_info']['request_trace'] and results['app_credential_info']['request_trace']


def fresh_passcode(secret):
    """The MFA user's passcode of a time step that has just begun, so that it is still valid when the task runs."""
    now = time.time()
    if now % 30 > 5:
        time.sleep(30 - now % 30 + 0.2)
    return passcode_at(secret, time.time())
