"""Offline validation: syntax and schema problems at the right lines, CRD schemas, templates, versions."""

from __future__ import annotations

import time

import pytest

from tamer_tui.core.kube.editor import open_template, render_template, template_names
from tamer_tui.core.kube.yamlcheck import (
    ERROR,
    WARNING,
    available_schema_versions,
    crd_schemas,
    load_schemas,
    parse_documents,
    parse_path,
    pick_schema_version,
    validate_text,
)

SCHEMAS = load_schemas("1.31")

TWO_DOCS = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: fast
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: "three"
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
        imagePullPolicy: Always
"""


def _only(problems: list, **match: object) -> list:
    return [p for p in problems if all(getattr(p, k) == v for k, v in match.items())]


def test_schema_set_is_shipped() -> None:
    """kubernetes-validate ships strict schemas and the 1.31 set loads with the built-in kinds indexed."""
    assert SCHEMAS is not None
    assert SCHEMAS.version == "1.31"
    assert SCHEMAS.schema_for("apps/v1", "Deployment") is not None
    assert SCHEMAS.schema_for("v1", "Deployment") is None
    assert (1, 31) in available_schema_versions()


def test_wrong_type_in_second_document_is_reported_at_its_line() -> None:
    """A wrong type at line 13 of the text (document 2) is reported at line 13, column of the value."""
    assert TWO_DOCS.splitlines()[12] == '  replicas: "three"'
    result = validate_text(TWO_DOCS, SCHEMAS)
    errors = result.errors
    assert len(errors) == 1, errors
    (err,) = errors
    assert (err.doc, err.line, err.column) == (1, 13, 13)
    assert err.path == ".spec.replicas"
    assert "expected integer, got string" in err.message
    assert [d.title for d in result.documents] == ["ConfigMap settings", "Deployment web"]
    assert [(d.start_line, d.end_line) for d in result.documents] == [(1, 6), (7, 23)]


def test_unknown_field_points_at_its_key() -> None:
    """An undeclared field deep in a pod template is an error at the key's own line and column."""
    text = TWO_DOCS.replace('"three"', "3").replace("        imagePullPolicy: Always\n",
                                                    "        imagePullPolicy: Always\n        imagePulPolicy: x\n")
    result = validate_text(text, SCHEMAS)
    (err,) = result.errors
    assert err.message == 'unknown field "spec.template.spec.containers[0].imagePulPolicy"'
    assert (err.line, err.column) == (24, 9)
    assert err.path == ".spec.template.spec.containers[0].imagePulPolicy"


def test_syntax_error_has_line_and_column_and_other_documents_still_validate() -> None:
    """A syntax error in document 1 is reported where the parser stopped; document 2 is still checked."""
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n   bad: indent\n---\n" + TWO_DOCS.split("---\n")[1]
    result = validate_text(text, SCHEMAS)
    syntax = _only(result.problems, source="yaml")
    assert len(syntax) == 1
    assert syntax[0].line == 5 and syntax[0].severity == ERROR and syntax[0].doc == 0
    assert syntax[0].message.startswith("YAML syntax:")
    schema = _only(result.problems, path=".spec.replicas")
    assert text.splitlines()[11] == "  replicas: \"three\""
    assert len(schema) == 1 and schema[0].line == 12 and schema[0].doc == 1


def test_unclosed_flow_sequence_reports_the_opening_line() -> None:
    """An unclosed ``[`` is reported with the line where the sequence started in the message."""
    result = validate_text("a: [1, 2\nb: 3\n")
    (err,) = result.errors
    assert "flow sequence" in err.message and "line 1" in err.message


def test_crlf_and_cr_line_endings_count_like_the_editor() -> None:
    """``\\r\\n`` line endings do not shift line numbers."""
    text = TWO_DOCS.replace("\n", "\r\n")
    (err,) = validate_text(text, SCHEMAS).errors
    assert err.line == 13


