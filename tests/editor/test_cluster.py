"""The editor engine against `tamer sim`: open, validate with the cluster's CRDs, dry run, diff, apply,
conflicts and force, create, replace with a stale resourceVersion, delete, read-only mode."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tamer_tui.core.errors import InvalidInput, ReadOnlyMode
from tamer_tui.core.kube.editor import FieldConflict, KubeEditor, conflicts_from_status, render_template
from tamer_tui.core.kube.manager import KubeManager
from tamer_tui.core.kube.yamlcheck import ERROR, INFO, WARNING, pick_schema_version
from tamer_tui.sim.server import SimHandle
from tests.editor.conftest import NS, kubectl, unique


def _get(sim: SimHandle, kind: str, name: str, ns: str = NS) -> dict:
    return json.loads(kubectl(sim, "get", kind, name, "-n", ns, "-o", "json", "--show-managed-fields").stdout)


def _exists(sim: SimHandle, kind: str, name: str, ns: str = NS) -> bool:
    return kubectl(sim, "get", kind, name, "-n", ns, check=False).returncode == 0


def _managers(obj: dict) -> dict[str, str]:
    return {m["manager"]: m["operation"] for m in obj["metadata"].get("managedFields") or []}


def _deployment(name: str, replicas: int = 1, image: str = "nginx:1.27") -> str:
    return (render_template("deployment", name=name, namespace=NS)
            .replace("replicas: 1", f"replicas: {replicas}").replace("nginx:1.27", image))


async def test_open_object_is_fresh_and_stripped(sim: SimHandle, editor: KubeEditor) -> None:
    """A live object opens as YAML without managedFields and status (kept on request), apiVersion first,
    and records context, kind, namespace, name and resourceVersion."""
    name = unique("open")
    kubectl(sim, "apply", "-f", "-", input=_deployment(name))
    opened = await editor.open_object("deploy", NS, name)
    live = _get(sim, "deployment", name)
    obj = yaml.safe_load(opened.text)
    assert opened.text.startswith("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n")
    assert "managedFields" not in obj["metadata"] and "status" not in obj
    assert obj["spec"]["template"]["spec"]["containers"][0]["name"] == name
    src = opened.source
    assert (src.origin, src.context, src.kind, src.namespace, src.name) == ("object", sim.context, "Deployment", NS, name)
    assert 0 < int(src.resource_version) <= int(live["metadata"]["resourceVersion"])  # controllers bump it
    full = yaml.safe_load((await editor.open_object("deployments", NS, name, keep_managed_fields=True,
                                                    keep_status=True)).text)
    assert full["metadata"]["managedFields"] and "status" in full


CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, maximum: 10}
              color: {type: string, enum: [red, blue]}
"""


async def test_validate_with_the_clusters_version_and_a_crd_from_the_sim(sim: SimHandle, editor: KubeEditor) -> None:
    """Validation uses the schemas nearest to the sim's v1.31 and the CRD schema fetched from the sim:
    a wrong type at line 12 of document 2 (a Gadget) is reported at line 12; a kind the cluster does not
    serve is an error; a built-in problem in document 1 is found too."""
    kubectl(sim, "apply", "-f", "-", input=CRD)
    text = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {k: 1}
---
apiVersion: example.com/v1
kind: Gadget
metadata:
  name: g1
spec:
  color: red
  size: big
  shape: round
