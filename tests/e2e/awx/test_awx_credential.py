# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX credentials against the emulator, through real ansible-playbook runs.

* AWX's built-in OpenStack credential: a clouds.yaml with the cloud ``devstack`` (written the way AWX's injector
  writes it) and OS_CLIENT_CONFIG_FILE; playbooks use ``cloud: devstack``.
* The custom credential types of docs/awx/: checked against AWX's rules for credential types, then their injectors
  are rendered the way AWX renders them (environment variables, extra vars file passed with -e @file).
"""
from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import textwrap

import pytest
import requests
import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from harness import TEST_SEED  # tests/emulator is on sys.path: tests/e2e/conftest.py

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
AWX_DIR = os.path.join(ROOT, 'docs', 'awx')

with open(TEST_SEED, encoding='utf-8') as _handle:
    SEED = yaml.safe_load(_handle)
DOMAIN = SEED['domains'][0]['name']
PROJECT_ID = dict((project['name'], project['id']) for project in SEED['projects'])
USERS = dict((user['name'], user) for user in SEED['users'])
IMAGE_ID = dict((image['name'], image['id']) for image in SEED['images'])
OWNER = USERS['owner-user']
CONSUMER = USERS['consumer-user']
OWNER_PROJECT = PROJECT_ID['eu-de_owner']
CONSUMER_PROJECT = PROJECT_ID['eu-de_consumer']
TOKEN_ROUTE = 'POST /v3/auth/tokens'
PLAYBOOK_TIMEOUT = 300

# What AWX refuses in credential types (awx/main/fields.py CredentialTypeInputField / CredentialTypeInjectorField,
# awx/main/constants.py ENV_BLOCKLIST).
AWX_NAME = re.compile(r'^[a-zA-Z_]+[a-zA-Z0-9_]*$')
AWX_FIELD_KEYS = {'id', 'label', 'type', 'format', 'choices', 'help_text', 'multiline', 'secret', 'ask_at_runtime', 'default'}
AWX_ENV_BLOCKLIST = {'VIRTUAL_ENV', 'PATH', 'PYTHONPATH', 'PROOT_TMP_DIR', 'JOB_ID', 'INVENTORY_ID', 'INVENTORY_SOURCE_ID',
                     'INVENTORY_UPDATE_ID', 'AD_HOC_COMMAND_ID', 'REST_API_URL', 'REST_API_TOKEN', 'MAX_EVENT_RES',
                     'CALLBACK_QUEUE', 'CALLBACK_CONNECTION', 'CACHE', 'JOB_CALLBACK_DEBUG', 'INVENTORY_HOSTVARS',
                     'AWX_HOST', 'PROJECT_REVISION', 'SUPERVISOR_WEB_CONFIG_PATH'}


@pytest.fixture
def job_dir(tmp_path):
    """A private data directory like AWX's: env/ holds the injected files."""
    (tmp_path / 'env').mkdir()
    (tmp_path / 'project').mkdir()
    return tmp_path


def base_env(job_dir):
    """The environment of an AWX job run: no OS_* settings of this machine, a private token cache."""
    env = dict((key, value) for key, value in os.environ.items() if not key.startswith('OS_'))
    env['IMSCLOUD_SHARING_CACHE_DIR'] = str(job_dir / 'token-cache')
    env['ANSIBLE_NOCOLOR'] = '1'
    env['ANSIBLE_RETRY_FILES_ENABLED'] = '0'
    env['HOME'] = str(job_dir)
    assert env.get('ANSIBLE_COLLECTIONS_PATH'), 'tests/conftest.py sets ANSIBLE_COLLECTIONS_PATH'
    return env


def run_playbook(job_dir, playbook, env, extra_args=()):
    path = job_dir / 'project' / 'playbook.yml'
    path.write_text(textwrap.dedent(playbook))
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), str(path)] + list(extra_args)
    completed = subprocess.run(command, cwd=str(job_dir / 'project'), env=env, capture_output=True, text=True,
                               timeout=PLAYBOOK_TIMEOUT, check=False)
    return completed


