"""``pods/exec`` and ``pods/attach`` over WebSocket (``v5.channel.k8s.io`` / ``v4.channel.k8s.io``).

``GET|POST /api/v1/namespaces/{ns}/pods/{name}/exec?command=..&stdin=..&stdout=..&stderr=..&tty=..``
upgrades to a WebSocket and runs the command in the built-in shell (:mod:`tamer_tui.sim.shell`)
with the container's environment (its ``env``/``envFrom`` resolved like the kubelet does: field
refs, config maps, secrets, plus ``HOSTNAME`` and the ``KUBERNETES_*`` variables) and a small fake
filesystem (``/etc/hostname``, ``/etc/os-release``, ``/etc/resolv.conf``, ``/proc/1/cmdline``, the
service-account token, mounted config maps and secrets).  Frames follow
:mod:`tamer_tui.sim.channels`; the exit status is reported on channel 3 as a ``metav1.Status``.

``attach`` connects to the container's main process: interactive shells started with
``stdin: true`` (``kubectl run -it ... -- sh``) are attached for real; for any other container
the attach session streams the process output (its log lines) and swallows stdin.

Errors before the upgrade are answered with a Status like the API server's (pod not found,
container not found, completed pod, missing command, multi-container pod without ``container``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from tamer_tui.sim import channels
from tamer_tui.sim import shell as shellmod
from tamer_tui.sim.logs import LogModel, LogQueryError, pick_container, render
from tamer_tui.sim.store import Store

if TYPE_CHECKING:  # pragma: no cover - typing only
    from tamer_tui.sim.cluster import Cluster

log = logging.getLogger(__name__)

_OS_RELEASE = (
    'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.21.0\nPRETTY_NAME="Alpine Linux v3.21"\n'
    'HOME_URL="https://alpinelinux.org/"\nBUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"\n'
)


# ----------------------------------------------------------------------------------------------
# Container environment and filesystem


def _b64(text: str) -> str:
    try:
        return base64.b64decode(text).decode("utf-8", "replace")
    except (ValueError, TypeError):
        return ""


def _field_ref(pod: dict[str, Any], path: str) -> str:
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    if path.startswith("metadata.labels['") or path.startswith("metadata.annotations['"):
        which = "labels" if "labels" in path else "annotations"
        key = path.split("['", 1)[1].rstrip("']")
        return str((meta.get(which) or {}).get(key, ""))
    table = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "status.podIP": status.get("podIP", ""),
        "status.hostIP": status.get("hostIP", ""),
        "status.podIPs": ",".join(p.get("ip", "") for p in status.get("podIPs") or []),
    }
    return str(table.get(path, ""))


def _resource_ref(container: dict[str, Any], ref: dict[str, Any]) -> str:
    res = container.get("resources") or {}
    kind, _, what = str(ref.get("resource", "")).partition(".")
    value = str((res.get(kind) or {}).get(what, ""))
    if not value:
        return "4" if what == "cpu" else "16318976000"
    if what == "cpu":
        if value.endswith("m"):
            return str(max(1, -(-int(value[:-1]) // 1000)))
        return value
    units = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "K": 1000, "M": 1000**2, "G": 1000**3}
    for suffix, mult in units.items():
        if value.endswith(suffix):
            return str(int(float(value[: -len(suffix)]) * mult))
    return value


def container_env(store: Store, pod: dict[str, Any], container_name: str) -> dict[str, str]:
    """The environment the container's processes see (resolved like the kubelet does)."""
    ns = (pod.get("metadata") or {}).get("namespace", "default")
    spec = pod.get("spec") or {}
    container: dict[str, Any] = next((c for c in (spec.get("containers") or []) + (spec.get("initContainers") or [])
                                      if c.get("name") == container_name), {})
    env: dict[str, str] = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOSTNAME": (pod.get("metadata") or {}).get("name", ""),
    }
    cm_t = store.find_type("", "v1", "configmaps")
    sec_t = store.find_type("", "v1", "secrets")
    for src in container.get("envFrom") or []:
        prefix = src.get("prefix", "")
        if src.get("configMapRef") and cm_t is not None:
            cm = store.try_get(cm_t, ns, src["configMapRef"].get("name", ""))
            for k, v in ((cm or {}).get("data") or {}).items():
                env[prefix + k] = str(v)
        if src.get("secretRef") and sec_t is not None:
            sec = store.try_get(sec_t, ns, src["secretRef"].get("name", ""))
            for k, v in ((sec or {}).get("data") or {}).items():
                env[prefix + k] = _b64(v)
    for item in container.get("env") or []:
        name = item.get("name")
        if not name:
            continue
        if "value" in item:
            env[name] = str(item.get("value") or "")
            continue
        vf = item.get("valueFrom") or {}
        if vf.get("fieldRef"):
            env[name] = _field_ref(pod, vf["fieldRef"].get("fieldPath", ""))
        elif vf.get("resourceFieldRef"):
            env[name] = _resource_ref(container, vf["resourceFieldRef"])
        elif vf.get("configMapKeyRef") and cm_t is not None:
            ref = vf["configMapKeyRef"]
            cm = store.try_get(cm_t, ns, ref.get("name", ""))
            value = ((cm or {}).get("data") or {}).get(ref.get("key", ""))
            if value is not None:
                env[name] = str(value)
        elif vf.get("secretKeyRef") and sec_t is not None:
            ref = vf["secretKeyRef"]
            sec = store.try_get(sec_t, ns, ref.get("name", ""))
            value = ((sec or {}).get("data") or {}).get(ref.get("key", ""))
            if value is not None:
                env[name] = _b64(value)
        else:
            env[name] = ""
    svc_t = store.find_type("", "v1", "services")
    kube = store.try_get(svc_t, "default", "kubernetes") if svc_t is not None else None
    ip = ((kube or {}).get("spec") or {}).get("clusterIP", "10.43.0.1")
    env.update({
        "KUBERNETES_SERVICE_HOST": ip,
        "KUBERNETES_SERVICE_PORT": "443",
        "KUBERNETES_SERVICE_PORT_HTTPS": "443",
        "KUBERNETES_PORT": f"tcp://{ip}:443",
        "KUBERNETES_PORT_443_TCP": f"tcp://{ip}:443",
        "KUBERNETES_PORT_443_TCP_ADDR": ip,
        "KUBERNETES_PORT_443_TCP_PORT": "443",
        "KUBERNETES_PORT_443_TCP_PROTO": "tcp",
    })
    env.setdefault("HOME", "/root")
    return env


