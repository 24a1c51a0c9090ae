"""Log streams: one or many sources (pod containers, Docker/Podman containers) merged into batches.

A :class:`LogSession` runs one task per source plus, for aggregated targets (a Deployment's pods, a
label selector, a compose project, a Podman pod), a *discoverer* that starts sources as they appear
(a :class:`LogNotice` "joined"); sources mark themselves when they go ("left", "ended"). Every source
reconnects by itself when its stream breaks or its container restarts and resumes from the last
line it delivered without duplicating or skipping lines (:class:`Resume`); a break is marked once
with a "gap" notice, a restart with an "info" notice.

Items go through one :class:`LogSink` bounded by a number of lines: when the consumer is slow the
sources wait (which pushes back on their sockets) instead of dropping lines; the consumer takes
everything queued in one go, adjacent lines of one source merged into one chunk, so the UI renders
in batches.

Lines are always fetched with timestamps (they are what resuming needs); the text and the stamp are
kept apart so the viewer can show or hide the stamps.
"""

from __future__ import annotations

import abc
import asyncio
import calendar
import contextlib
import json
import time
from collections import Counter, deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from tamer_tui.core.errors import BackendError, InvalidInput, NotFound, RuntimeUnavailable, TamerError
from tamer_tui.core.feeds import Remove, Snapshot, Upsert, runtime_feed
from tamer_tui.core.logwire import is_stamp, split_stamps
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
    """What to fetch: the last ``tail`` lines (None = all), lines of the last ``since_seconds``
    (None = no bound), the previous instance of a Kubernetes container, and whether to follow."""

    tail: int | None = 1000  # None = all
    since_seconds: float | None = None  # None = no lower bound
    previous: bool = False  # Kubernetes: the previous (terminated) instance of the container
    follow: bool = True


# ------------------------------------------------------------------------------------------------
# timestamps

def norm_stamp(stamp: str) -> str:
    """An RFC 3339 UTC stamp with exactly 9 fraction digits, so stamps compare as strings.

    Go's RFC3339Nano trims trailing zeros (``...:05.1Z``, ``...:05Z``); Podman prints whole seconds;
    an offset (``+00:00``, ``+02:00``) is turned into ``Z``. Anything that is not a stamp gives ""."""
    if not stamp:
        return ""
    s = stamp
    if s[-1] in "Zz":
        s = s[:-1]
    elif len(s) > 6 and s[-6] in "+-" and s[-3] == ":":
        if s[-6:] not in ("+00:00", "-00:00"):
            return _to_utc(stamp)
        s = s[:-6]
    else:
        return ""
    head, dot, frac = s.partition(".")
    if len(head) != 19 or head[10] not in "Tt":
        return ""
    return f"{head[:10]}T{head[11:]}.{(frac if dot else '')[:9].ljust(9, '0')}Z"


def _to_utc(stamp: str) -> str:
    from datetime import UTC, datetime

    head, dot, rest = stamp[:-6].partition(".")
    digits = "".join(ch for ch in rest[:9] if ch.isdigit()) if dot else ""
    try:
        dt = datetime.fromisoformat(head + stamp[-6:]).astimezone(UTC)
    except ValueError:
        return ""
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{digits.ljust(9, '0')}Z"


def stamp_ns(stamp: str) -> int:
    """Nanoseconds since the epoch of a stamp (0 when it cannot be parsed); exact, unlike a float."""
    n = norm_stamp(stamp)
    if not n:
        return 0
    try:
        whole = calendar.timegm((int(n[0:4]), int(n[5:7]), int(n[8:10]), int(n[11:13]), int(n[14:16]),
                                 int(n[17:19]), 0, 0, 0))
        return whole * 1_000_000_000 + int(n[20:29])
    except ValueError:
        return 0


def ns_stamp(ns: int) -> str:
    """The normalised stamp (9 fraction digits, ``Z``) of nanoseconds since the epoch."""
    whole, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{frac:09d}Z"


def stamp_seconds(stamp: str) -> float:
    """Seconds since the epoch of a stamp (0.0 when it cannot be parsed)."""
    return stamp_ns(stamp) / 1e9


def split_stamp(line: str) -> tuple[str, str]:
    """``"2024-01-02T03:04:05.123Z text"`` -> (stamp, text); a line without a stamp -> ("", line)."""
    head, sep, text = line.partition(" ")
    if is_stamp(head):
        return head, text
    return "", line


