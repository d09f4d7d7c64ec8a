# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image selectors: a listing in, the chosen images out. Pure (no request), so a bad selector fails before any call.

A selector (the ``selector`` option) has these keys, all optional:

``name``            a glob on the whole name (``fnmatch``, case-sensitive): ``golden-ubuntu-24.04-*``
``name_regex``      a Python regular expression searched in the name (anchor it with ``^...$`` for a whole match)
``tags``            the image has every one of these tags
``properties``      ``{key: value}``: the image property equals the value (compared as text; ``true``/``false``
                    for booleans), e.g. ``{__os_version: Ubuntu 24.04 server 64bit}`` on OTC
``status``          the image status, default ``active``; ``any`` for every status
``visibility``      ``private``, ``shared``, ``public``, ``community`` or ``any`` (the default)
``newest``          keep only the newest N images by ``created_at`` (per family with ``family_pattern``)
``family_pattern``  a regular expression removed (first match) from the name to give the family key, e.g.
                    ``-[0-9]{8}$`` makes ``golden-ubuntu-24.04-20261201`` a build of family ``golden-ubuntu-24.04``

Server side and client side: ``status``, ``tags`` (one ``tag`` filter per tag) and ``properties`` go to the image
listing as filters (Glance and IMS filter by them; Glance treats any other key as a property filter), with
``sort_key=created_at``. Names (glob and regex), ``visibility``, ``newest`` and families are applied by the
collection; it also applies every server-side filter again, so a cloud that ignores one costs bandwidth, not
correctness. ``visibility`` stays client-side because OTC leaves images that are shared out of a
``visibility=private`` listing.

