"""Tests of server-side apply and managedFields tracking (tamer_tui.sim.apply)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tamer_tui.sim import openapi
from tamer_tui.sim.apply import (
    LAST_APPLIED,
    ApplyConflict,
    ApplyError,
    fields_v1_to_paths,
    managers,
    path_string,
    paths_to_fields_v1,
    record_update,
    server_side_apply,
)

CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "size": {"type": "integer"},
                                    "tags": {"type": "array", "items": {"type": "string"}},
                                    "parts": {
                                        "type": "array",
                                        "x-kubernetes-list-type": "map",
                                        "x-kubernetes-list-map-keys": ["id"],
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "id": {"type": "string"},
                                                "n": {"type": "integer"},
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    }
                },
            }
        ],
    },
}
LOOKUP = openapi.schema_lookup(31, [CRD])
T0, T1, T2 = "2024-05-01T10:00:00Z", "2024-05-01T11:00:00Z", "2024-05-01T12:00:00Z"


def config(replicas: int = 2, image: str = "nginx:1", extra_container: bool = True) -> dict[str, Any]:
    """An applied Deployment configuration."""
    containers: list[dict[str, Any]] = [{"name": "nginx", "image": image, "ports": [{"containerPort": 80}]}]
    if extra_container:
        containers.append({"name": "side", "image": "busybox"})
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}},
        },
    }


def stored(obj: dict[str, Any], rv: int = 1) -> dict[str, Any]:
    """What the store adds on create: uid, resourceVersion, creationTimestamp."""
    out = copy.deepcopy(obj)
    out["metadata"].update({"uid": "u-1", "resourceVersion": str(rv), "creationTimestamp": T0})
    return out


def entry(obj: dict[str, Any], manager: str, operation: str | None = None) -> dict[str, Any]:
    """The managedFields entry of a manager."""
    for e in obj["metadata"].get("managedFields", []):
        if e["manager"] == manager and (operation is None or e["operation"] == operation):
            return e
    raise AssertionError(f"no managedFields entry for {manager}: {managers(obj)}")


def owned(obj: dict[str, Any], manager: str) -> set[str]:
    """The fields a manager owns, as path strings."""
    return {path_string(p) for p in fields_v1_to_paths(entry(obj, manager)["fieldsV1"])}


# --------------------------------------------------------------------------- FieldsV1

REAL_FIELDS_V1 = """
f:metadata:
  f:annotations:
    .: {}
    f:kubectl.kubernetes.io/last-applied-configuration: {}
  f:labels:
    .: {}
    f:app: {}
f:spec:
  f:progressDeadlineSeconds: {}
  f:replicas: {}
  f:selector: {}
  f:strategy:
    f:rollingUpdate:
      .: {}
      f:maxSurge: {}
      f:maxUnavailable: {}
    f:type: {}
  f:template:
    f:spec:
      f:containers:
        k:{"name":"nginx"}:
          .: {}
          f:image: {}
          f:name: {}
          f:ports:
            .: {}
            k:{"containerPort":80,"protocol":"TCP"}:
              .: {}
              f:containerPort: {}
              f:protocol: {}
          f:resources: {}
      f:securityContext: {}
