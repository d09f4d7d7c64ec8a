# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark's report as text (the terminal) and Markdown (docs/performance.md)."""

from bench_report import MB, effective, imports_text, title
from bench_targets import NOT_AVAILABLE, findings, routes

COLUMNS = ('#', 'wall s', 'tasks s', 'IAM', 'tokens', 'reads', 'writes', 'jobs', 'polls', 'polls/job', 'in flight',
           'total', 'physical s', 'tasks/physical', 'bound s', 'bound pool s', 'tasks/bound', 'speed-up')
GROWTH_COLUMNS = ('size', 'latency', 'executor', 'tasks s', 'tokens', 'member reads', 'writes sent/planned', 'polls',
                  'other', 'total', 'as planned', 'physical s', 'tasks/physical', 'peak RSS MB')


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
        str(stats['job_submissions']), str(stats['job_polls']), number(row.get('polls_per_job'), '%.1f'),
        str(stats.get('max_in_flight', '-')), str(effective(row, 'total')) + mark,
        number(row['bound']['physical'], '%.2f'), number(row.get('physical_ratio'), '%.2fx') + mark,
        number(row['bound']['issue'], '%.2f'), number(row['bound']['configured'], '%.2f'),
        number(row['ratio'], '%.2fx'),
        number(row['speedup'], '%.1fx') + (' vs %s' % row['baseline'] if row['baseline'] else ''),
    ]


def _growth_cells(row):
    return ['%dx%d' % (row['images'], row['projects']), 'zero' if row['zero_latency'] else 'profile', row['executor'],
            '%.2f' % row['tasks_time'], str(row['tokens']), str(row['member_reads']),
            '%d of %d %s' % (row['writes_sent'], row['writes_planned'], 'jobs' if row['executor'] == 'jobs' else 'calls'),
            str(row['stats']['job_polls']),
            str(row['other_requests']), str(row['stats']['total']), 'yes' if row['as_planned'] else 'NO',
            '%.2f' % row['bound']['physical'], '%.2fx' % row['physical_ratio'] if row['physical_ratio'] else '-',
            '%.1f' % row['peak_rss_mb']]


def _status(target):
    return {'met': 'met', NOT_AVAILABLE: NOT_AVAILABLE}.get(target['status'], 'MISSED')


def _text_table(header, rows):
    rows = [list(header)] + rows
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        lines.append('  '.join(cell.rjust(widths[i]) if i else cell.ljust(widths[i]) for i, cell in enumerate(row)))
        if index == 0:
            lines.append('  '.join('-' * width for width in widths))
    return lines


def render_text(report):
    settings = report['settings']
    lines = ['', 'imscloud.sharing benchmark: N=%d images, M=%d projects, %d hosts; IAM %g s, IMS %g s, job %g s'
             % (settings['images'], settings['projects'], settings['hosts'], report['profile']['iam'],
                report['profile']['ims'], report['profile']['job']), '']
    lines += _text_table(COLUMNS, [_cells(row) for row in report['scenarios']])
    lines.append('')
    for row in report['scenarios']:
        lines.append('%-3s %s' % (row['key'], title(row['key'], settings)))
    for entry in report.get('skipped') or []:
        lines.append('%-3s %s: not available: %s' % (entry['key'], entry['title'], entry['reason']))
    if report.get('growth'):
        lines += ['', 'Scenario 1 as work grows:', '']
        lines += _text_table(GROWTH_COLUMNS, [_growth_cells(row) for row in report['growth']])
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


