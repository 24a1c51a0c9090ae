"""Log streams: one or many sources (pod containers, Docker/Podman containers) merged into batches.

A :class:`LogSession` runs one task per source plus, for aggregated targets (a Deployment's pods, a
label selector, a compose project, a Podman pod), a *discoverer* that starts sources as they appear
and marks them as they go. Every source reconnects by itself when its stream breaks and resumes from
its last timestamp without duplicating lines (:class:`Resume`); the gap is reported as a
:class:`LogNotice`. Items go through one bounded queue: when the consumer is slow, sources wait
(which pushes back on the sockets) instead of dropping lines; the consumer takes everything queued in
one go, so the UI renders in batches.

Lines are always fetched with timestamps (they are what resuming needs); the text and the stamp are
kept apart so the viewer can show or hide the stamps.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from tamer_tui.core.errors import InvalidInput, NotFound, TamerError
from tamer_tui.core.feeds import Remove, Snapshot, Upsert, runtime_feed
from tamer_tui.core.models import ContainerRow

NoticeKind = Literal["joined", "left", "gap", "ended", "error", "info"]


@dataclass(slots=True)
class LogChunk:
    """Consecutive lines of one source; ``stamps[i]`` is the RFC 3339 time of ``lines[i]`` ("" if unknown)."""

    source: str
    lines: list[str]
    stamps: list[str]


@dataclass(slots=True)
class LogNotice:
    """Something the viewer shows as a marker line: a source joined or left, a gap, an error."""

    source: str
    kind: NoticeKind
    message: str


LogItem = LogChunk | LogNotice


@dataclass(frozen=True, slots=True)
class LogOptions:
    tail: int | None = 1000  # None = all
    since_seconds: float | None = None  # None = no lower bound
    previous: bool = False  # Kubernetes: the previous (terminated) instance of the container
    follow: bool = True


# ------------------------------------------------------------------------------------------------
# timestamps

def norm_stamp(stamp: str) -> str:
    """An RFC 3339 UTC stamp with exactly 9 fraction digits, so stamps compare as strings.

    Go's RFC3339Nano trims trailing zeros (``...:05.1Z``); Podman may print an offset (``+00:00``)."""
    if not stamp:
        return ""
    s = stamp
    if s.endswith("Z"):
        s = s[:-1]
    elif len(s) > 6 and s[-6] in "+-" and s[-3] == ":":
        if s[-6:] not in ("+00:00", "-00:00"):
            return _to_utc(stamp)
        s = s[:-6]
    head, dot, frac = s.partition(".")
    return f"{head}.{(frac if dot else '')[:9].ljust(9, '0')}Z"


def _to_utc(stamp: str) -> str:
    from datetime import UTC, datetime

    head, dot, rest = stamp.partition(".")
    digits = "".join(ch for ch in rest[:9] if ch.isdigit()) if dot else ""
    offset = stamp[-6:]
    try:
        dt = datetime.fromisoformat(head + offset).astimezone(UTC)
    except ValueError:
        return stamp
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{digits.ljust(9, '0')}Z"


def stamp_seconds(stamp: str) -> float:
    """Seconds since the epoch of a stamp (0.0 when it cannot be parsed)."""
    import calendar

    n = norm_stamp(stamp)
    try:
        whole = calendar.timegm(time.strptime(n[:19], "%Y-%m-%dT%H:%M:%S"))
        return whole + int(n[20:29]) / 1e9
    except (ValueError, IndexError):
        return 0.0


def split_stamp(line: str) -> tuple[str, str]:
    """``"2024-01-02T03:04:05.123Z text"`` -> (stamp, text); a line without a stamp -> ("", line)."""
    if len(line) > 20 and line[4] == "-" and line[10] == "T":
        stamp, sep, text = line.partition(" ")
        if sep:
            return stamp, text
        return stamp, ""
    return "", line


