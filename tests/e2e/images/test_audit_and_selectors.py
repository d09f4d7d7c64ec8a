# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ims_image_member_info in real playbooks against the emulator: the audit of an estate of 60 images (one listing,
one member read per image, concurrently) and selectors over a family of dated builds."""
from __future__ import annotations

import copy

from ansible_collections.imscloud.sharing.tests.e2e.reliability.relsupport import PROJECT
from ansible_collections.imscloud.sharing.tests.e2e.reliability.relsupport import SEED
from ansible_collections.imscloud.sharing.tests.e2e.reliability.relsupport import Workspace
from ansible_collections.imscloud.sharing.tests.e2e.reliability.relsupport import password_auth
from ansible_collections.imscloud.sharing.tests.e2e.reliability.relsupport import play

ESTATE = 60
CONSUMER = PROJECT['eu-de_consumer']
OTHER = PROJECT['eu-de_other']
STATUSES = ('pending', 'accepted', 'rejected')
FAMILIES = ('golden-ubuntu-24.04', 'golden-rhel-9')
WEEKS = ('20261117', '20261124', '20261201')


def estate_id(number):
    return 'e57a7e00-0000-4000-8000-%012d' % number


def build_id(family, week):
    return 'b0110000-0000-4000-8000-%06d%06d' % (FAMILIES.index(family) + 1, WEEKS.index(week) + 1)


def estate_seed():
    """The test seed plus 60 images of the owner (every fifth shared with the consumer, every tenth also with the
    other project) and three weekly builds of two families, tagged by properties."""
    seed = copy.deepcopy(SEED)
    seed['members'] = []
    for number in range(ESTATE):
        seed['images'].append({'id': estate_id(number), 'name': 'estate-%02d' % number, 'owner': 'eu-de_owner'})
        if number % 5 == 0:
            seed['members'].append({'image': estate_id(number), 'project': 'eu-de_consumer',
                                    'status': STATUSES[(number // 5) % 3]})
        if number % 10 == 0:
            seed['members'].append({'image': estate_id(number), 'project': 'eu-de_other', 'status': 'pending'})
    for family in FAMILIES:
        for day, week in enumerate(WEEKS):
            seed['images'].append({'id': build_id(family, week), 'name': '%s-%s' % (family, week), 'owner': 'eu-de_owner',
                                   'created_at': '2026-%s-%sT03:00:00Z' % (week[4:6], week[6:8]),
                                   'properties': {'imscloud_pipeline': 'packer', 'os_distro': family.split('-')[1]}})
            seed['members'].append({'image': build_id(family, week), 'project': 'eu-de_consumer',
                                    'status': 'accepted' if day < 2 else 'pending'})
    return seed


def info_task(name, register, **options):
    return {'name': name, 'imscloud.sharing.ims_image_member_info': options, 'register': register}


def test_the_audit_of_sixty_images_costs_one_listing_and_one_read_per_image(emu, tmp_path):
    emu.reset(seed=estate_seed())
    workspace = Workspace(tmp_path)
    owner = password_auth(emu.url, 'owner-user')
    tasks = [info_task('audit', 'audit', auth=owner, view='owner', concurrency=16)]
    run = workspace.run(play(tasks), collect=['audit'])
    assert run.returncode == 0, run.describe()
    audit = run.results['audit']
    shared_estate = [estate_id(n) for n in range(0, ESTATE, 5)]
    builds = [build_id(f, w) for f in FAMILIES for w in WEEKS]
    assert sorted(image['id'] for image in audit['images']) == sorted(shared_estate + builds)
    assert [image['name'] for image in audit['images']] == sorted(image['name'] for image in audit['images'])
    rows = audit['shares']
    assert len(rows) == len(shared_estate) + ESTATE // 10 + len(builds)
    by_pair = dict(((row['image_id'], row['member_id']), row['status']) for row in rows)
    assert by_pair[(estate_id(5), CONSUMER)] == 'accepted' and by_pair[(estate_id(10), OTHER)] == 'pending'
    assert set(rows[0]) == {'image_id', 'image_name', 'owner', 'member_id', 'status', 'created_at', 'updated_at'}
    owned = [image for image in estate_seed()['images'] if image['owner'] == 'eu-de_owner']
    assert audit['selection'] == {'filters': None, 'matched': len(owned)}
    requests = emu.stats()['requests']
    # one listing page, then one member read per image that can have members (the seed's public image is skipped)
    assert requests['GET /v2/images'] == 1
    readable = [image for image in owned if image.get('visibility', 'private') not in ('public', 'community')]
    assert requests['GET /v2/images/{image_id}/members'] == len(readable)
    assert emu.stats()['writes'] == 0


def test_selectors_keep_the_newest_builds_of_each_family_on_both_sides(emu, tmp_path):
    emu.reset(seed=estate_seed())
    workspace = Workspace(tmp_path)
    owner, consumer = password_auth(emu.url, 'owner-user'), password_auth(emu.url, 'consumer-user')
    selector = {'name': 'golden-*', 'properties': {'imscloud_pipeline': 'packer'}, 'newest': 2,
                'family_pattern': '-[0-9]{8}$', 'status': 'any'}
    tasks = [
        info_task('owner selection', 'owner_sel', auth=owner, selector=selector, include_unshared=True),
        info_task('recipient selection', 'recipient_sel', auth=consumer, view='recipient', selector=selector),
        info_task('nothing matches', 'empty_sel', auth=owner, selector={'name': 'windows-*'}),
    ]
    run = workspace.run(play(tasks), collect=['owner_sel', 'recipient_sel', 'empty_sel'])
    assert run.returncode == 0, run.describe()
    newest = ['golden-rhel-9-20261201', 'golden-rhel-9-20261124', 'golden-ubuntu-24.04-20261201',
              'golden-ubuntu-24.04-20261124']
    assert [image['name'] for image in run.results['owner_sel']['images']] == newest
    assert [(image['name'], image['member_status']) for image in run.results['recipient_sel']['images']] == [
        (newest[0], 'pending'), (newest[1], 'accepted'), (newest[2], 'pending'), (newest[3], 'accepted')]
    assert run.results['empty_sel']['images'] == []
    assert run.results['empty_sel']['selection'] == {'filters': "name matches 'windows-*', status active", 'matched': 0}
