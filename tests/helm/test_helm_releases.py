"""Helm releases end to end with the real helm against ``tamer sim``: install a chosen chart version
from the served repository into a chosen namespace with values, then list (our Secret-based listing
agrees with ``helm list -A``), details (values, computed values, manifest, notes, hooks agree with
``helm get``), upgrade with a values file, history, test, rollback and uninstall; errors, read-only
mode, no helm binary, the ConfigMap driver and the failed/uninstalled states."""

from __future__ import annotations

import base64
import gzip
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tamer_tui.core.errors import (
    BackendError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ReadOnlyMode,
)
from tamer_tui.core.kube.helm import (
    HELM_LIST_DEFAULT_STATES,
    HelmEngine,
    HelmNotInstalled,
    HelmRelease,
    release_from_object,
)
from tamer_tui.core.kube.manager import KubeManager
from tamer_tui.sim.server import SimHandle
from tests.helm.conftest import ChartServer, list_all_args, list_default_args, sim_helm
from tests.services import helm_bin

pytestmark = pytest.mark.helm

_HELM_TIME = re.compile(r"^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d+))? ([+-]\d\d)(\d\d)")


def helm_time(text: str) -> datetime:
    """helm list's ``2025-01-02 03:04:05.123456789 +0000 UTC`` as an aware datetime (microseconds)."""
    m = _HELM_TIME.match(text)
    assert m, text
    frac = (m.group(3) or "0")[:6].ljust(6, "0")
    return datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}.{frac}{m.group(4)}:{m.group(5)}")


def rows(releases: list[HelmRelease]) -> list[tuple[Any, ...]]:
    return [(r.name, r.namespace, r.revision, r.status, r.chart, r.app_version, r.updated) for r in releases]


