"""The official Python ``kubernetes`` client and raw HTTPS against the simulator: CRUD, errors,
paging, watch (incl. 410 Expired), auth, content negotiation and discovery."""

from __future__ import annotations

import json
import ssl
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from tamer_tui.sim.server import SimHandle

NS = "api-tests"


def raw(
    sim: SimHandle,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> tuple[int, dict[str, str], bytes]:
    """One HTTPS request to the simulator: (status, headers, body)."""
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    hdrs = {"Accept": "application/json", **(headers or {})}
    if token != "":
        hdrs["Authorization"] = f"Bearer {token or sim.token}"
    if data is not None:
        hdrs["Content-Type"] = content_type
    req = urllib.request.Request(sim.url + path, data=data, method=method, headers=hdrs)
    ctx = ssl.create_default_context(cadata=(sim.ca_pem or b"").decode())
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


@pytest.fixture(scope="module")
def core(api_client: Any, sim: SimHandle) -> client.CoreV1Api:
    api = client.CoreV1Api(api_client)
    try:
        api.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NS)))
    except ApiException as exc:  # pragma: no cover - only when the seed already has it
        assert exc.status == 409
    return api


def _cm(
    name: str, labels: dict[str, str] | None = None, data: dict[str, str] | None = None
) -> client.V1ConfigMap:
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels), data=data or {"k": "v"})


def test_crud_and_error_statuses(core: client.CoreV1Api) -> None:
    """create/read/replace/delete work; 409 AlreadyExists, 409 Conflict and 404 carry real Status bodies."""
    created = core.create_namespaced_config_map(NS, _cm("crud"))
    assert created.metadata.uid and created.metadata.resource_version
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map(NS, _cm("crud"))
    body = json.loads(exc.value.body)
    assert exc.value.status == 409 and body["reason"] == "AlreadyExists"
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'configmaps "crud" already exists',
        "reason": "AlreadyExists",
        "details": {"name": "crud", "kind": "configmaps"},
        "code": 409,
    }
    got = core.read_namespaced_config_map("crud", NS)
    got.data = {"k": "v2"}
    replaced = core.replace_namespaced_config_map("crud", NS, got)
    assert replaced.data == {"k": "v2"}
    got.data = {"k": "stale"}
    with pytest.raises(ApiException) as exc:
        core.replace_namespaced_config_map("crud", NS, got)
    body = json.loads(exc.value.body)
    assert exc.value.status == 409 and body["reason"] == "Conflict"
    assert body["message"].endswith(
        "the object has been modified; please apply your changes to the latest version and try again"
    )
    core.delete_namespaced_config_map("crud", NS)
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_config_map("crud", NS)
    body = json.loads(exc.value.body)
    assert exc.value.status == 404 and body["message"] == 'configmaps "crud" not found'
    assert body["details"] == {"name": "crud", "kind": "configmaps"}


def test_dry_run_create_does_not_store(core: client.CoreV1Api) -> None:
    """dryRun=All returns the would-be object but stores nothing."""
    out = core.create_namespaced_config_map(NS, _cm("dry"), dry_run="All")
    assert out.metadata.name == "dry"
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_config_map("dry", NS)
    assert exc.value.status == 404


def test_paging_with_limit_and_continue(core: client.CoreV1Api) -> None:
    """limit/continue pages through every object exactly once in name order."""
    for i in range(23):
        core.create_namespaced_config_map(NS, _cm(f"page-{i:02d}", labels={"paging": "yes"}))
    names: list[str] = []
    token = None
    pages = 0
    while True:
        resp = core.list_namespaced_config_map(NS, label_selector="paging=yes", limit=10, _continue=token)
        pages += 1
        names.extend(i.metadata.name for i in resp.items)
        token = resp.metadata._continue
        if not token:
            break
    assert pages == 3
    assert names == [f"page-{i:02d}" for i in range(23)]
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_config_map(NS, _continue="garbage!")
    assert exc.value.status == 400


