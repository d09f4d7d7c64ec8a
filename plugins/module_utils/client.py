# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

# The API calls of the collection: native members, images, batch members and jobs. How a call is sent (retries,
# credentials, errors) is transport.py's; who the caller is (token, project, endpoint) is auth.py's.

import re
from typing import Iterable, Optional, TypeVar
from urllib.parse import quote

from ansible_collections.imscloud.sharing.plugins.module_utils.auth import parse_timestamp  # noqa: F401  (re-exported)
from ansible_collections.imscloud.sharing.plugins.module_utils.auth import select_image_endpoint  # noqa: F401
from ansible_collections.imscloud.sharing.plugins.module_utils.auth import strip_version  # noqa: F401
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import parse_error_response
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import sanitize_url
from ansible_collections.imscloud.sharing.plugins.module_utils.transport import BATCH_MEMBERS_PATH
from ansible_collections.imscloud.sharing.plugins.module_utils.transport import COLLECTION_VERSION  # noqa: F401
from ansible_collections.imscloud.sharing.plugins.module_utils.transport import Transport
from ansible_collections.imscloud.sharing.plugins.module_utils.transport import route_of  # noqa: F401
from ansible_collections.imscloud.sharing.plugins.module_utils.transport import user_agent  # noqa: F401
from ansible_collections.imscloud.sharing.plugins.module_utils.waiter import wait_for_job

JSON_PATCH_CONTENT_TYPE = 'application/openstack-images-v2.1-json-patch'
LIST_PAGE_SIZE = 100
MAX_PAGES = 1000

UUID_PATTERN = re.compile(r'^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$')

T = TypeVar('T')


def _dedupe(values: Iterable[T]) -> list:
    seen: set = set()
    result: list = []
    for value in values:
        if value not in seen:
            seen.add(value)
            result.append(value)
    return result


