# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One validator per input rule, shared by every module: checked before any request (or, for the rules that need
the caller's project, before any write), raising IMSError (status None) that names the option, the bad value and
what is allowed."""

from __future__ import annotations

import re
from typing import Any, Iterable, Optional

from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError

# Keystone/IAM project ids are UUID4 hex strings without dashes. \A...\Z, not ^...$: '$' also matches before a trailing newline.
PROJECT_ID_PATTERN = re.compile(r'\A[0-9a-fA-F]{32}\Z')

_EXAMPLE_PROJECT_ID = '0123456789abcdef0123456789abcdef'


def validate_project_ids(name: str, values: Any, allow_empty: bool = False) -> tuple[list[str], list[str]]:
    """Check a list of project ids given in the option ``name``.

    Returns ``(deduplicated, warnings)``: the ids in their first-seen order, lower-cased (IAM ids are lower-case hex,
    and Glance compares member ids as plain strings), and one warning per id that was listed more than once.
    """
    if values is None:
        values = []
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)):
        raise IMSError('%s must be a list of project ids, got %s %r' % (name, type(values).__name__, values))

    problems = []
    for index, value in enumerate(values):
        if not isinstance(value, str):
            problems.append('item %d is a %s (%r), not a string' % (index, type(value).__name__, value))
        elif not PROJECT_ID_PATTERN.match(value):
            problems.append('item %d %r' % (index, value))
    if problems:
        raise IMSError(
            '%s: invalid project id(s): %s. A project id is 32 hexadecimal characters (0-9, a-f), for example %s; '
            'find it with "openstack project list" or in the console under My Credentials > Projects.'
            % (name, '; '.join(problems), _EXAMPLE_PROJECT_ID))

    deduplicated = []
    counts = {}
    for value in values:
        project_id = value.lower()
        if project_id not in counts:
            counts[project_id] = 0
            deduplicated.append(project_id)
        counts[project_id] += 1
    warnings = ['%s: project id %s is listed %d times; the duplicates were removed' % (name, project_id, counts[project_id])
                for project_id in deduplicated if counts[project_id] > 1]

    if not deduplicated and not allow_empty:
        raise IMSError('%s is empty: give at least one project id' % name)
    return deduplicated, warnings


def validate_project_id(name: str, value: Any) -> str:
    """Check one project id (for options such as ``member`` or ``project_id``); returns it lower-cased."""
    return validate_project_ids(name, [value])[0][0]


def validate_image_refs(name: str, values: Optional[list]) -> tuple[list[str], list[str]]:
    """Check image names or ids given in the option ``name``.

    Returns ``(references, warnings)``: the references stripped, in first-seen order, without duplicates (each
    duplicate gives a warning). Raises when the list or one of its items is empty.
    """
    references, warnings = [], []
    for index, value in enumerate(values or []):
        text = value.strip() if isinstance(value, str) else ''
        if not text:
            raise IMSError('%s: item %d is empty (%r); give an image name or id' % (name, index, value))
        if text in references:
            warnings.append('%s: image %s is listed more than once; it counts once' % (name, text))
            continue
        references.append(text)
    if not references:
        raise IMSError('%s is empty: give at least one image name or id' % name)
    return references, warnings


def validate_state_and_purge(state: str, purge_option: str, purge: bool, list_option: str) -> None:
    """purge (members not listed are removed) means "exactly these"; with state=absent it would be ambiguous."""
    if state not in ('present', 'absent'):
        raise IMSError('state must be one of present, absent, got %r' % (state,))
    if purge and state == 'absent':
        raise IMSError('%s=true cannot be combined with state=absent: to remove every member use state=present, '
                       '%s=true and %s: []' % (purge_option, purge_option, list_option))


def validate_member_list(list_option: str, values: Any, purge_option: str, purge: bool) -> tuple[list[str], list[str]]:
    """The owner's project list: valid ids, and empty only with purge (where it means "no members")."""
    if values is not None and len(values) == 0 and not purge:
        raise IMSError('%s is empty: an empty list is only allowed with %s: true, where it means "no members"'
                       % (list_option, purge_option))
    return validate_project_ids(list_option, values, allow_empty=purge)


