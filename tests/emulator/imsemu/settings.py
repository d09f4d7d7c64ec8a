# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The settings of POST /_emulator/config: defaults, presets and validation."""

import copy

from .routes import route_selector_valid


class ConfigError(ValueError):
    """A control API request carries an invalid setting or rule."""


DEFAULT_CONFIG = {
    'mode': 'otc',
    'job_duration': 2.0,
    'token_lifetime': 86400.0,
    'batch_readd': 'success',
    'batch_delete_missing': 'success',
    'batch_fail_mode': 'partial',
    'batch_allow_pending': False,
    'job_result_detail': 'documented',
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
CHOICES = {
    'mode': ('otc', 'glance'),
    'batch_readd': ('success', 'fail'),
    'batch_delete_missing': ('success', 'fail'),
    'batch_fail_mode': ('partial', 'atomic'),
    'job_result_detail': ('documented', 'detailed'),
    'otc_shared_visibility': ('shared', 'private'),
}
FLAGS = ('batch_allow_pending', 'member_status_all')


def number(key, value, minimum=None, exclusive=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError('%s must be a number' % key)
    if minimum is not None and (value < minimum or (exclusive and value == minimum)):
        raise ConfigError('%s must be %s %s' % (key, '>' if exclusive else '>=', minimum))
    return float(value)


def choice(key, value, choices):
    if value not in choices:
        raise ConfigError('%s must be one of %s' % (key, ', '.join(choices)))
    return value


def flag(key, value):
    if not isinstance(value, bool):
        raise ConfigError('%s must be true or false' % key)
    return value


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
        profile[selector] = {'fixed': number('latency.fixed', spec.get('fixed', 0.0), 0),
                             'jitter': number('latency.jitter', spec.get('jitter', 0.0), 0)}
    return profile


def normalize_rate_limit(value):
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {'per_user', 'window'}:
        raise ConfigError('token_rate_limit must be null or {per_user: n, window: seconds}')
    per_user = value['per_user']
    if isinstance(per_user, bool) or not isinstance(per_user, int) or per_user < 1:
        raise ConfigError('token_rate_limit.per_user must be an integer >= 1')
    return {'per_user': per_user, 'window': number('token_rate_limit.window', value['window'], 0, True)}


def normalize_config(partial):
    """Validate a partial settings mapping and return it normalized."""
    if not isinstance(partial, dict):
        raise ConfigError('settings must be a JSON object')
    out = {}
    for key, value in partial.items():
        if key in CHOICES:
            out[key] = choice(key, value, CHOICES[key])
        elif key in FLAGS:
            out[key] = flag(key, value)
        elif key == 'job_duration':
            out[key] = number(key, value, 0)
        elif key == 'token_lifetime':
            out[key] = number(key, value, 0, exclusive=True)
        elif key == 'latency':
            out[key] = normalize_latency(value)
        elif key == 'token_rate_limit':
            out[key] = normalize_rate_limit(value)
        elif key == 'clock_offset':
            out[key] = number(key, value)
        else:
            raise ConfigError('unknown setting %r (known: %s)' % (key, ', '.join(sorted(DEFAULT_CONFIG))))
    return out