class IMSClient(Transport):
    """The API calls; IMSClient(config, warn=, log=) is what the modules create (IMSModule.client_class)."""

    # ------------------------------------------------------------------ native members

    def list_members(self, image_id: str) -> list:
        data = self._get_json('/v2/images/%s/members' % quote(image_id, safe=''))
        members = data.get('members') if isinstance(data, dict) else None
        return members if isinstance(members, list) else []

    def get_member(self, image_id: str, member_id: str) -> Optional[dict]:
        """The member, or None when IMS answers 404 (no such member or image not visible)."""
        response = self.request('GET', _member_path(image_id, member_id), ok=(200, 404))
        if response.status_code == 404:
            return None
        return self._json(response)

    def add_member(self, image_id: str, member_id: str) -> dict:
        response = self.request('POST', '/v2/images/%s/members' % quote(image_id, safe=''), json={'member': member_id},
                                ok=(200,), idempotent=True, ok_after_retry=(409,))
        if response.status_code == 409:
            # an earlier attempt created it before the connection failed
            member = self.get_member(image_id, member_id)
            if member is None:
                raise parse_error_response(response).redact(self._secrets())
            return member
        return self._json(response)

    def remove_member(self, image_id: str, member_id: str) -> None:
        self.request('DELETE', _member_path(image_id, member_id), ok=(200, 204), ok_after_retry=(404,))

    def update_member_status(self, image_id: str, member_id: str, status: str, vault_id: Optional[str] = None) -> dict:
        body = {'status': status}
        if vault_id:
            body['vault_id'] = vault_id
        return self._json(self.request('PUT', _member_path(image_id, member_id), json=body))

    def read_members(self, image_ids: Iterable[str], concurrency: int = 8) -> dict:
        """{image_id: [members]} for many images, read in parallel by a bounded thread pool."""
        ids = _dedupe(image_ids)
        lists = self._map_concurrently(self.list_members, ids, concurrency)
        return dict(zip(ids, lists))

    # ------------------------------------------------------------------ images

    def get_image(self, image_id: str) -> dict:
        return self._get_json('/v2/images/%s' % quote(image_id, safe=''))

    def set_image_visibility(self, image_id: str, visibility: str) -> dict:
        patch = [{'op': 'replace', 'path': '/visibility', 'value': visibility}]
        response = self.request('PATCH', '/v2/images/%s' % quote(image_id, safe=''), json=patch,
                                headers={'Content-Type': JSON_PATCH_CONTENT_TYPE})
        return self._json(response)

    def list_images(self, params: dict) -> list:
        """GET /v2/images with filters, following 'next' links (or markers) over all pages."""
        query = dict(params)
        query.setdefault('limit', LIST_PAGE_SIZE)
        images: list = []
        url: Optional[str] = self._url('/v2/images', query)
        visited: set = set()
        while url:
            if url in visited or len(visited) >= MAX_PAGES:
                raise IMSError('image listing does not end (page %s repeats)' % sanitize_url(url))
            visited.add(url)
            response = self._send('GET', url, None, ok=(200,), idempotent=True)
            data = self._json(response)
            page = data.get('images') if isinstance(data, dict) else None
            page = page if isinstance(page, list) else []
            images.extend(page)
            next_link = data.get('next') if isinstance(data, dict) else None
            if next_link:
                url = self._url(next_link)
            elif page and len(page) >= int(query['limit']) and isinstance(page[-1], dict) and page[-1].get('id'):
                url = self._url('/v2/images', dict(query, marker=page[-1]['id']))
            else:
                url = None
        return images

    def list_shared_with_me(self, member_status: str = 'all') -> list:
        """Images other projects share with this project, in the given member status (or 'all')."""
        images = self.list_images({'visibility': 'shared', 'member_status': member_status})
        own = self.project_id
        return [image for image in images if image.get('owner') != own]

    def _find_by_name(self, name: str, side: str) -> dict:
        project = self.project_id
        if side == 'owner':
            candidates = self.list_images({'owner': project, 'name': name})
            where = 'owned by project %s' % project
        else:
            candidates = [image for image in self.list_images({'visibility': 'shared', 'member_status': 'all', 'name': name})
                          if image.get('owner') != project]
            where = 'shared with project %s' % project
        matches = [image for image in candidates if image.get('name') == name]
        if not matches:
            raise IMSError("image '%s' not found among the images %s" % (name, where),
                           details={'image': name, 'side': side})
        ids = _dedupe(image.get('id') for image in matches)
        if len(ids) > 1:
            raise IMSError("image name '%s' is ambiguous: %d images %s have it (%s); use an id"
                           % (name, len(ids), where, ', '.join(str(i) for i in ids)),
                           details={'image': name, 'side': side, 'matching_ids': ids})
        return matches[0]

    def _find_by_id(self, image_id: str) -> dict:
        try:
            return self.get_image(image_id)
        except IMSError as err:
            if err.status == 404:
                raise IMSError('image %s not found (or not visible to project %s)' % (image_id, self.project_id),
                               status=404, request_id=err.request_id, method=err.method, url=err.url,
                               details={'image': image_id})
            raise

    def resolve_images(self, names_or_ids: Iterable[str], side: str = 'owner', concurrency: int = 8) -> list:
        """Image dicts for names or ids, de-duplicated, in the given order.

        side='owner' looks names up among the caller's own images, side='recipient' among the images shared
        with the caller (any member status). Ids are fetched directly; ids and names are looked up concurrently.
        """
        if side not in ('owner', 'recipient'):
            raise IMSError("side must be 'owner' or 'recipient', not '%s'" % side)
        refs = _dedupe(str(ref).strip() for ref in names_or_ids if ref is not None and str(ref).strip())
        ids = [ref for ref in refs if UUID_PATTERN.match(ref)]
        names = [ref for ref in refs if not UUID_PATTERN.match(ref)]
        by_ref = dict(zip(ids, self._map_concurrently(self._find_by_id, ids, concurrency)))
        by_ref.update(zip(names, self._map_concurrently(lambda name: self._find_by_name(name, side), names, concurrency)))
        images: list = []
        seen: set = set()
        for ref in refs:
            image = by_ref[ref]
            if image.get('id') not in seen:
                seen.add(image.get('id'))
                images.append(image)
        return images

    # ------------------------------------------------------------------ batch members and jobs

    def submit_member_job(self, method: str, body: dict) -> str:
        """POST/PUT/DELETE /v1/cloudimages/members; returns the job id.

        Never re-sent after a failure that may have been processed: that raises IMSError with
        details {"uncertain": True}, and the caller re-reads the state and plans again.
        """
        method = method.upper()
        if method not in ('POST', 'PUT', 'DELETE'):
            raise IMSError("batch member method must be POST, PUT or DELETE, not '%s'" % method)
        response = self.request(method, BATCH_MEMBERS_PATH, json=body, ok=(200,), idempotent=False)
        data = self._json(response)
        job_id = data.get('job_id') if isinstance(data, dict) else None
        if not job_id:
            raise IMSError('IMS accepted the batch request but returned no job_id', status=response.status_code,
                           method=method, url=response.request.url if response.request is not None else None)
        return str(job_id)

    def get_job(self, job_id: str) -> dict:
        return self._get_json('/v1/%s/jobs/%s' % (quote(self.project_id, safe=''), quote(job_id, safe='')))

    def wait_for_job(self, job_id: str, timeout: float, poll_initial: float = 1.0, poll_max: float = 10.0) -> dict:
        """Poll the job until SUCCESS (returned) or FAIL / timeout (IMSError with the job's details)."""
        return wait_for_job(self.get_job, job_id, timeout, poll_initial=poll_initial, poll_max=poll_max,
                            clock=self._clock, sleep=self._sleep, log=self._log)


def _member_path(image_id: str, member_id: str) -> str:
    return '/v2/images/%s/members/%s' % (quote(image_id, safe=''), quote(member_id, safe=''))


def _member_path(image_id: str, member_id: str) -> str:
    return '/v2/images/%s/members/%s' % (quote(image_id, safe=''), quote(member_id, safe=''))
