"""Simulated control plane and kubelet: the controllers that make the simulator feel alive.

Everything runs on the simulator's asyncio loop.  The store calls :meth:`Controllers.on_event`
synchronously for every change; that callback only marks keys dirty (never writes), and a worker
task reconciles dirty keys in batches, so nothing blocks and controllers never recurse into the
store.  Objects are indexed by owner uid (through ``Store.dependents``) so 50,000 pods are fine.

What is simulated:

* **scheduler**: unscheduled pods get a Ready, schedulable node that their tolerations and
  ``nodeSelector`` allow (fewest pods first); ``Scheduled`` events.
* **kubelet**: ``Pending -> ContainerCreating -> Running``, readiness after a short delay, pod IPs,
  container ids, ``Pulling/Pulled/Created/Started`` events; images whose reference contains
  ``doesnotexist`` fail (``ErrImagePull``/``ImagePullBackOff``); containers with the
  ``sim.tamer.dev/behaviour: crashloop`` annotation crash and restart with back-off
  (``CrashLoopBackOff``, ``restartCount`` rising, ``lastState.terminated``, ``previous`` logs);
  containers whose command is a simple shell script are *executed* by the built-in shell (their
  output becomes the log and their exit code the container's); restart policies are honoured.
* **Deployment -> ReplicaSet -> Pod** with ``pod-template-hash``, revisions
  (``deployment.kubernetes.io/revision``), rolling updates by maxSurge/maxUnavailable, Recreate,
  rollback (``kubectl rollout undo`` patches the template back: the old ReplicaSet is re-used and
  gets the next revision), scale, revisionHistoryLimit, status/conditions as
  ``kubectl rollout status`` reads them.
* **StatefulSet** (ordinal pods, OrderedReady/Parallel, rolling update by revision, PVCs from
  volumeClaimTemplates, ControllerRevisions), **DaemonSet** (one pod per Ready node, rolling update),
  **Job** (parallelism/completions/backoffLimit/Indexed, ``Complete``/``Failed`` conditions, TTL),
  **CronJob** (5-field cron, concurrency policy, history limits; the cron clock can run faster:
  :meth:`Controllers.set_time_speed`, or fire one now with :meth:`Controllers.trigger_cronjob`).
* **Endpoints and EndpointSlices** from ready pods matching service selectors.
* **Garbage collection** by ownerReferences: Background (dependents deleted after the owner),
  Foreground (``foregroundDeletion`` finalizer: dependents first, then the owner); Orphan is done by
  the store.
* **Nodes**: :meth:`Controllers.set_node_ready` makes a node NotReady (Unknown condition and
  unreachable taints, pods on it become unready) and back.
* **Events** (core/v1) for every transition, deduplicated (``count`` rises) and rate limited.

The tunables live in :class:`ControllerConfig` (``cluster.extras["controllers"].config``).
"""

from __future__ import annotations

import asyncio
import calendar
import copy
import functools
import hashlib
import logging
import posixpath
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tamer_tui.sim import shell as shellmod
from tamer_tui.sim.exec_ws import MainProcess, MainProcessIO
from tamer_tui.sim.logs import LogModel, RecordedLog
from tamer_tui.sim.seed import (
    ANN_BEHAVIOUR,
    ANN_EXIT_AFTER,
    ANN_EXIT_CODE,
    is_bad_image,
    parse_rfc3339,
    pod_template_hash,
    revision_hash,
    rfc3339,
)
from tamer_tui.sim.store import ApiError, ResourceType, Store, WatchEvent

if TYPE_CHECKING:  # pragma: no cover - typing only
    from tamer_tui.sim.cluster import Cluster

log = logging.getLogger(__name__)

SAFE = "bcdfghjklmnpqrstvwxz2456789"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
CHANGE_CAUSE = "kubernetes.io/change-cause"
SHELL_IMAGES = ("busybox", "alpine", "ubuntu", "debian", "fedora", "centos", "rockylinux", "almalinux", "bash")


# ----------------------------------------------------------------------------------------------
# Configuration


@dataclass
class ControllerConfig:
    """Delays (seconds) and limits; short by default so the simulator (and tests) feel snappy."""

    schedule_delay: float = 0.05
    kubelet_delay: float = 0.1
    create_delay: float = 0.3
    ready_delay: float = 0.4
    crash_after: float = 2.0
    crash_backoff: float = 5.0
    crash_backoff_max: float = 20.0
    pull_backoff: float = 5.0
    job_duration: float = 1.0
    cron_tick: float = 0.5
    time_speed: float = 1.0
    max_pods_per_sync: int = 500
    event_limit: int = 5000
    events_per_second: float = 200.0
    lease_interval: float = 10.0
    node_status_interval: float = 40.0


# ----------------------------------------------------------------------------------------------
# Cron


class CronError(ValueError):
    """An invalid cron schedule."""


_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {d.lower(): (i + 1) % 7 for i, d in enumerate(calendar.day_abbr)}
_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def _parse_field(text: str, lo: int, hi: int, names: dict[str, int] | None = None) -> tuple[frozenset[int], bool]:
    """Parse one cron field into the allowed values; the bool says whether it was a bare ``*``."""
    values: set[int] = set()
    star = False

    def value(tok: str) -> int:
        low = tok.lower()
        if names and low in names:
            return names[low]
        if not tok.isdigit():
            raise CronError(f"invalid value {tok!r} in {text!r}")
        return int(tok)

    for part in text.split(","):
        if not part:
            raise CronError(f"empty list item in {text!r}")
        step = 1
        has_step = "/" in part
        if has_step:
            part, step_s = part.split("/", 1)
            if not step_s.isdigit() or int(step_s) == 0:
                raise CronError(f"invalid step {step_s!r} in {text!r}")
            step = int(step_s)
        if part in ("*", "?"):
            start, end = lo, hi
            star = star or not has_step
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = value(a), value(b)
        else:
            start = value(part)
            end = hi if has_step else start
        if start < lo or end > hi or start > end:
            raise CronError(f"value out of range ({lo}-{hi}) in {text!r}")
        values.update(range(start, end + 1, step))
    if hi == 7:  # day of week: 7 is Sunday too
        values = {v % 7 for v in values}
    return frozenset(values), star


@dataclass(frozen=True)
class CronSchedule:
    """A parsed standard 5-field cron schedule (minute hour day-of-month month day-of-week)."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    dom_star: bool
    dow_star: bool

    @classmethod
    def parse(cls, text: str) -> CronSchedule:
        """Parse ``*/5 * * * *``, ``0 2 * * 1-5``, ``@hourly`` ... (``CronError`` if invalid)."""
        spec = text.strip()
        if spec.startswith("TZ=") or spec.startswith("CRON_TZ="):
            spec = spec.split(None, 1)[1] if " " in spec else ""
        spec = _MACROS.get(spec.lower(), spec)
        fields = spec.split()
        if len(fields) != 5:
            raise CronError(f"expected exactly 5 fields, found {len(fields)}: {text!r}")
        minutes, _ = _parse_field(fields[0], 0, 59)
        hours, _ = _parse_field(fields[1], 0, 23)
        days, dom_star = _parse_field(fields[2], 1, 31)
        months, _ = _parse_field(fields[3], 1, 12, _MONTHS)
        weekdays, dow_star = _parse_field(fields[4], 0, 7, _DAYS)
        return cls(minutes, hours, days, months, weekdays, dom_star, dow_star)

    def _day_ok(self, y: int, m: int, d: int) -> bool:
        wd = (calendar.weekday(y, m, d) + 1) % 7  # cron: 0 = Sunday
        dom_ok = d in self.days
        dow_ok = wd in self.weekdays
        if self.dom_star or self.dow_star:
            return dom_ok and dow_ok
        return dom_ok or dow_ok

    def next_after(self, ts: float) -> float:
        """The first firing time strictly after ``ts`` (UTC seconds)."""
        t = (int(ts) // 60 + 1) * 60
        for _ in range(600_000):
            tm = time.gmtime(t)
            if tm.tm_mon not in self.months:
                y, mo = tm.tm_year + (tm.tm_mon // 12), tm.tm_mon % 12 + 1
                t = calendar.timegm((y, mo, 1, 0, 0, 0, 0, 0, 0))
                continue
            if not self._day_ok(tm.tm_year, tm.tm_mon, tm.tm_mday):
                t = calendar.timegm((tm.tm_year, tm.tm_mon, tm.tm_mday, 0, 0, 0, 0, 0, 0)) + 86400
                continue
            if tm.tm_hour not in self.hours:
                t = calendar.timegm((tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, 0, 0, 0, 0, 0)) + 3600
                continue
            if tm.tm_min not in self.minutes:
                t += 60
                continue
            return float(t)
        raise CronError("schedule never fires")

    def last_at_or_before(self, ts: float, since: float) -> float | None:
        """The most recent firing time in ``(since, ts]`` or ``None``."""
        last = None
        t = since
        for _ in range(10_000):
            nxt = self.next_after(t)
            if nxt > ts:
                break
            last = nxt
            t = nxt
        return last


# ----------------------------------------------------------------------------------------------
# Helpers


def _int_or_percent(value: Any, total: int, round_up: bool) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    text = str(value)
    if text.endswith("%"):
        pct = int(text[:-1])
        raw = total * pct / 100
        return int(-(-raw // 1)) if round_up else int(raw)
    return int(text)


def _labels_match(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """Match a LabelSelector (matchLabels + matchExpressions)."""
    if not selector:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, vals = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in vals:
            return False
        if op == "NotIn" and labels.get(key) in vals:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _equal_ignore_hash(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Pod templates equal except for the ``pod-template-hash`` label (EqualIgnoreHash)."""
    la = dict((a.get("metadata") or {}).get("labels") or {})
    lb = dict((b.get("metadata") or {}).get("labels") or {})
    la.pop("pod-template-hash", None)
    lb.pop("pod-template-hash", None)
    if la != lb:
        return False
    ma = {k: v for k, v in (a.get("metadata") or {}).items() if k != "labels" and v not in (None, {}, [])}
    mb = {k: v for k, v in (b.get("metadata") or {}).items() if k != "labels" and v not in (None, {}, [])}
    ma.pop("creationTimestamp", None)
    mb.pop("creationTimestamp", None)
    return ma == mb and a.get("spec") == b.get("spec")


