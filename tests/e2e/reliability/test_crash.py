# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller is killed (kill -9 of the whole ansible-playbook process group) while its IMS batch jobs run, and
the same playbook runs again at once. IMS cannot list jobs: the re-run finds the killed run's jobs in the job journal
next to the token cache and waits for them instead of submitting their pairs again. Counted from the emulator's
state: pairs submitted in two jobs (must be 0), the membership (must be the declared one), and the re-run's report
(no task fails, none says a pair was not applied, each one's `changed` matches what it submitted)."""

import json
import os
import signal
import time

from relsupport import (CONSUMER2_PROJECT, CONSUMER_PROJECT, IMAGE, job_pairs, memberships, password_auth, play,
                        record_figures, wait_for_jobs, Workspace)

C, C2 = CONSUMER_PROJECT, CONSUMER2_PROJECT
BATCH = 'imscloud.sharing.ims_image_member_batch'
# Two tasks, one job each; a job takes JOB_DURATION s, so the kill always finds one running, and the re-run
# (a new ansible-playbook, a few seconds to start) may still do.
TASK_IMAGES = (('shareable-01', 'shareable-02'), ('shareable-03', 'shareable-04'))
JOB_DURATION = 4
# Run n is killed once job (n % 2) + 1 is submitted and journaled: the kill lands in each task in turn.
RUNS = 5
KILL_WAIT = 60


def crash_play(url):
    tasks = [{'name': 'share %d' % number, BATCH: {'images': list(images), 'projects': [C, C2], 'api': 'jobs',
                                                   'timeout': 30}, 'register': 'share_%d' % number}
             for number, images in enumerate(TASK_IMAGES)]
    return play(tasks, module_defaults={'auth': password_auth(url, 'owner-user')})


def journaled_jobs(cache_dir):
    """The job ids in the job journal files of the workspace (read while the controller runs)."""
    ids = set()
    for name in os.listdir(cache_dir) if os.path.isdir(cache_dir) else ():
        if name.startswith('jobs-') and name.endswith('.json'):
            try:
                with open(os.path.join(cache_dir, name), encoding='utf-8') as handle:
                    ids.update(entry['job_id'] for entry in json.load(handle).get('jobs') or [])
            except (OSError, ValueError):   # being replaced at this moment
                pass
    return ids


def process_tree(root):
    """root and every process descending from it (from /proc)."""
    parents = {}
    for name in os.listdir('/proc'):
        if name.isdigit():
            try:
                with open('/proc/%s/stat' % name, encoding='utf-8') as handle:
                    parents[int(name)] = int(handle.read().rsplit(')', 1)[1].split()[1])
            except (OSError, IndexError, ValueError):   # ended meanwhile
                pass
    tree, grown = {root}, True
    while grown:
        children = set(pid for pid, parent in parents.items() if parent in tree) - tree
        tree |= children
        grown = bool(children)
    return tree


def kill_controller(root):
    """kill -9 of the whole controller: ansible-playbook, its workers and the modules they run. The workers call
    setsid(), so they are not in ansible-playbook's process group: the tree is stopped (no new child can start),
    then every process of it is killed."""
    stopped = set()
    while True:
        tree = process_tree(root) - stopped
        if not tree:
            break
        for pid in tree:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        stopped |= tree
    for pid in stopped:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(stopped)


def kill_controller_after_job(emu, workspace, job_number):
    """Start the play, kill -9 the whole controller once job_number jobs exist and the running one is journaled;
    returns (jobs running at the kill, processes killed)."""
    controller = workspace.start(crash_play(emu.url))
    deadline = time.monotonic() + KILL_WAIT
    try:
        while True:
            jobs = emu.state()['jobs']
            running = set(job_id for job_id, job in jobs.items() if job['status'] in ('INIT', 'RUNNING'))
            # the journal forgets a job once its task saw it end: only the running one must be in it
            if len(jobs) >= job_number and running and running <= journaled_jobs(workspace.cache_dir):
                break
            assert controller.poll() is None, 'the play ended before job %d was submitted' % job_number
            assert time.monotonic() < deadline, 'job %d not submitted within %s s' % (job_number, KILL_WAIT)
            time.sleep(0.05)
    finally:
        killed = kill_controller(controller.pid) if controller.poll() is None else 0
        controller.wait(10)
    return sum(job['status'] in ('INIT', 'RUNNING') for job in emu.state()['jobs'].values()), killed


def contradictions(result):
    """What a task's report says that cannot be true of a run that converged."""
    found = []
    if result.get('failed'):
        found.append('failed: %s' % result.get('msg'))
    if result.get('not_applied'):
        found.append('not applied: %s' % result['not_applied'])
    text = ' '.join([str(result.get('msg', ''))] + list(result.get('warnings') or []))
    for phrase in ('Fix the cause', ' 0 of '):
        if phrase in text:
            found.append('%r in %s' % (phrase, text))
    # changed: this run applied something (its plan was not empty and its jobs succeeded)
    applied = bool(result.get('plan')) and all(job.get('status') == 'SUCCESS' for job in result.get('jobs') or [{}])
    if result.get('changed') is not applied:
        found.append('changed %s, plan %s, jobs %s' % (result.get('changed'), result.get('plan'), result.get('jobs')))
    return found


def test_rerun_after_a_killed_controller_submits_no_duplicate_job(emu, workspace):
    declared = dict((IMAGE[name], {C: 'pending', C2: 'pending'}) for images in TASK_IMAGES for name in images)
    figures = []
    base = workspace
    for run_number in range(RUNS):
        emu.reset()
        emu.configure(job_duration=JOB_DURATION)
        # each crash and its re-run share a controller (token cache, job journal), as on one machine
        workspace = Workspace(os.path.join(base.path, 'crash-%d' % run_number))
        os.makedirs(workspace.path)
        job_number = run_number % len(TASK_IMAGES) + 1
        running_at_kill, killed = kill_controller_after_job(emu, workspace, job_number)
        jobs_before = len(emu.state()['jobs'])

        rerun = workspace.run(crash_play(emu.url), collect=['share_%d' % n for n in range(len(TASK_IMAGES))])
        state = wait_for_jobs(emu)
        duplicates = sum(count - 1 for count in job_pairs(state).values() if count > 1)
        results = rerun.results or {}
        problems = dict((name, contradictions(result)) for name, result in sorted(results.items()))
        waited = sum(any('earlier run submitted' in warning for warning in result.get('warnings') or [])
                     for result in results.values())
        figures.append({'killed_in_task': job_number, 'processes_killed': killed, 'running_at_kill': running_at_kill, 'jobs_before': jobs_before,
                        'jobs': len(state['jobs']), 'duplicates': duplicates, 'waited': waited,
                        'converged': memberships(state) == declared, 'rerun_ok': rerun.returncode == 0,
                        'contradictions': sum(len(found) for found in problems.values())})
        assert rerun.returncode == 0, rerun.describe()
        assert duplicates == 0, 'pairs submitted twice: %s' % job_pairs(state)
        assert memberships(state) == declared
        assert all(found == [] for found in problems.values()), problems
        # the killed run's job was not submitted again: the journal still held it, the re-run waited for it (a warning);
        # the tasks after it submitted their own
        # (ansible-playbook, its worker and the module: at least 3 processes)
        assert running_at_kill == 1 and waited == 1 and killed >= 3, (running_at_kill, waited, killed, results)
        assert len(state['jobs']) == len(TASK_IMAGES)
    record_figures('crash', runs=figures, job_duration=JOB_DURATION)
