#!/usr/bin/env bash
# Stop the services scripts/start-services.sh started (and only those: it reads their pid files
# in $TAMER_CI_STATE_DIR, default /run/tamer-ci). A daemon that was already running before
# start-services.sh, or one started by systemd, is never touched.
# Usage: stop-services.sh [dockerd] [podman]   (no argument: both)
# Env: TAMER_STOP_TIMEOUT (seconds to wait after SIGTERM before SIGKILL, default 30).
set -euo pipefail

STATE_DIR="${TAMER_CI_STATE_DIR:-/run/tamer-ci}"
TIMEOUT="${TAMER_STOP_TIMEOUT:-30}"

log() { printf '[%s] stop-services: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# stop_pidfile NAME EXPECTED_COMM: stop the process in $STATE_DIR/NAME.pid if it still runs
stop_pidfile() {
    local name="$1" expect="$2" file="$STATE_DIR/$1.pid" pid comm waited=0
    [ -s "$file" ] || { log "$name: not started by start-services.sh, left alone"; return 0; }
    pid="$(cat "$file")"
    comm="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
    if [ -z "$comm" ]; then
        log "$name: pid $pid already gone"
        rm -f "$file"
        return 0
    fi
    if [ "$comm" != "$expect" ]; then
        log "$name: pid $pid is now '$comm', not '$expect'; left alone"
        rm -f "$file"
        return 0
    fi
    log "$name: stopping pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt $((TIMEOUT * 2)) ]; do
        sleep 0.5
        waited=$((waited + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name: pid $pid ignored SIGTERM for ${TIMEOUT}s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
}

if [ "$#" = 0 ]; then set -- registry podman dockerd; fi
for service in "$@"; do
    case "$service" in
        podman) stop_pidfile podman podman ;;
        dockerd) stop_pidfile dockerd dockerd ;;
        registry) stop_pidfile registry docker-registry ;;
        *) log "unknown service '$service' (expected dockerd or podman)"; exit 2 ;;
    esac
done
