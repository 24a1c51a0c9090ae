"""Pure parts of the port-forward engine: parsing `:pf` arguments, saved-forward dicts (through YAML),
validation, port and selector resolution, and the display fields of a forward."""

from __future__ import annotations

import time

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tamer_tui.core.errors import InvalidInput
from tamer_tui.core.kube.portforward import (
    ForwardState,
    PortForward,
    PortForwardSpec,
    container_port,
    parse_forward,
    parse_ports,
    pod_ready,
    selector_string,
    spec_from_dict,
    spec_to_dict,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("8080", (8080, None, None)),
    (":8080", (8080, 0, None)),
    ("0:8080", (8080, 0, None)),
    ("9000:80", (80, 9000, None)),
    ("9000:http", ("http", 9000, None)),
    ("http", ("http", None, None)),
    ("0.0.0.0:9000:80", (80, 9000, "0.0.0.0")),
    ("[::1]:9000:80", (80, 9000, "::1")),
    ("[::1]::80", (80, 0, "::1")),
])
def test_parse_ports(text: str, expected: tuple[object, ...]) -> None:
    """`[<address>:][<local>:]<remote>` like kubectl: a bare port keeps its number locally, an empty
    or 0 local port means any free one, names stay names, an address prefix (IPv6 in brackets)."""
    assert parse_ports(text) == expected


@pytest.mark.parametrize("text", ["", "a:b:c:d", "x:80", "[::1]80", "[::1:80", "[::1]:1:2:3"])
def test_parse_ports_rejects(text: str) -> None:
    """Malformed port arguments raise InvalidInput (never ValueError or IndexError)."""
    with pytest.raises(InvalidInput):
        parse_ports(text)


def test_parse_forward_targets() -> None:
    """pod/<ns>/<name> and svc/<ns>/<name> (with kind aliases) give validated specs; <kind>/<name>
    takes the given namespace; other kinds, missing names and bad ports are InvalidInput."""
    spec = parse_forward("pod/shop/web-1", "8080:http", context="prod")
    assert (spec.kind, spec.namespace, spec.name, spec.remote_port, spec.local_port, spec.address) == (
        "pod", "shop", "web-1", "http", 8080, "127.0.0.1")
    assert spec.target == "pod/shop/web-1" and spec.describe() == "pod/shop/web-1 8080:http"
    svc = parse_forward("service/web", ":80", context="prod", namespace="default")
    assert (svc.kind, svc.namespace, svc.name, svc.local_port, svc.ports) == ("svc", "default", "web", 0, ":80")
    assert parse_forward("po/a/b", "0.0.0.0:1:2", context="c").address == "0.0.0.0"
    for target, ports in [("deploy/a/b", "80"), ("pod/", "80"), ("pod/a/b", "70000"), ("pod/a/b", "1:0"),
                          ("pod/a/b", "99999:80"), ("svc/a/b", "_x_")]:
        with pytest.raises(InvalidInput):
            parse_forward(target, ports, context="c")


def test_spec_dict_round_trip_through_yaml() -> None:
    """spec_to_dict gives plain YAML-safe data; spec_from_dict(yaml round trip) is the same spec."""
    specs = [
        parse_forward("pod/a/b", "8080", context="ctx"),
        parse_forward("svc/ns/web", ":http", context="ctx", autostart=True),
        parse_forward("pod/a/b", "[::1]:9000:80", context="other"),
    ]
    text = yaml.safe_dump({"kube": {"port_forwards": [spec_to_dict(s) for s in specs]}})
    loaded = yaml.safe_load(text)["kube"]["port_forwards"]
    assert [spec_from_dict(d) for d in loaded] == specs
    assert spec_to_dict(specs[1]) == {"context": "ctx", "target": "svc/ns/web", "remote_port": "http",
                                      "local_port": 0, "address": "127.0.0.1", "autostart": True}


@pytest.mark.parametrize("entry", [
    "pod/a/b",
    {},
    {"context": "c"},
    {"context": "c", "target": "pod/a"},
    {"context": "c", "target": "pod/a/b/c", "remote_port": 80},
    {"context": "c", "target": "job/a/b", "remote_port": 80},
    {"context": "c", "target": "pod/a/b", "remote_port": None},
    {"context": "c", "target": "pod/a/b", "remote_port": 80, "local_port": "x"},
    {"context": "c", "target": "pod/a/b", "remote_port": 80, "local_port": True},
    {"context": "c", "target": "pod/a/b", "remote_port": 80, "address": 5},
])
def test_spec_from_dict_rejects(entry: object) -> None:
    """Saved entries that are not usable raise InvalidInput with what is wrong."""
    with pytest.raises(InvalidInput):
        spec_from_dict(entry)  # type: ignore[arg-type]


