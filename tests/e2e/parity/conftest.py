# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backends of the parity suite: the emulator in glance mode (always) and a real Keystone + Glance (when described)."""

import json
import os
import sys

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
EMULATOR_DIR = os.path.join(os.path.dirname(os.path.dirname(HERE)), 'emulator')
for _path in (HERE, EMULATOR_DIR):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from harness import TEST_SEED, Emulator  # noqa: E402  pylint: disable=wrong-import-position
from parity_cases import Backend  # noqa: E402  pylint: disable=wrong-import-position

REAL_ENV = 'IMS_REAL_OPENSTACK_JSON'
SEED_ROLES = {'owner': 'owner-user', 'consumer': 'consumer-user', 'other': 'other-user'}


def emulator_description(url):
    """The test seed's accounts, in the format tests/real_openstack/start.sh writes for a real cloud."""
    with open(TEST_SEED, encoding='utf-8') as handle:
        seed = yaml.safe_load(handle)
    users = dict((u['name'], u) for u in seed['users'])
    projects = dict((p['name'], p) for p in seed['projects'])
    description = {'auth_url': url + '/v3', 'image_url': url, 'region_name': 'eu-de',
                   'user_domain_id': seed['domains'][0]['id'], 'project_domain_id': seed['domains'][0]['id']}
    for role, user_name in SEED_ROLES.items():
        user = users[user_name]
        project = projects[user['projects'][0]]
        description[role] = {'username': user_name, 'password': user['password'], 'project_name': project['name'],
                             'project_id': project['id']}
    return description


@pytest.fixture(scope='session')
def emulator_backend():
    emulator = Emulator(seed=TEST_SEED, mode='glance', max_lifetime=900)
    try:
        yield Backend('emulator', emulator_description(emulator.url))
    finally:
        emulator.stop()


def real_description():
    path = os.environ.get(REAL_ENV, '')
    if not path:
        pytest.skip('%s is not set: the real-Glance half of the parity suite needs a Keystone + Glance started by '
                    'tests/real_openstack/start.sh (which writes that JSON file)' % REAL_ENV)
    if not os.path.isfile(path):
        pytest.skip('%s points at %s, which does not exist' % (REAL_ENV, path))
    with open(path, encoding='utf-8') as handle:
        return json.load(handle)


@pytest.fixture(scope='session')
def real_backend():
    return Backend('real Glance', real_description())


@pytest.fixture(scope='session')
def transcripts():
    """(backend name, case) -> Transcript, so each case runs once per backend and session."""
    return {}