def container_fs(store: Store, pod: dict[str, Any], container_name: str) -> shellmod.FileSystem:
    """A small fake filesystem for the container (etc files, /proc/1/cmdline, mounted volumes)."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    ns = meta.get("namespace", "default")
    name = meta.get("name", "")
    container: dict[str, Any] = next((c for c in (spec.get("containers") or []) + (spec.get("initContainers") or [])
                                      if c.get("name") == container_name), {})
    argv = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])] or [_default_cmd(container)]
    pod_ip = status.get("podIP", "")
    files = {
        "/etc/hostname": f"{name}\n",
        "/etc/hosts": (f"# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                       f"{pod_ip}\t{name}\n"),
        "/etc/os-release": _OS_RELEASE,
        "/etc/alpine-release": "3.21.0\n",
        "/etc/resolv.conf": f"search {ns}.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.43.0.10\noptions ndots:5\n",
        "/etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\napp:x:10001:10001::/app:/sbin/nologin\n",
        "/etc/group": "root:x:0:root\nnobody:x:65534:\napp:x:10001:\n",
        "/proc/1/cmdline": "\0".join(argv) + "\0",
        "/proc/version": "Linux version 6.1.0-28-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1\n",
        "/proc/loadavg": "0.42 0.37 0.31 2/311 4242\n",
        "/proc/uptime": f"{int(time.time()) % 100000}.42 {int(time.time()) % 200000}.17\n",
        "/var/run/secrets/kubernetes.io/serviceaccount/namespace": ns,
        "/var/run/secrets/kubernetes.io/serviceaccount/token": "eyJhbGciOiJSUzI1NiIsImtpZCI6InNpbSJ9.eyJpc3MiOiJrdWJlcm5ldGVzLmRlZmF1bHQuc3ZjIn0.c2lt",
        "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt": "-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAj\n-----END CERTIFICATE-----\n",
    }
    dirs = {"/bin", "/sbin", "/usr/bin", "/usr/local/bin", "/lib", "/home", "/root", "/tmp", "/var/log", "/var/tmp", "/dev",
            "/proc", "/sys", "/run", "/srv", "/opt", "/mnt", "/media"}
    workdir = container.get("workingDir")
    if workdir:
        dirs.add(workdir)
    cm_t = store.find_type("", "v1", "configmaps")
    sec_t = store.find_type("", "v1", "secrets")
    volumes = {v.get("name"): v for v in spec.get("volumes") or []}
    for mount in container.get("volumeMounts") or []:
        path = mount.get("mountPath", "")
        if not path or path.startswith("/var/run/secrets/kubernetes.io/serviceaccount"):
            continue
        dirs.add(path)
        vol = volumes.get(mount.get("name")) or {}
        data: dict[str, str] = {}
        if vol.get("configMap") and cm_t is not None:
            cm = store.try_get(cm_t, ns, vol["configMap"].get("name", ""))
            data = {k: str(v) for k, v in ((cm or {}).get("data") or {}).items()}
        elif vol.get("secret") and sec_t is not None:
            sec = store.try_get(sec_t, ns, vol["secret"].get("secretName", ""))
            data = {k: _b64(v) for k, v in ((sec or {}).get("data") or {}).items()}
        items = (vol.get("configMap") or vol.get("secret") or {}).get("items")
        if items:
            data = {it.get("path", it.get("key")): data.get(it.get("key"), "") for it in items}
        sub = mount.get("subPath")
        for key, value in data.items():
            if sub:
                if key == sub:
                    files[path] = value
                continue
            files[f"{path.rstrip('/')}/{key}"] = value
    return shellmod.FileSystem(files=files, dirs=dirs)


def _default_cmd(container: dict[str, Any]) -> str:
    image = str(container.get("image", "")).lower()
    if "nginx" in image:
        return "nginx: master process nginx -g daemon off;"
    if "redis" in image:
        return "redis-server *:6379"
    if "postgres" in image:
        return "postgres"
    base = image.rsplit("/", 1)[-1].split(":", 1)[0]
    return f"/usr/local/bin/{base or 'app'}"


@dataclass
class Filesystems:
    """Container filesystems that survive between exec sessions (keyed by pod uid + container)."""

    by_key: dict[tuple[str, str], shellmod.FileSystem] = field(default_factory=dict)

    def get(self, store: Store, pod: dict[str, Any], container: str) -> shellmod.FileSystem:
        """The container's filesystem (created on first use)."""
        key = ((pod.get("metadata") or {}).get("uid", ""), container)
        fs = self.by_key.get(key)
        if fs is None:
            if len(self.by_key) > 2000:
                self.by_key.clear()
            fs = self.by_key[key] = container_fs(store, pod, container)
        return fs