class Resume:
    """Where a source's stream got to, so a reconnect neither repeats nor skips lines.

    It keeps the newest stamp seen (:attr:`last`) and the lines delivered in the last moments
    (everything stamped within ``window_ns + precision_ns`` of it). Before reconnecting, :meth:`arm`
    gives the point to ask the server for lines from (``window_ns`` before the newest stamp) and turns
    the kept lines stamped from that point, rounded down to ``precision_ns``, into a multiset of
    (stamp, text). :meth:`accept` then drops each line found in the multiset (once per delivery) and
    keeps every other line, until the multiset is used up or a line is clearly newer than anything
    delivered; lines stamped before the rounded point are dropped too (delivered before).

    Rounding to whole seconds covers servers that answer from the start of the second (Kubernetes'
    ``sinceTime`` has seconds) and stamps printed with seconds (Podman); the window covers stdout and
    stderr lines stamped slightly out of order (each stream is stamped by its own reader); matching
    lines instead of cutting at a position covers a stream that delivered lines out of order before
    it broke (Podman's follow stream around a restart).
    """

    def __init__(self, window_ns: int = 10_000_000, precision_ns: int = 1_000_000_000) -> None:
        self.window_ns = window_ns
        self.precision_ns = precision_ns
        self.last = ""  # normalised, the newest stamp seen
        self.since_ns = 0  # after arm(): where the server is asked to start
        self._recent: deque[tuple[list[str], list[str]]] = deque()
        self._seen: Counter[tuple[str, str]] | None = None  # armed: lines to drop once each
        self._floor = ""  # armed: lines stamped before this are dropped
        self._ceiling = ""  # armed: a line stamped after this ends the overlap
        self._first: tuple[str, str] | None = None  # the first line ever delivered (stamp, text)
        self._before_first = False  # armed: lines before the first delivered one are dropped

    @property
    def started(self) -> bool:
        return bool(self.last)

    @property
    def armed(self) -> bool:
        return self._seen is not None

    @property
    def count_at_last(self) -> int:
        """How many delivered lines carry exactly the newest stamp."""
        return sum(1 for stamps, _texts in self._recent for st in stamps if norm_stamp(st) == self.last)

    def arm(self) -> str:
        """Called before reconnecting: the next lines up to the resume point are duplicates.

        Returns the normalised stamp to ask the server for lines from ("" when nothing was seen)."""
        if not self.last:
            self._seen = None
            return ""
        last_ns = stamp_ns(self.last)
        self.since_ns = last_ns - self.window_ns
        floor = ns_stamp(self.since_ns - self.since_ns % self.precision_ns)
        seen: Counter[tuple[str, str]] = Counter()
        for stamps, texts in self._recent:
            for st, text in zip(stamps, texts, strict=True):
                n = norm_stamp(st)
                if n >= floor:
                    seen[(n, text)] += 1
        self._floor = floor
        self._ceiling = ns_stamp(last_ns + self.precision_ns + self.window_ns)
        self._seen = seen if seen else None
        # the answer may start before the first line ever delivered (those were cut by --tail or
        # --since): they come first and are dropped until that line comes
        self._before_first = self._first is not None and self._first in seen
        return ns_stamp(self.since_ns)

    def accept(self, stamps: list[str], lines: list[str]) -> tuple[list[str], list[str]]:
        """Drop the overlap after a reconnect and remember what was delivered; returns the kept lines."""
        seen = self._seen
        if seen is not None and stamps:
            keep_s: list[str] = []
            keep_l: list[str] = []
            floor, ceiling = self._floor, self._ceiling
            for i, st in enumerate(stamps):
                n = norm_stamp(st)
                if n and n < floor:
                    continue  # before the resume point: delivered before
                key = (n, lines[i])
                if self._before_first and self._first is not None:
                    if key != self._first and n and n <= self._first[0]:
                        continue  # stamped no later than the first line delivered, and before it
                    self._before_first = False
                count = seen.get(key, 0)
                if count:
                    if count == 1:
                        del seen[key]
                    else:
                        seen[key] = count - 1
                    if not seen:  # every line delivered before came again: the rest is new
                        self._seen = None
                        keep_s.extend(stamps[i + 1 :])
                        keep_l.extend(lines[i + 1 :])
                        break
                    continue
                keep_s.append(st)
                keep_l.append(lines[i])
                if n > ceiling:  # newer than anything delivered before: the overlap is over
                    self._seen = None
                    keep_s.extend(stamps[i + 1 :])
                    keep_l.extend(lines[i + 1 :])
                    break
            stamps, lines = keep_s, keep_l
        if stamps:
            self._remember(stamps, lines)
        return stamps, lines

    def _remember(self, stamps: list[str], lines: list[str]) -> None:
        newest = ""
        for st in reversed(stamps):
            if st:
                newest = norm_stamp(st)
                break
        if not newest:
            return  # lines without stamps cannot be resumed from
        if self._first is None:
            self._first = next(((norm_stamp(st), text) for st, text in zip(stamps, lines, strict=True) if st), None)
        if newest > self.last:
            self.last = newest
        recent = self._recent
        recent.append((stamps, lines))
        if len(recent) < 2:
            return
        # forget batches that ended before what arm() may need (the newest batch always stays)
        horizon = ns_stamp(stamp_ns(self.last) - self.window_ns - 2 * self.precision_ns)
        while len(recent) > 1:
            old_stamps, _ = recent[0]
            old_last = next((norm_stamp(s) for s in reversed(old_stamps) if s), "")
            if old_last >= horizon:
                break
            recent.popleft()


