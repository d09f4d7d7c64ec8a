# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

# clouds.yaml: where it is found, how it is read (with secure.yaml merged in), and the vendor profiles.
#
# The search follows openstacksdk's loader (openstack/config/loader.py, CONFIG_SEARCH_PATH x YAML_SUFFIXES +
# JSON_SUFFIXES): $OS_CLIENT_CONFIG_FILE first, then in each directory clouds.yaml, clouds.yml, clouds.json; the
# directories are ./, the user config directory ($XDG_CONFIG_HOME/openstack), ~/.config/openstack, the site config
# directories ($XDG_CONFIG_DIRS/openstack, default /etc/xdg/openstack) and /etc/openstack. secure.yaml is looked
# up the same way ($OS_CLIENT_SECURE_FILE first). The first file found wins.

import os
import traceback
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError


CLOUDS_FILE_ENV = 'OS_CLIENT_CONFIG_FILE'
SECURE_FILE_ENV = 'OS_CLIENT_SECURE_FILE'
SITE_CONFIG_DIR = '/etc/openstack'
# XDG base directory spec: the default of $XDG_CONFIG_DIRS.
XDG_CONFIG_DIRS_DEFAULT = '/etc/xdg'
# In the order openstacksdk tries them in each directory.
FILE_SUFFIXES = ('.yaml', '.yml', '.json')

# Vendor profiles (`profile: <name>` in a cloud entry), as openstacksdk ships them in openstack/config/vendors/.
# A profile gives defaults; the cloud entry overrides them. `{region_name}` in auth_url is the region in use.
# Huawei Cloud has no openstacksdk profile (its vendors directory has none), so none is defined here either.
VENDOR_PROFILES: Dict[str, Dict[str, Any]] = {
    # openstacksdk openstack/config/vendors/otc.json
    'otc': {
        'auth': {'auth_url': 'https://iam.{region_name}.otc.t-systems.com/v3'},
        'regions': ['eu-de', 'eu-nl'],
        'identity_api_version': '3',
        'interface': 'public',
    },
    # openstacksdk openstack/config/vendors/otc-swiss.json (which gives the URL without its https:// scheme)
    'otc-swiss': {
        'auth': {'auth_url': 'https://iam-pub.eu-ch2.sc.otc.t-systems.com/v3'},
        'regions': ['eu-ch2'],
        'identity_api_version': '3',
        'interface': 'public',
    },
}
# The API versions this collection speaks; a cloud entry asking for another one is a mistake worth stopping on.
SUPPORTED_API_VERSIONS = {'identity_api_version': ('3',), 'image_api_version': ('2',)}


def _fail(message: str) -> IMSError:
    return IMSError(message)


def home_dir(environ: Mapping[str, str]) -> str:
    return environ.get('HOME') or os.path.expanduser('~')


def expand_path(path: str, environ: Mapping[str, str]) -> str:
    """An absolute path; a leading ~ is the HOME of the given environment."""
    if path == '~' or path.startswith('~/'):
        path = home_dir(environ) + path[1:]
    return os.path.abspath(os.path.expanduser(path))


def config_dirs(environ: Mapping[str, str]) -> List[str]:
    """The directories searched, in order, without repetitions."""
    user_default = os.path.join(home_dir(environ), '.config')
    xdg_home = environ.get('XDG_CONFIG_HOME')
    user = xdg_home if xdg_home and os.path.isabs(xdg_home) else user_default
    site = [entry for entry in (environ.get('XDG_CONFIG_DIRS') or XDG_CONFIG_DIRS_DEFAULT).split(os.pathsep)
            if os.path.isabs(entry)]
    dirs = [os.getcwd(), os.path.join(user, 'openstack'), os.path.join(user_default, 'openstack')]
    dirs += [os.path.join(entry, 'openstack') for entry in site] + [SITE_CONFIG_DIR]
    unique: List[str] = []
    for directory in dirs:
        if directory not in unique:
            unique.append(directory)
    return unique


