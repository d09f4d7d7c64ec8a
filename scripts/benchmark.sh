#!/usr/bin/env bash
# The performance benchmark (issue #9): starts the emulator on 127.0.0.1 with the issue's latency profile (IAM token
# 300 ms, IMS request 40 ms, batch job 2 s), runs every scenario through real ansible-playbook runs, prints the table,
# and writes docs/performance.md (raw results: tests/benchmarks/results/latest.json). The emulator is stopped on exit.
#
#   ./scripts/benchmark.sh                        the full run, ~15 min on 2 CPUs (10 of them: scenario 4's 1000 uri items)
#   ./scripts/benchmark.sh --baseline-sample 5    quick: the loop scenarios 3, 4 and 6u on 5 images, extrapolated
#   ./scripts/benchmark.sh --help                 every option
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_venv
export ANSIBLE_NOCOLOR=1
"$VENV/bin/python" tests/benchmarks/benchmark.py "$@"