# ------------------------------------------------------------------------------------------------
# sink

class LogSink:
    """The bounded queue between sources and the consumer.

    ``put`` waits while ``max_lines`` lines (or ``max_items`` items) are queued, so a slow consumer
    slows the producers down and nothing is ever dropped; one item bigger than the bound still goes
    in when the queue is empty."""

    def __init__(self, max_lines: int = 200_000, max_items: int = 10_000) -> None:
        self.max_lines = max_lines
        self.max_items = max_items
        self._items: deque[LogItem] = deque()
        self._lines = 0
        self._readers: set[asyncio.Future[None]] = set()  # consumers waiting in wait()
        self._not_full = asyncio.Event()
        self._not_full.set()

    @property
    def pending_lines(self) -> int:
        return self._lines

    def __len__(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items

    def _full(self) -> bool:
        return bool(self._items) and (self._lines >= self.max_lines or len(self._items) >= self.max_items)

    async def put(self, item: LogItem) -> None:
        while self._full():
            self._not_full.clear()
            await self._not_full.wait()
        self._items.append(item)
        if isinstance(item, LogChunk):
            self._lines += len(item.lines)
        for reader in self._readers:
            _wake(reader)

    async def lines(self, source: str, stamps: list[str], lines: list[str]) -> None:
        if lines:
            await self.put(LogChunk(source, lines, stamps))

    async def notice(self, source: str, kind: NoticeKind, message: str) -> None:
        await self.put(LogNotice(source, kind, message))

    async def wait(self, timeout: float | None = None) -> bool:
        """Until something is queued (True) or ``timeout`` passed (False).

        A plain future and a timer, not ``asyncio.wait_for``: on Python 3.11 wait_for swallows a
        cancellation that arrives while the awaited thing completes, and the consumer would never
        stop."""
        if self._items:
            return True
        loop = asyncio.get_running_loop()
        reader: asyncio.Future[None] = loop.create_future()
        timer = loop.call_later(timeout, _wake, reader) if timeout is not None else None
        self._readers.add(reader)
        try:
            await reader
        finally:
            self._readers.discard(reader)
            if timer is not None:
                timer.cancel()
        return bool(self._items)

    def drain(self, max_lines: int = 50_000) -> list[LogItem]:
        """Take what is queued (at least one item, up to about ``max_lines`` lines); adjacent chunks of
        one source are merged into one (new) chunk."""
        out: list[LogItem] = []
        items = self._items
        taken = 0
        owned: LogChunk | None = None  # a merged chunk whose lists belong to us
        while items and (taken < max_lines or not out):
            item = items.popleft()
            if isinstance(item, LogChunk):
                n = len(item.lines)
                taken += n
                self._lines -= n
                last = out[-1] if out else None
                if isinstance(last, LogChunk) and last.source == item.source:
                    if last is not owned:
                        owned = LogChunk(last.source, list(last.lines), list(last.stamps))
                        out[-1] = owned
                    owned.lines.extend(item.lines)
                    owned.stamps.extend(item.stamps)
                    continue
            else:
                taken += 1
            out.append(item)
        if not self._full():
            self._not_full.set()
        return out


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


# ------------------------------------------------------------------------------------------------
# sources

@dataclass
class SourceEnd:
    """Why a stream stopped: ``retry`` to reconnect, else the source is done (a ``kind`` notice with
    ``reason`` says why)."""

    retry: bool
    reason: str = ""
    kind: NoticeKind = "ended"


Batch = tuple[list[str], list[str]]  # (stamps, texts)


class LogSource(abc.ABC):
    """One stream with reconnects. Subclasses open the stream and decide what an end means."""

    backoff_start = 0.25
    backoff_max = 5.0
    unfollowed_retries = 3  # a one-shot fetch that breaks is resumed this often

    def __init__(self, name: str, options: LogOptions) -> None:
        self.name = name
        self.options = options
        self.resume = Resume()
        self.lines_in = 0
        self.reconnects = 0
        self.connected_at: float | None = None  # wall time a server first answered (None: never)
        self.in_gap = False  # a gap notice was sent and no line came since

    @abc.abstractmethod
    def open(self, first: bool) -> AsyncGenerator[Batch, None]:
        """(stamps, texts) batches; an empty batch says the server answered. ``first`` is False
        after a reconnect: then :meth:`resume_point` says where to start."""

    @abc.abstractmethod
    async def after_end(self, error: TamerError | None, sink: LogSink) -> SourceEnd:
        """The stream ended (``error`` when it broke): reconnect or stop? Sends its own notices."""

    def resume_point(self) -> tuple[str, float | None]:
        """Where a reconnect starts: (normalised stamp to fetch from, else "";
        wall time to fetch from when nothing was delivered but a server had answered, else None).
        Neither: fetch as the options say (the first connection never got an answer)."""
        if self.resume.started:
            return self.resume.arm(), None
        if self.connected_at is not None:
            return "", self.connected_at - 1.0
        return "", None

    def start_window(self, first: bool) -> tuple[int | None, float | None]:
        """``(tail, since)`` for a Docker-style log request (unix seconds): the options on the first
        connection; after a break, from just before the last delivered stamp (``Resume`` drops the
        overlap), else from when the server last answered, else the options' since."""
        since: float | None = None
        tail = self.options.tail
        if first:
            if self.options.since_seconds:
                since = time.time() - self.options.since_seconds
            return tail, since
        point, wall = self.resume_point()
        if point:
            return None, self.resume.since_ns / 1e9 - 0.001
        if wall is not None:
            return None, wall
        if self.options.since_seconds:
            since = time.time() - self.options.since_seconds
        return tail, since

    async def gap(self, sink: LogSink, message: str) -> None:
        """Mark a break once (until lines flow again)."""
        if not self.in_gap:
            self.in_gap = True
            await sink.notice(self.name, "gap", message)

    async def run(self, sink: LogSink) -> None:
        first = True
        delay = self.backoff_start
        retries = 0
        while True:
            error: TamerError | None = None
            try:
                # aclosing: a cancelled source closes its stream (and its reader thread) at once
                async with contextlib.aclosing(self.open(first)) as batches:
                    async for stamps, texts in batches:
                        if self.connected_at is None:
                            self.connected_at = time.time()
                        if not texts:
                            continue
                        stamps, texts = self.resume.accept(stamps, texts)
                        if texts:
                            self.lines_in += len(texts)
                            delay = self.backoff_start
                            self.in_gap = False
                            await sink.lines(self.name, stamps, texts)
            except TamerError as exc:
                error = exc
            except (OSError, ValueError, RuntimeError) as exc:  # a transport or decoding failure
                error = BackendError(f"{type(exc).__name__}: {exc}")
            first = False
            if not self.options.follow:
                if error is None:
                    return
                if isinstance(error, RuntimeUnavailable) and retries < self.unfollowed_retries:
                    retries += 1
                    await self.gap(sink, f"{error}; resuming")
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.backoff_max)
                    continue
                await sink.notice(self.name, "error", str(error))
                return
            end = await self.after_end(error, sink)
            if not end.retry:
                await sink.notice(self.name, end.kind, end.reason or "stream ended")
                return
            self.reconnects += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.backoff_max)


