# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:

    # imscloud.sharing.connection: the connection options of every module.
    DOCUMENTATION = r'''
options:
  cloud:
    description:
      - Name of a cloud in C(clouds.yaml), or a complete cloud entry given as a dict (the same keys as an entry of
        C(clouds.yaml)).
      - A name is looked up in the first C(clouds.yaml) found (see the notes); C(secure.yaml) values are merged into it.
      - A dict cannot be combined with O(auth), O(auth_type), O(region_name), O(interface), O(validate_certs),
        O(ca_cert), O(client_cert), O(client_key) or O(api_timeout); put the equivalent keys into the dict instead
        (C(auth), C(auth_type), C(region_name), C(interface), C(verify), C(cacert), C(cert), C(key), C(api_timeout)).
      - When not set, the environment variable E(OS_CLOUD) selects the cloud.
      - The keys of an entry are those of openstacksdk. C(auth_type) may be C(password), C(v3password), C(token),
        C(v3token) or C(aksk); C(tenant_id) and C(tenant_name) are accepted in C(auth) as old names of C(project_id)
        and C(project_name); when C(region_name) is missing, the first entry of C(regions) is used.
    type: raw
  auth:
    description:
      - Credentials and scope.
      - Every key can also come from the cloud entry (O(cloud)) or from an E(OS_*) environment variable, named next
        to each key.
      - Password authentication needs O(auth.auth_url), O(auth.password), O(auth.username) with its domain (or
        O(auth.user_id)) and a project (O(auth.project_id), or O(auth.project_name) with its domain).
      - Token authentication needs O(auth.auth_url), O(auth.token) and a project.
      - AK/SK authentication needs O(auth.access_key), O(auth.secret_key) and O(auth.project_id).
    type: dict
    suboptions:
      auth_url:
        description:
          - URL of the identity service (OTC IAM or Keystone), for example V(https://iam.eu-de.otc.t-systems.com/v3).
          - C(/v3) is appended when the URL does not end with it. Not used with AK/SK.
          - Environment variable E(OS_AUTH_URL).
        type: str
      username:
        description:
          - User name. Needs the user's domain (O(auth.user_domain_name), O(auth.user_domain_id) or O(auth.domain_name)).
          - Environment variable E(OS_USERNAME).
        type: str
      user_id:
        description:
          - User ID, instead of O(auth.username).
          - Environment variable E(OS_USER_ID).
        type: str
      password:
        description:
          - Password.
          - Environment variable E(OS_PASSWORD).
        type: str
      user_domain_name:
        description:
          - Name of the user's domain (on OTC, the account name).
          - Environment variable E(OS_USER_DOMAIN_NAME).
        type: str
      user_domain_id:
        description:
          - ID of the user's domain.
          - Environment variable E(OS_USER_DOMAIN_ID).
        type: str
      domain_name:
        description:
          - Domain of the user and of the project when O(auth.user_domain_name)/O(auth.user_domain_id) and
            O(auth.project_domain_name)/O(auth.project_domain_id) are not set (what the AWX OpenStack credential
            writes).
          - Environment variable E(OS_DOMAIN_NAME).
        type: str
      project_id:
        description:
          - ID of the project to work in. Required with AK/SK.
          - Environment variables E(OS_PROJECT_ID), then E(OS_TENANT_ID).
        type: str
      project_name:
        description:
          - Name of the project (on OTC, a region name such as V(eu-de) or V(eu-de_subproject)), instead of
            O(auth.project_id). Needs the project's domain.
          - Environment variables E(OS_PROJECT_NAME), then E(OS_TENANT_NAME).
        type: str
      project_domain_name:
        description:
          - Name of the project's domain.
          - Environment variable E(OS_PROJECT_DOMAIN_NAME).
        type: str
      project_domain_id:
        description:
          - ID of the project's domain.
          - Environment variable E(OS_PROJECT_DOMAIN_ID).
        type: str
      token:
        description:
          - An existing token, used to obtain a token scoped to the project.
          - Environment variables E(OS_TOKEN), then E(OS_AUTH_TOKEN).
        type: str
      access_key:
        description:
          - Access key (AK) for AK/SK request signing.
          - Environment variable E(OS_ACCESS_KEY).
        type: str
      secret_key:
        description:
          - Secret key (SK) for AK/SK request signing.
          - Environment variable E(OS_SECRET_KEY).
        type: str
      security_token:
        description:
          - Security token of temporary AK/SK credentials.
          - Environment variable E(OS_SECURITY_TOKEN).
        type: str
  auth_type:
    description:
      - How to authenticate. V(v3password) and V(v3token) are synonyms of V(password) and V(token).
      - When not set (here, in the cloud entry or in E(OS_AUTH_TYPE)), it follows from the credential given
        (password, token, or access key and secret key); giving two kinds of credential in the same place fails.
    type: str
    choices: [password, token, aksk, v3password, v3token]
  region_name:
    description:
      - Region, used to choose the IMS endpoint in the service catalog.
      - With AK/SK and no O(ims_endpoint), the endpoint is C(https://ims.{region_name}.otc.t-systems.com).
      - Environment variable E(OS_REGION_NAME).
    type: str
  interface:
    description:
      - Which endpoint of the service catalog to use. Defaults to V(public) when neither the cloud entry nor
        E(OS_INTERFACE) sets it.
    type: str
    choices: [public, internal, admin]
    aliases: [endpoint_type]
  ims_endpoint:
    description:
      - Base URL of IMS (no version suffix), for example V(https://ims.eu-de.otc.t-systems.com); overrides the
        service catalog. Must be an C(http) or C(https) URL.
    type: str
  validate_certs:
    description:
      - Whether to verify TLS certificates. Defaults to V(true) when the cloud entry (C(verify)) does not set it.
      - When it is V(false), every run warns that certificates are not verified.
    type: bool
    aliases: [verify]
  ca_cert:
    description:
      - CA bundle used to verify TLS certificates. The file must exist. Ignored when O(validate_certs=false).
      - Environment variable E(OS_CACERT).
    type: path
    aliases: [cacert]
  client_cert:
    description:
      - Client certificate file for TLS client authentication.
      - Environment variable E(OS_CERT).
    type: path
    aliases: [cert]
  client_key:
    description:
      - Key file of O(client_cert), when the certificate file does not contain it.
      - Environment variable E(OS_KEY).
    type: path
    aliases: [key]
  api_timeout:
    description:
      - Timeout of each HTTP request, in seconds. Defaults to 30 when the cloud entry does not set it.
    type: int
  token_cache:
    description:
      - Keep tokens in a private on-disk cache and reuse them until shortly before they expire (see the notes).
    type: bool
    default: true
  retries:
    description:
      - How many times a request is retried after a throttling answer (429), a 5xx answer or a connection error.
        Requests that change something are retried only when they cannot have been applied, or when repeating them
        is harmless.
    type: int
    default: 5
  allow_insecure_http:
    description:
      - Send the token over plain C(http) to an IMS endpoint (from O(ims_endpoint) or the service catalog) although
        it was obtained from an C(https) O(auth.auth_url).
      - By default such a request is refused before it is sent, naming the endpoint, because anyone on the network
        path could read and reuse the token. Set it only for a lab whose endpoints have no TLS.
      - AK/SK requests are not affected (they carry a signature of the one request, no reusable credential).
    type: bool
    default: false
requirements:
  - requests
notes:
  - "Precedence: options set in the task win over the cloud entry (O(cloud) or E(OS_CLOUD)), which wins over the
    E(OS_*) environment variables. Alternative settings are taken together from the first place that sets one of
    them: O(auth.username)/O(auth.user_id), O(auth.user_domain_name)/O(auth.user_domain_id),
    O(auth.project_id)/O(auth.project_name), O(auth.project_domain_name)/O(auth.project_domain_id), and the
    credential (O(auth.password); O(auth.token); O(auth.access_key), O(auth.secret_key) and O(auth.security_token))."
  - "The kind of credential comes from the first place that sets O(auth_type) or holds a credential; credentials of
    another kind in a lower place are ignored (for example an E(OS_PASSWORD) left in the environment when the task
    gives O(auth.token)). Empty values count as not set."
  - "C(clouds.yaml) is looked up in this order, and the first file found is used: E(OS_CLIENT_CONFIG_FILE),
    C(./clouds.yaml), C(~/.config/openstack/clouds.yaml), C(/etc/openstack/clouds.yaml). C(secure.yaml) is looked up
    the same way (E(OS_CLIENT_SECURE_FILE) first) and its entry for the cloud is merged over the C(clouds.yaml) entry.
    The C(clouds.yaml) written by the AWX OpenStack credential (cloud C(devstack)) works as is."
  - "Tokens are cached in E(IMSCLOUD_SHARING_CACHE_DIR), else C($XDG_CACHE_HOME/imscloud.sharing), else
    C(~/.cache/imscloud.sharing). The directory is created with mode 0700 and not used when it is group- or
    world-writable or owned by another user; cache files are written atomically with mode 0600 and ignored (with a
    warning) when they are corrupt, readable by others or owned by another user. A file name is a hash of the
    identity, the scope and the credential; a file holds the token, its expiry, the project ID and the service
    catalog, never the password or keys. Concurrent runs take a file lock so that only one of them requests a new token."
  - "Every option is checked before the first request: conflicting or missing settings fail with a message that names
    them and what is allowed."
  - "When a task fails, its result has C(msg) (one line, with what to do about it where that is known) and C(error),
    a dictionary with C(status) (the HTTP status, null for an error found before any request), C(code) (the service's
    error code, such as C(IMG.0088), C(APIGW.0301) or C(IAM.0012)), C(message), C(request_id), C(method) and C(url).
    Module-specific facts (for example C(job_id), C(fail_reason), C(applied) and C(not_applied)) stand beside them."
'''

    # imscloud.sharing.connection.wait: for modules that start asynchronous jobs.
    WAIT = r'''
options:
  wait:
    description:
      - Wait until the asynchronous job has finished. With V(false), the module returns the job ID right away.
    type: bool
    default: true
  timeout:
    description:
      - How long to wait for the job, in seconds.
    type: int
    default: 300
'''
