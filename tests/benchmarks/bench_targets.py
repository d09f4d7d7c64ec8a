# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The targets of issues #9, #15, #19 and #20, judged on a report, each missed one with its cause in numbers; and
the findings ("where the time goes"). Timings are judged here, in the report, never by a test."""

from bench_report import MB, effective, imports_text, per_item_overhead

NOT_AVAILABLE = 'not available'


def _target(ident, text, measured, met, cause=''):
    return {'id': ident, 'target': text, 'measured': measured, 'status': 'met' if met else 'missed',
            'cause': '' if met else cause}


def _unavailable(ident, text, reason):
    return {'id': ident, 'target': text, 'measured': '-', 'status': NOT_AVAILABLE, 'cause': reason}


def _missing(report, ident, text, *keys):
    """The target as "not available" when one of its scenarios did not run (with why), else None."""
    absent = [key for key in keys if key not in report['rows']]
    return _unavailable(ident, text, report['skipped_reasons'].get(absent[0], 'not run')) if absent else None


def busy(report, row=None):
    """Why a time may be long that is not the code's: a machine with more runnable processes than CPUs."""
    machine = report['machine']
    cpus = machine.get('usable_cpus') or 1
    loads = [value[0] for value in (machine.get('load_before'), machine.get('load_after')) if value]
    if row is not None and row.get('load'):
        loads.append(row['load'][0])
    if loads and max(loads) > cpus:
        return (' The machine was busy: load average %s before the run, %s after%s, on %d usable CPU(s) (it is shared '
                'with other work), so every process also waited for a CPU.'
                % (machine.get('load_before'), machine.get('load_after'),
                   ', %s right after this scenario' % row['load'][0] if row is not None and row.get('load') else '',
                   cpus))
    return ''


def routes(stats):
    return ', '.join('%s: %d' % (route, count) for route, count in sorted(stats['requests'].items()))


def _schedule_cause(report, row):
    """The cause of a time above its physical bound, in numbers: the code's schedule, the rest, the machine."""
    bound, profile = row['bound'], report['profile']
    tasks = effective(row, 'tasks_time')
    text = ('The physical floor is %.2f s (%s). The code\'s own request schedule takes %.2f s under the profile (%s)'
            % (bound['physical'], bound['physical_formula'], bound['modelled'], bound['formula']))
    if row['stats'].get('job_submissions'):
        text += ('; its poll schedule (polls at %s s after a submission) sees a %g s job %.2f s after the submission, '
                 '%d poll(s) for %d job(s) here'
                 % (profile['poll_schedule'], profile['job'], profile['job_observed'], row['stats']['job_polls'],
                    row['stats']['job_submissions']))
    text += ('; at most %d requests reached the emulator at once. The remaining %.2f s are the module process, '
             'Ansible\'s task handling and Python.%s%s' % (row['stats'].get('max_in_flight', 0), tasks - bound['modelled'],
                                                           floor_text(report, tasks - bound['modelled']),
                                                           busy(report, row)))
    return text


def floor_text(report, remaining):
    """How much of a one-task scenario's time beyond its request schedule is Ansible's own, measured in this run."""
    floor = (report.get('ansible_floor') or {}).get('tasks_time')
    if floor is None:
        return ''
    return (' Of them, %.2f s is Ansible\'s own floor for one task on this machine (a play of one ansible.builtin.ping '
            'task takes that, median of %d fresh runs: forking the worker, building and copying the module, starting '
            'Python and importing Ansible\'s module framework); the other %.2f s are this collection\'s own (building '
            'its larger payload, compiling and importing its code and requests in the module process, planning, the '
            'result).' % (floor, len(report['ansible_floor']['runs']), max(0.0, remaining - floor)))


def physical_ratio(row):
    """Tasks time over the physical bound (infinite when the bound is 0: zero latency and no job)."""
    physical = row['bound']['physical']
    return row['tasks_time'] / physical if physical > 0 else float('inf')


