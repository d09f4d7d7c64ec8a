# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

# The request trace: one line per HTTP request the client sent (each attempt counts), returned in the task result as
# `request_trace` and optionally appended to a file. It is meant for the job output of AWX, where ANSIBLE_DEBUG's
# syslog lines are not visible. A line never holds a secret: URLs go through errors.sanitize_url, and every secret
# of the connection is scrubbed from the finished line as well.
#
# On when: the trace option is true; else IMSCLOUD_SHARING_TRACE is true; else ansible-playbook runs with -vvv or
# more (the result is then printed in full anyway, and the trace holds nothing the result may not).

import os
import re
import threading
import time
from typing import Any, Callable, Iterable, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.imscloud.sharing.plugins.module_utils.errors import REQUEST_ID_HEADERS
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import sanitize_url
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import scrub

# What each request is called in the counters (client.stats['requests']), the benchmark and the reliability report.
_ROUTES = (
    (re.compile(r'/auth/tokens$'), '/v3/auth/tokens'),
    (re.compile(r'/v2/images$'), '/v2/images'),
    (re.compile(r'/v2/images/[^/]+$'), '/v2/images/{image_id}'),
    (re.compile(r'/v2/images/[^/]+/members$'), '/v2/images/{image_id}/members'),
    (re.compile(r'/v2/images/[^/]+/members/[^/]+$'), '/v2/images/{image_id}/members/{member_id}'),
    (re.compile(r'/v1/cloudimages/members$'), '/v1/cloudimages/members'),
    (re.compile(r'/v1/[^/]+/jobs/[^/]+$'), '/v1/{project_id}/jobs/{job_id}'),
)


def route_of(method: str, url: str) -> str:
    """'METHOD /route/template' of a request, the key of client.stats['requests']."""
    path = urlsplit(url).path.rstrip('/')
    for pattern, template in _ROUTES:
        if pattern.search(path):
            return '%s %s' % (method.upper(), template)
    return '%s %s' % (method.upper(), path or '/')


TRACE_ENV = 'IMSCLOUD_SHARING_TRACE'
TRACE_PATH_ENV = 'IMSCLOUD_SHARING_TRACE_PATH'
# ansible-playbook -vvv
TRACE_VERBOSITY = 3
# How a request was authenticated, as the trace shows it.
TOKEN_SOURCES = ('cache', 'new', 'refreshed', 'aksk', 'none')
# A trace of a runaway loop must not eat the result: later lines are counted, not kept.
MAX_LINES = 2000


def resolve_trace(params: Mapping[str, Any], environ: Optional[Mapping[str, str]] = None,
                  verbosity: int = 0) -> Tuple[bool, Optional[str]]:
    """(trace on?, file to append to or None) from the trace/trace_path options, the environment and verbosity.

    Raises IMSError (before any request) for a value that is not a boolean or a file that cannot be written.
    """
    environ = os.environ if environ is None else environ
    enabled = params.get('trace')
    if enabled is None and (environ.get(TRACE_ENV) or '').strip():
        try:
            enabled = boolean(environ[TRACE_ENV].strip(), strict=True)
        except TypeError:
            raise IMSError('%s must be a boolean (true or false), got %r' % (TRACE_ENV, environ[TRACE_ENV]))
    path = params.get('trace_path')
    where = 'trace_path'
    if path is None or not str(path).strip():
        path, where = (environ.get(TRACE_PATH_ENV) or '').strip() or None, TRACE_PATH_ENV
    if path is not None:
        path = _writable_file(str(path), where)
    if enabled is None:
        # A file asks for the trace; so does -vvv.
        enabled = path is not None or verbosity >= TRACE_VERBOSITY
    return bool(enabled), path if enabled else None


def _writable_file(value: str, where: str) -> str:
    path = os.path.abspath(os.path.expanduser(value.strip()))
    directory = os.path.dirname(path)
    if os.path.isdir(path):
        raise IMSError('%s: %s is a directory; give the name of a file to append the trace to' % (where, path))
    if not os.path.isdir(directory):
        raise IMSError('%s: the directory %s does not exist' % (where, directory))
    if not os.access(path if os.path.exists(path) else directory, os.W_OK):
        raise IMSError('%s: %s is not writable' % (where, path))
    return path


def request_id_of(headers: Any) -> Optional[str]:
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name) if headers is not None else None
        if value:
            return str(value)
    return None


class RequestTrace:
    """Collects trace lines from any thread; `lines` is what goes into the result."""

    def __init__(self, enabled: bool = False, path: Optional[str] = None,
                 secrets: Optional[Callable[[], Iterable[Optional[str]]]] = None,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time) -> None:
        self.enabled = enabled
        self.path = path
        self._secrets = secrets or (lambda: ())
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self._lines: List[str] = []
        self.dropped = 0
        self._count = 0

    def set_secrets(self, secrets: Callable[[], Iterable[Optional[str]]]) -> None:
        """Where the values to scrub from every line come from (the transport's current secrets)."""
        self._secrets = secrets

    def start(self) -> float:
        """A start time for `record` (the trace's own clock)."""
        return self._clock()

    def record(self, method: str, url: str, started: float, status: Optional[int] = None, headers: Any = None,
               attempt: int = 1, reason: Optional[str] = None, token_source: str = 'none',
               error: Optional[str] = None) -> None:
        """One request: status (None when no answer came, then error says why), attempt 1 = first try; reason is
        why this attempt is a retry (the status or exception of the previous one)."""
        if not self.enabled:
            return
        duration = max(0.0, self._clock() - started)
        parts = ['%s %s' % (method.upper(), sanitize_url(url))]
        parts.append('-> %s' % status if status is not None else '-> no response (%s)' % (error or 'error'))
        parts.append('%.3f s' % duration)
        request_id = request_id_of(headers)
        if request_id:
            parts.append('request id %s' % request_id)
        if attempt > 1:
            parts.append('retry %d%s' % (attempt - 1, ' after %s' % reason if reason else ''))
        parts.append('token %s' % token_source)
        with self._lock:
            self._count += 1
            line = scrub('#%d %s' % (self._count, ', '.join(parts)), self._secrets())
            if len(self._lines) < MAX_LINES:
                self._lines.append(line)
            else:
                self.dropped += 1
            self._write(line)

    def _write(self, line: str) -> None:
        # Called with the lock held, so lines of concurrent requests do not interleave.
        if not self.path:
            return
        stamp = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(self._wall()))
        try:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(descriptor, 'a', encoding='utf-8') as handle:
                handle.write('%s pid %d %s\n' % (stamp, os.getpid(), line))
        except OSError:
            # The file was checked before the first request; losing it later must not fail the task.
            self.path = None

    @property
    def lines(self) -> List[str]:
        with self._lock:
            lines = list(self._lines)
            if self.dropped:
                lines.append('... %d more requests not shown' % self.dropped)
            return lines

    def result(self) -> dict:
        """{'request_trace': [...]} for the task result, or {} when the trace is off."""
        return {'request_trace': self.lines} if self.enabled else {}
