# -*- coding: utf-8 -*-
# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input: every case fails before the first request (the emulator's stats stay at zero) with a message that names
the parameter, the bad value and what is allowed. Valid edge cases (duplicates, non-ASCII names, long lists) work.

The cases of one group run as tasks of one playbook (ignore_errors + register) to pay Ansible's start-up once."""

import os

import pytest
import yaml

from relsupport import (CONSUMER2_PROJECT, CONSUMER_PROJECT, IMAGE, PROJECT, SEED, USERS, memberships, password_auth,
                        play, record_figures, seed_with, wait_for_jobs)

C, C2 = CONSUMER_PROJECT, CONSUMER2_PROJECT
MEMBER = 'imscloud.sharing.ims_image_member'
BATCH = 'imscloud.sharing.ims_image_member_batch'
INFO = 'imscloud.sharing.ims_image_member_info'
HEX_RULE = '32 hexadecimal characters'
CYRILLIC_ID = u'сс000000000000000000000000000001'          # two Cyrillic letters 'с' in front
FULL_WIDTH_ID = u'０１２３４５６７８９ａｂｃｄｅｆ０１２３４５６７８９ａｂｃｄｅｆ'
LONG_LIST_BAD_INDEX = 257
LONG_LIST = ['%032x' % (0xab000000000000000000000000000000 + n) for n in range(300)]
LONG_LIST[LONG_LIST_BAD_INDEX] = 'ab00000000000000000000000000010g'


def case(case_id, module, args, expect, env=None):
    """One bad input: the module, its arguments, the texts the failure message must contain, task environment."""
    return {'id': case_id, 'module': module, 'args': args, 'expect': expect, 'env': env}


def member_cases():
    share = {'image': 'shareable-01'}
    return [
        case('project id not hex', MEMBER, dict(share, members=['not-a-project-id']),
             ['members', "'not-a-project-id'", HEX_RULE]),
        case('project id of 31 characters', MEMBER, dict(share, members=['cc00000000000000000000000000001']),
             ['members', 'cc00000000000000000000000000001', HEX_RULE]),
        case('project id with dashes', MEMBER, dict(share, members=['cc000000-0000-0000-0000-000000000001']),
             ['members', 'cc000000-0000-0000-0000-000000000001', HEX_RULE]),
        case('project id with a trailing newline', MEMBER, dict(share, members=[C + '\n']),
             ['members', 'item 0', HEX_RULE]),
        case('non-ASCII project id', MEMBER, dict(share, members=[C, CYRILLIC_ID]),
             ['members', 'item 1', CYRILLIC_ID, HEX_RULE]),
        case('recipient member not a project id', MEMBER, dict(share, status='accepted', member='eu-de_consumer'),
             ['member', "'eu-de_consumer'", HEX_RULE]),
        case('empty members list', MEMBER, dict(share, members=[]),
             ['members is empty', 'purge_members']),
        case('neither members nor status', MEMBER, dict(share),
             ['members', 'status', 'accepted, rejected or pending']),
        case('owner and recipient options mixed', MEMBER, dict(share, members=[C], status='accepted'),
             ['owner options', 'recipient options', 'members', 'status']),
        case('purge_members with member', MEMBER, dict(share, members=[C], purge_members=True, member=C),
             ['owner options', 'recipient options', 'purge_members', 'member']),
        case('set_shared_visibility with vault_id', MEMBER,
             dict(share, members=[C], set_shared_visibility=True, vault_id='vault-1'),
             ['set_shared_visibility', 'vault_id', 'cannot be combined']),
        case('purge_members with state=absent', MEMBER, dict(share, members=[C], purge_members=True, state='absent'),
             ['purge_members=true', 'state=absent', 'members: []']),
        case('status with state=absent', MEMBER, dict(share, status='accepted', state='absent'),
             ['state=absent', 'status', 'status=rejected']),
        case('vault_id with status=rejected', MEMBER, dict(share, status='rejected', vault_id='vault-1'),
             ['vault_id', 'status=accepted', 'status=rejected']),
        case('unknown status', MEMBER, dict(share, status='approved'),
             ['status', 'approved', 'accepted, rejected, pending']),
        case('unknown state', MEMBER, dict(share, members=[C], state='shared'),
             ['state', 'shared', 'present, absent']),
        case('misspelt option', MEMBER, dict(share, memebers=[C]),
             ['memebers', 'Supported parameters', 'members']),
        case('empty image', MEMBER, {'image': '', 'members': [C]},
             ['image', 'empty', 'name or id']),
        case('blank image', MEMBER, {'image': '   ', 'members': [C]},
             ['image', 'empty', 'name or id']),
        case('members item not a string', MEMBER, dict(share, members=[{'id': C}]),
             ['members', 'item 0', C, HEX_RULE]),
    ]