def _ratio_target(report, ident, key, limit):
    row = report['rows'][key]
    ratio = physical_ratio(row)
    return _target(ident, 'Scenario %s takes at most %gx its physical bound' % (key, limit),
                   'tasks %.2f s / physical %.2f s = %.2fx (ansible-playbook wall %.2f s)'
                   % (row['tasks_time'], row['bound']['physical'], ratio, row['wall']),
                   ratio <= limit, _schedule_cause(report, row))


def _speed_target(report, ident, text, fast_key, slow_key, factor, cause=''):
    fast, slow = report['rows'][fast_key], report['rows'][slow_key]
    speed = effective(slow, 'tasks_time') / fast['tasks_time']
    sampled = ' (%s extrapolated from %d images)' % (slow_key, slow['extrapolated']['sample']) if slow.get('extrapolated') else ''
    return _target(ident, text,
                   '%.1fx (tasks %.2f s vs %.2f s%s)' % (speed, effective(slow, 'tasks_time'), fast['tasks_time'], sampled),
                   speed >= factor,
                   '%sScenario %s sends %d requests, scenario %s %d; physical floors %.2f s vs %.2f s. %s'
                   % (cause, fast_key, fast['stats']['total'], slow_key, effective(slow, 'total'),
                      fast['bound']['physical'], slow['bound']['physical'], _schedule_cause(report, fast)))


def _issue9_targets(report):
    rows, profile = report['rows'], report['profile']
    four, uri, module = rows['4'], rows['6u'], rows['6m']
    uri_items = effective(uri, 'writes') or 1
    return [
        _speed_target(report, 'T2', 'Scenario 1 is at least 10x faster than scenario 4', '1', '4', 10,
                      'Each of scenario 4\'s loop items costs %.0f ms beyond its %g s request (Ansible running the uri '
                      'module once per pair). ' % (per_item_overhead(four, profile) * 1e3, profile['ims'])),
        _speed_target(report, 'T3', 'Scenario 6m (module) is at least 5x faster than 6u (uri loop)', '6m', '6u', 5,
                      'The loop\'s time is its %d requests plus Ansible\'s handling of %d loop items, %.0f ms each here; '
                      '5x would need the module within %.2f s. ' % (effective(uri, 'total'), uri_items,
                                                                    per_item_overhead(uri, profile) * 1e3,
                                                                    effective(uri, 'tasks_time') / 5.0)),
        _rerun_target(report, rows['2']),
        _target('T5', 'Scenario 5 issues exactly one IAM request',
                '%d IAM request(s), %d token(s) issued, %d hosts'
                % (rows['5']['iam_requests'], rows['5']['stats']['tokens_issued'], rows['5']['forks']),
                rows['5']['iam_requests'] == 1, 'Requests by route: %s.' % routes(rows['5']['stats'])),
        _planning_target(report),
        _module_time_target(report),
    ]


def _rerun_target(report, two):
    images = report['settings']['images']
    member_reads = two['stats']['requests'].get('GET /v2/images/{image_id}/members', 0)
    only_reads = member_reads == images and two['stats']['total'] == images
    fast = two['tasks_time'] <= 0.7
    cause = []
    if not only_reads:
        cause.append('Requests by route: %s (the %d member reads alone were expected).' % (routes(two['stats']), images))
    if not fast:
        cause.append('The reads take %.2f s in the code\'s schedule (%s); the other %.2f s are the module process and '
                     'Ansible.%s%s' % (two['bound']['modelled'], two['bound']['formula'],
                                       two['tasks_time'] - two['bound']['modelled'],
                                       floor_text(report, two['tasks_time'] - two['bound']['modelled']), busy(report, two)))
    return _target('T4', 'Scenario 2 (unchanged re-run) sends only the %d member reads and takes at most 0.7 s of tasks'
                   % images, '%d requests (%d member reads, %d writes, %d IAM), tasks %.2f s'
                   % (two['stats']['total'], member_reads, two['stats']['writes'], two['iam_requests'], two['tasks_time']),
                   only_reads and fast, ' '.join(cause))