def clouds_yaml_candidates(environ: Optional[Mapping[str, str]] = None, basename: str = 'clouds.yaml',
                           env_name: str = CLOUDS_FILE_ENV) -> List[str]:
    """The files looked at, in order: $OS_CLIENT_CONFIG_FILE, then <stem>.yaml, .yml, .json in each directory."""
    environ = os.environ if environ is None else environ
    stem = basename.rsplit('.', 1)[0]
    candidates = []
    explicit = environ.get(env_name)
    if explicit:
        candidates.append(expand_path(explicit, environ))
    for directory in config_dirs(environ):
        candidates.extend(os.path.join(directory, stem + suffix) for suffix in FILE_SUFFIXES)
    return candidates


def _load_yaml_file(path: str) -> Dict[str, Any]:
    """The 'clouds' mapping of a clouds.yaml/secure.yaml file (JSON is read as the YAML it also is)."""
    # imported here: PyYAML costs every module run ~15 ms, and only a clouds.yaml needs it
    try:
        import yaml  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise IMSError(missing_required_lib('PyYAML', reason='to read %s' % path),
                       details={'exception': traceback.format_exc()})
    try:
        with open(path, 'rb') as handle:
            data = yaml.safe_load(handle)
    except OSError as exc:
        raise _fail('cannot read %s: %s' % (path, exc.strerror or exc))
    except yaml.reader.ReaderError as exc:
        # the offending byte and its position only: the text around it may hold a secret
        raise _fail('cannot read %s: it is not valid %s (byte %s at position %d); save it as UTF-8'
                    % (path, exc.encoding or 'UTF-8', _byte_text(exc.character), exc.position))
    except yaml.YAMLError as exc:
        # Only the problem and its position: PyYAML's own text quotes the offending line, which may hold a secret.
        mark = getattr(exc, 'problem_mark', None)
        problem = getattr(exc, 'problem', None) or exc.__class__.__name__
        context = getattr(exc, 'context', None)
        text = '%s, %s' % (context, problem) if context else problem
        if mark is not None:
            raise _fail('cannot parse %s: %s at line %d, column %d' % (path, text, mark.line + 1, mark.column + 1))
        raise _fail('cannot parse %s: %s' % (path, text))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _fail('%s must hold a mapping with a "clouds" key, got %s' % (path, type(data).__name__))
    clouds = data.get('clouds')
    if clouds is None:
        return {}
    if not isinstance(clouds, dict):
        raise _fail('"clouds" in %s must be a mapping of cloud names to entries, got %s' % (path, type(clouds).__name__))
    return clouds


def _byte_text(character: Any) -> str:
    if isinstance(character, bytes):
        return '0x%02x' % character[0] if character else '?'
    if isinstance(character, int):
        return '0x%02x' % character
    return 'U+%04X' % ord(character) if isinstance(character, str) and len(character) == 1 else '?'


def _deep_merge(base: Dict[str, Any], override: Mapping[str, Any]) -> Dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe_search(candidates: List[str], environ: Mapping[str, str], env_name: str) -> str:
    # Every clouds.yaml is listed; the .yml and .json variants only when they exist, to keep the message readable.
    shown = []
    for index, path in enumerate(candidates):
        found = os.path.isfile(path)
        state = 'found' if found else 'missing'
        if index == 0 and environ.get(env_name):
            shown.append('$%s=%s (%s)' % (env_name, path, state))
        elif found or path.endswith(FILE_SUFFIXES[0]):
            shown.append('%s (%s)' % (path, state))
    return ', '.join(shown)


