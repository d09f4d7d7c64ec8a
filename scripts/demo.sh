#!/usr/bin/env bash
# The demo: start the embedded IMS + IAM emulator on a free 127.0.0.1 port with the demo seed, run
# playbooks/demo.yml against it (an owner shares images through both modules, the recipients accept), print a summary,
# and stop the emulator on exit, also after a failure. Extra arguments go to ansible-playbook (e.g. --diff, -v).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_venv

WORK="$(mktemp -d "${TMPDIR:-/tmp}/imscloud-demo.XXXXXX")"
PIDFILE="$WORK/emulator.pid"
cleanup() {
  "$VENV/bin/python" tests/emulator/harness.py stop --pidfile "$PIDFILE" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

URL="$("$VENV/bin/python" tests/emulator/harness.py start --seed tests/emulator/seeds/demo.yml \
  --pidfile "$PIDFILE" --max-lifetime 900)"
echo "emulator (IMS + IAM) listening on $URL"

make_collection_link_tree "$WORK/tree"
# A private token cache, so that the demo shows the cache at work without touching the user's own.
export IMSCLOUD_SHARING_CACHE_DIR="$WORK/token-cache"
export ANSIBLE_COLLECTIONS_PATH="$WORK/tree" ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_NOCOLOR="${ANSIBLE_NOCOLOR:-}"
"$VENV/bin/ansible-playbook" -i playbooks/inventory.ini playbooks/demo.yml -e "ims_demo_url=$URL" "$@"
