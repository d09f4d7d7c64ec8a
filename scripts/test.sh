#!/usr/bin/env bash
# Run every test of imscloud.sharing: ansible-test sanity, units and integration (against the emulator, and the native
# targets against a real Keystone + Glance), the linters, the docs check, the build, then pytest (its summary is the
# last line).
#
#   ./scripts/test.sh                 everything (what CI runs)
#   ./scripts/test.sh sanity units    only the named stages
#
# Stages: sanity units integration real lint docs build matrix pytest
# Environment: PYTHON (interpreter for the venv), IMS_SKIP_REAL=1 (skip the real Glance stage outside CI).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

ALL_STAGES=(sanity units integration real lint docs build matrix pytest)
if [ "$#" -gt 0 ]; then STAGES=("$@"); else STAGES=("${ALL_STAGES[@]}"); fi
want() { local s; for s in "${STAGES[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
for s in "${STAGES[@]}"; do
  case " ${ALL_STAGES[*]} " in *" $s "*) ;; *) echo "unknown stage '$s'; stages: ${ALL_STAGES[*]}" >&2; exit 2 ;; esac
done

ensure_venv
export PATH="$VENV/bin:$PATH"
PY="$VENV/bin/python"
PYVER="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
export ANSIBLE_NOCOLOR=1 PYTHONDONTWRITEBYTECODE=1