def _intro(report):
    settings, profile = report['settings'], report['profile']
    native = ('the native executor runs %d requests at once' % profile['concurrency'] if profile.get('concurrency')
              else 'no native executor (member writes one after another)')
    return [
        '# Performance',
        '',
        '<!-- Written by tests/benchmarks/benchmark.py (./scripts/benchmark.sh); do not edit by hand. -->',
        '',
        'How many requests a sharing playbook makes, how many of them wait on each other, and how long it takes, '
        'measured side by side in one run through real `ansible-playbook` runs against the emulator '
        '(`tests/emulator`) on 127.0.0.1, next to the physical floor of the same work. Reproduce with '
        '`./scripts/benchmark.sh`; the method is described in `tests/benchmarks/README.md`.',
        '',
        'Latency profile: IAM token issuance %g s, every IMS request %g s, a batch job %g s (fixed, no jitter). '
        'The collection as configured (read from the code): job polls at %s s after a submission (a %g s job is '
        'seen after %.2f s, %d poll(s)); member reads on a pool of %d threads; %s; at most %d images and %d projects '
        'per batch request.'
        % (profile['iam'], profile['ims'], profile['job'], profile['poll_schedule'], profile['job'],
           profile['job_observed'], profile['polls_per_job'], profile['read_concurrency'], native,
           profile['batch_size'], profile['batch_size']),
        '',
        '## Results',
        '',
        'Run of %s. Sizes: N = %d images, M = %d projects, %d hosts.'
        % (report['generated'], settings['images'], settings['projects'], settings['hosts']),
        '',
    ]


def _columns_text(profile):
    return (
        'Columns: *wall* is the whole `ansible-playbook` run, start-up included; *tasks* runs from the start of the '
        'play\'s first task to the last result of its last task (Ansible\'s start-up excluded), taken by a callback '
        '(`tests/benchmarks/callback_plugins/bench_timer.py`). Requests are the emulator\'s counters: *IAM* '
        'requests to `/v3`, *tokens* issued, IMS *reads*, member *writes* (native API), batch *jobs* submitted, '
        'job *polls* (and *polls/job*), the most requests the emulator handled at once (*in flight*), *total*. '
        '*physical* is the floor of the work itself: one token + one read RTT + one submission RTT + the job + one '
        'RTT for job work; one token + one read wave + ceil(writes / concurrency) write RTTs for native work; the '
        'chain of requests for loops that cannot overlap them. *bound* is issue #9\'s bound (the job plus a whole '
        'poll interval); *bound pool* the same with the reads in waves of the client\'s pool of %d. *speed-up* is '
        'the baseline\'s tasks time over the scenario\'s (scenario 4 for 1, 1n, 2, 3; 6u for 6m; 3 for G1; Sj for '
        'Sa).' % profile['read_concurrency'])


def _growth_section(report):
    if not report.get('growth'):
        return []
    return [
        '', '## Scenario 1 as work grows', '',
        _md_table(GROWTH_COLUMNS, [_growth_cells(row) for row in report['growth']]),
        '',
        'One `ims_image_member_batch` task per size, from nothing, cold token cache; *latency* says whether the '
        'profile applied or every request was answered at once (the job still takes %g s); *executor* is the one that '
        'ran (the automatic choice takes native calls for small plans). The plan says: one token, N member reads, '
        'then ceil(N / %d) x ceil(M / %d) jobs and their polls, or N x M native calls; *other* counts every request '
        'beyond that (it must not grow with the size). *peak RSS* is the module process\'s, measured as for planning '
        '(below).'
        % (report['profile']['job'], report['profile']['batch_size'], report['profile']['batch_size']),
    ]


def _targets_section(report):
    out = ['', '## Targets', '',
           'Judged here, in the report, never by a timed test. On a shared machine the times are noisy: a missed '
           'time target says how loaded the machine was.', '']
    out.append(_md_table(('id', 'target', 'measured', 'status'),
                         [(t['id'], t['target'], t['measured'], '**%s**' % _status(t)) for t in report['targets']]))
    missed = [t for t in report['targets'] if t['status'] == 'missed']
    if missed:
        out += ['', 'Causes of the missed targets, from the measurements:', '']
        out += ['- **%s** (%s): %s' % (t['id'], t['target'], t['cause']) for t in missed]
    unavailable = [t for t in report['targets'] if t['status'] == NOT_AVAILABLE]
    if unavailable:
        out += ['', 'Not available in the collection under test (the scenario did not run):', '']
        out += ['- **%s**: not available: %s' % (t['id'], t['cause']) for t in unavailable]
    return out


