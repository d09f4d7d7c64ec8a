# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Member-API cases run against the emulator (glance mode) and a real Keystone + Glance.

Every step records what a client sees: the status, the body shape and a few role-normalised values (member roles,
member status, list counts). The expected values are the observations of real_openstack.md section 4.
"""

import json as jsonlib
import re
import uuid

import requests

MEMBER_KEYS = frozenset(('status', 'created_at', 'updated_at', 'image_id', 'member_id', 'schema'))
ERROR_KEYS = frozenset(('code', 'message', 'title'))
JSON = 'application/json'
JSON_PATCH = 'application/openstack-images-v2.1-json-patch'
ROLES = ('owner', 'consumer', 'other')
UUID_RE = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')


class Backend(object):
    """Keystone + Glance endpoints and three accounts, described like tests/real_openstack's openstack.json."""

    def __init__(self, name, description):
        self.name = name
        auth_url = description['auth_url'].rstrip('/')
        self.auth_url = auth_url if auth_url.endswith('/v3') else auth_url + '/v3'
        image_url = description['image_url'].rstrip('/')
        self.image_url = image_url[:-3] if image_url.endswith('/v2') else image_url
        self.user_domain_id = description['user_domain_id']
        self.accounts = dict((role, description[role]) for role in ROLES)
        self.verify = description.get('verify', True)
        self.tokens = {}

    def project_id(self, role):
        return self.accounts[role]['project_id']

    def role_of(self, project_id):
        for role, account in self.accounts.items():
            if account['project_id'] == project_id:
                return role
        return project_id

    def token(self, role):
        if role not in self.tokens:
            account = self.accounts[role]
            body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
                'name': account['username'], 'password': account['password'], 'domain': {'id': self.user_domain_id}}}},
                'scope': {'project': {'id': account['project_id']}}}}
            response = requests.post(self.auth_url + '/auth/tokens', json=body, verify=self.verify, timeout=30)
            if response.status_code != 201:
                raise AssertionError('%s: token for %s failed: %s %s' % (self.name, role, response.status_code, response.text))
            self.tokens[role] = response.headers['X-Subject-Token']
        return self.tokens[role]

    def call(self, role, method, path, json=None, accept=JSON, token=None, content_type=None, params=None):
        headers = {'Accept': accept}
        if role is not None:
            headers['X-Auth-Token'] = token or self.token(role)
        data = None
        if json is not None:
            data = jsonlib.dumps(json).encode('utf-8')
            headers['Content-Type'] = content_type or 'application/json'
        return requests.request(method, self.image_url + path, data=data, headers=headers, params=params, verify=self.verify, timeout=30)

    def create_image(self, visibility):
        name = 'parity-%s' % uuid.uuid4().hex[:12]
        body = {'name': name, 'visibility': visibility, 'disk_format': 'raw', 'container_format': 'bare'}
        response = self.call('owner', 'POST', '/v2/images', json=body)
        if response.status_code != 201:
            raise AssertionError('%s: creating an image failed: %s %s' % (self.name, response.status_code, response.text))
        return response.json()['id'], name

    def delete_image(self, image_id):
        self.call('owner', 'DELETE', '/v2/images/' + image_id)


def shape_of(response):
    """A backend-neutral description of the body."""
    if not response.content:
        return 'empty'
    content_type = response.headers.get('Content-Type', '').split(';')[0].strip()
    if content_type != JSON:
        return content_type
    body = response.json()
    keys = frozenset(body) if isinstance(body, dict) else frozenset()
    if keys == MEMBER_KEYS:
        return 'member'
    if keys == frozenset(('members', 'schema')):
        return 'members'
    if keys == ERROR_KEYS:
        return 'error'
    if 'images' in keys:
        return 'images'
    if 'id' in keys and 'visibility' in keys:
        return 'image'
    return 'json:' + ','.join(sorted(keys))