"""


def test_fields_v1_round_trips_a_real_server_entry() -> None:
    """A FieldsV1 object copied from a real cluster decodes to paths and encodes back identically."""
    fields = yaml.safe_load(REAL_FIELDS_V1)
    paths = fields_v1_to_paths(fields)
    assert (("f", "spec"), ("f", "replicas")) in paths
    assert (("f", "metadata"), ("f", "labels")) in paths
    port = path_string(next(p for p in paths if p[-1] == ("f", "containerPort")))
    assert (
        port
        == '.spec.template.spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"].containerPort'
    )
    assert json.dumps(paths_to_fields_v1(paths), sort_keys=True) == json.dumps(fields, sort_keys=True)


_elem = st.one_of(
    st.tuples(st.just("f"), st.sampled_from(["a", "b", "spec", "x.y/z"])),
    st.tuples(
        st.just("k"),
        st.sampled_from([(("name", '"c1"'),), (("containerPort", "80"), ("protocol", '"TCP"'))]),
    ),
    st.tuples(st.just("v"), st.sampled_from(['"fin"', "3", "true"])),
    st.tuples(st.just("i"), st.integers(0, 3)),
)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.sets(st.lists(_elem, min_size=1, max_size=4).map(tuple), max_size=8))
def test_fields_v1_encoding_round_trips(paths: set[tuple[Any, ...]]) -> None:
    """Any set of paths survives encode -> JSON -> decode unchanged."""
    encoded = json.loads(json.dumps(paths_to_fields_v1(paths)))
    assert fields_v1_to_paths(encoded) == paths


def test_path_string_formats() -> None:
    """Conflict paths print like structured-merge-diff: fields, keys, set values and indexes."""
    assert path_string((("f", "spec"), ("f", "replicas"))) == ".spec.replicas"
    assert path_string((("f", "m"), ("v", '"x"'), ("i", 2))) == '.m[="x"][2]'


# --------------------------------------------------------------------------- apply


def test_apply_create_records_exactly_the_applied_fields() -> None:
    """Creating by apply gives one Apply entry owning the configuration's fields (no metadata.name)."""
    obj = server_side_apply(None, config(), "kubectl", False, LOOKUP, now=T0)
    assert obj["spec"]["replicas"] == 2
    (e,) = obj["metadata"]["managedFields"]
    assert list(e) == ["manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1"]
    assert (e["manager"], e["operation"], e["apiVersion"], e["time"]) == ("kubectl", "Apply", "apps/v1", T0)
    assert owned(obj, "kubectl") == {
        ".metadata.labels.app",
        ".spec.replicas",
        ".spec.selector",
        ".spec.template.metadata.labels.app",
        '.spec.template.spec.containers[name="nginx"]',
        '.spec.template.spec.containers[name="nginx"].name',
        '.spec.template.spec.containers[name="nginx"].image',
        '.spec.template.spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"]',
        '.spec.template.spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"].containerPort',
        '.spec.template.spec.containers[name="side"]',
        '.spec.template.spec.containers[name="side"].name',
        '.spec.template.spec.containers[name="side"].image',
    }


def test_reapplying_the_same_configuration_changes_nothing() -> None:
    """A second identical apply keeps the object and the entry's time."""
    live = stored(server_side_apply(None, config(), "kubectl", False, LOOKUP, now=T0))
    again = server_side_apply(live, config(), "kubectl", False, LOOKUP, now=T1)
    assert again == live


def test_conflict_with_an_update_manager_and_force() -> None:
    """Changing a field another manager set by Update is a 409 naming it; force moves ownership."""
    live = stored(server_side_apply(None, config(), "kubectl", False, LOOKUP, now=T0))
    scaled = copy.deepcopy(live)
    scaled["spec"]["replicas"] = 5
    live = record_update(live, scaled, "kubectl-scale", "Update", LOOKUP, now=T1)
    assert ".spec.replicas" not in owned(live, "kubectl")
    with pytest.raises(ApplyConflict) as info:
        server_side_apply(live, config(replicas=3), "kubectl", False, LOOKUP, now=T2)
    err = info.value
    assert err.conflicts == [('"kubectl-scale" using apps/v1', ".spec.replicas")]
    assert (
        err.message
        == 'Apply failed with 1 conflict: conflict with "kubectl-scale" using apps/v1: .spec.replicas'
    )
    status = err.status()
    assert status["code"] == 409 and status["reason"] == "Conflict"
    assert status["details"]["causes"] == [
        {
            "type": "FieldManagerConflict",
            "message": 'conflict with "kubectl-scale" using apps/v1',
            "field": ".spec.replicas",
        }
    ]
    forced = server_side_apply(live, config(replicas=3), "kubectl", True, LOOKUP, now=T2)
    assert forced["spec"]["replicas"] == 3
    assert ".spec.replicas" in owned(forced, "kubectl")
    assert "kubectl-scale" not in managers(forced)


