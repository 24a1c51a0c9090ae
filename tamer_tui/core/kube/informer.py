"""Watch-driven caches ("informers") of compact rows, shared by every screen that needs them.

An ``Informer`` lists a resource (in pages), decodes it with msgspec into rows, then watches from the
list's resourceVersion with bookmarks. A 410 Gone or a broken stream re-lists (after backoff) and
emits a fresh snapshot, so nothing is lost; the state ("live", "reconnecting", "stale since") is
reported as ``SourceStatus``. Subscribers get the current rows as a ``Snapshot`` and then each change;
the informer stops when its last subscriber leaves. Nothing here polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import msgspec

from tamer_tui.core.errors import PermissionDenied, TamerError
from tamer_tui.core.feeds import FeedMessage, Remove, Snapshot, SourceStatus, Upsert
from tamer_tui.core.kube.client import Forbidden, Gone, KubeClient
from tamer_tui.core.kube.resources import ResourceInfo
from tamer_tui.core.kube.rows import Generic, KubeRow, Status, list_type, spec_for, watch_type

PAGE = 5000


@dataclass
class InformerState:
    state: str = "connecting"  # connecting | live | reconnecting | forbidden
    message: str = ""
    stale_since: float = 0.0
    resource_version: str = ""
    lists: int = 0
    events: int = 0


class Informer:
    """List+watch of one (context, resource, namespace-or-all, label selector)."""

    def __init__(
        self,
        client: KubeClient,
        info: ResourceInfo,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        *,
        backoff_start: float = 0.5,
        backoff_max: float = 15.0,
        watch_timeout: int = 290,
    ) -> None:
        self.client = client
        self.info = info
        self.namespace = namespace
        self.label_selector = label_selector or None
        self.field_selector = field_selector or None
        self.rows: dict[str, KubeRow] = {}
        self.status = InformerState()
        self._spec = spec_for(info.plural)
        self._list_type = list_type(self._spec.struct)
        self._watch_type = watch_type(self._spec.struct)
        self._subscribers: set[asyncio.Queue[FeedMessage]] = set()
        self._task: asyncio.Task[None] | None = None
        self.backoff_start = backoff_start
        self.backoff_max = backoff_max
        self.watch_timeout = watch_timeout
        self._ready = asyncio.Event()

    @property
    def source(self) -> str:
        return self.client.context

    # -- subscription ------------------------------------------------------------------------
    async def subscribe(self) -> AsyncIterator[FeedMessage]:
        """Current rows, then every change, until the consumer stops iterating."""
        queue: asyncio.Queue[FeedMessage] = asyncio.Queue()
        self._subscribers.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"informer {self.source} {self.info.plural}")
        else:
            queue.put_nowait(SourceStatus(self.source, self.status.state, self.status.message))  # type: ignore[arg-type]
            if self._ready.is_set():
                queue.put_nowait(Snapshot(self.source, tuple(self.rows.values())))
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers.discard(queue)
            if not self._subscribers:
                await self.stop()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _emit(self, msg: FeedMessage) -> None:
        for q in self._subscribers:
            q.put_nowait(msg)

    def _set_state(self, state: str, message: str = "") -> None:
        if state != "live" and self.status.state == "live":
            self.status.stale_since = time.time()
        if state == "live":
            self.status.stale_since = 0.0
        self.status.state = state
        self.status.message = message
        self._emit(SourceStatus(self.source, state, message))  # type: ignore[arg-type]

    # -- list and watch ----------------------------------------------------------------------
    def _key(self, row: KubeRow) -> str:
        return row.key

    async def list_once(self) -> str:
        """Full list in pages; replaces the rows; returns the list's resourceVersion."""
        rows: dict[str, KubeRow] = {}
        cont = ""
        rv = ""
        path = self.info.path(self.namespace)
        build = self._spec.build
        ctx = self.source
        while True:
            params: dict[str, Any] = {"limit": PAGE}
            if cont:
                params["continue"] = cont
            if self.label_selector:
                params["labelSelector"] = self.label_selector
            if self.field_selector:
                params["fieldSelector"] = self.field_selector
            data = await self.client.get(path, params, what=f"list {self.info.plural}")
            decoded = msgspec.json.decode(data, type=self._list_type)
            for item in decoded.items:
                row = build(ctx, item)
                rows[row.key] = row
            rv = decoded.metadata.resourceVersion
            cont = decoded.metadata.continue_
            if not cont:
                break
        self.rows = rows
        if len(rows) > 5000:
            # tens of thousands of long-lived rows would make every full GC pass walk them all
            # (100+ ms pauses while typing); they are freed by reference counting when replaced
            gc.freeze()
        self.status.lists += 1
        self.status.resource_version = rv
        return rv

    async def _run(self) -> None:
        delay = self.backoff_start
        self._set_state("connecting")
        while True:
            try:
                rv = await self.list_once()
                self._ready.set()
                self._emit(Snapshot(self.source, tuple(self.rows.values())))
                self._set_state("live")
                delay = self.backoff_start
                if not self.info.watchable:
                    await asyncio.Event().wait()
                while True:
                    rv = await self._watch(rv)
            except asyncio.CancelledError:
                raise
            except Gone:
                self._set_state("reconnecting", "resourceVersion expired (410); re-listing")
                continue
            except (Forbidden, PermissionDenied) as exc:
                self._ready.set()
                self.rows = {}
                self._emit(Snapshot(self.source, ()))
                self._set_state("forbidden", str(exc))
                await asyncio.sleep(max(delay, 30.0))
            except TamerError as exc:
                self._set_state("reconnecting", f"{exc}; retrying in {delay:.1f}s")
                await asyncio.sleep(delay)
                delay = min(self.backoff_max, delay * 2)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                self._set_state("reconnecting", f"unexpected payload ({exc}); retrying in {delay:.1f}s")
                await asyncio.sleep(delay)
                delay = min(self.backoff_max, delay * 2)

    async def _watch(self, rv: str) -> str:
        """One watch request from ``rv``; returns the last resourceVersion seen (for the next one)."""
        params: dict[str, Any] = {
            "watch": "true",
            "resourceVersion": rv,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": self.watch_timeout,
        }
        if self.label_selector:
            params["labelSelector"] = self.label_selector
        if self.field_selector:
            params["fieldSelector"] = self.field_selector
        struct = self._spec.struct
        build = self._spec.build
        ctx = self.source
        decode_event = msgspec.json.Decoder(self._watch_type).decode
        decode_obj = msgspec.json.Decoder(struct).decode
        decode_generic = msgspec.json.Decoder(Generic).decode
        pending_up: dict[str, KubeRow] = {}
        pending_rm: list[str] = []
        last_flush = time.monotonic()
        async for line in self.client.stream_lines(self.info.path(self.namespace), params,
                                                   what=f"watch {self.info.plural}",
                                                   idle_timeout=self.watch_timeout + 30):
            ev = decode_event(line)
            if ev.type == "ERROR":
                status = msgspec.json.decode(ev.object, type=Status)
                if status.code == 410:
                    raise Gone(status.message or "too old resource version")
                raise TamerError(f"watch error {status.code}: {status.message}")
            if ev.type == "BOOKMARK":
                rv = decode_generic(ev.object).metadata.resourceVersion or rv
                continue
            row = build(ctx, decode_obj(ev.object))
            rv = row.resource_version or rv
            self.status.events += 1
            if ev.type == "DELETED":
                self.rows.pop(row.key, None)
                pending_up.pop(row.key, None)
                pending_rm.append(row.key)
            else:
                self.rows[row.key] = row
                pending_up[row.key] = row
            # batch bursts: flush when the stream pauses or every 50 ms
            now = time.monotonic()
            if now - last_flush > 0.05 or len(pending_up) > 500:
                self._flush(pending_up, pending_rm)
                last_flush = now
            else:
                asyncio.get_running_loop().call_soon(self._flush, pending_up, pending_rm)
        self._flush(pending_up, pending_rm)
        self.status.resource_version = rv
        return rv

    def _flush(self, ups: dict[str, KubeRow], rms: list[str]) -> None:
        if rms:
            self._emit(Remove(tuple(rms)))
            rms.clear()
        if ups:
            self._emit(Upsert(tuple(ups.values())))
            ups.clear()


@dataclass
class InformerRegistry:
    """Shared informers by (context, resource, namespace, selector); one watch per combination."""

    informers: dict[tuple[str, str, str, str], Informer] = field(default_factory=dict)

    def get(self, client: KubeClient, info: ResourceInfo, namespace: str | None,
            label_selector: str | None = None, field_selector: str | None = None) -> Informer:
        key = (client.context, info.key, namespace or "", f"{label_selector or ''}|{field_selector or ''}")
        inf = self.informers.get(key)
        if inf is None or inf.client is not client:
            inf = Informer(client, info, namespace if info.namespaced else None, label_selector, field_selector)
            self.informers[key] = inf
        return inf
