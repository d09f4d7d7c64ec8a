# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark's report: speed-ups, targets (with the cause of a miss, in numbers), the machine, text and Markdown."""

import importlib.metadata as importlib_metadata
import importlib.util
import os
import platform
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
}
BASELINES = {'1': '4', '1n': '4', '2': '4', '3': '4', '6m': '6u'}
MB = 1e6


def title(key, settings):
    return SCENARIO_TITLES[key].format(N=settings['images'], M=settings['projects'], H=settings['hosts'],
                                       PN=settings['plan_images'], PM=settings['plan_projects'])


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
        row['overhead'] = effective(row, 'tasks_time') - row['bound']['modelled']


# ---------------------------------------------------------------- targets

def _busy(report):
    machine = report['machine']
    loads = [value[0] for value in (machine.get('load_before'), machine.get('load_after')) if value]
    cpus = machine.get('usable_cpus') or 1
    if loads and max(loads) > cpus:
        return (' The machine was busy: load average %s before and %s after the run on %d usable CPU(s), so wall times '
                'include waiting for a CPU.' % (machine.get('load_before'), machine.get('load_after'), cpus))
    return ''


def _routes(stats):
    return ', '.join('%s: %d' % (route, count) for route, count in sorted(stats['requests'].items()))


def _target(ident, text, measured, met, cause=''):
    return {'id': ident, 'target': text, 'measured': measured, 'status': 'met' if met else 'missed',
            'cause': '' if met else cause}


def _module_overhead_text(report):
    timing = report['module_time'].get('ims_image_member_batch') or {}
    if not timing.get('ansiballz_process'):
        return ''
    return (' For scale: one module process on an unchanged single-image task (AnsiballZ, zero latency) takes %.0f ms '
            'of wall time.' % (timing['ansiballz_process'] * 1e3))


