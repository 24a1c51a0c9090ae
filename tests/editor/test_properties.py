"""Property tests: validation returns problems for any input and never raises."""

from __future__ import annotations

import string

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tamer_tui.core.kube.yamlcheck import ERROR, crd_schemas, load_schemas, parse_documents, validate_text

SCHEMAS = load_schemas("1.31")
CRDS = crd_schemas([{
    "spec": {"group": "example.com", "names": {"kind": "Widget"}, "versions": [{
        "name": "v1", "served": True,
        "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {
            "type": "object", "properties": {
                "size": {"type": "integer", "minimum": 0, "maximum": 5},
                "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 8},
                "any": {"x-kubernetes-int-or-string": True,
                        "anyOf": [{"type": "integer"}, {"type": "string"}]},
            }}}}},
    }]},
}])

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KINDS = [("v1", "ConfigMap"), ("v1", "Pod"), ("v1", "Service"), ("apps/v1", "Deployment"),
         ("batch/v1", "CronJob"), ("networking.k8s.io/v1", "Ingress"), ("example.com/v1", "Widget"),
         ("v1", "Nope"), ("", "")]
FIELDS = ["spec", "metadata", "data", "template", "containers", "name", "image", "replicas", "ports",
          "selector", "labels", "size", "any", "items", "status", "port", "targetPort", "resources"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12))
values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=6)),
                                               children, max_size=5)),
    max_leaves=25,
)


def _check(text: str) -> None:
    result = validate_text(text, SCHEMAS, CRDS)
    lines = max(1, len(text.splitlines()))
    for p in result.problems:
        assert 1 <= p.line <= lines + 1, (p, lines)
        assert p.column >= 1
        assert p.severity in ("error", "warning", "info")
        assert 0 <= p.doc < max(1, len(result.documents))


@SETTINGS
@given(st.text(alphabet=string.printable + "\u00e9\u2028\ufeff\x00", max_size=300))
def test_random_text_never_raises(text: str) -> None:
    """Any text at all (control characters, tabs, stray markers) gives problems, never an exception."""
    _check(text)


@SETTINGS
@given(st.lists(st.sampled_from(["a:", " b: 1", "- x", "  - [1, {", "---", "...", "&a x", "*a", "? k", ": v",
                                 "'q", '"q\\', "key: |", "  text", "!!binary zz", "<<: *a", "%YAML 1.1",
                                 "\t", "c: !tag v", "{a: 1}", "apiVersion: v1", "kind: Pod"]),
                max_size=25))
def test_random_yaml_fragments_never_raise(lines: list[str]) -> None:
    """YAML-looking fragments glued together (broken structures, aliases, tags) never raise."""
    _check("\n".join(lines))


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(KINDS), values), min_size=1, max_size=3))
def test_random_objects_of_known_kinds_never_raise(objects: list) -> None:
    """Random values under real apiVersion/kind pairs (built-in and CRD) give problems, never raise, and
    every problem's line holds something of its document."""
    docs = []
    for (api_version, kind), body in objects:
        obj = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}}
        if isinstance(body, dict):
            obj.update(body)
        else:
            obj["spec"] = body
        docs.append(obj)
    text = yaml.safe_dump_all(docs, explicit_start=True)
    _check(text)
    parsed, problems = parse_documents(text)
    assert not [p for p in problems if p.severity == ERROR]
    assert len(parsed) == len(docs)


@SETTINGS
@given(values)
def test_random_values_as_documents_never_raise(value: object) -> None:
    """Any YAML value as a whole document (scalars, lists, nested maps) validates without raising."""
    _check(yaml.safe_dump(value))
