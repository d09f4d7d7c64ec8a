#!/usr/bin/env bash
# Start a real OpenStack Keystone 30 + Glance 33 on 127.0.0.1 for the tests of imscloud.sharing.
#
#   tests/real_openstack/start.sh WORKDIR
#
# Writes WORKDIR/openstack.json, openstack.env and clouds.yaml; stop with stop.sh WORKDIR.
# Environment: PYTHON, OS_REAL_VENV, KEYSTONE_PORT, GLANCE_PORT, IMAGE_MEMBER_QUOTA,
# OS_REAL_MAX_LIFETIME (README.md next to this file explains them).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CONSTRAINTS="$HERE/constraints.txt"
REQUIREMENTS=(keystone==30.0.0 glance==33.0.0 keystonemiddleware gunicorn)
REGION=RegionOne
BOOT_TIMEOUT=60

# keystone-manage and glance-manage print an eventlet deprecation warning on every run.
export PYTHONWARNINGS=ignore
# Everything written here is private: keys, databases with password hashes, files with passwords.
umask 077

PHASE="checking the arguments"  # what start.sh is doing now, named when it fails
PHASE_LOG=""                    # the log that explains a failure of that phase
PHASE_STARTED=0
TIMINGS=()
declare -A JOB_LOGS=()          # background job pid -> its log

say() { echo "real_openstack: $*"; }
fail() { echo "real_openstack: $*" >&2; exit 1; }

now_us() { echo "${EPOCHREALTIME/./}"; }

# Start a phase: its name and log are shown if it fails, its duration is reported.
phase() {
    PHASE=$1
    PHASE_LOG=${2:-}
    PHASE_STARTED=$(now_us)
}

phase_done() {
    local tenths=$((($(now_us) - PHASE_STARTED) / 100000))
    TIMINGS+=("$PHASE $((tenths / 10)).$((tenths % 10))s")
}

# On failure: say what failed, show the end of the log that explains it, stop what was started.
on_exit() {
    local rc=$? job
    if ((rc == 0)); then
        return
    fi
    for job in "${!JOB_LOGS[@]}"; do
        kill "$job" 2>/dev/null || true
    done
    echo "real_openstack: start.sh failed (exit $rc) while $PHASE" >&2
    if [[ -n $PHASE_LOG && -s $PHASE_LOG ]]; then
        echo "----- last 40 lines of $PHASE_LOG -----" >&2
        tail -n 40 "$PHASE_LOG" >&2
        echo "-----" >&2
    fi
    if [[ -n ${WORKDIR:-} ]]; then
        "$HERE/stop.sh" "$WORKDIR" >&2 || true
    fi
}

# Run a command in the background, its output in LOG; wait_jobs collects it.
background() {
    local log=$1
    shift
    "$@" >>"$log" 2>&1 &
    JOB_LOGS[$!]=$log
}

# Wait for every background job; on a failure point PHASE_LOG at that job's log.
wait_jobs() {
    local job failed=0
    for job in "${!JOB_LOGS[@]}"; do
        if ! wait "$job"; then
            PHASE_LOG=${JOB_LOGS[$job]}
            failed=1
        fi
    done
    JOB_LOGS=()
    return "$failed"
}

# The real interpreter behind $PYTHON (pyenv shims would otherwise end up inside the venv).
resolve_python() {
    local python=${PYTHON:-python3}
    BASE_PYTHON=$("$python" -c 'import sys; assert sys.version_info >= (3, 10); print(sys.executable)') ||
        fail "PYTHON=$python is not a runnable Python 3.10+ (keystone 30 and glance 33 need it)"
}

check_settings() {
    MEMBER_QUOTA=${IMAGE_MEMBER_QUOTA:-128}
    MAX_LIFETIME=${OS_REAL_MAX_LIFETIME:-7200}
    [[ $MEMBER_QUOTA =~ ^(-1|[0-9]+)$ ]] || fail "IMAGE_MEMBER_QUOTA must be an integer >= -1, not '$MEMBER_QUOTA'"
    [[ $MAX_LIFETIME =~ ^[0-9]+$ ]] || fail "OS_REAL_MAX_LIFETIME must be a number of seconds, not '$MAX_LIFETIME'"
    [[ ${KEYSTONE_PORT:-0} =~ ^[0-9]+$ && ${GLANCE_PORT:-0} =~ ^[0-9]+$ ]] || fail "KEYSTONE_PORT and GLANCE_PORT must be port numbers"
}