def shell_env(store: Store, pod: dict[str, Any], container: str, filesystems: Filesystems | None = None) -> shellmod.ShellEnv:
    """Everything the built-in shell needs to run inside ``container`` of ``pod``."""
    spec = pod.get("spec") or {}
    c: dict[str, Any] = next((x for x in (spec.get("containers") or []) if x.get("name") == container), {})
    fs = filesystems.get(store, pod, container) if filesystems is not None else container_fs(store, pod, container)
    argv = [str(a) for a in (c.get("command") or []) + (c.get("args") or [])] or [_default_cmd(c)]
    user = "root"
    sc = c.get("securityContext") or {}
    if sc.get("runAsUser") not in (None, 0) or sc.get("runAsNonRoot"):
        user = "app"
    return shellmod.ShellEnv(
        hostname=(pod.get("metadata") or {}).get("name", ""),
        env=container_env(store, pod, container),
        fs=fs,
        processes=[(1, " ".join(argv))],
        user=user,
    )


# ----------------------------------------------------------------------------------------------
# Interactive main processes (kubectl run -it ... -- sh), attachable


@dataclass
class MainProcess:
    """A container's main process that attach sessions can connect to."""

    input: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    listeners: set[Callable[[int, bytes], Awaitable[None]]] = field(default_factory=set)
    tty: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)
    exit_code: int | None = None
    size: tuple[int, int] = (80, 24)
    history: bytearray = field(default_factory=bytearray)

    async def emit(self, stream: int, data: bytes) -> None:
        """Send process output to every attached session (and keep a little history)."""
        self.history += data
        del self.history[:-4096]
        for cb in list(self.listeners):
            try:
                await cb(stream, data)
            except (ConnectionResetError, RuntimeError):
                self.listeners.discard(cb)


