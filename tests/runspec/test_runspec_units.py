"""Pure tests of tamer_tui.core.runspec: every parser and its problem messages, the form round trip,
spec/limits/health read from captured Docker and Podman inspect payloads, and the update bodies."""

from __future__ import annotations

import json
import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tamer_tui.core import runspec as rs
from tamer_tui.core.errors import InvalidInput
from tamer_tui.core.models import ContainerSpec, RuntimeEndpoint, RuntimeKind
from tamer_tui.core.podman_runtime import build_create_body
from tamer_tui.core.runspec import FieldProblem, Limits, NotSupported, SpecError
from tamer_tui.core.runtime import ContainerRuntime

MIB = 1024 * 1024


# -- ports ------------------------------------------------------------------------------------
def test_parse_ports_accepts_host_container_pairs_and_bare_ports() -> None:
    """HOST:CONTAINER, CONTAINER (engine-picked host port) and /tcp, separated by commas/spaces/newlines."""
    assert rs.parse_ports("8080:80, 9090:90/tcp 5432\n7000:70/TCP") == ((80, 8080), (90, 9090), (5432, 0), (70, 7000))
    assert rs.parse_ports("") == ()
    assert rs.parse_ports("80 80") == ((80, 0),)  # an exact duplicate is kept once
    assert rs.parse_ports("8080:80 8081:80") == ((80, 8080), (80, 8081))  # one container port, two host ports


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("53:53/udp", "only TCP ports can be published (no /udp)"),
        ("127.0.0.1:9090:90", "publishing on one host address is not supported"),
        ("[::1]:9090:90", "publishing on one host address is not supported"),
        ("8000-8010:8000-8010", "port ranges are not supported"),
        ("http", "is not a port: write HOST:CONTAINER (8080:80) or CONTAINER (80)"),
        ("8080:", "is not a port"),
        ("0", "container port 0 is out of range (1-65535)"),
        ("70000:80", "host port 70000 is out of range"),
        ("8080:80 8080:81", "host port 8080 is published twice"),
    ],
)
def test_parse_ports_rejections_say_what_to_write(text: str, message: str) -> None:
    """Each unsupported port form is rejected with a message saying what is wrong."""
    with pytest.raises(SpecError, match=rs.re.escape(message)):
        rs.parse_ports(text)


# -- env and labels ---------------------------------------------------------------------------
def test_parse_env_quotes_commas_and_newlines() -> None:
    """Spaces, commas and newlines separate items; quotes keep them inside a value; backslashes stay."""
    assert rs.parse_env("A=1 B='x y'") == (("A", "1"), ("B", "x y"))
    assert rs.parse_env("A=1,B=2\nC=\"3,4\"") == (("A", "1"), ("B", "2"), ("C", "3,4"))
    assert rs.parse_env("P=C:\\data E= Q=a=b") == (("P", "C:\\data"), ("E", ""), ("Q", "a=b"))
    assert rs.parse_env("M='line1\nline2'") == (("M", "line1\nline2"),)
    assert rs.parse_labels("com.example.app=web tier='front end'") == (
        ("com.example.app", "web"), ("tier", "front end"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A", "'A' has no '=': write NAME=VALUE"),
        ("A=1,2", "'2' has no '='"),
        ("=1", "'' is not a valid variable name"),
        ("A=1 A=2", "A is set twice"),
        ("A='1", "unbalanced quotes"),
    ],
)
def test_parse_env_rejections(text: str, message: str) -> None:
    """Items without '=', empty names, duplicates and open quotes are rejected with a clear message."""
    with pytest.raises(SpecError, match=rs.re.escape(message)):
        rs.parse_env(text)


