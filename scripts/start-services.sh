#!/usr/bin/env bash
# Start the real services the Tamer tests use: the Docker daemon and the Podman API service.
#
# Idempotent: a service that already answers is left alone. A service this script starts gets a
# pid file in $TAMER_CI_STATE_DIR (default /run/tamer-ci) so scripts/stop-services.sh stops only
# what was started here. Logs go to $TAMER_CI_LOG_DIR (default /var/log/tamer-ci).
#
#   Docker: Debian's /usr/sbin/dockerd on $TAMER_TEST_DOCKER_HOST (default
#           unix:///var/run/docker.sock). Flag sets tried in order until `docker version` answers:
#           defaults (overlay2, iptables + bridge) -> --storage-driver=vfs -> vfs without iptables.
#   Podman: /etc/containers/containers.conf.d/tamer-ci.conf (runc, cgroupfs, file events logger,
#           default ulimits), then `podman system service --time=0` on $TAMER_TEST_PODMAN_URL
#           (default unix:///run/podman/podman.sock), waited for with GET /_ping.
# Needs root. Env: TAMER_SKIP_DOCKER=1 / TAMER_SKIP_PODMAN=1, TAMER_SERVICE_TIMEOUT (seconds, 60),
# TAMER_CI_STARTED_FILE (when set, the name of each service started by this run, "dockerd" or
# "podman", is appended to that file; .ci/run uses it to stop only what its own run started).
set -euo pipefail

DOCKER_URL="${TAMER_TEST_DOCKER_HOST:-unix:///var/run/docker.sock}"
PODMAN_URL="${TAMER_TEST_PODMAN_URL:-unix:///run/podman/podman.sock}"
STATE_DIR="${TAMER_CI_STATE_DIR:-/run/tamer-ci}"
LOG_DIR="${TAMER_CI_LOG_DIR:-/var/log/tamer-ci}"
TIMEOUT="${TAMER_SERVICE_TIMEOUT:-60}"
PODMAN_CONF="/etc/containers/containers.conf.d/tamer-ci.conf"

log() { printf '[%s] start-services: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'start-services: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (try: sudo bash $0)"
mkdir -p "$STATE_DIR" "$LOG_DIR"

unix_path() {
    case "$1" in
        unix://*) printf '%s\n' "${1#unix://}" ;;
        *) die "only unix:// sockets are supported here, got '$1'" ;;
    esac
}

# started NAME: remember that this run started service NAME
started() { if [ -n "${TAMER_CI_STARTED_FILE:-}" ]; then echo "$1" >> "$TAMER_CI_STARTED_FILE"; fi; }

# pid_alive FILE -> true when FILE names a running process
pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# ---------------------------------------------------------------- Docker
DOCKER_SOCK="$(unix_path "$DOCKER_URL")"

docker_answers() { docker -H "$DOCKER_URL" version >/dev/null 2>&1; }

# start_dockerd LOGFILE FLAGS... -> true when the daemon answers within TIMEOUT
start_dockerd() {
    local logfile="$1" pid waited=0
    shift
    log "starting dockerd $*"
    setsid /usr/sbin/dockerd --host "$DOCKER_URL" "$@" >>"$logfile" 2>&1 </dev/null &
    pid=$!
    echo "$pid" > "$STATE_DIR/dockerd.pid"
    while [ "$waited" -lt $((TIMEOUT * 2)) ]; do
        if docker_answers; then
            log "dockerd answers at $DOCKER_URL (pid $pid)"
            started dockerd
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            log "dockerd exited early; log tail:"
            tail -n 15 "$logfile" >&2 || true
            rm -f "$STATE_DIR/dockerd.pid"
            return 1
        fi
        sleep 0.5
        waited=$((waited + 1))
    done
    log "dockerd did not answer within ${TIMEOUT}s; log tail:"
    tail -n 15 "$logfile" >&2 || true
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$STATE_DIR/dockerd.pid"
    return 1
}

ensure_docker() {
    command -v docker >/dev/null 2>&1 || die "docker client not installed (scripts/install-deps.sh)"
    if docker_answers; then
        log "docker already answers at $DOCKER_URL"
        return 0
    fi
    [ -x /usr/sbin/dockerd ] || die "/usr/sbin/dockerd missing (apt-get install docker.io)"
    if pid_alive "$STATE_DIR/dockerd.pid"; then
        die "dockerd pid $(cat "$STATE_DIR/dockerd.pid") is running but does not answer; see $LOG_DIR/dockerd.log"
    fi
    # a stale socket or pid file from a killed daemon blocks a new one
    rm -f "$DOCKER_SOCK" /var/run/docker.pid
    mkdir -p "$(dirname "$DOCKER_SOCK")"
    local logfile="$LOG_DIR/dockerd.log"
    : > "$logfile"
    if start_dockerd "$logfile"; then
        echo "default" > "$STATE_DIR/dockerd.flags"
    elif start_dockerd "$logfile" --storage-driver=vfs; then
        echo "--storage-driver=vfs" > "$STATE_DIR/dockerd.flags"
    elif start_dockerd "$logfile" --storage-driver=vfs --iptables=false --ip-masq=false; then
        echo "--storage-driver=vfs --iptables=false --ip-masq=false" > "$STATE_DIR/dockerd.flags"
        log "WARNING: dockerd runs without iptables: containers have no outbound NAT"
    else
        die "dockerd could not be started with any flag set; full log: $logfile"
    fi
}

