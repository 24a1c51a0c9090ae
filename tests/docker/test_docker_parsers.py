"""Pure parsers of the Docker backend, on payloads recorded from the real daemon (tests/ui/data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tamer_tui.core import docker_runtime as d
from tamer_tui.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RuntimeUnavailable

REC = json.loads((Path(__file__).parent.parent / "ui" / "data" / "docker_recording.json").read_text())


def test_parse_recorded_containers() -> None:
    """Every recorded container parses; names lose the slash; health and ports come out right."""
    rows = {r.name: r for r in (d.parse_container("docker", c) for c in REC["containers"])}
    assert set(rows) == {"web", "db", "cache", "job-once", "created-only"}
    assert rows["db"].health == "healthy"
    assert rows["cache"].state == "paused"
    assert rows["web"].ports == "0.0.0.0:18080->8080/tcp, [::]:18080->8080/tcp"
    assert rows["web"].key == f"docker/{rows['web'].id}"
    assert rows["job-once"].created > 1_600_000_000


def test_health_from_status_text_and_field() -> None:
    """Health is read from the Health field (newer APIs) or the status text (older ones)."""
    assert d.health_from({"Status": "Up 2 minutes (unhealthy)"}) == "unhealthy"
    assert d.health_from({"Status": "Up 1 second (health: starting)"}) == "starting"
    assert d.health_from({"Health": {"Status": "healthy"}, "Status": "Up"}) == "healthy"
    assert d.health_from({"Status": "Up 3 hours"}) == ""


def test_parse_time_formats() -> None:
    """Unix seconds, RFC 3339 with nanoseconds and offsets, and Go's zero time."""
    assert d.parse_time(1700000000) == 1700000000.0
    assert d.parse_time("2023-11-14T22:13:20Z") == 1700000000.0
    assert abs(d.parse_time("2023-11-14T22:13:20.123456789Z") - 1700000000.123456789) < 1e-6
    assert d.parse_time("2023-11-14T23:13:20+01:00") == 1700000000.0
    assert d.parse_time("0001-01-01T00:00:00Z") == 0.0
    assert d.parse_time(None) == 0.0


def test_parse_stats_cpu_percent() -> None:
    """CPU% = container delta / system delta * online CPUs * 100; memory excludes inactive file cache."""
    raw = {
        "read": "2024-01-01T00:00:01Z",
        "cpu_stats": {"cpu_usage": {"total_usage": 3_000_000}, "system_cpu_usage": 20_000_000, "online_cpus": 2},
        "precpu_stats": {"cpu_usage": {"total_usage": 1_000_000}, "system_cpu_usage": 10_000_000},
        "memory_stats": {"usage": 10_000, "limit": 100_000, "stats": {"inactive_file": 4_000}},
        "networks": {"eth0": {"rx_bytes": 10, "tx_bytes": 20}, "eth1": {"rx_bytes": 1, "tx_bytes": 2}},
        "blkio_stats": {"io_service_bytes_recursive": [{"op": "Read", "value": 7}, {"op": "write", "value": 9}]},
        "pids_stats": {"current": 3},
    }
    s = d.parse_stats(raw)
    assert s.cpu_percent == 40.0
    assert s.mem_usage == 6_000 and s.mem_limit == 100_000
    assert (s.net_rx, s.net_tx, s.blk_read, s.blk_write, s.pids) == (11, 22, 7, 9, 3)


def test_split_lines_keeps_streams_apart() -> None:
    """Frames split mid-line are joined per stream; a last line without newline is kept."""
    frames = [(1, b"hel"), (2, b"oops\n"), (1, b"lo\nwor"), (1, b"ld")]
    lines = [(ln.stream, ln.text) for ln in d.split_lines(iter(frames))]
    assert lines == [("stderr", "oops"), ("stdout", "hello"), ("stdout", "world")]


def test_split_reference() -> None:
    """Image references split into repo and tag; registries with ports are not mistaken for tags."""
    assert d._split_reference("alpine") == ("alpine", "latest")
    assert d._split_reference("localhost:5000/app:1.2") == ("localhost:5000/app", "1.2")
    assert d._split_reference("localhost:5000/app") == ("localhost:5000/app", "latest")
    assert d._split_reference("app@sha256:abc") == ("app@sha256:abc", None)
    with pytest.raises(InvalidInput):
        d._split_reference("bad ref")


def test_error_mapping() -> None:
    """SDK and socket errors become one clear Tamer error each."""
    import docker.errors
    import requests

    resp = requests.Response()
    resp.status_code = 409
    assert isinstance(d.map_error(docker.errors.APIError("x", resp, "name in use")), Conflict)
    resp404 = requests.Response()
    resp404.status_code = 404
    assert isinstance(d.map_error(docker.errors.NotFound("x", resp404, "no such container")), NotFound)
    assert isinstance(d.map_error(requests.exceptions.ConnectionError("refused")), RuntimeUnavailable)
    assert isinstance(d.map_error(PermissionError(13, "Permission denied")), PermissionDenied)