class Resume:
    """Where a source's stream got to, so a reconnect neither repeats nor skips lines.

    It keeps the last stamp seen and how many lines carried exactly that stamp. After a reconnect the
    server is asked for lines since that stamp (Kubernetes: rounded down to the second); lines before it
    are dropped, and of the lines carrying it exactly, as many as were already seen."""

    def __init__(self) -> None:
        self.last = ""  # normalised
        self.count_at_last = 0
        self._skip_before = ""
        self._skip_equal = 0

    @property
    def started(self) -> bool:
        return bool(self.last)

    def arm(self) -> None:
        """Called before reconnecting: the next lines up to the resume point are duplicates."""
        self._skip_before = self.last
        self._skip_equal = self.count_at_last

    def accept(self, stamps: list[str], lines: list[str]) -> tuple[list[str], list[str]]:
        """Drop the overlap after a reconnect and remember the newest stamp; returns the kept lines."""
        if self._skip_before:
            keep_s: list[str] = []
            keep_l: list[str] = []
            for i, st in enumerate(stamps):
                n = norm_stamp(st)
                if self._skip_before:
                    if n and n < self._skip_before:
                        continue
                    if n == self._skip_before and self._skip_equal > 0:
                        self._skip_equal -= 1
                        continue
                    self._skip_before = ""  # past the overlap: keep the rest as it comes
                keep_s.append(st)
                keep_l.append(lines[i])
            stamps, lines = keep_s, keep_l
        if stamps:
            last_raw = stamps[-1]
            if last_raw:
                last = norm_stamp(last_raw)
                same = 0
                for st in reversed(stamps):
                    if st != last_raw and norm_stamp(st) != last:
                        break
                    same += 1
                if last == self.last:
                    self.count_at_last += same
                else:
                    self.last, self.count_at_last = last, same
        return stamps, lines


# ------------------------------------------------------------------------------------------------
# sink and sources

class LogSink:
    """The bounded queue between sources and the consumer (``put`` waits while it is full)."""

    def __init__(self, max_items: int = 256) -> None:
        self.queue: asyncio.Queue[LogItem] = asyncio.Queue(maxsize=max_items)

    async def put(self, item: LogItem) -> None:
        await self.queue.put(item)

    async def lines(self, source: str, stamps: list[str], lines: list[str]) -> None:
        if lines:
            await self.queue.put(LogChunk(source, lines, stamps))

    async def notice(self, source: str, kind: NoticeKind, message: str) -> None:
        await self.queue.put(LogNotice(source, kind, message))


@dataclass
class SourceEnd:
    """Why a stream stopped: ``retry`` to reconnect (after ``reason``), else the source is done."""

    retry: bool
    reason: str = ""
    kind: NoticeKind = "ended"


class LogSource(abc.ABC):
    """One stream with reconnects. Subclasses open the stream and decide what an end means."""

    backoff_start = 0.25
    backoff_max = 5.0

    def __init__(self, name: str, options: LogOptions) -> None:
        self.name = name
        self.options = options
        self.resume = Resume()
        self.lines_in = 0
        self.reconnects = 0

    @abc.abstractmethod
    def open(self, first: bool) -> AsyncIterator[list[str]]:
        """Raw lines (each starting with its stamp) in batches; ``first`` is False after a reconnect."""

    @abc.abstractmethod
    async def after_end(self, error: TamerError | None, sink: LogSink) -> SourceEnd:
        """The stream ended (``error`` when it broke): reconnect or stop?"""

    async def run(self, sink: LogSink) -> None:
        first = True
        delay = self.backoff_start
        while True:
            error: TamerError | None = None
            try:
                async for raw in self.open(first):
                    stamps: list[str] = []
                    texts: list[str] = []
                    for line in raw:
                        st, text = split_stamp(line)
                        stamps.append(st)
                        texts.append(text)
                    stamps, texts = self.resume.accept(stamps, texts)
                    if texts:
                        self.lines_in += len(texts)
                        delay = self.backoff_start
                        await sink.lines(self.name, stamps, texts)
            except NotFound as exc:
                error = exc
            except TamerError as exc:
                error = exc
            if not self.options.follow:
                if error is not None:
                    await sink.notice(self.name, "error", str(error))
                return
            end = await self.after_end(error, sink)
            if not end.retry:
                await sink.notice(self.name, end.kind, end.reason or "stream ended")
                return
            if error is not None or end.reason:
                await sink.notice(self.name, "gap", end.reason or f"stream broken: {error}; reconnecting")
            self.reconnects += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.backoff_max)
            self.resume.arm()
            first = False

    def since_for_reconnect(self) -> str:
        return self.resume.last


# -- Kubernetes ------------------------------------------------------------------------------------

