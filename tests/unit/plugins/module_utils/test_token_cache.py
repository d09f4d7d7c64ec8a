# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
import stat
import time

import pytest

from ansible_collections.imscloud.sharing.plugins.module_utils import token_cache as token_cache_module
from ansible_collections.imscloud.sharing.plugins.module_utils.token_cache import TokenCache

KEY = 'a3f1' * 16
OTHER_KEY = 'b7c2' * 16
TOKEN = 'MIIatAYJKoZIhvcNAQcCoIIapTCC-token'


def record(token=TOKEN, **extra):
    data = {'token': token, 'expires_at': time.time() + 3600, 'project_id': '0' * 32,
            'endpoint': 'https://ims.example.test', 'catalog': [{'type': 'image', 'endpoints': []}]}
    data.update(extra)
    return data


class Warnings(list):
    def __call__(self, message):
        self.append(message)


@pytest.fixture
def warnings():
    return Warnings()


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / 'cache' / 'imscloud.sharing'


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_store_and_load_round_trip(cache_dir, warnings):
    cache = TokenCache(str(cache_dir), warn=warnings)
    assert cache.load(KEY) is None
    stored = record()
    cache.store(KEY, stored)
    assert cache.load(KEY) == stored
    assert TokenCache(str(cache_dir)).load(KEY) == stored      # another process reads the same file
    assert cache.load(OTHER_KEY) is None
    assert warnings == []


def test_directory_created_private_and_file_0600_even_with_a_permissive_umask(cache_dir):
    previous = os.umask(0)
    try:
        cache = TokenCache(str(cache_dir))
        cache.store(KEY, record())
    finally:
        os.umask(previous)
    assert mode_of(cache_dir) == 0o700
    assert mode_of(cache_dir / (KEY + '.json')) == 0o600
    assert os.listdir(str(cache_dir)) == [KEY + '.json']


def test_file_holds_the_record_as_json_and_nothing_more(cache_dir):
    TokenCache(str(cache_dir)).store(KEY, record())
    data = json.loads((cache_dir / (KEY + '.json')).read_text())
    assert sorted(data) == ['catalog', 'endpoint', 'expires_at', 'project_id', 'token']


@pytest.mark.parametrize('bad', ['password', 'secret_key', 'security_token', 'access_key'])
def test_records_with_credentials_are_refused(cache_dir, bad):
    with pytest.raises(ValueError, match=bad):
        TokenCache(str(cache_dir)).store(KEY, record(**{bad: 'x'}))
    assert not (cache_dir / (KEY + '.json')).exists()


@pytest.mark.parametrize('bad', [{'token': '', 'expires_at': 1.0}, {'token': 't'}, {'token': 't', 'expires_at': True},
                                 {'token': 5, 'expires_at': 1}, ['token'], {'token': 't', 'expires_at': 1.0},
                                 {'token': 't', 'expires_at': 1.0, 'project_id': ''}])
def test_invalid_records_are_refused(cache_dir, bad):
    with pytest.raises(ValueError):
        TokenCache(str(cache_dir)).store(KEY, bad)


@pytest.mark.parametrize('key', ['', '../escape', 'a/b', '.hidden', 'x' * 129])
def test_keys_cannot_leave_the_directory(cache_dir, key):
    cache = TokenCache(str(cache_dir))
    with pytest.raises(ValueError):
        cache.load(key)
    with pytest.raises(ValueError):
        cache.store(key, record())


def test_store_replaces_atomically_and_leaves_no_temporary_file(cache_dir, warnings, monkeypatch):
    cache = TokenCache(str(cache_dir), warn=warnings)
    cache.store(KEY, record('first'))
    inode = os.stat(str(cache_dir / (KEY + '.json'))).st_ino
    cache.store(KEY, record('second'))
    assert cache.load(KEY)['token'] == 'second'
    assert os.stat(str(cache_dir / (KEY + '.json'))).st_ino != inode      # a new file renamed over the old one
    assert os.listdir(str(cache_dir)) == [KEY + '.json']

    def failing_replace(_src, _dst):
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(token_cache_module.os, 'replace', failing_replace)
    cache.store(KEY, record('third'))
    monkeypatch.undo()
    assert cache.load(KEY)['token'] == 'second'                           # the old record is intact
    assert os.listdir(str(cache_dir)) == [KEY + '.json']
    assert warnings == ['could not write the token cache file %s: No space left on device' % (cache_dir / (KEY + '.json'))]


def test_drop(cache_dir, warnings):
    cache = TokenCache(str(cache_dir), warn=warnings)
    cache.store(KEY, record())
    cache.drop(KEY)
    assert cache.load(KEY) is None
    cache.drop(KEY)
    assert warnings == []


def test_drop_failure_warns(cache_dir, warnings):
    cache = TokenCache(str(cache_dir), warn=warnings)
    (cache_dir).mkdir(parents=True, mode=0o700)
    (cache_dir / (KEY + '.json')).mkdir()          # unlink() of a directory fails
    cache.drop(KEY)
    assert len(warnings) == 1 and warnings[0].startswith('could not remove the token cache file')