def test_label_and_field_selectors_and_parse_errors(core: client.CoreV1Api) -> None:
    """labelSelector/fieldSelector filter lists; malformed selectors are 400 BadRequest."""
    core.create_namespaced_config_map(NS, _cm("sel-a", labels={"tier": "front"}))
    core.create_namespaced_config_map(NS, _cm("sel-b", labels={"tier": "back"}))
    front = core.list_namespaced_config_map(NS, label_selector="tier in (front)")
    assert [i.metadata.name for i in front.items] == ["sel-a"]
    by_name = core.list_config_map_for_all_namespaces(
        field_selector=f"metadata.name=sel-b,metadata.namespace={NS}"
    )
    assert [i.metadata.name for i in by_name.items] == ["sel-b"]
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_config_map(NS, label_selector="tier in front")
    assert exc.value.status == 400 and json.loads(exc.value.body)["reason"] == "BadRequest"
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_config_map(NS, field_selector="data.k=v")
    assert exc.value.status == 400


def test_watch_streams_changes_in_order(core: client.CoreV1Api) -> None:
    """A watch from a list's resourceVersion sees ADDED, MODIFIED, DELETED of later changes, in order."""
    rv = core.list_namespaced_config_map(NS).metadata.resource_version
    seen: list[tuple[str, str]] = []

    def consume() -> None:
        w = watch.Watch()
        for ev in w.stream(core.list_namespaced_config_map, NS, resource_version=rv, timeout_seconds=10):
            if ev["object"].metadata.name.startswith("w-"):
                seen.append((ev["type"], ev["object"].metadata.name))
            if len(seen) >= 3:
                w.stop()

    t = threading.Thread(target=consume)
    t.start()
    time.sleep(0.3)
    core.create_namespaced_config_map(NS, _cm("w-1"))
    core.patch_namespaced_config_map("w-1", NS, {"data": {"k": "changed"}})
    core.delete_namespaced_config_map("w-1", NS)
    t.join(15)
    assert seen == [("ADDED", "w-1"), ("MODIFIED", "w-1"), ("DELETED", "w-1")]


def test_watch_without_version_sends_initial_added(core: client.CoreV1Api) -> None:
    """A watch without resourceVersion first sends ADDED for every existing matching object."""
    core.create_namespaced_config_map(NS, _cm("init-1", labels={"init": "x"}))
    core.create_namespaced_config_map(NS, _cm("init-2", labels={"init": "x"}))
    w = watch.Watch()
    names = []
    for ev in w.stream(core.list_namespaced_config_map, NS, label_selector="init=x", timeout_seconds=2):
        assert ev["type"] == "ADDED"
        names.append(ev["object"].metadata.name)
        if len(names) == 2:
            w.stop()
    assert names == ["init-1", "init-2"]


def test_watch_selector_transitions(core: client.CoreV1Api) -> None:
    """With a label selector, a modification that stops matching is delivered as DELETED."""
    core.create_namespaced_config_map(NS, _cm("trans", labels={"phase": "one"}))
    rv = core.list_namespaced_config_map(NS).metadata.resource_version
    core.patch_namespaced_config_map("trans", NS, {"metadata": {"labels": {"phase": "two"}}})
    w = watch.Watch()
    events = []
    for ev in w.stream(
        core.list_namespaced_config_map,
        NS,
        label_selector="phase=one",
        resource_version=rv,
        timeout_seconds=2,
    ):
        events.append((ev["type"], ev["object"].metadata.name))
        w.stop()
    assert events == [("DELETED", "trans")]


def test_watch_too_old_version_is_410(core: client.CoreV1Api, sim: SimHandle) -> None:
    """After the history is compacted, watching from an older resourceVersion fails with 410 Expired."""
    old_rv = core.list_namespaced_config_map(NS).metadata.resource_version
    core.create_namespaced_config_map(NS, _cm("expire-1"))
    sim.call(sim.cluster.store.compact)
    with pytest.raises(ApiException) as exc:
        for _ in watch.Watch().stream(
            core.list_namespaced_config_map, NS, resource_version=old_rv, timeout_seconds=3
        ):
            pass
    assert exc.value.status == 410
    assert "too old resource version" in str(exc.value.reason)


