"""Container logs for the simulator: deterministic generated lines plus recorded script output.

A running container's log is *computed*, not stored: line ``i`` of a container instance has the
timestamp ``start + i / rate`` and a text that is a pure function of ``(seed, namespace, pod,
container, instance, i)``.  So ``tailLines``, ``sinceSeconds``, ``sinceTime`` and ``limitBytes`` are
answered by arithmetic, and the log "rotates" (only the last :func:`retained_lines` lines are
kept, like the kubelet's 10 MiB rotation).  Texts look real and depend on the image: Spring Boot
style Java lines with ``\\tat ...`` stack traces, Python logging with tracebacks, Go JSON lines,
Node, nginx access logs, redis, postgres, coredns and klog lines.  A crash-looping instance ends
with a fatal error.

Containers that run a simple shell script (``sh -c "echo hi; exit 3"``) are executed by the
built-in shell by the controllers; their output is *recorded* here (:class:`RecordedLog`) and
served the same way.

:func:`handle_log` is the ``GET /api/v1/namespaces/{ns}/pods/{name}/log`` endpoint with the
real parameters and error messages (``follow``, ``tailLines``, ``sinceSeconds``, ``sinceTime``,
``timestamps``, ``previous``, ``container``, ``limitBytes``).
"""

from __future__ import annotations

import asyncio
import bisect
import json
import math
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tamer_tui.sim.seed import ANN_BEHAVIOUR, ANN_LOG_RATE, parse_rfc3339

if TYPE_CHECKING:  # pragma: no cover - typing only
    from tamer_tui.sim.cluster import Cluster

MASK64 = (1 << 64) - 1


def mix64(x: int) -> int:
    """splitmix64 finaliser: a fast, well distributed 64-bit hash of an integer."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def stream_key(seed: int, namespace: str, pod: str, container: str, instance: int) -> int:
    """The 64-bit key that makes one container instance's log unique and reproducible."""
    text = f"{seed}/{namespace}/{pod}/{container}/{instance}".encode()
    return mix64((zlib.crc32(text) << 32) | zlib.adler32(text))


def rfc3339_nano(ts: float) -> str:
    """Go's ``time.RFC3339Nano`` (trailing zeros of the fraction trimmed), as the kubelet prints."""
    whole = math.floor(ts)
    nanos = int(round((ts - whole) * 1e9))
    if nanos >= 1_000_000_000:
        whole += 1
        nanos -= 1_000_000_000
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    if nanos:
        return f"{base}.{nanos:09d}".rstrip("0") + "Z"
    return base + "Z"


def iso_frac(ts: float, digits: int) -> str:
    """``2024-01-02T03:04:05.123Z`` with exactly ``digits`` fractional digits."""
    scale = 10**digits
    ticks = int(ts * scale + 0.5)
    whole, frac = divmod(ticks, scale)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{frac:0{digits}d}Z"


# ----------------------------------------------------------------------------------------------
# Text generation

STYLES = ("go", "java", "python", "node", "nginx", "redis", "postgres", "coredns", "klog", "proxy")

