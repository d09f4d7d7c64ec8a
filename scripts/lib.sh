# Shared by scripts/demo.sh and scripts/test.sh (sourced, not run).
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"

# A real interpreter, not a pyenv shim: ansible picks interpreters by path.
find_python() {
  local candidate="${PYTHON:-python3}"
  "$candidate" -c 'import sys; print(sys.executable)'
}

# Create (or refresh when requirements-dev.txt changed) the project venv with every tool pinned.
ensure_venv() {
  local stamp="$VENV/.requirements-dev.sha256" want
  want="$(sha256sum "$ROOT/requirements-dev.txt" | cut -d' ' -f1)"
  if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  echo "== setting up $VENV (pinned tools from requirements-dev.txt)"
  [ -x "$VENV/bin/python" ] || "$(find_python)" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/requirements-dev.txt" 2>&1 | grep -v '^WARNING: Location' || true
  "$VENV/bin/python" -c 'import ansible, requests, werkzeug, yaml' # fail loudly when the install failed
  echo "$want" > "$stamp"
}

# A tree where ansible finds this checkout as imscloud.sharing (symlink: for ansible-playbook, ansible-doc, lint).
make_collection_link_tree() {
  local tree="$1"
  mkdir -p "$tree/ansible_collections/imscloud"
  ln -sfn "$ROOT" "$tree/ansible_collections/imscloud/sharing"
}
