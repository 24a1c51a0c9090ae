"""Unit tests of the simulator's object store and selectors (no server, no network)."""

from __future__ import annotations

import copy

import pytest

from tamer_tui.sim.cluster import Cluster, SimOptions
from tamer_tui.sim.selectors import parse_field_selector, parse_label_selector, selector_from_match
from tamer_tui.sim.store import ApiError, ResourceType, Store, WatchEvent


@pytest.fixture()
def cluster() -> Cluster:
    c = Cluster(SimOptions())
    ns = c.rtype("", "v1", "namespaces")
    for name in ("default", "team-a"):
        c.store.create(ns, {"metadata": {"name": name}})
    return c


def _pod(name: str, ns: str = "default", labels: dict[str, str] | None = None, **spec: object) -> dict:
    return {"metadata": {"name": name, "namespace": ns, "labels": labels or {}}, "spec": dict(spec)}


def test_create_fills_metadata_and_rejects_duplicates(cluster: Cluster) -> None:
    """create() assigns uid/creationTimestamp/generation/RV, orders kind/apiVersion, and 409s a duplicate."""
    pods = cluster.rtype("", "v1", "pods")
    before = cluster.store.resource_version
    obj = cluster.store.create(pods, _pod("a"))
    meta = obj["metadata"]
    assert list(obj)[:3] == ["kind", "apiVersion", "metadata"]
    assert obj["kind"] == "Pod" and obj["apiVersion"] == "v1"
    assert meta["uid"] and meta["creationTimestamp"].endswith("Z")
    assert meta["generation"] == 1
    assert int(meta["resourceVersion"]) == before + 1 == cluster.store.resource_version
    with pytest.raises(ApiError) as err:
        cluster.store.create(pods, _pod("a"))
    st = err.value.status()
    assert st["code"] == 409 and st["reason"] == "AlreadyExists"
    assert st["message"] == 'pods "a" already exists'
    assert st["details"] == {"name": "a", "kind": "pods"}


def test_create_generate_name_namespace_default_and_missing_namespace(cluster: Cluster) -> None:
    """generateName gets a 5-char suffix, namespace defaults to default, unknown namespace is 404."""
    cms = cluster.rtype("", "v1", "configmaps")
    obj = cluster.store.create(cms, {"metadata": {"generateName": "cfg-"}})
    assert obj["metadata"]["name"].startswith("cfg-") and len(obj["metadata"]["name"]) == 9
    assert obj["metadata"]["namespace"] == "default"
    with pytest.raises(ApiError) as err:
        cluster.store.create(cms, {"metadata": {"name": "x", "namespace": "nope"}})
    assert err.value.code == 404 and err.value.message == 'namespaces "nope" not found'
    with pytest.raises(ApiError) as err:
        cluster.store.create(cms, {"metadata": {}})
    assert err.value.code == 422


