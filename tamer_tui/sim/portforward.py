"""``pods/portforward`` over WebSocket (``v4.channel.k8s.io`` / ``portforward.k8s.io``).

``GET /api/v1/namespaces/{ns}/pods/{name}/portforward?ports=8080&ports=9090`` (or ``ports=8080,9090``)
upgrades to a WebSocket.  Port ``i`` uses data channel ``2*i`` and error channel ``2*i+1``; the first
frame the server sends on each of them is the port number (2 bytes, little-endian), exactly as the
official Python client expects.  After that, bytes written on a data channel reach a tiny server
"inside the pod":

* a port declared as a ``containerPort`` of the pod answers HTTP/1.x requests (keep-alive, several
  requests per connection) with ``200 OK`` and a body naming the pod, the container, the port and the
  requested path; anything that is not HTTP is echoed back;
* any other port gets the kubelet's "connection refused" message on its error channel.

Every WebSocket is independent, so many port-forwards (and many concurrent requests) can run at once.
"""

from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from tamer_tui.sim import channels

if TYPE_CHECKING:  # pragma: no cover - typing only
    from tamer_tui.sim.cluster import Cluster

log = logging.getLogger(__name__)

_REQUEST_LINE = re.compile(rb"^([A-Z]{3,10}) (\S+) HTTP/(1\.[01])$")


def _status(code: int, reason: str, message: str) -> web.Response:
    return web.json_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
                              "reason": reason, "code": code}, status=code)


def declared_ports(pod: dict[str, Any]) -> dict[int, str]:
    """``containerPort -> container name`` for every port the pod's containers declare."""
    out: dict[int, str] = {}
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            try:
                out.setdefault(int(p.get("containerPort")), c.get("name", ""))
            except (TypeError, ValueError):
                continue
    return out


def refused_message(pod: dict[str, Any], port: int) -> str:
    """The kubelet's error text for a port nobody listens on."""
    uid = (pod.get("metadata") or {}).get("uid", "")
    netns = f"/var/run/netns/cni-{uid[:8]}-{uid[9:13]}" if uid else "/var/run/netns/cni"
    return (
        f"error forwarding port {port} to pod {uid}, uid : failed to execute portforward in network namespace "
        f'"{netns}": failed to connect to localhost:{port} inside namespace "{uid}", IPv4: dial tcp4 127.0.0.1:{port}: '
        f"connect: connection refused IPv6 dial tcp6 [::1]:{port}: connect: connection refused "
    )


@dataclass
class HttpResponder:
    """A minimal HTTP/1.x server for one forwarded connection (bytes in, bytes out)."""

    pod_name: str
    namespace: str
    container: str
    port: int
    buffer: bytearray = field(default_factory=bytearray)
    requests: int = 0
    echo: bool = False

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """Consume client bytes; returns (bytes to send back, whether the client asked to close)."""
        if self.echo:
            return bytes(data), False
        self.buffer += data
        out = bytearray()
        close = False
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > 64 * 1024 or (self.buffer and not self._looks_like_http()):
                    self.echo = True
                    out += self.buffer
                    self.buffer.clear()
                break
            head = bytes(self.buffer[:end]).split(b"\r\n")
            m = _REQUEST_LINE.match(head[0])
            if m is None:
                self.echo = True
                out += self.buffer
                self.buffer.clear()
                break
            headers: dict[str, str] = {}
            for line in head[1:]:
                k, _, v = line.decode("latin-1").partition(":")
                headers[k.strip().lower()] = v.strip()
            length = int(headers.get("content-length", "0") or 0)
            if len(self.buffer) < end + 4 + length:
                break
            del self.buffer[: end + 4 + length]
            method, path, version = m.group(1).decode(), m.group(2).decode("latin-1"), m.group(3).decode()
            self.requests += 1
            wants_close = headers.get("connection", "").lower() == "close" or (version == "1.0" and
                                                                               headers.get("connection", "").lower() != "keep-alive")
            body = (f"Hello from {self.pod_name} in {self.namespace} (container {self.container}, port {self.port})\n"
                    f"{method} {path}\n").encode()
            payload = b"" if method == "HEAD" else body
            resp = [
                f"HTTP/{version} 200 OK",
                "Content-Type: text/plain; charset=utf-8",
                f"Content-Length: {len(body)}",
                f"X-Pod-Name: {self.pod_name}",
                f"Connection: {'close' if wants_close else 'keep-alive'}",
                "",
                "",
            ]
            out += "\r\n".join(resp).encode() + payload
            if wants_close:
                close = True
                break
        return bytes(out), close

    def _looks_like_http(self) -> bool:
        first = bytes(self.buffer[:12])
        return any(first.startswith(m[: len(first)]) or first.startswith(m)
                   for m in (b"GET ", b"POST ", b"PUT ", b"HEAD ", b"DELETE ", b"PATCH ", b"OPTIONS "))


