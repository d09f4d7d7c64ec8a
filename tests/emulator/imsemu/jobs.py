# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IMS v1 asynchronous member jobs (ims_api.md sections 3 and 4): submission, phases, evaluation at the end time."""

import collections
import copy
import time
import uuid

from .clock import iso_millis
from .shapes import IMG_ERRORS


class JobBook(object):
    """The jobs of one world. A job changes nothing before its end; then it is judged against the state of that moment."""

    def __init__(self, state):
        self.state = state
        self.jobs = collections.OrderedDict()
        self.seq = 0

    def submit(self, job_type, op, project_id, payload):
        self.seq += 1
        job_id = uuid.uuid4().hex
        self.jobs[job_id] = {
            'job_id': job_id, 'job_type': job_type, 'op': op, 'project_id': project_id, 'payload': payload,
            'seq': self.seq, 'begin_mono': time.monotonic(), 'begin_time': self.state.now(),
            'duration': self.state.setting('job_duration'), 'settled': False, 'status': None, 'end_time': None,
            'error_code': None, 'fail_reason': None, 'results': [],
        }
        return job_id

    def job_of(self, job_id, project_id):
        """The job, if it exists and belongs to project_id."""
        job = self.jobs.get(job_id)
        return job if job is not None and job['project_id'] == project_id else None

    def settle_due(self):
        """Apply every job whose duration has elapsed, in completion order. Called at the start of each request."""
        now_mono = time.monotonic()
        due = [job for job in self.jobs.values() if not job['settled'] and job['begin_mono'] + job['duration'] <= now_mono]
        for job in sorted(due, key=lambda j: (j['begin_mono'] + j['duration'], j['seq'])):
            self._settle(job)

    @staticmethod
    def phase(job):
        if job['settled']:
            return job['status']
        elapsed = time.monotonic() - job['begin_mono']
        return 'INIT' if elapsed < job['duration'] * 0.25 else 'RUNNING'

    def view(self, job):
        view = {'job_id': job['job_id'], 'job_type': job['job_type'], 'begin_time': iso_millis(job['begin_time']),
                'end_time': None, 'status': self.phase(job), 'error_code': None, 'fail_reason': None, 'entities': {}}
        if job['settled']:
            view.update({'end_time': iso_millis(job['end_time']), 'error_code': job['error_code'],
                         'fail_reason': job['fail_reason'], 'entities': {'results': copy.deepcopy(job['results'])}})
        return view

    def state_view(self):
        jobs = {}
        for job_id, job in self.jobs.items():
            view = self.view(job)
            view['project_id'] = job['project_id']
            view['request'] = copy.deepcopy(job['payload'])
            jobs[job_id] = view
        return jobs

    # -- evaluation
    def _owner_op_error(self, image_id, caller):
        image = self.state.image(image_id)
        if image is None:
            return 'IMG.0027', None
        if image['owner'] != caller:
            return 'IMG.0047', None
        return None, image

    def _add_project_error(self, image, project_id, caller, caller_region):
        state = self.state
        project = state.project(project_id)
        if project_id == caller:
            return 'IMG.0076'
        if project is None:
            return 'IMG.0108'
        if project['region'] != caller_region:
            return 'IMG.0177'
        if not state.key_authorized_for(image, project_id):
            return 'IMG.0099'
        if state.setting('batch_readd') == 'fail' and state.member(image['id'], project_id) is not None:
            return 'IMG.0112'
        return None

    def _evaluate_add(self, images, projects, caller):
        state = self.state
        caller_project = state.project(caller)
        caller_region = caller_project['region'] if caller_project else None
        outcome = []
        for image_id in images:
            error, image = self._owner_op_error(image_id, caller)
            culprit = None
            if error is None:
                if image['visibility'] == 'public':
                    error = 'IMG.0089'
                elif image['status'] != 'active':
                    error = 'IMG.0046'
            if error is None:
                for project_id in projects:
                    error = self._add_project_error(image, project_id, caller, caller_region)
                    if error:
                        culprit = project_id
                        break
            if error is None:
                new = [p for p in projects if state.member(image_id, p) is None]
                if len(state.members_of(image_id)) + len(new) > state.member_quota_for(image):
                    error = 'IMG.0088'
            outcome.append((image_id, error, culprit))
        return outcome

    def _evaluate_delete(self, images, projects, caller):
        missing_fails = self.state.setting('batch_delete_missing') == 'fail'
        outcome = []
        for image_id in images:
            error, _image = self._owner_op_error(image_id, caller)
            culprit = None
            if error is None and missing_fails:
                for project_id in projects:
                    if self.state.member(image_id, project_id) is None:
                        error, culprit = 'IMG.0113', project_id
                        break
            outcome.append((image_id, error, culprit))
        return outcome

    def _evaluate_update(self, images, caller):
        outcome = []
        for image_id in images:
            image = self.state.image(image_id)
            if image is None:
                outcome.append((image_id, 'IMG.0027', None))
            elif not self.state.membership_counts(image, caller):
                outcome.append((image_id, 'IMG.0086', None))
            else:
                outcome.append((image_id, None, None))
        return outcome

    def _outcome(self, job):
        payload, caller, op = job['payload'], job['project_id'], job['op']
        if op == 'add':
            return self._evaluate_add(payload['images'], payload['projects'], caller)
        if op == 'delete':
            return self._evaluate_delete(payload['images'], payload['projects'], caller)
        return self._evaluate_update(payload['images'], caller)

    def _result(self, image_id, error, culprit, fail_reason=None):
        """One entities.results[] entry of a failed image. Documented (ims_api.md section 4, Table 3): only image_id,
        project_id and status; setting job_result_detail: detailed adds error_code and fail_reason."""
        if self.state.setting('job_result_detail') == 'documented':
            result = {'image_id': image_id, 'status': 'FAIL'}
        else:
            result = {'image_id': image_id, 'status': 'failed', 'error_code': error,
                      'fail_reason': fail_reason or IMG_ERRORS[error]}
        if culprit:
            result['project_id'] = culprit
        return result

    def _settle(self, job):
        op = job['op']
        finished = job['begin_time'] + job['duration']
        outcome = self._outcome(job)
        failures = [item for item in outcome if item[1]]
        atomic = self.state.setting('batch_fail_mode') == 'atomic'
        results = []
        for image_id, error, culprit in outcome:
            if error:
                results.append(self._result(image_id, error, culprit))
            elif failures and atomic:
                results.append(self._result(image_id, None, None, 'Not applied: another image of the job failed.'))
            else:
                self._apply(op, image_id, job['payload'], job['project_id'], finished)
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
        state = self.state
        if op == 'add':
            for project_id in payload['projects']:
                state.add_member(image_id, project_id, when)
        elif op == 'delete':
            for project_id in payload['projects']:
                state.remove_member(image_id, project_id)
        else:
            state.set_member_status(image_id, caller, payload['status'], when)
