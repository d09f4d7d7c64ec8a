# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The control API under /_emulator/ (README "Control API"): not part of the real API, never counted in the stats."""

from .faults import FaultRule
from .seed import SeedError, load_seed_file
from .settings import ConfigError
from .shapes import json_response, parse_json


class ControlApi(object):
    """One method per control call; (method, path) -> handler."""

    def __init__(self, state):
        self.state = state
        self.routes = {
            ('GET', '/health'): self.health,
            ('POST', '/reset'): self.reset,
            ('GET', '/state'): lambda data: self.state.state_view(),
            ('GET', '/stats'): lambda data: self.state.stats.view(),
            ('POST', '/stats/reset'): self.reset_stats,
            ('GET', '/faults'): lambda data: {'rules': [rule.describe() for rule in self.state.faults]},
            ('POST', '/faults'): self.set_faults,
            ('DELETE', '/faults'): self.clear_faults,
            ('GET', '/config'): lambda data: self.state.config_view(),
            ('POST', '/config'): self.state.configure,
            ('POST', '/tokens/revoke'): self.revoke,
            ('POST', '/images'): self.add_images,
        }

    def __call__(self, request):
        try:
            return self.dispatch(request)
        except ConfigError as exc:
            return json_response({'error': str(exc)}, 400)
        except SeedError as exc:
            return json_response({'error': 'seed: %s' % exc}, 400)

    def dispatch(self, request):
        path = request.path[len('/_emulator'):].rstrip('/') or '/'
        data = {}
        if request.method in ('POST', 'PUT', 'DELETE') and request.get_data():
            data, problem = parse_json(request.get_data())
            if problem or not isinstance(data, dict):
                raise ConfigError('the body must be a JSON object')
        handler = self.routes.get((request.method, path))
        if handler is None:
            return json_response({'error': 'unknown control call %s %s' % (request.method, request.path)}, 404)
        with self.state.lock:
            self.state.jobs.settle_due()
            return json_response(handler(data))

    def health(self, data):
        return {'ok': True, 'mode': self.state.mode, 'url': self.state.base_url}

    def reset(self, data):
        seed = None
        if 'seed' in data:
            seed = data['seed']
        elif 'seed_file' in data:
            seed = load_seed_file(data['seed_file'])
        self.state.reset(seed)
        return {'ok': True}

    def reset_stats(self, data):
        self.state.reset_stats()
        return {'ok': True}

    def set_faults(self, data):
        rules = data.get('rules')
        if not isinstance(rules, list):
            raise ConfigError('faults: {"rules": [...]} expected')
        self.state.faults = [FaultRule(spec) for spec in rules]
        return {'ok': True, 'rules': len(self.state.faults)}

    def clear_faults(self, data):
        self.state.faults = []
        return {'ok': True}

    def add_images(self, data):
        """{"images": [seed image entries], "families": [image_families entries]}: added to the running world."""
        unknown = set(data) - {'images', 'families'}
        if unknown or not data:
            raise ConfigError('images: {"images": [...], "families": [...]} expected')
        entries, families = data.get('images') or [], data.get('families') or []
        if not isinstance(entries, list) or not isinstance(families, list) or \
                not all(isinstance(item, dict) for item in entries + families):
            raise ConfigError('images: "images" and "families" must be lists of mappings')
        ids = self.state.add_seed_images(entries, families)
        return {'created': len(ids), 'ids': ids}

    def revoke(self, data):
        if data.get('all'):
            return {'revoked': self.state.revoke()}
        if 'user' in data:
            return {'revoked': self.state.revoke(str(data['user']))}
        raise ConfigError('tokens/revoke: {"all": true} or {"user": NAME} expected')
