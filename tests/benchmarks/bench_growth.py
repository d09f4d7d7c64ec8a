# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scenarios of issues #15, #19 and #20: the cost as work grows, many identities in one play (R), the native
executor on plain Glance (G1), a small change on IMS (S), and the audit of every share. A mix-in of the runner's
Bench class (benchmark.py), which provides the emulator, the seeds and the playbook runs.

A scenario whose option the collection lacks is not run: it is reported as "not available: <why>" (found from
`ansible-doc`, or from the failed task's message), never faked.
"""

import os

import bench_bounds
import bench_features
import bench_plays
import bench_report
import bench_seed

# how a module says it lacks the option or the mode a scenario uses ("view=owner needs images" before issue #20)
MISSING_OPTION_SIGNS = ('Unsupported parameters', 'missing required arguments', 'one of the following is required',
                        'is required', 'requires', 'needs')


class NotAvailable(Exception):
    """The collection under test lacks what a scenario measures."""


def zero_latency_profile(profile):
    values = profile.as_dict()
    for key in ('job_observed', 'polls_per_job'):
        values.pop(key)
    values.update(iam=0.0, ims=0.0)
    return bench_bounds.Profile(observe=profile._observe, **values)


class GrowthScenarios(object):
    """Mix-in: needs self.settings, self.profile, self.options, self.emu and the runner's helpers."""

    def executor(self, choice):
        """{option: value} that selects an executor ('native', 'jobs') or raises NotAvailable."""
        found = self.executor_choice
        if not found or not found[1].get(choice):
            raise NotAvailable('ims_image_member_batch has no executor option with a %r choice (ansible-doc lists '
                               'no option whose choices include "native"; the engine of issue #15 is not merged)'
                               % choice)
        return {found[0]: found[1][choice]}

    def skipped(self, key, reason):
        self.log('  %-4s not available: %s' % (key, reason))
        return {'key': key, 'title': bench_report.title(key, self.settings.as_dict()), 'reason': str(reason)}

    # ------------------------------------------------------------------ the cost as work grows

    def run_growth(self):
        """Scenario 1 at each size of settings.growth: requests against the plan, tasks time, the module's peak RSS."""
        rows = []
        for images, projects, zero in self.settings.growth:
            self.reset('growth', zero_latency=zero)
            profile = zero_latency_profile(self.profile) if zero else self.profile
            name = 'growth-%dx%d' % (images, projects)
            wrapper, record = self._rss_wrapper(name)
            variables = self._vars_with('vars-%s.yml' % name, image_ids=self.images(images),
                                        project_ids=self.projects(projects))
            run = self.run_playbook(name, bench_plays.batch_share(interpreter=wrapper), self.fresh_cache(name),
                                    variables=variables)
            stats = self.emu.stats()
            with open(record) as handle:
                peaks = [int(line) for line in handle if line.strip()]
            ok, state = self.expect_members(self.images(images), self.projects(projects))
            executor = self.executor_ran(stats)
            planned_writes = images * projects if executor == 'native' else profile.submissions(images, projects)
            row = bench_report.growth_row(images, projects, zero, run, stats, self.tasks_time(run['timing']),
                                          bench_bounds.batch_share(profile, images, projects, executor=executor),
                                          executor, planned_writes, peaks, state)
            self.log('  %-9s tasks %6.2f s, %d requests (%s), peak RSS %.1f MB, %s'
                     % ('%dx%d' % (images, projects), row['tasks_time'], stats['total'],
                        'as planned' if row['as_planned'] else 'NOT as planned', row['peak_rss_mb'], state))
            if not ok:
                raise self.error('growth %dx%d ended in the wrong state: %s' % (images, projects, state))
            rows.append(row)
        return rows

    # ------------------------------------------------------------------ R: many identities in one play

    def run_identities(self):
        s = self.settings
        self.reset('identities')
        run = self.run_playbook('r-identities', bench_plays.identities_batch(), self.fresh_cache('r'),
                                forks=s.identities)
        want = set()
        for index in range(1, s.identities + 1):
            region = bench_seed.identity_region(index)
            want.update((image, bench_seed.region_recipient(region, project), 'pending')
                        for image in bench_seed.identity_images(index, s.identity_images)
                        for project in range(1, s.identity_projects + 1))
        have = self.members()
        state = (have == want, '%d members, %d expected%s' % (len(have), len(want), '' if have == want else ' (MISMATCH)'))
        stats = self.emu.stats()
        bound = bench_bounds.identities_batch(self.profile, s.identity_images, s.identity_projects, s.identities,
                                              self.executor_ran(stats))
        return self.scenario('R', run, stats, bound, state, forks=s.identities, identities=s.identities)

    # ------------------------------------------------------------------ G1: the native executor on plain Glance

    def run_glance(self):
        s = self.settings
        try:
            options = self.executor('native')
        except NotAvailable as exc:
            return self.skipped('G1', exc)
        self.reset('glance')
        self.emu.configure(mode='glance')
        run = self.run_playbook('g1-glance-native', bench_plays.batch_share(options=options), self.fresh_cache('g1'))
        return self.scenario('G1', run, self.emu.stats(), bench_bounds.native_batch(self.profile, s.images, s.projects),
                             self.expect_members(self.images(), self.projects()), options=options)

    # ------------------------------------------------------------------ S: a small change on IMS, auto vs jobs

    def run_small(self):
        s = self.settings
        try:
            forced = self.executor('jobs')
        except NotAvailable as exc:
            return [self.skipped('Sa', exc), self.skipped('Sj', exc)]
        rows = []
        projects = self.projects(s.small_projects)
        variables = self._vars_with('vars-small.yml', image_ids=self.images(1), project_ids=projects)
        for key, options in (('Sa', {}), ('Sj', forced)):
            self.reset()
            run = self.run_playbook('s-small-' + key, bench_plays.batch_share(options=options), self.fresh_cache(key),
                                    variables=variables)
            stats = self.emu.stats()
            rows.append(self.scenario(key, run, stats,
                                      bench_bounds.small_change(self.profile, s.small_projects, self.executor_ran(stats)),
                                      self.expect_members(self.images(1), projects), options=options))
        return rows

    # ------------------------------------------------------------------ the audit of every share

    def run_audit(self):
        s = self.settings
        self.reset('audit')
        result_file = os.path.join(self.work, 'audit-result.json')
        run = self.run_playbook('a-audit', bench_plays.audit(result_file), self.fresh_cache('audit'))
        failures = [message for task in run['timing']['tasks'][:1] for message in task.get('messages', [])]
        if failures:
            message = failures[0]
            if any(sign.lower() in message.lower() for sign in MISSING_OPTION_SIGNS):
                return self.skipped('A', 'ims_image_member_info without images failed: %s' % self.redact(message))
            raise self.error('the audit task failed: %s' % self.redact(message))
        with open(result_file) as handle:
            text = handle.read()
        images = self.images(s.audit_images)
        missing = [image for image in images if image not in text]
        stats = self.emu.stats()
        listings = bench_report.listing_requests(stats)
        page_size = -(-s.audit_images // listings) if listings else None
        state = (not missing, 'the result names %d of %d images%s' % (len(images) - len(missing), len(images),
                                                                      '' if not missing else ' (MISSING SOME)'))
        pool = bench_features.option_default(self.options, 'ims_image_member_info', 'concurrency')
        return self.scenario('A', run, stats, bench_bounds.audit(self.profile, s.audit_images, page_size, pool), state,
                             timed_tasks=[0], listing_requests=listings, page_size=page_size)
