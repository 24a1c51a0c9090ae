"""Kustomize: a base with two overlays built with `kubectl kustomize`, overlays listed, diffed, applied to
the sim, and pruned by label."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tamer_tui.core.errors import InvalidInput, RuntimeUnavailable
from tamer_tui.core.kube.editor import KubeEditor, open_directory
from tamer_tui.core.kube.kustomize import (
    apply_kustomization,
    build,
    find_builder,
    kustomization_refs,
    list_overlays,
    parse_label,
)
from tamer_tui.core.kube.yamlcheck import load_schemas, validate_text
from tamer_tui.sim.server import SimHandle
from tests.editor.conftest import NS, kubectl
from tests.services import kubectl_bin

BASE_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  replicas: 1
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels: {app: shop}
    spec:
      containers:
      - name: shop
        image: nginx:1.27
"""

BASE_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: shop
spec:
  selector: {app: shop}
  ports:
  - port: 80
    targetPort: 80
"""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """app/base (Deployment + Service), app/overlays/{dev,prod} on it, an unrelated overlay, and a
    kustomization below the base that uses it."""
    root = tmp_path / "app"
    _write(root / "base" / "deployment.yaml", BASE_DEPLOYMENT)
    _write(root / "base" / "service.yaml", BASE_SERVICE)
    _write(root / "base" / "kustomization.yaml", "resources:\n- deployment.yaml\n- service.yaml\n")
    _write(root / "overlays" / "dev" / "kustomization.yaml",
           f"namespace: {NS}\nnamePrefix: dev-\nresources:\n- ../../base\nreplicas:\n- name: shop\n  count: 2\n")
    _write(root / "overlays" / "prod" / "settings.yaml",
           "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n")
    _write(root / "overlays" / "prod" / "kustomization.yaml",
           f"namespace: {NS}\nnamePrefix: prod-\nresources:\n- ../../base\n- settings.yaml\n"
           "replicas:\n- name: shop\n  count: 3\n")
    _write(root / "overlays" / "unrelated" / "kustomization.yaml", "resources: []\n")
    _write(root / "base" / "variants" / "kustomization.yaml", "resources:\n- ..\n")
    _write(root / "docs" / "readme.yaml", "a: 1\n")
    return root


def _builder() -> list[str]:
    return find_builder(which=lambda name: None, kubectl=kubectl_bin())


def test_list_overlays_of_a_base(app: Path) -> None:
    """Kustomizations that reference the base (below it or beside it) and every overlays/* are listed."""
    overlays = list_overlays(app / "base")
    assert [(o.name, o.references_base) for o in overlays] == [
        ("base/variants", True), ("overlays/dev", True), ("overlays/prod", True), ("overlays/unrelated", False)]
    assert kustomization_refs(app / "overlays" / "dev") == [(app / "base").resolve()]


def test_builder_choice_and_missing_tools() -> None:
    """kustomize is preferred, kubectl kustomize is the fallback, and with neither the message names both."""
    assert find_builder(which=lambda n: f"/bin/{n}") == ["/bin/kustomize", "build"]
    assert find_builder(which=lambda n: "/usr/bin/kubectl" if n == "kubectl" else None) == [
        "/usr/bin/kubectl", "kustomize"]
    with pytest.raises(RuntimeUnavailable) as err:
        find_builder(which=lambda n: None)
    assert "kustomize" in str(err.value) and "kubectl" in str(err.value)
    assert parse_label("tamer.io/set=shop") == ("tamer.io/set", "shop")
    for bad in ("noequals", "=x", "bad key=x", "k=bad value"):
        with pytest.raises(InvalidInput):
            parse_label(bad)


async def test_build_overlays_with_kubectl_kustomize(app: Path) -> None:
    """Both overlays build (kubectl kustomize) to valid multi-document YAML with their prefixes and replicas;
    a broken kustomization gives kustomize's own message."""
    dev = await build(app / "overlays" / "dev", builder=_builder())
    prod = await build(app / "overlays" / "prod", builder=_builder())
    dev_objs = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(dev)}
    prod_objs = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(prod)}
    assert set(dev_objs) == {("Deployment", "dev-shop"), ("Service", "dev-shop")}
    assert set(prod_objs) == {("Deployment", "prod-shop"), ("Service", "prod-shop"), ("ConfigMap", "prod-settings")}
    assert dev_objs[("Deployment", "dev-shop")]["spec"]["replicas"] == 2
    assert prod_objs[("Deployment", "prod-shop")]["metadata"]["namespace"] == NS
    assert validate_text(prod, load_schemas("1.31")).problems == []
    opened = await open_directory(app / "overlays" / "dev", builder=_builder())
    assert opened.source.origin == "generated" and opened.text == dev and "save-as only" in opened.note
    _write(app / "broken" / "kustomization.yaml", "resources:\n- missing.yaml\n")
    with pytest.raises(InvalidInput) as err:
        await build(app / "broken", builder=_builder())
    assert "missing.yaml" in str(err.value)
    with pytest.raises(InvalidInput):
        await build(app / "docs", builder=_builder())


async def test_diff_apply_and_prune_an_overlay(sim: SimHandle, editor: KubeEditor, app: Path) -> None:
    """The prod overlay diffs as three new objects, applies (server-side, labelled for pruning), diffs as
    unchanged; after settings.yaml is dropped from the overlay, applying with prune deletes that ConfigMap
    only (the dev overlay's objects, with another label, and unlabelled objects stay)."""
    prod = app / "overlays" / "prod"
    text = await build(prod, builder=_builder())
    sections = await editor.diff(text)
    assert sorted((s.ref.kind, s.ref.name, s.status) for s in sections) == [
        ("ConfigMap", "prod-settings", "new"), ("Deployment", "prod-shop", "new"), ("Service", "prod-shop", "new")]
    result = await apply_kustomization(editor, prod, prune_label="tamer.io/set=shop-prod", builder=_builder())
    assert result.ok and sorted(r.action for r in result.applied) == ["created"] * 3 and result.pruned == []
    dev = await apply_kustomization(editor, app / "overlays" / "dev", prune_label="tamer.io/set=shop-dev",
                                    builder=_builder())
    assert [r.action for r in dev.applied] == ["created", "created"]
    kubectl(sim, "create", "configmap", "bystander", "-n", NS)
    live = json.loads(kubectl(sim, "get", "configmap", "prod-settings", "-n", NS, "-o", "json").stdout)
    assert live["metadata"]["labels"]["tamer.io/set"] == "shop-prod"
    sections = await editor.diff(text, extra_labels={"tamer.io/set": "shop-prod"})
    assert [s.status for s in sections] == ["unchanged"] * 3

    _write(prod / "kustomization.yaml", f"namespace: {NS}\nnamePrefix: prod-\nresources:\n- ../../base\n"
                                        "replicas:\n- name: shop\n  count: 3\n")
    dry = await apply_kustomization(editor, prod, prune_label="tamer.io/set=shop-prod", builder=_builder(),
                                    dry_run=True)
    assert [(r.ref.name, r.action, r.dry_run) for r in dry.pruned] == [("prod-settings", "pruned", True)]
    assert kubectl(sim, "get", "configmap", "prod-settings", "-n", NS, check=False).returncode == 0
    again = await apply_kustomization(editor, prod, prune_label="tamer.io/set=shop-prod", builder=_builder())
    assert sorted(r.action for r in again.applied) == ["unchanged", "unchanged"]
    assert [(r.ref.kind, r.ref.name, r.action) for r in again.pruned] == [("ConfigMap", "prod-settings", "pruned")]
    assert kubectl(sim, "get", "configmap", "prod-settings", "-n", NS, check=False).returncode != 0
    for kind, name in (("deployment", "dev-shop"), ("service", "dev-shop"), ("configmap", "bystander"),
                       ("deployment", "prod-shop")):
        assert kubectl(sim, "get", kind, name, "-n", NS, check=False).returncode == 0, (kind, name)
    # Applying the text without the prune label would remove the label: the diff says so. (Checked last:
    # in the sim, a dry-run apply that drops a field changes the stored object - sim/apply.py mutates `live`.)
    plain = await editor.diff(await build(prod, builder=_builder()))
    assert [s.status for s in plain] == ["changed", "changed"]
    assert all('-    tamer.io/set: shop-prod\n' in s.diff for s in plain)


async def test_prune_is_skipped_when_an_apply_fails(sim: SimHandle, editor: KubeEditor, app: Path) -> None:
    """If any object fails to apply, nothing is pruned (a half-applied set must not delete the rest)."""
    prod = app / "overlays" / "prod"
    await apply_kustomization(editor, prod, prune_label="tamer.io/set=skip-test", builder=_builder())
    text = await build(prod, builder=_builder())
    broken = text.replace("kind: Service\n", "kind: Service\nbogus: true\n", 1)
    result = await apply_kustomization(editor, prod, prune_label="tamer.io/set=skip-test", text=broken.replace(
        "name: prod-settings", "name: prod-settings-2"))
    assert not result.ok and result.pruned == [] and "nothing was pruned" in result.prune_skipped
    assert kubectl(sim, "get", "configmap", "prod-settings", "-n", NS, check=False).returncode == 0

