"""Log viewer benchmark (issue #5): ingest, keys while streaming, search over 1M lines, memory, opening.

    python bench/logs_bench.py [--seconds 10] [--rate 60000] [--lines 1000000] [--only search memory sim docker]

Runs `tamer sim` as separate processes (a fresh one per measurement) and uses the real Docker daemon
($TAMER_TEST_DOCKER_HOST, image $TAMER_TEST_IMAGE, kubectl from $TAMER_KUBECTL_BIN or PATH); prints one
JSON object. What is measured in the app runs the real TamerApp headless (``app.run_test()``), the
logs opened with ``:logs TARGET``. Keys are posted the way the terminal driver posts them and timed
to the first painted frame that shows their effect (Textual's test pilot is no use while streaming:
``pilot.press`` waits for the process to go idle, so even a key bound to nothing "takes" ~2 s).

``targets`` (each ``{"value", "target", "met"}``):
  sim_ingest_lines_per_s       lines/s into screen.buffer, chatty pod raised to --rate lines/s (>= 50,000)
  sim_key_ms_p99               keypress to painted frame while that streams (< 100)
  docker_ingest_lines_per_s    lines/s into screen.buffer, a container echoing as fast as it can (>= 50,000)
  docker_key_ms_p99            keypress to painted frame while that streams (< 100)
  docker_prefilled_lines_per_s --prefill lines of an exited container, `:logs container/NAME --tail=all`
                               to all of them in the buffer (>= 50,000)
  search_ms_max                worst LogBuffer.find of the queries below over --lines lines (< 300)
  ui_search_ms_max             worst Enter (search) / F (filter) key to painted frame over --lines lines (< 300)
  overhead_bytes_per_line      tracemalloc bytes per buffered line beyond its UTF-8 text (< 300)
  open_after_server_ms         `:logs pod/NS/NAME --tail=1000` to the first painted row of log text, minus
                               the server's time to first byte (medians over --open-runs; < 300)
``all_met``; ``cpus``, ``loadavg_1m_start``/``_end`` (other work on the machine skews every timing).

Sections:
  search   lines, avg_chars, build_s; per query ms (median of 3), max_ms, match_pct, mode (LinePredicate):
           plain_sparse "reset" (smart case), plain_common "10.42.", regex_case 'HTTP/1\\.1" [45]\\d\\d'
           (literal prefix), regex_case_alt "ERROR|WARN", regex_icase "error|warn" (ignore case),
           regex_icase_upper "Timed? ?Out|Refused" (ignore case), invert (lines not matching "10.42.");
           ui: take_buffer_ms, per pattern search_enter_ms / filter_key_ms / filter_invert_key_ms /
           filter_off_key_ms, set_search_call_ms / set_filter_call_ms (the view methods alone), worst_key_ms
  memory   tracemalloc_bytes_per_line (all that filling a LogBuffer the way the screen does keeps: texts,
           stamps, source ids), beyond_utf8 / beyond_str (minus len(text.encode()) / minus
           sys.getsizeof(text)), the same from the RSS delta, accounted_bytes_per_line (LogBuffer.bytes)
  sim_open pod_lines (lines the pod produced before the request; the sim retains the last `retained`, like
           log rotation), server_headers_ms / server_ttfb_ms / server_1000_lines_ms (raw aiohttp, new TLS
           connection), kubectl_tail_ms, app_first_row_ms (and _max), after_server_ms, lines_at_first_row
  sim_ingest  source_lines_per_s (`kubectl logs -f` alone on the same pod: what the sim delivers),
           lines_per_s, lag_s (wall clock minus the newest buffered stamp at the end: Tamer falling behind),
           cpu_pct (this process), loop_thread_cpu_pct (the event loop's thread alone), sim_cpu_pct,
           frames_per_s, paint_cpu_pct / paint_ms_per_frame (CPU of Textual's frame updates: layout,
           render, compositing), loop_blocked_ms_p50/p99/max (how late a 5 ms timer fires),
           full_gc_count / full_gc_cpu_ms_max (generation-2 collections in the window),
           key_presses, key_ms_p50/p99/max (``k`` then ``G``), key_timeouts (3 s), buffer_lines, evicted, rss_mb
  docker_ingest  the same, with produced_lines_per_s (the container before Tamer reads it) and
           produced_during_lines_per_s (while Tamer reads it), from the seq numbers of its lines, and
           docker_cli_lines_per_s (`docker logs -f` alone: what the daemon delivers; -1 without the CLI),
           dockerd_cpu_pct and container_cpu_pct (the daemon and the container's processes meanwhile)
  docker_prefilled  lines, write_s (the container writing them), read_s, lines_per_s
A section that cannot run (no daemon, no kubectl) holds "error" and its targets are not met.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gc
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual import events  # noqa: E402

from tamer_tui.core.logbuffer import LogBuffer, LogQuery  # noqa: E402
from tamer_tui.core.logstream import LogOptions, LogSession, split_stamp, stamp_seconds  # noqa: E402
from tamer_tui.core.manager import RuntimeManager  # noqa: E402
from tamer_tui.core.session import Session  # noqa: E402
from tamer_tui.core.themes import load_themes  # noqa: E402
from tamer_tui.sim.logs import GeneratedLog, GeneratedText, render, retained_lines, stream_key  # noqa: E402
from tamer_tui.sim.seed import ANN_LOG_RATE  # noqa: E402
from tamer_tui.ui.app import TamerApp  # noqa: E402
from tamer_tui.ui.screens.logs_screen import LogsScreen  # noqa: E402
from tamer_tui.ui.widgets.log_view import LogView  # noqa: E402

STYLES = ("go", "go", "go", "java", "java", "nginx", "nginx", "python", "coredns", "proxy")  # ~123 chars a line
QUERIES: dict[str, tuple[LogQuery, bool]] = {
    "plain_sparse": (LogQuery("reset"), False),  # smart case, lower case: ignore case (~1 %)
    "plain_common": (LogQuery("10.42."), False),  # ~40 %
    "regex_case": (LogQuery(r'HTTP/1\.1" [45]\d\d', regex=True, case=True), False),  # literal prefix
    "regex_case_alt": (LogQuery(r"ERROR|WARN", regex=True, case=True), False),  # alternation: no literal prefix
    "regex_icase": (LogQuery(r"error|warn", regex=True, case=False), False),
    "regex_icase_upper": (LogQuery(r"Timed? ?Out|Refused", regex=True, case=False), False),
    "invert": (LogQuery("10.42."), True),
}
FLOOD_LINE = ('seq=$i level=info msg="request completed" method=GET path=/api/v1/items/$i status=200 '
              'duration_ms=12.5 request_id=4f1c2a9e7b3d5a60 user_agent="Go-http-client/1.1"')
SEQ_RE = re.compile(rb"seq=(\d+)")


# ------------------------------------------------------------------------------------------------
# helpers

def rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return -1.0


def proc_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of another process so far (Linux /proc; -1 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return -1.0


def pct(values: list[float], q: float) -> float:
    if not values:
        return -1.0
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q * len(s))) - 1))]


def loadavg() -> float:
    """The 1-minute load average (other work on the machine skews every timing); -1 where unknown."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return -1.0


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def target(value: float | None, goal: float, higher_is_better: bool) -> dict[str, Any]:
    met = value is not None and value >= 0 and (value >= goal if higher_is_better else value < goal)
    return {"value": value, "target": f"{'>=' if higher_is_better else '<'} {goal:g}", "met": met}


