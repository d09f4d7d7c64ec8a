# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The seed document (tests/emulator/README.md "Seed format") turned into the emulator's tables."""

import hashlib
import re
from datetime import datetime, timezone

import yaml

from .clock import parse_iso
from .totp import decode_secret

HEX32_RE = re.compile(r'^[0-9a-f]{32}$')
UUID_RE = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')
MEMBER_STATUSES = ('pending', 'accepted', 'rejected')
VISIBILITIES = ('public', 'private', 'shared', 'community')
DEFAULT_MEMBER_QUOTA = 256
DEFAULT_WHOLE_IMAGE_QUOTA = 10
# Seed images without created_at get increasing timestamps from here, so list order is stable.
SEED_EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp()
TOP_LEVEL_KEYS = {'domains', 'projects', 'users', 'images', 'image_families', 'members', 'member_quota'}
FAMILY_KEYS = {'name', 'prefix', 'count', 'owner', 'start', 'interval', 'date_format', 'tags', 'properties',
               'visibility', 'status'}
MAX_FAMILY_COUNT = 10000


class SeedError(ValueError):
    """The seed document is not valid."""


def derived_id(kind, name):
    """A stable 32-hex id for a seed entry given by name only."""
    return hashlib.md5(('%s:%s' % (kind, name)).encode('utf-8')).hexdigest()


def derived_uuid(name):
    """A stable UUID (version 4 layout) for an image named in a family."""
    digest = hashlib.md5(('image:%s' % name).encode('utf-8')).hexdigest()
    return '%s-%s-4%s-8%s-%s' % (digest[:8], digest[8:12], digest[13:16], digest[17:20], digest[20:32])


def _listing(seed, key):
    value = seed.get(key) or []
    if not isinstance(value, list):
        raise SeedError('%s must be a list' % key)
    for item in value:
        if not isinstance(item, dict):
            raise SeedError('every entry of %s must be a mapping' % key)
    return value


def _bool_field(entry, key, default, where):
    value = entry.get(key, default)
    if not isinstance(value, bool):
        raise SeedError('%s: %s must be true or false' % (where, key))
    return value