def test_raw_watch_bookmark_and_expired_event(sim: SimHandle, core: client.CoreV1Api) -> None:
    """sendInitialEvents+allowWatchBookmarks ends the initial events with the initial-events-end BOOKMARK."""
    core.create_namespaced_config_map(NS, _cm("bm-1", labels={"bm": "y"}))
    status, _, body = raw(
        sim,
        "GET",
        f"/api/v1/namespaces/{NS}/configmaps?watch=1&labelSelector=bm%3Dy&sendInitialEvents=true"
        "&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1",
    )
    assert status == 200
    lines = [json.loads(line) for line in body.splitlines() if line.strip()]
    assert [ev["type"] for ev in lines] == ["ADDED", "BOOKMARK"]
    assert lines[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_delete_collection_by_label(core: client.CoreV1Api) -> None:
    """deletecollection deletes exactly the selected objects."""
    for i in range(3):
        core.create_namespaced_config_map(NS, _cm(f"dc-{i}", labels={"dc": "yes"}))
    core.create_namespaced_config_map(NS, _cm("dc-keep"))
    core.delete_collection_namespaced_config_map(NS, label_selector="dc=yes")
    left = {i.metadata.name for i in core.list_namespaced_config_map(NS).items}
    assert "dc-keep" in left and not any(n.startswith("dc-") and n != "dc-keep" for n in left)


def test_orphan_delete_keeps_dependents(api_client: Any, core: client.CoreV1Api) -> None:
    """propagationPolicy=Orphan deletes the owner and strips the ownerReference from its dependents."""
    apps = client.AppsV1Api(api_client)
    body = {
        "metadata": {"name": "orphan-rs"},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "orphan"}},
            "template": {
                "metadata": {"labels": {"app": "orphan"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }
    rs = apps.create_namespaced_replica_set(NS, body)
    ref = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "orphan-rs", "uid": rs.metadata.uid}
    core.create_namespaced_config_map(
        NS, {"metadata": {"name": "orphan-dep", "ownerReferences": [ref]}, "data": {}}
    )
    apps.delete_namespaced_replica_set("orphan-rs", NS, propagation_policy="Orphan")
    dep = core.read_namespaced_config_map("orphan-dep", NS)
    assert not dep.metadata.owner_references


def test_unauthorized_and_forbidden(sim: SimHandle) -> None:
    """No/bad token -> 401 Status; restricted token outside default -> 403 with the real wording."""
    status, _, body = raw(sim, "GET", "/api/v1/pods", token="")
    assert status == 401 and json.loads(body)["reason"] == "Unauthorized"
    status, _, body = raw(sim, "GET", "/api/v1/pods", token="wrong")
    assert status == 401
    status, _, body = raw(sim, "GET", "/api/v1/namespaces/kube-system/pods", token=sim.restricted_token)
    st = json.loads(body)
    assert status == 403 and st["reason"] == "Forbidden"
    assert st["message"] == (
        'pods is forbidden: User "restricted" cannot list resource "pods" in API group "" in the namespace "kube-system"'
    )
    status, _, _ = raw(sim, "GET", "/api/v1/namespaces/default/pods", token=sim.restricted_token)
    assert status == 200
    status, _, body = raw(
        sim,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        {"metadata": {"name": "x"}},
        token=sim.restricted_token,
    )
    assert status == 403 and "cannot create resource" in json.loads(body)["message"]
    status, _, _ = raw(sim, "GET", "/healthz", token="")
    assert status == 200


def test_self_subject_access_review(api_client: Any) -> None:
    """SelfSubjectAccessReview answers allowed for the admin."""
    authz = client.AuthorizationV1Api(api_client)
    review = authz.create_self_subject_access_review(
        {"spec": {"resourceAttributes": {"verb": "delete", "resource": "pods", "namespace": "kube-system"}}}
    )
    assert review.status.allowed is True


def test_bad_bodies_are_400(sim: SimHandle, core: client.CoreV1Api) -> None:
    """Invalid JSON, a wrong kind and a URL/body name mismatch are 400 BadRequest."""
    status, _, body = raw(sim, "POST", f"/api/v1/namespaces/{NS}/configmaps", b"{not json")
    assert status == 400 and json.loads(body)["reason"] == "BadRequest"
    status, _, body = raw(
        sim,
        "POST",
        f"/api/v1/namespaces/{NS}/configmaps",
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}},
    )
    assert status == 400
    core.create_namespaced_config_map(NS, _cm("named"))
    status, _, body = raw(
        sim,
        "PUT",
        f"/api/v1/namespaces/{NS}/configmaps/named",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"}},
    )
    assert status == 400 and "does not match the name on the URL" in json.loads(body)["message"]


