# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark's code on a tiny size (3 images, 2 projects, zero latency): every scenario runs (or says why it is
not available in the collection under test), the report has its rows and targets, and the request counts are the
ones each approach must make. No timing is asserted."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BENCH_DIR = os.path.join(ROOT, 'tests', 'benchmarks')
if BENCH_DIR not in sys.path:
    sys.path.insert(0, BENCH_DIR)

import bench_render  # noqa: E402  pylint: disable=wrong-import-position
import bench_report  # noqa: E402  pylint: disable=wrong-import-position
import benchmark  # noqa: E402  pylint: disable=wrong-import-position

IMAGES, PROJECTS, HOSTS, SAMPLE = 3, 2, 2, 2
PLAN_IMAGES, PLAN_PROJECTS = 4, 3
GROWTH = [(2, 2, False), (4, 3, True)]
IDENTITIES, IDENTITY_IMAGES, IDENTITY_PROJECTS = 2, 2, 2
AUDIT_IMAGES = 5
TARGETS = ['T1', 'T1n', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7', 'TG', 'TR', 'TG1', 'TS', 'TA']
OPTIONAL = ('G1', 'Sa', 'Sj', 'A')   # run when the collection has the option, else reported as not available
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
                                  baseline_sample=SAMPLE, growth=GROWTH, identities=IDENTITIES,
                                  identity_images=IDENTITY_IMAGES, identity_projects=IDENTITY_PROJECTS,
                                  audit_images=AUDIT_IMAGES)
    return benchmark.run_benchmark(settings, work_dir=str(tmp_path_factory.mktemp('bench')))


def rows(report):
    return dict((row['key'], row) for row in report['scenarios'])


def requests(row):
    return row['stats']['requests']


def skipped(report):
    return dict((entry['key'], entry['reason']) for entry in report['skipped'])


def test_every_scenario_has_a_row_in_order_or_says_why_not(report):
    ran = [row['key'] for row in report['scenarios']]
    assert ran[:9] == ['1', '2', '1n', '3', '4', '5', '6m', '6u', 'R']
    assert sorted(ran[9:] + list(skipped(report))) == sorted(OPTIONAL)
    assert all(row['end_state_ok'] for row in report['scenarios'])
    assert all(reason for reason in skipped(report).values())


def assert_writes(row, job_route, native_route, pairs):
    """The batch module's writes: one job for the whole plan (job executor, polled until it ends), or one native
    call per pair (the native executor, which the automatic choice takes for a plan as small as the smoke's)."""
    if row['stats']['job_submissions']:
        assert requests(row)[job_route] == 1 and requests(row)[JOB] >= 1
        assert native_route not in requests(row) and row['stats']['writes'] == 1
    else:
        assert requests(row)[native_route] == pairs and row['stats']['writes'] == pairs
        assert job_route not in requests(row) and JOB not in requests(row)


def test_batch_share_is_one_token_one_read_per_image_then_the_writes(report):
    one = rows(report)['1']
    assert requests(one)[TOKEN] == 1 and one['stats']['tokens_issued'] == 1
    assert requests(one)[MEMBERS] == IMAGES
    assert_writes(one, BATCH_ADD, ADD, IMAGES * PROJECTS)


def test_unchanged_rerun_reads_only(report):
    two = rows(report)['2']
    assert requests(two) == {MEMBERS: IMAGES}
    assert two['iam_requests'] == 0 and two['stats']['writes'] == 0
    assert not any(task['changed'] for task in two['task_times'])


def test_by_name_writes_the_same_and_lists_at_most_once_per_name(report):
    by_name = rows(report)['1n']
    assert by_name['iam_requests'] == 1
    assert 1 <= requests(by_name)['GET /v2/images'] <= IMAGES
    assert_writes(by_name, BATCH_ADD, ADD, IMAGES * PROJECTS)


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


def test_accepting_is_one_job_or_one_put_per_image_as_the_uri_loop(report):
    module, uri = rows(report)['6m'], rows(report)['6u']
    assert requests(module)[MEMBERS] == IMAGES
    assert_writes(module, BATCH_UPDATE, ACCEPT, IMAGES)
    assert requests(uri) == {TOKEN: 1, ACCEPT: SAMPLE}   # the uri loop ran on the sample and is extrapolated
    assert uri['extrapolated']['writes'] == IMAGES and uri['extrapolated']['total'] == 1 + IMAGES


def test_planning_reads_every_image_writes_nothing_and_measures_one_module_process(report):
    planning = report['planning']
    assert planning['stats']['requests'][MEMBERS] == PLAN_IMAGES
    assert planning['stats']['writes'] == 0
    # the wrapper recorded exactly the one module process of each run, and what it recorded is a Python process
    # that imported Ansible's module framework (more than 10 MB), not the wrapper's empty child list
    assert planning['module_processes'] == 1
    assert planning['peak_rss_kib'] > 10 * 1024 and planning['floor_rss_kib'] > 10 * 1024


