# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sharing under faults: 20 % of IMS requests fail (429 with Retry-After, 500, 503, dropped connection) and 10 % of
token requests get 429. Every scenario of both modules must still end exactly as declared, without a job submitted
twice for a pair, and a re-run without faults must report no change.

One fault rule per IMS route (each 20 %, its own seeded random generator) instead of one rule for all of IMS: the
draws of a route then do not depend on how concurrent reads of other routes interleave, so a seed replays the same
faults on the batch submissions."""

import pytest

from relsupport import (BATCH_ROUTES, CONSUMER2_PROJECT, CONSUMER_PROJECT, IMAGE, TOKEN_ROUTE,
                        job_pairs, memberships, password_auth, play, record_figures, seed_with, wait_for_jobs)

# tests/emulator is on sys.path (conftest.py): the route table of the emulator itself
from server import ROUTES

# Seeds chosen so that in each run token requests meet a 429 and batch submissions meet faults too (the draws of the
# batch routes depend only on the batch submissions, so a seed always hits the same ones).
SEEDS = (8, 64, 71)
IMS_FAULT_PROBABILITY = 0.2
IAM_FAULT_PROBABILITY = 0.1
IMS_FAULT_KINDS = ['429', '500', '503', 'drop']
RETRY_AFTER = 1
# retries: 8 -> an idempotent call fails only after 9 faults in a row (0.2 ** 9, about 5e-7).
RETRIES = 8
# timeout bounds the job wait and the window in which an uncertain batch submission is watched for its job.
BATCH_TIMEOUT = 3
IMS_ROUTES = [('%s %s' % (method, template)) for method, template, _name, family, _kind in ROUTES if family == 'IMS']

C, C2 = CONSUMER_PROJECT, CONSUMER2_PROJECT
# Memberships before the play: (image name, project name, status).
INITIAL = [
    ('shareable-02', 'eu-de_consumer', 'accepted'), ('shareable-02', 'eu-de_other', 'pending'),
    ('shareable-03', 'eu-de_consumer', 'pending'), ('shareable-03', 'eu-de_consumer2', 'accepted'),
    ('shareable-04', 'eu-de_consumer', 'pending'),
    ('shareable-07', 'eu-de_consumer', 'accepted'), ('shareable-07', 'eu-de_other', 'pending'),
    ('shareable-09', 'eu-de_consumer', 'pending'), ('shareable-09', 'eu-de_consumer2', 'pending'),
    ('shareable-10', 'eu-de_consumer', 'accepted'), ('shareable-10', 'eu-de_consumer2', 'pending'),
    ('glance-shared-01', 'eu-de_consumer', 'pending'), ('glance-shared-02', 'eu-de_consumer', 'rejected'),
]
# The memberships the play declares, for every image of the seed (images not listed have no member).
EXPECTED = {
    IMAGE['shareable-01']: {C: 'pending', C2: 'pending'},                 # native add
    IMAGE['shareable-02']: {C: 'accepted', C2: 'pending'},                # native purge
    IMAGE['shareable-03']: {C: 'pending'},                                # native remove
    IMAGE['shareable-04']: {C: 'accepted'},                               # native accept
    IMAGE['shareable-05']: {C: 'pending', C2: 'pending'},                 # batch add
    IMAGE['shareable-06']: {C: 'pending', C2: 'pending'},
    IMAGE['shareable-07']: {C: 'accepted', C2: 'pending'},                # batch purge
    IMAGE['shareable-08']: {C: 'pending', C2: 'pending'},
    IMAGE['shareable-09']: {C2: 'pending'},                               # batch remove
    IMAGE['shareable-10']: {C2: 'pending'},
    IMAGE['glance-shared-01']: {C: 'accepted'},                           # batch accept
    IMAGE['glance-shared-02']: {C: 'accepted'},
}
# Native writes the play needs (each must succeed exactly once).
NATIVE_WRITES = {'POST /v2/images/{image_id}/members': ('200', 3),
                 'DELETE /v2/images/{image_id}/members/{member_id}': ('204', 2),
                 'PUT /v2/images/{image_id}/members/{member_id}': ('200', 1)}


def fault_rules(seed):
    rules = [{'route': route, 'probability': IMS_FAULT_PROBABILITY, 'kinds': IMS_FAULT_KINDS,
              'retry_after': RETRY_AFTER, 'seed': seed * 1000 + index} for index, route in enumerate(IMS_ROUTES)]
    rules.append({'route': TOKEN_ROUTE, 'probability': IAM_FAULT_PROBABILITY, 'kinds': ['429'],
                  'retry_after': RETRY_AFTER, 'seed': seed * 1000 + 999})
    return rules


def sharing_plays(url):
    owner = {'auth': password_auth(url, 'owner-user'), 'retries': RETRIES, 'token_cache': False}
    consumer = {'auth': password_auth(url, 'consumer-user'), 'retries': RETRIES, 'token_cache': False}
    member = 'imscloud.sharing.ims_image_member'
    batch = 'imscloud.sharing.ims_image_member_batch'
    owner_tasks = [
        {'name': 'native add', member: {'image': 'shareable-01', 'members': [C, C2]}},
        {'name': 'native purge', member: {'image': 'shareable-02', 'members': [C, C2], 'purge_members': True}},
        {'name': 'native remove', member: {'image': IMAGE['shareable-03'], 'members': [C2], 'state': 'absent'}},
        {'name': 'batch add', batch: {'images': ['shareable-05', IMAGE['shareable-06']], 'projects': [C, C2],
                                      'timeout': BATCH_TIMEOUT, 'api': 'jobs'}},
        {'name': 'batch purge', batch: {'images': ['shareable-07', 'shareable-08'], 'projects': [C, C2],
                                        'purge_projects': True, 'timeout': BATCH_TIMEOUT, 'api': 'jobs'}},
        {'name': 'batch remove', batch: {'images': [IMAGE['shareable-09'], 'shareable-10'], 'projects': [C],
                                         'state': 'absent', 'timeout': BATCH_TIMEOUT, 'api': 'jobs'}},
    ]
    consumer_tasks = [
        {'name': 'native accept', member: {'image': 'shareable-04', 'status': 'accepted'}},
        {'name': 'batch accept', batch: {'images': ['glance-shared-01', IMAGE['glance-shared-02']], 'status': 'accepted',
                                         'timeout': BATCH_TIMEOUT, 'api': 'jobs'}},
    ]
    return [play(owner_tasks, module_defaults=owner), play(consumer_tasks, module_defaults=consumer)]


def changed_tasks(output):
    return [line for line in output.splitlines() if line.startswith('changed:')]


@pytest.mark.parametrize('seed', SEEDS)
def test_every_scenario_converges_under_faults(emu, workspace, seed):
    emu.reset(seed_with(INITIAL))
    plays = sharing_plays(emu.url)
    emu.set_faults(fault_rules(seed))

    faulted = workspace.run(plays)
    stats = emu.stats()
    emu.clear_faults()
    state = wait_for_jobs(emu)
    faults = stats['faults_injected']
    ims_requests = stats['total'] - stats['requests'].get(TOKEN_ROUTE, 0)
    batch_faults = sum(sum(faults['by_route'].get(route, {}).values()) for route in BATCH_ROUTES)
    duplicates = dict((pair, n) for pair, n in job_pairs(state).items() if n > 1)
    native_successes = dict((route, stats['responses'].get(route, {}).get(code, 0))
                            for route, (code, _n) in NATIVE_WRITES.items())

    emu.reset_stats()
    rerun = workspace.run(plays)
    rerun_stats = emu.stats()
    record_figures('faults', seed=seed, faults=faults['total'], faults_by_kind=faults['by_kind'],
                   iam_faults=sum(faults['by_route'].get(TOKEN_ROUTE, {}).values()),
                   batch_submission_faults=batch_faults, requests=stats['total'], ims_requests=ims_requests,
                   token_requests=stats['requests'].get(TOKEN_ROUTE, 0),
                   jobs=len(state['jobs']), duplicate_jobs=len(duplicates), scenarios=8,
                   converged=faulted.returncode == 0 and memberships(state) == EXPECTED,
                   rerun_changed=rerun.recap()['changed'] if rerun.returncode == 0 else None,
                   seconds=round(faulted.elapsed, 1))

    assert faulted.returncode == 0, faulted.describe()
    assert memberships(state) == EXPECTED
    # the seed's faults really hit this run, token requests and batch submissions included
    assert faults['total'] >= 5 and faults['by_route'].get(TOKEN_ROUTE) and batch_faults, faults
    assert duplicates == {}, duplicates
    assert native_successes == dict((route, n) for route, (_code, n) in NATIVE_WRITES.items())
    assert all(job['status'] == 'SUCCESS' for job in state['jobs'].values()), state['jobs']

    assert rerun.returncode == 0, rerun.describe()
    assert rerun.recap()['changed'] == 0, changed_tasks(rerun.stdout)
    assert rerun_stats['writes'] == 0, rerun_stats['requests']
    assert emu.state()['jobs'] == state['jobs']


def test_lost_batch_response_does_not_submit_the_job_again(emu, workspace):
    """The job is created but its response never arrives (the gateway is slower than api_timeout): the module must
    find the job's effect instead of submitting the pairs a second time."""
    images = [IMAGE['shareable-01'], IMAGE['shareable-02']]
    emu.set_faults([{'route': BATCH_ROUTES[0], 'sequence': ['delay:2']}])
    tasks = [{'name': 'share', 'imscloud.sharing.ims_image_member_batch': {
        'images': images, 'projects': [C, C2], 'api_timeout': 1, 'timeout': 10, 'api': 'jobs'}, 'register': 'share'}]
    run = workspace.run(play(tasks, module_defaults={'auth': password_auth(emu.url, 'owner-user')}), collect=['share'])
    state = wait_for_jobs(emu)

    assert run.returncode == 0, run.describe()
    assert memberships(state) == dict((image_id, {C: 'pending', C2: 'pending'}) for image_id in images)
    assert len(state['jobs']) == 1, state['jobs']
    assert emu.stats()['requests'][BATCH_ROUTES[0]] == 1
    assert any('may or may not have created a job' in warning for warning in run.results['share']['warnings'])
    record_figures('lost_response', module='ims_image_member_batch', jobs=len(state['jobs']), submissions=1)