# -- volumes ----------------------------------------------------------------------------------
def test_parse_volumes_named_bind_readonly_and_windows_paths() -> None:
    """Volume names and absolute host paths; ':rw' (the default) is dropped, ':ro' kept; C:\\ paths work."""
    assert rs.parse_volumes("data:/data, /srv/www:/www:ro /tmp/x:/x:rw") == (
        "data:/data", "/srv/www:/www:ro", "/tmp/x:/x")
    assert rs.parse_volumes("C:\\data:/data:ro") == ("C:\\data:/data:ro",)
    assert rs.split_volume("C:\\data:/data:ro") == ("C:\\data", "/data", True)
    assert rs.is_bind_source("/srv") and rs.is_bind_source("C:/x") and not rs.is_bind_source("data")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("/data", "write SRC:DST[:ro]"),
        ("data:", "write SRC:DST[:ro]"),
        ("a:/b:ro:x", "too many ':'"),
        ("a:/b:z", "the mode must be ro or rw, not 'z'"),
        ("./rel:/b", "'./rel' is neither an absolute host path nor a volume name"),
        ("data:rel", "the container path 'rel' must be absolute"),
        ("data:/", "cannot mount over the container's root directory"),
        ("a:/x b:/x/", "/x is mounted twice"),
    ],
)
def test_parse_volumes_rejections(text: str, message: str) -> None:
    """Malformed mounts are rejected, each with what to write instead."""
    with pytest.raises(SpecError, match=rs.re.escape(message)):
        rs.parse_volumes(text)


# -- memory, cpus, restart, durations -----------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "size"),
    [("512m", 512 * MIB), ("1g", 1024 * MIB), ("1.5GiB", 1536 * MIB), ("64MB", 64 * MIB), ("268435456", 268435456),
     ("100b", 100), ("2k", 2048), ("1 t", 1024**4), ("0", 0)],
)
def test_parse_memory_units_are_binary(text: str, size: int) -> None:
    """Memory sizes with Docker's (binary) units, fractions allowed."""
    assert rs.parse_memory(text) == size


@pytest.mark.parametrize(("text", "message"), [("lots", "is not an amount of memory"), ("-1g", "is not an amount"),
                                               ("5iB", "'iB' needs a unit before it")])
def test_parse_memory_rejections(text: str, message: str) -> None:
    """Non-sizes are rejected with an example of what to write."""
    with pytest.raises(SpecError, match=rs.re.escape(message)):
        rs.parse_memory(text)


@given(st.integers(min_value=1, max_value=2**50))
def test_format_memory_round_trips(size: int) -> None:
    """format_memory gives text parse_memory reads back to the same byte count."""
    assert rs.parse_memory(rs.format_memory(size)) == size


def test_parse_cpus_and_rejections() -> None:
    """Decimal CPUs and millicores; negative, tiny and junk values are rejected."""
    assert rs.parse_cpus("1.5") == 1.5 and rs.parse_cpus("500m") == 0.5 and rs.parse_cpus("0") == 0.0
    assert rs.parse_cpus("2") == 2.0
    for text, message in [("-1", "cannot be negative"), ("0.001", "at least 0.01 CPUs"), ("two", "not a number of CPUs"),
                          ("nan", "not a number of CPUs")]:
        with pytest.raises(SpecError, match=message):
            rs.parse_cpus(text)


def test_parse_restart_policies() -> None:
    """The four policies (never = no), on-failure with a count; on-failure:0 (unlimited) is on-failure."""
    assert [rs.parse_restart(t) for t in ("", "no", "never", "Always", "unless-stopped", "on-failure",
                                          "on-failure:3", "on-failure:0")] == [
        "no", "no", "no", "always", "unless-stopped", "on-failure", "on-failure:3", "on-failure"]
    assert rs.restart_parts("on-failure:3") == ("on-failure", 3) and rs.restart_parts("") == ("no", 0)
    for text, message in [("sometimes", "is not a restart policy"), ("always:3", "only on-failure takes a retry count"),
                          ("on-failure:x", "must be a whole number")]:
        with pytest.raises(SpecError, match=message):
            rs.parse_restart(text)


@pytest.mark.parametrize(("text", "seconds"), [("5s", 5.0), ("1m30s", 90.0), ("500ms", 0.5), ("1h", 3600.0),
                                               ("90", 90.0), ("1.5s", 1.5), ("2h1m1s", 7261.0), ("250us", 0.00025)])
def test_parse_duration_go_style(text: str, seconds: float) -> None:
    """Go-style durations and bare seconds."""
    assert rs.parse_duration(text) == seconds