# -- Kubernetes ------------------------------------------------------------------------------------

def _iso_second(stamp: str) -> str:
    return stamp[:19] + "Z"


class PodContainerSource(LogSource):
    """``GET pods/{name}/log?container=..&follow&timestamps`` with reconnects across breaks and restarts.

    When the container restarted while the stream was away (its restart count went up), the rest of
    the instance that was being followed is fetched first (``previous=true`` from the resume point),
    then the new instance is followed; instances that ran and ended entirely in between cannot be
    fetched any more (the kubelet keeps one previous instance) and are reported as a gap."""

    poll_interval = 1.0

    def __init__(self, kube: Any, context: str | None, namespace: str, pod: str, container: str,
                 options: LogOptions, name: str | None = None, uid: str = "", restarts: int | None = None,
                 status: dict[str, Any] | None = None) -> None:
        """``uid`` pins the pod (a pod re-created under the name ends the source); ``status`` (the
        container's status when the source was made) or ``restarts`` tell which run is shown first."""
        super().__init__(name or f"{pod}/{container}", options)
        self.kube = kube
        self.context = context
        self.namespace = namespace
        self.pod = pod
        self.container = container
        self.uid = uid
        # the run being followed: its restartCount and start while seen running (None: not seen running)
        self._run_index: int | None = None
        self._run_started: str | None = None
        if status is not None:
            running = (status.get("state") or {}).get("running")
            if running is not None:
                self._run_index = int(status.get("restartCount") or 0)
                self._run_started = str(running.get("startedAt") or "")
        elif restarts is not None:
            self._run_index = restarts
        self._fetch_previous = False
        self._said_waiting = False

    @property
    def path(self) -> str:
        return f"/api/v1/namespaces/{self.namespace}/pods/{self.pod}/log"

    async def open(self, first: bool) -> AsyncGenerator[Batch, None]:
        client = await self.kube.client(self.context)
        what = f"logs {self.namespace}/{self.pod}/{self.container}"
        params: dict[str, Any] = {"container": self.container, "timestamps": "true"}
        if self.options.previous:
            params["previous"] = "true"
        since, since_wall = ("", None) if first else self.resume_point()
        if since:
            params["sinceTime"] = _iso_second(since)  # whole seconds: Resume drops the overlap
        elif since_wall is not None:
            params["sinceTime"] = _iso_second(ns_stamp(int(since_wall) * 1_000_000_000))
        else:
            if self.options.tail is not None:
                params["tailLines"] = max(0, self.options.tail)
            if self.options.since_seconds:
                params["sinceSeconds"] = max(1, int(self.options.since_seconds))
        if self._fetch_previous and not self.options.previous:
            self._fetch_previous = False
            if "sinceTime" in params:
                try:
                    async with contextlib.aclosing(client.stream_line_batches(
                            self.path, {**params, "previous": "true"}, what=what)) as earlier:
                        async for lines in earlier:
                            yield split_stamps(lines)
                except (InvalidInput, NotFound):
                    pass  # no previous instance (any more)
        params["follow"] = "true" if self.options.follow and not self.options.previous else "false"
        async with contextlib.aclosing(client.stream_line_batches(self.path, params, what=what)) as current:
            async for lines in current:
                yield split_stamps(lines) if lines else ([], [])

    async def after_end(self, error: TamerError | None, sink: LogSink) -> SourceEnd:
        if self.options.previous:
            if error is None:
                return SourceEnd(False, "end of the previous instance's log", "ended")
            if not isinstance(error, RuntimeUnavailable):
                return SourceEnd(False, str(error), "error")
            await self.gap(sink, f"{error}; reconnecting")
            return SourceEnd(True)
        client = await self.kube.client(self.context)
        while True:
            try:
                pod = json.loads(await client.get(f"/api/v1/namespaces/{self.namespace}/pods/{self.pod}",
                                                  what=f"pod {self.namespace}/{self.pod}"))
            except NotFound:
                return SourceEnd(False, f"pod {self.pod} is gone", "left")
            except TamerError as exc:  # the API server is away: retry the stream (with backoff)
                await self.gap(sink, f"{error or exc}; reconnecting")
                return SourceEnd(True)
            meta = pod.get("metadata") or {}
            if self.uid and meta.get("uid") and meta.get("uid") != self.uid:
                return SourceEnd(False, f"pod {self.pod} was replaced", "left")
            status = pod.get("status") or {}
            cs = next((c for c in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or [])
                       if c.get("name") == self.container), None)
            state = (cs or {}).get("state") or {}
            restarts = int((cs or {}).get("restartCount") or 0)
            running = "running" in state
            if error is not None and not running and not self.in_gap and self.lines_in:
                # broke, and the container stopped meanwhile: fetch what it wrote up to its end first
                await self.gap(sink, f"stream broken ({error}); reconnecting")
                return SourceEnd(True)
            phase = status.get("phase", "")
            policy = (pod.get("spec") or {}).get("restartPolicy", "Always")
            terminated = state.get("terminated")
            if phase in ("Succeeded", "Failed"):
                return SourceEnd(False, f"pod {self.pod} {phase.lower()}", "ended")
            if terminated and (policy == "Never" or (policy == "OnFailure" and not terminated.get("exitCode"))):
                return SourceEnd(False, f"container {self.container} exited (code {terminated.get('exitCode', 0)})",
                                 "ended")
            if meta.get("deletionTimestamp") and not running:
                return SourceEnd(False, f"pod {self.pod} is terminating", "left")
            if running:
                started = str(state["running"].get("startedAt") or "")
                if self._run_started is None:  # it was not running: what was shown is an earlier run
                    new_run = self.lines_in > 0
                else:
                    new_run = started != self._run_started or (self._run_index is not None and restarts > self._run_index)
                missed = restarts - self._run_index - 1 if new_run and self._run_index is not None else 0
                self._run_index, self._run_started = restarts, started
                if new_run:
                    self._fetch_previous = self.resume.started  # the rest of the run that ended
                    await sink.notice(self.name, "info", f"container {self.container} restarted (restart #{restarts})")
                    if missed > 0:
                        self.in_gap = False
                        await self.gap(sink, f"{missed} earlier run(s) of {self.container} ended while the stream "
                                             "was away; their lines are lost")
                elif error is not None:
                    await self.gap(sink, f"stream broken ({error}); reconnecting")
                return SourceEnd(True)
            if not self._said_waiting and self.lines_in == 0:
                self._said_waiting = True
                waiting = (state.get("waiting") or {}).get("reason") or "not running"
                await sink.notice(self.name, "info", f"container {self.container} is {waiting}; waiting for it to run")
            await asyncio.sleep(self.poll_interval)


