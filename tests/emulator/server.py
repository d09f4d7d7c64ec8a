# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator of Open Telekom Cloud IAM + IMS image sharing, for tests.

Run ``python tests/emulator/server.py --seed FILE --port 0``: the first stdout line is the base URL.
IAM lives under ``/v3``, IMS (native Glance v2 and the IMS v1 extension) under the same base URL and a
control API under ``/_emulator/``. Behaviour, settings and the seed format: tests/emulator/README.md.
"""

import argparse
import collections
import copy
import hashlib
import hmac
import html
import ipaddress
import json
import os
import random
import re
import secrets
import signal
import socket
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from urllib.parse import quote, urlencode

import yaml
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

HEX32_RE = re.compile(r'^[0-9a-f]{32}$')
UUID_RE = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')
SDK_DATE_FORMAT = '%Y%m%dT%H%M%SZ'
MEMBER_STATUSES = ('pending', 'accepted', 'rejected')
VISIBILITIES = ('public', 'private', 'shared', 'community')
SIGNATURE_MAX_SKEW = 15 * 60
AKSK_MAX_BODY = 12 * 1024 * 1024
JSON_PATCH_TYPES = ('application/openstack-images-v2.1-json-patch', 'application/openstack-images-v2.0-json-patch')
FAULT_KINDS = ('429', '500', '503', 'drop', 'delay')
DEFAULT_MEMBER_QUOTA = 256
DEFAULT_WHOLE_IMAGE_QUOTA = 10
# Seed images without created_at get increasing timestamps from here, so list order is stable.
SEED_EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp()

HTTP_TITLES = {
    400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
    409: 'Conflict', 413: 'Request Entity Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests',
    500: 'Internal Server Error', 503: 'Service Unavailable',
}
# webob renders "${explanation}<br /><br />\n${detail}\n${comment}\n"; Glance sets no detail or comment.
WEBOB_TAIL = '<br /><br />\n\n\n'
WEBOB_401 = ('This server could not verify that you are authorized to access the document you requested. Either you '
             'supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply '
             'the credentials required.')

# IMS v1 error codes (ims_api.md section 5.1) used by the batch API and its jobs.
IMG_ERRORS = {
    'IMG.0001': 'The request message format is invalid.',
    'IMG.0007': 'The request body is empty.',
    'IMG.0014': 'An exception occurred when IaaS OpenStack was executing the task.',
    'IMG.0023': 'An exception occurred during task query.',
    'IMG.0027': 'The image ID in the request does not exist.',
    'IMG.0030': 'The project ID and token in the request are invalid.',
    'IMG.0046': 'The image is unavailable.',
    'IMG.0047': 'This operation can be performed only by the image owner.',
    'IMG.0066': 'The image ID is incorrect.',
    'IMG.0067': 'The project ID is incorrect.',
    'IMG.0076': 'You cannot share an image with yourself.',
    'IMG.0086': 'No image was found.',
    'IMG.0088': 'The number of shared images has reached the maximum allowed.',
    'IMG.0089': 'The public image cannot be shared.',
    'IMG.0099': 'You do not have permission to access the KMS key.',
    'IMG.0108': 'The tenant ID was not found in the current region.',
    'IMG.0112': 'Failed to add the tenant.',
    'IMG.0113': 'Failed to delete the tenant.',
    'IMG.0177': 'The source and target tenants reside in different regions.',
}

# (method, path template, endpoint, family, kind). kind feeds the stats: token, read, write, job_submit, job_poll.
ROUTES = (
    ('GET', '/v3', 'iam_version', 'IAM', 'read'),
    ('POST', '/v3/auth/tokens', 'iam_issue_token', 'IAM', 'token'),
    ('GET', '/v2/images', 'list_images', 'IMS', 'read'),
    ('POST', '/v2/images', 'create_image', 'IMS', 'write'),
    ('GET', '/v2/images/{image_id}', 'show_image', 'IMS', 'read'),
    ('PATCH', '/v2/images/{image_id}', 'patch_image', 'IMS', 'write'),
    ('DELETE', '/v2/images/{image_id}', 'delete_image', 'IMS', 'write'),
    ('GET', '/v2/images/{image_id}/members', 'list_members', 'IMS', 'read'),
    ('POST', '/v2/images/{image_id}/members', 'add_member', 'IMS', 'write'),
    ('GET', '/v2/images/{image_id}/members/{member_id}', 'show_member', 'IMS', 'read'),
    ('PUT', '/v2/images/{image_id}/members/{member_id}', 'update_member', 'IMS', 'write'),
    ('DELETE', '/v2/images/{image_id}/members/{member_id}', 'remove_member', 'IMS', 'write'),
    ('GET', '/v2/schemas/member', 'schema_member', 'IMS', 'read'),
    ('GET', '/v2/schemas/members', 'schema_members', 'IMS', 'read'),
    ('GET', '/v2/cloudimages', 'list_cloudimages', 'IMS', 'read'),
    ('POST', '/v1/cloudimages/members', 'batch_add', 'IMS', 'job_submit'),
    ('PUT', '/v1/cloudimages/members', 'batch_update', 'IMS', 'job_submit'),
    ('DELETE', '/v1/cloudimages/members', 'batch_delete', 'IMS', 'job_submit'),
    ('GET', '/v1/{project_id}/jobs/{job_id}', 'show_job', 'IMS', 'job_poll'),
)
ROUTE_KEYS = frozenset('%s %s' % (r[0], r[1]) for r in ROUTES)
ROUTE_TEMPLATES = frozenset(r[1] for r in ROUTES)
ROUTE_INFO = dict(('%s %s' % (r[0], r[1]), r) for r in ROUTES)
# Glance policy action names, used in "You are not authorized to complete X action." messages.
GLANCE_ACTIONS = {
    'list_images': 'get_images', 'create_image': 'add_image', 'show_image': 'get_image', 'patch_image': 'modify_image',
    'delete_image': 'delete_image', 'list_members': 'get_members', 'add_member': 'add_member',
    'show_member': 'get_member', 'update_member': 'modify_member', 'remove_member': 'delete_member',
    'schema_member': 'get_member', 'schema_members': 'get_members',
}

DEFAULT_CONFIG = {
    'mode': 'otc',
    'job_duration': 2.0,
    'token_lifetime': 86400.0,
    'batch_readd': 'success',
    'batch_delete_missing': 'success',
    'batch_fail_mode': 'partial',
    'batch_allow_pending': False,
    'member_status_all': True,
    'otc_shared_visibility': 'shared',
    'latency': {},
    'token_rate_limit': None,
    'clock_offset': 0.0,
}
LATENCY_PRESETS = {
    'none': {},
    # Token issuance is the slow call on a real cloud; member calls cost tens of milliseconds.
    'realistic': {'IAM': {'fixed': 0.15, 'jitter': 0.1}, 'IMS': {'fixed': 0.03, 'jitter': 0.02}},
}

MEMBER_SCHEMA_PROPERTIES = {
    'status': {'enum': ['pending', 'accepted', 'rejected'], 'type': 'string',
               'description': 'The status of this image member'},
    'created_at': {'type': 'string', 'description': 'Date and time of image member creation'},
    'updated_at': {'type': 'string', 'description': 'Date and time of last modification of image member'},
    'image_id': {'pattern': '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
                 'type': 'string', 'description': 'An identifier for the image'},
    'member_id': {'type': 'string', 'description': 'An identifier for the image member (tenantId)'},
    'schema': {'readOnly': True, 'type': 'string'},
}
MEMBER_SCHEMA = {'name': 'member', 'properties': MEMBER_SCHEMA_PROPERTIES}
MEMBERS_SCHEMA = {
    'name': 'members',
    'links': [{'href': '{schema}', 'rel': 'describedby'}],
    'properties': {
        'members': {'items': {'name': 'member', 'properties': MEMBER_SCHEMA_PROPERTIES}, 'type': 'array'},
        'schema': {'type': 'string'},
    },
}


class SeedError(ValueError):
    """The seed document is not valid."""


class ConfigError(ValueError):
    """A control API request carries an invalid setting or rule."""


class ApiError(Exception):
    """Ends a request with an error response in one of the error shapes."""

    def __init__(self, status, shape, message, code=None, headers=None, tail=None):
        super(ApiError, self).__init__(message)
        self.status = status
        self.shape = shape  # webob | ims | gateway | keystone | iam
        self.message = message
        self.code = code
        self.headers = headers or {}
        self.tail = WEBOB_TAIL if tail is None else tail  # webob only: what follows the explanation


class DropConnection(ConnectionAbortedError):
    """Raised after the socket was shut down, so werkzeug ends the request silently."""


# ---------------------------------------------------------------- time formats

def iso_seconds(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def iso_millis(ts):
    dt = datetime.fromtimestamp(ts, timezone.utc)
    return dt.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (dt.microsecond // 1000)


def iso_micros(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def parse_iso(value):
    text = str(value).strip().replace('Z', '+00:00')
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


# ---------------------------------------------------------------- settings

def _number(key, value, minimum=None, exclusive=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError('%s must be a number' % key)
    if minimum is not None and (value < minimum or (exclusive and value == minimum)):
        raise ConfigError('%s must be %s %s' % (key, '>' if exclusive else '>=', minimum))
    return float(value)


def _choice(key, value, choices):
    if value not in choices:
        raise ConfigError('%s must be one of %s' % (key, ', '.join(choices)))
    return value


def _flag(key, value):
    if not isinstance(value, bool):
        raise ConfigError('%s must be true or false' % key)
    return value


def route_selector_valid(selector):
    return selector in ('*', 'IMS', 'IAM') or selector in ROUTE_KEYS or selector in ROUTE_TEMPLATES


def normalize_latency(value):
    if isinstance(value, str):
        if value not in LATENCY_PRESETS:
            raise ConfigError('latency preset must be one of %s' % ', '.join(LATENCY_PRESETS))
        return copy.deepcopy(LATENCY_PRESETS[value])
    if not isinstance(value, dict):
        raise ConfigError('latency must be a preset name or a mapping of route -> {fixed, jitter}')
    profile = {}
    for selector, spec in value.items():
        if not route_selector_valid(selector):
            raise ConfigError('latency: unknown route %r (use "*", "IMS", "IAM", "METHOD /template" or "/template")' % selector)
        if not isinstance(spec, dict) or set(spec) - {'fixed', 'jitter'}:
            raise ConfigError('latency[%s] must be {fixed: seconds, jitter: seconds}' % selector)
        profile[selector] = {'fixed': _number('latency.fixed', spec.get('fixed', 0.0), 0),
                             'jitter': _number('latency.jitter', spec.get('jitter', 0.0), 0)}
    return profile


def normalize_config(partial):
    """Validate a partial settings mapping and return it normalized."""
    if not isinstance(partial, dict):
        raise ConfigError('settings must be a JSON object')
    out = {}
    for key, value in partial.items():
        if key == 'mode':
            out[key] = _choice(key, value, ('otc', 'glance'))
        elif key == 'job_duration':
            out[key] = _number(key, value, 0)
        elif key == 'token_lifetime':
            out[key] = _number(key, value, 0, exclusive=True)
        elif key in ('batch_readd', 'batch_delete_missing'):
            out[key] = _choice(key, value, ('success', 'fail'))
        elif key == 'batch_fail_mode':
            out[key] = _choice(key, value, ('partial', 'atomic'))
        elif key in ('batch_allow_pending', 'member_status_all'):
            out[key] = _flag(key, value)
        elif key == 'otc_shared_visibility':
            out[key] = _choice(key, value, ('shared', 'private'))
        elif key == 'latency':
            out[key] = normalize_latency(value)
        elif key == 'token_rate_limit':
            if value is None:
                out[key] = None
            elif not isinstance(value, dict) or set(value) != {'per_user', 'window'}:
                raise ConfigError('token_rate_limit must be null or {per_user: n, window: seconds}')
            else:
                per_user = value['per_user']
                if isinstance(per_user, bool) or not isinstance(per_user, int) or per_user < 1:
                    raise ConfigError('token_rate_limit.per_user must be an integer >= 1')
                out[key] = {'per_user': per_user, 'window': _number('token_rate_limit.window', value['window'], 0, True)}
        elif key == 'clock_offset':
            out[key] = _number(key, value)
        else:
            raise ConfigError('unknown setting %r (known: %s)' % (key, ', '.join(sorted(DEFAULT_CONFIG))))
    return out


class FaultRule(object):
    """One fault injection rule: a scripted sequence or a probability, for the requests that match a route."""

    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise ConfigError('each fault rule must be an object')
        unknown = set(spec) - {'route', 'probability', 'kinds', 'sequence', 'retry_after', 'delay', 'seed', 'max_faults'}
        if unknown:
            raise ConfigError('unknown fault rule keys: %s' % ', '.join(sorted(unknown)))
        self.route = spec.get('route', '*')
        if not isinstance(self.route, str) or not route_selector_valid(self.route):
            raise ConfigError('fault rule: unknown route %r' % (self.route,))
        self.sequence = spec.get('sequence')
        self.probability = spec.get('probability')
        if (self.sequence is None) == (self.probability is None):
            raise ConfigError('a fault rule needs exactly one of "sequence" and "probability"')
        if self.sequence is not None:
            if not isinstance(self.sequence, list) or not self.sequence:
                raise ConfigError('sequence must be a non-empty list')
            self.sequence = [self._parse_step(step) for step in self.sequence]
        else:
            self.probability = _number('probability', self.probability, 0)
            if self.probability > 1:
                raise ConfigError('probability must be between 0 and 1')
            kinds = spec.get('kinds', ['500'])
            if not isinstance(kinds, list) or not kinds:
                raise ConfigError('kinds must be a non-empty list')
            self.kinds = [self._parse_step(kind) for kind in kinds]
            if any(kind[0] == 'ok' for kind in self.kinds):
                raise ConfigError('kinds cannot contain "ok"')
        retry_after = spec.get('retry_after', 1)
        if isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 0:
            raise ConfigError('retry_after must be an integer number of seconds >= 0')
        self.retry_after = retry_after
        self.delay = _number('delay', spec.get('delay', 0.5), 0)
        max_faults = spec.get('max_faults')
        if max_faults is not None and (isinstance(max_faults, bool) or not isinstance(max_faults, int) or max_faults < 0):
            raise ConfigError('max_faults must be an integer >= 0')
        self.max_faults = max_faults
        self.seed = spec.get('seed')
        self.rng = random.Random(self.seed)
        self.position = 0
        self.injected = 0
        self.spec = copy.deepcopy(spec)

    @staticmethod
    def _parse_step(step):
        """'429' -> ('429', None); 'delay:0.5' -> ('delay', 0.5); 'ok' -> ('ok', None)."""
        text = str(step)
        kind, _sep, arg = text.partition(':')
        if kind not in FAULT_KINDS + ('ok',):
            raise ConfigError('unknown fault kind %r (known: %s, ok)' % (text, ', '.join(FAULT_KINDS)))
        if arg:
            if kind != 'delay':
                raise ConfigError('only "delay" takes an argument (delay:SECONDS)')
            try:
                return kind, _number('delay', float(arg), 0)
            except ValueError:
                raise ConfigError('bad delay in %r' % text)
        return kind, None

    def matches(self, route_key, family):
        if self.route in ('*', family, route_key):
            return True
        return route_key.partition(' ')[2] == self.route

    def next_fault(self):
        """Return (kind, argument) to inject, or None: the delay for delay, Retry-After for 429. Consumes one sequence step."""
        if self.max_faults is not None and self.injected >= self.max_faults:
            return None
        if self.sequence is not None:
            if self.position >= len(self.sequence):
                return None
            kind, arg = self.sequence[self.position]
            self.position += 1
        else:
            if self.rng.random() >= self.probability:
                return None
            kind, arg = self.rng.choice(self.kinds)
        if kind == 'ok':
            return None
        self.injected += 1
        if kind == 'delay':
            return kind, (arg if arg is not None else self.delay)
        return kind, (self.retry_after if kind == '429' else None)

    def describe(self):
        out = dict(self.spec)
        out['injected'] = self.injected
        if self.sequence is not None:
            out['position'] = self.position
        return out


# ---------------------------------------------------------------- seed

def _listing(seed, key):
    value = seed.get(key) or []
    if not isinstance(value, list):
        raise SeedError('%s must be a list' % key)
    for item in value:
        if not isinstance(item, dict):
            raise SeedError('every entry of %s must be a mapping' % key)
    return value


def _derived_id(kind, name):
    return hashlib.md5(('%s:%s' % (kind, name)).encode('utf-8')).hexdigest()


def _bool_field(entry, key, default, where):
    value = entry.get(key, default)
    if not isinstance(value, bool):
        raise SeedError('%s: %s must be true or false' % (where, key))
    return value


def build_world(seed, now):
    """Turn a seed mapping into the emulator's tables. Raises SeedError with a precise message."""
    if not isinstance(seed, dict):
        raise SeedError('the seed must be a mapping')
    unknown = set(seed) - {'domains', 'projects', 'users', 'images', 'members', 'member_quota'}
    if unknown:
        raise SeedError('unknown top-level seed keys: %s' % ', '.join(sorted(unknown)))
    world = {'domains': {}, 'projects': {}, 'users': {}, 'access_keys': {}, 'images': {}, 'members': {}}

    domain_by_name = {}
    for entry in _listing(seed, 'domains'):
        name = entry.get('name')
        if not isinstance(name, str) or not name:
            raise SeedError('every domain needs a name')
        domain_id = str(entry.get('id') or _derived_id('domain', name))
        if not HEX32_RE.match(domain_id):
            raise SeedError('domain %s: id must be 32 lower-case hex characters' % name)
        world['domains'][domain_id] = {'id': domain_id, 'name': name}
        domain_by_name[name] = domain_id

    def domain_ref(value, where):
        if value in world['domains']:
            return value
        if value in domain_by_name:
            return domain_by_name[value]
        raise SeedError('%s: unknown domain %r' % (where, value))

    project_by_name = {}
    for entry in _listing(seed, 'projects'):
        project_id, name = str(entry.get('id', '')), entry.get('name')
        if not HEX32_RE.match(project_id):
            raise SeedError('project %s: id must be 32 lower-case hex characters' % name)
        if not isinstance(name, str) or not name:
            raise SeedError('project %s needs a name' % project_id)
        if project_id in world['projects']:
            raise SeedError('duplicate project id %s' % project_id)
        if 'domain' not in entry:
            raise SeedError('project %s needs a domain' % name)
        world['projects'][project_id] = {'id': project_id, 'name': name,
                                         'domain_id': domain_ref(entry['domain'], 'project %s' % name),
                                         'region': str(entry.get('region', 'eu-de'))}
        project_by_name[name] = project_id

    def project_ref(value, where):
        value = str(value)
        if value in world['projects']:
            return value
        if value in project_by_name:
            return project_by_name[value]
        raise SeedError('%s: unknown project %r' % (where, value))

    for entry in _listing(seed, 'users'):
        name = entry.get('name')
        where = 'user %s' % name
        if not isinstance(name, str) or not name:
            raise SeedError('every user needs a name')
        if not isinstance(entry.get('password'), str) or 'domain' not in entry:
            raise SeedError('%s needs a password and a domain' % where)
        user_id = str(entry.get('id') or _derived_id('user', name))
        projects = entry.get('projects') or []
        if not isinstance(projects, list):
            raise SeedError('%s: projects must be a list' % where)
        user = {'id': user_id, 'name': name, 'password': entry['password'],
                'domain_id': domain_ref(entry['domain'], where),
                'projects': [project_ref(p, where) for p in projects],
                'access_key': entry.get('access_key'), 'secret_key': entry.get('secret_key')}
        if (user['access_key'] is None) != (user['secret_key'] is None):
            raise SeedError('%s: access_key and secret_key go together' % where)
        if user['access_key'] is not None:
            if user['access_key'] in world['access_keys']:
                raise SeedError('%s: access key already used by another user' % where)
            world['access_keys'][str(user['access_key'])] = user_id
        world['users'][user_id] = user

    quota = seed.get('member_quota', {})
    if isinstance(quota, int) and not isinstance(quota, bool):
        quota = {'default': quota}
    if not isinstance(quota, dict) or set(quota) - {'default', 'whole_image'}:
        raise SeedError('member_quota must be an integer or {default: n, whole_image: n}')
    world['member_quota'] = {'default': int(quota.get('default', DEFAULT_MEMBER_QUOTA)),
                             'whole_image': int(quota.get('whole_image', DEFAULT_WHOLE_IMAGE_QUOTA))}

    for index, entry in enumerate(_listing(seed, 'images')):
        image_id = str(entry.get('id', ''))
        where = 'image %s' % (entry.get('name') or image_id)
        if not UUID_RE.match(image_id):
            raise SeedError('%s: id must be a UUID' % where)
        if image_id in world['images']:
            raise SeedError('duplicate image id %s' % image_id)
        visibility = entry.get('visibility', 'private')
        if visibility not in VISIBILITIES:
            raise SeedError('%s: visibility must be one of %s' % (where, ', '.join(VISIBILITIES)))
        key_authorized = entry.get('key_authorized', False)
        if isinstance(key_authorized, list):
            key_authorized = [project_ref(p, where) for p in key_authorized]
        elif not isinstance(key_authorized, bool):
            raise SeedError('%s: key_authorized must be true, false or a list of projects' % where)
        member_quota = entry.get('member_quota')
        if member_quota is not None and (isinstance(member_quota, bool) or not isinstance(member_quota, int)):
            raise SeedError('%s: member_quota must be an integer' % where)
        properties = entry.get('properties') or {}
        if not isinstance(properties, dict):
            raise SeedError('%s: properties must be a mapping' % where)
        created = parse_iso(entry['created_at']) if entry.get('created_at') else SEED_EPOCH + index * 60
        world['images'][image_id] = {
            'id': image_id, 'name': str(entry.get('name', '')), 'owner': project_ref(entry.get('owner'), where),
            'visibility': visibility, 'status': str(entry.get('status', 'active')),
            'encrypted': _bool_field(entry, 'encrypted', False, where), 'key_authorized': key_authorized,
            'whole_image': _bool_field(entry, 'whole_image', False, where), 'member_quota': member_quota,
            'protected': _bool_field(entry, 'protected', False, where),
            'created_at': created, 'updated_at': created, 'properties': dict(properties),
        }

    for entry in _listing(seed, 'members'):
        image_id = str(entry.get('image', ''))
        if image_id not in world['images']:
            raise SeedError('member entry: unknown image id %r' % image_id)
        member_id = project_ref(entry.get('project'), 'member of image %s' % image_id)
        status = entry.get('status', 'pending')
        if status not in MEMBER_STATUSES:
            raise SeedError('member entry: status must be one of %s' % ', '.join(MEMBER_STATUSES))
        world['members'][(image_id, member_id)] = {'status': status, 'created_at': now, 'updated_at': now}
    return world