def test_same_value_is_shared_not_a_conflict_and_survives_until_both_drop_it() -> None:
    """Two appliers setting the same value co-own it; it is removed only when neither applies it."""
    live = stored(server_side_apply(None, config(), "a", False, LOOKUP, now=T0))
    live = server_side_apply(live, config(), "b", False, LOOKUP, now=T1)
    assert ".spec.replicas" in owned(live, "a") and ".spec.replicas" in owned(live, "b")
    without = config()
    del without["spec"]["replicas"]
    live = server_side_apply(live, without, "a", False, LOOKUP, now=T2)
    assert live["spec"]["replicas"] == 2
    live = server_side_apply(live, without, "b", False, LOOKUP, now=T2)
    assert "replicas" not in live["spec"]


def test_multiple_conflicts_message_groups_by_manager() -> None:
    """Several conflicts are listed per manager, managers sorted, like the real server."""
    live = stored(server_side_apply(None, config(), "alpha", False, LOOKUP, now=T0))
    changed = copy.deepcopy(live)
    changed["spec"]["template"]["spec"]["containers"][1]["image"] = "busybox:2"
    live = record_update(live, changed, "zeta", "Update", LOOKUP, now=T1)
    with pytest.raises(ApplyConflict) as info:
        server_side_apply(live, config(replicas=9, image="nginx:2"), "other", False, LOOKUP)
    assert info.value.message == (
        'Apply failed with 3 conflicts: conflicts with "alpha":\n'
        '- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image\n'
        'conflicts with "zeta" using apps/v1:\n'
        '- .spec.template.spec.containers[name="side"].image'
    )


def test_fields_dropped_from_the_configuration_are_pruned() -> None:
    """A container, a label and a field no longer applied are removed (empty label maps vanish)."""
    live = stored(server_side_apply(None, config(), "kubectl", False, LOOKUP, now=T0))
    smaller = config(extra_container=False)
    del smaller["metadata"]["labels"]
    out = server_side_apply(live, smaller, "kubectl", False, LOOKUP, now=T1)
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["nginx"]
    assert "labels" not in out["metadata"]
    assert out["metadata"]["uid"] == "u-1" and out["metadata"]["creationTimestamp"] == T0
    assert not any("side" in p for p in owned(out, "kubectl"))


def test_pruning_keeps_fields_another_manager_owns() -> None:
    """A field the applier drops stays when an Update manager also owns it."""
    live = stored(server_side_apply(None, config(), "kubectl", False, LOOKUP, now=T0))
    edited = copy.deepcopy(live)
    edited["spec"]["template"]["spec"]["containers"][1]["args"] = ["sleep", "1"]
    live = record_update(live, edited, "kubectl-edit", "Update", LOOKUP, now=T1)
    out = server_side_apply(live, config(extra_container=False), "kubectl", False, LOOKUP, now=T2)
    side = [c for c in out["spec"]["template"]["spec"]["containers"] if c.get("name") == "side"]
    assert side and side[0]["args"] == ["sleep", "1"]
    assert "image" not in side[0]  # only kubectl owned it


def test_associative_lists_merge_by_key_and_keep_order() -> None:
    """Applying merges list-map items by key: live-only items stay in place, applied ones keep the
    applied order."""
    live = stored(server_side_apply(None, config(), "a", False, LOOKUP, now=T0))
    other = config(extra_container=False)
    other["spec"]["template"]["spec"]["containers"].append({"name": "extra", "image": "e"})
    out = server_side_apply(live, other, "b", False, LOOKUP, now=T1)
    names = [c["name"] for c in out["spec"]["template"]["spec"]["containers"]]
    assert names == ["nginx", "side", "extra"]


def test_status_is_not_applied_on_the_main_resource_but_is_on_the_subresource() -> None:
    """reset_status ignores status in a main-resource apply; subresource='status' applies only status."""
    cfg = config()
    cfg["status"] = {"replicas": 7}
    live = stored(server_side_apply(None, cfg, "kubectl", False, LOOKUP, now=T0))
    assert "status" not in live
    assert not any(p.startswith(".status") for p in owned(live, "kubectl"))
    status_cfg = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "status": {"replicas": 7},
        "spec": {"replicas": 100},
    }
    out = server_side_apply(live, status_cfg, "ctrl", False, LOOKUP, subresource="status", now=T1)
    assert out["status"] == {"replicas": 7} and out["spec"]["replicas"] == 2
    e = entry(out, "ctrl")
    assert e["subresource"] == "status"
    assert owned(out, "ctrl") == {".status.replicas"}


