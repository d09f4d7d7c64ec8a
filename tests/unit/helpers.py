# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by the unit tests: a clock that moves only when slept on, a Keystone token answer, running a
module's main() in-process with its result handed back, and a fake Glance/IMS for the member modules.

Import them as ``ansible_collections.imscloud.sharing.tests.unit.helpers`` (works under plain pytest, see
tests/conftest.py, and under ansible-test units).
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import responses

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

# The connection settings the modules read from the environment: unset in module tests, so that the developer's
# shell cannot change what a test sees.
CONNECTION_ENV = ('OS_CLOUD', 'OS_CLIENT_CONFIG_FILE', 'OS_AUTH_URL', 'OS_USERNAME', 'OS_PASSWORD', 'OS_PROJECT_ID',
                  'OS_PROJECT_NAME', 'OS_TOKEN', 'OS_AUTH_TOKEN', 'OS_ACCESS_KEY', 'OS_SECRET_KEY', 'OS_REGION_NAME')


class FakeClock:
    """Time that passes only when someone sleeps: waits, job polls and retry back-off take no real time."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def token_body(project_id: str, image_url: str) -> dict:
    """A Keystone password token scoped to project_id whose catalog has one image endpoint, valid for a day."""
    now = datetime.now(timezone.utc)
    return {'token': {
        'methods': ['password'],
        'issued_at': now.strftime('%Y-%m-%dT%H:%M:%S.%fZ'),
        'expires_at': (now + timedelta(hours=24)).strftime('%Y-%m-%dT%H:%M:%S.%fZ'),
        'user': {'id': 'u1', 'name': 'alice', 'domain': {'id': 'd1', 'name': 'dom'}},
        'project': {'id': project_id, 'name': 'eu-de', 'domain': {'id': 'd1', 'name': 'dom'}},
        'catalog': [{'type': 'image', 'name': 'glance', 'id': 'g1', 'endpoints': [
            {'interface': 'public', 'region': 'eu-de', 'region_id': 'eu-de', 'url': image_url, 'id': 'e1'}]}],
    }}


def add_token(mock: responses.RequestsMock, tokens_url: str, project_id: str, image_url: str) -> None:
    """Answer one password authentication with a token scoped to project_id whose catalog has one image endpoint."""
    mock.add(responses.POST, tokens_url, json=token_body(project_id, image_url), status=201,
             headers={'X-Subject-Token': 'token-of-' + project_id})


class ModuleReturned(BaseException):
    """The module ended; ``result`` is what it returned. A BaseException, like the SystemExit of the real
    exit_json/fail_json: the module's "every other failure" handler must not catch it."""

    def __init__(self, result: dict) -> None:
        super().__init__(result)
        self.result = result


class AnsibleExitJson(ModuleReturned):
    """The module called exit_json."""


class AnsibleFailJson(ModuleReturned):
    """The module called fail_json."""


def patch_module_exits(monkeypatch: Any) -> None:
    """Make AnsibleModule raise its result instead of printing it and exiting the process.

    Each result carries the warnings given since the previous result, as one module run in its own process would.
    """
    warnings: list[str] = []

    def take_warnings() -> list[str]:
        given = warnings[:]
        del warnings[:]
        return given

    def exit_json(module: basic.AnsibleModule, **result: Any) -> None:
        result.setdefault('changed', False)
        result['warnings'] = take_warnings()
        raise AnsibleExitJson(result)

    def fail_json(module: basic.AnsibleModule, msg: str, **result: Any) -> None:
        result['msg'] = msg
        result['failed'] = True
        result['warnings'] = take_warnings()
        raise AnsibleFailJson(result)

    def warn(module: basic.AnsibleModule, warning: str) -> None:
        warnings.append(warning)

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
    monkeypatch.setattr(basic.AnsibleModule, 'warn', warn)


def run_module(main: Callable[[], None], args: dict, check_mode: bool = False, diff: bool = False) -> dict:
    """Run a module's main() with args (needs patch_module_exits); returns the result, failed or not."""
    args = dict(args)
    if check_mode:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    with patch_module_args(args):
        try:
            main()
        except ModuleReturned as returned:
            return returned.result
    raise AssertionError('the module neither exited nor failed')


def webob_error(status: int, message: str) -> tuple:
    """An error answer in the shape Glance (webob) gives it."""
    title = {400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict',
             413: 'Request Entity Too Large'}[status]
    return (status, {'Content-Type': 'application/json'},
            json.dumps({'code': '%d %s' % (status, title), 'title': title, 'message': message + '<br /><br />\n\n\n'}))


def ims_error(status: int, code: str, message: str) -> tuple:
    """An error answer in the shape the IMS extensions give it."""
    return status, {'Content-Type': 'application/json'}, json.dumps({'error': {'code': code, 'message': message}})


