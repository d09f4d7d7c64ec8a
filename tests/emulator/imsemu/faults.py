# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault injection rules (POST /_emulator/faults) and the error each injected fault answers with."""

import copy
import random

from .routes import route_selector_valid
from .settings import ConfigError, number
from .shapes import IMG_ERRORS, ApiError

FAULT_KINDS = ('429', '500', '503', 'drop', 'delay', 'html200', 'html200-processed')
# What a proxy in front of the cloud answers when its session expired: 200 with its login page, not the API's JSON.
# 'html200' answers instead of the cloud (the request never reaches it); 'html200-processed' lets the cloud process
# the request (a job is created, a member added) and replaces only the answer.
PROXY_LOGIN_PAGE = ('<!DOCTYPE html>\n<html>\n <head><title>Sign in - corporate proxy</title></head>\n <body>\n'
                    '  <h1>Your session has expired</h1>\n  <form method="post" action="/proxy/login">\n'
                    '   <input name="username"> <input name="password" type="password"> <button>Sign in</button>\n'
                    '  </form>\n </body>\n</html>\n')
RULE_KEYS = {'route', 'probability', 'kinds', 'sequence', 'retry_after', 'delay', 'seed', 'max_faults'}


def _non_negative_int(spec, key, default, what):
    value = spec.get(key, default)
    if value is None and default is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError('%s must be an integer%s >= 0' % (key, what))
    return value


class FaultRule(object):
    """One fault injection rule: a scripted sequence or a probability, for the requests that match a route."""

    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise ConfigError('each fault rule must be an object')
        unknown = set(spec) - RULE_KEYS
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
            self._parse_random(spec)
        self.retry_after = _non_negative_int(spec, 'retry_after', 1, ' number of seconds')
        self.delay = number('delay', spec.get('delay', 0.5), 0)
        self.max_faults = _non_negative_int(spec, 'max_faults', None, '')
        self.rng = random.Random(spec.get('seed'))
        self.position = 0
        self.injected = 0
        self.spec = copy.deepcopy(spec)

    def _parse_random(self, spec):
        self.probability = number('probability', self.probability, 0)
        if self.probability > 1:
            raise ConfigError('probability must be between 0 and 1')
        kinds = spec.get('kinds', ['500'])
        if not isinstance(kinds, list) or not kinds:
            raise ConfigError('kinds must be a non-empty list')
        self.kinds = [self._parse_step(kind) for kind in kinds]
        if any(kind[0] == 'ok' for kind in self.kinds):
            raise ConfigError('kinds cannot contain "ok"')

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
                return kind, number('delay', float(arg), 0)
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


def fault_error(status, retry_after, family, mode, native):
    """The ApiError of an injected 429/500/503, in the shape of the service it hits."""
    rule_retry = {'Retry-After': str(retry_after)} if status == 429 else {}
    if family == 'IAM':
        if status == 429:
            return ApiError(429, 'iam', 'The throttling threshold has been reached. Threshold: 10 times per 1 seconds',
                            'IAM.0012', rule_retry)
        return ApiError(status, 'keystone', 'Injected fault: the service is unavailable.' if status == 503
                        else 'An unexpected error prevented the server from fulfilling your request.')
    if mode == 'glance' or (native and status != 429):
        message = {429: 'Too many requests, please retry later.',
                   500: 'The server has either erred or is incapable of performing the requested operation.',
                   503: 'The server is currently unavailable. Please try again at a later time.'}[status]
        return ApiError(status, 'webob', message, headers=rule_retry)
    if status == 429:
        return ApiError(429, 'gateway', 'The throttling threshold has been reached: policy user over ratelimit,limit:100,time:1 minute',
                        'APIGW.0308', rule_retry)
    return ApiError(status, 'ims', IMG_ERRORS['IMG.0014'], 'IMG.0014')
