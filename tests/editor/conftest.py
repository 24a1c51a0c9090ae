"""Fixtures for the editor engine tests: one `tamer sim` per module (with a namespace of its own for
the objects the tests create), a KubeManager and a KubeEditor per test (closed afterwards), and a
kubectl runner against the sim."""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import AsyncIterator, Iterator

import pytest

from tamer_tui.core.kube.editor import KubeEditor
from tamer_tui.core.kube.manager import KubeManager
from tamer_tui.sim.server import SimHandle
from tests.sim.conftest import kubectl as run_kubectl
from tests.sim_fixtures import module_sim, sim_kube

NS = "editor-tests"

_names = itertools.count(1)


def unique(prefix: str) -> str:
    """A fresh object name (tests in one module share the sim)."""
    return f"{prefix}-{next(_names)}"


def kubectl(sim: SimHandle, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The real kubectl (``/usr/bin/kubectl`` or ``TAMER_KUBECTL_BIN``) against the sim."""
    return run_kubectl(sim, *args, input=input, check=check)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimHandle]:
    """A small simulator for the whole module, with the namespace ``editor-tests``."""
    with module_sim(tmp_path_factory, "editor-sim", pods=6, namespaces=1, nodes=1, seed=11, log_rate=0.0) as handle:
        kubectl(handle, "create", "namespace", NS)
        yield handle


@pytest.fixture
async def kube(sim: SimHandle) -> AsyncIterator[KubeManager]:
    """A KubeManager on the sim's kubeconfig, closed after the test."""
    async with sim_kube(sim) as km:
        yield km


@pytest.fixture
def editor(kube: KubeManager) -> KubeEditor:
    """The editor engine on the sim, namespaced objects defaulting to ``editor-tests``."""
    return KubeEditor(kube, namespace=NS)
