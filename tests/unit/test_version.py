# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/version.py is the collection's version in code: it must equal the packaged version."""
from __future__ import annotations

import json
import os

import yaml

from ansible_collections.imscloud.sharing.plugins.module_utils import version

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _packaged_version():
    """The version in galaxy.yml (a checkout) or, in an installed collection, in MANIFEST.json built from it."""
    galaxy = os.path.join(ROOT, 'galaxy.yml')
    if os.path.exists(galaxy):
        with open(galaxy, encoding='utf-8') as handle:
            return 'galaxy.yml', yaml.safe_load(handle)['version']
    with open(os.path.join(ROOT, 'MANIFEST.json'), encoding='utf-8') as handle:
        return 'MANIFEST.json', json.load(handle)['collection_info']['version']


def test_collection_version_equals_the_packaged_version():
    source, packaged = _packaged_version()
    assert version.COLLECTION_VERSION == packaged, (
        'plugins/module_utils/version.py says %s but %s says %s: change both together'
        % (version.COLLECTION_VERSION, source, packaged))


def test_collection_version_is_semantic():
    parts = version.COLLECTION_VERSION.split('.')
    assert len(parts) == 3 and all(part.isdigit() for part in parts), version.COLLECTION_VERSION