def load_seed_file(path):
    try:
        with open(path, encoding='utf-8') as handle:
            return yaml.safe_load(handle) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SeedError('cannot read seed %s: %s' % (path, exc))


# ---------------------------------------------------------------- AK/SK (ims_api.md section 1.4)

def sdk_canonical_uri(path):
    uri = '/'.join(quote(segment, safe='~') for segment in path.split('/'))
    return uri if uri.endswith('/') else uri + '/'


def sdk_canonical_query(args):
    pairs = sorted((key, value) for key, value in args.items(multi=True))
    return '&'.join('%s=%s' % (quote(k, safe='~'), quote(v, safe='~')) for k, v in pairs)


def parse_sdk_authorization(value):
    """'SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex' -> dict, or None if malformed."""
    algorithm, _sep, rest = value.strip().partition(' ')
    if algorithm != 'SDK-HMAC-SHA256':
        return None
    fields = {}
    for part in rest.split(','):
        key, sep, val = part.strip().partition('=')
        if not sep:
            return None
        fields[key] = val
    if 'SignedHeaders' not in fields or 'Signature' not in fields:
        return None
    if ('Access' in fields) == ('Credential' in fields):
        return None
    return fields


def _hmac(key, message):
    return hmac.new(key, message.encode('utf-8'), hashlib.sha256).digest()


