# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbooks of the benchmark scenarios, as data (written out as YAML by the runner).

Every play runs on the controller (connection local). Variables come from an extra-vars file:
owner_auth, recipient_auth (module `auth` dicts), ims_url (the IMS endpoint), image_ids, image_names,
project_ids, recipient_project_id, and for the planning run plan_image_ids / plan_project_ids.
"""

IAM_TOKEN_BODY = {
    'auth': {
        'identity': {
            'methods': ['password'],
            'password': {'user': {'name': '{{ auth.username }}', 'password': '{{ auth.password }}',
                                  'domain': {'name': '{{ auth.user_domain_name }}'}}},
        },
        'scope': {'project': {'id': '{{ auth.project_id }}'}},
    },
}


def _play(name, tasks, hosts='localhost'):
    return [{'name': name, 'hosts': hosts, 'gather_facts': False, 'tasks': tasks}]


def _uri_token_task(auth_var):
    """The first step of the documented procedure: POST /v3/auth/tokens, keep X-Subject-Token."""
    return {
        'name': 'Obtain a project-scoped token from IAM',
        'ansible.builtin.uri': {'url': '{{ auth.auth_url }}/auth/tokens', 'method': 'POST', 'body_format': 'json',
                                'body': IAM_TOKEN_BODY, 'status_code': 201},
        'vars': {'auth': '{{ %s }}' % auth_var},
        'register': 'iam_token',
        'no_log': True,
    }


def batch_share(images_var='image_ids', interpreter=None, options=None):
    """Scenarios 1 and 2 (and 1 by name, the growth sizes, G1 and S): one ims_image_member_batch task.

    interpreter: run the module with this ansible_python_interpreter (the peak-RSS wrapper); options: more module
    options (the executor choice)."""
    args = {'auth': '{{ owner_auth }}', 'images': '{{ %s }}' % images_var, 'projects': '{{ project_ids }}'}
    args.update(options or {})
    task = {'name': 'Share every image with every project', 'imscloud.sharing.ims_image_member_batch': args}
    if interpreter:
        task['vars'] = {'ansible_python_interpreter': interpreter}
    return _play('Share the images with the projects (batch module)', [task])


def identities_batch():
    """Scenario R: every host of bench_identities is its own identity (project, region) and shares its images."""
    return _play('Every identity shares its images', [{
        'name': 'Share this identity\'s images with its region\'s projects',
        'imscloud.sharing.ims_image_member_batch': {
            'auth': '{{ bench_auth }}', 'region_name': '{{ bench_region }}', 'images': '{{ bench_images }}',
            'projects': '{{ bench_projects }}'},
    }], hosts='bench_identities')


def audit(result_file):
    """The audit: ims_image_member_info, owner view, no images named; the result is written to result_file (the
    runner checks that it names every image). A failure is kept (ignore_errors) so that the runner can tell a
    missing feature from a broken one."""
    return _play('Audit every share of the project', [
        {
            'name': 'Read every image of the project that has members, with its members',
            'imscloud.sharing.ims_image_member_info': {'auth': '{{ owner_auth }}', 'view': 'owner'},
            'register': 'audit',
            'ignore_errors': True,
        },
        {
            'name': 'Keep the result for the runner',
            'ansible.builtin.copy': {'content': '{{ audit | to_json }}', 'dest': result_file, 'mode': '0600'},
            'when': 'audit is succeeded',
        },
    ])


def native_loop():
    """Scenario 3: ims_image_member, one task run per image."""
    return _play('Share the images with the projects (one task per image)', [{
        'name': 'Share one image with every project',
        'imscloud.sharing.ims_image_member': {
            'auth': '{{ owner_auth }}', 'image': '{{ item }}', 'members': '{{ project_ids }}'},
        'loop': '{{ image_ids }}',
    }])


def uri_share():
    """Scenario 4: the procedure users follow today, with ansible.builtin.uri."""
    return _play('Share the images with the projects (documented procedure, uri)', [
        _uri_token_task('owner_auth'),
        {
            'name': 'Add each project to each image (POST /v2/images/{id}/members)',
            'ansible.builtin.uri': {'url': '{{ ims_url }}/v2/images/{{ item.0 }}/members', 'method': 'POST',
                                    'headers': {'X-Auth-Token': '{{ iam_token.x_subject_token }}'},
                                    'body_format': 'json', 'body': {'member': '{{ item.1 }}'}, 'status_code': 200},
            'loop': '{{ image_ids | product(project_ids) | list }}',
            'loop_control': {'label': '{{ item.0 }} {{ item.1 }}'},
        },
    ])


def hosts_native():
    """Scenario 5: every host of bench_hosts shares its own image at the same moment (forks = hosts)."""
    return _play('Every host shares its image', [{
        'name': 'Share this host\'s image with every project',
        'imscloud.sharing.ims_image_member': {
            'auth': '{{ owner_auth }}', 'image': '{{ bench_image }}', 'members': '{{ project_ids }}'},
    }], hosts='bench_hosts')


def batch_accept():
    """Scenario 6, module side: the recipient accepts every image in one task."""
    return _play('Accept the shared images (batch module)', [{
        'name': 'Accept every shared image',
        'imscloud.sharing.ims_image_member_batch': {
            'auth': '{{ recipient_auth }}', 'images': '{{ image_ids }}', 'status': 'accepted'},
    }])


def uri_accept():
    """Scenario 6, baseline side: PUT .../members/{member_id} once per image."""
    return _play('Accept the shared images (uri)', [
        _uri_token_task('recipient_auth'),
        {
            'name': 'Accept each image (PUT /v2/images/{id}/members/{member_id})',
            'ansible.builtin.uri': {'url': '{{ ims_url }}/v2/images/{{ item }}/members/{{ recipient_project_id }}',
                                    'method': 'PUT', 'headers': {'X-Auth-Token': '{{ iam_token.x_subject_token }}'},
                                    'body_format': 'json', 'body': {'status': 'accepted'}, 'status_code': 200},
            'loop': '{{ image_ids }}',
        },
    ])


def plan_only(interpreter):
    """Planning without writes (check mode) of plan_image_ids x plan_project_ids, run by `interpreter`.

    The assert runs on the controller (no module process), so the measured process is the module's alone.
    """
    return _play('Plan sharing in check mode', [
        {
            'name': 'Plan sharing every image with every project',
            'imscloud.sharing.ims_image_member_batch': {
                'auth': '{{ owner_auth }}', 'images': '{{ plan_image_ids }}', 'projects': '{{ plan_project_ids }}'},
            'check_mode': True,
            'vars': {'ansible_python_interpreter': interpreter},
            'register': 'planned',
        },
        {
            'name': 'The plan adds every pair',
            'ansible.builtin.assert': {
                'that': ['planned.added | length == (plan_image_ids | length) * (plan_project_ids | length)'],
                'quiet': True,
            },
        },
    ])


def single_image(module):
    """One unchanged single-image task (the module-time measurement keeps the AnsiballZ file it runs)."""
    if module == 'ims_image_member':
        args = {'auth': '{{ owner_auth }}', 'image': '{{ image_ids[0] }}', 'members': '{{ project_ids }}'}
    else:
        args = {'auth': '{{ owner_auth }}', 'images': ['{{ image_ids[0] }}'], 'projects': '{{ project_ids }}'}
    return _play('One single-image task', [{'name': 'Share one image', 'imscloud.sharing.%s' % module: args}])


def ansible_floor():
    """One ansible.builtin.ping task: what Ansible itself costs a one-task play on this machine (no module of ours)."""
    return _play('Ansible\'s own floor', [{'name': 'Ping the controller', 'ansible.builtin.ping': {}}])