class Transcript(object):
    """The observations of one case on one backend, with what real_openstack.md says they should be."""

    def __init__(self, backend):
        self.backend = backend
        self.steps = []

    def extra_of(self, response, shape):
        body = response.json() if shape in ('member', 'members', 'images') else None
        if shape == 'member':
            return (self.backend.role_of(str(body['member_id'])), body['status'])
        if shape == 'members':
            return tuple(sorted(self.backend.role_of(m['member_id']) for m in body['members']))
        if shape == 'images':
            return len(body['images'])
        return None

    def normalized_message(self, response, shape):
        """An error message with image ids and project ids replaced, so that backends compare."""
        if shape != 'error':
            return None
        message = UUID_RE.sub('{image}', response.json()['message'])
        for role in ROLES:
            message = message.replace(self.backend.project_id(role), '{%s}' % role)
        return message

    def check(self, label, response, status, shape, extra=None):
        observed_shape = shape_of(response)
        observed = (response.status_code, observed_shape, self.extra_of(response, observed_shape))
        message = response.text[:300] if observed_shape != 'member' else ''
        self.steps.append({'label': label, 'observed': observed, 'expected': (status, shape, extra), 'message': message,
                           'normalized_message': self.normalized_message(response, observed_shape)})
        return response

    def observations(self):
        """What is compared between backends: status, shape, roles/statuses/counts and the normalised error message."""
        return [(step['label'],) + step['observed'] + (step['normalized_message'],) for step in self.steps]

    def mismatches(self):
        out = []
        for step in self.steps:
            status, shape, extra = step['observed']
            want_status, want_shape, want_extra = step['expected']
            if status != want_status or shape != want_shape or (want_extra is not None and extra != want_extra):
                out.append('%s: got %s, expected %s  %s' % (step['label'], step['observed'], step['expected'], step['message']))
        return out


def members_path(image_id, member=None):
    return '/v2/images/%s/members' % image_id + ('/' + member if member else '')


def case_member_lifecycle(backend, t):
    image, _name = backend.create_image('shared')
    try:
        consumer, other = backend.project_id('consumer'), backend.project_id('other')
        path, row = members_path(image), members_path(image, consumer)
        t.check('consumer cannot see the image yet', backend.call('consumer', 'GET', '/v2/images/' + image), 404, 'error')
        t.check('owner adds consumer', backend.call('owner', 'POST', path, json={'member': consumer}), 200, 'member', ('consumer', 'pending'))
        t.check('duplicate add', backend.call('owner', 'POST', path, json={'member': consumer}), 409, 'error')
        t.check('owner lists', backend.call('owner', 'GET', path), 200, 'members', ('consumer',))
        t.check('consumer lists', backend.call('consumer', 'GET', path), 200, 'members', ('consumer',))
        t.check('consumer shows own row', backend.call('consumer', 'GET', row), 200, 'member', ('consumer', 'pending'))
        t.check('owner shows the row', backend.call('owner', 'GET', row), 200, 'member', ('consumer', 'pending'))
        t.check('consumer sees the image while pending', backend.call('consumer', 'GET', '/v2/images/' + image), 200, 'image')
        for status in ('accepted', 'rejected', 'pending', 'accepted', 'accepted'):
            t.check('consumer sets %s' % status, backend.call('consumer', 'PUT', row, json={'status': status}), 200, 'member',
                    ('consumer', status))
        t.check('bogus status', backend.call('consumer', 'PUT', row, json={'status': 'bogus'}), 400, 'error')
        t.check('capitalised status', backend.call('consumer', 'PUT', row, json={'status': 'Accepted'}), 400, 'error')
        t.check('status missing', backend.call('consumer', 'PUT', row, json={'foo': 'bar'}), 400, 'error')
        t.check('owner cannot set the status', backend.call('owner', 'PUT', row, json={'status': 'accepted'}), 403, 'error')
        t.check('consumer cannot add', backend.call('consumer', 'POST', path, json={'member': other}), 403, 'error')
        t.check('consumer cannot delete itself', backend.call('consumer', 'DELETE', row), 403, 'error')
        t.check('outsider lists', backend.call('other', 'GET', path), 404, 'error')
        t.check('outsider shows', backend.call('other', 'GET', row), 404, 'error')
        t.check('outsider updates', backend.call('other', 'PUT', row, json={'status': 'accepted'}), 404, 'error')
        t.check('outsider adds', backend.call('other', 'POST', path, json={'member': other}), 404, 'error')
        missing = members_path(image, 'does-not-exist')
        t.check('owner shows unknown member', backend.call('owner', 'GET', missing), 404, 'error')
        t.check('owner updates unknown member', backend.call('owner', 'PUT', missing, json={'status': 'accepted'}), 404, 'error')
        t.check('owner deletes unknown member', backend.call('owner', 'DELETE', missing), 404, 'error')
        t.check('owner removes consumer', backend.call('owner', 'DELETE', row), 204, 'empty')
        t.check('remove again', backend.call('owner', 'DELETE', row), 404, 'error')
        t.check('consumer lost the image', backend.call('consumer', 'GET', '/v2/images/' + image), 404, 'error')
        t.check('consumer lost the row', backend.call('consumer', 'GET', row), 404, 'error')
        t.check('re-add starts pending', backend.call('owner', 'POST', path, json={'member': consumer}), 200, 'member',
                ('consumer', 'pending'))
    finally:
        backend.delete_image(image)


