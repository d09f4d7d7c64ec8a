# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one module in this process the way Ansible's module runner does, and time its phases.

    python bench_module_timer.py MODULE_FQN ARGS_FILE TIMINGS_FILE

ARGS_FILE holds {"ANSIBLE_MODULE_ARGS": {...}}, which AnsibleModule reads from the command line. The module's
JSON result goes to stdout as usual; the phase timings (seconds, wall and CPU) go to TIMINGS_FILE:
  framework  import ansible.module_utils.basic (Ansible's module framework; part of Ansible's start-up)
  imports    import the module (the collection's module_utils, requests)
  run        main(): argument validation, connection, token cache, requests, exit_json
"""
import time

WALL_START = time.perf_counter()
CPU_START = time.process_time()

# pylint: disable=wrong-import-position
import json  # noqa: E402
import sys  # noqa: E402


def main():
    module_name, args_file, timings_file = sys.argv[1:4]
    marks = [('start', WALL_START, CPU_START)]
    # __import__ (not importlib.import_module) so that python -X importtime logs these imports too
    __import__('ansible.module_utils.basic')
    marks.append(('framework', time.perf_counter(), time.process_time()))
    module = __import__(module_name, fromlist=['main'])
    marks.append(('imports', time.perf_counter(), time.process_time()))
    sys.argv = [module_name, args_file]
    exit_code = 0
    try:
        module.main()
    except SystemExit as exc:
        exit_code = exc.code or 0
    marks.append(('run', time.perf_counter(), time.process_time()))
    timings = {'exit_code': exit_code}
    for (_name, wall, cpu), (name, next_wall, next_cpu) in zip(marks, marks[1:]):
        timings[name] = {'wall': next_wall - wall, 'cpu': next_cpu - cpu}
    with open(timings_file, 'w') as handle:
        json.dump(timings, handle)
    return exit_code


if __name__ == '__main__':
    sys.exit(main())
