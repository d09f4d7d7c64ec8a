# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark's report: speed-ups, targets (with the cause of a miss, in numbers), the machine, text and Markdown."""

import importlib.metadata as importlib_metadata
import importlib.util
import os
import platform
import re
import subprocess
import sys

SCENARIO_TITLES = {
    '1': 'Share {N} images with {M} projects from nothing: ims_image_member_batch, one task',
    '2': 'The same play again, nothing to change (warm token cache)',
    '1n': 'As 1, images given by name (not a target; shows the cost of name look-ups)',
    '3': 'Same end state with ims_image_member, one task run per image (loop)',
    '4': 'Baseline: uri, one token task, then one POST per image-project pair (loop)',
    '5': '{H} hosts (forks) each share their image at the same moment, cold token cache: ims_image_member',
    '6m': 'Recipient accepts {N} shared images: ims_image_member_batch status=accepted',
    '6u': 'Recipient accepts {N} shared images: uri, one token task, then one PUT per image (loop)',
    'P': 'Planning {PN} images x {PM} projects in one task (check mode, zero latency)',
    'R': '{I} identities side by side (forks {I}), each its own project and region, each sharing {IN} images with '
         '{IM} projects: ims_image_member_batch',
    'G1': 'Plain Glance (emulator in glance mode): {N} images x {M} projects, one ims_image_member_batch task, native '
          'executor',
    'Sa': 'Small change on IMS: 1 image x {S} projects, ims_image_member_batch with the automatic executor choice',
    'Sj': 'Small change on IMS: 1 image x {S} projects, ims_image_member_batch forced to the job API',
    'A': 'Audit: ims_image_member_info owner view without images, {A} images each with 2 members',
}
BASELINES = {'1': '4', '1n': '4', '2': '4', '3': '4', '6m': '6u', 'G1': '3', 'Sa': 'Sj'}
MEMBER_READS = 'GET /v2/images/{image_id}/members'
TOKENS = 'POST /v3/auth/tokens'
MB = 1e6


def title(key, settings):
    return SCENARIO_TITLES[key].format(N=settings['images'], M=settings['projects'], H=settings['hosts'],
                                       PN=settings['plan_images'], PM=settings['plan_projects'],
                                       I=settings['identities'], IN=settings['identity_images'],
                                       IM=settings['identity_projects'], S=settings['small_projects'],
                                       A=settings['audit_images'])


# ---------------------------------------------------------------- the machine

def load_average():
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def _first(path, prefix):
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith(prefix):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return None


def _version(distribution):
    try:
        return importlib_metadata.version(distribution)
    except importlib_metadata.PackageNotFoundError:
        return None


def describe_machine(root):
    memory = _first('/proc/meminfo', 'MemTotal')
    try:
        usable_cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        usable_cpus = os.cpu_count()
    try:
        commit = subprocess.run(['git', '-C', root, 'rev-parse', '--short', 'HEAD'], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, check=False).stdout.decode().strip()
    except OSError:   # no git: the report just has no commit
        commit = ''
    return {
        'cpu': _first('/proc/cpuinfo', 'model name') or platform.processor() or platform.machine(),
        'cpus': os.cpu_count(), 'usable_cpus': usable_cpus,
        'memory': '%.1f GiB' % (int(memory.split()[0]) / 1048576.0) if memory else None,
        'os': platform.platform(), 'python': '%s %s' % (platform.python_implementation(), platform.python_version()),
        'ansible_core': _version('ansible-core'), 'requests': _version('requests'), 'werkzeug': _version('werkzeug'),
        'commit': commit or None, 'load_before': load_average(),
        'interpreter': sys.executable,
    }


# ---------------------------------------------------------------- derived numbers

