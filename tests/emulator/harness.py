# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start, control and stop the IMS + IAM emulator (tests/emulator/server.py) from Python or a shell.

Python::

    with Emulator(seed='tests/emulator/seeds/test.yml') as emu:
        emu.configure(job_duration=0.2)
        ... requests against emu.url ...

Shell (used by scripts/test.sh)::

    URL=$(python tests/emulator/harness.py start --seed F --pidfile P [--mode glance] [--max-lifetime S])
    python tests/emulator/harness.py stop --pidfile P

Only the standard library and requests are used, so any interpreter with requests can drive it.
"""

import argparse
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
import weakref

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, 'server.py')
TEST_SEED = os.path.join(HERE, 'seeds', 'test.yml')
DEMO_SEED = os.path.join(HERE, 'seeds', 'demo.yml')


class EmulatorError(RuntimeError):
    """The emulator did not start, or a control call failed."""


def _terminate(process, timeout=10.0):
    """SIGTERM, then SIGKILL after timeout. Returns the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
    return process.returncode


class Emulator(object):
    """A running emulator process (started by the constructor) plus its control API.

    seed: seed YAML path (default: seeds/test.yml). mode: 'otc' or 'glance'.
    tls: (cert_file, key_file) to serve HTTPS; ca_cert: CA bundle used to verify it for the control calls.
    extra_args: more server.py arguments (e.g. ['--job-duration', '0.2']).
    max_lifetime: the process exits by itself after this many seconds, even if nobody stops it.
    """

    def __init__(self, seed=None, mode='otc', tls=None, extra_args=(), max_lifetime=600, ca_cert=None,
                 startup_timeout=20.0, python=None):
        self.seed = os.path.abspath(seed or TEST_SEED)
        self.mode = mode
        command = [python or sys.executable, SERVER, '--seed', self.seed, '--port', '0', '--mode', mode,
                   '--max-lifetime', str(max_lifetime)]
        self.verify = True
        if tls:
            command += ['--tls-cert', str(tls[0]), '--tls-key', str(tls[1])]
            self.verify = str(ca_cert) if ca_cert else False
        command += [str(arg) for arg in extra_args]
        self._log = tempfile.TemporaryFile(mode='w+b')
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._log, stdin=subprocess.DEVNULL)
        self._finalizer = weakref.finalize(self, _terminate, self.process, 5.0)
        self.session = requests.Session()
        self.url = self._read_url(startup_timeout)

    def _read_url(self, timeout):
        lines = queue.Queue()
        reader = threading.Thread(target=lambda: lines.put(self.process.stdout.readline()), daemon=True)
        reader.start()
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            line = b''
        url = line.decode('utf-8', 'replace').strip()
        if not url.startswith(('http://', 'https://')):
            _terminate(self.process)
            raise EmulatorError('emulator did not start (exit code %s): %s' % (self.process.returncode, self.log_text()))
        return url

    # -- process
    @property
    def pid(self):
        return self.process.pid

    def log_text(self):
        """Everything the server wrote to stderr so far."""
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode('utf-8', 'replace')

    def stop(self, timeout=10.0):
        """Stop the process (SIGTERM, then SIGKILL). Returns its exit code. Safe to call twice."""
        code = _terminate(self.process, timeout)
        self._finalizer.detach()
        self.session.close()
        if self.process.stdout:
            self.process.stdout.close()
        return code

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()

    # -- control API
    def control(self, method, path, payload=None):
        with warnings.catch_warnings():
            # verify=False only when TLS is on and no CA was given: the warning would just be noise here.
            warnings.simplefilter('ignore')
            response = self.session.request(method, self.url + '/_emulator' + path, json=payload, verify=self.verify, timeout=30)
        if response.status_code != 200:
            raise EmulatorError('%s /_emulator%s -> %s %s' % (method, path, response.status_code, response.text))
        return response.json()

    def health(self):
        return self.control('GET', '/health')

    def reset(self, seed=None):
        """Re-seed (from the start seed, a seed file path, or a seed mapping); clears stats, faults, tokens, settings."""
        if seed is None:
            payload = {}
        elif isinstance(seed, dict):
            payload = {'seed': seed}
        else:
            payload = {'seed_file': os.path.abspath(str(seed))}
        return self.control('POST', '/reset', payload)

    def state(self):
        return self.control('GET', '/state')

    def stats(self):
        return self.control('GET', '/stats')

    def reset_stats(self):
        return self.control('POST', '/stats/reset', {})

    def set_faults(self, rules):
        """rules: a list of rule mappings (or {"rules": [...]}); replaces the current rules."""
        payload = rules if isinstance(rules, dict) else {'rules': list(rules)}
        return self.control('POST', '/faults', payload)

    def clear_faults(self):
        return self.control('DELETE', '/faults')

    def configure(self, **settings):
        return self.control('POST', '/config', settings)

    def config(self):
        return self.control('GET', '/config')

    def add_images(self, images=(), families=()):
        """Add images (seed entries) and image families (seed image_families entries) without a reset; returns the ids."""
        return self.control('POST', '/images', {'images': list(images), 'families': list(families)})['ids']

    def revoke_tokens(self, user=None):
        return self.control('POST', '/tokens/revoke', {'all': True} if user is None else {'user': user})