@pytest.mark.parametrize(("text", "message"), [("", "empty duration"), ("5x", "is not a duration"),
                                               ("1m30", "is not a duration"), ("-1", "cannot be negative")])
def test_parse_duration_rejections(text: str, message: str) -> None:
    """Unknown units, trailing numbers and negative values are rejected."""
    with pytest.raises(SpecError, match=message):
        rs.parse_duration(text)


@given(st.integers(min_value=1, max_value=10**14))
def test_format_duration_round_trips(ns: int) -> None:
    """format_duration gives text parse_duration reads back to the same float."""
    seconds = ns / 1e9
    assert rs.parse_duration(rs.format_duration(seconds)) == seconds


# -- build_spec ---------------------------------------------------------------------------------
FULL_FORM = {
    "image": "tamer-test/busybox:latest",
    "name": "web-1",
    "command": "sh -c 'echo \"hello world\"; sleep 600'",
    "ports": "8080:80, 9000",
    "env": "A=1 B='x y'",
    "volumes": "data:/data, /srv:/srv:ro",
    "network": "backend",
    "cpus": "0.5",
    "memory": "64m",
    "restart": "on-failure:3",
    "health_cmd": "sh -c 'test -e /tmp/ok'",
    "health_interval": "1s",
    "labels": "app=web",
    "workdir": "/tmp",
    "user": "1000:1000",
}


def test_build_spec_full_form() -> None:
    """A complete form becomes the spec with argv lists (no shell added) and parsed units."""
    spec, problems = rs.build_spec(FULL_FORM)
    assert problems == []
    assert spec == ContainerSpec(
        image="tamer-test/busybox:latest", name="web-1", command=("sh", "-c", 'echo "hello world"; sleep 600'),
        env=(("A", "1"), ("B", "x y")), labels=(("app", "web"),), ports=((80, 8080), (9000, 0)), network="backend",
        healthcheck=("sh", "-c", "test -e /tmp/ok"), health_interval_s=1.0, volumes=("data:/data", "/srv:/srv:ro"),
        cpus=0.5, memory=64 * MIB, restart_policy="on-failure:3", health_retries=3, health_timeout_s=30.0,
        health_start_period_s=0.0, workdir="/tmp", user="1000:1000")


def test_build_spec_minimal_form_uses_defaults() -> None:
    """Only an image: everything else is left to the image and engine (no health check, no limits)."""
    spec, problems = rs.build_spec({"image": "busybox", "restart": "no", "network": "default"})
    assert problems == [] and spec == ContainerSpec(image="busybox")
    spec, problems = rs.build_spec({"image": "busybox", "health_cmd": "true"})
    assert spec is not None and spec.health_interval_s == 30.0 and spec.health_timeout_s == 30.0


def test_build_spec_reports_every_problem_with_its_field() -> None:
    """A bad form yields no spec and one problem per bad field, each naming the field."""
    form = {
        "image": "Foo/Bar", "name": "-bad", "command": "echo 'open", "ports": "53/udp", "env": "NOEQ",
        "volumes": "rel:x", "network": "bad name", "cpus": "lots", "memory": "1k", "restart": "sometimes",
        "health_cmd": "", "health_interval": "1s", "labels": "x", "workdir": "tmp", "user": "a b",
        "entrypoint": "'", "tty": "maybe", "auto_remove": "perhaps", "mystery": "1",
    }
    spec, problems = rs.build_spec(form)
    assert spec is None
    by_field = {p.field: p.message for p in problems}
    assert set(by_field) == set(form) - {"health_cmd"}
    assert by_field["image"] == "'Foo/Bar': the repository name must be lowercase"
    assert "letters, digits" in by_field["name"]
    assert "close the quote" in by_field["command"] and "close the quote" in by_field["entrypoint"]
    assert "only TCP" in by_field["ports"] and "has no '='" in by_field["env"] and "has no '='" in by_field["labels"]
    assert "absolute" in by_field["volumes"] and "not a network name" in by_field["network"]
    assert "not a number of CPUs" in by_field["cpus"] and "at least 6m" in by_field["memory"]
    assert "not a restart policy" in by_field["restart"]
    assert by_field["health_interval"] == "set a health command (health_cmd) first"
    assert "absolute path" in by_field["workdir"] and "USER, UID or UID:GID" in by_field["user"]
    assert by_field["tty"] == "'maybe': write yes or no" and "unknown field" in by_field["mystery"]
    assert str(FieldProblem("cpus", "x")) == "cpus: x"
    assert rs.problems_text(problems[:2]).count(";") == 1