@dataclass
class PortForwardHandler:
    """Serves ``pods/portforward`` for one cluster."""

    cluster: Cluster
    active: int = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The WebSocket port-forward endpoint."""
        ns = request.match_info["namespace"]
        name = request.match_info["name"]
        store = self.cluster.store
        pod = store.try_get(store.type_for("", "v1", "pods"), ns, name)
        if pod is None:
            return _status(404, "NotFound", f'pods "{name}" not found')
        offered_early = channels.parse_protocol_header(request.headers.get("Sec-WebSocket-Protocol"))
        if any(p.startswith("SPDY/") for p in offered_early) and not request.query.getall("ports", []):
            return _status(400, "BadRequest", "the simulator serves port-forward over the v4.channel.k8s.io websocket protocol only "
                                              "(SPDY tunnelling, which kubectl port-forward uses, is not supported)")
        try:
            ports = channels.parse_ports(request.query.getall("ports", []))
        except ValueError as exc:
            return _status(400, "BadRequest", str(exc))
        if not ports:
            return _status(400, "BadRequest", "query parameter \"port\" is required")
        phase = (pod.get("status") or {}).get("phase")
        if phase != "Running":
            return _status(400, "BadRequest", f"unable to upgrade connection: pod does not exist or is not running (phase {phase})")
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return _status(400, "BadRequest", "Upgrade request required: port-forward is only served over websockets")
        offered = channels.parse_protocol_header(request.headers.get("Sec-WebSocket-Protocol"))
        chosen = channels.choose_protocol(offered, channels.PORT_FORWARD_PROTOCOLS)
        if chosen is None and channels.V5 in offered:
            chosen = channels.V5
        ws = web.WebSocketResponse(protocols=(chosen,) if chosen else (), autoping=True, max_msg_size=0, compress=False)
        await ws.prepare(request)
        self.active += 1
        try:
            await self._serve(ws, pod, ports)
        finally:
            self.active -= 1
            with contextlib.suppress(Exception):
                await ws.close()
        return ws

    async def _serve(self, ws: web.WebSocketResponse, pod: dict[str, Any], ports: list[int]) -> None:
        declared = declared_ports(pod)
        meta = pod["metadata"]
        responders: dict[int, HttpResponder | None] = {}
        for i, port in enumerate(ports):
            data_ch, err_ch = channels.port_channels(i)
            await ws.send_bytes(bytes((data_ch,)) + channels.port_prefix(port))
            await ws.send_bytes(bytes((err_ch,)) + channels.port_prefix(port))
            if port in declared:
                responders[i] = HttpResponder(meta["name"], meta.get("namespace", "default"), declared[port], port)
            else:
                responders[i] = None
        errored: set[int] = set()
        async for msg in ws:
            if msg.type not in (WSMsgType.BINARY, WSMsgType.TEXT):
                continue
            raw = msg.data.encode("latin-1") if isinstance(msg.data, str) else bytes(msg.data)
            if not raw:
                continue
            channel, data = raw[0], raw[1:]
            index, is_error = divmod(channel, 2)
            if is_error or index >= len(ports) or not data:
                continue
            responder = responders[index]
            if responder is None:
                if index not in errored:
                    errored.add(index)
                    _, err_ch = channels.port_channels(index)
                    await ws.send_bytes(bytes((err_ch,)) + refused_message(pod, ports[index]).encode())
                continue
            # "Connection: close" is answered with that header; the client then closes its end,
            # which ends the WebSocket (closing it here could cut off other ports of this session)
            out, _close = responder.feed(data)
            if out:
                data_ch, _ = channels.port_channels(index)
                for k in range(0, len(out), 32 * 1024):
                    await ws.send_bytes(bytes((data_ch,)) + out[k : k + 32 * 1024])
