# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image listing as Glance filters it (tags, properties, created_at ranges, sorting, paging), image families in the
seed and POST /_emulator/images for large estates, and the in-flight counters that show a pool's bound."""

import copy
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest

from emutest import IMAGES, PROJECTS, SEED
from harness import EmulatorError

WEEK = 7 * 86400
FAMILIES = [
    {'name': 'golden-ubuntu-24.04-{date}', 'count': 6, 'owner': 'eu-de_owner', 'start': '2026-10-05T00:00:00Z',
     'interval': WEEK, 'tags': ['golden', 'ubuntu'], 'properties': {'__os_version': 'Ubuntu 24.04', 'family': 'ubuntu'}},
    {'name': 'golden-rhel-9-{date}', 'count': 3, 'owner': 'eu-de_owner', 'start': '2026-10-06T00:00:00Z',
     'interval': WEEK, 'tags': ['golden', 'rhel'], 'properties': {'family': 'rhel'}},
    {'prefix': 'other-estate-', 'count': 4, 'owner': 'eu-de_other'},
]


@pytest.fixture
def estate(cloud):
    seed = copy.deepcopy(SEED)
    seed['image_families'] = FAMILIES
    cloud.emulator.reset(seed)
    return cloud


def names(cloud, who='owner', **params):
    response = cloud.get('/v2/images?' + urlencode(params, doseq=True), who=who)
    assert response.status_code == 200, response.text
    return [image['name'] for image in response.json()['images']]


def all_pages(cloud, path, who='owner'):
    seen, pages = [], 0
    while path:
        body = cloud.get(path, who=who).json()
        seen.extend(image['id'] for image in body['images'])
        path, pages = body.get('next'), pages + 1
    return seen, pages


def test_families_are_seeded_with_dates_tags_and_properties(estate):
    images = [i for i in estate.emulator.state()['images'].values() if i['name'].startswith('golden-ubuntu')]
    assert sorted(i['name'] for i in images) == ['golden-ubuntu-24.04-20261005', 'golden-ubuntu-24.04-20261012',
                                                 'golden-ubuntu-24.04-20261019', 'golden-ubuntu-24.04-20261026',
                                                 'golden-ubuntu-24.04-20261102', 'golden-ubuntu-24.04-20261109']
    newest = [i for i in images if i['name'].endswith('20261109')][0]
    assert newest['created_at'] == '2026-11-09T00:00:00Z' and newest['tags'] == ['golden', 'ubuntu']
    assert newest['properties'] == {'__os_version': 'Ubuntu 24.04', 'family': 'ubuntu'}
    assert names(estate, who='other', owner=PROJECTS['other'], sort_key='name', sort_dir='asc') == [
        'other-estate-1', 'other-estate-2', 'other-estate-3', 'other-estate-4', 'other-private']
    ids = sorted(estate.emulator.state()['images'])
    estate.emulator.reset(dict(copy.deepcopy(SEED), image_families=FAMILIES))
    assert sorted(estate.emulator.state()['images']) == ids  # ids derive from the names: the same each time


def test_tags_are_all_of(estate):
    assert len(names(estate, tag='golden')) == 9
    assert sorted(names(estate, tag=['golden', 'rhel'])) == ['golden-rhel-9-20261006', 'golden-rhel-9-20261013',
                                                             'golden-rhel-9-20261020']
    assert names(estate, tag=['rhel', 'ubuntu']) == []
    image = estate.get('/v2/images/' + IMAGES['shareable-01']).json()
    assert image['tags'] == []


def test_property_filters_and_sorting(estate):
    ubuntu = names(estate, family='ubuntu', sort_key='name', sort_dir='asc')
    assert ubuntu == sorted(ubuntu) and len(ubuntu) == 6
    assert names(estate, __os_version='Ubuntu 24.04') == sorted(ubuntu, reverse=True)  # default: created_at desc
    assert names(estate, family='ubuntu', sort_key='created_at', sort_dir='asc') == ubuntu
    assert names(estate, family='nothing-like-this') == []
    assert names(estate, name='golden-rhel-9-20261013') == ['golden-rhel-9-20261013']
    assert names(estate, tag='golden', status='active', visibility='private', owner=PROJECTS['owner'], limit=2) == [
        'golden-ubuntu-24.04-20261109', 'golden-ubuntu-24.04-20261102']


