# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection under test offers, read from it (never restated here): the modules' options as
`ansible-doc` documents them (defaults, the executor choice), the client's read pool, and the job waiter's poll
schedule, simulated on a fake clock. A scenario whose option is missing is reported as "not available"."""

import inspect
import json
import os
import subprocess

COLLECTION = 'ansible_collections.imscloud.sharing'
MODULES = ('ims_image_member', 'ims_image_member_batch', 'ims_image_member_info')
EXECUTOR_CHOICES = ('native',)   # the choice that names the native executor (issue #15); the option is found by it


def module_options(bin_dir, env):
    """{module: {option: spec}} from `ansible-doc -j` (what a user reads; names may change, specs are read)."""
    command = [os.path.join(bin_dir, 'ansible-doc'), '-j', '-t', 'module'] + ['imscloud.sharing.' + m for m in MODULES]
    completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=120, check=False)
    if completed.returncode != 0:
        raise RuntimeError('ansible-doc failed: %s' % completed.stderr.decode('utf-8', 'replace')[-2000:])
    docs = json.loads(completed.stdout.decode('utf-8'))
    return dict((name.rsplit('.', 1)[1], (entry.get('doc') or {}).get('options') or {}) for name, entry in docs.items())


def executor_option(options):
    """(option name, {'auto': .., 'jobs': .., 'native': ..}) of the batch module's executor choice, or None.

    Found by its choices: the option whose choices include 'native'; the other choices are the automatic one
    (the default) and the job API."""
    for name, spec in sorted(options.get('ims_image_member_batch', {}).items()):
        choices = [str(choice) for choice in spec.get('choices') or []]
        if not any(choice in EXECUTOR_CHOICES for choice in choices):
            continue
        native = [c for c in choices if c in EXECUTOR_CHOICES][0]
        default = str(spec.get('default')) if spec.get('default') is not None else None
        others = [c for c in choices if c not in (native, default)]
        return name, {'auto': default, 'native': native, 'jobs': others[0] if others else None}
    return None


def option_default(options, module, name):
    spec = options.get(module, {}).get(name)
    return None if spec is None else spec.get('default')


def _import(name):
    return __import__(COLLECTION + name, fromlist=['_'])


def _default_of(func, name):
    parameter = inspect.signature(func).parameters.get(name)
    return None if parameter is None or parameter.default is inspect.Parameter.empty else parameter.default


def read_pool():
    """The default member-read pool: the concurrency default of the one member-list reader (images.py once issue
    #20's images room exists, the client's read_members before)."""
    try:
        pool = _default_of(_import('.plugins.module_utils.images').read_member_lists, 'concurrency')
    except (ImportError, AttributeError):
        pool = None
    if pool is None:
        pool = _default_of(_import('.plugins.module_utils.client').IMSClient.read_members, 'concurrency')
    return pool or 8


def _waiter_defaults():
    """The geometric schedule's parameters as the client calls the waiter (the client's defaults win); {} for a
    waiter without them."""
    waiter = _import('.plugins.module_utils.waiter')
    if not hasattr(waiter, 'wait_for_job'):
        return {}
    accepted = inspect.signature(waiter.wait_for_job).parameters
    values = dict((name, p.default) for name, p in accepted.items() if p.default is not inspect.Parameter.empty)
    client_wait = getattr(_import('.plugins.module_utils.client').IMSClient, 'wait_for_job', None)
    if client_wait is not None:
        for name, p in inspect.signature(client_wait).parameters.items():
            if name in accepted and p.default is not inspect.Parameter.empty:
                values[name] = p.default
    return values


def observe_job(job, ims):
    """(seconds from a job's submission until the poll that sees it finished has returned, polls), by running the
    collection's own waiter on a fake clock: every poll costs one IMS latency, and the cloud judges the job when it
    handles the poll (after that latency)."""
    waiter = _import('.plugins.module_utils.waiter')
    now = [0.0]
    polls = [0]

    def clock():
        return now[0]

    def sleep(seconds):
        now[0] += max(0.0, seconds)

    def get_job(_job_id):
        now[0] += ims
        polls[0] += 1
        return {'job_id': 'bench', 'status': 'SUCCESS' if now[0] >= job else 'RUNNING'}

    if hasattr(waiter, 'wait_for_jobs'):   # the waiter of issue #19: many jobs, {job_id: submitted at}
        waiter.wait_for_jobs(get_job, {'bench': 0.0}, 3600.0, clock=clock, sleep=sleep)
    else:
        kwargs = dict((name, value) for name, value in _waiter_defaults().items()
                      if name not in ('clock', 'sleep', 'log', 'timeout'))
        waiter.wait_for_job(get_job, 'bench', 3600.0, clock=clock, sleep=sleep, **kwargs)
    return now[0], polls[0]


def poll_schedule_text(ims=0.0, horizon=10.0):
    """The first poll times of the schedule (seconds after the submission), for the report."""
    times = [observe_job(0.0, ims)[0]]
    while len(times) < 8:
        seen, _polls = observe_job(times[-1] + 1e-6, ims)
        if seen > horizon:
            break
        times.append(seen)
    return ', '.join('%.2g' % t for t in times)


def collection_defaults(options):
    """The defaults a bound depends on: the read pool, the batch size, the native concurrency, the poll schedule."""
    waiter_defaults = _waiter_defaults()
    waiter = _import('.plugins.module_utils.waiter')
    return {
        # issue #9's bound allows the job + one poll interval: the first interval of the schedule
        'poll_interval': waiter_defaults.get('poll_initial', getattr(waiter, 'FIRST_POLL', 1.0)),
        'poll_max': waiter_defaults.get('poll_max', 10.0),
        'poll_factor': waiter_defaults.get('factor', 1.5),
        # the batch module reads members on its concurrency option's pool where it has one
        'read_concurrency': option_default(options, 'ims_image_member_batch', 'concurrency') or read_pool(),
        'batch_size': option_default(options, 'ims_image_member_batch', 'batch_size') or 100,
        'concurrency': option_default(options, 'ims_image_member_batch', 'concurrency') if executor_option(options) else None,
        'observe': observe_job,
        'poll_schedule': poll_schedule_text(),
    }