def test_update_conflict_generation_and_noop(cluster: Cluster) -> None:
    """Stale RV -> 409 Conflict; spec change bumps generation; identical update keeps the RV."""
    deploys = cluster.rtype("apps", "v1", "deployments")
    obj = cluster.store.create(deploys, {"metadata": {"name": "d"}, "spec": {"replicas": 1}})
    stale = copy.deepcopy(obj)
    changed = copy.deepcopy(obj)
    changed["spec"]["replicas"] = 3
    new = cluster.store.update(deploys, changed)
    assert new["metadata"]["generation"] == 2
    assert int(new["metadata"]["resourceVersion"]) > int(obj["metadata"]["resourceVersion"])
    stale["spec"]["replicas"] = 5
    with pytest.raises(ApiError) as err:
        cluster.store.update(deploys, stale)
    st = err.value.status()
    assert st["code"] == 409 and st["reason"] == "Conflict"
    assert st["message"] == (
        'Operation cannot be fulfilled on deployments.apps "d": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert st["details"] == {"name": "d", "group": "apps", "kind": "deployments"}
    rv = cluster.store.resource_version
    same = cluster.store.update(deploys, copy.deepcopy(new))
    assert same["metadata"]["resourceVersion"] == new["metadata"]["resourceVersion"]
    assert cluster.store.resource_version == rv


def test_status_update_only_changes_status(cluster: Cluster) -> None:
    """subresource='status' ignores spec changes and does not bump generation."""
    deploys = cluster.rtype("apps", "v1", "deployments")
    obj = cluster.store.create(deploys, {"metadata": {"name": "d"}, "spec": {"replicas": 1}})
    upd = copy.deepcopy(obj)
    upd["spec"]["replicas"] = 9
    upd["status"] = {"replicas": 1}
    new = cluster.store.update(deploys, upd, subresource="status")
    assert new["spec"]["replicas"] == 1 and new["status"] == {"replicas": 1}
    assert new["metadata"]["generation"] == 1


def test_delete_with_finalizers_waits_until_removed(cluster: Cluster) -> None:
    """A finalizer keeps the object (with deletionTimestamp) until an update empties the finalizers."""
    cms = cluster.rtype("", "v1", "configmaps")
    events: list[WatchEvent] = []
    unsub = cluster.store.subscribe(events.append)
    cluster.store.create(cms, {"metadata": {"name": "f", "finalizers": ["example.com/keep"]}})
    kept = cluster.store.delete(cms, "default", "f")
    assert kept["metadata"]["deletionTimestamp"]
    assert cluster.store.get(cms, "default", "f")["metadata"]["deletionTimestamp"]
    upd = copy.deepcopy(cluster.store.get(cms, "default", "f"))
    upd["metadata"]["finalizers"] = []
    cluster.store.update(cms, upd)
    assert cluster.store.try_get(cms, "default", "f") is None
    assert [e.type for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    unsub()


def test_delete_propagation_orphan_and_foreground(cluster: Cluster) -> None:
    """Orphan strips ownerReferences from dependents; Foreground adds the foregroundDeletion finalizer."""
    rs_t = cluster.rtype("apps", "v1", "replicasets")
    pods = cluster.rtype("", "v1", "pods")
    owner = cluster.store.create(rs_t, {"metadata": {"name": "rs"}, "spec": {}})
    ref = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": "rs",
        "uid": owner["metadata"]["uid"],
        "controller": True,
    }
    cluster.store.create(pods, {"metadata": {"name": "p1", "ownerReferences": [ref]}, "spec": {}})
    assert [o["metadata"]["name"] for _, o in cluster.store.dependents(owner["metadata"]["uid"])] == ["p1"]
    cluster.store.delete(rs_t, "default", "rs", propagation="Orphan")
    assert cluster.store.try_get(rs_t, "default", "rs") is None
    assert "ownerReferences" not in cluster.store.get(pods, "default", "p1")["metadata"]

    owner2 = cluster.store.create(rs_t, {"metadata": {"name": "rs2"}, "spec": {}})
    ref2 = dict(ref, name="rs2", uid=owner2["metadata"]["uid"])
    cluster.store.create(pods, {"metadata": {"name": "p2", "ownerReferences": [ref2]}, "spec": {}})
    kept = cluster.store.delete(rs_t, "default", "rs2", propagation="Foreground")
    assert "foregroundDeletion" in kept["metadata"]["finalizers"]
    with pytest.raises(ApiError) as err:
        cluster.store.delete(rs_t, "default", "rs2", propagation="Sideways")
    assert err.value.code == 400


def test_delete_preconditions_and_not_found(cluster: Cluster) -> None:
    """A uid precondition mismatch is 409; deleting a missing object is 404 with the real message."""
    cms = cluster.rtype("", "v1", "configmaps")
    cluster.store.create(cms, {"metadata": {"name": "c"}})
    with pytest.raises(ApiError) as err:
        cluster.store.delete(cms, "default", "c", preconditions={"uid": "other"})
    assert err.value.code == 409 and "Precondition failed: UID in precondition: other" in err.value.message
    cluster.store.delete(cms, "default", "c")
    with pytest.raises(ApiError) as err:
        cluster.store.delete(cms, "default", "c")
    assert err.value.status()["message"] == 'configmaps "c" not found'


def test_namespace_delete_removes_content(cluster: Cluster) -> None:
    """Deleting a namespace deletes every namespaced object in it."""
    ns = cluster.rtype("", "v1", "namespaces")
    cms = cluster.rtype("", "v1", "configmaps")
    cluster.store.create(cms, {"metadata": {"name": "c", "namespace": "team-a"}})
    cluster.store.delete(ns, None, "team-a")
    assert cluster.store.try_get(cms, "team-a", "c") is None
    assert cluster.store.try_get(ns, None, "team-a") is None


def test_events_since_and_expiry() -> None:
    """events_since returns later events; after trimming or compaction old versions raise 410 Expired."""
    store = Store(history=10)
    rt = ResourceType("", "v1", "ConfigMap", "configmaps", True)
    store.register_type(rt)
    start = store.resource_version
    for i in range(5):
        store.create(rt, {"metadata": {"name": f"c{i}"}})
    evs = store.events_since(start)
    assert [e.obj["metadata"]["name"] for e in evs] == [f"c{i}" for i in range(5)]
    assert store.events_since(evs[2].rv)[0].obj["metadata"]["name"] == "c3"
    for i in range(30):
        store.create(rt, {"metadata": {"name": f"d{i}"}})
    with pytest.raises(ApiError) as err:
        store.events_since(start)
    assert err.value.code == 410 and err.value.reason == "Expired"
    assert err.value.message.startswith("too old resource version:")
    store.compact()
    with pytest.raises(ApiError):
        store.events_since(store.resource_version - 1)
    assert store.events_since(store.resource_version) == []


def test_list_sorted_selected_and_paged(cluster: Cluster) -> None:
    """list() sorts by namespace/name, filters by label and field selectors; iter_objects resumes."""
    pods = cluster.rtype("", "v1", "pods")
    for name, ns, app in (("b", "default", "web"), ("a", "team-a", "db"), ("c", "default", "db")):
        cluster.store.create(pods, _pod(name, ns, {"app": app}, nodeName="n1" if app == "db" else "n2"))
    objs, rv = cluster.store.list(pods)
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in objs] == [
        ("default", "b"),
        ("default", "c"),
        ("team-a", "a"),
    ]
    assert rv == cluster.store.resource_version
    objs, _ = cluster.store.list(pods, label_selector="app in (db)", field_selector="spec.nodeName=n1")
    assert [o["metadata"]["name"] for o in objs] == ["c", "a"]
    objs, _ = cluster.store.list(pods, "default", label_selector="app!=db")
    assert [o["metadata"]["name"] for o in objs] == ["b"]
    rest = list(cluster.store.iter_objects(pods, start_after=("default", "b")))
    assert [o["metadata"]["name"] for o in rest] == ["c", "a"]
    with pytest.raises(ApiError) as err:
        cluster.store.list(pods, field_selector="spec.bogus=1")
    assert err.value.code == 400 and err.value.message == "field label not supported: spec.bogus"


