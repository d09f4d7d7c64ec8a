# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import socket
from email.utils import formatdate

import pytest
import requests
import urllib3

from ansible_collections.imscloud.sharing.plugins.module_utils.retry import FAIL
from ansible_collections.imscloud.sharing.plugins.module_utils.retry import RETRY
from ansible_collections.imscloud.sharing.plugins.module_utils.retry import UNCERTAIN
from ansible_collections.imscloud.sharing.plugins.module_utils.retry import RetryPolicy
from ansible_collections.imscloud.sharing.plugins.module_utils.retry import classify_exception
from ansible_collections.imscloud.sharing.plugins.module_utils.retry import classify_status
from ansible_collections.imscloud.sharing.plugins.module_utils.retry import never_sent
from ansible_collections.imscloud.sharing.plugins.module_utils.retry import parse_retry_after


def refused_connection() -> requests.exceptions.ConnectionError:
    """What requests raises when nothing listens on the port (the request never left)."""
    inner = urllib3.exceptions.NewConnectionError(None, 'Failed to establish a new connection: [Errno 111] Connection refused')
    return requests.exceptions.ConnectionError(urllib3.exceptions.MaxRetryError(None, '/v1/cloudimages/members', inner))


def dropped_connection() -> requests.exceptions.ConnectionError:
    """What requests raises when the server closes the connection after the request was sent."""
    return requests.exceptions.ConnectionError(urllib3.exceptions.ProtocolError('Connection aborted.', ConnectionResetError(104, 'reset')))


def test_retry_after_seconds_and_dates():
    now = 1_700_000_000.0
    assert parse_retry_after('7') == 7.0
    assert parse_retry_after(' 1.5 ') == 1.5
    assert parse_retry_after('-3') == 0.0
    assert parse_retry_after(formatdate(now + 12, usegmt=True), now=now) == pytest.approx(12, abs=1)
    assert parse_retry_after(formatdate(now - 100, usegmt=True), now=now) == 0.0
    for invalid in (None, '', 'soon', 'nan'):
        assert parse_retry_after(invalid) is None


@pytest.mark.parametrize('status', [429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried_when_idempotent(status):
    assert classify_status(status, {}, idempotent=True).action == RETRY


@pytest.mark.parametrize('status', [400, 401, 403, 404, 409, 413, 501])
def test_other_statuses_are_final(status):
    assert classify_status(status, {}, idempotent=True) == (FAIL, False)


@pytest.mark.parametrize('status', [500, 502, 503, 504])
def test_server_errors_leave_non_idempotent_calls_uncertain(status):
    assert classify_status(status, {}, idempotent=False) == (UNCERTAIN, True)


def test_throttling_and_503_with_retry_after_mean_not_processed():
    assert classify_status(429, {}, idempotent=False) == (RETRY, False)
    assert classify_status(503, {'Retry-After': '2'}, idempotent=False) == (RETRY, False)


def test_exception_classification():
    assert classify_exception(requests.exceptions.ConnectTimeout('slow connect'), idempotent=False) == (RETRY, False)
    assert classify_exception(refused_connection(), idempotent=False) == (RETRY, False)
    assert classify_exception(requests.exceptions.ConnectionError(socket.gaierror(-2, 'Name or service not known')),
                              idempotent=False) == (RETRY, False)
    assert classify_exception(dropped_connection(), idempotent=False) == (UNCERTAIN, True)
    assert classify_exception(dropped_connection(), idempotent=True) == (RETRY, True)
    assert classify_exception(requests.exceptions.ReadTimeout('read'), idempotent=False) == (UNCERTAIN, True)
    assert classify_exception(requests.exceptions.ChunkedEncodingError('cut'), idempotent=True) == (RETRY, True)
    assert classify_exception(requests.exceptions.SSLError('certificate verify failed'), idempotent=True) == (FAIL, False)
    assert classify_exception(requests.exceptions.InvalidURL('bad'), idempotent=True) == (FAIL, False)
    assert classify_exception(ValueError('not from requests'), idempotent=True) == (FAIL, False)


def test_never_sent_follows_wrapped_causes():
    try:
        try:
            raise ConnectionRefusedError(111, 'refused')
        except ConnectionRefusedError as inner:
            raise requests.exceptions.ConnectionError('wrapped') from inner
    except requests.exceptions.ConnectionError as exc:
        assert never_sent(exc)
    assert not never_sent(dropped_connection())


def test_backoff_is_jittered_exponential_and_capped():
    low = RetryPolicy(5, rand=lambda: 0.0)
    high = RetryPolicy(5, rand=lambda: 1.0)
    assert [low.backoff(n) for n in range(8)] == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert [high.backoff(n) for n in range(8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 20.0, 20.0]


def test_delay_honours_retry_after_with_cap_and_small_jitter():
    policy = RetryPolicy(3, rand=lambda: 1.0)
    assert policy.delay(0, retry_after=2.0) == pytest.approx(2.2)
    assert policy.delay(0, retry_after=0.0) == 0.0
    assert policy.delay(4, retry_after=3600.0) == pytest.approx(61.0)
    assert policy.delay(1) == 1.0


def test_sleep_is_injected_and_skips_zero():
    slept = []
    policy = RetryPolicy(-2, sleep=slept.append)
    policy.sleep(0)
    policy.sleep(0.3)
    assert slept == [0.3]
    assert policy.retries == 0