def _bounds_section(report):
    rows = report['scenarios']
    return [
        '', '## Bounds and overhead per scenario', '',
        _md_table(('#', 'physical s', 'bound (issue #9) s', 'bound (pool) s', 'modelled s', 'tasks s', 'overhead s',
                   'physical floor', 'how the code\'s bound is made'),
                  [(row['key'], '%.2f' % row['bound']['physical'], '%.2f' % row['bound']['issue'],
                    '%.2f' % row['bound']['configured'], '%.2f' % row['bound']['modelled'],
                    '%.2f' % effective(row, 'tasks_time'), '%.2f' % row['overhead'], row['bound']['physical_formula'],
                    row['bound']['formula']) for row in rows]),
        '',
        '*modelled* is what the code\'s request schedule alone takes under the profile (reads in waves of the pool, '
        'the job seen by the poll of the module\'s own schedule that sees it); *overhead* is the tasks time minus '
        'that: module processes, Ansible\'s per-task and per-item handling, Python, and waiting for a CPU.',
    ]


def _module_section(report):
    settings, planning = report['settings'], report['planning']
    out = [
        '', '## Planning and the module\'s own time', '',
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
               entry['iam_requests'], entry['changed_runs'], imports_text(entry)))
    out += [
        '',
        'The own time is measured in the module process itself (`tests/benchmarks/bench_module_timer.py`): the '
        'module is imported and its `main()` run with `ANSIBLE_MODULE_ARGS` from a file, the way Ansible\'s module '
        'runner does, with timestamps before and after each phase. The AnsiballZ figure runs the very file '
        'Ansible left behind (`ANSIBLE_KEEP_REMOTE_FILES=1`), so it adds what Ansible\'s wrapper costs '
        '(unpacking, compiling the module code from the zip).',
    ]
    return out


def _machine_section(report):
    machine = report['machine']
    return [
        '', '## Machine', '',
        '- CPU: %s, %s logical CPUs (%s usable); memory %s' % (machine['cpu'], machine['cpus'], machine['usable_cpus'],
                                                               machine['memory']),
        '- OS: %s' % machine['os'],
        '- %s, ansible-core %s, requests %s, werkzeug %s (emulator)' % (machine['python'], machine['ansible_core'],
                                                                        machine['requests'], machine['werkzeug']),
        '- Load average (1, 5, 15 min) before the run: %s; after: %s; after each scenario: %s'
        % (machine['load_before'], machine['load_after'],
           ', '.join('%s %s' % (row['key'], row['load'][0]) for row in report['scenarios'] if row.get('load'))),
        '- Commit: %s; the emulator, Ansible and the modules all run on this machine' % machine['commit'],
        '- Benchmark run time: %.0f s; command: `%s`'
        % (report['duration'], report.get('command') or './scripts/benchmark.sh'),
        '',
    ]


def render_markdown(report):
    settings, profile = report['settings'], report['profile']
    rows = report['scenarios']
    out = _intro(report)
    out += [_md_table(COLUMNS, [_cells(row) for row in rows]), '']
    out += ['- **%s**: %s' % (row['key'], title(row['key'], settings)) for row in rows]
    out += ['- **%s**: %s: *not available*: %s' % (entry['key'], entry['title'], entry['reason'])
            for entry in report.get('skipped') or []]
    out += ['', _columns_text(profile)]
    if any(row.get('extrapolated') for row in rows):
        out += ['', '\\* Extrapolated: the scenario ran on %d of %d images (`--baseline-sample`); its loop task time '
                'and per-image request counts were scaled to all images.'
                % (next(r['extrapolated']['sample'] for r in rows if r.get('extrapolated')), settings['images'])]
    out += _growth_section(report)
    out += _targets_section(report)
    out += ['', '## Where the time goes', '']
    out += ['- ' + note for note in findings(report)]
    out += _bounds_section(report)
    out += _module_section(report)
    out += ['', '## Requests by route', '']
    out.append(_md_table(('#', 'requests by route'), [(row['key'], routes(row['stats'])) for row in rows]
                         + [('%dx%d' % (g['images'], g['projects']), routes(g['stats'])) for g in report.get('growth') or []]
                         + [('P', routes(report['planning']['stats']))]))
    out += _machine_section(report)
    return '\n'.join(out)