def test_encoded_cache_follows_writes(cluster: Cluster) -> None:
    """encoded() returns cached JSON bytes that change after a write."""
    cms = cluster.rtype("", "v1", "configmaps")
    obj = cluster.store.create(cms, {"metadata": {"name": "c"}, "data": {"k": "1"}})
    first = cluster.store.encoded(cms, obj)
    assert b'"k":"1"' in first and cluster.store.encoded(cms, obj) is first
    upd = copy.deepcopy(obj)
    upd["data"]["k"] = "2"
    new = cluster.store.update(cms, upd)
    assert b'"k":"2"' in cluster.store.encoded(cms, new)


def test_bulk_load_assigns_versions_and_raises_floor(cluster: Cluster) -> None:
    """bulk_load stores objects without events, assigns RVs and makes older watches 410."""
    pods = cluster.rtype("", "v1", "pods")
    events: list[WatchEvent] = []
    cluster.store.subscribe(events.append)
    before = cluster.store.resource_version
    cluster.store.bulk_load(pods, [_pod(f"p{i}") for i in range(100)])
    assert cluster.store.count(pods) == 100 and not events
    assert cluster.store.resource_version == before + 100
    assert cluster.store.get(pods, "default", "p99")["metadata"]["resourceVersion"] == str(before + 100)
    with pytest.raises(ApiError):
        cluster.store.events_since(before)


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("app=web", {"app": "web"}, True),
        ("app==web", {"app": "db"}, False),
        ("app!=web", {}, True),
        ("app in (web, db),tier", {"app": "db", "tier": "x"}, True),
        ("app notin (web)", {"app": "web"}, False),
        ("!canary", {"canary": "1"}, False),
        ("example.com/role", {"example.com/role": ""}, True),
        ("replicas>2", {"replicas": "3"}, True),
        ("", {"x": "y"}, True),
    ],
)
def test_label_selector_semantics(selector: str, labels: dict[str, str], expected: bool) -> None:
    """Each label selector operator matches like the API server's."""
    assert parse_label_selector(selector).matches_labels(labels) is expected


@pytest.mark.parametrize("bad", ["app in web", "app=(", "=x", "app in ()", "a,,b", "app=web,"])
def test_label_selector_parse_errors_are_400(bad: str) -> None:
    """Malformed label selectors raise ApiError 400 BadRequest."""
    with pytest.raises(ApiError) as err:
        parse_label_selector(bad)
    assert err.value.code == 400 and err.value.reason == "BadRequest"


def test_field_selector_escapes_and_negation() -> None:
    """Field selectors support ==/!= and the \\, escape; match_labels helper converts matchExpressions."""
    fs = parse_field_selector(r"metadata.name=a\,b,status.phase!=Failed")
    assert fs.matches({"metadata": {"name": "a,b"}, "status": {"phase": "Running"}})
    assert not fs.matches({"metadata": {"name": "a,b"}, "status": {"phase": "Failed"}})
    sel = selector_from_match(
        {"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "DoesNotExist"}]}
    )
    assert sel.matches_labels({"a": "1"}) and not sel.matches_labels({"a": "1", "b": "x"})
