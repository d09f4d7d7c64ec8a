# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The jobs this controller submitted and has not seen finish, kept next to the token cache.

IMS cannot list jobs, so a run killed while its jobs ran would, re-run at once, read the members before those jobs
apply anything and submit every pair again. The journal remembers each submitted job (its id and request) per
endpoint + project; the next run first waits for the pending ones that touch its images, then reads. Entries
expire after MAX_AGE seconds. The file handling (private directory, 0600 files, atomic writes, an inter-process
lock) is the token cache's (token_cache.TokenCache); the record carries no secret.
"""
from __future__ import annotations

import hashlib
import time
from typing import Any, Callable, Optional

from ansible_collections.imscloud.sharing.plugins.module_utils.token_cache import TokenCache

MAX_AGE = 3600.0
# TokenCache records need "token", "expires_at" and "project_id"; this one holds no token, and says so.
_MARK = 'not-a-token:job-journal'


class JobJournal:
    """Pending jobs of one endpoint + project. All methods are no-ops without a usable cache directory."""

    def __init__(self, directory: Optional[str], endpoint: str, project_id: str,
                 warn: Optional[Callable[[str], None]] = None, clock: Callable[[], float] = time.time) -> None:
        self._cache = TokenCache(directory, warn=warn) if directory else None
        self._key = 'jobs-' + hashlib.sha256(('%s|%s' % (endpoint, project_id)).encode('utf-8')).hexdigest()[:40]
        self._project_id = project_id
        self._clock = clock

    def _load(self) -> list:
        record = self._cache.load(self._key) if self._cache is not None else None
        if not isinstance(record, dict) or record.get('token') != _MARK:
            return []
        now = self._clock()
        return [entry for entry in record.get('jobs') or []
                if isinstance(entry, dict) and entry.get('job_id') and now - entry.get('submitted_at', 0) < MAX_AGE]

    def _store(self, entries: list) -> None:
        if self._cache is None:
            return
        if not entries:
            self._cache.drop(self._key)
            return
        expires = max(entry['submitted_at'] for entry in entries) + MAX_AGE
        record = {'token': _MARK, 'expires_at': expires, 'project_id': self._project_id, 'jobs': entries}
        self._cache.store(self._key, record)

    def _update(self, change: Callable[[list], list]) -> None:
        if self._cache is None:
            return
        with self._cache.lock(self._key):
            self._store(change(self._load()))

    def pending(self, image_ids: Any = None) -> list:
        """[{job_id, request, submitted_at}] still pending; only those touching image_ids when given."""
        entries = self._load()
        if image_ids is None:
            return entries
        wanted = set(image_ids)
        return [entry for entry in entries if wanted.intersection((entry.get('request') or {}).get('images') or [])]

    def add(self, job_id: str, request: dict) -> None:
        entry = {'job_id': job_id, 'request': dict(request), 'submitted_at': self._clock()}
        self._update(lambda entries: [e for e in entries if e['job_id'] != job_id] + [entry])

    def forget(self, job_ids: Any) -> None:
        done = set(job_ids)
        if done:
            self._update(lambda entries: [e for e in entries if e['job_id'] not in done])