def load_cloud(name: str, environ: Optional[Mapping[str, str]] = None, selected_by: str = 'cloud') -> Tuple[Dict[str, Any], str]:
    """The entry of cloud `name` from the first clouds.yaml found, merged with the first secure.yaml found.

    Returns (entry, label); label names the cloud and the file(s) it comes from.
    """
    environ = os.environ if environ is None else environ
    candidates = clouds_yaml_candidates(environ)
    secure_candidates = clouds_yaml_candidates(environ, 'secure.yaml', SECURE_FILE_ENV)
    clouds_path = next((path for path in candidates if os.path.isfile(path)), None)
    secure_path = next((path for path in secure_candidates if os.path.isfile(path)), None)
    searched = 'clouds.yaml is looked up in this order, the first one found is used: %s' % (
        _describe_search(candidates, environ, CLOUDS_FILE_ENV))
    if clouds_path is None:
        raise _fail('%s=%r names a cloud, but no clouds.yaml was found. %s' % (selected_by, name, searched))
    clouds = _load_yaml_file(clouds_path)
    label_files = clouds_path
    if secure_path is not None:
        secure = _load_yaml_file(secure_path)
        clouds = _deep_merge(clouds, secure)
        if name in secure:
            label_files = '%s + %s' % (clouds_path, secure_path)
    if name not in clouds:
        available = ', '.join(sorted(str(key) for key in clouds)) or 'none'
        defined_in = '%s and %s' % (clouds_path, secure_path) if secure_path else clouds_path
        raise _fail('%s=%r is not a cloud defined in %s (clouds defined there: %s). %s' % (
            selected_by, name, defined_in, available, searched))
    return clouds[name], "cloud '%s' (%s)" % (name, label_files)


def _region_of(entry: Mapping[str, Any]) -> Optional[str]:
    """region_name of an entry, else the first of its regions (a name or {name: ...}), as openstacksdk picks it."""
    region = entry.get('region_name')
    if isinstance(region, str) and region.strip():
        return region.strip()
    regions = entry.get('regions')
    if isinstance(regions, list) and regions:
        first = regions[0]
        name = first.get('name') if isinstance(first, dict) else first
        if isinstance(name, str) and name.strip():
            return name.strip()
    return None


def _check_api_versions(entry: Mapping[str, Any], label: str, prefix: str) -> None:
    for key, allowed in SUPPORTED_API_VERSIONS.items():
        value = entry.get(key)
        if value is not None and str(value).strip() not in allowed:
            raise _fail('%s%s of %s is %r; this collection speaks %s %s only' % (
                prefix, key, label, str(value), key.split('_', 1)[0], ' or '.join(allowed)))


def apply_profile(entry: Any, label: str, prefix: str = '', region_name: Optional[str] = None) -> Any:
    """The cloud entry with its vendor profile's defaults filled in (openstacksdk's `profile:`, or the old `cloud:`).

    region_name (the module's region_name option, if set) wins over the entry's region for the auth_url template.
    An unknown profile fails, naming the known ones. Entries that are not mappings are returned as they are.
    """
    if not isinstance(entry, dict):
        return entry
    key = 'profile' if entry.get('profile') is not None else 'cloud'
    name = entry.get(key)
    if name is None:
        _check_api_versions(entry, label, prefix)
        return entry
    if not isinstance(name, str) or name.strip() not in VENDOR_PROFILES:
        raise _fail('%s%s of %s is %r, which is not a vendor profile known here; known profiles: %s (or drop %s and set '
                    'auth.auth_url and region_name in the cloud entry)'
                    % (prefix, key, label, str(name), ', '.join(sorted(VENDOR_PROFILES)), key))
    profile = VENDOR_PROFILES[name.strip()]
    merged = _deep_merge(profile, {k: v for k, v in entry.items() if k not in ('profile', 'cloud')})
    _check_api_versions(merged, label, prefix)
    region = region_name or _region_of(merged)
    auth = merged.get('auth')
    template = auth.get('auth_url') if isinstance(auth, dict) else None
    if isinstance(template, str) and '{region_name}' in template:
        known = [r.get('name') if isinstance(r, dict) else r for r in merged.get('regions') or []]
        if region not in known:
            raise _fail('region %r is not a region of profile %r (%s%s of %s); its regions: %s'
                        % (region, name, prefix, key, label, ', '.join(str(r) for r in known)))
        merged['auth'] = dict(auth, auth_url=template.replace('{region_name}', region))
    return merged
