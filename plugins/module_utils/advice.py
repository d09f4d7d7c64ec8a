# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one catalogue of what to do about a failed sharing call: IMS error codes (by operation) and the native
answers that carry no code. Every module and executor asks here; the IMG table of docs/guides/troubleshooting.md
is tested against CATALOGUE (tests/unit/plugins/module_utils/test_advice.py)."""

from __future__ import annotations

from typing import NamedTuple, Optional

from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError

ANY = ('*',)
# Operations: add / remove (owner, native or batch), set_status (recipient), list, set_visibility.
OPERATION_OF_METHOD = {'POST': 'add', 'DELETE': 'remove', 'PUT': 'set_status'}


class Advice(NamedTuple):
    codes: tuple
    operations: tuple
    meaning: str
    action: str


# Most specific first: an entry for one operation comes before the entry for any operation with the same code.
CATALOGUE = (
    Advice(('IMG.0001', 'IMG.0007'), ANY, 'The request format is invalid, or the body is empty.',
           'Should not happen with these modules. If it does, report it with the request id.'),
    Advice(('IMG.0026', 'IMG.0161'), ANY, 'The role lacks the permission.',
           'Grant the user image sharing permissions in the project (ims:images:get and ims:images:share, '
           'e.g. IMS FullAccess).'),
    Advice(('IMG.0086',), ('set_status',), 'Accepting or rejecting: the project has no membership of the image.',
           'Nothing to accept or reject: the owner must share the image with the project first.'),
    Advice(('IMG.0027', 'IMG.0086', 'IMG.0144'), ANY, 'The image does not exist.',
           'Check the id and the region: images are regional. The image may have been deleted.'),
    Advice(('IMG.0030', 'IMG.0087'), ANY, 'The project id and the token do not match, or the token is incorrect.',
           'The credentials are scoped to another project than the request. Check project_id / project_name.'),
    Advice(('IMG.0046',), ANY, 'The image is not available, e.g. still being created.',
           'Wait until its status is active, then run again.'),
    Advice(('IMG.0047', 'IMG.0106'), ANY, 'Only the image owner can do this, and this image belongs to another project.',
           "Add and remove members with the owner project's credentials. Remove images of other projects from images."),
    Advice(('IMG.0060',), ANY, 'IMS is throttling tasks (flow control).',
           'Run again later. A larger batch_size means fewer jobs; api: native sends no jobs at all.'),
    Advice(('IMG.0064', 'IMG.0065'), ANY, 'IMS could not read the tenant from IAM.', 'Usually transient: run again.'),
    Advice(('IMG.0066', 'IMG.0067'), ANY, 'The image id or the project id is incorrect.',
           'Check the ids. A project id from another account or region is "incorrect" too.'),
    Advice(('IMG.0076', 'IMG.0178'), ANY, 'You cannot share an image with its own project.',
           'Remove the owner project from members / projects. The modules refuse this before any write.'),
    Advice(('IMG.0083', 'IMG.0089'), ANY, 'The image is public.', 'Public images cannot be shared, nor need to be.'),
    Advice(('IMG.0088',), ANY,
           'The member quota of the image is reached: 256 members, or 10 for a full-ECS image. Pending and rejected '
           'members count.',
           'Remove members that are not needed (state: absent, or purge_members / purge_projects), or share a copy of '
           'the image.'),
    Advice(('IMG.0095', 'IMG.0097', 'IMG.0099'), ANY,
           "The image's KMS key does not exist, is not enabled, or is not authorised for the recipient.",
           'Grant the key to the recipient project in KMS (Key Management > Grants), or enable it; or leave the '
           'image out.'),
    Advice(('IMG.0098',), ANY, 'The encrypted image cannot be shared.',
           'Images encrypted with the default KMS key can never be shared. Re-encrypt a copy with a custom key and '
           'grant that key.'),
    Advice(('IMG.0105',), ANY, 'The operation is not supported for this image.',
           'Check the image type: system, data disk, full-ECS.'),
    Advice(('IMG.0108', 'IMG.0177'), ANY, 'The project is not in this region.',
           "Images are shared within a region only. Use projects of the image's region, or replicate the image first."),
    Advice(('IMG.0112', 'IMG.0113', 'IMG.0114'), ANY, 'IMS failed to add, delete or query the tenant.',
           'Usually transient: run again; it sends only what is missing. A job that failed only because its pairs '
           'were already in place counts as a success. If it persists, contact support with the job id.'),
    Advice(('IMG.0135',), ANY, 'The full-ECS image cannot be shared.',
           'Only full-ECS images created from a CBR backup can be shared.'),
    Advice(('IMG.0182', 'IMG.0184', 'IMG.0188', 'IMG.0193'), ANY,
           'The CBR vault for a full-ECS image has too little capacity, cannot be found, is unavailable, or is not a '
           'server backup vault.',
           'Accepting a full-ECS image needs vault_id: a server backup vault of the recipient project with enough '
           'free space.'),
    Advice(('IMG.0187',), ANY, 'KMS traffic has reached its limit.', 'Run again later.'),
    Advice(('IMG.0196',), ANY, 'The shared image cannot be replicated because the recipient has not accepted it.',
           'Accept it first (status: accepted), then replicate.'),
    Advice(('IMG.0197',), ANY, 'A shared image encrypted with KMS cannot be replicated.',
           'Replicate an unencrypted copy, or ask the owner to share one.'),
)

_OWNER_ONLY_CODES = ('IMG.0047', 'IMG.0106')
_KEY_CODES = ('IMG.0095', 'IMG.0097', 'IMG.0098', 'IMG.0099')
_KEY_WORDS = ('kms', 'encrypt', 'cmk')
GLANCE_QUOTA_ADVICE = ("The image has reached its member quota (Glance's image_member_quota, 128 by default; IMS: 256, "
                       '10 for full-ECS images; every member status counts). Remove members you no longer need '
                       '(state: absent, or purge_members / purge_projects), or share a copy of the image.')


def entry_for(code: Optional[str], operation: str = '*') -> Optional[Advice]:
    """The catalogue entry for an error code and operation, or None."""
    if not code:
        return None
    for entry in CATALOGUE:
        if code in entry.codes and (entry.operations == ANY or operation in entry.operations):
            return entry
    return None


def advice_for_code(code: Optional[str], operation: str = '*') -> Optional[str]:
    """What the code means and what to do, as one or two sentences for a message; None when not catalogued."""
    entry = entry_for(code, operation)
    return '%s %s' % (entry.meaning, entry.action) if entry else None


def private_image_hint(image_id: str) -> str:
    """What to do when plain Glance refuses members for a private image."""
    return ('This cloud (plain OpenStack Glance) only adds members to images whose visibility is "shared", and image '
            '%s is private. Set set_shared_visibility: true to switch it to shared before the members are added '
            '(never needed on OTC IMS, which shares private images directly).' % image_id)


def _mentions_key(text: Optional[str]) -> bool:
    text = (text or '').lower()
    return any(word in text for word in _KEY_WORDS)


def _status_advice(err: IMSError, operation: str, image: dict, caller: Optional[str], member: Optional[str]) -> Optional[str]:
    """Advice that depends on the HTTP status and the image (native answers carry no code)."""
    owner = image.get('owner')
    foreign = bool(owner and caller and owner != caller)
    if operation == 'set_status':
        if err.status == 403:
            return ("Changing the status of a membership needs credentials scoped to the recipient project %s; the "
                    "owner cannot accept or reject for the recipient. Run the task with the recipient's credentials."
                    % (member or ''))
        if err.status == 404:
            return ('Image %s is not shared with project %s: nothing to accept or reject. Ask the owner (project %s) '
                    'to add the project as a member.' % (image.get('id'), member, owner or 'unknown'))
        return None
    if operation not in ('add', 'remove', 'list', 'set_visibility'):
        return None
    if err.status != 403 and err.code not in _OWNER_ONLY_CODES:
        return None
    if foreign:
        return ("Adding and removing members needs credentials scoped to the owner's project %s (these are scoped to "
                "project %s)." % (owner, caller))
    visibility = image.get('visibility')
    if operation == 'add' and visibility == 'private':
        return private_image_hint(image.get('id'))
    if operation == 'add' and visibility in ('public', 'community'):
        return 'Image %s is %s: only private or shared images can have members.' % (image.get('id'), visibility)
    return ("Adding and removing members needs credentials scoped to the owner's project%s, with a role that allows "
            "image sharing (ims:images:share)." % (' ' + owner if owner else ''))


def explain(err: IMSError, operation: str, image: Optional[dict] = None, caller_project_id: Optional[str] = None,
            member_id: Optional[str] = None) -> Optional[str]:
    """What to do about a failed call (one or two sentences), or None when there is nothing to add.

    ``operation``: add, remove, set_status, list or set_visibility; ``image``: the image as read (id, owner,
    visibility, encryption), when known.
    """
    image = image or {}
    owner = image.get('owner')
    foreign = bool(owner and caller_project_id and owner != caller_project_id)
    encrypted = bool(image.get('__system__cmkid')) or str(image.get('encrypted', '')).lower() == 'true'
    if operation == 'add' and err.status == 413:
        return GLANCE_QUOTA_ADVICE
    if operation == 'add' and err.code not in _KEY_CODES and not foreign and (
            _mentions_key(err.message) or (err.status in (400, 403) and encrypted)):
        return advice_for_code('IMG.0099', operation)
    if err.code in _OWNER_ONLY_CODES or err.code is None:
        found = _status_advice(err, operation, image, caller_project_id, member_id)
        if found:
            return found
    return advice_for_code(err.code, operation)
