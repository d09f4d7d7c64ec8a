# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The imscloud.sharing performance benchmark (issue #9).

    python tests/benchmarks/benchmark.py [--out docs/performance.md] [options]     (or ./scripts/benchmark.sh)

Starts the emulator on 127.0.0.1 with the issue's latency profile (IAM token 300 ms, every IMS request 40 ms, a
batch job 2 s), runs every scenario as a real ansible-playbook run, reads the emulator's request counters, computes
the lower bound of each scenario's critical path from the profile, checks the issue's targets, prints a table and
writes the report (docs/performance.md). Method and options: tests/benchmarks/README.md.
"""

import argparse
import datetime
import glob
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EMULATOR_DIR = os.path.join(ROOT, 'tests', 'emulator')
for _path in (HERE, EMULATOR_DIR):
    if _path not in sys.path:
        sys.path.insert(0, _path)

# pylint: disable=wrong-import-position
import bench_bounds  # noqa: E402
import bench_features  # noqa: E402
import bench_growth  # noqa: E402
import bench_plays  # noqa: E402
import bench_render  # noqa: E402
import bench_report  # noqa: E402
import bench_targets  # noqa: E402
import bench_seed  # noqa: E402
from harness import Emulator  # noqa: E402

COLLECTION = 'ansible_collections.imscloud.sharing'
TOKEN_LIKE = re.compile(r'MII[A-Za-z0-9_\-]{16,}')
PLAYBOOK_TIMEOUT = 1800


class BenchmarkError(RuntimeError):
    """A scenario did not run as it must (playbook failed, wrong end state)."""


DEFAULT_GROWTH = ((10, 5, False), (50, 20, False), (200, 50, False), (1000, 100, True))


def parse_growth(text):
    """'10x5,50x20,1000x100:0' -> [(10, 5, False), (50, 20, False), (1000, 100, True)] (':0': zero latency)."""
    sizes = []
    for part in text.split(','):
        size, _sep, latency = part.strip().partition(':')
        images, _x, projects = size.partition('x')
        if not images.isdigit() or not projects.isdigit() or latency not in ('', '0'):
            raise ValueError('a size is IMAGESxPROJECTS, optionally :0 for zero latency, not %r' % part)
        sizes.append((int(images), int(projects), latency == '0'))
    return sizes


class Settings(object):
    """What to run. The defaults are the issue's sizes and latency profile."""

    def __init__(self, images=50, projects=20, hosts=20, plan_images=1000, plan_projects=100, iam=0.3, ims=0.04,
                 job=2.0, timing_runs=15, baseline_sample=0, growth=None, identities=10, identity_images=50,
                 identity_projects=20, audit_images=200, small_projects=2):
        self.images = images
        self.projects = projects
        self.hosts = hosts
        self.plan_images = plan_images
        self.plan_projects = plan_projects
        self.iam = iam
        self.ims = ims
        self.job = job
        self.timing_runs = timing_runs
        # 0: scenarios 3 and 4 run in full; K: they run on K images and are extrapolated to all of them
        self.baseline_sample = baseline_sample
        # scenario 1 at these sizes: (images, projects, zero latency)
        self.growth = [list(size) for size in (growth if growth is not None else DEFAULT_GROWTH)]
        self.identities = identities            # scenario R: identities (hosts), each sharing its images
        self.identity_images = identity_images
        self.identity_projects = identity_projects
        self.audit_images = audit_images
        self.small_projects = small_projects    # scenario S: one image, this many projects

    def as_dict(self):
        return dict(self.__dict__)


def redact(text):
    """Emulator tokens never reach the output, not even from a failed run's log."""
    return TOKEN_LIKE.sub('<token>', text)


def median(values):
    return statistics.median(values) if values else None


def executor_ran(stats):
    """'jobs' when the run submitted batch jobs (or wrote nothing), 'native' when it wrote through the native API."""
    return 'native' if stats['writes'] and not stats['job_submissions'] else 'jobs'


def iam_requests(stats):
    return sum(count for route, count in stats['requests'].items() if route.split(' ', 1)[1].startswith('/v3'))


