# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""All state of one emulator, behind one lock: the seeded world, memberships, tokens, settings, faults, stats.

Handlers read and change the world only through these methods; they run under ``lock`` (latency sleeps never do).
"""

import collections
import copy
import secrets
import threading
import time

from .clock import iso_micros, iso_seconds
from .jobs import JobBook
from .seed import build_world, derived_id
from .settings import DEFAULT_CONFIG, ConfigError, normalize_config
from .stats import Stats


class State(object):
    """The emulator's state. ``base_url`` is set once the server knows its port."""

    def __init__(self, seed, base_config, base_url=''):
        self.lock = threading.RLock()
        self.base_url = base_url
        self.start_seed = seed
        self.base_config = dict(DEFAULT_CONFIG, **normalize_config(base_config))
        self.config = dict(self.base_config)
        self.stats = Stats()
        self.faults = []
        self._install(build_world(seed, self.now()))

    # -- lifecycle
    def _install(self, world):
        self.world = world
        # image id -> member ids: listing 1000 images must not scan every membership for every image
        self.members_by_image = collections.defaultdict(set)
        for image_id, member_id in world.members:
            self.members_by_image[image_id].add(member_id)
        self.jobs = JobBook(self)
        self.tokens = {}
        self.token_issue_times = collections.defaultdict(collections.deque)
        self.used_passcodes = collections.defaultdict(set)
        self.faults = []
        self.reset_stats()

    def reset(self, seed=None):
        """Back to the start-up settings and a fresh world; a bad seed raises SeedError and changes nothing."""
        with self.lock:
            world = build_world(self.start_seed if seed is None else seed, time.time() + self.base_config['clock_offset'])
            self.config = dict(self.base_config)
            self._install(world)

    def reset_stats(self):
        self.stats = self.stats.reset_keep_in_flight()

    def configure(self, partial):
        self.config.update(normalize_config(partial))
        return self.config_view()

    def config_view(self):
        return copy.deepcopy(self.config)

    def setting(self, key):
        return self.config[key]

    @property
    def mode(self):
        return self.config['mode']

    def now(self):
        """The emulator's wall clock: real time plus the configured offset."""
        return time.time() + self.config['clock_offset']

    # -- faults and latency
    def pick_fault(self, route_key, family):
        for rule in self.faults:
            if rule.matches(route_key, family):
                fault = rule.next_fault()
                if fault is not None:
                    self.stats.fault_injected(route_key, fault[0])
                    return fault
        return None

    def pick_latency(self, route_key, family, rng):
        profile = self.config['latency']
        template = route_key.partition(' ')[2]
        for selector in (route_key, template, family, '*'):
            if selector in profile:
                spec = profile[selector]
                return spec['fixed'] + (rng.uniform(0, spec['jitter']) if spec['jitter'] else 0.0)
        return 0.0

    # -- identity lookups
    def domain(self, domain_id):
        return self.world.domains.get(domain_id)

    def domain_id_of(self, spec):
        """The id of a domain given as {id} or {name}; None when no such domain (an id is taken as given)."""
        if spec.get('id'):
            return str(spec['id'])
        return next((d['id'] for d in self.world.domains.values() if d['name'] == spec.get('name')), None)

    def project(self, project_id):
        return self.world.projects.get(project_id)

    def projects(self):
        return list(self.world.projects.values())

    def user(self, user_id):
        return self.world.users.get(user_id)

    def user_by_ref(self, ref):
        """A user by id or by name (control API)."""
        return self.world.users.get(ref) or next((u for u in self.world.users.values() if u['name'] == ref), None)

    def find(self, kind, entry_id=None, name=None, domain_id=None):
        """A user or project by id, or by name within a domain (any domain when domain_id is None and unique)."""
        table = self.world.users if kind == 'user' else self.world.projects
        if entry_id:
            return table.get(str(entry_id))
        found = [e for e in table.values() if e['name'] == name and domain_id in (None, e['domain_id'])]
        return found[0] if len(found) == 1 else None

    def user_by_access_key(self, access_key):
        user_id = self.world.access_keys.get(access_key)
        return self.world.users[user_id] if user_id else None

    def app_credential(self, credential_id=None, user_id=None, name=None):
        """An application credential by id, or by its user and name."""
        if credential_id:
            return self.world.app_credentials.get(str(credential_id))
        return next((c for c in self.world.app_credentials.values() if c['user_id'] == user_id and c['name'] == name), None)

    def use_passcode(self, user_id, step):
        """Record that the passcode of time step `step` was used by the user; False when it was used before."""
        if step in self.used_passcodes[user_id]:
            return False
        self.used_passcodes[user_id].add(step)
        return True

    def secret_of(self, access_key):
        user = self.user_by_access_key(access_key)
        return user['secret_key'] if user else None

    # -- images
    def image(self, image_id):
        return self.world.images.get(image_id)

    def images(self):
        return list(self.world.images.values())

    def add_image(self, image):
        self.world.images[image['id']] = image
        return image

    def add_seed_images(self, entries=(), families=()):
        """Add seed-format images and image families (POST /_emulator/images) to the running world.

        All or nothing: a bad entry raises SeedError and adds none. Returns the new image ids in order.
        """
        known = set(self.world.images)
        staging = copy.copy(self.world)
        staging.images = dict(self.world.images)
        now = self.now()
        for index, entry in enumerate(entries):
            staging.add_image(entry, now + index)
        for family in families:
            staging.add_family(family)
        self.world.images = staging.images
        return [image_id for image_id in staging.images if image_id not in known]

    def delete_image(self, image_id):
        """Remove an image and its memberships."""
        del self.world.images[image_id]
        for member_id in self.members_by_image.pop(image_id, set()):
            del self.world.members[(image_id, member_id)]

    def update_image(self, image, changes):
        """Apply (op, name, value) JSON-patch changes to an image."""
        for op, name, value in changes:
            if name in ('visibility', 'name', 'protected'):
                image[name] = value if op != 'remove' else ''
            elif op == 'remove':
                image['properties'].pop(name, None)
            else:
                image['properties'][name] = value
        image['updated_at'] = self.now()

    # -- memberships
    def member(self, image_id, member_id):
        return self.world.members.get((image_id, member_id))

    def members_of(self, image_id):
        rows = [(member_id, self.world.members[(image_id, member_id)]) for member_id in self.members_by_image.get(image_id, ())]
        return sorted(rows, key=lambda item: (item[1]['created_at'], item[0]))

    def has_members(self, image_id):
        return bool(self.members_by_image.get(image_id))

    def add_member(self, image_id, member_id, when=None):
        """A new pending membership (an existing one is left as it is); returns the row."""
        when = self.now() if when is None else when
        key = (image_id, member_id)
        if key not in self.world.members:
            self.world.members[key] = {'status': 'pending', 'created_at': when, 'updated_at': when}
            self.members_by_image[image_id].add(member_id)
        return self.world.members[key]

    def set_member_status(self, image_id, member_id, status, when=None):
        row = self.world.members[(image_id, member_id)]
        row['status'] = status
        row['updated_at'] = self.now() if when is None else when
        return row

    def remove_member(self, image_id, member_id):
        self.world.members.pop((image_id, member_id), None)
        self.members_by_image.get(image_id, set()).discard(member_id)

    def member_quota_for(self, image):
        if image['member_quota'] is not None:
            return image['member_quota']
        quota = self.world.member_quota
        return quota['whole_image'] if image['whole_image'] else quota['default']

    @staticmethod
    def key_authorized_for(image, project_id):
        if not image['encrypted']:
            return True
        authorized = image['key_authorized']
        return project_id in authorized if isinstance(authorized, list) else bool(authorized)

    # -- visibility rules
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
        if (image['id'], project_id) not in self.world.members:
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

    # -- views
    def image_view(self, image, project_id):
        view = {
            'id': image['id'], 'name': image['name'], 'status': image['status'],
            'visibility': self.reported_visibility(image), 'owner': image['owner'], 'protected': image['protected'],
            'os_hidden': False, 'checksum': None, 'container_format': 'bare', 'disk_format': 'qcow2',
            'min_disk': 0, 'min_ram': 0, 'size': None, 'virtual_size': None, 'tags': list(image.get('tags', [])),
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
                view['__system__cmkid'] = derived_id('cmk', image['id'])[:8] + '-kms-key'
        view.update(image['properties'])
        return view

    @staticmethod
    def member_view(image_id, member_id, row, echo_member=None):
        return {'status': row['status'], 'created_at': iso_seconds(row['created_at']),
                'updated_at': iso_seconds(row['updated_at']), 'image_id': image_id,
                'member_id': member_id if echo_member is None else echo_member, 'schema': '/v2/schemas/member'}

    # -- tokens
    def issue_token(self, user, project=None, domain=None, methods=('password',), extra=None):
        issued = self.now()
        token = 'MII' + secrets.token_urlsafe(96)
        self.tokens[token] = dict({'user_id': user['id'], 'project_id': project['id'] if project else None,
                                   'domain_id': domain['id'] if domain else None, 'issued_at': issued,
                                   'expires_at': issued + self.config['token_lifetime'], 'revoked': False,
                                   'methods': list(methods)}, **(extra or {}))
        self.stats.token_issued()
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
            user = self.user_by_ref(user_ref)
            if user is None:
                raise ConfigError('unknown user %r' % user_ref)
            user_id = user['id']
        count = 0
        for record in self.tokens.values():
            if not record['revoked'] and (user_id is None or record['user_id'] == user_id):
                record['revoked'] = True
                count += 1
        return count

    def token_slot(self, user):
        """Count a token request against token_rate_limit: None when allowed, else the Retry-After seconds."""
        limit = self.config['token_rate_limit']
        if not limit:
            return None
        issued = self.token_issue_times[user['id']]
        now = time.monotonic()
        while issued and issued[0] <= now - limit['window']:
            issued.popleft()
        if len(issued) >= limit['per_user']:
            return max(1, int(issued[0] + limit['window'] - now + 0.999))
        issued.append(now)
        return None

    # -- control views
    def state_view(self):
        images = {}
        for image in self.world.images.values():
            raw = dict(image)
            raw['created_at'] = iso_seconds(image['created_at'])
            raw['updated_at'] = iso_seconds(image['updated_at'])
            raw['reported_visibility'] = self.reported_visibility(image)
            images[image['id']] = raw
        members = [{'image_id': img, 'member_id': mid, 'status': row['status'],
                    'created_at': iso_seconds(row['created_at']), 'updated_at': iso_seconds(row['updated_at'])}
                   for (img, mid), row in sorted(self.world.members.items(), key=lambda kv: (kv[0][0], kv[1]['created_at'], kv[0][1]))]
        live = sum(1 for token in self.tokens if self.token_record(token)[0] is not None)
        return {'images': images, 'members': members, 'jobs': self.jobs.state_view(),
                'projects': dict((p['id'], {'name': p['name'], 'region': p['region'], 'domain_id': p['domain_id']})
                                 for p in self.world.projects.values()),
                'tokens': {'issued': len(self.tokens), 'live': live}, 'config': self.config_view(), 'now': iso_micros(self.now())}
