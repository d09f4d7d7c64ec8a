# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rotation over three weeks of builds, in real playbooks against the emulator: the share_images role with a
selector keeps two application projects on the newest two builds of each family, and takes the older ones away."""
from __future__ import annotations

import copy
import json

import requests

from ansible_collections.imscloud.sharing.tests.e2e.reliability.relsupport import PROJECT
from ansible_collections.imscloud.sharing.tests.e2e.reliability.relsupport import SEED
from ansible_collections.imscloud.sharing.tests.e2e.reliability.relsupport import USERS
from ansible_collections.imscloud.sharing.tests.e2e.reliability.relsupport import Workspace
from ansible_collections.imscloud.sharing.tests.e2e.reliability.relsupport import memberships
from ansible_collections.imscloud.sharing.tests.e2e.reliability.relsupport import password_auth

FAMILIES = ('golden-ubuntu-24.04', 'golden-rhel-9')
TEAMS = [PROJECT['eu-de_consumer'], PROJECT['eu-de_other']]
SELECTOR = {'name': 'golden-*', 'status': 'any', 'newest': 2, 'family_pattern': '-[0-9]{8}$'}


def first_week_seed():
    seed = copy.deepcopy(SEED)
    seed['members'] = []
    for number, family in enumerate(FAMILIES):
        seed['images'].append({'id': 'b0110000-0000-4000-8000-0000000000%02d' % number, 'name': family + '-20261117',
                               'owner': 'eu-de_owner', 'created_at': '2026-11-17T03:00:00Z'})
    return seed


def add_builds(emu, day):
    """The pipeline's builds of a new week (created now, so newer than the seeded ones)."""
    user = USERS['owner-user']
    body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
        'name': 'owner-user', 'password': user['password'], 'domain': {'name': SEED['domains'][0]['name']}}}},
        'scope': {'project': {'id': PROJECT['eu-de_owner']}}}}
    token = requests.post(emu.url + '/v3/auth/tokens', json=body, timeout=30).headers['X-Subject-Token']
    ids = {}
    for family in FAMILIES:
        response = requests.post(emu.url + '/v2/images', json={'name': '%s-%s' % (family, day), 'visibility': 'private'},
                                 headers={'X-Auth-Token': token}, timeout=30)
        assert response.status_code == 201, response.text
        ids[response.json()['name']] = response.json()['id']
    return ids


def rotation_play(emu, save=None):
    # the owner's result, saved also in check mode
    tasks = [{'name': 'Save the result', 'check_mode': False, 'ansible.builtin.copy': {
        'content': '{{ share_images_owner_result | to_json }}', 'dest': save, 'mode': '0600'}}] if save else []
    return [{'name': 'rotation', 'hosts': 'localhost', 'gather_facts': False, 'roles': [{
        'role': 'imscloud.sharing.share_images',
        'share_images_selector': SELECTOR,
        'share_images_purge_older': True,
        'share_images_projects': TEAMS,
        'share_images_owner': {'auth': password_auth(emu.url, 'owner-user')},
    }], 'tasks': tasks}]


def shared_names(emu):
    names = dict((image_id, image['name']) for image_id, image in emu.state()['images'].items())
    return sorted((names[image_id], sorted(members)) for image_id, members in memberships(emu.state()).items() if members)


def test_rotation_over_three_weeks_of_builds(emu, tmp_path):
    emu.reset(seed=first_week_seed())
    workspace = Workspace(tmp_path)
    week1 = [family + '-20261117' for family in FAMILIES]

    run = workspace.run(rotation_play(emu), collect=['share_images_owner_result'])
    assert run.returncode == 0, run.describe()
    assert shared_names(emu) == sorted((name, sorted(TEAMS)) for name in week1)

    week2 = sorted(add_builds(emu, '20261124'))
    run = workspace.run(rotation_play(emu), collect=['share_images_owner_result'])
    assert run.returncode == 0, run.describe()
    assert run.results['share_images_owner_result']['removed'] == []
    assert shared_names(emu) == sorted((name, sorted(TEAMS)) for name in week1 + week2)

    week3_ids = add_builds(emu, '20261201')
    before = memberships(emu.state())
    writes = emu.stats()['writes']
    saved = str(tmp_path / 'check-result.json')
    check = workspace.run(rotation_play(emu, saved), args=['--check', '--diff'])
    assert check.returncode == 0, check.describe()
    assert memberships(emu.state()) == before and emu.stats()['writes'] == writes
    with open(saved, encoding='utf-8') as handle:
        planned = json.load(handle)
    run = workspace.run(rotation_play(emu), collect=['share_images_owner_result'])
    assert run.returncode == 0, run.describe()
    result = run.results['share_images_owner_result']
    week1_ids = sorted(image['id'] for image in first_week_seed()['images'] if image['name'] in week1)
    assert sorted(pair['image_id'] for pair in result['added']) == sorted(list(week3_ids.values()) * 2)
    assert sorted(pair['image_id'] for pair in result['removed']) == sorted(week1_ids * 2)
    assert sorted(image['id'] for image in result['selection']['older']) == week1_ids
    assert shared_names(emu) == sorted((name, sorted(TEAMS)) for name in week2 + sorted(week3_ids))
    assert planned['added'] == result['added'] and planned['removed'] == result['removed']

    again = workspace.run(rotation_play(emu), collect=['share_images_owner_result'])
    assert again.returncode == 0 and again.results['share_images_owner_result']['changed'] is False
