# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os

import pytest

from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.advice import ANY
from ansible_collections.imscloud.sharing.plugins.module_utils.advice import CATALOGUE
from ansible_collections.imscloud.sharing.plugins.module_utils.advice import advice_for_code
from ansible_collections.imscloud.sharing.plugins.module_utils.advice import explain

A = 'a' * 32
B = 'b' * 32
C = 'c' * 32
IMAGE = {'id': '11111111-2222-3333-4444-555555555555', 'name': 'web'}


# --- explain ---------------------------------------------------------------------------------------

OWNED = {'id': IMAGE['id'], 'name': 'web', 'owner': A, 'visibility': 'shared'}


def api_error(status, code=None, message='refused'):
    return IMSError(message, status=status, code=code, method='POST', url='http://ims.test/v2/images/x/members')


@pytest.mark.parametrize('err, operation, image, caller, member_id, fragment', [
    # quota: the Glance shape (413) and the IMS shape (IMG.0088)
    (api_error(413), 'add', OWNED, A, B, 'member quota'),
    (api_error(400, 'IMG.0088'), 'add', OWNED, A, B, 'member quota'),
    # key authorisation: IMS codes, a KMS message, or a 403 on an encrypted image of the caller
    (api_error(400, 'IMG.0099'), 'add', OWNED, A, B, 'Grant the key to the recipient project'),
    (api_error(400, 'IMG.0098'), 'add', OWNED, A, B, 'KMS key'),
    (api_error(403, message='the KMS key of the encrypted image is not authorized'), 'add', OWNED, A, B, 'KMS key'),
    (api_error(403), 'add', dict(OWNED, __system__cmkid='k1'), A, B, 'KMS key'),
    # 403 on owner operations
    (api_error(403), 'add', dict(OWNED, owner=C), A, B, "owner's project %s (these are scoped to project %s)" % (C, A)),
    (api_error(403), 'remove', dict(OWNED, owner=C), A, B, "owner's project %s" % C),
    (api_error(403), 'add', dict(OWNED, owner=C, __system__cmkid='k1'), A, B, "owner's project %s" % C),
    (api_error(400, 'IMG.0047'), 'remove', dict(OWNED, owner=C), A, B, "owner's project %s" % C),
    (api_error(403), 'add', dict(OWNED, visibility='private'), A, B, 'set_shared_visibility: true'),
    (api_error(403), 'add', dict(OWNED, visibility='public'), A, B, 'only private or shared images can have members'),
    (api_error(403), 'remove', OWNED, A, B, "owner's project %s" % A),
    # status changes
    (api_error(403), 'set_status', OWNED, A, B, 'credentials scoped to the recipient project %s' % B),
    (api_error(404), 'set_status', OWNED, B, B, 'is not shared with project %s' % B),
    (api_error(400, 'IMG.0193'), 'set_status', OWNED, B, B, 'vault_id'),
])
def test_explain(err, operation, image, caller, member_id, fragment):
    hint = explain(err, operation, image, caller, member_id)
    assert fragment in hint


@pytest.mark.parametrize('err, operation', [
    (api_error(500), 'add'),
    (api_error(404), 'remove'),
    (api_error(413), 'remove'),
])
def test_explain_has_nothing_to_add(err, operation):
    assert explain(err, operation, OWNED, A, B) is None


# --- the catalogue and the troubleshooting guide ----------------------------------------------------------------

GUIDE = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'docs', 'guides', 'troubleshooting.md')
TABLE_START = '| code | meaning | what to do |'


def render_table():
    """The IMG table of the guide, written from the catalogue (one row per entry, in catalogue order)."""
    rows = [TABLE_START, '| --- | --- | --- |']
    for entry in CATALOGUE:
        codes = ', '.join('`%s`' % code for code in entry.codes)
        if entry.operations != ANY:
            codes += ' (%s)' % ', '.join(entry.operations)
        rows.append('| %s | %s | %s |' % (codes, entry.meaning, entry.action))
    return '\n'.join(rows) + '\n'


def test_the_guide_gives_the_catalogued_advice_for_every_code():
    """IMSCLOUD_UPDATE_GUIDE=1 rewrites the table from the catalogue."""
    with open(GUIDE, encoding='utf-8') as handle:
        text = handle.read()
    section = text.split('## IMS: IMG codes', 1)[1].split('\n## ', 1)[0]
    start = section.index(TABLE_START)
    end = section.find('\n\n', start)
    table = section[start:] if end < 0 else section[start:end + 1]
    if os.environ.get('IMSCLOUD_UPDATE_GUIDE') and table != render_table():
        with open(GUIDE, 'w', encoding='utf-8') as handle:
            handle.write(text.replace(table, render_table(), 1))
        table = render_table()
    assert table == render_table()
    for entry in CATALOGUE:
        for code in entry.codes:
            assert '`%s`' % code in table


def test_an_operation_specific_entry_wins():
    assert advice_for_code('IMG.0086', 'set_status') != advice_for_code('IMG.0086', 'add')
    assert 'Check the id' in advice_for_code('IMG.0086', 'add')
    assert advice_for_code('IMG.9999', 'add') is None
    assert advice_for_code(None) is None