class World(object):
    """The tables a seed produces, and name -> id resolution while they are built."""

    def __init__(self):
        self.domains = {}
        self.projects = {}
        self.users = {}
        self.access_keys = {}
        self.app_credentials = {}
        self.images = {}
        self.members = {}
        self.member_quota = {'default': DEFAULT_MEMBER_QUOTA, 'whole_image': DEFAULT_WHOLE_IMAGE_QUOTA}
        self._domain_by_name = {}
        self._project_by_name = {}

    def domain_ref(self, value, where):
        if value in self.domains:
            return value
        if value in self._domain_by_name:
            return self._domain_by_name[value]
        raise SeedError('%s: unknown domain %r' % (where, value))

    def project_ref(self, value, where):
        value = str(value)
        if value in self.projects:
            return value
        if value in self._project_by_name:
            return self._project_by_name[value]
        raise SeedError('%s: unknown project %r' % (where, value))

    def add_domain(self, entry):
        name = entry.get('name')
        if not isinstance(name, str) or not name:
            raise SeedError('every domain needs a name')
        domain_id = str(entry.get('id') or derived_id('domain', name))
        if not HEX32_RE.match(domain_id):
            raise SeedError('domain %s: id must be 32 lower-case hex characters' % name)
        self.domains[domain_id] = {'id': domain_id, 'name': name}
        self._domain_by_name[name] = domain_id

    def add_project(self, entry):
        project_id, name = str(entry.get('id', '')), entry.get('name')
        if not HEX32_RE.match(project_id):
            raise SeedError('project %s: id must be 32 lower-case hex characters' % name)
        if not isinstance(name, str) or not name:
            raise SeedError('project %s needs a name' % project_id)
        if project_id in self.projects:
            raise SeedError('duplicate project id %s' % project_id)
        if 'domain' not in entry:
            raise SeedError('project %s needs a domain' % name)
        self.projects[project_id] = {'id': project_id, 'name': name,
                                     'domain_id': self.domain_ref(entry['domain'], 'project %s' % name),
                                     'region': str(entry.get('region', 'eu-de'))}
        self._project_by_name[name] = project_id

    def add_user(self, entry):
        name = entry.get('name')
        where = 'user %s' % name
        if not isinstance(name, str) or not name:
            raise SeedError('every user needs a name')
        if not isinstance(entry.get('password'), str) or 'domain' not in entry:
            raise SeedError('%s needs a password and a domain' % where)
        user_id = str(entry.get('id') or derived_id('user', name))
        projects = entry.get('projects') or []
        if not isinstance(projects, list):
            raise SeedError('%s: projects must be a list' % where)
        user = {'id': user_id, 'name': name, 'password': entry['password'],
                'domain_id': self.domain_ref(entry['domain'], where),
                'projects': [self.project_ref(p, where) for p in projects],
                'access_key': entry.get('access_key'), 'secret_key': entry.get('secret_key'),
                'list_projects': _bool_field(entry, 'list_projects', True, where),
                'locked': _bool_field(entry, 'locked', False, where),
                'totp_secret': self._totp_secret(entry.get('mfa'), where)}
        if (user['access_key'] is None) != (user['secret_key'] is None):
            raise SeedError('%s: access_key and secret_key go together' % where)
        if user['access_key'] is not None:
            if user['access_key'] in self.access_keys:
                raise SeedError('%s: access key already used by another user' % where)
            self.access_keys[str(user['access_key'])] = user_id
        self.users[user_id] = user
        for credential in entry.get('application_credentials') or []:
            self.add_app_credential(user, credential, where)

    @staticmethod
    def _totp_secret(mfa, where):
        """mfa: {totp_secret: <base32>} -> the secret, or None when the user has no virtual MFA device."""
        if mfa is None:
            return None
        if not isinstance(mfa, dict) or set(mfa) != {'totp_secret'}:
            raise SeedError('%s: mfa must be {totp_secret: <base32>}' % where)
        try:
            decode_secret(mfa['totp_secret'])
        except ValueError:
            raise SeedError('%s: mfa.totp_secret must be a base32 string' % where)
        return str(mfa['totp_secret'])

    def add_app_credential(self, user, entry, where):
        """An application credential {id, name, secret, project} of user (Keystone: scoped to one project)."""
        if not isinstance(entry, dict) or not isinstance(entry.get('name'), str) or not isinstance(entry.get('secret'), str):
            raise SeedError('%s: each application credential needs a name and a secret' % where)
        credential_id = str(entry.get('id') or derived_id('application_credential', user['id'] + entry['name']))
        project_id = self.project_ref(entry.get('project'), '%s application credential %s' % (where, entry['name']))
        if project_id not in user['projects']:
            raise SeedError('%s: application credential %s is for a project the user is not in' % (where, entry['name']))
        if credential_id in self.app_credentials:
            raise SeedError('%s: duplicate application credential id %s' % (where, credential_id))
        self.app_credentials[credential_id] = {'id': credential_id, 'name': entry['name'], 'secret': entry['secret'],
                                               'project_id': project_id, 'user_id': user['id']}

    def set_member_quota(self, quota):
        if isinstance(quota, int) and not isinstance(quota, bool):
            quota = {'default': quota}
        if not isinstance(quota, dict) or set(quota) - {'default', 'whole_image'}:
            raise SeedError('member_quota must be an integer or {default: n, whole_image: n}')
        self.member_quota = {'default': int(quota.get('default', DEFAULT_MEMBER_QUOTA)),
                             'whole_image': int(quota.get('whole_image', DEFAULT_WHOLE_IMAGE_QUOTA))}

    def add_image(self, entry, default_created):
        image_id = str(entry.get('id', ''))
        where = 'image %s' % (entry.get('name') or image_id)
        if not UUID_RE.match(image_id):
            raise SeedError('%s: id must be a UUID' % where)
        if image_id in self.images:
            raise SeedError('duplicate image id %s' % image_id)
        visibility = entry.get('visibility', 'private')
        if visibility not in VISIBILITIES:
            raise SeedError('%s: visibility must be one of %s' % (where, ', '.join(VISIBILITIES)))
        key_authorized = entry.get('key_authorized', False)
        if isinstance(key_authorized, list):
            key_authorized = [self.project_ref(p, where) for p in key_authorized]
        elif not isinstance(key_authorized, bool):
            raise SeedError('%s: key_authorized must be true, false or a list of projects' % where)
        member_quota = entry.get('member_quota')
        if member_quota is not None and (isinstance(member_quota, bool) or not isinstance(member_quota, int)):
            raise SeedError('%s: member_quota must be an integer' % where)
        properties = entry.get('properties') or {}
        if not isinstance(properties, dict):
            raise SeedError('%s: properties must be a mapping' % where)
        tags = entry.get('tags') or []
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            raise SeedError('%s: tags must be a list of strings' % where)
        try:
            created = parse_iso(entry['created_at']) if entry.get('created_at') else default_created
        except ValueError:
            raise SeedError('%s: created_at must be an ISO 8601 time' % where)
        self.images[image_id] = {
            'id': image_id, 'name': str(entry.get('name', '')), 'owner': self.project_ref(entry.get('owner'), where),
            'visibility': visibility, 'status': str(entry.get('status', 'active')),
            'encrypted': _bool_field(entry, 'encrypted', False, where), 'key_authorized': key_authorized,
            'whole_image': _bool_field(entry, 'whole_image', False, where), 'member_quota': member_quota,
            'protected': _bool_field(entry, 'protected', False, where),
            'created_at': created, 'updated_at': created, 'properties': dict(properties), 'tags': list(tags),
        }

    def add_family(self, family):
        """image_families entry: `count` images of one owner, one every `interval` seconds from `start`, named from
        `name` (a template with {n}, the 1-based number zero-padded to the width of count, and {date}, the creation
        time in `date_format`) or `prefix` + {n}. Ids are derived from the names, so a seed gives the same ids each time."""
        where = 'image family %s' % (family.get('name') or family.get('prefix'))
        unknown = set(family) - FAMILY_KEYS
        if unknown:
            raise SeedError('%s: unknown keys %s' % (where, ', '.join(sorted(unknown))))
        count, interval = family.get('count'), family.get('interval', 86400)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_FAMILY_COUNT:
            raise SeedError('%s: count must be an integer from 1 to %d' % (where, MAX_FAMILY_COUNT))
        if isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval < 0:
            raise SeedError('%s: interval must be a number of seconds >= 0' % where)
        if ('name' in family) == ('prefix' in family):
            raise SeedError('%s: give exactly one of name (a template) and prefix' % where)
        template = family['name'] if 'name' in family else str(family['prefix']) + '{n}'
        try:
            start = parse_iso(family['start']) if family.get('start') else SEED_EPOCH
        except ValueError:
            raise SeedError('%s: start must be an ISO 8601 time' % where)
        date_format = str(family.get('date_format', '%Y%m%d'))
        width = len(str(count))
        for index in range(count):
            created = start + index * interval
            stamp = datetime.fromtimestamp(created, timezone.utc)
            try:
                name = str(template).format(n=str(index + 1).zfill(width), date=stamp.strftime(date_format))
            except (KeyError, IndexError, ValueError):
                raise SeedError('%s: name may use only {n} and {date}' % where)
            entry = dict((k, family[k]) for k in ('owner', 'tags', 'properties', 'visibility', 'status') if k in family)
            entry.update(id=derived_uuid(name), name=name)
            self.add_image(entry, created)

    def add_member(self, entry, now):
        image_id = str(entry.get('image', ''))
        if image_id not in self.images:
            raise SeedError('member entry: unknown image id %r' % image_id)
        member_id = self.project_ref(entry.get('project'), 'member of image %s' % image_id)
        status = entry.get('status', 'pending')
        if status not in MEMBER_STATUSES:
            raise SeedError('member entry: status must be one of %s' % ', '.join(MEMBER_STATUSES))
        self.members[(image_id, member_id)] = {'status': status, 'created_at': now, 'updated_at': now}


def build_world(seed, now):
    """Turn a seed mapping into a World. Raises SeedError with a precise message."""
    if not isinstance(seed, dict):
        raise SeedError('the seed must be a mapping')
    unknown = set(seed) - TOP_LEVEL_KEYS
    if unknown:
        raise SeedError('unknown top-level seed keys: %s' % ', '.join(sorted(unknown)))
    world = World()
    for entry in _listing(seed, 'domains'):
        world.add_domain(entry)
    for entry in _listing(seed, 'projects'):
        world.add_project(entry)
    for entry in _listing(seed, 'users'):
        world.add_user(entry)
    world.set_member_quota(seed.get('member_quota', {}))
    for index, entry in enumerate(_listing(seed, 'images')):
        world.add_image(entry, SEED_EPOCH + index * 60)
    for family in _listing(seed, 'image_families'):
        world.add_family(family)
    for entry in _listing(seed, 'members'):
        world.add_member(entry, now)
    return world


def load_seed_file(path):
    try:
        with open(path, encoding='utf-8') as handle:
            return yaml.safe_load(handle) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SeedError('cannot read seed %s: %s' % (path, exc))