# Each start begins from empty databases and fresh keys; only the venv is kept.
prepare_workdir() {
    "$HERE/stop.sh" "$WORKDIR"
    ETC_DIR=$WORKDIR/etc
    DATA_DIR=$WORKDIR/data
    LOG_DIR=$WORKDIR/log
    RUN_DIR=$WORKDIR/run
    rm -rf "$ETC_DIR" "$DATA_DIR" "$LOG_DIR" "$RUN_DIR" "$WORKDIR/openstack.json" "$WORKDIR/openstack.env" "$WORKDIR/clouds.yaml"
    mkdir -p "$ETC_DIR/keystone" "$ETC_DIR/glance" "$DATA_DIR/glance/images" "$DATA_DIR/glance/staging" \
        "$DATA_DIR/glance/tasks" "$LOG_DIR" "$RUN_DIR/lock"
}

# Create the venv, or reuse it when its stamp says the same Python, requirements and constraints went in.
ensure_venv() {
    VENV=$(realpath -m "${OS_REAL_VENV:-$WORKDIR/venv}")
    local stamp="$VENV/.imscloud-real-openstack.stamp" wanted
    wanted=$({
        "$BASE_PYTHON" -c 'import sys; print(sys.executable, sys.version)'
        printf '%s\n' "${REQUIREMENTS[@]}"
        cat "$CONSTRAINTS"
    } | sha256sum)
    if [[ -f $stamp && $(<"$stamp") == "$wanted" && -x $VENV/bin/python ]]; then
        say "reusing the venv $VENV"
        return
    fi
    if [[ -e $VENV && ! -f $VENV/pyvenv.cfg && -n $(ls -A "$VENV") ]]; then
        fail "$VENV exists and is not a venv; refusing to replace it"
    fi
    phase "installing keystone and glance into $VENV" "$LOG_DIR/pip.log"
    say "installing keystone + glance into $VENV (about a minute; log: $PHASE_LOG)"
    rm -rf "$VENV"
    "$BASE_PYTHON" -m venv "$VENV" >"$PHASE_LOG" 2>&1
    # pip compiles the .pyc files one by one; compileall on both cores takes half as long. Without them
    # (PYTHONDONTWRITEBYTECODE is often set) every keystone/glance process would compile its imports anew.
    "$VENV/bin/pip" install --no-input --progress-bar off --no-compile -c "$CONSTRAINTS" "${REQUIREMENTS[@]}" >>"$PHASE_LOG" 2>&1
    "$VENV/bin/python" -m compileall -q -j 0 "$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" >>"$PHASE_LOG" 2>&1 ||
        echo "real_openstack: some .pyc files could not be written (see $PHASE_LOG); carrying on" >&2
    echo "$wanted" >"$stamp"
    phase_done
}

choose_ports() {
    phase "choosing ports"
    local ports
    ports=$("$VENV/bin/python" "$HERE/bootstrap.py" ports "${KEYSTONE_PORT:-0}" "${GLANCE_PORT:-0}")
    read -r KEYSTONE_PORT GLANCE_PORT <<<"$ports"
    KEYSTONE_URL="http://127.0.0.1:$KEYSTONE_PORT/v3"
    IMAGE_URL="http://127.0.0.1:$GLANCE_PORT"
}

# Random per run; kept in variables and handed to children through their environment, never argv.
make_passwords() {
    ADMIN_PASSWORD=$("$VENV/bin/python" "$HERE/bootstrap.py" password)
    GLANCE_PASSWORD=$("$VENV/bin/python" "$HERE/bootstrap.py" password)
}

write_keystone_conf() {
    KEYSTONE_CONF=$ETC_DIR/keystone/keystone.conf
    # Speed knobs: bcrypt rounds 4 and an in-memory cache make a token ~10x cheaper.
    cat >"$KEYSTONE_CONF" <<EOF
[DEFAULT]
use_stderr = true

[database]
connection = sqlite:///$DATA_DIR/keystone.sqlite

[token]
provider = fernet

[fernet_tokens]
key_repository = $ETC_DIR/keystone/fernet-keys

[credential]
key_repository = $ETC_DIR/keystone/credential-keys

[identity]
password_hash_rounds = 4
# bcrypt uses 72 bytes; a larger limit makes Keystone log a warning on every password.
max_password_length = 72

[cache]
enabled = true
backend = dogpile.cache.memory

[oslo_policy]
enforce_new_defaults = true
enforce_scope = true

[oslo_concurrency]
lock_path = $RUN_DIR/lock
EOF
}