# ---------------------------------------------------------------- the emulator state

class Emulator(object):
    """All state, guarded by one lock. Handlers run under the lock; latency sleeps never do."""

    def __init__(self, seed, base_config, base_url=''):
        self.lock = threading.RLock()
        self.base_url = base_url
        self.start_seed = seed
        self.base_config = dict(DEFAULT_CONFIG, **normalize_config(base_config))
        self.config = dict(self.base_config)
        self.jitter_rng = random.Random()
        self.job_seq = 0
        self.in_flight = 0
        self._install(build_world(seed, self.now()))

    # -- lifecycle
    def _install(self, world):
        self.domains = world['domains']
        self.projects = world['projects']
        self.users = world['users']
        self.access_keys = world['access_keys']
        self.images = world['images']
        self.members = world['members']
        self.member_quota = world['member_quota']
        self.jobs = collections.OrderedDict()
        self.tokens = {}
        self.token_issue_times = collections.defaultdict(collections.deque)
        self.faults = []
        self.reset_stats()

    def reset(self, seed=None):
        """Back to the start-up settings and a fresh world; a bad seed raises SeedError and changes nothing."""
        with self.lock:
            world = build_world(self.start_seed if seed is None else seed, time.time() + self.base_config['clock_offset'])
            self.config = dict(self.base_config)
            self._install(world)

    def reset_stats(self):
        self.stats = {
            'requests': collections.Counter(), 'responses': collections.defaultdict(collections.Counter),
            'by_auth': collections.Counter({'token': 0, 'aksk': 0, 'none': 0}),
            'token_requests': 0, 'tokens_issued': 0, 'reads': 0, 'writes': 0, 'job_submissions': 0, 'job_polls': 0,
            'total': 0, 'max_in_flight': 0,
            'faults_injected': {'total': 0, 'by_kind': collections.Counter(), 'by_route': collections.defaultdict(collections.Counter)},
        }

    # -- clock
    def now(self):
        """The emulator's wall clock: real time plus the configured offset."""
        config = getattr(self, 'config', DEFAULT_CONFIG)
        return time.time() + config['clock_offset']

    # -- stats
    def record_request(self, route_key, kind, family, auth_kind):
        stats = self.stats
        stats['requests'][route_key] += 1
        stats['total'] += 1
        stats['by_auth'][auth_kind] += 1
        if kind == 'token':
            stats['token_requests'] += 1
        elif kind == 'job_poll':
            stats['job_polls'] += 1
        elif kind == 'job_submit':
            stats['job_submissions'] += 1
            stats['writes'] += 1
        elif kind == 'write':
            stats['writes'] += 1
        elif kind == 'read' and family == 'IMS':
            stats['reads'] += 1

    def stats_view(self):
        stats = self.stats
        faults = stats['faults_injected']
        return {
            'requests': dict(stats['requests']),
            'responses': dict((route, dict((str(code), n) for code, n in codes.items()))
                              for route, codes in stats['responses'].items()),
            'by_auth': dict(stats['by_auth']),
            'token_requests': stats['token_requests'], 'tokens_issued': stats['tokens_issued'],
            'reads': stats['reads'], 'writes': stats['writes'], 'job_submissions': stats['job_submissions'],
            'job_polls': stats['job_polls'], 'total': stats['total'], 'max_in_flight': stats['max_in_flight'],
            'faults_injected': {'total': faults['total'], 'by_kind': dict(faults['by_kind']),
                                'by_route': dict((r, dict(k)) for r, k in faults['by_route'].items())},
        }

    # -- faults and latency
    def pick_fault(self, route_key, family):
        for rule in self.faults:
            if rule.matches(route_key, family):
                fault = rule.next_fault()
                if fault is not None:
                    faults = self.stats['faults_injected']
                    faults['total'] += 1
                    faults['by_kind'][fault[0]] += 1
                    faults['by_route'][route_key][fault[0]] += 1
                    return fault
        return None

    def pick_latency(self, route_key, family):
        profile = self.config['latency']
        template = route_key.partition(' ')[2]
        for selector in (route_key, template, family, '*'):
            if selector in profile:
                spec = profile[selector]
                return spec['fixed'] + (self.jitter_rng.uniform(0, spec['jitter']) if spec['jitter'] else 0.0)
        return 0.0

    # -- lookups
    @property
    def mode(self):
        return self.config['mode']

    def user_by_name(self, value):
        for user in self.users.values():
            if user['name'] == value:
                return user
        return None

    def members_of(self, image_id):
        rows = [(member_id, row) for (img, member_id), row in self.members.items() if img == image_id]
        return sorted(rows, key=lambda item: (item[1]['created_at'], item[0]))

    def has_members(self, image_id):
        return any(img == image_id for (img, _member) in self.members)

    def member_quota_for(self, image):
        if image['member_quota'] is not None:
            return image['member_quota']
        return self.member_quota['whole_image'] if image['whole_image'] else self.member_quota['default']

    def key_authorized_for(self, image, project_id):
        if not image['encrypted']:
            return True
        authorized = image['key_authorized']
        return project_id in authorized if isinstance(authorized, list) else bool(authorized)

    def filter_visibility(self, image):
        """Visibility used by list filters and membership rules."""
        if self.mode == 'otc' and image['visibility'] == 'private' and self.has_members(image['id']):
            return 'shared'
        return image['visibility']

    def reported_visibility(self, image):
        if self.mode == 'otc' and self.config['otc_shared_visibility'] == 'private':
            return image['visibility']
        return self.filter_visibility(image)

    def membership_counts(self, image, project_id):
        """True when a member row of project_id grants it access to the image in the current mode."""
        if (image['id'], project_id) not in self.members:
            return False
        if self.mode == 'glance':
            return image['visibility'] == 'shared'
        return image['visibility'] != 'public'

    def image_visible(self, image, project_id):
        if image['owner'] == project_id or image['visibility'] == 'public':
            return True
        if image['visibility'] == 'community' and self.mode == 'glance':
            return True
        return self.membership_counts(image, project_id)

    def image_type(self, image, project_id):
        if image['visibility'] == 'public':
            return 'gold'
        if self.has_members(image['id']) and (image['owner'] == project_id or self.membership_counts(image, project_id)):
            return 'shared'
        return 'private'

    def image_view(self, image, project_id):
        view = {
            'id': image['id'], 'name': image['name'], 'status': image['status'],
            'visibility': self.reported_visibility(image), 'owner': image['owner'], 'protected': image['protected'],
            'os_hidden': False, 'checksum': None, 'container_format': 'bare', 'disk_format': 'qcow2',
            'min_disk': 0, 'min_ram': 0, 'size': None, 'virtual_size': None, 'tags': [],
            'created_at': iso_seconds(image['created_at']), 'updated_at': iso_seconds(image['updated_at']),
            'self': '/v2/images/%s' % image['id'], 'file': '/v2/images/%s/file' % image['id'],
            'schema': '/v2/schemas/image',
        }
        if self.mode == 'otc':
            view.update({'__imagetype': self.image_type(image, project_id),
                         '__whole_image': 'true' if image['whole_image'] else 'false',
                         '__isregistered': 'true', '__os_type': 'Linux', 'virtual_env_type': 'FusionCompute'})
            if image['encrypted']:
                view['__system__encrypted'] = '1'
                view['__system__cmkid'] = _derived_id('cmk', image['id'])[:8] + '-kms-key'
        view.update(image['properties'])
        return view

    @staticmethod
    def member_view(image_id, member_id, row, echo_member=None):
        return {'status': row['status'], 'created_at': iso_seconds(row['created_at']),
                'updated_at': iso_seconds(row['updated_at']), 'image_id': image_id,
                'member_id': member_id if echo_member is None else echo_member, 'schema': '/v2/schemas/member'}

    # -- tokens
    def issue_token(self, user, project=None, domain=None, methods=('password',)):
        issued = self.now()
        token = 'MII' + secrets.token_urlsafe(96)
        self.tokens[token] = {'user_id': user['id'], 'project_id': project['id'] if project else None,
                              'domain_id': domain['id'] if domain else None, 'issued_at': issued,
                              'expires_at': issued + self.config['token_lifetime'], 'revoked': False,
                              'methods': list(methods)}
        self.stats['tokens_issued'] += 1
        return token, self.tokens[token]

    def token_record(self, token):
        """The live record of a token, or (None, reason)."""
        record = self.tokens.get(token)
        if record is None:
            return None, 'token is invalid'
        if record['revoked']:
            return None, 'token has been revoked'
        if self.now() >= record['expires_at']:
            return None, 'token has expired'
        return record, None

    def revoke(self, user_ref=None):
        user_id = None
        if user_ref is not None:
            user = self.users.get(user_ref) or self.user_by_name(user_ref)
            if user is None:
                raise ConfigError('unknown user %r' % user_ref)
            user_id = user['id']
        count = 0
        for record in self.tokens.values():
            if not record['revoked'] and (user_id is None or record['user_id'] == user_id):
                record['revoked'] = True
                count += 1
        return count

    # -- jobs
    def new_job(self, job_type, op, project_id, payload):
        self.job_seq += 1
        job_id = uuid.uuid4().hex
        self.jobs[job_id] = {
            'job_id': job_id, 'job_type': job_type, 'op': op, 'project_id': project_id, 'payload': payload,
            'seq': self.job_seq, 'begin_mono': time.monotonic(), 'begin_time': self.now(),
            'duration': self.config['job_duration'], 'settled': False, 'status': None, 'end_time': None,
            'error_code': None, 'fail_reason': None, 'results': [],
        }
        return job_id

    def settle_due_jobs(self):
        """Apply every job whose duration has elapsed, in completion order. Called at the start of each request."""
        now_mono = time.monotonic()
        due = [job for job in self.jobs.values() if not job['settled'] and job['begin_mono'] + job['duration'] <= now_mono]
        for job in sorted(due, key=lambda j: (j['begin_mono'] + j['duration'], j['seq'])):
            self._settle(job)

    def job_phase(self, job):
        if job['settled']:
            return job['status']
        elapsed = time.monotonic() - job['begin_mono']
        return 'INIT' if elapsed < job['duration'] * 0.25 else 'RUNNING'

    def job_view(self, job):
        status = self.job_phase(job)
        view = {'job_id': job['job_id'], 'job_type': job['job_type'], 'begin_time': iso_millis(job['begin_time']),
                'end_time': None, 'status': status, 'error_code': None, 'fail_reason': None, 'entities': {}}
        if job['settled']:
            view.update({'end_time': iso_millis(job['end_time']), 'error_code': job['error_code'],
                         'fail_reason': job['fail_reason'], 'entities': {'results': copy.deepcopy(job['results'])}})
        return view

    def _image_error_for_owner_op(self, image_id, caller):
        image = self.images.get(image_id)
        if image is None:
            return 'IMG.0027', None
        if image['owner'] != caller:
            return 'IMG.0047', None
        return None, image

    def _evaluate_add(self, images, projects, caller):
        readd_fails = self.config['batch_readd'] == 'fail'
        outcome = []
        for image_id in images:
            error, image = self._image_error_for_owner_op(image_id, caller)
            culprit = None
            if error is None:
                if image['visibility'] == 'public':
                    error = 'IMG.0089'
                elif image['status'] != 'active':
                    error = 'IMG.0046'
            if error is None:
                caller_region = self.projects[caller]['region'] if caller in self.projects else None
                for project_id in projects:
                    project = self.projects.get(project_id)
                    if project_id == caller:
                        error = 'IMG.0076'
                    elif project is None:
                        error = 'IMG.0108'
                    elif project['region'] != caller_region:
                        error = 'IMG.0177'
                    elif not self.key_authorized_for(image, project_id):
                        error = 'IMG.0099'
                    elif readd_fails and (image_id, project_id) in self.members:
                        error = 'IMG.0112'
                    if error:
                        culprit = project_id
                        break
            if error is None:
                new = [p for p in projects if (image_id, p) not in self.members]
                if len(self.members_of(image_id)) + len(new) > self.member_quota_for(image):
                    error = 'IMG.0088'
            outcome.append((image_id, error, culprit))
        return outcome

    def _evaluate_delete(self, images, projects, caller):
        missing_fails = self.config['batch_delete_missing'] == 'fail'
        outcome = []
        for image_id in images:
            error, _image = self._image_error_for_owner_op(image_id, caller)
            culprit = None
            if error is None and missing_fails:
                for project_id in projects:
                    if (image_id, project_id) not in self.members:
                        error, culprit = 'IMG.0113', project_id
                        break
            outcome.append((image_id, error, culprit))
        return outcome

    def _evaluate_update(self, images, caller):
        outcome = []
        for image_id in images:
            image = self.images.get(image_id)
            if image is None:
                outcome.append((image_id, 'IMG.0027', None))
            elif not self.membership_counts(image, caller):
                outcome.append((image_id, 'IMG.0086', None))
            else:
                outcome.append((image_id, None, None))
        return outcome

    def _settle(self, job):
        payload, caller, op = job['payload'], job['project_id'], job['op']
        finished = job['begin_time'] + job['duration']
        if op == 'add':
            outcome = self._evaluate_add(payload['images'], payload['projects'], caller)
        elif op == 'delete':
            outcome = self._evaluate_delete(payload['images'], payload['projects'], caller)
        else:
            outcome = self._evaluate_update(payload['images'], caller)
        failures = [item for item in outcome if item[1]]
        atomic = self.config['batch_fail_mode'] == 'atomic'
        results = []
        for image_id, error, culprit in outcome:
            if error:
                result = {'image_id': image_id, 'status': 'failed', 'error_code': error, 'fail_reason': IMG_ERRORS[error]}
                if culprit:
                    result['project_id'] = culprit
                results.append(result)
                continue
            if failures and atomic:
                results.append({'image_id': image_id, 'status': 'failed', 'error_code': None,
                                'fail_reason': 'Not applied: another image of the job failed.'})
                continue
            self._apply(op, image_id, payload, caller, finished)
            results.append({'image_id': image_id, 'status': 'success'})
        job['settled'] = True
        job['end_time'] = finished
        job['status'] = 'FAIL' if failures else 'SUCCESS'
        if failures:
            image_id, error, culprit = failures[0]
            job['error_code'] = error
            job['fail_reason'] = '%s (image %s%s)' % (IMG_ERRORS[error], image_id,
                                                      ', project %s' % culprit if culprit else '')
        # The documented delete job reports no per-image results on success.
        job['results'] = [] if (op == 'delete' and not failures) else results

    def _apply(self, op, image_id, payload, caller, when):
        if op == 'add':
            for project_id in payload['projects']:
                if (image_id, project_id) not in self.members:
                    self.members[(image_id, project_id)] = {'status': 'pending', 'created_at': when, 'updated_at': when}
        elif op == 'delete':
            for project_id in payload['projects']:
                self.members.pop((image_id, project_id), None)
        else:
            row = self.members[(image_id, caller)]
            row['status'] = payload['status']
            row['updated_at'] = when

    # -- control views
    def state_view(self):
        images = {}
        for image in self.images.values():
            raw = dict(image)
            raw['created_at'] = iso_seconds(image['created_at'])
            raw['updated_at'] = iso_seconds(image['updated_at'])
            raw['reported_visibility'] = self.reported_visibility(image)
            images[image['id']] = raw
        members = [{'image_id': img, 'member_id': mid, 'status': row['status'],
                    'created_at': iso_seconds(row['created_at']), 'updated_at': iso_seconds(row['updated_at'])}
                   for (img, mid), row in sorted(self.members.items(), key=lambda kv: (kv[0][0], kv[1]['created_at'], kv[0][1]))]
        jobs = {}
        for job_id, job in self.jobs.items():
            view = self.job_view(job)
            view['project_id'] = job['project_id']
            view['request'] = copy.deepcopy(job['payload'])
            jobs[job_id] = view
        live = sum(1 for token in self.tokens if self.token_record(token)[0] is not None)
        return {'images': images, 'members': members, 'jobs': jobs,
                'projects': dict((p['id'], {'name': p['name'], 'region': p['region'], 'domain_id': p['domain_id']})
                                 for p in self.projects.values()),
                'tokens': {'issued': len(self.tokens), 'live': live}, 'config': self.config_view(), 'now': iso_micros(self.now())}

    def config_view(self):
        return copy.deepcopy(self.config)