def test_build_spec_cross_field_rules() -> None:
    """auto_remove excludes a restart policy; health intervals under 1s, zero retries and empty images are refused."""
    _, problems = rs.build_spec({"image": "busybox", "auto_remove": "yes", "restart": "always"})
    assert problems == [FieldProblem("restart", "a container removed when it exits (auto_remove) cannot have "
                                                "a restart policy")]
    _, problems = rs.build_spec({"image": "busybox", "health_cmd": "true", "health_interval": "500ms",
                                 "health_retries": "0"})
    assert {p.field for p in problems} == {"health_interval", "health_retries"}
    _, problems = rs.build_spec({"image": " "})
    assert problems == [FieldProblem("image", "an image is required")]
    _, problems = rs.build_spec({"image": "busybox", "command": "'' x"})
    assert problems == [FieldProblem("command", "\"'' x\": the program name is empty")]


def test_build_spec_accepts_image_references() -> None:
    """Registry hosts with ports, tags, digests and image ids are valid images; spaces are not."""
    digest = "sha256:" + "a" * 64
    for image in ("busybox", "127.0.0.1:5000/team/app:1.2", f"quay.io/x/y@{digest}", "ab12cd34ef56", digest,
                  "localhost/tamer-test/busybox:latest"):
        assert rs.check_image(image) == image
    with pytest.raises(SpecError, match="no spaces"):
        rs.check_image("busy box")
    with pytest.raises(SpecError, match="not a valid image reference"):
        rs.check_image("busybox:")


_word = st.text(string.ascii_letters + string.digits + "_.-", min_size=1, max_size=8).filter(
    lambda s: s[0].isalnum())
_value = st.text(string.printable + "é", max_size=12)
_argv = st.lists(st.text(string.printable, min_size=1, max_size=10), max_size=4).map(tuple)
_pairs = st.dictionaries(_word, _value, max_size=4).map(lambda d: tuple(d.items()))
_seconds = st.integers(min_value=1, max_value=10**5).map(float)


@st.composite
def _specs(draw: st.DrawFn) -> ContainerSpec:
    health = draw(_argv.filter(lambda a: bool(a)) | st.just(()))
    ports = tuple(dict.fromkeys(draw(st.lists(st.tuples(st.integers(1, 65535), st.integers(1, 65535)), max_size=3))))
    hosts = [h for _, h in ports]
    if len(set(hosts)) != len(hosts):
        ports = ()
    dsts = draw(st.lists(_word, max_size=3, unique=True))
    volumes = tuple(f"{draw(_word | st.just('/srv/a b'))}:/{d}" + draw(st.sampled_from(["", ":ro"])) for d in dsts)
    return ContainerSpec(
        image=draw(st.sampled_from(["busybox", "tamer-test/busybox:latest", "127.0.0.1:5000/a/b:c"])),
        name=draw(st.just("") | _word),
        command=draw(_argv),
        env=draw(_pairs),
        labels=draw(_pairs),
        ports=ports,
        network=draw(st.sampled_from(["", "host", "none", "bridge", "mynet", "container:abc"])),
        healthcheck=health,
        health_interval_s=draw(_seconds) if health else 1.0,
        volumes=volumes,
        cpus=draw(st.just(0.0) | st.floats(min_value=0.01, max_value=64)),
        memory=draw(st.just(0) | st.integers(min_value=6 * MIB, max_value=2**40)),
        restart_policy=draw(st.sampled_from(["", "always", "unless-stopped", "on-failure", "on-failure:5"])),
        health_retries=draw(st.integers(1, 9)) if health else 3,
        health_timeout_s=draw(_seconds) if health else 0.0,
        health_start_period_s=draw(st.just(0.0) | _seconds) if health else 0.0,
        entrypoint=draw(_argv),
        workdir=draw(st.sampled_from(["", "/", "/srv/app"])),
        user=draw(st.sampled_from(["", "root", "1000", "1000:1000"])),
        tty=draw(st.booleans()),
        auto_remove=False,
    )


