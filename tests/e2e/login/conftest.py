# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the login tests: the emulator comes from tests/e2e/conftest.py, the private workspace (playbooks,
token cache, results) and the playbook runner from the reliability suite's relsupport."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
RELIABILITY_DIR = os.path.join(os.path.dirname(HERE), 'reliability')
if RELIABILITY_DIR not in sys.path:
    sys.path.insert(0, RELIABILITY_DIR)

from relsupport import Workspace  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture
def workspace(tmp_path):
    return Workspace(tmp_path)
