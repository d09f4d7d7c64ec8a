# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The versions the collection claims, tested (issue 18.4), and the demo as AWX runs a Check job (issue 18.1).

Run by ``./scripts/test.sh matrix``, which installs each ansible-core in a venv of its own and passes them in:
  IMS_MATRIX_CORES           LABEL=VENV,... the oldest and the newest supported ansible-core
  IMS_MATRIX_TARGET_PYTHON   a venv of the oldest supported target Python (with the oldest allowed requests): the
                             newest core runs the modules with it
  IMS_MATRIX_RUNNER          a venv with ansible-runner (and the pinned ansible-core)
"""
import glob
import json
import os
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EMULATOR_DIR = os.path.join(ROOT, 'tests', 'emulator')
DEMO_SEED = os.path.join(EMULATOR_DIR, 'seeds', 'demo.yml')
PLAYBOOKS = os.path.join(ROOT, 'playbooks')
if EMULATOR_DIR not in sys.path:
    sys.path.insert(0, EMULATOR_DIR)

from harness import Emulator  # noqa: E402  pylint: disable=wrong-import-position

CORES = [tuple(item.split('=', 1)) for item in os.environ.get('IMS_MATRIX_CORES', '').split(',') if '=' in item]
TARGET_PYTHON_VENV = os.environ.get('IMS_MATRIX_TARGET_PYTHON', '')
RUNNER_VENV = os.environ.get('IMS_MATRIX_RUNNER', '')
MODULES = sorted(os.path.splitext(os.path.basename(path))[0] for path in glob.glob(os.path.join(ROOT, 'plugins', 'modules', '*.py')))
if not CORES:
    pytest.skip('the version matrix runs through ./scripts/test.sh matrix (IMS_MATRIX_CORES not set)', allow_module_level=True)


def _python_version(python):
    out = subprocess.run([python, '-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], check=True,
                         stdout=subprocess.PIPE).stdout.decode()
    return out.strip()


def _core_version(venv):
    out = subprocess.run([os.path.join(venv, 'bin', 'python'), '-c', 'import ansible; print(ansible.__version__)'],
                         check=True, stdout=subprocess.PIPE).stdout.decode()
    return out.strip()


def _env(collections_path, tmp_path):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0',
               IMSCLOUD_SHARING_CACHE_DIR=str(tmp_path / 'token-cache'), ANSIBLE_LOCAL_TEMP=str(tmp_path / 'ansible-tmp'))
    env.pop('ANSIBLE_STDOUT_CALLBACK', None)
    return env


@pytest.fixture
def collections_path(tmp_path):
    tree = tmp_path / 'tree' / 'ansible_collections' / 'imscloud'
    tree.mkdir(parents=True)
    (tree / 'sharing').symlink_to(ROOT)
    return str(tmp_path / 'tree')


@pytest.fixture
def emulator():
    emu = Emulator(seed=DEMO_SEED, max_lifetime=600)
    try:
        yield emu
    finally:
        emu.stop()


def _memberships(emu):
    """{(image name, project id): status} of the emulator's state."""
    state = emu.state()
    names = dict((image_id, image['name']) for image_id, image in state['images'].items())
    return dict(((names.get(member['image_id'], member['image_id']), member['member_id']), member['status'])
                for member in state['members'])