async def pod_containers(kube: Any, context: str | None, namespace: str, name: str) -> tuple[dict[str, Any], list[str]]:
    """The pod object and its container names (in spec order)."""
    client = await kube.client(context)
    pod = json.loads(await client.get(f"/api/v1/namespaces/{namespace}/pods/{name}", what=f"pod {namespace}/{name}"))
    names = [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or []]
    return pod, names


def _container_statuses(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    status = pod.get("status") or {}
    return {str(c.get("name")): c
            for c in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or [])}


# -- Docker / Podman -------------------------------------------------------------------------------

class RuntimeContainerSource(LogSource):
    """A Docker or Podman container's log; follows it across restarts (``since`` = resume point)."""

    stopped_grace = 1.5  # a container that stays stopped this long is reported as stopped

    def __init__(self, runtime: Any, ident: str, options: LogOptions, name: str | None = None) -> None:
        super().__init__(name or ident, options)
        self.runtime = runtime
        self.ident = ident
        self._instance: str | None = None  # StartedAt of the run being followed

    async def _inspect_state(self) -> dict[str, Any]:
        info = await self.runtime.inspect_container(self.ident)
        state = info.get("State") or {}
        return state if isinstance(state, dict) else {"Status": str(state), "Running": str(state) == "running"}

    async def open(self, first: bool) -> AsyncGenerator[Batch, None]:
        tail, since = self.start_window(first)
        if self.options.follow:
            with contextlib.suppress(TamerError):
                self._instance = str((await self._inspect_state()).get("StartedAt") or "")
        batches = self.runtime.log_text_batches(self.ident, follow=self.options.follow, tail=tail, since=since,
                                                timestamps=True)
        async with contextlib.aclosing(batches):
            async for batch in batches:
                yield batch.stamps, batch.texts

    async def after_end(self, error: TamerError | None, sink: LogSink) -> SourceEnd:
        delay = 0.25
        stopped_since: float | None = None
        said_stopped = False
        while True:
            try:
                state = await self._inspect_state()
            except NotFound:
                return SourceEnd(False, f"container {self.name} is gone", "left")
            except TamerError as exc:  # the daemon itself is away: the stream resumes when it is back
                await self.gap(sink, f"{exc}; waiting for the daemon")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            running = bool(state.get("Running"))
            started = str(state.get("StartedAt") or "")
            if running:
                if self._instance is not None and started and started != self._instance:
                    await sink.notice(self.name, "info", f"container {self.name} restarted")
                elif error is not None:
                    await self.gap(sink, f"stream broken ({error}); reconnecting")
                return SourceEnd(True)
            now = time.monotonic()
            if stopped_since is None:
                stopped_since = now
            if not said_stopped and now - stopped_since >= self.stopped_grace:
                code = state.get("ExitCode")
                how = f" (exit code {code})" if isinstance(code, int) else ""
                await sink.notice(self.name, "info", f"container {self.name} stopped{how}; waiting for it to start")
                said_stopped = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


