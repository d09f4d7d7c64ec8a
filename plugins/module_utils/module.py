# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

# The shared argument spec and IMSModule, the base class of every module.
#
#   class ImageMemberModule(IMSModule):
#       argument_spec = dict(image=dict(required=True), ...)
#       module_kwargs = dict(mutually_exclusive=[...])
#       def run(self) -> dict:
#           ...self.params, self.check_mode, self.client...
#           return dict(changed=..., ...)
#
#   def main():
#       ImageMemberModule()()

import copy
import sys
import traceback
from importlib import import_module
from typing import Any, Dict, Optional

from ansible.module_utils import basic as _basic
from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.imscloud.sharing.plugins.module_utils.config import (
    INTERFACES,
    ConnectionConfig,
    resolve_connection,
)
from ansible_collections.imscloud.sharing.plugins.module_utils.client import IMSClient
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import scrub
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import secret_forms
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import AUTH_KEYS
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import AUTH_TYPE_ALIASES
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import AUTH_TYPES
from ansible_collections.imscloud.sharing.plugins.module_utils.sources import NO_LOG_AUTH_KEYS
from ansible_collections.imscloud.sharing.plugins.module_utils.trace import RequestTrace, resolve_trace

try:
    import_module('requests')
except ImportError:
    REQUESTS_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    REQUESTS_IMPORT_ERROR = None

# Keys of IMSError.details that cannot go into the result next to msg and error (Ansible sets or interprets them).
_RESERVED_RESULT_KEYS = frozenset(('msg', 'error', 'failed', 'invocation', 'warnings', 'deprecations'))
# A result list longer than this is encoded this many items at a time (see SecretMaskingModule._record_module_result).
RESULT_CHUNK_ITEMS = 2000


def _result_encoder() -> Any:
    """The JSON encoder class ansible-core (2.19 and later) encodes a module result with; None where it has none."""
    codec = getattr(_basic, '_json', None)
    direction = getattr(getattr(codec, 'Direction', None), 'MODULE_TO_CONTROLLER', None)
    if codec is None or direction is None or not hasattr(codec, 'get_module_encoder'):
        return None
    return codec.get_module_encoder(getattr(_basic, '_ANSIBLE_PROFILE', None), direction)


def write_result(result: Dict[str, Any], encoder: Any, write: Any) -> None:
    """Write '\\n' + the JSON of result + '\\n' in pieces: each top-level value on its own, long lists a chunk at a
    time. The text parses to the same result as json.dumps(result, cls=encoder); at 100 000 pairs the one-piece text
    and its copies would cost ~75 MB at the module's peak, the pieces a few."""
    encode = encoder().encode
    write('\n{')
    for index, (key, value) in enumerate(result.items()):
        write('%s%s: ' % (', ' if index else '', encode(key)))
        if type(value) is list and len(value) > RESULT_CHUNK_ITEMS:  # pylint: disable=unidiomatic-typecheck
            write('[')
            for start in range(0, len(value), RESULT_CHUNK_ITEMS):
                # each chunk is a JSON list: its items without the brackets
                write('%s%s' % (', ' if start else '', encode(value[start:start + RESULT_CHUNK_ITEMS])[1:-1]))
            write(']')
        else:
            write(encode(value))
    write('}\n')


def _auth_suboptions() -> Dict[str, Dict[str, Any]]:
    return {key: dict(type='str', no_log=True) if key in NO_LOG_AUTH_KEYS else dict(type='str') for key in AUTH_KEYS}


def connection_argument_spec() -> Dict[str, Any]:
    """The connection options shared by every module (documented by the imscloud.sharing.connection fragment).

    Options that a cloud entry or the environment can also set have no default here, so that resolve_connection()
    can tell an explicit value from an absent one; their effective defaults are applied there.
    """
    return dict(
        cloud=dict(type='raw'),
        # Only the secrets inside auth are no_log: masking the whole dict would also mask the project id, user
        # and domain names wherever they appear in results.
        auth=dict(type='dict', options=_auth_suboptions()),
        auth_type=dict(type='str', choices=list(AUTH_TYPES) + sorted(AUTH_TYPE_ALIASES)),
        region_name=dict(type='str'),
        interface=dict(type='str', choices=list(INTERFACES), aliases=['endpoint_type']),
        ims_endpoint=dict(type='str'),
        validate_certs=dict(type='bool', aliases=['verify']),
        ca_cert=dict(type='path', aliases=['cacert']),
        client_cert=dict(type='path', aliases=['cert']),
        client_key=dict(type='path', aliases=['key'], no_log=False),   # a file name, not the key itself
        api_timeout=dict(type='int'),
        token_cache=dict(type='bool', default=True, no_log=False),
        retries=dict(type='int', default=5),
        allow_insecure_http=dict(type='bool', default=False),
        trace=dict(type='bool'),
        trace_path=dict(type='path'),
    )


def wait_argument_spec() -> Dict[str, Any]:
    """wait/timeout for modules that start asynchronous jobs (the imscloud.sharing.connection.wait fragment)."""
    return dict(
        wait=dict(type='bool', default=True),
        timeout=dict(type='int', default=300),
    )


def param_secrets(params: Dict[str, Any]) -> list:
    """The secret values given in the module's own arguments: auth and a cloud dict's auth."""
    found = []
    for holder in (params.get('auth'), (params.get('cloud') or {}).get('auth') if isinstance(params.get('cloud'), dict)
                   else None):
        if isinstance(holder, dict):
            found.extend(holder.get(key) for key in NO_LOG_AUTH_KEYS)
    return [value for value in found if isinstance(value, str) and value]


