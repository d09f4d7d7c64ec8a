# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's version, the one place code reads it from (User-Agent, reports).

It is a literal because an installed collection carries no galaxy.yml for code to read at run time;
tests/unit/test_version.py fails when it differs from galaxy.yml (or from MANIFEST.json in a built collection).
"""
from __future__ import annotations

COLLECTION_VERSION = '0.2.0'
