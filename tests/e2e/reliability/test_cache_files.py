# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The token cache on disk: private files in a private directory; a cache file that others can write, or that
another user owns, is ignored (and replaced); a directory that others can write disables the cache."""

import json
import os
import stat
import time

import pytest

from relsupport import IMAGE, TOKEN_ROUTE, password_auth, play, record_figures

INFO = 'imscloud.sharing.ims_image_member_info'
NOBODY_UID = 65534


def read_task(emu):
    return [{'name': 'read', INFO: {'auth': password_auth(emu.url, 'owner-user'), 'images': ['shareable-01']},
             'register': 'members'}]


def cache_record(workspace):
    names = [name for name in os.listdir(workspace.cache_dir) if name.endswith('.json')]
    assert len(names) == 1, os.listdir(workspace.cache_dir)
    path = os.path.join(workspace.cache_dir, names[0])
    with open(path, encoding='utf-8') as handle:
        return path, json.load(handle)


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_cache_files_are_private(emu, workspace):
    run = workspace.run(play(read_task(emu)))
    assert run.returncode == 0, run.describe()
    directory = os.stat(workspace.cache_dir)
    assert stat.S_IMODE(directory.st_mode) == 0o700 and directory.st_uid == os.geteuid()
    names = sorted(os.listdir(workspace.cache_dir))
    # <key>.json and <key>.lock, the key a sha256 hex digest (no user name, project or secret in it)
    assert [name[-5:] for name in names] == ['.json', '.lock'] and names[0][:-5] == names[1][:-5], names
    assert len(names[0][:-5]) == 64 and set(names[0][:-5]) <= set('0123456789abcdef')
    for name in names:
        info = os.stat(os.path.join(workspace.cache_dir, name))
        assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == os.geteuid(), (name, oct(info.st_mode))

    again = workspace.run(play(read_task(emu)))
    assert again.returncode == 0, again.describe()
    assert emu.stats()['requests'][TOKEN_ROUTE] == 1     # the second run used the cache


def ignored_file_case(emu, workspace, spoil, expected_warning):
    """Cache a token, spoil the cache file, and check that the next run ignores it, says so, and replaces it."""
    first = workspace.run(play(read_task(emu)))
    assert first.returncode == 0, first.describe()
    path, record = cache_record(workspace)
    # a token that IMS would refuse: had the module used it, the emulator would have answered 401
    record['token'] = 'planted-token-not-issued-by-iam'
    record['expires_at'] = time.time() + 3600
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump(record, handle)
    spoil(path)
    emu.reset_stats()

    second = workspace.run(play(read_task(emu)), collect=['members'])
    stats = emu.stats()
    assert second.returncode == 0, second.describe()
    warnings = second.results['members'].get('warnings', [])
    assert any(expected_warning in warning and path in warning for warning in warnings), warnings
    assert stats['requests'][TOKEN_ROUTE] == 1 and not any('401' in codes for codes in stats['responses'].values())
    # replaced by a private file of ours with the new token
    new_path, new_record = cache_record(workspace)
    info = os.stat(new_path)
    assert new_path == path and not os.path.islink(path) and new_record['token'] != 'planted-token-not-issued-by-iam'
    assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == os.geteuid()
    return warnings


def test_world_writable_cache_file_is_ignored(emu, workspace):
    ignored_file_case(emu, workspace, lambda path: os.chmod(path, 0o666), 'accessible to group or others (mode 0666')
    record_figures('token_cache', case='world-writable cache file ignored and replaced', ignored=True)


def test_cache_file_of_another_user_is_ignored(emu, workspace):
    if os.geteuid() != 0:
        pytest.skip('giving a file to another user needs root')
    ignored_file_case(emu, workspace, lambda path: os.chown(path, NOBODY_UID, NOBODY_UID),
                      'owned by uid %d, not by the current user' % NOBODY_UID)
    record_figures('token_cache', case='cache file of another user ignored and replaced', ignored=True)


def test_symlinked_cache_file_is_ignored_and_its_target_untouched(emu, workspace):
    target = os.path.join(workspace.path, 'elsewhere.json')

    def replace_by_link(path):
        os.rename(path, target)
        os.symlink(target, path)

    ignored_file_case(emu, workspace, replace_by_link, 'symbolic links')
    with open(target, encoding='utf-8') as handle:
        assert json.load(handle)['token'] == 'planted-token-not-issued-by-iam'
    record_figures('token_cache', case='symlinked cache file ignored, its target untouched', ignored=True)


def test_cache_directory_writable_by_others_disables_the_cache(emu, workspace):
    os.makedirs(workspace.cache_dir)
    os.chmod(workspace.cache_dir, 0o777)
    tasks = read_task(emu) + [dict(read_task(emu)[0], register='again')]
    run = workspace.run(play(tasks), collect=['members', 'again'])
    assert run.returncode == 0, run.describe()
    assert any('token cache disabled' in warning and 'writable' in warning for warning in run.results['members']['warnings'])
    assert os.listdir(workspace.cache_dir) == []
    assert emu.stats()['requests'][TOKEN_ROUTE] == 2      # no cache: each task authenticates
    assert run.results['again']['images'][0]['id'] == IMAGE['shareable-01']
    record_figures('token_cache', case='cache directory writable by others: cache disabled', ignored=True)
