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

# Extra venvs for tools the project venv does not pin (other ansible-core versions, pandoc, ansible-runner). They live
# in $EXTRA_VENVS (git-ignored, never in the tarball) and are reused while their package list is unchanged.
EXTRA_VENVS="${IMS_EXTRA_VENVS:-$ROOT/.venvs}"

# ensure_extra_venv NAME PYTHON PACKAGE==VERSION...: create or refresh $EXTRA_VENVS/NAME; prints its path.
ensure_extra_venv() {
  local dir="$EXTRA_VENVS/$1" python="$2" version want
  shift 2
  version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" || return 1
  want="$* (python $version)"
  if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.packages" 2>/dev/null)" = "$want" ]; then
    echo "$dir"
    return 0
  fi
  echo "== setting up $dir: $want" >&2
  rm -rf "$dir"
  "$python" -m venv "$dir" >&2 || return 1
  if ! "$dir/bin/pip" install -q --disable-pip-version-check "$@" >"$dir/.install.log" 2>&1; then
    grep -v '^WARNING: Location' "$dir/.install.log" >&2
    return 1
  fi
  echo "$want" > "$dir/.packages"
  echo "$dir"
}

# The first interpreter of the given versions (e.g. 3.13 3.12) found, as a real path: on PATH, else among pyenv's
# installed versions (its shims fail for a version that is not selected, so they are not enough).
find_python_version() {
  local version candidate
  for version in "$@"; do
    for candidate in "python$version" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/"python$version"; do
      if "$candidate" -c 'import sys' >/dev/null 2>&1; then
        "$candidate" -c 'import sys; print(sys.executable)'
        return 0
      fi
    done
  done
  return 1
}