class FakeImageService:
    """A small stateful Glance/IMS answering through ``responses``: Keystone tokens, images, the native member
    routes, the IMS batch API with its jobs, and the probe that tells IMS from plain Glance.

    Each image's members are rows {member_id, status, created_at, updated_at}; the caller is the project the request's
    token is scoped to. Plain Glance (``glance = True``) has no batch API and members only on shared images.
    What the tests inspect: ``writes`` (every native write received: method, image id, member id or None),
    ``submissions`` (method, body of every batch request), ``calls()`` (every request but the token requests).
    What they inject: ``quota``, ``add_failures`` (member id -> answer served instead of adding), ``submit_script``
    (per submission: 'ok', '500' (not processed), 'drop-after' (processed, then 502), (status, code) refused),
    ``job_script`` (per job: None, {'fail': {image_id: code}}, 'running'), ``job_poll_error`` (a status), and
    ``before[route]`` (called with the request before a route answers; routes: add, read, update, delete, submit, poll).
    """

    SEEDED = '2026-01-01T00:00:00Z'
    ADDED = '2026-02-02T00:00:00Z'
    UPDATED = '2026-03-03T00:00:00Z'
    JOB_TYPES = {'POST': 'imsAddImageMembersJob', 'DELETE': 'imsDelImageMembersJob', 'PUT': 'imsUpdateImageMembersJob'}

    def __init__(self, mock: responses.RequestsMock, iam_url: str, ims_url: str, owner: str) -> None:
        self.mock = mock
        self.owner = owner               # the owner of images added without one
        self.glance = False
        self.images: dict[str, dict] = {}
        self.members: dict[tuple[str, str], dict] = {}   # (image_id, member_id) -> row
        self.quota = 128
        self.add_failures: dict[str, tuple] = {}
        self.writes: list[tuple] = []
        self.submissions: list[tuple] = []
        self.submit_script: list[Any] = []
        self.job_script: list[Any] = []
        self.job_poll_error: Any = None
        self.jobs: dict[str, dict] = {}
        self.before: dict[str, Callable[[Any], Any]] = {}
        self.tokens_url = iam_url + '/auth/tokens'
        self.batch_url = ims_url + '/v1/cloudimages/members'
        self.image_re = re.compile(re.escape(ims_url) + r'/v2/images/([^/?]+)$')
        self.members_re = re.compile(re.escape(ims_url) + r'/v2/images/([^/]+)/members$')
        self.member_re = re.compile(re.escape(ims_url) + r'/v2/images/([^/]+)/members/([^/]+)$')
        self.job_re = re.compile(re.escape(ims_url) + r'/v1/([0-9a-f]{32})/jobs/([^/]+)$')
        self.ims_url = ims_url
        self._register(mock, iam_url, ims_url)

    def _register(self, mock: responses.RequestsMock, iam_url: str, ims_url: str) -> None:
        mock.add_callback('POST', re.compile(re.escape(self.tokens_url) + r'.*'), callback=self.token)
        mock.add_callback('GET', re.compile(re.escape(ims_url) + r'/v2/images(\?.*)?$'), callback=self.list_images)
        # the IMS extension listing: its presence says the cloud has the batch API (plain Glance answers 404)
        mock.add_callback('GET', re.compile(re.escape(ims_url) + r'/v2/cloudimages'), callback=self.probe)
        for method in ('GET', 'PATCH'):
            mock.add_callback(method, self.image_re, callback=self.image_call)
        mock.add_callback('GET', self.members_re, callback=self.list_members)
        mock.add_callback('POST', self.members_re, callback=self.add_member)
        for method in ('GET', 'PUT', 'DELETE'):
            mock.add_callback(method, self.member_re, callback=self.member_call)
        for method in ('POST', 'PUT', 'DELETE'):
            mock.add_callback(method, self.batch_url, callback=self.submit)
        mock.add_callback('GET', self.job_re, callback=self.show_job)

    # --- setting up and reading the state ---------------------------------------------------------------------------
    def image(self, image_id: str, name: str, owner: str | None = None, members: Any = (), **fields: Any) -> dict:
        self.images[image_id] = dict({'id': image_id, 'name': name, 'owner': owner or self.owner,
                                      'visibility': 'private', 'status': 'active'}, **fields)
        for member_id, status in members:
            self.seed(image_id, member_id, status)
        return self.images[image_id]

    def seed(self, image_id: str, member_id: str, status: str = 'pending', stamp: str = SEEDED) -> None:
        self.members[(image_id, member_id)] = {'status': status, 'created_at': stamp, 'updated_at': stamp}

    def membership(self) -> dict:
        """{image_id: {member_id: status}} of every image that has members."""
        result: dict = {}
        for (image_id, member_id), row in sorted(self.members.items()):
            result.setdefault(image_id, {})[member_id] = row['status']
        return result

    def statuses(self, image_id: str) -> dict:
        return self.membership().get(image_id, {})

    def calls(self, method: str | None = None, pattern: str = '') -> list:
        """The requests received apart from the token requests, optionally only one method and URLs with pattern."""
        return [call.request for call in self.mock.calls if not call.request.url.startswith(self.tokens_url)
                and method in (None, call.request.method) and pattern in call.request.url]

    # --- rules ------------------------------------------------------------------------------------------------------
    def row(self, image_id: str, member_id: str) -> dict:
        return dict(self.members[(image_id, member_id)], image_id=image_id, member_id=member_id,
                    schema='/v2/schemas/member')

    def capable(self, image: dict) -> bool:
        return image['visibility'] == 'shared' or (not self.glance and image['visibility'] == 'private')

    def visible(self, image: dict | None, project: str) -> bool:
        return image is not None and (image['owner'] == project or (image['id'], project) in self.members)

    @staticmethod
    def caller(request: Any) -> str:
        return request.headers['X-Auth-Token'][len('token-of-'):]

    def _hook(self, route: str, request: Any) -> None:
        if route in self.before:
            self.before[route](request)

    # --- Keystone and images ----------------------------------------------------------------------------------------
    def token(self, request: Any) -> tuple:
        project = json.loads(request.body)['auth']['scope']['project']['id']
        return (201, {'X-Subject-Token': 'token-of-' + project, 'Content-Type': 'application/json'},
                json.dumps(token_body(project, self.ims_url)))

    def probe(self, request: Any) -> tuple:
        if self.glance:
            return 404, {}, json.dumps({'message': 'Not Found', 'code': '404 Not Found', 'title': 'Not Found'})
        return 200, {}, json.dumps({'images': []})

    def list_images(self, request: Any) -> tuple:
        caller = self.caller(request)
        query = dict((key, values[0]) for key, values in parse_qs(urlsplit(request.url).query).items())
        found = []
        for image in self.images.values():
            if query.get('owner', image['owner']) != image['owner'] or query.get('name', image['name']) != image['name']:
                continue
            if query.get('visibility') == 'shared' and (image['owner'] == caller
                                                        or (image['id'], caller) not in self.members):
                continue
            if self.visible(image, caller):
                found.append(image)
        return 200, {}, json.dumps({'images': found})

    def image_call(self, request: Any) -> tuple:
        image_id = self.image_re.match(request.url).group(1)
        image = self.images.get(image_id)
        if not self.visible(image, self.caller(request)):
            return webob_error(404, 'No image found with ID %s' % image_id)
        if request.method == 'PATCH':
            self.writes.append(('PATCH', image_id, None))
            for operation in json.loads(request.body):
                image[operation['path'].lstrip('/')] = operation['value']
        return 200, {}, json.dumps(image)

    # --- native members ---------------------------------------------------------------------------------------------
    def list_members(self, request: Any) -> tuple:
        image_id = self.members_re.match(request.url).group(1)
        caller = self.caller(request)
        image = self.images.get(image_id)
        if not self.visible(image, caller):
            return webob_error(404, 'No image found with ID %s' % image_id)
        if not self.capable(image):
            return webob_error(403, 'Not allowed to list members for image %s: Only shared images have members.'
                               % image_id)
        rows = [self.row(image_id, member) for (image_key, member) in sorted(self.members)
                if image_key == image_id and caller in (image['owner'], member)]
        return 200, {}, json.dumps({'members': rows, 'schema': '/v2/schemas/members'})

    def add_member(self, request: Any) -> tuple:
        self._hook('add', request)
        image_id = self.members_re.match(request.url).group(1)
        member_id = json.loads(request.body)['member']
        self.writes.append(('POST', image_id, member_id))
        refused = self._owner_refusal(request, image_id, 'add')
        if refused:
            return refused
        if member_id in self.add_failures:
            return self.add_failures[member_id]
        if (image_id, member_id) in self.members:
            return webob_error(409, 'Member %s is duplicated for image %s' % (member_id, image_id))
        if len(self.statuses(image_id)) >= self.quota:
            return webob_error(413, 'Image member limit exceeded for image %s' % image_id)
        self.seed(image_id, member_id, stamp=self.ADDED)
        return 200, {}, json.dumps(self.row(image_id, member_id))

    def _owner_refusal(self, request: Any, image_id: str, action: str) -> tuple | None:
        """The answer refusing an owner's write (add, delete) on image_id, or None when it may go ahead."""
        image = self.images.get(image_id)
        caller = self.caller(request)
        if not self.visible(image, caller):
            return webob_error(404, 'No image found with ID %s' % image_id)
        if caller != image['owner']:
            return webob_error(403, 'You are not authorized to complete %s_member action.' % action)
        if not self.capable(image):
            return webob_error(403, 'Not allowed to %s members for image %s.' % (
                'create' if action == 'add' else 'delete', image_id))
        return None

    def member_call(self, request: Any) -> tuple:
        image_id, member_id = self.member_re.match(request.url).groups()
        route = {'GET': 'read', 'PUT': 'update', 'DELETE': 'delete'}[request.method]
        self._hook(route, request)
        if request.method != 'GET':
            self.writes.append((request.method, image_id, member_id))
        caller = self.caller(request)
        missing = webob_error(404, '%s not found in the member list of the image %s.' % (member_id, image_id))
        if request.method == 'DELETE':
            refused = self._owner_refusal(request, image_id, 'delete')
            if refused or self.members.pop((image_id, member_id), None) is None:
                return refused or missing
            return 204, {}, ''
        image = self.images.get(image_id)
        if not self.visible(image, caller):
            return webob_error(404, 'No image found with ID %s' % image_id)
        hidden = request.method == 'GET' and caller not in (image['owner'], member_id)
        if (image_id, member_id) not in self.members or hidden:
            return missing
        if request.method == 'PUT':
            if caller != member_id:
                return webob_error(403, 'You are not authorized to complete modify_member action.')
            self.members[(image_id, member_id)].update(status=json.loads(request.body)['status'],
                                                       updated_at=self.UPDATED)
        return 200, {}, json.dumps(self.row(image_id, member_id))

    # --- the IMS batch API and its jobs -----------------------------------------------------------------------------
    def submit(self, request: Any) -> tuple:
        self._hook('submit', request)
        body = json.loads(request.body)
        self.submissions.append((request.method, body))
        outcome = self.submit_script.pop(0) if self.submit_script else 'ok'
        if outcome == '500':
            return ims_error(500, 'IMG.0014', 'An exception occurred.')
        if isinstance(outcome, tuple):
            return ims_error(outcome[0], outcome[1], 'Refused.')
        job_id = '%032x' % (len(self.jobs) + 1)
        script = self.job_script.pop(0) if self.job_script else None
        self.jobs[job_id] = {'job_id': job_id, 'job_type': self.JOB_TYPES[request.method], 'method': request.method,
                             'body': body, 'script': script, 'done': None}
        if outcome == 'drop-after':
            self._finish(self.jobs[job_id])
            return 502, {}, 'Bad Gateway'
        return 200, {}, json.dumps({'job_id': job_id})

    def _apply(self, job: dict, image_id: str) -> None:
        body = job['body']
        if job['method'] == 'POST':
            for project_id in body['projects']:
                if (image_id, project_id) not in self.members:
                    self.seed(image_id, project_id, stamp=self.ADDED)
        elif job['method'] == 'DELETE':
            for project_id in body['projects']:
                self.members.pop((image_id, project_id), None)
        else:
            self.members.setdefault((image_id, body['project_id']), {'created_at': self.ADDED}).update(
                status=body['status'], updated_at=self.UPDATED)

    def _finish(self, job: dict) -> dict:
        if job['done'] is not None:
            return job['done']
        failing = job['script'].get('fail', {}) if isinstance(job['script'], dict) else {}
        results = []
        for image_id in job['body']['images']:
            if image_id not in failing:
                self._apply(job, image_id)
            results.append({'image_id': image_id, 'status': 'failed' if image_id in failing else 'success'})
        code = next(iter(failing.values()), None)
        job['done'] = {'job_id': job['job_id'], 'job_type': job['job_type'], 'status': 'FAIL' if failing else 'SUCCESS',
                       'begin_time': '2024-11-06T06:30:00.778Z', 'end_time': '2024-11-06T06:30:03.179Z',
                       'error_code': code, 'fail_reason': 'The reason of %s.' % code if code else None,
                       'entities': {'results': results}}
        return job['done']

    def show_job(self, request: Any) -> tuple:
        self._hook('poll', request)
        if self.job_poll_error:
            return ims_error(self.job_poll_error, 'IMG.0023', 'Task query failed.')
        job = self.jobs[self.job_re.match(request.url).group(2)]
        if job['script'] == 'running':
            return 200, {}, json.dumps({'job_id': job['job_id'], 'job_type': job['job_type'], 'status': 'RUNNING',
                                        'begin_time': '2024-11-06T06:30:00.778Z', 'end_time': None, 'error_code': None,
                                        'fail_reason': None, 'entities': {}})
        return 200, {}, json.dumps(self._finish(job))