class Frames:
    """Counts painted frames (``App._display`` after the compositor rendered them) and wakes waiters
    whose condition holds at a frame: a frame that shows a state is the first one after it changed."""

    def __init__(self, app: TamerApp) -> None:
        self.count = 0
        self.waiters: list[tuple[Callable[[], bool], asyncio.Future[float]]] = []
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is None:
                return
            self.count += 1
            now = time.perf_counter()
            for item in list(self.waiters):
                cond, fut = item
                if fut.done():
                    self.waiters.remove(item)
                elif cond():
                    fut.set_result(now)
                    self.waiters.remove(item)

        app._display = display  # type: ignore[method-assign]

    async def wait(self, cond: Callable[[], bool], timeout: float = 3.0) -> float | None:
        """perf_counter() of the first frame painted while ``cond()`` holds (None on timeout)."""
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters.append((cond, fut))
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            return None


class PaintClock:
    """CPU time the event loop spends painting (Textual's per-frame ``Screen._on_timer_update``: layout,
    rendering the widgets' lines, compositing), once :meth:`install` wrapped it for every screen."""

    cpu = 0.0

    @classmethod
    def install(cls) -> None:
        from textual.screen import Screen

        original = Screen._on_timer_update
        if getattr(original, "_paint_clock", False):
            return

        def timed(self: Screen[Any]) -> None:
            t = time.thread_time()
            try:
                original(self)
            finally:
                cls.cpu += time.thread_time() - t

        timed._paint_clock = True  # type: ignore[attr-defined]
        Screen._on_timer_update = timed  # type: ignore[method-assign]


def send_key(app: TamerApp, key: str, char: str | None) -> float:
    """Post a key event the way the terminal driver does; returns when it was sent."""
    assert app._driver is not None
    t = time.perf_counter()
    app._driver.send_message(events.Key(key, char))
    return t


async def timed_key(app: TamerApp, frames: Frames, key: str, char: str | None, cond: Callable[[], bool],
                    timeout: float = 3.0) -> float | None:
    t0 = send_key(app, key, char)
    t1 = await frames.wait(cond, timeout)
    return None if t1 is None else t1 - t0


async def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


def logs_screen(app: TamerApp) -> LogsScreen | None:
    screen = app.screen
    return screen if isinstance(screen, LogsScreen) else None


# ------------------------------------------------------------------------------------------------
# the corpus: realistic lines as the simulated kubelet serves them (stamp + text, 64 KiB writes)

