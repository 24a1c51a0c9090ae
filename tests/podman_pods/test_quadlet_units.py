"""Pure tests of tamer_tui.core.quadlet and of the payload parsers of podman_pods (no service needed).

The Quadlet side is checked with the independent splitter in ``systemd_split`` (a re-implementation
of Quadlet's and systemd's parsing), on captured Podman 4.3 inspect shapes and Podman 5-style ones.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tamer_tui.core.errors import Conflict, InvalidInput
from tamer_tui.core.podman_pods import (
    parse_pod_list_row,
    parse_pod_stats,
    parse_proc_id_map,
    parse_size,
)
from tamer_tui.core.quadlet import (
    QuadletFile,
    container_quadlet,
    go_duration,
    kube_quadlet,
    pod_quadlet,
    quadlet_dir,
    systemd_join,
    systemd_quote,
    write_quadlet,
)
from tests.podman_pods.systemd_split import exec_start_argv, parse_unit, split_words, values

# Keys Quadlet accepts (podman pkg/systemd/quadlet/quadlet.go, supported keys of each group).
CONTAINER_KEYS = {
    "AddCapability", "AddDevice", "AddHost", "Annotation", "AutoUpdate", "CgroupsMode", "ContainerName",
    "DNS", "DNSOption", "DNSSearch", "DropCapability", "Environment", "EnvironmentFile", "EnvironmentHost",
    "Entrypoint", "Exec", "ExposeHostPort", "GIDMap", "GlobalArgs", "Group", "GroupAdd", "HealthCmd",
    "HealthInterval", "HealthOnFailure", "HealthRetries", "HealthStartPeriod", "HealthTimeout", "HostName",
    "IP", "IP6", "Image", "Label", "LogDriver", "Mask", "Memory", "Mount", "Network", "NetworkAlias",
    "NoNewPrivileges", "Notify", "PidsLimit", "Pod", "PodmanArgs", "PublishPort", "Pull", "ReadOnly",
    "ReadOnlyTmpfs", "RunInit", "SeccompProfile", "Secret", "ShmSize", "StopSignal", "StopTimeout",
    "Sysctl", "Timezone", "Tmpfs", "UIDMap", "Ulimit", "Unmask", "User", "UserNS", "Volume", "WorkingDir",
}
POD_KEYS = {"AddHost", "ContainersConfModule", "DNS", "DNSOption", "DNSSearch", "GIDMap", "GlobalArgs",
            "HostName", "IP", "IP6", "Label", "Network", "NetworkAlias", "PodName", "PodmanArgs",
            "PublishPort", "ShmSize", "UIDMap", "UserNS", "Volume"}
KUBE_KEYS = {"AutoUpdate", "ConfigMap", "ExitCodePropagation", "GlobalArgs", "LogDriver", "Network",
             "PodmanArgs", "PublishPort", "SetWorkingDirectory", "UserNS", "Yaml"}

TRICKY_ARGV = [
    "/bin/sh",
    "-c",
    "echo \"hi there\" 'single' back\\slash 100% $HOME ${X} $$; sleep 3600",
    "two  spaces",
    "tab\there",
    "new\nline",
    "ünïcødé ✓",
    "%n",
    "it's",
]

INSPECT_43: dict[str, Any] = {
    "Name": "web",
    "ImageName": "localhost/tamer-test/busybox:latest",
    "Config": {
        "Image": "localhost/tamer-test/busybox:latest",
        "Cmd": TRICKY_ARGV,
        "Entrypoint": "",
        "Env": [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "TERM=xterm",
            "container=podman",
            "HOSTNAME=web",
            "FOO=bar baz",
            "QUOTED=say \"hi\" it's 100% $PATH",
        ],
        "Labels": {"app": "web site", "org.image.label": "from-image"},
        "Healthcheck": {"Test": ["CMD-SHELL", "test -e /etc/hostname && echo \"ok\" 50%"],
                        "Interval": 30_000_000_000, "Timeout": 5_000_000_000, "Retries": 3,
                        "StartPeriod": 1_500_000_000},
        "WorkingDir": "/srv",
        "User": "1000:1000",
        "StopTimeout": 10,
    },
    "HostConfig": {
        "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}],
                         "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}],
                         "9000/tcp": [{"HostIp": "", "HostPort": ""}]},
        "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 0},
        "NetworkMode": "bridge",
        "CapAdd": ["CAP_NET_ADMIN"],
        "Memory": 0,
    },
    "NetworkSettings": {"Networks": {"podman": {}, "backend": {}}},
    "Mounts": [
        {"Type": "volume", "Name": "webdata", "Destination": "/data", "RW": True},
        {"Type": "bind", "Source": "/srv/conf", "Destination": "/etc/web", "RW": False},
        {"Type": "volume", "Name": "a" * 64, "Destination": "/cache", "RW": True},
    ],
}


def section(unit: dict[str, list[tuple[str, str]]], name: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in unit[name]:
        out.setdefault(key, []).append(value)
    return out


def key_values(value: str) -> tuple[str, str]:
    """Environment=/Label= as Quadlet reads them (split, then cut at the first '=') and systemd passes them."""
    words = split_words(value)
    assert len(words) == 1, words
    (final,) = exec_start_argv(words)
    key, _sep, val = final.partition("=")
    return key, val


def test_container_quadlet_keys_and_quoting_round_trip() -> None:
    """Each key of a 4.3-shaped inspect lands in the right Quadlet key and survives Quadlet+systemd parsing."""
    qf = container_quadlet(INSPECT_43)
    assert qf.filename == "web.container"
    unit = parse_unit(qf.text)
    assert set(unit) == {"Unit", "Container", "Service", "Install"}
    c = section(unit, "Container")
    assert set(c) <= CONTAINER_KEYS
    assert c["Image"] == ["localhost/tamer-test/busybox:latest"] and c["ContainerName"] == ["web"]

    assert exec_start_argv(split_words(c["Exec"][0])) == TRICKY_ARGV

    env = dict(key_values(v) for v in c["Environment"])
    assert env == {"FOO": "bar baz", "QUOTED": "say \"hi\" it's 100% $PATH"}  # Podman defaults dropped
    labels = dict(key_values(v) for v in c["Label"])
    assert labels == {"app": "web site", "org.image.label": "from-image"}  # no image given: kept

    assert sorted(c["PublishPort"]) == sorted(["8080:80", "127.0.0.1:5353:53/udp", "9000"])
    assert c["Network"] == ["backend"]  # the default "podman" network is implied
    assert c["Volume"] == ["webdata:/data", "/srv/conf:/etc/web:ro", "/cache"]
    assert "anonymous volume at /cache" in qf.note

    health = exec_start_argv([c["HealthCmd"][0]])  # HealthCmd= is read verbatim, then quoted by Quadlet
    assert health == ["test -e /etc/hostname && echo \"ok\" 50%"]
    assert c["HealthInterval"] == ["30s"] and c["HealthTimeout"] == ["5s"]
    assert c["HealthStartPeriod"] == ["1.5s"] and c["HealthRetries"] == ["3"]
    assert c["User"] == ["1000"] and c["Group"] == ["1000"]
    assert c["AddCapability"] == ["CAP_NET_ADMIN"]
    podman_args = [w for v in c["PodmanArgs"] for w in exec_start_argv(split_words(v))]
    assert podman_args == ["--workdir=/srv"]
    assert values(unit, "Service", "Restart") == ["on-failure"]
    assert values(unit, "Install", "WantedBy") == ["default.target"]
    assert "4.4" in qf.note and qf.text.startswith("# web.container")


def test_container_quadlet_podman5_shapes_image_filter_and_pod() -> None:
    """5.x list entrypoint, image defaults filtered out, pod members drop ports/network and get Pod=."""
    inspect = {
        "Name": "api",
        "Config": {
            "Image": "quay.io/x/api:1",
            "Entrypoint": ["/usr/bin/tini", "--"],
            "Cmd": ["serve"],
            "Env": ["LANG=C.UTF-8", "MODE=prod"],
            "Labels": {"maintainer": "x", "tier": "api"},
            "User": "app",
            "WorkingDir": "/app",
            "Healthcheck": {"Test": ["CMD", "/bin/check", "--fast"], "Interval": 500_000_000},
        },
        "HostConfig": {"PortBindings": {"8000/tcp": [{"HostIp": "", "HostPort": "8000"}]},
                       "RestartPolicy": {"Name": "always"}, "NetworkMode": "container:abc",
                       "Init": True, "Privileged": True, "Memory": 268435456},
        "Pod": "f" * 64,
        "Mounts": [{"Type": "tmpfs", "Destination": "/run/x"}],
    }
    image = {"Config": {"Env": ["LANG=C.UTF-8"], "Labels": {"maintainer": "x"}, "User": "app",
                        "WorkingDir": "/app", "Entrypoint": ["/usr/bin/tini", "--"], "Cmd": ["serve"]}}
    qf = container_quadlet(inspect, pod="stack.pod", image=image)
    unit = parse_unit(qf.text)
    c = section(unit, "Container")
    assert set(c) <= CONTAINER_KEYS
    assert c["Pod"] == ["stack.pod"]
    assert "PublishPort" not in c and "Network" not in c
    assert [key_values(v) for v in c["Environment"]] == [("MODE", "prod")]
    assert [key_values(v) for v in c["Label"]] == [("tier", "api")]
    assert "User" not in c and "Exec" not in c  # the image's own user and command
    assert c["Tmpfs"] == ["/run/x"] and c["RunInit"] == ["true"]
    assert c["HealthCmd"] == ['["/bin/check", "--fast"]'] and c["HealthInterval"] == ["500ms"]
    args = [w for v in c["PodmanArgs"] for w in exec_start_argv(split_words(v))]
    assert args == ["--privileged", "--memory=268435456b"]
    assert values(unit, "Service", "Restart") == ["always"]
    assert "5.0" in qf.note

    without_image = section(parse_unit(container_quadlet(inspect).text), "Container")
    entry = [w for v in without_image["PodmanArgs"] for w in exec_start_argv(split_words(v))]
    assert '--entrypoint=["/usr/bin/tini", "--"]' in entry
    assert exec_start_argv(split_words(without_image["Exec"][0])) == ["serve"]


def test_pod_and_kube_quadlet() -> None:
    """.pod: PodName, ports, networks, labels (via PodmanArgs, 5.0-safe), the 5.0 note; .kube: Yaml=."""
    pod_inspect = {
        "Name": "stack",
        "Labels": {"team": "a b"},
        "InfraContainerID": "i" * 64,
        "InfraConfig": {"PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]},
                        "Networks": ["podman", "front"]},
        "Containers": [{"Id": "i" * 64, "Name": "x-infra"}, {"Id": "c" * 64, "Name": "web"}],
    }
    qf = pod_quadlet(pod_inspect)
    assert qf.filename == "stack.pod"
    assert "Podman 5.0" in qf.text.splitlines()[1] and "5.0" in qf.note and "web.container" in qf.note
    unit = parse_unit(qf.text)
    p = section(unit, "Pod")
    assert set(p) <= POD_KEYS
    assert p["PodName"] == ["stack"] and p["PublishPort"] == ["8080:80"] and p["Network"] == ["front"]
    assert [w for v in p["PodmanArgs"] for w in exec_start_argv(split_words(v))] == ["--label=team=a b"]

    kube = kube_quadlet("/srv/app 100%.yaml", "app")
    k = section(parse_unit(kube.text), "Kube")
    assert set(k) <= KUBE_KEYS and kube.filename == "app.kube"
    assert exec_start_argv([k["Yaml"][0]]) == ["/srv/app 100%.yaml"]
    assert "relative" in kube_quadlet("app.yaml", "app").note
    with pytest.raises(InvalidInput):
        kube_quadlet("/x.yaml", "../evil")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
                        min_size=1), min_size=1, max_size=5))
def test_systemd_quote_round_trips_through_quadlet_and_systemd(argv: list[str]) -> None:
    """Any non-empty argument survives Exec= splitting, Quadlet's re-escaping and systemd's expansion."""
    assert exec_start_argv(split_words(systemd_join(argv))) == argv


def test_quote_shapes() -> None:
    """Plain words stay plain; quotes/backslashes/blanks get double quotes; % and $ are doubled."""
    assert systemd_quote("plain") == "plain"
    assert systemd_quote("100%") == "100%%" and systemd_quote("$X") == "$$X"
    assert systemd_quote('a "b"') == '"a \\"b\\""'
    assert systemd_quote("back\\slash") == '"back\\\\slash"'
    assert systemd_quote("") == '""'


def test_go_duration() -> None:
    """Durations print the way podman's --health-* flags parse them."""
    assert [go_duration(v) for v in (30_000_000_000, 90_000_000_000, 3_600_000_000_000, 500_000_000,
                                     1_500_000_000, 0, 250_000)] == \
        ["30s", "1m30s", "1h0m0s", "500ms", "1.5s", "0s", "250us"]