Order and tie-break (deterministic): families by family key (ascending; one family without ``family_pattern``),
within a family the newest first (``created_at`` descending, an image without a readable ``created_at`` counts as
the oldest), equal times by name descending (so a later date suffix wins), then by id ascending. ``newest: N`` takes
the first N of each family in that order; the other images of the family that pass every other filter are the
*older* images (``Selection.older``): the ones a rotation removes the projects from.
"""

from __future__ import annotations

import fnmatch
import re
from datetime import datetime, timezone
from typing import Any, Iterable, Optional

from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError

SELECTOR_KEYS = ('name', 'name_regex', 'tags', 'properties', 'status', 'visibility', 'newest', 'family_pattern')
VISIBILITIES = ('private', 'shared', 'public', 'community', 'any')
DEFAULT_STATUS = 'active'
# Property keys that are image attributes or listing controls: the selector has its own keys for them.
RESERVED_PROPERTY_KEYS = frozenset(('id', 'name', 'owner', 'status', 'visibility', 'tag', 'tags', 'created_at',
                                    'updated_at', 'member_status', 'limit', 'marker', 'sort', 'sort_key', 'sort_dir'))


def selector_argument_spec() -> dict:
    """The ``selector`` option of the modules (Ansible checks types and unknown keys; validate_selector the rest)."""
    return dict(type='dict', options=dict(
        name=dict(type='str'),
        name_regex=dict(type='str'),
        tags=dict(type='list', elements='str'),
        properties=dict(type='dict'),
        status=dict(type='str', default=DEFAULT_STATUS),
        visibility=dict(type='str', choices=list(VISIBILITIES), default='any'),
        newest=dict(type='int'),
        family_pattern=dict(type='str'),
    ))


def _compile(option: str, key: str, pattern: Any) -> Any:
    if not isinstance(pattern, str) or not pattern:
        raise IMSError('%s.%s must be a non-empty regular expression, got %r' % (option, key, pattern))
    try:
        return re.compile(pattern)
    except re.error as err:
        raise IMSError('%s.%s: %r is not a valid regular expression (%s); see Python\'s re syntax'
                       % (option, key, pattern, err))


def _text(value: Any) -> Optional[str]:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return None if value is None else str(value)


def _check_properties(option: str, properties: Any) -> dict:
    if properties is None:
        return {}
    if not isinstance(properties, dict):
        raise IMSError('%s.properties must be a mapping of property names to values, got %r' % (option, properties))
    reserved = sorted(key for key in properties if str(key) in RESERVED_PROPERTY_KEYS)
    if reserved:
        raise IMSError('%s.properties: %s %s not an image property but an attribute with its own selector key (name, '
                       'name_regex, tags, status, visibility) or a listing control'
                       % (option, ', '.join(reserved), 'is' if len(reserved) == 1 else 'are'))
    bad = sorted(str(key) for key, value in properties.items() if isinstance(value, (dict, list)) or value is None)
    if bad:
        raise IMSError('%s.properties: the value of %s must be a string, number or boolean' % (option, ', '.join(bad)))
    return dict((str(key), _text(value)) for key, value in properties.items())


def validate_selector(option: str, selector: Any) -> Optional[dict]:
    """The selector with defaults and compiled patterns, or None when not given; IMSError naming the option, the bad
    value and what is allowed. No request."""
    if selector is None:
        return None
    if not isinstance(selector, dict):
        raise IMSError('%s must be a mapping with the keys %s, got %r' % (option, ', '.join(SELECTOR_KEYS), selector))
    unknown = sorted(str(key) for key in selector if key not in SELECTOR_KEYS)
    if unknown:
        raise IMSError('%s: unknown key(s) %s; allowed: %s' % (option, ', '.join(unknown), ', '.join(SELECTOR_KEYS)))
    name = selector.get('name')
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise IMSError('%s.name must be a non-empty glob pattern such as golden-*, got %r' % (option, name))
    tags = selector.get('tags') or []
    if isinstance(tags, str) or not all(isinstance(tag, str) and tag.strip() for tag in tags):
        raise IMSError('%s.tags must be a list of non-empty tags, got %r' % (option, tags))
    newest = selector.get('newest')
    if newest is not None and (isinstance(newest, bool) or not isinstance(newest, int) or newest < 1):
        raise IMSError('%s.newest must be a whole number of at least 1 (how many of the newest images to keep), got %r'
                       % (option, newest))
    if selector.get('family_pattern') is not None and newest is None:
        raise IMSError('%s.family_pattern needs newest: families only decide which images count as the newest N'
                       % option)
    visibility = selector.get('visibility') or 'any'
    if visibility not in VISIBILITIES:
        raise IMSError('%s.visibility must be one of %s, got %r' % (option, ', '.join(VISIBILITIES), visibility))
    status = selector.get('status') or DEFAULT_STATUS
    if not isinstance(status, str):
        raise IMSError('%s.status must be an image status such as active, or any, got %r' % (option, status))
    return {
        'name': name,
        'name_regex': _compile(option, 'name_regex', selector['name_regex']) if selector.get('name_regex') is not None else None,
        'tags': sorted(set(tags)),
        'properties': _check_properties(option, selector.get('properties')),
        'status': status,
        'visibility': visibility,
        'newest': newest,
        'family_pattern': (_compile(option, 'family_pattern', selector['family_pattern'])
                           if selector.get('family_pattern') is not None else None),
    }


def check_rotation(purge_older: bool, selector: Optional[dict], status: Optional[str], state: str) -> None:
    """purge_older needs an owner-side selector with newest and state=present; IMSError before any request."""
    if not purge_older:
        return
    if selector is None or not selector['newest']:
        raise IMSError('purge_older needs selector with newest: it removes the projects from the images of each family '
                       'that are not among the newest N')
    if status is not None or state != 'present':
        raise IMSError('purge_older works on the owner side with state=present (it shares the newest images and '
                       'unshares the older ones); remove purge_older, or status / state=absent')


def server_filters(selector: dict) -> dict:
    """The listing filters the cloud applies (a dict for images.iter_image_pages; ``tag`` repeats)."""
    filters: dict = {}
    if selector['status'] != 'any':
        filters['status'] = selector['status']
    if selector['tags']:
        filters['tag'] = list(selector['tags'])
    filters.update(selector['properties'])
    filters.update(sort_key='created_at', sort_dir='desc')
    return filters


def describe(selector: dict) -> str:
    """The filters of a selector in words (for an empty selection and for the result)."""
    parts = []
    if selector['name']:
        parts.append("name matches '%s'" % selector['name'])
    if selector['name_regex'] is not None:
        parts.append("name contains /%s/" % selector['name_regex'].pattern)
    if selector['tags']:
        parts.append('tags include %s' % ', '.join(selector['tags']))
    parts.extend('%s = %s' % (key, value) for key, value in sorted(selector['properties'].items()))
    parts.append('status %s' % selector['status'])
    if selector['visibility'] != 'any':
        parts.append('visibility %s' % selector['visibility'])
    if selector['newest']:
        per = " per family (name without /%s/)" % selector['family_pattern'].pattern if selector['family_pattern'] else ''
        parts.append('the newest %d%s' % (selector['newest'], per))
    return ', '.join(parts)


def matches(image: dict, selector: dict) -> bool:
    """True when the image passes every filter except newest."""
    name = image.get('name') or ''
    if selector['name'] and not fnmatch.fnmatchcase(name, selector['name']):
        return False
    if selector['name_regex'] is not None and not selector['name_regex'].search(name):
        return False
    if selector['tags'] and not set(selector['tags']).issubset(set(image.get('tags') or [])):
        return False
    if any(_text(image.get(key)) != value for key, value in selector['properties'].items()):
        return False
    if selector['status'] != 'any' and image.get('status') != selector['status']:
        return False
    return selector['visibility'] == 'any' or image.get('visibility') == selector['visibility']


def created_at(image: dict) -> Optional[float]:
    """Epoch seconds of the image's created_at (naive times are UTC); None when missing or unreadable."""
    text = image.get('created_at')
    if not isinstance(text, str) or not text.strip():
        return None
    text = text.strip().replace('Z', '+00:00').replace('z', '+00:00')
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def family_of(image: dict, selector: dict) -> str:
    pattern = selector['family_pattern']
    return pattern.sub('', image.get('name') or '', count=1) if pattern is not None else ''