---
apiVersion: example.com/v1
kind: Doohickey
metadata: {name: d}
"""
    assert text.splitlines()[11] == "  size: big"
    result = await editor.validate(text)
    assert result.schema_version == "1.31"
    by_path = {(p.doc, p.path): p for p in result.problems}
    size = by_path[(1, ".spec.size")]
    assert (size.line, size.column, size.severity, size.source) == (12, 9, ERROR, "crd")
    assert "expected integer, got string" in size.message
    shape = by_path[(1, ".spec.shape")]
    assert shape.line == 13 and shape.message == 'unknown field "spec.shape"'
    assert by_path[(0, ".data.k")].line == 4
    doohickey = by_path[(2, ".kind")]
    assert doohickey.severity == ERROR and "does not serve Doohickey" in doohickey.message
    assert doohickey.line == 16
    fixed = text.replace("size: big", "size: 3").replace("  shape: round\n", "").replace("{k: 1}", "{k: '1'}")
    fixed = fixed.split("---\napiVersion: example.com/v1\nkind: Doohickey")[0]
    assert (await editor.validate(fixed)).problems == []


async def test_validate_without_a_reachable_cluster_still_works(tmp_path: Path) -> None:
    """With the cluster unreachable, built-in validation still runs (newest schemas) and custom kinds get
    a warning instead of an exception."""
    config = tmp_path / "kubeconfig"
    config.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "dead",
        "clusters": [{"name": "dead", "cluster": {"server": "http://127.0.0.1:9"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "dead", "context": {"cluster": "dead", "user": "u"}}],
    }))
    km = KubeManager(kubeconfig=str(config))
    km.load()
    try:
        editor = KubeEditor(km, namespace=NS)
        text = "apiVersion: example.com/v1\nkind: Thing\nmetadata: {name: t}\n---\n" + _deployment("x", 2).replace(
            "replicas: 2", "replicas: two")
        result = await editor.validate(text)
        assert {(p.doc, p.severity) for p in result.problems} == {(0, WARNING), (1, ERROR)}
        assert "not available" in result.problems[0].message
        assert result.schema_version == pick_schema_version(None)
    finally:
        await km.close()


async def test_dry_run_reports_server_errors_at_their_lines(sim: SimHandle, editor: KubeEditor) -> None:
    """The server-side dry run (Strict) reports an unknown field at its line, accepts good objects with an
    info line, and creates nothing."""
    name = unique("dry")
    good = _deployment(name)
    problems = await editor.dry_run(good)
    assert [(p.severity, p.source) for p in problems] == [(INFO, "server")]
    assert "would be created" in problems[0].message
    assert not _exists(sim, "deployment", name)
    bad = good.replace("  replicas: 1\n", "  replicas: 1\n  surprise: true\n")
    line = bad.splitlines().index("  surprise: true") + 1
    problems = await editor.dry_run(bad)
    errors = [p for p in problems if p.severity == ERROR]
    assert len(errors) == 1 and errors[0].line == line and errors[0].path == ".spec.surprise"
    with pytest.raises(InvalidInput):
        await editor.dry_run("a: [1,\n")


async def test_diff_multi_document_new_and_changed(sim: SimHandle, editor: KubeEditor) -> None:
    """One section per object: an existing one shows its change as a unified diff, a missing one is new;
    after applying, the same text diffs as unchanged."""
    name = unique("diff")
    kubectl(sim, "apply", "-f", "-", input=_deployment(name))
    cm = unique("diff-cm")
    text = _deployment(name, replicas=3) + f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {cm}\ndata:\n  a: b\n"
    sections = await editor.diff(text)
    assert [(s.doc, s.status, s.ref.kind, s.ref.name, s.ref.namespace) for s in sections] == [
        (0, "changed", "Deployment", name, NS), (1, "new", "ConfigMap", cm, NS)]
    changed, new = sections
    assert "-  replicas: 1\n" in changed.diff and "+  replicas: 3\n" in changed.diff
    assert changed.diff.startswith(f"--- live/Deployment/{NS}/{name}\n+++ edited/Deployment/{NS}/{name}\n")
    assert "resourceVersion" not in changed.diff and "managedFields" not in changed.diff
    assert all(line.startswith(("+", "@@")) for line in new.diff.splitlines()[2:])
    assert "+  a: b\n" in new.diff
    assert not _exists(sim, "configmap", cm)  # a diff changes nothing
    await editor.apply(text, force=True)
    assert [s.status for s in await editor.diff(text)] == ["unchanged", "unchanged"]


async def test_apply_creates_configures_and_reports_unchanged(sim: SimHandle, editor: KubeEditor) -> None:
    """Server-side apply with field manager tamer: created, then unchanged, then configured; the live
    object carries the change and tamer's Apply entry."""
    name = unique("apply")
    (first,) = await editor.apply(_deployment(name))
    assert (first.action, first.ok, first.ref.namespace, first.line) == ("created", True, NS, 1)
    (again,) = await editor.apply(_deployment(name))
    assert again.action == "unchanged"
    (third,) = await editor.apply(_deployment(name, image="nginx:1.28"))
    assert third.action == "configured"
    live = _get(sim, "deployment", name)
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    assert _managers(live).get("tamer") == "Apply"


async def test_conflict_names_the_other_manager_and_force_takes_over(sim: SimHandle, editor: KubeEditor) -> None:
    """kubectl applies replicas=2 as manager 'other'; tamer applying replicas=4 gets a conflict naming
    'other' and .spec.replicas, nothing changes; with force the value and the ownership move to tamer."""
    name = unique("conflict")
    kubectl(sim, "apply", "--server-side", "--field-manager=other", "-f", "-", input=_deployment(name, replicas=2))
    edited = _deployment(name, replicas=4)
    (result,) = await editor.apply(edited)
    assert result.action == "conflict" and not result.ok
    assert [(c.manager, c.field) for c in result.conflicts] == [("other", ".spec.replicas")]
    assert "other" in result.message and ".spec.replicas" in result.message
    assert _get(sim, "deployment", name)["spec"]["replicas"] == 2
    (section,) = await editor.diff(edited)
    assert section.status == "changed" and [c.manager for c in section.conflicts] == ["other"]
    assert "+  replicas: 4\n" in section.diff and "needs force" in section.message
    problems = await editor.dry_run(edited)
    conflict_lines = [p for p in problems if p.severity == ERROR]
    assert len(conflict_lines) == 1 and "'other'" in conflict_lines[0].message
    assert conflict_lines[0].line == edited.splitlines().index("  replicas: 4") + 1
    (forced,) = await editor.apply(edited, force=True)
    assert forced.action == "configured" and forced.conflicts == []
    live = _get(sim, "deployment", name)
    assert live["spec"]["replicas"] == 4
    owners = {m["manager"]: json.dumps(m.get("fieldsV1")) for m in live["metadata"]["managedFields"]}
    assert "f:replicas" in owners["tamer"] and "f:replicas" not in owners.get("other", "")


