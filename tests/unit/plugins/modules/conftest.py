# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for every module test: the module runs in-process, isolated from the developer's environment."""
from __future__ import annotations

import pytest
import responses

from ansible_collections.imscloud.sharing.tests.unit.helpers import CONNECTION_ENV
from ansible_collections.imscloud.sharing.tests.unit.helpers import patch_module_exits


@pytest.fixture(autouse=True)
def module_environment(monkeypatch, tmp_path):
    patch_module_exits(monkeypatch)
    monkeypatch.setenv('IMSCLOUD_SHARING_CACHE_DIR', str(tmp_path / 'cache'))
    monkeypatch.setenv('HOME', str(tmp_path))
    monkeypatch.chdir(tmp_path)
    for name in CONNECTION_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