# ---------------------------------------------------------------- HTTP layer

def webob_body(status, message, accept, tail=WEBOB_TAIL):
    """Glance error bodies, as webob renders them: JSON only when Accept prefers it, else HTML or plain text."""
    title = HTTP_TITLES.get(status, 'Error')
    status_line = '%d %s' % (status, title)
    best = accept.best_match(['text/html', 'application/json', 'text/plain']) if accept else None
    if best == 'application/json':
        payload = {'message': message + tail, 'code': status_line, 'title': title}
        return json.dumps(payload), 'application/json'
    if best == 'text/plain':
        # webob's strip_tags: newlines become spaces, <br> tags newlines, other tags vanish.
        text = re.sub(r'<br.*?>', '\n', (message + tail).replace('\n', ' ').replace('\r', ''), flags=re.I | re.S)
        return '%s\n\n%s' % (status_line, re.sub(r'<.*?>', '', text, flags=re.S)), 'text/plain; charset=UTF-8'
    body = '<html>\n <head>\n  <title>%s</title>\n </head>\n <body>\n  <h1>%s</h1>\n  %s%s\n </body>\n</html>' % (
        status_line, status_line, html.escape(message, quote=False), tail)
    return body, 'text/html; charset=UTF-8'


def json_response(payload, status=200, headers=None):
    response = Response(json.dumps(payload, ensure_ascii=False), status=status, mimetype='application/json')
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def parse_json(body):
    """Return (value, problem): problem is None, 'empty' or 'malformed'."""
    if not body or not body.strip():
        return None, 'empty'
    try:
        return json.loads(body.decode('utf-8')), None
    except (ValueError, UnicodeDecodeError):
        return None, 'malformed'


class Context(object):
    """One request as the handlers see it."""

    def __init__(self, request, body, args, route, request_id):
        self.request = request
        self.body = body
        self.args = args
        self.route = route  # the ROUTES tuple
        self.request_id = request_id
        self.user = None
        self.project_id = None
        self.auth_kind = 'none'

    @property
    def endpoint(self):
        return self.route[2]

    @property
    def native(self):
        return self.route[1].startswith('/v2/') and self.route[2] != 'list_cloudimages'


