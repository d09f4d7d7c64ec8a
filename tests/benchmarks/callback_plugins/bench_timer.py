# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Records when each task starts and when its last result arrives (epoch seconds) into $BENCH_TIMING_FILE."""
from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
name: bench_timer
type: aggregate
short_description: task timings for the imscloud.sharing benchmark
description:
  - Writes the start time, the time of the last result, and the number of results (and of changed results) of
    every task to the JSON file named by the environment variable BENCH_TIMING_FILE, with the message of each
    failed result.
requirements:
  - enabled in callbacks_enabled
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_timer'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.playbook_start = time.time()
        self.tasks = []

    def v2_playbook_on_start(self, playbook):
        self.playbook_start = time.time()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.tasks.append({'name': task.get_name(), 'start': time.time(), 'end': None, 'results': 0, 'changed': 0,
                           'failed': 0})

    def _record(self, result, failed=False, message=None):
        if self.tasks:
            task = self.tasks[-1]
            task['end'] = time.time()
            task['results'] += 1
            task['changed'] += int(bool(result._result.get('changed')))
            task['failed'] += int(failed)
            if message is not None:
                # the failure's message (an ignored one too): the runner tells a missing option from a broken run
                task.setdefault('messages', []).append(str(message)[:1000])

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_on_skipped(self, result):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, failed=not ignore_errors, message=result._result.get('msg', ''))

    def v2_runner_on_unreachable(self, result):
        self._record(result, failed=True)

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get('BENCH_TIMING_FILE')
        if not path:
            return
        with open(path, 'w') as handle:
            json.dump({'playbook_start': self.playbook_start, 'playbook_end': time.time(), 'tasks': self.tasks}, handle)