def import_breakdown(importtime_output, framework='ansible.module_utils.basic'):
    """What importing a module costs after Ansible's module framework is loaded, from `python -X importtime`.

    Returns [[top-level package, ms], ...], largest first: the self times of every module first imported after
    the framework, summed by top-level package (so nothing is counted twice; `ansible_collections` is the
    collection's own code).
    """
    entries = []
    for line in importtime_output.splitlines():
        if not line.startswith('import time:') or line.count('|') != 2:
            continue
        self_us, _cumulative, name = line[len('import time:'):].split('|')
        if not self_us.strip().isdigit():
            continue   # the header line
        entries.append((int(self_us), name.rstrip(), name.strip()))
    tops = [index for index, (_us, raw, name) in enumerate(entries) if name == framework and raw == ' ' + name]
    totals = {}
    for self_us, _raw, name in entries[tops[0] + 1:] if tops else entries:
        package = name.split('.', 1)[0]
        totals[package] = totals.get(package, 0) + self_us
    return [[package, round(us / 1e3, 1), package_kind(package)]
            for package, us in sorted(totals.items(), key=lambda item: -item[1])]


def package_kind(package):
    """'collection', 'ansible', 'third-party' (installed in site-packages), 'stdlib' or 'absent' (an optional
    import that failed: its look-up is what cost the time)."""
    if package in ('ansible_collections', 'ansible'):
        return 'collection' if package == 'ansible_collections' else 'ansible'
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return 'absent'
    origin = (spec.origin or '') if spec else ''
    locations = list(spec.submodule_search_locations or []) if spec else []
    paths = [origin] + locations
    return 'third-party' if any('site-packages' in path or 'dist-packages' in path for path in paths) else 'stdlib'


def extrapolate(row, timing, loop_task, sample, images):
    """Values of a loop scenario run on `sample` of `images` images, scaled to all of them.

    Only the loop task grows with the images (its items are independent and alike); the token stays one.
    """
    factor = float(images) / sample
    loop = timing['tasks'][loop_task]
    extra = (loop['end'] - loop['start']) * (factor - 1)
    stats = row['stats']
    per_image_requests = stats['total'] - row['iam_requests']
    return {
        'sample': sample, 'images': images, 'wall': row['wall'] + extra, 'tasks_time': row['tasks_time'] + extra,
        'total': int(round(row['iam_requests'] + per_image_requests * factor)),
        'reads': int(round(stats['reads'] * factor)), 'writes': int(round(stats['writes'] * factor)),
    }


def listing_requests(stats):
    """Image listing requests (the pages of `GET /v2/images`, and of the IMS listing if the code uses it)."""
    return sum(count for route, count in stats['requests'].items()
               if route.startswith('GET ') and route.split(' ', 1)[1] in ('/v2/images', '/v2/cloudimages'))


def growth_row(images, projects, zero_latency, run, stats, tasks_time, bound, executor, planned_writes, peaks,
               end_state):
    """One size of scenario 1: the requests against the plan: N member reads + the jobs + their polls (job
    executor), or N member reads + one write per pair (native executor, which the automatic choice takes for
    small plans)."""
    member_reads = stats['requests'].get(MEMBER_READS, 0)
    tokens = stats['requests'].get(TOKENS, 0)
    writes = stats['job_submissions'] if executor == 'jobs' else stats['writes']
    other = stats['total'] - member_reads - tokens - stats['writes'] - stats['job_polls']
    peak = max(peaks) * 1024 / MB if peaks else 0.0
    return {
        'images': images, 'projects': projects, 'zero_latency': zero_latency, 'wall': run['wall'],
        'tasks_time': tasks_time, 'stats': stats, 'member_reads': member_reads, 'tokens': tokens,
        'executor': executor, 'writes_planned': planned_writes, 'writes_sent': writes, 'other_requests': other,
        'as_planned': member_reads == images and writes == planned_writes and stats['writes'] == writes and tokens == 1,
        'bound': bound, 'physical_ratio': tasks_time / bound['physical'] if bound['physical'] else None,
        'peak_rss_mb': peak, 'module_processes': len(peaks), 'end_state': end_state, 'load': load_average(),
    }