# ------------------------------------------------------------------------------------------------
# session

@dataclass
class SourceInfo:
    """What the viewer shows about one source: its state and how many lines it delivered."""

    name: str
    state: str = "streaming"  # streaming | reconnecting | ended | left | error
    lines: int = 0


@dataclass
class LogSession:
    """Runs sources (and a discoverer for aggregated targets) and hands out their items in batches."""

    title: str
    sink: LogSink = field(default_factory=LogSink)
    sources: dict[str, SourceInfo] = field(default_factory=dict)
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _discover: Callable[[LogSession], Awaitable[None]] | None = None
    _aux: list[asyncio.Task[Any]] = field(default_factory=list)
    aggregated: bool = False
    _objects: dict[str, LogSource] = field(default_factory=dict)

    def unique_name(self, base: str) -> str:
        """``base``, or ``base#2``, ``base#3``... when a running source already has that name."""
        name = base
        n = 1
        while name in self._tasks and not self._tasks[name].done():
            n += 1
            name = f"{base}#{n}"
        return name

    def start_source(self, source: LogSource) -> None:
        if source.name in self._tasks and not self._tasks[source.name].done():
            return
        self.sources[source.name] = SourceInfo(source.name)
        self._objects[source.name] = source

        async def run() -> None:
            try:
                await source.run(self.sink)
                info = self.sources.get(source.name)
                if info is not None and info.state in ("streaming", "reconnecting"):
                    info.state = "ended"  # a one-shot fetch that is complete
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a source that fails says so in the stream
                text = str(exc) if isinstance(exc, TamerError) else f"{type(exc).__name__}: {exc}"
                await self.sink.notice(source.name, "error", text)

        self._tasks[source.name] = asyncio.create_task(run(), name=f"logs {source.name}")

    def source(self, name: str) -> LogSource | None:
        """The source object of a name (statistics: lines, reconnects)."""
        return self._objects.get(name)

    def running(self) -> int:
        return sum(1 for t in self._tasks.values() if not t.done())

    def _start_discoverer(self) -> None:
        if self._discover is None or self._aux:
            return
        discover = self._discover

        async def run() -> None:
            try:
                await discover(self)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - shown in the stream
                await self.sink.notice(self.title, "error", f"cannot follow the sources of {self.title}: {exc}")

        self._aux.append(asyncio.create_task(run(), name=f"discover {self.title}"))

    def _account(self, items: list[LogItem]) -> None:
        for item in items:
            info = self.sources.get(item.source)
            if info is None:
                continue
            if isinstance(item, LogChunk):
                info.lines += len(item.lines)
                if info.state == "reconnecting":
                    info.state = "streaming"
            elif item.kind in ("ended", "left", "error"):
                info.state = item.kind
            elif item.kind == "gap":
                info.state = "reconnecting"
            elif item.kind == "joined":
                info.state = "streaming"

    async def items(self, max_batch: int = 50_000) -> AsyncIterator[list[LogItem]]:
        """Everything queued, in one list per wake-up, until every source (and the discoverer) is done."""
        self._start_discoverer()
        sink = self.sink
        try:
            while True:
                if sink.empty():
                    if self.running() == 0 and all(t.done() for t in self._aux) and sink.empty():
                        return
                    await sink.wait(0.25)
                    continue
                out = sink.drain(max_batch)
                self._account(out)
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
    """The pod label selector of a workload (``deploy``, ``sts``, ``ds``, ``job``, ``rs``)."""
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
                options: LogOptions, pod: dict[str, Any] | None = None) -> LogSession:
    """One pod: one container, or all of them interleaved (each a source). ``pod`` (the object, if
    the caller fetched it) pins the pod's uid, so a pod re-created under the same name ends the
    stream ("left") instead of being followed unnoticed."""
    session = LogSession(f"pod/{namespace}/{name}", aggregated=len(containers) > 1)
    uid = str(((pod or {}).get("metadata") or {}).get("uid") or "")
    statuses = _container_statuses(pod or {})
    for c in containers:
        session.start_source(PodContainerSource(kube, context, namespace, name, c, options,
                                                name=c if len(containers) > 1 else f"{name}/{c}", uid=uid,
                                                status=statuses.get(c, {}) if pod else None))
    return session