class EmulatorApp(object):
    """The WSGI application: routing, stats, faults, latency, auth, and the handlers."""

    def __init__(self, emulator):
        self.emu = emulator
        self.url_map = Map([Rule(template.replace('{', '<').replace('}', '>'), endpoint='%s %s' % (method, template),
                                 methods=[method]) for method, template, _e, _f, _k in ROUTES],
                           strict_slashes=False, merge_slashes=False)

    # ------------------------------------------------------------ entry point
    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path == '/_emulator' or request.path.startswith('/_emulator/'):
            return self.control(request)(environ, start_response)
        return self.api(request, environ)(environ, start_response)

    def api(self, request, environ):
        request_id = uuid.uuid4().hex
        body = request.get_data(cache=True)
        adapter = self.url_map.bind_to_environ(environ)
        not_allowed = False
        try:
            route_key, args = adapter.match()
            route = ROUTE_INFO[route_key]
        except (NotFound, MethodNotAllowed) as exc:
            route_key, args, route = '%s <unmatched>' % request.method, {}, None
            not_allowed = isinstance(exc, MethodNotAllowed)
        family = route[3] if route else ('IAM' if request.path.startswith('/v3') else 'IMS')
        auth_kind = self.auth_kind_of(request)
        emu = self.emu
        with emu.lock:
            emu.in_flight += 1
            emu.stats['max_in_flight'] = max(emu.stats['max_in_flight'], emu.in_flight)
            emu.record_request(route_key, route[4] if route else 'other', family, auth_kind)
            fault = emu.pick_fault(route_key, family)
            delay = emu.pick_latency(route_key, family)
            mode = emu.mode
        try:
            if fault and fault[0] == 'delay':
                delay += fault[1]
                fault = None
            if delay > 0:
                time.sleep(delay)  # outside the lock, so slow requests overlap
            ctx = Context(request, body, args, route, request_id)
            if fault:
                response = self.fault_response(fault, ctx, family, mode, environ)
            elif route is None:
                response = self.unmatched(request, family, mode, not_allowed, request_id)
            else:
                response = self.dispatch(ctx)
        finally:
            with emu.lock:
                emu.in_flight -= 1
        response.headers['X-Request-Id'] = request_id
        if request.path.startswith('/v2/') and not request.path.startswith('/v2/cloudimages'):  # Glance's own calls
            response.headers['X-Openstack-Request-Id'] = 'req-' + str(uuid.UUID(request_id))
        with emu.lock:
            emu.stats['responses'][route_key][response.status_code] += 1
        return response

    @staticmethod
    def auth_kind_of(request):
        if request.headers.get('X-Auth-Token'):
            return 'token'
        if request.headers.get('Authorization', '').startswith('SDK-HMAC-SHA256'):
            return 'aksk'
        return 'none'

    def dispatch(self, ctx):
        handler = getattr(self, 'h_' + ctx.endpoint)
        try:
            with self.emu.lock:
                self.emu.settle_due_jobs()
                if ctx.route[3] == 'IMS':
                    self.check_family_available(ctx)
                    self.authenticate(ctx)
                return handler(ctx)
        except ApiError as err:
            return self.error_response(err, ctx)

    def check_family_available(self, ctx):
        """Real Glance has no IMS extension APIs."""
        if self.emu.mode == 'glance' and not ctx.native:
            raise ApiError(404, 'webob', 'The resource could not be found.')

    def unmatched(self, request, family, mode, not_allowed, request_id):
        if family == 'IAM':
            status = 405 if not_allowed else 404
            message = 'The method is not allowed for the requested URL.' if not_allowed else 'The resource could not be found.'
            return json_response({'error': {'code': status, 'title': HTTP_TITLES[status], 'message': message}}, status)
        if not_allowed:
            body, content_type = webob_body(405, 'The method %s is not allowed for this resource. ' % request.method,
                                            request.accept_mimetypes, tail='<br /><br />\n')
            return Response(body, status=405, content_type=content_type)
        if family == 'IMS' and mode == 'otc':
            return json_response({'error_code': 'APIGW.0101', 'error_msg': 'The API does not exist or has not been published in the environment',
                                  'request_id': request_id}, 404)
        body, content_type = webob_body(404, 'The resource could not be found.', request.accept_mimetypes)
        return Response(body, status=404, content_type=content_type)

    # ------------------------------------------------------------ error rendering
    def error_response(self, err, ctx):
        headers = dict(err.headers)
        if err.shape == 'webob':
            body, content_type = webob_body(err.status, err.message, ctx.request.accept_mimetypes, err.tail)
            response = Response(body, status=err.status, content_type=content_type)
        elif err.shape == 'ims':
            response = json_response({'error': {'code': err.code, 'message': err.message}}, err.status)
        elif err.shape == 'gateway':
            response = json_response({'error_msg': err.message, 'error_code': err.code, 'request_id': ctx.request_id}, err.status)
        elif err.shape == 'iam':
            response = json_response({'error_msg': err.message, 'error_code': err.code}, err.status)
        else:  # keystone
            response = json_response({'error': {'code': err.status, 'title': HTTP_TITLES.get(err.status, 'Error'),
                                                'message': err.message}}, err.status)
        for key, value in headers.items():
            response.headers[key] = value
        return response

    def fault_response(self, fault, ctx, family, mode, environ):
        kind = fault[0]
        if kind == 'drop':
            sock = environ.get('werkzeug.socket')
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            raise DropConnection('fault injection: connection dropped')
        status = int(kind)
        rule_retry = {'Retry-After': str(fault[1])} if status == 429 else {}
        if family == 'IAM':
            if status == 429:
                err = ApiError(429, 'iam', 'The throttling threshold has been reached. Threshold: 10 times per 1 seconds',
                               'IAM.0012', rule_retry)
            else:
                err = ApiError(status, 'keystone', 'Injected fault: the service is unavailable.' if status == 503
                               else 'An unexpected error prevented the server from fulfilling your request.')
        elif mode == 'glance' or (ctx.route is not None and ctx.native and status != 429):
            message = {429: 'Too many requests, please retry later.',
                       500: 'The server has either erred or is incapable of performing the requested operation.',
                       503: 'The server is currently unavailable. Please try again at a later time.'}[status]
            err = ApiError(status, 'webob', message, headers=rule_retry)
        elif status == 429:
            err = ApiError(429, 'gateway', 'The throttling threshold has been reached: policy user over ratelimit,limit:100,time:1 minute',
                           'APIGW.0308', rule_retry)
        else:
            err = ApiError(status, 'ims', IMG_ERRORS['IMG.0014'], 'IMG.0014')
        return self.error_response(err, ctx)

    # ------------------------------------------------------------ authentication for IMS
    def auth_error(self, message, code='APIGW.0301', status=401):
        if self.emu.mode == 'glance':
            return ApiError(401, 'webob', WEBOB_401, headers={'WWW-Authenticate': 'Keystone uri="%s/v3"' % self.emu.base_url})
        return ApiError(status, 'gateway', message, code)

    def authenticate(self, ctx):
        emu = self.emu
        token = ctx.request.headers.get('X-Auth-Token')
        authorization = ctx.request.headers.get('Authorization', '')
        if token:
            ctx.auth_kind = 'token'
            record, problem = emu.token_record(token)
            if record is None:
                raise self.auth_error('Incorrect IAM authentication information: %s' % problem)
            ctx.user = emu.users.get(record['user_id'])
            ctx.project_id = record['project_id']
            if ctx.project_id is None:
                if emu.mode == 'glance':
                    raise ApiError(403, 'webob', 'You are not authorized to complete %s action.' % GLANCE_ACTIONS.get(ctx.endpoint, ctx.endpoint))
                raise ApiError(400, 'ims', IMG_ERRORS['IMG.0030'] + ' A project-scoped token is required.', 'IMG.0030')
            return
        if authorization.startswith('SDK-HMAC-SHA256') and emu.mode == 'otc':
            ctx.auth_kind = 'aksk'
            self.verify_aksk(ctx, authorization)
            return
        raise self.auth_error('Incorrect IAM authentication information: x-auth-token not found')

    def verify_aksk(self, ctx, authorization):
        emu, request = self.emu, ctx.request
        if len(ctx.body) > AKSK_MAX_BODY:
            raise self.auth_error('Incorrect IAM authentication information: calc aksk signature fail:body too large')
        fields = parse_sdk_authorization(authorization)
        if fields is None:
            raise self.auth_error('Incorrect IAM authentication information: Authorization header is malformed')
        sdk_date = request.headers.get('X-Sdk-Date', '')
        try:
            signed_at = datetime.strptime(sdk_date, SDK_DATE_FORMAT).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            raise self.auth_error('Incorrect IAM authentication information: X-Sdk-Date is missing or malformed')
        now = emu.now()
        if abs(now - signed_at) > SIGNATURE_MAX_SKEW:
            server_time = datetime.fromtimestamp(now, timezone.utc).strftime(SDK_DATE_FORMAT)
            raise self.auth_error('Incorrect app authentication information: signature expired, signature time:%s,server time:%s'
                                  % (sdk_date, server_time), code='APIGW.0303')
        if 'Credential' in fields:
            access_key, _sep, scope = fields['Credential'].partition('/')
        else:
            access_key, scope = fields['Access'], None
        user_id = emu.access_keys.get(access_key)
        if user_id is None:
            raise self.auth_error('Incorrect IAM authentication information: ak %s not found' % access_key)
        user = emu.users[user_id]
        signed_headers = fields['SignedHeaders'].split(';')
        if 'host' not in signed_headers or 'x-sdk-date' not in signed_headers or signed_headers != sorted(signed_headers):
            raise self.auth_error('Incorrect IAM authentication information: SignedHeaders must be sorted and include host and x-sdk-date')
        header_lines = []
        for name in signed_headers:
            if name != name.lower() or name not in request.headers:
                raise self.auth_error('Incorrect IAM authentication information: signed header %s is missing' % name)
            header_lines.append('%s:%s' % (name, request.headers.get(name).strip()))
        payload_hash = request.headers.get('X-Sdk-Content-Sha256') or hashlib.sha256(ctx.body).hexdigest()
        canonical = '\n'.join([request.method.upper(), sdk_canonical_uri(request.path), sdk_canonical_query(request.args),
                               '\n'.join(header_lines) + '\n', ';'.join(signed_headers), payload_hash])
        canonical_hash = hashlib.sha256(canonical.encode('utf-8')).hexdigest()
        secret = str(user['secret_key'])
        if scope is None:
            expected = hmac.new(secret.encode('utf-8'), ('SDK-HMAC-SHA256\n%s\n%s' % (sdk_date, canonical_hash)).encode('utf-8'),
                                hashlib.sha256).hexdigest()
        else:
            parts = scope.split('/')
            if len(parts) != 4 or parts[3] != 'sdk_request':
                raise self.auth_error('Incorrect IAM authentication information: bad credential scope')
            key = ('SDK' + secret).encode('utf-8')
            for part in parts:
                key = _hmac(key, part)
            expected = hmac.new(key, ('SDK-HMAC-SHA256\n%s\n%s\n%s' % (sdk_date, scope, canonical_hash)).encode('utf-8'),
                                hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, fields['Signature']):
            raise self.auth_error('Incorrect IAM authentication information: verify aksk signature fail, canonicalRequest:%s'
                                  % canonical.replace('\n', '|'))
        project_id = request.headers.get('X-Project-Id')
        if project_id is None:
            if len(user['projects']) != 1:
                raise self.auth_error('Incorrect IAM authentication information: X-Project-Id is required for this access key')
            project_id = user['projects'][0]
        elif project_id not in user['projects']:
            raise self.auth_error('Incorrect IAM authentication information: the access key has no access to project %s' % project_id)
        ctx.user, ctx.project_id = user, project_id

    # ------------------------------------------------------------ IAM
    def h_iam_version(self, ctx):
        return json_response({'version': {'id': 'v3.0', 'status': 'stable', 'updated': '2020-01-01T00:00:00Z',
                                          'links': [{'rel': 'self', 'href': self.emu.base_url + '/v3/'}],
                                          'media-types': [{'base': 'application/json',
                                                           'type': 'application/vnd.openstack.identity-v3+json'}]}})

    def h_iam_issue_token(self, ctx):
        emu = self.emu
        data, problem = parse_json(ctx.body)
        if problem or not isinstance(data, dict) or not isinstance(data.get('auth'), dict):
            raise ApiError(400, 'keystone', 'Expecting to find auth in request body. The server could not comply with the request '
                                            'since it is either malformed or otherwise incorrect. The client is assumed to be in error.')
        auth = data['auth']
        identity = auth.get('identity')
        if not isinstance(identity, dict) or not isinstance(identity.get('methods'), list) or not identity['methods']:
            raise ApiError(400, 'keystone', 'Expecting to find identity in auth. The server could not comply with the request since '
                                            'it is either malformed or otherwise incorrect. The client is assumed to be in error.')
        methods = identity['methods']
        if 'password' in methods:
            user = self.password_user(identity.get('password'))
            methods = ['password']
        elif 'token' in methods:
            token_value = (identity.get('token') or {}).get('id') or ctx.request.headers.get('X-Auth-Token')
            record, _problem = emu.token_record(token_value or '')
            if record is None:
                raise ApiError(401, 'keystone', 'The request you have made requires authentication.')
            user = emu.users[record['user_id']]
            methods = ['token']
        else:
            raise ApiError(401, 'keystone', 'Attempted to authenticate with an unsupported method.')
        project, domain = self.token_scope(auth.get('scope'), user)
        self.enforce_token_rate_limit(user)
        token, record = emu.issue_token(user, project, domain, methods)
        body = self.token_body(user, project, domain, record, with_catalog=not ctx.request.args.get('nocatalog'))
        return json_response(body, 201, {'X-Subject-Token': token})

    def password_user(self, password):
        emu = self.emu
        if not isinstance(password, dict) or not isinstance(password.get('user'), dict):
            raise ApiError(400, 'keystone', 'Expecting to find user in password. The server could not comply with the request since '
                                            'it is either malformed or otherwise incorrect. The client is assumed to be in error.')
        spec = password['user']
        user = None
        if spec.get('id'):
            user = emu.users.get(str(spec['id']))
        elif spec.get('name'):
            domain_spec = spec.get('domain')
            if not isinstance(domain_spec, dict) or not (domain_spec.get('id') or domain_spec.get('name')):
                raise ApiError(400, 'keystone', 'Expecting to find domain in user. The server could not comply with the request since '
                                                'it is either malformed or otherwise incorrect. The client is assumed to be in error.')
            domain_id = self.domain_id_of(domain_spec)
            user = next((u for u in emu.users.values() if u['name'] == spec['name'] and u['domain_id'] == domain_id), None)
        else:
            raise ApiError(400, 'keystone', 'Expecting to find name or id in user.')
        secret = spec.get('password')
        if user is None or not isinstance(secret, str) or not hmac.compare_digest(secret.encode('utf-8'), user['password'].encode('utf-8')):
            raise ApiError(401, 'keystone', 'The request you have made requires authentication.')
        return user

    def domain_id_of(self, spec):
        if spec.get('id'):
            return str(spec['id'])
        for domain in self.emu.domains.values():
            if domain['name'] == spec.get('name'):
                return domain['id']
        return None

    def token_scope(self, scope, user):
        """(project, domain) of the requested scope; both None for a global token. Project wins over domain."""
        emu = self.emu
        if scope is None:
            return None, None
        if not isinstance(scope, dict):
            raise ApiError(400, 'keystone', 'The scope must be an object.')
        if isinstance(scope.get('project'), dict):
            spec = scope['project']
            project = None
            if spec.get('id'):
                project = emu.projects.get(str(spec['id']))
            elif spec.get('name'):
                domain_spec = spec.get('domain')
                if not isinstance(domain_spec, dict) or not (domain_spec.get('id') or domain_spec.get('name')):
                    raise ApiError(400, 'keystone', 'Expecting to find domain in project. The server could not comply with the request '
                                                    'since it is either malformed or otherwise incorrect. The client is assumed to be in error.')
                domain_id = self.domain_id_of(domain_spec)
                project = next((p for p in emu.projects.values() if p['name'] == spec['name'] and p['domain_id'] == domain_id), None)
            else:
                raise ApiError(400, 'keystone', 'Expecting to find id or name in project.')
            if project is None or project['id'] not in user['projects']:
                raise ApiError(401, 'keystone', 'The request you have made requires authentication.')
            return project, None
        if isinstance(scope.get('domain'), dict):
            domain_id = self.domain_id_of(scope['domain'])
            if domain_id != user['domain_id']:
                raise ApiError(401, 'keystone', 'The request you have made requires authentication.')
            return None, emu.domains[domain_id]
        raise ApiError(400, 'keystone', 'The scope must name a project or a domain.')

    def enforce_token_rate_limit(self, user):
        limit = self.emu.config['token_rate_limit']
        if not limit:
            return
        issued = self.emu.token_issue_times[user['id']]
        now = time.monotonic()
        while issued and issued[0] <= now - limit['window']:
            issued.popleft()
        if len(issued) >= limit['per_user']:
            retry_after = max(1, int(issued[0] + limit['window'] - now + 0.999))
            raise ApiError(429, 'iam', 'The throttling threshold has been reached. Threshold: %d times per %g seconds'
                           % (limit['per_user'], limit['window']), 'IAM.0012', {'Retry-After': str(retry_after)})
        issued.append(now)

    def token_body(self, user, project, domain, record, with_catalog):
        emu = self.emu
        user_domain = emu.domains[user['domain_id']]
        token = {
            'methods': record['methods'], 'expires_at': iso_micros(record['expires_at']),
            'issued_at': iso_micros(record['issued_at']),
            'user': {'id': user['id'], 'name': user['name'], 'password_expires_at': '',
                     'domain': {'id': user_domain['id'], 'name': user_domain['name']}},
            'roles': [{'id': _derived_id('role', 'te_admin'), 'name': 'te_admin'}],
        }
        if project is not None:
            project_domain = emu.domains[project['domain_id']]
            token['project'] = {'id': project['id'], 'name': project['name'],
                                'domain': {'id': project_domain['id'], 'name': project_domain['name']}}
        elif domain is not None:
            token['domain'] = {'id': domain['id'], 'name': domain['name']}
        if with_catalog:
            token['catalog'] = self.catalog(project['region'] if project else 'eu-de')
        return {'token': token}

    def catalog(self, region):
        # OTC publishes only public endpoints; a Keystone bootstrap registers all three interfaces.
        interfaces = ('public',) if self.emu.mode == 'otc' else ('public', 'internal', 'admin')

        def endpoints(service, url, endpoint_region):
            return [{'id': _derived_id(service + interface, url), 'interface': interface, 'region': endpoint_region,
                     'region_id': endpoint_region, 'url': url} for interface in interfaces]
        return [
            {'type': 'identity', 'id': _derived_id('service', 'iam'), 'name': 'iam',
             'endpoints': endpoints('identity', self.emu.base_url + '/v3', '*')},
            {'type': 'image', 'id': _derived_id('service', 'glance'), 'name': 'glance',
             'endpoints': endpoints('image', self.emu.base_url, region)},
        ]

    # ------------------------------------------------------------ native images
    def lookup_visible_image(self, ctx, image_id, message=None):
        image = self.emu.images.get(image_id)
        if image is None or not self.emu.image_visible(image, ctx.project_id):
            raise ApiError(404, 'webob', message or 'Image %s not found.' % image_id)
        return image

    def forbidden_action(self, ctx):
        return ApiError(403, 'webob', 'You are not authorized to complete %s action.' % GLANCE_ACTIONS[ctx.endpoint])

    def h_show_image(self, ctx):
        image_id = ctx.args['image_id']
        image = self.lookup_visible_image(ctx, image_id, 'No image found with ID %s' % image_id)
        return json_response(self.emu.image_view(image, ctx.project_id))

    def select_images(self, ctx, params):
        """Images the caller may list under Glance's rules, filtered by params; raises 400 on bad filters."""
        emu = self.emu
        visibility = params.pop('visibility', None)
        if visibility is not None and visibility not in VISIBILITIES + ('all',):
            raise ApiError(400, 'webob', 'Invalid visibility value: %s' % visibility)
        member_status = params.pop('member_status', 'accepted')
        allowed_status = MEMBER_STATUSES + (('all',) if emu.config['member_status_all'] or emu.mode == 'glance' else ())
        if member_status not in allowed_status:
            raise ApiError(400, 'webob', 'Invalid status: %s' % member_status)
        caller = ctx.project_id
        selected = []
        for image in emu.images.values():
            vis = emu.filter_visibility(image)
            if image['owner'] == caller or vis == 'public':
                pass
            elif vis == 'community':
                if emu.mode != 'glance' or visibility not in ('community', 'all'):
                    continue
            elif emu.membership_counts(image, caller):
                if member_status != 'all' and emu.members[(image['id'], caller)]['status'] != member_status:
                    continue
            else:
                continue
            if visibility not in (None, 'all') and vis != visibility:
                continue
            if visibility is None and vis == 'community' and image['owner'] != caller:
                continue
            view = emu.image_view(image, caller)
            if all(self.filter_matches(view, key, value) for key, value in params.items()):
                selected.append((image, view))
        return selected

    @staticmethod
    def filter_matches(view, key, value):
        if key not in view:
            return False
        actual = view[key]
        if isinstance(actual, bool):
            actual = 'true' if actual else 'false'
        return str(actual) == value

    @staticmethod
    def sort_and_page(selected, params, default_limit, max_limit=1000):
        sort_key = params.pop('sort_key', 'created_at')
        sort_dir = params.pop('sort_dir', 'desc')
        if sort_key not in ('created_at', 'updated_at', 'name', 'id', 'status'):
            raise ApiError(400, 'webob', 'Invalid sort key: %s. It must be one of the following: created_at, updated_at, name, id, status.'
                           % sort_key)
        if sort_dir not in ('asc', 'desc'):
            raise ApiError(400, 'webob', 'Invalid sort direction: %s' % sort_dir)
        selected.sort(key=lambda item: (str(item[1].get(sort_key) or ''), item[0]['id']), reverse=sort_dir == 'desc')
        limit_text = params.pop('limit', None)
        if limit_text is None:
            limit = default_limit
        else:
            try:
                limit = int(limit_text)
            except ValueError:
                raise ApiError(400, 'webob', 'limit param must be an integer')
            if limit < 0:
                raise ApiError(400, 'webob', 'limit param must be positive')
        limit = min(limit, max_limit)
        marker = params.pop('marker', None)
        start = 0
        if marker is not None:
            ids = [item[0]['id'] for item in selected]
            if marker not in ids:
                raise ApiError(400, 'webob', 'No image found with ID %s' % marker)
            start = ids.index(marker) + 1
        return selected[start:start + limit], limit

    def h_list_images(self, ctx):
        query = list(ctx.request.args.items(multi=True))
        params = dict(query)
        for control_key in ('limit', 'marker', 'sort_key', 'sort_dir'):
            params.pop(control_key, None)
        selected = self.select_images(ctx, dict(params))
        paging = dict((k, v) for k, v in query if k in ('limit', 'marker', 'sort_key', 'sort_dir'))
        page, limit = self.sort_and_page(selected, paging, default_limit=25)
        body = {'images': [view for _image, view in page], 'schema': '/v2/schemas/images'}
        base_params = [(k, v) for k, v in query if k != 'marker']
        body['first'] = '/v2/images' + ('?' + urlencode(base_params) if base_params else '')
        # Like Glance: a full page always carries "next", even when nothing follows.
        if page and len(page) == limit:
            body['next'] = '/v2/images?' + urlencode(base_params + [('marker', page[-1][0]['id'])])
        return json_response(body)

    def h_list_cloudimages(self, ctx):
        query = list(ctx.request.args.items(multi=True))
        params = dict((k, v) for k, v in query if k not in ('limit', 'marker', 'sort_key', 'sort_dir'))
        selected = self.select_images(ctx, params)
        paging = dict((k, v) for k, v in query if k in ('limit', 'marker', 'sort_key', 'sort_dir'))
        page, _limit = self.sort_and_page(selected, paging, default_limit=500)
        return json_response({'images': [view for _image, view in page]})

    def h_create_image(self, ctx):
        emu = self.emu
        data, problem = parse_json(ctx.body)
        if problem == 'empty':
            raise ApiError(400, 'webob', 'Body expected in request.')
        if problem or not isinstance(data, dict):
            raise ApiError(400, 'webob', 'Malformed JSON in request body.')
        read_only = {'owner', 'status', 'created_at', 'updated_at', 'self', 'file', 'schema', 'size', 'checksum'}
        for key in data:
            if key in read_only:
                raise ApiError(403, 'webob', "Attribute '%s' is read-only." % key)
        visibility = data.get('visibility', 'shared' if emu.mode == 'glance' else 'private')
        if visibility not in VISIBILITIES:
            raise self.bad_visibility(visibility)
        if visibility == 'public':
            raise ApiError(403, 'webob', 'You are not authorized to complete publicize_image action.')
        if emu.mode == 'otc' and visibility != 'private':
            raise ApiError(400, 'webob', 'Only private images can be created with the native API.')
        image_id = str(data.get('id') or uuid.uuid4())
        if not UUID_RE.match(image_id):
            raise ApiError(400, 'webob', 'id must be a UUID')
        if image_id in emu.images:
            raise ApiError(409, 'webob', 'Image with identifier %s already exists!' % image_id)
        now = emu.now()
        properties = dict((k, v) for k, v in data.items() if k not in ('id', 'name', 'visibility', 'protected'))
        emu.images[image_id] = {
            'id': image_id, 'name': str(data.get('name') or ''), 'owner': ctx.project_id, 'visibility': visibility,
            'status': 'queued', 'encrypted': False, 'key_authorized': False, 'whole_image': False, 'member_quota': None,
            'protected': bool(data.get('protected', False)), 'created_at': now, 'updated_at': now, 'properties': properties,
        }
        view = emu.image_view(emu.images[image_id], ctx.project_id)
        return json_response(view, 201, {'Location': '%s/v2/images/%s' % (emu.base_url, image_id)})

    @staticmethod
    def bad_visibility(value):
        # Glance's jsonschema message, verbatim.
        enum = "['community', 'public', 'private', 'shared']"
        return ApiError(400, 'webob', "Provided object does not match schema 'image': %r is not one of %s\n\n"
                                      "Failed validating 'enum' in schema['properties']['visibility']:\n"
                                      "    {'type': 'string',\n     'description': 'Scope of image accessibility',\n"
                                      "     'enum': %s}\n\nOn instance['visibility']:\n    %r" % (value, enum, enum, value))

    def h_patch_image(self, ctx):
        emu = self.emu
        content_type = (ctx.request.content_type or '').split(';')[0].strip()
        if content_type not in JSON_PATCH_TYPES:  # Glance checks the media type before it looks the image up
            accepted = ', '.join(sorted(JSON_PATCH_TYPES))
            raise ApiError(415, 'webob', 'The request media type %s is not supported by this server.' % (content_type or 'None'),
                           headers={'Accept-Patch': accepted},
                           tail='\n<br /><br />\nImage PATCH expects Content-Type one of: %s' % accepted)
        image = self.lookup_visible_image(ctx, ctx.args['image_id'], 'No image found with ID %s' % ctx.args['image_id'])
        if image['owner'] != ctx.project_id:
            raise self.forbidden_action(ctx)
        data, problem = parse_json(ctx.body)
        if problem or not isinstance(data, list):
            raise ApiError(400, 'webob', 'Request body must be a JSON array of operation objects.')
        changes = []
        for operation in data:
            if not isinstance(operation, dict) or operation.get('op') not in ('replace', 'add', 'remove') \
                    or not isinstance(operation.get('path'), str) or not operation['path'].startswith('/'):
                raise ApiError(400, 'webob', 'Operation objects must contain exactly one member named "op" and a "path".')
            name = operation['path'][1:]
            if name in ('id', 'owner', 'status', 'created_at', 'updated_at', 'self', 'file', 'schema'):
                raise ApiError(403, 'webob', "Attribute '%s' is read-only." % name)
            if operation['op'] != 'remove' and 'value' not in operation:
                raise ApiError(400, 'webob', 'Operation objects must contain exactly one member named "value".')
            if name == 'visibility':
                if operation['op'] == 'remove' or operation['value'] not in VISIBILITIES:
                    raise self.bad_visibility(operation.get('value'))
                if operation['value'] == 'public':
                    raise ApiError(403, 'webob', 'You are not authorized to complete publicize_image action.')
            changes.append((operation['op'], name, operation.get('value')))
        for op, name, value in changes:
            if name in ('visibility', 'name', 'protected'):
                image[name] = value if op != 'remove' else ''
            elif op == 'remove':
                image['properties'].pop(name, None)
            else:
                image['properties'][name] = value
        image['updated_at'] = emu.now()
        return json_response(emu.image_view(image, ctx.project_id))

    def h_delete_image(self, ctx):
        emu = self.emu
        image = self.lookup_visible_image(ctx, ctx.args['image_id'], 'Failed to find image %s to delete' % ctx.args['image_id'])
        if image['owner'] != ctx.project_id:
            raise self.forbidden_action(ctx)
        if image['protected']:
            raise ApiError(403, 'webob', 'Image %s is protected and cannot be deleted.' % image['id'])
        del emu.images[image['id']]
        for key in [key for key in emu.members if key[0] == image['id']]:
            del emu.members[key]
        return self.no_content()

    @staticmethod
    def no_content():
        response = Response(status=204)
        del response.headers['Content-Type']
        return response

    # ------------------------------------------------------------ native members (ims_api.md section 2)
    def require_member_capable(self, ctx, image, message, status=403):
        """Glance mode: only visibility 'shared' has members. OTC mode: anything but public."""
        visibility = image['visibility']
        if (self.emu.mode == 'glance' and visibility != 'shared') or (self.emu.mode == 'otc' and visibility == 'public'):
            raise ApiError(status, 'webob', message)

    def visible_member_row(self, ctx, image, member_id):
        """The member row the caller may see: the owner sees all rows, a member only its own."""
        row = self.emu.members.get((image['id'], member_id))
        if row is None or (image['owner'] != ctx.project_id and member_id != ctx.project_id):
            raise ApiError(404, 'webob', '%s not found in the member list of the image %s.' % (member_id, image['id']))
        return row

    def member_body(self, ctx):
        data, problem = parse_json(ctx.body)
        if problem == 'empty':
            raise ApiError(400, 'webob', 'Body expected in request.')
        if problem:
            raise ApiError(400, 'webob', 'Malformed JSON in request body.')
        return data

    def h_list_members(self, ctx):
        emu = self.emu
        image = self.lookup_visible_image(ctx, ctx.args['image_id'])
        self.require_member_capable(ctx, image, 'Not allowed to list members for image %s: Only shared images have members.' % image['id'])
        rows = emu.members_of(image['id'])
        if image['owner'] != ctx.project_id:
            rows = [(member_id, row) for member_id, row in rows if member_id == ctx.project_id]
        return json_response({'members': [emu.member_view(image['id'], m, row) for m, row in rows], 'schema': '/v2/schemas/members'})

    def h_show_member(self, ctx):
        image = self.lookup_visible_image(ctx, ctx.args['image_id'])
        # Glance turns this Forbidden into NotFound, keeping only the inner reason.
        self.require_member_capable(ctx, image, 'Only shared images have members.', status=404)
        member_id = ctx.args['member_id']
        row = self.visible_member_row(ctx, image, member_id)
        return json_response(self.emu.member_view(image['id'], member_id, row))

    def h_add_member(self, ctx):
        emu = self.emu
        data = self.member_body(ctx)
        if not isinstance(data, dict):
            raise ApiError(400, 'webob', 'Expected a member in the form: {"member": "image_id"}')
        if 'member' not in data:
            raise ApiError(400, 'webob', 'Member to be added not specified')
        if not data['member']:
            raise ApiError(400, 'webob', "Member can't be empty")
        image = self.lookup_visible_image(ctx, ctx.args['image_id'])
        if image['owner'] != ctx.project_id:
            raise self.forbidden_action(ctx)
        self.require_member_capable(ctx, image, 'Not allowed to create members for image %s.' % image['id'])
        member_id = str(data['member'])
        if emu.mode == 'otc' and not emu.key_authorized_for(image, member_id):
            raise ApiError(403, 'webob', 'Not allowed to create members for image %s: the KMS key of the encrypted image is not '
                                         'authorized for project %s.' % (image['id'], member_id))
        if (image['id'], member_id) in emu.members:
            raise ApiError(409, 'webob', 'Member %s is duplicated for image %s' % (member_id, image['id']))
        quota = emu.member_quota_for(image)
        count = len(emu.members_of(image['id']))
        if quota >= 0 and count >= quota:
            raise ApiError(413, 'webob', 'Image member limit exceeded for image %s: The limit has been exceeded on the number of allowed '
                                         'image members for this image. Attempted: %d, Maximum: %d:' % (image['id'], count + 1, quota))
        now = emu.now()
        row = emu.members[(image['id'], member_id)] = {'status': 'pending', 'created_at': now, 'updated_at': now}
        return json_response(emu.member_view(image['id'], member_id, row, echo_member=data['member']))

    def h_update_member(self, ctx):
        emu = self.emu
        data = self.member_body(ctx)
        if not isinstance(data, dict) or 'status' not in data:
            raise ApiError(400, 'webob', 'Status not specified')
        image = self.lookup_visible_image(ctx, ctx.args['image_id'])
        self.require_member_capable(ctx, image, 'Not allowed to update members for image %s.' % image['id'])
        member_id = ctx.args['member_id']
        row = self.visible_member_row(ctx, image, member_id)
        if member_id != ctx.project_id:
            raise self.forbidden_action(ctx)
        if data['status'] not in MEMBER_STATUSES:
            raise ApiError(400, 'webob', 'Incorrect request: Status must be "pending", "accepted" or "rejected".')
        row['status'] = data['status']
        row['updated_at'] = emu.now()
        return json_response(emu.member_view(image['id'], member_id, row))

    def h_remove_member(self, ctx):
        emu = self.emu
        image = self.lookup_visible_image(ctx, ctx.args['image_id'])
        self.require_member_capable(ctx, image, 'Not allowed to delete members for image %s.' % image['id'])
        member_id = ctx.args['member_id']
        self.visible_member_row(ctx, image, member_id)
        if image['owner'] != ctx.project_id:
            raise self.forbidden_action(ctx)
        del emu.members[(image['id'], member_id)]
        return self.no_content()

    def h_schema_member(self, ctx):
        return json_response(MEMBER_SCHEMA)

    def h_schema_members(self, ctx):
        return json_response(MEMBERS_SCHEMA)

    # ------------------------------------------------------------ IMS v1 batch members and jobs (sections 3, 4)
    @staticmethod
    def img_error(code, status=400, detail=None):
        message = IMG_ERRORS[code] + (' ' + detail if detail else '')
        return ApiError(status, 'ims', message, code)

    def batch_body(self, ctx, required, optional=()):
        data, problem = parse_json(ctx.body)
        if problem == 'empty':
            raise self.img_error('IMG.0007')
        if problem or not isinstance(data, dict):
            raise self.img_error('IMG.0001')
        missing = [key for key in required if key not in data]
        unknown = set(data) - set(required) - set(optional)
        if missing or unknown:
            detail = 'Missing: %s.' % ', '.join(missing) if missing else 'Unknown keys: %s.' % ', '.join(sorted(unknown))
            raise self.img_error('IMG.0001', detail=detail)
        return data

    def id_list(self, data, key, pattern, code):
        values = data[key]
        if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
            raise self.img_error('IMG.0001', detail='%s must be a non-empty list of strings.' % key)
        for value in values:
            if not pattern.match(value):
                raise self.img_error(code, detail='%r' % value)
        return list(collections.OrderedDict.fromkeys(values))

    def h_batch_add(self, ctx):
        data = self.batch_body(ctx, ('images', 'projects'))
        payload = {'images': self.id_list(data, 'images', UUID_RE, 'IMG.0066'),
                   'projects': self.id_list(data, 'projects', HEX32_RE, 'IMG.0067')}
        return json_response({'job_id': self.emu.new_job('imsAddImageMembersJob', 'add', ctx.project_id, payload)})

    def h_batch_delete(self, ctx):
        data = self.batch_body(ctx, ('images', 'projects'))
        payload = {'images': self.id_list(data, 'images', UUID_RE, 'IMG.0066'),
                   'projects': self.id_list(data, 'projects', HEX32_RE, 'IMG.0067')}
        return json_response({'job_id': self.emu.new_job('imsDelImageMembersJob', 'delete', ctx.project_id, payload)})

    def h_batch_update(self, ctx):
        data = self.batch_body(ctx, ('images', 'project_id', 'status'), ('vault_id',))
        images = self.id_list(data, 'images', UUID_RE, 'IMG.0066')
        project_id = data['project_id']
        if not isinstance(project_id, str) or not HEX32_RE.match(project_id):
            raise self.img_error('IMG.0067', detail='%r' % (project_id,))
        if project_id != ctx.project_id:
            raise self.img_error('IMG.0030', detail='project_id must be the project of the caller.')
        allowed = ('accepted', 'rejected') + (('pending',) if self.emu.config['batch_allow_pending'] else ())
        if data['status'] not in allowed:
            raise self.img_error('IMG.0001', detail='status must be one of: %s.' % ', '.join(allowed))
        if 'vault_id' in data and not isinstance(data['vault_id'], str):
            raise self.img_error('IMG.0001', detail='vault_id must be a string.')
        payload = {'images': images, 'status': data['status'], 'project_id': project_id}
        return json_response({'job_id': self.emu.new_job('imsUpdateImageMembersJob', 'update', ctx.project_id, payload)})

    def h_show_job(self, ctx):
        emu = self.emu
        project_id, job_id = ctx.args['project_id'], ctx.args['job_id']
        if project_id != ctx.project_id:
            raise self.img_error('IMG.0030', detail='The project in the URL is not the project of the token.')
        job = emu.jobs.get(job_id)
        if job is None or job['project_id'] != project_id:
            raise self.img_error('IMG.0023', status=404, detail='Job %s does not exist in project %s.' % (job_id, project_id))
        return json_response(emu.job_view(job))

    # ------------------------------------------------------------ control API
    def control(self, request):
        try:
            return self.control_dispatch(request)
        except ConfigError as exc:
            return json_response({'error': str(exc)}, 400)
        except SeedError as exc:
            return json_response({'error': 'seed: %s' % exc}, 400)

    def control_dispatch(self, request):
        emu = self.emu
        path = request.path[len('/_emulator'):].rstrip('/') or '/'
        method = request.method
        data = {}
        if method in ('POST', 'PUT', 'DELETE') and request.get_data():
            data, problem = parse_json(request.get_data())
            if problem or not isinstance(data, dict):
                raise ConfigError('the body must be a JSON object')
        with emu.lock:
            emu.settle_due_jobs()
            if path == '/health' and method == 'GET':
                return json_response({'ok': True, 'mode': emu.mode, 'url': emu.base_url})
            if path == '/reset' and method == 'POST':
                seed = None
                if 'seed' in data:
                    seed = data['seed']
                elif 'seed_file' in data:
                    seed = load_seed_file(data['seed_file'])
                emu.reset(seed)
                return json_response({'ok': True})
            if path == '/state' and method == 'GET':
                return json_response(emu.state_view())
            if path == '/stats' and method == 'GET':
                return json_response(emu.stats_view())
            if path == '/stats/reset' and method == 'POST':
                emu.reset_stats()
                return json_response({'ok': True})
            if path == '/faults':
                if method == 'GET':
                    return json_response({'rules': [rule.describe() for rule in emu.faults]})
                if method == 'POST':
                    rules = data.get('rules')
                    if not isinstance(rules, list):
                        raise ConfigError('faults: {"rules": [...]} expected')
                    emu.faults = [FaultRule(spec) for spec in rules]
                    return json_response({'ok': True, 'rules': len(emu.faults)})
                if method == 'DELETE':
                    emu.faults = []
                    return json_response({'ok': True})
            if path == '/config':
                if method == 'GET':
                    return json_response(emu.config_view())
                if method == 'POST':
                    emu.config.update(normalize_config(data))
                    return json_response(emu.config_view())
            if path == '/tokens/revoke' and method == 'POST':
                if data.get('all'):
                    return json_response({'revoked': emu.revoke()})
                if 'user' in data:
                    return json_response({'revoked': emu.revoke(str(data['user']))})
                raise ConfigError('tokens/revoke: {"all": true} or {"user": NAME} expected')
        return json_response({'error': 'unknown control call %s %s' % (method, request.path)}, 404)


