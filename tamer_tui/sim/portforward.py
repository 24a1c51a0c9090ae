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

``kubectl port-forward`` (1.31+) tunnels SPDY/3.1 through the WebSocket instead (sub-protocol
``SPDY/3.1+portforward.k8s.io``): :class:`SpdySession` speaks just enough SPDY for it - SYN_STREAM /
SYN_REPLY with zlib-compressed header blocks, DATA frames with FIN, PING, RST_STREAM, GOAWAY - and
pairs each request's ``error`` and ``data`` streams like the kubelet does.
"""

from __future__ import annotations

import contextlib
import logging
import re
import struct
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from tamer_tui.sim import channels

if TYPE_CHECKING:  # pragma: no cover - typing only
    from tamer_tui.sim.cluster import Cluster

log = logging.getLogger(__name__)

_REQUEST_LINE = re.compile(rb"^([A-Z]{3,10}) (\S+) HTTP/(1\.[01])$")


SPDY_PORT_FORWARD = "SPDY/3.1+portforward.k8s.io"

_SPDY_WORDS = [
    "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding",
    "accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control", "connection",
    "content-base", "content-encoding", "content-language", "content-length", "content-location",
    "content-md5", "content-range", "content-type", "date", "etag", "expect", "expires", "from", "host",
    "if-match", "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified",
    "location", "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer",
    "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via",
    "warning", "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url",
    "public", "set-cookie", "keep-alive", "origin",
]
_SPDY_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
    "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
    "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
    "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
    "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)
#: The zlib dictionary SPDY/3 header blocks are compressed with (its Adler-32 is 0xE3C6A7C2).
SPDY_DICTIONARY = b"".join(struct.pack(">I", len(w)) + w.encode() for w in _SPDY_WORDS) + _SPDY_TAIL.encode()

SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN = 0x01


def spdy_control(ftype: int, payload: bytes, flags: int = 0) -> bytes:
    """A SPDY/3 control frame."""
    return struct.pack(">HHI", 0x8000 | 3, ftype, (flags << 24) | len(payload)) + payload


def spdy_data(stream_id: int, payload: bytes, flags: int = 0) -> bytes:
    """A SPDY data frame."""
    return struct.pack(">II", stream_id & 0x7FFFFFFF, (flags << 24) | len(payload)) + payload


def encode_headers(headers: dict[str, str]) -> bytes:
    """The uncompressed SPDY/3 name/value block."""
    out = [struct.pack(">I", len(headers))]
    for k, v in headers.items():
        kb, vb = k.lower().encode(), v.encode()
        out.append(struct.pack(">I", len(kb)) + kb + struct.pack(">I", len(vb)) + vb)
    return b"".join(out)


def decode_headers(block: bytes) -> dict[str, str]:
    """Parse an uncompressed SPDY/3 name/value block (multiple values are NUL separated)."""
    (count,) = struct.unpack_from(">I", block, 0)
    pos = 4
    out: dict[str, str] = {}
    for _ in range(count):
        (n,) = struct.unpack_from(">I", block, pos)
        name = block[pos + 4 : pos + 4 + n].decode("latin-1")
        pos += 4 + n
        (m,) = struct.unpack_from(">I", block, pos)
        value = block[pos + 4 : pos + 4 + m].decode("latin-1")
        pos += 4 + m
        out[name.lower()] = value.split("\0")[0]
    return out


class SpdyFrameReader:
    """Reassembles SPDY frames from a byte stream (the tunnel delivers arbitrary chunks)."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[bool, int, int, bytes]]:
        """Add bytes; returns complete frames as ``(control, type_or_stream_id, flags, payload)``."""
        self.buf += data
        frames = []
        while len(self.buf) >= 8:
            length = int.from_bytes(self.buf[5:8], "big")
            if len(self.buf) < 8 + length:
                break
            head = bytes(self.buf[:8])
            payload = bytes(self.buf[8 : 8 + length])
            del self.buf[: 8 + length]
            flags = head[4]
            if head[0] & 0x80:
                ftype = int.from_bytes(head[2:4], "big")
                frames.append((True, ftype, flags, payload))
            else:
                frames.append((False, int.from_bytes(head[0:4], "big") & 0x7FFFFFFF, flags, payload))
        return frames


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
        if SPDY_PORT_FORWARD in offered_early and not request.query.getall("ports", []):
            return await self._handle_spdy(request, pod)
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

    async def _handle_spdy(self, request: web.Request, pod: dict[str, Any]) -> web.StreamResponse:
        phase = (pod.get("status") or {}).get("phase")
        if phase != "Running":
            return _status(400, "BadRequest", f"unable to upgrade connection: pod does not exist or is not running (phase {phase})")
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return _status(400, "BadRequest", "Upgrade request required")
        ws = web.WebSocketResponse(protocols=(SPDY_PORT_FORWARD,), autoping=True, max_msg_size=0, compress=False)
        await ws.prepare(request)
        self.active += 1
        try:
            await SpdySession(ws, pod).run()
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


