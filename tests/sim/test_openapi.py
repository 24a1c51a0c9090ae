"""Tests of the simulator's OpenAPI documents and schema lookups (tamer_tui.sim.openapi)."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import time
from typing import Any

import pytest

from tamer_tui.sim import openapi
from tamer_tui.sim.discovery import BUILTIN_TYPES

MINOR = 31

CRONTAB_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "crontabs.stable.example.com"},
    "spec": {
        "group": "stable.example.com",
        "scope": "Namespaced",
        "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab", "shortNames": ["ct"]},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "cronSpec": {"type": "string"},
                                    "image": {"type": "string"},
                                    "replicas": {"type": "integer"},
                                },
                            },
                            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                        },
                    }
                },
            },
            {"name": "v1beta1", "served": False, "storage": False},
        ],
    },
}


def _all_refs(node: Any, acc: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                acc.add(value)
            else:
                _all_refs(value, acc)
    elif isinstance(node, list):
        for value in node:
            _all_refs(value, acc)


def _gv_of(rtype: Any) -> str:
    return f"apis/{rtype.group}/{rtype.version}" if rtype.group else f"api/{rtype.version}"


def test_schema_minor_picks_the_nearest_available_version() -> None:
    """The schema version used is the requested minor when shipped, else the nearest one."""
    minors = openapi.available_minors()
    assert 31 in minors
    assert openapi.schema_minor(31) == 31
    assert openapi.schema_minor(5) == minors[0]
    assert openapi.schema_minor(99) == minors[-1]


def test_index_lists_every_builtin_group_version_with_a_stable_hash() -> None:
    """The v3 index has one serverRelativeURL per served group-version; hashes are stable per call."""
    index = openapi.build_v3_index(MINOR, [])
    paths = index["paths"]
    expected = {_gv_of(r) for r in BUILTIN_TYPES}
    assert expected <= set(paths)
    for gv, entry in paths.items():
        url = entry["serverRelativeURL"]
        m = re.fullmatch(r"/openapi/v3/(.+)\?hash=([0-9A-F]{128})", url)
        assert m and m.group(1) == gv, url
        assert openapi.v3_hash(MINOR, gv, []) == m.group(2)
    assert openapi.build_v3_index(MINOR, []) == index


def test_every_v3_document_is_json_with_resolvable_refs_and_gvk_on_every_operation() -> None:
    """Each group-version document serialises, every $ref resolves inside it, and every resource
    operation carries x-kubernetes-group-version-kind and x-kubernetes-action."""
    for gv in openapi.build_v3_index(MINOR, [])["paths"]:
        doc = openapi.build_v3_document(MINOR, gv, [])
        assert doc is not None, gv
        assert doc["openapi"] == "3.0.0"
        raw = openapi.v3_document_json(MINOR, gv, [])
        assert raw is not None and json.loads(raw) == json.loads(json.dumps(doc))
        schemas = doc["components"]["schemas"]
        refs: set[str] = set()
        _all_refs(doc, refs)
        for ref in refs:
            assert ref.startswith("#/components/schemas/"), ref
            assert ref.split("/")[-1] in schemas, f"{gv}: dangling {ref}"
        for path, item in doc["paths"].items():
            for method in ("get", "put", "post", "patch", "delete"):
                op = item.get(method)
                if op is None or path.endswith("/"):
                    continue
                assert "x-kubernetes-action" in op, (gv, path, method)
                assert set(op["x-kubernetes-group-version-kind"]) == {"group", "version", "kind"}


def test_every_builtin_resource_has_patch_with_field_validation() -> None:
    """kubectl decides on server-side field validation from the PATCH operation of the kind's path:
    every patchable built-in resource has one with GVK and the fieldValidation/dryRun/fieldManager/force
    query parameters, and POST/PUT carry fieldValidation too."""
    for rtype in BUILTIN_TYPES:
        doc = openapi.build_v3_document(MINOR, _gv_of(rtype), [])
        assert doc is not None
        gvk = {"group": rtype.group, "version": rtype.version, "kind": rtype.kind}
        ops = [
            (m, op)
            for item in doc["paths"].values()
            for m, op in item.items()
            if isinstance(op, dict) and op.get("x-kubernetes-group-version-kind") == gvk
        ]
        assert ops, rtype.kind
        if "patch" in rtype.verbs:
            patches = [op for m, op in ops if m == "patch"]
            assert patches, rtype.kind
            names = {p["name"] for p in patches[0]["parameters"] if p["in"] == "query"}
            assert {"fieldValidation", "dryRun", "fieldManager", "force"} <= names
        for m, op in ops:
            if m in ("post", "put"):
                assert "fieldValidation" in {p["name"] for p in op["parameters"]}


def test_component_schemas_look_like_the_real_server() -> None:
    """Schemas use single JSON types, refs wrapped in allOf, no kubernetes-validate enums, and keep the
    patch/list extensions kubectl needs."""
    doc = openapi.build_v3_document(MINOR, "apis/apps/v1", [])
    assert doc is not None
    schemas = doc["components"]["schemas"]
    dep = schemas["io.k8s.api.apps.v1.Deployment"]
    assert dep["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}
    ]
    assert dep["properties"]["apiVersion"] == {
        "description": dep["properties"]["apiVersion"]["description"],
        "type": "string",
    }
    assert dep["properties"]["spec"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"}
    ]
    strategy = schemas["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"]
    assert strategy["x-kubernetes-patch-strategy"] == "retainKeys"
    containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-list-type"] == "map"
    assert schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"] == "int-or-string"
    text = json.dumps(doc)
    assert '"null"' not in text
    assert "x-tamer-" not in text


def test_unknown_group_versions_have_no_document() -> None:
    """Unknown or unserved paths give None; path prefixes and hash suffixes are tolerated."""
    assert openapi.build_v3_document(MINOR, "apis/nope.example.com/v1", []) is None
    assert openapi.build_v3_document(MINOR, "apis", []) is None
    a = openapi.build_v3_document(MINOR, "/openapi/v3/apis/apps/v1?hash=ABC", [])
    assert a is openapi.build_v3_document(MINOR, "apis/apps/v1", [])


def test_crd_group_version_is_published_with_its_schema() -> None:
    """A CRD adds a group-version to the index and a document with its schema (plus apiVersion, kind,
    metadata and GVK) and resource paths without strategic merge patch; unserved versions are absent."""
    index = openapi.build_v3_index(MINOR, [CRONTAB_CRD])
    assert "apis/stable.example.com/v1" in index["paths"]
    assert "apis/stable.example.com/v1beta1" not in index["paths"]
    doc = openapi.build_v3_document(MINOR, "apis/stable.example.com/v1", [CRONTAB_CRD])
    assert doc is not None
    schema = doc["components"]["schemas"]["com.example.stable.v1.CronTab"]
    assert schema["x-kubernetes-group-version-kind"] == [
        {"group": "stable.example.com", "kind": "CronTab", "version": "v1"}
    ]
    assert schema["properties"]["spec"]["properties"]["replicas"]["type"] == "integer"
    assert schema["properties"]["metadata"]["allOf"][0]["$ref"].endswith("ObjectMeta")
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" in doc["components"]["schemas"]
    item = doc["paths"]["/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}"]
    content = item["patch"]["requestBody"]["content"]
    assert "application/strategic-merge-patch+json" not in content
    assert "application/apply-patch+yaml" in content
    assert "/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}/status" in doc["paths"]
    refs: set[str] = set()
    _all_refs(doc, refs)
    assert all(r.split("/")[-1] in doc["components"]["schemas"] for r in refs)


def test_hash_changes_only_for_the_group_version_whose_crd_changed() -> None:
    """Changing a CRD's schema changes its group-version hash but not the built-in ones."""
    changed = copy.deepcopy(CRONTAB_CRD)
    changed["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"][
        "extra"
    ] = {"type": "string"}
    a = openapi.build_v3_index(MINOR, [CRONTAB_CRD])["paths"]
    b = openapi.build_v3_index(MINOR, [changed])["paths"]
    assert a["apis/stable.example.com/v1"] != b["apis/stable.example.com/v1"]
    assert a["apis/apps/v1"] == b["apis/apps/v1"]
    assert a["api/v1"] == openapi.build_v3_index(MINOR, [])["paths"]["api/v1"]


