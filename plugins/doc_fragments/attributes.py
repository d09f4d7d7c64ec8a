# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:

    # imscloud.sharing.attributes: the attributes every module of the collection shares (check_mode and diff_mode
    # differ per module and stay in each module's own documentation).
    DOCUMENTATION = r'''
attributes:
  action_group:
    description: Use C(group/imscloud.sharing.ims) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - imscloud.sharing.ims
  platform:
    description:
      - The module talks to the cloud's API and changes nothing on the host it runs on.
      - It runs on any host with Python and C(requests), usually the control node (C(localhost)).
    support: full
    platforms: all
'''
