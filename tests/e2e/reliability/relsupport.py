# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared helpers of the reliability suite: seed facts, real ansible-playbook runs, emulator state readers and the
figures report (docs/reliability.md is rendered from it by write_report.py)."""

import collections
import copy
import fcntl
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import yaml

from harness import TEST_SEED as SEED_FILE  # tests/emulator is on sys.path: tests/e2e/conftest.py

ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
PLAYBOOK_TIMEOUT = 300
# Each test appends one JSON line of figures to this file (when set); write_report.py renders them.
REPORT_ENV = 'IMS_RELIABILITY_REPORT'
# Settings of this machine that would change what a playbook run does (credentials, CA bundles).
FOREIGN_ENV_PREFIXES = ('OS_', 'ANSIBLE_')
FOREIGN_ENV = ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'XDG_CACHE_HOME',
               'IMSCLOUD_SHARING_CACHE_DIR', 'AWX_HOST', 'TOWER_HOST')

with open(SEED_FILE, encoding='utf-8') as _handle:
    SEED = yaml.safe_load(_handle)
DOMAIN = SEED['domains'][0]['name']
PROJECT = dict((project['name'], project['id']) for project in SEED['projects'])
USERS = dict((user['name'], user) for user in SEED['users'])
IMAGE = {}
for _image in SEED['images']:
    IMAGE.setdefault(_image['name'], _image['id'])
CONSUMER_PROJECT = PROJECT['eu-de_consumer']
CONSUMER2_PROJECT = PROJECT['eu-de_consumer2']
OTHER_PROJECT = PROJECT['eu-de_other']
TOKEN_ROUTE = 'POST /v3/auth/tokens'
BATCH_ROUTES = ('POST /v1/cloudimages/members', 'PUT /v1/cloudimages/members', 'DELETE /v1/cloudimages/members')
JOB_ROUTE = 'GET /v1/{project_id}/jobs/{job_id}'
# module_defaults of a play go to the collection's action group (meta/runtime.yml)
MODULE_GROUP = 'group/imscloud.sharing.ims'


def password_auth(url, user_name):
    """auth for a seed user, scoped to the user's first project."""
    user = USERS[user_name]
    return {'auth_url': url + '/v3', 'username': user_name, 'password': user['password'], 'user_domain_name': DOMAIN,
            'project_id': PROJECT[user['projects'][0]]}


def seed_with(members=(), users=None, projects=None):
    """The test seed plus memberships [(image name, project name, status)], optionally other users or projects."""
    seed = copy.deepcopy(SEED)
    seed['members'] = [{'image': IMAGE[image], 'project': project, 'status': status} for image, project, status in members]
    if users is not None:
        seed['users'] = users
    if projects is not None:
        seed['projects'] = projects
    return seed


def memberships(state, image_ids=None):
    """{image_id: {member_id: status}} of the emulator state (images without members are left out)."""
    result = {}
    for member in state['members']:
        if image_ids is None or member['image_id'] in image_ids:
            result.setdefault(member['image_id'], {})[member['member_id']] = member['status']
    return result


def job_pairs(state):
    """Counter of (job_type, image_id, project_id) over every job the emulator accepted."""
    pairs = collections.Counter()
    for job in state['jobs'].values():
        request = job.get('request') or {}
        projects = request.get('projects') or [job.get('project_id')]
        for image_id in request.get('images') or []:
            for project_id in projects:
                pairs[(job['job_type'], image_id, project_id)] += 1
    return pairs


def wait_for_jobs(emu, timeout=30.0):
    """Block until no job of the emulator is INIT or RUNNING; returns the state."""
    deadline = time.monotonic() + timeout
    while True:
        state = emu.state()
        if all(job['status'] in ('SUCCESS', 'FAIL') for job in state['jobs'].values()):
            return state
        if time.monotonic() > deadline:
            raise AssertionError('emulator jobs still running after %s s: %s' % (timeout, state['jobs']))
        time.sleep(0.1)


