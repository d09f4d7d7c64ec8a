# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lower bounds of the critical path of each scenario, computed from the latency profile alone.

Every bound comes in two forms:
  issue       the floor the issue defines: one auth, reads as ONE concurrent wave, the submissions the plan needs,
              the job's run time plus one poll interval (or, for approaches that cannot overlap requests, the chain
              of requests the end state needs);
  configured  the floor of the code as it is configured: reads in waves of the client's pool size, names looked
              up one after another, the module's extra image read per task. The gap between the two is the cost
              of those choices.
  modelled    what the code's request schedule alone takes under the profile: `configured` with the job's
              observation at the poll that actually sees it (the module polls at once, then after 1 s, 1.5 s, ...).
              The measured time minus `modelled` is overhead: processes, Ansible, Python, scheduling.
"""

import math


class Profile(object):
    """Latencies in seconds: IAM token issuance, every IMS request, a batch job's run time; plus the module's
    job-poll schedule, read pool size and batch size (read from the code by the benchmark)."""

    def __init__(self, iam=0.3, ims=0.04, job=2.0, poll_interval=1.0, poll_factor=1.5, poll_max=10.0,
                 read_concurrency=8, batch_size=100):
        self.iam = float(iam)
        self.ims = float(ims)
        self.job = float(job)
        self.poll_interval = float(poll_interval)
        self.poll_factor = float(poll_factor)
        self.poll_max = float(poll_max)
        self.read_concurrency = int(read_concurrency)
        self.batch_size = int(batch_size)

    def as_dict(self):
        return dict(self.__dict__)

    def job_observed(self):
        """Seconds from a job's submission until the poll that sees it finished has returned.

        The module polls at once, then sleeps poll_interval, growing by poll_factor up to poll_max; every poll
        costs one IMS latency, and the emulator judges the job when the poll is handled (after that latency).
        """
        start, interval = 0.0, self.poll_interval
        while start + self.ims < self.job:
            start += self.ims + interval
            interval = min(self.poll_max, interval * self.poll_factor)
        return start + self.ims

    def waves(self, reads):
        """Rounds of concurrent reads the client's pool needs for `reads` requests."""
        return int(math.ceil(reads / float(self.read_concurrency))) if reads else 0

    def submissions(self, images, projects):
        """Batch requests to share `images` images that all lack the same `projects` projects."""
        return int(math.ceil(images / float(self.batch_size))) * int(math.ceil(projects / float(self.batch_size)))


def _bound(issue, configured, formula, modelled=None):
    return {'issue': round(issue, 4), 'configured': round(configured, 4),
            'modelled': round(configured if modelled is None else modelled, 4), 'formula': formula}


def batch_share(p, images, projects, by_name=False, cold_cache=True):
    """ims_image_member_batch sharing from nothing: auth, reads, submissions, job + one poll interval."""
    subs = p.submissions(images, projects)
    auth = p.iam if cold_cache else 0.0
    tail = subs * p.ims + p.job + p.poll_interval
    issue = auth + p.ims + tail
    configured = auth + p.waves(images) * p.ims + tail
    modelled = configured - p.job - p.poll_interval + p.job_observed()
    formula = ('IAM %g + 1 read wave x %g + %d submission(s) x %g + job %g + poll interval %g'
               % (auth, p.ims, subs, p.ims, p.job, p.poll_interval))
    if by_name:
        # the issue's floor: all names resolved in one concurrent wave; the client looks them up one by one
        issue += p.ims
        configured += images * p.ims
        modelled += images * p.ims
        formula += '; names: 1 listing wave (issue) / %d sequential listings (configured)' % images
    formula += '; configured: %d read waves of %d' % (p.waves(images), p.read_concurrency)
    return _bound(issue, configured, formula, modelled)


def batch_unchanged(p, images):
    """The same batch play again with a warm token cache: the reads only."""
    return _bound(p.ims, p.waves(images) * p.ims,
                  '1 read wave x %g (issue) / %d waves of %d (configured); no auth (warm cache), no write'
                  % (p.ims, p.waves(images), p.read_concurrency))


def native_loop(p, images, projects):
    """ims_image_member, one task per image: tasks run one after another, members are added one by one."""
    issue = p.iam + images * (1 + projects) * p.ims
    configured = p.iam + images * (2 + projects) * p.ims
    return _bound(issue, configured,
                  'IAM %g + %d images x (1 member read + %d adds) x %g; configured adds the module\'s GET of the '
                  'image per task' % (p.iam, images, projects, p.ims))


def uri_share(p, images, projects):
    """The documented uri procedure: one token, then one POST per image-project pair, one after another."""
    value = p.iam + images * projects * p.ims
    return _bound(value, value, 'IAM %g + %d POSTs x %g, sequential' % (p.iam, images * projects, p.ims))


def hosts_native(p, projects):
    """Hosts run side by side (forks); one token for all; each host: read the members, add them one by one."""
    issue = p.iam + (1 + projects) * p.ims
    configured = p.iam + (2 + projects) * p.ims
    return _bound(issue, configured,
                  'IAM %g (one token for every host) + (1 member read + %d adds) x %g per host, hosts in parallel; '
                  'configured adds the module\'s GET of the image' % (p.iam, projects, p.ims))


def batch_accept(p, images):
    """ims_image_member_batch status=accepted: auth, reads, one PUT job, job + one poll interval."""
    subs = int(math.ceil(images / float(p.batch_size)))
    tail = subs * p.ims + p.job + p.poll_interval
    configured = p.iam + p.waves(images) * p.ims + tail
    return _bound(p.iam + p.ims + tail, configured,
                  'IAM %g + 1 read wave x %g + %d submission(s) x %g + job %g + poll interval %g; configured: %d read '
                  'waves of %d' % (p.iam, p.ims, subs, p.ims, p.job, p.poll_interval, p.waves(images), p.read_concurrency),
                  configured - p.job - p.poll_interval + p.job_observed())


def uri_accept(p, images):
    value = p.iam + images * p.ims
    return _bound(value, value, 'IAM %g + %d PUTs x %g, sequential' % (p.iam, images, p.ims))