WORK="$(mktemp -d "${TMPDIR:-/tmp}/imscloud-test.XXXXXX")"
export IMSCLOUD_SHARING_CACHE_DIR="$WORK/token-cache"
EMU_PIDFILE="$WORK/emulator.pid"
REAL_DIR="$WORK/real-openstack"
REAL_LOG="$WORK/real-openstack.log"
REAL_BG_PID=""
cleanup() {
  set +e
  [ -n "$REAL_BG_PID" ] && wait "$REAL_BG_PID" 2>/dev/null
  [ -d "$REAL_DIR" ] && tests/real_openstack/stop.sh "$REAL_DIR" >/dev/null 2>&1
  [ -f "$EMU_PIDFILE" ] && "$PY" tests/emulator/harness.py stop --pidfile "$EMU_PIDFILE" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
stage() { printf '\n== [%4ss] %s\n' "$SECONDS" "$*"; }
# Every stage runs even when an earlier one failed, so one CI run shows every problem; the exit code is 1 if any failed.
FAILED=()
run() {
  local name="$1"; shift
  if ! "$@"; then FAILED+=("$name"); echo "!! stage failed: $name" >&2; fi
}

# The real Keystone + Glance takes about a minute to install and start: start it now, in the background.
if want real; then
  if [ -n "${CI:-}" ] || [ -z "${IMS_SKIP_REAL:-}" ]; then
    stage "starting a real Keystone + Glance in the background (log: $REAL_LOG)"
    PYTHON="$(find_python)" tests/real_openstack/start.sh "$REAL_DIR" >"$REAL_LOG" 2>&1 &
    REAL_BG_PID=$!
  fi
fi

# ansible-test builds venvs --without-pip and then downloads get-pip from a non-PyPI host: give it a stand-in
# (install_pip_shim PYTHON: for the ansible-test of that interpreter's ansible-core).
install_pip_shim() {
  local pipver
  pipver="$("$1" - <<'PY'
import os
import re
import ansible_test
src = open(os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')).read()
print(re.search(r"pip='([0-9.]+)'", src).group(1).replace('.', '_'))
PY
)"
  mkdir -p "$HOME/.ansible/test/cache"
  cp .ci/get_pip_shim.py "$HOME/.ansible/test/cache/get_pip_${pipver}.py"
}
install_pip_shim "$PY"

# ansible-test needs a real copy below ansible_collections/imscloud/sharing (it resolves symlinks).
COPY="$WORK/copy/ansible_collections/imscloud/sharing"
mkdir -p "$COPY"
git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$COPY"
ansible_test() { (cd "$COPY" && ansible-test "$1" --local --python "$PYVER" --color no "${@:2}"); }
LINKTREE="$WORK/link"
make_collection_link_tree "$LINKTREE"
export ANSIBLE_COLLECTIONS_PATH="$LINKTREE"

if want sanity; then
  # The shellcheck sanity test is skipped when shellcheck is missing: install it where we can (Debian, as root).
  if ! command -v shellcheck >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    stage "installing shellcheck (apt)"
    { apt-get update -qq && apt-get install -y -qq shellcheck; } >/dev/null 2>&1 || echo "shellcheck could not be installed; its sanity test will be skipped"
  fi
  stage "ansible-test sanity (python $PYVER)"
  run sanity ansible_test sanity
  if grep -rvqhE '^\s*(#|$)' "$COPY"/tests/sanity/ignore-*.txt 2>/dev/null; then FAILED+=("sanity ignore entries"); fi
fi

if want units; then
  stage "ansible-test units"
  run units ansible_test units
fi

if want integration; then
  stage "ansible-test integration against the emulator"
  EMU_URL="$("$PY" tests/emulator/harness.py start --seed tests/emulator/seeds/test.yml --pidfile "$EMU_PIDFILE" --max-lifetime 1800)"
  "$PY" tests/integration/make_config.py emulator --url "$EMU_URL" --out "$COPY/tests/integration/integration_config.yml"
  run integration ansible_test integration
  "$PY" tests/emulator/harness.py stop --pidfile "$EMU_PIDFILE"
fi

REAL_JSON=""
if want real && [ -n "$REAL_BG_PID" ]; then
  stage "waiting for the real Keystone + Glance"
  if wait "$REAL_BG_PID"; then
    REAL_BG_PID=""
    REAL_JSON="$REAL_DIR/openstack.json"
    tail -n 3 "$REAL_LOG"
    stage "ansible-test integration (native targets) against real Glance"
    "$PY" tests/integration/make_config.py glance --openstack-json "$REAL_JSON" --out "$COPY/tests/integration/integration_config.yml"
    run "integration (real Glance)" ansible_test integration backend/glance/
  else
    REAL_BG_PID=""
    tail -n 40 "$REAL_LOG" >&2
    # Outside CI the stage is skipped only when the packages could not be installed; any other failure fails.
    if [ -z "${CI:-}" ] && grep -q 'while installing keystone and glance' "$REAL_LOG"; then
      echo "SKIPPED: real Glance tests (the keystone/glance packages could not be installed; see above)" >&2
    else
      echo "the real Keystone + Glance failed to start" >&2
      FAILED+=("real Glance start")
    fi
  fi
fi

if want lint; then
  stage "ansible-lint (production profile, offline)"
  run ansible-lint ansible-lint --offline
  stage "antsibull-docs lint-collection-docs (plugin docs and the extra docs of docs/docsite)"
  run antsibull-docs antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs .
  stage "antsibull-changelog lint"
  run antsibull-changelog antsibull-changelog lint
fi

if want docs; then
  stage "generated docs are up to date (docs/modules, docs/docsite/rst)"
  run docs ./scripts/build-docs.sh --check
fi

if want build; then
  stage "ansible-galaxy collection build + ansible-builder introspect"
  build_and_introspect() {
    ansible-galaxy collection build --output-path "$WORK/dist" --force >/dev/null &&
      ls "$WORK"/dist/imscloud-sharing-*.tar.gz &&
      ansible-galaxy collection install --force "$WORK"/dist/imscloud-sharing-*.tar.gz -p "$WORK/installed" >/dev/null || return 1
    local introspect
    introspect="$(ansible-builder introspect --sanitize "$WORK/installed")" || return 1
    echo "$introspect"
    grep -q 'requests' <<<"$introspect" || { echo "ansible-builder introspect does not list requests" >&2; return 1; }
  }
  run build build_and_introspect
fi

# The supported range (meta/runtime.yml, tests/config.yml, README): the oldest and the newest ansible-core, each in a
# venv of its own (cached in .venvs/), run the demo and ansible-doc for every module; sanity runs on the newest too;
# the modules run on the oldest supported target Python; ansible-runner runs the demo as AWX runs a Check job.
MATRIX_OLDEST=2.17.14        # controller Python 3.10 - 3.12
MATRIX_NEWEST=2.21.5         # controller Python 3.12 - 3.14
MATRIX_NEWEST_PYTHONS=(3.13 3.12)
MATRIX_TARGET_PYTHON=3.9     # = tests/config.yml modules.python_requires
MATRIX_RUNNER="ansible-runner==2.4.3"
MATRIX_COMMON=(requests==2.34.2 PyYAML==6.0.3)
MATRIX_TARGET_PACKAGES=(requests==2.25.1)   # the oldest requests requirements.txt allows (requests 2.33+ needs Python 3.10)
if want matrix; then
  stage "version matrix: venvs for ansible-core $MATRIX_OLDEST and $MATRIX_NEWEST, target Python $MATRIX_TARGET_PYTHON, ansible-runner"
  matrix() {
    local python oldest pinned runner cores target="" copy_newest newest=""
    pinned="$(sed -n 's/^ansible-core==//p' requirements-dev.txt)"
    oldest="$(ensure_extra_venv "core-$MATRIX_OLDEST" "$(find_python)" "ansible-core==$MATRIX_OLDEST" "${MATRIX_COMMON[@]}")" &&
      runner="$(ensure_extra_venv runner "$(find_python)" "$MATRIX_RUNNER" "ansible-core==$pinned" "${MATRIX_COMMON[@]}")" ||
      return 1
    cores="$MATRIX_OLDEST=$oldest"
    # The newest core and the oldest target need other interpreters; where they are missing the stage says so loudly.
    if python="$(find_python_version "${MATRIX_NEWEST_PYTHONS[@]}")"; then
      newest="$(ensure_extra_venv "core-$MATRIX_NEWEST" "$python" "ansible-core==$MATRIX_NEWEST" "${MATRIX_COMMON[@]}")" || return 1
      cores="$cores,$MATRIX_NEWEST=$newest"
    else
      echo "WARNING: no python${MATRIX_NEWEST_PYTHONS[*]}: ansible-core $MATRIX_NEWEST NOT tested" >&2
    fi
    if python="$(find_python_version "$MATRIX_TARGET_PYTHON")"; then
      target="$(ensure_extra_venv "target-python$MATRIX_TARGET_PYTHON" "$python" "${MATRIX_TARGET_PACKAGES[@]}")" || return 1
    else
      echo "WARNING: no python$MATRIX_TARGET_PYTHON: the modules were NOT run on the oldest supported target Python" >&2
    fi
    stage "version matrix: demo and ansible-doc on ansible-core $MATRIX_OLDEST${newest:+ and $MATRIX_NEWEST}, the AWX-style check job"
    local status=0
    IMS_MATRIX_CORES="$cores" IMS_MATRIX_TARGET_PYTHON="$target" IMS_MATRIX_RUNNER="$runner" \
      "$PY" -m pytest -q -p no:cacheprovider -n 2 --timeout 900 --durations 0 tests/matrix || status=1
    if [ -n "$newest" ] && [ "$MATRIX_NEWEST" != "$pinned" ]; then
      stage "version matrix: ansible-test sanity on ansible-core $MATRIX_NEWEST"
      install_pip_shim "$newest/bin/python"
      copy_newest="$WORK/copy-newest/ansible_collections/imscloud/sharing"
      mkdir -p "$copy_newest"
      git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$copy_newest"
      (cd "$copy_newest" && PATH="$newest/bin:$PATH" ansible-test sanity --local \
        --python "$("$newest/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" --color no) || status=1
    fi
    return "$status"
  }
  run matrix matrix
fi

if want pytest; then
  stage "pytest: unit, end-to-end and parity tests, with coverage of plugins/module_utils"
  export IMS_REAL_OPENSTACK_JSON="$REAL_JSON"
  if [ "${#FAILED[@]}" -gt 0 ]; then echo "!! failed so far: ${FAILED[*]}" >&2; fi
  "$PY" -m pytest -q -p no:cacheprovider -n 2 --timeout 600 \
    --cov=plugins/module_utils --cov-report=term --cov-fail-under=90 \
    tests/unit tests/e2e || FAILED+=(pytest)
fi
# On success the last line is pytest's summary (CI reads it); on failure, the list of failed stages.
if [ "${#FAILED[@]}" -gt 0 ]; then
  echo "FAILED stages: ${FAILED[*]}" >&2
  exit 1
fi
