# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.imscloud.sharing.plugins.module_utils.endpoints import (
    KNOWN_CLOUDS,
    catalog_of,
    describe_known,
    known_iam_url,
    known_ims_endpoint,
)
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError


@pytest.mark.parametrize('region, auth_url, expected', [
    ('eu-de', None, 'https://ims.eu-de.otc.t-systems.com'),
    ('eu-nl', 'https://iam.eu-nl.otc.t-systems.com/v3', 'https://ims.eu-nl.otc.t-systems.com'),
    ('eu-ch2', None, 'https://ims.eu-ch2.sc.otc.t-systems.com'),
    ('eu-ch2', 'https://iam-pub.eu-ch2.sc.otc.t-systems.com/v3', 'https://ims.eu-ch2.sc.otc.t-systems.com'),
    ('cn-north-4', None, 'https://ims.cn-north-4.myhuaweicloud.com'),
    ('eu-west-101', None, 'https://ims.eu-west-101.myhuaweicloud.eu'),
    ('eu-west-0', 'https://iam.eu-west-0.prod-cloud-ocb.orange-business.com/v3',
     'https://ims.eu-west-0.prod-cloud-ocb.orange-business.com'),
    ('eu-west-0', 'https://iam.eu-west-0.myhuaweicloud.com/v3', 'https://ims.eu-west-0.myhuaweicloud.com'),
    # an auth_url of no known cloud (a lab, a proxy) leaves the choice to the region
    ('eu-de', 'http://127.0.0.1:5000/v3', 'https://ims.eu-de.otc.t-systems.com'),
])
def test_known_ims_endpoints(region, auth_url, expected):
    assert known_ims_endpoint(region, auth_url) == expected


def test_unknown_region_says_what_is_known():
    with pytest.raises(IMSError) as caught:
        known_ims_endpoint('eu-fr')
    message = str(caught.value)
    assert message.startswith("region 'eu-fr' is not a known region, so the IMS endpoint cannot be derived from it: "
                              'set ims_endpoint (or OS_IMS_ENDPOINT)')
    assert 'Open Telekom Cloud: eu-de, eu-nl; Open Telekom Cloud Swiss: eu-ch2; Huawei Cloud: af-south-1' in message


def test_region_of_another_cloud_than_the_auth_url():
    with pytest.raises(IMSError) as caught:
        known_ims_endpoint('cn-north-4', 'https://iam.eu-de.otc.t-systems.com/v3')
    assert "region 'cn-north-4' is not a known region of Open Telekom Cloud (auth_url https://iam.eu-de.otc" in str(
        caught.value)


def test_region_on_two_clouds_needs_the_auth_url():
    with pytest.raises(IMSError) as caught:
        known_ims_endpoint('eu-west-0')
    assert str(caught.value) == ("region 'eu-west-0' exists on several clouds (Huawei Cloud, Orange Flexible Engine): "
                                 'set auth_url to the IAM URL of yours, or ims_endpoint')


def test_no_region():
    with pytest.raises(IMSError) as caught:
        known_ims_endpoint(None)
    assert str(caught.value).startswith('finding the IMS endpoint without a catalog needs region_name (or OS_REGION_NAME)'
                                        ', or ims_endpoint (or OS_IMS_ENDPOINT). Known regions: ')


def test_known_iam_urls():
    assert known_iam_url('eu-de') == 'https://iam.eu-de.otc.t-systems.com/v3'
    assert known_iam_url('eu-ch2') == 'https://iam-pub.eu-ch2.sc.otc.t-systems.com/v3'
    assert known_iam_url('ap-southeast-3') == 'https://iam.ap-southeast-3.myhuaweicloud.com/v3'
    assert known_iam_url('eu-west-0') is None      # two clouds
    assert known_iam_url('eu-west-101') is None    # no source for its IAM
    assert known_iam_url('nowhere') is None
    assert known_iam_url(None) is None


def test_every_region_of_the_table_resolves_with_an_auth_url_of_its_cloud():
    for cloud in KNOWN_CLOUDS:
        for region in cloud.regions:
            auth_url = 'https://iam.%s.%s/v3' % (region, cloud.domain)
            assert known_ims_endpoint(region, auth_url) == cloud.ims.format(region=region)
            assert known_ims_endpoint(region, auth_url).startswith('https://ims.%s.' % region)
    assert describe_known().count('; ') == len(KNOWN_CLOUDS) - 1


def test_catalog_of_the_auth_catalog_answer():
    service = {'type': 'image', 'name': 'glance', 'endpoints': [{'interface': 'public', 'region': 'eu-de',
                                                                 'url': 'https://ims.eu-de.otc.t-systems.com'}]}
    assert catalog_of({'catalog': [service, 'junk'], 'links': {'self': 'x'}}) == [service]
    for body in ({}, {'catalog': {}}, [service], None):
        with pytest.raises(IMSError) as caught:
            catalog_of(body)
        assert caught.value.service == 'IAM'
        assert 'without a "catalog" list' in str(caught.value)