def test_created_at_ranges(estate):
    assert names(estate, tag='ubuntu', created_at='gt:2026-10-26T00:00:00Z') == [
        'golden-ubuntu-24.04-20261109', 'golden-ubuntu-24.04-20261102']
    assert names(estate, tag='ubuntu', created_at='gte:2026-10-26T00:00:00Z')[-1] == 'golden-ubuntu-24.04-20261026'
    window = names(estate, tag='golden', created_at=['gt:2026-10-10T00:00:00Z', 'lt:2026-10-20T00:00:00Z'],
                   sort_key='name', sort_dir='asc')
    assert window == ['golden-rhel-9-20261013', 'golden-ubuntu-24.04-20261012', 'golden-ubuntu-24.04-20261019']
    bad = estate.get('/v2/images?created_at=gt:next-tuesday')
    assert bad.status_code == 400 and 'ISO 8601' in bad.json()['message']


def test_paging_with_filters_follows_next_to_the_end(estate):
    first = estate.get('/v2/images?tag=golden&limit=4&sort_key=name&sort_dir=asc').json()
    assert len(first['images']) == 4 and 'tag=golden' in first['next'] and 'marker=' in first['next']
    seen, pages = all_pages(estate, '/v2/images?tag=golden&limit=4&sort_key=name&sort_dir=asc')
    assert len(seen) == len(set(seen)) == 9 and pages == 3


def test_bulk_images_build_a_large_estate(cloud):
    ids = cloud.emulator.add_images(families=[{'prefix': 'estate-', 'count': 1000, 'owner': 'eu-de_owner',
                                               'tags': ['estate'], 'interval': 60}])
    assert len(ids) == len(set(ids)) == 1000
    seen, pages = all_pages(cloud, '/v2/images?tag=estate&limit=200')
    assert sorted(seen) == sorted(ids) and pages == 6  # 5 full pages, then the empty one a full page points to
    single = cloud.emulator.add_images(images=[{'id': '12345678-0000-4000-8000-000000000abc', 'name': 'one-more',
                                                'owner': 'eu-de_owner', 'tags': ['x'], 'properties': {'k': 'v'}}])
    assert single == ['12345678-0000-4000-8000-000000000abc']
    assert names(cloud, k='v') == ['one-more']
    assert len(cloud.emulator.state()['images']) == len(SEED['images']) + 1001


@pytest.mark.parametrize('payload', [
    {'families': [{'prefix': 'x-', 'count': 0, 'owner': 'eu-de_owner'}]},
    {'families': [{'prefix': 'x-', 'count': 2, 'owner': 'nobody'}]},
    {'families': [{'prefix': 'x-', 'name': 'y-{n}', 'count': 2, 'owner': 'eu-de_owner'}]},
    {'families': [{'name': 'y-{colour}', 'count': 2, 'owner': 'eu-de_owner'}]},
    {'families': [{'prefix': 'ok-', 'count': 2, 'owner': 'eu-de_owner'}], 'images': [{'id': 'not-a-uuid', 'owner': 'eu-de_owner'}]},
    {'images': [{'id': IMAGES['shareable-01'], 'owner': 'eu-de_owner'}]},
    {'colour': 'red'},
])
def test_bad_bulk_requests_add_nothing(cloud, payload):
    before = len(cloud.emulator.state()['images'])
    with pytest.raises(EmulatorError, match='400'):
        cloud.emulator.control('POST', '/images', payload)
    assert len(cloud.emulator.state()['images']) == before


def test_max_in_flight_shows_the_bound_of_a_pool(cloud):
    cloud.token('owner')
    cloud.emulator.configure(latency={'GET /v2/images/{image_id}/members': {'fixed': 1.0, 'jitter': 0.0}})
    cloud.emulator.reset_stats()
    path = '/v2/images/%s/members' % IMAGES['shareable-01']
    with ThreadPoolExecutor(max_workers=3) as pool:
        codes = list(pool.map(lambda _i: cloud.get(path).status_code, range(6)))
    assert codes == [200] * 6
    stats = cloud.emulator.stats()
    assert stats['max_in_flight'] == stats['max_in_flight_by_family']['members'] == 3
    assert 'images' not in stats['max_in_flight_by_family']