def case_add_member_bodies(backend, t):
    image, _name = backend.create_image('shared')
    try:
        path = members_path(image)
        t.check('empty object', backend.call('owner', 'POST', path, json={}), 400, 'error')
        t.check('no member key', backend.call('owner', 'POST', path, json={'foo': 'x'}), 400, 'error')
        t.check('empty member', backend.call('owner', 'POST', path, json={'member': ''}), 400, 'error')
        t.check('not an object', backend.call('owner', 'POST', path, json=['x']), 400, 'error')
        t.check('integer member id', backend.call('owner', 'POST', path, json={'member': 123}), 200, 'member', ('123', 'pending'))
        t.check('status in body is ignored', backend.call('owner', 'POST', path, json={'member': backend.project_id('consumer'),
                                                                                       'status': 'accepted'}),
                200, 'member', ('consumer', 'pending'))
        t.check('unknown project is not checked', backend.call('owner', 'POST', path, json={'member': 'no-such-project'}),
                200, 'member', ('no-such-project', 'pending'))
        t.check('own project', backend.call('owner', 'POST', path, json={'member': backend.project_id('owner')}),
                200, 'member', ('owner', 'pending'))
        t.check('all four listed', backend.call('owner', 'GET', path), 200, 'members', ('123', 'consumer', 'no-such-project', 'owner'))
        unknown = str(uuid.uuid4())
        t.check('unknown image', backend.call('owner', 'POST', members_path(unknown), json={'member': 'x'}), 404, 'error')
    finally:
        backend.delete_image(image)


def case_private_image_has_no_members(backend, t):
    image, _name = backend.create_image('private')
    try:
        path = members_path(image)
        t.check('add to private image', backend.call('owner', 'POST', path, json={'member': backend.project_id('consumer')}), 403, 'error')
        t.check('list private image', backend.call('owner', 'GET', path), 403, 'error')
    finally:
        backend.delete_image(image)


def case_rows_of_other_members(backend, t):
    image, _name = backend.create_image('shared')
    try:
        consumer, other = backend.project_id('consumer'), backend.project_id('other')
        backend.call('owner', 'POST', members_path(image), json={'member': consumer})
        backend.call('owner', 'POST', members_path(image), json={'member': other})
        others_row = members_path(image, other)
        t.check('owner lists both', backend.call('owner', 'GET', members_path(image)), 200, 'members', ('consumer', 'other'))
        t.check('consumer lists its row', backend.call('consumer', 'GET', members_path(image)), 200, 'members', ('consumer',))
        t.check("consumer shows other's row", backend.call('consumer', 'GET', others_row), 404, 'error')
        t.check("consumer updates other's row", backend.call('consumer', 'PUT', others_row, json={'status': 'accepted'}), 404, 'error')
        t.check("consumer deletes other's row", backend.call('consumer', 'DELETE', others_row), 404, 'error')
        t.check('consumer updates a missing row', backend.call('consumer', 'PUT', members_path(image, 'nope'), json={'status': 'accepted'}),
                404, 'error')
        t.check('owner sends a bogus status', backend.call('owner', 'PUT', members_path(image, consumer), json={'status': 'bogus'}),
                403, 'error')
    finally:
        backend.delete_image(image)