class PodContainerSource(LogSource):
    """``GET pods/{name}/log?container=..&follow&timestamps`` with reconnects across restarts."""

    def __init__(self, kube: Any, context: str | None, namespace: str, pod: str, container: str,
                 options: LogOptions, name: str | None = None) -> None:
        super().__init__(name or f"{pod}/{container}", options)
        self.kube = kube
        self.context = context
        self.namespace = namespace
        self.pod = pod
        self.container = container
        self._restarts: int | None = None

    @property
    def path(self) -> str:
        return f"/api/v1/namespaces/{self.namespace}/pods/{self.pod}/log"

    async def open(self, first: bool) -> AsyncIterator[list[str]]:
        client = await self.kube.client(self.context)
        params: dict[str, Any] = {"container": self.container, "timestamps": "true",
                                  "follow": "true" if self.options.follow and not self.options.previous else "false"}
        if first:
            if self.options.previous:
                params["previous"] = "true"
            if self.options.tail is not None:
                params["tailLines"] = self.options.tail
            if self.options.since_seconds:
                params["sinceSeconds"] = max(1, int(self.options.since_seconds))
        elif self.resume.last:
            params["sinceTime"] = self.resume.last[:19] + "Z"  # second precision; Resume drops the overlap
        async for batch in client.stream_line_batches(self.path, params,
                                                      what=f"logs {self.namespace}/{self.pod}/{self.container}"):
            yield batch

    async def after_end(self, error: TamerError | None, sink: LogSink) -> SourceEnd:
        if self.options.previous:
            return SourceEnd(False, str(error) if error else "previous instance: end of log", "ended")
        client = await self.kube.client(self.context)
        try:
            pod = json.loads(await client.get(f"/api/v1/namespaces/{self.namespace}/pods/{self.pod}",
                                              what=f"pod {self.pod}"))
        except NotFound:
            return SourceEnd(False, f"pod {self.pod} is gone", "left")
        except TamerError as exc:
            return SourceEnd(True, f"stream broken ({exc}); reconnecting")
        if (pod.get("metadata") or {}).get("deletionTimestamp"):
            return SourceEnd(False, f"pod {self.pod} is terminating", "left")
        status = pod.get("status") or {}
        phase = status.get("phase", "")
        cs = next((c for c in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or [])
                   if c.get("name") == self.container), None)
        policy = (pod.get("spec") or {}).get("restartPolicy", "Always")
        if phase in ("Succeeded", "Failed") or (cs and "terminated" in (cs.get("state") or {}) and policy == "Never"):
            return SourceEnd(False, f"container {self.container} terminated", "ended")
        if error is not None:
            return SourceEnd(True, f"stream broken ({error}); reconnecting")
        restarts = int(cs.get("restartCount", 0)) if cs else 0
        if cs and "running" not in (cs.get("state") or {}):
            await asyncio.sleep(1.0)  # waiting for the restart (CrashLoopBackOff) before asking again
        return SourceEnd(True, f"container {self.container} restarted (restart #{restarts})"
                         if restarts else "stream ended; reconnecting")


async def pod_containers(kube: Any, context: str | None, namespace: str, name: str) -> tuple[dict[str, Any], list[str]]:
    client = await kube.client(context)
    pod = json.loads(await client.get(f"/api/v1/namespaces/{namespace}/pods/{name}", what=f"pod {namespace}/{name}"))
    names = [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or []]
    return pod, names


# -- Docker / Podman -------------------------------------------------------------------------------

class RuntimeContainerSource(LogSource):
    """A Docker or Podman container's log; follows it across restarts (``since`` = last stamp)."""

    def __init__(self, runtime: Any, ident: str, options: LogOptions, name: str | None = None) -> None:
        super().__init__(name or ident, options)
        self.runtime = runtime
        self.ident = ident

    async def open(self, first: bool) -> AsyncIterator[list[str]]:
        since: float | None = None
        tail = self.options.tail
        if first:
            if self.options.since_seconds:
                since = time.time() - self.options.since_seconds
        else:
            tail = None
            since = stamp_seconds(self.resume.last) - 0.001 if self.resume.last else None  # Resume drops the overlap
        async for batch in self.runtime.logs_batches(self.ident, follow=self.options.follow, tail=tail,
                                                     since=since, timestamps=True):
            yield [f"{ln.ts} {ln.text}" if ln.ts else ln.text for ln in batch]

    async def after_end(self, error: TamerError | None, sink: LogSink) -> SourceEnd:
        said_stopped = False
        said_away = False
        delay = 0.25
        while True:
            try:
                info = await self.runtime.inspect_container(self.ident)
            except NotFound:
                return SourceEnd(False, f"container {self.name} is gone", "left")
            except TamerError as exc:
                if not said_away:  # the daemon itself is away: the stream resumes when it is back
                    await sink.notice(self.name, "gap", f"{exc}; waiting for the daemon")
                    said_away = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            state = info.get("State") or {}
            running = bool(state.get("Running")) if isinstance(state, dict) else str(state) == "running"
            if running:
                if said_stopped:
                    return SourceEnd(True, f"container {self.name} started again")
                if error is not None:
                    return SourceEnd(True, f"stream broken ({error}); reconnecting")
                return SourceEnd(True, "stream ended; reconnecting")
            if not said_stopped:
                await sink.notice(self.name, "info", f"container {self.name} stopped; waiting for it to start")
                said_stopped = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