_PATHS = (
    "/api/v1/items", "/api/v1/items/{id}", "/api/v1/cart/{id}", "/api/v1/orders", "/api/v1/orders/{id}",
    "/healthz", "/readyz", "/metrics", "/api/v1/users/{id}", "/api/v1/search?q=shoes", "/login", "/static/app.js",
    "/api/v2/payments", "/api/v1/inventory/{id}", "/graphql",
)
_METHODS = ("GET", "GET", "GET", "GET", "POST", "PUT", "DELETE", "PATCH")
_STATUSES = (200, 200, 200, 200, 200, 201, 204, 301, 304, 400, 401, 403, 404, 404, 409, 429, 500, 502, 503)
_AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "kube-probe/1.31",
    "curl/8.5.0",
    "Go-http-client/1.1",
    "python-requests/2.32.3",
    "Prometheus/2.55.1",
)
_INFO_MSGS = (
    "request completed", "cache hit", "cache miss, loading from database", "connected to database",
    "published event to topic orders", "scheduled job finished", "user session refreshed", "config reloaded",
    "health check passed", "processed batch", "acquired lease", "flushed metrics", "opened connection pool",
)
_WARN_MSGS = (
    "slow query detected", "retrying request after timeout", "connection pool nearly exhausted",
    "deprecated API version used by client", "rate limit approaching for tenant", "certificate expires in 21 days",
)
_ERROR_MSGS = (
    "failed to process message", "upstream returned 503", "database connection reset by peer",
    "timeout waiting for lock", "payment provider rejected request", "unable to decode payload",
)
_DEBUG_MSGS = (
    "entering handler", "span started", "loaded 42 feature flags", "query plan selected: index scan",
    "goroutine pool size adjusted", "serialising response", "header X-Request-ID missing, generated one",
)
_JAVA_CLASSES = (
    "c.a.checkout.web.OrderController", "c.a.checkout.service.PaymentService", "o.s.web.servlet.DispatcherServlet",
    "c.a.payments.ledger.LedgerClient", "o.h.engine.jdbc.spi.SqlExceptionHelper", "c.zaxxer.hikari.pool.HikariPool",
    "o.a.kafka.clients.consumer.KafkaConsumer", "c.a.auth.TokenService",
)
_JAVA_EXC = (
    ("java.lang.NullPointerException", "Cannot invoke \"com.acme.model.Order.getId()\" because \"order\" is null"),
    ("java.net.SocketTimeoutException", "Read timed out"),
    ("org.springframework.dao.DataAccessResourceFailureException", "Unable to acquire JDBC Connection"),
    ("java.lang.IllegalStateException", "Connection pool shut down"),
)
_JAVA_FRAMES = (
    "com.acme.checkout.service.PaymentService.charge(PaymentService.java:{n})",
    "com.acme.checkout.web.OrderController.placeOrder(OrderController.java:{n})",
    "java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)",
    "org.springframework.web.method.support.InvocableHandlerMethod.doInvoke(InvocableHandlerMethod.java:255)",
    "org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)",
    "org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:{n})",
    "org.apache.tomcat.util.threads.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1190)",
    "java.base/java.lang.Thread.run(Thread.java:1583)",
)
_PY_EXC = (
    ("KeyError", "'customer_id'"),
    ("ValueError", "invalid literal for int() with base 10: 'abc'"),
    ("ConnectionResetError", "[Errno 104] Connection reset by peer"),
    ("TimeoutError", "timed out waiting for response from inventory"),
)
_PY_FRAMES = (
    ('/usr/local/lib/python3.12/site-packages/starlette/routing.py', 'handle', 'await self.app(scope, receive, send)'),
    ('/app/service/handlers.py', 'process_order', 'total = compute_total(order["items"])'),
    ('/app/service/pricing.py', 'compute_total', 'price = catalog[item["sku"]]'),
    ('/app/service/db.py', 'fetch_one', 'row = await conn.fetchrow(query, *args)'),
    ('/usr/local/lib/python3.12/site-packages/asyncpg/connection.py', 'fetchrow', 'data = await self._execute(query, args, 1, timeout)'),
)
_GO_CALLERS = ("server/handler.go", "store/postgres.go", "queue/consumer.go", "cache/redis.go", "grpc/client.go")
_KLOG_FILES = ("controller.go", "reflector.go", "leaderelection.go", "shared_informer.go", "server.go")
_NAMES = ("api.shop.svc.cluster.local.", "redis.payments.svc.cluster.local.", "kubernetes.default.svc.cluster.local.",
          "postgres-headless.shop.svc.cluster.local.", "github.com.", "registry-1.docker.io.")


def style_for_image(image: str) -> str:
    """Pick a log style from an image reference."""
    low = image.lower()
    table = (
        (("coredns",), "coredns"),
        (("nginx", "httpd"), "nginx"),
        (("traefik", "envoy", "klipper-lb", "haproxy"), "proxy"),
        (("redis", "valkey"), "redis"),
        (("postgres", "postgis"), "postgres"),
        (("kube-", "etcd", "metrics-server", "local-path", "kindnet", "storage-provisioner", "klipper-helm"), "klog"),
        (("keycloak", "kafka", "elasticsearch", "java", "spring", "checkout", "payments-api", "auth-server", "search-api",
          "jdk", "tomcat"), "java"),
        (("python", "django", "flask", "catalog", "fraud", "query-api", "indexer", "mailer", "flaky", "reconciler"), "python"),
        (("node", "frontend", "dashboard", "push-gateway"), "node"),
        (("chatty", "cart", "ledger", "ingest", "token-exchange", "thumbnailer", "golang"), "go"),
    )
    for words, style in table:
        if any(w in low for w in words):
            return style
    return ("go", "java", "python", "node")[zlib.crc32(low.encode()) % 4]


def _pick(seq: tuple[Any, ...], h: int) -> Any:
    return seq[h % len(seq)]


def _path(h: int) -> str:
    return _pick(_PATHS, h).replace("{id}", str(1000 + (h >> 8) % 90000))


def _ip(h: int) -> str:
    return f"10.42.{(h >> 3) % 4}.{2 + (h >> 11) % 250}"


def _level(h: int) -> str:
    r = h % 100
    if r < 14:
        return "DEBUG"
    if r < 80:
        return "INFO"
    if r < 93:
        return "WARN"
    return "ERROR"


