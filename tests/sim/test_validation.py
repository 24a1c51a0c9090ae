"""Tests of field validation (tamer_tui.sim.validation): unknown/duplicate/type/required errors worded
like kube-apiserver (cases mirror kubernetes' test/integration/apiserver/field_validation_test.go)."""

from __future__ import annotations

import copy
import json
from typing import Any

from tamer_tui.sim import openapi
from tamer_tui.sim.validation import (
    FieldError,
    duplicate_fields,
    go_repr,
    invalid_patch_status,
    invalid_status,
    prune_unknown,
    strict_error_message,
    validate,
    warning_messages,
)

CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "tests.schema.example.com"},
    "spec": {
        "group": "schema.example.com",
        "scope": "Namespaced",
        "names": {"plural": "tests", "kind": "Test"},
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
                                    "cronSpec": {"type": "string"},
                                    "knownField1": {"type": "string"},
                                    "replicas": {"type": "integer"},
                                    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                                    "port": {"x-kubernetes-int-or-string": True},
                                    "closed": {"type": "object"},
                                    "embeddedObj": {
                                        "x-kubernetes-embedded-resource": True,
                                        "type": "object",
                                        "properties": {
                                            "apiversion": {"type": "string"},
                                            "kind": {"type": "string"},
                                            "metadata": {"type": "object"},
                                        },
                                    },
                                    "ports": {
                                        "type": "array",
                                        "x-kubernetes-list-map-keys": ["containerPort", "protocol"],
                                        "x-kubernetes-list-type": "map",
                                        "items": {
                                            "type": "object",
                                            "required": ["containerPort", "protocol"],
                                            "properties": {
                                                "containerPort": {"format": "int32", "type": "integer"},
                                                "hostIP": {"type": "string"},
                                                "hostPort": {"format": "int32", "type": "integer"},
                                                "name": {"type": "string"},
                                                "protocol": {"type": "string"},
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

INVALID_DEPLOYMENT = """
{
  "apiVersion": "apps/v1",
  "kind": "Deployment",
  "metadata": {
    "name": "dupename",
    "name": "test",
    "labels": {"app": "nginx"},
    "unknownMeta": "metaVal"
  },
  "spec": {
    "unknown1": "val1",
    "unknownDupe": "valDupe",
    "unknownDupe": "valDupe2",
    "paused": true,
    "paused": false,
    "selector": {"matchLabels": {"app": "nginx"}},
    "template": {
      "metadata": {"labels": {"app": "nginx"}},
      "spec": {
        "containers": [{
          "name": "nginx",
          "image": "nginx:latest",
          "unknownNested": "val1",
          "imagePullPolicy": "Always",
          "imagePullPolicy": "Never"
        }]
      }
    }
  }
}
"""

VALID_DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "nginx"}, "annotations": {"a1": "foo"}},
    "spec": {
        "replicas": 2,
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
        "selector": {"matchLabels": {"app": "nginx"}},
        "template": {
            "metadata": {"labels": {"app": "nginx"}, "creationTimestamp": None},
            "spec": {
                "containers": [
                    {
                        "name": "nginx",
                        "image": "nginx:latest",
                        "ports": [{"containerPort": 80}],
                        "resources": {"limits": {"cpu": 1, "memory": "1Gi"}, "requests": {"cpu": 0.5}},
                        "livenessProbe": {"httpGet": {"port": "http", "path": "/"}},
                    }
                ],
                "tolerations": [{"key": "k", "operator": "Exists"}],
            },
        },
    },
    "status": {"replicas": 2, "conditions": [{"type": "Available", "status": "True"}]},
}


def test_valid_objects_have_no_errors() -> None:
    """A realistic Deployment (quantities as numbers, IntOrString as both, nulls, status) is valid."""
    assert validate(VALID_DEPLOYMENT, LOOKUP) == []
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}}
    assert validate(cm, LOOKUP) == []


def test_strict_post_message_matches_the_real_server_order() -> None:
    """Duplicates and unknown fields of a raw body come in document order, worded like kube-apiserver."""
    errors = validate(json.loads(INVALID_DEPLOYMENT), LOOKUP, raw=INVALID_DEPLOYMENT)
    assert strict_error_message("apps/v1", "Deployment", errors) == (
        'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: '
        'duplicate field "metadata.name", unknown field "metadata.unknownMeta", unknown field "spec.unknown1", '
        'unknown field "spec.unknownDupe", duplicate field "spec.paused", unknown field '
        '"spec.template.spec.containers[0].unknownNested", duplicate field '
        '"spec.template.spec.containers[0].imagePullPolicy"'
    )
    assert warning_messages(errors)[:2] == [
        'duplicate field "metadata.name"',
        'unknown field "metadata.unknownMeta"',
    ]