def test_v2_document_has_every_definition_and_resolvable_refs() -> None:
    """The Swagger 2.0 document is JSON, contains built-in and CRD definitions and only resolvable refs."""
    doc = openapi.build_v2(MINOR, [CRONTAB_CRD])
    assert doc["swagger"] == "2.0"
    defs = doc["definitions"]
    assert "io.k8s.api.core.v1.Pod" in defs and "com.example.stable.v1.CronTab" in defs
    assert "/apis/apps/v1/namespaces/{namespace}/deployments/{name}" in doc["paths"]
    refs: set[str] = set()
    _all_refs(doc, refs)
    for ref in refs:
        assert ref.startswith("#/definitions/") and ref.split("/")[-1] in defs, ref
    assert json.loads(openapi.v2_json(MINOR, [CRONTAB_CRD])) == json.loads(json.dumps(doc))


def test_resources_argument_restricts_the_published_group_versions() -> None:
    """An explicit resource list (ResourceType-shaped objects) decides what is published."""
    only = [r for r in BUILTIN_TYPES if r.kind == "ConfigMap"]
    index = openapi.build_v3_index(MINOR, [], resources=only)
    assert list(index["paths"]) == ["api/v1"]
    doc = openapi.build_v3_document(MINOR, "api/v1", [], resources=only)
    assert doc is not None
    assert any(p.endswith("/configmaps/{name}") for p in doc["paths"])
    assert not any("/pods" in p for p in doc["paths"])


