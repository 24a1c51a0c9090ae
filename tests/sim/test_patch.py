"""Tests of JSON merge patch, JSON patch and strategic merge patch (tamer_tui.sim.patch)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tamer_tui.sim import openapi
from tamer_tui.sim.patch import PatchError, json_equal, json_merge_patch, json_patch, strategic_merge_patch

LOOKUP = openapi.schema_lookup(31)

# --------------------------------------------------------------------------- generators

_scalars = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=5)
_keys = st.text(alphabet="abcdef", min_size=1, max_size=3)
json_values = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_keys, children, max_size=3),
    max_leaves=12,
)
json_objects = st.dictionaries(_keys, json_values, max_size=4)
_no_null_values = st.recursive(
    st.booleans() | st.integers(-1000, 1000) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_keys, children, max_size=3),
    max_leaves=12,
)
no_null_objects = st.dictionaries(_keys, _no_null_values, max_size=4)


RELAXED = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)


def merge_diff(a: Any, b: Any) -> Any:
    """A JSON merge patch turning ``a`` into ``b`` (``b`` without nulls)."""
    if not isinstance(a, dict) or not isinstance(b, dict):
        return b
    out: dict[str, Any] = {}
    for key in a:
        if key not in b:
            out[key] = None
    for key, value in b.items():
        if key not in a:
            out[key] = value
        elif not json_equal(a[key], value):
            out[key] = (
                merge_diff(a[key], value) if isinstance(value, dict) and isinstance(a[key], dict) else value
            )
    return out


# --------------------------------------------------------------------------- JSON merge patch


def test_merge_patch_rfc7386_examples() -> None:
    """The RFC 7386 appendix examples."""
    cases = [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ]
    for target, patch, want in cases:
        assert json_merge_patch(target, patch) == want, (target, patch)


def test_merge_patch_does_not_mutate_its_inputs() -> None:
    """Inputs are left untouched and the result shares no containers with them."""
    target = {"a": {"b": [1, 2]}, "c": 1}
    patch = {"a": {"d": {"e": 1}}, "c": None}
    t0, p0 = copy.deepcopy(target), copy.deepcopy(patch)
    out = json_merge_patch(target, patch)
    out["a"]["b"].append(3)
    out["a"]["d"]["e"] = 2
    assert target == t0 and patch == p0


@RELAXED
@given(no_null_objects, no_null_objects)
def test_merge_patch_of_the_diff_reproduces_the_target(a: dict[str, Any], b: dict[str, Any]) -> None:
    """For generated JSON objects without nulls: json_merge_patch(a, diff(a, b)) == b."""
    assert json_equal(json_merge_patch(a, merge_diff(a, b)), b)


@RELAXED
@given(json_objects, json_objects)
def test_merge_patch_is_idempotent(a: dict[str, Any], p: dict[str, Any]) -> None:
    """Applying the same merge patch twice changes nothing the second time."""
    once = json_merge_patch(a, p)
    assert json_equal(json_merge_patch(once, p), once)


# --------------------------------------------------------------------------- JSON patch


def test_json_patch_operations() -> None:
    """add/remove/replace/move/copy/test behave as RFC 6902 says, including '-' and escaped pointers."""
    doc = {"a/b": 1, "m~n": 2, "list": [1, 2, 3], "obj": {"x": 1}}
    out = json_patch(
        doc,
        [
            {"op": "add", "path": "/list/-", "value": 4},
            {"op": "add", "path": "/list/0", "value": 0},
            {"op": "remove", "path": "/list/1"},
            {"op": "replace", "path": "/a~1b", "value": 10},
            {"op": "test", "path": "/m~0n", "value": 2},
            {"op": "copy", "from": "/obj", "path": "/copied"},
            {"op": "move", "from": "/obj/x", "path": "/obj/y"},
            {"op": "add", "path": "/obj/z", "value": {"deep": [True]}},
        ],
    )
    assert out == {
        "a/b": 10,
        "m~n": 2,
        "list": [0, 2, 3, 4],
        "obj": {"y": 1, "z": {"deep": [True]}},
        "copied": {"x": 1},
    }
    assert doc["list"] == [1, 2, 3] and doc["obj"] == {"x": 1}
    assert json_patch({"a": 1}, [{"op": "replace", "path": "", "value": [1]}]) == [1]


@pytest.mark.parametrize(
    ("ops", "fragment"),
    [
        ([{"op": "test", "path": "/a", "value": 2}], "testing value /a failed"),
        ([{"op": "test", "path": "/a", "value": True}], "test failed"),
        ([{"op": "test", "path": "/zz", "value": 1}], "testing value /zz failed"),
        ([{"op": "remove", "path": "/nope"}], "nonexistent key"),
        ([{"op": "replace", "path": "/nope", "value": 1}], "missing"),
        ([{"op": "add", "path": "/x/y", "value": 1}], "missing path"),
        ([{"op": "add", "path": "/l/5", "value": 1}], "out of bounds"),
        ([{"op": "add", "path": "/l/01", "value": 1}], "invalid array index"),
        ([{"op": "move", "from": "/b", "path": "/b/c"}], "own child"),
        ([{"op": "frobnicate", "path": "/a"}], "Unexpected kind"),
        ([{"op": "add", "value": 1}], "missing 'path'"),
        ([{"op": "add", "path": "a", "value": 1}], "JSON pointer"),
        ([{"op": "copy", "path": "/c"}], "missing 'from'"),
        ("nope", "JSON array"),
    ],
)
def test_json_patch_errors(ops: Any, fragment: str) -> None:
    """Bad paths, failed tests and malformed operations raise PatchError with a clear message."""
    with pytest.raises(PatchError) as info:
        json_patch({"a": 1, "b": {"c": 1}, "l": [1]}, ops)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


@RELAXED
@given(json_objects, _keys, json_values)
def test_json_patch_add_then_remove_is_the_identity(doc: dict[str, Any], key: str, value: Any) -> None:
    """Adding a new member and removing it again gives the original document back."""
    if key in doc:
        return
    path = "/" + key
    added = json_patch(doc, [{"op": "add", "path": path, "value": value}])
    assert json_equal(added[key], value)
    assert json_patch(added, [{"op": "remove", "path": path}]) == doc


@RELAXED
@given(st.lists(json_values, max_size=5), st.data())
def test_json_patch_list_insert_then_remove_is_the_identity(items: list[Any], data: st.DataObject) -> None:
    """Inserting at any list index and removing at that index restores the list."""
    index = data.draw(st.integers(0, len(items)))
    doc = {"l": items}
    added = json_patch(doc, [{"op": "add", "path": f"/l/{index}", "value": "NEW"}])
    assert added["l"][index] == "NEW" and len(added["l"]) == len(items) + 1
    assert json_patch(added, [{"op": "remove", "path": f"/l/{index}"}]) == doc


def test_json_equal_distinguishes_booleans_from_numbers() -> None:
    """JSON equality: true != 1, 1 == 1.0, deep comparison of containers."""
    assert not json_equal(True, 1)
    assert json_equal(1, 1.0)
    assert json_equal({"a": [1, {"b": None}]}, {"a": [1.0, {"b": None}]})
    assert not json_equal({"a": [1]}, {"a": [1, 2]})
    assert not json_equal("1", 1)


# --------------------------------------------------------------------------- strategic merge patch


def deployment(containers: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    """A small Deployment with the given containers."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["a", "b"]},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": containers, "tolerations": [{"key": "a"}, {"key": "b"}]},
            },
            **spec,
        },
    }