def batch_cases():
    share = {'images': ['shareable-01'], 'projects': [C]}
    accept = {'images': ['shareable-01'], 'status': 'accepted'}
    return [
        case('timeout not a number', BATCH, dict(share, timeout='soon'), ['timeout', 'soon', 'int']),
        case('timeout zero', BATCH, dict(share, timeout=0), ['timeout', '0', 'positive']),
        case('timeout negative', BATCH, dict(share, timeout=-5), ['timeout', '-5', 'positive']),
        case('empty images list', BATCH, dict(share, images=[]), ['images is empty', 'image name or id']),
        case('blank image in images', BATCH, dict(share, images=['shareable-01', '  ']),
             ['images', 'item 1', 'empty', 'image name or id']),
        case('project id not hex', BATCH, dict(share, projects=['xyz']), ['projects', "'xyz'", HEX_RULE]),
        case('empty projects list', BATCH, dict(share, projects=[]), ['projects is empty', 'project id']),
        case('projects and status mixed', BATCH, dict(share, status='accepted'),
             ['mutually exclusive', 'projects', 'status']),
        case('purge_projects and status mixed', BATCH, dict(accept, purge_projects=True),
             ['mutually exclusive', 'purge_projects', 'status']),
        case('purge_projects with state=absent', BATCH, dict(share, purge_projects=True, state='absent'),
             ['purge_projects=true', 'state=absent', 'state=present']),
        case('batch_size zero', BATCH, dict(share, batch_size=0), ['batch_size', '0', 'at least 1']),
        case('vault_id with status=rejected', BATCH, dict(accept, status='rejected', vault_id='vault-1'),
             ['vault_id', 'status=accepted', 'status=rejected']),
        case('full-width recipient project id', BATCH, dict(accept, project_id=FULL_WIDTH_ID),
             ['project_id', FULL_WIDTH_ID, HEX_RULE]),
        case('project_id without status', BATCH, dict(share, project_id=C), ['project_id', 'status']),
        case('neither projects nor status', BATCH, {'images': ['shareable-01']},
             ['one of the following is required', 'projects', 'status']),
        case('long list with one bad id', BATCH, dict(share, projects=LONG_LIST),
             ['projects', 'item %d' % LONG_LIST_BAD_INDEX, LONG_LIST[LONG_LIST_BAD_INDEX], HEX_RULE]),
        case('info: unknown member_status', INFO, {'images': ['shareable-01'], 'member_status': 'approved'},
             ['member_status', 'approved', 'pending, accepted, rejected, all']),
        case('info: concurrency zero', INFO, {'images': ['shareable-01'], 'concurrency': 0},
             ['concurrency', '0', 'between 1 and']),
        case('info: images with view=recipient', INFO, {'images': ['shareable-01'], 'view': 'recipient'},
             ['images', 'view=recipient', 'view=owner']),
    ]