def _msg(level: str, h: int) -> str:
    if level == "DEBUG":
        return _pick(_DEBUG_MSGS, h)
    if level == "WARN":
        return _pick(_WARN_MSGS, h)
    if level == "ERROR":
        return _pick(_ERROR_MSGS, h)
    return _pick(_INFO_MSGS, h)


def _clock(ts: float, fmt: str = "%Y-%m-%d %H:%M:%S") -> tuple[str, int]:
    whole = int(ts)
    return time.strftime(fmt, time.gmtime(whole)), int((ts - whole) * 1000)


def _trace_lines(style: str, h: int, length: int) -> list[str]:
    """A multi-line stack trace (first line included) for styles that have them."""
    if style == "java":
        exc, msg = _pick(_JAVA_EXC, h)
        out = [f"{exc}: {msg}"]
        for k in range(length - 1):
            out.append("\tat " + _pick(_JAVA_FRAMES, h + k).replace("{n}", str(40 + (h >> k) % 400)))
        return out
    if style == "python":
        exc, msg = _pick(_PY_EXC, h)
        out = ["Traceback (most recent call last):"]
        k = 0
        while len(out) < length - 1:
            path, func, code = _pick(_PY_FRAMES, h + k)
            out.append(f'  File "{path}", line {10 + (h >> k) % 300}, in {func}')
            if len(out) < length - 1:
                out.append(f"    {code}")
            k += 1
        out.append(f"{exc}: {msg}")
        return out
    if style == "node":
        out = [f"Error: {_pick(_ERROR_MSGS, h)}"]
        for k in range(length - 1):
            out.append(f"    at {_pick(('handleRequest', 'Layer.handle', 'next', 'processTicksAndRejections', 'Router.route'), h + k)} "
                       f"(/app/{_pick(('server.js', 'routes/orders.js', 'node_modules/express/lib/router/index.js'), h + k)}:"
                       f"{10 + (h >> k) % 200}:{3 + k})")
        return out
    return []