def _planning_target(report):
    planning = report['planning']
    peak, floor = planning['peak_rss_kib'] * 1024 / MB, planning['floor_rss_kib'] * 1024 / MB
    return _target(
        'T6', 'Planning %d images x %d projects in one task stays under 150 MB peak RSS (module process)'
        % (report['settings']['plan_images'], report['settings']['plan_projects']),
        '%.1f MB (a 1 x 1 plan: %.1f MB)' % (peak, floor), peak < 150,
        'The module process needs %.1f MB for a 1 x 1 plan (interpreter, Ansible\'s module framework, requests); '
        'planning %d pairs adds %.1f MB.' % (floor, planning['pairs'], max(0.0, peak - floor)))


def _module_time_target(report):
    timing = report['module_time']['ims_image_member']
    return _target(
        'T7', 'The module\'s own time on an unchanged single-image task is under 150 ms (warm cache, zero latency)',
        '%.0f ms (ims_image_member: imports %.0f + run %.0f ms; CPU %.0f ms), ims_image_member_batch: %.0f ms'
        % (timing['own'] * 1e3, timing['imports'] * 1e3, timing['run'] * 1e3, timing['own_cpu'] * 1e3,
           report['module_time']['ims_image_member_batch']['own'] * 1e3),
        timing['own'] < 0.15,
        'Of %.0f ms, %.0f ms import the module and %.0f ms run the task (%s); CPU %.0f ms. Importing loads: %s.%s'
        % (timing['own'] * 1e3, timing['imports'] * 1e3, timing['run'] * 1e3,
           ', '.join('%s x%g' % (route, count) for route, count in sorted(timing['requests_per_run'].items())),
           timing['own_cpu'] * 1e3, imports_text(timing), busy(report)))


def _growth_target(report):
    growth = report['growth']
    text = ('Scenario 1 as work grows (%s): requests grow as the plan says (N member reads + the jobs + their polls, '
            'or one native write per pair where the automatic choice takes those; nothing else grows) and the largest '
            'run stays under 150 MB peak RSS'
            % ', '.join('%dx%d' % (g['images'], g['projects']) for g in growth))
    if not growth:
        return _unavailable('TG', text, 'no sizes were run')
    largest = max(growth, key=lambda g: g['images'] * g['projects'])
    extras = set(g['other_requests'] for g in growth)
    planned = all(g['as_planned'] for g in growth) and len(extras) == 1
    measured = '; '.join('%dx%d: %d requests (%d reads, %d %s, %d polls%s), %.1f MB'
                         % (g['images'], g['projects'], g['stats']['total'], g['member_reads'], g['writes_sent'],
                            'jobs' if g['executor'] == 'jobs' else 'native writes', g['stats']['job_polls'],
                            ', %d other' % g['other_requests'] if g['other_requests'] else '', g['peak_rss_mb'])
                         for g in growth)
    cause = []
    for g in growth:
        if not g['as_planned'] or len(extras) > 1:
            cause.append('%dx%d: expected %d member reads and %d %s, got %s.'
                         % (g['images'], g['projects'], g['images'], g['writes_planned'],
                            'job(s)' if g['executor'] == 'jobs' else 'native call(s)', routes(g['stats'])))
    if largest['peak_rss_mb'] >= 150:
        cause.append('%dx%d peaks at %.1f MB in the module process (%d module process(es)).'
                     % (largest['images'], largest['projects'], largest['peak_rss_mb'], largest['module_processes']))
        planning, settings = report['planning'], report['settings']
        if (settings['plan_images'], settings['plan_projects']) == (largest['images'], largest['projects']):
            cause.append('Planning the same size in check mode peaks at %.1f MB (the member lists and the plan), so '
                         'executing the plan adds %.1f MB: what the executor keeps per pair (the applied pairs, the '
                         'job records) and the result that lists every pair.'
                         % (planning['peak_rss_kib'] * 1024 / MB, largest['peak_rss_mb'] - planning['peak_rss_kib'] * 1024 / MB))
    return _target('TG', text, measured, planned and largest['peak_rss_mb'] < 150, ' '.join(cause))


