# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""meta/runtime.yml must list every module in the action group, so module_defaults reach all of them; and the
versions the collection claims agree wherever they are written (and with what scripts/test.sh matrix tests)."""
from __future__ import annotations

import os
import re

import pytest
import yaml

from ansible_collections.imscloud.sharing.plugins.doc_fragments.attributes import ModuleDocFragment

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _modules_on_disk():
    directory = os.path.join(ROOT, 'plugins', 'modules')
    return sorted(name[:-3] for name in os.listdir(directory) if name.endswith('.py') and not name.startswith('_'))


def _yaml(*path):
    with open(os.path.join(ROOT, *path), encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def _text(*path):
    with open(os.path.join(ROOT, *path), encoding='utf-8') as handle:
        return handle.read()


def test_every_module_is_in_the_ims_action_group():
    group = _yaml('meta', 'runtime.yml')['action_groups']['ims']
    modules = _modules_on_disk()
    assert modules, 'no modules found in plugins/modules'
    missing = [name for name in modules if name not in group]
    assert not missing, 'modules missing from action group ims in meta/runtime.yml: %s' % missing
    stale = [name for name in group if name not in modules]
    assert not stale, 'action group ims lists modules that do not exist: %s' % stale


def test_the_action_group_attribute_names_the_action_group_of_meta_runtime():
    groups = ['imscloud.sharing.%s' % name for name in _yaml('meta', 'runtime.yml')['action_groups']]
    attributes = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['attributes']
    assert attributes['action_group']['membership'] == groups
    assert 'group/%s' % groups[0] in attributes['action_group']['description']


def test_every_module_uses_the_attributes_fragment():
    missing = [name for name in _modules_on_disk()
               if not re.search(r'^  - imscloud\.sharing\.attributes$', _text('plugins', 'modules', name + '.py'), re.M)]
    assert not missing, 'modules without imscloud.sharing.attributes in extends_documentation_fragment: %s' % missing


def _test_script():
    if not os.path.exists(os.path.join(ROOT, 'scripts', 'test.sh')):
        pytest.skip('an installed collection has no scripts/ (galaxy.yml build_ignore)')
    return _text('scripts', 'test.sh')


def _oldest_tested_core():
    match = re.search(r'^MATRIX_OLDEST=(\d+\.\d+)\.\d+', _test_script(), re.M)
    assert match, 'scripts/test.sh sets no MATRIX_OLDEST'
    return match.group(1)


def test_requires_ansible_is_the_oldest_core_the_matrix_tests():
    oldest = _oldest_tested_core()
    assert _yaml('meta', 'runtime.yml')['requires_ansible'] == '>=%s.0' % oldest
    assert str(_yaml('roles', 'share_images', 'meta', 'main.yml')['galaxy_info']['min_ansible_version']) == oldest
    assert 'ansible-core %s' % oldest in _text('README.md')


def test_target_python_floor_is_the_one_the_matrix_tests():
    floor = _yaml('tests', 'config.yml')['modules']['python_requires']
    match = re.search(r'^MATRIX_TARGET_PYTHON=(\d+\.\d+)', _test_script(), re.M)
    assert match and floor == '>=%s' % match.group(1)
    assert 'Python %s' % match.group(1) in _text('README.md')
