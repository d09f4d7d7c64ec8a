# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write tests/integration/integration_config.yml, the backend description every integration target reads.

    python tests/integration/make_config.py emulator --url URL [--seed tests/emulator/seeds/test.yml] --out FILE
    python tests/integration/make_config.py glance --openstack-json WORKDIR/openstack.json --out FILE

The format is fixed in docs/design.md ("Integration config"). For the emulator the accounts and images come from the
seed; for a real Keystone + Glance they come from the JSON that tests/real_openstack/start.sh writes, and the images
are created here (owned by the owner project, visibility shared, as Glance requires for members).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import requests
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GLANCE_IMAGE_COUNT = 10
# Seed project name -> role in the config.
EMULATOR_ROLES = {
    'ims_owner': 'eu-de_owner',
    'ims_consumer': 'eu-de_consumer',
    'ims_consumer2': 'eu-de_consumer2',
    'ims_other': 'eu-de_other',
}


def _emulator_account(seed: dict, url: str, project_name: str) -> dict:
    project = next(p for p in seed['projects'] if p['name'] == project_name)
    user = next(u for u in seed['users'] if u['projects'] == [project_name])
    account = {
        'project_id': project['id'],
        'project_name': project_name,
        'auth': {
            'auth_url': url + '/v3',
            'username': user['name'],
            'password': user['password'],
            'user_domain_name': user['domain'],
            'project_id': project['id'],
        },
    }
    if user.get('access_key'):
        account['aksk'] = {'access_key': user['access_key'], 'secret_key': user['secret_key'], 'project_id': project['id']}
    return account


def emulator_config(url: str, seed_path: str) -> dict:
    with open(seed_path, encoding='utf-8') as handle:
        seed = yaml.safe_load(handle)
    config = {'ims_backend': 'emulator', 'ims_emulator_url': url, 'ims_endpoint': url}
    for role, project_name in EMULATOR_ROLES.items():
        config[role] = _emulator_account(seed, url, project_name)
    owner = EMULATOR_ROLES['ims_owner']
    config['ims_images'] = [
        {'id': image['id'], 'name': image['name']}
        for image in seed['images']
        if image['owner'] == owner and image['name'].startswith('shareable-')
    ]
    return config


def _glance_token(data: dict, role: str) -> str:
    account = data[role]
    body = {'auth': {
        'identity': {'methods': ['password'], 'password': {'user': {
            'name': account['username'], 'password': account['password'], 'domain': {'id': data['user_domain_id']}}}},
        'scope': {'project': {'id': account['project_id']}},
    }}
    response = requests.post(data['auth_url'] + '/auth/tokens', json=body, timeout=30)
    response.raise_for_status()
    return response.headers['X-Subject-Token']


def glance_config(json_path: str) -> dict:
    with open(json_path, encoding='utf-8') as handle:
        data = json.load(handle)
    config = {'ims_backend': 'glance', 'ims_emulator_url': '', 'ims_endpoint': data['image_url']}
    for role in ('owner', 'consumer', 'other'):
        account = data[role]
        config['ims_' + role] = {
            'project_id': account['project_id'],
            'project_name': account['project_name'],
            'auth': {
                'auth_url': data['auth_url'],
                'username': account['username'],
                'password': account['password'],
                'user_domain_id': data['user_domain_id'],
                'project_id': account['project_id'],
            },
        }
    token = _glance_token(data, 'owner')
    images = []
    for number in range(1, GLANCE_IMAGE_COUNT + 1):
        response = requests.post(
            data['image_url'] + '/v2/images',
            json={'name': 'it-shareable-%02d' % number, 'visibility': 'shared',
                  'disk_format': 'raw', 'container_format': 'bare'},
            headers={'X-Auth-Token': token}, timeout=30)
        response.raise_for_status()
        images.append({'id': response.json()['id'], 'name': response.json()['name']})
    config['ims_images'] = images
    return config


def main(argv: list) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='backend', required=True)
    emulator = sub.add_parser('emulator')
    emulator.add_argument('--url', required=True)
    emulator.add_argument('--seed', default=os.path.join(ROOT, 'tests', 'emulator', 'seeds', 'test.yml'))
    glance = sub.add_parser('glance')
    glance.add_argument('--openstack-json', required=True)
    for each in (emulator, glance):
        each.add_argument('--out', required=True)
    args = parser.parse_args(argv)
    if args.backend == 'emulator':
        config = emulator_config(args.url.rstrip('/'), args.seed)
    else:
        config = glance_config(args.openstack_json)
    # The file holds test passwords: keep it private.
    fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w', encoding='utf-8') as handle:
        yaml.safe_dump(config, handle, default_flow_style=False, sort_keys=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
