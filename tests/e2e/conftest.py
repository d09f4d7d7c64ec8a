# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by the end-to-end tests: the emulator of tests/emulator with the test seed.

One emulator per test module (port 0, so xdist workers never share one), re-seeded before every test that asks
for ``emu``. Jobs end 0.2 s after submission: long enough to be polled, short enough for many runs.
"""
import os
import sys

import pytest

EMULATOR_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'emulator')
SEED_FILE = os.path.join(EMULATOR_DIR, 'seeds', 'test.yml')
JOB_DURATION = 0.2
if EMULATOR_DIR not in sys.path:
    sys.path.insert(0, EMULATOR_DIR)

from harness import Emulator  # noqa: E402  pylint: disable=wrong-import-position


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