def play(tasks, module_defaults=None, hosts='localhost', **keywords):
    """One play (a dict) with the given tasks; module_defaults apply to the collection's action group."""
    result = {'name': 'reliability', 'hosts': hosts, 'gather_facts': False, 'tasks': list(tasks)}
    if module_defaults:
        result['module_defaults'] = {MODULE_GROUP: module_defaults}
    result.update(keywords)
    return result


class PlaybookRun(object):
    """The outcome of one ansible-playbook run."""

    def __init__(self, completed, results, elapsed):
        self.returncode = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.results = results
        self.elapsed = elapsed

    @property
    def output(self):
        return self.stdout + self.stderr

    def recap(self, host='localhost'):
        """{'ok': n, 'changed': n, 'failed': n, ...} of one host in the PLAY RECAP."""
        lines = [text for text in self.stdout.splitlines() if text.split(' ', 1)[0] == host and 'ok=' in text]
        assert lines, 'no PLAY RECAP line for %s in:\n%s' % (host, self.output[-4000:])
        return dict((key, int(value)) for key, value in re.findall(r'(\w+)=(\d+)', lines[-1]))

    def describe(self):
        return 'rc=%s\n--- stdout (tail)\n%s\n--- stderr (tail)\n%s' % (self.returncode, self.stdout[-6000:], self.stderr[-3000:])


class Workspace(object):
    """A private directory per test: playbooks, the token cache, the Ansible log and the registered results."""

    def __init__(self, path):
        self.path = str(path)
        self.cache_dir = os.path.join(self.path, 'token-cache')
        self.log_path = os.path.join(self.path, 'ansible.log')
        self.runs = 0

    def env(self, **extra):
        """The environment of a run: none of this machine's OS_*/ANSIBLE_* settings, a private cache and HOME."""
        env = dict((key, value) for key, value in os.environ.items()
                   if not key.startswith(FOREIGN_ENV_PREFIXES) and key not in FOREIGN_ENV)
        env.update({
            'ANSIBLE_COLLECTIONS_PATH': os.environ['ANSIBLE_COLLECTIONS_PATH'],
            'IMSCLOUD_SHARING_CACHE_DIR': self.cache_dir,
            'HOME': self.path,
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_RETRY_FILES_ENABLED': '0',
            'ANSIBLE_LOCALHOST_WARNING': '0',
            'ANSIBLE_INVENTORY_UNPARSED_WARNING': '0',
            'ANSIBLE_LOCAL_TEMP': os.path.join(self.path, 'ansible-tmp'),
            'ANSIBLE_REMOTE_TEMP': os.path.join(self.path, 'ansible-remote-tmp'),
            'PYTHONDONTWRITEBYTECODE': '1',
        })
        env.update(extra)
        return env

    def _write(self, plays, collect):
        """Write the playbook of the next run; returns (playbook path, path of the saved results)."""
        self.runs += 1
        plays = copy.deepcopy(plays if isinstance(plays, list) else [plays])
        results_path = os.path.join(self.path, 'results-%d.json' % self.runs)
        if collect:
            content = '{{ {%s} | to_json }}' % ', '.join("'%s': %s" % (name, name) for name in collect)
            plays[-1]['tasks'].append({'name': 'Save the registered results',
                                       'ansible.builtin.copy': {'content': content, 'dest': results_path, 'mode': '0600'}})
        playbook = os.path.join(self.path, 'playbook-%d.yml' % self.runs)
        with open(playbook, 'w', encoding='utf-8') as handle:
            yaml.safe_dump(plays, handle, allow_unicode=True, sort_keys=False)
        return playbook, results_path

    def start(self, plays):
        """Start ansible-playbook in a process group of its own (the whole controller: its workers and modules) and
        return the Popen; the caller kills or waits for it (os.killpg(process.pid, ...))."""
        playbook, _results_path = self._write(plays, ())
        with open(playbook[:-len('.yml')] + '.output', 'w', encoding='utf-8') as output:
            return subprocess.Popen([ANSIBLE_PLAYBOOK, playbook], cwd=self.path, env=self.env(), stdout=output,
                                    stderr=subprocess.STDOUT, start_new_session=True)

    def run(self, plays, collect=(), env=None, args=(), timeout=PLAYBOOK_TIMEOUT, prefix=()):
        """Run the plays with ansible-playbook; the results registered under the names in collect are saved by a last
        task and returned as run.results ({name: result}, or None when the play stopped before)."""
        playbook, results_path = self._write(plays, collect)
        started = time.monotonic()
        completed = subprocess.run(list(prefix) + [ANSIBLE_PLAYBOOK, playbook] + list(args), cwd=self.path,
                                   env=env if env is not None else self.env(), capture_output=True, text=True,
                                   timeout=timeout, check=False)
        elapsed = time.monotonic() - started
        # kept next to the playbook for whoever investigates a failure
        for stream, text in (('stdout', completed.stdout), ('stderr', completed.stderr)):
            with open(os.path.join(self.path, 'playbook-%d.%s' % (self.runs, stream)), 'w', encoding='utf-8') as handle:
                handle.write(text)
        results = None
        if collect and os.path.isfile(results_path):
            with open(results_path, encoding='utf-8') as handle:
                results = json.load(handle)
        return PlaybookRun(completed, results, elapsed)