write_glance_conf() {
    GLANCE_CONF=$ETC_DIR/glance/glance-api.conf
    # The paste pipeline ships as a pip data file inside the venv.
    cp "$VENV/etc/glance/glance-api-paste.ini" "$ETC_DIR/glance/glance-api-paste.ini"
    cat >"$GLANCE_CONF" <<EOF
[DEFAULT]
use_stderr = true
enabled_backends = fs:file
image_member_quota = $MEMBER_QUOTA

[glance_store]
default_backend = fs

[fs]
filesystem_store_datadir = $DATA_DIR/glance/images

[os_glance_staging_store]
filesystem_store_datadir = $DATA_DIR/glance/staging

[os_glance_tasks_store]
filesystem_store_datadir = $DATA_DIR/glance/tasks

[database]
connection = sqlite:///$DATA_DIR/glance.sqlite

[paste_deploy]
flavor = keystone
config_file = $ETC_DIR/glance/glance-api-paste.ini

[keystone_authtoken]
www_authenticate_uri = $KEYSTONE_URL
auth_url = $KEYSTONE_URL
auth_type = password
user_domain_id = default
project_domain_id = default
project_name = service
username = glance
password = $GLANCE_PASSWORD

[oslo_policy]
enforce_new_defaults = true
enforce_scope = true

[oslo_concurrency]
lock_path = $RUN_DIR/lock
EOF
}

# The independent manage steps run side by side (each spends ~2 s importing); bootstrap needs them all.
prepare_databases() {
    phase "creating the databases and keys"
    local keystone_manage=("$VENV/bin/keystone-manage" --config-file "$KEYSTONE_CONF")
    # No `keystone` OS user exists, so the key repositories belong to whoever runs this.
    local owner=(--keystone-user "$(id -un)" --keystone-group "$(id -gn)")
    background "$LOG_DIR/keystone-db_sync.log" "${keystone_manage[@]}" db_sync
    background "$LOG_DIR/keystone-fernet_setup.log" "${keystone_manage[@]}" fernet_setup "${owner[@]}"
    background "$LOG_DIR/keystone-credential_setup.log" "${keystone_manage[@]}" credential_setup "${owner[@]}"
    background "$LOG_DIR/glance-db_sync.log" "$VENV/bin/glance-manage" --config-file "$GLANCE_CONF" db_sync
    wait_jobs
    phase_done
}

bootstrap_keystone() {
    phase "running keystone-manage bootstrap" "$LOG_DIR/keystone-bootstrap.log"
    OS_BOOTSTRAP_PASSWORD=$ADMIN_PASSWORD "$VENV/bin/keystone-manage" --config-file "$KEYSTONE_CONF" bootstrap \
        --bootstrap-username admin --bootstrap-project-name admin --bootstrap-role-name admin \
        --bootstrap-region-id "$REGION" --bootstrap-admin-url "$KEYSTONE_URL" \
        --bootstrap-public-url "$KEYSTONE_URL" --bootstrap-internal-url "$KEYSTONE_URL" >"$PHASE_LOG" 2>&1
    phase_done
}

# A gunicorn master per service in its own session (it outlives this script), 1 worker x 1 thread:
# with more threads SQLite answers "database is locked" under parallel writes.
start_gunicorn() {
    local name=$1 port=$2 app=$3
    local args=(--bind "127.0.0.1:$port" --workers 1 --threads 1 --timeout 120 --graceful-timeout 10
        --name "imscloud-$name:$WORKDIR" --error-logfile "$LOG_DIR/$name.log" --capture-output
        --pythonpath "$HERE")
    # gunicorn 27 otherwise opens ~/.gunicorn/gunicorn.ctl, one path shared by every instance of the user.
    if [[ $GUNICORN_HELP == *--no-control-socket* ]]; then
        args+=(--no-control-socket)
    fi
    OS_KEYSTONE_CONFIG_DIR=$ETC_DIR/keystone OS_GLANCE_CONFIG_DIR=$ETC_DIR/glance \
        setsid "$VENV/bin/gunicorn" "${args[@]}" "$app" </dev/null >>"$LOG_DIR/$name.log" 2>&1 &
    echo "$!" >"$RUN_DIR/$name.pid"
}