def corpus_blobs(lines: int, chunk: int = 1000) -> list[tuple[str, bytes]]:
    """``lines`` lines from 10 sources (Go JSON, Java, nginx, Python, CoreDNS, proxy) in chunks."""
    now = time.time()
    logs = []
    for j, style in enumerate(STYLES):
        pod = f"{style}-{j}-7d9f8b6c5-x{j}q2z"
        logs.append((pod, GeneratedLog(GeneratedText(stream_key(1, "shop", pod, style, 0), style, pod, style),
                                       now - 3600, 500.0)))
    out = []
    for k in range(0, lines, chunk):
        pod, log = logs[(k // chunk) % len(logs)]
        lo = (k // chunk // len(logs)) * chunk
        out.append((pod, b"".join(render(log, lo, lo + min(chunk, lines - k), True))))
    return out


def fill(buf: LogBuffer, blobs: list[tuple[str, bytes]]) -> None:
    """What LogsScreen gets from a LogSource: decode, split, split_stamp per line, append."""
    for source, blob in blobs:
        stamps: list[str] = []
        texts: list[str] = []
        for line in blob.decode("utf-8", "replace").split("\n")[:-1]:
            st, text = split_stamp(line)
            stamps.append(st)
            texts.append(text)
        buf.append(source, stamps, texts)


def big_buffer() -> LogBuffer:
    return LogBuffer(max_lines=1 << 30, max_bytes=1 << 40)


def measure_memory(blobs: list[tuple[str, bytes]]) -> tuple[dict[str, Any], LogBuffer]:
    gc.collect()
    rss0 = rss_mb()
    buf = big_buffer()
    fill(buf, blobs)
    gc.collect()
    rss_delta = (rss_mb() - rss0) * 1024 * 1024
    n = len(buf)
    utf8 = sum(len(t.encode()) for t in buf.texts)
    str_bytes = sum(map(sys.getsizeof, buf.texts))
    tracemalloc.start()
    other = big_buffer()
    fill(other, blobs)
    gc.collect()
    traced, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del other
    gc.collect()
    result = {
        "lines": n,
        "avg_text_chars": round(utf8 / n, 1),
        "avg_stamp_chars": round(sum(map(len, buf.stamps)) / n, 1),
        "tracemalloc_bytes_per_line": round(traced / n, 1),
        "beyond_utf8_bytes_per_line": round((traced - utf8) / n, 1),
        "beyond_str_bytes_per_line": round((traced - str_bytes) / n, 1),
        "rss_bytes_per_line": round(rss_delta / n, 1),
        "rss_beyond_utf8_bytes_per_line": round((rss_delta - utf8) / n, 1),
        "rss_beyond_str_bytes_per_line": round((rss_delta - str_bytes) / n, 1),
        "accounted_bytes_per_line": round(buf.bytes / n, 1),
    }
    return result, buf


def measure_search(buf: LogBuffer) -> dict[str, Any]:
    out: dict[str, Any] = {"lines": len(buf)}
    for name, (query, invert) in QUERIES.items():
        times = []
        found = 0
        for _ in range(3):
            t = time.perf_counter()
            found = len(buf.find(query, invert=invert))
            times.append(time.perf_counter() - t)
        out[name] = {"ms": ms(statistics.median(times)), "max_ms": ms(max(times)),
                     "match_pct": round(100 * found / len(buf), 2), "mode": query.predicate().mode}
    return out


async def measure_ui_search(buf: LogBuffer) -> dict[str, Any]:
    """Enter in the search box and F (filter mode) in a LogsScreen over ``buf``: key to painted frame."""
    session = LogSession("bench/1M")  # no sources: the stream ends at once, the buffer stays

    async def opener(options: LogOptions) -> LogSession:
        return session

    app = TamerApp(Session(manager=RuntimeManager([]), themes=load_themes(include_user=False)))
    result: dict[str, Any] = {}
    async with app.run_test(size=(200, 50)) as pilot:
        frames = Frames(app)
        screen = LogsScreen("bench", session, opener, LogOptions(), max_lines=buf.max_lines, max_bytes=buf.max_bytes)
        screen.buffer = buf
        await app.push_screen(screen)
        await wait_for(lambda: screen.is_mounted and screen.state == "stream ended", 10, "the bench screen")
        view = screen.view
        t = time.perf_counter()
        view.reset()  # takes the whole buffer as new lines
        result["take_buffer_ms"] = ms(time.perf_counter() - t)
        await pilot.pause(0.1)
        for label, pattern in (("sparse", "reset"), ("common", "10.42.")):
            await pilot.press("slash", *pattern)

            def searched(p: str = pattern) -> bool:
                return view.search_query is not None and view.search_query.pattern == p

            search = await timed_key(app, frames, "enter", "\r", searched)
            await pilot.pause(0.05)
            filt = await timed_key(app, frames, "F", "F", lambda: view.filter_ids is not None and not view.filter_invert)
            await pilot.pause(0.05)
            inv = await timed_key(app, frames, "F", "F", lambda: view.filter_ids is not None and view.filter_invert)
            await pilot.pause(0.05)
            off = await timed_key(app, frames, "F", "F", lambda: view.filter_ids is None)
            await pilot.pause(0.05)
            result[label] = {"pattern": pattern, "hits": len(view.hits),
                             "search_enter_ms": ms(search) if search is not None else -1.0,
                             "filter_key_ms": ms(filt) if filt is not None else -1.0,
                             "filter_invert_key_ms": ms(inv) if inv is not None else -1.0,
                             "filter_off_key_ms": ms(off) if off is not None else -1.0}
        # the view methods alone, without the frame
        q = LogQuery("10.42.")
        t = time.perf_counter()
        view.set_search(q)
        result["set_search_call_ms"] = ms(time.perf_counter() - t)
        t = time.perf_counter()
        view.set_filter(q)
        result["set_filter_call_ms"] = ms(time.perf_counter() - t)
        view.set_filter(None)
    keys = [v for k in ("sparse", "common") for n, v in result[k].items() if n.endswith("_ms")]
    result["worst_key_ms"] = -1.0 if any(v < 0 for v in keys) else max(keys)
    return result


# ------------------------------------------------------------------------------------------------
# streaming in the app: ingest rate, lag, keys

async def stream_window(app: TamerApp, frames: Frames, seconds: float) -> dict[str, Any]:
    """With the LogsScreen streaming: lines/s into its buffer over ``seconds`` while pressing keys.

    Keys are posted the way the terminal driver posts them and timed to the first painted frame that
    shows their effect. (Textual's test pilot is no use here: ``pilot.press`` waits for the process to
    go idle, which it never does while streaming, so even a key bound to nothing "takes" ~2 s.)"""
    screen = logs_screen(app)
    assert screen is not None
    view, buf = screen.view, screen.buffer
    await wait_for(lambda: buf.received > 0, 20, "the first lines")
    await asyncio.sleep(1.0)  # past the tail and the first batches
    blocked: list[float] = []
    running = True

    async def ticker() -> None:  # how long the event loop is kept from running a 5 ms timer
        while running:
            t = time.perf_counter()
            await asyncio.sleep(0.005)
            blocked.append(time.perf_counter() - t - 0.005)

    full_gc: list[float] = []
    gc_start = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:  # CPU of each full collection (all of it blocks the loop)
        if info.get("generation") != 2:
            return
        if phase == "start":
            gc_start[0] = time.thread_time()
        else:
            full_gc.append(time.thread_time() - gc_start[0])

    tick = asyncio.create_task(ticker())
    gc.callbacks.append(on_gc)
    n0, t0, c0, f0 = buf.received, time.perf_counter(), time.process_time(), frames.count
    m0, p0 = time.thread_time(), PaintClock.cpu
    keys: list[float] = []
    timeouts = 0
    while time.perf_counter() - t0 < seconds:
        # k: the cursor appears (follow pauses); G: back to the end, following again
        for key, cond in (("k", lambda: view.cursor is not None), ("G", lambda: view.follow and view.cursor is None)):
            took = await timed_key(app, frames, key, key, cond)
            if took is None:
                timeouts += 1
                took = 3.0
            keys.append(took)
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)
    wall = time.perf_counter() - t0
    n1, c1, f1, m1, p1 = buf.received, time.process_time(), frames.count, time.thread_time(), PaintClock.cpu
    running = False
    gc.callbacks.remove(on_gc)
    await tick
    newest = next((buf.stamps[i] for i in range(len(buf.stamps) - 1, -1, -1) if buf.stamps[i]), "")
    lag = time.time() - stamp_seconds(newest) if newest else -1.0
    return {
        "seconds": round(wall, 2),
        "lines": n1 - n0,
        "lines_per_s": round((n1 - n0) / wall),
        "lag_s": round(lag, 2),
        "cpu_pct": round(100 * (c1 - c0) / wall, 1),
        "loop_thread_cpu_pct": round(100 * (m1 - m0) / wall, 1),
        "frames_per_s": round((f1 - f0) / wall, 1),
        "paint_cpu_pct": round(100 * (p1 - p0) / wall, 1),
        "paint_ms_per_frame": ms((p1 - p0) / max(1, f1 - f0)),
        "loop_blocked_ms_p50": ms(pct(blocked, 0.5)),
        "loop_blocked_ms_p99": ms(pct(blocked, 0.99)),
        "loop_blocked_ms_max": ms(max(blocked)) if blocked else -1.0,
        "full_gc_count": len(full_gc),
        "full_gc_cpu_ms_max": ms(max(full_gc)) if full_gc else 0.0,
        "key_presses": len(keys),
        "key_ms_p50": ms(pct(keys, 0.5)),
        "key_ms_p99": ms(pct(keys, 0.99)),
        "key_ms_max": ms(max(keys)) if keys else -1.0,
        "key_timeouts": timeouts,
        "buffer_lines": len(buf),
        "evicted": buf.evicted,
        "rss_mb": round(rss_mb(), 1),
    }


async def open_logs(app: TamerApp, command: str) -> LogsScreen:
    app.execute(command)
    await wait_for(lambda: logs_screen(app) is not None and logs_screen(app).is_mounted, 20,  # type: ignore[union-attr]
                   f"the logs screen of {command!r}")
    screen = logs_screen(app)
    assert screen is not None
    return screen


# ------------------------------------------------------------------------------------------------
# the simulator

def follow_rate(argv: list[str], seconds: float) -> float:
    """Lines/s a CLI following a log prints (kubectl or docker: the server's delivered rate), measured
    over ``seconds`` after a first second."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
    counts: list[tuple[float, int]] = []

    def read() -> None:
        assert proc.stdout is not None
        total = 0
        while data := proc.stdout.read(1 << 20):  # unbuffered: what one read() of the pipe has
            total += data.count(b"\n")
            counts.append((time.perf_counter(), total))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(1.0 + seconds)
    proc.kill()
    proc.wait()
    reader.join(5)
    window = [(t, n) for t, n in counts if t >= counts[0][0] + 1.0] if counts else []
    if len(window) < 2:
        return -1.0
    return (window[-1][1] - window[0][1]) / (window[-1][0] - window[0][0])


def pids_named(name: str) -> list[int]:
    """Processes whose command name is ``name`` (Linux /proc; none elsewhere)."""
    out = []
    for d in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            if (d / "comm").read_text().strip() == name:
                out.append(int(d.name))
    return out


def cpu_of(pids: list[int]) -> float:
    return sum(max(0.0, proc_cpu_s(p)) for p in pids)


def kubectl_path() -> str:
    return os.environ.get("TAMER_KUBECTL_BIN") or shutil.which("kubectl") or ""


class Sim:
    """``tamer sim`` in its own process (quiet: no controllers, no default log rate) and kubectl on it.

    A fresh one per measurement: the simulator keeps generating lines for a follow request whose
    client went away (see the report), so one measurement's closed streams would eat the next one's CPU."""

    def __init__(self) -> None:
        tmp = Path(tempfile.mkdtemp(prefix="tamer-logs-bench-"))
        self.kubeconfig = str(tmp / "kubeconfig")
        self.log = (tmp / "sim.log").open("w")
        argv = [sys.executable, "-m", "tamer_tui", "sim", "--port", "0", "--kubeconfig", self.kubeconfig,
                "--name", "logs-bench", "--log-rate", "0", "--no-controllers"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if not line or line[0] != "ready":
            self.stop()
            raise RuntimeError(f"simulator did not start: {line} {(tmp / 'sim.log').read_text()[-500:]}")
        self.context = line[3]
        self.base = [kubectl_path(), "--kubeconfig", self.kubeconfig, "--context", self.context]

    def __enter__(self) -> Sim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(2)
            except subprocess.TimeoutExpired:  # busy writing to a closed stream: it never gets to the signal
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def cpu_s(self) -> float:
        return proc_cpu_s(self.proc.pid)

    def kubectl(self, *args: str) -> str:
        return subprocess.run([*self.base, *args], capture_output=True, text=True, check=True, timeout=60).stdout

    def running_pods(self, namespace: str) -> list[str]:
        pods = json.loads(self.kubectl("get", "pods", "-n", namespace, "-o", "json"))["items"]
        return [p["metadata"]["name"] for p in pods
                if "running" in (((p["status"].get("containerStatuses") or [{}])[0]).get("state") or {})]

    def chatty(self, rate: float) -> str:
        """The chatty deployment's pod, its log rate raised to ``rate``."""
        pod = next(n for n in self.running_pods("default") if n.startswith("chatty-"))
        self.kubectl("annotate", "-n", "default", f"pod/{pod}", f"{ANN_LOG_RATE}={rate:g}", "--overwrite")
        return pod

    def count_follow(self, namespace: str, pod: str, seconds: float) -> float:
        """Lines/s `kubectl logs -f` receives (the simulator's delivered rate, nothing else reading)."""
        return follow_rate([*self.base, "logs", "-f", "-n", namespace, pod, "--tail=0", "--timestamps"], seconds)

    def credentials(self) -> tuple[str, str, str]:
        import yaml

        cfg = yaml.safe_load(Path(self.kubeconfig).read_text())
        ctx = next(c["context"] for c in cfg["contexts"] if c["name"] == self.context)
        cluster = next(c["cluster"] for c in cfg["clusters"] if c["name"] == ctx["cluster"])
        user = next(u["user"] for u in cfg["users"] if u["name"] == ctx["user"])
        ca = base64.b64decode(cluster.get("certificate-authority-data", "")).decode()
        return cluster["server"], ca, user.get("token", "")

    def app(self) -> tuple[TamerApp, Any]:
        from tamer_tui.core.kube.manager import KubeManager

        kube = KubeManager(kubeconfig=self.kubeconfig, context=self.context)
        kube.load()
        return TamerApp(Session(manager=RuntimeManager([]), kube=kube, themes=load_themes(include_user=False))), kube


async def server_timings(sim: Sim, path: str) -> tuple[float, float, float]:
    """(headers, first byte, 1000 lines) in seconds of a tailLines=1000 request on a new connection.

    Without follow: the first bytes are the same, and a follow request would leave the simulator
    writing to the closed connection afterwards."""
    import ssl

    import aiohttp

    server, ca, token = sim.credentials()
    ssl_ctx: ssl.SSLContext | bool = ssl.create_default_context(cadata=ca) if ca else False
    params = {"tailLines": "1000", "timestamps": "true"}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    t0 = time.perf_counter()
    async with aiohttp.ClientSession() as http, \
            http.get(server + path, params=params, headers=headers, ssl=ssl_ctx) as resp:
        t_headers = time.perf_counter() - t0
        resp.raise_for_status()
        t_first = -1.0
        lines = 0
        async for chunk in resp.content.iter_any():
            if t_first < 0:
                t_first = time.perf_counter() - t0
            lines += chunk.count(b"\n")
            if lines >= 1000:
                break
        return t_headers, t_first, time.perf_counter() - t0


async def sim_ingest_app(sim: Sim, pod: str, seconds: float) -> dict[str, Any]:
    app, kube = sim.app()
    async with app.run_test(size=(200, 50)) as pilot:
        frames = Frames(app)
        await pilot.pause(0.2)
        await open_logs(app, f"logs pod/default/{pod}")
        sim0, t0 = sim.cpu_s(), time.perf_counter()
        result = await stream_window(app, frames, seconds)
        result["sim_cpu_pct"] = round(100 * (sim.cpu_s() - sim0) / (time.perf_counter() - t0), 1)
    await kube.close()
    return result


async def sim_open_app(sim: Sim, pod: str, runs: int) -> list[dict[str, float]]:
    """``:logs pod/default/POD --tail=1000`` to the first painted row of log text, ``runs`` times."""
    app, kube = sim.app()
    seen: dict[str, float] = {}
    original = LogView.render_line

    def render_line(view: LogView, y: int) -> Any:
        strip = original(view, y)
        if "t" not in seen and len(view.buffer) and strip.text.strip():
            seen["t"] = time.perf_counter()
        return strip

    out = []
    LogView.render_line = render_line  # type: ignore[method-assign,assignment]
    try:
        async with app.run_test(size=(200, 50)) as pilot:
            frames = Frames(app)
            await pilot.pause(0.3)
            for _ in range(runs):
                seen.clear()
                t0 = time.perf_counter()
                app.execute(f"logs pod/default/{pod} --tail=1000")
                t1 = await frames.wait(lambda: "t" in seen, 20)
                screen = logs_screen(app)
                if t1 is None or screen is None:
                    raise RuntimeError("no log text was painted within 20 s")
                out.append({"app_first_row_ms": ms(t1 - t0), "lines_at_first_row": float(len(screen.buffer))})
                send_key(app, "escape", None)
                await wait_for(lambda: logs_screen(app) is None, 10, "the logs screen to close")
                await asyncio.sleep(0.3)
    finally:
        LogView.render_line = original  # type: ignore[method-assign]
    await kube.close()
    return out


def run_sim_open(args: argparse.Namespace) -> dict[str, Any]:
    """A pod logging 300 lines/s whose container started 400 s ago: 120,000 lines before the request."""
    rate, age = 300.0, 400.0
    with Sim() as sim:
        pod = next(n for n in sim.running_pods("default") if not n.startswith("chatty-"))
        started = int(time.time() - age)
        sim.kubectl("annotate", "-n", "default", f"pod/{pod}", f"{ANN_LOG_RATE}={rate:g}", "--overwrite")
        sim.kubectl("patch", "-n", "default", f"pod/{pod}", "--subresource=status", "--type=json", "-p",
                    json.dumps([{"op": "replace", "path": "/status/containerStatuses/0/state/running/startedAt",
                                 "value": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started))}]))
        path = f"/api/v1/namespaces/default/pods/{pod}/log"
        timings = [asyncio.run(server_timings(sim, path)) for _ in range(args.open_runs)]
        kubectl_tail = []
        for _ in range(3):
            t = time.perf_counter()
            sim.kubectl("logs", "-n", "default", pod, "--tail=1000", "--timestamps")
            kubectl_tail.append(time.perf_counter() - t)
        runs = asyncio.run(sim_open_app(sim, pod, args.open_runs))
    ttfb = statistics.median(t[1] for t in timings)
    first = [r["app_first_row_ms"] for r in runs]
    return {
        "pod": f"default/{pod}",
        "pod_lines": int((time.time() - started) * rate),
        "retained": retained_lines(rate),
        "runs": len(runs),
        "server_headers_ms": ms(statistics.median(t[0] for t in timings)),
        "server_ttfb_ms": ms(ttfb),
        "server_ttfb_ms_max": ms(max(t[1] for t in timings)),
        "server_1000_lines_ms": ms(statistics.median(t[2] for t in timings)),
        "kubectl_tail_ms": ms(statistics.median(kubectl_tail)),
        "app_first_row_ms": statistics.median(first),
        "app_first_row_ms_max": max(first),
        "after_server_ms": round(statistics.median(first) - ttfb * 1000, 1),
        "lines_at_first_row": statistics.median(r["lines_at_first_row"] for r in runs),
    }