class Bench(bench_growth.GrowthScenarios):
    """One emulator, one work directory, and the scenario runs."""

    error = BenchmarkError
    redact = staticmethod(redact)
    executor_ran = staticmethod(executor_ran)

    def __init__(self, settings, work_dir, log=None):
        self.settings = settings
        self.work = work_dir
        self.log = log or (lambda message: None)
        self.python = sys.executable
        self.bin_dir = os.path.dirname(sys.executable)
        self.tree = os.path.join(work_dir, 'collections')
        self.emu = None
        self.runs = 0
        self._link_collection()
        self.options = bench_features.module_options(self.bin_dir, self.ansible_env(self.fresh_cache('doc')))
        self.executor_choice = bench_features.executor_option(self.options)
        defaults = bench_features.collection_defaults(self.options)
        self.profile = bench_bounds.Profile(iam=settings.iam, ims=settings.ims, job=settings.job, **defaults)
        self.latency = {'IAM': {'fixed': settings.iam, 'jitter': 0.0}, 'IMS': {'fixed': settings.ims, 'jitter': 0.0}}

    # ------------------------------------------------------------------ set-up

    def _link_collection(self):
        """A tree where Ansible (and this process, if it cannot yet) finds the checkout as imscloud.sharing."""
        link = os.path.join(self.tree, 'ansible_collections', 'imscloud', 'sharing')
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if not os.path.islink(link):
            os.symlink(ROOT, link)
        try:
            __import__(COLLECTION + '.plugins.module_utils.client')
        except ImportError:
            sys.path.insert(0, self.tree)

    def __enter__(self):
        with open(os.path.join(self.work, 'ansible.cfg'), 'w') as handle:
            handle.write('[defaults]\n')
        s = self.settings
        self.seeds = {
            'base': self._write_yaml('seed-base.yml', bench_seed.build_seed(s.images, s.projects)),
            'shared': self._write_yaml('seed-shared.yml',
                                       bench_seed.build_seed(s.images, s.projects, shared_with_first_recipient=True)),
            'plan': self._write_yaml('seed-plan.yml', bench_seed.build_seed(s.plan_images, s.plan_projects)),
            'growth': self._write_yaml('seed-growth.yml', bench_seed.build_seed(
                max([size[0] for size in s.growth] or [1]), max([size[1] for size in s.growth] or [1]))),
            'identities': self._write_yaml('seed-identities.yml', bench_seed.build_identities_seed(
                s.identities, s.identity_images, s.identity_projects)),
            'glance': self._write_yaml('seed-glance.yml', bench_seed.build_seed(s.images, s.projects,
                                                                                visibility='shared')),
            'audit': self._write_yaml('seed-audit.yml', bench_seed.build_seed(s.audit_images, 2, audit_members=True)),
        }
        base_config = {'latency': self.latency, 'job_duration': s.job}
        self.emu = Emulator(seed=self.seeds['base'], extra_args=['--config', json.dumps(base_config)], max_lifetime=3600)
        try:
            self.variables = self._write_vars()
        except Exception:
            self.emu.stop()
            raise
        return self

    def __exit__(self, *exc_info):
        if self.emu is not None:
            self.emu.stop()

    def _write_yaml(self, name, data):
        path = os.path.join(self.work, name)
        with open(path, 'w') as handle:
            yaml.safe_dump(data, handle, sort_keys=False, allow_unicode=True)
        return path

    def _write_vars(self):
        s = self.settings
        url = self.emu.url
        data = {
            'ims_url': url,
            'owner_auth': bench_seed.owner_auth(url),
            'recipient_auth': bench_seed.recipient_auth(url),
            'recipient_project_id': bench_seed.project_id('recipient', 1),
            'image_ids': [bench_seed.image_id(i) for i in range(1, s.images + 1)],
            'image_names': [bench_seed.image_name(i) for i in range(1, s.images + 1)],
            'project_ids': [bench_seed.project_id('recipient', i) for i in range(1, s.projects + 1)],
            'plan_image_ids': [bench_seed.image_id(i) for i in range(1, s.plan_images + 1)],
            'plan_project_ids': [bench_seed.project_id('recipient', i) for i in range(1, s.plan_projects + 1)],
        }
        path = self._write_yaml('vars.yml', data)
        os.chmod(path, 0o600)
        return path

    def _vars_with(self, name, **overrides):
        """A copy of the extra-vars file with some variables replaced."""
        with open(self.variables) as handle:
            data = yaml.safe_load(handle)
        data.update(overrides)
        path = self._write_yaml(name, data)
        os.chmod(path, 0o600)
        return path

    def _inventory(self):
        path = os.path.join(self.work, 'inventory.yml')
        if not os.path.exists(path):
            local = {'ansible_connection': 'local', 'ansible_python_interpreter': self.python}
            hosts = dict(('bench-host-%02d' % i, dict(local, bench_image=bench_seed.image_id(i)))
                         for i in range(1, self.settings.hosts + 1))
            identities = dict(('bench-identity-%02d' % i, dict(local, **self._identity_vars(i)))
                              for i in range(1, self.settings.identities + 1))
            self._write_yaml('inventory.yml', {'all': {'hosts': {'localhost': local},
                                                       'children': {'bench_hosts': {'hosts': hosts},
                                                                    'bench_identities': {'hosts': identities}}}})
            os.chmod(path, 0o600)
        return path

    def _identity_vars(self, index):
        """Scenario R: host number `index` is its own identity (owner project, user, region)."""
        s = self.settings
        region = bench_seed.identity_region(index)
        return {'bench_auth': bench_seed.owner_auth(self.emu.url, index), 'bench_region': region,
                'bench_images': bench_seed.identity_images(index, s.identity_images),
                'bench_projects': [bench_seed.region_recipient(region, p) for p in range(1, s.identity_projects + 1)]}

    def fresh_cache(self, name):
        path = os.path.join(self.work, 'token-cache-' + name)
        shutil.rmtree(path, ignore_errors=True)
        return path

    def reset(self, seed='base', zero_latency=False):
        """Re-seed the emulator (clears state, tokens, stats and overrides); optionally drop the latency profile."""
        self.emu.reset(self.seeds[seed])
        if zero_latency:
            self.emu.configure(latency={})

    # ------------------------------------------------------------------ running playbooks

    def ansible_env(self, cache_dir, **extra):
        # Ansible and cloud settings of the caller's environment (ANSIBLE_PIPELINING, OS_CLOUD, ...) would change
        # what is measured: only this benchmark's own settings apply
        env = dict((key, value) for key, value in os.environ.items()
                   if not key.startswith(('ANSIBLE_', 'OS_', 'IMSCLOUD_SHARING_')))
        env.update({
            'ANSIBLE_CONFIG': os.path.join(self.work, 'ansible.cfg'),
            'ANSIBLE_HOME': os.path.join(self.work, 'ansible-home'),
            'ANSIBLE_COLLECTIONS_PATH': self.tree,
            'ANSIBLE_CALLBACK_PLUGINS': os.path.join(HERE, 'callback_plugins'),
            'ANSIBLE_CALLBACKS_ENABLED': 'bench_timer',
            'ANSIBLE_STDOUT_CALLBACK': 'default',
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_LOCAL_TEMP': os.path.join(self.work, 'ansible-local'),
            'ANSIBLE_REMOTE_TEMP': os.path.join(self.work, 'ansible-remote'),
            'IMSCLOUD_SHARING_CACHE_DIR': cache_dir,
        })
        env.update(extra)
        return env

    def run_playbook(self, name, plays, cache_dir, forks=None, env_extra=None, variables=None):
        """Run one playbook; returns {wall, timing (from the bench_timer callback), log}. Fails loudly."""
        self.runs += 1
        stem = '%02d-%s' % (self.runs, name)
        playbook = self._write_yaml(stem + '.yml', plays)
        timing_file = os.path.join(self.work, stem + '.timing.json')
        log_file = os.path.join(self.work, stem + '.log')
        command = [os.path.join(self.bin_dir, 'ansible-playbook'), '-i', self._inventory(),
                   '-e', '@' + (variables or self.variables), playbook]
        if forks:
            command += ['--forks', str(forks)]
        env = self.ansible_env(cache_dir, BENCH_TIMING_FILE=timing_file, **(env_extra or {}))
        started = time.monotonic()
        with open(log_file, 'wb') as log:
            completed = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.work,
                                       timeout=PLAYBOOK_TIMEOUT, check=False)
        wall = time.monotonic() - started
        with open(log_file, 'rb') as log:
            output = log.read().decode('utf-8', 'replace')
        if completed.returncode != 0:
            raise BenchmarkError('ansible-playbook %s failed (exit code %d):\n%s'
                                 % (name, completed.returncode, redact(output[-6000:])))
        with open(timing_file) as handle:
            timing = json.load(handle)
        return {'wall': wall, 'timing': timing, 'log': log_file}

    # ------------------------------------------------------------------ measuring

    @staticmethod
    def tasks_time(timing, tasks=None):
        """From the first task's start to the last result of the last task (Ansible start-up excluded)."""
        selected = timing['tasks'] if tasks is None else [timing['tasks'][i] for i in tasks]
        return max(t['end'] for t in selected) - min(t['start'] for t in selected)

    def members(self):
        return set((m['image_id'], m['member_id'], m['status']) for m in self.emu.state()['members'])

    def expect_members(self, images, projects, status='pending'):
        """True when the emulator holds exactly these members (images x projects, in `status`)."""
        want = set((image, project, status) for image in images for project in projects)
        have = self.members()
        return have == want, '%d members, %d expected%s' % (len(have), len(want), '' if have == want else ' (MISMATCH)')

    def scenario(self, key, run, stats, bound, end_state, timed_tasks=None, **fields):
        tasks = self.tasks_time(run['timing'], timed_tasks)
        row = {
            'key': key, 'title': bench_report.title(key, self.settings.as_dict()), 'wall': run['wall'], 'tasks_time': tasks,
            'task_times': [{'name': t['name'], 'seconds': t['end'] - t['start'], 'results': t['results'],
                            'changed': t.get('changed')} for t in run['timing']['tasks']],
            'stats': stats, 'iam_requests': iam_requests(stats), 'bound': bound,
            'end_state_ok': end_state[0], 'end_state': end_state[1], 'extrapolated': None,
            'load': bench_report.load_average(),
        }
        row.update(fields)
        self.log('  %-4s wall %6.2f s, tasks %6.2f s, %d requests (%d IAM), physical %.2f s, %s'
                 % (key, row['wall'], tasks, stats['total'], row['iam_requests'], bound['physical'], row['end_state']))
        if not row['end_state_ok']:
            raise BenchmarkError('scenario %s ended in the wrong state: %s' % (key, row['end_state']))
        return row

    def images(self, count=None):
        return [bench_seed.image_id(i) for i in range(1, (count or self.settings.images) + 1)]

    def projects(self, count=None):
        return [bench_seed.project_id('recipient', i) for i in range(1, (count or self.settings.projects) + 1)]

    # ------------------------------------------------------------------ scenarios

    def run_share_batch(self):
        """Scenarios 1 (from nothing) and 2 (the same play again, warm cache)."""
        s, p = self.settings, self.profile
        self.reset()
        cache = self.fresh_cache('s1')
        run = self.run_playbook('s1-batch', bench_plays.batch_share(), cache)
        stats = self.emu.stats()
        first = self.scenario('1', run, stats, bench_bounds.batch_share(p, s.images, s.projects,
                                                                        executor=executor_ran(stats)),
                              self.expect_members(self.images(), self.projects()))
        self.emu.reset_stats()
        run = self.run_playbook('s2-batch-again', bench_plays.batch_share(), cache)
        second = self.scenario('2', run, self.emu.stats(), bench_bounds.batch_unchanged(p, s.images),
                               self.expect_members(self.images(), self.projects()))
        return [first, second]

    def run_share_batch_by_name(self):
        s = self.settings
        self.reset()
        run = self.run_playbook('s1n-batch-names', bench_plays.batch_share('image_names'), self.fresh_cache('s1n'))
        stats = self.emu.stats()
        return self.scenario('1n', run, stats,
                             bench_bounds.batch_share(self.profile, s.images, s.projects, by_name=True,
                                                      executor=executor_ran(stats),
                                                      listings=bench_report.listing_requests(stats)),
                             self.expect_members(self.images(), self.projects()))

    def _sampled(self, key, name, plays, bound, loop_task, seed='base', expect=None):
        """Run a per-pair loop scenario on all images, or on a sample of them and extrapolate (--baseline-sample).

        expect(images): the end state check for the images the loop ran on (default: pending members)."""
        s = self.settings
        sample = s.baseline_sample if 0 < s.baseline_sample < s.images else s.images
        self.reset(seed)
        variables = self._vars_with('vars-sample.yml', image_ids=self.images(sample)) if sample < s.images else None
        run = self.run_playbook(name, plays, self.fresh_cache(key), variables=variables)
        stats = self.emu.stats()
        check = expect or (lambda images: self.expect_members(images, self.projects()))
        row = self.scenario(key, run, stats, bound, check(self.images(sample)))
        if sample < s.images:
            row['extrapolated'] = bench_report.extrapolate(row, run['timing'], loop_task, sample, s.images)
        return row

    def run_share_native(self):
        s = self.settings
        return self._sampled('3', 's3-native-loop', bench_plays.native_loop(),
                             bench_bounds.native_loop(self.profile, s.images, s.projects), loop_task=0)

    def run_share_uri(self):
        s = self.settings
        return self._sampled('4', 's4-uri-loop', bench_plays.uri_share(),
                             bench_bounds.uri_share(self.profile, s.images, s.projects), loop_task=1)

    def run_hosts(self):
        s = self.settings
        self.reset()
        run = self.run_playbook('s5-hosts', bench_plays.hosts_native(), self.fresh_cache('s5'), forks=s.hosts)
        return self.scenario('5', run, self.emu.stats(), bench_bounds.hosts_native(self.profile, s.projects),
                             self.expect_members(self.images(s.hosts), self.projects()), forks=s.hosts)

    def run_accept(self):
        s = self.settings
        recipient = [bench_seed.project_id('recipient', 1)]
        self.reset('shared')
        run = self.run_playbook('s6-batch-accept', bench_plays.batch_accept(), self.fresh_cache('s6m'))
        stats = self.emu.stats()
        module = self.scenario('6m', run, stats, bench_bounds.batch_accept(self.profile, s.images, executor_ran(stats)),
                               self.expect_members(self.images(), recipient, 'accepted'))
        uri = self._sampled('6u', 's6-uri-accept', bench_plays.uri_accept(), bench_bounds.uri_accept(self.profile, s.images),
                            loop_task=1, seed='shared', expect=self._accepted)
        return [module, uri]

    def _accepted(self, images):
        """The first recipient accepted `images`; the other shared images are still pending."""
        recipient = bench_seed.project_id('recipient', 1)
        want = set((image, recipient, 'accepted' if image in images else 'pending') for image in self.images())
        have = self.members()
        return have == want, '%d of %d accepted%s' % (len(images), len(want), '' if have == want else ' (MISMATCH)')

    def _rss_wrapper(self, name):
        """An interpreter for ansible_python_interpreter that runs the real one and records its peak RSS (KiB)."""
        record = os.path.join(self.work, name + '.rss')
        wrapper = os.path.join(self.work, name + '-python')
        with open(wrapper, 'w') as handle:
            handle.write('#!%s\n' % self.python)
            handle.write('import resource, subprocess, sys\n'
                         'code = subprocess.call([%r] + sys.argv[1:])\n'
                         'with open(%r, "a") as out:\n'
                         '    out.write("%%d\\n" %% resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n'
                         'sys.exit(code)\n' % (self.python, record))
        os.chmod(wrapper, 0o700)
        return wrapper, record

    def run_planning(self):
        """Peak RSS of the module process planning plan_images x plan_projects (check mode, zero latency)."""
        s = self.settings
        self.reset('plan', zero_latency=True)
        wrapper, record = self._rss_wrapper('plan')
        run = self.run_playbook('p-plan', bench_plays.plan_only(wrapper), self.fresh_cache('plan'))
        stats = self.emu.stats()
        with open(record) as handle:
            peaks = [int(line) for line in handle if line.strip()]
        # the same module process on a 1 x 1 plan: the floor (interpreter, Ansible, requests)
        self.emu.reset_stats()
        floor_wrapper, floor_record = self._rss_wrapper('plan-floor')
        variables = self._vars_with('vars-floor.yml', plan_image_ids=self.images(1), plan_project_ids=self.projects()[:1])
        self.run_playbook('p-plan-floor', bench_plays.plan_only(floor_wrapper), self.fresh_cache('plan'), variables=variables)
        with open(floor_record) as handle:
            floor = [int(line) for line in handle if line.strip()]
        row = {
            'key': 'P', 'title': bench_report.title('P', s.as_dict()), 'wall': run['wall'],
            'tasks_time': self.tasks_time(run['timing'], tasks=[0]), 'stats': stats, 'iam_requests': iam_requests(stats),
            'module_processes': len(peaks), 'peak_rss_kib': max(peaks), 'floor_rss_kib': max(floor),
            'pairs': s.plan_images * s.plan_projects, 'end_state_ok': stats['writes'] == 0,
            'end_state': '%d writes (check mode)' % stats['writes'],
        }
        self.log('  P    wall %6.2f s, module task %.2f s, peak RSS %.1f MB (floor %.1f MB), %d module process(es)'
                 % (row['wall'], row['tasks_time'], row['peak_rss_kib'] * 1.024e-3, row['floor_rss_kib'] * 1.024e-3,
                    row['module_processes']))
        return row

    def run_floor(self, runs=3):
        """Ansible's own floor: the tasks time of a one-task play of ansible.builtin.ping (median of fresh runs)."""
        times = [self.tasks_time(self.run_playbook('f-ping', bench_plays.ansible_floor(), self.fresh_cache('floor'))['timing'])
                 for _run in range(runs)]
        self.log('  F    ansible.builtin.ping, one task: %s s (median %.2f s)'
                 % (', '.join('%.2f' % t for t in times), median(times)))
        return {'tasks_time': median(times), 'runs': times}

    # ------------------------------------------------------------------ the module's own time

    def _timed(self, command, env):
        started = time.perf_counter()
        completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=self.work,
                                   timeout=120, check=False)
        wall = time.perf_counter() - started
        if completed.returncode != 0:
            errors = completed.stderr.decode('utf-8', 'replace')[-3000:]
            raise BenchmarkError('%s failed (exit code %d): %s' % (command[1], completed.returncode, redact(errors)))
        return wall, completed.stdout.decode('utf-8', 'replace')

    @staticmethod
    def _module_result(stdout):
        result = json.loads(stdout.strip().splitlines()[-1])
        if result.get('failed'):
            raise BenchmarkError('the module failed: %s' % redact(result.get('msg', '')))
        return result

    def _import_breakdown(self, driver, env):
        """One more run under `python -X importtime`: what the module's own imports cost, by package."""
        command = driver[:1] + ['-X', 'importtime'] + driver[1:] + [os.path.join(self.work, 'importtime.timings.json')]
        completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=self.work,
                                   timeout=120, check=False)
        return bench_report.import_breakdown(completed.stderr.decode('utf-8', 'replace'))

    def run_module_time(self):
        """The module's own time on an unchanged single-image task, warm cache, zero latency."""
        runs = self.settings.timing_runs
        self.reset(zero_latency=True)
        cache = self.fresh_cache('module-time')
        # byte-code cached (outside the checkout), as for any installed collection: the import cost, not compiling
        env = self.ansible_env(cache, PYTHONPATH=self.tree, PYTHONPYCACHEPREFIX=os.path.join(self.work, 'pycache'))
        env.pop('PYTHONDONTWRITEBYTECODE', None)
        results = {}
        owner = bench_seed.owner_auth(self.emu.url)
        image, projects = self.images(1)[0], self.projects()
        module_args = {
            'ims_image_member': {'auth': owner, 'image': image, 'members': projects},
            'ims_image_member_batch': {'auth': owner, 'images': [image], 'projects': projects},
        }
        bare = [self._timed([self.python, '-c', 'pass'], env)[0] for _run in range(runs)]
        for module, args in module_args.items():
            # one run through ansible-playbook makes the change, fills the token cache and leaves the AnsiballZ file
            remote = os.path.join(self.work, 'ansible-remote-' + module)
            self.run_playbook('t-' + module, bench_plays.single_image(module), cache,
                              env_extra={'ANSIBLE_KEEP_REMOTE_FILES': '1', 'ANSIBLE_REMOTE_TEMP': remote})
            ansiballz = glob.glob(os.path.join(remote, '*', 'AnsiballZ_%s.py' % module))
            args_file = os.path.join(self.work, module + '.args.json')
            with open(args_file, 'w') as handle:
                json.dump({'ANSIBLE_MODULE_ARGS': args}, handle)
            os.chmod(args_file, 0o600)
            fqn = '%s.plugins.modules.%s' % (COLLECTION, module)
            driver = [self.python, os.path.join(HERE, 'bench_module_timer.py'), fqn, args_file]
            self._timed(driver + [os.path.join(self.work, 'warm-up.timings.json')], env)   # fills the byte-code cache
            self.emu.reset_stats()
            phases, changed = [], []
            for index in range(runs):
                timings_file = os.path.join(self.work, '%s.timings.%d.json' % (module, index))
                _wall, stdout = self._timed(driver + [timings_file], env)
                changed.append(self._module_result(stdout).get('changed'))
                with open(timings_file) as handle:
                    phases.append(json.load(handle))
            driver_stats = self.emu.stats()
            self.emu.reset_stats()
            ansiballz_walls = []
            if len(ansiballz) == 1:
                for _run in range(runs):
                    wall, stdout = self._timed([self.python, ansiballz[0]], env)
                    changed.append(self._module_result(stdout).get('changed'))
                    ansiballz_walls.append(wall)
            entry = {
                'runs': runs, 'changed_runs': sum(1 for c in changed if c),
                'requests_per_run': dict((route, count / float(runs)) for route, count in driver_stats['requests'].items()),
                'iam_requests': iam_requests(driver_stats), 'writes': driver_stats['writes'],
                'bare_interpreter': median(bare),
                'ansiballz_process': median(ansiballz_walls),
            }
            # the phases of the run whose own time (imports + run) is the median, so that they add up
            ranked = sorted(phases, key=lambda p: p['imports']['wall'] + p['run']['wall'])
            typical = ranked[(len(ranked) - 1) // 2]
            for phase in ('framework', 'imports', 'run'):
                entry[phase] = typical[phase]['wall']
                entry[phase + '_cpu'] = typical[phase]['cpu']
            entry['own'] = entry['imports'] + entry['run']
            entry['own_cpu'] = entry['imports_cpu'] + entry['run_cpu']
            entry['import_breakdown'] = self._import_breakdown(driver, env)
            results[module] = entry
            self.log('  T    %s: own %.0f ms (imports %.0f + run %.0f), framework import %.0f ms, AnsiballZ process %s'
                     % (module, entry['own'] * 1e3, entry['imports'] * 1e3, entry['run'] * 1e3, entry['framework'] * 1e3,
                        '%.0f ms' % (entry['ansiballz_process'] * 1e3) if entry['ansiballz_process'] else 'n/a'))
        return results

    # ------------------------------------------------------------------ everything

    def run_all(self):
        self.log('latency profile: IAM %g s, IMS %g s, job %g s; client: poll interval %g s, read pool %d, batch size %d'
                 % (self.profile.iam, self.profile.ims, self.profile.job, self.profile.poll_interval,
                    self.profile.read_concurrency, self.profile.batch_size))
        rows = []
        floor = self.run_floor()
        rows.extend(self.run_share_batch())
        rows.append(self.run_share_batch_by_name())
        rows.append(self.run_share_native())
        rows.append(self.run_share_uri())
        rows.append(self.run_hosts())
        rows.extend(self.run_accept())
        skipped = []
        for result in [self.run_identities(), self.run_glance()] + self.run_small() + [self.run_audit()]:
            (skipped if 'reason' in result else rows).append(result)
        growth = self.run_growth()
        planning = self.run_planning()
        module_time = self.run_module_time()
        return rows, skipped, growth, planning, module_time, floor


def run_benchmark(settings, work_dir=None, log=None, previous=None):
    """Run every scenario; returns the report (a JSON-able dict). work_dir: scratch space (a temp dir by default);
    previous: the report this run replaces (its scenario 3 and 5 times are the "before" of issue #15)."""
    started = time.monotonic()
    machine = bench_report.describe_machine(ROOT)
    own_work = work_dir is None
    work = work_dir or tempfile.mkdtemp(prefix='imscloud-bench-')
    try:
        with Bench(settings, work, log) as bench:
            rows, skipped, growth, planning, module_time, floor = bench.run_all()
            profile = bench.profile.as_dict()
    finally:
        if own_work:
            shutil.rmtree(work, ignore_errors=True)
    machine['load_after'] = bench_report.load_average()
    report = {
        'generated': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
        'settings': settings.as_dict(), 'profile': profile, 'machine': machine,
        'scenarios': rows, 'skipped': skipped, 'growth': growth, 'planning': planning, 'module_time': module_time,
        'ansible_floor': floor,
        'previous': bench_report.previous_results(previous) if previous else None,
        'duration': time.monotonic() - started,
    }
    bench_report.add_speedups(report)
    report['targets'] = bench_targets.evaluate_targets(report)
    return report


def parse_args(argv):
    parser = argparse.ArgumentParser(description='The imscloud.sharing performance benchmark (issue #9).')
    parser.add_argument('--out', default=os.path.join(ROOT, 'docs', 'performance.md'),
                        help='Markdown report to write (default: docs/performance.md); "-" writes none')
    parser.add_argument('--results-dir', default=os.path.join(HERE, 'results'),
                        help='where the raw results (JSON) go (default: tests/benchmarks/results, git-ignored)')
    parser.add_argument('--images', type=int, default=50, help='N, images shared (default 50)')
    parser.add_argument('--projects', type=int, default=20, help='M, recipient projects (default 20)')
    parser.add_argument('--hosts', type=int, default=20, help='hosts (forks) of scenario 5 (default 20)')
    parser.add_argument('--plan-images', type=int, default=1000, help='images of the planning run (default 1000)')
    parser.add_argument('--plan-projects', type=int, default=100, help='projects of the planning run (default 100)')
    parser.add_argument('--iam-latency', type=float, default=0.3, help='seconds per IAM token (default 0.3)')
    parser.add_argument('--ims-latency', type=float, default=0.04, help='seconds per IMS request (default 0.04)')
    parser.add_argument('--job-duration', type=float, default=2.0, help='seconds per batch job (default 2)')
    parser.add_argument('--timing-runs', type=int, default=15, help='runs of the module-time measurement (median)')
    parser.add_argument('--baseline-sample', type=int, default=0, metavar='K',
                        help='run the loop scenarios 3, 4 and 6u on K images only and extrapolate to N (quick runs; the report '
                             'marks the extrapolated values). Default: run them in full')
    parser.add_argument('--growth', type=parse_growth, default=DEFAULT_GROWTH, metavar='SIZES',
                        help='sizes of scenario 1 for the cost as work grows, IMAGESxPROJECTS[:0] comma-separated, '
                             ':0 for zero latency (default 10x5,50x20,200x50,1000x100:0)')
    parser.add_argument('--identities', type=int, default=10, help='identities (hosts) of scenario R (default 10)')
    parser.add_argument('--audit-images', type=int, default=200, help='images of the audit scenario (default 200)')
    parser.add_argument('--keep-work', action='store_true', help='keep the scratch directory (playbooks, logs, seeds)')
    parser.add_argument('--strict', action='store_true', help='exit with status 1 when a target is missed')
    args = parser.parse_args(argv)
    if args.hosts > args.images:
        parser.error('--hosts cannot exceed --images (every host shares its own image)')
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    settings = Settings(images=args.images, projects=args.projects, hosts=args.hosts, plan_images=args.plan_images,
                        plan_projects=args.plan_projects, iam=args.iam_latency, ims=args.ims_latency,
                        job=args.job_duration, timing_runs=args.timing_runs, baseline_sample=args.baseline_sample,
                        growth=args.growth, identities=args.identities, audit_images=args.audit_images)

    def log(message):
        sys.stderr.write(message + '\n')
        sys.stderr.flush()

    # SIGTERM unwinds like Ctrl-C, so the emulator is stopped and the scratch directory removed
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))

    work = None
    if args.keep_work:
        os.makedirs(args.results_dir, exist_ok=True)
        work = tempfile.mkdtemp(prefix='work-', dir=args.results_dir)
        log('scratch directory: %s' % work)
    previous = None
    if args.out != '-' and os.path.exists(args.out):
        with open(args.out) as handle:
            previous = handle.read()
    report = run_benchmark(settings, work_dir=work, log=log, previous=previous)
    report['command'] = ' '.join(['./scripts/benchmark.sh'] + list(sys.argv[1:] if argv is None else argv))
    os.makedirs(args.results_dir, exist_ok=True)
    results = os.path.join(args.results_dir, 'latest.json')
    with open(results, 'w') as handle:
        json.dump(report, handle, indent=1, sort_keys=True)
    sys.stdout.write(bench_render.render_text(report))
    if args.out != '-':
        with open(args.out, 'w') as handle:
            handle.write(bench_render.render_markdown(report))
        log('wrote %s and %s' % (os.path.relpath(args.out, ROOT), os.path.relpath(results, ROOT)))
    missed = [t['id'] for t in report['targets'] if t['status'] == 'missed']
    if missed:
        log('targets missed: %s (causes in the report)' % ', '.join(missed))
    return 1 if missed and args.strict else 0


if __name__ == '__main__':
    sys.exit(main())
