"""Unit tests of the channel framing used by exec/attach/port-forward (tamer_tui.sim.channels)."""

from __future__ import annotations

import json

import pytest

from tamer_tui.sim import channels as ch


def test_encode_decode_round_trip() -> None:
    """A frame is the channel byte followed by the payload, binary or text."""
    frame = ch.encode(ch.STDOUT, b"hello")
    assert frame == b"\x01hello"
    assert ch.decode(frame) == ch.Frame(1, b"hello")
    # the Python client sends stdin as a TEXT frame: chr(0) + text
    assert ch.decode("\x00ls -l\n") == ch.Frame(0, b"ls -l\n")


def test_base64_protocol_frames() -> None:
    """base64.channel.k8s.io uses an ASCII channel digit and a base64 payload."""
    frame = ch.encode(ch.STDERR, b"oops", base64_mode=True)
    assert frame == b"2b29wcw=="
    assert ch.decode(frame, base64_mode=True) == ch.Frame(2, b"oops")


def test_empty_and_bad_frames_rejected() -> None:
    """Empty messages and out-of-range channels are errors."""
    with pytest.raises(ch.FrameError):
        ch.decode(b"")
    with pytest.raises(ch.FrameError):
        ch.encode(256, b"x")


def test_v5_close_signal() -> None:
    """v5 close frames are channel 255 naming the closed channel."""
    assert ch.close_frame(ch.STDIN) == b"\xff\x00"
    assert ch.is_close(ch.decode(b"\xff\x00")) == 0
    assert ch.is_close(ch.decode(b"\x00data")) is None


def test_resize_payload() -> None:
    """Resize messages carry Width/Height JSON; garbage is ignored."""
    assert ch.parse_resize(ch.resize_payload(120, 40)) == (120, 40)
    assert ch.parse_resize(b'{"width": 80, "height": 24}') == (80, 24)
    assert ch.parse_resize(b"not json") is None
    assert ch.parse_resize(b'{"Width": 0, "Height": 10}') is None


def test_protocol_negotiation_prefers_v5() -> None:
    """The server picks its most preferred sub-protocol among those offered."""
    offered = ch.parse_protocol_header("v4.channel.k8s.io, v5.channel.k8s.io,channel.k8s.io")
    assert ch.choose_protocol(offered, ch.EXEC_PROTOCOLS) == ch.V5
    assert ch.choose_protocol(["v4.channel.k8s.io"], ch.EXEC_PROTOCOLS) == ch.V4
    assert ch.choose_protocol(["SPDY/3.1"], ch.EXEC_PROTOCOLS) is None
    assert ch.choose_protocol(["v5.channel.k8s.io", "v4.channel.k8s.io"], ch.PORT_FORWARD_PROTOCOLS) == ch.V4


def test_exit_status_documents() -> None:
    """Exit 0 is a Success Status; non-zero is NonZeroExitCode with the code in details.causes."""
    assert ch.exit_status(0) == {"metadata": {}, "status": "Success"}
    st = ch.exit_status(3, ["sh", "-c", "exit 3"])
    assert st["status"] == "Failure" and st["reason"] == "NonZeroExitCode"
    assert st["message"].startswith("command terminated with non-zero exit code")
    assert st["details"] == {"causes": [{"reason": "ExitCode", "message": "3"}]}
    assert ch.exit_code_of(st) == 3 and ch.exit_code_of(ch.success_status()) == 0


def test_status_frame_per_protocol() -> None:
    """v4/v5 send the JSON Status on channel 3; the legacy protocol sends only the failure text."""
    frame = ch.status_frame(ch.exit_status(2), ch.V5)
    assert frame[0] == ch.ERROR and json.loads(frame[1:])["details"]["causes"][0]["message"] == "2"
    assert ch.status_frame(ch.success_status(), ch.V1) == b""
    assert ch.status_frame(ch.exit_status(1), ch.V1).startswith(b"\x03command terminated")


def test_port_forward_framing() -> None:
    """Port i uses channels 2i/2i+1; the first frame carries the port as 2 bytes little-endian."""
    assert ch.port_channels(0) == (0, 1)
    assert ch.port_channels(2) == (4, 5)
    assert ch.port_prefix(8080) == bytes((0x90, 0x1F))
    assert ch.port_prefix(80) == b"\x50\x00"
    with pytest.raises(ch.FrameError):
        ch.port_prefix(70000)


def test_parse_ports() -> None:
    """`ports` may be repeated and/or comma separated; invalid or duplicate ports are refused."""
    assert ch.parse_ports(["8080,9090", "5432"]) == [8080, 9090, 5432]
    with pytest.raises(ValueError, match="duplicate"):
        ch.parse_ports(["80", "80"])
    with pytest.raises(ValueError, match="unable to parse"):
        ch.parse_ports(["http"])
    with pytest.raises(ValueError, match="must be"):
        ch.parse_ports(["0"])


def test_spdy_dictionary_and_frames() -> None:
    """The SPDY/3 header dictionary has the Adler-32 kubectl's zlib streams name; frames survive arbitrary splits."""
    import zlib

    from tamer_tui.sim import portforward as pf

    assert len(pf.SPDY_DICTIONARY) == 1423 and zlib.adler32(pf.SPDY_DICTIONARY) == 0xE3C6A7C2
    headers = {"streamtype": "data", "port": "8080", "requestid": "0"}
    deflate = zlib.compressobj(9, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY, pf.SPDY_DICTIONARY)
    block = deflate.compress(pf.encode_headers(headers)) + deflate.flush(zlib.Z_SYNC_FLUSH)
    syn = pf.spdy_control(pf.SYN_STREAM, (3).to_bytes(4, "big") + b"\0\0\0\0\0\0" + block)
    data = pf.spdy_data(3, b"GET / HTTP/1.1\r\n\r\n", pf.FLAG_FIN)
    reader = pf.SpdyFrameReader()
    stream = syn + data
    frames = []
    for i in range(0, len(stream), 5):  # the WebSocket tunnel delivers arbitrary chunks
        frames += reader.feed(stream[i : i + 5])
    assert [(c, k, f) for c, k, f, _ in frames] == [(True, pf.SYN_STREAM, 0), (False, 3, pf.FLAG_FIN)]
    inflate = zlib.decompressobj(zdict=pf.SPDY_DICTIONARY)
    assert pf.decode_headers(inflate.decompress(frames[0][3][10:])) == headers
    assert frames[1][3] == b"GET / HTTP/1.1\r\n\r\n"


def test_http_responder() -> None:
    """The in-pod HTTP responder answers pipelined keep-alive requests and echoes non-HTTP bytes."""
    from tamer_tui.sim.portforward import HttpResponder

    r = HttpResponder("web-1", "default", "nginx", 80)
    out, close = r.feed(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc")
    text = out.decode()
    assert text.count("HTTP/1.1 200 OK") == 2 and "GET /a" in text and "POST /b" in text and not close
    out, close = r.feed(b"GET /c HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert b"Connection: close" in out and close
    echo = HttpResponder("db-0", "shop", "db", 5432)
    assert echo.feed(b"\x00\x00\x00\x08\x04\xd2\x16\x2f")[0] == b"\x00\x00\x00\x08\x04\xd2\x16\x2f"