def run_sim_ingest(args: argparse.Namespace) -> dict[str, Any]:
    with Sim() as sim:  # what the simulator delivers with only kubectl reading
        source = sim.count_follow("default", sim.chatty(args.rate), min(5.0, args.seconds))
    with Sim() as sim:
        pod = sim.chatty(args.rate)
        result = asyncio.run(sim_ingest_app(sim, pod, args.seconds))
    return {"pod": f"default/{pod}", "rate_annotation": args.rate, "source_lines_per_s": round(source), **result}


# ------------------------------------------------------------------------------------------------
# Docker

def docker_api(url: str) -> Any:
    import docker

    return docker.APIClient(base_url=url, version="auto", timeout=120)


def last_seq(api: Any, name: str) -> tuple[float, int]:
    t = time.perf_counter()
    data = api.logs(name, stdout=True, stderr=False, tail=1)
    found = SEQ_RE.findall(data)
    return t, int(found[-1]) if found else -1


def produced_rate(api: Any, name: str, seconds: float) -> float:
    t0, s0 = last_seq(api, name)
    time.sleep(seconds)
    t1, s1 = last_seq(api, name)
    return (s1 - s0) / (t1 - t0)


async def docker_app(url: str, command: str, body: Callable[[TamerApp, Any, Frames], Any]) -> dict[str, Any]:
    from tamer_tui.core.docker_runtime import DockerRuntime
    from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind

    rt = DockerRuntime(RuntimeEndpoint(RuntimeKind.DOCKER, "docker", url, "bench"))
    await rt.connect()
    app = TamerApp(Session(manager=RuntimeManager.from_runtimes([rt]), themes=load_themes(include_user=False)))
    async with app.run_test(size=(200, 50)) as pilot:
        frames = Frames(app)
        await pilot.pause(0.3)
        t0 = time.perf_counter()
        await open_logs(app, command)
        result: dict[str, Any] = await body(app, pilot, frames)
        result["elapsed_s"] = round(time.perf_counter() - t0, 3)
    return result