def _identities_target(report):
    text = 'Scenario R (identities side by side) gets one token per identity and runs within 1.5x of scenario 1'
    return _missing(report, 'TR', text, 'R') or _identities_judged(report, text)


def _identities_judged(report, text):
    r, one = report['rows']['R'], report['rows']['1']
    ratio = r['tasks_time'] / one['tasks_time']
    tokens_ok = r['stats']['tokens_issued'] == r['identities'] and r['iam_requests'] == r['identities']
    cause = ''
    if not tokens_ok:
        cause += ('%d tokens issued and %d IAM requests for %d identities. '
                  % (r['stats']['tokens_issued'], r['iam_requests'], r['identities']))
    if ratio > 1.5:
        cause += ('%d module processes ran at once on %s usable CPU(s); at most %d requests reached the emulator at '
                  'once. %s' % (r['identities'], report['machine']['usable_cpus'], r['stats']['max_in_flight'],
                                _schedule_cause(report, r)))
    return _target('TR', text, '%d tokens for %d identities; tasks %.2f s vs scenario 1 %.2f s = %.2fx'
                   % (r['stats']['tokens_issued'], r['identities'], r['tasks_time'], one['tasks_time'], ratio),
                   tokens_ok and ratio <= 1.5, cause)


def _glance_target(report):
    text = 'G1 (native executor, plain Glance) within 1.5x of its physical bound and at least 10x faster than scenario 3'
    return _missing(report, 'TG1', text, 'G1') or _glance_judged(report, text)


def _glance_judged(report, text):
    g1, three = report['rows']['G1'], report['rows']['3']
    ratio = physical_ratio(g1)
    speed = effective(three, 'tasks_time') / g1['tasks_time']
    return _target('TG1', text, 'tasks %.2f s / physical %.2f s = %.2fx; %.1fx faster than scenario 3 (%.2f s%s)'
                   % (g1['tasks_time'], g1['bound']['physical'], ratio, speed, effective(three, 'tasks_time'),
                      ', extrapolated' if three.get('extrapolated') else ''),
                   ratio <= 1.5 and speed >= 10, _schedule_cause(report, g1))


def _small_target(report):
    text = 'S (1 image x %d projects on IMS): the automatic executor at least 5x faster than forced jobs' \
        % report['settings']['small_projects']
    return _missing(report, 'TS', text, 'Sa', 'Sj') or _speed_target(report, 'TS', text, 'Sa', 'Sj', 5)


def _audit_target(report):
    text = ('The audit of %d images costs the listing pages + one member read per image (+ the token)'
            % report['settings']['audit_images'])
    return _missing(report, 'TA', text, 'A') or _audit_judged(report, text)


def _audit_judged(report, text):
    images = report['settings']['audit_images']
    a = report['rows']['A']
    member_reads = a['stats']['requests'].get('GET /v2/images/{image_id}/members', 0)
    expected = a['listing_requests'] + images + a['iam_requests']
    return _target('TA', text, '%d requests: %d listing page(s) + %d member reads + %d IAM; tasks %.2f s (physical %.2f s)'
                   % (a['stats']['total'], a['listing_requests'], member_reads, a['iam_requests'], a['tasks_time'],
                      a['bound']['physical']),
                   member_reads == images and a['stats']['total'] == expected,
                   'Requests by route: %s.' % routes(a['stats']))


def evaluate_targets(report):
    """Every target, in the order of the report: met, missed (with its cause) or not available (with why)."""
    report = dict(report, rows=dict((row['key'], row) for row in report['scenarios']),
                  skipped_reasons=dict((entry['key'], entry['reason']) for entry in report.get('skipped') or []))
    targets = [_ratio_target(report, 'T1', '1', 1.2), _ratio_target(report, 'T1n', '1n', 1.3)]
    targets += _issue9_targets(report)
    targets += [_growth_target(report), _identities_target(report), _glance_target(report), _small_target(report),
                _audit_target(report)]
    return targets


