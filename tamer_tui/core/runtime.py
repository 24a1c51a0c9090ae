"""The asyncio runtime protocol that every container backend implements.

``ContainerRuntime`` is the adapter ABC (cf. harlequin's adapters): the UI talks only to this
interface, and each backend (Docker via the docker SDK, Podman via podman-py's libpod client)
translates it to its API. Every method is async; blocking SDK work runs in threads
(:mod:`tamer_tui.core.aio`); streams are cancellable async iterators.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from tamer_tui.core.errors import NotFound
from tamer_tui.core.logwire import LogBatch
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
from tamer_tui.core.runspec import HealthState, Limits, NotSupported, check_limits, health_from_inspect


class ContainerRuntime(abc.ABC):
    """One connection to one container engine (a Docker daemon or a Podman service)."""

    kind: RuntimeKind
    capabilities: frozenset[Capability] = frozenset()

    def __init__(self, endpoint: RuntimeEndpoint) -> None:
        self.endpoint = endpoint

    @property
    def name(self) -> str:
        return self.endpoint.name

    def supports(self, cap: Capability) -> bool:
        return cap in self.capabilities

    # -- lifecycle -------------------------------------------------------------------------
    @abc.abstractmethod
    async def connect(self) -> RuntimeInfo:
        """Open the client and ping the daemon; raise RuntimeUnavailable/PermissionDenied."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def info(self) -> RuntimeInfo: ...

    @abc.abstractmethod
    async def df(self) -> DiskUsage: ...

    # -- containers ------------------------------------------------------------------------
    @abc.abstractmethod
    async def list_containers(self, all: bool = True) -> list[ContainerRow]: ...

    @abc.abstractmethod
    async def get_container(self, ident: str) -> ContainerRow:
        """One row, freshly listed (raises NotFound)."""

    @abc.abstractmethod
    async def inspect_container(self, ident: str) -> dict[str, Any]: ...

    @abc.abstractmethod
    async def create_container(self, spec: ContainerSpec) -> str:
        """Create (not start) a container; returns its id."""

    @abc.abstractmethod
    async def start_container(self, ident: str) -> None: ...

    @abc.abstractmethod
    async def stop_container(self, ident: str, timeout: int = 10) -> None: ...

    @abc.abstractmethod
    async def restart_container(self, ident: str, timeout: int = 10) -> None: ...

    @abc.abstractmethod
    async def pause_container(self, ident: str) -> None: ...

    @abc.abstractmethod
    async def unpause_container(self, ident: str) -> None: ...

    @abc.abstractmethod
    async def kill_container(self, ident: str, signal: str = "SIGKILL") -> None: ...

    @abc.abstractmethod
    async def remove_container(self, ident: str, force: bool = False, volumes: bool = False) -> None: ...

    @abc.abstractmethod
    async def rename_container(self, ident: str, new_name: str) -> None: ...

    @abc.abstractmethod
    async def top_container(self, ident: str) -> tuple[list[str], list[list[str]]]:
        """Process table: (titles, rows)."""

    @abc.abstractmethod
    def stats_stream(self, ident: str) -> AsyncIterator[StatsSample]: ...

    async def stats_once(self, ident: str) -> StatsSample:
        """One sample with a meaningful CPU% (the second of the stream)."""
        first: StatsSample | None = None
        stream = self.stats_stream(ident)
        try:
            async for sample in stream:
                if first is not None:
                    return sample
                first = sample
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
        if first is None:
            raise NotFound(f"no stats for container {ident!r}")
        return first

    # Logs: a runtime implements either :meth:`log_text_batches` (column batches decoded in its reader thread:
    # Docker, Podman) or :meth:`logs_stream` (one line at a time); the other methods are derived from it.
    async def logs_stream(
        self,
        ident: str,
        follow: bool = True,
        tail: int | None = 1000,
        since: float | None = None,
        timestamps: bool = False,
    ) -> AsyncIterator[LogLine]:
        """The log line by line (derived from :meth:`logs_batches`)."""
        batches = self.logs_batches(ident, follow=follow, tail=tail, since=since, timestamps=timestamps)
        async with contextlib.aclosing(batches):  # type: ignore[type-var]
            async for batch in batches:
                for line in batch:
                    yield line

    async def logs_batches(
        self,
        ident: str,
        follow: bool = True,
        tail: int | None = 1000,
        since: float | None = None,
        timestamps: bool = False,
    ) -> AsyncIterator[list[LogLine]]:
        """The log in batches (whatever arrived together), as :class:`LogLine` objects."""
        if type(self).log_text_batches is ContainerRuntime.log_text_batches:
            async for line in self.logs_stream(ident, follow=follow, tail=tail, since=since, timestamps=timestamps):
                yield [line]
            return
        batches = self.log_text_batches(ident, follow=follow, tail=tail, since=since, timestamps=timestamps,
                                        streams=True)
        async with contextlib.aclosing(batches):  # type: ignore[type-var]
            async for batch in batches:
                if batch.texts:
                    yield [LogLine(text, "stderr" if stream == 2 else "stdout", ts)
                           for ts, text, stream in zip(batch.stamps, batch.texts, batch.streams, strict=True)]

    async def log_text_batches(
        self,
        ident: str,
        follow: bool = True,
        tail: int | None = 1000,
        since: float | None = None,
        timestamps: bool = True,
        streams: bool = False,
    ) -> AsyncIterator[LogBatch]:
        """The log as column batches (stamps, texts and, with ``streams``, 1/2 for stdout/stderr): what
        log viewers consume. Runtimes override it to decode in their reader thread without building a
        :class:`LogLine` per line; this default adapts :meth:`logs_stream`."""
        if type(self).logs_stream is ContainerRuntime.logs_stream:
            raise NotImplementedError(f"{type(self).__name__} implements neither logs_stream nor log_text_batches")
        async for batch in self.logs_batches(ident, follow=follow, tail=tail, since=since, timestamps=timestamps):
            yield LogBatch([ln.ts for ln in batch], [ln.text for ln in batch],
                           [2 if ln.stream == "stderr" else 1 for ln in batch] if streams else [])

    @abc.abstractmethod
    async def exec_run(self, ident: str, argv: list[str]) -> ExecResult: ...

    # -- images ----------------------------------------------------------------------------
    @abc.abstractmethod
    async def list_images(self) -> list[ImageRow]: ...

    @abc.abstractmethod
    async def inspect_image(self, ident: str) -> dict[str, Any]: ...

    @abc.abstractmethod
    async def image_history(self, ident: str) -> list[dict[str, Any]]: ...

    @abc.abstractmethod
    def pull_image(self, reference: str, auth: Any = None) -> AsyncIterator[PullProgress]:
        """Pull with progress; ``auth`` is a ``registry_auth.RegistryAuth`` (sent as X-Registry-Auth)."""

    @abc.abstractmethod
    async def tag_image(self, ident: str, repository: str, tag: str = "latest") -> None: ...

    @abc.abstractmethod
    async def remove_image(self, ident: str, force: bool = False) -> None: ...

    @abc.abstractmethod
    async def prune_images(self, dangling_only: bool = True) -> PruneResult: ...

    # -- networks --------------------------------------------------------------------------
    @abc.abstractmethod
    async def list_networks(self) -> list[NetworkRow]: ...

    @abc.abstractmethod
    async def inspect_network(self, ident: str) -> dict[str, Any]: ...

    @abc.abstractmethod
    async def create_network(self, name: str, driver: str = "bridge") -> str: ...

    @abc.abstractmethod
    async def remove_network(self, ident: str) -> None: ...

    @abc.abstractmethod
    async def prune_networks(self) -> PruneResult: ...

    # -- volumes ---------------------------------------------------------------------------
    @abc.abstractmethod
    async def list_volumes(self) -> list[VolumeRow]: ...

    @abc.abstractmethod
    async def inspect_volume(self, name: str) -> dict[str, Any]: ...

    @abc.abstractmethod
    async def create_volume(self, name: str, driver: str = "local") -> str: ...

    @abc.abstractmethod
    async def remove_volume(self, name: str, force: bool = False) -> None: ...

    @abc.abstractmethod
    async def prune_volumes(self) -> PruneResult: ...

    # -- events ----------------------------------------------------------------------------
    @abc.abstractmethod
    def events(self, since: float | None = None) -> AsyncIterator[RuntimeEvent]:
        """The daemon's event stream (container, image, network, volume events) from ``since``."""

    # -- live limits and health (tamer_tui.core.runspec) -------------------------------------
    async def update_container(self, ident: str, limits: Limits) -> None:
        """Change a container's CPU/memory limits and restart policy in place (``None`` fields unchanged).

        Runtimes that can override this; where the engine cannot do part of it the whole update is refused
        with :class:`~tamer_tui.core.runspec.NotSupported` naming the engine and what it lacks.
        """
        check_limits(limits)
        raise NotSupported(f"{self.name}: changing the limits of an existing container is not supported "
                           f"by the {self.endpoint.kind.value} backend")

    async def health_log(self, ident: str) -> HealthState:
        """The container's health status, failing streak and recent check runs (from its inspect output)."""
        return health_from_inspect(await self.inspect_container(ident))