def run_docker(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    api = docker_api(args.docker)
    api.ping()
    tag = f"tamer-logs-bench-{os.getpid()}"
    labels = {"tamer.bench": "logs"}
    names: list[str] = []

    def container(name: str, script: str) -> str:
        c = api.create_container(args.image, ["sh", "-c", script], name=name, labels=labels,
                                 host_config=api.create_host_config(init=True))
        names.append(name)
        api.start(c["Id"])
        return str(c["Id"])

    try:
        flood = f"{tag}-flood"
        container(flood, f'i=0; while :; do echo "{FLOOD_LINE}"; i=$((i+1)); done')
        time.sleep(1.0)
        alone = produced_rate(api, flood, 3.0)
        cli = shutil.which("docker")
        delivered = follow_rate([cli, "-H", args.docker, "logs", "-f", "--timestamps", "--tail", "0", flood],
                                min(4.0, args.seconds)) if cli else -1.0
        during: dict[str, float] = {}

        top = api.top(flood)
        pid_col = top["Titles"].index("PID")
        producers = [int(row[pid_col]) for row in top["Processes"]]
        daemons = pids_named("dockerd")

        async def flood_body(app: TamerApp, pilot: Any, frames: Frames) -> dict[str, Any]:
            t0, s0 = await asyncio.to_thread(last_seq, api, flood)
            d0, p0 = cpu_of(daemons), cpu_of(producers)
            r = await stream_window(app, frames, args.seconds)
            t1, s1 = await asyncio.to_thread(last_seq, api, flood)
            during["rate"] = (s1 - s0) / (t1 - t0)
            r["dockerd_cpu_pct"] = round(100 * (cpu_of(daemons) - d0) / (t1 - t0), 1)
            r["container_cpu_pct"] = round(100 * (cpu_of(producers) - p0) / (t1 - t0), 1)
            return r

        ingest = asyncio.run(docker_app(args.docker, f"logs container/{flood}", flood_body))
        ingest.pop("elapsed_s", None)
        ingest = {"container": flood, "produced_lines_per_s": round(alone), "docker_cli_lines_per_s": round(delivered),
                  "produced_during_lines_per_s": round(during.get("rate", -1.0)), **ingest}
        api.remove_container(flood, force=True)
        names.remove(flood)

        # pre-filled: a container that wrote --prefill lines and exited, read with --tail=all
        full = f"{tag}-prefilled"
        n = args.prefill
        t = time.perf_counter()
        container(full, f'i=0; while [ $i -lt {n} ]; do echo "{FLOOD_LINE}"; i=$((i+1)); done')
        api.wait(full, timeout=300)
        write_s = time.perf_counter() - t

        async def read_body(app: TamerApp, pilot: Any, frames: Frames) -> dict[str, Any]:
            screen = logs_screen(app)
            assert screen is not None
            await wait_for(lambda: screen.buffer.received >= n, 120, f"{n} lines")
            return {}

        read = asyncio.run(docker_app(args.docker, f"logs container/{full} --tail=all", read_body))
        read_s = read["elapsed_s"]
        prefilled = {"container": full, "lines": n, "write_s": round(write_s, 2), "read_s": read_s,
                     "lines_per_s": round(n / read_s)}
        return ingest, prefilled
    finally:
        for name in names:
            with contextlib.suppress(Exception):
                api.remove_container(name, force=True)
        api.close()


# ------------------------------------------------------------------------------------------------

def section(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - a section that cannot run is reported, the rest goes on
        return {"error": f"{type(exc).__name__}: {exc}"}


def main() -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--seconds", type=float, default=10.0, help="streaming window of each ingest measurement")
    p.add_argument("--rate", type=int, default=60_000, help="log-rate annotation of the chatty pod")
    p.add_argument("--lines", type=int, default=1_000_000, help="lines in the search and memory buffer")
    p.add_argument("--prefill", type=int, default=500_000, help="lines the pre-filled container writes")
    p.add_argument("--open-runs", type=int, default=5)
    p.add_argument("--only", nargs="*", choices=("search", "memory", "sim", "docker"),
                   default=["search", "memory", "sim", "docker"])
    p.add_argument("--docker", default=os.environ.get("TAMER_TEST_DOCKER_HOST", "unix:///var/run/docker.sock"))
    p.add_argument("--image", default=os.environ.get("TAMER_TEST_IMAGE", "tamer-test/busybox:latest"))
    args = p.parse_args()
    # a terminated benchmark still stops its simulators and removes its containers (the finally blocks)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    out: dict[str, Any] = {"benchmark": "logs", "cpus": os.cpu_count(), "loadavg_1m_start": loadavg()}
    started = time.perf_counter()
    PaintClock.install()
    if "sim" in args.only:
        if not kubectl_path():
            out["sim_open"] = out["sim_ingest"] = {"error": "kubectl not found (set TAMER_KUBECTL_BIN)"}
        else:
            out["sim_open"] = section(lambda: run_sim_open(args))
            out["sim_ingest"] = section(lambda: run_sim_ingest(args))
    if "docker" in args.only:
        res = section(lambda: run_docker(args))
        out["docker_ingest"], out["docker_prefilled"] = (res, res) if isinstance(res, dict) else res
    corpus = [x for x in ("search", "memory") if x in args.only]
    if corpus and corpus != args.only:
        # in a fresh process: an RSS delta means nothing after the apps above ran and freed memory
        child = subprocess.run([sys.executable, __file__, "--lines", str(args.lines), "--only", *corpus],
                               capture_output=True, text=True, check=False)
        try:
            got = json.loads(child.stdout)
            out.update({k: got[k] for k in corpus})
        except (ValueError, KeyError):
            out.update({k: {"error": f"child exited {child.returncode}: {child.stderr[-500:]}"} for k in corpus})
    elif corpus:
        t = time.perf_counter()
        blobs = corpus_blobs(args.lines)
        build_s = time.perf_counter() - t
        memory, buf = measure_memory(blobs)
        del blobs
        if "memory" in args.only:
            out["memory"] = memory
        if "search" in args.only:
            search = measure_search(buf)
            search["avg_chars"] = memory["avg_text_chars"]
            search["build_s"] = round(build_s, 1)
            search["ui"] = section(lambda: asyncio.run(measure_ui_search(buf)))
            out["search"] = search
        del buf
        gc.collect()

    def get(sec: str, *keys: str) -> float | None:
        v: Any = out.get(sec)
        for k in keys:
            if not isinstance(v, dict) or k not in v:
                return None
            v = v[k]
        return float(v) if isinstance(v, int | float) else None

    targets: dict[str, Any] = {}
    if "sim" in args.only:
        targets["sim_ingest_lines_per_s"] = target(get("sim_ingest", "lines_per_s"), 50_000, True)
        targets["sim_key_ms_p99"] = target(get("sim_ingest", "key_ms_p99"), 100, False)
    if "docker" in args.only:
        targets["docker_ingest_lines_per_s"] = target(get("docker_ingest", "lines_per_s"), 50_000, True)
        targets["docker_key_ms_p99"] = target(get("docker_ingest", "key_ms_p99"), 100, False)
        targets["docker_prefilled_lines_per_s"] = target(get("docker_prefilled", "lines_per_s"), 50_000, True)
    if "search" in args.only:
        worst = [get("search", q, "max_ms") for q in QUERIES]
        targets["search_ms_max"] = target(None if None in worst else max(w for w in worst if w is not None), 300, False)
        targets["ui_search_ms_max"] = target(get("search", "ui", "worst_key_ms"), 300, False)
    if "memory" in args.only:
        targets["overhead_bytes_per_line"] = target(get("memory", "beyond_utf8_bytes_per_line"), 300, False)
    if "sim" in args.only:
        targets["open_after_server_ms"] = target(get("sim_open", "after_server_ms"), 300, False)
    out["targets"] = targets
    out["all_met"] = all(t["met"] for t in targets.values())
    out["loadavg_1m_end"] = loadavg()
    out["total_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
