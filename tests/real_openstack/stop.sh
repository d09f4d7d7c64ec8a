#!/usr/bin/env bash
# Stop the Keystone + Glance that start.sh started in WORKDIR, and its watchdog. Data and venv stay.
#
#   tests/real_openstack/stop.sh WORKDIR
#
# Signals only the pids recorded in WORKDIR/run/*.pid, and only while each still is a process of this
# WORKDIR (a recorded pid may have been reused). Idempotent: exits 0 when nothing is running.
set -euo pipefail

GRACE_SECONDS=15

if [[ $# -ne 1 || $1 == -* ]]; then
    echo "usage: $0 WORKDIR" >&2
    exit 2
fi
if [[ ! -d $1/run ]]; then
    exit 0  # nothing was ever started there
fi
WORKDIR=$(cd "$1" && pwd -P)
RUN_DIR=$WORKDIR/run

# True while PID is a live process of this WORKDIR: a gunicorn master/worker of service NAME, or the watchdog.
# A zombie has an empty command line, so it counts as gone.
is_ours() {
    local pid=$1 name=$2 cmdline
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
    if [[ $name == watchdog ]]; then
        [[ $cmdline == *" real_openstack-watchdog "*" $RUN_DIR/watchdog.pid "* ]]
    else
        # start.sh names the processes "imscloud-NAME:WORKDIR"; gunicorn shows it as "gunicorn: master [...]"
        # once setproctitle has run, and as a "--name ..." argument before.
        [[ $cmdline == *gunicorn* && ($cmdline == *"[imscloud-$name:$WORKDIR]"* || $cmdline == *" imscloud-$name:$WORKDIR "*) ]]
    fi
}

# The pid recorded in run/NAME.pid if that process is still ours (else nothing); drops a stale file.
recorded_pid() {
    local name=$1 file="$RUN_DIR/$1.pid" pid
    [[ -f $file ]] || return 0
    pid=$(<"$file")
    if is_ours "$pid" "$name"; then
        echo "$pid"
    else
        rm -f "$file"
    fi
}

# The watchdog (a sleeping bash that would run this script later) leads its own process group: end the group.
stop_watchdog() {
    local pid
    pid=$(recorded_pid watchdog)
    if [[ -n $pid ]]; then
        if [[ $(ps -o pgid= -p "$pid" | tr -d ' ') == "$pid" ]]; then
            kill -TERM -- "-$pid" 2>/dev/null || true
        else
            kill -TERM "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$RUN_DIR/watchdog.pid"
}

# Wait until none of the given NAME:PID processes is ours any more, at most SECONDS; true when all are gone.
wait_gone() {
    local seconds=$1 entry alive deadline
    shift
    deadline=$((SECONDS + seconds))
    while :; do
        alive=0
        for entry in "$@"; do
            if is_ours "${entry#*:}" "${entry%%:*}"; then
                alive=1
            fi
        done
        ((alive)) || return 0
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

# SIGKILL each NAME:PID that is still ours.
kill_left() {
    local entry
    for entry in "$@"; do
        if is_ours "${entry#*:}" "${entry%%:*}"; then
            kill -KILL "${entry#*:}" 2>/dev/null || true
        fi
    done
}

# TERM both masters at once (each stops its worker gracefully), KILL what is left after the grace time.
stop_services() {
    local name pid worker masters=() workers=() stopped=()
    for name in glance keystone; do
        pid=$(recorded_pid "$name")
        if [[ -n $pid ]]; then
            masters+=("$name:$pid")
            stopped+=("$name (pid $pid)")
            # Remember the workers now: once the master is gone they are no longer its children.
            for worker in $(pgrep -P "$pid" || true); do
                workers+=("$name:$worker")
            done
            kill -TERM "$pid" 2>/dev/null || true
        fi
    done
    if ((${#masters[@]} == 0)); then
        return 0
    fi
    if ! wait_gone "$GRACE_SECONDS" "${masters[@]}"; then
        echo "stop.sh: still running after ${GRACE_SECONDS}s of SIGTERM; sending SIGKILL" >&2
        kill_left "${masters[@]}"
    fi
    kill_left "${workers[@]}"
    if ! wait_gone 5 "${masters[@]}" "${workers[@]}"; then
        echo "stop.sh: could not stop the processes of $WORKDIR" >&2
        return 1
    fi
    rm -f "$RUN_DIR/glance.pid" "$RUN_DIR/keystone.pid"
    echo "real_openstack: stopped ${stopped[*]}"
}

stop_watchdog
stop_services