class GeneratedText:
    """Deterministic log text for one container instance."""

    BLOCK = 64

    def __init__(self, key: int, style: str, pod: str, container: str) -> None:
        self.key = key
        self.style = style
        self.pod = pod
        self.container = container
        self.traces = style in ("java", "python", "node")

    def trace_at(self, i: int) -> tuple[int, int, int] | None:
        """(trace start index, length, hash) of the stack trace covering line ``i``, if any."""
        if not self.traces:
            return None
        block = i // self.BLOCK
        hb = mix64(self.key ^ (block * 0x9E3779B1 + 0x5555))
        if hb % 100 >= 35:
            return None
        length = 5 + (hb >> 8) % 6
        start = block * self.BLOCK + (hb >> 16) % (self.BLOCK - length)
        if start <= i < start + length:
            return start, length, hb
        return None

    def line(self, i: int, ts: float) -> str:
        """Text of line ``i`` emitted at ``ts`` (no trailing newline)."""
        tr = self.trace_at(i)
        if tr is not None:
            start, length, hb = tr
            return self.trace_block(ts, hb, length)[i - start]
        h = mix64(self.key ^ (i * 0x2545F4914F6CDD1D))
        return self.render(ts, h)

    def trace_block(self, ts: float, hb: int, length: int) -> list[str]:
        """An ERROR line followed by a stack trace, ``length`` lines in all."""
        lines = _trace_lines(self.style, hb, length - 1)
        if self.style == "python":
            first = self.header(ts, "ERROR", "Exception in ASGI application", hb)
        elif self.style == "java":
            first = self.header(ts, "ERROR", "Servlet.service() for servlet [dispatcherServlet] threw exception", hb)
        else:
            first = self.header(ts, "ERROR", "unhandled rejection", hb)
        return [first, *lines]

    def header(self, ts: float, level: str, msg: str, h: int) -> str:
        """One ordinary log line with the given level and message in this style."""
        st = self.style
        if st == "java":
            day, ms = _clock(ts)
            thread = f"nio-8080-exec-{1 + h % 10}"
            return f"{day}.{ms:03d} {level:>5} 1 --- [{thread:>15}] {_pick(_JAVA_CLASSES, h >> 5):<40} : {msg}"
        if st == "python":
            day, ms = _clock(ts)
            return f"{day},{ms:03d} {level:<7} [{self.container}.{_pick(('api', 'worker', 'db', 'cache'), h >> 7)}] {msg}"
        if st == "node":
            return f"[{iso_frac(ts, 3)}] {level.lower()}: {msg}"
        if st == "go":
            return json.dumps(
                {"level": level.lower(), "ts": iso_frac(ts, 6), "caller": f"{_pick(_GO_CALLERS, h >> 9)}:{20 + (h >> 13) % 300}", "msg": msg},
                separators=(",", ":"),
            )
        if st == "klog":
            day = time.strftime("%m%d %H:%M:%S", time.gmtime(int(ts)))
            us = int((ts - int(ts)) * 1e6)
            return f"{level[0]}{day}.{us:06d}       1 {_pick(_KLOG_FILES, h >> 5)}:{30 + (h >> 9) % 900}] {msg}"
        day, ms = _clock(ts)
        return f"{day}.{ms:03d} [{level}] {msg}"

    def render(self, ts: float, h: int) -> str:
        """An ordinary (non-trace) line for hash ``h``."""
        st = self.style
        level = _level(h)
        if st == "nginx" or (st == "proxy" and h % 3):
            stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(int(ts)))
            status = _pick(_STATUSES, h >> 17)
            return (f'{_ip(h)} - - [{stamp}] "{_pick(_METHODS, h >> 5)} {_path(h >> 21)} HTTP/1.1" {status} '
                    f'{(h >> 29) % 40000} "-" "{_pick(_AGENTS, h >> 37)}" "-"')
        if st == "redis":
            day = time.strftime("%d %b %Y %H:%M:%S", time.gmtime(int(ts)))
            ms = int((ts - int(ts)) * 1000)
            msg = _pick(("DB saved on disk", "Background saving started by pid 4711", "1 changes in 3600 seconds. Saving...",
                         "Accepted 10.42.1.12:40022", "Background saving terminated with success",
                         "Fork CoW for RDB: current 0 MB, peak 0 MB, average 0 MB"), h >> 7)
            return f"1:M {day}.{ms:03d} {'*' if level != 'WARN' else '#'} {msg}"
        if st == "postgres":
            day, ms = _clock(ts)
            msg = _pick(("LOG:  checkpoint starting: time", "LOG:  checkpoint complete: wrote 41 buffers (0.3%); 0 WAL file(s) added",
                         "LOG:  duration: 1532.118 ms  statement: SELECT * FROM orders WHERE customer_id = $1",
                         "ERROR:  duplicate key value violates unique constraint \"orders_pkey\"",
                         "LOG:  connection received: host=10.42.1.9 port=51234", "LOG:  automatic vacuum of table \"shop.public.orders\""),
                        h >> 7)
            return f"{day}.{ms:03d} UTC [{100 + (h >> 13) % 900}] {msg}"
        if st == "coredns":
            qtype = _pick(("A", "AAAA", "A", "SRV"), h >> 5)
            rcode = _pick(("NOERROR", "NOERROR", "NXDOMAIN"), h >> 9)
            return (f'[INFO] {_ip(h)}:{1024 + (h >> 13) % 60000} - {(h >> 17) % 65536} "{qtype} IN {_pick(_NAMES, h >> 21)} udp 52 false 512" '
                    f"{rcode} qr,aa,rd 106 0.000{(h >> 33) % 900 + 100}s")
        msg = _msg(level, h >> 7)
        if st == "go":
            doc: dict[str, Any] = {
                "level": level.lower(),
                "ts": iso_frac(ts, 6),
                "caller": f"{_pick(_GO_CALLERS, h >> 9)}:{20 + (h >> 13) % 300}",
                "msg": msg,
            }
            if msg == "request completed" or h % 4 == 0:
                doc.update({"method": _pick(_METHODS, h >> 5), "path": _path(h >> 21), "status": _pick(_STATUSES, h >> 17),
                            "duration_ms": round(((h >> 40) % 5000) / 10, 1), "request_id": f"{(h >> 3) & 0xFFFFFFFFFFFF:012x}"})
            if level in ("ERROR", "WARN"):
                doc["error"] = _pick(("context deadline exceeded", "EOF", "connection refused", "pq: too many connections"), h >> 23)
            return json.dumps(doc, separators=(",", ":"))
        if msg == "request completed" and st in ("java", "python", "node"):
            msg = f"{_pick(_METHODS, h >> 5)} {_path(h >> 21)} {_pick(_STATUSES, h >> 17)} {(h >> 40) % 900 + 1}ms"
        if st == "python" and h % 5 == 0:
            return json.dumps({"timestamp": iso_frac(ts, 3), "level": level, "logger": "app.events", "message": msg,
                               "pod": self.pod}, separators=(",", ":"))
        return self.header(ts, level, msg, h)

    def crash_lines(self, ts: float, code: int) -> list[str]:
        """The last lines of an instance that crashes with ``code``."""
        h = mix64(self.key ^ 0xDEAD)
        if self.style == "python":
            return [self.header(ts, "ERROR", "fatal error during startup", h)] + _trace_lines("python", h, 7)
        if self.style == "java":
            lines = _trace_lines("java", h, 6)
            return [self.header(ts, "ERROR", "Application run failed", h), lines[0], *lines[1:]]
        if self.style == "node":
            return _trace_lines("node", h, 5) + ["Node.js v22.12.0"]
        return [self.header(ts, "ERROR", f"fatal: exiting with code {code}: dial tcp 10.43.12.7:5432: connect: connection refused", h)]