_STARTING = {"ContainerCreating", "PodInitializing", "not running"}


def selector_session(kube: Any, context: str | None, namespace: str, selector: str, options: LogOptions,
                     title: str, container: str | None = None) -> LogSession:
    """All pods matching ``selector`` (watched): pods that appear join, pods that go are marked."""
    session = LogSession(title, aggregated=True)

    async def discover(s: LogSession) -> None:
        info = await kube.resolve("pods", context)
        started: dict[str, set[str]] = {}  # pod uid -> containers with a source
        waiting: set[str] = set()  # pod names with wanted containers that did not run yet
        told: set[str] = set()  # pod uids whose waiting was announced
        first_snapshot = True
        joined_options = LogOptions(tail=None, since_seconds=None, previous=options.previous, follow=options.follow)

        async def consider(pod_name: str, initial: bool) -> None:
            try:
                pod, names = await pod_containers(kube, context, namespace, pod_name)
            except NotFound:
                waiting.discard(pod_name)
                return
            meta = pod.get("metadata") or {}
            uid = str(meta.get("uid") or pod_name)
            wanted = [c for c in names if container in (None, "", c)]
            statuses = {c.get("name"): c for c in (pod.get("status") or {}).get("containerStatuses") or []}
            have = started.setdefault(uid, set())
            for c in wanted:
                st = statuses.get(c) or {}
                ran = "running" in (st.get("state") or {}) or "terminated" in (st.get("state") or {}) or bool(
                    (st.get("lastState") or {}).get("terminated"))
                if c in have or not ran:
                    continue
                have.add(c)
                label = s.unique_name(f"{pod_name}/{c}" if len(wanted) > 1 else pod_name)
                if not initial:
                    await s.sink.notice(label, "joined", f"{label} joined")
                s.start_source(PodContainerSource(kube, context, namespace, pod_name, c,
                                                  options if initial else joined_options, name=label, uid=uid,
                                                  status=st))
            if len(have) < len(wanted) and not meta.get("deletionTimestamp"):
                reasons = sorted({str(((statuses.get(c) or {}).get("state") or {}).get("waiting", {}).get("reason")
                                      or "not running") for c in wanted if c not in have})
                if uid not in told and (initial or set(reasons) - _STARTING):
                    told.add(uid)  # say once why a pod shows nothing (a rollout's new pods just join)
                    await s.sink.notice(title, "info", f"pod {pod_name} is {', '.join(reasons)}; "
                                                       "its logs join when it runs")
                waiting.add(pod_name)
            else:
                waiting.discard(pod_name)

        async def consider_all(names: list[str], initial: bool) -> None:
            limit = asyncio.Semaphore(8)

            async def one(pod_name: str) -> None:
                async with limit:
                    await consider(pod_name, initial)

            await asyncio.gather(*(one(n) for n in names))

        async for msg in kube.feed(info, namespace, selector, context):
            if isinstance(msg, Snapshot):
                known = {row.uid for row in msg.rows}
                await consider_all([row.name for row in msg.rows
                                    if first_snapshot or row.uid not in started or row.name in waiting],
                                   first_snapshot)
                for uid in [u for u in started if u not in known]:
                    started.pop(uid, None)
                first_snapshot = False
                if not options.follow:
                    return
            elif isinstance(msg, Upsert):
                await consider_all([row.name for row in msg.rows if row.uid not in started or row.name in waiting],
                                   False)
            elif isinstance(msg, Remove):
                for key in msg.keys:
                    waiting.discard(key.rsplit("/", 1)[-1])

    session._discover = discover
    return session


