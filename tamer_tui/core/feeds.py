"""Live resource feeds: a list, then the daemon's event stream, with reconnects.

A feed is an async iterator of small dataclass messages (``Snapshot``, ``Upsert``, ``Remove``,
``SourceStatus``) that a UI worker applies to a ``RowStore``. Nothing here re-lists on a timer:
after the first list every change comes from the event stream; a broken stream is retried with
exponential backoff, and a reconnect starts with a fresh snapshot so nothing missed is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tamer_tui.core.errors import NotFound, TamerError
from tamer_tui.core.runtime import ContainerRuntime

ResourceKind = Literal["containers", "images", "networks", "volumes"]

# event types that matter to each list (Podman reports pods and images too)
_EVENT_TYPES: dict[str, frozenset[str]] = {
    "containers": frozenset({"container"}),
    "images": frozenset({"image", "container"}),  # a container create/destroy changes "in use"
    "networks": frozenset({"network"}),
    "volumes": frozenset({"volume"}),
}
_IGNORED_ACTIONS = ("exec_create", "exec_start", "exec_die", "exec", "top", "attach", "resize",
                    "archive-path", "extract-to-dir", "export", "commit", "copy", "stat")
_GONE_ACTIONS = frozenset({"destroy", "remove", "delete"})


@dataclass(frozen=True, slots=True)
class Snapshot:
    source: str
    rows: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Upsert:
    rows: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Remove:
    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SourceStatus:
    source: str
    state: Literal["connecting", "live", "reconnecting"]
    message: str = ""


FeedMessage = Snapshot | Upsert | Remove | SourceStatus


async def _list(runtime: ContainerRuntime, kind: ResourceKind) -> Sequence[Any]:
    if kind == "containers":
        return await runtime.list_containers(all=True)
    if kind == "images":
        return await runtime.list_images()
    if kind == "networks":
        return await runtime.list_networks()
    return await runtime.list_volumes()


async def runtime_feed(
    runtime: ContainerRuntime,
    kind: ResourceKind,
    *,
    backoff_start: float = 0.5,
    backoff_max: float = 10.0,
    coalesce_s: float = 0.05,
) -> AsyncIterator[FeedMessage]:
    """Feed of one resource kind from one runtime; runs until cancelled."""
    delay = backoff_start
    first = True
    while True:
        try:
            if first:
                yield SourceStatus(runtime.name, "connecting")
            await runtime.connect()
            t0 = time.time()
            rows = await _list(runtime, kind)
            yield Snapshot(runtime.name, tuple(rows))
            yield SourceStatus(runtime.name, "live")
            delay = backoff_start
            first = False
            async for msg in _follow_events(runtime, kind, since=t0 - 1, coalesce_s=coalesce_s):
                yield msg
        except asyncio.CancelledError:
            raise
        except (TamerError, OSError) as exc:
            yield SourceStatus(runtime.name, "reconnecting", f"{exc}; retrying in {delay:.1f}s")
            await asyncio.sleep(delay)
            delay = min(backoff_max, delay * 2)
            first = False


async def _follow_events(
    runtime: ContainerRuntime, kind: ResourceKind, since: float, coalesce_s: float
) -> AsyncIterator[FeedMessage]:
    wanted = _EVENT_TYPES[kind]
    queue: asyncio.Queue[Any] = asyncio.Queue()

    async def pump() -> None:
        try:
            async for ev in runtime.events(since=since):
                await queue.put(ev)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            await queue.put(exc)

    task = asyncio.create_task(pump())
    try:
        while True:
            item = await queue.get()
            batch = [item]
            # coalesce bursts (e.g. `compose up` of 50 containers) into one refresh
            await asyncio.sleep(coalesce_s)
            while not queue.empty():
                batch.append(queue.get_nowait())
            errors = [b for b in batch if isinstance(b, BaseException)]
            events = [b for b in batch if not isinstance(b, BaseException)]
            relevant = [
                e for e in events if e.type in wanted and not e.action.split(":", 1)[0].startswith(_IGNORED_ACTIONS)
            ]
            if relevant:
                async for msg in _apply(runtime, kind, relevant):
                    yield msg
            if errors:
                raise errors[0]
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


async def _apply(runtime: ContainerRuntime, kind: ResourceKind, events: list[Any]) -> AsyncIterator[FeedMessage]:
    if kind != "containers":
        # images, networks and volumes lists are small: one re-list per burst of events
        yield Snapshot(runtime.name, tuple(await _list(runtime, kind)))
        return
    latest: dict[str, str] = {}
    for e in events:
        if e.id:
            latest[e.id] = e.action.split(":", 1)[0]
    gone = [i for i, a in latest.items() if a in _GONE_ACTIONS]
    if gone:
        yield Remove(tuple(f"{runtime.name}/{i}" for i in gone))
    changed = [i for i, a in latest.items() if a not in _GONE_ACTIONS]
    if len(changed) > 20:
        yield Snapshot(runtime.name, tuple(await _list(runtime, kind)))
        return
    rows = []
    missing = []
    for ident in changed:
        try:
            rows.append(await runtime.get_container(ident))
        except NotFound:
            missing.append(f"{runtime.name}/{ident}")
    if rows:
        yield Upsert(tuple(rows))
    if missing:
        yield Remove(tuple(missing))


async def merge_feeds(feeds: Sequence[AsyncIterator[FeedMessage]]) -> AsyncGenerator[FeedMessage, None]:
    """Several feeds as one: one task each, one bounded queue; closing this closes them all."""
    queue: asyncio.Queue[FeedMessage] = asyncio.Queue(maxsize=1024)

    async def run(feed: AsyncIterator[FeedMessage]) -> None:
        async for msg in feed:
            await queue.put(msg)

    tasks = [asyncio.create_task(run(feed)) for feed in feeds]
    try:
        while True:
            yield await queue.get()
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(BaseException):
                await t


def merged_feed(runtimes: Sequence[ContainerRuntime], kind: ResourceKind) -> AsyncIterator[FeedMessage]:
    """One feed of ``kind`` over several runtimes."""
    return merge_feeds([runtime_feed(rt, kind) for rt in runtimes])