def smp(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """strategic_merge_patch on a Deployment."""
    return strategic_merge_patch(target, patch, LOOKUP, "apps/v1", "Deployment")


def containers_of(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """The pod template's containers."""
    return obj["spec"]["template"]["spec"]["containers"]


def tpl(spec: dict[str, Any]) -> dict[str, Any]:
    """A patch touching only the pod template spec."""
    return {"spec": {"template": {"spec": spec}}}


BASE = deployment(
    [
        {
            "name": "app",
            "image": "app:1",
            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            "ports": [{"containerPort": 80, "protocol": "TCP"}],
            "args": ["x", "y"],
        },
        {"name": "side", "image": "side:1"},
    ]
)


def test_smp_merges_containers_by_name_and_keeps_the_others() -> None:
    """A container in the patch is merged into the one with the same name; others are untouched."""
    out = smp(BASE, tpl({"containers": [{"name": "app", "image": "app:2"}]}))
    app, side = containers_of(out)
    assert app["image"] == "app:2" and app["env"] == BASE["spec"]["template"]["spec"]["containers"][0]["env"]
    assert side == {"name": "side", "image": "side:1"}
    assert containers_of(BASE)[0]["image"] == "app:1"


def test_smp_new_list_items_go_first_like_the_api_server() -> None:
    """Without $setElementOrder, items the patch adds come before the server-only ones (apimachinery's
    ordering), and $setElementOrder fixes the final order."""
    out = smp(BASE, tpl({"containers": [{"name": "new", "image": "n"}]}))
    assert [c["name"] for c in containers_of(out)] == ["new", "app", "side"]
    ordered = smp(
        BASE,
        tpl(
            {
                "$setElementOrder/containers": [{"name": "app"}, {"name": "side"}, {"name": "new"}],
                "containers": [{"name": "new", "image": "n"}],
            }
        ),
    )
    assert [c["name"] for c in containers_of(ordered)] == ["app", "side", "new"]
    reorder = smp(BASE, tpl({"$setElementOrder/containers": [{"name": "side"}, {"name": "app"}]}))
    assert [c["name"] for c in containers_of(reorder)] == ["side", "app"]


def test_smp_nested_merge_keys_env_and_ports() -> None:
    """env merges by name and ports by containerPort inside a merged container; null deletes a key."""
    out = smp(
        BASE,
        tpl(
            {
                "containers": [
                    {
                        "name": "app",
                        "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}],
                        "ports": [{"containerPort": 80, "name": "http"}],
                        "args": ["z"],
                        "image": None,
                    }
                ]
            }
        ),
    )
    app = containers_of(out)[0]
    assert {e["name"]: e["value"] for e in app["env"]} == {"A": "1", "B": "3", "C": "4"}
    assert app["ports"] == [{"containerPort": 80, "protocol": "TCP", "name": "http"}]
    assert app["args"] == ["z"]
    assert "image" not in app


def test_smp_replaces_atomic_lists_and_merges_primitive_sets() -> None:
    """tolerations (atomic) are replaced; finalizers (merge set) are unioned without duplicates."""
    out = smp(BASE, {"metadata": {"finalizers": ["b", "c"]}, **tpl({"tolerations": [{"key": "z"}]})})
    assert out["spec"]["template"]["spec"]["tolerations"] == [{"key": "z"}]
    assert sorted(out["metadata"]["finalizers"]) == ["a", "b", "c"]


def test_smp_patch_directives() -> None:
    """$patch delete/replace on list items and maps, $deleteFromPrimitiveList and $retainKeys."""
    deleted = smp(BASE, tpl({"containers": [{"name": "side", "$patch": "delete"}]}))
    assert [c["name"] for c in containers_of(deleted)] == ["app"]
    replaced = smp(BASE, tpl({"containers": [{"name": "only", "image": "o"}, {"$patch": "replace"}]}))
    assert containers_of(replaced) == [{"name": "only", "image": "o"}]
    labels = smp(BASE, {"metadata": {"labels": {"$patch": "replace", "new": "1"}}})
    assert labels["metadata"]["labels"] == {"new": "1"}
    emptied = smp(BASE, {"spec": {"strategy": {"$patch": "delete"}}})
    assert emptied["spec"]["strategy"] == {}
    fin = smp(BASE, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}})
    assert fin["metadata"]["finalizers"] == ["b"]
    retained = smp(BASE, {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}})
    assert retained["spec"]["strategy"] == {"type": "Recreate"}
    text = repr(deleted) + repr(replaced) + repr(labels) + repr(fin) + repr(retained)
    assert "$patch" not in text and "$retainKeys" not in text and "$deleteFromPrimitiveList" not in text