def _controller_ref(obj: dict[str, Any]) -> dict[str, Any] | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def _is_ready(pod: dict[str, Any]) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def _is_terminal(pod: dict[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def _is_active(pod: dict[str, Any]) -> bool:
    return not _is_terminal(pod) and not pod["metadata"].get("deletionTimestamp")


def _tolerates(tolerations: list[dict[str, Any]], taint: dict[str, Any]) -> bool:
    for t in tolerations:
        effect = t.get("effect")
        if effect and effect != taint.get("effect"):
            continue
        op = t.get("operator", "Equal")
        key = t.get("key")
        if op == "Exists" and (not key or key == taint.get("key")):
            return True
        if op == "Equal" and key == taint.get("key") and (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def _node_ready(node: dict[str, Any]) -> bool:
    for c in (node.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def _set_condition(conds: list[dict[str, Any]], ctype: str, status: str, now: str, reason: str | None = None,
                   message: str | None = None, *, probe: bool = True, update_time: bool = False) -> None:
    """Set a condition in place, keeping lastTransitionTime unless the status changes."""
    for c in conds:
        if c.get("type") == ctype:
            changed_status = c.get("status") != status
            if changed_status:
                c["lastTransitionTime"] = now
            if update_time and (changed_status or c.get("reason") != reason or c.get("message") != message):
                c["lastUpdateTime"] = now
            c["status"] = status
            _set_opt(c, "reason", reason)
            _set_opt(c, "message", message)
            return
    c = {"type": ctype, "status": status, "lastTransitionTime": now}
    if probe:
        c["lastProbeTime"] = None
    if update_time:
        c["lastUpdateTime"] = now
    _set_opt(c, "reason", reason)
    _set_opt(c, "message", message)
    conds.append(c)


def _set_opt(d: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        d.pop(key, None)
    else:
        d[key] = value


def now_str() -> str:
    """Current time as RFC 3339 (seconds)."""
    return rfc3339(time.time())


# ----------------------------------------------------------------------------------------------
# Container programs


@dataclass
class Program:
    """What a container does once started."""

    kind: str  # "server" | "script" | "interactive" | "exit"
    argv: list[str] = field(default_factory=list)
    after: float = 0.0
    code: int = 0


def _simple_script(script: str) -> bool:
    if "$(" in script or "`" in script:
        return False
    try:
        nodes = shellmod.parse(shellmod.tokenize(script, lambda _n: "x"))
    except shellmod.ShellSyntaxError:
        return False
    for cmd in shellmod.walk_commands(nodes):
        argv = list(cmd.argv)
        while argv and "=" in argv[0] and argv[0].split("=", 1)[0].isidentifier():
            argv = argv[1:]
        if argv and argv[0] not in shellmod.BUILTINS and argv[0] not in shellmod.SHELLS and posixpath.basename(argv[0]) not in shellmod.BUILTINS:
            return False
    return True


def classify(pod: dict[str, Any], container: dict[str, Any], config: ControllerConfig) -> Program:
    """Decide how a container behaves: long-running server, a script to run, or exit after a time."""
    ann = pod["metadata"].get("annotations") or {}
    if ann.get(ANN_BEHAVIOUR) == "crashloop":
        return Program("exit", after=config.crash_after, code=1)
    if ANN_EXIT_AFTER in ann:
        try:
            after = float(ann[ANN_EXIT_AFTER])
            code = int(ann.get(ANN_EXIT_CODE, "0"))
        except ValueError:
            after, code = 1.0, 1
        return Program("exit", after=after, code=code)
    argv = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
    owner = _controller_ref(pod)
    is_job = owner is not None and owner.get("kind") == "Job"
    image = str(container.get("image") or "").lower()
    base = image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]
    interactive = bool(container.get("stdin"))
    if not argv:
        if base in SHELL_IMAGES:
            return Program("interactive" if interactive else "script", ["sh"])
        return Program("exit", after=config.job_duration, code=0) if is_job else Program("server")
    prog = argv[0]
    if prog in shellmod.SHELLS:
        rest = argv[1:]
        if rest and rest[0].startswith("-") and "c" in rest[0]:
            if _simple_script(rest[1] if len(rest) > 1 else ""):
                return Program("script", argv)
        elif not rest:
            return Program("interactive" if interactive else "script", argv)
    elif posixpath.basename(prog) in shellmod.BUILTINS:
        return Program("script", argv)
    return Program("exit", after=config.job_duration, code=0) if is_job else Program("server")


# ----------------------------------------------------------------------------------------------
# Per-pod kubelet state


@dataclass
class ContainerRun:
    """Runtime state of one container of a pod (what the kubelet knows)."""

    name: str
    instance: int = 0
    backoff: float = 0.0
    task: asyncio.Task[None] | None = None
    handle: asyncio.TimerHandle | None = None


@dataclass
class PodRun:
    """The kubelet's bookkeeping for one pod."""

    uid: str
    namespace: str
    name: str
    node: str = ""
    containers: dict[str, ContainerRun] = field(default_factory=dict)
    handles: list[asyncio.TimerHandle] = field(default_factory=list)
    started: bool = False

    def cancel(self) -> None:
        """Stop every timer and task of the pod."""
        for h in self.handles:
            h.cancel()
        self.handles.clear()
        for c in self.containers.values():
            if c.handle is not None:
                c.handle.cancel()
            if c.task is not None and not c.task.done():
                c.task.cancel()


class _OutputIO:
    """ShellIO that records a container's output into its log (stdin is empty)."""

    def __init__(self, rec: RecordedLog) -> None:
        self.rec = rec

    async def write(self, stream: int, data: bytes) -> None:
        self.rec.append_output(data.decode("utf-8", "replace"))

    async def read(self) -> bytes | None:
        return None


# ----------------------------------------------------------------------------------------------
# The controllers


class Controllers:
    """All simulated controllers of one cluster (see the module docstring)."""

    def __init__(self, cluster: Cluster, config: ControllerConfig | None = None, logs: LogModel | None = None,
                 env_builder: Callable[[Store, dict[str, Any], str], shellmod.ShellEnv] | None = None,
                 main_processes: dict[tuple[str, str], MainProcess] | None = None) -> None:
        self.cluster = cluster
        self.store: Store = cluster.store
        self.config = config or ControllerConfig()
        self.logs = logs or LogModel(seed=cluster.options.seed, default_rate=cluster.options.log_rate)
        self.env_builder = env_builder
        self.main_processes: dict[tuple[str, str], MainProcess] = main_processes if main_processes is not None else {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.rng = random.Random(cluster.options.seed * 7919 + 17)
        s = self.store
        self.t_pod = s.type_for("", "v1", "pods")
        self.t_node = s.type_for("", "v1", "nodes")
        self.t_svc = s.type_for("", "v1", "services")
        self.t_ep = s.type_for("", "v1", "endpoints")
        self.t_event = s.type_for("", "v1", "events")
        self.t_pvc = s.type_for("", "v1", "persistentvolumeclaims")
        self.t_pv = s.type_for("", "v1", "persistentvolumes")
        self.t_deploy = s.type_for("apps", "v1", "deployments")
        self.t_rs = s.type_for("apps", "v1", "replicasets")
        self.t_sts = s.type_for("apps", "v1", "statefulsets")
        self.t_ds = s.type_for("apps", "v1", "daemonsets")
        self.t_cr = s.type_for("apps", "v1", "controllerrevisions")
        self.t_job = s.type_for("batch", "v1", "jobs")
        self.t_cj = s.type_for("batch", "v1", "cronjobs")
        self.t_slice = s.find_type("discovery.k8s.io", "v1", "endpointslices")
        self._unsubscribe: Callable[[], None] | None = None
        self._dirty: dict[tuple[str, str, str], None] = {}
        self._wake: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._last_run: dict[tuple[str, str, str], float] = {}
        self._later: set[tuple[str, str, str]] = set()
        self.pods: dict[str, PodRun] = {}
        self._node_pods: dict[str, int] = {}
        self._ip_counter: dict[str, int] = {}
        self._svc_selectors: dict[str, dict[str, dict[str, str]]] = {}
        self._svc_members: dict[tuple[str, str], set[str]] = {}
        self._foreground: set[str] = set()
        self._events: deque[tuple[str, str]] = deque()
        self._event_index: dict[tuple[str, str, str], str] = {}
        self._event_tokens = self.config.events_per_second
        self._event_stamp = time.monotonic()
        self._cron_anchor_real = time.time()
        self._cron_anchor_sim = self._cron_anchor_real
        self._cron_base: dict[str, float] = {}
        self._closing = False

    # ------------------------------------------------------------------ lifecycle
    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Subscribe to the store and start the worker tasks (call on the loop thread)."""
        self.loop = loop or asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._index_existing()
        self._unsubscribe = self.store.subscribe(self.on_event)
        self._tasks.append(self.loop.create_task(self._worker(), name="sim-controllers"))
        self._tasks.append(self.loop.create_task(self._cron_loop(), name="sim-cron"))
        self._tasks.append(self.loop.create_task(self._heartbeat_loop(), name="sim-heartbeats"))

    async def stop(self) -> None:
        """Unsubscribe and cancel every task and timer."""
        self._closing = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for run in self.pods.values():
            run.cancel()
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            try:
                await t
            except (asyncio.CancelledError, Exception):  # noqa: PERF203 - shutdown
                pass
        self._tasks.clear()

    def _index_existing(self) -> None:
        """Build indexes from what is already stored (seeded objects) and queue initial syncs."""
        now = time.time()
        for pod in self.store.iter_objects(self.t_pod):
            node = (pod.get("spec") or {}).get("nodeName")
            if node:
                self._node_pods[node] = self._node_pods.get(node, 0) + 1
                self._ip_counter[node] = self._ip_counter.get(node, 0) + 1
            if not node or not (pod.get("status") or {}).get("containerStatuses"):
                self.mark("pod", pod["metadata"].get("namespace", ""), pod["metadata"]["name"])
            else:
                self._resume_pod(pod)
        for svc in self.store.iter_objects(self.t_svc):
            self._index_service(svc)
            self.mark("svc", svc["metadata"]["namespace"], svc["metadata"]["name"])
        for kind, rtype in (("deploy", self.t_deploy), ("rs", self.t_rs), ("sts", self.t_sts), ("ds", self.t_ds),
                            ("job", self.t_job)):
            for obj in self.store.iter_objects(rtype):
                self.mark(kind, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        for ev in self.store.iter_objects(self.t_event):
            inv = ev.get("involvedObject") or {}
            if inv.get("uid"):
                self._event_index[(inv["uid"], ev.get("reason", ""), ev.get("message", ""))] = ev["metadata"]["name"]
                self._events.append((ev["metadata"].get("namespace", "default"), ev["metadata"]["name"]))
        for cj in self.store.iter_objects(self.t_cj):
            key = cj["metadata"]["uid"]
            last = parse_rfc3339((cj.get("status") or {}).get("lastScheduleTime"))
            self._cron_base[key] = max(last or 0.0, now)

    # ------------------------------------------------------------------ thread-safe public API
    def _call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the loop thread (directly when already there) and return its result."""
        loop = self.loop
        if loop is None:
            return fn()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            return fn()
        done = threading.Event()
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["value"] = fn()
            except BaseException as exc:  # pragma: no cover - re-raised in the caller
                box["error"] = exc
            finally:
                done.set()

        loop.call_soon_threadsafe(run)
        if not done.wait(30):
            raise TimeoutError("simulator loop did not answer")
        if "error" in box:
            raise box["error"]
        return box.get("value")

    def set_node_ready(self, name: str, ready: bool) -> None:
        """Make node ``name`` Ready or NotReady (thread-safe).

        NotReady: the Ready condition becomes ``Unknown`` (``NodeStatusUnknown``), the
        ``node.kubernetes.io/unreachable`` taints are added, the node's pods turn unready, new pods
        are not scheduled there and DaemonSets stop counting it.
        """
        self._call(lambda: self._set_node_ready(name, ready))

    def set_time_speed(self, speed: float) -> None:
        """Run the CronJob clock ``speed`` times faster than real time (thread-safe)."""

        def apply() -> None:
            self._cron_anchor_sim = self.cron_now()
            self._cron_anchor_real = time.time()
            self.config.time_speed = max(0.0, float(speed))

        self._call(apply)

    def cron_now(self) -> float:
        """The (possibly accelerated) clock CronJobs are scheduled by."""
        return self._cron_anchor_sim + (time.time() - self._cron_anchor_real) * self.config.time_speed

    def trigger_cronjob(self, namespace: str, name: str) -> str:
        """Create a Job from a CronJob right now, as if its schedule fired; returns the Job name."""
        return str(self._call(lambda: self._fire_cronjob(namespace, name, self.cron_now(), manual=True)))

    def configure(self, **changes: Any) -> None:
        """Change :class:`ControllerConfig` fields (thread-safe), e.g. ``configure(crash_backoff=1)``."""

        def apply() -> None:
            for k, v in changes.items():
                if not hasattr(self.config, k):
                    raise AttributeError(f"unknown controller option {k!r}")
                setattr(self.config, k, v)

        self._call(apply)

    # ------------------------------------------------------------------ event intake
    def mark(self, kind: str, namespace: str, name: str) -> None:
        """Queue a reconcile of ``kind`` ``namespace/name``."""
        self._dirty[(kind, namespace, name)] = None
        if self._wake is not None:
            self._wake.set()

    def on_event(self, ev: WatchEvent) -> None:
        """Store subscriber: classify the change and mark what must be reconciled."""
        if self._closing:
            return
        key = ev.rtype.key
        obj = ev.obj
        meta = obj.get("metadata") or {}
        ns = meta.get("namespace", "")
        name = meta.get("name", "")
        if key == "v1/pods":
            self._on_pod(ev)
        elif key == "apps/v1/replicasets":
            self.mark("rs", ns, name)
            ref = _controller_ref(obj)
            if ref and ref.get("kind") == "Deployment":
                self.mark("deploy", ns, ref["name"])
        elif key == "apps/v1/deployments":
            self.mark("deploy", ns, name)
        elif key == "apps/v1/statefulsets":
            self.mark("sts", ns, name)
        elif key == "apps/v1/daemonsets":
            self.mark("ds", ns, name)
        elif key == "batch/v1/jobs":
            self.mark("job", ns, name)
            ref = _controller_ref(obj)
            if ref and ref.get("kind") == "CronJob":
                self.mark("cj", ns, ref["name"])
        elif key == "batch/v1/cronjobs":
            if ev.type == "ADDED":
                self._cron_base.setdefault(meta.get("uid", ""), parse_rfc3339(meta.get("creationTimestamp")) or time.time())
            elif ev.type == "DELETED":
                self._cron_base.pop(meta.get("uid", ""), None)
        elif key == "v1/services":
            if ev.type == "DELETED":
                self._unindex_service(obj)
            else:
                self._index_service(obj)
            self.mark("svc", ns, name)
        elif key == "v1/nodes":
            for ds in self.store.iter_objects(self.t_ds):
                self.mark("ds", ds["metadata"]["namespace"], ds["metadata"]["name"])
            if ev.type == "MODIFIED" and ev.old is not None and _node_ready(ev.old) != _node_ready(obj) or ev.type == "ADDED":
                for pod in self.store.iter_objects(self.t_pod):
                    if not (pod.get("spec") or {}).get("nodeName"):
                        self.mark("pod", pod["metadata"]["namespace"], pod["metadata"]["name"])
        # garbage collection
        uid = meta.get("uid")
        if ev.type == "DELETED" and uid:
            self.mark("gc", "", uid)
            for ref in meta.get("ownerReferences") or []:
                if ref.get("uid") in self._foreground:
                    self.mark("gc", "", ref["uid"])
        elif ev.type == "MODIFIED" and meta.get("deletionTimestamp") and "foregroundDeletion" in (meta.get("finalizers") or []) and uid:
            self._foreground.add(uid)
            self.mark("gc", "", uid)

    def _on_pod(self, ev: WatchEvent) -> None:
        pod = ev.obj
        meta = pod["metadata"]
        ns, name, uid = meta.get("namespace", ""), meta["name"], meta.get("uid", "")
        ref = _controller_ref(pod)
        if ref is None and ev.old is not None:
            ref = _controller_ref(ev.old)
        if ref is not None:
            kind = {"ReplicaSet": "rs", "StatefulSet": "sts", "DaemonSet": "ds", "Job": "job"}.get(ref.get("kind", ""))
            if kind:
                self.mark(kind, ns, ref["name"])
        # services whose selector matches the old or the new labels
        labels = meta.get("labels") or {}
        old_labels = ((ev.old or {}).get("metadata") or {}).get("labels") or {}
        for svc_name, sel in (self._svc_selectors.get(ns) or {}).items():
            new_match = bool(sel) and all(labels.get(k) == v for k, v in sel.items())
            old_match = bool(sel) and ev.old is not None and all(old_labels.get(k) == v for k, v in sel.items())
            if new_match or old_match:
                members = self._svc_members.get((ns, svc_name))
                if members is not None:
                    if new_match and ev.type != "DELETED":
                        members.add(name)
                    else:
                        members.discard(name)
                if ev.type != "MODIFIED" or _pod_endpoint_view(pod) != _pod_endpoint_view(ev.old or {}) or new_match != old_match:
                    self.mark("svc", ns, svc_name)
        if ev.type == "DELETED":
            run = self.pods.pop(uid, None)
            if run is not None:
                run.cancel()
            node = (pod.get("spec") or {}).get("nodeName")
            if node and node in self._node_pods:
                self._node_pods[node] = max(0, self._node_pods[node] - 1)
            self.logs.forget_pod(uid)
            if any("running" in (cs.get("state") or {}) for cs in (pod.get("status") or {}).get("containerStatuses") or []):
                for cs in (pod.get("status") or {}).get("containerStatuses") or []:
                    if "running" in (cs.get("state") or {}):
                        self.event(pod, "Killing", f"Stopping container {cs['name']}", component="kubelet",
                                   field_path=f"spec.containers{{{cs['name']}}}")
            return
        if ev.type == "ADDED":
            self.mark("pod", ns, name)

    # ------------------------------------------------------------------ worker
    async def _worker(self) -> None:
        assert self._wake is not None
        while not self._closing:
            await self._wake.wait()
            self._wake.clear()
            processed = 0
            while self._dirty:
                key = next(iter(self._dirty))
                del self._dirty[key]
                now = time.monotonic()
                min_gap = 0.05
                last = self._last_run.get(key)
                if last is not None and now - last < min_gap and key[0] in ("rs", "deploy", "sts", "ds", "job", "svc"):
                    if key not in self._later and self.loop is not None:
                        self._later.add(key)
                        self.loop.call_later(min_gap - (now - last), self._requeue, key)
                    continue
                self._last_run[key] = now
                try:
                    self._reconcile(key)
                except ApiError as exc:
                    if exc.code not in (404, 409):
                        log.warning("reconcile %s failed: %s", key, exc)
                    if exc.code == 409:
                        self.mark(*key)
                except Exception:  # keep the simulator alive whatever happens
                    log.exception("reconcile %s failed", key)
                processed += 1
                if processed % 50 == 0:
                    await asyncio.sleep(0)
            if len(self._last_run) > 20_000:
                cutoff = time.monotonic() - 5
                self._last_run = {k: v for k, v in self._last_run.items() if v > cutoff}

    def _requeue(self, key: tuple[str, str, str]) -> None:
        self._later.discard(key)
        self.mark(*key)

    def _reconcile(self, key: tuple[str, str, str]) -> None:
        kind, ns, name = key
        handler = {
            "pod": self.sync_pod,
            "rs": self.sync_replicaset,
            "deploy": self.sync_deployment,
            "sts": self.sync_statefulset,
            "ds": self.sync_daemonset,
            "job": self.sync_job,
            "cj": self.sync_cronjob_status,
            "svc": self.sync_service,
            "gc": self.sync_gc,
        }[kind]
        handler(ns, name)

    # ------------------------------------------------------------------ events
    def event(self, obj: dict[str, Any], reason: str, message: str, *, etype: str = "Normal", component: str,
              host: str | None = None, field_path: str | None = None) -> None:
        """Record a core/v1 Event about ``obj`` (deduplicated: repeated events bump ``count``)."""
        meta = obj.get("metadata") or {}
        ns = meta.get("namespace") or "default"
        uid = meta.get("uid", "")
        key = (uid, reason, message)
        now = now_str()
        existing = self._event_index.get(key)
        if existing is not None:
            ev = self.store.try_get(self.t_event, ns, existing)
            if ev is not None:
                new = copy.deepcopy(ev)
                new["count"] = int(new.get("count") or 1) + 1
                new["lastTimestamp"] = now
                try:
                    self.store.update(self.t_event, new, check_rv=False)
                except ApiError:
                    pass
                return
        # token bucket rate limit for new events
        mono = time.monotonic()
        self._event_tokens = min(self.config.events_per_second,
                                 self._event_tokens + (mono - self._event_stamp) * self.config.events_per_second)
        self._event_stamp = mono
        if self._event_tokens < 1:
            return
        self._event_tokens -= 1
        kind = obj.get("kind") or ""
        involved: dict[str, Any] = {
            "apiVersion": obj.get("apiVersion", "v1"),
            "kind": kind,
            "name": meta.get("name", ""),
            "namespace": ns,
            "resourceVersion": meta.get("resourceVersion", ""),
            "uid": uid,
        }
        if not meta.get("namespace"):
            involved.pop("namespace")
        if field_path:
            involved["fieldPath"] = field_path
        ev_name = f"{meta.get('name', 'unknown')}.{self.rng.getrandbits(64):016x}"
        body = {
            "metadata": {"name": ev_name, "namespace": ns},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "source": {"component": component, **({"host": host} if host else {})},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "type": etype,
            "eventTime": None,
            "reportingComponent": component,
            "reportingInstance": host or "",
        }
        try:
            self.store.create(self.t_event, body)
        except ApiError:
            return
        self._event_index[key] = ev_name
        self._events.append((ns, ev_name))
        while len(self._events) > self.config.event_limit:
            old_ns, old_name = self._events.popleft()
            try:
                self.store.delete(self.t_event, old_ns, old_name)
            except ApiError:
                pass
        if len(self._event_index) > self.config.event_limit * 2:
            live = {n for _, n in self._events}
            self._event_index = {k: v for k, v in self._event_index.items() if v in live}

    # ------------------------------------------------------------------ helpers
    def _owned(self, owner: dict[str, Any], rtype: ResourceType) -> list[dict[str, Any]]:
        uid = owner["metadata"].get("uid", "")
        out = []
        for rt, obj in self.store.dependents(uid):
            if rt.key != rtype.key:
                continue
            ref = _controller_ref(obj)
            if ref is not None and ref.get("uid") == uid:
                out.append(obj)
        return out

    def _update_status(self, rtype: ResourceType, obj: dict[str, Any], status: dict[str, Any]) -> None:
        if obj.get("status") == status:
            return
        new = {"metadata": {"name": obj["metadata"]["name"], "namespace": obj["metadata"].get("namespace")}, "status": status}
        if not rtype.namespaced:
            new["metadata"].pop("namespace")
        self.store.update(rtype, new, check_rv=False, subresource="status")

    def _owner_ref(self, obj: dict[str, Any], api_version: str, kind: str) -> dict[str, Any]:
        return {"apiVersion": api_version, "kind": kind, "name": obj["metadata"]["name"], "uid": obj["metadata"]["uid"],
                "controller": True, "blockOwnerDeletion": True}

    def _suffix(self, n: int = 5) -> str:
        return "".join(self.rng.choice(SAFE) for _ in range(n))

    def _new_pod(self, owner: dict[str, Any], api_version: str, kind: str, template: dict[str, Any], *,
                 name: str | None = None, extra_labels: dict[str, str] | None = None,
                 extra_annotations: dict[str, str] | None = None, node: str | None = None,
                 mutate: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any] | None:
        tmeta = template.get("metadata") or {}
        meta: dict[str, Any] = {"namespace": owner["metadata"]["namespace"]}
        if name:
            meta["name"] = name
        else:
            meta["generateName"] = owner["metadata"]["name"] + "-"
        labels = dict(tmeta.get("labels") or {})
        labels.update(extra_labels or {})
        meta["labels"] = labels
        ann = dict(tmeta.get("annotations") or {})
        ann.update(extra_annotations or {})
        if ann:
            meta["annotations"] = ann
        meta["ownerReferences"] = [self._owner_ref(owner, api_version, kind)]
        pod: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                               "spec": copy.deepcopy(template.get("spec") or {}), "status": {"phase": "Pending"}}
        if node:
            pod["spec"]["nodeName"] = node
        self._admit(pod)
        if mutate is not None:
            mutate(pod)
        try:
            return self.store.create(self.t_pod, pod)
        except ApiError as exc:
            if exc.code != 409:
                log.warning("creating pod for %s/%s failed: %s", kind, owner["metadata"]["name"], exc)
            return None

    def _admit(self, pod: dict[str, Any]) -> bool:
        """What admission plugins add to a pod (service account token volume, default tolerations ...).

        Returns True if anything changed.
        """
        spec = pod.setdefault("spec", {})
        before = copy.deepcopy(spec)
        sa = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        spec["serviceAccountName"] = sa
        spec["serviceAccount"] = sa
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("dnsPolicy", "ClusterFirst")
        spec.setdefault("schedulerName", "default-scheduler")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        spec.setdefault("securityContext", {})
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("priority", 0)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        for c in spec.get("containers") or []:
            c.setdefault("imagePullPolicy", "Always" if str(c.get("image", "")).endswith(":latest") or ":" not in str(c.get("image", "")).rsplit("/", 1)[-1] else "IfNotPresent")
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
            c.setdefault("resources", {})
        vols = spec.setdefault("volumes", [])
        if spec.get("automountServiceAccountToken", True) and not any(v.get("name", "").startswith("kube-api-access-") for v in vols):
            vname = "kube-api-access-" + self._suffix()
            vols.append({
                "name": vname,
                "projected": {"defaultMode": 420, "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
                    {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}, "path": "namespace"}]}},
                ]},
            })
            for c in spec.get("containers") or []:
                c.setdefault("volumeMounts", []).append(
                    {"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": vname, "readOnly": True})
        if not vols:
            spec.pop("volumes")
        tols = spec.setdefault("tolerations", [])
        for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
            if not any(t.get("key") == key for t in tols):
                tols.append({"effect": "NoExecute", "key": key, "operator": "Exists", "tolerationSeconds": 300})
        return spec != before

    # ------------------------------------------------------------------ nodes
    def _set_node_ready(self, name: str, ready: bool) -> None:
        node = self.store.get(self.t_node, None, name)
        new = copy.deepcopy(node)
        now = now_str()
        conds = new.setdefault("status", {}).setdefault("conditions", [])
        if ready:
            for c in conds:
                c["lastHeartbeatTime"] = now
            _set_condition(conds, "Ready", "True", now, "KubeletReady", "kubelet is posting ready status", probe=False)
            for c in conds:
                if c["type"] != "Ready":
                    c["status"] = "False"
        else:
            for c in conds:
                if c["type"] != "Ready":
                    _set_condition(conds, c["type"], "Unknown", now, "NodeStatusUnknown", "Kubelet stopped posting node status.", probe=False)
            _set_condition(conds, "Ready", "Unknown", now, "NodeStatusUnknown", "Kubelet stopped posting node status.", probe=False)
        for c in conds:
            c.pop("lastProbeTime", None)
            c.setdefault("lastHeartbeatTime", now)
        taints = [t for t in (new.setdefault("spec", {}).get("taints") or []) if t.get("key") != "node.kubernetes.io/unreachable"]
        if not ready:
            taints += [
                {"effect": "NoSchedule", "key": "node.kubernetes.io/unreachable", "timeAdded": now},
                {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "timeAdded": now},
            ]
        if taints:
            new["spec"]["taints"] = taints
        else:
            new["spec"].pop("taints", None)
        self.store.update(self.t_node, new, check_rv=False)
        self.event(node, "NodeNotReady" if not ready else "NodeReady",
                   f"Node {name} status is now: {'NodeNotReady' if not ready else 'NodeReady'}",
                   component="node-controller" if not ready else "kubelet", host=name)
        # pods on the node become unready / ready again
        for pod in list(self.store.iter_objects(self.t_pod)):
            if (pod.get("spec") or {}).get("nodeName") != name or _is_terminal(pod):
                continue
            status = copy.deepcopy(pod.get("status") or {})
            conds = status.setdefault("conditions", [])
            if not ready:
                _set_condition(conds, "Ready", "False", now, None, None)
                for cs in status.get("containerStatuses") or []:
                    cs["ready"] = False
                self.event(pod, "NodeNotReady", "Node is not ready", etype="Warning", component="node-controller")
            else:
                all_ready = True
                for cs in status.get("containerStatuses") or []:
                    cs["ready"] = "running" in (cs.get("state") or {})
                    all_ready = all_ready and cs["ready"]
                _set_condition(conds, "Ready", "True" if all_ready else "False", now,
                               None if all_ready else "ContainersNotReady", None)
            self._update_status(self.t_pod, pod, status)

    def _schedulable_nodes(self, pod: dict[str, Any]) -> list[dict[str, Any]]:
        spec = pod.get("spec") or {}
        tols = spec.get("tolerations") or []
        selector = spec.get("nodeSelector") or {}
        out = []
        for node in self.store.iter_objects(self.t_node):
            if not _node_ready(node) or (node.get("spec") or {}).get("unschedulable"):
                continue
            labels = node["metadata"].get("labels") or {}
            if any(labels.get(k) != v for k, v in selector.items()):
                continue
            taints = [t for t in (node.get("spec") or {}).get("taints") or [] if t.get("effect") in ("NoSchedule", "NoExecute")]
            if any(not _tolerates(tols, t) for t in taints):
                continue
            if not self._affinity_ok(spec, node):
                continue
            out.append(node)
        return out

    @staticmethod
    def _affinity_ok(spec: dict[str, Any], node: dict[str, Any]) -> bool:
        req = (((spec.get("affinity") or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution") or {})
        terms = req.get("nodeSelectorTerms") or []
        if not terms:
            return True
        labels = node["metadata"].get("labels") or {}
        for term in terms:
            ok = True
            for expr in term.get("matchExpressions") or []:
                if not _labels_match({"matchExpressions": [expr]}, labels):
                    ok = False
            for expr in term.get("matchFields") or []:
                if expr.get("key") == "metadata.name":
                    vals = expr.get("values") or []
                    if (expr.get("operator") == "In") != (node["metadata"]["name"] in vals):
                        ok = False
            if ok:
                return True
        return False

    def _pod_ip(self, node_name: str) -> str:
        nodes = [n["metadata"]["name"] for n in self.store.iter_objects(self.t_node)]
        idx = nodes.index(node_name) if node_name in nodes else 0
        j = self._ip_counter.get(node_name, 0)
        self._ip_counter[node_name] = j + 1
        cidr = "10.42" if self.cluster.options.flavor == "k3s" else "10.244"
        third = (idx + max(1, len(nodes)) * (j // 250)) % 256
        return f"{cidr}.{third}.{2 + j % 250}"

    # ------------------------------------------------------------------ scheduler + kubelet
    def sync_pod(self, ns: str, name: str) -> None:
        """Schedule an unscheduled pod, then hand it to the simulated kubelet."""
        pod = self.store.try_get(self.t_pod, ns, name)
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            return
        uid = pod["metadata"]["uid"]
        spec = pod.get("spec") or {}
        if not spec.get("nodeName"):
            nodes = self._schedulable_nodes(pod)
            if not nodes:
                total = sum(1 for _ in self.store.iter_objects(self.t_node))
                status = copy.deepcopy(pod.get("status") or {})
                status["phase"] = "Pending"
                conds = status.setdefault("conditions", [])
                msg = (f"0/{total} nodes are available: {total} node(s) didn't match Pod's node affinity/selector "
                       "or had untolerated taints. preemption: 0/{total} nodes are available.").replace("{total}", str(total))
                _set_condition(conds, "PodScheduled", "False", now_str(), "Unschedulable", msg)
                if status != pod.get("status"):
                    self._update_status(self.t_pod, pod, status)
                    self.event(pod, "FailedScheduling", msg, etype="Warning", component="default-scheduler")
                return
            node = min(nodes, key=lambda n: (self._node_pods.get(n["metadata"]["name"], 0), n["metadata"]["name"]))
            node_name = node["metadata"]["name"]
            self._node_pods[node_name] = self._node_pods.get(node_name, 0) + 1
            run = self.pods.setdefault(uid, PodRun(uid, ns, name))
            if self.loop is not None:
                run.handles.append(self.loop.call_later(self.config.schedule_delay, self._bind, uid, ns, name, node_name))
            else:
                self._bind(uid, ns, name, node_name)
            return
        self._kubelet_start(pod)

    def _bind(self, uid: str, ns: str, name: str, node_name: str) -> None:
        pod = self.store.try_get(self.t_pod, ns, name)
        if pod is None or pod["metadata"].get("uid") != uid:
            return
        new = copy.deepcopy(pod)
        new["spec"]["nodeName"] = node_name
        self._admit(new)
        status = new.setdefault("status", {})
        status["phase"] = "Pending"
        status.setdefault("qosClass", _qos(new["spec"]))
        _set_condition(status.setdefault("conditions", []), "PodScheduled", "True", now_str())
        try:
            bound = self.store.update(self.t_pod, new, check_rv=False)
        except ApiError:
            return
        self.event(bound, "Scheduled", f"Successfully assigned {ns}/{name} to {node_name}", component="default-scheduler")
        self._kubelet_start(bound)

    def _kubelet_start(self, pod: dict[str, Any]) -> None:
        uid = pod["metadata"]["uid"]
        run = self.pods.setdefault(uid, PodRun(uid, pod["metadata"]["namespace"], pod["metadata"]["name"]))
        if run.started:
            return
        run.started = True
        run.node = pod["spec"]["nodeName"]
        if self.loop is None:
            return
        run.handles.append(self.loop.call_later(self.config.kubelet_delay, self._pod_creating, uid))

    def _current(self, uid: str) -> dict[str, Any] | None:
        run = self.pods.get(uid)
        if run is None:
            return None
        pod = self.store.try_get(self.t_pod, run.namespace, run.name)
        if pod is None or pod["metadata"].get("uid") != uid:
            return None
        return pod

    def _pod_creating(self, uid: str) -> None:
        pod = self._current(uid)
        if pod is None:
            return
        now = now_str()
        status = copy.deepcopy(pod.get("status") or {})
        node = self.store.try_get(self.t_node, None, pod["spec"]["nodeName"])
        host_ip = next((a["address"] for a in ((node or {}).get("status") or {}).get("addresses") or [] if a.get("type") == "InternalIP"), "")
        conds = status.setdefault("conditions", [])
        _set_condition(conds, "PodReadyToStartContainers", "False", now)
        _set_condition(conds, "Initialized", "True", now)
        names = [c["name"] for c in pod["spec"].get("containers") or []]
        msg = f"containers with unready status: [{' '.join(names)}]"
        _set_condition(conds, "Ready", "False", now, "ContainersNotReady", msg)
        _set_condition(conds, "ContainersReady", "False", now, "ContainersNotReady", msg)
        _set_condition(conds, "PodScheduled", "True", now)
        _order_conditions(conds)
        status["phase"] = "Pending"
        if host_ip:
            status["hostIP"] = host_ip
            status["hostIPs"] = [{"ip": host_ip}]
        status.setdefault("startTime", now)
        status["qosClass"] = _qos(pod["spec"])
        status["containerStatuses"] = [
            {"image": c.get("image", ""), "imageID": "", "lastState": {}, "name": c["name"], "ready": False,
             "restartCount": 0, "started": False, "state": {"waiting": {"reason": "ContainerCreating"}}}
            for c in pod["spec"].get("containers") or []
        ]
        self._update_status(self.t_pod, pod, status)
        for c in pod["spec"].get("containers") or []:
            image = c.get("image", "")
            self.event(pod, "Pulling", f'Pulling image "{image}"', component="kubelet", host=pod["spec"]["nodeName"],
                       field_path=f"spec.containers{{{c['name']}}}")
        run = self.pods[uid]
        if self.loop is not None:
            run.handles.append(self.loop.call_later(self.config.create_delay, self._pod_start_containers, uid))

    def _pod_start_containers(self, uid: str) -> None:
        pod = self._current(uid)
        if pod is None:
            return
        status = copy.deepcopy(pod.get("status") or {})
        now = now_str()
        if not status.get("podIP") and not pod["spec"].get("hostNetwork"):
            ip = self._pod_ip(pod["spec"]["nodeName"])
            status["podIP"] = ip
            status["podIPs"] = [{"ip": ip}]
        elif pod["spec"].get("hostNetwork") and status.get("hostIP"):
            status["podIP"] = status["hostIP"]
            status["podIPs"] = [{"ip": status["hostIP"]}]
        _set_condition(status.setdefault("conditions", []), "PodReadyToStartContainers", "True", now)
        node = pod["spec"]["nodeName"]
        starting: list[dict[str, Any]] = []
        for c in pod["spec"].get("containers") or []:
            cs = next((x for x in status.get("containerStatuses") or [] if x["name"] == c["name"]), None)
            if cs is None:
                continue
            image = c.get("image", "")
            fp = f"spec.containers{{{c['name']}}}"
            if is_bad_image(image):
                cs["state"] = {"waiting": {"reason": "ErrImagePull", "message": f'failed to pull and unpack image "{_full(image)}": '
                                           f'failed to resolve reference "{_full(image)}": {_full(image)}: not found'}}
                self.event(pod, "Failed", f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and '
                           f'unpack image "{_full(image)}": failed to resolve reference "{_full(image)}": {_full(image)}: not found',
                           etype="Warning", component="kubelet", host=node, field_path=fp)
                self.event(pod, "Failed", "Error: ErrImagePull", etype="Warning", component="kubelet", host=node, field_path=fp)
                self._schedule(uid, self.config.pull_backoff / 2, self._image_backoff, uid, c["name"])
                continue
            self.event(pod, "Pulled", f'Successfully pulled image "{image}" in 412ms (412ms including waiting). Image size: 3021124 bytes.',
                       component="kubelet", host=node, field_path=fp)
            starting.append(c)
            self._run_state(cs, c)
        self._update_status(self.t_pod, pod, status)
        self._refresh_phase(uid)
        for c in starting:
            self.event(pod, "Created", f"Created container {c['name']}", component="kubelet", host=node,
                       field_path=f"spec.containers{{{c['name']}}}")
            self.event(pod, "Started", f"Started container {c['name']}", component="kubelet", host=node,
                       field_path=f"spec.containers{{{c['name']}}}")
            self._launch(uid, pod, c, 0)

    def _run_state(self, cs: dict[str, Any], c: dict[str, Any]) -> None:
        now = now_str()
        cs["containerID"] = "containerd://" + f"{self.rng.getrandbits(256):064x}"
        cs["image"] = _full(c.get("image", ""))
        digest = hashlib.sha256(str(c.get("image", "")).encode()).hexdigest()
        cs["imageID"] = _full(c.get("image", "")).rsplit(":", 1)[0] + "@sha256:" + digest
        cs["state"] = {"running": {"startedAt": now}}
        cs["started"] = True
        cs["ready"] = False

    def _schedule(self, uid: str, delay: float, fn: Callable[..., None], *args: Any) -> None:
        run = self.pods.get(uid)
        if run is None or self.loop is None:
            return
        run.handles = [h for h in run.handles if not h.cancelled()]
        run.handles.append(self.loop.call_later(max(0.0, delay), fn, *args))

    def _image_backoff(self, uid: str, cname: str) -> None:
        pod = self._current(uid)
        if pod is None:
            return
        status = copy.deepcopy(pod.get("status") or {})
        cs = next((x for x in status.get("containerStatuses") or [] if x["name"] == cname), None)
        if cs is None or "running" in (cs.get("state") or {}):
            return
        image = next((c.get("image", "") for c in pod["spec"].get("containers") or [] if c["name"] == cname), "")
        reason = (cs.get("state") or {}).get("waiting", {}).get("reason")
        fp = f"spec.containers{{{cname}}}"
        node = pod["spec"].get("nodeName")
        if reason == "ErrImagePull":
            cs["state"] = {"waiting": {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}}
            self.event(pod, "BackOff", f'Back-off pulling image "{image}"', component="kubelet", host=node, field_path=fp)
            self.event(pod, "Failed", "Error: ImagePullBackOff", etype="Warning", component="kubelet", host=node, field_path=fp)
        else:
            cs["state"] = {"waiting": {"reason": "ErrImagePull", "message": f'failed to pull and unpack image "{_full(image)}": not found'}}
            self.event(pod, "Pulling", f'Pulling image "{image}"', component="kubelet", host=node, field_path=fp)
            self.event(pod, "Failed", "Error: ErrImagePull", etype="Warning", component="kubelet", host=node, field_path=fp)
        self._update_status(self.t_pod, pod, status)
        self._schedule(uid, self.config.pull_backoff, self._image_backoff, uid, cname)

    def _launch(self, uid: str, pod: dict[str, Any], c: dict[str, Any], instance: int) -> None:
        """Start the container's program (server / script / timed exit) and its readiness timer."""
        run = self.pods.get(uid)
        if run is None or self.loop is None:
            return
        crun = run.containers.setdefault(c["name"], ContainerRun(c["name"]))
        crun.instance = instance
        prog = classify(pod, c, self.config)
        if prog.kind in ("script", "interactive"):
            rec = self.logs.record(uid, c["name"], instance, time.time())
            crun.task = self.loop.create_task(self._run_script(uid, pod, c, prog.argv, rec, instance,
                                                               interactive=prog.kind == "interactive"))
        elif prog.kind == "exit":
            crun.handle = self.loop.call_later(prog.after, self._container_exit, uid, c["name"], prog.code, instance)
        ready_delay = self.config.ready_delay
        if prog.kind in ("script", "interactive") or (prog.kind == "exit" and prog.after <= ready_delay):
            ready_delay = min(ready_delay, 0.05)
        self._schedule(uid, ready_delay, self._container_ready, uid, c["name"], instance)

    async def _run_script(self, uid: str, pod: dict[str, Any], c: dict[str, Any], argv: list[str], rec: RecordedLog,
                          instance: int, *, interactive: bool = False) -> None:
        code = 0
        key = (uid, c["name"])
        proc: MainProcess | None = None
        try:
            if self.env_builder is not None:
                senv = self.env_builder(self.store, pod, c["name"])
            else:
                senv = shellmod.ShellEnv(hostname=pod["metadata"]["name"], env={}, fs=shellmod.FileSystem())
            sh = shellmod.Shell(senv)
            if interactive:
                tty = bool(c.get("tty"))
                proc = MainProcess(tty=tty)
                self.main_processes[key] = proc
                code = await sh.exec(argv, MainProcessIO(proc, rec.append_output), stdin=True, tty=tty)
            else:
                code = await sh.exec(argv, _OutputIO(rec), stdin=False, tty=False)
        except asyncio.CancelledError:
            rec.finish(137)
            if proc is not None:
                proc.exit_code = 137
                proc.done.set()
                self.main_processes.pop(key, None)
            raise
        except Exception:  # a broken script must not kill the controller
            log.exception("container script failed")
            code = 1
        rec.finish(code)
        if proc is not None:
            proc.exit_code = code
            proc.done.set()
            if self.main_processes.get(key) is proc:
                del self.main_processes[key]
        self._container_exit(uid, c["name"], code, instance)

    def _container_ready(self, uid: str, cname: str, instance: int) -> None:
        pod = self._current(uid)
        if pod is None:
            return
        run = self.pods.get(uid)
        if run is None or run.containers.get(cname, ContainerRun(cname)).instance != instance:
            return
        status = copy.deepcopy(pod.get("status") or {})
        cs = next((x for x in status.get("containerStatuses") or [] if x["name"] == cname), None)
        if cs is None or "running" not in (cs.get("state") or {}):
            return
        node = self.store.try_get(self.t_node, None, pod["spec"].get("nodeName", ""))
        if node is not None and not _node_ready(node):
            return
        cs["ready"] = True
        self._update_status(self.t_pod, pod, status)
        self._refresh_phase(uid)

    def _container_exit(self, uid: str, cname: str, code: int, instance: int) -> None:
        pod = self._current(uid)
        if pod is None:
            return
        run = self.pods[uid]
        crun = run.containers.setdefault(cname, ContainerRun(cname))
        if crun.instance != instance:
            return
        status = copy.deepcopy(pod.get("status") or {})
        cs = next((x for x in status.get("containerStatuses") or [] if x["name"] == cname), None)
        if cs is None or "running" not in (cs.get("state") or {}):
            return
        now = now_str()
        term = {"containerID": cs.get("containerID", ""), "exitCode": code, "finishedAt": now,
                "reason": "Completed" if code == 0 else "Error",
                "startedAt": cs["state"]["running"].get("startedAt", now)}
        policy = pod["spec"].get("restartPolicy", "Always")
        restart = policy == "Always" or (policy == "OnFailure" and code != 0)
        cs["ready"] = False
        cs["started"] = False
        cs["state"] = {"terminated": term}
        self._update_status(self.t_pod, pod, status)
        self._refresh_phase(uid)
        if not restart:
            return
        crun.backoff = self.config.crash_backoff if crun.backoff <= 0 else min(self.config.crash_backoff_max, crun.backoff * 2)
        self._schedule(uid, 0.2, self._crash_wait, uid, cname, instance, term)

    def _crash_wait(self, uid: str, cname: str, instance: int, term: dict[str, Any]) -> None:
        pod = self._current(uid)
        if pod is None:
            return
        run = self.pods[uid]
        crun = run.containers[cname]
        if crun.instance != instance:
            return
        status = copy.deepcopy(pod.get("status") or {})
        cs = next((x for x in status.get("containerStatuses") or [] if x["name"] == cname), None)
        if cs is None:
            return
        meta = pod["metadata"]
        back = crun.backoff
        shown = f"{int(back // 60)}m{int(back % 60)}s" if back >= 60 else f"{int(back)}s"
        cs["lastState"] = {"terminated": term}
        cs["restartCount"] = int(cs.get("restartCount") or 0) + 1
        cs["state"] = {"waiting": {"reason": "CrashLoopBackOff",
                                   "message": f"back-off {shown} restarting failed container={cname} pod={meta['name']}_{meta['namespace']}({uid})"}}
        self._update_status(self.t_pod, pod, status)
        self.event(pod, "BackOff", f"Back-off restarting failed container {cname} in pod {meta['name']}_{meta['namespace']}({uid})",
                   etype="Warning", component="kubelet", host=pod["spec"].get("nodeName"), field_path=f"spec.containers{{{cname}}}")
        self._schedule(uid, back, self._restart, uid, cname, instance + 1)

    def _restart(self, uid: str, cname: str, instance: int) -> None:
        pod = self._current(uid)
        if pod is None:
            return
        status = copy.deepcopy(pod.get("status") or {})
        cs = next((x for x in status.get("containerStatuses") or [] if x["name"] == cname), None)
        c = next((x for x in pod["spec"].get("containers") or [] if x["name"] == cname), None)
        if cs is None or c is None:
            return
        self._run_state(cs, c)
        self._update_status(self.t_pod, pod, status)
        self._refresh_phase(uid)
        node = pod["spec"].get("nodeName")
        fp = f"spec.containers{{{cname}}}"
        self.event(pod, "Pulled", f'Container image "{c.get("image", "")}" already present on machine', component="kubelet",
                   host=node, field_path=fp)
        self.event(pod, "Created", f"Created container {cname}", component="kubelet", host=node, field_path=fp)
        self.event(pod, "Started", f"Started container {cname}", component="kubelet", host=node, field_path=fp)
        fresh = self._current(uid)
        if fresh is not None:
            self._launch(uid, fresh, c, instance)

    def _refresh_phase(self, uid: str) -> None:
        """Recompute phase and the Ready/ContainersReady conditions from the container statuses."""
        pod = self._current(uid)
        if pod is None:
            return
        status = copy.deepcopy(pod.get("status") or {})
        statuses = status.get("containerStatuses") or []
        if not statuses:
            return
        now = now_str()
        conds = status.setdefault("conditions", [])
        node = self.store.try_get(self.t_node, None, pod["spec"].get("nodeName", ""))
        node_ok = node is None or _node_ready(node)
        terminated = [cs for cs in statuses if "terminated" in (cs.get("state") or {})]
        policy = pod["spec"].get("restartPolicy", "Always")
        all_done = len(terminated) == len(statuses) and (
            policy == "Never" or (policy == "OnFailure" and all(cs["state"]["terminated"].get("exitCode") == 0 for cs in terminated)))
        if all_done:
            ok = all(cs["state"]["terminated"].get("exitCode") == 0 for cs in terminated)
            status["phase"] = "Succeeded" if ok else "Failed"
            reason = "PodCompleted" if ok else "PodFailed"
            _set_condition(conds, "PodReadyToStartContainers", "False", now)
            _set_condition(conds, "Ready", "False", now, reason, None)
            _set_condition(conds, "ContainersReady", "False", now, reason, None)
            _set_condition(conds, "Initialized", "True", now, reason if ok else None, None)
        else:
            any_running = any("running" in (cs.get("state") or {}) for cs in statuses)
            if any_running or any(int(cs.get("restartCount") or 0) > 0 for cs in statuses):
                status["phase"] = "Running"
            unready = [cs["name"] for cs in statuses if not cs.get("ready")]
            if not unready and node_ok:
                _set_condition(conds, "Ready", "True", now)
                _set_condition(conds, "ContainersReady", "True", now)
            else:
                msg = f"containers with unready status: [{' '.join(unready)}]" if unready else None
                _set_condition(conds, "Ready", "False", now, "ContainersNotReady" if unready else None, msg)
                _set_condition(conds, "ContainersReady", "False" if unready else "True", now,
                               "ContainersNotReady" if unready else None, msg)
        _order_conditions(conds)
        self._update_status(self.t_pod, pod, status)

    def _resume_pod(self, pod: dict[str, Any]) -> None:
        """Pick up a seeded, already running pod: crash-loopers keep crashing, ImagePullBackOff keeps retrying."""
        meta = pod["metadata"]
        uid = meta["uid"]
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        needs = False
        for cs in statuses:
            st = cs.get("state") or {}
            waiting = (st.get("waiting") or {}).get("reason")
            if waiting in ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull") or "running" in st and (meta.get("annotations") or {}).get(ANN_BEHAVIOUR) == "crashloop":
                needs = True
        if not needs or self.loop is None:
            return
        run = self.pods.setdefault(uid, PodRun(uid, meta["namespace"], meta["name"], node=pod["spec"].get("nodeName", ""), started=True))
        for i, cs in enumerate(statuses):
            st = cs.get("state") or {}
            waiting = (st.get("waiting") or {}).get("reason")
            crun = run.containers.setdefault(cs["name"], ContainerRun(cs["name"], instance=int(cs.get("restartCount") or 0)))
            if waiting == "CrashLoopBackOff":
                crun.backoff = self.config.crash_backoff
                self._schedule(uid, 0.5 + 0.3 * i + self.rng.random(), self._restart, uid, cs["name"], crun.instance)
            elif waiting in ("ImagePullBackOff", "ErrImagePull"):
                self._schedule(uid, self.config.pull_backoff * (0.5 + self.rng.random()), self._image_backoff, uid, cs["name"])
            elif "running" in st:
                c = next((x for x in pod["spec"].get("containers") or [] if x["name"] == cs["name"]), None)
                if c is not None:
                    self._launch(uid, pod, c, crun.instance)

    # ------------------------------------------------------------------ ReplicaSet
    def sync_replicaset(self, ns: str, name: str) -> None:
        """Keep ``spec.replicas`` active pods; report status."""
        rs = self.store.try_get(self.t_rs, ns, name)
        if rs is None or rs["metadata"].get("deletionTimestamp"):
            return
        pods = self._owned(rs, self.t_pod)
        active = [p for p in pods if _is_active(p)]
        want = int((rs.get("spec") or {}).get("replicas", 1) if (rs.get("spec") or {}).get("replicas") is not None else 1)
        diff = want - len(active)
        if diff > 0:
            n = min(diff, self.config.max_pods_per_sync)
            tpl = rs["spec"].get("template") or {}
            for _ in range(n):
                pod = self._new_pod(rs, "apps/v1", "ReplicaSet", tpl)
                if pod is not None:
                    self.event(rs, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}", component="replicaset-controller")
            if diff > n:
                self.mark("rs", ns, name)
            pods = self._owned(rs, self.t_pod)
            active = [p for p in pods if _is_active(p)]
        elif diff < 0:
            victims = sorted(active, key=_deletion_rank)[: min(-diff, self.config.max_pods_per_sync)]
            for p in victims:
                try:
                    self.store.delete(self.t_pod, ns, p["metadata"]["name"])
                except ApiError:
                    continue
                self.event(rs, "SuccessfulDelete", f"Deleted pod: {p['metadata']['name']}", component="replicaset-controller")
            if -diff > len(victims):
                self.mark("rs", ns, name)
            pods = self._owned(rs, self.t_pod)
            active = [p for p in pods if _is_active(p)]
        ready = sum(1 for p in active if _is_ready(p))
        status: dict[str, Any] = {"observedGeneration": rs["metadata"].get("generation", 1), "replicas": len(active)}
        if active:
            status["fullyLabeledReplicas"] = sum(1 for p in active if _labels_match(rs["spec"].get("selector"), p["metadata"].get("labels") or {}))
        if ready:
            status["readyReplicas"] = ready
            status["availableReplicas"] = ready
        self._update_status(self.t_rs, rs, status)

    # ------------------------------------------------------------------ Deployment
    def sync_deployment(self, ns: str, name: str) -> None:
        """Roll ReplicaSets towards the deployment's template; maintain revisions and status."""
        dep = self.store.try_get(self.t_deploy, ns, name)
        if dep is None or dep["metadata"].get("deletionTimestamp"):
            return
        spec = dep.get("spec") or {}
        desired = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
        template = spec.get("template") or {}
        rss = sorted(self._owned(dep, self.t_rs), key=lambda r: (r["metadata"].get("creationTimestamp", ""), r["metadata"]["name"]))
        new_rs = next((r for r in rss if _equal_ignore_hash(r["spec"].get("template") or {}, template)), None)
        max_rev = max((int((r["metadata"].get("annotations") or {}).get(REVISION, "0") or 0) for r in rss), default=0)
        paused = bool(spec.get("paused"))
        strategy = (spec.get("strategy") or {}).get("type", "RollingUpdate")
        ru = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        surge = _int_or_percent(ru.get("maxSurge", "25%"), desired, True) if strategy == "RollingUpdate" else 0
        unavailable = _int_or_percent(ru.get("maxUnavailable", "25%"), desired, False) if strategy == "RollingUpdate" else 0
        if strategy == "RollingUpdate" and surge == 0 and unavailable == 0:
            unavailable = 1
        created_new = False
        if new_rs is None and not paused:
            new_rs = self._create_rs(dep, template, max_rev + 1, desired, surge)
            created_new = new_rs is not None
            if new_rs is None:
                return
            rss.append(new_rs)
        elif new_rs is not None:
            ann = dict(new_rs["metadata"].get("annotations") or {})
            rev = int(ann.get(REVISION, "0") or 0)
            changes = False
            if rev < max_rev:
                history = [h for h in (ann.get(REVISION_HISTORY) or "").split(",") if h]
                history.append(str(rev))
                ann[REVISION_HISTORY] = ",".join(history)
                ann[REVISION] = str(max_rev + 1)
                changes = True
            cause = (dep["metadata"].get("annotations") or {}).get(CHANGE_CAUSE)
            if cause and ann.get(CHANGE_CAUSE) != cause and rev < max_rev:
                ann[CHANGE_CAUSE] = cause
                changes = True
            if ann.get(DESIRED) != str(desired) or ann.get(MAX_REPLICAS) != str(desired + surge):
                ann[DESIRED] = str(desired)
                ann[MAX_REPLICAS] = str(desired + surge)
                changes = True
            if changes:
                upd = copy.deepcopy(new_rs)
                upd["metadata"]["annotations"] = ann
                new_rs = self.store.update(self.t_rs, upd, check_rv=False)
                rss = [new_rs if r["metadata"]["uid"] == new_rs["metadata"]["uid"] else r for r in rss]
        # deployment revision annotation follows the new ReplicaSet
        if new_rs is not None:
            rev_s = (new_rs["metadata"].get("annotations") or {}).get(REVISION)
            dann = dep["metadata"].get("annotations") or {}
            if rev_s and dann.get(REVISION) != rev_s:
                upd = copy.deepcopy(dep)
                upd["metadata"].setdefault("annotations", {})[REVISION] = rev_s
                dep = self.store.update(self.t_deploy, upd, check_rv=False)
        olds = [r for r in rss if new_rs is None or r["metadata"]["uid"] != new_rs["metadata"]["uid"]]

        def replicas(r: dict[str, Any]) -> int:
            return int((r.get("spec") or {}).get("replicas") or 0)

        def available(r: dict[str, Any]) -> int:
            return int((r.get("status") or {}).get("availableReplicas") or 0)

        if not paused and new_rs is not None:
            if strategy == "Recreate":
                old_active = sum(replicas(r) for r in olds) + sum(int((r.get("status") or {}).get("replicas") or 0) for r in olds)
                for r in olds:
                    if replicas(r):
                        self._scale_rs(dep, r, 0)
                if old_active == 0 and replicas(new_rs) != desired:
                    self._scale_rs(dep, new_rs, desired)
            elif not any(replicas(r) for r in olds):
                if replicas(new_rs) != desired:
                    self._scale_rs(dep, new_rs, desired)
            else:
                # scale up the new ReplicaSet within maxSurge
                if replicas(new_rs) > desired:
                    self._scale_rs(dep, new_rs, desired)
                elif replicas(new_rs) < desired:
                    total = sum(replicas(r) for r in rss)
                    up = min(desired + surge - total, desired - replicas(new_rs))
                    if up > 0:
                        self._scale_rs(dep, new_rs, replicas(new_rs) + up)
                        new_rs = self.store.try_get(self.t_rs, ns, new_rs["metadata"]["name"]) or new_rs
                # scale down old ReplicaSets within maxUnavailable
                all_pods = sum(replicas(r) for r in olds) + replicas(new_rs)
                min_available = desired - unavailable
                new_unavailable = replicas(new_rs) - available(new_rs)
                max_down = all_pods - min_available - new_unavailable
                if max_down > 0:
                    cleaned = 0
                    for r in olds:
                        unhealthy = replicas(r) - available(r)
                        if unhealthy <= 0 or cleaned >= max_down:
                            continue
                        k = min(max_down - cleaned, unhealthy)
                        self._scale_rs(dep, r, replicas(r) - k)
                        cleaned += k
                    olds = [self.store.try_get(self.t_rs, ns, r["metadata"]["name"]) or r for r in olds]
                    all_available = sum(available(r) for r in olds) + available(new_rs)
                    down = min(all_available - min_available, max_down - cleaned)
                    for r in olds:
                        if down <= 0:
                            break
                        if replicas(r) <= 0:
                            continue
                        k = min(replicas(r), down)
                        self._scale_rs(dep, r, replicas(r) - k)
                        down -= k
        # history limit
        limit = spec.get("revisionHistoryLimit", 10)
        fresh_olds = [self.store.try_get(self.t_rs, ns, r["metadata"]["name"]) for r in olds]
        idle = [r for r in fresh_olds if r is not None and replicas(r) == 0 and not int((r.get("status") or {}).get("replicas") or 0)]
        if limit is not None and len(idle) > int(limit):
            idle.sort(key=lambda r: int((r["metadata"].get("annotations") or {}).get(REVISION, "0") or 0))
            for r in idle[: len(idle) - int(limit)]:
                try:
                    self.store.delete(self.t_rs, ns, r["metadata"]["name"])
                except ApiError:
                    pass
        self._deployment_status(dep, new_rs, desired, unavailable, created_new)

    def _create_rs(self, dep: dict[str, Any], template: dict[str, Any], revision: int, desired: int, surge: int) -> dict[str, Any] | None:
        ns = dep["metadata"]["namespace"]
        collision = int((dep.get("status") or {}).get("collisionCount") or 0)
        for _ in range(5):
            h = pod_template_hash(template, collision)
            name = f"{dep['metadata']['name']}-{h}"
            tpl = copy.deepcopy(template)
            tpl.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = h
            selector = copy.deepcopy((dep.get("spec") or {}).get("selector") or {})
            selector.setdefault("matchLabels", {})["pod-template-hash"] = h
            ann = {DESIRED: str(desired), MAX_REPLICAS: str(desired + surge), REVISION: str(revision)}
            cause = (dep["metadata"].get("annotations") or {}).get(CHANGE_CAUSE)
            if cause:
                ann[CHANGE_CAUSE] = cause
            rs = {
                "metadata": {"name": name, "namespace": ns, "labels": dict(tpl["metadata"]["labels"]), "annotations": ann,
                             "ownerReferences": [self._owner_ref(dep, "apps/v1", "Deployment")]},
                "spec": {"replicas": 0, "minReadySeconds": (dep.get("spec") or {}).get("minReadySeconds", 0),
                         "selector": selector, "template": tpl},
            }
            try:
                created = self.store.create(self.t_rs, rs)
            except ApiError as exc:
                if exc.code == 409:
                    existing = self.store.try_get(self.t_rs, ns, name)
                    if existing is not None and _equal_ignore_hash(existing["spec"].get("template") or {}, template):
                        return existing
                    collision += 1
                    continue
                raise
            if collision:
                self._update_status(self.t_deploy, dep, {**(dep.get("status") or {}), "collisionCount": collision})
            return created
        return None

    def _scale_rs(self, dep: dict[str, Any], rs: dict[str, Any], to: int) -> None:
        cur = self.store.try_get(self.t_rs, rs["metadata"]["namespace"], rs["metadata"]["name"])
        if cur is None:
            return
        frm = int((cur.get("spec") or {}).get("replicas") or 0)
        if frm == to:
            return
        upd = copy.deepcopy(cur)
        upd["spec"]["replicas"] = to
        desired = int((dep.get("spec") or {}).get("replicas", 1) if (dep.get("spec") or {}).get("replicas") is not None else 1)
        upd["metadata"].setdefault("annotations", {})[DESIRED] = str(desired)
        self.store.update(self.t_rs, upd, check_rv=False)
        word = "up" if to > frm else "down"
        self.event(dep, "ScalingReplicaSet", f"Scaled {word} replica set {cur['metadata']['name']} from {frm} to {to}",
                   component="deployment-controller")

    def _deployment_status(self, dep: dict[str, Any], new_rs: dict[str, Any] | None, desired: int, max_unavailable: int,
                           created_new: bool) -> None:
        dep = self.store.try_get(self.t_deploy, dep["metadata"]["namespace"], dep["metadata"]["name"]) or dep
        rss = self._owned(dep, self.t_rs)
        replicas = sum(int((r.get("status") or {}).get("replicas") or 0) for r in rss)
        ready = sum(int((r.get("status") or {}).get("readyReplicas") or 0) for r in rss)
        avail = sum(int((r.get("status") or {}).get("availableReplicas") or 0) for r in rss)
        new_cur = None
        if new_rs is not None:
            new_cur = next((r for r in rss if r["metadata"]["uid"] == new_rs["metadata"]["uid"]), None)
        updated = int(((new_cur or {}).get("status") or {}).get("replicas") or 0)
        old = copy.deepcopy(dep.get("status") or {})
        status: dict[str, Any] = {"observedGeneration": dep["metadata"].get("generation", 1), "replicas": replicas,
                                  "updatedReplicas": updated}
        if ready:
            status["readyReplicas"] = ready
        if avail:
            status["availableReplicas"] = avail
        unavail = max(0, desired - avail)
        if unavail:
            status["unavailableReplicas"] = unavail
        if old.get("collisionCount"):
            status["collisionCount"] = old["collisionCount"]
        conds = copy.deepcopy(old.get("conditions") or [])
        now = now_str()
        if avail >= desired - max_unavailable:
            _set_condition(conds, "Available", "True", now, "MinimumReplicasAvailable", "Deployment has minimum availability.",
                           probe=False, update_time=True)
        else:
            _set_condition(conds, "Available", "False", now, "MinimumReplicasUnavailable",
                           "Deployment does not have minimum availability.", probe=False, update_time=True)
        rs_name = (new_cur or new_rs or {}).get("metadata", {}).get("name", "")
        if (dep.get("spec") or {}).get("paused"):
            _set_condition(conds, "Progressing", "Unknown", now, "DeploymentPaused", "Deployment is paused", probe=False, update_time=True)
        elif new_cur is not None and updated == desired and replicas == desired and avail >= desired and \
                int((new_cur.get("spec") or {}).get("replicas") or 0) == desired:
            _set_condition(conds, "Progressing", "True", now, "NewReplicaSetAvailable",
                           f'ReplicaSet "{rs_name}" has successfully progressed.', probe=False, update_time=True)
        elif created_new:
            _set_condition(conds, "Progressing", "True", now, "NewReplicaSetCreated", f'Created new replica set "{rs_name}"',
                           probe=False, update_time=True)
        elif rs_name:
            _set_condition(conds, "Progressing", "True", now, "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.',
                           probe=False, update_time=True)
        conds.sort(key=lambda c: 0 if c["type"] == "Available" else 1)
        for c in conds:
            c.pop("lastProbeTime", None)
        status["conditions"] = conds
        self._update_status(self.t_deploy, dep, status)

    # ------------------------------------------------------------------ StatefulSet
    def _ensure_revision(self, owner: dict[str, Any], kind: str, tpl: dict[str, Any], rev_name: str, labels: dict[str, str]) -> None:
        ns = owner["metadata"]["namespace"]
        if self.store.try_get(self.t_cr, ns, rev_name) is not None:
            return
        existing = [r for r in self._owned(owner, self.t_cr)]
        number = max((int(r.get("revision") or 0) for r in existing), default=0) + 1
        cr = {
            "metadata": {"name": rev_name, "namespace": ns, "labels": {**labels, "controller.kubernetes.io/hash": rev_name.rsplit("-", 1)[-1]},
                         "ownerReferences": [self._owner_ref(owner, "apps/v1", kind)]},
            "data": {"spec": {"template": {"$patch": "replace", **copy.deepcopy(tpl)}}},
            "revision": number,
        }
        try:
            self.store.create(self.t_cr, cr)
        except ApiError:
            pass

    def sync_statefulset(self, ns: str, name: str) -> None:
        """Ordinal pods ``name-0..N-1`` with PVCs; rolling update from the highest ordinal."""
        sts = self.store.try_get(self.t_sts, ns, name)
        if sts is None or sts["metadata"].get("deletionTimestamp"):
            return
        spec = sts.get("spec") or {}
        want = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
        tpl = spec.get("template") or {}
        rev = f"{name}-{revision_hash(tpl)}"
        self._ensure_revision(sts, "StatefulSet", tpl, rev, dict((spec.get("selector") or {}).get("matchLabels") or {}))
        parallel = spec.get("podManagementPolicy") == "Parallel"
        pods = {p["metadata"]["name"]: p for p in self._owned(sts, self.t_pod)}
        # pods that finished (should not happen for sts) are replaced
        for pname, p in list(pods.items()):
            if _is_terminal(p):
                try:
                    self.store.delete(self.t_pod, ns, pname)
                except ApiError:
                    pass
                del pods[pname]
        created_any = False
        for i in range(want):
            pname = f"{name}-{i}"
            if pname in pods:
                if not parallel and not _is_ready(pods[pname]):
                    break
                continue
            if not parallel and any(not _is_ready(pods.get(f"{name}-{j}", {})) for j in range(i)):
                break
            self._ensure_pvcs(sts, pname)
            pod = self._new_pod(sts, "apps/v1", "StatefulSet", tpl, name=pname,
                                extra_labels={"apps.kubernetes.io/pod-index": str(i), "controller-revision-hash": rev,
                                              "statefulset.kubernetes.io/pod-name": pname},
                                mutate=functools.partial(self._sts_pod_volumes, sts, pname=pname))
            if pod is not None:
                created_any = True
                pods[pname] = pod
                self.event(sts, "SuccessfulCreate", f"create Pod {pname} in StatefulSet {name} successful", component="statefulset-controller")
            if not parallel:
                break
        # scale down: highest ordinal first
        extra = sorted((p for n, p in pods.items() if _ordinal(n, name) >= want), key=lambda p: -_ordinal(p["metadata"]["name"], name))
        for p in extra[: (len(extra) if parallel else 1)]:
            try:
                self.store.delete(self.t_pod, ns, p["metadata"]["name"])
                self.event(sts, "SuccessfulDelete", f"delete Pod {p['metadata']['name']} in StatefulSet {name} successful",
                           component="statefulset-controller")
            except ApiError:
                pass
            pods.pop(p["metadata"]["name"], None)
        # rolling update: replace the highest outdated pod once everything is ready
        strategy = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate")
        partition = int(((spec.get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition") or 0)
        current = [p for n, p in pods.items() if _ordinal(n, name) < want]
        if strategy == "RollingUpdate" and not created_any and all(_is_ready(p) for p in current) and len(current) == want:
            outdated = [p for p in current if (p["metadata"].get("labels") or {}).get("controller-revision-hash") != rev
                        and _ordinal(p["metadata"]["name"], name) >= partition]
            if outdated:
                victim = max(outdated, key=lambda p: _ordinal(p["metadata"]["name"], name))
                try:
                    self.store.delete(self.t_pod, ns, victim["metadata"]["name"])
                    self.event(sts, "SuccessfulDelete", f"delete Pod {victim['metadata']['name']} in StatefulSet {name} successful",
                               component="statefulset-controller")
                except ApiError:
                    pass
                pods.pop(victim["metadata"]["name"], None)
                self.mark("sts", ns, name)
        live = [p for p in pods.values() if _is_active(p)]
        ready = sum(1 for p in live if _is_ready(p))
        updated = sum(1 for p in live if (p["metadata"].get("labels") or {}).get("controller-revision-hash") == rev)
        old_status = sts.get("status") or {}
        current_rev = old_status.get("currentRevision") or rev
        if updated == len(live) == want:
            current_rev = rev
        status = {
            "availableReplicas": ready,
            "collisionCount": int(old_status.get("collisionCount") or 0),
            "currentReplicas": len(live) - updated if current_rev != rev else len(live),
            "currentRevision": current_rev,
            "observedGeneration": sts["metadata"].get("generation", 1),
            "readyReplicas": ready,
            "replicas": len(live),
            "updateRevision": rev,
            "updatedReplicas": updated,
        }
        if not ready:
            status.pop("readyReplicas")
        self._update_status(self.t_sts, sts, status)

    def _sts_pod_volumes(self, sts: dict[str, Any], pod: dict[str, Any], *, pname: str) -> None:
        spec = pod["spec"]
        vols = spec.setdefault("volumes", [])
        for vct in (sts.get("spec") or {}).get("volumeClaimTemplates") or []:
            vname = (vct.get("metadata") or {}).get("name", "data")
            vols[:] = [v for v in vols if v.get("name") != vname]
            vols.insert(0, {"name": vname, "persistentVolumeClaim": {"claimName": f"{vname}-{pname}"}})
        spec["hostname"] = pname
        svc = (sts.get("spec") or {}).get("serviceName")
        if svc:
            spec["subdomain"] = svc

    def _ensure_pvcs(self, sts: dict[str, Any], pname: str) -> None:
        ns = sts["metadata"]["namespace"]
        for vct in (sts.get("spec") or {}).get("volumeClaimTemplates") or []:
            vname = (vct.get("metadata") or {}).get("name", "data")
            claim = f"{vname}-{pname}"
            if self.store.try_get(self.t_pvc, ns, claim) is not None:
                continue
            vspec = copy.deepcopy(vct.get("spec") or {})
            sc = vspec.get("storageClassName")
            if not sc:
                sc = next((c["metadata"]["name"] for c in self.store.iter_objects(self.store.type_for("storage.k8s.io", "v1", "storageclasses"))
                           if (c["metadata"].get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class") == "true"), None)
                if sc:
                    vspec["storageClassName"] = sc
            pv_name = f"pvc-{self.rng.getrandbits(128):032x}"
            pv_name = f"pvc-{pv_name[4:12]}-{pv_name[12:16]}-{pv_name[16:20]}-{pv_name[20:24]}-{pv_name[24:36]}"
            vspec["volumeName"] = pv_name
            vspec.setdefault("volumeMode", "Filesystem")
            size = ((vspec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
            pvc = {"metadata": {"name": claim, "namespace": ns, "labels": dict(((sts.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}),
                                "annotations": {"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes"},
                                "finalizers": ["kubernetes.io/pvc-protection"]},
                   "spec": vspec,
                   "status": {"accessModes": vspec.get("accessModes") or ["ReadWriteOnce"], "capacity": {"storage": size}, "phase": "Bound"}}
            try:
                created = self.store.create(self.t_pvc, pvc)
                self.store.create(self.t_pv, {
                    "metadata": {"name": pv_name, "annotations": {"pv.kubernetes.io/provisioned-by": "rancher.io/local-path"},
                                 "finalizers": ["kubernetes.io/pv-protection"]},
                    "spec": {"accessModes": vspec.get("accessModes") or ["ReadWriteOnce"], "capacity": {"storage": size},
                             "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": claim, "namespace": ns,
                                          "uid": created["metadata"]["uid"]},
                             "hostPath": {"path": f"/var/lib/rancher/k3s/storage/{pv_name}_{ns}_{claim}", "type": "DirectoryOrCreate"},
                             "persistentVolumeReclaimPolicy": "Delete", "storageClassName": sc or "", "volumeMode": "Filesystem"},
                    "status": {"phase": "Bound"},
                })
            except ApiError:
                pass

    # ------------------------------------------------------------------ DaemonSet
    def sync_daemonset(self, ns: str, name: str) -> None:
        """One pod per Ready node whose taints the template tolerates; rolling update one node at a time."""
        ds = self.store.try_get(self.t_ds, ns, name)
        if ds is None or ds["metadata"].get("deletionTimestamp"):
            return
        spec = ds.get("spec") or {}
        tpl = spec.get("template") or {}
        rev = revision_hash(tpl)
        self._ensure_revision(ds, "DaemonSet", tpl, f"{name}-{rev}", dict((spec.get("selector") or {}).get("matchLabels") or {}))
        gen = str(ds["metadata"].get("generation", 1))
        tols = ((tpl.get("spec") or {}).get("tolerations") or []) + [
            {"effect": "NoSchedule", "key": "node.kubernetes.io/unschedulable", "operator": "Exists"},
            {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists"},
            {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists"},
        ]
        nodes = {n["metadata"]["name"]: n for n in self.store.iter_objects(self.t_node)}
        eligible = []
        for nname, node in nodes.items():
            if not _node_ready(node):
                continue
            taints = [t for t in (node.get("spec") or {}).get("taints") or [] if t.get("effect") in ("NoSchedule", "NoExecute")]
            if any(not _tolerates(tols, t) for t in taints):
                continue
            sel = (tpl.get("spec") or {}).get("nodeSelector") or {}
            if any((node["metadata"].get("labels") or {}).get(k) != v for k, v in sel.items()):
                continue
            eligible.append(nname)
        pods = [p for p in self._owned(ds, self.t_pod) if _is_active(p)]
        by_node: dict[str, list[dict[str, Any]]] = {}
        for p in pods:
            by_node.setdefault((p.get("spec") or {}).get("nodeName") or "", []).append(p)
        for nname in eligible:
            if by_node.get(nname):
                continue

            def pin(p: dict[str, Any], nn: str = nname) -> None:
                p["spec"]["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [nn]}]}]}}}
                p["spec"]["tolerations"] = list(tols) + [t for t in p["spec"].get("tolerations") or [] if t not in tols]

            pod = self._new_pod(ds, "apps/v1", "DaemonSet", tpl, extra_labels={"controller-revision-hash": rev, "pod-template-generation": gen},
                                node=nname, mutate=pin)
            if pod is not None:
                by_node.setdefault(nname, []).append(pod)
                self.event(ds, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}", component="daemonset-controller")
        # pods on nodes that no longer exist
        for nname, plist in list(by_node.items()):
            if nname and nname not in nodes:
                for p in plist:
                    try:
                        self.store.delete(self.t_pod, ns, p["metadata"]["name"])
                        self.event(ds, "SuccessfulDelete", f"Deleted pod: {p['metadata']['name']}", component="daemonset-controller")
                    except ApiError:
                        pass
                del by_node[nname]
        live = [p for plist in by_node.values() for p in plist]
        # rolling update: one outdated pod at a time when all are ready
        outdated = [p for p in live if (p["metadata"].get("labels") or {}).get("controller-revision-hash") != rev]
        if outdated and all(_is_ready(p) for p in live) and (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate":
            victim = outdated[0]
            try:
                self.store.delete(self.t_pod, ns, victim["metadata"]["name"])
                self.event(ds, "SuccessfulDelete", f"Deleted pod: {victim['metadata']['name']}", component="daemonset-controller")
                live.remove(victim)
                self.mark("ds", ns, name)
            except ApiError:
                pass
        ready = sum(1 for p in live if _is_ready(p))
        updated = sum(1 for p in live if (p["metadata"].get("labels") or {}).get("controller-revision-hash") == rev)
        status: dict[str, Any] = {
            "currentNumberScheduled": len(live),
            "desiredNumberScheduled": len(eligible),
            "numberAvailable": ready,
            "numberMisscheduled": sum(1 for n in by_node if n not in eligible and n in nodes and by_node[n] and _node_ready(nodes[n])),
            "numberReady": ready,
            "observedGeneration": ds["metadata"].get("generation", 1),
            "updatedNumberScheduled": updated,
        }
        if len(eligible) - ready > 0:
            status["numberUnavailable"] = len(eligible) - ready
        if not ready:
            status.pop("numberAvailable")
        self._update_status(self.t_ds, ds, status)

    # ------------------------------------------------------------------ Job
    def sync_job(self, ns: str, name: str) -> None:
        """Run pods until ``completions`` succeed (or ``backoffLimit`` failures); conditions and TTL."""
        job = self.store.try_get(self.t_job, ns, name)
        if job is None or job["metadata"].get("deletionTimestamp"):
            return
        uid = job["metadata"]["uid"]
        spec = job.get("spec") or {}
        tlabels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if (not spec.get("selector") or "batch.kubernetes.io/controller-uid" not in tlabels) and not spec.get("manualSelector"):
            upd = copy.deepcopy(job)
            s = upd.setdefault("spec", {})
            s.setdefault("selector", {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
            tl = s.setdefault("template", {}).setdefault("metadata", {}).setdefault("labels", {})
            for k, v in (("batch.kubernetes.io/controller-uid", uid), ("batch.kubernetes.io/job-name", name),
                         ("controller-uid", uid), ("job-name", name)):
                tl.setdefault(k, v)
            ml = upd["metadata"].setdefault("labels", {})
            ml.setdefault("batch.kubernetes.io/controller-uid", uid)
            ml.setdefault("batch.kubernetes.io/job-name", name)
            ml.setdefault("controller-uid", uid)
            ml.setdefault("job-name", name)
            s.setdefault("backoffLimit", 6)
            s.setdefault("completionMode", "NonIndexed")
            s.setdefault("suspend", False)
            s.setdefault("parallelism", 1)
            if "completions" not in s:
                s["completions"] = 1
            s.setdefault("podReplacementPolicy", "TerminatingOrFailed")
            s.setdefault("manualSelector", False)
            job = self.store.update(self.t_job, upd, check_rv=False)
            spec = job["spec"]
        status = copy.deepcopy(job.get("status") or {})
        conds = status.get("conditions") or []
        finished = any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True" for c in conds)
        now = now_str()
        if finished:
            ttl = spec.get("ttlSecondsAfterFinished")
            if ttl is not None:
                done_at = parse_rfc3339(status.get("completionTime")) or parse_rfc3339(
                    next((c.get("lastTransitionTime") for c in conds if c.get("type") in ("Complete", "Failed")), None)) or time.time()
                wait = done_at + float(ttl) - time.time()
                if wait <= 0:
                    try:
                        self.store.delete(self.t_job, ns, name, propagation="Background")
                    except ApiError:
                        pass
                elif self.loop is not None:
                    self.loop.call_later(wait + 0.05, self.mark, "job", ns, name)
            return
        pods = self._owned(job, self.t_pod)
        succeeded = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Succeeded")
        failed = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Failed")
        restarts = sum(int(cs.get("restartCount") or 0) for p in pods for cs in (p.get("status") or {}).get("containerStatuses") or [])
        active = [p for p in pods if _is_active(p)]
        completions = spec.get("completions")
        parallelism = int(spec.get("parallelism", 1) if spec.get("parallelism") is not None else 1)
        backoff_limit = int(spec.get("backoffLimit", 6) if spec.get("backoffLimit") is not None else 6)
        status.setdefault("startTime", now)
        target = int(completions) if completions is not None else 1
        indexed = spec.get("completionMode") == "Indexed"
        if succeeded >= target or (completions is None and succeeded > 0 and not active):
            _set_condition(conds, "SuccessCriteriaMet", "True", now, "CompletionsReached", "Reached expected number of succeeded pods")
            _set_condition(conds, "Complete", "True", now, "CompletionsReached", "Reached expected number of succeeded pods")
            for c in conds:
                c["lastProbeTime"] = now
            status["conditions"] = conds
            status["completionTime"] = now
            for p in active:
                try:
                    self.store.delete(self.t_pod, ns, p["metadata"]["name"])
                except ApiError:
                    pass
            active = []
            self.event(job, "Completed", "Job completed", component="job-controller")
        elif failed + restarts > backoff_limit:
            _set_condition(conds, "FailureTarget", "True", now, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
            _set_condition(conds, "Failed", "True", now, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
            status["conditions"] = conds
            for p in active:
                try:
                    self.store.delete(self.t_pod, ns, p["metadata"]["name"])
                except ApiError:
                    pass
            active = []
            self.event(job, "BackoffLimitExceeded", "Job has reached the specified backoff limit", etype="Warning", component="job-controller")
        elif spec.get("suspend"):
            _set_condition(conds, "Suspended", "True", now, "JobSuspended", "Job suspended")
            status["conditions"] = conds
            for p in active:
                try:
                    self.store.delete(self.t_pod, ns, p["metadata"]["name"])
                except ApiError:
                    pass
            active = []
        else:
            want = min(parallelism, target - succeeded) - len(active)
            done_idx = {int((p["metadata"].get("annotations") or {}).get("batch.kubernetes.io/job-completion-index", "-1"))
                        for p in pods if (p.get("status") or {}).get("phase") == "Succeeded" or _is_active(p)}
            next_idx = 0
            for _ in range(max(0, min(want, self.config.max_pods_per_sync))):
                ann: dict[str, str] = {}
                labels: dict[str, str] = {}
                if indexed:
                    while next_idx in done_idx:
                        next_idx += 1
                    if next_idx >= target:
                        break
                    ann["batch.kubernetes.io/job-completion-index"] = str(next_idx)
                    labels["batch.kubernetes.io/job-completion-index"] = str(next_idx)
                    done_idx.add(next_idx)
                tpl = spec.get("template") or {}
                pod = self._new_pod(job, "batch/v1", "Job", tpl, extra_annotations=ann, extra_labels=labels)
                if pod is not None:
                    active.append(pod)
                    self.event(job, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}", component="job-controller")
        status["active"] = len(active)
        status["ready"] = sum(1 for p in active if _is_ready(p))
        status["terminating"] = 0
        status["uncountedTerminatedPods"] = {}
        if succeeded:
            status["succeeded"] = succeeded
        if failed:
            status["failed"] = failed
        if not status["active"]:
            status.pop("active")
        if indexed and succeeded:
            idx = sorted(int((p["metadata"].get("annotations") or {}).get("batch.kubernetes.io/job-completion-index", "0"))
                         for p in pods if (p.get("status") or {}).get("phase") == "Succeeded")
            status["completedIndexes"] = _ranges(idx)
        self._update_status(self.t_job, job, status)
        ref = _controller_ref(job)
        if ref and ref.get("kind") == "CronJob":
            self.mark("cj", ns, ref["name"])

    # ------------------------------------------------------------------ node heartbeats
    async def _heartbeat_loop(self) -> None:
        """Ready nodes renew their Lease and post node status periodically, like kubelets do."""
        lease_t = self.store.find_type("coordination.k8s.io", "v1", "leases")
        last_status = time.monotonic()
        while not self._closing:
            await asyncio.sleep(self.config.lease_interval)
            try:
                now = time.time()
                for node in list(self.store.iter_objects(self.t_node)):
                    if not _node_ready(node):
                        continue
                    name = node["metadata"]["name"]
                    lease = self.store.try_get(lease_t, "kube-node-lease", name) if lease_t is not None else None
                    if lease is not None and lease_t is not None:
                        upd = copy.deepcopy(lease)
                        upd.setdefault("spec", {})["renewTime"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + \
                            f".{int(now % 1 * 1e6):06d}Z"
                        self.store.update(lease_t, upd, check_rv=False)
                if time.monotonic() - last_status >= self.config.node_status_interval:
                    last_status = time.monotonic()
                    stamp = now_str()
                    for node in list(self.store.iter_objects(self.t_node)):
                        if not _node_ready(node):
                            continue
                        status = copy.deepcopy(node.get("status") or {})
                        for c in status.get("conditions") or []:
                            c["lastHeartbeatTime"] = stamp
                        self._update_status(self.t_node, node, status)
            except ApiError:
                pass
            except Exception:
                log.exception("node heartbeat failed")

    # ------------------------------------------------------------------ CronJob
    async def _cron_loop(self) -> None:
        while not self._closing:
            await asyncio.sleep(self.config.cron_tick)
            try:
                self._cron_tick()
            except Exception:
                log.exception("cron tick failed")

    def _cron_tick(self) -> None:
        now = self.cron_now()
        for cj in list(self.store.iter_objects(self.t_cj)):
            spec = cj.get("spec") or {}
            if spec.get("suspend") or cj["metadata"].get("deletionTimestamp"):
                continue
            try:
                sched = CronSchedule.parse(spec.get("schedule", ""))
            except CronError:
                continue
            uid = cj["metadata"]["uid"]
            base = self._cron_base.get(uid)
            if base is None:
                base = parse_rfc3339(cj["metadata"].get("creationTimestamp")) or now
                self._cron_base[uid] = base
            last = sched.last_at_or_before(now, base)
            if last is None:
                continue
            self._cron_base[uid] = last
            self._fire_cronjob(cj["metadata"]["namespace"], cj["metadata"]["name"], last)

    def _fire_cronjob(self, ns: str, name: str, when: float, manual: bool = False) -> str:
        cj = self.store.get(self.t_cj, ns, name)
        spec = cj.get("spec") or {}
        jobs = self._owned(cj, self.t_job)
        active = [j for j in jobs if not any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
                                             for c in (j.get("status") or {}).get("conditions") or [])]
        policy = spec.get("concurrencyPolicy", "Allow")
        if active and policy == "Forbid" and not manual:
            self.event(cj, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid",
                       component="cronjob-controller")
            return ""
        if active and policy == "Replace" and not manual:
            for j in active:
                try:
                    self.store.delete(self.t_job, ns, j["metadata"]["name"], propagation="Background")
                    self.event(cj, "SuccessfulDelete", f"Deleted job {j['metadata']['name']}", component="cronjob-controller")
                except ApiError:
                    pass
        jt = copy.deepcopy(spec.get("jobTemplate") or {})
        jname = f"{name}-{int(when // 60)}" if not manual else f"{name}-manual-{self._suffix()}"
        meta = jt.get("metadata") or {}
        job = {
            "metadata": {"name": jname, "namespace": ns, "labels": dict(meta.get("labels") or {}),
                         "annotations": {**(meta.get("annotations") or {}), "batch.kubernetes.io/cronjob-scheduled-timestamp": rfc3339(when)},
                         "ownerReferences": [self._owner_ref(cj, "batch/v1", "CronJob")]},
            "spec": jt.get("spec") or {},
        }
        if manual:
            job["metadata"]["annotations"] = {"cronjob.kubernetes.io/instantiate": "manual"}
        try:
            created = self.store.create(self.t_job, job)
        except ApiError as exc:
            if exc.code == 409:
                return jname
            raise
        self.event(cj, "SuccessfulCreate", f"Created job {jname}", component="cronjob-controller")
        if not manual:
            st = copy.deepcopy(cj.get("status") or {})
            # with an accelerated cron clock the scheduled time may lie in the future: never report that
            st["lastScheduleTime"] = rfc3339(min(when, time.time()))
            self._update_status(self.t_cj, cj, st)
        self.mark("cj", ns, name)
        return str(created["metadata"]["name"])

    def sync_cronjob_status(self, ns: str, name: str) -> None:
        """Active job references, lastSuccessfulTime, and history limits."""
        cj = self.store.try_get(self.t_cj, ns, name)
        if cj is None:
            return
        spec = cj.get("spec") or {}
        jobs = sorted(self._owned(cj, self.t_job), key=lambda j: j["metadata"].get("creationTimestamp", ""))
        active, succeeded, failed = [], [], []
        for j in jobs:
            conds = (j.get("status") or {}).get("conditions") or []
            if any(c.get("type") == "Complete" and c.get("status") == "True" for c in conds):
                succeeded.append(j)
            elif any(c.get("type") == "Failed" and c.get("status") == "True" for c in conds):
                failed.append(j)
            else:
                active.append(j)
        status = copy.deepcopy(cj.get("status") or {})
        refs = [{"apiVersion": "batch/v1", "kind": "Job", "name": j["metadata"]["name"], "namespace": ns,
                 "resourceVersion": j["metadata"].get("resourceVersion", ""), "uid": j["metadata"]["uid"]} for j in active]
        if refs:
            status["active"] = refs
        else:
            status.pop("active", None)
        if succeeded:
            last = max((j.get("status") or {}).get("completionTime") or "" for j in succeeded)
            if last and last != status.get("lastSuccessfulTime"):
                status["lastSuccessfulTime"] = last
                newest = max(succeeded, key=lambda j: (j.get("status") or {}).get("completionTime") or "")
                self.event(cj, "SawCompletedJob", f"Saw completed job: {newest['metadata']['name']}, status: Complete",
                           component="cronjob-controller")
        self._update_status(self.t_cj, cj, status)
        for group, limit in ((succeeded, spec.get("successfulJobsHistoryLimit", 3)), (failed, spec.get("failedJobsHistoryLimit", 1))):
            if limit is None:
                continue
            extra = len(group) - int(limit)
            for j in group[: max(0, extra)]:
                try:
                    self.store.delete(self.t_job, ns, j["metadata"]["name"], propagation="Background")
                    self.event(cj, "SuccessfulDelete", f"Deleted job {j['metadata']['name']}", component="cronjob-controller")
                except ApiError:
                    pass

    # ------------------------------------------------------------------ Service -> Endpoints
    def _index_service(self, svc: dict[str, Any]) -> None:
        ns = svc["metadata"]["namespace"]
        sel = dict((svc.get("spec") or {}).get("selector") or {})
        old = (self._svc_selectors.get(ns) or {}).get(svc["metadata"]["name"])
        self._svc_selectors.setdefault(ns, {})[svc["metadata"]["name"]] = sel
        if old != sel:
            self._svc_members.pop((ns, svc["metadata"]["name"]), None)

    def _unindex_service(self, svc: dict[str, Any]) -> None:
        ns = svc["metadata"]["namespace"]
        (self._svc_selectors.get(ns) or {}).pop(svc["metadata"]["name"], None)
        self._svc_members.pop((ns, svc["metadata"]["name"]), None)

    def sync_service(self, ns: str, name: str) -> None:
        """Endpoints (and an EndpointSlice) listing the ready and not-ready pods the selector picks."""
        svc = self.store.try_get(self.t_svc, ns, name)
        if svc is None:
            for rtype, ename in ((self.t_ep, name), (self.t_slice, None)):
                if rtype is None:
                    continue
                if ename is not None:
                    try:
                        self.store.delete(rtype, ns, ename)
                    except ApiError:
                        pass
                else:
                    for sl in list(self.store.iter_objects(rtype, ns)):
                        if (sl["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == name:
                            try:
                                self.store.delete(rtype, ns, sl["metadata"]["name"])
                            except ApiError:
                                pass
            return
        sel = (svc.get("spec") or {}).get("selector") or {}
        if not sel or (svc.get("spec") or {}).get("type") == "ExternalName":
            return
        members = self._svc_members.get((ns, name))
        if members is None:
            members = set()
            for pod in self.store.iter_objects(self.t_pod, ns):
                labels = pod["metadata"].get("labels") or {}
                if all(labels.get(k) == v for k, v in sel.items()):
                    members.add(pod["metadata"]["name"])
            self._svc_members[(ns, name)] = members
        ready: list[dict[str, Any]] = []
        not_ready: list[dict[str, Any]] = []
        sample: dict[str, Any] | None = None
        for pname in sorted(members):
            mpod = self.store.try_get(self.t_pod, ns, pname)
            if mpod is None or not _is_active(mpod):
                continue
            ip = (mpod.get("status") or {}).get("podIP")
            if not ip:
                continue
            sample = sample or mpod
            addr: dict[str, Any] = {"ip": ip, "targetRef": {"kind": "Pod", "name": pname, "namespace": ns, "uid": mpod["metadata"]["uid"]}}
            if (mpod.get("spec") or {}).get("nodeName"):
                addr["nodeName"] = mpod["spec"]["nodeName"]
            (ready if _is_ready(mpod) else not_ready).append(addr)
            if len(ready) + len(not_ready) >= 1000:
                break
        ports = []
        for p in (svc.get("spec") or {}).get("ports") or []:
            entry = {"port": _resolve_target(p, sample), "protocol": p.get("protocol", "TCP")}
            if p.get("name"):
                entry = {"name": p["name"], **entry}
            ports.append(entry)
        subset: dict[str, Any] = {}
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        subsets = [{**subset, "ports": ports}] if subset else []
        ep = self.store.try_get(self.t_ep, ns, name)
        labels = dict(svc["metadata"].get("labels") or {})
        if ep is None:
            body: dict[str, Any] = {"metadata": {"name": name, "namespace": ns, "labels": labels}}
            if subsets:
                body["subsets"] = subsets
            try:
                self.store.create(self.t_ep, body)
            except ApiError:
                pass
        elif (ep.get("subsets") or []) != subsets:
            upd = copy.deepcopy(ep)
            if subsets:
                upd["subsets"] = subsets
            else:
                upd.pop("subsets", None)
            self.store.update(self.t_ep, upd, check_rv=False)
        self._sync_slice(svc, ready, not_ready, ports)

    def _sync_slice(self, svc: dict[str, Any], ready: list[dict[str, Any]], not_ready: list[dict[str, Any]],
                    ports: list[dict[str, Any]]) -> None:
        if self.t_slice is None:
            return
        ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        existing = None
        for sl in self.store.iter_objects(self.t_slice, ns):
            if (sl["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == name:
                existing = sl
                break
        endpoints = []
        for addrs, is_ready in ((ready, True), (not_ready, False)):
            for a in addrs:
                e: dict[str, Any] = {"addresses": [a["ip"]], "conditions": {"ready": is_ready, "serving": is_ready, "terminating": False},
                                     "targetRef": a["targetRef"]}
                if a.get("nodeName"):
                    e["nodeName"] = a["nodeName"]
                endpoints.append(e)
        body: dict[str, Any] = {
            "metadata": {"namespace": ns, "labels": {"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                                                     "kubernetes.io/service-name": name},
                         "ownerReferences": [self._owner_ref(svc, "v1", "Service")]},
            "addressType": "IPv4",
            "endpoints": endpoints,
            "ports": ports,
        }
        if existing is None:
            body["metadata"]["generateName"] = f"{name}-"
            try:
                self.store.create(self.t_slice, body)
            except ApiError:
                pass
        elif existing.get("endpoints") != endpoints or existing.get("ports") != ports:
            upd = copy.deepcopy(existing)
            upd["endpoints"] = endpoints
            upd["ports"] = ports
            self.store.update(self.t_slice, upd, check_rv=False)

    # ------------------------------------------------------------------ garbage collection
    def sync_gc(self, _ns: str, owner_uid: str) -> None:
        """Delete dependents of a deleted owner; finish foreground deletions."""
        owner = self.store.by_uid(owner_uid)
        deps = self.store.dependents(owner_uid)
        if owner is None:
            self._foreground.discard(owner_uid)
            batch = 0
            for rtype, dep in deps:
                refs = dep["metadata"].get("ownerReferences") or []
                if any(r.get("uid") != owner_uid and self.store.by_uid(r.get("uid", "")) is not None for r in refs):
                    # other owners still exist: just drop the dangling reference
                    upd = copy.deepcopy(dep)
                    upd["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != owner_uid]
                    try:
                        self.store.update(rtype, upd, check_rv=False)
                    except ApiError:
                        pass
                    continue
                if dep["metadata"].get("deletionTimestamp"):
                    continue
                try:
                    self.store.delete(rtype, dep["metadata"].get("namespace"), dep["metadata"]["name"], propagation="Background")
                except ApiError:
                    pass
                batch += 1
                if batch >= self.config.max_pods_per_sync:
                    self.mark("gc", "", owner_uid)
                    return
            return
        rtype, obj = owner
        meta = obj["metadata"]
        if not meta.get("deletionTimestamp") or "foregroundDeletion" not in (meta.get("finalizers") or []):
            return
        self._foreground.add(owner_uid)
        blocking = [(rt, d) for rt, d in deps if any(r.get("uid") == owner_uid and r.get("blockOwnerDeletion")
                                                       for r in d["metadata"].get("ownerReferences") or [])]
        batch = 0
        for rt, d in blocking:
            if d["metadata"].get("deletionTimestamp"):
                continue
            has_children = bool(self.store.dependents(d["metadata"].get("uid", "")))
            try:
                self.store.delete(rt, d["metadata"].get("namespace"), d["metadata"]["name"],
                                  propagation="Foreground" if has_children else "Background")
            except ApiError:
                pass
            batch += 1
            if batch >= self.config.max_pods_per_sync:
                break
        remaining = [d for _, d in self.store.dependents(owner_uid)
                     if any(r.get("uid") == owner_uid and r.get("blockOwnerDeletion") for r in d["metadata"].get("ownerReferences") or [])]
        if not remaining:
            upd = copy.deepcopy(obj)
            upd["metadata"]["finalizers"] = [f for f in meta.get("finalizers") or [] if f != "foregroundDeletion"]
            self._foreground.discard(owner_uid)
            try:
                self.store.update(rtype, upd, check_rv=False)
            except ApiError:
                pass
        elif batch >= self.config.max_pods_per_sync and self.loop is not None:
            self.loop.call_later(0.01, self.mark, "gc", "", owner_uid)


# ----------------------------------------------------------------------------------------------
# module helpers


def _qos(spec: dict[str, Any]) -> str:
    containers = spec.get("containers") or []
    if all(not ((c.get("resources") or {}).get("requests") or (c.get("resources") or {}).get("limits")) for c in containers):
        return "BestEffort"
    for c in containers:
        res = c.get("resources") or {}
        limits = res.get("limits") or {}
        requests = res.get("requests") or limits
        if not limits.get("cpu") or not limits.get("memory") or requests != limits:
            return "Burstable"
    return "Guaranteed"


_COND_ORDER = {"PodReadyToStartContainers": 0, "Initialized": 1, "Ready": 2, "ContainersReady": 3, "PodScheduled": 4}


def _order_conditions(conds: list[dict[str, Any]]) -> None:
    conds.sort(key=lambda c: _COND_ORDER.get(c.get("type", ""), 9))


def _deletion_rank(pod: dict[str, Any]) -> tuple[int, int, int, str]:
    """Which pods a ReplicaSet deletes first: unscheduled, pending, not ready, newest."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    ts = pod["metadata"].get("creationTimestamp", "")
    inverted = "".join(chr(0x10FFFF - ord(ch)) if ch.isdigit() else ch for ch in ts)
    return (1 if spec.get("nodeName") else 0, 1 if status.get("phase") == "Running" else 0, 1 if _is_ready(pod) else 0, inverted)


def _ordinal(pod_name: str, sts_name: str) -> int:
    suffix = pod_name[len(sts_name) + 1 :]
    return int(suffix) if suffix.isdigit() else -1


def _full(image: str) -> str:
    name = image
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = "docker.io/library/" + name
    elif "." not in first and ":" not in first and first != "localhost":
        name = "docker.io/" + name
    if ":" not in name.rsplit("/", 1)[-1] and "@" not in name:
        name += ":latest"
    return name


def _resolve_target(port: dict[str, Any], pod: dict[str, Any] | None) -> int:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    if pod is not None:
        for c in (pod.get("spec") or {}).get("containers") or []:
            for p in c.get("ports") or []:
                if p.get("name") == target:
                    return int(p["containerPort"])
    return int(port.get("port", 80))


def _pod_endpoint_view(pod: dict[str, Any]) -> tuple[Any, ...]:
    status = pod.get("status") or {}
    return (status.get("podIP"), _is_ready(pod), status.get("phase"), (pod.get("spec") or {}).get("nodeName"),
            bool((pod.get("metadata") or {}).get("deletionTimestamp")))


def _ranges(values: Iterable[int]) -> str:
    out: list[str] = []
    vals = sorted(set(values))
    i = 0
    while i < len(vals):
        j = i
        while j + 1 < len(vals) and vals[j + 1] == vals[j] + 1:
            j += 1
        out.append(str(vals[i]) if i == j else f"{vals[i]}-{vals[j]}")
        i = j + 1
    return ",".join(out)