class MainProcessIO:
    """ShellIO for a main process: output to attached sessions + a recorder; stdin from attachers."""

    def __init__(self, proc: MainProcess, record: Callable[[str], None] | None = None) -> None:
        self.proc = proc
        self.record = record

    async def write(self, stream: int, data: bytes) -> None:
        if self.record is not None:
            self.record(data.decode("utf-8", "replace"))
        await self.proc.emit(stream, data)

    async def read(self) -> bytes | None:
        return await self.proc.input.get()


# ----------------------------------------------------------------------------------------------
# WebSocket plumbing


def _status_response(code: int, reason: str, message: str) -> web.Response:
    return web.json_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
                              "reason": reason, "code": code}, status=code)


def _flag(request: web.Request, name: str, default: bool = False) -> bool:
    raw = request.query.get(name)
    if raw is None:
        return default
    return raw.lower() in ("1", "true", "yes")


class WSSession:
    """One exec/attach WebSocket: frames in, a ShellIO out."""

    def __init__(self, ws: web.WebSocketResponse, protocol: str, *, stdin: bool, stdout: bool, stderr: bool, tty: bool) -> None:
        self.ws = ws
        self.protocol = protocol
        self.base64 = protocol == channels.BASE64_V1
        self.stdin_enabled = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.tty = tty
        self.input: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.closed = asyncio.Event()
        self.on_resize: Callable[[int, int], None] | None = None
        self._lock = asyncio.Lock()
        if not stdin:
            self.input.put_nowait(None)

    async def write(self, stream: int, data: bytes) -> None:
        """Send ``data`` on stdout/stderr (dropped if that stream was not requested)."""
        if not data or self.ws.closed:
            return
        if stream == channels.STDERR and self.tty:
            stream = channels.STDOUT
        if stream == channels.STDOUT and not self.stdout:
            return
        if stream == channels.STDERR and not self.stderr:
            return
        async with self._lock:
            for i in range(0, len(data), 32 * 1024):
                await self.ws.send_bytes(channels.encode(stream, data[i : i + 32 * 1024], base64_mode=self.base64))

    async def read(self) -> bytes | None:
        """Next stdin chunk (``None`` at end of input)."""
        return await self.input.get()

    async def pump(self) -> None:
        """Read client frames until the socket closes: stdin, resize and v5 close signals."""
        stdin_open = self.stdin_enabled
        try:
            async for msg in self.ws:
                if msg.type not in (WSMsgType.BINARY, WSMsgType.TEXT):
                    continue
                try:
                    frame = channels.decode(msg.data, base64_mode=self.base64)
                except channels.FrameError:
                    continue
                closed = channels.is_close(frame) if self.protocol == channels.V5 else None
                if closed is not None:
                    if closed == channels.STDIN and stdin_open:
                        stdin_open = False
                        self.input.put_nowait(None)
                    continue
                if frame.channel == channels.STDIN and stdin_open and frame.data:
                    self.input.put_nowait(frame.data)
                elif frame.channel == channels.RESIZE:
                    size = channels.parse_resize(frame.data)
                    if size is not None and self.on_resize is not None:
                        self.on_resize(*size)
        finally:
            if stdin_open:
                self.input.put_nowait(None)
            self.closed.set()

    async def finish(self, status: dict[str, Any]) -> None:
        """Send the exit Status on the error channel and close the socket."""
        if self.ws.closed:
            return
        frame = channels.status_frame(status, self.protocol)
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            async with self._lock:
                if frame:
                    await self.ws.send_bytes(frame)
            await self.ws.close()


