# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""meta/runtime.yml must list every module in the action group, so module_defaults reach all of them."""
from __future__ import annotations

import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _modules_on_disk():
    directory = os.path.join(ROOT, 'plugins', 'modules')
    return sorted(name[:-3] for name in os.listdir(directory) if name.endswith('.py') and not name.startswith('_'))


def test_every_module_is_in_the_ims_action_group():
    with open(os.path.join(ROOT, 'meta', 'runtime.yml'), encoding='utf-8') as handle:
        runtime = yaml.safe_load(handle)
    group = runtime['action_groups']['ims']
    modules = _modules_on_disk()
    assert modules, 'no modules found in plugins/modules'
    missing = [name for name in modules if name not in group]
    assert not missing, 'modules missing from action group ims in meta/runtime.yml: %s' % missing
    stale = [name for name in group if name not in modules]
    assert not stale, 'action group ims lists modules that do not exist: %s' % stale


def test_requires_ansible_is_2_16_or_later():
    with open(os.path.join(ROOT, 'meta', 'runtime.yml'), encoding='utf-8') as handle:
        runtime = yaml.safe_load(handle)
    assert runtime['requires_ansible'] == '>=2.16.0'