def test_growth_requests_follow_the_plan_at_every_size(report):
    assert [(g['images'], g['projects'], g['zero_latency']) for g in report['growth']] == GROWTH
    for g in report['growth']:
        assert g['member_reads'] == g['images'] and g['tokens'] == 1
        assert g['as_planned'] and g['writes_sent'] == g['writes_planned']
        if g['executor'] == 'jobs':
            assert g['stats']['job_submissions'] == 1 and g['stats']['job_polls'] >= 1
        else:   # the automatic choice sends small plans as native calls: one write per pair
            assert g['stats']['job_submissions'] == 0 and requests(g)[ADD] == g['images'] * g['projects']
        assert g['module_processes'] == 1 and g['peak_rss_mb'] > 10
    # nothing beyond reads, jobs and polls grows with the work
    assert len(set(g['other_requests'] for g in report['growth'])) == 1


def test_identities_get_one_token_each_and_share_their_own_images(report):
    r = rows(report)['R']
    assert r['identities'] == IDENTITIES
    assert requests(r)[TOKEN] == IDENTITIES and r['stats']['tokens_issued'] == IDENTITIES
    assert requests(r)[MEMBERS] == IDENTITIES * IDENTITY_IMAGES
    if r['stats']['job_submissions']:
        assert requests(r)[BATCH_ADD] == IDENTITIES
    else:
        assert requests(r)[ADD] == IDENTITIES * IDENTITY_IMAGES * IDENTITY_PROJECTS


def test_glance_runs_the_native_executor_or_says_it_is_not_available(report):
    if 'G1' in skipped(report):
        assert 'native' in skipped(report)['G1']
        return
    g1 = rows(report)['G1']
    assert BATCH_ADD not in requests(g1) and g1['stats']['job_submissions'] == 0
    assert requests(g1)[ADD] == IMAGES * PROJECTS
    assert g1['stats']['max_in_flight'] <= max(report['profile']['concurrency'], report['profile']['read_concurrency'])


def test_small_change_auto_writes_natively_and_forced_jobs_submit_one_job(report):
    if 'Sa' in skipped(report):
        assert 'Sj' in skipped(report)
        return
    auto, jobs = rows(report)['Sa'], rows(report)['Sj']
    assert auto['stats']['job_submissions'] == 0 and requests(auto)[ADD] == 2
    assert requests(jobs)[BATCH_ADD] == 1 and ADD not in requests(jobs)


def test_audit_reads_one_member_list_per_image_after_the_listing(report):
    if 'A' in skipped(report):
        assert 'images' in skipped(report)['A']
        return
    audit = rows(report)['A']
    assert requests(audit)[MEMBERS] == AUDIT_IMAGES
    assert audit['listing_requests'] >= 1 and audit['stats']['writes'] == 0


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
    assert [target['id'] for target in report['targets']] == TARGETS
    assert all(target['status'] in ('met', 'missed', 'not available') for target in targets.values())
    assert all(target['cause'] for target in targets.values() if target['status'] != 'met')
    assert targets['T5']['status'] == 'met'   # one IAM request for all hosts
    assert targets['TG']['status'] == 'met'   # requests as planned at every size, small memory
    for ident, key in (('TG1', 'G1'), ('TS', 'Sa'), ('TA', 'A')):
        assert (targets[ident]['status'] == 'not available') == (key in skipped(report)), ident
    if 'A' not in skipped(report):
        assert targets['TA']['status'] == 'met'   # listing pages + one member read per image


def test_report_renders_every_row_and_target(report):
    text = bench_render.render_text(report)
    markdown = bench_render.render_markdown(report)
    for key in [row['key'] for row in report['scenarios']]:
        assert '| %s |' % key in markdown
        assert '\n%-3s ' % key in text
    for key, reason in skipped(report).items():
        assert '**%s**' % key in markdown and reason in markdown
    for g in report['growth']:
        assert '| %dx%d |' % (g['images'], g['projects']) in markdown
    assert (markdown.count('| **met** |') + markdown.count('| **MISSED** |')
            + markdown.count('| **not available** |')) == len(TARGETS)
    assert '## Machine' in markdown and report['machine']['cpus'] >= 1
    assert 'MII' not in markdown and 'password' not in markdown.lower()


def test_the_before_of_scenarios_3_and_5_comes_from_the_report_replaced_and_is_carried_forward(report):
    old = ('Run of 2026-11-23 12:15 UTC. Sizes: N = 50 images\n\n| # | wall s | tasks s |\n|---|---|---|\n'
           '| 3 | 88.48 | 87.59 | 1 |\n| 5 | 11.09 | 9.85 | 1 |\n'
           '- Load average (1, 5, 15 min) before the run: [1.31, 4.95, 5.1]; after: [3.42, 3.69, 4.06]\n'
           '- Commit: 60f65e4; the emulator\n')
    before = bench_report.previous_results(old)
    assert before == {'generated': '2026-11-23 12:15 UTC', 'commit': '60f65e4', 'tasks': {'3': 87.59, '5': 9.85},
                      'load_before': '[1.31, 4.95, 5.1]'}
    # the next report states that before, and the one after it still finds the first one
    markdown = bench_render.render_markdown(dict(report, previous=before))
    assert bench_report.previous_results(markdown) == before


def test_ansible_floor_is_measured_and_named_in_the_report(report):
    floor = report['ansible_floor']
    assert len(floor['runs']) == 3 and all(isinstance(run, float) for run in floor['runs'])
    assert floor['tasks_time'] == sorted(floor['runs'])[1]
    text = bench_render.render_markdown(report)
    assert "Ansible's own floor: a play of one ansible.builtin.ping task takes %.2f s" % floor['tasks_time'] in text