async def _upgrade(request: web.Request, protocols: tuple[str, ...]) -> tuple[web.WebSocketResponse, str] | web.Response:
    if request.headers.get("Upgrade", "").lower() != "websocket":
        upgrade = request.headers.get("Upgrade", "")
        msg = "Upgrade request required" if not upgrade else f"unsupported upgrade protocol {upgrade!r}: only websockets are supported"
        return _status_response(400, "BadRequest", msg)
    offered = channels.parse_protocol_header(request.headers.get("Sec-WebSocket-Protocol"))
    chosen = channels.choose_protocol(offered, protocols)
    ws = web.WebSocketResponse(protocols=(chosen,) if chosen else (), autoping=True, heartbeat=None, max_msg_size=0,
                               compress=False)
    await ws.prepare(request)
    return ws, chosen or channels.V1


def _check_target(cluster: Cluster, request: web.Request, verb: str) -> tuple[dict[str, Any], str] | web.Response:
    ns = request.match_info["namespace"]
    name = request.match_info["name"]
    store = cluster.store
    pod = store.try_get(store.type_for("", "v1", "pods"), ns, name)
    if pod is None:
        return _status_response(404, "NotFound", f'pods "{name}" not found')
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        return _status_response(400, "BadRequest", f"cannot {verb} into a container in a completed pod; current phase is {phase}")
    try:
        container = pick_container(pod, request.query.get("container"))
    except LogQueryError as exc:
        return _status_response(400, "BadRequest", str(exc))
    cs = next((c for c in (pod.get("status") or {}).get("containerStatuses") or [] if c.get("name") == container), None)
    if cs is None or "running" not in (cs.get("state") or {}):
        return _status_response(400, "BadRequest", f'unable to upgrade connection: container not found ("{container}")')
    return pod, container