def test_duplicate_keys_are_errors_at_the_second_key() -> None:
    """Kubernetes refuses duplicate keys: reported at the second occurrence, naming the first line."""
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: 1\n  k: 2\n"
    errors = validate_text(text, SCHEMAS).errors
    dup = [e for e in errors if "duplicate key" in e.message]
    assert len(dup) == 1 and dup[0].line == 7 and "line 6" in dup[0].message


def test_object_shape_problems() -> None:
    """Missing apiVersion/kind/name, a list document, a kind typo and a kind in the wrong group are errors."""
    text = ("kind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"
            "---\n- a\n---\napiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: x}\n"
            "---\napiVersion: v1\nkind: Deployment\nmetadata: {name: x}\n")
    result = validate_text(text, SCHEMAS)
    messages = {(p.doc, p.message) for p in result.errors}
    assert (0, "apiVersion is missing") in messages
    assert (1, "metadata.name is missing") in messages
    assert (2, "a Kubernetes object must be a mapping, not array") in messages
    assert (3, "unknown kind Deploymnet in apps/v1 (did you mean Deployment?)") in messages
    assert (4, "no Deployment in v1 (Kubernetes 1.31 has it in apps/v1)") in messages


def test_int_or_string_quantities_and_int32_ranges() -> None:
    """IntOrString and Quantity accept numbers and strings but not lists; int32 overflows are caught."""
    text = """\
apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  ports:
  - port: 80
    targetPort: http
  - port: 81
    targetPort: 8081
  - port: 99999999999
    targetPort: [1]
"""
    errors = validate_text(text, SCHEMAS).errors
    assert {e.path for e in errors} == {".spec.ports[2].port", ".spec.ports[2].targetPort"}
    assert any("int32 range" in e.message for e in errors)
    pod = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: c
    image: busybox
    resources:
      limits: {cpu: 1, memory: 128Mi}
      requests: {cpu: 0.5}
"""
    assert validate_text(pod, SCHEMAS).problems == []


def test_missing_required_field_is_a_warning_at_the_parent() -> None:
    """A missing required field (a partial apply may be fine) is a warning pointing at its parent."""
    text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: 1\n"
    result = validate_text(text, SCHEMAS)
    assert result.errors == []
    warnings = {p.path: p for p in result.problems if p.severity == WARNING}
    assert set(warnings) == {".spec.selector", ".spec.template"}
    assert warnings[".spec.selector"].line == 4


def test_templates_are_valid_for_old_and_new_versions() -> None:
    """Every template renders to an object without any problem on the oldest and newest shipped schemas."""
    oldest, newest = available_schema_versions()[0], available_schema_versions()[-1]
    for version in (f"{oldest[0]}.{oldest[1]}", f"{newest[0]}.{newest[1]}"):
        schemas = load_schemas(version)
        for name in template_names():
            text = render_template(name, name="demo", namespace="team-a")
            assert validate_text(text, schemas).problems == [], (version, name)
    assert "namespace: team-a" in render_template("deploy", name="demo", namespace="team-a")
    assert render_template("blank") == ""
    opened = open_template("svc", name="api", namespace="prod", context="c1")
    assert (opened.source.origin, opened.source.kind, opened.source.name, opened.source.context) == (
        "new", "Service", "api", "c1")


def test_pick_schema_version_is_the_nearest_shipped_one() -> None:
    """gitVersions map to the nearest shipped minor version (clamped at both ends)."""
    versions = available_schema_versions()
    lo, hi = versions[0], versions[-1]
    assert pick_schema_version("v1.31.4+k3s1") == "1.31"
    assert pick_schema_version("v1.2.0") == f"{lo[0]}.{lo[1]}"
    assert pick_schema_version("v1.99.1") == f"{hi[0]}.{hi[1]}"
    assert pick_schema_version("") == f"{hi[0]}.{hi[1]}"
    assert pick_schema_version("nonsense") == f"{hi[0]}.{hi[1]}"


CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [{
            "name": "v1", "served": True, "storage": True,
            "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {
                    "spec": {
                        "type": "object",
                        "required": ["size"],
                        "properties": {
                            "size": {"type": "integer", "minimum": 1, "maximum": 10},
                            "color": {"type": "string", "enum": ["red", "blue"]},
                            "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
                            "port": {"x-kubernetes-int-or-string": True},
                            "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
                        },
                    },
                },
            }},
        }],
    },
}


def test_crd_schema_validation_offline() -> None:
    """A custom resource is checked against its CRD: unknown fields, types, enum, pattern, bounds, items."""
    crds = crd_schemas([CRD])
    assert set(crds) == {("example.com/v1", "Widget")}
    good = """\
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, labels: {a: b}}
spec:
  size: 3
  color: red
  code: ABC
  port: http
  extra: {anything: [1, 2]}
  tags: [a, b]