@settings(max_examples=300, deadline=None)
@given(_specs())
def test_spec_to_values_round_trips(spec: ContainerSpec) -> None:
    """Any spec the form can express comes back unchanged from build_spec(spec_to_values(spec))."""
    values = rs.spec_to_values(spec)
    assert tuple(values) == rs.ALL_FIELDS
    assert rs.build_spec(values) == (spec, [])


# -- inspect payloads -------------------------------------------------------------------------
DOCKER_INSPECT: dict[str, Any] = {
    "Id": "2f1954cb8604" + "0" * 52,
    "Name": "/tt-web",
    "Path": "sleep",
    "Args": ["600"],
    "RestartCount": 0,
    "State": {"Status": "running", "Health": {"Status": "unhealthy", "FailingStreak": 4, "Log": [
        {"Start": "2026-11-26T11:15:09.427152857Z", "End": "2026-11-26T11:15:09.505454711Z", "ExitCode": 1,
         "Output": "no /tmp/ok\n"},
        {"Start": "2026-11-26T12:15:10.5+01:00", "End": "2026-11-26T11:15:10.6Z", "ExitCode": 1, "Output": ""},
    ]}},
    "HostConfig": {
        "Binds": ["tt-vol:/data", "/tmp/rt/bind:/b:ro"], "NetworkMode": "default",
        "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "18080"}], "53/udp": [{"HostIp": "", "HostPort": "53"}]},
        "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3}, "AutoRemove": False,
        "NanoCpus": 500000000, "Memory": 67108864, "MemorySwap": 134217728, "CpuQuota": 0, "CpuPeriod": 0,
    },
    "Mounts": [
        {"Type": "volume", "Name": "tt-vol", "Source": "/var/lib/docker/volumes/tt-vol/_data",
         "Destination": "/data", "Driver": "local", "Mode": "z", "RW": True, "Propagation": ""},
        {"Type": "bind", "Source": "/tmp/rt/bind", "Destination": "/b", "Mode": "ro", "RW": False,
         "Propagation": "rprivate"},
        {"Type": "volume", "Name": "e" * 64, "Source": "/x", "Destination": "/anon", "RW": True},
        {"Type": "tmpfs", "Source": "", "Destination": "/run", "RW": True},
    ],
    "Config": {
        "Hostname": "2f1954cb8604", "User": "1000:1000", "Tty": False, "Env": ["X=y z", "IMG=1"],
        "Cmd": ["sleep", "600"], "Healthcheck": {"Test": ["CMD-SHELL", "test -e /tmp/ok"], "Interval": 1000000000},
        "Image": "tamer-test/busybox:latest", "WorkingDir": "/tmp", "Entrypoint": None,
        "Labels": {"a": "b", "org.tamer.test-image.recipe": "3"},
    },
}
DOCKER_IMAGE = {"Config": {"Env": ["IMG=1"], "Cmd": ["/bin/sh"], "Labels": {"org.tamer.test-image.recipe": "3"},
                           "WorkingDir": "", "User": "", "Entrypoint": None}}


def test_spec_from_docker_inspect() -> None:
    """Docker's inspect becomes a spec: image-inherited and engine-default values dropped, CMD-SHELL as sh -c."""
    spec = rs.spec_from_inspect(DOCKER_INSPECT, DOCKER_IMAGE)
    assert spec == ContainerSpec(
        image="tamer-test/busybox:latest", name="tt-web", command=("sleep", "600"), env=(("X", "y z"),),
        labels=(("a", "b"),), ports=((80, 18080),), network="", healthcheck=("/bin/sh", "-c", "test -e /tmp/ok"),
        health_interval_s=1.0, volumes=("/tmp/rt/bind:/b:ro", "tt-vol:/data"), cpus=0.5, memory=64 * MIB,
        restart_policy="on-failure:3", health_retries=3, health_timeout_s=30.0, workdir="/tmp", user="1000:1000")
    # without the image, inherited values stay (they are part of the container's config)
    plain = rs.spec_from_inspect(DOCKER_INSPECT)
    assert ("IMG", "1") in plain.env and ("org.tamer.test-image.recipe", "3") in plain.labels