# ------------------------------------------------------------------------------------------------
# session

@dataclass
class SourceInfo:
    name: str
    state: str = "streaming"  # streaming | ended | left | error
    lines: int = 0


@dataclass
class LogSession:
    """Runs sources (and a discoverer for aggregated targets) and hands out their items in batches."""

    title: str
    sink: LogSink = field(default_factory=LogSink)
    sources: dict[str, SourceInfo] = field(default_factory=dict)
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _discover: Callable[[LogSession], Any] | None = None
    _aux: list[asyncio.Task[Any]] = field(default_factory=list)
    aggregated: bool = False

    def start_source(self, source: LogSource) -> None:
        if source.name in self._tasks and not self._tasks[source.name].done():
            return
        self.sources[source.name] = SourceInfo(source.name)

        async def run() -> None:
            try:
                await source.run(self.sink)
            except TamerError as exc:
                await self.sink.notice(source.name, "error", str(exc))

        self._tasks[source.name] = asyncio.create_task(run(), name=f"logs {source.name}")

    def running(self) -> int:
        return sum(1 for t in self._tasks.values() if not t.done())

    async def items(self, max_batch: int = 50_000) -> AsyncIterator[list[LogItem]]:
        """Everything queued, in one list per wake-up, until every source (and the discoverer) is done."""
        if self._discover is not None:
            self._aux.append(asyncio.create_task(self._discover(self), name=f"discover {self.title}"))
        q = self.sink.queue
        try:
            while True:
                if q.empty() and self.running() == 0 and all(t.done() for t in self._aux):
                    for t in self._aux:
                        if t.done() and not t.cancelled() and t.exception() is not None:
                            exc = t.exception()
                            yield [LogNotice(self.title, "error", str(exc))]
                    return
                try:
                    first = await asyncio.wait_for(q.get(), 0.5)
                except TimeoutError:
                    continue
                out: list[LogItem] = [first]
                n = len(first.lines) if isinstance(first, LogChunk) else 1
                while n < max_batch:
                    try:
                        item = q.get_nowait()
                    except asyncio.QueueEmpty:
                        break
                    out.append(item)
                    n += len(item.lines) if isinstance(item, LogChunk) else 1
                for item in out:
                    info = self.sources.get(item.source)
                    if info is None:
                        continue
                    if isinstance(item, LogChunk):
                        info.lines += len(item.lines)
                    elif item.kind in ("ended", "left", "error"):
                        info.state = item.kind
                yield out
        finally:
            await self.close()

    async def close(self) -> None:
        tasks = list(self._tasks.values()) + self._aux
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(BaseException):
                await t


# ------------------------------------------------------------------------------------------------
# targets

WORKLOAD_PATHS = {
    "deploy": ("apps/v1", "deployments", "Deployment"),
    "sts": ("apps/v1", "statefulsets", "StatefulSet"),
    "ds": ("apps/v1", "daemonsets", "DaemonSet"),
    "job": ("batch/v1", "jobs", "Job"),
    "rs": ("apps/v1", "replicasets", "ReplicaSet"),
}
WORKLOAD_ALIASES = {
    "deploy": "deploy", "deployment": "deploy", "deployments": "deploy", "dp": "deploy",
    "sts": "sts", "statefulset": "sts", "statefulsets": "sts",
    "ds": "ds", "daemonset": "ds", "daemonsets": "ds",
    "job": "job", "jobs": "job",
    "rs": "rs", "replicaset": "rs", "replicasets": "rs",
}


def selector_string(selector: dict[str, Any]) -> str:
    """A LabelSelector object as the ``labelSelector`` query string."""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator", ""), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


