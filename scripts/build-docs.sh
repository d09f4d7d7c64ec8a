#!/usr/bin/env bash
# Generate the module reference under docs/modules/ from the modules' DOCUMENTATION/EXAMPLES/RETURN (antsibull-docs).
#   ./scripts/build-docs.sh          regenerate docs/modules/
#   ./scripts/build-docs.sh --check  fail when docs/modules/ is not what the code generates
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_venv
export PATH="$VENV/bin:$PATH"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
make_collection_link_tree "$TMP/tree"
mkdir -p "$TMP/out"
chmod 700 "$TMP/out"
ANSIBLE_COLLECTIONS_PATH="$TMP/tree" "$VENV/bin/antsibull-docs" collection --use-current --squash-hierarchy \
  --output-format simplified-rst --dest-dir "$TMP/out" imscloud.sharing >/dev/null
if [ "${1:-}" = "--check" ]; then
  if ! diff -ru docs/modules "$TMP/out"; then
    echo "docs/modules/ is out of date: run ./scripts/build-docs.sh and commit the result" >&2
    exit 1
  fi
  echo "docs/modules/ is up to date"
else
  rm -rf docs/modules
  cp -r "$TMP/out" docs/modules
  chmod 755 docs/modules
  echo "wrote docs/modules/"
fi