class SyslogCapture(object):
    """The system log of the processes of one command, received on a socket of this test (the real syslog path).

    The command runs in a private mount namespace (unshare -m) whose /dev is a copy of the real one (links to its
    entries) plus 'log': a unix datagram socket this object reads. ansible-core's modules write their 'Invoked with'
    line with syslog(3) (journald only when python-systemd is installed, which it is not here), so every line they
    log lands in self.messages, and nothing of the host's /dev changes. Needs root and unshare(1).
    """

    SCRIPT = 'mount --rbind /dev "$0" && mount --bind "$1" /dev && shift && exec "$@"'

    def __init__(self):
        self.directory = tempfile.mkdtemp(prefix='imscloud-syslog-')
        self.real_dev = os.path.join(self.directory, 'realdev')
        self.dev = os.path.join(self.directory, 'dev')
        os.mkdir(self.real_dev)
        os.mkdir(self.dev)
        for name in os.listdir('/dev'):
            source = os.path.join('/dev', name)
            target = os.readlink(source) if os.path.islink(source) else os.path.join(self.real_dev, name)
            os.symlink(target, os.path.join(self.dev, name))
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(os.path.join(self.dev, 'log'))
        self.socket.settimeout(0.2)
        self.messages = []
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @staticmethod
    def available():
        return os.geteuid() == 0 and shutil.which('unshare') is not None

    @property
    def prefix(self):
        """What to put before a command so that it logs here."""
        return ['unshare', '-m', '--propagation', 'private', 'sh', '-c', self.SCRIPT, self.real_dev, self.dev]

    def _read(self):
        while True:
            try:
                self.messages.append(self.socket.recv(1 << 20))
            except socket.timeout:
                if self._stop.is_set():   # the queue is drained: every datagram sent before close() was read
                    return
            except OSError:
                return

    def close(self):
        """Stop reading (after draining what was sent) and remove the socket and the /dev copy."""
        self._stop.set()
        self._reader.join(5)
        self.socket.close()
        shutil.rmtree(self.directory, ignore_errors=True)
        return b'\n'.join(self.messages)


def secret_forms(secret):
    """Every way a secret may be written: raw, JSON-escaped, repr-escaped (e.g. inside str() of a dict), URL-encoded."""
    from urllib.parse import quote, quote_plus
    forms = [secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1], repr(secret)[1:-1],
             quote(secret, safe=''), quote_plus(secret)]
    return sorted(set(form.encode('utf-8') for form in forms))


def record_figures(section, **figures):
    """Append the figures of one test to the report file named by $IMS_RELIABILITY_REPORT (xdist-safe)."""
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    entry = dict(figures, section=section)
    entry.setdefault('test', os.environ.get('PYTEST_CURRENT_TEST', '').split(' ')[0])
    line = json.dumps(entry, sort_keys=True) + '\n'
    with open(path, 'a', encoding='utf-8') as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.write(line)
            handle.flush()
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