# Wait until URL answers 200 while NAME's master is alive.
wait_for_http() {
    local name=$1 url=$2 pid deadline=$((SECONDS + BOOT_TIMEOUT))
    pid=$(<"$RUN_DIR/$name.pid")
    PHASE_LOG=$LOG_DIR/$name.log
    until [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url" 2>/dev/null) == 200 ]]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "real_openstack: $name (pid $pid) exited while starting" >&2
            return 1
        fi
        if ((SECONDS >= deadline)); then
            echo "real_openstack: $name did not answer $url within $BOOT_TIMEOUT s" >&2
            return 1
        fi
        sleep 0.1
    done
}

# Glance boots while keystone-manage bootstrap runs: it needs Keystone only when a request comes.
start_services() {
    GUNICORN_HELP=$("$VENV/bin/gunicorn" --help)
    phase "starting glance" "$LOG_DIR/glance.log"
    start_gunicorn glance "$GLANCE_PORT" glance.wsgi.api:application
    bootstrap_keystone
    phase "starting keystone and glance" "$LOG_DIR/keystone.log"
    start_gunicorn keystone "$KEYSTONE_PORT" keystone_wsgi:application
    wait_for_http keystone "$KEYSTONE_URL"
    wait_for_http glance "$IMAGE_URL/healthcheck"
    phase_done
}

# Bounded lifetime: a forgotten stack stops itself after OS_REAL_MAX_LIFETIME seconds (0 = never).
start_watchdog() {
    if ((MAX_LIFETIME == 0)); then
        return
    fi
    # shellcheck disable=SC2016  # $1..$4 are the inner script's arguments
    setsid bash -c 'sleep "$1"; rm -f "$2"; exec "$3" "$4"' real_openstack-watchdog \
        "$MAX_LIFETIME" "$RUN_DIR/watchdog.pid" "$HERE/stop.sh" "$WORKDIR" </dev/null >>"$LOG_DIR/watchdog.log" 2>&1 &
    echo "$!" >"$RUN_DIR/watchdog.pid"
}

# Projects, users, the image service and endpoints through Keystone's API; then the config files and a smoke test.
bootstrap_accounts() {
    phase "creating projects, users and the image service; smoke test" "$LOG_DIR/bootstrap.log"
    IMS_OS_ADMIN_PASSWORD=$ADMIN_PASSWORD IMS_OS_GLANCE_PASSWORD=$GLANCE_PASSWORD \
        "$VENV/bin/python" "$HERE/bootstrap.py" setup --workdir "$WORKDIR" --keystone-url "$KEYSTONE_URL" \
        --image-url "$IMAGE_URL" --keystone-pid "$(<"$RUN_DIR/keystone.pid")" --glance-pid "$(<"$RUN_DIR/glance.pid")" \
        >"$PHASE_LOG" 2>&1
    phase_done
}

main() {
    if [[ $# -ne 1 || $1 == -* ]]; then
        echo "usage: $0 WORKDIR   (README.md next to this script explains it)" >&2
        exit 2
    fi
    local started
    started=$(now_us)
    trap on_exit EXIT
    trap 'exit 130' INT TERM  # so that the EXIT trap cleans up
    mkdir -p "$1"
    WORKDIR=$(cd "$1" && pwd -P)
    check_settings
    resolve_python
    prepare_workdir
    ensure_venv
    choose_ports
    make_passwords
    write_keystone_conf
    write_glance_conf
    prepare_databases
    start_watchdog
    start_services
    bootstrap_accounts
    local tenths=$((($(now_us) - started) / 100000))
    say "keystone $KEYSTONE_URL (pid $(<"$RUN_DIR/keystone.pid")), glance $IMAGE_URL (pid $(<"$RUN_DIR/glance.pid"))"
    local phases
    printf -v phases '%s, ' "${TIMINGS[@]}"
    say "phases: ${phases%, }"
    say "ready in $((tenths / 10)).$((tenths % 10)) s; settings in $WORKDIR/openstack.json, openstack.env, clouds.yaml"
}

main "$@"
