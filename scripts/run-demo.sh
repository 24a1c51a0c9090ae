#!/usr/bin/env bash
# Install Tamer into the repo's .venv and start `tamer demo` (simulated clusters + the TUI + any
# local Docker/Podman that is already running). Installs only python3-venv (apt) when missing; starts no daemon.
# Arguments are passed to `tamer demo`. Needs Python >= 3.11 with venv (Debian: python3-venv).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"

log() { printf '[run-demo] %s\n' "$*" >&2; }
die() { printf 'run-demo: ERROR: %s\n' "$*" >&2; exit 1; }

pick_python() {
    local candidate
    for candidate in "${TAMER_PYTHON:-}" python3 python3.13 python3.12 python3.11 /usr/bin/python3; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

if [ ! -x "$VENV/bin/python" ] && ! pick_python >/dev/null && command -v apt-get >/dev/null 2>&1; then
    # a fresh Debian/Ubuntu has python3 but not its venv module
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    log "installing python3-venv (apt-get)"
    $SUDO apt-get update -q >/dev/null && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-venv >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
    PY="$(pick_python)" || die "Python >= 3.11 with the venv module is required (Debian/Ubuntu: apt-get install python3-venv)"
    log "creating $VENV with $("$PY" --version 2>&1)"
    "$PY" -m venv "$VENV"
fi

STAMP="$VENV/.tamer-app-stamp"
want="$( (cat "$REPO/pyproject.toml"; "$VENV/bin/python" --version) | sha256sum | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/tamer" ] || [ "$want" != "$(cat "$STAMP" 2>/dev/null || true)" ]; then
    log "installing tamer into $VENV (pip install -e .)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$REPO"
    echo "$want" > "$STAMP"
fi

exec "$VENV/bin/tamer" demo "$@"
