# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IMS v1 batch member API and async jobs (ims_api.md sections 3 and 4)."""

import re
import time

import pytest
import requests

from emutest import IMAGES, PROJECTS, UNKNOWN_IMAGE, UNKNOWN_PROJECT

A, B = IMAGES['shareable-01'], IMAGES['shareable-02']
CONSUMER, CONSUMER2 = PROJECTS['consumer'], PROJECTS['consumer2']
MILLIS = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$')


def add_job(cloud, images, projects):
    return cloud.submit('POST', {'images': images, 'projects': projects})


def test_job_goes_init_running_success_and_applies_only_at_the_end(cloud):
    cloud.emulator.configure(job_duration=2.0)  # INIT for 0.5 s, RUNNING until 2 s: wide margins for a busy machine
    started = time.monotonic()
    job_id = add_job(cloud, [A, B], [CONSUMER, CONSUMER2])
    assert re.match(r'^[0-9a-f]{32}$', job_id)
    first = cloud.job(job_id).json()
    assert first['status'] == 'INIT' and first['job_type'] == 'imsAddImageMembersJob'
    assert MILLIS.match(first['begin_time']) and first['end_time'] is None and first['error_code'] is None
    assert cloud.member_rows() == {}
    time.sleep(max(0.0, started + 0.8 - time.monotonic()))
    running = cloud.job(job_id).json()
    assert running['status'] == 'RUNNING'
    assert cloud.get('/v2/images/%s/members' % A).json()['members'] == []  # not applied while running
    done = cloud.wait_job(job_id)
    assert time.monotonic() - started >= 2.0
    assert done['status'] == 'SUCCESS' and done['error_code'] is None and done['fail_reason'] is None
    assert MILLIS.match(done['end_time'])
    assert done['entities'] == {'results': [{'image_id': A, 'status': 'success'}, {'image_id': B, 'status': 'success'}]}
    assert cloud.member_rows() == {(A, CONSUMER): 'pending', (A, CONSUMER2): 'pending',
                                   (B, CONSUMER): 'pending', (B, CONSUMER2): 'pending'}


def test_update_and_delete_jobs(cloud):
    cloud.wait_job(add_job(cloud, [A, B], [CONSUMER]))
    update = cloud.submit('PUT', {'images': [A, B], 'project_id': CONSUMER, 'status': 'accepted'}, who='consumer')
    body = cloud.wait_job(update, who='consumer')
    assert body['status'] == 'SUCCESS' and body['job_type'] == 'imsUpdateImageMembersJob'
    assert [r['status'] for r in body['entities']['results']] == ['success', 'success']
    assert cloud.member_rows() == {(A, CONSUMER): 'accepted', (B, CONSUMER): 'accepted'}
    rejected = cloud.submit('PUT', {'images': [A], 'project_id': CONSUMER, 'status': 'rejected', 'vault_id': 'v-1'}, who='consumer')
    assert cloud.wait_job(rejected, who='consumer')['status'] == 'SUCCESS'
    assert cloud.member_rows()[(A, CONSUMER)] == 'rejected'
    delete = cloud.submit('DELETE', {'images': [A, B], 'projects': [CONSUMER]})
    body = cloud.wait_job(delete)
    assert body['status'] == 'SUCCESS' and body['job_type'] == 'imsDelImageMembersJob'
    assert body['entities'] == {'results': []}  # as in the documented delete example
    assert cloud.member_rows() == {}


@pytest.mark.parametrize('image, project, code', [
    (IMAGES['other-private'], CONSUMER, 'IMG.0047'),
    (UNKNOWN_IMAGE, CONSUMER, 'IMG.0027'),
    (IMAGES['public-image'], CONSUMER, 'IMG.0089'),
    (IMAGES['encrypted-no-key'], CONSUMER, 'IMG.0099'),
    (IMAGES['queued-image'], CONSUMER, 'IMG.0046'),
    (A, PROJECTS['owner'], 'IMG.0076'),
    (A, UNKNOWN_PROJECT, 'IMG.0108'),
    (A, PROJECTS['remote'], 'IMG.0177'),
])
def test_add_job_fail_reasons(cloud, image, project, code):
    cloud.emulator.configure(job_result_detail='detailed')
    body = cloud.wait_job(add_job(cloud, [image, B], [project]))
    assert body['status'] == 'FAIL'
    assert body['error_code'] == code and image in body['fail_reason']
    failed = [r for r in body['entities']['results'] if r['image_id'] == image][0]
    assert failed['status'] == 'failed' and failed['error_code'] == code and failed['fail_reason']
    assert (image, project) not in cloud.member_rows()


