# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the reliability suite (the emulator fixtures come from tests/e2e/conftest.py): a private workspace
(token cache, log, playbooks) per test, and the figures report."""

import os
import sys

import pytest

# relsupport sits next to this file; tests/emulator is put on sys.path by tests/e2e/conftest.py
HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from relsupport import Workspace, record_figures  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture
def workspace(tmp_path):
    return Workspace(tmp_path)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Record each test's outcome and duration in the figures report, so the page counts failures too."""
    outcome = yield
    report = outcome.get_result()
    if report.when == 'call' or (report.when == 'setup' and not report.passed):
        record_figures('outcome', test=item.nodeid, outcome=report.outcome, seconds=round(call.duration, 1))
