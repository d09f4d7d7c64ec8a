# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:

    # imscloud.sharing.image_selector: the selector option (plugins/module_utils/selection.py).
    DOCUMENTATION = r'''
options:
  selector:
    description:
      - Chooses images by their attributes instead of naming them. The images are those of one image listing
        (owner side, the images the caller's project owns; recipient side, the images shared with it, in any member
        status) that pass every given filter.
      - B(Server side and client side.) O(selector.status), O(selector.tags) and O(selector.properties) are sent as
        listing filters (Glance and IMS filter by status, C(tag) and image properties), sorted by C(created_at). The
        name patterns, O(selector.visibility), O(selector.newest) and families are applied by the collection, which
        also applies every listing filter again, so a cloud that ignores one returns more, never a wrong selection.
      - B(Order and tie-break.) Families by family key (ascending); within a family the newest first by
        C(created_at), equal times by name descending (a later date suffix first), then by id ascending. An image
        without a readable C(created_at) counts as the oldest. The order does not depend on the listing's order.
      - Every key is checked before the first request (unknown keys, bad patterns, O(selector.newest=0) fail).
    type: dict
    suboptions:
      name:
        description:
          - A glob pattern (C(*), C(?), C([...])) that the whole image name must match, case-sensitive, for
            example V(golden-ubuntu-24.04-*).
        type: str
      name_regex:
        description:
          - A Python regular expression searched in the image name (anchor it with C(^) and C($) for a whole-name
            match), for example V(^golden-(ubuntu|rhel\)-).
        type: str
      tags:
        description:
          - The image has every one of these tags.
        type: list
        elements: str
      properties:
        description:
          - Image properties and the values they must have, compared as text (booleans as V(true) or V(false)),
            for example C(__os_version=Ubuntu 24.04 server 64bit) on Open Telekom Cloud, or C(os_distro=ubuntu) on
            OpenStack (written as a mapping of property names to values).
          - Attributes with their own key (name, status, visibility, tags, owner, id, created_at) are refused here.
        type: dict
      status:
        description:
          - The image status, such as V(active), V(queued) or V(deactivated); V(any) for every status.
        type: str
        default: active
      visibility:
        description:
          - The image visibility; V(any) for every visibility.
        type: str
        choices: [private, shared, public, community, any]
        default: any
      newest:
        description:
          - Keep only the newest N images by C(created_at), per family when O(selector.family_pattern) is given,
            else over all matching images. At least 1.
        type: int
      family_pattern:
        description:
          - A Python regular expression removed (its first match) from the image name to give the family of a
            build. V(-[0-9]{8}$) makes C(golden-ubuntu-24.04-20261201) and C(golden-ubuntu-24.04-20261124) two builds
            of the family C(golden-ubuntu-24.04).
          - Needs O(selector.newest).
        type: str
  fail_on_empty:
    description:
      - When O(selector) chooses no image, fail instead of returning an empty selection. An empty selection is not an
        error by default; the result then says that nothing matched and which filters were applied
        (RV(selection)).
    type: bool
    default: false
'''
