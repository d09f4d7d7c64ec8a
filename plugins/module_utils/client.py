# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

# The API calls of the collection: native members, images, batch members and jobs. How a call is sent (retries,
# credentials, errors) is transport.py's; who the caller is (token, project, endpoint) is auth.py's.

from typing import Callable, Iterable, Optional, TypeVar
from urllib.parse import quote

from ansible_collections.imscloud.sharing.plugins.module_utils.auth import parse_timestamp  # noqa: F401  (re-exported)
from ansible_collections.imscloud.sharing.plugins.module_utils.auth import select_image_endpoint  # noqa: F401
from ansible_collections.imscloud.sharing.plugins.module_utils.auth import strip_version  # noqa: F401
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import parse_error_response
from ansible_collections.imscloud.sharing.plugins.module_utils.transport import BATCH_MEMBERS_PATH
from ansible_collections.imscloud.sharing.plugins.module_utils.transport import COLLECTION_VERSION  # noqa: F401
from ansible_collections.imscloud.sharing.plugins.module_utils.transport import Transport
from ansible_collections.imscloud.sharing.plugins.module_utils.transport import route_of  # noqa: F401
from ansible_collections.imscloud.sharing.plugins.module_utils.transport import user_agent  # noqa: F401
from ansible_collections.imscloud.sharing.plugins.module_utils.waiter import wait_for_job
from ansible_collections.imscloud.sharing.plugins.module_utils.waiter import wait_for_jobs

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

    # ------------------------------------------------------------------ batch members and jobs

    def has_batch_api(self) -> Optional[bool]:
        """Whether this endpoint offers the IMS batch member API (True), is plain Glance (False), or cannot tell (None).

        Costs no write and at most one cheap read (GET /v2/cloudimages?limit=1, an IMS extension that plain Glance
        does not have) per endpoint and token: the answer is kept in the token record, also on disk. AK/SK signing
        exists only in front of IMS, so it needs no read.
        """
        if self.config.auth_type == 'aksk':
            return True
        known = self.auth.capability(self.endpoint, 'batch_api')
        if isinstance(known, bool):
            return known
        response = self.request('GET', '/v2/cloudimages', params={'limit': 1}, ok=(200, 300, 400, 403, 404))
        if response.status_code == 403:
            return None
        try:
            data = response.json()
        except ValueError:
            data = None
        found = response.status_code == 200 and isinstance(data, dict) and isinstance(data.get('images'), list)
        self.auth.remember_capability(self.endpoint, 'batch_api', found)
        return found

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
        with self._stats_lock:
            polls = self.stats.setdefault('job_polls', {})
            polls[job_id] = polls.get(job_id, 0) + 1
        return self._get_json('/v1/%s/jobs/%s' % (quote(self.project_id, safe=''), quote(job_id, safe='')))

    def wait_for_jobs(self, submitted: dict, timeout: float, concurrency: int = 8) -> dict:
        """Poll the jobs {job_id: submitted_at (client clock)} side by side until they end (waiter.wait_for_jobs)."""
        def poll_all(func: Callable, watches: list) -> list:
            return self._map_concurrently(func, watches, concurrency)
        return wait_for_jobs(self.get_job, submitted, timeout, clock=self._clock, sleep=self._sleep,
                             map_concurrently=poll_all, log=self._log)

    def wait_for_job(self, job_id: str, timeout: float, submitted_at: Optional[float] = None) -> dict:
        """Poll the job until SUCCESS (returned) or FAIL / timeout (IMSError with the job's details)."""
        return wait_for_job(self.get_job, job_id, timeout, clock=self._clock, sleep=self._sleep, log=self._log,
                            submitted_at=submitted_at)

    def now(self) -> float:
        """The client's clock (monotonic seconds): job submission times for wait_for_jobs."""
        return self._clock()

    def sleep(self, seconds: float) -> None:
        """Wait on the client's clock (so that tests with a fake clock take no time)."""
        if seconds > 0:
            self._sleep(seconds)


def _member_path(image_id: str, member_id: str) -> str:
    return '/v2/images/%s/members/%s' % (quote(image_id, safe=''), quote(member_id, safe=''))
