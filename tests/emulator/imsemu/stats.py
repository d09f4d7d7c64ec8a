# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request counters of GET /_emulator/stats (README "Stats"). The caller holds the state's lock."""

import collections


class Stats(object):
    """Counts requests, responses, faults, latency slept and requests in flight."""

    def __init__(self):
        self.requests = collections.Counter()
        self.responses = collections.defaultdict(collections.Counter)
        self.by_auth = collections.Counter({'token': 0, 'aksk': 0, 'none': 0})
        self.counters = collections.Counter(dict.fromkeys(
            ('token_requests', 'tokens_issued', 'reads', 'writes', 'job_submissions', 'job_polls', 'total'), 0))
        self.in_flight = 0
        self.max_in_flight = 0
        self.in_flight_by_family = collections.Counter()
        self.max_in_flight_by_family = collections.Counter()
        self.faults_total = 0
        self.faults_by_kind = collections.Counter()
        self.faults_by_route = collections.defaultdict(collections.Counter)
        self.latency_by_route = {}

    def record_request(self, route_key, kind, family, auth_kind):
        self.requests[route_key] += 1
        self.counters['total'] += 1
        self.by_auth[auth_kind] += 1
        if kind == 'token':
            self.counters['token_requests'] += 1
        elif kind == 'job_poll':
            self.counters['job_polls'] += 1
        elif kind == 'job_submit':
            self.counters['job_submissions'] += 1
            self.counters['writes'] += 1
        elif kind == 'write':
            self.counters['writes'] += 1
        elif kind == 'read' and family == 'IMS':
            self.counters['reads'] += 1

    def record_response(self, route_key, status):
        self.responses[route_key][status] += 1

    def token_issued(self):
        self.counters['tokens_issued'] += 1

    def enter(self, group):
        """A request starts (before its latency sleep); group is its route family."""
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.in_flight_by_family[group] += 1
        self.max_in_flight_by_family[group] = max(self.max_in_flight_by_family[group], self.in_flight_by_family[group])

    def leave(self, group):
        self.in_flight -= 1
        self.in_flight_by_family[group] -= 1

    def fault_injected(self, route_key, kind):
        self.faults_total += 1
        self.faults_by_kind[kind] += 1
        self.faults_by_route[route_key][kind] += 1

    def slept(self, route_key, seconds):
        """The latency (configured plus injected delay) a request of route_key waited before it was served."""
        if seconds <= 0:
            return
        entry = self.latency_by_route.setdefault(route_key, {'delayed': 0, 'seconds': 0.0, 'min': seconds, 'max': seconds})
        entry['delayed'] += 1
        entry['seconds'] = round(entry['seconds'] + seconds, 6)
        entry['min'] = min(entry['min'], seconds)
        entry['max'] = max(entry['max'], seconds)

    def view(self):
        out = {
            'requests': dict(self.requests),
            'responses': dict((route, dict((str(code), n) for code, n in codes.items()))
                              for route, codes in self.responses.items()),
            'by_auth': dict(self.by_auth),
            'max_in_flight': self.max_in_flight,
            'max_in_flight_by_family': dict(self.max_in_flight_by_family),
            'faults_injected': {'total': self.faults_total, 'by_kind': dict(self.faults_by_kind),
                                'by_route': dict((r, dict(k)) for r, k in self.faults_by_route.items())},
            'latency': {'by_route': dict((r, dict(v)) for r, v in self.latency_by_route.items()),
                        'seconds': round(sum(v['seconds'] for v in self.latency_by_route.values()), 6)},
        }
        out.update(self.counters)
        return out

    def reset_keep_in_flight(self):
        """A fresh set of counters that still knows the requests now in progress (they will leave later)."""
        fresh = Stats()
        fresh.in_flight = self.in_flight
        fresh.in_flight_by_family = collections.Counter(self.in_flight_by_family)
        return fresh
