# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IMS v1 batch members and jobs (ims_api.md sections 3 and 4): synchronous checks, then a job."""

import collections

from .api_base import Api
from .seed import HEX32_RE, UUID_RE
from .shapes import img_error, json_response, parse_json


def batch_body(ctx, required, optional=()):
    data, problem = parse_json(ctx.body)
    if problem == 'empty':
        raise img_error('IMG.0007')
    if problem or not isinstance(data, dict):
        raise img_error('IMG.0001')
    missing = [key for key in required if key not in data]
    unknown = set(data) - set(required) - set(optional)
    if missing or unknown:
        detail = 'Missing: %s.' % ', '.join(missing) if missing else 'Unknown keys: %s.' % ', '.join(sorted(unknown))
        raise img_error('IMG.0001', detail=detail)
    return data


def id_list(data, key, pattern, code):
    values = data[key]
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise img_error('IMG.0001', detail='%s must be a non-empty list of strings.' % key)
    for value in values:
        if not pattern.match(value):
            raise img_error(code, detail='%r' % value)
    return list(collections.OrderedDict.fromkeys(values))


def images_and_projects(ctx):
    data = batch_body(ctx, ('images', 'projects'))
    return {'images': id_list(data, 'images', UUID_RE, 'IMG.0066'),
            'projects': id_list(data, 'projects', HEX32_RE, 'IMG.0067')}


class BatchApi(Api):
    """POST/PUT/DELETE /v1/cloudimages/members and GET /v1/{project_id}/jobs/{job_id}."""

    def h_batch_add(self, ctx):
        payload = images_and_projects(ctx)
        return json_response({'job_id': self.state.jobs.submit('imsAddImageMembersJob', 'add', ctx.project_id, payload)})

    def h_batch_delete(self, ctx):
        payload = images_and_projects(ctx)
        return json_response({'job_id': self.state.jobs.submit('imsDelImageMembersJob', 'delete', ctx.project_id, payload)})

    def h_batch_update(self, ctx):
        data = batch_body(ctx, ('images', 'project_id', 'status'), ('vault_id',))
        images = id_list(data, 'images', UUID_RE, 'IMG.0066')
        project_id = data['project_id']
        if not isinstance(project_id, str) or not HEX32_RE.match(project_id):
            raise img_error('IMG.0067', detail='%r' % (project_id,))
        if project_id != ctx.project_id:
            raise img_error('IMG.0030', detail='project_id must be the project of the caller.')
        allowed = ('accepted', 'rejected') + (('pending',) if self.state.setting('batch_allow_pending') else ())
        if data['status'] not in allowed:
            raise img_error('IMG.0001', detail='status must be one of: %s.' % ', '.join(allowed))
        if 'vault_id' in data and not isinstance(data['vault_id'], str):
            raise img_error('IMG.0001', detail='vault_id must be a string.')
        payload = {'images': images, 'status': data['status'], 'project_id': project_id}
        return json_response({'job_id': self.state.jobs.submit('imsUpdateImageMembersJob', 'update', ctx.project_id, payload)})

    def h_show_job(self, ctx):
        project_id, job_id = ctx.args['project_id'], ctx.args['job_id']
        if project_id != ctx.project_id:
            raise img_error('IMG.0030', detail='The project in the URL is not the project of the token.')
        job = self.state.jobs.job_of(job_id, project_id)
        if job is None:
            raise img_error('IMG.0023', status=404, detail='Job %s does not exist in project %s.' % (job_id, project_id))
        return json_response(self.state.jobs.view(job))
