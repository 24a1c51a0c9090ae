"""The whole app in a pseudo-terminal: `tamer -c "shell pod/..."` hands the terminal to a shell in a
`tamer sim` pod and gets it back. The test types like a user, resizes the window, exits the shell, and
checks the TUI redraws, reports the exit code, and quits cleanly with the terminal restored."""

from __future__ import annotations

import json
import os
import re
import select
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.kube_ui.conftest import kubectl

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")

ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


class Terminal:
    """The master side of a pty running a child process; keeps everything it read (ANSI stripped too)."""

    def __init__(self, argv: list[str], env: dict[str, str], rows: int = 40, cols: int = 140) -> None:
        import pty

        self.master, slave = pty.openpty()
        self.resize(rows, cols)
        def controlling_terminal() -> None:  # so that resizing the pty sends the child SIGWINCH
            import fcntl
            import termios

            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
                                     preexec_fn=controlling_terminal,  # noqa: PLW1509 - no threads in the child
                                     cwd=str(Path(__file__).resolve().parents[2]))
        os.close(slave)
        self.raw = b""

    def resize(self, rows: int, cols: int) -> None:
        import fcntl
        import termios

        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def read(self, timeout: float = 0.2) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.raw += data

    @property
    def text(self) -> str:
        return ANSI.sub(b"", self.raw).decode("utf-8", "replace")

    def wait_for(self, pattern: str, timeout: float = 20.0, start: int = 0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while time.monotonic() < deadline:
            self.read(0.2)
            m = rx.search(self.text, start)
            if m:
                return m
        raise AssertionError(f"{pattern!r} not seen; screen text tail:\n{self.text[-3000:]}")

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        os.close(self.master)


def test_shell_in_pod_through_the_tui(sim: Any, tmp_path: Path) -> None:
    """`tamer -c "shell pod/default/<web>"` suspends the TUI, the typed command runs in the pod's shell,
    a window resize reaches the shell (`stty size`), `exit 3` brings the TUI back with "exit code 3", and
    `:q` quits with status 0."""
    pods = json.loads(kubectl(sim, "get", "pods", "-n", "default", "-l", "app=web", "-o", "json").stdout)["items"]
    pod = next(p for p in pods if p["status"].get("phase") == "Running")
    name = pod["metadata"]["name"]
    env = {**os.environ, "TERM": "xterm-256color", "TAMER_CONFIG_DIR": str(tmp_path), "COLUMNS": "", "LINES": ""}
    env.pop("COLUMNS")
    env.pop("LINES")
    argv = [sys.executable, "-m", "tamer_tui", "--kubeconfig", sim.kubeconfig, "--context", sim.context,
            "--no-docker", "--no-podman", "-c", f"shell pod/default/{name}"]
    term = Terminal(argv, env)
    try:
        term.wait_for(r"[#$] ?$|[#$] ", timeout=30)  # the shell's prompt
        mark = len(term.text)
        term.type("echo hi-$((1+2))\r")
        term.wait_for(r"hi-3", start=mark)
        term.resize(33, 101)
        time.sleep(0.3)
        mark = len(term.text)
        term.type("stty size\r")
        term.wait_for(r"33 101", start=mark)
        mark = len(term.text)
        term.type("exit 3\r")
        term.wait_for(r"exit code 3", start=mark, timeout=20)  # the TUI is back and says how the shell ended
        term.type(":")
        time.sleep(0.3)
        term.type("q\r")
        deadline = time.monotonic() + 15
        while term.proc.poll() is None and time.monotonic() < deadline:
            term.read(0.2)
        assert term.proc.poll() == 0, term.text[-2000:]
    finally:
        term.close()
