# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Concurrency: 20 module processes (one Ansible run, 20 hosts, 20 forks) share one token cache and cause exactly one
IAM request; 20 processes writing and reading one cache record at once never see, or leave, a corrupt file; the two
executors of ims_image_member_batch send the requests their plan says, the native one never more than `concurrency`
at once."""

import json
import os
import stat
import subprocess
import sys
import textwrap

from relsupport import (BATCH_ROUTES, CONSUMER2_PROJECT, CONSUMER_PROJECT, IMAGE, JOB_ROUTE, OTHER_PROJECT, TOKEN_ROUTE,
                        memberships, password_auth, play, record_figures)

PROCESSES = 20
INFO = 'imscloud.sharing.ims_image_member_info'
# Slow IAM: the first process holds the cache lock while the 19 others start and wait for it.
IAM_LATENCY = 2.0
IMS_LATENCY = 0.5


def test_twenty_processes_cause_one_iam_request(emu, workspace):
    emu.configure(latency={'IAM': {'fixed': IAM_LATENCY, 'jitter': 0.0}, 'IMS': {'fixed': IMS_LATENCY, 'jitter': 0.0}})
    hosts = ['host%02d' % number for number in range(PROCESSES)]
    inventory = os.path.join(workspace.path, 'inventory.ini')
    with open(inventory, 'w', encoding='utf-8') as handle:
        handle.write('[sharers]\n')
        for host in hosts:
            handle.write('%s ansible_connection=local ansible_python_interpreter=%s\n' % (host, sys.executable))
    tasks = [{'name': 'read the members', INFO: {'auth': password_auth(emu.url, 'owner-user'), 'images': ['shareable-01']},
              'register': 'members'}]
    run = workspace.run(play(tasks, hosts='sharers'), args=['-i', inventory, '--forks', str(PROCESSES)])
    stats = emu.stats()

    assert run.returncode == 0, run.describe()
    for host in hosts:
        recap = run.recap(host)
        assert recap['ok'] == 1 and recap['failed'] == 0, (host, recap)
    record_figures('concurrency', processes=PROCESSES, iam_requests=stats['requests'].get(TOKEN_ROUTE, 0),
                   max_in_flight=stats['max_in_flight'])
    assert stats['requests'][TOKEN_ROUTE] == 1 and stats['tokens_issued'] == 1, stats['requests']
    assert stats['requests']['GET /v2/images/{image_id}/members'] == PROCESSES
    # the reads overlapped: the processes really ran side by side
    assert stats['max_in_flight'] >= 4, stats['max_in_flight']
    names = sorted(os.listdir(workspace.cache_dir))
    assert [name[-5:] for name in names] == ['.json', '.lock'], names
    path = os.path.join(workspace.cache_dir, names[0])
    with open(path, encoding='utf-8') as handle:
        record = json.load(handle)
    assert record['project_id'] == password_auth(emu.url, 'owner-user')['project_id'] and record['token']
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


WRITER = textwrap.dedent('''
    import json, sys, time
    from ansible_collections.imscloud.sharing.plugins.module_utils.token_cache import TokenCache
    directory, key, number, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    warnings = []
    cache = TokenCache(directory, warn=warnings.append)
    # a large record, so that a torn write would be likely to show
    catalog = [{"type": "image", "endpoints": [{"url": "https://ims.example/%d/%d" % (number, n)} for n in range(300)]}]
    bad = 0
    for round_number in range(rounds):
        cache.store(key, {"token": "token-%d-%d" % (number, round_number), "expires_at": time.time() + 3600,
                          "project_id": "p", "endpoint": None, "catalog": catalog})
        record = cache.load(key)
        if not isinstance(record, dict) or not record.get("token", "").startswith("token-"):
            bad += 1
    print(json.dumps({"bad": bad, "warnings": warnings}))
''')


def test_concurrent_writers_never_corrupt_the_cache_file(tmp_path):
    directory = str(tmp_path / 'token-cache')
    key = 'a' * 64
    rounds = 40
    env = dict(os.environ, PYTHONPATH=os.environ['ANSIBLE_COLLECTIONS_PATH'])
    writers = [subprocess.Popen([sys.executable, '-c', WRITER, directory, key, str(number), str(rounds)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
               for number in range(PROCESSES)]
    reports = []
    for writer in writers:
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
        reports.append(json.loads(out))

    assert [report['bad'] for report in reports] == [0] * PROCESSES
    assert [report['warnings'] for report in reports] == [[]] * PROCESSES
    assert os.listdir(directory) == [key + '.json']            # no temporary file left behind
    path = os.path.join(directory, key + '.json')
    with open(path, encoding='utf-8') as handle:
        assert json.load(handle)['token'].startswith('token-')
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    record_figures('concurrency_writers', processes=PROCESSES, writes=PROCESSES * rounds, corrupt_reads=0)


BATCH = 'imscloud.sharing.ims_image_member_batch'
SHARED_IMAGES = ['shareable-%02d' % number for number in range(1, 9)]
PROJECTS = sorted([CONSUMER_PROJECT, CONSUMER2_PROJECT, OTHER_PROJECT])
MEMBERS_ROUTE = 'GET /v2/images/{image_id}/members'
ADD_ROUTE = 'POST /v2/images/{image_id}/members'


def _share(emu, workspace, **options):
    task = {'name': 'share', BATCH: dict({'images': SHARED_IMAGES, 'projects': PROJECTS}, **options), 'register': 'share'}
    run = workspace.run(play([task], module_defaults={'auth': password_auth(emu.url, 'owner-user')}), collect=['share'])
    assert run.returncode == 0, run.describe()
    return run.results['share'], emu.stats()


def test_native_executor_on_plain_glance_sends_one_call_per_pair_never_more_than_concurrency_at_once(emu, workspace):
    emu.configure(mode='glance', latency={'IMS': {'fixed': 0.05, 'jitter': 0.0}})
    emu.reset_stats()
    result, stats = _share(emu, workspace, concurrency=4, set_shared_visibility=True)
    requests = stats['requests']
    assert result['executor']['name'] == 'native' and 'plain OpenStack Glance' in result['executor']['reason']
    # 8 reads, one probe, 8 switches to shared, 8 reads again (members kept while private), 24 adds; no job
    assert requests[ADD_ROUTE] == 24
    assert requests['PATCH /v2/images/{image_id}'] == 8
    assert requests[MEMBERS_ROUTE] == 16
    assert requests['GET /v2/cloudimages'] == 1
    assert not any(route in requests for route in BATCH_ROUTES)
    assert 2 <= stats['max_in_flight'] <= 4, stats['max_in_flight']
    assert memberships(emu.state()) == dict((IMAGE[name], dict.fromkeys(PROJECTS, 'pending')) for name in SHARED_IMAGES)
    record_figures('executors', executor='native', backend='glance', pairs=24, concurrency=4,
                   writes=requests[ADD_ROUTE], max_in_flight=stats['max_in_flight'])

    # unchanged re-run: the reads only (the probe's answer is cached with the token)
    emu.reset_stats()
    again, stats = _share(emu, workspace, concurrency=4, set_shared_visibility=True)
    assert again['changed'] is False
    assert stats['writes'] == 0 and stats['requests'][MEMBERS_ROUTE] == 8
    assert set(stats['requests']) <= {MEMBERS_ROUTE, 'GET /v2/images'}, 'image names may cost listings, nothing else'


def test_job_executor_sends_one_submission_and_polls_it(emu, workspace):
    emu.reset_stats()
    result, stats = _share(emu, workspace, api='jobs')
    requests = stats['requests']
    assert result['executor'] == {'name': 'jobs', 'reason': 'api: jobs'}
    assert requests[BATCH_ROUTES[0]] == 1 and stats['job_submissions'] == 1
    assert ADD_ROUTE not in requests
    assert requests[MEMBERS_ROUTE] == 8
    # a 0.2 s job is seen by the first poll, one second after its submission
    assert requests[JOB_ROUTE] == 1
    assert memberships(emu.state()) == dict((IMAGE[name], dict.fromkeys(PROJECTS, 'pending')) for name in SHARED_IMAGES)
    record_figures('executors', executor='jobs', backend='otc', pairs=24, submissions=1, polls=requests[JOB_ROUTE])


def test_auto_picks_native_calls_for_a_small_change_on_ims(emu, workspace):
    emu.reset_stats()
    result, stats = _share(emu, workspace, concurrency=8)
    assert result['executor']['name'] == 'native'
    assert stats['requests'][ADD_ROUTE] == 24 and stats['job_submissions'] == 0
    assert stats['max_in_flight'] <= 8
