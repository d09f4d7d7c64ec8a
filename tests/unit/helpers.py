# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by the unit tests: a clock that moves only when slept on, a Keystone token answer, and running a
module's main() in-process with its result handed back.

Import them as ``ansible_collections.imscloud.sharing.tests.unit.helpers`` (works under plain pytest, see
tests/conftest.py, and under ansible-test units).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import responses

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

# The connection settings the modules read from the environment: unset in module tests, so that the developer's
# shell cannot change what a test sees.
CONNECTION_ENV = ('OS_CLOUD', 'OS_CLIENT_CONFIG_FILE', 'OS_AUTH_URL', 'OS_USERNAME', 'OS_PASSWORD', 'OS_PROJECT_ID',
                  'OS_PROJECT_NAME', 'OS_TOKEN', 'OS_AUTH_TOKEN', 'OS_ACCESS_KEY', 'OS_SECRET_KEY', 'OS_REGION_NAME')


class FakeClock:
    """Time that passes only when someone sleeps: waits, job polls and retry back-off take no real time."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def add_token(mock: responses.RequestsMock, tokens_url: str, project_id: str, image_url: str) -> None:
    """Answer one password authentication with a token scoped to project_id whose catalog has one image endpoint."""
    now = datetime.now(timezone.utc)
    body = {'token': {
        'methods': ['password'],
        'issued_at': now.strftime('%Y-%m-%dT%H:%M:%S.%fZ'),
        'expires_at': (now + timedelta(hours=24)).strftime('%Y-%m-%dT%H:%M:%S.%fZ'),
        'user': {'id': 'u1', 'name': 'alice', 'domain': {'id': 'd1', 'name': 'dom'}},
        'project': {'id': project_id, 'name': 'eu-de', 'domain': {'id': 'd1', 'name': 'dom'}},
        'catalog': [{'type': 'image', 'name': 'glance', 'id': 'g1', 'endpoints': [
            {'interface': 'public', 'region': 'eu-de', 'region_id': 'eu-de', 'url': image_url, 'id': 'e1'}]}],
    }}
    mock.add(responses.POST, tokens_url, json=body, status=201, headers={'X-Subject-Token': 'token-of-' + project_id})


class ModuleReturned(BaseException):
    """The module ended; ``result`` is what it returned. A BaseException, like the SystemExit of the real
    exit_json/fail_json: the module's "every other failure" handler must not catch it."""

    def __init__(self, result: dict) -> None:
        super().__init__(result)
        self.result = result


class AnsibleExitJson(ModuleReturned):
    """The module called exit_json."""


class AnsibleFailJson(ModuleReturned):
    """The module called fail_json."""


def patch_module_exits(monkeypatch: Any) -> None:
    """Make AnsibleModule raise its result instead of printing it and exiting the process.

    Each result carries the warnings given since the previous result, as one module run in its own process would.
    """
    warnings: list[str] = []

    def take_warnings() -> list[str]:
        given = warnings[:]
        del warnings[:]
        return given

    def exit_json(module: basic.AnsibleModule, **result: Any) -> None:
        result.setdefault('changed', False)
        result['warnings'] = take_warnings()
        raise AnsibleExitJson(result)

    def fail_json(module: basic.AnsibleModule, msg: str, **result: Any) -> None:
        result['msg'] = msg
        result['failed'] = True
        result['warnings'] = take_warnings()
        raise AnsibleFailJson(result)

    def warn(module: basic.AnsibleModule, warning: str) -> None:
        warnings.append(warning)

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
    monkeypatch.setattr(basic.AnsibleModule, 'warn', warn)


def run_module(main: Callable[[], None], args: dict, check_mode: bool = False, diff: bool = False) -> dict:
    """Run a module's main() with args (needs patch_module_exits); returns the result, failed or not."""
    args = dict(args)
    if check_mode:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    with patch_module_args(args):
        try:
            main()
        except ModuleReturned as returned:
            return returned.result
    raise AssertionError('the module neither exited nor failed')