def case_member_calls_on_non_shared_images(backend, t):
    image, _name = backend.create_image('shared')
    try:
        consumer = backend.project_id('consumer')
        row = members_path(image, consumer)
        backend.call('owner', 'POST', members_path(image), json={'member': consumer})

        def patch(value):
            return backend.call('owner', 'PATCH', '/v2/images/' + image, json=[{'op': 'replace', 'path': '/visibility', 'value': value}],
                                content_type=JSON_PATCH)
        patch('private')
        t.check('private: owner shows the row', backend.call('owner', 'GET', row), 404, 'error')
        t.check('private: owner updates the row', backend.call('owner', 'PUT', row, json={'status': 'accepted'}), 403, 'error')
        t.check('private: owner deletes the row', backend.call('owner', 'DELETE', row), 403, 'error')
        t.check('private: owner adds', backend.call('owner', 'POST', members_path(image), json={'member': 'zzz'}), 403, 'error')
        t.check('private: consumer updates', backend.call('consumer', 'PUT', row, json={'status': 'accepted'}), 404, 'error')
        patch('community')
        t.check('community: owner adds', backend.call('owner', 'POST', members_path(image), json={'member': 'zzz'}), 403, 'error')
        t.check('community: owner lists', backend.call('owner', 'GET', members_path(image)), 403, 'error')
        t.check('community: consumer sees the image', backend.call('consumer', 'GET', '/v2/images/' + image), 200, 'image')
        t.check('community: not in the default list', backend.call('other', 'GET', '/v2/images', params={'name': _name}), 200, 'images', 0)
        t.check('community: listed with visibility=community',
                backend.call('other', 'GET', '/v2/images', params={'name': _name, 'visibility': 'community'}), 200, 'images', 1)
        t.check('community: other cannot delete', backend.call('other', 'DELETE', '/v2/images/' + image), 403, 'error')
    finally:
        backend.delete_image(image)


def case_image_calls(backend, t):
    image, _name = backend.create_image('shared')
    consumer = backend.project_id('consumer')
    backend.call('owner', 'POST', members_path(image), json={'member': consumer})
    path = '/v2/images/' + image

    def patch(role, operations, content_type=JSON_PATCH):
        return backend.call(role, 'PATCH', path, json=operations, content_type=content_type)
    visibility = [{'op': 'replace', 'path': '/visibility', 'value': 'shared'}]
    t.check('PATCH as application/json', patch('owner', visibility, content_type='application/json'), 415, 'error')
    t.check('PATCH by an outsider', patch('other', visibility), 404, 'error')
    t.check('PATCH by the member', patch('consumer', visibility), 403, 'error')
    t.check('PATCH bogus visibility', patch('owner', [{'op': 'replace', 'path': '/visibility', 'value': 'bogus'}]), 400, 'error')
    t.check('PATCH public', patch('owner', [{'op': 'replace', 'path': '/visibility', 'value': 'public'}]), 403, 'error')
    t.check('PATCH read-only status', patch('owner', [{'op': 'replace', 'path': '/status', 'value': 'active'}]), 403, 'error')
    t.check('create public', backend.call('owner', 'POST', '/v2/images', json={'name': 'x', 'visibility': 'public'}), 403, 'error')
    t.check('create bogus visibility', backend.call('owner', 'POST', '/v2/images', json={'name': 'x', 'visibility': 'bogus'}),
            400, 'error')
    t.check('member cannot delete', backend.call('consumer', 'DELETE', path), 403, 'error')
    t.check('outsider cannot delete', backend.call('other', 'DELETE', path), 404, 'error')
    t.check('owner deletes', backend.call('owner', 'DELETE', path), 204, 'empty')
    t.check('gone', backend.call('owner', 'GET', path), 404, 'error')
    t.check('members of a deleted image', backend.call('owner', 'GET', members_path(image)), 404, 'error')