def test_batch_submission_survives_three_uncertain_faults_in_a_row(emu, workspace):
    """Under 20 % faults, three failures in a row on one request happen (0.2 ** 3 = 1/125). retries: 8 lets an
    idempotent call survive eight; a batch submission, which the module re-sends only after watching the members,
    must survive them too: the user asked for 8 retries."""
    emu.set_faults([{'route': BATCH_ROUTES[0], 'sequence': ['500', '503', 'drop']}])
    tasks = [{'name': 'share', 'imscloud.sharing.ims_image_member_batch': {
        'images': ['shareable-01'], 'projects': [C], 'timeout': BATCH_TIMEOUT, 'api': 'jobs'}, 'register': 'share',
        'ignore_errors': True}]
    run = workspace.run(play(tasks, module_defaults={'auth': password_auth(emu.url, 'owner-user'), 'retries': RETRIES}),
                        collect=['share'])
    state = wait_for_jobs(emu)
    submissions = emu.stats()['requests'][BATCH_ROUTES[0]]
    record_figures('uncertain_in_a_row', faults=3, submissions=submissions, jobs=len(state['jobs']),
                   converged=not run.results['share'].get('failed'))

    assert run.results['share'].get('failed') is not True, run.results['share'].get('msg')
    assert memberships(state) == {IMAGE['shareable-01']: {C: 'pending'}}
    assert len(state['jobs']) == 1 and submissions == 4


def test_lost_native_add_response_is_not_an_error(emu, workspace):
    """The add is applied but its response is lost twice: the retry meets 409 Conflict, which means done."""
    emu.set_faults([{'route': 'POST /v2/images/{image_id}/members', 'sequence': ['delay:1.5', 'delay:3']}])
    tasks = [{'name': 'share', 'imscloud.sharing.ims_image_member': {
        'image': 'shareable-01', 'members': [C], 'api_timeout': 1}, 'register': 'share'}]
    run = workspace.run(play(tasks, module_defaults={'auth': password_auth(emu.url, 'owner-user')}), collect=['share'])
    stats = emu.stats()

    assert run.returncode == 0, run.describe()
    assert run.results['share']['changed'] is True and run.results['share']['added'] == [C]
    assert memberships(emu.state()) == {IMAGE['shareable-01']: {C: 'pending'}}
    # one add created the member; the later attempts met 409
    add_responses = stats['responses']['POST /v2/images/{image_id}/members']
    assert add_responses.get('200') == 1 and add_responses.get('409', 0) >= 1, add_responses
    record_figures('lost_response', module='ims_image_member', jobs=0, submissions=stats['requests']['POST /v2/images/{image_id}/members'])