def test_group_or_world_writable_directory_is_refused(cache_dir, warnings):
    cache_dir.mkdir(parents=True)
    os.chmod(str(cache_dir), 0o777)
    cache = TokenCache(str(cache_dir), warn=warnings)
    cache.store(KEY, record())
    assert cache.load(KEY) is None
    assert os.listdir(str(cache_dir)) == []
    with cache.lock(KEY) as held:
        assert held is False
    assert os.listdir(str(cache_dir)) == []
    assert warnings == ['token cache disabled: the directory %s is group- or world-writable (mode 0777); run chmod 700 on it'
                        % cache_dir]                                           # warned once


def test_existing_private_but_readable_directory_is_accepted(cache_dir):
    cache_dir.mkdir(parents=True)
    os.chmod(str(cache_dir), 0o755)
    cache = TokenCache(str(cache_dir))
    cache.store(KEY, record())
    assert cache.load(KEY)['token'] == TOKEN


def test_directory_of_another_user_is_refused(cache_dir, warnings, monkeypatch):
    cache_dir.mkdir(parents=True, mode=0o700)
    other_uid = os.geteuid() + 1
    monkeypatch.setattr(os, 'geteuid', lambda: other_uid)
    cache = TokenCache(str(cache_dir), warn=warnings)
    assert cache.load(KEY) is None
    assert cache.usable is False
    assert warnings == ['token cache disabled: the directory %s is owned by uid %d, not by the current user (uid %d)'
                        % (cache_dir, other_uid - 1, other_uid)]


def test_directory_that_cannot_be_created(tmp_path, warnings):
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    cache = TokenCache(str(blocker / 'cache'), warn=warnings)
    cache.store(KEY, record())
    cache.drop(KEY)
    assert cache.load(KEY) is None
    assert len(warnings) == 1
    assert warnings[0].startswith('token cache disabled: cannot create the directory %s: ' % (blocker / 'cache'))


@pytest.mark.parametrize('mode', [0o640, 0o604, 0o660, 0o666])
def test_file_readable_or_writable_by_others_is_ignored(cache_dir, warnings, mode):
    cache = TokenCache(str(cache_dir), warn=warnings)
    cache.store(KEY, record())
    os.chmod(str(cache_dir / (KEY + '.json')), mode)
    assert cache.load(KEY) is None
    assert warnings == ['ignoring the token cache file %s: accessible to group or others (mode %04o, expected 0600)'
                        % (cache_dir / (KEY + '.json'), mode)]
    assert TOKEN not in warnings[0]


def test_file_of_another_user_is_ignored(cache_dir, warnings, monkeypatch):
    cache = TokenCache(str(cache_dir), warn=warnings)
    cache.store(KEY, record())
    assert cache.usable
    real_uid = os.geteuid()
    monkeypatch.setattr(os, 'geteuid', lambda: real_uid + 1)
    assert cache.load(KEY) is None
    assert warnings == ['ignoring the token cache file %s: owned by uid %d, not by the current user (uid %d)'
                        % (cache_dir / (KEY + '.json'), real_uid, real_uid + 1)]


@pytest.mark.parametrize('content', [b'{"token": "abc", "expires_at": 1', b'\xff\xfe', b'[1, 2]',
                                     b'{"token": "", "expires_at": 1}', b'{"expires_at": 1}'])
def test_corrupt_file_is_ignored_with_a_warning(cache_dir, warnings, content):
    cache = TokenCache(str(cache_dir), warn=warnings)
    cache.store(KEY, record())
    path = cache_dir / (KEY + '.json')
    path.write_bytes(content)
    assert cache.load(KEY) is None
    assert len(warnings) == 1
    assert warnings[0].startswith('ignoring the token cache file %s: ' % path)
    assert warnings[0].endswith('(corrupt)')
    cache.store(KEY, record())                  # the next store repairs it
    assert cache.load(KEY)['token'] == TOKEN


def test_oversized_file_is_ignored(cache_dir, warnings, monkeypatch):
    monkeypatch.setattr(token_cache_module, 'MAX_RECORD_BYTES', 64)
    cache = TokenCache(str(cache_dir), warn=warnings)
    cache.store(KEY, record(catalog=['x' * 100]))
    assert cache.load(KEY) is None
    assert warnings == ['ignoring the token cache file %s: larger than 64 bytes' % (cache_dir / (KEY + '.json'))]


def test_symlink_is_not_followed(cache_dir, tmp_path, warnings):
    cache = TokenCache(str(cache_dir), warn=warnings)
    cache.store(OTHER_KEY, record('elsewhere'))
    os.symlink(str(cache_dir / (OTHER_KEY + '.json')), str(cache_dir / (KEY + '.json')))
    assert cache.load(KEY) is None
    assert len(warnings) == 1 and warnings[0].startswith('ignoring the token cache file %s: ' % (cache_dir / (KEY + '.json')))


