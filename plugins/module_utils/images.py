# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image API and the one image resolution of the collection: names and ids to images, and member reads.

Every module resolves images and reads member lists through these functions, so that one rule says what a 403 or a
404 means. The signatures below are stable (the modules call them):

``resolve_images(client, references, side, *, concurrency=8, read_ids=True, check_mode=False) -> Resolution``
    Names and ids to image dicts, in the given order, each image once. ``side`` is ``owner`` (names are looked up
    among the caller's own images) or ``recipient`` (among the images shared with the caller, in any member status).
    ``read_ids=False`` takes ids as they are, without a request (the member read that follows checks them).
``read_member_lists(client, images, side, *, concurrency=8) -> MemberReads``
    The member list of each image (image dicts or ids), read concurrently (at most ``concurrency`` at a time).
``require_shares(resolution, missing_ids, project_id, check_mode) -> list of warnings``
    Recipient side: the images that are not shared with the caller are an error, except in check mode (below).
``select(client, selector, side) -> selection.Selection``
    The images a validated selector (``selection.validate_selector``) chooses among the side's candidates, from one
    paged listing with the selector's server-side filters; ``.chosen``, ``.older`` (rotation), ``.filters``.
``list_images``, ``list_shared_with_me``, ``get_image``, ``set_image_visibility``: the image API calls.

What a 403 or 404 means (the one table):

============================  =========  ================================  =========================================
call                          side       answer                            outcome
============================  =========  ================================  =========================================
GET /v2/images/{id}           any        404                               not found (or not visible): IMSError;
                                                                           recipient side in check mode: unverified
name lookup (image listing)   owner      no exact match / several          IMSError (not found / ambiguous, with ids)
name lookup (image listing)   recipient  no exact match                    IMSError; in check mode: unverified
GET /v2/images/{id}/members   owner      403 without a service code, on    plain Glance (image not ``shared``): no
                                         an image known not to be shared   members, the id is in ``refused``
GET /v2/images/{id}/members   owner      404                               IMSError (not found or not visible)
GET /v2/images/{id}/members   recipient  404                               not shared with the caller: the id is in
                                                                           ``missing``
anything else                 any        any error                         IMSError as the client raised it
============================  =========  ================================  =========================================

Check mode across tasks. In check mode, a recipient task whose image is not (yet) shared with it cannot see the
image: an earlier task of the same play would have shared it, but check mode did not. Instead of failing, the image
becomes an *unverified* image: ``{"id": <id or None>, "name": <name or None>, "unverified": True, "reason": ...}``
in ``Resolution.images`` and ``Resolution.unverified``, with a warning in ``Resolution.warnings``. Its membership is
predicted as a new share (``PREDICTED_MEMBER_STATUS``, pending), so the plan shows what a real run would do. Modules
return ``unverified`` (true when any image is unverified) and ``unverified_images`` (``[{id, name, reason}]``).
Outside check mode a missing share is an error, as before.

Names in one listing. With ``NAMES_PER_LISTING`` names or more, the candidates (owner side: the project's images;
recipient side: the images shared with it) are listed once, page by page, and the names are matched in that listing;
if the listing needs more pages than there are names, it stops and each name is looked up with its own filtered
listing (``name=<name>``, concurrently). Fewer names are looked up one listing each. Either way a name must match
exactly one image (case-sensitive, exact): none is "not found", several is "ambiguous" with the matching ids.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Iterator, Optional
from urllib.parse import quote, urlencode

from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.selection import Selection
from ansible_collections.imscloud.sharing.plugins.module_utils.selection import select_images
from ansible_collections.imscloud.sharing.plugins.module_utils.selection import server_filters
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import check_memberships_exist

SIDES = ('owner', 'recipient')
DEFAULT_CONCURRENCY = 8
# Glance caps a page at api_limit_max (1000 by default) and then still sends "next"; IMS follows Glance.
LIST_PAGE_SIZE = 1000
MAX_PAGES = 1000
NAMES_PER_LISTING = 3
PREDICTED_MEMBER_STATUS = 'pending'
JSON_PATCH_CONTENT_TYPE = 'application/openstack-images-v2.1-json-patch'
UUID_PATTERN = re.compile(r'\A[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\Z')


class Resolution:
    """What resolve_images found: ``images`` (in reference order, each once), ``warnings`` for the module to give,
    ``unverified`` (the images predicted in check mode, also in ``images``)."""

    def __init__(self, images: list, warnings: list, unverified: list) -> None:
        self.images = images
        self.warnings = warnings
        self.unverified = unverified

    def result_fields(self) -> dict:
        """``unverified`` and ``unverified_images``, the result keys a later task can test."""
        return {'unverified': bool(self.unverified),
                'unverified_images': [{'id': i.get('id'), 'name': i.get('name'), 'reason': i.get('reason')}
                                      for i in self.unverified]}


class MemberReads:
    """Member lists per image id (``members``); ``refused``: owner side, plain Glance refused the listing (403,
    the image is not ``shared``: no members); ``missing``: recipient side, the image is not shared with the caller."""

    def __init__(self, members: dict, refused: list, missing: list) -> None:
        self.members = members
        self.refused = refused
        self.missing = missing


def is_image_id(reference: str) -> bool:
    return bool(UUID_PATTERN.match(reference))


def image_key(image: dict) -> str:
    """What identifies an image in a plan: its id, or the name of an unverified image given by name."""
    return image.get('id') or image.get('name')


def _map(client: Any, func: Callable, items: list, concurrency: int) -> list:
    # the client's bounded pool: one token before the threads start, the first error raised
    return client._map_concurrently(func, items, concurrency)


def _body(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        request = getattr(response, 'request', None)
        raise IMSError('the response is not valid JSON', status=response.status_code,
                       method=getattr(request, 'method', None), url=getattr(request, 'url', None))


def _check_side(side: str) -> None:
    if side not in SIDES:
        raise IMSError("side must be 'owner' or 'recipient', not '%s'" % side)


# ---------------------------------------------------------------- image API

def get_image(client: Any, image_id: str) -> dict:
    return _body(client.request('GET', '/v2/images/%s' % quote(image_id, safe='')))


def set_image_visibility(client: Any, image_id: str, visibility: str) -> dict:
    patch = [{'op': 'replace', 'path': '/visibility', 'value': visibility}]
    return _body(client.request('PATCH', '/v2/images/%s' % quote(image_id, safe=''), json=patch,
                                headers={'Content-Type': JSON_PATCH_CONTENT_TYPE}))


def iter_image_pages(client: Any, params: Any, page_size: Optional[int] = None) -> Iterator[list]:
    """GET /v2/images with filters (a dict; list values repeat the key), one page at a time, following 'next'
    links (or markers, when a full page has none)."""
    query = dict(params)
    query.setdefault('limit', page_size or LIST_PAGE_SIZE)
    path: Optional[str] = '/v2/images?' + urlencode(query, doseq=True, quote_via=quote)
    visited: set = set()
    while path:
        if path in visited or len(visited) >= MAX_PAGES:
            raise IMSError('image listing does not end (page %s repeats)' % path.split('?', 1)[0])
        visited.add(path)
        data = _body(client.request('GET', path))
        page = data.get('images') if isinstance(data, dict) else None
        page = [image for image in page if isinstance(image, dict)] if isinstance(page, list) else []
        yield page
        next_link = data.get('next') if isinstance(data, dict) else None
        if next_link:
            path = next_link
        elif page and len(page) >= int(query['limit']) and page[-1].get('id'):
            path = '/v2/images?' + urlencode(dict(query, marker=page[-1]['id']), doseq=True, quote_via=quote)
        else:
            path = None


def list_images(client: Any, params: Any, page_size: Optional[int] = None) -> list:
    """Every image of GET /v2/images with these filters, over all pages."""
    return [image for page in iter_image_pages(client, params, page_size) for image in page]


def candidate_filters(side: str, project_id: str) -> dict:
    """The listing filters of the images a side may name: its own, or those shared with it in any status."""
    return {'owner': project_id} if side == 'owner' else {'visibility': 'shared', 'member_status': 'all'}


def candidates_of(side: str, images: Iterable[dict], project_id: str) -> list:
    """The listed images a side may name: a recipient never names its own images."""
    if side == 'owner':
        return [image for image in images if image.get('owner') in (None, project_id)]
    return [image for image in images if image.get('owner') != project_id]


def list_shared_with_me(client: Any, member_status: str = 'all') -> list:
    """Images other projects share with this project, in the given member status (or 'all')."""
    images = list_images(client, {'visibility': 'shared', 'member_status': member_status})
    return candidates_of('recipient', images, client.project_id)


# ---------------------------------------------------------------- resolution

def _where(side: str, project_id: str) -> str:
    return ('owned by project %s' if side == 'owner' else 'shared with project %s') % project_id


def _matches_by_name(client: Any, name: str, side: str) -> list:
    project = client.project_id
    listed = list_images(client, dict(candidate_filters(side, project), name=name))
    return [image for image in candidates_of(side, listed, project) if image.get('name') == name]


def _matches_in_one_listing(client: Any, names: list, side: str) -> Optional[dict]:
    """{name: [matching images]} from one paged listing of the candidates; None when that listing would cost
    more pages than one listing per name."""
    project = client.project_id
    wanted = set(names)
    found: dict = dict((name, []) for name in names)
    pages = 0
    for page in iter_image_pages(client, candidate_filters(side, project)):
        pages += 1
        for image in candidates_of(side, page, project):
            if image.get('name') in wanted:
                found[image['name']].append(image)
        if pages >= len(names):
            return None
    return found


def _one_match(name: str, matches: list, side: str, project_id: str) -> Optional[dict]:
    """The single image of a name; None when there is none; IMSError when the name is ambiguous."""
    ids: list = []
    for image in matches:
        if image.get('id') not in ids:
            ids.append(image.get('id'))
    if len(ids) > 1:
        raise IMSError("image name '%s' is ambiguous: %d images %s have it (%s); use an id"
                       % (name, len(ids), _where(side, project_id), ', '.join(str(i) for i in ids)),
                       details={'image': name, 'side': side, 'matching_ids': ids})
    return matches[0] if matches else None


def _lookup_names(client: Any, names: list, side: str, concurrency: int) -> dict:
    """{name: image or None (not found)} for names, in as few requests as the rule above allows."""
    by_name = _matches_in_one_listing(client, names, side) if len(names) >= NAMES_PER_LISTING else None
    if by_name is None:
        by_name = dict(zip(names, _map(client, lambda name: _matches_by_name(client, name, side), names, concurrency)))
    project = client.project_id
    return dict((name, _one_match(name, by_name[name], side, project)) for name in names)


def _read_by_id(client: Any, image_id: str) -> Any:
    """The image, or the IMSError of a 404 (it does not exist or is not visible to the caller)."""
    try:
        return get_image(client, image_id)
    except IMSError as err:
        if err.status == 404:
            return err
        raise


def _not_found(reference: str, side: str, project_id: str, err: Optional[IMSError]) -> IMSError:
    if err is not None:
        return IMSError('image %s not found (or not visible to project %s)' % (reference, project_id), status=404,
                        request_id=err.request_id, method=err.method, url=err.url, details={'image': reference})
    return IMSError("image '%s' not found among the images %s" % (reference, _where(side, project_id)),
                    details={'image': reference, 'side': side})


def unverified_image(reference: str, project_id: str, reason: str) -> dict:
    """The image a check-mode recipient task predicts for a reference it cannot see (see the module docstring)."""
    as_id = is_image_id(reference)
    return {'id': reference.lower() if as_id else None, 'name': None if as_id else reference, 'owner': None,
            'visibility': None, 'unverified': True,
            'reason': 'image %s is not shared with project %s (yet): %s' % (reference, project_id, reason)}


def unverified_warning(image: dict) -> str:
    return ('check mode: %s, so this task could not verify it. The result shows what a real run would do if an '
            'earlier task of the play shares the image (a new share starts %s); outside check mode this is an error'
            % (image['reason'], PREDICTED_MEMBER_STATUS))


def _found_or_predicted(found: dict, references: list, side: str, project_id: str, check_mode: bool) -> list:
    images = []
    for reference in references:
        image = found.get(reference)
        if image is None or isinstance(image, IMSError):
            if side != 'recipient' or not check_mode:
                raise _not_found(reference, side, project_id, image)
            reason = ('no image with this name is among the images shared with it' if image is None
                      else 'no image with this id is visible to it')
            image = unverified_image(reference, project_id, reason)
        images.append(image)
    return images


def resolve_images(client: Any, references: Iterable[Any], side: str, *, concurrency: int = DEFAULT_CONCURRENCY,
                   read_ids: bool = True, check_mode: bool = False) -> Resolution:
    """Image dicts for names and ids (see the module docstring); blank references are skipped."""
    _check_side(side)
    refs: list = []
    for ref in references:
        text = str(ref).strip() if ref is not None else ''
        if text and text not in refs:
            refs.append(text)
    ids = [ref for ref in refs if is_image_id(ref)]
    names = [ref for ref in refs if not is_image_id(ref)]
    found: dict = {}
    if read_ids:
        found.update(zip(ids, _map(client, lambda image_id: _read_by_id(client, image_id), ids, concurrency)))
    else:
        found.update((image_id, {'id': image_id.lower(), 'name': None}) for image_id in ids)
    if names:
        found.update(_lookup_names(client, names, side, concurrency))
    project = client.project_id if refs else ''
    images, warnings, seen = [], [], set()
    for image in _found_or_predicted(found, refs, side, project, check_mode):
        key = image.get('id') or image.get('name')
        if key in seen:
            warnings.append('image %s is named more than once (by name and by id); it counts once' % key)
            continue
        seen.add(key)
        images.append(image)
    unverified = [image for image in images if image.get('unverified')]
    warnings.extend(unverified_warning(image) for image in unverified)
    return Resolution(images, warnings, unverified)


def require_shares(resolution: Resolution, missing_ids: Iterable[str], project_id: str, check_mode: bool) -> list:
    """Recipient side, after the member read: images not shared with project_id are an IMSError outside check mode;
    in check mode they become unverified (in place: the images and unverified of ``resolution``). Returns the
    warnings for the module to give (also appended to ``resolution.warnings``)."""
    missing = list(missing_ids)
    if not missing:
        return []
    if not check_mode:
        check_memberships_exist(project_id, missing,
                                dict((image_key(image), image.get('owner')) for image in resolution.images))
    warnings = []
    for position, image in enumerate(resolution.images):
        if image_key(image) in missing and not image.get('unverified'):
            predicted = unverified_image(image['id'], project_id, 'its member list does not show the project')
            predicted['name'] = image.get('name')
            resolution.images[position] = predicted
            resolution.unverified.append(predicted)
            warnings.append(unverified_warning(predicted))
    resolution.warnings.extend(warnings)
    return warnings


# ---------------------------------------------------------------- member reads

def _member_list(client: Any, image: dict, side: str) -> tuple:
    """(members, refused, missing) of one image under the tolerance table."""
    try:
        return client.list_members(image['id']), False, False
    except IMSError as err:
        not_shared = image.get('visibility') not in (None, 'shared')
        if side == 'owner' and err.status == 403 and not err.code and not_shared:
            return [], True, False
        if side == 'recipient' and err.status == 404:
            return [], False, True
        if err.status == 404:
            raise err.with_context('reading the members of image %s' % image['id'],
                                   'The image does not exist or is not visible to project %s; check the image id'
                                   % client.project_id)
        raise


def read_member_lists(client: Any, images: Iterable[Any], side: str, *,
                      concurrency: int = DEFAULT_CONCURRENCY) -> MemberReads:
    """The member lists of the images (image dicts, or ids), each once, concurrently; see the tolerance table (a 403
    is tolerated only for an image whose visibility is known and is not ``shared``)."""
    _check_side(side)
    unique: list = []
    for image in images:
        image = image if isinstance(image, dict) else {'id': image}
        if image.get('id') and image['id'] not in [known['id'] for known in unique]:
            unique.append(image)
    reads = _map(client, lambda image: _member_list(client, image, side), unique, concurrency)
    ids = [image['id'] for image in unique]
    members = dict((image_id, read[0]) for image_id, read in zip(ids, reads))
    refused = [image_id for image_id, read in zip(ids, reads) if read[1]]
    missing = [image_id for image_id, read in zip(ids, reads) if read[2]]
    return MemberReads(members, refused, missing)


# ---------------------------------------------------------------- selectors

def select(client: Any, selector: dict, side: str) -> Selection:
    """The images a validated selector chooses (selection.py) from one paged listing of the side's candidates, with
    the selector's server-side filters."""
    _check_side(side)
    project = client.project_id
    params = dict(candidate_filters(side, project), **server_filters(selector))
    return select_images(candidates_of(side, list_images(client, params), project), selector)