# ---------------------------------------------------------------- findings

def findings(report):
    """Where the time goes, scenario by scenario, in numbers (for the reader who wants to make it faster)."""
    rows = dict((row['key'], row) for row in report['scenarios'])
    profile, settings = report['profile'], report['settings']
    ims = profile['ims']
    one, by_name = rows['1'], rows['1n']
    listings = by_name['stats']['requests'].get('GET /v2/images', 0)
    notes = [
        'Image names: %d listing request(s) for %d names (`GET /v2/images`); scenario 1n took %.2f s longer than '
        'scenario 1, which gives ids.' % (listings, settings['images'], by_name['tasks_time'] - one['tasks_time']),
        'Member reads: %d images on a pool of %d threads; at most %d requests reached the emulator at once in '
        'scenario 1 (physical: one wave, %g s).' % (settings['images'], profile['read_concurrency'],
                                                    one['stats']['max_in_flight'], ims),
        'Jobs: the module polls at %s s after a submission; a %g s job is seen %.2f s after its submission '
        '(%d poll(s) per job modelled; scenario 1 made %d poll(s) for %d job(s)); the physical floor sees it %g s '
        'after it ends.' % (profile['poll_schedule'], profile['job'], profile['job_observed'], profile['polls_per_job'],
                            one['stats']['job_polls'], one['stats']['job_submissions'], ims),
    ]
    floor = report.get('ansible_floor')
    if floor:
        notes.append('Ansible\'s own floor: a play of one ansible.builtin.ping task takes %.2f s of tasks on this machine '
                     '(fresh runs: %s s); every one-task scenario above pays it before its first request.'
                     % (floor['tasks_time'], ', '.join('%.2f' % t for t in floor['runs'])))
    native = rows['3']
    notes.append(
        'ims_image_member, one task per image: %.2f s of the tasks time is the code\'s requests, the other %.2f s '
        '(%.0f ms per task) is starting a module process per image and Ansible\'s loop; at most %d requests at once.'
        % (native['bound']['modelled'], effective(native, 'tasks_time') - native['bound']['modelled'],
           (effective(native, 'tasks_time') - native['bound']['modelled']) / settings['images'] * 1e3,
           native['stats']['max_in_flight']))
    for key in ('4', '6u'):
        notes.append('Scenario %s (uri): %.0f ms per loop item beyond the item\'s %g s request, i.e. Ansible running '
                     'the uri module once per item.' % (key, per_item_overhead(rows[key], profile) * 1e3, ims))
    hosts = rows['5']
    notes.append(
        'Scenario 5: %d module processes start at once on %s usable CPU(s); the requests take %.2f s, the tasks '
        '%.2f s; at most %d requests reached the emulator at once; %d IAM request(s) for all hosts.'
        % (hosts['forks'], report['machine']['usable_cpus'], hosts['bound']['modelled'], hosts['tasks_time'],
           hosts['stats']['max_in_flight'], hosts['iam_requests']))
    previous = report.get('previous') or {}
    for key in ('3', '5'):
        before = (previous.get('tasks') or {}).get(key)
        if before:
            row = rows[key]
            notes.append(
                'Scenario %s before/after (issue #15): %.2f s of tasks in the report of %s (commit %s; load average '
                'then %s), %.2f s%s now (load average %s before this run, %s right after the scenario); the code\'s '
                'request schedule now takes %.2f s under the profile (%s), at most %d requests at once. Times taken at '
                'different loads compare the machines as much as the code.'
                % (key, before, previous.get('generated'), previous.get('commit'), previous.get('load_before'),
                   effective(row, 'tasks_time'), ' (extrapolated)' if row.get('extrapolated') else '',
                   report['machine'].get('load_before'), (row.get('load') or ['?'])[0], row['bound']['modelled'],
                   row['bound']['formula'], row['stats']['max_in_flight']))
    for entry in report.get('skipped') or []:
        notes.append('Scenario %s not run: not available: %s' % (entry['key'], entry['reason']))
    return notes