def connection_cases(url, files):
    auth = password_auth(url, 'owner-user')
    image = {'image': 'shareable-01', 'members': [C]}
    share = dict(image, auth=auth)
    aksk = {'access_key': USERS['owner-user']['access_key'], 'secret_key': USERS['owner-user']['secret_key']}
    without = dict((key, value) for key, value in auth.items() if key != 'user_domain_name')
    unscoped = dict((key, value) for key, value in auth.items() if key != 'project_id')
    return [
        case('unknown key in auth', MEMBER, dict(share, auth=dict(auth, passwd='x')),
             ['auth.passwd', 'Supported parameters', 'password']),
        case('unknown key in a cloud dict', MEMBER, dict(image, cloud={'auth': dict(auth, pass_word='x')}),
             ['pass_word', 'cloud.auth', 'Allowed keys', 'password']),
        case('AK/SK without project_id', BATCH, {'images': ['shareable-01'], 'projects': [C], 'auth': aksk,
                                                 'ims_endpoint': url},
             ["auth_type 'aksk'", 'auth.project_id', 'OS_PROJECT_ID']),
        case('AK/SK with project_name only', INFO, {'images': ['shareable-01'], 'ims_endpoint': url,
                                                    'auth': dict(aksk, project_name='eu-de_owner')},
             ['auth.project_id', 'auth.project_name', 'cannot be resolved']),
        case('AK/SK without endpoint or region', INFO, {'images': ['shareable-01'],
                                                        'auth': dict(aksk, project_id=PROJECT['eu-de_owner'])},
             ['ims_endpoint', 'OS_IMS_ENDPOINT', 'region_name']),
        case('password without the user domain', MEMBER, dict(share, auth=without),
             ['auth.username', 'user_domain_name', 'user_domain_id']),
        case('password without a project', MEMBER, dict(share, auth=unscoped),
             ['project scope', 'auth.project_id', 'auth.project_name']),
        case('password and token together', MEMBER, dict(share, auth=dict(auth, token='a-token')),
             ['auth.password', 'auth.token', 'one kind of credential']),
        case('auth_url not http', MEMBER, dict(share, auth=dict(auth, auth_url='ftp://127.0.0.1/v3')),
             ['auth.auth_url', 'ftp://127.0.0.1/v3', 'https://']),
        case('auth_url of Keystone v2', MEMBER, dict(share, auth=dict(auth, auth_url='http://127.0.0.1:9/v2.0')),
             ['auth.auth_url', 'http://127.0.0.1:9/v2.0', '/v3']),
        case('unknown auth_type', MEMBER, dict(share, auth_type='kerberos'),
             ['auth_type', 'kerberos', 'password, token, v3applicationcredential, aksk']),
        case('unknown interface', MEMBER, dict(share, interface='private'),
             ['interface', 'private', 'public, internal, admin']),
        case('api_timeout not a number', MEMBER, dict(share, api_timeout='fast'), ['api_timeout', 'fast', 'int']),
        case('retries negative', MEMBER, dict(share, retries=-1), ['retries', '-1', '>= 0']),
        case('missing CA bundle', MEMBER, dict(share, ca_cert='/nonexistent/ca.pem'),
             ['ca_cert', '/nonexistent/ca.pem', 'does not exist']),
        case('malformed clouds.yaml', MEMBER, dict(image, cloud='broken'),
             ['cannot parse', files['malformed'], 'line'], env={'OS_CLIENT_CONFIG_FILE': files['malformed']}),
        case('clouds.yaml whose clouds is a list', MEMBER, dict(image, cloud='devstack'),
             ['"clouds"', files['list'], 'mapping'], env={'OS_CLIENT_CONFIG_FILE': files['list']}),
        case('clouds.yaml without the cloud', BATCH, {'images': ['shareable-01'], 'projects': [C], 'cloud': 'production'},
             ["cloud='production'", files['valid'], 'clouds defined there: devstack'],
             env={'OS_CLIENT_CONFIG_FILE': files['valid']}),
        case('cloud named but no clouds.yaml', INFO, {'images': ['shareable-01'], 'cloud': 'devstack'},
             ["cloud='devstack'", 'no clouds.yaml was found', files['missing']],
             env={'OS_CLIENT_CONFIG_FILE': files['missing']}),
        case('cloud dict with auth', MEMBER, dict(share, cloud={'auth': auth}),
             ['cloud is a dict', 'auth', 'cannot be combined']),
    ] + login_cases(url, auth, aksk)


