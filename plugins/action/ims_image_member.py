# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

# Runs the module with its secrets masked in ansible-core's debug output (see plugin_utils/module_action.py).
from ansible_collections.imscloud.sharing.plugins.plugin_utils.module_action import ModuleAction as ActionModule  # noqa: F401  pylint: disable=unused-import