def recap(output):
    """{'ok': n, 'changed': n, 'failed': n, ...} of the one host of the PLAY RECAP."""
    line = [text for text in output.splitlines() if text.startswith('localhost') and 'ok=' in text][-1]
    return dict((key, int(value)) for key, value in re.findall(r'(\w+)=(\d+)', line))


def members_of(emu, image_ids):
    return sorted((m['image_id'], m['member_id'], m['status']) for m in emu.state()['members'] if m['image_id'] in image_ids)


# ---------------------------------------------------------------- AWX's built-in OpenStack credential

def awx_openstack_clouds_yaml(job_dir, inputs):
    """Write the file AWX's OpenStack credential injects (awx/main/models/credential/injectors.py, openstack())."""
    auth = {
        'auth_url': inputs.get('host', ''),
        'username': inputs.get('username', ''),
        'password': inputs.get('password', ''),
        'project_name': inputs.get('project', ''),
    }
    if 'project_domain_name' in inputs:
        auth['project_domain_name'] = inputs['project_domain_name']
    if 'domain' in inputs:
        auth['domain_name'] = inputs['domain']
    data = {'clouds': {'devstack': {'auth': auth, 'verify': inputs.get('verify_ssl', True)}}}
    if 'region' in inputs:
        data['clouds']['devstack']['region_name'] = inputs['region']
    path = job_dir / 'env' / 'tmp_openstack_cred'
    with open(path, 'w', encoding='utf-8') as handle:
        yaml.safe_dump(data, handle, default_flow_style=False, allow_unicode=True)
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IWGRP)
    return str(path)


SHARE_AS_DEVSTACK = '''
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: Share two images with the consumer project
          imscloud.sharing.ims_image_member_batch:
            cloud: devstack
            images: [shareable-01, shareable-02]
            projects: ["{consumer}"]
          register: shared

        - name: Read the members
          imscloud.sharing.ims_image_member_info:
            cloud: devstack
            images: [shareable-01, shareable-02]
          register: members

        - name: Check what the modules report
          ansible.builtin.assert:
            that:
              - members.project_id == "{owner}"
              - members.images | map(attribute='members') | flatten | map(attribute='member_id') | unique | list
                == ["{consumer}"]
'''