def login_cases(url, auth, aksk):
    """The options of issue 17 (application credentials, passcode, profile, OS_IMS_ENDPOINT, the trace)."""
    app = {'auth_url': url + '/v3', 'application_credential_secret': 'not-shown-1'}
    mfa = {'auth_url': url + '/v3', 'user_id': 'u-1', 'password': 'not-shown-2', 'project_id': PROJECT['eu-de_owner']}
    read = {'images': ['shareable-01']}
    return [
        case('application credential not named', INFO, dict(read, auth=app),
             ['auth.application_credential_secret', 'auth.application_credential_id', 'application_credential_name']),
        case('application credential name without its user', INFO,
             dict(read, auth=dict(app, application_credential_name='ci')),
             ["auth_type 'v3applicationcredential'", 'auth.username', 'auth.user_id']),
        case('passcode not digits', INFO, dict(read, auth=dict(mfa, passcode='12ab56')),
             ['auth.passcode', '6-digit code', 'MFA']),
        case('passcode without user_id', INFO,
             dict(read, auth=dict(password_auth(url, 'owner-user'), passcode='123456')),
             ['auth.passcode', 'auth.user_id', 'by id']),
        case('unknown vendor profile', INFO, dict(read, cloud={'profile': 'acme', 'auth': auth}),
             ['profile', "'acme'", 'otc, otc-swiss']),
        case('OS_IMS_ENDPOINT not a URL', INFO, dict(read, auth=aksk_with_project(aksk)),
             ['OS_IMS_ENDPOINT', 'ims.example.test', 'https://'], env={'OS_IMS_ENDPOINT': 'ims.example.test'}),
        case('trace_path in a missing directory', INFO, dict(read, auth=auth, trace_path='/nonexistent/t.log'),
             ['trace_path', '/nonexistent', 'does not exist']),
        case('IMSCLOUD_SHARING_TRACE not a boolean', INFO, dict(read, auth=auth),
             ['IMSCLOUD_SHARING_TRACE', 'maybe', 'true or false'], env={'IMSCLOUD_SHARING_TRACE': 'maybe'}),
    ]


def aksk_with_project(aksk):
    return dict(aksk, project_id=PROJECT['eu-de_owner'])


def write_clouds_files(workspace_path, url):
    # not in the playbook's directory, where ./clouds.yaml would be found
    directory = os.path.join(workspace_path, 'clouds')
    os.mkdir(directory)
    files = {'malformed': os.path.join(directory, 'malformed-clouds.yaml'),
             'list': os.path.join(directory, 'list-clouds.yaml'),
             'valid': os.path.join(directory, 'clouds.yaml'),
             'missing': os.path.join(directory, 'no-such-clouds.yaml')}
    with open(files['malformed'], 'w', encoding='utf-8') as handle:
        handle.write('clouds:\n  broken:\n    auth: {auth_url: %s/v3, password: "unterminated\n' % url)
    with open(files['list'], 'w', encoding='utf-8') as handle:
        handle.write('clouds:\n  - devstack\n  - production\n')
    with open(files['valid'], 'w', encoding='utf-8') as handle:
        yaml.safe_dump({'clouds': {'devstack': {'auth': password_auth(url, 'owner-user')}}}, handle)
    return files


GROUPS = ('ims_image_member', 'ims_image_member_batch and info', 'connection options')


@pytest.mark.parametrize('group', GROUPS)
def test_bad_input_fails_before_any_request(emu, workspace, group):
    files = write_clouds_files(workspace.path, emu.url)
    cases = {GROUPS[0]: member_cases, GROUPS[1]: batch_cases}.get(group, lambda: connection_cases(emu.url, files))()
    assert len(set(c['id'] for c in cases)) == len(cases)
    tasks = []
    for number, bad in enumerate(cases):
        task = {'name': bad['id'], bad['module']: bad['args'], 'register': 'case_%d' % number, 'ignore_errors': True}
        if bad['env']:
            task['environment'] = bad['env']
        tasks.append(task)
    # the connection cases give their own credentials (a cloud dict cannot be combined with auth)
    defaults = None if group == GROUPS[2] else {'auth': password_auth(emu.url, 'owner-user')}
    run = workspace.run(play(tasks, module_defaults=defaults), collect=['case_%d' % n for n in range(len(cases))])
    stats = emu.stats()

    assert run.results is not None, run.describe()
    problems = []
    for number, bad in enumerate(cases):
        result = run.results['case_%d' % number]
        message = result.get('msg', '')
        if not result.get('failed'):
            problems.append('%s: the task did not fail: %s' % (bad['id'], result))
            continue
        missing = [text for text in bad['expect'] if text not in message]
        if missing or 'Traceback' in message or result.get('exception', '').startswith('Traceback'):
            problems.append('%s: the message lacks %s: %r' % (bad['id'], missing, message))
    record_figures('bad_input', group=group, cases=len(cases), requests=stats['total'],
                   clear=len(cases) - len(problems))
    assert stats['total'] == 0, stats['requests']
    assert problems == [], '\n'.join(problems)