def runtime_session(runtimes: list[Any], title: str, match: Callable[[ContainerRow], bool],
                    label: Callable[[ContainerRow], str], options: LogOptions) -> LogSession:
    """All containers of some runtimes matching ``match`` (a compose project, a Podman pod), watched:
    containers that start later join; each source marks its container's stops, restarts and removal."""
    session = LogSession(title, aggregated=True)

    async def discover(s: LogSession) -> None:
        started: set[str] = set()
        joined_options = LogOptions(tail=None, since_seconds=None, follow=options.follow)

        async def add(rt: Any, rows: tuple[ContainerRow, ...] | list[ContainerRow], initial: bool) -> None:
            for row in sorted(rows, key=label):
                if not match(row) or row.key in started or row.state == "created":
                    continue
                started.add(row.key)
                name = s.unique_name(label(row))
                if not initial:
                    await s.sink.notice(name, "joined", f"{name} joined")
                s.start_source(RuntimeContainerSource(rt, row.id, options if initial else joined_options, name=name))

        if not options.follow:
            for rt in runtimes:
                try:
                    await add(rt, await rt.list_containers(all=True), True)
                except TamerError as exc:
                    await s.sink.notice(title, "error", f"{rt.name}: {exc}")
            return

        async def watch(rt: Any) -> None:
            first = True
            async for msg in runtime_feed(rt, "containers"):
                if isinstance(msg, Snapshot):
                    await add(rt, msg.rows, first)
                    first = False
                elif isinstance(msg, Upsert):
                    await add(rt, msg.rows, False)

        await asyncio.gather(*(watch(rt) for rt in runtimes))

    session._discover = discover
    return session