def helm_rows(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted((i["name"], i["namespace"], int(i["revision"]), i["status"], i["chart"], i["app_version"],
                   helm_time(i["updated"])) for i in items)


async def configmap(kube: KubeManager, ns: str, name: str) -> dict[str, Any]:
    client = await kube.client()
    obj: dict[str, Any] = json.loads(await client.get(f"/api/v1/namespaces/{ns}/configmaps/{name}"))
    return obj


async def add_repo(engine: HelmEngine, chart_server: ChartServer) -> None:
    """helm repo add (idempotent: later calls are a no-op with the same configuration)."""
    await engine.repos.add("local", chart_server.url)


async def test_release_lifecycle(engine: HelmEngine, kube: KubeManager, sim: SimHandle, chart_server: ChartServer,
                                 helm_env: dict[str, str], tmp_path: Path) -> None:
    """install 0.1.0 with values -> list/get agree with helm -> upgrade to 0.2.0 with a values file ->
    history -> test -> rollback to 1 -> uninstall, checking the cluster at each step."""
    await add_repo(engine, chart_server)
    chosen = (await engine.repos.versions("local", "demo"))[-1]
    assert chosen.version == "0.1.0"
    res = await engine.install("web", chosen.ref, "shop", version=chosen.version, create_namespace=True,
                               values_yaml="replicaCount: 2\nmessage: custom\n")
    assert "STATUS: deployed" in res.stdout and res.ok
    cm = await configmap(kube, "shop", "web-demo-settings")
    assert cm["data"] == {"message": "custom", "chartVersion": "0.1.0"}

    listing = await engine.list_releases()
    assert not listing.warnings
    ours = [r for r in listing.releases if r.namespace == "shop"]
    assert rows(ours) == [("web", "shop", 1, "deployed", "demo-0.1.0", "1.0.0", ours[0].updated)]
    theirs = json.loads(sim_helm(sim, helm_env, "list", "-A", *list_all_args(), "-o", "json").stdout)
    assert rows(listing.releases) == helm_rows(theirs)
    assert rows((await engine.list_releases("shop", states=HELM_LIST_DEFAULT_STATES)).releases) == rows(ours)

    detail = await engine.get_release("web", "shop")
    assert detail.config == {"replicaCount": 2, "message": "custom"}
    user = json.loads(sim_helm(sim, helm_env, "get", "values", "web", "-n", "shop", "-o", "json").stdout)
    computed = json.loads(sim_helm(sim, helm_env, "get", "values", "web", "-n", "shop", "--all", "-o", "json").stdout)
    assert detail.config == user and detail.computed_values == computed
    assert computed["replicaCount"] == 2 and computed["service"]["port"] == 80
    assert detail.manifest.strip() == sim_helm(sim, helm_env, "get", "manifest", "web", "-n", "shop").stdout.strip()
    assert detail.notes.strip() and detail.notes.strip() in sim_helm(sim, helm_env, "get", "notes", "web", "-n",
                                                                      "shop").stdout
    assert [(h.name, h.events) for h in detail.hooks] == [("web-demo-test", ("test",))]
    assert detail.hooks_manifest == sim_helm(sim, helm_env, "get", "hooks", "web", "-n", "shop").stdout
    assert "templates/settings.yaml" in detail.templates and detail.files["README.md"].startswith("# demo 0.1.0")

    values_file = tmp_path / "upgrade.yaml"
    values_file.write_text("message: upgraded\n")
    res = await engine.upgrade("web", "local/demo", "shop", version="0.2.0", values_files=[str(values_file)])
    assert 'Release "web" has been upgraded' in res.stdout
    cm = await configmap(kube, "shop", "web-demo-settings")
    assert cm["data"] == {"message": "upgraded", "chartVersion": "0.2.0"}
    history = await engine.history("web", "shop")
    assert [(h.revision, h.status, h.chart, h.app_version) for h in history] == [
        (1, "superseded", "demo-0.1.0", "1.0.0"), (2, "deployed", "demo-0.2.0", "2.0.0")]
    helm_history = json.loads(sim_helm(sim, helm_env, "history", "web", "-n", "shop", "-o", "json").stdout)
    assert [(h["revision"], h["status"], h["chart"], h["description"]) for h in helm_history] == [
        (h.revision, h.status, h.chart, h.description) for h in history]
    first = await engine.get_release("web", "shop", 1)
    assert first.config == {"replicaCount": 2, "message": "custom"} and first.release.chart_version == "0.1.0"
    assert (await engine.get_release("web", "shop")).computed_values["feature"] == {"enabled": True}

    tested = await engine.test("web", "shop")
    assert "web-demo-test" in tested.stdout and "Succeeded" in tested.stdout
    assert (await engine.get_release("web", "shop")).hooks[0].last_phase == "Succeeded"

    await engine.rollback("web", 1, "shop")
    history = await engine.history("web", "shop")
    assert [(h.revision, h.status, h.chart) for h in history] == [
        (1, "superseded", "demo-0.1.0"), (2, "superseded", "demo-0.2.0"), (3, "deployed", "demo-0.1.0")]
    assert history[-1].description == "Rollback to 1"
    cm = await configmap(kube, "shop", "web-demo-settings")
    assert cm["data"] == {"message": "custom", "chartVersion": "0.1.0"}
    latest = (await engine.list_releases("shop")).releases
    assert rows(latest) == helm_rows(json.loads(sim_helm(sim, helm_env, "list", "-n", "shop", *list_default_args(), "-o", "json").stdout))

    res = await engine.uninstall("web", "shop")
    assert 'release "web" uninstalled' in res.stdout
    assert (await engine.list_releases("shop")).releases == []
    with pytest.raises(NotFound):
        await engine.history("web", "shop")
    with pytest.raises(NotFound):
        await configmap(kube, "shop", "web-demo-settings")


async def test_helm_failures_map_to_errors(engine: HelmEngine, chart_server: ChartServer) -> None:
    """Name in use is a Conflict, unknown revision/release NotFound, broken values InvalidInput, a
    failing test hook a BackendError - each with helm's own message."""
    await add_repo(engine, chart_server)
    await engine.install("dup", "local/demo", "errs", create_namespace=True)
    with pytest.raises(Conflict, match="cannot re-?use a name that is still in use"):
        await engine.install("dup", "local/demo", "errs")
    with pytest.raises(NotFound, match="release has no 9 version"):
        await engine.rollback("dup", 9, "errs")
    with pytest.raises(NotFound, match="has no deployed releases"):
        await engine.upgrade("ghost", "local/demo", "errs")
    with pytest.raises(NotFound, match="not found"):
        await engine.uninstall("ghost", "errs")
    with pytest.raises(NotFound, match="not found"):
        await engine.install("x", "local/demo", "errs", version="9.9.9")
    with pytest.raises(InvalidInput):
        await engine.upgrade("dup", "local/demo", "errs", values_yaml="replicaCount: [unclosed\n")
    with pytest.raises(InvalidInput, match="cannot both"):
        await engine.upgrade("dup", "local/demo", "errs", reuse_values=True, reset_values=True)
    await engine.upgrade("dup", "local/demo", "errs", set_values=["testScript=exit 3"], reuse_values=True)
    with pytest.raises(BackendError, match="dup-demo-test"):
        await engine.test("dup", "errs")
    with pytest.raises(NotFound, match="no revision 7"):
        await engine.get_release("dup", "errs", 7)
    with pytest.raises(NotFound):
        await engine.get_release("ghost", "errs")
    await engine.uninstall("dup", "errs")


async def test_readonly_mode_blocks_actions_before_helm(sim: SimHandle, helm_env: dict[str, str],
                                                        tmp_path: Path) -> None:
    """With --readonly every action raises ReadOnlyMode before helm is looked at (the missing binary
    would otherwise raise HelmNotInstalled); listing still works."""
    km = KubeManager(kubeconfig=sim.kubeconfig, context=sim.context, readonly=True)
    km.load()
    try:
        engine = HelmEngine(km, helm_bin=str(tmp_path / "no-helm"), env=helm_env)
        with pytest.raises(ReadOnlyMode, match="helm install"):
            await engine.install("r", "local/demo", "default")
        with pytest.raises(ReadOnlyMode, match="helm upgrade"):
            await engine.upgrade("r", "local/demo", "default")
        with pytest.raises(ReadOnlyMode, match="helm rollback"):
            await engine.rollback("r", 1, "default")
        with pytest.raises(ReadOnlyMode, match="helm uninstall"):
            await engine.uninstall("r", "default")
        with pytest.raises(ReadOnlyMode, match="helm test"):
            await engine.test("r", "default")
        with pytest.raises(HelmNotInstalled):  # a dry run is not a mutation: it gets as far as helm
            await engine.install("r", "local/demo", "default", dry_run=True)
        assert isinstance((await engine.list_releases()).releases, list)
    finally:
        await km.close()


async def test_listing_without_helm_and_raw_secret_format(engine: HelmEngine, kube: KubeManager, sim: SimHandle,
                                                          helm_env: dict[str, str], chart_server: ChartServer,
                                                          tmp_path: Path) -> None:
    """A release installed by helm is listed and read in full by an engine without any helm binary
    (actions then say helm is missing); helm's Secret really is type helm.sh/release.v1, owner=helm,
    base64(base64(gzip(JSON)))."""
    await add_repo(engine, chart_server)
    await engine.install("raw", "local/toolbox", "rawns", create_namespace=True, set_values=["message=from-set"])
    client = await kube.client()
    secret = json.loads(await client.get("/api/v1/namespaces/rawns/secrets/sh.helm.release.v1.raw.v1"))
    assert secret["type"] == "helm.sh/release.v1"
    assert secret["metadata"]["labels"]["owner"] == "helm" and secret["metadata"]["labels"]["version"] == "1"
    inner = base64.b64decode(base64.b64decode(secret["data"]["release"]))
    assert inner[:3] == b"\x1f\x8b\x08"
    assert json.loads(gzip.decompress(inner)) == release_from_object(secret, "secret")

    blind = HelmEngine(kube, helm_bin=str(tmp_path / "no-helm"), env=helm_env)
    assert not blind.helm_available
    got = [r for r in (await blind.list_releases("rawns")).releases]
    assert [(r.name, r.chart, r.app_version, r.driver) for r in got] == [("raw", "toolbox-1.0.0", "9.9.9", "secret")]
    detail = await blind.get_release("raw", "rawns")
    assert detail.config == {"message": "from-set"} and detail.computed_values["message"] == "from-set"
    with pytest.raises(HelmNotInstalled, match="helm not found"):
        await blind.uninstall("raw", "rawns")
    await engine.uninstall("raw", "rawns")


async def test_configmap_driver_and_states(engine: HelmEngine, kube: KubeManager, sim: SimHandle,
                                           helm_env: dict[str, str], chart_server: ChartServer) -> None:
    """Releases stored by HELM_DRIVER=configmap are listed with the Secret ones; a failed install and
    an uninstall --keep-history show as failed/uninstalled, and filtering by helm's default states
    gives exactly what helm 3's plain ``helm list`` shows."""
    await add_repo(engine, chart_server)
    cm_engine = HelmEngine(kube, helm_bin=engine.cli.binary, env={**helm_env, "HELM_DRIVER": "configmap"})
    await cm_engine.install("cmrel", "local/demo", "states", create_namespace=True, set_values=["message=cm"])
    await cm_engine.upgrade("cmrel", "local/demo", "states", set_values=["message=cm2"])
    client = await kube.client()
    raw_cm = json.loads(await client.get("/api/v1/namespaces/states/configmaps/sh.helm.release.v1.cmrel.v2"))
    assert raw_cm["metadata"]["labels"]["owner"] == "helm"
    assert release_from_object(raw_cm, "configmap")["config"] == {"message": "cm2"}

    with pytest.raises(BackendError, match="post-install"):  # the hook pod exits 4: helm marks it failed
        await engine.install("broken", "local/demo", "states", set_values=["failHook=true"])
    await engine.install("kept", "local/toolbox", "states")
    await engine.uninstall("kept", "states", keep_history=True)

    everything = (await engine.list_releases("states")).releases
    assert [(r.name, r.revision, r.status, r.driver) for r in everything] == [
        ("broken", 1, "failed", "secret"), ("cmrel", 2, "deployed", "configmap"), ("kept", 1, "uninstalled", "secret")]
    cm_history = await engine.history("cmrel", "states")
    assert [(h.revision, h.status, h.driver) for h in cm_history] == [(1, "superseded", "configmap"),
                                                                      (2, "deployed", "configmap")]
    assert (await engine.get_release("cmrel", "states", 1)).config == {"message": "cm"}

    default = (await engine.list_releases("states", states=HELM_LIST_DEFAULT_STATES)).releases
    secret_only = [r for r in default if r.driver == "secret"]
    helm_default = json.loads(sim_helm(sim, helm_env, "list", "-n", "states", *list_default_args(), "-o", "json").stdout)
    assert rows(secret_only) == helm_rows(helm_default)
    assert [r.name for r in default] == ["broken", "cmrel"]
    helm_all = json.loads(sim_helm(sim, helm_env, "list", "-n", "states", *list_all_args(), "-o", "json").stdout)
    assert rows([r for r in everything if r.driver == "secret"]) == helm_rows(helm_all)
    helm_all_cm = json.loads(sim_helm(sim, helm_env, "list", "-n", "states", *list_all_args(), "-o", "json",
                                      extra_env={"HELM_DRIVER": "configmap"}).stdout)
    assert [r for r in rows(everything) if r[0] == "cmrel"] == helm_rows(helm_all_cm)

    for name, eng in (("broken", engine), ("kept", engine), ("cmrel", cm_engine)):
        await eng.uninstall(name, "states")
    assert (await engine.list_releases("states")).releases == []


async def test_restricted_context(sim: SimHandle, helm_env: dict[str, str], chart_server: ChartServer) -> None:
    """On the simulator's restricted context (read-only RBAC in ``default``): listing all namespaces is
    a PermissionDenied with the API server's message, listing ``default`` works, and an install is
    refused by the API server through helm (the context flag reaches helm) as PermissionDenied."""
    km = KubeManager(kubeconfig=sim.kubeconfig, context=sim.restricted_context)
    km.load()
    try:
        engine = HelmEngine(km, helm_bin=helm_bin(), env=helm_env)
        await add_repo(engine, chart_server)
        with pytest.raises(PermissionDenied, match="forbidden"):
            await engine.list_releases()
        assert (await engine.list_releases("default")).releases == []
        with pytest.raises(PermissionDenied, match="forbidden"):
            await engine.install("nope", "local/toolbox", "default")
    finally:
        await km.close()
