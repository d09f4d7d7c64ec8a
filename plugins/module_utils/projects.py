# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Projects by id or by name.

``split_project_refs(option, values) -> (references, warnings)``: no request. A value of 32 hexadecimal characters is
an id (lower-cased), anything else a project name; duplicates count once (with a warning).

``resolve_projects(client, option, references, *, concurrency=8) -> list``: the project ids, in order. Ids are the
fast path: they cost no request. Each name costs one ``GET {auth_url}/projects?name=<name>`` (with
``domain_id=<project domain id>`` when the connection names the domain by id), concurrently. A name must match
exactly one project. Listing projects needs a token (password or token authentication) whose user may list
projects (Keystone ``identity:list_projects``, a domain or system reader; OTC IAM: the ``iam:projects:list``
permission, e.g. Security Administrator); a 403 becomes an error that says to give ids and why.
"""

from __future__ import annotations

from typing import Any, Iterable
from urllib.parse import quote, urlencode

from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.validation import PROJECT_ID_PATTERN

USE_IDS = ('give project ids instead (32 hexadecimal characters, e.g. from "openstack project list" or the console '
           'under My Credentials > Projects): an id costs no IAM request and needs no permission to list projects')


def is_project_id(value: str) -> bool:
    return bool(PROJECT_ID_PATTERN.match(value))


def split_project_refs(option: str, values: Any) -> tuple:
    """(references: ids lower-cased and names, in first-seen order; warnings). IMSError for a non-list or blank item."""
    if values is None:
        values = []
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)):
        raise IMSError('%s must be a list of project ids or names, got %s %r' % (option, type(values).__name__, values))
    references: list = []
    warnings: list = []
    for index, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            raise IMSError('%s: item %d is empty or not a string (%r); give a project id (32 hexadecimal characters) '
                           'or a project name' % (option, index, value))
        text = value.strip()
        text = text.lower() if is_project_id(text) else text
        if text in references:
            warnings.append('%s: project %s is listed more than once; the duplicates were removed' % (option, text))
            continue
        references.append(text)
    return references, warnings


def _check_can_list(client: Any, option: str, names: list) -> None:
    if client.config.auth_type == 'aksk':
        raise IMSError('%s: %s %s by name, but AK/SK credentials cannot list IAM projects here; %s'
                       % (option, 'project' if len(names) == 1 else 'projects', ', '.join(names), USE_IDS))


def _project_id_by_name(client: Any, option: str, name: str) -> str:
    config = client.config
    query = {'name': name}
    if config.project_domain_id or config.user_domain_id:
        query['domain_id'] = config.project_domain_id or config.user_domain_id
    url = '%s/projects?%s' % ((config.auth_url or '').rstrip('/'), urlencode(query, quote_via=quote))
    try:
        response = client._send('GET', url, None, ok=(200,), idempotent=True, service='IAM')
    except IMSError as err:
        if err.status == 403:
            raise err.with_context('%s: looking up project %r by name' % (option, name),
                                   'These credentials may not list IAM projects; %s' % USE_IDS)
        raise
    data = client._json(response, 'IAM')
    found = [p for p in (data.get('projects') if isinstance(data, dict) else None) or []
             if isinstance(p, dict) and p.get('name') == name and p.get('id')]
    where = ' in domain %s' % query['domain_id'] if 'domain_id' in query else ''
    if not found:
        raise IMSError('%s: project %r not found%s (or not visible to these credentials); check the name (an exact '
                       'match) or %s' % (option, name, where, USE_IDS), details={'project': name})
    if len(found) > 1:
        where_found = ', '.join('%s in domain %s' % (p['id'], p.get('domain_id')) for p in found)
        raise IMSError('%s: project name %r is ambiguous: %d projects have it (%s); set project_domain_id, or %s'
                       % (option, name, len(found), where_found, USE_IDS),
                       details={'project': name, 'matching_ids': [p['id'] for p in found]})
    return str(found[0]['id']).lower()


def resolve_projects(client: Any, option: str, references: Iterable[str], *, concurrency: int = 8) -> list:
    """Project ids for ids and names (see the module docstring), in order, each once."""
    references = list(references)
    names = [ref for ref in references if not is_project_id(ref)]
    if names:
        _check_can_list(client, option, names)
    looked_up = client._map_concurrently(lambda name: _project_id_by_name(client, option, name), names, concurrency)
    ids = dict(zip(names, looked_up))
    resolved: list = []
    for ref in references:
        project_id = ids.get(ref, ref)
        if project_id not in resolved:
            resolved.append(project_id)
    return resolved