def test_before_first_apply_owns_untracked_fields() -> None:
    """Applying to an object without managedFields first records a before-first-apply manager."""
    live = stored(config())
    live["spec"]["paused"] = True
    with pytest.raises(ApplyConflict) as info:
        server_side_apply(live, config(replicas=3), "x", False, LOOKUP, now=T1)
    assert info.value.conflicts == [('"before-first-apply" using apps/v1', ".spec.replicas")]
    out = server_side_apply(live, config(), "x", False, LOOKUP, now=T1)
    assert ".spec.paused" in owned(out, "before-first-apply")


def test_client_side_to_server_side_apply_upgrade() -> None:
    """After a client-side apply, the 'kubectl' manager may take over the last-applied fields without a
    conflict and keeps the annotation in sync; another manager still conflicts."""
    cfg = config()
    cfg["metadata"]["annotations"] = {LAST_APPLIED: json.dumps(config()) + "\n"}
    live = stored(record_update(None, cfg, "kubectl-client-side-apply", "Update", LOOKUP, now=T0))
    with pytest.raises(ApplyConflict):
        server_side_apply(live, config(replicas=4), "other", False, LOOKUP, now=T1)
    out = server_side_apply(live, config(replicas=4), "kubectl", False, LOOKUP, now=T1)
    assert out["spec"]["replicas"] == 4
    assert json.loads(out["metadata"]["annotations"][LAST_APPLIED])["spec"]["replicas"] == 4
    assert ".spec.replicas" in owned(out, "kubectl")


def test_crd_objects_use_their_schema() -> None:
    """Custom resources apply with their schema's list-map keys; atomic lists are replaced."""
    cr = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"size": 1, "tags": ["a"], "parts": [{"id": "p1", "n": 1}]},
    }
    live = stored(server_side_apply(None, cr, "a", False, LOOKUP, now=T0))
    assert '.spec.parts[id="p1"].n' in owned(live, "a")
    assert ".spec.tags" in owned(live, "a")
    other = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"parts": [{"id": "p2", "n": 2}]},
    }
    out = server_side_apply(live, other, "b", False, LOOKUP, now=T1)
    assert [p["id"] for p in out["spec"]["parts"]] == ["p1", "p2"]
    with pytest.raises(ApplyConflict):
        server_side_apply(out, {**other, "spec": {"tags": ["z"]}}, "b", False, LOOKUP)


@pytest.mark.parametrize(
    ("applied", "code", "fragment"),
    [
        ({"kind": "Deployment", "metadata": {"name": "x"}}, 400, "apiVersion must be set"),
        ({"apiVersion": "apps/v1", "metadata": {"name": "x"}}, 400, "kind must be set"),
        (
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "x", "managedFields": [{"manager": "m"}]},
            },
            400,
            "metadata.managedFields must be nil",
        ),
        (
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "dta": {"a": "b"}},
            500,
            "failed to create typed patch object (/x; /v1, Kind=ConfigMap): .dta: field not declared in schema",
        ),
        (
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "d", "namespace": "n"},
                "spec": {"replicas": "lots"},
            },
            500,
            "failed to create typed patch object (n/d; apps/v1, Kind=Deployment): "
            ".spec.replicas: expected numeric (int or float), got string",
        ),
        (
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "p"},
                "spec": {"containers": [{"name": "c", "env": [{"name": "K", "value": "1"}, {"name": "K"}]}]},
            },
            500,
            '.spec.containers[name="c"].env: duplicate entries for key [name="K"]',
        ),
    ],
)
def test_apply_errors(applied: dict[str, Any], code: int, fragment: str) -> None:
    """Unusable configurations raise ApplyError with the real server's status code and wording."""
    with pytest.raises(ApplyError) as info:
        server_side_apply(None, applied, "m", False, LOOKUP)
    assert info.value.code == code
    assert fragment in str(info.value)
    assert info.value.status()["code"] == code


# --------------------------------------------------------------------------- record_update