def case_listing_parameters(backend, t):
    for label, params in (('bogus visibility', {'visibility': 'bogus'}), ('bogus member_status', {'member_status': 'bogus'}),
                          ('limit not a number', {'limit': 'x'}), ('negative limit', {'limit': '-1'}),
                          ('unknown marker', {'marker': str(uuid.uuid4())}), ('bogus sort_dir', {'sort_dir': 'up'})):
        t.check(label, backend.call('owner', 'GET', '/v2/images', params=params), 400, 'error')


def case_visibility_flip_keeps_members(backend, t):
    image, _name = backend.create_image('shared')
    try:
        path = members_path(image)
        backend.call('owner', 'POST', path, json={'member': backend.project_id('consumer')})

        def patch(value):
            return backend.call('owner', 'PATCH', '/v2/images/' + image, json=[{'op': 'replace', 'path': '/visibility', 'value': value}],
                                content_type=JSON_PATCH)
        t.check('shared -> private', patch('private'), 200, 'image')
        t.check('list while private', backend.call('owner', 'GET', path), 403, 'error')
        t.check('consumer while private', backend.call('consumer', 'GET', '/v2/images/' + image), 404, 'error')
        t.check('private -> shared', patch('shared'), 200, 'image')
        t.check('members are back', backend.call('owner', 'GET', path), 200, 'members', ('consumer',))
    finally:
        backend.delete_image(image)


def case_recipient_listing(backend, t):
    image, name = backend.create_image('shared')
    try:
        consumer = backend.project_id('consumer')
        backend.call('owner', 'POST', members_path(image), json={'member': consumer})

        def listing(**params):
            params['name'] = name
            return backend.call('consumer', 'GET', '/v2/images', params=params)
        t.check('pending: default list', listing(), 200, 'images', 0)
        t.check('pending: member_status=pending', listing(visibility='shared', member_status='pending'), 200, 'images', 1)
        t.check('pending: member_status=all', listing(visibility='shared', member_status='all'), 200, 'images', 1)
        backend.call('consumer', 'PUT', members_path(image, consumer), json={'status': 'accepted'})
        t.check('accepted: default list', listing(), 200, 'images', 1)
        backend.call('consumer', 'PUT', members_path(image, consumer), json={'status': 'rejected'})
        t.check('rejected: default list', listing(), 200, 'images', 0)
        t.check('rejected: member_status=rejected', listing(visibility='shared', member_status='rejected'), 200, 'images', 1)
        t.check('bad member_status', listing(member_status='bogus'), 400, 'error')
    finally:
        backend.delete_image(image)


def case_auth_and_error_formats(backend, t):
    image, _name = backend.create_image('shared')
    try:
        path = members_path(image)
        t.check('no token', backend.call(None, 'GET', path), 401, 'error')
        t.check('invalid token', backend.call('owner', 'GET', path, token='not-a-token'), 401, 'error')
        backend.call('owner', 'POST', path, json={'member': backend.project_id('consumer')})
        again = {'member': backend.project_id('consumer')}
        t.check('409 as JSON', backend.call('owner', 'POST', path, json=again), 409, 'error')
        t.check('409 as HTML for */*', backend.call('owner', 'POST', path, json=again, accept='*/*'), 409, 'text/html')
        t.check('409 as text', backend.call('owner', 'POST', path, json=again, accept='text/plain'), 409, 'text/plain')
        t.check('401 as HTML', backend.call('owner', 'GET', path, token='not-a-token', accept='*/*'), 401, 'text/html')
        t.check('unknown path', backend.call('owner', 'GET', '/v2/nothing-here'), 404, 'error')
        t.check('method not allowed', backend.call('owner', 'PATCH', path), 405, 'error')
    finally:
        backend.delete_image(image)


CASES = dict((name[len('case_'):], function) for name, function in sorted(globals().items()) if name.startswith('case_'))


def run_case(backend, name):
    transcript = Transcript(backend)
    CASES[name](backend, transcript)
    return transcript