def test_conflicts_parsed_from_status_causes_and_from_messages() -> None:
    """409 Status causes give (manager, field); the message is the fallback in both of the server's forms."""
    status = {"kind": "Status", "code": 409, "reason": "Conflict",
              "message": 'Apply failed with 1 conflict: conflict with "kube-controller-manager" using apps/v1: .spec.replicas',
              "details": {"causes": [{"type": "FieldManagerConflict", "field": ".spec.replicas",
                                      "message": 'conflict with "kube-controller-manager" using apps/v1'}]}}
    assert conflicts_from_status(status) == [
        FieldConflict("kube-controller-manager", ".spec.replicas", 'conflict with "kube-controller-manager" using apps/v1')]
    status.pop("details")
    assert [(c.manager, c.field) for c in conflicts_from_status(status)] == [("kube-controller-manager", ".spec.replicas")]
    many = {"message": 'Apply failed with 2 conflicts: conflicts with "a" using v1:\n- .data.x\n- .data.y'}
    assert [(c.manager, c.field) for c in conflicts_from_status(many)] == [("a", ".data.x"), ("a", ".data.y")]


async def test_replace_with_a_stale_resource_version_is_a_clear_conflict(sim: SimHandle, editor: KubeEditor) -> None:
    """Replace sends the edited resourceVersion: after someone else's change the 409 becomes a message naming
    both versions and nothing is overwritten; a fresh copy replaces fine."""
    name = unique("replace")
    kubectl(sim, "apply", "-f", "-", input=_deployment(name))
    opened = await editor.open_object("deploy", NS, name)
    kubectl(sim, "scale", "deployment", name, "-n", NS, "--replicas=3")
    (stale,) = await editor.replace(opened.text.replace("image: nginx:1.27", "image: nginx:1.29"))
    assert stale.action == "conflict"
    assert opened.resource_version in stale.message and "changed on the server" in stale.message
    live = _get(sim, "deployment", name)
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert re.search(r"the server has \d+\)", stale.message)  # controllers keep bumping it
    fresh = await editor.open_object("deploy", NS, name)
    (ok,) = await editor.replace(fresh.text.replace("image: nginx:1.27", "image: nginx:1.29"))
    assert ok.action == "replaced" and ok.message == ""
    live = _get(sim, "deployment", name)
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.29"
    assert live["spec"]["replicas"] == 3


async def test_create_then_delete(sim: SimHandle, editor: KubeEditor) -> None:
    """create POSTs (a second create says it exists), delete removes (a second delete is "not found"),
    generateName objects are created with a generated name, namespaced objects default to the editor's."""
    name = unique("cm")
    text = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"
    (created,) = await editor.create(text)
    assert created.action == "created" and created.ref.namespace == NS
    assert _get(sim, "configmap", name)["data"] == {"k": "v"}
    (again,) = await editor.create(text)
    assert again.action == "error" and "already exists" in again.message
    (deleted,) = await editor.delete(text)
    assert deleted.action == "deleted"
    (gone,) = await editor.delete(text)
    assert gone.action == "not found" and gone.ok
    (generated,) = await editor.apply("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: gen-\n")
    assert generated.action == "created"
    assert generated.object is not None and generated.object["metadata"]["name"].startswith("gen-")


async def test_objects_the_cluster_does_not_serve_are_errors(editor: KubeEditor) -> None:
    """An unknown kind gets an error result naming it; the other objects of the text still apply."""
    name = unique("served")
    text = (f"apiVersion: nowhere.example.com/v1\nkind: Ghost\nmetadata: {{name: g}}\n---\n"
            f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\n")
    ghost, cm = await editor.apply(text)
    assert ghost.action == "error" and "does not serve Ghost" in ghost.message and ghost.line == 1
    assert cm.action == "created" and cm.line == 5
    with pytest.raises(InvalidInput):
        await editor.apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n")


async def test_read_only_mode_blocks_every_mutation(sim: SimHandle) -> None:
    """With --readonly, apply/create/replace/delete raise ReadOnlyMode before sending anything; validation,
    diff and dry runs still work."""
    km = KubeManager(kubeconfig=sim.kubeconfig, context=sim.context, readonly=True)
    km.load()
    try:
        editor = KubeEditor(km, namespace=NS)
        name = unique("ro")
        text = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"
        for call in (editor.apply, editor.create, editor.replace, editor.delete):
            with pytest.raises(ReadOnlyMode):
                await call(text)
        assert not _exists(sim, "configmap", name)
        assert [s.status for s in await editor.diff(text)] == ["new"]
        (dry,) = await editor.apply(text, dry_run=True)
        assert dry.action == "created" and dry.dry_run
        assert not _exists(sim, "configmap", name)
        assert (await editor.validate(text)).problems == []
    finally:
        await km.close()
