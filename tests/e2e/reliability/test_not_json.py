# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A 200 whose body is not JSON: a proxy in front of the cloud answers with its HTML login page (the emulator's
html200 faults). A read is retried and the run converges; a batch submission so answered may have created its job
(html200-processed: it did), so it is an uncertain submission, settled by re-reading the members: the report must be
true (`changed` as applied, no pair reported not applied, no second job for the same pairs)."""

import pytest

from relsupport import (BATCH_ROUTES, CONSUMER2_PROJECT, CONSUMER_PROJECT, IMAGE, job_pairs, memberships,
                        password_auth, play, record_figures, wait_for_jobs)

C, C2 = CONSUMER_PROJECT, CONSUMER2_PROJECT
BATCH = 'imscloud.sharing.ims_image_member_batch'
MEMBER = 'imscloud.sharing.ims_image_member'
IMAGES = ['shareable-01', 'shareable-02']
MEMBERS_READ = 'GET /v2/images/{image_id}/members'
DECLARED = dict((IMAGE[name], {C: 'pending', C2: 'pending'}) for name in IMAGES)


def owner_play(emu, tasks):
    return play(tasks, module_defaults={'auth': password_auth(emu.url, 'owner-user'), 'retries': 4})


def report_problems(result):
    """What the task's report says that the emulator's state contradicts (the pairs were all applied)."""
    found = []
    if result.get('failed'):
        found.append('failed: %s' % result.get('msg'))
    if result.get('changed') is not True:
        found.append('changed %s although its pairs were applied' % result.get('changed'))
    if result.get('not_applied'):
        found.append('not applied: %s' % result['not_applied'])
    if ' 0 of ' in str(result.get('msg', '')):
        found.append('msg: %s' % result['msg'])
    return found


def test_reads_answered_with_a_login_page_are_retried(emu, workspace):
    """Every members read of both modules first meets the login page twice."""
    emu.set_faults([{'route': MEMBERS_READ, 'sequence': ['html200', 'html200', 'ok'] * 4}])
    tasks = [{'name': 'native add', MEMBER: {'image': IMAGES[0], 'members': [C, C2]}, 'register': 'native'},
             {'name': 'batch add', BATCH: {'images': [IMAGES[1]], 'projects': [C, C2], 'api': 'jobs'}, 'register': 'batch'}]
    run = workspace.run(owner_play(emu, tasks), collect=['native', 'batch'])
    state = wait_for_jobs(emu)
    stats = emu.stats()
    injected = stats['faults_injected']['by_kind'].get('html200', 0)
    problems = dict((name, report_problems(result)) for name, result in (run.results or {}).items())
    record_figures('not_json', case='members reads (GET) answered 200 with a login page, twice each',
                   faults=injected, reads=stats['requests'][MEMBERS_READ], jobs=len(state['jobs']),
                   converged=memberships(state) == DECLARED, true_report=all(not found for found in problems.values()))
    assert run.returncode == 0, run.describe()
    assert injected >= 4 and stats['requests'][MEMBERS_READ] >= injected + 2
    assert memberships(state) == DECLARED
    assert problems == {'native': [], 'batch': []}


@pytest.mark.parametrize('kind', ['html200-processed', 'html200'])
def test_batch_submission_answered_with_a_login_page_is_settled_by_rereading(emu, workspace, kind):
    """html200-processed: the job was created and applies the pairs, only its answer is the login page; html200:
    the proxy kept the request, nothing was created. Either way: one job for the pairs, the run converges, the
    report is true."""
    emu.set_faults([{'route': BATCH_ROUTES[0], 'sequence': [kind]}])
    tasks = [{'name': 'batch add', BATCH: {'images': IMAGES, 'projects': [C, C2], 'api': 'jobs', 'timeout': 10},
              'register': 'share'}]
    run = workspace.run(owner_play(emu, tasks), collect=['share'])
    state = wait_for_jobs(emu)
    stats = emu.stats()
    result = (run.results or {}).get('share', {})
    duplicates = sum(count - 1 for count in job_pairs(state).values() if count > 1)
    problems = report_problems(result)
    uncertain = any('may or may not have' in warning for warning in result.get('warnings') or [])
    record_figures('not_json', case='batch submission answered 200 with a login page (%s)' % kind,
                   faults=stats['faults_injected']['total'], submissions=stats['requests'][BATCH_ROUTES[0]],
                   jobs=len(state['jobs']), duplicates=duplicates, converged=memberships(state) == DECLARED,
                   true_report=not problems, uncertain=uncertain)
    assert run.returncode == 0, run.describe()
    assert memberships(state) == DECLARED
    assert len(state['jobs']) == 1 and duplicates == 0, state['jobs']
    assert problems == [], (problems, result)
    assert uncertain, result.get('warnings')
    # the job created behind the login page is found by re-reading, not submitted again
    assert stats['requests'][BATCH_ROUTES[0]] == (1 if kind == 'html200-processed' else 2)