# ---------------------------------------------------------------- process

class QuietRequestHandler(WSGIRequestHandler):
    """No per-request access log: keeps test output clean (and tokens never reach a log)."""

    def log_request(self, code='-', size='-'):
        pass


def _loopback(host):
    if host == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_args(argv):
    parser = argparse.ArgumentParser(description='IMS + IAM emulator (tests only).')
    parser.add_argument('--seed', required=True, help='seed YAML file')
    parser.add_argument('--port', type=int, default=0, help='TCP port; 0 picks a free one')
    parser.add_argument('--host', default='127.0.0.1', help='loopback address to bind')
    parser.add_argument('--mode', choices=('otc', 'glance'), default='otc')
    parser.add_argument('--max-lifetime', type=float, default=3600.0, help='exit after this many seconds (0: no limit)')
    parser.add_argument('--tls-cert', help='PEM certificate (chain) for HTTPS')
    parser.add_argument('--tls-key', help='PEM private key for HTTPS')
    parser.add_argument('--job-duration', type=float, help='seconds from job submission to SUCCESS/FAIL')
    parser.add_argument('--token-lifetime', type=float, help='token lifetime in seconds')
    parser.add_argument('--config', help='initial settings as a JSON object (same keys as POST /_emulator/config)')
    args = parser.parse_args(argv)
    if not _loopback(args.host):
        parser.error('--host must be a loopback address')
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error('--tls-cert and --tls-key go together')
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    config = {'mode': args.mode}
    if args.config:
        try:
            config.update(json.loads(args.config))
        except ValueError as exc:
            sys.stderr.write('--config is not valid JSON: %s\n' % exc)
            return 2
    if args.job_duration is not None:
        config['job_duration'] = args.job_duration
    if args.token_lifetime is not None:
        config['token_lifetime'] = args.token_lifetime
    try:
        emulator = Emulator(load_seed_file(args.seed), config)
    except (SeedError, ConfigError) as exc:
        sys.stderr.write('emulator: %s\n' % exc)
        return 2
    ssl_context = (args.tls_cert, args.tls_key) if args.tls_cert else None
    server = make_server(args.host, args.port, EmulatorApp(emulator), threaded=True,
                         request_handler=QuietRequestHandler, ssl_context=ssl_context)
    host = '[%s]' % args.host if ':' in args.host else args.host
    emulator.base_url = '%s://%s:%d' % ('https' if ssl_context else 'http', host, server.server_port)
    stop_reason = []

    def stop(reason):
        if not stop_reason:
            stop_reason.append(reason)
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop('SIGTERM'))
    signal.signal(signal.SIGINT, lambda _signum, _frame: stop('SIGINT'))
    if args.max_lifetime > 0:
        timer = threading.Timer(args.max_lifetime, stop, args=('max-lifetime',))
        timer.daemon = True
        timer.start()
    sys.stdout.write(emulator.base_url + '\n')
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
    if stop_reason and stop_reason[0] == 'max-lifetime':
        sys.stderr.write('emulator: --max-lifetime of %gs reached, exiting\n' % args.max_lifetime)
    return 0


if __name__ == '__main__':
    os.umask(0o077)
    sys.exit(main())