def test_spec_from_dict_accepts_strings_for_ports() -> None:
    """Hand-edited settings may quote port numbers: they come back as numbers."""
    spec = spec_from_dict({"context": "c", "target": "pod/a/b", "remote_port": "80", "local_port": "8080"})
    assert spec.remote_port == 80 and spec.local_port == 8080 and spec.address == "127.0.0.1" and not spec.autostart


@given(remote=st.one_of(st.integers(1, 65535), st.from_regex(r"[a-z][a-z0-9-]{0,14}", fullmatch=True)),
       local=st.one_of(st.none(), st.integers(0, 65535)), autostart=st.booleans())
def test_spec_round_trip_property(remote: int | str, local: int | None, autostart: bool) -> None:
    """Any valid spec survives spec_to_dict -> YAML -> spec_from_dict unchanged."""
    spec = PortForwardSpec("ctx", "pod", "ns", "name", remote, local, "127.0.0.1", autostart).validate()
    assert spec_from_dict(yaml.safe_load(yaml.safe_dump(spec_to_dict(spec)))) == spec


def test_container_port_resolution() -> None:
    """Numbers pass through; names resolve through TCP containerPorts of any container; a name that
    only exists as UDP, or not at all, is InvalidInput with a clear message."""
    pod = {"metadata": {"name": "dns"}, "spec": {"containers": [
        {"name": "a", "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"}]},
        {"name": "b", "ports": [{"name": "metrics", "containerPort": 9153}]},
    ]}}
    assert container_port(pod, 1234) == 1234
    assert container_port(pod, "metrics") == 9153
    with pytest.raises(InvalidInput, match="not TCP"):
        container_port(pod, "dns")
    with pytest.raises(InvalidInput, match="no container port named 'web'"):
        container_port(pod, "web")


def test_selector_string() -> None:
    """A service's plain selector and a LabelSelector with every operator become labelSelector text."""
    assert selector_string({"b": "2", "a": "1"}) == "a=1,b=2"
    assert selector_string({"matchLabels": {"app": "x"}, "matchExpressions": [
        {"key": "tier", "operator": "In", "values": ["web", "api"]},
        {"key": "env", "operator": "NotIn", "values": ["dev"]},
        {"key": "canary", "operator": "Exists"},
        {"key": "legacy", "operator": "DoesNotExist"},
    ]}) == "app=x,tier in (web,api),env notin (dev),canary,!legacy"
    assert selector_string(None) == "" and selector_string({}) == ""


def test_pod_ready() -> None:
    """Ready means Running, not terminating, with the Ready condition True."""
    ready = {"metadata": {}, "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
    assert pod_ready(ready)
    assert not pod_ready({**ready, "metadata": {"deletionTimestamp": "2024-01-01T00:00:00Z"}})
    assert not pod_ready({"metadata": {}, "status": {"phase": "Running", "conditions": [
        {"type": "Ready", "status": "False"}]}})
    assert not pod_ready({"metadata": {}, "status": {"phase": "Pending"}})


def test_forward_display_fields() -> None:
    """url / local_endpoint bracket IPv6 and show wildcards as localhost; age stops when it ends."""
    spec = parse_forward("pod/a/b", "0.0.0.0:8080:80", context="c")
    fwd = PortForward(id=1, spec=spec, local_address="0.0.0.0", local_port=8080)
    assert fwd.url == "http://localhost:8080" and fwd.local_endpoint == "0.0.0.0:8080"
    fwd6 = PortForward(id=2, spec=spec, local_address="::1", local_port=9)
    assert fwd6.url == "http://[::1]:9" and fwd6.local_endpoint == "[::1]:9"
    assert fwd.running and fwd.target == "pod/a/b" and fwd.context == "c"
    fwd.state = ForwardState.STOPPED
    fwd.stopped_monotonic = fwd.started_monotonic + 3.0
    time.sleep(0.01)
    assert not fwd.running and fwd.age == 3.0