def test_schema_lookup_resolves_paths_and_patch_metadata() -> None:
    """SchemaLookup walks objects through refs and keeps the referencing node's extensions."""
    lookup = openapi.schema_lookup(MINOR, [CRONTAB_CRD])
    assert lookup is openapi.schema_lookup(MINOR, [CRONTAB_CRD])
    ports = lookup.at("apps/v1", "Deployment", ["spec", "template", "spec", "containers", 0, "ports"])
    assert openapi.list_type(ports) == "map"
    assert openapi.list_map_keys(ports) == ("containerPort", "protocol")
    assert openapi.patch_merge_key(ports) == "containerPort"
    strategy = lookup.at("apps/v1", "Deployment", ["spec", "strategy"])
    assert openapi.patch_strategies(strategy) == ("retainKeys",)
    assert "rollingUpdate" in strategy["properties"]
    tolerations = lookup.at("v1", "Pod", ["spec", "tolerations"])
    assert openapi.list_type(tolerations) == "atomic"
    finalizers = lookup.at("v1", "Pod", ["metadata", "finalizers"])
    assert openapi.list_type(finalizers) == "set"
    cpu = lookup.at("v1", "Pod", ["spec", "containers", 0, "resources", "limits", "cpu"])
    assert openapi.is_quantity(cpu)
    port = lookup.at("v1", "Service", ["spec", "ports", 0, "targetPort"])
    assert openapi.is_int_or_string(port)
    assert openapi.map_is_atomic(lookup.at("apps/v1", "Deployment", ["spec", "selector"]))
    assert lookup.at("apps/v1", "Deployment", ["spec", "nope"]) is None
    assert lookup.at("stable.example.com/v1", "CronTab", ["spec", "replicas"]) == {"type": "integer"}
    assert lookup.is_crd("stable.example.com/v1", "CronTab")
    assert not lookup.is_crd("apps/v1", "Deployment")
    assert not lookup.has_kind("stable.example.com/v1beta1", "CronTab")
    assert lookup.definition_name("v1", "Pod") == "io.k8s.api.core.v1.Pod"


def test_v3_build_time_is_small_and_cached() -> None:
    """Building every v3 document from a cold interpreter stays well under a few seconds, and a cached
    rebuild costs almost nothing (numbers printed for the report)."""
    code = (
        "import time\n"
        "t0 = time.perf_counter()\n"
        "from tamer_tui.sim import openapi\n"
        "idx = openapi.build_v3_index(31, [])\n"
        "for gv in idx['paths']:\n"
        "    openapi.v3_document_json(31, gv, [])\n"
        "t1 = time.perf_counter()\n"
        "for gv in idx['paths']:\n"
        "    openapi.v3_document_json(31, gv, [])\n"
        "t2 = time.perf_counter()\n"
        "print(t1 - t0, t2 - t1)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    cold, cached = (float(x) for x in out.stdout.split())
    print(f"v3 documents: cold build {cold * 1000:.0f} ms, cached {cached * 1000:.2f} ms")
    assert cold < 10.0
    assert cached < 0.05
    start = time.perf_counter()
    openapi.build_v3_document(MINOR, "api/v1", [])
    assert time.perf_counter() - start < 0.05


def test_documents_pass_an_independent_openapi_validator() -> None:
    """The generated OpenAPI 3.0 (core and CRD group-versions) and Swagger 2.0 documents validate with
    openapi-spec-validator (skipped when that optional package is not installed)."""
    osv = pytest.importorskip("openapi_spec_validator")
    osv.validate(openapi.build_v3_document(MINOR, "apis/apps/v1", []))
    osv.validate(openapi.build_v3_document(MINOR, "apis/stable.example.com/v1", [CRONTAB_CRD]))
    osv.validate(openapi.build_v3_document(MINOR, "apis/batch/v1", []))


@pytest.mark.parametrize("minor", [openapi.available_minors()[0], openapi.available_minors()[-1]])
def test_other_schema_versions_build_consistent_documents(minor: int) -> None:
    """The oldest and newest shipped schema versions also give documents whose refs all resolve."""
    for gv in openapi.build_v3_index(minor, [])["paths"]:
        doc = openapi.build_v3_document(minor, gv, [])
        assert doc is not None
        refs: set[str] = set()
        _all_refs(doc, refs)
        assert all(r.split("/")[-1] in doc["components"]["schemas"] for r in refs), (minor, gv)
    lookup = openapi.schema_lookup(minor)
    assert lookup.schema_minor == minor
    assert openapi.list_type(lookup.at("v1", "Pod", ["spec", "containers"])) == "map"