class SpdySession:
    """Server side of kubectl's SPDY/3.1 port-forward protocol tunnelled through a WebSocket."""

    def __init__(self, ws: web.WebSocketResponse, pod: dict[str, Any]) -> None:
        self.ws = ws
        self.pod = pod
        self.declared = declared_ports(pod)
        self.reader = SpdyFrameReader()
        self.inflate = zlib.decompressobj(zdict=SPDY_DICTIONARY)
        self.deflate = zlib.compressobj(9, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY, SPDY_DICTIONARY)
        self.requests: dict[str, dict[str, int]] = {}
        self.headers: dict[int, dict[str, str]] = {}
        self.responders: dict[int, HttpResponder] = {}
        self.error_of: dict[int, int] = {}
        self.closed: set[int] = set()

    async def send(self, frame: bytes) -> None:
        if not self.ws.closed:
            await self.ws.send_bytes(frame)

    def compress(self, headers: dict[str, str]) -> bytes:
        return self.deflate.compress(encode_headers(headers)) + self.deflate.flush(zlib.Z_SYNC_FLUSH)

    async def run(self) -> None:
        async for msg in self.ws:
            if msg.type not in (WSMsgType.BINARY, WSMsgType.TEXT):
                continue
            data = msg.data.encode("latin-1") if isinstance(msg.data, str) else bytes(msg.data)
            for control, kind, flags, payload in self.reader.feed(data):
                if control:
                    if await self.control(kind, flags, payload) is False:
                        return
                else:
                    await self.data(kind, flags, payload)

    async def control(self, ftype: int, flags: int, payload: bytes) -> bool:
        if ftype == SYN_STREAM:
            stream_id = int.from_bytes(payload[0:4], "big") & 0x7FFFFFFF
            headers = decode_headers(self.inflate.decompress(payload[10:]))
            self.headers[stream_id] = headers
            await self.send(spdy_control(SYN_REPLY, struct.pack(">I", stream_id) + self.compress({})))
            req = self.requests.setdefault(headers.get("requestid", str(stream_id)), {})
            req[headers.get("streamtype", "data")] = stream_id
            if "error" in req and "data" in req:
                await self.start(req["error"], req["data"], headers)
        elif ftype == PING:
            await self.send(spdy_control(PING, payload))
        elif ftype == RST_STREAM:
            stream_id = int.from_bytes(payload[0:4], "big") & 0x7FFFFFFF
            self.responders.pop(stream_id, None)
            self.closed.add(stream_id)
        elif ftype == GOAWAY:
            return False
        elif ftype == HEADERS and len(payload) > 4:
            self.inflate.decompress(payload[4:])  # keep the shared zlib context in step
        return True

    async def start(self, error_id: int, data_id: int, headers: dict[str, str]) -> None:
        try:
            port = int(self.headers[data_id].get("port") or headers.get("port") or "0")
        except ValueError:
            port = 0
        self.error_of[data_id] = error_id
        container = self.declared.get(port)
        if container is None:
            await self.send(spdy_data(error_id, refused_message(self.pod, port).encode()))
            await self.finish(data_id)
            return
        meta = self.pod["metadata"]
        self.responders[data_id] = HttpResponder(meta["name"], meta.get("namespace", "default"), container, port)

    async def data(self, stream_id: int, flags: int, payload: bytes) -> None:
        responder = self.responders.get(stream_id)
        if responder is not None and payload:
            out, _close = responder.feed(payload)
            for k in range(0, len(out), 32 * 1024):
                await self.send(spdy_data(stream_id, out[k : k + 32 * 1024]))
        if flags & FLAG_FIN:
            await self.finish(stream_id)

    async def finish(self, data_id: int) -> None:
        """The client finished sending: close our side of the data and error streams."""
        self.responders.pop(data_id, None)
        for sid in (data_id, self.error_of.get(data_id)):
            if sid is not None and sid not in self.closed:
                self.closed.add(sid)
                await self.send(spdy_data(sid, b"", FLAG_FIN))