def test_table_and_partial_metadata_negotiation(sim: SimHandle, core: client.CoreV1Api) -> None:
    """as=Table returns a meta.k8s.io/v1 Table; as=PartialObjectMetadataList returns metadata only."""
    core.create_namespaced_config_map(NS, _cm("tbl", data={"a": "1", "b": "2"}))
    status, hdrs, body = raw(
        sim,
        "GET",
        f"/api/v1/namespaces/{NS}/configmaps?fieldSelector=metadata.name%3Dtbl&includeObject=None",
        headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"},
    )
    table = json.loads(body)
    assert status == 200 and table["kind"] == "Table" and "as=Table" in hdrs["Content-Type"]
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Data", "Age"]
    assert table["rows"][0]["cells"][:2] == ["tbl", 2] and "object" not in table["rows"][0]
    status, _, body = raw(
        sim,
        "GET",
        f"/api/v1/namespaces/{NS}/configmaps?fieldSelector=metadata.name%3Dtbl",
        headers={"Accept": "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"},
    )
    pom = json.loads(body)
    assert pom["kind"] == "PartialObjectMetadataList"
    assert pom["items"][0]["metadata"]["name"] == "tbl" and "data" not in pom["items"][0]


def test_discovery_documents(sim: SimHandle) -> None:
    """/version reports the k3s version; aggregated discovery lists groups, subresources and metrics."""
    status, _, body = raw(sim, "GET", "/version")
    assert status == 200 and json.loads(body)["gitVersion"] == "v1.31.4+k3s1"
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    status, hdrs, body = raw(sim, "GET", "/apis", headers={"Accept": accept})
    doc = json.loads(body)
    assert hdrs["Content-Type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    groups = {item["metadata"]["name"]: item for item in doc["items"]}
    assert {"apps", "batch", "metrics.k8s.io", "apiextensions.k8s.io", "rbac.authorization.k8s.io"} <= set(
        groups
    )
    deploy = next(r for r in groups["apps"]["versions"][0]["resources"] if r["resource"] == "deployments")
    assert deploy["shortNames"] == ["deploy"] and deploy["categories"] == ["all"]
    assert {s["subresource"] for s in deploy["subresources"]} == {"status", "scale"}
    status, _, body = raw(sim, "GET", "/api/v1")
    resources = {r["name"]: r for r in json.loads(body)["resources"]}
    assert {"pods/log", "pods/exec", "pods/portforward", "pods/attach", "pods/status"} <= set(resources)
    assert resources["pods"]["singularName"] == "pod" and resources["pods"]["namespaced"] is True


def test_legacy_watch_path(sim: SimHandle, core: client.CoreV1Api) -> None:
    """/api/v1/watch/namespaces/NS/configmaps streams the initial ADDED events and ends at timeoutSeconds."""
    core.create_namespaced_config_map(NS, _cm("legacy-w", labels={"legacy": "y"}))
    started = time.monotonic()
    status, _, body = raw(
        sim, "GET", f"/api/v1/watch/namespaces/{NS}/configmaps?labelSelector=legacy%3Dy&timeoutSeconds=1"
    )
    events = [json.loads(line) for line in body.splitlines() if line.strip()]
    assert status == 200 and [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "legacy-w")
    ]
    assert 0.9 <= time.monotonic() - started < 10