def test_limits_and_health_from_docker_inspect() -> None:
    """Limits as set now; health status, streak, log entries with their output and parsed times."""
    assert rs.limits_from_inspect(DOCKER_INSPECT) == Limits(cpus=0.5, memory=64 * MIB, memory_swap=128 * MIB,
                                                             restart_policy="on-failure:3")
    health = rs.health_from_inspect(DOCKER_INSPECT)
    assert health.status == "unhealthy" and health.failing_streak == 4
    assert health.test == ("/bin/sh", "-c", "test -e /tmp/ok") and health.interval_s == 1.0 and health.retries == 3
    first, second = health.log
    assert first.exit_code == 1 and first.output == "no /tmp/ok\n"
    assert first.start == pytest.approx(1795691709.427152857) and first.end > first.start
    assert second.start == pytest.approx(1795691710.5)
    quota = {"HostConfig": {"CpuQuota": 150000, "CpuPeriod": 100000, "Memory": 0, "RestartPolicy": {"Name": "no"}}}
    assert rs.limits_from_inspect(quota) == Limits(cpus=1.5, memory=0, memory_swap=0, restart_policy="")
    none = rs.health_from_inspect({"State": {"Health": {"Status": "none"}}, "Config": {}})
    assert none.status == "" and none.log == () and none.test == ()


PODMAN43_INSPECT: dict[str, Any] = json.loads(json.dumps({
    "Id": "9ed392cbda90" + "1" * 52, "Name": "tt-pm", "ImageName": "localhost/tamer-test/busybox:latest",
    "OCIRuntime": "runc", "Path": "/entry.sh", "Args": ["--flag", "x y", "sleep", "600"], "RestartCount": 2,
    "State": {"Status": "running", "Healthcheck": {"Status": "healthy", "FailingStreak": 0, "Log": [
        {"Start": "2026-11-26T11:15:09.724066512Z", "End": "2026-11-26T11:15:09.802432417Z", "ExitCode": 0,
         "Output": "ok"}]}},
    "Config": {
        "Hostname": "9ed392cbda90", "User": "", "Tty": True, "Cmd": ["sleep", "600"], "Entrypoint": "/entry.sh --flag x y",
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", "container=podman",
                "X=y z", "HOSTNAME=9ed392cbda90"],
        "WorkingDir": "/", "Labels": {"a": "b"},
        "Healthcheck": {"Test": ["CMD", "sh", "-c", "test -e /tmp/ok"], "Interval": 1000000000,
                        "Timeout": 5000000000, "Retries": 2, "StartPeriod": 2000000000},
    },
    "HostConfig": {
        "Binds": ["tt-vol:/data:rw,rprivate,nosuid,nodev,rbind"], "NetworkMode": "bridge",
        "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "37953"}]},
        "RestartPolicy": {"Name": "unless-stopped", "MaximumRetryCount": 0}, "AutoRemove": True,
        "NanoCpus": 500000000, "Memory": 67108864, "MemorySwap": 134217728, "CpuQuota": 50000, "CpuPeriod": 100000,
    },
    "NetworkSettings": {"Networks": {"podman": {}, "tt-net": {}}},
    "Mounts": [{"Type": "volume", "Name": "tt-vol", "Destination": "/data", "RW": True}],
}))