def test_duplicates_warn_and_non_ascii_names_resolve(emu, workspace):
    emu.reset(seed_with([('bild-grün-日本', 'eu-de_consumer2', 'pending')]))
    owner = [
        {'name': 'duplicate members', MEMBER: {'image': 'shareable-01', 'members': [C, C2, C.upper(), C]},
         'register': 'members_dup'},
        {'name': 'duplicate images and projects', BATCH: {
            'images': ['shareable-02', 'shareable-02', IMAGE['shareable-02']], 'projects': [C, C], 'api': 'jobs'},
         'register': 'batch_dup'},
        {'name': 'non-ASCII name, owner side', MEMBER: {'image': u'bild-grün-日本', 'members': [C]}, 'register': 'unicode_owner'},
        {'name': 'non-ASCII name, info', INFO: {'images': [u'bild-grün-日本']}, 'register': 'unicode_info'},
    ]
    consumer2 = [{'name': 'non-ASCII name, recipient side', BATCH: {'images': [u'bild-grün-日本'], 'status': 'accepted'},
                  'register': 'unicode_recipient'}]
    run = workspace.run([play(owner, module_defaults={'auth': password_auth(emu.url, 'owner-user')}),
                         play(consumer2, module_defaults={'auth': password_auth(emu.url, 'consumer2-user')})],
                        collect=['members_dup', 'batch_dup', 'unicode_owner', 'unicode_info', 'unicode_recipient'])
    assert run.returncode == 0, run.describe()
    results = run.results
    assert results['members_dup']['added'] == [C, C2]
    assert any('%s is listed 3 times' % C in warning for warning in results['members_dup']['warnings'])
    assert results['batch_dup']['images'] == [{'id': IMAGE['shareable-02'], 'name': 'shareable-02'}]
    assert any('listed 2 times' in warning for warning in results['batch_dup']['warnings'])
    assert len(results['batch_dup']['jobs']) == 1
    unicode_id = IMAGE[u'bild-grün-日本']
    assert results['unicode_owner']['image'] == {'id': unicode_id, 'name': u'bild-grün-日本'}
    assert results['unicode_info']['images'][0]['id'] == unicode_id
    assert results['unicode_recipient']['status_changed'] == [{'image_id': unicode_id, 'before': 'pending', 'after': 'accepted'}]
    assert memberships(wait_for_jobs(emu)) == {
        IMAGE['shareable-01']: {C: 'pending', C2: 'pending'}, IMAGE['shareable-02']: {C: 'pending'},
        unicode_id: {C: 'pending', C2: 'accepted'}}


LONG_LIST_SIZE = 250          # below the IMS member quota of 256


def test_long_lists_work_and_are_split(emu, workspace):
    """No documented maximum applies to a list option: long lists work. The batch API gets at most batch_size
    (100) projects per request, and the native module adds every member; a re-run changes nothing."""
    extra = [{'id': '%032x' % (0xbb000000000000000000000000000000 + n), 'name': 'eu-de_team-%03d' % n,
              'domain': SEED['domains'][0]['name'], 'region': 'eu-de'} for n in range(LONG_LIST_SIZE)]
    emu.reset(seed_with(projects=SEED['projects'] + extra))
    projects = [project['id'] for project in extra]
    batch_images = ['shareable-04', 'shareable-05', 'shareable-06']
    tasks = [
        {'name': 'native, 250 members', MEMBER: {'image': 'shareable-03', 'members': projects}, 'register': 'native'},
        # the job API forced: 750 pairs are few enough for the automatic choice to take native calls
        {'name': 'batch, 3 images x 250 projects', BATCH: {'images': batch_images, 'projects': projects, 'api': 'jobs'},
         'register': 'batch'},
    ]
    plays = play(tasks, module_defaults={'auth': password_auth(emu.url, 'owner-user')})
    first = workspace.run(plays, collect=['native', 'batch'])
    state = wait_for_jobs(emu)
    assert first.returncode == 0, first.describe()
    expected = dict((IMAGE[name], dict((p, 'pending') for p in projects)) for name in ['shareable-03'] + batch_images)
    assert memberships(state) == expected
    jobs = list(state['jobs'].values())
    assert sorted(len(job['request']['projects']) for job in jobs) == [50, 100, 100]
    assert all(len(job['request']['images']) == 3 for job in jobs)

    emu.reset_stats()
    again = workspace.run(plays, collect=['native', 'batch'])
    assert again.returncode == 0, again.describe()
    assert again.results['native']['changed'] is False and again.results['batch']['changed'] is False
    assert emu.stats()['writes'] == 0
    record_figures('long_lists', members=LONG_LIST_SIZE, pairs=LONG_LIST_SIZE * 4, jobs=len(jobs))
