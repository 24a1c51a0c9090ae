"""Shared fixtures for the simulator tests.

* ``sim_options`` (module scope): the :class:`SimOptions` of the module's simulator; override it in a
  test module to change pods/namespaces/nodes/log rate.
* ``sim`` (module scope): a running simulator (``SimHandle``) with its own temp kubeconfig.
* ``kubectl(sim, *args, input=None, check=True)``: run the real kubectl against it.
* ``api_client`` (module scope): an official ``kubernetes`` Python client ``ApiClient`` for ``sim``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tamer_tui.sim.cluster import SimOptions
from tamer_tui.sim.server import SimHandle, start_in_thread
from tests.services import kubectl_bin

KUBECTL_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def sim_options(tmp_path_factory: pytest.TempPathFactory) -> SimOptions:
    """Options of the module's simulator (small and fast by default)."""
    return SimOptions(pods=30, namespaces=3, nodes=2, seed=1)


@pytest.fixture(scope="module")
def sim(sim_options: SimOptions, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimHandle]:
    """A simulator running in a daemon thread for the whole module."""
    tmp = tmp_path_factory.mktemp("sim")
    opts = SimOptions(**{**sim_options.__dict__, "kubeconfig": str(tmp / "kubeconfig")})
    handle = start_in_thread(opts)
    try:
        yield handle
    finally:
        handle.stop()


def kubectl_env(sim: SimHandle) -> dict[str, str]:
    """Environment for kubectl/helm: the sim's kubeconfig and a private discovery cache."""
    env = dict(os.environ)
    cache = Path(sim.kubeconfig).parent / "kube-cache"
    env["KUBECONFIG"] = sim.kubeconfig
    env["KUBECACHEDIR"] = str(cache)
    env["HOME"] = str(Path(sim.kubeconfig).parent)
    env.pop("KUBERNETES_SERVICE_HOST", None)
    return env


def kubectl(
    sim: SimHandle,
    *args: str,
    input: str | None = None,
    check: bool = True,
    context: str | None = None,
    timeout: float = KUBECTL_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run ``kubectl --kubeconfig K --context C ARGS`` against the simulator."""
    argv = [
        kubectl_bin(),
        "--kubeconfig",
        sim.kubeconfig,
        "--context",
        context or sim.context,
        *args,
    ]
    proc = subprocess.run(
        argv,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=kubectl_env(sim),
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"kubectl {' '.join(args)} failed ({proc.returncode}):\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


@pytest.fixture(scope="module")
def api_client(sim: SimHandle) -> Iterator[Any]:
    """An official-client ``ApiClient`` authenticated as admin against ``sim``."""
    from kubernetes import client, config

    cfg = client.Configuration()
    config.load_kube_config(config_file=sim.kubeconfig, context=sim.context, client_configuration=cfg)
    api = client.ApiClient(cfg)
    try:
        yield api
    finally:
        api.close()