def test_spec_limits_health_from_podman43_inspect() -> None:
    """Podman 4.x: string Entrypoint rebuilt from Path/Args, Podman-added env and workdir '/' dropped,
    named network found under NetworkMode 'bridge', health read from State.Healthcheck."""
    spec = rs.spec_from_inspect(PODMAN43_INSPECT)
    assert spec.image == "localhost/tamer-test/busybox:latest" and spec.name == "tt-pm"
    assert spec.entrypoint == ("/entry.sh", "--flag", "x y") and spec.command == ("sleep", "600")
    assert spec.env == (("X", "y z"),) and spec.workdir == "" and spec.network == "tt-net" and spec.tty
    assert spec.healthcheck == ("sh", "-c", "test -e /tmp/ok") and spec.health_retries == 2
    assert spec.health_timeout_s == 5.0 and spec.health_start_period_s == 2.0
    assert spec.restart_policy == "unless-stopped" and spec.auto_remove and spec.volumes == ("tt-vol:/data",)
    assert spec.cpus == 0.5 and spec.ports == ((80, 37953),)
    health = rs.health_from_inspect(PODMAN43_INSPECT)
    assert health.status == "healthy" and health.log[0].output == "ok" and health.retries == 2
    only_default = json.loads(json.dumps(PODMAN43_INSPECT))
    only_default["NetworkSettings"]["Networks"] = {"podman": {}}
    assert rs.spec_from_inspect(only_default).network == ""
    five = json.loads(json.dumps(PODMAN43_INSPECT))
    five["Config"]["Entrypoint"] = ["/entry.sh", "--flag", "x y"]  # Podman 5: a list
    assert rs.spec_from_inspect(five).entrypoint == ("/entry.sh", "--flag", "x y")


# -- limits: dialog, validation, update bodies --------------------------------------------------
def test_build_limits_and_values_round_trip() -> None:
    """The Limits dialog's text becomes Limits; with the current limits, unchanged fields become None."""
    current = Limits(cpus=0.5, memory=64 * MIB, memory_swap=-1, restart_policy="on-failure:3")
    values = rs.limits_to_values(current)
    assert values == {"cpus": "0.5", "memory": "64m", "memory_swap": "unlimited", "restart": "on-failure:3"}
    assert rs.build_limits(values) == (current, [])
    changed = dict(values, cpus="1", memory="")
    assert rs.build_limits(changed, current) == (Limits(cpus=1.0, memory=0), [])
    limits, problems = rs.build_limits({"cpus": "-2", "memory": "1k", "memory_swap": "x", "restart": "?", "pids": "1"})
    assert limits is None and {p.field for p in problems} == {"cpus", "memory", "memory_swap", "restart", "pids"}
    _, problems = rs.build_limits({"memory": "128m", "memory_swap": "64m"})
    assert problems == [FieldProblem("memory_swap", "memory + swap cannot be less than the memory limit")]


def test_check_limits_rejects_bad_values() -> None:
    """Limits built in code are validated with the field named; 'no' becomes ''."""
    assert rs.check_limits(Limits(restart_policy="no")).restart_policy == ""
    for limits, field in [(Limits(cpus=-1), "cpus"), (Limits(cpus=float("inf")), "cpus"), (Limits(memory=10), "memory"),
                          (Limits(memory_swap=-5), "memory_swap"), (Limits(memory=128 * MIB, memory_swap=64 * MIB),
                                                                    "memory_swap"), (Limits(restart_policy="x"), "restart")]:
        with pytest.raises(InvalidInput, match=f"^{field}: "):
            rs.check_limits(limits)


