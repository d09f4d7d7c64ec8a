# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin of every module of the collection.

It runs the module exactly like ansible.builtin.normal does, with one difference: the module arguments are handed
to ansible-core in a dict that prints with its secrets masked. With ANSIBLE_DEBUG=1, ansible-core writes the
arguments of each module it ran to the debug output ("done with _execute_module (<name>, <args>)"), no_log options
included. For our modules that line masks them as the invocation result does (VALUE_SPECIFIED_IN_NO_LOG_PARAMETER,
or ******** inside another value). The module still receives the real values: its payload is JSON-encoded from the
dict's items, not from its repr.
"""
from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

from ansible_collections.imscloud.sharing.plugins.module_utils.sources import NO_LOG_AUTH_KEYS


def secret_values(args: Any) -> set[str]:
    """The values of the no_log auth keys anywhere in the arguments (auth, and the auth of a cloud dict)."""
    found: set[str] = set()
    if isinstance(args, Mapping):
        for key, value in args.items():
            if key in NO_LOG_AUTH_KEYS and isinstance(value, str) and value:
                found.add(value)
            else:
                found |= secret_values(value)
    elif isinstance(args, (list, tuple)):
        for item in args:
            found |= secret_values(item)
    return found


class ArgsWithMaskedRepr(dict):
    """Module arguments whose str() and repr() mask every secret value, also inside other values."""

    def masked(self) -> Any:
        return remove_values(dict(self), secret_values(self))

    def __repr__(self) -> str:
        try:
            return repr(self.masked())
        except Exception:  # pylint: disable=broad-exception-caught  # a debug line must never fail the task
            return '{%s}' % ', '.join('%r: <not shown>' % (key,) for key in self)

    __str__ = __repr__


@contextmanager
def collection_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the block, back on after it (if it was on).

    Building a module's payload parses every module_utils file it imports into a syntax tree, in a worker process
    forked from ansible-playbook with its whole heap: every collection those allocations trigger walks that heap
    (measured on a 2-core machine: 0.35 s of the 0.7 s this collection's payload took to build, and more again to
    decode a large result). Syntax trees and JSON results hold no reference cycles, so nothing waits for the
    collector that reference counting does not free at once; cycles made meanwhile are collected after the block.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class ModuleAction(ActionBase):
    """Runs the module of the same name, as ansible.builtin.normal would, with ArgsWithMaskedRepr arguments."""

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp  # no longer has any effect
        wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
        module_args = ArgsWithMaskedRepr(self._task.args)
        with collection_paused():
            outcome = self._execute_module(module_args=module_args, task_vars=task_vars, wrap_async=wrap_async)
        result = merge_hash(result, outcome)
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