def evaluate_targets(report):
    rows = dict((row['key'], row) for row in report['scenarios'])
    profile = report['profile']
    busy = _busy(report)
    targets = []

    one = rows['1']
    bound = one['bound']
    ratio = one['tasks_time'] / bound['issue']
    targets.append(_target(
        'T1', 'Scenario 1 takes at most 1.3x its lower bound',
        'task %.2f s / bound %.2f s = %.2fx (ansible-playbook wall %.2f s = %.2fx; bound for the pool of %d: %.2f s)'
        % (one['tasks_time'], bound['issue'], ratio, one['wall'], one['wall'] / bound['issue'],
           profile['read_concurrency'], bound['configured']),
        ratio <= 1.3,
        'The request schedule of the code takes %.2f s under the profile (%s; the poll that sees the %g s job returns '
        '%.2f s after the submission); the remaining %.2f s are the module process and Ansible\'s task handling.%s%s'
        % (bound['modelled'], bound['formula'], profile['job'], _job_observed(profile), one['tasks_time'] - bound['modelled'],
           _module_overhead_text(report), busy)))

    four = rows['4']
    speed = effective(four, 'tasks_time') / one['tasks_time']
    floors = (' From the profile alone the ratio is %.1fx (%.2f s vs %.2f s).'
              % (four['bound']['issue'] / bound['issue'], four['bound']['issue'], bound['issue'])) if bound['issue'] else ''
    targets.append(_target(
        'T2', 'Scenario 1 is at least 10x faster than scenario 4',
        '%.1fx (tasks %.2f s vs %.2f s%s; ansible-playbook wall %.1fx)'
        % (speed, effective(four, 'tasks_time'), one['tasks_time'],
           ', scenario 4 extrapolated from %d images' % four['extrapolated']['sample'] if four['extrapolated'] else '',
           effective(four, 'wall') / one['wall']),
        speed >= 10,
        'Scenario 1 sends %d requests, scenario 4 %d.%s Each of scenario 4\'s loop items costs %.0f ms beyond its '
        '%g s request: Ansible running the uri module once per pair.%s'
        % (one['stats']['total'], effective(four, 'total'), floors, _per_item_overhead(four, profile) * 1e3,
           profile['ims'], busy)))

    module, uri = rows['6m'], rows['6u']
    speed = uri['tasks_time'] / module['tasks_time']
    uri_items = uri['stats']['writes'] or 1
    targets.append(_target(
        'T3', 'Scenario 6: the module run is at least 5x faster than the uri loop',
        '%.1fx (tasks %.2f s vs %.2f s; ansible-playbook wall %.1fx)'
        % (speed, uri['tasks_time'], module['tasks_time'], uri['wall'] / module['wall']),
        speed >= 5,
        'The module sends %d requests against the loop\'s %d, but its floor (%.2f s: %s) is above the uri loop\'s '
        '(%.2f s: %s): the batch job alone runs %g s and the module sees it finished %.2f s after submitting it. '
        'The loop\'s time is its %d requests plus Ansible\'s handling of %d loop items, %.0f ms each here; 5x would '
        'need %.2f s for the loop, i.e. %.0f ms per item.%s'
        % (module['stats']['total'], uri['stats']['total'], module['bound']['issue'], module['bound']['formula'],
           uri['bound']['issue'], uri['bound']['formula'], profile['job'], _job_observed(profile),
           uri['stats']['total'], uri_items, _per_item_overhead(uri, profile) * 1e3, 5 * module['tasks_time'],
           (5 * module['tasks_time'] - uri['bound']['modelled']) / uri_items * 1e3, busy)))

    two = rows['2']
    targets.append(_target(
        'T4', 'Scenario 2 issues zero writes and zero IAM requests (warm cache)',
        '%d writes, %d IAM requests (%d reads; changed: %s)'
        % (two['stats']['writes'], two['iam_requests'], two['stats']['reads'],
           'yes' if any(t['changed'] for t in two['task_times']) else 'no'),
        two['stats']['writes'] == 0 and two['iam_requests'] == 0,
        'Requests by route: %s.' % _routes(two['stats'])))

    five = rows['5']
    targets.append(_target(
        'T5', 'Scenario 5 issues exactly one IAM request',
        '%d IAM request(s), %d token(s) issued, %d hosts' % (five['iam_requests'], five['stats']['tokens_issued'],
                                                             five['forks']),
        five['iam_requests'] == 1,
        'Requests by route: %s.' % _routes(five['stats'])))

    planning = report['planning']
    peak = planning['peak_rss_kib'] * 1024 / MB
    floor = planning['floor_rss_kib'] * 1024 / MB
    targets.append(_target(
        'T6', 'Planning %d images x %d projects in one task stays under 150 MB peak RSS (module process)'
        % (report['settings']['plan_images'], report['settings']['plan_projects']),
        '%.1f MB (a 1 x 1 plan: %.1f MB)' % (peak, floor),
        peak < 150,
        'The module process needs %.1f MB for a 1 x 1 plan (interpreter, Ansible\'s module framework, requests); '
        'planning %d pairs adds %.1f MB (member lists of %d images, the plan, and the result with every planned pair).'
        % (floor, planning['pairs'], max(0.0, peak - floor), report['settings']['plan_images'])))

    timing = report['module_time']['ims_image_member']
    targets.append(_target(
        'T7', 'The module\'s own time on an unchanged single-image task is under 150 ms (warm cache, zero latency)',
        '%.0f ms (ims_image_member: imports %.0f + run %.0f ms; CPU %.0f ms), ims_image_member_batch: %.0f ms'
        % (timing['own'] * 1e3, timing['imports'] * 1e3, timing['run'] * 1e3, timing['own_cpu'] * 1e3,
           report['module_time']['ims_image_member_batch']['own'] * 1e3),
        timing['own'] < 0.15,
        'Of %.0f ms, %.0f ms import the module and %.0f ms run the task (%s); the CPU time of the same span is '
        '%.0f ms. Importing the module loads (self times in ms of one run under python -X importtime, which inflates '
        'them; optional imports that are absent count with the standard library): %s.%s'
        % (timing['own'] * 1e3, timing['imports'] * 1e3, timing['run'] * 1e3,
           ', '.join('%s x%g' % (route, count) for route, count in sorted(timing['requests_per_run'].items())),
           timing['own_cpu'] * 1e3, _imports_text(timing), busy)))
    return targets