def test_unknown_fields_of_a_patched_object_in_sorted_order() -> None:
    """With sort_keys (patched objects) unknown fields are reported in sorted key order, as the real
    server does after a merge or strategic merge patch."""
    obj = copy.deepcopy(VALID_DEPLOYMENT)
    obj["spec"]["unknown1"] = "v"
    obj["spec"]["unknownDupe"] = "v"
    obj["spec"]["template"]["spec"]["containers"][0]["unknownNested"] = "v"
    msgs = warning_messages(validate(obj, LOOKUP, sort_keys=True))
    assert msgs == [
        'unknown field "spec.template.spec.containers[0].unknownNested"',
        'unknown field "spec.unknown1"',
        'unknown field "spec.unknownDupe"',
    ]


def test_duplicate_fields_of_any_document() -> None:
    """duplicate_fields reports repeated keys with their full path in document order."""
    raw = '{"spec": {"a": 1, "a": 2, "l": [{"x": 1, "x": 2}]}, "spec": {}}'
    assert [e.message for e in duplicate_fields(raw)] == [
        'duplicate field "spec.a"',
        'duplicate field "spec.l[0].x"',
        'duplicate field "spec"',
    ]
    assert duplicate_fields(b"not json") == []


def test_type_errors_use_the_go_decoder_wording() -> None:
    """A string where an int32 is expected and a number where a string is expected give Go's
    'cannot unmarshal' message; the first one decides the BadRequest message."""
    obj = copy.deepcopy(VALID_DEPLOYMENT)
    obj["spec"]["replicas"] = "3"
    obj["spec"]["template"]["spec"]["containers"][0]["image"] = 5
    obj["metadata"]["labels"]["n"] = 1
    errors = [e for e in validate(obj, LOOKUP) if e.kind == "type"]
    assert [e.path for e in errors] == [
        ".metadata.labels.n",
        ".spec.replicas",
        ".spec.template.spec.containers[0].image",
    ]
    assert errors[1].message == (
        "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
    )
    assert errors[2].message == (
        "json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.image "
        "of type string"
    )
    assert errors[0].message == (
        "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"
    )
    assert strict_error_message("apps/v1", "Deployment", errors).endswith(errors[0].message)


def test_more_type_mismatches() -> None:
    """Booleans, fractional numbers, objects for lists and int32 overflow are all type errors."""
    obj = copy.deepcopy(VALID_DEPLOYMENT)
    obj["spec"]["paused"] = "yes"
    obj["spec"]["minReadySeconds"] = 1.5
    obj["spec"]["revisionHistoryLimit"] = 2**40
    obj["spec"]["template"]["spec"]["containers"] = {"name": "x"}
    obj["spec"]["strategy"]["rollingUpdate"]["maxSurge"] = True
    by_path = {e.path: e.message for e in validate(obj, LOOKUP) if e.kind == "type"}
    assert "cannot unmarshal string" in by_path[".spec.paused"] and by_path[".spec.paused"].endswith("bool")
    assert "number 1.5" in by_path[".spec.minReadySeconds"]
    assert ".spec.revisionHistoryLimit" in by_path
    assert by_path[".spec.template.spec.containers"].endswith("of type []v1.Container")
    assert by_path[".spec.strategy.rollingUpdate.maxSurge"].endswith("intstr.IntOrString")


def test_required_fields_are_reported_outside_status_and_metadata() -> None:
    """Missing required fields (selector, container name) are 'Required value'; status is not checked."""
    obj = copy.deepcopy(VALID_DEPLOYMENT)
    del obj["spec"]["selector"]
    del obj["spec"]["template"]["spec"]["containers"][0]["name"]
    obj["status"]["conditions"] = [{"reason": "x"}]
    required = [e for e in validate(obj, LOOKUP) if e.kind == "required"]
    assert [e.path for e in required] == [".spec.template.spec.containers[0].name", ".spec.selector"]
    status = invalid_status("Deployment", "apps", "web", required)
    assert status["code"] == 422 and status["reason"] == "Invalid"
    assert status["message"] == (
        'Deployment.apps "web" is invalid: [spec.template.spec.containers[0].name: Required value, '
        "spec.selector: Required value]"
    )
    assert status["details"]["causes"][1] == {
        "reason": "FieldValueRequired",
        "message": "Required value",
        "field": "spec.selector",
    }
    assert validate(obj, LOOKUP, check_required=False) == []


