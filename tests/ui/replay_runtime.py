"""A runtime that replays payloads recorded from a real Docker daemon (tests/ui/data).

Only for snapshot tests: a live daemon's ids, ages and "Up 3 seconds" texts change on every run,
so a picture of them could never be compared. The payloads were captured from the real daemon and
go through the same ``parse_*`` functions as ``DockerRuntime``; behaviour tests use the real
daemons, not this.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tamer_tui.core import docker_runtime as d
from tamer_tui.core.errors import NotFound
from tamer_tui.core.models import (
    Capability,
    ContainerRow,
    ContainerSpec,
    DiskUsage,
    ExecResult,
    ImageRow,
    LogLine,
    NetworkRow,
    PruneResult,
    PullProgress,
    RuntimeEndpoint,
    RuntimeEvent,
    RuntimeInfo,
    RuntimeKind,
    StatsSample,
    VolumeRow,
)
from tamer_tui.core.runtime import ContainerRuntime

DATA = Path(__file__).parent / "data" / "docker_recording.json"


class ReplayRuntime(ContainerRuntime):
    kind = RuntimeKind.DOCKER
    capabilities = frozenset({Capability.CONTAINERS, Capability.IMAGES, Capability.NETWORKS, Capability.VOLUMES})

    def __init__(self, name: str = "docker") -> None:
        super().__init__(RuntimeEndpoint(RuntimeKind.DOCKER, name, "unix:///replay.sock", "recording"))
        self.data: dict[str, Any] = json.loads(DATA.read_text())

    async def connect(self) -> RuntimeInfo:
        return await self.info()

    async def close(self) -> None:
        return None

    async def info(self) -> RuntimeInfo:
        v = self.data["version"]
        return RuntimeInfo(self.name, self.kind, self.endpoint.url, v["Version"], v["ApiVersion"])

    async def df(self) -> DiskUsage:
        return DiskUsage()

    async def list_containers(self, all: bool = True) -> list[ContainerRow]:
        return [d.parse_container(self.name, c) for c in self.data["containers"]]

    async def get_container(self, ident: str) -> ContainerRow:
        for row in await self.list_containers():
            if ident in (row.id, row.name):
                return row
        raise NotFound(ident)

    async def inspect_container(self, ident: str) -> dict[str, Any]:
        return dict(self.data["inspect_web"])

    async def create_container(self, spec: ContainerSpec) -> str:
        raise NotImplementedError

    async def start_container(self, ident: str) -> None: ...
    async def stop_container(self, ident: str, timeout: int = 10) -> None: ...
    async def restart_container(self, ident: str, timeout: int = 10) -> None: ...
    async def pause_container(self, ident: str) -> None: ...
    async def unpause_container(self, ident: str) -> None: ...
    async def kill_container(self, ident: str, signal: str = "SIGKILL") -> None: ...
    async def remove_container(self, ident: str, force: bool = False, volumes: bool = False) -> None: ...
    async def rename_container(self, ident: str, new_name: str) -> None: ...

    async def top_container(self, ident: str) -> tuple[list[str], list[list[str]]]:
        top = self.data["top_web"]
        return top["Titles"], top["Processes"]

    async def stats_once(self, ident: str) -> StatsSample:
        # the table's CPU/MEM cells stay "-" in pictures (a poller tick must not race the snapshot)
        raise NotFound("the replay has no live stats")

    async def stats_stream(self, ident: str) -> AsyncIterator[StatsSample]:  # type: ignore[override]
        for i in range(3):
            yield StatsSample(cpu_percent=1.5 * i, mem_usage=1_000_000 * (i + 1), mem_limit=8_000_000_000,
                              net_rx=1000 * i, net_tx=500 * i, blk_read=0, blk_write=4096 * i, pids=1, ts=100.0 + i)
        await asyncio.Event().wait()

    async def logs_stream(self, ident: str, follow: bool = True, tail: int | None = 1000,  # type: ignore[override]
                          since: float | None = None, timestamps: bool = False) -> AsyncIterator[LogLine]:
        levels = ("INFO", "DEBUG", "WARN", "ERROR")
        for i in range(40):
            yield LogLine(f"2024-05-01T10:00:{i:02d}Z {levels[i % 4]} request {i} served in {i * 3} ms")
        if follow:
            await asyncio.Event().wait()

    async def exec_run(self, ident: str, argv: list[str]) -> ExecResult:
        return ExecResult(0, "")

    async def list_images(self) -> list[ImageRow]:
        return [d.parse_image(self.name, i) for i in self.data["images"]]

    async def inspect_image(self, ident: str) -> dict[str, Any]:
        return {"Id": ident}

    async def image_history(self, ident: str) -> list[dict[str, Any]]:
        return list(self.data["history"])

    async def pull_image(self, reference: str) -> AsyncIterator[PullProgress]:  # type: ignore[override]
        if False:
            yield PullProgress("")

    async def tag_image(self, ident: str, repository: str, tag: str = "latest") -> None: ...
    async def remove_image(self, ident: str, force: bool = False) -> None: ...

    async def prune_images(self, dangling_only: bool = True) -> PruneResult:
        return PruneResult((), 0)

    async def list_networks(self) -> list[NetworkRow]:
        return [d.parse_network(self.name, n) for n in self.data["networks"]]

    async def inspect_network(self, ident: str) -> dict[str, Any]:
        return {}

    async def create_network(self, name: str, driver: str = "bridge") -> str:
        return name

    async def remove_network(self, ident: str) -> None: ...

    async def prune_networks(self) -> PruneResult:
        return PruneResult((), 0)

    async def list_volumes(self) -> list[VolumeRow]:
        return [d.parse_volume(self.name, v) for v in self.data["volumes"]["Volumes"]]

    async def inspect_volume(self, name: str) -> dict[str, Any]:
        return {}

    async def create_volume(self, name: str, driver: str = "local") -> str:
        return name

    async def remove_volume(self, name: str, force: bool = False) -> None: ...

    async def prune_volumes(self) -> PruneResult:
        return PruneResult((), 0)

    async def events(self, since: float | None = None) -> AsyncIterator[RuntimeEvent]:  # type: ignore[override]
        await asyncio.Event().wait()
        if False:
            yield RuntimeEvent("", "", "", "")