# ----------------------------------------------------------------------------------------------
# Streams


class LogStream:
    """The lines of one container instance; index ``i`` has a timestamp and a text."""

    start: float
    end: float | None

    def first(self, now: float) -> int:
        """Index of the oldest line still retained at ``now`` (rotation)."""
        raise NotImplementedError

    def count_at(self, t: float) -> int:
        """How many lines exist at time ``t`` (lines ``0 .. n-1``)."""
        raise NotImplementedError

    def time_of(self, i: int) -> float:
        """Timestamp of line ``i``."""
        raise NotImplementedError

    def text(self, i: int) -> str:
        """Text of line ``i`` (no newline)."""
        raise NotImplementedError

    def index_at_or_after(self, t: float) -> int:
        """First line index whose timestamp is ``>= t``."""
        raise NotImplementedError

    @property
    def finished(self) -> bool:
        """True once the instance has terminated (no more lines will come)."""
        return self.end is not None


def retained_lines(rate: float) -> int:
    """How many lines of a container's log the simulated kubelet keeps (its log rotation)."""
    return int(max(10_000, min(60_000, rate * 20)))


@dataclass
class GeneratedLog(LogStream):
    """Lines at a fixed ``rate`` from ``start`` until ``end`` (if terminated), plus crash lines."""

    text_gen: GeneratedText
    start: float
    rate: float
    end: float | None = None
    exit_code: int | None = None
    _crash: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.end is not None and self.exit_code not in (None, 0):
            self._crash = self.text_gen.crash_lines(self.end, self.exit_code or 1)

    @property
    def normal_count_end(self) -> int | None:
        if self.end is None:
            return None
        return self._normal_count(self.end)

    def _normal_count(self, t: float) -> int:
        if t < self.start or self.rate <= 0:
            return 0
        return int((t - self.start) * self.rate) + 1

    def count_at(self, t: float) -> int:
        if self.end is not None and t >= self.end:
            return self._normal_count(self.end) + len(self._crash)
        return self._normal_count(t)

    def total(self) -> int | None:
        """Number of lines of a terminated instance (``None`` while running)."""
        return None if self.end is None else self.count_at(self.end)

    def first(self, now: float) -> int:
        return max(0, self.count_at(now) - retained_lines(self.rate))

    def time_of(self, i: int) -> float:
        if self.end is not None:
            normal = self._normal_count(self.end)
            if i >= normal:
                return self.end
        return self.start + i / self.rate

    def text(self, i: int) -> str:
        if self.end is not None:
            normal = self._normal_count(self.end)
            if i >= normal:
                return self._crash[i - normal]
        return self.text_gen.line(i, self.time_of(i))

    def index_at_or_after(self, t: float) -> int:
        if t <= self.start:
            return 0
        if self.end is not None and t > self.end:
            return self.count_at(self.end)
        return max(0, math.ceil((t - self.start) * self.rate - 1e-9))


@dataclass
class RecordedLog(LogStream):
    """Output captured while a script ran (``sh -c ...`` containers): ``(time, line)`` pairs.

    Indices are absolute; only the last :attr:`KEEP` lines are kept (older ones rotate away), so an
    endless ``while true; do echo ...; done`` cannot grow memory without bound.
    """

    KEEP = 10_000

    start: float
    end: float | None = None
    times: list[float] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    partial: str = ""
    exit_code: int | None = None
    changed: asyncio.Event | None = None
    base: int = 0

    def _add(self, when: float, line: str) -> None:
        self.times.append(when)
        self.lines.append(line)
        if len(self.lines) > 2 * self.KEEP:
            drop = len(self.lines) - self.KEEP
            del self.times[:drop]
            del self.lines[:drop]
            self.base += drop

    def append_output(self, data: str, ts: float | None = None) -> None:
        """Record output as it is produced (split into lines; a partial last line is held back)."""
        when = time.time() if ts is None else ts
        text = self.partial + data
        parts = text.split("\n")
        self.partial = parts.pop()
        for p in parts:
            self._add(when, p.rstrip("\r"))
        if self.changed is not None:
            self.changed.set()

    def finish(self, code: int, ts: float | None = None) -> None:
        """Mark the instance terminated (flushes a partial line)."""
        when = time.time() if ts is None else ts
        if self.partial:
            self._add(when, self.partial)
            self.partial = ""
        self.end = when
        self.exit_code = code
        if self.changed is not None:
            self.changed.set()

    def first(self, now: float) -> int:
        return max(self.base, self.count_at(now) - self.KEEP)

    def count_at(self, t: float) -> int:
        return self.base + bisect.bisect_right(self.times, t)

    def time_of(self, i: int) -> float:
        return self.times[max(0, i - self.base)]

    def text(self, i: int) -> str:
        return self.lines[max(0, i - self.base)]

    def index_at_or_after(self, t: float) -> int:
        return self.base + bisect.bisect_left(self.times, t)