class Selection:
    """``chosen``: the selected images in the documented order; ``older``: with newest, the other images of their
    families that pass every other filter; ``families``: {family key: ids of the chosen images}."""

    def __init__(self, chosen: list, older: list, families: dict, filters: str) -> None:
        self.chosen = chosen
        self.older = older
        self.families = families
        self.filters = filters


def _newest_first(images: Iterable[dict]) -> list:
    """Newest first; equal times by name descending, then id ascending (sort is stable: the last key first)."""
    ordered = sorted(images, key=lambda image: str(image.get('id') or ''))
    ordered.sort(key=lambda image: str(image.get('name') or ''), reverse=True)
    ordered.sort(key=lambda image: (created_at(image) is not None, created_at(image) or 0.0), reverse=True)
    return ordered


def select_images(listing: Iterable[dict], selector: dict) -> Selection:
    """The images of a listing that a validated selector chooses (each id once), and the older ones of each family."""
    unique: dict = {}
    for image in listing:
        if isinstance(image, dict) and image.get('id') and image['id'] not in unique and matches(image, selector):
            unique[image['id']] = image
    by_family: dict = {}
    for image in unique.values():
        by_family.setdefault(family_of(image, selector), []).append(image)
    chosen: list = []
    older: list = []
    families: dict = {}
    for family in sorted(by_family):
        ordered = _newest_first(by_family[family])
        keep = ordered[:selector['newest']] if selector['newest'] else ordered
        chosen.extend(keep)
        older.extend(ordered[len(keep):])
        families[family] = [image['id'] for image in keep]
    return Selection(chosen, older, families, describe(selector))
