# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import math
import random
import socket
import threading
import time
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Mapping, NamedTuple, Optional

try:
    import requests
    import urllib3
except ImportError:  # reported by the client through missing_required_lib
    requests = None
    urllib3 = None

# The one retry policy of the collection: what is retried, how long to wait, and which failures leave a
# non-idempotent request in an unknown state.

RETRYABLE_STATUSES = frozenset((429, 500, 502, 503, 504))

RETRY = 'retry'            # try again
UNCERTAIN = 'uncertain'    # the request may have been processed; a non-idempotent call must not be re-sent
FAIL = 'fail'              # final answer


class Verdict(NamedTuple):
    action: str
    # True when the failed attempt may have reached the service and been processed
    maybe_processed: bool


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; None when absent or invalid."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


def classify_status(status: int, headers: Mapping[str, str], idempotent: bool) -> Verdict:
    """What to do after an HTTP error status."""
    if status == 429:
        # throttled: rejected before any processing
        return Verdict(RETRY, False)
    if status == 503 and parse_retry_after(headers.get('Retry-After')) is not None:
        # "come back later": the service refused the work
        return Verdict(RETRY, False)
    if status in RETRYABLE_STATUSES:
        return Verdict(RETRY if idempotent else UNCERTAIN, True)
    return Verdict(FAIL, False)


def _exception_chain(exc: BaseException) -> list:
    """exc and the exceptions it wraps (requests -> urllib3 MaxRetryError.reason -> socket errors)."""
    seen: list = []
    todo: list = [exc]
    while todo and len(seen) < 20:
        current = todo.pop(0)
        if not isinstance(current, BaseException) or any(current is s for s in seen):
            continue
        seen.append(current)
        todo.extend(arg for arg in getattr(current, 'args', ()) if isinstance(arg, BaseException))
        for attribute in ('reason', '__cause__', '__context__'):
            inner = getattr(current, attribute, None)
            if isinstance(inner, BaseException):
                todo.append(inner)
    return seen


def never_sent(exc: BaseException) -> bool:
    """True when the connection could not be established, so the request never reached the service."""
    if requests is not None and isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    for inner in _exception_chain(exc):
        if urllib3 is not None and isinstance(inner, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError)):
            return True
        if isinstance(inner, (ConnectionRefusedError, socket.gaierror)):
            return True
    return False


def classify_exception(exc: BaseException, idempotent: bool) -> Verdict:
    """What to do after a transport error raised by requests."""
    if requests is None or not isinstance(exc, requests.exceptions.RequestException):
        return Verdict(FAIL, False)
    if isinstance(exc, requests.exceptions.SSLError):
        # certificate or TLS configuration problems do not go away by retrying
        return Verdict(FAIL, False)
    if never_sent(exc):
        return Verdict(RETRY, False)
    if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout, requests.exceptions.ChunkedEncodingError)):
        return Verdict(RETRY if idempotent else UNCERTAIN, True)
    return Verdict(FAIL, False)


class RetryPolicy:
    """Jittered exponential backoff; honours Retry-After (capped)."""

    def __init__(self, retries: int, base_delay: float = 0.5, factor: float = 2.0, max_delay: float = 20.0,
                 max_retry_after: float = 60.0, sleep: Callable[[float], Any] = time.sleep,
                 rand: Callable[[], float] = random.random) -> None:
        self.retries = max(0, int(retries))
        self.base_delay = base_delay
        self.factor = factor
        self.max_delay = max_delay
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        self._rand = rand

    def backoff(self, retry_number: int) -> float:
        """Delay before retry number retry_number (0 = the first retry): half fixed, half random."""
        ceiling = min(self.max_delay, self.base_delay * (self.factor ** retry_number))
        return ceiling / 2.0 + self._rand() * ceiling / 2.0

    def delay(self, retry_number: int, retry_after: Optional[float] = None) -> float:
        if retry_after is None:
            return self.backoff(retry_number)
        # a little jitter so that many throttled clients do not come back in the same instant
        waited = min(retry_after, self.max_retry_after)
        return waited + self._rand() * min(1.0, 0.1 * waited)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._sleep(seconds)


class ThrottleGate:
    """Shared by the threads of one client: while the cloud throttles, nobody sends.

    close_for(seconds) after a 429 (or a 503 with Retry-After); wait() before every request holds the caller
    until the latest such deadline has passed. clock and sleep are injectable (tests use a fake clock).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], Any] = time.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._open_at = 0.0
        # per thread: the deadline that thread sleeps out itself (it was the one throttled)
        self._own = threading.local()

    def close_for(self, seconds: float) -> None:
        """Close the gate for seconds from now (or longer, if it already is); the calling thread sleeps the
        seconds itself (its retry pause) and is not held again for the same deadline."""
        with self._lock:
            self._open_at = max(self._open_at, self._clock() + max(0.0, seconds))
            self._own.waited_until = self._open_at

    def wait(self) -> bool:
        """Hold the caller while the gate is closed; True when it had to wait."""
        waited = False
        waited_until = getattr(self._own, 'waited_until', 0.0)
        while True:
            with self._lock:
                deadline = self._open_at
                remaining = deadline - self._clock()
            if remaining <= 0 or deadline <= waited_until:
                return waited
            waited = True
            self._sleep(remaining)
            with self._lock:
                self._own.waited_until = deadline
                # sleep again only when another thread was throttled meanwhile and moved the deadline
                if self._open_at <= deadline:
                    return waited
