# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""images.py with the real client against the emulator: names and ids on both sides, names in one listing,
member reads and their tolerance, check-mode predictions."""
from __future__ import annotations

import os

import pytest

from ansible_collections.imscloud.sharing.plugins.module_utils import images as image_api
from ansible_collections.imscloud.sharing.plugins.module_utils.client import IMSClient
from ansible_collections.imscloud.sharing.plugins.module_utils.config import resolve_connection
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.tests.e2e.client.test_client_emulator import IMAGE
from ansible_collections.imscloud.sharing.tests.e2e.client.test_client_emulator import PROJECT
from ansible_collections.imscloud.sharing.tests.e2e.client.test_client_emulator import SEED
from ansible_collections.imscloud.sharing.tests.e2e.client.test_client_emulator import password_params

LIST_ROUTE = 'GET /v2/images'


def client_of(emu, tmp_path, user: str, project: str) -> IMSClient:
    cache = str(tmp_path / 'token-cache')
    config = resolve_connection(password_params(emu, user, project),
                                environ={'IMSCLOUD_SHARING_CACHE_DIR': cache, 'HOME': str(tmp_path)})
    return IMSClient(config)


def test_name_resolution_on_both_sides(emu, tmp_path):
    own, cons = client_of(emu, tmp_path, 'owner-user', 'owner'), client_of(emu, tmp_path, 'consumer-user', 'consumer')
    resolved = image_api.resolve_images(own, ['shareable-07', IMAGE['shareable-08'], 'bild-grün-日本', 'shareable-07'],
                                        'owner').images
    assert [i['id'] for i in resolved] == [IMAGE['shareable-07'], IMAGE['shareable-08'], IMAGE['bild-grün-日本']]
    with pytest.raises(IMSError, match="image name 'duplicate-name' is ambiguous") as caught:
        image_api.resolve_images(own, ['duplicate-name'], 'owner')
    assert sorted(caught.value.details['matching_ids']) == sorted(i['id'] for i in SEED['images'] if i['name'] == 'duplicate-name')
    with pytest.raises(IMSError, match="image 'shareable-07' not found among the images shared with project"):
        image_api.resolve_images(cons, ['shareable-07'], 'recipient')
    own.add_member(IMAGE['shareable-07'], PROJECT['consumer'])
    # a pending share is found by name on the recipient side
    assert [i['id'] for i in image_api.resolve_images(cons, ['shareable-07'], 'recipient').images] == [IMAGE['shareable-07']]
    assert IMAGE['shareable-07'] in [i['id'] for i in image_api.list_shared_with_me(cons, 'pending')]
    assert image_api.list_shared_with_me(cons, 'accepted') == []
    with pytest.raises(IMSError) as missing:
        image_api.resolve_images(cons, ['0fffffff-0000-4000-8000-00000000dead'], 'recipient')
    assert missing.value.status == 404


def test_many_names_cost_one_listing(emu, tmp_path):
    own = client_of(emu, tmp_path, 'owner-user', 'owner')
    names = ['shareable-%02d' % n for n in range(1, 11)]
    own.project_id  # the token first, so that the counters below show only image requests
    emu.reset_stats()
    resolved = image_api.resolve_images(own, names, 'owner').images
    assert [i['id'] for i in resolved] == [IMAGE[name] for name in names]
    assert emu.stats()['requests'] == {LIST_ROUTE: 1}


def test_check_mode_recipient_predicts_and_writes_nothing(emu, tmp_path):
    cons = client_of(emu, tmp_path, 'consumer-user', 'consumer')
    resolution = image_api.resolve_images(cons, ['shareable-09', IMAGE['shareable-10']], 'recipient', check_mode=True)
    assert [(i['id'], i['name'], i['unverified']) for i in resolution.images] == [
        (None, 'shareable-09', True), (IMAGE['shareable-10'], None, True)]
    assert len(resolution.warnings) == 2
    reads = image_api.read_member_lists(cons, [IMAGE['shareable-10']], 'recipient')
    assert reads.missing == [IMAGE['shareable-10']]
    assert emu.stats()['writes'] == 0


def test_owner_reads_members_of_many_images_concurrently(emu, tmp_path):
    own = client_of(emu, tmp_path, 'owner-user', 'owner')
    ids = [IMAGE['shareable-%02d' % n] for n in range(1, 11)]
    own.add_member(ids[0], PROJECT['consumer'])
    reads = image_api.read_member_lists(own, ids + [ids[0]], 'owner', concurrency=4)
    assert list(reads.members) == ids
    assert [m['member_id'] for m in reads.members[ids[0]]] == [PROJECT['consumer']]
    assert all(reads.members[image_id] == [] for image_id in ids[1:])
    assert os.path.isdir(str(tmp_path))
