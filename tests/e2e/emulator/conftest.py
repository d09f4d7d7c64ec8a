# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the emulator self-tests: one emulator process per test session, re-seeded before every test."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
EMULATOR_DIR = os.path.join(os.path.dirname(os.path.dirname(HERE)), 'emulator')
for _path in (HERE, EMULATOR_DIR):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from emutest import JOB_DURATION, TEST_SEED, Cloud  # noqa: E402  pylint: disable=wrong-import-position
from harness import Emulator  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope='session')
def emulator():
    emu = Emulator(seed=TEST_SEED, extra_args=['--job-duration', str(JOB_DURATION)], max_lifetime=900)
    yield emu
    emu.stop()


@pytest.fixture
def cloud(emulator):
    """A freshly seeded emulator (default settings, no faults, no tokens) and a client for it."""
    emulator.reset()
    return Cloud(emulator)
