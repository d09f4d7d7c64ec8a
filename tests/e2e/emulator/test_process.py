# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator process: concurrency, SIGTERM, --max-lifetime, TLS, the harness CLI, start-up errors."""

import os
import subprocess
import sys
import threading

import pytest
import requests

from emutest import EMULATOR_DIR, IMAGES, TEST_SEED, Cloud

from harness import Emulator, EmulatorError

HARNESS = os.path.join(EMULATOR_DIR, 'harness.py')
SERVER = os.path.join(EMULATOR_DIR, 'server.py')


def process_gone(pid):
    """True when pid no longer runs (absent, or a zombie waiting for init to reap it)."""
    try:
        with open('/proc/%d/status' % pid) as handle:
            states = [line.split()[1] for line in handle if line.startswith('State:')]
    except OSError:
        return True
    return states == ['Z']


def test_holds_50_concurrent_connections(cloud):
    cloud.emulator.configure(latency={'IMS': {'fixed': 0.5, 'jitter': 0.0}})
    token = cloud.token('owner')
    url = cloud.url + '/v2/images/%s/members' % IMAGES['shareable-01']
    barrier = threading.Barrier(50)
    results = []

    def one_call():
        barrier.wait()
        # A new connection per call: requests.get does not pool across threads.
        response = requests.get(url, headers={'X-Auth-Token': token, 'Accept': 'application/json'}, timeout=30)
        results.append(response.status_code)

    threads = [threading.Thread(target=one_call) for _attempt in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [200] * 50
    # The latency sleeps overlap outside the lock: all 50 calls were in flight at once (not serialised).
    stats = cloud.emulator.stats()
    assert stats['max_in_flight'] == 50
    assert stats['requests']['GET /v2/images/{image_id}/members'] == 50


def test_parallel_writes_are_consistent(cloud):
    token = cloud.token('owner')
    image = IMAGES['full-ecs-image']  # quota 10: exactly ten of the 30 parallel adds may succeed
    codes = []

    def add(n):
        response = requests.post(cloud.url + '/v2/images/%s/members' % image, json={'member': '%032x' % n},
                                 headers={'X-Auth-Token': token, 'Accept': 'application/json'}, timeout=30)
        codes.append(response.status_code)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(1, 31)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(codes) == [200] * 10 + [413] * 20
    assert len(cloud.member_rows(image)) == 10


def test_sigterm_stops_cleanly():
    emulator = Emulator(seed=TEST_SEED, max_lifetime=60)
    assert emulator.health()['ok'] is True
    assert emulator.stop() == 0
    assert 'Traceback' not in emulator.log_text()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(emulator.url + '/_emulator/health', timeout=2)


def test_max_lifetime_ends_the_process():
    emulator = Emulator(seed=TEST_SEED, max_lifetime=1)
    try:
        # the process ends by itself (wait raises if it has not within 10 s), and says why
        assert emulator.process.wait(timeout=10) == 0
        assert 'max-lifetime' in emulator.log_text()
    finally:
        emulator.stop()


def test_tls(tmp_path):
    trustme = pytest.importorskip('trustme')
    authority = trustme.CA()
    server_cert = authority.issue_cert('127.0.0.1', 'localhost')
    cert, key, ca = tmp_path / 'cert.pem', tmp_path / 'key.pem', tmp_path / 'ca.pem'
    server_cert.private_key_and_cert_chain_pem.write_to_path(str(cert))
    server_cert.private_key_pem.write_to_path(str(key))
    authority.cert_pem.write_to_path(str(ca))
    with Emulator(seed=TEST_SEED, tls=(cert, key), ca_cert=ca, max_lifetime=60) as emulator:
        assert emulator.url.startswith('https://127.0.0.1:')
        cloud = Cloud(emulator)
        token_response = cloud.issue({'auth': {'identity': {'methods': ['password'], 'password': {'user': {
            'name': 'owner-user', 'password': 'owner-password-1', 'domain': {'name': 'imscloud-test'}}}},
            'scope': {'project': {'name': 'eu-de_owner', 'domain': {'name': 'imscloud-test'}}}}})
        assert token_response.status_code == 201
        catalog = token_response.json()['token']['catalog']
        assert [e['endpoints'][0]['url'] for e in catalog if e['type'] == 'image'] == [emulator.url]
        assert cloud.get('/v2/images/' + IMAGES['shareable-01']).status_code == 200
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(emulator.url + '/_emulator/health', timeout=5)  # not trusted without the CA
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(emulator.url.replace('https://', 'http://') + '/_emulator/health', timeout=5)


def test_harness_cli_start_and_stop(tmp_path):
    pidfile = str(tmp_path / 'emulator.pid')
    started = subprocess.run([sys.executable, HARNESS, 'start', '--seed', TEST_SEED, '--pidfile', pidfile, '--mode', 'glance',
                              '--max-lifetime', '60'], capture_output=True, text=True, timeout=30, check=True)
    url = started.stdout.strip()
    assert url.startswith('http://127.0.0.1:') and len(started.stdout.splitlines()) == 1
    with open(pidfile) as handle:
        pid = int(handle.read())
    try:
        assert requests.get(url + '/_emulator/health', timeout=5).json()['mode'] == 'glance'
    finally:
        subprocess.run([sys.executable, HARNESS, 'stop', '--pidfile', pidfile], timeout=30, check=True)
    assert not os.path.exists(pidfile)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(url + '/_emulator/health', timeout=2)
    assert process_gone(pid)
    # Stopping again is harmless.
    assert subprocess.run([sys.executable, HARNESS, 'stop', '--pidfile', pidfile], timeout=30, check=False).returncode == 0


def test_bad_seed_fails_start_with_a_message(tmp_path):
    seed = tmp_path / 'bad.yml'
    seed.write_text('projects:\n  - {id: not-hex, name: p, domain: d}\n')
    with pytest.raises(EmulatorError, match='32 lower-case hex'):
        Emulator(seed=str(seed))


def test_refuses_non_loopback_host():
    result = subprocess.run([sys.executable, SERVER, '--seed', TEST_SEED, '--host', '0.0.0.0', '--max-lifetime', '5'],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2 and 'loopback' in result.stderr