@pytest.mark.parametrize('inputs', [
    # AWX's "Domain Name" field only: it is the domain of the user and of the project
    pytest.param({'project': 'eu-de_owner', 'domain': DOMAIN, 'verify_ssl': False}, id='domain-only'),
    # with the optional "Project (Domain Name)" and "Region Name" fields
    pytest.param({'project': 'eu-de_owner', 'domain': DOMAIN, 'project_domain_name': DOMAIN, 'region': 'eu-de',
                  'verify_ssl': True}, id='project-domain-and-region'),
])
def test_awx_openstack_credential_with_cloud_devstack(emu, job_dir, inputs):
    inputs = dict(inputs, host=emu.url + '/v3', username=OWNER['name'], password=OWNER['password'])
    env = base_env(job_dir)
    env['OS_CLIENT_CONFIG_FILE'] = awx_openstack_clouds_yaml(job_dir, inputs)
    playbook = SHARE_AS_DEVSTACK.format(consumer=CONSUMER_PROJECT, owner=OWNER_PROJECT)

    first = run_playbook(job_dir, playbook, env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert recap(first.stdout)['changed'] == 1
    images = [IMAGE_ID['shareable-01'], IMAGE_ID['shareable-02']]
    assert members_of(emu, images) == sorted((image, CONSUMER_PROJECT, 'pending') for image in images)

    emu.reset_stats()
    second = run_playbook(job_dir, playbook, env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert recap(second.stdout)['changed'] == 0
    stats = emu.stats()
    # the token of the first run is reused from the cache, and nothing is written
    assert stats['requests'].get(TOKEN_ROUTE, 0) == 0
    assert stats['writes'] == 0
    assert OWNER['password'] not in first.stdout + first.stderr + second.stdout + second.stderr


def test_awx_openstack_credential_without_cloud_devstack_fails_clearly(emu, job_dir):
    inputs = {'host': emu.url + '/v3', 'username': OWNER['name'], 'password': OWNER['password'],
              'project': 'eu-de_owner', 'domain': DOMAIN}
    env = base_env(job_dir)
    env['OS_CLIENT_CONFIG_FILE'] = awx_openstack_clouds_yaml(job_dir, inputs)
    playbook = SHARE_AS_DEVSTACK.replace('cloud: devstack', 'cloud: production', 1).format(
        consumer=CONSUMER_PROJECT, owner=OWNER_PROJECT)
    completed = run_playbook(job_dir, playbook, env)
    assert completed.returncode != 0
    # the message names the cloud that was asked for, the one the file defines and the file itself
    assert "cloud='production' is not a cloud defined in" in completed.stdout
    assert 'devstack' in completed.stdout and 'OS_CLIENT_CONFIG_FILE' in completed.stdout
    assert emu.stats()['total'] == 0


# ---------------------------------------------------------------- custom credential types (docs/awx)

def load_credential_type(name):
    with open(os.path.join(AWX_DIR, name), encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def awx_validation_errors(definition):
    """What AWX would refuse when the credential type is created (inputs and injectors), as a list of strings."""
    errors = []
    for key in ('name', 'kind', 'inputs', 'injectors'):
        if key not in definition:
            errors.append('missing %s' % key)
    if definition.get('kind') not in ('cloud', 'net'):
        errors.append('custom credential types have kind cloud or net')
    inputs = definition.get('inputs') or {}
    if set(inputs) - {'fields', 'required'}:
        errors.append('inputs: unknown keys %s' % sorted(set(inputs) - {'fields', 'required'}))
    ids = []
    for field in inputs.get('fields', []):
        if set(field) - AWX_FIELD_KEYS:
            errors.append('field %s: unknown keys %s' % (field.get('id'), sorted(set(field) - AWX_FIELD_KEYS)))
        if 'id' not in field or 'label' not in field:
            errors.append('field %r needs id and label' % field)
            continue
        if not AWX_NAME.match(field['id']) or field['id'] == 'tower' or field['id'] in ids:
            errors.append('field id %r is invalid, reserved or repeated' % field['id'])
        if field.get('type', 'string') not in ('string', 'boolean'):
            errors.append('field %s: type must be string or boolean' % field['id'])
        ids.append(field['id'])
    for required in inputs.get('required', []):
        if required not in ids:
            errors.append('required %s is not a field' % required)
    injectors = definition.get('injectors') or {}
    if set(injectors) - {'env', 'extra_vars', 'file'}:
        errors.append('injectors: unknown keys %s' % sorted(set(injectors) - {'env', 'extra_vars', 'file'}))
    for name, template in (injectors.get('env') or {}).items():
        if not AWX_NAME.match(name) or name.startswith('ANSIBLE_') or name in AWX_ENV_BLOCKLIST:
            errors.append('env %s is not allowed' % name)
        if not isinstance(template, str) or not template.isascii():
            errors.append('env %s: the value must be an ASCII string' % name)
    for name, template in (injectors.get('extra_vars') or {}).items():
        if not AWX_NAME.match(name) or not isinstance(template, str):
            errors.append('extra_vars %s: invalid name or value that is not a string' % name)
    # every template may use only the fields defined (AWX renders them with StrictUndefined)
    strict = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    namespace = dict((field_id, 'EXAMPLE') for field_id in ids)
    for kind in ('env', 'extra_vars', 'file'):
        for name, template in (injectors.get(kind) or {}).items():
            try:
                strict.from_string(template).render(**namespace)
            except Exception as exc:  # pylint: disable=broad-except
                errors.append('%s %s: %s' % (kind, name, exc))
    return errors


class _UnsafeDumper(yaml.SafeDumper):
    """AWX writes injected extra vars with every string tagged !unsafe (awx/main/utils/safe_yaml.py)."""

    def represent_data(self, data):
        if isinstance(data, str):
            return self.represent_scalar('!unsafe', data)
        return super().represent_data(data)


def awx_inject(definition, credential_inputs, job_dir):
    """Render the injectors as AWX does: (environment variables, ansible-playbook arguments).

    Empty inputs are left out of the namespace, so their templates render as ''.
    """
    namespace = dict((key, value) for key, value in credential_inputs.items() if value)
    sandbox = ImmutableSandboxedEnvironment()
    injectors = definition['injectors']
    env = dict((name, sandbox.from_string(template).render(**namespace)) for name, template in injectors.get('env', {}).items())
    args = []
    extra_vars = dict((name, sandbox.from_string(template).render(**namespace))
                      for name, template in injectors.get('extra_vars', {}).items())
    if extra_vars:
        path = job_dir / 'env' / 'extra_vars_credential'
        path.write_text(''.join(yaml.dump_all([{key: value}], Dumper=_UnsafeDumper, default_flow_style=False)
                                for key, value in extra_vars.items()))
        os.chmod(path, stat.S_IRUSR)
        args = ['-e', '@%s' % path]
    return env, args


@pytest.mark.parametrize('name', ['credential_type_ims_aksk.yml', 'credential_type_ims_token.yml'])
def test_credential_types_are_valid_for_awx(name):
    definition = load_credential_type(name)
    assert awx_validation_errors(definition) == []
    fields = dict((field['id'], field) for field in definition['inputs']['fields'])
    # every secret input goes to the environment only, and is marked secret (AWX encrypts and hides it)
    for field_id in ('secret_key', 'security_token', 'token'):
        if field_id in fields:
            assert fields[field_id].get('secret') is True
            assert not any(field_id in template for template in definition['injectors'].get('extra_vars', {}).values())


def test_awx_validation_catches_what_awx_refuses():
    definition = load_credential_type('credential_type_ims_aksk.yml')
    broken = dict(definition, injectors={'env': {'ANSIBLE_CONFIG': '{{ access_key }}', 'OS_X': '{{ no_such_field }}'},
                                         'extra_vars': {'bad-name': '{{ access_key }}'}})
    errors = awx_validation_errors(broken)
    assert any('ANSIBLE_CONFIG' in error for error in errors)
    assert any('no_such_field' in error for error in errors)
    assert any('bad-name' in error for error in errors)


SHARE_AND_ACCEPT_WITH_ENV = '''
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: {action} with the credentials the credential type injected
          imscloud.sharing.ims_image_member_batch:
            images: {images}
            {what}
            ims_endpoint: "{{{{ imscloud_ims_endpoint | default(omit, true) }}}}"
          register: batch

        - name: Look at the shares from the same credentials
          imscloud.sharing.ims_image_member_info:
            {info}
            ims_endpoint: "{{{{ imscloud_ims_endpoint | default(omit, true) }}}}"
          register: info

        - name: Show the project the credentials belong to
          ansible.builtin.debug:
            msg: "project={{{{ info.project_id }}}} images={{{{ info.images | map(attribute='id') | list | to_json }}}}"
'''


def test_aksk_credential_type_shares_and_accepts_with_signed_requests(emu, job_dir):
    definition = load_credential_type('credential_type_ims_aksk.yml')
    images = [IMAGE_ID['shareable-03'], IMAGE_ID['shareable-04']]

    # the owner shares, signed with the owner's access key
    owner_env, owner_args = awx_inject(definition, {
        'access_key': OWNER['access_key'], 'secret_key': OWNER['secret_key'], 'project_id': OWNER_PROJECT,
        'region_name': 'eu-de', 'security_token': '', 'ims_endpoint': emu.url}, job_dir)
    assert owner_env['OS_SECURITY_TOKEN'] == ''
    env = dict(base_env(job_dir), **owner_env)
    share = run_playbook(job_dir, SHARE_AND_ACCEPT_WITH_ENV.format(
        action='Share', images=json.dumps(images), what='projects: ["%s"]' % CONSUMER_PROJECT,
        info='images: %s' % json.dumps(images)), env, owner_args)
    assert share.returncode == 0, share.stdout + share.stderr
    assert 'project=%s' % OWNER_PROJECT in share.stdout
    assert members_of(emu, images) == sorted((image, CONSUMER_PROJECT, 'pending') for image in images)

    # the consumer accepts, signed with its own access key, and lists what is shared with it
    consumer_env, consumer_args = awx_inject(definition, {
        'access_key': CONSUMER['access_key'], 'secret_key': CONSUMER['secret_key'], 'project_id': CONSUMER_PROJECT,
        'region_name': 'eu-de', 'ims_endpoint': emu.url}, job_dir)
    env = dict(base_env(job_dir), **consumer_env)
    accept = run_playbook(job_dir, SHARE_AND_ACCEPT_WITH_ENV.format(
        action='Accept', images=json.dumps(images), what='status: accepted', info='member_status: accepted'),
        env, consumer_args)
    assert accept.returncode == 0, accept.stdout + accept.stderr
    assert 'project=%s' % CONSUMER_PROJECT in accept.stdout
    assert members_of(emu, images) == sorted((image, CONSUMER_PROJECT, 'accepted') for image in images)

    stats = emu.stats()
    # every request was signed (the emulator verifies each signature); no token was ever requested
    assert stats['by_auth'].get('aksk', 0) > 0
    assert stats['by_auth'].get('token', 0) == 0
    assert stats['requests'].get(TOKEN_ROUTE, 0) == 0
    output = share.stdout + share.stderr + accept.stdout + accept.stderr
    assert OWNER['secret_key'] not in output and CONSUMER['secret_key'] not in output


def test_aksk_credential_type_with_a_wrong_secret_fails_with_the_gateway_code(emu, job_dir):
    definition = load_credential_type('credential_type_ims_aksk.yml')
    env_vars, args = awx_inject(definition, {
        'access_key': CONSUMER['access_key'], 'secret_key': 'not-the-secret-key', 'project_id': CONSUMER_PROJECT,
        'ims_endpoint': emu.url}, job_dir)
    env = dict(base_env(job_dir), **env_vars)
    completed = run_playbook(job_dir, SHARE_AND_ACCEPT_WITH_ENV.format(
        action='Accept', images=json.dumps([IMAGE_ID['shareable-05']]), what='status: accepted',
        info='member_status: all'), env, args)
    assert completed.returncode != 0
    assert 'APIGW.0301' in completed.stdout
    assert 'not-the-secret-key' not in completed.stdout + completed.stderr


def issue_token(emu, user, project_id):
    body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
        'name': user['name'], 'password': user['password'], 'domain': {'name': DOMAIN}}}},
        'scope': {'project': {'id': project_id}}}}
    response = requests.post(emu.url + '/v3/auth/tokens', json=body, timeout=30)
    assert response.status_code == 201, response.text
    return response.headers['X-Subject-Token']


