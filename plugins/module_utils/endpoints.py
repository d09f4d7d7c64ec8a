# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

# Where IMS and IAM live when nobody says: a table of known hosts per cloud and region, and the reading of IAM's
# catalog answer (GET /v3/auth/catalog, what AK/SK clients such as gophertelekomcloud ask). With a token, the
# token's own catalog is used instead (auth.py); an explicit ims_endpoint (or OS_IMS_ENDPOINT) always wins.

import hashlib
import json
import threading
import time
from typing import Any, Callable, List, NamedTuple, Optional, Tuple
from urllib.parse import urlsplit

from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import response_json

# The environment variable that sets ims_endpoint, named after the option as OS_REGION_NAME is after region_name.
IMS_ENDPOINT_ENV = 'OS_IMS_ENDPOINT'
CATALOG_PATH = '/auth/catalog'
# How long an endpoint found in IAM's catalog is reused from the cache (catalogs change with deployments, rarely).
CATALOG_CACHE_SECONDS = 24 * 3600.0
# The cache file of an endpoint is a token cache record whose "token" says that it holds none.
NO_TOKEN = 'none: the IMS endpoint of an AK/SK configuration'


class KnownCloud(NamedTuple):
    """One cloud on the OTC/Huawei stack: its name, IAM and IMS URL templates ({region}) and regions."""

    name: str
    iam: Optional[str]
    ims: str
    regions: Tuple[str, ...]
    domain: str       # the DNS suffix of its hosts; tells an auth_url of this cloud from another's


KNOWN_CLOUDS: Tuple[KnownCloud, ...] = (
    # opentelekomcloud-docs/regions-and-endpoints doc/source/index.rst ("Identity and Access Management",
    # "Image Management Service": iam./ims.eu-de and eu-nl.otc.t-systems.com); same hosts in ims_api.md section 0.
    KnownCloud('Open Telekom Cloud', 'https://iam.{region}.otc.t-systems.com/v3', 'https://ims.{region}.otc.t-systems.com',
               ('eu-de', 'eu-nl'), 'otc.t-systems.com'),
    # IAM: openstacksdk openstack/config/vendors/otc-swiss.json (iam-pub.eu-ch2.sc.otc.t-systems.com/v3). Service hosts
    # of the Swiss region are <service>.eu-ch2.sc.otc.t-systems.com (terraform-provider-opentelekomcloud
    # docs/guides/backends.md for obs); the IMS host follows that pattern (inferred: the catalog is asked first).
    KnownCloud('Open Telekom Cloud Swiss', 'https://iam-pub.eu-ch2.sc.otc.t-systems.com/v3',
               'https://ims.{region}.sc.otc.t-systems.com', ('eu-ch2',), 'sc.otc.t-systems.com'),
    # huaweicloud/huaweicloud-sdk-python-v3 huaweicloud-sdk-ims/huaweicloudsdkims/v2/region/ims_region.py (IMS) and
    # huaweicloud-sdk-iam/huaweicloudsdkiam/v3/region/iam_region.py (IAM, which lists only some regions; the others
    # follow the same iam.{region}.myhuaweicloud.com pattern, inferred).
    KnownCloud('Huawei Cloud', 'https://iam.{region}.myhuaweicloud.com/v3', 'https://ims.{region}.myhuaweicloud.com',
               ('af-south-1', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ae-ad-1',
                'cn-east-2', 'cn-east-3', 'cn-east-5', 'cn-north-1', 'cn-north-2', 'cn-north-4', 'cn-north-9',
                'cn-south-1', 'cn-south-2', 'cn-south-4', 'cn-southwest-2', 'eu-west-0', 'la-north-2', 'la-south-2',
                'me-east-1', 'my-kualalumpur-1', 'na-mexico-1', 'sa-brazil-1', 'tr-west-1'), 'myhuaweicloud.com'),
    # Same ims_region.py: eu-west-101 (Dublin) is served from myhuaweicloud.eu; its IAM is not listed there.
    KnownCloud('Huawei Cloud Europe', None, 'https://ims.{region}.myhuaweicloud.eu', ('eu-west-101',), 'myhuaweicloud.eu'),
    # Orange Flexible Engine: IAM and IMS hosts as used in public scripts and Terraform configurations for
    # eu-west-0 (iam./ims.eu-west-0.prod-cloud-ocb.orange-business.com); no vendor table was found (weakly sourced).
    KnownCloud('Orange Flexible Engine', 'https://iam.{region}.prod-cloud-ocb.orange-business.com/v3',
               'https://ims.{region}.prod-cloud-ocb.orange-business.com', ('eu-west-0',),
               'prod-cloud-ocb.orange-business.com'),
)


def _cloud_of_url(url: Optional[str]) -> Optional[KnownCloud]:
    """The known cloud whose hosts an URL (an auth_url) belongs to; the longest matching suffix wins."""
    if not url:
        return None
    try:
        host = (urlsplit(url).hostname or '').lower()
    except ValueError:
        return None
    matches = [cloud for cloud in KNOWN_CLOUDS if host == cloud.domain or host.endswith('.' + cloud.domain)]
    return max(matches, key=lambda cloud: len(cloud.domain)) if matches else None


def describe_known() -> str:
    """'Open Telekom Cloud: eu-de, eu-nl; ...' for messages."""
    return '; '.join('%s: %s' % (cloud.name, ', '.join(cloud.regions)) for cloud in KNOWN_CLOUDS)


