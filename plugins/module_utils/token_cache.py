# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

# On-disk token cache, one JSON file per cache key (ConnectionConfig.cache_key(): a hash, never a secret).
#
# The directory is private (0700, owned by the current user; created so, refused otherwise), files are 0600 and
# written atomically (temporary file + rename). A file that is not private, not ours, or not valid is ignored
# with a warning. lock(key) serializes token creation between processes (fcntl.flock on <key>.lock):
# lock -> load -> create the token if missing or near expiry -> store -> unlock.

import contextlib
import errno
import fcntl
import json
import os
import re
import stat
import tempfile
import time
from typing import Any, Callable, Dict, Iterator, Optional

_KEY = re.compile(r'^[A-Za-z0-9_-]{1,128}$')
# Never written to the cache: the file holds the token and nothing else secret.
FORBIDDEN_RECORD_KEYS = frozenset(('password', 'secret_key', 'security_token', 'access_key'))
MAX_RECORD_BYTES = 4 * 1024 * 1024
LOCK_TIMEOUT = 60.0
LOCK_POLL = 0.05


class TokenCache:
    """Token records on disk. record: {"token", "expires_at" (epoch seconds), "project_id", "endpoint", "catalog", ...}."""

    def __init__(self, directory: str, warn: Optional[Callable[[str], None]] = None, lock_timeout: float = LOCK_TIMEOUT) -> None:
        self.directory = os.path.abspath(directory)
        self.lock_timeout = lock_timeout
        self._warn = warn
        self._usable: Optional[bool] = None

    def warn(self, message: str) -> None:
        if self._warn is not None:
            self._warn(message)

    def _path(self, key: str, suffix: str) -> str:
        if not _KEY.match(key or ''):
            raise ValueError('token cache keys are hex digests; got an invalid key')
        return os.path.join(self.directory, key + suffix)

    @property
    def usable(self) -> bool:
        """True when the directory exists (or was created) private to the current user; checked once."""
        if self._usable is None:
            self._usable = self._prepare_directory()
        return self._usable

    def _prepare_directory(self) -> bool:
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            info = os.stat(self.directory)
        except OSError as exc:
            self.warn('token cache disabled: cannot create the directory %s: %s' % (self.directory, exc.strerror or exc))
            return False
        if info.st_uid != os.geteuid():
            self.warn('token cache disabled: the directory %s is owned by uid %d, not by the current user (uid %d)'
                      % (self.directory, info.st_uid, os.geteuid()))
            return False
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o022:
            self.warn('token cache disabled: the directory %s is group- or world-writable (mode %04o); run chmod 700 on it'
                      % (self.directory, mode))
            return False
        return True

    def load(self, key: str) -> Optional[Dict[str, Any]]:
        """The record stored under key; None when missing, corrupt, not private (0600), or owned by another user."""
        path = self._path(key, '.json')
        if not self.usable:
            return None
        try:
            # O_NONBLOCK: opening a FIFO planted here must not hang; it is refused below as not a regular file.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, 'O_NOFOLLOW', 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            self.warn('ignoring the token cache file %s: %s' % (path, exc.strerror or exc))
            return None
        problem = self._file_problem(os.fstat(fd))
        if problem:
            os.close(fd)
            self.warn('ignoring the token cache file %s: %s' % (path, problem))
            return None
        with os.fdopen(fd, 'rb') as handle:
            data = handle.read(MAX_RECORD_BYTES + 1)
        if len(data) > MAX_RECORD_BYTES:
            self.warn('ignoring the token cache file %s: larger than %d bytes' % (path, MAX_RECORD_BYTES))
            return None
        try:
            record = json.loads(data.decode('utf-8'))
        except ValueError:
            self.warn('ignoring the token cache file %s: not valid JSON (corrupt)' % path)
            return None
        if not valid_record(record):
            self.warn('ignoring the token cache file %s: not a token record (corrupt)' % path)
            return None
        return record

    @staticmethod
    def _file_problem(info: os.stat_result) -> Optional[str]:
        if not stat.S_ISREG(info.st_mode):
            return 'not a regular file'
        if info.st_uid != os.geteuid():
            return 'owned by uid %d, not by the current user (uid %d)' % (info.st_uid, os.geteuid())
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            return 'accessible to group or others (mode %04o, expected 0600)' % mode
        return None

    def store(self, key: str, record: Dict[str, Any]) -> None:
        """Write the record atomically (temporary file + rename), mode 0600. A failure to write only warns."""
        path = self._path(key, '.json')
        if not valid_record(record):
            raise ValueError('a token record needs "token" (a non-empty string), "expires_at" (epoch seconds) and "project_id"')
        forbidden = sorted(FORBIDDEN_RECORD_KEYS.intersection(record))
        if forbidden:
            raise ValueError('a token record must not hold %s' % ', '.join(forbidden))
        if not self.usable:
            return
        data = json.dumps(record, sort_keys=True).encode('utf-8')
        tmp_path = None
        try:
            fd, tmp_path = tempfile.mkstemp(prefix='.%s.' % key, suffix='.tmp', dir=self.directory)
            with os.fdopen(fd, 'wb') as handle:
                os.fchmod(handle.fileno(), 0o600)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_path, path)
            tmp_path = None
        except OSError as exc:
            self.warn('could not write the token cache file %s: %s' % (path, exc.strerror or exc))
        finally:
            if tmp_path is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_path)

    def drop(self, key: str) -> None:
        """Forget the record (for a token the service rejected)."""
        path = self._path(key, '.json')
        if not self.usable:
            return
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            self.warn('could not remove the token cache file %s: %s' % (path, exc.strerror or exc))

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[bool]:
        """Exclusive inter-process lock for key. Yields True while held; False when running without it
        (directory unusable, or not acquired within lock_timeout seconds: then it warns and goes on unlocked)."""
        path = self._path(key, '.lock')
        fd = self._open_lock_file(path) if self.usable else None
        if fd is None:
            yield False
            return
        try:
            held = self._acquire(fd, path)
            try:
                yield held
            finally:
                if held:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _open_lock_file(self, path: str) -> Optional[int]:
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, 'O_NOFOLLOW', 0), 0o600)
        except OSError as exc:
            self.warn('token cache lock unavailable (%s: %s); continuing without it' % (path, exc.strerror or exc))
            return None

    def _acquire(self, fd: int, path: str) -> bool:
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                    self.warn('token cache lock unavailable (%s: %s); continuing without it' % (path, exc.strerror or exc))
                    return False
            if time.monotonic() >= deadline:
                self.warn('token cache lock %s not acquired within %g seconds; continuing without it' % (path, self.lock_timeout))
                return False
            time.sleep(LOCK_POLL)


def valid_record(record: Any) -> bool:
    """True for a token record: a token, its expiry (epoch seconds) and its project. The one shape check of a
    record; whether it is still fresh enough for a configuration is auth.TokenProvider.usable()."""
    if not isinstance(record, dict):
        return False
    token = record.get('token')
    expires_at = record.get('expires_at')
    project_id = record.get('project_id')
    return (isinstance(token, str) and bool(token) and isinstance(expires_at, (int, float))
            and not isinstance(expires_at, bool) and isinstance(project_id, str) and bool(project_id))