def _imports_text(timing):
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


def _per_item_overhead(row, profile):
    """Seconds per loop item of a uri loop scenario beyond the item's own request (its last task is the loop)."""
    loop = row['task_times'][-1]
    items = (row['stats']['writes'] - row['stats']['job_submissions']) or 1
    return (loop['seconds'] - items * profile['ims']) / float(items)


def _job_observed(profile):
    start, interval = 0.0, profile['poll_interval']
    while start + profile['ims'] < profile['job']:
        start += profile['ims'] + interval
        interval = min(profile['poll_max'], interval * profile['poll_factor'])
    return start + profile['ims']


# ---------------------------------------------------------------- findings

def findings(report):
    """Where the time goes, scenario by scenario, in numbers (for the reader who wants to make it faster)."""
    rows = dict((row['key'], row) for row in report['scenarios'])
    profile, settings = report['profile'], report['settings']
    ims = profile['ims']
    notes = []
    one, by_name = rows['1'], rows['1n']
    listings = by_name['stats']['requests'].get('GET /v2/images', 0)
    notes.append(
        'Image names cost %d listing request(s) for %d names (`GET /v2/images`, one per name, one after another: '
        '%.2f s at %g s each); scenario 1n took %.2f s longer than scenario 1, which gives ids.'
        % (listings, settings['images'], listings * ims, ims, by_name['tasks_time'] - one['tasks_time']))
    waves = -(-settings['images'] // profile['read_concurrency'])
    notes.append(
        'Member reads: %d images are read on a pool of %d threads, %d waves, %.2f s at %g s per read, against %.2f s '
        'for the one wave the issue\'s bound assumes (the emulator saw at most %d requests at once in scenario 1).'
        % (settings['images'], profile['read_concurrency'], waves, waves * ims, ims, ims, one['stats']['max_in_flight']))
    notes.append(
        'Jobs: the module polls at once, then after %g s, %g s, ...; a %g s job is seen %.2f s after its submission '
        '(%d polls in scenario 1), within the issue\'s allowance of job + one poll interval (%.2f s).'
        % (profile['poll_interval'], profile['poll_interval'] * profile['poll_factor'], profile['job'],
           _job_observed(profile), one['stats']['job_polls'], profile['job'] + profile['poll_interval']))
    native = rows['3']
    image_reads = native['stats']['requests'].get('GET /v2/images/{image_id}', 0)
    scale = (float(native['extrapolated']['images']) / native['extrapolated']['sample']) if native['extrapolated'] else 1.0
    notes.append(
        'ims_image_member, one task per image: each task reads the image (`GET /v2/images/{id}`, %d in all), then its '
        'members, then adds the %d projects one by one; %.2f s of the tasks time is the requests, the other %.2f s '
        '(%.0f ms per task) is starting a module process per image and Ansible\'s loop.'
        % (int(round(image_reads * scale)), settings['projects'], native['bound']['modelled'],
           effective(native, 'tasks_time') - native['bound']['modelled'],
           (effective(native, 'tasks_time') - native['bound']['modelled']) / settings['images'] * 1e3))
    for key in ('4', '6u'):
        row = rows[key]
        notes.append(
            'Scenario %s (uri): %.0f ms per loop item beyond the item\'s %g s request, i.e. Ansible running the uri '
            'module once per item.' % (key, _per_item_overhead(row, profile) * 1e3, ims))
    hosts = rows['5']
    notes.append(
        'Scenario 5: %d module processes start at once on %s usable CPU(s); the requests take %.2f s, the tasks '
        '%.2f s; at most %d requests reached the emulator at once. The token cache\'s lock let one process obtain '
        'the token (%d IAM request) while the others waited for it.'
        % (hosts['forks'], report['machine']['usable_cpus'], hosts['bound']['modelled'], hosts['tasks_time'],
           hosts['stats']['max_in_flight'], hosts['iam_requests']))
    return notes


# ---------------------------------------------------------------- rendering

COLUMNS = ('#', 'wall s', 'tasks s', 'IAM', 'tokens', 'reads', 'writes', 'jobs', 'polls', 'total', 'bound s',
           'bound pool s', 'tasks/bound', 'speed-up')


def _cells(row):
    stats = row['stats']
    extrapolated = row.get('extrapolated')
    mark = '*' if extrapolated else ''

    def number(value, fmt):
        return '-' if value is None else fmt % value

    native_writes = effective(row, 'writes') - stats['job_submissions']
    return [
        row['key'],
        number(effective(row, 'wall'), '%.2f') + mark,
        number(effective(row, 'tasks_time'), '%.2f') + mark,
        str(row['iam_requests']), str(stats['tokens_issued']),
        str(effective(row, 'reads')) + mark, str(native_writes) + mark,
        str(stats['job_submissions']), str(stats['job_polls']), str(effective(row, 'total')) + mark,
        number(row['bound']['issue'], '%.2f'), number(row['bound']['configured'], '%.2f'),
        number(row['ratio'], '%.2fx'),
        number(row['speedup'], '%.1fx') + (' vs %s' % row['baseline'] if row['baseline'] else ''),
    ]


def _status(target):
    return 'met' if target['status'] == 'met' else 'MISSED'


def render_text(report):
    settings = report['settings']
    rows = [list(COLUMNS)] + [_cells(row) for row in report['scenarios']]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ['', 'imscloud.sharing benchmark: N=%d images, M=%d projects, %d hosts; IAM %g s, IMS %g s, job %g s'
             % (settings['images'], settings['projects'], settings['hosts'], report['profile']['iam'],
                report['profile']['ims'], report['profile']['job']), '']
    for index, row in enumerate(rows):
        lines.append('  '.join(cell.rjust(widths[i]) if i else cell.ljust(widths[i]) for i, cell in enumerate(row)))
        if index == 0:
            lines.append('  '.join('-' * width for width in widths))
    lines.append('')
    for row in report['scenarios']:
        lines.append('%-3s %s' % (row['key'], title(row['key'], settings)))
    if any(row.get('extrapolated') for row in report['scenarios']):
        lines.append('*   extrapolated from a sample of the images (--baseline-sample)')
    planning, timing = report['planning'], report['module_time']
    lines += ['', 'P   %s: peak RSS %.1f MB (1 x 1 plan: %.1f MB), %d reads, %d writes, task %.2f s'
              % (title('P', settings), planning['peak_rss_kib'] * 1024 / MB, planning['floor_rss_kib'] * 1024 / MB,
                 planning['stats']['reads'], planning['stats']['writes'], planning['tasks_time'])]
    for module, entry in sorted(timing.items()):
        lines.append('T   %s, unchanged single image, warm cache, zero latency: own %.0f ms (imports %.0f + run %.0f), '
                     'CPU %.0f ms; framework import %.0f ms; AnsiballZ process %s'
                     % (module, entry['own'] * 1e3, entry['imports'] * 1e3, entry['run'] * 1e3, entry['own_cpu'] * 1e3,
                        entry['framework'] * 1e3,
                        '%.0f ms' % (entry['ansiballz_process'] * 1e3) if entry['ansiballz_process'] else 'n/a'))
    lines += ['', 'Targets:']
    for target in report['targets']:
        lines.append('  %-6s %s: %s' % (_status(target), target['target'], target['measured']))
    lines.append('')
    return '\n'.join(lines)


def _md_table(header, rows):
    out = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    out += ['| ' + ' | '.join(cell.replace('|', '\\|') for cell in row) + ' |' for row in rows]
    return '\n'.join(out)


def render_markdown(report):
    settings, profile, machine = report['settings'], report['profile'], report['machine']
    rows = report['scenarios']
    out = [
        '# Performance',
        '',
        '<!-- Written by tests/benchmarks/benchmark.py (./scripts/benchmark.sh); do not edit by hand. -->',
        '',
        'How many requests a sharing playbook makes, how many of them wait on each other, and how long it takes, '
        'measured side by side in one run through real `ansible-playbook` runs against the emulator '
        '(`tests/emulator`) on 127.0.0.1. Reproduce with `./scripts/benchmark.sh`; the method is described in '
        '`tests/benchmarks/README.md`.',
        '',
        'Latency profile: IAM token issuance %g s, every IMS request %g s, a batch job %g s (fixed, no jitter). '
        'The modules as configured: job polls at once, then after %g s, growing %gx up to %g s; member reads on a '
        'pool of %d threads; at most %d images and %d projects per batch request.'
        % (profile['iam'], profile['ims'], profile['job'], profile['poll_interval'], profile['poll_factor'],
           profile['poll_max'], profile['read_concurrency'], profile['batch_size'], profile['batch_size']),
        '',
        '## Results',
        '',
        'Run of %s. Sizes: N = %d images, M = %d projects, %d hosts.'
        % (report['generated'], settings['images'], settings['projects'], settings['hosts']),
        '',
        _md_table(COLUMNS, [_cells(row) for row in rows]),
        '',
    ]
    out += ['- **%s**: %s' % (row['key'], title(row['key'], settings)) for row in rows]
    out += [
        '',
        'Columns: *wall* is the whole `ansible-playbook` run, start-up included; *tasks* runs from the start of the '
        'play\'s first task to the last result of its last task (Ansible\'s start-up excluded), taken by a callback '
        '(`tests/benchmarks/callback_plugins/bench_timer.py`). Requests are the emulator\'s counters: *IAM* '
        'requests to `/v3`, *tokens* issued, IMS *reads*, member *writes* (native API), batch *jobs* submitted, '
        'job *polls*, *total*. *bound* is the lower bound of the critical path from the latency profile, as the '
        'issue defines it (one auth, one concurrent wave of reads, the submissions, the job plus one poll '
        'interval); *bound pool* is the same with the reads in waves of the client\'s pool of %d (and the name '
        'look-ups and image reads the code makes). *tasks/bound* compares the tasks time with the issue\'s bound. '
        '*speed-up* is the baseline\'s tasks time over the scenario\'s (scenario 4 for 1, 1n, 2, 3; the uri loop '
        'for 6).' % profile['read_concurrency'],
    ]
    if any(row.get('extrapolated') for row in rows):
        out += ['', '\\* Extrapolated: the scenario ran on %d of %d images (`--baseline-sample`); its loop task time '
                'and per-image request counts were scaled to all images.'
                % (next(r['extrapolated']['sample'] for r in rows if r.get('extrapolated')), settings['images'])]
    out += ['', '## Targets', '']
    out.append(_md_table(('target', 'measured', 'status'),
                         [(t['target'], t['measured'], '**%s**' % _status(t)) for t in report['targets']]))
    missed = [t for t in report['targets'] if t['status'] == 'missed']
    if missed:
        out += ['', 'Causes of the missed targets, from the measurements:', '']
        out += ['- **%s** (%s): %s' % (t['id'], t['target'], t['cause']) for t in missed]
    out += ['', '## Where the time goes', '']
    out += ['- ' + note for note in findings(report)]
    out += ['', '## Lower bounds and overhead per scenario', '']
    out.append(_md_table(('#', 'bound (issue) s', 'bound (pool) s', 'modelled s', 'tasks s', 'overhead s', 'how the bound is made'),
                         [(row['key'], '%.2f' % row['bound']['issue'], '%.2f' % row['bound']['configured'],
                           '%.2f' % row['bound']['modelled'], '%.2f' % effective(row, 'tasks_time'),
                           '%.2f' % row['overhead'], row['bound']['formula']) for row in rows]))
    out += [
        '',
        '*modelled* is what the code\'s request schedule alone takes under the profile (reads in waves of the pool, '
        'the job seen by the poll that actually sees it); *overhead* is the tasks time minus that: module '
        'processes, Ansible\'s per-task and per-item handling, Python, and waiting for a CPU.',
        '',
        '## Planning and the module\'s own time',
        '',
    ]
    planning = report['planning']
    out += [
        '- **Planning %d x %d** (`ims_image_member_batch`, check mode, zero latency, one task): peak RSS of the module '
        'process **%.1f MB** (a 1 x 1 plan: %.1f MB); %d member reads, %d writes; the task took %.2f s. Measured by '
        'running the task with `ansible_python_interpreter` set to a wrapper that runs the real interpreter and records '
        '`ru_maxrss` of its children (`getrusage(RUSAGE_CHILDREN)`): the module process as Ansible starts it '
        '(AnsiballZ), %d process(es).'
        % (settings['plan_images'], settings['plan_projects'], planning['peak_rss_kib'] * 1024 / MB,
           planning['floor_rss_kib'] * 1024 / MB, planning['stats']['reads'], planning['stats']['writes'],
           planning['tasks_time'], planning['module_processes']),
    ]
    for module, entry in sorted(report['module_time'].items()):
        out.append(
            '- **%s**, unchanged single-image task, warm token cache, zero latency (the median of %d runs): own time '
            '**%.0f ms** = importing the module (collection code, requests) %.0f ms + running it %.0f ms; CPU %.0f ms. '
            'Not counted as its own: interpreter start-up %.0f ms and importing Ansible\'s module framework '
            '(`ansible.module_utils.basic`) %.0f ms. The whole AnsiballZ process, as Ansible runs it: %s. '
            'Requests per run: %s; IAM requests in all runs: %d; changed runs: %d. What importing the module loads '
            '(self times in ms under `python -X importtime`, which inflates them): %s.'
            % (module, entry['runs'], entry['own'] * 1e3, entry['imports'] * 1e3, entry['run'] * 1e3,
               entry['own_cpu'] * 1e3, entry['bare_interpreter'] * 1e3, entry['framework'] * 1e3,
               '%.0f ms' % (entry['ansiballz_process'] * 1e3) if entry['ansiballz_process'] else 'not measured',
               ', '.join('%s x%g' % (route, count) for route, count in sorted(entry['requests_per_run'].items())),
               entry['iam_requests'], entry['changed_runs'], _imports_text(entry)))
    out += [
        '',
        'The own time is measured in the module process itself (`tests/benchmarks/bench_module_timer.py`): the '
        'module is imported and its `main()` run with `ANSIBLE_MODULE_ARGS` from a file, the way Ansible\'s module '
        'runner does, with timestamps before and after each phase. The AnsiballZ figure runs the very file '
        'Ansible left behind (`ANSIBLE_KEEP_REMOTE_FILES=1`), so it adds what Ansible\'s wrapper costs '
        '(unpacking, compiling the module code from the zip).',
        '',
        '## Requests by route',
        '',
    ]
    out.append(_md_table(('#', 'requests by route'), [(row['key'], _routes(row['stats'])) for row in rows]
                         + [('P', _routes(planning['stats']))]))
    out += [
        '',
        '## Machine',
        '',
        '- CPU: %s, %s logical CPUs (%s usable); memory %s' % (machine['cpu'], machine['cpus'], machine['usable_cpus'],
                                                               machine['memory']),
        '- OS: %s' % machine['os'],
        '- %s, ansible-core %s, requests %s, werkzeug %s (emulator)' % (machine['python'], machine['ansible_core'],
                                                                        machine['requests'], machine['werkzeug']),
        '- Load average (1, 5, 15 min) before the run: %s; after: %s' % (machine['load_before'], machine['load_after']),
        '- Commit: %s; the emulator, Ansible and the modules all run on this machine' % machine['commit'],
        '- Benchmark run time: %.0f s' % report['duration'],
        '',
    ]
    return '\n'.join(out)