def _run_demo(venv, emu, collections_path, tmp_path, *extra):
    command = [os.path.join(venv, 'bin', 'ansible-playbook'), '-i', os.path.join(PLAYBOOKS, 'inventory.ini'),
               os.path.join(PLAYBOOKS, 'demo.yml'), '-e', 'ims_demo_url=%s' % emu.url] + list(extra)
    result = subprocess.run(command, cwd=ROOT, env=_env(collections_path, tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=600, check=False)
    return result.returncode, result.stdout.decode('utf-8', 'replace')


# What the demo leaves behind (playbooks/demo.yml): payments accepts both Linux images, web accepts Ubuntu and
# declines RHEL, analytics accepts Windows.
EXPECTED_AFTER_DEMO = {
    ('ubuntu-24.04-golden', '5b000000000000000000000000000001'): 'accepted',
    ('rhel-9-hardened', '5b000000000000000000000000000001'): 'accepted',
    ('ubuntu-24.04-golden', '5b000000000000000000000000000002'): 'accepted',
    ('rhel-9-hardened', '5b000000000000000000000000000002'): 'rejected',
    ('windows-2022-base', '5b000000000000000000000000000003'): 'accepted',
}


def _assert_demo_result(emu, rc, output):
    assert rc == 0, output[-6000:]
    assert 'failed=0' in output, output[-3000:]
    memberships = _memberships(emu)
    wrong = dict((key, memberships.get(key)) for key, status in EXPECTED_AFTER_DEMO.items() if memberships.get(key) != status)
    assert not wrong, 'memberships after the demo differ from what it declares: %s' % wrong


def _target_python_floor():
    with open(os.path.join(ROOT, 'tests', 'config.yml'), encoding='utf-8') as handle:
        return yaml.safe_load(handle)['modules']['python_requires'].lstrip('>=').strip()


@pytest.mark.parametrize('label,venv', CORES, ids=[core[0] for core in CORES])
def test_demo_playbook_on_each_supported_core(label, venv, emulator, collections_path, tmp_path):
    """The demo passes and leaves the memberships it declares, on the oldest and on the newest core.

    The newest core runs the modules on the oldest supported target Python (tests/config.yml) when it is given, so
    that one run covers both ends; the oldest core runs them on the controller's Python.
    """
    assert _core_version(venv) == label
    python = None
    if TARGET_PYTHON_VENV and label == CORES[-1][0]:
        python = os.path.join(TARGET_PYTHON_VENV, 'bin', 'python')
        assert _python_version(python) == _target_python_floor()
    extra = ['-vvv', '-e', 'ansible_python_interpreter=%s' % python] if python else []
    rc, output = _run_demo(venv, emulator, collections_path, tmp_path, *extra)
    if python:
        # -vvv shows how each module is started: with the target Python, not the controller's
        assert "'%s" % python in output or '%s ' % python in output, 'the modules did not run with %s' % python
    _assert_demo_result(emulator, rc, output)


@pytest.mark.parametrize('label,venv', CORES, ids=[core[0] for core in CORES])
def test_ansible_doc_renders_every_module_and_the_role(label, venv, collections_path, tmp_path):
    env = _env(collections_path, tmp_path)
    names = ['imscloud.sharing.%s' % name for name in MODULES]
    result = subprocess.run([os.path.join(venv, 'bin', 'ansible-doc'), '-t', 'module', '--json'] + names, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    docs = json.loads(result.stdout.decode())
    assert sorted(docs) == sorted(names), result.stderr.decode()
    for name, doc in docs.items():
        assert doc['doc']['options'] and doc['return'] and doc['examples'], name
        assert 'action_group' in doc['doc'].get('attributes', {}), '%s: no action_group attribute' % name
    listing = subprocess.run([os.path.join(venv, 'bin', 'ansible-doc'), '-t', 'module', '-l', 'imscloud.sharing'],
                             env=env, stdout=subprocess.PIPE, check=True).stdout.decode()
    assert sorted(line.split()[0] for line in listing.splitlines() if line.strip()) == names
    role = subprocess.run([os.path.join(venv, 'bin', 'ansible-doc'), '-t', 'role', '--json', 'imscloud.sharing.share_images'],
                          env=env, stdout=subprocess.PIPE, check=True).stdout.decode()
    assert 'main' in json.loads(role)['imscloud.sharing.share_images']['entry_points']


@pytest.mark.skipif(not RUNNER_VENV, reason='IMS_MATRIX_RUNNER not set')
def test_demo_as_an_awx_check_job(emulator, collections_path, tmp_path):
    """AWX runs a Check job as ansible-runner with --check: the demo passes and writes nothing to the cloud."""
    private = tmp_path / 'runner'
    (private / 'project').mkdir(parents=True)
    for name in ('demo.yml',):
        (private / 'project' / name).write_text(open(os.path.join(PLAYBOOKS, name), encoding='utf-8').read())
    (private / 'inventory').mkdir()
    (private / 'inventory' / 'hosts').write_text(open(os.path.join(PLAYBOOKS, 'inventory.ini'), encoding='utf-8').read())
    (private / 'env').mkdir()
    (private / 'env' / 'extravars').write_text(yaml.safe_dump({'ims_demo_url': emulator.url}))
    envvars = _env(collections_path, tmp_path)
    (private / 'env' / 'envvars').write_text(yaml.safe_dump(dict(
        (key, envvars[key]) for key in ('ANSIBLE_COLLECTIONS_PATH', 'IMSCLOUD_SHARING_CACHE_DIR', 'ANSIBLE_NOCOLOR'))))
    (private / 'env' / 'cmdline').write_text('--check --diff')
    before = _memberships(emulator)
    result = subprocess.run([os.path.join(RUNNER_VENV, 'bin', 'ansible-runner'), 'run', str(private), '-p', 'demo.yml',
                             '--ident', 'check-job'], env=dict(os.environ, PATH=os.path.join(RUNNER_VENV, 'bin') + os.pathsep + os.environ['PATH']),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600, check=False)
    output = result.stdout.decode('utf-8', 'replace')
    status = (private / 'artifacts' / 'check-job' / 'status').read_text().strip()
    assert status == 'successful' and result.returncode == 0, output[-6000:]
    command = json.loads((private / 'artifacts' / 'check-job' / 'command').read_text())['command']
    assert '--check' in command
    assert emulator.stats()['writes'] == 0, 'a check run wrote to the cloud: %s' % emulator.stats()
    assert _memberships(emulator) == before