def share_natively(emu, token, image_id, project_id):
    """Set up a share without a playbook run (the owner's part is not what these tests are about)."""
    response = requests.post('%s/v2/images/%s/members' % (emu.url, image_id), json={'member': project_id},
                             headers={'X-Auth-Token': token, 'Accept': 'application/json'}, timeout=30)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize('scope', ['project_id', 'project_name'])
def test_token_credential_type_accepts_as_the_recipient(emu, job_dir, scope):
    definition = load_credential_type('credential_type_ims_token.yml')
    images = [IMAGE_ID['shareable-06'], IMAGE_ID['shareable-07']]
    owner_token = issue_token(emu, OWNER, OWNER_PROJECT)
    for image_id in images:
        share_natively(emu, owner_token, image_id, CONSUMER_PROJECT)
    consumer_token = issue_token(emu, CONSUMER, CONSUMER_PROJECT)
    emu.reset_stats()

    project = ({'project_id': CONSUMER_PROJECT} if scope == 'project_id'
               else {'project_name': 'eu-de_consumer', 'project_domain_name': DOMAIN})
    env_vars, args = awx_inject(definition, dict(project, auth_url=emu.url + '/v3', token=consumer_token), job_dir)
    assert args == []
    env = dict(base_env(job_dir), **env_vars)
    accept = run_playbook(job_dir, SHARE_AND_ACCEPT_WITH_ENV.format(
        action='Accept', images=json.dumps(images), what='status: accepted', info='member_status: all'), env, args)
    assert accept.returncode == 0, accept.stdout + accept.stderr
    assert 'project=%s' % CONSUMER_PROJECT in accept.stdout
    assert members_of(emu, images) == sorted((image_id, CONSUMER_PROJECT, 'accepted') for image_id in images)
    # the given token is exchanged once for a project-scoped token, which the second task reuses from the cache
    assert emu.stats()['requests'].get(TOKEN_ROUTE, 0) == 1
    assert consumer_token not in accept.stdout + accept.stderr