async def workload_selector(kube: Any, context: str | None, kind: str, namespace: str, name: str) -> str:
    group_version, plural, label = WORKLOAD_PATHS[kind]
    client = await kube.client(context)
    obj = json.loads(await client.get(f"/apis/{group_version}/namespaces/{namespace}/{plural}/{name}",
                                      what=f"{label} {namespace}/{name}"))
    selector = (obj.get("spec") or {}).get("selector") or {}
    text = selector_string(selector)
    if not text:
        raise InvalidInput(f"{label} {namespace}/{name} has no pod selector")
    return text


def pod_session(kube: Any, context: str | None, namespace: str, name: str, containers: list[str],
                options: LogOptions) -> LogSession:
    """One pod: one container, or all of them interleaved (each a source)."""
    session = LogSession(f"pod/{namespace}/{name}", aggregated=len(containers) > 1)
    for c in containers:
        session.start_source(PodContainerSource(kube, context, namespace, name, c, options,
                                                name=c if len(containers) > 1 else f"{name}/{c}"))
    return session


def selector_session(kube: Any, context: str | None, namespace: str, selector: str, options: LogOptions,
                     title: str, container: str | None = None) -> LogSession:
    """All pods matching ``selector`` (watched): pods that appear join, pods that go are marked."""
    session = LogSession(title, aggregated=True)

    async def discover(s: LogSession) -> None:
        info = await kube.resolve("pods", context)
        known: dict[str, set[str]] = {}  # pod name -> started containers
        pending: set[str] = set()
        first_snapshot = True

        async def consider(pod_name: str, initial: bool) -> None:
            try:
                pod, names = await pod_containers(kube, context, namespace, pod_name)
            except NotFound:
                return
            statuses = {c.get("name"): c for c in (pod.get("status") or {}).get("containerStatuses") or []}
            wanted = [c for c in names if container in (None, "", c)]
            started = known.setdefault(pod_name, set())
            for c in wanted:
                st = statuses.get(c) or {}
                state = st.get("state") or {}
                if c in started or not ("running" in state or "terminated" in state):
                    continue
                started.add(c)
                label = f"{pod_name}/{c}" if len(names) > 1 else pod_name
                opts = options if initial else LogOptions(tail=None, since_seconds=None, follow=options.follow)
                if not initial:
                    await s.sink.notice(label, "joined", f"{label} joined")
                s.start_source(PodContainerSource(kube, context, namespace, pod_name, c, opts, name=label))
            if len(started) < len(wanted):
                pending.add(pod_name)
            else:
                pending.discard(pod_name)

        async for msg in kube.feed(info, namespace, selector, context):
            if isinstance(msg, Snapshot):
                for row in msg.rows:
                    await consider(row.name, first_snapshot)
                first_snapshot = False
                if not options.follow:
                    return
            elif isinstance(msg, Upsert):
                for row in msg.rows:
                    if row.name not in known or row.name in pending:
                        await consider(row.name, False)
            elif isinstance(msg, Remove):
                for key in msg.keys:
                    pod_name = key.rsplit("/", 1)[-1]
                    known.pop(pod_name, None)
                    pending.discard(pod_name)

    session._discover = discover
    return session


def runtime_session(runtimes: list[Any], title: str, match: Callable[[ContainerRow], bool],
                    label: Callable[[ContainerRow], str], options: LogOptions) -> LogSession:
    """All containers of some runtimes matching ``match`` (a compose project, a Podman pod), watched."""
    session = LogSession(title, aggregated=True)

    async def discover(s: LogSession) -> None:
        first = {rt.name: True for rt in runtimes}
        started: set[str] = set()

        async def watch(rt: Any) -> None:
            async for msg in runtime_feed(rt, "containers"):
                rows: tuple[Any, ...] = ()
                initial = False
                if isinstance(msg, Snapshot):
                    rows, initial = msg.rows, first[rt.name]
                    first[rt.name] = False
                elif isinstance(msg, Upsert):
                    rows = msg.rows
                for row in rows:
                    if not match(row) or row.key in started or row.state in ("created",):
                        continue
                    started.add(row.key)
                    name = label(row)
                    if not initial:
                        await s.sink.notice(name, "joined", f"{name} joined")
                    opts = options if initial else LogOptions(tail=None, follow=options.follow)
                    s.start_source(RuntimeContainerSource(rt, row.id, opts, name=name))
                if isinstance(msg, Snapshot) and not options.follow:
                    return

        await asyncio.gather(*(watch(rt) for rt in runtimes))

    session._discover = discover
    return session