def test_crd_strict_errors_duplicates_first_and_embedded_metadata() -> None:
    """For a CRD, duplicates come first; unknown fields are checked inside the schema, the embedded
    resource's metadata (as ObjectMeta) and list items; preserve-unknown and maps accept anything."""
    raw = json.dumps(
        {
            "apiVersion": "schema.example.com/v1",
            "kind": "Test",
            "metadata": {"name": "t", "unknownMeta": "x"},
            "spec": {
                "unknown1": "v",
                "knownField1": "v",
                "free": {"anything": {"goes": [1]}},
                "labels": {"a": "b"},
                "ports": [{"containerPort": 80, "protocol": "TCP", "unknownNested": 1}],
                "embeddedObj": {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "cm", "namespace": "n", "unknownEmbeddedMeta": "x"},
                },
                "closed": {"pruned": 1},
            },
        }
    ).replace('"knownField1": "v"', '"knownField1": "v", "knownField1": "w"')
    errors = validate(json.loads(raw), LOOKUP, raw=raw)
    msgs = [e.message for e in errors]
    assert msgs[0] == 'duplicate field "spec.knownField1"'
    assert set(msgs[1:]) == {
        'unknown field "metadata.unknownMeta"',
        'unknown field "spec.unknown1"',
        'unknown field "spec.ports[0].unknownNested"',
        'unknown field "spec.embeddedObj.metadata.unknownEmbeddedMeta"',
        'unknown field "spec.closed.pruned"',
    }
    assert all(e.crd for e in errors)


def test_crd_type_errors_use_openapi_wording() -> None:
    """CRD type errors are worded like the CRD validator and become a 422 Invalid status."""
    obj = {
        "apiVersion": "schema.example.com/v1",
        "kind": "Test",
        "metadata": {"name": "t"},
        "spec": {"replicas": "three", "port": 8080, "knownField1": 5, "labels": {"a": 1}},
    }
    errors = validate(obj, LOOKUP)
    assert [(e.path, e.message) for e in errors] == [
        (".spec.replicas", 'spec.replicas in body must be of type integer: "string"'),
        (".spec.knownField1", 'spec.knownField1 in body must be of type string: "integer"'),
        (".spec.labels.a", 'spec.labels.a in body must be of type string: "integer"'),
    ]
    status = invalid_status("Test", "schema.example.com", "t", errors[:1])
    assert status["message"] == (
        'Test.schema.example.com "t" is invalid: spec.replicas: Invalid value: "three": '
        'spec.replicas in body must be of type integer: "string"'
    )
    assert status["details"]["causes"][0]["reason"] == "FieldValueTypeInvalid"


def test_smd_paths_use_list_keys() -> None:
    """The server-side apply wording uses structured-merge-diff paths with list-map keys."""
    obj = copy.deepcopy(VALID_DEPLOYMENT)
    obj["spec"]["template"]["spec"]["containers"][0]["ports"][0]["bogus"] = 1
    (err,) = validate(obj, LOOKUP)
    assert err.smd_message == (
        '.spec.template.spec.containers[name="nginx"].ports[containerPort=80].bogus: field not declared in schema'
    )
    assert err.field_path == "spec.template.spec.containers[0].ports[0].bogus"


def test_prune_unknown_drops_exactly_the_undeclared_fields() -> None:
    """prune_unknown removes unknown fields (also nested and in lists) and keeps everything declared."""
    obj = copy.deepcopy(VALID_DEPLOYMENT)
    obj["spec"]["foo"] = 1
    obj["spec"]["template"]["spec"]["containers"][0]["bar"] = {"x": 1}
    obj["metadata"]["baz"] = True
    pruned = prune_unknown(obj, LOOKUP)
    assert pruned == VALID_DEPLOYMENT
    assert obj["spec"]["foo"] == 1
    crd_obj = {
        "apiVersion": "schema.example.com/v1",
        "kind": "Test",
        "metadata": {"name": "t"},
        "spec": {"free": {"a": 1}, "closed": {"b": 2}, "zzz": 1},
    }
    assert prune_unknown(crd_obj, LOOKUP)["spec"] == {"free": {"a": 1}, "closed": {}}
    unknown_kind = {"apiVersion": "x/v1", "kind": "Nope", "spec": {"a": 1}}
    assert prune_unknown(unknown_kind, LOOKUP) == unknown_kind
    assert validate(unknown_kind, LOOKUP) == []


def test_patch_invalid_status_and_go_repr() -> None:
    """The strict failure of a patch is a 422 on field 'patch' showing the patch like Go's %+v."""
    patch = {"spec": {"volumes": [{"name": "v", "hostPath": {"path": "/x"}}], "replicas": 2, "on": True}}
    shown = go_repr(patch)
    assert shown == "map[spec:map[on:true replicas:2 volumes:[map[hostPath:map[path:/x] name:v]]]]"
    status = invalid_patch_status(shown, 'strict decoding error: unknown field "spec.volumes"')
    assert status["code"] == 422
    assert status["message"] == (
        ' "" is invalid: patch: Invalid value: "map[spec:map[on:true replicas:2 volumes:[map[hostPath:map[path:/x] '
        'name:v]]]]": strict decoding error: unknown field "spec.volumes"'
    )
    assert status["details"]["causes"][0]["field"] == "patch"


def test_field_error_is_a_value_object() -> None:
    """FieldError compares by path/kind/message and formats its bare field path."""
    a = FieldError(".spec.a", "unknown", 'unknown field "spec.a"')
    assert a == FieldError(".spec.a", "unknown", 'unknown field "spec.a"', value=3)
    assert a.field_path == "spec.a"
    assert a.smd_message == ".spec.a: field not declared in schema"
