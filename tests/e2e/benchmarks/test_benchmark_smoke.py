# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark's code on a tiny size (3 images, 2 projects, zero latency): every scenario runs, the report has
its rows and targets, and the request counts are the ones each approach must make. No timing is asserted."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BENCH_DIR = os.path.join(ROOT, 'tests', 'benchmarks')
if BENCH_DIR not in sys.path:
    sys.path.insert(0, BENCH_DIR)

import bench_report  # noqa: E402  pylint: disable=wrong-import-position
import benchmark  # noqa: E402  pylint: disable=wrong-import-position

IMAGES, PROJECTS, HOSTS, SAMPLE = 3, 2, 2, 2
PLAN_IMAGES, PLAN_PROJECTS = 4, 3
TOKEN = 'POST /v3/auth/tokens'
MEMBERS = 'GET /v2/images/{image_id}/members'
ADD = 'POST /v2/images/{image_id}/members'
ACCEPT = 'PUT /v2/images/{image_id}/members/{member_id}'
BATCH_ADD = 'POST /v1/cloudimages/members'
BATCH_UPDATE = 'PUT /v1/cloudimages/members'
JOB = 'GET /v1/{project_id}/jobs/{job_id}'


@pytest.fixture(scope='module')
def report(tmp_path_factory):
    settings = benchmark.Settings(images=IMAGES, projects=PROJECTS, hosts=HOSTS, plan_images=PLAN_IMAGES,
                                  plan_projects=PLAN_PROJECTS, iam=0.0, ims=0.0, job=0.1, timing_runs=2,
                                  baseline_sample=SAMPLE)
    return benchmark.run_benchmark(settings, work_dir=str(tmp_path_factory.mktemp('bench')))


def rows(report):
    return dict((row['key'], row) for row in report['scenarios'])


def requests(row):
    return row['stats']['requests']


def test_every_scenario_has_a_row_in_order(report):
    assert [row['key'] for row in report['scenarios']] == ['1', '2', '1n', '3', '4', '5', '6m', '6u']
    assert all(row['end_state_ok'] for row in report['scenarios'])


def test_batch_share_is_one_token_one_read_per_image_one_job(report):
    one = rows(report)['1']
    assert requests(one)[TOKEN] == 1
    assert requests(one)[MEMBERS] == IMAGES
    assert requests(one)[BATCH_ADD] == 1
    assert requests(one)[JOB] >= 1
    assert one['stats']['writes'] == 1 and one['stats']['tokens_issued'] == 1


def test_unchanged_rerun_reads_only(report):
    two = rows(report)['2']
    assert requests(two) == {MEMBERS: IMAGES}
    assert two['iam_requests'] == 0 and two['stats']['writes'] == 0
    assert not any(task['changed'] for task in two['task_times'])


def test_by_name_submits_the_same_single_job(report):
    by_name = rows(report)['1n']
    assert requests(by_name)[BATCH_ADD] == 1 and by_name['iam_requests'] == 1
    assert requests(by_name)['GET /v2/images'] >= 1


def test_loops_send_one_write_per_pair_and_extrapolate_to_all_images(report):
    native, uri = rows(report)['3'], rows(report)['4']
    assert requests(uri) == {TOKEN: 1, ADD: SAMPLE * PROJECTS}
    assert requests(native)[ADD] == SAMPLE * PROJECTS
    assert native['iam_requests'] == 1   # the token cache serves every loop item after the first
    assert uri['extrapolated']['sample'] == SAMPLE
    assert uri['extrapolated']['writes'] == IMAGES * PROJECTS
    assert uri['extrapolated']['total'] == 1 + IMAGES * PROJECTS
    per_image = native['stats']['total'] - 1
    assert native['extrapolated']['total'] == 1 + per_image * IMAGES // SAMPLE


def test_parallel_hosts_share_one_token(report):
    hosts = rows(report)['5']
    assert hosts['forks'] == HOSTS
    assert requests(hosts)[TOKEN] == 1 and hosts['stats']['tokens_issued'] == 1
    assert requests(hosts)[ADD] == HOSTS * PROJECTS


def test_accepting_is_one_job_against_one_put_per_image(report):
    module, uri = rows(report)['6m'], rows(report)['6u']
    assert requests(module)[BATCH_UPDATE] == 1 and requests(module)[MEMBERS] == IMAGES
    assert ACCEPT not in requests(module)
    assert requests(uri) == {TOKEN: 1, ACCEPT: IMAGES}


def test_planning_reads_every_image_writes_nothing_and_measures_one_module_process(report):
    planning = report['planning']
    assert planning['stats']['requests'][MEMBERS] == PLAN_IMAGES
    assert planning['stats']['writes'] == 0
    assert planning['module_processes'] == 1
    # both are the peak RSS of one module process (interpreter + Ansible + requests: tens of MB); the smoke plan is
    # so small that the two differ by measurement noise only, in either direction
    assert 10 * 1024 < planning['floor_rss_kib'] < 150 * 1024
    assert abs(planning['peak_rss_kib'] - planning['floor_rss_kib']) < planning['floor_rss_kib'] * 0.25


def test_module_time_runs_are_unchanged_without_iam(report):
    for module, entry in report['module_time'].items():
        assert entry['changed_runs'] == 0, module
        assert entry['iam_requests'] == 0 and entry['writes'] == 0, module
        assert entry['ansiballz_process'] is not None, module
        assert 0 < entry['run'] < entry['own'], module
    assert report['module_time']['ims_image_member_batch']['requests_per_run'] == {MEMBERS: 1}
    # the import breakdown covers what the module imports, not the interpreter's or the framework's start-up
    packages = dict((name, kind) for name, _ms, kind in report['module_time']['ims_image_member']['import_breakdown'])
    assert packages['ansible_collections'] == 'collection'
    assert 'encodings' not in packages


def test_targets_are_all_judged_and_the_request_targets_are_met(report):
    targets = dict((target['id'], target) for target in report['targets'])
    assert sorted(targets) == ['T1', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7']
    assert all(target['status'] in ('met', 'missed') for target in targets.values())
    assert all(target['cause'] for target in targets.values() if target['status'] == 'missed')
    assert targets['T4']['status'] == 'met'   # zero writes, zero IAM requests on the unchanged re-run
    assert targets['T5']['status'] == 'met'   # one IAM request for all hosts


def test_report_renders_every_row_and_target(report):
    text = bench_report.render_text(report)
    markdown = bench_report.render_markdown(report)
    for key in ('1', '2', '1n', '3', '4', '5', '6m', '6u'):
        assert '| %s |' % key in markdown
        assert '\n%-3s ' % key in text
    assert markdown.count('| **met** |') + markdown.count('| **MISSED** |') == 7
    assert '## Machine' in markdown and report['machine']['cpus'] >= 1
    assert 'MII' not in markdown and 'password' not in markdown.lower()
