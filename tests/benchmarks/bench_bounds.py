# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lower bounds of the critical path of each scenario, computed from the latency profile alone.

Every bound comes in four forms:
  physical    the floor of the work itself (issue #19): what no client can beat on this cloud. Job work: one
              token + one read RTT + one submission RTT (submissions go out together) + the job's run time + one
              RTT for the poll that sees it. Native work: one token + one read wave + ceil(writes / concurrency)
              write RTTs, with the native executor's default concurrency. Loops that cannot overlap requests
              (uri, one task per image) are bounded by their chain of requests.
  issue       the floor issue #9 defined: as physical, but the job plus a whole poll interval.
  configured  the floor of the code as it is configured: reads in waves of the client's pool size, the name
              look-ups and image reads the code makes.
  modelled    what the code's request schedule alone takes under the profile: `configured` with the job seen by
              the poll that actually sees it (the module's own poll schedule, simulated). The measured time
              minus `modelled` is overhead: processes, Ansible, Python, scheduling.
"""

import math


class Profile(object):
    """Latencies in seconds: IAM token issuance, every IMS request, a batch job's run time; plus what the code
    is configured with (read from the code by the benchmark): the job-poll schedule (observe: a function that
    returns (seconds from submission until the poll that sees the job has returned, polls) for a job duration),
    the member-read pool, the batch size, and the native executor's concurrency (None: no native executor)."""

    def __init__(self, iam=0.3, ims=0.04, job=2.0, poll_interval=1.0, poll_factor=1.5, poll_max=10.0,
                 read_concurrency=8, batch_size=100, concurrency=None, observe=None, poll_schedule=''):
        self.iam = float(iam)
        self.ims = float(ims)
        self.job = float(job)
        self.poll_interval = float(poll_interval)
        self.poll_factor = float(poll_factor)
        self.poll_max = float(poll_max)
        self.read_concurrency = int(read_concurrency)
        self.batch_size = int(batch_size)
        self.concurrency = int(concurrency) if concurrency else None
        self.poll_schedule = poll_schedule
        self._observe = observe

    def as_dict(self):
        data = dict((key, value) for key, value in self.__dict__.items() if not key.startswith('_'))
        data['job_observed'] = self.job_observed()
        data['polls_per_job'] = self.polls_per_job()
        return data

    def _observation(self):
        if self._observe is not None:
            return self._observe(self.job, self.ims)
        # the geometric schedule: a poll at once, then poll_interval, growing by poll_factor up to poll_max
        start, interval, polls = 0.0, self.poll_interval, 1
        while start + self.ims < self.job:
            start += self.ims + interval
            interval = min(self.poll_max, interval * self.poll_factor)
            polls += 1
        return start + self.ims, polls

    def job_observed(self):
        """Seconds from a job's submission until the poll that sees it finished has returned."""
        return self._observation()[0]

    def polls_per_job(self):
        return self._observation()[1]

    def waves(self, reads, pool=None):
        """Rounds of concurrent requests a pool (default: the client's read pool) needs for `reads` requests."""
        pool = pool or self.read_concurrency
        return int(math.ceil(reads / float(pool))) if reads else 0

    def submissions(self, images, projects):
        """Batch requests to share `images` images that all lack the same `projects` projects."""
        return int(math.ceil(images / float(self.batch_size))) * int(math.ceil(projects / float(self.batch_size)))

    def job_physical(self, auth=True, lookups=0):
        """Token + one read RTT (+ one listing RTT for names) + one submission RTT + the job + one poll RTT."""
        return (self.iam if auth else 0.0) + (1 + (1 if lookups else 0)) * self.ims + self.ims + self.job + self.ims

    def native_physical(self, writes, auth=True, reads=True):
        """Token + one read wave + ceil(writes / concurrency) write RTTs (concurrency 1 without a native executor)."""
        return (self.iam if auth else 0.0) + (self.ims if reads else 0.0) + self.waves(writes, self.concurrency or 1) * self.ims

    def native_text(self, writes):
        if not self.concurrency:
            return '%d writes one after another (no native executor)' % writes
        pool = int(self.concurrency)
        return '%d writes / concurrency %d = %d write RTTs' % (writes, pool, self.waves(writes, pool))


def _bound(issue, configured, formula, modelled=None, physical=None, physical_formula=''):
    return {'issue': round(issue, 4), 'configured': round(configured, 4),
            'modelled': round(configured if modelled is None else modelled, 4),
            'physical': round(issue if physical is None else physical, 4),
            'formula': formula, 'physical_formula': physical_formula}


def _job_physical_text(p, auth=True, names=False):
    return ('%sread RTT %g%s + submission RTT %g + job %g + poll RTT %g'
            % ('token %g + ' % p.iam if auth else '', p.ims, ' + listing RTT %g' % p.ims if names else '', p.ims,
               p.job, p.ims))


def _fastest(p, jobs, native, jobs_text, native_text, job_api=True):
    """The physical floor of work the cloud can do either way: the faster of its job and native forms (the job form
    only without a native executor, the native form only on a cloud without the job API)."""
    if not job_api or (p.concurrency and native < jobs):
        return native, 'native: ' + native_text
    return jobs, 'jobs: ' + jobs_text


def _names_cost(p, images, listings):
    """(seconds, text) of resolving `images` names with `listings` listing requests: one per name on the read pool,
    or the pages of one listing, one after another."""
    if listings is None or listings >= images:
        return p.waves(images) * p.ims, '%d listing wave(s) of %d' % (p.waves(images), p.read_concurrency)
    return listings * p.ims, '%d listing page(s) one after another' % listings


def batch_share(p, images, projects, by_name=False, cold_cache=True, executor='jobs', listings=None, job_api=True):
    """ims_image_member_batch sharing from nothing: auth, reads, then jobs (submissions, the job, its observation)
    or native calls (ceil(pairs / concurrency) waves), as `executor` says ran. by_name: the images are names,
    resolved with `listings` listing requests (as measured). job_api: the cloud has the IMS batch API (not plain
    Glance)."""
    subs, pairs = p.submissions(images, projects), images * projects
    auth = p.iam if cold_cache else 0.0
    names, names_text = _names_cost(p, images, listings) if by_name else (0.0, '')
    native_waves = p.waves(pairs, p.concurrency or 1)
    if executor == 'native':
        issue = auth + p.ims + (p.ims if by_name else 0.0) + native_waves * p.ims
        configured = auth + names + p.waves(images) * p.ims + native_waves * p.ims
        modelled = configured
        formula = ('native: IAM %g + %d read waves of %d + %d write waves of %d, x %g'
                   % (auth, p.waves(images), p.read_concurrency, native_waves, p.concurrency or 1, p.ims))
    else:
        tail = subs * p.ims + p.job + p.poll_interval
        issue = auth + p.ims + (p.ims if by_name else 0.0) + tail
        configured = auth + names + p.waves(images) * p.ims + tail
        modelled = configured - p.job - p.poll_interval + p.job_observed()
        formula = ('jobs: IAM %g + 1 read wave x %g + %d submission(s) x %g + job %g + poll interval %g; configured: '
                   '%d read waves of %d' % (auth, p.ims, subs, p.ims, p.job, p.poll_interval, p.waves(images),
                                            p.read_concurrency))
    if by_name:
        formula += '; names: ' + names_text
    native = p.native_physical(pairs, auth=cold_cache) + (p.ims if by_name else 0.0)
    physical, text = _fastest(p, p.job_physical(cold_cache, lookups=images if by_name else 0), native,
                              _job_physical_text(p, cold_cache, by_name),
                              '%sread RTT %g%s + %s x %g' % ('token %g + ' % p.iam if cold_cache else '', p.ims,
                                                             ' + listing RTT %g' % p.ims if by_name else '',
                                                             p.native_text(pairs), p.ims), job_api)
    return _bound(issue, configured, formula, modelled, physical, text)


def batch_unchanged(p, images):
    """The same batch play again with a warm token cache: the reads only."""
    return _bound(p.ims, p.waves(images) * p.ims,
                  '1 read wave x %g (issue) / %d waves of %d (configured); no auth (warm cache), no write'
                  % (p.ims, p.waves(images), p.read_concurrency), physical=p.ims,
                  physical_formula='read RTT %g (warm cache, nothing to write)' % p.ims)


def native_loop(p, images, projects):
    """ims_image_member, one task per image: the tasks run one after another; a task reads, then adds."""
    issue = p.iam + images * (1 + projects) * p.ims
    per_task_writes = p.waves(projects, p.concurrency or 1)
    configured = p.iam + images * (2 + per_task_writes) * p.ims
    return _bound(issue, configured,
                  'IAM %g + %d images x (1 member read + %d adds) x %g; configured: + the module\'s GET of the image '
                  'per task, adds in %d round(s)' % (p.iam, images, projects, p.ims, per_task_writes),
                  physical=p.iam + images * (1 + per_task_writes) * p.ims,
                  physical_formula='token %g + %d tasks one after another x (read RTT + %s) x %g'
                  % (p.iam, images, p.native_text(projects), p.ims))


def uri_share(p, images, projects):
    """The documented uri procedure: one token, then one POST per image-project pair, one after another."""
    value = p.iam + images * projects * p.ims
    text = 'IAM %g + %d POSTs x %g, sequential' % (p.iam, images * projects, p.ims)
    return _bound(value, value, text, physical=value, physical_formula='the loop\'s chain: ' + text)


def hosts_native(p, projects):
    """Hosts run side by side (forks); one token for all; each host: read the members, add them."""
    issue = p.iam + (1 + projects) * p.ims
    writes = p.waves(projects, p.concurrency or 1)
    configured = p.iam + (2 + writes) * p.ims
    return _bound(issue, configured,
                  'IAM %g (one token for every host) + (1 member read + %d adds) x %g per host, hosts in parallel; '
                  'configured: + the module\'s GET of the image, adds in %d round(s)' % (p.iam, projects, p.ims, writes),
                  physical=p.native_physical(projects),
                  physical_formula='token %g + read RTT %g + %s x %g, hosts in parallel'
                  % (p.iam, p.ims, p.native_text(projects), p.ims))


def batch_accept(p, images, executor='jobs'):
    """ims_image_member_batch status=accepted: auth, reads, one PUT job (or one native PUT per image)."""
    if executor == 'native':
        return batch_share(p, images, 1, executor='native')
    subs = int(math.ceil(images / float(p.batch_size)))
    tail = subs * p.ims + p.job + p.poll_interval
    configured = p.iam + p.waves(images) * p.ims + tail
    physical, text = _fastest(p, p.job_physical(), p.native_physical(images), _job_physical_text(p),
                              'token %g + read RTT %g + %s x %g' % (p.iam, p.ims, p.native_text(images), p.ims))
    return _bound(p.iam + p.ims + tail, configured,
                  'jobs: IAM %g + 1 read wave x %g + %d submission(s) x %g + job %g + poll interval %g; configured: %d '
                  'read waves of %d' % (p.iam, p.ims, subs, p.ims, p.job, p.poll_interval, p.waves(images),
                                        p.read_concurrency),
                  configured - p.job - p.poll_interval + p.job_observed(), physical, text)


def uri_accept(p, images):
    value = p.iam + images * p.ims
    text = 'IAM %g + %d PUTs x %g, sequential' % (p.iam, images, p.ims)
    return _bound(value, value, text, physical=value, physical_formula='the loop\'s chain: ' + text)


def identities_batch(p, images, projects, identities, executor='jobs'):
    """Scenario R: one batch task per identity, the identities side by side (forks): as scenario 1."""
    one = batch_share(p, images, projects, executor=executor)
    one['formula'] = '%d identities in parallel, each: %s' % (identities, one['formula'])
    one['physical_formula'] = '%d identities in parallel (one token each), each: %s' % (identities,
                                                                                        one['physical_formula'])
    return one


def native_batch(p, images, projects):
    """G1: one batch task on plain Glance (no job API): token, member reads, then every pair's POST on the native
    pool."""
    return batch_share(p, images, projects, executor='native', job_api=False)


def small_change(p, projects, executor):
    """S: one image, a few projects, on the executor that ran (the automatic choice, or forced jobs)."""
    return batch_share(p, 1, projects, executor=executor)


def audit(p, images, page_size, pool=None):
    """The audit view: the listing's pages one after another, then one member read per image (on the info module's
    pool of `pool` reads)."""
    pages = max(1, int(math.ceil(images / float(page_size)))) if page_size else 1
    pool = pool or p.read_concurrency
    physical = p.iam + pages * p.ims + p.ims
    configured = p.iam + pages * p.ims + p.waves(images, pool) * p.ims
    return _bound(physical, configured,
                  'configured: IAM %g + %d listing page(s) + %d read waves of %d, x %g'
                  % (p.iam, pages, p.waves(images, pool), pool, p.ims),
                  physical=physical, physical_formula='token %g + %d listing page(s) one after another + one read '
                  'wave, x %g' % (p.iam, pages, p.ims))