# ----------------------------------------------------------------------------------------------
# Query handling (pure)


@dataclass
class LogQuery:
    """The parsed ``pods/log`` parameters."""

    container: str | None = None
    follow: bool = False
    previous: bool = False
    timestamps: bool = False
    tail_lines: int | None = None
    since_seconds: int | None = None
    since_time: float | None = None
    limit_bytes: int | None = None


class LogQueryError(ValueError):
    """A bad parameter: ``code`` and ``reason`` are the HTTP status and Status reason."""

    def __init__(self, message: str, code: int = 400, reason: str = "BadRequest") -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


def _bool(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1", "yes")


def parse_query(params: dict[str, str]) -> LogQuery:
    """Parse and validate query parameters like the API server does."""
    q = LogQuery(container=params.get("container") or None, follow=_bool(params.get("follow")),
                 previous=_bool(params.get("previous")), timestamps=_bool(params.get("timestamps")))

    def integer(name: str) -> int | None:
        raw = params.get(name)
        if raw is None or raw == "":
            return None
        try:
            return int(raw)
        except ValueError:
            raise LogQueryError(f'unable to parse "{raw}" as an integer for {name}') from None

    q.tail_lines = integer("tailLines")
    q.since_seconds = integer("sinceSeconds")
    q.limit_bytes = integer("limitBytes")
    if params.get("sinceTime"):
        q.since_time = parse_rfc3339(params["sinceTime"])
        if q.since_time is None:
            raise LogQueryError(f'parsing time "{params["sinceTime"]}" as "2006-01-02T15:04:05Z07:00": cannot parse')
    causes = []
    if q.tail_lines is not None and q.tail_lines < 0:
        causes.append(f"tailLines: Invalid value: {q.tail_lines}: must be greater than or equal to 0")
    if q.since_seconds is not None and q.since_seconds < 1:
        causes.append(f"sinceSeconds: Invalid value: {q.since_seconds}: must be greater than 0")
    if q.limit_bytes is not None and q.limit_bytes < 1:
        causes.append(f"limitBytes: Invalid value: {q.limit_bytes}: must be greater than 0")
    if q.since_seconds is not None and q.since_time is not None:
        causes.append("sinceSeconds: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified")
    if causes:
        msg = causes[0] if len(causes) == 1 else "[" + ", ".join(causes) + "]"
        raise LogQueryError(f'PodLogOptions "" is invalid: {msg}', 422, "Invalid")
    return q


def select_range(stream: LogStream, q: LogQuery, now: float) -> tuple[int, int]:
    """The ``[lo, hi)`` line indices a (non-follow) request returns at ``now``."""
    hi = stream.count_at(now)
    lo = stream.first(now)
    since = None
    if q.since_seconds is not None:
        since = now - q.since_seconds
    elif q.since_time is not None:
        since = q.since_time
    if since is not None:
        lo = max(lo, stream.index_at_or_after(since))
    if q.tail_lines is not None:
        lo = max(lo, hi - q.tail_lines)
    return lo, max(lo, hi)


def format_line(stream: LogStream, i: int, timestamps: bool) -> str:
    """One output line with the trailing newline (and RFC3339Nano prefix when asked)."""
    text = stream.text(i)
    if timestamps:
        return f"{rfc3339_nano(stream.time_of(i))} {text}\n"
    return text + "\n"


def render(stream: LogStream, lo: int, hi: int, timestamps: bool, limit: int | None = None) -> Iterator[bytes]:
    """Encode lines ``lo..hi`` in chunks, stopping after ``limit`` bytes (mid-line, like the kubelet)."""
    budget = limit
    buf: list[str] = []
    size = 0
    for i in range(lo, hi):
        line = format_line(stream, i, timestamps)
        buf.append(line)
        size += len(line)
        if size >= 65536 or (budget is not None and size >= budget):
            data = "".join(buf).encode()
            buf, size = [], 0
            if budget is not None:
                if len(data) >= budget:
                    yield data[:budget]
                    return
                budget -= len(data)
            yield data
    if buf:
        data = "".join(buf).encode()
        if budget is not None:
            data = data[:budget]
        yield data


# ----------------------------------------------------------------------------------------------
# The model: which stream belongs to which container instance


@dataclass
class LogModel:
    """Maps pods' container instances to log streams; holds recorded script output."""

    seed: int = 1
    default_rate: float = 2.0
    recorded: dict[tuple[str, str, int], RecordedLog] = field(default_factory=dict)

    def rate_for(self, pod: dict[str, Any]) -> float:
        """Lines per second for the pod (annotation override, else the cluster default)."""
        ann = (pod.get("metadata") or {}).get("annotations") or {}
        try:
            rate = float(ann.get(ANN_LOG_RATE, self.default_rate))
        except ValueError:
            rate = self.default_rate
        return max(0.0, rate)

    def record(self, pod_uid: str, container: str, instance: int, start: float) -> RecordedLog:
        """Start recording a script-run container instance's output."""
        rec = RecordedLog(start=start)
        self.recorded[(pod_uid, container, instance)] = rec
        # keep the dict bounded: forget instances older than the previous one
        old = (pod_uid, container, instance - 2)
        self.recorded.pop(old, None)
        return rec

    def forget_pod(self, pod_uid: str) -> None:
        """Drop recorded output of a deleted pod."""
        for key in [k for k in self.recorded if k[0] == pod_uid]:
            del self.recorded[key]

    def stream(self, pod: dict[str, Any], container: str, previous: bool) -> LogStream:
        """The stream for ``container`` of ``pod`` (``previous``: the last terminated instance).

        Raises :class:`LogQueryError` with the kubelet's messages when there is nothing to show.
        """
        meta = pod["metadata"]
        name = meta["name"]
        status = pod.get("status") or {}
        spec = pod.get("spec") or {}
        cs = next((c for c in status.get("containerStatuses") or [] if c.get("name") == container), None)
        if cs is None:
            cs = next((c for c in status.get("initContainerStatuses") or [] if c.get("name") == container), None)
        image = next((c.get("image", "") for c in (spec.get("containers") or []) + (spec.get("initContainers") or [])
                      if c.get("name") == container), "")
        state = (cs or {}).get("state") or {}
        last = ((cs or {}).get("lastState") or {}).get("terminated")
        restarts = int((cs or {}).get("restartCount") or 0)
        if previous:
            if not last:
                raise LogQueryError(f'previous terminated container "{container}" in pod "{name}" not found')
            return self._terminated(pod, container, image, max(0, restarts - 1), last)
        if "running" in state:
            started = parse_rfc3339(state["running"].get("startedAt")) or time.time()
            return self._instance(pod, container, image, restarts, started, None, None)
        if "terminated" in state:
            return self._terminated(pod, container, image, restarts, state["terminated"])
        if last:
            # waiting to restart (CrashLoopBackOff): the kubelet shows the last run
            return self._terminated(pod, container, image, max(0, restarts - 1), last)
        waiting = state.get("waiting") or {}
        reason = waiting.get("reason") or "ContainerCreating"
        if reason in ("ImagePullBackOff", "ErrImagePull"):
            raise LogQueryError(f'container "{container}" in pod "{name}" is waiting to start: trying and failing to pull image')
        raise LogQueryError(f'container "{container}" in pod "{name}" is waiting to start: {reason}')

    def _terminated(self, pod: dict[str, Any], container: str, image: str, instance: int, term: dict[str, Any]) -> LogStream:
        start = parse_rfc3339(term.get("startedAt")) or time.time()
        end = parse_rfc3339(term.get("finishedAt")) or start
        return self._instance(pod, container, image, instance, start, end, int(term.get("exitCode") or 0))

    def _instance(self, pod: dict[str, Any], container: str, image: str, instance: int, start: float,
                  end: float | None, code: int | None) -> LogStream:
        meta = pod["metadata"]
        rec = self.recorded.get((meta.get("uid", ""), container, instance))
        if rec is not None:
            return rec
        key = stream_key(self.seed, meta.get("namespace", ""), meta["name"], container, instance)
        style = style_for_image(image)
        rate = self.rate_for(pod)
        ann = meta.get("annotations") or {}
        if end is None and ann.get(ANN_BEHAVIOUR) == "crashloop":
            rate = max(rate, 1.0)
        gen = GeneratedText(key, style, meta["name"], container)
        if rate <= 0:
            rate = 1e-9
        return GeneratedLog(gen, start, rate, end, code if code is not None else None)


# ----------------------------------------------------------------------------------------------
# HTTP endpoint


def _status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
                            "reason": reason}
    if details:
        body["details"] = details
    body["code"] = code
    return web.json_response(body, status=code)


