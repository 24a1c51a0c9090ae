"""Speed of the simulated API server at test scale (the full numbers come from bench/sim_bench.py):
a full list of 10,000 seeded pods in under 0.3 s of server time, and watch fan-out to 50 watchers
at 200 events/s without dropping a watcher or an event."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sim_bench", ROOT / "bench" / "sim_bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["sim_bench"] = module
    spec.loader.exec_module(module)
    return module


def test_list_of_10k_pods_is_fast(bench: ModuleType) -> None:
    """A cached full JSON list of 10,000 ~6 KB pods takes under 0.3 s of server time."""
    result = bench.bench_list(10_000)
    assert result["pods"] >= 10_000
    assert result["bytes"] > 10_000 * 1_000
    assert result["warm_server_s"] < 0.3, result


def test_watch_fan_out_keeps_up(bench: ModuleType) -> None:
    """50 watchers receive every one of 200 events/s for 3 s; none is closed for lagging behind."""
    result = bench.bench_watch(watchers=50, rate=200.0, seconds=3.0)
    assert result["watchers_closed_for_lag"] == 0, result
    assert result["deliveries_received"] == result["deliveries_expected"] == 50 * 600, result
    assert result["lag_p99_ms"] < 1000, result
