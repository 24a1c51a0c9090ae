# shellcheck shell=bash
# Tamer test environment: source this file (". scripts/test-env.sh") before running pytest.
#
# Exports where the real services the tests use live (see tests/services.py):
#   TAMER_TEST_DOCKER_HOST  Docker daemon socket      (scripts/start-services.sh starts it)
#   TAMER_TEST_PODMAN_URL   Podman API service socket (scripts/start-services.sh starts it)
#   TAMER_TEST_IMAGE        local test image in both  (scripts/build-test-image.sh builds it)
#   TAMER_HELM_BIN          helm 3 binary             (scripts/install-helm.sh installs it)
#   TAMER_HELM4_BIN         helm 4 binary, if installed
#   TAMER_KUBECTL_BIN       kubectl binary
#   TAMER_REQUIRE_SERVICES  1 under CI=true (or TAMER_REQUIRE_SERVICES=1 / argument "--require"):
#                           a test whose service is missing then fails instead of skipping.
# Every value can be overridden by setting the variable before sourcing.
# This file never exits the calling shell and never starts anything.

_tamer_env_tools="${TAMER_TOOLS_DIR:-/usr/local/lib/tamer-tools}"

export TAMER_TEST_DOCKER_HOST="${TAMER_TEST_DOCKER_HOST:-unix:///var/run/docker.sock}"
export TAMER_TEST_PODMAN_URL="${TAMER_TEST_PODMAN_URL:-unix:///run/podman/podman.sock}"
export TAMER_TEST_IMAGE="${TAMER_TEST_IMAGE:-tamer-test/busybox:latest}"
export TAMER_TEST_REGISTRY="${TAMER_TEST_REGISTRY:-127.0.0.1:5000}"

if [ -z "${TAMER_HELM_BIN:-}" ]; then
    if [ -x "$_tamer_env_tools/bin/helm" ]; then
        TAMER_HELM_BIN="$_tamer_env_tools/bin/helm"
    else
        TAMER_HELM_BIN="$(command -v helm 2>/dev/null || true)"
    fi
fi
if [ -n "$TAMER_HELM_BIN" ]; then export TAMER_HELM_BIN; else unset TAMER_HELM_BIN; fi

if [ -z "${TAMER_HELM4_BIN:-}" ] && [ -x "$_tamer_env_tools/bin/helm4" ]; then
    TAMER_HELM4_BIN="$_tamer_env_tools/bin/helm4"
fi
if [ -n "${TAMER_HELM4_BIN:-}" ]; then export TAMER_HELM4_BIN; else unset TAMER_HELM4_BIN; fi

if [ -z "${TAMER_KUBECTL_BIN:-}" ]; then
    TAMER_KUBECTL_BIN="$(command -v kubectl 2>/dev/null || true)"
    if [ -z "$TAMER_KUBECTL_BIN" ] && [ -x "$_tamer_env_tools/bin/kubectl" ]; then
        TAMER_KUBECTL_BIN="$_tamer_env_tools/bin/kubectl"
    fi
fi
if [ -n "$TAMER_KUBECTL_BIN" ]; then export TAMER_KUBECTL_BIN; else unset TAMER_KUBECTL_BIN; fi

if [ "${CI:-}" = "true" ] || [ "${TAMER_REQUIRE_SERVICES:-}" = "1" ] || [ "${1:-}" = "--require" ]; then
    export TAMER_REQUIRE_SERVICES=1
fi

unset _tamer_env_tools