def pick_container(pod: dict[str, Any], wanted: str | None) -> str:
    """Resolve the container a log/exec request addresses (errors like the API server's)."""
    name = pod["metadata"]["name"]
    spec = pod.get("spec") or {}
    names = [c["name"] for c in spec.get("containers") or []]
    init_names = [c["name"] for c in spec.get("initContainers") or []]
    eph_names = [c["name"] for c in spec.get("ephemeralContainers") or []]
    if wanted:
        if wanted in names or wanted in init_names or wanted in eph_names:
            return wanted
        msg = f"container {wanted} is not valid for pod {name}"
        raise LogQueryError(msg)
    if len(names) == 1:
        return names[0]
    msg = f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
    if init_names:
        msg += f" or one of the init containers: [{' '.join(init_names)}]"
    raise LogQueryError(msg)


async def handle_log(request: web.Request, cluster: Cluster, model: LogModel) -> web.StreamResponse:
    """``GET /api/v1/namespaces/{namespace}/pods/{name}/log``."""
    ns = request.match_info["namespace"]
    name = request.match_info["name"]
    store = cluster.store
    pods_t = store.type_for("", "v1", "pods")
    pod = store.try_get(pods_t, ns, name)
    if pod is None:
        return _status(404, "NotFound", f'pods "{name}" not found', {"name": name, "kind": "pods"})
    try:
        q = parse_query(dict(request.query))
        container = pick_container(pod, q.container)
        stream = model.stream(pod, container, q.previous)
    except LogQueryError as exc:
        return _status(exc.code, exc.reason, str(exc))
    now = time.time()
    lo, hi = select_range(stream, q, now)
    resp = web.StreamResponse(status=200, headers={"Content-Type": "text/plain"})
    if q.follow:
        resp.enable_chunked_encoding()
    await resp.prepare(request)
    sent = 0
    try:
        for chunk in render(stream, lo, hi, q.timestamps, q.limit_bytes):
            await resp.write(chunk)
            sent += len(chunk)
        if q.limit_bytes is not None and sent >= q.limit_bytes:
            return resp
        if q.follow and not q.previous:
            await _follow(resp, cluster, model, pod, container, stream, hi, q, sent)
        await resp.write_eof()
    except ConnectionResetError:
        # the client went away (kubectl logs -f interrupted): nothing more to do
        pass
    return resp


