# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the reliability suite: one emulator per test module (port 0, so xdist workers never share one),
re-seeded before every test, and a private workspace (token cache, log, playbooks) per test."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
EMULATOR_DIR = os.path.join(os.path.dirname(os.path.dirname(HERE)), 'emulator')
for _path in (HERE, EMULATOR_DIR):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from harness import Emulator  # noqa: E402  pylint: disable=wrong-import-position
from relsupport import SEED_FILE, Workspace, record_figures  # noqa: E402  pylint: disable=wrong-import-position

# Jobs end 0.2 s after submission: long enough to be polled, short enough for many runs.
JOB_DURATION = 0.2


@pytest.fixture(scope='module')
def emulator():
    emu = Emulator(seed=SEED_FILE, extra_args=['--job-duration', str(JOB_DURATION)], max_lifetime=900)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def emu(emulator):
    """The module's emulator, freshly seeded (default settings, no faults, no tokens, stats at zero)."""
    emulator.reset()
    return emulator


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