@dataclass
class ExecHandler:
    """Serves exec and attach for one cluster."""

    cluster: Cluster
    logs: LogModel
    filesystems: Filesystems = field(default_factory=Filesystems)
    main_processes: dict[tuple[str, str], MainProcess] = field(default_factory=dict)
    sessions: set[asyncio.Task[Any]] = field(default_factory=set)

    async def exec(self, request: web.Request) -> web.StreamResponse:
        """``pods/exec``: run ``command`` in the container's shell."""
        command = request.query.getall("command", [])
        target = _check_target(self.cluster, request, "exec")
        if isinstance(target, web.Response):
            return target
        pod, container = target
        if not command:
            return _status_response(400, "BadRequest", "you must specify at least one command for the container")
        stdin, stdout, stderr, tty = (_flag(request, "stdin"), _flag(request, "stdout", True), _flag(request, "stderr", True),
                                      _flag(request, "tty"))
        up = await _upgrade(request, channels.EXEC_PROTOCOLS)
        if isinstance(up, web.Response):
            return up
        ws, proto = up
        session = WSSession(ws, proto, stdin=stdin, stdout=stdout, stderr=stderr and not tty, tty=tty)
        senv = shell_env(self.cluster.store, pod, container, self.filesystems)

        def resize(w: int, h: int) -> None:
            senv.width, senv.height = w, h

        session.on_resize = resize
        pump = asyncio.create_task(session.pump())
        sh = shellmod.Shell(senv)
        run = asyncio.create_task(sh.exec(list(command), session, stdin=stdin, tty=tty))
        self.sessions.add(run)
        try:
            done, _ = await asyncio.wait({run, asyncio.create_task(session.closed.wait())}, return_when=asyncio.FIRST_COMPLETED)
            if run in done:
                code = run.result()
                await session.finish(channels.exit_status(code, list(command)))
            else:
                run.cancel()
        except Exception as exc:  # report unexpected failures to the client instead of dropping the socket
            log.exception("exec failed")
            await session.finish(channels.failure_status(str(exc)))
        finally:
            self.sessions.discard(run)
            if not run.done():
                run.cancel()
            with contextlib.suppress(Exception):
                await ws.close()
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump
        return ws

    async def attach(self, request: web.Request) -> web.StreamResponse:
        """``pods/attach``: connect to the container's main process."""
        target = _check_target(self.cluster, request, "attach")
        if isinstance(target, web.Response):
            return target
        pod, container = target
        stdin, stdout, stderr, tty = (_flag(request, "stdin"), _flag(request, "stdout", True), _flag(request, "stderr", True),
                                      _flag(request, "tty"))
        up = await _upgrade(request, channels.EXEC_PROTOCOLS)
        if isinstance(up, web.Response):
            return up
        ws, proto = up
        session = WSSession(ws, proto, stdin=stdin, stdout=stdout, stderr=stderr and not tty, tty=tty)
        uid = pod["metadata"]["uid"]
        proc = self.main_processes.get((uid, container))
        pump = asyncio.create_task(session.pump())
        try:
            if proc is not None:
                await self._attach_process(session, proc)
            else:
                await self._attach_output(session, pod, container)
        finally:
            with contextlib.suppress(Exception):
                await ws.close()
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump
        return ws

    async def _attach_process(self, session: WSSession, proc: MainProcess) -> None:
        async def listener(stream: int, data: bytes) -> None:
            await session.write(stream, data)

        proc.listeners.add(listener)

        def resize(w: int, h: int) -> None:
            proc.size = (w, h)

        session.on_resize = resize

        async def forward() -> None:
            while True:
                chunk = await session.read()
                if chunk is None:
                    return
                await proc.input.put(chunk)

        fwd = asyncio.create_task(forward())
        try:
            waiters = {asyncio.create_task(proc.done.wait()), asyncio.create_task(session.closed.wait())}
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for w in waiters:
                w.cancel()
            if proc.done.is_set():
                await session.finish(channels.exit_status(proc.exit_code or 0))
        finally:
            proc.listeners.discard(listener)
            fwd.cancel()

    async def _attach_output(self, session: WSSession, pod: dict[str, Any], container: str) -> None:
        """Stream the process's output (its log) from now on until the container or socket ends."""
        store = self.cluster.store
        pods_t = store.type_for("", "v1", "pods")
        try:
            stream = self.logs.stream(pod, container, False)
        except LogQueryError:
            await session.finish(channels.success_status())
            return

        async def drain_stdin() -> None:
            while await session.read() is not None:
                pass

        drain = asyncio.create_task(drain_stdin())
        idx = stream.count_at(time.time())
        uid = pod["metadata"]["uid"]
        try:
            while not session.closed.is_set():
                now = time.time()
                hi = stream.count_at(now)
                if hi > idx:
                    for chunk in render(stream, idx, min(hi, idx + 10_000), False):
                        await session.write(channels.STDOUT, chunk.replace(b"\n", b"\r\n") if session.tty else chunk)
                    idx = min(hi, idx + 10_000)
                    continue
                current = store.try_get(pods_t, pod["metadata"]["namespace"], pod["metadata"]["name"])
                if current is None or current["metadata"].get("uid") != uid:
                    break
                cs: dict[str, Any] = next(
                    (c for c in (current.get("status") or {}).get("containerStatuses") or [] if c.get("name") == container), {})
                if "running" not in (cs.get("state") or {}):
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(session.closed.wait(), 0.1)
            await session.finish(channels.success_status())
        finally:
            drain.cancel()

    async def close(self) -> None:
        """Cancel every running session (shutdown)."""
        for task in list(self.sessions):
            task.cancel()
        for proc in self.main_processes.values():
            proc.done.set()


def resize_message(width: int, height: int) -> str:
    """The JSON a client sends on the resize channel (for tests and documentation)."""
    return json.dumps({"Width": width, "Height": height})
