# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""clouds.yaml discovery (clouds.yml, clouds.json, XDG directories) and vendor profiles, seen through
resolve_connection as a module sees them."""

from __future__ import annotations

import json

import pytest
import yaml

from ansible_collections.imscloud.sharing.plugins.module_utils import clouds
from ansible_collections.imscloud.sharing.plugins.module_utils.clouds import apply_profile, clouds_yaml_candidates
from ansible_collections.imscloud.sharing.plugins.module_utils.config import resolve_connection
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError

PASSWORD = 'Pr0file-Passw0rd!'
PROJECT = '0123456789abcdef0123456789abcdef'


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """cwd, HOME and the site directories of one test, all below tmp_path."""
    dirs = {name: tmp_path / name for name in ('cwd', 'home', 'site', 'xdg-site', 'xdg-home')}
    for path in dirs.values():
        path.mkdir()
    monkeypatch.chdir(dirs['cwd'])
    monkeypatch.setattr(clouds, 'SITE_CONFIG_DIR', str(dirs['site']))
    monkeypatch.setattr(clouds, 'XDG_CONFIG_DIRS_DEFAULT', str(dirs['xdg-site']))
    return dirs


def auth(**overrides):
    values = dict(username='alice', password=PASSWORD, user_domain_name='OTC-EU-DE-0001', project_id=PROJECT)
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def write(directory, name, clouds_map, as_json=False):
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    data = {'clouds': clouds_map}
    path.write_text(json.dumps(data) if as_json else yaml.safe_dump(data))
    return path


def error_of(params, environ):
    with pytest.raises(IMSError) as caught:
        resolve_connection(params, environ)
    assert PASSWORD not in str(caught.value)
    return str(caught.value)


def test_clouds_yml_is_found_but_clouds_yaml_in_the_same_directory_wins(tree):
    env = {'HOME': str(tree['home'])}
    write(tree['cwd'], 'clouds.yml', {'c': {'auth': auth(username='from-yml', auth_url='https://iam.example/v3')}})
    assert resolve_connection({'cloud': 'c'}, env).username == 'from-yml'
    write(tree['cwd'], 'clouds.yaml', {'c': {'auth': auth(username='from-yaml', auth_url='https://iam.example/v3')}})
    assert resolve_connection({'cloud': 'c'}, env).username == 'from-yaml'


def test_clouds_json_and_the_xdg_directories(tree):
    env = {'HOME': str(tree['home']), 'XDG_CONFIG_HOME': str(tree['xdg-home'])}
    write(tree['xdg-site'] / 'openstack', 'clouds.json', {'c': {'auth': auth(username='site-json', auth_url='https://i/v3')}},
          as_json=True)
    assert resolve_connection({'cloud': 'c'}, env).username == 'site-json'
    write(tree['xdg-home'] / 'openstack', 'clouds.yml', {'c': {'auth': auth(username='xdg-home', auth_url='https://i/v3')}})
    assert resolve_connection({'cloud': 'c'}, env).username == 'xdg-home'


def test_search_order_matches_openstacksdk(tree):
    env = {'HOME': str(tree['home']), 'XDG_CONFIG_HOME': str(tree['xdg-home']), 'OS_CLIENT_CONFIG_FILE': '/x/awx.yaml'}
    dirs = [tree['cwd'], tree['xdg-home'] / 'openstack', tree['home'] / '.config' / 'openstack',
            tree['xdg-site'] / 'openstack', tree['site']]
    assert clouds_yaml_candidates(env) == ['/x/awx.yaml'] + [
        str(d / ('clouds' + s)) for d in dirs for s in ('.yaml', '.yml', '.json')]
    assert clouds_yaml_candidates(env, 'secure.yaml', 'OS_CLIENT_SECURE_FILE')[:2] == [
        str(tree['cwd'] / 'secure.yaml'), str(tree['cwd'] / 'secure.yml')]


def test_search_message_names_a_found_clouds_yml(tree):
    path = write(tree['site'], 'clouds.yml', {'other': {}})
    message = error_of({'cloud': 'c'}, {'HOME': str(tree['home'])})
    assert "is not a cloud defined in %s (clouds defined there: other)" % path in message
    assert '%s (found)' % path in message
    assert '%s (missing)' % (tree['cwd'] / 'clouds.yaml') in message
    assert 'clouds.json (missing)' not in message


def test_profile_otc_fills_auth_url_region_and_interface(tree):
    write(tree['cwd'], 'clouds.yaml', {'otc': {'profile': 'otc', 'auth': auth()}})
    cfg = resolve_connection({'cloud': 'otc'}, {'HOME': str(tree['home'])})
    assert (cfg.auth_url, cfg.region_name, cfg.interface) == ('https://iam.eu-de.otc.t-systems.com/v3', 'eu-de', 'public')


def test_profile_auth_url_follows_the_region_option(tree):
    write(tree['cwd'], 'clouds.yaml', {'otc': {'profile': 'otc', 'auth': auth()}})
    cfg = resolve_connection({'cloud': 'otc', 'region_name': 'eu-nl'}, {'HOME': str(tree['home'])})
    assert (cfg.auth_url, cfg.region_name) == ('https://iam.eu-nl.otc.t-systems.com/v3', 'eu-nl')


def test_profile_values_are_defaults_the_entry_overrides(tree):
    write(tree['cwd'], 'clouds.yaml', {'otc': {'cloud': 'otc', 'interface': 'internal',
                                               'auth': auth(auth_url='https://iam.proxy.example/v3')}})
    cfg = resolve_connection({'cloud': 'otc'}, {'HOME': str(tree['home'])})
    assert (cfg.auth_url, cfg.interface) == ('https://iam.proxy.example/v3', 'internal')


def test_profile_otc_swiss(tree):
    write(tree['cwd'], 'clouds.yaml', {'ch': {'profile': 'otc-swiss', 'auth': auth()}})
    cfg = resolve_connection({'cloud': 'ch'}, {'HOME': str(tree['home'])})
    assert (cfg.auth_url, cfg.region_name) == ('https://iam-pub.eu-ch2.sc.otc.t-systems.com/v3', 'eu-ch2')


def test_unknown_profile_fails_naming_the_known_ones(tree):
    path = write(tree['cwd'], 'clouds.yaml', {'hw': {'profile': 'huaweicloud', 'auth': auth()}})
    message = error_of({'cloud': 'hw'}, {'HOME': str(tree['home'])})
    assert message.startswith("profile of cloud 'hw' (%s) is 'huaweicloud', which is not a vendor profile known here; "
                              "known profiles: otc, otc-swiss" % path)


def test_region_outside_the_profile_fails(tree):
    write(tree['cwd'], 'clouds.yaml', {'otc': {'profile': 'otc', 'region_name': 'eu-ch2', 'auth': auth()}})
    message = error_of({'cloud': 'otc'}, {'HOME': str(tree['home'])})
    assert message.startswith("region 'eu-ch2' is not a region of profile 'otc'")
    assert message.endswith('its regions: eu-de, eu-nl')


def test_unsupported_api_versions_fail(tree):
    write(tree['cwd'], 'clouds.yaml', {'v2': {'identity_api_version': 2, 'auth': auth(auth_url='https://k/v3')}})
    message = error_of({'cloud': 'v2'}, {'HOME': str(tree['home'])})
    assert message.startswith("identity_api_version of cloud 'v2' (")
    assert message.endswith("is '2'; this collection speaks identity 3 only")
    assert 'cloud.image_api_version of the cloud dict is' in error_of(
        {'cloud': {'image_api_version': '1', 'auth': auth(auth_url='https://k/v3')}}, {})


def test_profile_in_a_cloud_dict():
    cfg = resolve_connection({'cloud': {'profile': 'otc', 'region_name': 'eu-nl', 'auth': auth()}}, {})
    assert cfg.auth_url == 'https://iam.eu-nl.otc.t-systems.com/v3'


def test_apply_profile_leaves_the_input_alone():
    entry = {'profile': 'otc', 'auth': {'username': 'u'}}
    merged = apply_profile(entry, 'x')
    assert entry == {'profile': 'otc', 'auth': {'username': 'u'}}
    assert merged['auth'] == {'username': 'u', 'auth_url': 'https://iam.eu-de.otc.t-systems.com/v3'}
    assert apply_profile('not-a-dict', 'x') == 'not-a-dict'
