# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The built collection never contains credential-looking files a user keeps next to the checkout (issue 18.3).

A copy of the checkout gets such files planted at the top level and deeper down, each holding a marker; the copy is
built with ``ansible-galaxy collection build`` and the tarball's members (names and contents) are listed.
"""
import os
import shutil
import subprocess
import sys
import tarfile
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
# Made at run time, so that no file of the checkout (this one included) can contain it.
MARKER = 'planted-secret-%s' % uuid.uuid4().hex

# Paths relative to the collection root that a user (or a tool run) may leave there.
PLANTED = [
    'clouds.yaml',
    'clouds.yml',
    'secure.yaml',
    'secure.yml',
    'clouds-public.yaml',
    '.env',
    '.env.local',
    '.envrc',
    '.netrc',
    'admin-openrc',
    'project-openrc.sh',
    'client.pem',
    'client.key',
    'ca.crt',
    'identity.p12',
    'id_rsa',
    'credentials.csv',
    'vault-password.txt',
    '.vault_pass',
    'playbooks/clouds.yaml',
    'playbooks/secure.yaml',
    'playbooks/.env',
    'roles/share_images/files/tls.key',
    'tests/integration/targets/extra/files/server.pem',
    'docs/clouds.yml',
    'token-cache/0123456789abcdef.json',
    '.cache/imscloud.sharing/0123456789abcdef.json',
    'imscloud.sharing/fedcba9876543210.json',
    '.venv/bin/activate',
    '.venvs/core-2.17.14/bin/activate',
    'venv/lib/site.py',
    'playbooks/.venv/pyvenv.cfg',
    '.ansible/collections/marker.txt',
    '.pytest_cache/v/cache/lastfailed',
    'tests/output/junit/result.xml',
    'tests/integration/integration_config.yml',
    'tests/benchmarks/results/run.json',
    'dist/old.txt',
    'imscloud-sharing-0.1.0.tar.gz',
    'playbooks/demo.retry',
    'ansible.log',
    '.coverage',
    'htmlcov/index.html',
    'changelogs/.plugin-cache.yaml',
]

# What a user of the built collection needs: these must stay.
REQUIRED = [
    'MANIFEST.json',
    'FILES.json',
    'README.md',
    'meta/runtime.yml',
    'plugins/modules/ims_image_member.py',
    'plugins/modules/ims_image_member_batch.py',
    'plugins/modules/ims_image_member_info.py',
    'plugins/module_utils/version.py',
    'plugins/doc_fragments/connection.py',
    'roles/share_images/tasks/main.yml',
    'docs/guides/quickstart.md',
    'changelogs/changelog.yaml',
    'requirements.txt',
    'COPYING',
]


def _tool(name):
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    return candidate if os.path.exists(candidate) else shutil.which(name)


def _copy_checkout(dest):
    """The files of the checkout (tracked and untracked, not git-ignored), as a user's tree would have them."""
    listing = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard', '-z'], cwd=ROOT, check=True,
                             stdout=subprocess.PIPE).stdout.decode('utf-8')
    for rel in filter(None, listing.split('\0')):
        source = os.path.join(ROOT, rel)
        if not os.path.isfile(source):  # deleted in the work tree but still tracked
            continue
        target = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(source, target)


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    if not os.path.isdir(os.path.join(ROOT, '.git')) and not os.path.isfile(os.path.join(ROOT, '.git')):
        pytest.fail('the packaging test needs a git checkout to copy (git ls-files)')
    tree = tmp_path_factory.mktemp('tree')
    _copy_checkout(str(tree))
    for rel in PLANTED:
        path = tree / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('password: %s\n' % MARKER)
    out = tmp_path_factory.mktemp('dist')
    subprocess.run([_tool('ansible-galaxy'), 'collection', 'build', '--output-path', str(out), str(tree)],
                   check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    tarballs = sorted(out.glob('imscloud-sharing-*.tar.gz'))
    assert len(tarballs) == 1, tarballs
    with tarfile.open(str(tarballs[0])) as archive:
        members = {}
        for info in archive.getmembers():
            if info.isfile():
                members[info.name] = archive.extractfile(info).read()
    return {'name': tarballs[0].name, 'members': members}


def test_no_planted_file_is_in_the_tarball(built):
    members = built['members']
    leaked = sorted(name for name in PLANTED if name in members)
    assert not leaked, 'credential-looking or generated files in the built collection: %s' % leaked


def test_no_member_contains_a_planted_secret(built):
    members = built['members']
    leaked = sorted(name for name, content in members.items() if MARKER.encode() in content)
    assert not leaked, 'members of the built collection contain a planted secret: %s' % leaked


def test_no_credential_looking_name_at_any_depth(built):
    members = built['members']
    suspicious = ('clouds.yaml', 'clouds.yml', 'secure.yaml', 'secure.yml', '.env', '.netrc', 'id_rsa')
    found = sorted(name for name in members
                   if os.path.basename(name) in suspicious or name.endswith(('.pem', '.key', '.p12'))
                   or '/.venv' in '/' + name or name.startswith(('.cache/', 'token-cache/')))
    assert not found, found


def test_what_users_need_is_in_the_tarball(built):
    name, members = built['name'], built['members']
    with open(os.path.join(ROOT, 'galaxy.yml'), encoding='utf-8') as handle:
        version = [line.split(':', 1)[1].strip() for line in handle if line.startswith('version:')][0]
    assert name == 'imscloud-sharing-%s.tar.gz' % version
    missing = [rel for rel in REQUIRED if rel not in members]
    assert not missing, 'missing from the built collection: %s' % missing
    assert not any(rel.startswith(('scripts/', '.ci/')) for rel in members), 'development scripts in the tarball'
