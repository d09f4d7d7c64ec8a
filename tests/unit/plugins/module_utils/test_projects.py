# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""projects.py: project ids as they are, names through IAM (HTTP faked with responses; the real client)."""
from __future__ import annotations

import pytest
import responses

from ansible_collections.imscloud.sharing.plugins.module_utils.client import IMSClient
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.projects import resolve_projects
from ansible_collections.imscloud.sharing.plugins.module_utils.projects import split_project_refs
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import IAM
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import OTHER_PROJECT
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import add_token
from ansible_collections.imscloud.sharing.tests.unit.plugins.module_utils.test_client import make_config

PROJECTS = IAM + '/projects'
WEB = '5b000000000000000000000000000002'


@pytest.fixture
def mock():
    with responses.RequestsMock() as rsps:
        yield rsps


def client_for(tmp_path, **overrides):
    return IMSClient(make_config(tmp_path, **overrides))


def test_ids_cost_no_request(mock, tmp_path):
    client = client_for(tmp_path)
    references, warnings = split_project_refs('projects', [OTHER_PROJECT.upper(), OTHER_PROJECT, ' %s ' % WEB])
    assert references == [OTHER_PROJECT, WEB]
    assert warnings == ['projects: project %s is listed more than once; the duplicates were removed' % OTHER_PROJECT]
    assert resolve_projects(client, 'projects', references) == [OTHER_PROJECT, WEB]
    assert len(mock.calls) == 0


def test_names_are_looked_up_in_iam_with_the_domain(mock, tmp_path):
    client = client_for(tmp_path, project_domain_id='d1')
    add_token(mock)
    mock.add(responses.GET, PROJECTS, json={'projects': [{'id': WEB, 'name': 'eu-de_app-web', 'domain_id': 'd1'}]},
             match=[responses.matchers.query_param_matcher({'name': 'eu-de_app-web', 'domain_id': 'd1'})])
    assert resolve_projects(client, 'projects', [OTHER_PROJECT, 'eu-de_app-web', WEB]) == [OTHER_PROJECT, WEB]
    lookup = [c for c in mock.calls if c.request.url.startswith(PROJECTS)][0]
    assert lookup.request.headers['X-Auth-Token'] == 'tok-1'
    assert client.stats['requests']['GET /v3/projects'] == 1


def test_a_refused_listing_says_to_use_ids(mock, tmp_path):
    client = client_for(tmp_path)
    add_token(mock)
    mock.add(responses.GET, PROJECTS, status=403, headers={'X-Openstack-Request-Id': 'req-iam'},
             json={'error': {'code': 403, 'title': 'Forbidden', 'message': 'You are not authorized to perform the requested action: identity:list_projects.'}})
    with pytest.raises(IMSError) as caught:
        resolve_projects(client, 'projects', ['eu-de_app-web'])
    err = caught.value
    assert (err.status, err.request_id, err.service) == (403, 'req-iam', 'IAM')
    assert str(err).startswith("projects: looking up project 'eu-de_app-web' by name: IAM request failed: GET")
    assert 'may not list IAM projects; give project ids instead (32 hexadecimal characters' in str(err)
    assert 'identity:list_projects' in str(err)


def test_unknown_and_ambiguous_names(mock, tmp_path):
    client = client_for(tmp_path)
    add_token(mock)
    mock.add(responses.GET, PROJECTS, json={'projects': []})
    with pytest.raises(IMSError, match="projects: project 'nope' not found .or not visible to these credentials."):
        resolve_projects(client, 'projects', ['nope'])
    mock.add(responses.GET, PROJECTS, json={'projects': [{'id': WEB, 'name': 'twin', 'domain_id': 'd1'},
                                                         {'id': OTHER_PROJECT, 'name': 'twin', 'domain_id': 'd2'}]})
    with pytest.raises(IMSError) as caught:
        resolve_projects(client, 'projects', ['twin'])
    assert caught.value.details['matching_ids'] == [WEB, OTHER_PROJECT]
    assert 'set project_domain_id' in str(caught.value)


def test_aksk_cannot_use_names_and_fails_before_any_request(mock, tmp_path):
    client = client_for(tmp_path, auth_type='aksk', access_key='AK', secret_key='SK', ims_endpoint='https://ims.test')
    with pytest.raises(IMSError) as caught:
        resolve_projects(client, 'projects', [WEB, 'eu-de_app-web'])
    assert 'AK/SK credentials cannot list IAM projects' in str(caught.value) and 'give project ids' in str(caught.value)
    assert len(mock.calls) == 0


@pytest.mark.parametrize('values, message', [
    ('eu-de_web', 'projects must be a list of project ids or names'),
    (['ok', '  '], 'projects: item 1 is empty'),
    ([None], 'projects: item 0 is empty or not a string'),
])
def test_bad_project_lists_fail_before_any_request(values, message):
    with pytest.raises(IMSError, match=message):
        split_project_refs('projects', values)