def test_field_validation_modes(sim: SimHandle) -> None:
    """fieldValidation=Strict rejects unknown fields (400), Warn stores and warns, Ignore stores silently."""
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "fv-strict"},
        "data": {},
        "bogus": 1,
    }
    status, _, out = raw(sim, "POST", f"/api/v1/namespaces/{NS}/configmaps?fieldValidation=Strict", body)
    assert status == 400 and 'unknown field "bogus"' in json.loads(out)["message"]
    body["metadata"] = {"name": "fv-warn"}
    status, hdrs, out = raw(sim, "POST", f"/api/v1/namespaces/{NS}/configmaps?fieldValidation=Warn", body)
    assert status == 201 and 'unknown field "bogus"' in hdrs.get("Warning", "")
    assert "bogus" not in json.loads(out)
    body["metadata"] = {"name": "fv-ignore"}
    status, hdrs, _ = raw(sim, "POST", f"/api/v1/namespaces/{NS}/configmaps?fieldValidation=Ignore", body)
    assert status == 201 and "Warning" not in hdrs


def test_finalizer_keeps_object_until_removed(sim: SimHandle, core: client.CoreV1Api) -> None:
    """DELETE of an object with a finalizer sets deletionTimestamp; removing the finalizer deletes it."""
    core.create_namespaced_config_map(
        NS, {"metadata": {"name": "fin", "finalizers": ["example.com/hold"]}, "data": {}}
    )
    status, _, body = raw(sim, "DELETE", f"/api/v1/namespaces/{NS}/configmaps/fin")
    assert status == 200 and json.loads(body)["metadata"]["deletionTimestamp"]
    assert core.read_namespaced_config_map("fin", NS).metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map("fin", NS, {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_config_map("fin", NS)
    assert exc.value.status == 404


def test_status_and_scale_subresources(api_client: Any, sim: SimHandle) -> None:
    """PUT on the main resource ignores .status; /status changes only status; /scale reads and sets replicas."""
    apps = client.AppsV1Api(api_client)
    body = {
        "metadata": {"name": "sub", "labels": {"app": "sub"}},
        "spec": {
            "replicas": 0,
            "paused": True,
            "selector": {"matchLabels": {"app": "sub"}},
            "template": {
                "metadata": {"labels": {"app": "sub"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }
    apps.create_namespaced_deployment(NS, body)
    status, _, out = raw(
        sim,
        "PATCH",
        f"/apis/apps/v1/namespaces/{NS}/deployments/sub/status",
        {"status": {"observedGeneration": 42}, "spec": {"replicas": 7}},
        content_type="application/merge-patch+json",
    )
    obj = json.loads(out)
    assert status == 200 and obj["status"]["observedGeneration"] == 42 and obj["spec"]["replicas"] == 0
    obj["status"]["observedGeneration"] = 1
    obj["spec"]["minReadySeconds"] = 3
    status, _, out = raw(sim, "PUT", f"/apis/apps/v1/namespaces/{NS}/deployments/sub", obj)
    obj = json.loads(out)
    assert status == 200 and obj["status"]["observedGeneration"] == 42 and obj["spec"]["minReadySeconds"] == 3
    scale = apps.read_namespaced_deployment_scale("sub", NS)
    assert scale.spec.replicas == 0 and scale.status.selector == "app=sub"
    apps.patch_namespaced_deployment_scale("sub", NS, {"spec": {"replicas": 3}})
    assert apps.read_namespaced_deployment("sub", NS).spec.replicas == 3


def test_rules_review_and_whoami(sim: SimHandle) -> None:
    """SelfSubjectRulesReview lists read rules for the restricted user in default only; SelfSubjectReview names it."""
    body = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectRulesReview",
        "spec": {"namespace": "default"},
    }
    _, _, out = raw(
        sim, "POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", body, token=sim.restricted_token
    )
    rules = json.loads(out)["status"]["resourceRules"]
    assert {"verbs": ["get", "list", "watch"], "apiGroups": ["*"], "resources": ["*"]} in rules
    body["spec"] = {"namespace": "kube-system"}
    _, _, out = raw(
        sim, "POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", body, token=sim.restricted_token
    )
    assert all("get" not in r["verbs"] for r in json.loads(out)["status"]["resourceRules"])
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    status, _, out = raw(
        sim, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", body, token=sim.restricted_token
    )
    assert status == 201 and json.loads(out)["status"]["userInfo"]["username"] == "restricted"