def _clouds_for(region: str, auth_url: Optional[str]) -> List[KnownCloud]:
    own = _cloud_of_url(auth_url)
    if own is not None:
        return [own] if region in own.regions else []
    return [cloud for cloud in KNOWN_CLOUDS if region in cloud.regions]


def _one_cloud(region: Optional[str], auth_url: Optional[str], what: str) -> KnownCloud:
    if not region:
        raise IMSError('%s needs region_name (or OS_REGION_NAME), or ims_endpoint (or %s). Known regions: %s'
                       % (what, IMS_ENDPOINT_ENV, describe_known()))
    found = _clouds_for(region, auth_url)
    own = _cloud_of_url(auth_url)
    if not found:
        where = (' of %s (auth_url %s)' % (own.name, auth_url)) if own is not None else ''
        raise IMSError('region %r is not a known region%s, so the IMS endpoint cannot be derived from it: set ims_endpoint '
                       '(or %s) to the IMS URL of that region. Known regions: %s'
                       % (region, where, IMS_ENDPOINT_ENV, describe_known()))
    if len(found) > 1:
        raise IMSError('region %r exists on several clouds (%s): set auth_url to the IAM URL of yours, or ims_endpoint'
                       % (region, ', '.join(cloud.name for cloud in found)))
    return found[0]


def known_ims_endpoint(region: Optional[str], auth_url: Optional[str] = None) -> str:
    """The IMS base URL of a region from the table; auth_url (if given) says which cloud. IMSError if unknown."""
    cloud = _one_cloud(region, auth_url, 'finding the IMS endpoint without a catalog')
    return cloud.ims.format(region=region)


def known_iam_url(region: Optional[str]) -> Optional[str]:
    """The IAM v3 URL of a region from the table, or None when the region is not known or ambiguous."""
    if not region:
        return None
    found = _clouds_for(region, None)
    if len(found) != 1 or found[0].iam is None:
        return None
    return found[0].iam.format(region=region)


def catalog_of(body: Any) -> list:
    """The service list of IAM's GET /v3/auth/catalog answer ({"catalog": [...], "links": {...}}).

    Raises IMSError when the answer has no catalog list: a proxy page or another API answered.
    """
    catalog = body.get('catalog') if isinstance(body, dict) else None
    if not isinstance(catalog, list):
        raise IMSError('IAM answered GET /v3/auth/catalog without a "catalog" list', service='IAM')
    return [service for service in catalog if isinstance(service, dict)]


class AkskEndpoint:
    """The IMS endpoint of an AK/SK configuration without ims_endpoint, found once per client.

    Asks IAM's catalog with a signed GET /v3/auth/catalog (at auth_url, else at the region's known IAM), keeps the
    answer in the token cache (key: access key, region, IAM URL, interface) and falls back to the table.
    """

    def __init__(self, config: Any, cache: Any, log: Callable[[str], None]) -> None:
        self.config = config
        self._cache = cache
        self._log = log
        self._lock = threading.Lock()
        self._endpoint: Optional[str] = None
        self.iam_url = config.auth_url or known_iam_url(config.region_name)

    def cache_key(self) -> str:
        c = self.config
        parts = ['aksk-endpoint', c.access_key, c.region_name, self.iam_url, c.interface]
        return hashlib.sha256(json.dumps(parts).encode('utf-8')).hexdigest()

    def resolve(self, send: Callable[..., Any], select: Callable[[Any, str, Optional[str]], str]) -> str:
        """send is the transport's (signed) send; select picks the image endpoint of a catalog list."""
        if self._endpoint is None:
            with self._lock:
                if self._endpoint is None:
                    self._endpoint = self._cached() or self._discover(send, select)
        return self._endpoint

    def _cached(self) -> Optional[str]:
        record = self._cache.load(self.cache_key()) if self._cache is not None else None
        if record and record.get('token') == NO_TOKEN and record['expires_at'] > time.time() and record.get('endpoint'):
            self._log('using the IMS endpoint %s found in the catalog earlier' % record['endpoint'])
            return str(record['endpoint'])
        return None

    def _discover(self, send: Callable[..., Any], select: Callable[[Any, str, Optional[str]], str]) -> str:
        c = self.config
        problem = 'no IAM URL is known for it (set auth.auth_url)'
        if self.iam_url:
            try:
                response = send('GET', self.iam_url + CATALOG_PATH, None, ok=(200,), idempotent=True, service='IAM')
                endpoint = select(catalog_of(response_json(response, 'IAM')), c.interface, c.region_name)
            except IMSError as err:
                problem = str(err)
            else:
                if self._cache is not None:
                    now = time.time()
                    self._cache.store(self.cache_key(), {'token': NO_TOKEN, 'issued_at': now, 'project_id': c.project_id,
                                                         'expires_at': now + CATALOG_CACHE_SECONDS, 'endpoint': endpoint})
                self._log('IAM catalog: the IMS endpoint of %s is %s' % (c.region_name, endpoint))
                return endpoint
        try:
            endpoint = known_ims_endpoint(c.region_name, c.auth_url)
        except IMSError as err:
            raise IMSError("IAM's catalog could not tell the IMS endpoint of region %r (%s), and %s"
                           % (c.region_name, problem, err.message))
        self._log('the IMS endpoint of %s is %s (table of known regions; the catalog: %s)'
                  % (c.region_name, endpoint, problem))
        return endpoint