def test_quadlet_dir_rootless_xdg_and_rootful(tmp_path: Path) -> None:
    """XDG_CONFIG_HOME (absolute only) wins for rootless, else ~/.config; root gets /etc/containers/systemd."""
    assert quadlet_dir(True, env={"XDG_CONFIG_HOME": str(tmp_path / "cfg")}, home=tmp_path / "home") == \
        tmp_path / "cfg" / "containers" / "systemd"
    assert quadlet_dir(True, env={}, home=tmp_path / "home") == tmp_path / "home/.config/containers/systemd"
    assert quadlet_dir(True, env={"XDG_CONFIG_HOME": "relative/dir"}, home=tmp_path) == \
        tmp_path / ".config/containers/systemd"
    assert quadlet_dir(False, env={"XDG_CONFIG_HOME": str(tmp_path)}) == Path("/etc/containers/systemd")


def test_write_quadlet_never_overwrites_without_permission(tmp_path: Path) -> None:
    """write_quadlet creates the directory, refuses to clobber (Conflict) unless overwrite=True, leaves no temp."""
    target = quadlet_dir(True, env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")}, home=tmp_path / "nohome")
    first = QuadletFile("web.container", "[Container]\nImage=a\n")
    path = write_quadlet(target, first)
    assert path == tmp_path / "xdg/containers/systemd/web.container"
    assert path.read_text() == first.text
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o644
    with pytest.raises(Conflict, match="web.container exists"):
        write_quadlet(target, QuadletFile("web.container", "changed\n"))
    assert path.read_text() == first.text
    write_quadlet(target, QuadletFile("web.container", "changed\n"), overwrite=True)
    assert path.read_text() == "changed\n"
    assert sorted(p.name for p in target.iterdir()) == ["web.container"]
    assert not (tmp_path / "nohome").exists()
    for bad in ("../web.container", "web.txt", ".hidden.container", "a/b.container", ""):
        with pytest.raises(InvalidInput):
            write_quadlet(target, QuadletFile(bad, "x"))


def test_pod_payload_parsers_43_and_5x() -> None:
    """Pod list rows, stats strings, sizes and /proc id maps parse (4.3 captures and 5.x additions)."""
    row = parse_pod_list_row({
        "Id": "p" * 64, "Name": "web", "Status": "Degraded", "InfraId": "i" * 64,
        "Created": "2026-11-26T11:14:34.719209072Z", "Labels": {"a": "b"}, "Networks": ["podman"],
        "Cgroup": "/libpod_parent",
        "Containers": [{"Id": "i" * 64, "Names": "ppp-infra", "Status": "running"},
                       {"Id": "c" * 64, "Names": "app", "Status": "exited", "RestartCount": 0}],
    }, "podman")
    assert row.key == f"podman/{'p' * 64}" and row.containers == 2 and row.running == 1
    assert [(m.name, m.state, m.infra) for m in row.members] == [("app", "exited", False),
                                                                  ("ppp-infra", "running", True)]
    assert row.created > 1.7e9 and row.label("a") == "b"

    stats = parse_pod_stats([
        {"CPU": "1.08%", "MemUsage": "741.4kB / 25.28GB", "MemUsageBytes": "724KiB / 23.54GiB", "Mem": "0.00%",
         "NetIO": "516B / 1.22kB", "BlockIO": "-- / --", "PIDS": "1", "Pod": "p" * 12, "CID": "i" * 12,
         "Name": "ppp-infra"},
        {"CPU": "--", "MemUsage": "-- / --", "MemUsageBytes": "-- / --", "Mem": "--", "NetIO": "-- / --",
         "BlockIO": "-- / --", "PIDS": "--", "Pod": "p" * 12, "CID": "c" * 12, "Name": "app"},
    ], ["i" * 64])
    assert [s.name for s in stats] == ["app", "ppp-infra"]
    app, infra = stats
    assert not app.available and app.mem_usage == 0 and app.pids == 0
    assert infra.infra and infra.cpu_percent == pytest.approx(1.08)
    assert (infra.mem_usage, infra.mem_limit) == (741_400, 25_280_000_000)
    assert (infra.net_rx, infra.net_tx, infra.blk_read) == (516, 1220, 0)
    assert parse_size("724KiB") == 724 * 1024 and parse_size("1.5GB") == 1_500_000_000
    assert parse_size("--") == 0 and parse_size("12 parsecs") == 0
    assert parse_proc_id_map("         0          0 4294967295\n") == ((0, 0, 4294967295),)
    assert parse_proc_id_map("0 1000 1\n1 100000 65536\n") == ((0, 1000, 1), (1, 100000, 65536))
