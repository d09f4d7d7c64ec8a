# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import os
import stat
import threading

import pytest

from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.trace import MAX_LINES, RequestTrace, resolve_trace

SECRET = 'Tr4ce-Secret-Value'


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_off_by_default():
    assert resolve_trace({}, {}, 0) == (False, None)
    assert resolve_trace({'trace': None, 'trace_path': None}, {}, 2) == (False, None)
    trace = RequestTrace()
    trace.record('GET', 'https://ims.example/v2/images', trace.start(), status=200)
    assert trace.lines == [] and trace.result() == {}


def test_option_environment_and_verbosity():
    assert resolve_trace({'trace': True}, {}) == (True, None)
    assert resolve_trace({}, {'IMSCLOUD_SHARING_TRACE': 'yes'}) == (True, None)
    assert resolve_trace({'trace': False}, {'IMSCLOUD_SHARING_TRACE': 'true'}) == (False, None)
    assert resolve_trace({}, {}, verbosity=3) == (True, None)
    assert resolve_trace({'trace': False}, {}, verbosity=4) == (False, None)
    assert resolve_trace({}, {'IMSCLOUD_SHARING_TRACE': 'off'}, verbosity=5) == (False, None)


def test_bad_environment_value_is_named():
    with pytest.raises(IMSError) as caught:
        resolve_trace({}, {'IMSCLOUD_SHARING_TRACE': 'maybe'})
    assert str(caught.value) == "IMSCLOUD_SHARING_TRACE must be a boolean (true or false), got 'maybe'"


def test_trace_path_turns_the_trace_on_and_is_checked(tmp_path):
    target = tmp_path / 'trace.log'
    assert resolve_trace({'trace_path': str(target)}, {}) == (True, str(target))
    assert resolve_trace({}, {'IMSCLOUD_SHARING_TRACE_PATH': str(target)}) == (True, str(target))
    with pytest.raises(IMSError) as caught:
        resolve_trace({'trace_path': str(tmp_path / 'no-dir' / 'x.log')}, {})
    assert str(caught.value) == 'trace_path: the directory %s does not exist' % (tmp_path / 'no-dir')
    with pytest.raises(IMSError) as caught:
        resolve_trace({}, {'IMSCLOUD_SHARING_TRACE_PATH': str(tmp_path)})
    assert str(caught.value).startswith('IMSCLOUD_SHARING_TRACE_PATH: %s is a directory' % tmp_path)


def test_a_line_per_request_with_retry_request_id_and_token_source():
    clock = Clock()
    trace = RequestTrace(True, clock=clock)
    started = trace.start()
    clock.now += 0.25
    trace.record('post', 'https://iam.example/v3/auth/tokens?nocatalog=1', started, status=201,
                 headers={'X-Openstack-Request-Id': 'req-1'})
    started = trace.start()
    trace.record('GET', 'https://ims.example/v2/images/i1/members', started, status=503, token_source='new')
    trace.record('GET', 'https://ims.example/v2/images/i1/members', started, status=200, attempt=2, reason='503',
                 token_source='new', headers={'X-Request-Id': 'req-2'})
    trace.record('GET', 'https://ims.example/v2/images', started, attempt=3, reason='ConnectionError',
                 error='ConnectionError', token_source='cache')
    assert trace.result() == {'request_trace': [
        '#1 POST https://iam.example/v3/auth/tokens?nocatalog=1, -> 201, 0.250 s, request id req-1, token none',
        '#2 GET https://ims.example/v2/images/i1/members, -> 503, 0.000 s, token new',
        '#3 GET https://ims.example/v2/images/i1/members, -> 200, 0.000 s, request id req-2, retry 1 after 503, token new',
        '#4 GET https://ims.example/v2/images, -> no response (ConnectionError), 0.000 s, retry 2 after '
        'ConnectionError, token cache',
    ]}


def test_no_secret_in_a_line():
    trace = RequestTrace(True, secrets=lambda: [SECRET, None])
    trace.record('GET', 'https://user:%s@ims.example/v2/images?token=%s&name=x' % (SECRET, SECRET), trace.start(),
                 error='failed with %s' % SECRET)
    (line,) = trace.lines
    assert SECRET not in line
    assert 'https://ims.example/v2/images?token=' in line and 'name=x' in line


def test_file_gets_the_same_lines_and_is_private(tmp_path):
    path = tmp_path / 'trace.log'
    trace = RequestTrace(True, str(path), wall=lambda: 0.0)
    trace.record('GET', 'https://ims.example/v2/images', trace.start(), status=200)
    trace.record('GET', 'https://ims.example/v2/images', trace.start(), status=404)
    written = path.read_text().splitlines()
    assert [line.split(' ', 3)[3] for line in written] == trace.lines
    assert written[0].startswith('1970-01-01T00:00:00Z pid %d #1 GET' % os.getpid())
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600


def test_a_file_that_goes_away_does_not_fail_the_task(tmp_path):
    trace = RequestTrace(True, str(tmp_path / 'gone' / 'trace.log'))
    trace.record('GET', 'https://ims.example/', trace.start(), status=200)
    assert trace.path is None and len(trace.lines) == 1


def test_threads_give_whole_numbered_lines():
    trace = RequestTrace(True)

    def work():
        for _number in range(50):
            trace.record('GET', 'https://ims.example/v2/images', trace.start(), status=200, token_source='cache')
    threads = [threading.Thread(target=work) for _number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    numbers = sorted(int(line.split(' ', 1)[0][1:]) for line in trace.lines)
    assert numbers == list(range(1, 401))


def test_long_traces_are_cut():
    trace = RequestTrace(True)
    for _number in range(MAX_LINES + 3):
        trace.record('GET', 'https://ims.example/', trace.start(), status=200)
    lines = trace.lines
    assert len(lines) == MAX_LINES + 1
    assert lines[-1] == '... 3 more requests not shown'