def test_smp_new_values_never_store_directives_or_nulls() -> None:
    """Directives and nulls inside values that have nothing to merge with are processed, not stored."""
    base = deployment([{"name": "app", "image": "a"}])
    out = smp(
        base,
        tpl(
            {
                "containers": [
                    {
                        "name": "new",
                        "env": [{"name": "X", "value": "1"}, {"name": "Y", "$patch": "delete"}],
                        "resources": {"limits": {"cpu": "1", "memory": None}},
                    }
                ],
                "volumes": [{"name": "v", "emptyDir": {}, "$retainKeys": ["name", "emptyDir"]}],
            }
        ),
    )
    new = containers_of(out)[0]
    assert new == {"name": "new", "env": [{"name": "X", "value": "1"}], "resources": {"limits": {"cpu": "1"}}}
    assert out["spec"]["template"]["spec"]["volumes"] == [{"name": "v", "emptyDir": {}}]


@pytest.mark.parametrize(
    ("patch", "fragment"),
    [
        (tpl({"containers": [{"image": "no-name"}]}), "does not contain declared merge key: name"),
        (tpl({"containers": ["not-a-map"]}), "is not a map"),
        ({"spec": {"strategy": {"$patch": "bogus"}}}, "Unknown patch type"),
        ({"spec": {"strategy": {"$retainKeys": "type"}}}, "must be a list"),
        ({"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}}, "must be a list"),
    ],
)
def test_smp_errors(patch: dict[str, Any], fragment: str) -> None:
    """Malformed strategic merge patches raise PatchError."""
    with pytest.raises(PatchError) as info:
        smp(BASE, patch)
    assert fragment in str(info.value)


def test_smp_without_schema_falls_back_to_merge_patch_semantics() -> None:
    """Unknown kinds merge maps recursively and replace lists."""
    target = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    out = strategic_merge_patch(target, {"a": {"c": [3]}, "d": None}, LOOKUP, "x.example.com/v1", "Thing")
    assert out == {"a": {"b": 1, "c": [3]}}
    assert strategic_merge_patch(target, {"a": {"b": 2}}, None, "v1", "Pod") == {
        "a": {"b": 2, "c": [1, 2]},
        "d": 1,
    }


_names = st.sampled_from(["a", "b", "c", "d", "e"])
_container = st.fixed_dictionaries(
    {"name": _names, "image": st.text(alphabet="xyz", min_size=1, max_size=3)},
    optional={"args": st.lists(st.text(alphabet="pq", max_size=2), max_size=2)},
)


def _unique(cs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for c in cs:
        if c["name"] not in seen:
            seen.add(c["name"])
            out.append(c)
    return out


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(_container, max_size=5).map(_unique), st.lists(_container, max_size=4).map(_unique))
def test_smp_container_merge_properties(live: list[dict[str, Any]], patch: list[dict[str, Any]]) -> None:
    """For generated container lists: every live container not in the patch is kept unchanged, every
    patched container ends up with the patch's fields over the live ones, and names stay unique."""
    out = containers_of(smp(deployment(live), tpl({"containers": patch})))
    by_name = {c["name"]: c for c in out}
    assert len(by_name) == len(out)
    patched = {c["name"]: c for c in patch}
    for c in live:
        if c["name"] not in patched:
            assert by_name[c["name"]] == c
    for name, pc in patched.items():
        merged = by_name[name]
        for key, value in pc.items():
            assert merged[key] == value
        old = next((c for c in live if c["name"] == name), {})
        for key, value in old.items():
            if key not in pc:
                assert merged[key] == value
    assert set(by_name) == {c["name"] for c in live} | set(patched)