def test_member_quota_fails_the_job(cloud):
    small = IMAGES['small-quota']
    body = cloud.wait_job(add_job(cloud, [small], [CONSUMER, CONSUMER2, PROJECTS['other']]))
    assert body['status'] == 'FAIL' and body['error_code'] == 'IMG.0088'
    assert cloud.member_rows(small) == {}
    assert cloud.wait_job(add_job(cloud, [small], [CONSUMER, CONSUMER2]))['status'] == 'SUCCESS'
    assert cloud.wait_job(add_job(cloud, [small], [PROJECTS['other']]))['error_code'] == 'IMG.0088'


def test_encrypted_image_with_authorised_key_is_shared(cloud):
    assert cloud.wait_job(add_job(cloud, [IMAGES['encrypted-key-ok']], [CONSUMER]))['status'] == 'SUCCESS'


def test_failed_results_have_the_documented_shape_by_default(cloud):
    """ims_api.md section 4 (Table 3): a result has only image_id, project_id and status; the job's top level carries
    error_code and fail_reason."""
    body = cloud.wait_job(add_job(cloud, [A, IMAGES['public-image'], B], [CONSUMER, UNKNOWN_PROJECT]))
    assert body['status'] == 'FAIL' and body['error_code'] == 'IMG.0108'
    assert body['entities']['results'] == [
        {'image_id': A, 'project_id': UNKNOWN_PROJECT, 'status': 'FAIL'},
        {'image_id': IMAGES['public-image'], 'status': 'FAIL'},
        {'image_id': B, 'project_id': UNKNOWN_PROJECT, 'status': 'FAIL'},
    ]
    for result in body['entities']['results']:
        assert set(result) <= {'image_id', 'project_id', 'status'}


def test_partial_mode_applies_the_good_images(cloud):
    cloud.emulator.configure(job_result_detail='detailed')
    body = cloud.wait_job(add_job(cloud, [A, IMAGES['public-image']], [CONSUMER, CONSUMER2]))
    assert body['status'] == 'FAIL' and body['error_code'] == 'IMG.0089'
    assert body['entities']['results'] == [
        {'image_id': A, 'status': 'success'},
        {'image_id': IMAGES['public-image'], 'status': 'failed', 'error_code': 'IMG.0089', 'fail_reason': 'The public image cannot be shared.'},
    ]
    assert cloud.member_rows() == {(A, CONSUMER): 'pending', (A, CONSUMER2): 'pending'}


def test_a_failing_project_blocks_its_whole_image(cloud):
    body = cloud.wait_job(add_job(cloud, [A], [CONSUMER, UNKNOWN_PROJECT]))
    assert body['status'] == 'FAIL'
    assert body['entities']['results'][0]['project_id'] == UNKNOWN_PROJECT
    assert cloud.member_rows() == {}


def test_atomic_mode_applies_nothing(cloud):
    cloud.emulator.configure(batch_fail_mode='atomic', job_result_detail='detailed')
    body = cloud.wait_job(add_job(cloud, [A, IMAGES['public-image']], [CONSUMER]))
    assert body['status'] == 'FAIL'
    good, bad = body['entities']['results']
    assert good['image_id'] == A and good['status'] == 'failed' and good['error_code'] is None
    assert bad['error_code'] == 'IMG.0089'
    assert cloud.member_rows() == {}


def test_readd_setting(cloud):
    cloud.wait_job(add_job(cloud, [A], [CONSUMER]))
    cloud.set_status(A, CONSUMER, 'accepted', who='consumer')
    assert cloud.wait_job(add_job(cloud, [A], [CONSUMER, CONSUMER2]))['status'] == 'SUCCESS'
    assert cloud.member_rows(A) == {(A, CONSUMER): 'accepted', (A, CONSUMER2): 'pending'}  # existing row untouched
    cloud.emulator.configure(batch_readd='fail')
    body = cloud.wait_job(add_job(cloud, [A], [CONSUMER]))
    assert body['status'] == 'FAIL' and body['error_code'] == 'IMG.0112'


def test_delete_missing_setting(cloud):
    assert cloud.wait_job(cloud.submit('DELETE', {'images': [A], 'projects': [CONSUMER]}))['status'] == 'SUCCESS'
    cloud.emulator.configure(batch_delete_missing='fail')
    body = cloud.wait_job(cloud.submit('DELETE', {'images': [A], 'projects': [CONSUMER]}))
    assert body['status'] == 'FAIL' and body['error_code'] == 'IMG.0113'
    not_owner = cloud.wait_job(cloud.submit('DELETE', {'images': [IMAGES['other-private']], 'projects': [CONSUMER]}))
    assert not_owner['error_code'] == 'IMG.0047'