def test_docker_update_body() -> None:
    """NanoCpus or CpuQuota depending on how the limit was set; swap allowance kept; removals refused."""
    nano_host = {"NanoCpus": 500000000, "Memory": 64 * MIB, "MemorySwap": 128 * MIB}
    assert rs.docker_update_body(Limits(cpus=1.0, memory=128 * MIB), nano_host) == {
        "NanoCpus": 1000000000, "Memory": 128 * MIB, "MemorySwap": 192 * MIB}
    quota_host = {"CpuQuota": 50000, "CpuPeriod": 50000}
    assert rs.docker_update_body(Limits(cpus=1.5), quota_host) == {"CpuPeriod": 50000, "CpuQuota": 75000}
    assert rs.docker_update_body(Limits(cpus=0), quota_host) == {"CpuQuota": -1}
    assert rs.docker_update_body(Limits(memory=64 * MIB), {"Memory": 0, "MemorySwap": 0}) == {
        "Memory": 64 * MIB, "MemorySwap": 128 * MIB}
    assert rs.docker_update_body(Limits(memory=64 * MIB), {"Memory": 32 * MIB, "MemorySwap": -1}) == {
        "Memory": 64 * MIB, "MemorySwap": -1}
    assert rs.docker_update_body(Limits(restart_policy="on-failure:2"), {}) == {
        "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 2}}
    assert rs.docker_update_body(Limits(restart_policy=""), {}) == {"RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}}
    with pytest.raises(NotSupported, match="cannot remove a --cpus limit"):
        rs.docker_update_body(Limits(cpus=0), nano_host)
    with pytest.raises(NotSupported, match="cannot remove the memory limit"):
        rs.docker_update_body(Limits(memory=0), nano_host)
    assert rs.docker_update_body(Limits(cpus=0, memory=0), {}) == {}  # nothing to remove


def test_podman_update_body_and_restart_params() -> None:
    """An OCI LinuxResources body (-1 removes a limit) and Podman 5's restart query parameters."""
    host = {"CpuPeriod": 100000, "Memory": 64 * MIB, "MemorySwap": 128 * MIB}
    assert rs.podman_update_body(Limits(cpus=1.0, memory=128 * MIB), host) == {
        "cpu": {"quota": 100000, "period": 100000}, "memory": {"limit": 128 * MIB, "swap": 192 * MIB}}
    assert rs.podman_update_body(Limits(cpus=0, memory=0), host) == {
        "cpu": {"quota": -1, "period": 100000}, "memory": {"limit": -1, "swap": -1}}
    assert rs.podman_update_body(Limits(restart_policy="always"), host) == {}
    assert rs.podman_restart_params("on-failure:3") == {"restartPolicy": "on-failure", "restartRetries": "3"}
    assert rs.podman_restart_params("") == {"restartPolicy": "no"}
    assert rs.version_tuple("5.2.0-dev") == (5, 2, 0) and rs.version_tuple("") == ()


async def test_runtime_default_update_is_not_supported_and_health_reads_inspect() -> None:
    """The ABC's update_container refuses clearly (after validating); health_log reads the inspect output."""

    class Bare(ContainerRuntime):
        async def inspect_container(self, ident: str) -> dict[str, Any]:
            return DOCKER_INSPECT

    Bare.__abstractmethods__ = frozenset()
    rt = Bare(RuntimeEndpoint(RuntimeKind.DOCKER, "bare", "unix:///nowhere", "test"))
    with pytest.raises(NotSupported, match="bare: changing the limits of an existing container is not supported"):
        await rt.update_container("x", Limits(cpus=1.0))
    with pytest.raises(InvalidInput, match="^cpus"):
        await rt.update_container("x", Limits(cpus=-1.0))
    assert (await rt.health_log("x")).failing_streak == 4


def test_podman_create_body_carries_new_fields() -> None:
    """Volumes, binds, limits, restart, health timing, entrypoint, workdir, user, tty and auto-remove reach libpod."""
    spec, _ = rs.build_spec(dict(FULL_FORM, entrypoint="/bin/sh -c", tty="yes", health_timeout="2s",
                                 health_retries="5", health_start_period="3s", restart="always"))
    assert spec is not None
    body = build_create_body(spec)
    assert body["volumes"] == [{"Name": "data", "Dest": "/data", "Options": []}]
    assert body["mounts"] == [{"destination": "/srv", "type": "bind", "source": "/srv", "options": ["ro"]}]
    assert body["resource_limits"] == {"cpu": {"quota": 50000, "period": 100000}, "memory": {"limit": 64 * MIB}}
    assert body["restart_policy"] == "always" and "restart_tries" not in body
    assert body["healthconfig"] == {"Test": ["CMD", "sh", "-c", "test -e /tmp/ok"], "Interval": 10**9,
                                    "Timeout": 2 * 10**9, "Retries": 5, "StartPeriod": 3 * 10**9}
    assert body["entrypoint"] == ["/bin/sh", "-c"] and body["work_dir"] == "/tmp" and body["user"] == "1000:1000"
    assert body["terminal"] is True and "remove" not in body
    assert build_create_body(ContainerSpec(image="b", auto_remove=True, restart_policy="on-failure:2"))["restart_tries"] == 2
    assert build_create_body(ContainerSpec(image="b", auto_remove=True))["remove"] is True