async def _follow(resp: web.StreamResponse, cluster: Cluster, model: LogModel, pod: dict[str, Any], container: str,
                  stream: LogStream, next_index: int, q: LogQuery, sent: int) -> None:
    """Stream new lines as they are produced until the instance ends or the pod is deleted."""
    store = cluster.store
    pods_t = store.type_for("", "v1", "pods")
    meta = pod["metadata"]
    uid = meta.get("uid")
    ns, name = meta.get("namespace", "default"), meta["name"]
    limit = q.limit_bytes
    request_transport = getattr(resp, "_req", None)
    while True:
        transport = getattr(request_transport, "transport", None)
        if request_transport is not None and (transport is None or transport.is_closing()):
            return  # the client went away: stop producing lines for nobody
        now = time.time()
        current = store.try_get(pods_t, ns, name)
        gone = current is None or current["metadata"].get("uid") != uid
        if not gone and current is not None and current is not pod:
            pod = current
            try:
                fresh = model.stream(pod, container, False)
            except LogQueryError:
                fresh = stream
            if fresh.start != stream.start:
                # the instance we follow terminated: it is now the pod's lastState
                prev = _matching_previous(model, pod, container, stream)
                if prev is not None:
                    stream = prev
                else:
                    return
            elif fresh.end is not None and stream.end is None:
                stream = fresh
        hi = stream.count_at(now)
        if hi > next_index:
            hi = min(hi, next_index + 20_000)
            for chunk in render(stream, next_index, hi, q.timestamps, None if limit is None else limit - sent):
                await resp.write(chunk)
                sent += len(chunk)
            next_index = hi
            if limit is not None and sent >= limit:
                return
            await asyncio.sleep(0)  # let other requests (and shutdown) run between chunks
            continue
        if stream.end is not None and next_index >= stream.count_at(stream.end):
            return
        if gone:
            return
        wait = 0.25
        if isinstance(stream, GeneratedLog) and stream.rate > 0:
            wait = min(0.25, max(0.01, stream.time_of(next_index) - now))
        elif isinstance(stream, RecordedLog):
            if stream.changed is None:
                stream.changed = asyncio.Event()
            stream.changed.clear()
            try:
                await asyncio.wait_for(stream.changed.wait(), 0.25)
            except TimeoutError:
                pass
            continue
        await asyncio.sleep(wait)


def _matching_previous(model: LogModel, pod: dict[str, Any], container: str, followed: LogStream) -> LogStream | None:
    try:
        prev = model.stream(pod, container, True)
    except LogQueryError:
        return None
    if abs(prev.start - followed.start) < 1.0:
        return prev
    return None