class SecretMaskingModule(AnsibleModule):
    """AnsibleModule that knows every form of every secret before ansible-core logs the invocation to syslog.

    ansible-core writes 'Invoked with ...' from AnsibleModule.__init__, masking only the raw no_log values inside
    str() of each option: a cloud dict's password, or any secret in its repr-escaped form (a backslash doubled),
    would reach syslog/journald. before_log() resolves the connection there, so that secrets read from clouds.yaml
    or the environment are masked from the first line on too.
    """

    def __init__(self, *args: Any, before_log: Any = None, **kwargs: Any) -> None:
        self._before_log = before_log
        super().__init__(*args, **kwargs)

    def hide(self, values: Any) -> None:
        for value in values:
            if isinstance(value, str) and value:
                self.no_log_values.update(secret_forms(value))

    def _log_invocation(self) -> None:
        self.hide(param_secrets(self.params))
        if self._before_log is not None:
            self._before_log(self)
        super()._log_invocation()

    def _record_module_result(self, o: Dict[str, Any]) -> None:
        # ansible-core 2.19+ prints the result (already masked by remove_values) as one JSON text; write the same
        # JSON in pieces instead. Older ansible-core never calls this method.
        encoder = _result_encoder()
        if encoder is None:
            super()._record_module_result(o)  # type: ignore[misc]  # pylint: disable=no-member
            return
        write_result(o, encoder, sys.stdout.write)
        sys.stdout.flush()


class IMSModule:
    """Base class of every module: subclasses set argument_spec / module_kwargs and implement run().

    Calling the instance builds the AnsibleModule, resolves and validates the connection (before any request),
    calls run() and exits with its result. An IMSError becomes fail_json(msg=str(err), error=err.to_dict(),
    **err.details).
    """

    argument_spec: Dict[str, Any] = {}
    module_kwargs: Dict[str, Any] = {}
    # The client the module talks through; a test sets another class with the same constructor here.
    client_class: type = IMSClient

    def __init__(self) -> None:
        self.module: AnsibleModule = None  # type: ignore[assignment]  # set by __call__
        self.connection: Optional[ConnectionConfig] = None
        self._client: Optional[IMSClient] = None
        # the request trace of this run (trace.py); off unless trace, $IMSCLOUD_SHARING_TRACE or -vvv say otherwise
        self.trace = RequestTrace()

    @property
    def params(self) -> Dict[str, Any]:
        return self.module.params

    @property
    def check_mode(self) -> bool:
        return self.module.check_mode

    @property
    def client(self) -> IMSClient:
        """The one IMSClient of this run, created on first use (so bad input never costs a request)."""
        if self._client is None:
            if self.connection is None:
                self.connection = resolve_connection(self.module.params)
            self._client = self.client_class(self.connection, warn=self.module.warn, log=self.module.debug,
                                             trace=self.trace)
        return self._client

    def run(self) -> Dict[str, Any]:
        raise NotImplementedError('%s must implement run()' % type(self).__name__)

    def build_module(self) -> AnsibleModule:
        spec = connection_argument_spec()
        spec.update(copy.deepcopy(self.argument_spec))
        kwargs: Dict[str, Any] = dict(supports_check_mode=True)
        kwargs.update(copy.deepcopy(self.module_kwargs))
        return SecretMaskingModule(argument_spec=spec, before_log=self._resolve_early, **kwargs)

    def _resolve_early(self, module: SecretMaskingModule) -> None:
        """Resolve the connection before the invocation is logged, to mask its secrets there; a failure is
        reported later, by __call__, through the IMSError path."""
        try:
            self.connection = resolve_connection(module.params)
        except Exception:  # pylint: disable=broad-except
            self.connection = None
        else:
            module.hide(self.connection.secrets())

    def _hide_secrets(self, values: Any) -> None:
        # Output is masked for these values in every form (e.g. the password of a cloud dict, not a no_log option).
        for value in values:
            if isinstance(value, str) and value:
                self.module.no_log_values.update(secret_forms(value))

    def fail(self, err: IMSError) -> None:
        details = {key: value for key, value in err.details.items() if key not in _RESERVED_RESULT_KEYS}
        details.update(self.trace.result())
        self.module.fail_json(msg=str(err), error=err.to_dict(), **details)

    def _unexpected(self, exc: Exception) -> IMSError:
        """An exception that is not an IMSError (a bug, or a library's ValueError) as an IMSError, scrubbed."""
        secrets = param_secrets(self.module.params) + (self.connection.secrets() if self.connection else [])
        text = scrub('%s: %s' % (type(exc).__name__, exc), secrets)
        trace = scrub(traceback.format_exc(), secrets)
        return IMSError('unexpected error (please report it with the exception shown with -vvv): %s' % text,
                        details={'exception': trace})

    def __call__(self) -> None:
        self.module = self.build_module()
        self._hide_secrets(param_secrets(self.module.params))
        if REQUESTS_IMPORT_ERROR is not None:
            self.module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
        try:
            try:
                if self.connection is None:   # resolved before the invocation was logged, unless that failed
                    self.connection = resolve_connection(self.module.params)
                self._hide_secrets(self.connection.secrets())
                self.trace = RequestTrace(*resolve_trace(self.module.params, verbosity=self.module._verbosity))
                for warning in self.connection.warnings:
                    self.module.warn(warning)
                result = self.run()
            except IMSError:
                raise
            except Exception as exc:  # pylint: disable=broad-except
                raise self._unexpected(exc)
        except IMSError as err:
            self.fail(err)
        else:
            self.module.exit_json(**dict(result, **self.trace.result()))
