"""Where the real services the tests use live (set by scripts/test-env.sh; CI sources it).

A test that needs a service calls ``require(...)``: without the service it is skipped on a developer
machine, but under ``TAMER_REQUIRE_SERVICES=1`` (CI) it fails, so CI can never go green by skipping.
"""

from __future__ import annotations

import os
import shutil

import pytest


def require(var: str, what: str) -> str:
    value = os.environ.get(var, "")
    if value:
        return value
    msg = f"{what} not available: set {var} (scripts/test-env.sh does)"
    if os.environ.get("TAMER_REQUIRE_SERVICES") == "1":
        pytest.fail(msg)
    pytest.skip(msg)


def docker_host() -> str:
    return require("TAMER_TEST_DOCKER_HOST", "Docker daemon")


def podman_url() -> str:
    return require("TAMER_TEST_PODMAN_URL", "Podman service")


def test_image() -> str:
    return os.environ.get("TAMER_TEST_IMAGE", "tamer-test/busybox:latest")


def kubectl_bin() -> str:
    path = os.environ.get("TAMER_KUBECTL_BIN") or shutil.which("kubectl") or ""
    if not path:
        return require("TAMER_KUBECTL_BIN", "kubectl")
    return path


def helm_bin() -> str:
    path = os.environ.get("TAMER_HELM_BIN") or shutil.which("helm") or ""
    if not path:
        return require("TAMER_HELM_BIN", "helm")
    return path


def registry() -> str:
    """host:port of the loopback image registry (Debian's docker-registry)."""
    return require("TAMER_TEST_REGISTRY", "local image registry")