@pytest.mark.parametrize('make', [lambda path: os.mkdir(path, 0o700), lambda path: os.mkfifo(path, 0o600)])
def test_non_regular_file_is_ignored(cache_dir, warnings, make):
    cache = TokenCache(str(cache_dir), warn=warnings)
    assert cache.usable
    make(str(cache_dir / (KEY + '.json')))
    assert cache.load(KEY) is None
    assert warnings == ['ignoring the token cache file %s: not a regular file' % (cache_dir / (KEY + '.json'))]


def test_lock_is_exclusive_and_released(cache_dir, warnings):
    cache = TokenCache(str(cache_dir), warn=warnings, lock_timeout=0.3)
    lock_path = str(cache_dir / (KEY + '.lock'))
    with cache.lock(KEY) as held:
        assert held is True
        assert mode_of(lock_path) == 0o600
        # flock conflicts between two open file descriptions, even in one process
        probe = os.open(lock_path, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(probe)
        with cache.lock(OTHER_KEY) as other:
            assert other is True                # keys lock independently
    probe = os.open(lock_path, os.O_RDWR)
    try:
        fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(probe)
    assert warnings == []


def test_lock_released_when_the_body_raises(cache_dir):
    cache = TokenCache(str(cache_dir), lock_timeout=0.2)
    with pytest.raises(RuntimeError):
        with cache.lock(KEY):
            raise RuntimeError('token request failed')
    with cache.lock(KEY) as held:
        assert held is True


def test_lock_timeout_goes_on_without_the_lock(cache_dir, warnings):
    cache = TokenCache(str(cache_dir), warn=warnings, lock_timeout=0.2)
    assert cache.usable
    holder = os.open(str(cache_dir / (KEY + '.lock')), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        started = time.monotonic()
        with cache.lock(KEY) as held:
            waited = time.monotonic() - started
            assert held is False
    finally:
        os.close(holder)
    assert 0.2 <= waited < 2
    assert warnings == ['token cache lock %s not acquired within 0.2 seconds; continuing without it' % (cache_dir / (KEY + '.lock'))]


def test_lock_file_that_cannot_be_opened(cache_dir, warnings):
    cache = TokenCache(str(cache_dir), warn=warnings)
    assert cache.usable
    os.symlink(str(cache_dir / 'elsewhere'), str(cache_dir / (KEY + '.lock')))     # O_NOFOLLOW refuses it
    with cache.lock(KEY) as held:
        assert held is False
    assert len(warnings) == 1 and warnings[0].startswith('token cache lock unavailable (%s: ' % (cache_dir / (KEY + '.lock')))


def test_lock_error_other_than_contention(cache_dir, warnings, monkeypatch):
    cache = TokenCache(str(cache_dir), warn=warnings)

    def broken_flock(_fd, _operation):
        raise OSError(9, 'Bad file descriptor')
    monkeypatch.setattr(token_cache_module.fcntl, 'flock', broken_flock)
    with cache.lock(KEY) as held:
        assert held is False
    assert warnings == ['token cache lock unavailable (%s: Bad file descriptor); continuing without it'
                        % (cache_dir / (KEY + '.lock'))]


def _create_token_once(directory, log_path, start_at):
    """What the client does: lock -> load -> create when missing -> store -> unlock."""
    while time.time() < start_at:
        time.sleep(0.001)
    cache = TokenCache(directory, lock_timeout=30)
    with cache.lock(KEY) as held:
        if not held:
            raise SystemExit(3)
        if cache.load(KEY) is None:
            with open(log_path, 'a') as log:
                log.write('created by %d\n' % os.getpid())
            time.sleep(0.2)                        # a slow token request
            cache.store(KEY, record('token-from-%d' % os.getpid()))


def test_concurrent_processes_create_the_token_once(cache_dir, tmp_path):
    log_path = str(tmp_path / 'created.log')
    context = multiprocessing.get_context('fork')
    start_at = time.time() + 0.5
    workers = [context.Process(target=_create_token_once, args=(str(cache_dir), log_path, start_at)) for worker_number in range(4)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(20)
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.kill()
                worker.join(5)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
    with open(log_path) as log:
        creations = log.read().splitlines()
    assert len(creations) == 1
    creator = int(creations[0].split()[-1])
    assert TokenCache(str(cache_dir)).load(KEY)['token'] == 'token-from-%d' % creator


def test_a_record_without_a_project_on_disk_is_ignored_by_the_one_shape_check(cache_dir):
    """token_cache.valid_record is the shape check the token provider uses too: what one refuses, so does the other."""
    import json as jsonlib
    from ansible_collections.imscloud.sharing.plugins.module_utils.token_cache import valid_record
    warnings = []
    cache = TokenCache(str(cache_dir), warn=warnings.append)
    cache.store(KEY, record())
    path = os.path.join(str(cache_dir), KEY + '.json')
    data = jsonlib.loads(open(path).read())
    del data['project_id']
    with open(path, 'w') as handle:
        handle.write(jsonlib.dumps(data))
    assert cache.load(KEY) is None and not valid_record(data)
    assert warnings == ['ignoring the token cache file %s: not a token record (corrupt)' % path]