def test_record_update_on_create_owns_everything_with_dot_entries() -> None:
    """A create records an Update entry whose newly added maps and list items carry '.'."""
    obj = record_update(None, config(), "kubectl-create", "Create", LOOKUP, now=T0)
    e = entry(obj, "kubectl-create")
    assert e["operation"] == "Update" and e["time"] == T0
    fields = e["fieldsV1"]
    assert fields["f:metadata"]["f:labels"] == {".": {}, "f:app": {}}
    nginx = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"nginx"}']
    assert nginx["."] == {} and "f:image" in nginx


def test_record_update_tracks_changes_and_removals() -> None:
    """An update owns what it changed; removed fields leave every manager."""
    live = stored(server_side_apply(None, config(), "kubectl", False, LOOKUP, now=T0))
    new = copy.deepcopy(live)
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    del new["spec"]["template"]["spec"]["containers"][1]
    out = record_update(live, new, "kubectl-edit", "Update", LOOKUP, now=T1)
    assert owned(out, "kubectl-edit") == {'.spec.template.spec.containers[name="nginx"].image'}
    kubectl = owned(out, "kubectl")
    assert '.spec.template.spec.containers[name="nginx"].image' not in kubectl
    assert not any("side" in p for p in kubectl)
    unchanged = record_update(out, copy.deepcopy(out), "noop", "Update", LOOKUP, now=T2)
    assert "noop" not in managers(unchanged)
    assert unchanged["metadata"]["managedFields"] == out["metadata"]["managedFields"]


def test_record_update_managed_fields_rules() -> None:
    """Untracked objects stay untracked on update, '[{}]' resets managedFields, and sent managedFields
    replace the live ones."""
    untracked = stored(config())
    changed = copy.deepcopy(untracked)
    changed["spec"]["replicas"] = 9
    assert "managedFields" not in record_update(untracked, changed, "m", "Update", LOOKUP)["metadata"]

    live = stored(server_side_apply(None, config(), "kubectl", False, LOOKUP, now=T0))
    reset = copy.deepcopy(live)
    reset["metadata"]["managedFields"] = [{}]
    reset["spec"]["replicas"] = 3
    out = record_update(live, reset, "m", "Update", LOOKUP, now=T1)
    assert "managedFields" not in out["metadata"]  # reset, and then untracked like the real server
    sent = copy.deepcopy(live)
    sent["metadata"]["managedFields"] = [
        {
            "manager": "imported",
            "operation": "Update",
            "apiVersion": "apps/v1",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {"f:paused": {}}},
        }
    ]
    sent["spec"]["replicas"] = 3
    out = record_update(live, sent, "m", "Update", LOOKUP, now=T1)
    assert sorted(managers(out)) == ["imported", "m"] and owned(out, "m") == {".spec.replicas"}

    status_new = copy.deepcopy(live)
    status_new["status"] = {"replicas": 2}
    out = record_update(live, status_new, "ctrl", "Update", LOOKUP, subresource="status", now=T1)
    assert entry(out, "ctrl")["subresource"] == "status"
    assert owned(out, "ctrl") == {".status.replicas"}


_images = st.sampled_from(["a", "b", "c"])


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.integers(0, 5), _images, st.booleans(), st.integers(0, 5), _images, st.booleans())
def test_apply_is_idempotent_and_owns_exactly_its_configuration(
    r1: int, i1: str, e1: bool, r2: int, i2: str, e2: bool
) -> None:
    """For generated configurations: after apply A then apply B by the same manager, the object holds
    B's values, the manager owns exactly B's fields, and applying B again changes nothing."""
    live = stored(server_side_apply(None, config(r1, i1, e1), "m", False, LOOKUP, now=T0))
    out = stored(server_side_apply(live, config(r2, i2, e2), "m", False, LOOKUP, now=T1))
    assert out["spec"]["replicas"] == r2
    names = [c["name"] for c in out["spec"]["template"]["spec"]["containers"]]
    assert names == (["nginx", "side"] if e2 else ["nginx"])
    fresh = server_side_apply(None, config(r2, i2, e2), "m", False, LOOKUP, now=T1)
    assert owned(out, "m") == owned(fresh, "m")
    assert server_side_apply(out, config(r2, i2, e2), "m", False, LOOKUP, now=T2) == out
