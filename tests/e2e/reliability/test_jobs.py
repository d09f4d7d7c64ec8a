# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jobs that FAIL or hang: the task fails with the job, its error and the applied / not applied pairs (or the
timeout); once the cause is fixed, a re-run sends only what is missing and converges."""

import copy
import os
import stat

from relsupport import (CONSUMER2_PROJECT, CONSUMER_PROJECT, IMAGE, OTHER_PROJECT, SEED, job_pairs, memberships,
                        password_auth, play, record_figures, wait_for_jobs)

C, C2 = CONSUMER_PROJECT, CONSUMER2_PROJECT
BATCH = 'imscloud.sharing.ims_image_member_batch'
MEMBER = 'imscloud.sharing.ims_image_member'


def pair(image_name, project_id):
    return {'image_id': IMAGE[image_name], 'project_id': project_id}


def seed_from_state(state, fix_image=None, **image_fields):
    """The test seed with the emulator's current memberships, and image fields changed (the cause fixed)."""
    seed = copy.deepcopy(SEED)
    for image in seed['images']:
        if image['name'] == fix_image:
            image.update(image_fields)
    seed['members'] = [{'image': m['image_id'], 'project': m['member_id'], 'status': m['status']} for m in state['members']]
    return seed


def owner_play(emu, tasks):
    return play(tasks, module_defaults={'auth': password_auth(emu.url, 'owner-user')})


def test_failed_job_reports_the_job_and_the_pairs_then_a_rerun_converges(emu, workspace):
    share = {'name': 'share', BATCH: {'images': ['shareable-01', 'encrypted-no-key'], 'projects': [C, C2], 'api': 'jobs'},
             'register': 'share', 'ignore_errors': True}
    failed = workspace.run(owner_play(emu, [share]), collect=['share'])
    state = wait_for_jobs(emu)
    result = failed.results['share']

    assert result.get('failed') is True, failed.describe()
    (job_id, job), = state['jobs'].items()
    reported = result['jobs'][0]
    assert reported['job_id'] == job_id and reported['status'] == 'FAIL'
    assert reported['error_code'] == job['error_code'] == 'IMG.0099'
    assert reported['fail_reason'] == job['fail_reason'] and job['fail_reason']
    for text in (job_id, 'IMG.0099', job['fail_reason'], 'KMS key'):
        assert text in result['msg'], (text, result['msg'])
    assert result['applied'] == [pair('shareable-01', C), pair('shareable-01', C2)]
    assert result['not_applied'] == [pair('encrypted-no-key', C), pair('encrypted-no-key', C2)]
    assert result['changed'] is True
    assert memberships(state) == {IMAGE['shareable-01']: {C: 'pending', C2: 'pending'}}

    # the cause is fixed: the KMS key is authorised for the projects
    emu.reset(seed_from_state(state, 'encrypted-no-key', key_authorized=True))
    share.pop('ignore_errors')
    fixed = workspace.run(owner_play(emu, [share]), collect=['share'])
    state = wait_for_jobs(emu)
    assert fixed.returncode == 0, fixed.describe()
    # only the pairs that were missing are sent again
    assert fixed.results['share']['plan'] == [{'method': 'POST', 'images': [IMAGE['encrypted-no-key']], 'projects': [C, C2]}]
    assert memberships(state) == dict((IMAGE[name], {C: 'pending', C2: 'pending'}) for name in ('shareable-01', 'encrypted-no-key'))

    again = workspace.run(owner_play(emu, [share]), collect=['share'])
    assert again.returncode == 0 and again.results['share']['changed'] is False, again.describe()
    assert len(emu.state()['jobs']) == 1
    record_figures('jobs', case='job FAIL (IMG.0099), key authorised, re-run', converged=True)


