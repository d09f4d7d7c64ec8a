# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import importlib
import json
from unittest.mock import MagicMock

import pytest

from ansible.module_utils.common.json import Direction, get_module_encoder
from ansible.playbook.task import Task

from ansible_collections.imscloud.sharing.plugins.plugin_utils.module_action import ArgsWithMaskedRepr
from ansible_collections.imscloud.sharing.plugins.plugin_utils.module_action import ModuleAction
from ansible_collections.imscloud.sharing.plugins.plugin_utils.module_action import secret_values

PASSWORD = 'Pw-unit-7Hq2xLm9'
SECRET_KEY = 'Sk-unit-Xv4nB8cR1tY6'
TOKEN = 'gAAAAAunit-token-Jd83kS'
OWNER = '0a1b2c3d4e5f40718293a4b5c6d7e8f9'
CONSUMER = '1b2c3d4e5f6a40718293a4b5c6d7e8f0'


@pytest.fixture(autouse=True)
def module_code_runs_as_on_a_target():
    """Overrides the fixture of tests/conftest.py: an action plugin is controller code."""


def module_args():
    return {
        'auth': {'auth_url': 'https://iam.example.test/v3', 'username': 'owner-user', 'password': PASSWORD,
                 'project_id': OWNER, 'token': None},
        'cloud': {'auth': {'access_key': 'AK-UNIT', 'secret_key': SECRET_KEY, 'project_id': OWNER}},
        'image': 'golden', 'members': [CONSUMER, 'x-%s-y' % TOKEN],
        'extra': [{'token': TOKEN}],
        '_ansible_check_mode': False,
    }


def test_secret_values_are_the_no_log_auth_keys_at_any_depth():
    assert secret_values(module_args()) == {PASSWORD, SECRET_KEY, TOKEN, 'AK-UNIT'}
    assert secret_values({'auth': {'project_id': OWNER, 'password': ''}, 'members': [OWNER]}) == set()


@pytest.mark.parametrize('render', [str, repr, lambda args: 'done with _execute_module (%s, %s)' % ('m', args)])
def test_printing_masks_every_secret_and_keeps_the_rest(render):
    text = render(ArgsWithMaskedRepr(module_args()))
    for secret in (PASSWORD, SECRET_KEY, TOKEN, 'AK-UNIT'):
        assert secret not in text
    # what helps debugging is still there
    for visible in (OWNER, CONSUMER, 'owner-user', 'golden', 'https://iam.example.test/v3', '_ansible_check_mode'):
        assert visible in text
    assert "'password': 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'" in text  # as in the module's invocation result
    assert "'x-********-y'" in text


@pytest.mark.parametrize('profile', ['legacy', 'modern'])
def test_the_module_still_receives_the_real_values(profile):
    encoder = get_module_encoder(profile, Direction.CONTROLLER_TO_MODULE)
    payload = json.loads(json.dumps({'ANSIBLE_MODULE_ARGS': ArgsWithMaskedRepr(module_args())}, cls=encoder))
    assert payload['ANSIBLE_MODULE_ARGS'] == module_args()


def test_a_value_that_cannot_be_masked_shows_only_the_keys():
    args = ArgsWithMaskedRepr(auth={'password': PASSWORD}, odd=object())
    assert repr(args) == "{'auth': <not shown>, 'odd': <not shown>}"


@pytest.mark.parametrize('name', ['ims_image_member', 'ims_image_member_batch', 'ims_image_member_info'])
def test_every_module_has_the_action_plugin(name):
    plugin = importlib.import_module('ansible_collections.imscloud.sharing.plugins.action.%s' % name)
    assert plugin.ActionModule is ModuleAction


def make_action(async_val=0, native_async=False):
    task = Task()
    task.args = module_args()
    task.async_val = async_val
    connection = MagicMock(has_native_async=native_async)
    connection._shell.tmpdir = '/tmp/ansible-tmp-unit'
    action = ModuleAction(task, connection, MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    # ansible-core's own side of a module run: building, transferring and executing the module
    action._execute_module = MagicMock(return_value={'changed': True, 'image': 'golden'})
    action._remove_tmp_path = MagicMock()
    return action


def test_run_hands_masked_arguments_to_ansible_core_and_returns_the_module_result():
    action = make_action()
    result = action.run(task_vars={})
    assert result['changed'] is True and result['image'] == 'golden'
    kwargs = action._execute_module.call_args.kwargs
    assert isinstance(kwargs['module_args'], ArgsWithMaskedRepr)
    assert dict(kwargs['module_args']) == module_args()
    assert kwargs['module_args'] is not action._task.args  # the task's own args stay untouched
    assert kwargs['wrap_async'] is False
    action._remove_tmp_path.assert_called_once_with('/tmp/ansible-tmp-unit')


def test_async_tasks_are_wrapped_and_keep_their_temporary_directory():
    action = make_action(async_val=60)
    action.run(task_vars={})
    assert action._execute_module.call_args.kwargs['wrap_async'] is True
    action._remove_tmp_path.assert_not_called()


@pytest.mark.parametrize('failing', [False, True])
def test_the_garbage_collector_is_paused_only_while_the_module_is_built_and_run(failing):
    import gc  # pylint: disable=import-outside-toplevel
    action = make_action()
    seen = []

    def execute_module(**_kwargs):
        seen.append(gc.isenabled())
        if failing:
            raise RuntimeError('the connection broke')
        return {'changed': False}
    action._execute_module = execute_module
    assert gc.isenabled()
    if failing:
        with pytest.raises(RuntimeError):
            action.run(task_vars={})
    else:
        action.run(task_vars={})
    assert seen == [False] and gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    import gc  # pylint: disable=import-outside-toplevel
    gc.disable()
    try:
        make_action().run(task_vars={})
        assert not gc.isenabled()
    finally:
        gc.enable()