def validate_positive_int(name: str, value: Any, meaning: str) -> None:
    """An option that counts something (batch_size, concurrency): an integer of at least 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise IMSError('%s must be an integer of at least 1 (%s), got %r' % (name, meaning, value))


def validate_timeout(value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
        raise IMSError('timeout must be a positive number of seconds, got %r' % (value,))


def validate_vault_id(vault_id: Optional[str], status: Optional[str]) -> Optional[str]:
    """vault_id names the CBR vault that receives an accepted full-ECS image: only with status=accepted."""
    if vault_id is None:
        return None
    if not vault_id.strip():
        raise IMSError('vault_id is empty: give the id of a server backup vault of the recipient project, or leave '
                       'vault_id out')
    if status != 'accepted':
        raise IMSError('vault_id applies only with status=accepted (it names the vault that receives an accepted '
                       'full-ECS image), got status=%s' % status)
    return vault_id.strip()


def check_not_own_project(option: str, projects: Iterable[str], caller_project_id: str,
                          images: Iterable[dict] = ()) -> None:
    """An image cannot be shared with the project that owns it (Glance would add it, IMS fails IMG.0076).

    Only the owner can add members, so the caller's project owns every image it shares, also the images given by
    id (whose owner is not read); ``images`` adds the owners read from the images resolved by name.
    """
    images = list(images)
    wanted = set(projects)
    owners = set([caller_project_id] + [image.get('owner') for image in images if image.get('owner')])
    own = sorted(wanted & owners)
    if not own:
        return
    owned = [image['id'] for image in images if (image.get('owner') or caller_project_id) in own]
    raise IMSError('%s lists %s, the project that owns %s: an image cannot be shared with its own project; remove it '
                   'from %s. Nothing was changed' % (option, ', '.join(own), ('image(s) %s' % ', '.join(owned)) if owned
                                                     else 'the images', option),
                   details={'owner_projects': own})


def check_recipient_project(option: str, project_id: Optional[str], caller_project_id: str) -> str:
    """The recipient project whose membership is accepted or rejected: only the project itself can do that.

    IMS and Glance show a project only its own membership and let only that project change it, so a
    ``project_id``/``member`` of another project can never work with these credentials, whether it is a member or not.
    """
    if project_id is None or project_id == caller_project_id:
        return caller_project_id
    raise IMSError('%s is %s, but the credentials are scoped to project %s: a membership can be accepted or rejected '
                   'only by the project it belongs to (the API shows a project only its own membership, so whether %s '
                   'is a member cannot be seen from here either). Run the task with credentials scoped to project %s, '
                   'or leave %s out to act for project %s'
                   % (option, project_id, caller_project_id, project_id, project_id, option, caller_project_id),
                   details={'project_id': project_id, 'caller_project_id': caller_project_id})


def check_memberships_exist(project_id: str, missing: list[str], owner_by_image: Optional[dict] = None) -> None:
    """Recipient side: every image must already be shared with the project (there is nothing to accept otherwise)."""
    if not missing:
        return
    owners = sorted(set(owner for image_id, owner in (owner_by_image or {}).items() if image_id in missing and owner))
    if project_id in owners:
        raise IMSError('project %s owns image(s) %s: a member status belongs to the projects an image is shared with. '
                       'Run the task with the credentials of such a project' % (project_id, ', '.join(missing)),
                       details={'not_shared': missing})
    raise IMSError('project %s is not a member of image(s) %s: there is nothing to accept or reject; the owner%s must '
                   'share the image(s) with the project first'
                   % (project_id, ', '.join(missing), (' (project %s)' % ', '.join(owners)) if owners else ''),
                   details={'not_shared': missing})


# Member quotas known in advance (ims_api.md section 7; Glance's image_member_quota default).
IMS_MEMBER_QUOTA = 256
IMS_WHOLE_IMAGE_MEMBER_QUOTA = 10
GLANCE_MEMBER_QUOTA = 128


def min_member_quota() -> int:
    """Below this many members no known cloud refuses an image (a full-ECS image needs its type read)."""
    return GLANCE_MEMBER_QUOTA


def member_quota(batch_api: Optional[bool], image: dict) -> tuple:
    """(quota or None, where it comes from) for one image; None when the kind of cloud is not known."""
    if batch_api is None:
        return None, 'unknown'
    if batch_api is False:
        return GLANCE_MEMBER_QUOTA, "Glance's default image_member_quota"
    if str(image.get('__whole_image')).lower() == 'true':
        return IMS_WHOLE_IMAGE_MEMBER_QUOTA, 'IMS, full-ECS images'
    return IMS_MEMBER_QUOTA, 'IMS'


def check_member_quota(additions_by_image: dict, current_count_by_image: dict, quota: Optional[int],
                       where: str) -> None:
    """Refuse, before any write, a plan that cannot fit the member quota (all member statuses count)."""
    if not quota:
        return
    over = ['%s (%d members + %d new)' % (image_id, current_count_by_image.get(image_id, 0), added)
            for image_id, added in additions_by_image.items()
            if current_count_by_image.get(image_id, 0) + added > quota]
    if over:
        raise IMSError('the plan exceeds the member quota of %d per image (%s): %s. Nothing was changed; share with '
                       'fewer projects, or remove members first (purge)' % (quota, where, '; '.join(over)),
                       details={'member_quota': quota})
