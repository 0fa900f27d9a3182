#!/usr/bin/env bash
# A Docker engine for the test suite.
#   tests/engine.sh start   start dockerd in the background when no engine answers
#                           (installs Debian's docker.io first if dockerd is missing)
#   tests/engine.sh stop    stop the engine, only if `start` started it
# What `start` started is recorded in $STATE; an engine already running is left alone.
set -euo pipefail

STATE=${ENGINE_STATE_DIR:-/var/tmp/docker-workshop-engine}
PIDFILE=$STATE/dockerd.pid
LOG=$STATE/dockerd.log
TIMEOUT=${ENGINE_TIMEOUT:-90}

answers() { timeout 10 docker info >/dev/null 2>&1; }

running() {  # pid: a live dockerd (an exited one waiting for its parent is a zombie);
    # right after the start it may still be setsid, about to exec dockerd
    case "$(cat "/proc/$1/comm" 2>/dev/null)" in dockerd | setsid) ;; *) return 1 ;; esac
    ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"
}

fail() { echo "engine: $*" >&2; exit 1; }

start() {
    if answers; then
        echo "engine: a Docker engine answers already, not starting one"
        return
    fi
    if ! command -v dockerd >/dev/null; then
        if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
            fail "dockerd is missing; install docker.io (needs root on Debian/Ubuntu)"
        fi
        echo "engine: installing docker.io"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y docker.io || { apt-get update && apt-get install -y docker.io; }
        if answers; then  # on a systemd machine the package starts its own service
            echo "engine: the docker.io service answers"
            return
        fi
    fi
    mkdir -p "$STATE"
    echo "engine: starting dockerd (log: $LOG)"
    setsid dockerd >"$LOG" 2>&1 < /dev/null &
    echo $! > "$PIDFILE"
    for _ in $(seq "$TIMEOUT"); do
        if answers; then
            echo "engine: dockerd answers (pid $(cat "$PIDFILE"))"
            return
        fi
        running "$(cat "$PIDFILE")" || break
        sleep 1
    done
    tail -n 20 "$LOG" >&2
    if running "$(cat "$PIDFILE")"; then
        stop
        fail "dockerd did not answer within ${TIMEOUT}s (log above, full log: $LOG)"
    fi
    rm -f "$PIDFILE"
    fail "dockerd exited without answering (log above, full log: $LOG)"
}

stop() {
    if [ ! -f "$PIDFILE" ]; then
        echo "engine: not started by this script, nothing to stop"
        return
    fi
    local pid
    pid=$(cat "$PIDFILE")
    if running "$pid"; then
        echo "engine: stopping dockerd (pid $pid)"
        kill -TERM "$pid"
        for _ in $(seq 30); do
            running "$pid" || break
            sleep 1
        done
        ! running "$pid" || fail "dockerd (pid $pid) still runs 30s after SIGTERM"
    fi
    rm -f "$PIDFILE"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) fail "usage: $0 start|stop" ;;
esac
