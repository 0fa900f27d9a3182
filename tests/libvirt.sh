#!/usr/bin/env bash
# libvirt for the real-VM tests (tests/realvm): Vagrant's libvirt provider talks to
# libvirtd, which logs the VMs' consoles through virtlogd. This machine has no systemd
# as PID 1 to start them, so this script does, as tests/engine.sh does for dockerd.
#   tests/libvirt.sh start   start virtlogd and libvirtd, each only if it is not running
#   tests/libvirt.sh stop    stop only what `start` started (recorded in $STATE)
# Installing the packages is tests/run's job (libvirt-daemon-system, libvirt-clients).
set -euo pipefail

STATE=${LIBVIRT_STATE_DIR:-/var/tmp/docker-workshop-libvirt}
TIMEOUT=${LIBVIRT_TIMEOUT:-60}

fail() { echo "libvirt: $*" >&2; exit 1; }

answers() { timeout 10 virsh -c qemu:///system version >/dev/null 2>&1; }

running() {  # daemon pid: a live process of that name (not a zombie)
    [ "$(cat "/proc/$2/comm" 2>/dev/null)" = "$1" ] \
        && ! grep -q '^State:[[:space:]]*Z' "/proc/$2/status"
}

pid_of() {  # daemon: the pid of a running one (started by anyone), or nothing
    local pid
    for pid in $(pgrep -x "$1" || true); do
        running "$1" "$pid" && { echo "$pid"; return; }
    done
}

start_daemon() {  # daemon: start it in the background unless one runs
    local daemon=$1 pid
    command -v "$daemon" >/dev/null || fail "$daemon is missing: install libvirt-daemon-system"
    if pid=$(pid_of "$daemon") && [ -n "$pid" ]; then
        echo "libvirt: $daemon runs already (pid $pid), not starting one"
        return
    fi
    echo "libvirt: starting $daemon (log: $STATE/$daemon.log)"
    # Niceness -10, which the VMs it starts inherit: the emulated VM is the suite's
    # longest path, and the other tests run beside it (tests/run).
    setsid nice -n -10 "$daemon" >"$STATE/$daemon.log" 2>&1 </dev/null &
    echo $! >"$STATE/$daemon.pid"
}

start() {
    mkdir -p "$STATE"
    start_daemon virtlogd
    start_daemon libvirtd
    for _ in $(seq "$TIMEOUT"); do
        if answers; then
            echo "libvirt: libvirtd answers"
            return
        fi
        if [ -f "$STATE/libvirtd.pid" ] && ! running libvirtd "$(cat "$STATE/libvirtd.pid")"; then
            break
        fi
        sleep 1
    done
    tail -n 20 "$STATE/libvirtd.log" >&2 || true
    stop
    fail "libvirtd did not answer within ${TIMEOUT}s (log above)"
}

stop_daemon() {  # daemon: stop it if `start` started it
    local daemon=$1 pid
    [ -f "$STATE/$daemon.pid" ] || { echo "libvirt: $daemon not started here, left alone"; return; }
    pid=$(cat "$STATE/$daemon.pid")
    if running "$daemon" "$pid"; then
        echo "libvirt: stopping $daemon (pid $pid)"
        kill -TERM "$pid"
        for _ in $(seq 30); do
            running "$daemon" "$pid" || break
            sleep 1
        done
        ! running "$daemon" "$pid" || fail "$daemon (pid $pid) still runs 30s after SIGTERM"
    fi
    rm -f "$STATE/$daemon.pid"
}

stop() {
    if [ -f "$STATE/libvirtd.pid" ] && answers; then
        # A network outlives libvirtd (its bridge and dnsmasq stay): stop those that the
        # libvirtd started here brought up. A VM still running belongs to a test run
        # that is not finished (tests destroy theirs): then nothing is stopped.
        local vms
        vms=$(virsh -c qemu:///system list --name | sed '/^$/d')
        if [ -n "$vms" ]; then  # another test run's VM: its libvirtd stays
            echo "libvirt: VMs still run ($(echo $vms)): libvirtd and virtlogd left running" >&2
            return
        fi
        for net in $(virsh -c qemu:///system net-list --name | sed '/^$/d'); do
            echo "libvirt: stopping network $net"
            virsh -c qemu:///system net-destroy "$net" >/dev/null || true
        done
    fi
    stop_daemon libvirtd
    stop_daemon virtlogd
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) fail "usage: $0 start|stop" ;;
esac