def test_hung_job_times_out_with_the_job_then_a_rerun_converges(emu, workspace):
    # the job outlives the 1 s timeout by far, so that the module's re-read still finds nothing applied
    emu.configure(job_duration=6)
    share = {'name': 'share', BATCH: {'images': ['shareable-03'], 'projects': [C], 'timeout': 1, 'api': 'jobs'},
             'register': 'share', 'ignore_errors': True}
    timed_out = workspace.run(owner_play(emu, [share]), collect=['share'])
    result = timed_out.results['share']

    assert result.get('failed') is True, timed_out.describe()
    # (the emulator's own view of the job may have moved on while ansible-playbook finished)
    (job_id,) = emu.state()['jobs']
    assert result['jobs'][0]['job_id'] == job_id and result['jobs'][0]['status'] in ('INIT', 'RUNNING')
    for text in (job_id, 'did not finish within 1 seconds', 'keeps running', 're-run'):
        assert text in result['msg'], (text, result['msg'])
    assert result['applied'] == [] and result['not_applied'] == [pair('shareable-03', C)]

    # the cause goes away: IMS finishes the job; the re-run finds the pair in place and submits nothing
    state = wait_for_jobs(emu)
    emu.configure(job_duration=0.2)
    share.pop('ignore_errors')
    rerun = workspace.run(owner_play(emu, [share]), collect=['share'])
    assert rerun.returncode == 0, rerun.describe()
    assert rerun.results['share']['changed'] is False
    assert memberships(emu.state()) == {IMAGE['shareable-03']: {C: 'pending'}}
    assert job_pairs(emu.state()) == job_pairs(state) and len(state['jobs']) == 1
    record_figures('jobs', case='job hangs past timeout, job ends, re-run', converged=True)


def test_native_failure_reports_what_was_applied_then_a_rerun_converges(emu, workspace):
    """ims_image_member has no jobs: a refused add (member quota) fails the task with what was already done."""
    emu.reset(seed_from_state({'members': [{'image_id': IMAGE['small-quota'], 'member_id': OTHER_PROJECT,
                                            'status': 'accepted'}]}))
    share = {'name': 'share', MEMBER: {'image': 'small-quota', 'members': [C, C2]}, 'register': 'share',
             'ignore_errors': True}
    failed = workspace.run(owner_play(emu, [share]), collect=['share'])
    result = failed.results['share']

    assert result.get('failed') is True, failed.describe()
    # the adds go out concurrently: whichever arrives first takes the last place, the other is refused
    added = result['added']
    assert result['changed'] is True and len(added) == 1 and added[0] in (C, C2) and result['removed'] == []
    refused = C2 if added == [C] else C
    # the message must say which member could not be added, and why (checked last, after the re-run)
    unsaid = [text for text in ('413', 'member quota', refused) if text not in result['msg']]
    assert memberships(emu.state()) == {IMAGE['small-quota']: {OTHER_PROJECT: 'accepted', added[0]: 'pending'}}

    # the cause is fixed: the quota is raised
    emu.reset(seed_from_state(emu.state(), 'small-quota', member_quota=3))
    share.pop('ignore_errors')
    fixed = workspace.run(owner_play(emu, [share]), collect=['share'])
    assert fixed.returncode == 0, fixed.describe()
    assert fixed.results['share']['added'] == [refused]
    assert memberships(emu.state()) == {IMAGE['small-quota']: {OTHER_PROJECT: 'accepted', C: 'pending', C2: 'pending'}}
    record_figures('jobs', case='native add refused (quota), quota raised, re-run', converged=True)
    assert unsaid == [], 'the failure message does not name %s: %s' % (unsaid, result['msg'])


def test_rerun_after_an_interrupted_run_submits_no_duplicate_job(emu, workspace):
    """A run that leaves its jobs running (here wait: false; a killed controller is the same to the next run) is
    followed at once by a normal run: the jobs are found in the journal next to the token cache and waited for, so
    their pairs are not submitted again, and the report says the truth."""
    emu.configure(job_duration=3)
    share = {'name': 'share', BATCH: {'images': ['shareable-01', 'shareable-02'], 'projects': [C, C2], 'api': 'jobs'},
             'register': 'share'}
    left = workspace.run(owner_play(emu, [dict(share, **{BATCH: dict(share[BATCH], wait=False)})]), collect=['share'])
    assert left.returncode == 0, left.describe()
    assert [job['status'] for job in left.results['share']['jobs']] == ['INIT']
    journal = [name for name in os.listdir(workspace.cache_dir) if name.startswith('jobs-') and name.endswith('.json')]
    assert len(journal) == 1 and stat.S_IMODE(os.stat(os.path.join(workspace.cache_dir, journal[0])).st_mode) == 0o600

    rerun = workspace.run(owner_play(emu, [share]), collect=['share'])
    state = wait_for_jobs(emu)
    assert rerun.returncode == 0, rerun.describe()
    assert len(state['jobs']) == 1, 'no duplicate job: %s' % list(state['jobs'])
    assert rerun.results['share']['plan'] == [] and rerun.results['share']['changed'] is False
    assert any('earlier run submitted' in warning for warning in rerun.results['share']['warnings'])
    assert memberships(state) == dict((IMAGE[name], {C: 'pending', C2: 'pending'}) for name in ('shareable-01', 'shareable-02'))
    record_figures('jobs', case='re-run at once after a run left its jobs running', duplicate_jobs=len(state['jobs']) - 1)