"""
    assert validate_text(good, SCHEMAS, crds).problems == []
    bad = """\
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, bogus: 1}
spec:
  size: 30
  color: green
  code: abc
  port: [1]
  tags: [a, b, c]
  shape: round
"""
    problems = validate_text(bad, SCHEMAS, crds).problems
    by_path = {p.path: p for p in problems}
    assert by_path[".metadata.bogus"].line == 3
    assert by_path[".spec.size"].message == "spec.size: should be <= 10"
    assert by_path[".spec.size"].line == 5
    assert "unsupported value" in by_path[".spec.color"].message
    assert "pattern" in by_path[".spec.code"].message
    assert "integer or string" in by_path[".spec.port"].message
    assert "at most 2 items" in by_path[".spec.tags"].message
    assert by_path[".spec.shape"].message == 'unknown field "spec.shape"' and by_path[".spec.shape"].line == 10
    assert all(p.source == "crd" for p in problems)
    unknown = validate_text(bad.replace("example.com/v1", "example.com/v2"), SCHEMAS, crds).problems
    assert [p.severity for p in unknown] == [WARNING] and "no CRD schema" in unknown[0].message


def test_list_kind_validates_every_item_at_its_line() -> None:
    """``kind: List`` (kubectl get -o yaml) validates each item with the item's own lines."""
    text = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: a}
  data: {k: v}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: b}
  data: {k: 1}
"""
    (err,) = validate_text(text, SCHEMAS).errors
    assert err.path == ".items[1].data.k" and err.line == 11


def test_anchors_merge_keys_and_timestamps() -> None:
    """Anchors and merge keys resolve; timestamps stay strings; lines of merged-in keys are their own."""
    text = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  annotations: &ann
    when: 2024-01-02
data:
  <<: *ann
  other: x
"""
    docs, problems = parse_documents(text)
    assert problems == []
    assert docs[0].value["data"] == {"when": "2024-01-02", "other": "x"}
    assert docs[0].locate(("data", "other")) == (9, 10)
    assert validate_text(text, SCHEMAS).problems == []


def test_locate_understands_server_side_apply_list_keys() -> None:
    """``containers[name="b"].image`` (conflict paths) maps to the right list item."""
    docs, _ = parse_documents("spec:\n  containers:\n  - name: a\n    image: x\n  - name: b\n    image: y\n")
    path = parse_path('.spec.containers[name="b"].image')
    assert path == ("spec", "containers", '[name="b"]', "image")
    assert docs[0].locate(path) == (6, 12)
    assert docs[0].locate(parse_path("spec.containers[0].image")) == (4, 12)


def test_alias_bomb_is_refused_quickly() -> None:
    """A "billion laughs" alias bomb gives an error instead of eating memory or time."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    start = time.monotonic()
    result = validate_text("\n".join(lines) + "\n", SCHEMAS)
    assert time.monotonic() - start < 5
    assert any("expands to more than" in p.message for p in result.errors)


@pytest.mark.parametrize("text", ["", "\n\n", "# just a comment\n", "---\n---\n", "...\n"])
def test_empty_texts_have_no_documents(text: str) -> None:
    """Empty texts, comments and bare markers give no documents and no problems."""
    result = validate_text(text, SCHEMAS)
    assert result.documents == [] and result.problems == []