# ---------------------------------------------------------------- CLI: a detached emulator for shell scripts

def _process_alive(pid):
    try:
        with open('/proc/%d/status' % pid) as handle:
            for line in handle:
                if line.startswith('State:'):
                    return 'Z' not in line.split(':', 1)[1].split()[0]
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _is_emulator(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            cmdline = handle.read()
    except OSError:
        return _process_alive(pid)
    return SERVER.encode() in cmdline or b'emulator/server.py' in cmdline


def cli_start(args):
    log_path = args.log or args.pidfile + '.log'
    command = [sys.executable, SERVER, '--seed', os.path.abspath(args.seed), '--port', str(args.port), '--mode', args.mode,
               '--max-lifetime', str(args.max_lifetime)]
    with open(log_path, 'wb') as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + args.timeout
    url = ''
    while time.monotonic() < deadline:
        with open(log_path, 'rb') as log:
            first = log.readline().decode('utf-8', 'replace')
        if first.endswith('\n') and first.startswith(('http://', 'https://')):
            url = first.strip()
            break
        if process.poll() is not None:
            break
        time.sleep(0.05)
    if not url:
        if process.poll() is None:
            process.kill()
            process.wait()
        with open(log_path, 'rb') as log:
            sys.stderr.write('emulator did not start:\n%s\n' % log.read().decode('utf-8', 'replace'))
        return 1
    with open(args.pidfile, 'w') as handle:
        handle.write('%d\n' % process.pid)
    sys.stdout.write(url + '\n')
    return 0


def cli_stop(args):
    try:
        with open(args.pidfile) as handle:
            pid = int(handle.read().strip())
    except (OSError, ValueError):
        sys.stderr.write('no emulator pid in %s\n' % args.pidfile)
        return 0
    if _process_alive(pid) and _is_emulator(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + args.timeout
        while _process_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _process_alive(pid):
            os.kill(pid, signal.SIGKILL)
    os.remove(args.pidfile)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description='Start or stop a detached IMS + IAM emulator.')
    commands = parser.add_subparsers(dest='command', required=True)
    start = commands.add_parser('start', help='start an emulator in the background and print its URL')
    start.add_argument('--seed', default=TEST_SEED)
    start.add_argument('--pidfile', required=True)
    start.add_argument('--mode', choices=('otc', 'glance'), default='otc')
    start.add_argument('--port', type=int, default=0)
    start.add_argument('--max-lifetime', type=float, default=3600.0)
    start.add_argument('--log', help='server log file (default: PIDFILE.log)')
    start.add_argument('--timeout', type=float, default=20.0)
    stop = commands.add_parser('stop', help='stop the emulator recorded in the pid file')
    stop.add_argument('--pidfile', required=True)
    stop.add_argument('--timeout', type=float, default=10.0)
    args = parser.parse_args(argv)
    return cli_start(args) if args.command == 'start' else cli_stop(args)


if __name__ == '__main__':
    sys.exit(main())
