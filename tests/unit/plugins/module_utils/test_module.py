# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.imscloud.sharing.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.imscloud.sharing.plugins.module_utils import module as module_utils
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import AUTH_KEYS
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.module import (
    IMSModule,
    connection_argument_spec,
    wait_argument_spec,
)

PROJECT = '0123456789abcdef0123456789abcdef'
PASSWORD = 'Pa55-w0rd-not-to-be-seen'


def auth(**overrides):
    values = dict(auth_url='http://127.0.0.1:9/v3', username='alice', password=PASSWORD, user_domain_name='Default',
                  project_id=PROJECT)
    values.update(overrides)
    return values


@pytest.fixture(autouse=True)
def clean_environment(tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith('OS_'):
            monkeypatch.delenv(name)
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    monkeypatch.setenv('IMSCLOUD_SHARING_CACHE_DIR', str(tmp_path / 'token-cache'))
    monkeypatch.chdir(tmp_path)


class ShareModule(IMSModule):
    """A tiny module: echoes what it saw, or raises what it is told to."""

    argument_spec = dict(
        image=dict(type='str'),
        raise_error=dict(type='bool', default=False),
        use_client=dict(type='int', default=0),
        echo=dict(type='str'),
        pairs=dict(type='int', default=0),
    )
    module_kwargs = dict(required_one_of=[('image', 'echo')])
    runs = []

    def run(self):
        type(self).runs.append(self)
        if self.params['raise_error']:
            raise IMSError('member quota exceeded', status=400, code='IMG.0256', request_id='req-1', method='POST',
                           url='http://127.0.0.1:9/v2/images/i/members',
                           details={'image_id': 'i', 'members_added': ['m1'], 'msg': 'dropped', 'changed': True,
                                    'invocation': 'dropped', 'warnings': 'dropped'})
        clients = [self.client for attempt in range(self.params['use_client'])]
        if self.params['pairs']:
            self.module.warn('many pairs')
            # a secret inside the long list: the masking still applies to every chunk
            return dict(changed=True, pairs=[{'image_id': 'img-%d' % i, 'note': 'x %s' % PASSWORD if i == 7 else 'ok'}
                                             for i in range(self.params['pairs'])], empty=[], echo=self.params['echo'])
        return dict(changed=False, image=self.params['image'], project_id=self.connection.project_id,
                    check_mode=self.check_mode, clients=len({id(client) for client in clients}),
                    echo=self.params['echo'])


@pytest.fixture(autouse=True)
def reset_runs():
    ShareModule.runs = []


def run_module(module_class, args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exited:
            module_class()()
    output = json.loads(capsys.readouterr().out)
    return exited.value.code, output


def warning_texts(result):
    # ansible-core 2.19 reports warnings as structured events; older versions as plain strings
    return [item['event']['msg'] if isinstance(item, dict) else item for item in result.get('warnings', [])]


class FakeClient:
    instances = []

    def __init__(self, config, warn=None, log=None, trace=None):
        self.config = config
        self.warn = warn
        self.log = log
        FakeClient.instances.append(self)


@pytest.fixture
def fake_client(monkeypatch):
    FakeClient.instances = []
    monkeypatch.setattr(IMSModule, 'client_class', FakeClient)
    return FakeClient


def test_success_exits_with_the_result_of_run(capsys):
    code, result = run_module(ShareModule, {'auth': auth(), 'image': 'img-1'}, capsys)
    assert code == 0
    assert result['changed'] is False
    assert result['image'] == 'img-1'
    assert result['project_id'] == PROJECT               # the project id is not masked (auth is not no_log as a whole)
    assert result['check_mode'] is False
    invocation = result['invocation']['module_args']
    assert invocation['auth']['password'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
    assert invocation['auth']['project_id'] == PROJECT
    assert invocation['token_cache'] is True and invocation['retries'] == 5
    assert len(ShareModule.runs) == 1
    assert ShareModule.runs[0].connection.username == 'alice'


def test_bad_connection_fails_before_run(capsys):
    code, result = run_module(ShareModule, {'auth': auth(user_domain_name=None), 'image': 'img-1'}, capsys)
    assert code == 1
    assert result['failed'] is True
    assert result['msg'].startswith("auth.username needs the user's domain")
    assert result['error']['status'] is None
    assert result['error']['message'] == result['msg']
    assert ShareModule.runs == []
    assert PASSWORD not in json.dumps(result)


def test_ims_error_from_run_becomes_fail_json_with_details(capsys):
    code, result = run_module(ShareModule, {'auth': auth(), 'image': 'img-1', 'raise_error': True}, capsys)
    assert code == 1
    assert result['msg'] == ('IMS request failed: POST http://127.0.0.1:9/v2/images/i/members returned 400 Bad Request '
                             '(IMG.0256, request id req-1): member quota exceeded')
    assert result['error']['code'] == 'IMG.0256'
    assert result['error']['status'] == 400
    assert result['image_id'] == 'i'
    assert result['members_added'] == ['m1']
    assert result['changed'] is True
    assert isinstance(result['invocation'], dict)      # details cannot replace what Ansible puts in the result
    assert result.get('warnings') != 'dropped'


def test_check_mode_is_supported_by_default(capsys):
    code, result = run_module(ShareModule, {'auth': auth(), 'image': 'i', '_ansible_check_mode': True}, capsys)
    assert code == 0
    assert result['check_mode'] is True


def test_module_kwargs_are_applied(capsys):
    code, result = run_module(ShareModule, {'auth': auth()}, capsys)
    assert code == 1
    assert result['msg'] == 'one of the following is required: image, echo'
    assert ShareModule.runs == []


def test_missing_requests_is_reported(capsys, monkeypatch):
    monkeypatch.setattr(module_utils, 'REQUESTS_IMPORT_ERROR', 'Traceback: No module named requests')
    code, result = run_module(ShareModule, {'auth': auth(), 'image': 'i'}, capsys)
    assert code == 1
    assert 'Failed to import the required Python library (requests)' in result['msg']
    assert ShareModule.runs == []


def test_client_is_created_lazily_once_with_module_callbacks(capsys, fake_client):
    code, result = run_module(ShareModule, {'auth': auth(), 'image': 'i', 'use_client': 3}, capsys)
    assert code == 0
    assert result['clients'] == 1
    assert len(fake_client.instances) == 1
    client = fake_client.instances[0]
    instance = ShareModule.runs[0]
    assert client.config is instance.connection
    assert client.warn == instance.module.warn
    assert client.log == instance.module.debug


def test_client_outside_a_run_resolves_the_connection_first(fake_client):
    instance = ShareModule()
    with patch_module_args({'auth': auth(), 'image': 'i'}):
        instance.module = instance.build_module()
    client = instance.client
    assert client.config.project_id == PROJECT
    assert instance.connection is client.config


def test_no_client_when_run_does_not_need_one(capsys, fake_client):
    code, _result = run_module(ShareModule, {'auth': auth(), 'image': 'i'}, capsys)
    assert code == 0
    assert fake_client.instances == []


def test_cloud_dict_secrets_are_masked_in_output(capsys):
    cloud = {'auth': auth(), 'region_name': 'eu-de'}
    code, result = run_module(ShareModule, {'cloud': cloud, 'echo': 'the password is ' + PASSWORD}, capsys)
    assert code == 0
    assert PASSWORD not in json.dumps(result)
    assert result['echo'] == 'the password is ********'
    assert result['project_id'] == PROJECT


def test_secrets_from_the_environment_are_masked_in_output(capsys, monkeypatch):
    monkeypatch.setenv('OS_PASSWORD', PASSWORD)
    code, result = run_module(ShareModule, {'auth': auth(password=None), 'echo': 'echo ' + PASSWORD}, capsys)
    assert code == 0
    assert result['echo'] == 'echo ********'


def test_configuration_warnings_are_shown(capsys):
    args = {'auth': auth(), 'image': 'i', 'validate_certs': False, 'ca_cert': '/nonexistent/ca.pem'}
    code, result = run_module(ShareModule, args, capsys)
    assert code == 0
    assert warning_texts(result) == [
        'validate_certs is false: TLS certificates are not verified, so anyone on the network path can read the '
        'credentials; use it only in a lab, and set ca_cert for a private CA instead',
        'ca_cert is ignored because validate_certs is false']


def test_option_aliases(capsys, tmp_path):
    bundle = tmp_path / 'ca.pem'
    bundle.write_text('x')
    args = {'auth': auth(), 'image': 'i', 'endpoint_type': 'internal', 'cacert': str(bundle), 'verify': True}
    code, _result = run_module(ShareModule, args, capsys)
    assert code == 0
    connection = ShareModule.runs[0].connection
    assert connection.interface == 'internal'
    assert connection.verify == str(bundle)


def test_unknown_auth_key_is_refused_with_the_allowed_keys(capsys):
    code, result = run_module(ShareModule, {'auth': dict(auth(), tenant='x'), 'image': 'i'}, capsys)
    assert code == 1
    assert 'auth.tenant' in result['msg']
    for key in AUTH_KEYS:
        assert key in result['msg']
    assert ShareModule.runs == []


def test_cloud_name_from_clouds_yaml(capsys, tmp_path):
    (tmp_path / 'clouds.yaml').write_text(yaml.safe_dump({'clouds': {'devstack': {'auth': auth(), 'verify': False}}}))
    code, result = run_module(ShareModule, {'cloud': 'devstack', 'image': 'i'}, capsys)
    assert code == 0
    assert result['project_id'] == PROJECT
    assert ShareModule.runs[0].connection.verify is False


class WaitingModule(IMSModule):
    argument_spec = dict(wait_argument_spec())

    def run(self):
        return dict(changed=True, wait=self.params['wait'], timeout=self.params['timeout'])


def test_wait_argument_spec_defaults(capsys):
    code, result = run_module(WaitingModule, {'auth': auth()}, capsys)
    assert (code, result['changed'], result['wait'], result['timeout']) == (0, True, True, 300)


def test_run_must_be_implemented(capsys):
    code, result = run_module(IMSModule, {'auth': auth()}, capsys)
    assert code == 1
    assert result['msg'] == ('unexpected error (please report it with the exception shown with -vvv): '
                             'NotImplementedError: IMSModule must implement run()')
    assert 'Traceback' not in result['msg']


class BrokenModule(ShareModule):
    """A module whose code hits a ValueError of a library (here: a token cache key that is not a digest)."""

    def run(self):
        from ansible_collections.imscloud.sharing.plugins.module_utils.token_cache import TokenCache
        TokenCache('/nonexistent').load('not a key: %s' % self.connection.password)


def test_value_errors_become_a_failure_with_the_secret_masked(capsys):
    code, result = run_module(BrokenModule, {'auth': auth(), 'image': 'i'}, capsys)
    assert code == 1
    assert result['msg'].endswith('ValueError: token cache keys are hex digests; got an invalid key')
    assert auth()['password'] not in json.dumps(result)


def test_spec_is_not_shared_between_calls():
    first = connection_argument_spec()
    first['auth']['options']['password']['no_log'] = False
    assert connection_argument_spec()['auth']['options']['password']['no_log'] is True


def test_doc_fragment_matches_the_argument_spec():
    docs = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']
    wait_docs = yaml.safe_load(ModuleDocFragment.WAIT)['options']
    for spec, documented in ((connection_argument_spec(), docs), (wait_argument_spec(), wait_docs)):
        assert sorted(spec) == sorted(documented)
        for name, option in spec.items():
            doc = documented[name]
            assert doc['type'] == option.get('type', 'str'), name
            assert doc.get('default') == option.get('default'), name
            assert doc.get('choices') == option.get('choices'), name
            assert doc.get('aliases') == option.get('aliases'), name
            assert doc['description'], name
    suboptions = docs['auth']['suboptions']
    assert sorted(suboptions) == sorted(AUTH_KEYS) == sorted(connection_argument_spec()['auth']['options'])
    assert all(item['type'] == 'str' for item in suboptions.values())


def test_secrets_are_no_log():
    spec = connection_argument_spec()
    secret_suboptions = {name for name, option in spec['auth']['options'].items() if option.get('no_log')}
    assert secret_suboptions == {'password', 'passcode', 'token', 'application_credential_secret', 'access_key',
                                 'secret_key', 'security_token'}
    assert not spec['auth'].get('no_log')


# Secrets with the characters that ansible-core's masking of 'Invoked with' (str() of each option) missed.
AWKWARD_SECRETS = ['back\\slash-Pw-1', 'quote"and\'apos-Pw-2', 'plus+space amp&-Pw-3', 'unicode-\u00e9\u00df-Pw-4']


def every_form(secret):
    import html
    from urllib.parse import quote, quote_plus
    return [secret, json.dumps(secret)[1:-1], repr(secret)[1:-1], str({'p': secret}), quote(secret, safe=''),
            quote_plus(secret), html.escape(secret)]


@pytest.mark.parametrize('secret', AWKWARD_SECRETS)
@pytest.mark.parametrize('where', ['auth', 'cloud dict'])
def test_no_form_of_a_secret_reaches_the_invocation_log(capsys, monkeypatch, secret, where):
    """What ansible-core sends to syslog/journald ('Invoked with ...') and the invocation in the result."""
    logged = []
    monkeypatch.setattr(module_utils.AnsibleModule, 'log', lambda self, msg, log_args=None: logged.append(msg))
    args = {'auth': auth(password=secret)} if where == 'auth' else {'cloud': {'auth': auth(password=secret)}}
    code, result = run_module(ShareModule, dict(args, image='i'), capsys)
    assert code == 0
    invoked = [line for line in logged if line.startswith('Invoked with')]
    assert len(invoked) == 1 and 'alice' in invoked[0]
    shown = invoked[0] + json.dumps(result) + json.dumps(result, ensure_ascii=False)
    for form in every_form(secret):
        assert form[2:-2] not in shown, (form, invoked[0])


def test_secrets_from_the_environment_are_masked_before_the_invocation_is_logged(capsys, monkeypatch):
    masked_at_log_time = []
    original = module_utils.AnsibleModule._log_invocation

    def spy(self):
        masked_at_log_time.append(set(self.no_log_values))
        original(self)

    monkeypatch.setattr(module_utils.AnsibleModule, '_log_invocation', spy)
    monkeypatch.setenv('OS_PASSWORD', AWKWARD_SECRETS[0])
    code, _result = run_module(ShareModule, {'auth': auth(password=None), 'image': 'i'}, capsys)
    assert code == 0
    assert {AWKWARD_SECRETS[0], repr(AWKWARD_SECRETS[0])[1:-1], json.dumps(AWKWARD_SECRETS[0])[1:-1]} <= masked_at_log_time[0]


def test_allow_insecure_http_is_an_option_defaulting_to_false(capsys):
    code, result = run_module(ShareModule, {'auth': auth(), 'image': 'i'}, capsys)
    assert code == 0 and result['invocation']['module_args']['allow_insecure_http'] is False
    assert ShareModule.runs[0].connection.allow_insecure_http is False
    run_module(ShareModule, {'auth': auth(), 'image': 'i', 'allow_insecure_http': True}, capsys)
    assert ShareModule.runs[1].connection.allow_insecure_http is True


@pytest.mark.parametrize('count', [1, module_utils.RESULT_CHUNK_ITEMS, module_utils.RESULT_CHUNK_ITEMS + 1,
                                   2 * module_utils.RESULT_CHUNK_ITEMS + 3])
def test_a_result_with_long_lists_is_written_whole_and_masked(capsys, count):
    code, result = run_module(ShareModule, {'auth': auth(), 'echo': 'e', 'pairs': count}, capsys)
    assert code == 0 and result['changed'] is True
    assert [pair['image_id'] for pair in result['pairs']] == ['img-%d' % i for i in range(count)]
    assert result['empty'] == [] and result['echo'] == 'e'
    assert 'many pairs' in warning_texts(result)
    if count > 7:
        assert result['pairs'][7]['note'] == 'x ********'
    assert PASSWORD not in json.dumps(result)


def test_the_pieces_parse_to_what_ansible_core_would_have_written(monkeypatch):
    # the profile the controller names in the module's arguments (ansible-core's default outside a module run)
    monkeypatch.setattr(module_utils._basic, '_ANSIBLE_PROFILE', 'legacy', raising=False)
    encoder = module_utils._result_encoder()
    if encoder is None:
        pytest.skip('ansible-core before 2.19 writes the result itself')
    result = {'changed': True, 'pairs': [{'image_id': 'i-%d' % i, 'n': i, 'ok': i % 2 == 0, 'none': None}
                                         for i in range(module_utils.RESULT_CHUNK_ITEMS * 4 + 1)],
              'nested': {'a': [1, 2.5, 'three', ['four']], 'b': {}}, 'empty': [], 'text': u'caf\u00e9 \u00fcber'}
    pieces = []
    module_utils.write_result(result, encoder, pieces.append)
    text = ''.join(pieces)
    assert text.startswith('\n{') and text.endswith('}\n')
    assert json.loads(text) == json.loads(json.dumps(result, cls=encoder)) == result
    # no piece holds the whole long list
    assert max(len(piece) for piece in pieces) < len(json.dumps(result['pairs'])) / 3
