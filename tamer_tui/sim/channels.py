"""Framing of the Kubernetes "channel" WebSocket sub-protocols used by exec, attach and port-forward.

Every WebSocket message carries one channel byte followed by the payload.  For exec/attach the
channels are ``0`` stdin, ``1`` stdout, ``2`` stderr, ``3`` error (a ``metav1.Status`` JSON document
for ``v4``/``v5``, plain text for the legacy ``channel.k8s.io``) and ``4`` resize (``{"Width": w,
"Height": h}``).  ``v5.channel.k8s.io`` adds the close signal: channel ``255`` whose single payload
byte names the channel being closed (the client uses it to signal end of stdin).

Port-forward uses two channels per requested port (data ``2*i``, error ``2*i+1``); the first frame
the server sends on each of them is the port number as two little-endian bytes.

The module is pure (no I/O) so it can be unit tested directly.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

STDIN = 0
STDOUT = 1
STDERR = 2
ERROR = 3
RESIZE = 4
CLOSE = 255

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
V3 = "v3.channel.k8s.io"
V2 = "v2.channel.k8s.io"
V1 = "channel.k8s.io"
BASE64_V1 = "base64.channel.k8s.io"
PORT_FORWARD_V1 = "portforward.k8s.io"

#: Sub-protocols for exec/attach in the server's order of preference.
EXEC_PROTOCOLS: tuple[str, ...] = (V5, V4, V3, V2, V1, BASE64_V1)
#: Sub-protocols for port-forward in the server's order of preference.
PORT_FORWARD_PROTOCOLS: tuple[str, ...] = (V4, PORT_FORWARD_V1)


class FrameError(ValueError):
    """A WebSocket message that is not a valid channel frame."""


@dataclass(frozen=True)
class Frame:
    """One decoded channel frame."""

    channel: int
    data: bytes


def choose_protocol(offered: list[str] | tuple[str, ...], supported: tuple[str, ...]) -> str | None:
    """Pick the server's most preferred sub-protocol that the client offered (``None``: no overlap)."""
    wanted = {p.strip() for p in offered if p.strip()}
    for proto in supported:
        if proto in wanted:
            return proto
    return None


def parse_protocol_header(value: str | None) -> list[str]:
    """Split a ``Sec-WebSocket-Protocol`` header (comma separated, possibly repeated) into a list."""
    if not value:
        return []
    return [p.strip() for p in value.split(",") if p.strip()]


def encode(channel: int, data: bytes | str, *, base64_mode: bool = False) -> bytes:
    """Build one frame: the channel byte followed by ``data``.

    In ``base64.channel.k8s.io`` mode the channel is an ASCII digit and the payload base64 text.
    """
    if not 0 <= channel <= 255:
        raise FrameError(f"channel {channel} out of range")
    payload = data.encode() if isinstance(data, str) else bytes(data)
    if base64_mode:
        return str(channel).encode() + base64.b64encode(payload)
    return bytes((channel,)) + payload


def decode(message: bytes | str, *, base64_mode: bool = False) -> Frame:
    """Split a received message into channel and payload.

    Text messages (the Python client sends ``chr(channel) + text`` as a TEXT frame) are accepted
    as well as binary ones.
    """
    raw = message.encode("utf-8") if isinstance(message, str) else bytes(message)
    if not raw:
        raise FrameError("empty frame")
    if base64_mode:
        digit = chr(raw[0])
        if not digit.isdigit():
            raise FrameError(f"invalid base64 channel {digit!r}")
        try:
            return Frame(int(digit), base64.b64decode(raw[1:], validate=False))
        except (ValueError, TypeError) as exc:
            raise FrameError(f"invalid base64 payload: {exc}") from exc
    return Frame(raw[0], raw[1:])


def close_frame(channel: int) -> bytes:
    """The v5 close signal for ``channel``."""
    return bytes((CLOSE, channel))


def is_close(frame: Frame) -> int | None:
    """The channel a v5 close frame closes, or ``None`` if ``frame`` is not a close frame."""
    if frame.channel == CLOSE and frame.data:
        return frame.data[0]
    return None


def parse_resize(data: bytes) -> tuple[int, int] | None:
    """Decode a resize payload into ``(width, height)``; ``None`` when malformed."""
    try:
        doc = json.loads(data.decode("utf-8"))
        width = int(doc.get("Width", doc.get("width", 0)))
        height = int(doc.get("Height", doc.get("height", 0)))
    except (ValueError, AttributeError, UnicodeDecodeError, TypeError):
        return None
    if width <= 0 or height <= 0:
        return None
    return width, height


def resize_payload(width: int, height: int) -> bytes:
    """The resize payload a client sends on channel 4."""
    return json.dumps({"Width": width, "Height": height}).encode()


def success_status() -> dict[str, Any]:
    """The Status the API server sends on the error channel when the command exits with 0."""
    return {"metadata": {}, "status": "Success"}


def exit_status(code: int, command: list[str] | None = None) -> dict[str, Any]:
    """The Status for a command's exit code (Success for 0, NonZeroExitCode otherwise)."""
    if code == 0:
        return success_status()
    argv = " ".join(command or [])
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code: error executing command [{argv}], exit code {code}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def failure_status(message: str, reason: str = "InternalError", code: int = 500) -> dict[str, Any]:
    """A generic Failure Status for errors that are not an exit code (e.g. container not found)."""
    return {"metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code}


def status_frame(status: dict[str, Any], protocol: str) -> bytes:
    """Encode ``status`` for the error channel of ``protocol``.

    v2+ (``v4``/``v5``; v2/v3 too) carry the JSON Status; the legacy ``channel.k8s.io`` carries
    only a plain text message and nothing at all on success.
    """
    base64_mode = protocol == BASE64_V1
    if protocol in (V1, BASE64_V1, V2, V3):
        if status.get("status") == "Success":
            return b""
        return encode(ERROR, str(status.get("message", "error")), base64_mode=base64_mode)
    return encode(ERROR, json.dumps(status, separators=(",", ":")), base64_mode=base64_mode)


def exit_code_of(status: dict[str, Any]) -> int:
    """Inverse of :func:`exit_status`: the exit code a client derives from a Status."""
    if status.get("status") == "Success":
        return 0
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            try:
                return int(cause.get("message", "1"))
            except ValueError:
                return 1
    return 1


def port_prefix(port: int) -> bytes:
    """The two little-endian bytes that open every port-forward channel."""
    if not 0 < port < 65536:
        raise FrameError(f"port {port} out of range")
    return bytes((port & 0xFF, (port >> 8) & 0xFF))


def port_channels(index: int) -> tuple[int, int]:
    """(data channel, error channel) of the ``index``-th forwarded port."""
    return 2 * index, 2 * index + 1


def parse_ports(values: list[str]) -> list[int]:
    """Parse the ``ports`` query values (repeated and/or comma separated) into port numbers.

    Raises ``ValueError`` with an API-server-like message for invalid or duplicate ports.
    """
    ports: list[int] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                port = int(part)
            except ValueError:
                raise ValueError(f'unable to parse "{part}" as a port: invalid syntax') from None
            if not 0 < port < 65536:
                raise ValueError(f"port {port} must be > 0 and < 65536")
            if port in ports:
                raise ValueError(f"duplicate port {port}")
            ports.append(port)
    return ports