# ---------------------------------------------------------------- Podman
PODMAN_SOCK="$(unix_path "$PODMAN_URL")"

podman_answers() {
    [ -S "$PODMAN_SOCK" ] && curl -sf -m 5 --unix-socket "$PODMAN_SOCK" http://d/_ping >/dev/null 2>&1
}

write_podman_conf() {
    mkdir -p "$(dirname "$PODMAN_CONF")"
    local tmp
    tmp="$(mktemp)"
    cat > "$tmp" <<'CONF'
# Written by tamer scripts/start-services.sh for the Tamer test suite (root podman, no systemd).
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
    if ! cmp -s "$tmp" "$PODMAN_CONF" 2>/dev/null; then
        install -m 0644 "$tmp" "$PODMAN_CONF"
        log "wrote $PODMAN_CONF"
    fi
    rm -f "$tmp"
}

ensure_podman() {
    command -v podman >/dev/null 2>&1 || die "podman not installed (scripts/install-deps.sh)"
    command -v curl >/dev/null 2>&1 || die "curl not installed (scripts/install-deps.sh)"
    write_podman_conf
    if podman_answers; then
        log "podman already answers at $PODMAN_URL"
        return 0
    fi
    if pid_alive "$STATE_DIR/podman.pid"; then
        die "podman service pid $(cat "$STATE_DIR/podman.pid") is running but does not answer; see $LOG_DIR/podman.log"
    fi
    rm -f "$PODMAN_SOCK"
    mkdir -p "$(dirname "$PODMAN_SOCK")"
    local logfile="$LOG_DIR/podman.log" pid waited=0
    : > "$logfile"
    log "starting podman system service --time=0 $PODMAN_URL"
    setsid podman system service --time=0 "$PODMAN_URL" >>"$logfile" 2>&1 </dev/null &
    pid=$!
    echo "$pid" > "$STATE_DIR/podman.pid"
    while [ "$waited" -lt $((TIMEOUT * 2)) ]; do
        if podman_answers; then
            log "podman answers at $PODMAN_URL (pid $pid)"
            started podman
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 20 "$logfile" >&2 || true
            rm -f "$STATE_DIR/podman.pid"
            die "podman system service exited early (log above, full log: $logfile)"
        fi
        sleep 0.5
        waited=$((waited + 1))
    done
    tail -n 20 "$logfile" >&2 || true
    die "podman service did not answer /_ping at $PODMAN_URL within ${TIMEOUT}s (log: $logfile)"
}

REGISTRY_ADDR="${TAMER_TEST_REGISTRY:-127.0.0.1:5000}"

registry_answers() { curl -sf -m 3 "http://$REGISTRY_ADDR/v2/" >/dev/null 2>&1; }

# A local image registry (Debian's docker-registry) on loopback only, for real pull/push tests.
ensure_registry() {
    command -v docker-registry >/dev/null 2>&1 || die "docker-registry not installed (scripts/install-deps.sh)"
    if registry_answers; then
        log "registry already answers at $REGISTRY_ADDR"
        return 0
    fi
    local conf="$STATE_DIR/registry.yml" data="${TAMER_REGISTRY_DIR:-/var/lib/tamer-ci/registry}" pid waited=0
    mkdir -p "$data"
    printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n' \
        "$data" "$REGISTRY_ADDR" > "$conf"
    log "starting docker-registry on $REGISTRY_ADDR"
    setsid docker-registry serve "$conf" >>"$LOG_DIR/registry.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" > "$STATE_DIR/registry.pid"
    while [ "$waited" -lt $((TIMEOUT * 2)) ]; do
        if registry_answers; then
            log "registry answers at $REGISTRY_ADDR (pid $pid)"
            started registry
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || { tail -n 20 "$LOG_DIR/registry.log" >&2 || true; die "docker-registry exited early"; }
        sleep 0.5
        waited=$((waited + 1))
    done
    die "docker-registry did not answer at $REGISTRY_ADDR within ${TIMEOUT}s"
}

# podman refuses plain-HTTP registries unless told (docker allows 127.0.0.0/8 by default); the
# service reads this at start, so it is written before podman starts
write_registries_conf() {
    local regconf=/etc/containers/registries.conf.d/tamer-ci.conf
    mkdir -p "$(dirname "$regconf")"
    printf '# Written by tamer scripts/start-services.sh: the loopback test registry speaks plain HTTP.\n[[registry]]\nlocation = "%s"\ninsecure = true\n' \
        "$REGISTRY_ADDR" > "$regconf"
}
write_registries_conf

[ "${TAMER_SKIP_DOCKER:-}" = "1" ] || ensure_docker
[ "${TAMER_SKIP_PODMAN:-}" = "1" ] || ensure_podman
[ "${TAMER_SKIP_REGISTRY:-}" = "1" ] || ensure_registry
