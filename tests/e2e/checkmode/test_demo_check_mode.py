# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check mode across tasks: the demo playbook (playbooks/demo.yml) and the share_images role run with --check against
the emulator, pass, and change nothing (the emulator's state and write counter are the same before and after)."""
from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml

from ansible_collections.imscloud.sharing.tests.e2e.reliability.relsupport import ANSIBLE_PLAYBOOK
from ansible_collections.imscloud.sharing.tests.e2e.reliability.relsupport import Workspace

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DEMO_PLAYBOOK = os.path.join(ROOT, 'playbooks', 'demo.yml')
DEMO_INVENTORY = os.path.join(ROOT, 'playbooks', 'inventory.ini')
DEMO_SEED = os.path.join(ROOT, 'tests', 'emulator', 'seeds', 'demo.yml')
with open(DEMO_SEED, encoding='utf-8') as _handle:
    SEED = yaml.safe_load(_handle)
PROJECT = dict((project['name'], project['id']) for project in SEED['projects'])
USERS = dict((user['name'], user) for user in SEED['users'])
DOMAIN = SEED['domains'][0]['name']


@pytest.fixture(scope='module')
def demo_emulator():
    from harness import Emulator  # tests/e2e/conftest.py puts tests/emulator on sys.path
    emu = Emulator(seed=DEMO_SEED, extra_args=['--job-duration', '0.2'], max_lifetime=900)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def demo(demo_emulator):
    demo_emulator.reset()
    return demo_emulator


def cloud_state(emu):
    """The emulator's images, members and jobs: what a run could change (not its clock or the tokens it issued)."""
    state = emu.state()
    return dict((key, value) for key, value in state.items() if key not in ('now', 'tokens'))


def run_demo(emu, workspace, *args):
    return subprocess.run([ANSIBLE_PLAYBOOK, '-i', DEMO_INVENTORY, DEMO_PLAYBOOK, '-e', 'ims_demo_url=%s' % emu.url]
                          + list(args), cwd=workspace.path, env=workspace.env(), capture_output=True, text=True,
                          timeout=300, check=False)


def test_the_demo_passes_in_check_mode_and_changes_nothing(demo, tmp_path):
    workspace = Workspace(tmp_path)
    before = cloud_state(demo)
    completed = run_demo(demo, workspace, '--check', '--diff')
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    assert cloud_state(demo) == before
    stats = demo.stats()
    assert stats['writes'] == 0
    # the recipient tasks could not see shares that check mode did not create, and said so
    assert 'could not verify' in completed.stdout + completed.stderr
    assert 'failed=0' in completed.stdout


def test_the_demo_still_runs_for_real_after_a_check_run(demo, tmp_path):
    workspace = Workspace(tmp_path)
    assert run_demo(demo, workspace, '--check').returncode == 0
    completed = run_demo(demo, workspace)
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    assert demo.stats()['writes'] > 0


def role_play(emu, results_path):
    def auth(user, project):
        return {'auth_url': emu.url + '/v3', 'username': user, 'password': USERS[user]['password'],
                'user_domain_name': DOMAIN, 'project_id': PROJECT[project]}
    return [{
        'name': 'share_images in check mode',
        'hosts': 'localhost',
        'gather_facts': False,
        'roles': [{
            'role': 'imscloud.sharing.share_images',
            'share_images_images': ['ubuntu-24.04-golden', 'rhel-9-hardened'],
            'share_images_projects': [PROJECT['eu-de_app-payments'], PROJECT['eu-de_app-web']],
            'share_images_owner': {'auth': auth('platform-admin', 'eu-de_platform')},
            'share_images_recipients': [
                {'name': 'payments', 'connection': {'auth': auth('payments-deployer', 'eu-de_app-payments')}},
                {'name': 'web', 'status': 'rejected', 'connection': {'auth': auth('web-deployer', 'eu-de_app-web')}},
            ],
        }],
        # the registered results, saved also in check mode
        'tasks': [{'name': 'Save the recipient results', 'check_mode': False,
                   'ansible.builtin.copy': {'content': '{{ share_images_recipient_results | to_json }}',
                                            'dest': results_path, 'mode': '0600'}}],
    }]


def test_the_role_runs_its_recipients_in_check_mode_and_changes_nothing(demo, tmp_path):
    workspace = Workspace(tmp_path)
    before = cloud_state(demo)
    results_path = str(tmp_path / 'recipients.json')
    run = workspace.run(role_play(demo, results_path), args=['--check'])
    assert run.returncode == 0, run.describe()
    assert cloud_state(demo) == before and demo.stats()['writes'] == 0
    with open(results_path, encoding='utf-8') as handle:
        recipients = json.load(handle)
    # both recipients ran (no workaround skips them), each predicted from unverified shares
    assert len(recipients) == 2
    assert all(result['changed'] and result['unverified'] for result in recipients)
    assert [len(result['unverified_images']) for result in recipients] == [2, 2]