def previous_results(markdown):
    """From the report a run replaces: when it ran and the tasks times of scenarios 3 and 5 (the "before" of issue
    #15; a report that already states a before carries that one forward)."""
    found = {'generated': None, 'commit': None, 'tasks': {}}
    match = re.search(r'Run of ([^.]+UTC)\.', markdown)
    found['generated'] = match.group(1) if match else None
    match = re.search(r'- Commit: ([0-9a-f]+)', markdown)
    found['commit'] = match.group(1) if match else None
    match = re.search(r'Load average \(1, 5, 15 min\) before the run: (\[[^]]*\])', markdown)
    found['load_before'] = match.group(1) if match else None
    for key in ('3', '5'):
        carried = re.search(r'Scenario %s before/after \(issue #15\): ([0-9.]+) s of tasks in the report of ([^(]+UTC) '
                            r'\(commit ([0-9a-f]+|None)[;)]' % key, markdown)
        if carried:
            found['tasks'][key] = float(carried.group(1))
            found['generated'], found['commit'] = carried.group(2), carried.group(3)
            load = re.search(r'load average then (\[[^]]*\])', markdown)
            found['load_before'] = load.group(1) if load else None
            continue
        row = re.search(r'^\| %s \| [0-9.]+\*? \| ([0-9.]+)\*? \|' % key, markdown, re.M)
        if row:
            found['tasks'][key] = float(row.group(1))
    return found


def effective(row, key):
    """A row's value, extrapolated when the scenario ran on a sample."""
    if row.get('extrapolated') and key in row['extrapolated']:
        return row['extrapolated'][key]
    if key in ('total', 'reads', 'writes'):
        return row['stats'][key]
    return row[key]


def add_speedups(report):
    rows = dict((row['key'], row) for row in report['scenarios'])
    for row in report['scenarios']:
        baseline = rows.get(BASELINES.get(row['key']))
        row['baseline'] = baseline['key'] if baseline else None
        row['speedup'] = effective(baseline, 'tasks_time') / row['tasks_time'] if baseline else None
        row['speedup_wall'] = effective(baseline, 'wall') / row['wall'] if baseline else None
        row['ratio'] = effective(row, 'tasks_time') / row['bound']['issue'] if row['bound']['issue'] else None
        physical = row['bound'].get('physical')
        row['physical_ratio'] = effective(row, 'tasks_time') / physical if physical else None
        jobs = row['stats'].get('job_submissions')
        row['polls_per_job'] = row['stats']['job_polls'] / float(jobs) if jobs else None
        row['overhead'] = effective(row, 'tasks_time') - row['bound']['modelled']


# ---------------------------------------------------------------- targets

def imports_text(timing):
    packages = timing.get('import_breakdown') or []

    def total(kinds):
        return sum(entry[1] for entry in packages if entry[2] in kinds)

    if not packages:
        return 'not measured'
    parts = ['the collection\'s code %.0f' % total(('collection',))]
    if total(('ansible',)) >= 0.5:
        parts.append('more of Ansible\'s module_utils %.0f' % total(('ansible',)))
    third = ['%s %.0f' % (name, ms) for name, ms, kind in packages if kind == 'third-party' and ms >= 0.5]
    parts.append('third-party packages %.0f (%s)' % (total(('third-party',)), ', '.join(third)))
    stdlib = [entry for entry in packages if entry[2] == 'stdlib']
    parts.append('the standard library %.0f (%d packages; largest: %s)'
                 % (total(('stdlib', 'absent')), len(stdlib), ', '.join('%s %.0f' % (n, ms) for n, ms, _k in stdlib[:4])))
    return ', '.join(parts)


def per_item_overhead(row, profile):
    """Seconds per loop item of a uri loop scenario beyond the item's own request (its last task is the loop)."""
    loop = row['task_times'][-1]
    items = (row['stats']['writes'] - row['stats']['job_submissions']) or 1
    return (loop['seconds'] - items * profile['ims']) / float(items)
