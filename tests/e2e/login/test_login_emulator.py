# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ways of logging in, through real ansible-playbook runs against the emulator: clouds.yml, OS_IMS_ENDPOINT with
AK/SK, IAM's refusal explained, and the request trace in the task result (with retried faults)."""

import glob
import json
import os

import yaml

from relsupport import CONSUMER_PROJECT, DOMAIN, IMAGE, PROJECT, USERS, password_auth, play

INFO = 'imscloud.sharing.ims_image_member_info'
MEMBER = 'imscloud.sharing.ims_image_member'
MEMBERS_ROUTE = 'GET /v2/images/{image_id}/members'
OWNER = USERS['owner-user']


def cache_records(workspace):
    records = []
    for path in glob.glob(os.path.join(workspace.cache_dir, '*.json')):
        with open(path, encoding='utf-8') as handle:
            records.append(json.load(handle))
    return records


def test_clouds_yml_in_the_playbook_directory_is_found(emu, workspace):
    with open('%s/clouds.yml' % workspace.path, 'w', encoding='utf-8') as handle:
        yaml.safe_dump({'clouds': {'lab': {'auth': password_auth(emu.url, 'owner-user')}}}, handle)
    run = workspace.run(play([{'name': 'read', INFO: {'cloud': 'lab', 'images': ['shareable-01']}, 'register': 'out'}]),
                        collect=['out'])
    assert run.results is not None, run.describe()
    assert run.results['out']['project_id'] == PROJECT['eu-de_owner']


def test_os_ims_endpoint_serves_aksk(emu, workspace):
    aksk = {'access_key': OWNER['access_key'], 'secret_key': OWNER['secret_key'], 'project_id': PROJECT['eu-de_owner']}
    env = workspace.env(OS_IMS_ENDPOINT=emu.url)
    run = workspace.run(play([{'name': 'read', INFO: {'auth': aksk, 'images': ['shareable-01']}, 'register': 'out'}]),
                        collect=['out'], env=env)
    assert run.results is not None, run.describe()
    assert run.results['out']['images'][0]['id'] == IMAGE['shareable-01']
    assert emu.stats()['by_auth'].get('aksk', 0) > 0
    assert OWNER['secret_key'] not in run.output


def test_a_wrong_domain_is_explained(emu, workspace):
    auth = dict(password_auth(emu.url, 'owner-user'), user_domain_name=DOMAIN.upper())
    run = workspace.run(play([{'name': 'wrong domain', INFO: {'auth': auth, 'images': ['shareable-01'],
                                                              'token_cache': False},
                               'register': 'out', 'ignore_errors': True}]), collect=['out'])
    out = run.results['out']
    assert out['failed'] is True
    assert out['msg'].startswith("IAM refused the sign-in of user 'owner-user' (given as a name, username) in domain "
                                 "'%s' (given as a name, user_domain_name) for project %s (project_id) at %s/v3"
                                 % (DOMAIN.upper(), PROJECT['eu-de_owner'], emu.url))
    assert "names and ids differ (on plain OpenStack the default domain has the id 'default'" in out['msg']
    assert out['error']['status'] == 401
    assert OWNER['password'] not in run.output + json.dumps(run.results)


def test_trace_shows_retried_faults_and_the_token_source(emu, workspace):
    emu.set_faults([{'route': MEMBERS_ROUTE, 'sequence': ['429', '503', 'ok']}])
    auth = password_auth(emu.url, 'owner-user')
    tasks = [
        {'name': 'first, with a new token', INFO: {'auth': auth, 'images': ['shareable-01'], 'trace': True,
                                                   'retries': 3}, 'register': 'first'},
        {'name': 'second, from the cache', INFO: {'auth': auth, 'images': ['shareable-02'], 'trace': True},
         'register': 'second'},
        {'name': 'third, trace off', INFO: {'auth': auth, 'images': ['shareable-02']}, 'register': 'third'},
    ]
    run = workspace.run(play(tasks), collect=['first', 'second', 'third'])
    assert run.results is not None, run.describe()
    first = run.results['first']['request_trace']
    assert first[0].startswith('#1 POST %s/v3/auth/tokens' % emu.url) and first[0].endswith('token none')
    members = [line for line in first if '/members' in line]
    assert ['-> 429' in members[0], '-> 503' in members[1], '-> 200' in members[2]] == [True, True, True]
    assert 'retry 1 after 429' in members[1] and 'retry 2 after 503' in members[2]
    assert all(line.endswith('token new') for line in members)
    assert all('request id ' in line for line in first)
    second = run.results['second']['request_trace']
    assert second and all(line.endswith('token cache') for line in second)
    assert 'auth/tokens' not in ' '.join(second)
    assert 'request_trace' not in run.results['third']
    issued = [record['token'] for record in cache_records(workspace)]
    assert issued and emu.state()['tokens']['issued'] == len(issued) == 1
    for secret in [OWNER['password']] + issued:
        assert secret not in json.dumps(run.results)


def test_trace_at_vvv_and_in_a_file_also_on_failure(emu, workspace):
    path = '%s/trace.log' % workspace.path
    auth = dict(password_auth(emu.url, 'owner-user'))
    tasks = [{'name': 'fails', MEMBER: {'auth': auth, 'image': 'no-such-image', 'members': [CONSUMER_PROJECT]},
              'register': 'out', 'ignore_errors': True}]
    run = workspace.run(play(tasks), collect=['out'], env=workspace.env(IMSCLOUD_SHARING_TRACE_PATH=path),
                        args=['-vvv'])
    out = run.results['out']
    assert out['failed'] is True and out['request_trace']
    with open(path, encoding='utf-8') as handle:
        written = handle.read().splitlines()
    assert [line.split(' ', 3)[3] for line in written] == out['request_trace']
    assert OWNER['password'] not in run.output + '\n'.join(written)