def test_update_without_membership_fails(cloud):
    body = cloud.wait_job(cloud.submit('PUT', {'images': [A], 'project_id': CONSUMER, 'status': 'accepted'}, who='consumer'),
                          who='consumer')
    assert body['status'] == 'FAIL' and body['error_code'] == 'IMG.0086'


def test_update_to_pending_setting(cloud):
    cloud.wait_job(add_job(cloud, [A], [CONSUMER]))
    payload = {'images': [A], 'project_id': CONSUMER, 'status': 'pending'}
    refused = cloud.call('PUT', '/v1/cloudimages/members', who='consumer', json=payload)
    assert refused.status_code == 400 and refused.json()['error']['code'] == 'IMG.0001'
    cloud.emulator.configure(batch_allow_pending=True)
    assert cloud.wait_job(cloud.submit('PUT', payload, who='consumer'), who='consumer')['status'] == 'SUCCESS'


@pytest.mark.parametrize('method, body, code', [
    ('POST', b'', 'IMG.0007'),
    ('POST', b'{not json', 'IMG.0001'),
    ('POST', b'["a"]', 'IMG.0001'),
    ('POST', b'{"images": ["11111111-0000-4000-8000-000000000001"]}', 'IMG.0001'),
    ('POST', b'{"images": "11111111-0000-4000-8000-000000000001", "projects": ["cc000000000000000000000000000001"]}', 'IMG.0001'),
    ('POST', b'{"images": [], "projects": ["cc000000000000000000000000000001"]}', 'IMG.0001'),
    ('POST', b'{"images": ["not-a-uuid"], "projects": ["cc000000000000000000000000000001"]}', 'IMG.0066'),
    ('POST', b'{"images": ["11111111-0000-4000-8000-000000000001"], "projects": ["CONSUMER"]}', 'IMG.0067'),
    ('POST', b'{"images": ["11111111-0000-4000-8000-000000000001"], "projects": ["cc000000000000000000000000000001"], '
             b'"domains": ["d"]}', 'IMG.0001'),
    ('DELETE', b'{"images": ["11111111-0000-4000-8000-000000000001"]}', 'IMG.0001'),
    ('PUT', b'{"images": ["11111111-0000-4000-8000-000000000001"], "project_id": "cc000000000000000000000000000002", '
            b'"status": "accepted"}', 'IMG.0030'),
    ('PUT', b'{"images": ["11111111-0000-4000-8000-000000000001"], "project_id": "cc000000000000000000000000000001", '
            b'"status": "maybe"}', 'IMG.0001'),
])
def test_malformed_requests_get_a_synchronous_400(cloud, method, body, code):
    response = requests.request(method, cloud.url + '/v1/cloudimages/members', data=body,
                                headers={'X-Auth-Token': cloud.token('consumer'), 'Content-Type': 'application/json'}, timeout=10)
    assert response.status_code == 400
    error = response.json()
    assert set(error) == {'error'} and set(error['error']) == {'code', 'message'}
    assert error['error']['code'] == code
    assert cloud.emulator.state()['jobs'] == {}


def test_job_ownership(cloud):
    job_id = add_job(cloud, [A], [CONSUMER])
    foreign_path = cloud.get('/v1/%s/jobs/%s' % (PROJECTS['owner'], job_id), who='consumer')
    assert foreign_path.status_code == 400 and foreign_path.json()['error']['code'] == 'IMG.0030'
    foreign_job = cloud.get('/v1/%s/jobs/%s' % (CONSUMER, job_id), who='consumer')
    assert foreign_job.status_code == 404 and foreign_job.json()['error']['code'] == 'IMG.0023'
    unknown = cloud.get('/v1/%s/jobs/%s' % (PROJECTS['owner'], 'f' * 32))
    assert unknown.status_code == 404
    assert cloud.job(job_id).status_code == 200


def test_jobs_finish_in_submission_order(cloud):
    add = add_job(cloud, [A], [CONSUMER])
    delete = cloud.submit('DELETE', {'images': [A], 'projects': [CONSUMER]})
    assert cloud.wait_job(delete)['status'] == 'SUCCESS'
    assert cloud.wait_job(add)['status'] == 'SUCCESS'
    assert cloud.member_rows() == {}


def test_glance_mode_has_no_batch_api(cloud):
    cloud.emulator.configure(mode='glance')
    response = cloud.call('POST', '/v1/cloudimages/members', json={'images': [A], 'projects': [CONSUMER]})
    assert response.status_code == 404
    assert cloud.get('/v1/%s/jobs/%s' % (PROJECTS['owner'], 'f' * 32)).status_code == 404
