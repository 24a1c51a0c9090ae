"""``run_tool`` and ``find_tools`` with real processes: lines stream as they are printed, ANSI codes go,
failures raise after every line was yielded, and cancelling kills the tool and its children.

The stand-in tools are small Python programs run with this interpreter (``sys.executable -c ...``).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import pytest

from tamer_tui.core import compose
from tamer_tui.core.compose import OutputLine, find_tools, pick_tool, project_action, run_tool
from tamer_tui.core.errors import BackendError, InvalidInput
from tamer_tui.core.models import RuntimeKind
from tests.compose.conftest import collect, need_tool

PY = sys.executable


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie (an orphan re-parented to a non-reaping init)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


async def test_lines_stream_before_the_tool_ends() -> None:
    """A tool that prints, sleeps 1.5 s and prints: the first line is yielded a second or more before the
    second, i.e. while the tool still runs; then 'exit 0' as a status line."""
    script = "import time; print('first', flush=True); time.sleep(1.5); print('second', flush=True)"
    stamps: list[tuple[float, OutputLine]] = []
    async for line in run_tool([PY, "-c", script]):
        stamps.append((time.monotonic(), line))
    assert [ln for _, ln in stamps] == [OutputLine("first"), OutputLine("second"), OutputLine("exit 0", "status")]
    assert stamps[1][0] - stamps[0][0] >= 1.0


async def test_stderr_ansi_and_carriage_returns() -> None:
    """stderr lines are tagged stderr, colour codes are stripped, a line redrawn with \\r shows its final
    text, a last line without a newline still arrives, and env/cwd reach the tool."""
    script = ("import os, sys; print('\\x1b[1;32mok\\x1b[0m', flush=True); "
              "print('warn', file=sys.stderr, flush=True); print('10%\\r50%\\r100%', flush=True); "
              "print(os.environ['TT_COMPOSE_X'], os.getcwd(), flush=True); sys.stdout.write('tail')")
    lines = await collect(run_tool([PY, "-c", script], env={**os.environ, "TT_COMPOSE_X": "xval"}, cwd="/tmp"))
    assert OutputLine("warn", "stderr") in lines
    assert [ln.text for ln in lines if ln.stream == "stdout"] == ["ok", "100%", "xval /tmp", "tail"]
    assert lines[-1] == OutputLine("exit 0", "status")


async def test_failure_raises_after_all_lines() -> None:
    """A non-zero exit: every line and 'exit 3' are yielded first, then BackendError names the tool, the
    code and the line that explains it (the last error-like stderr line)."""
    script = ("import sys; print('Creating web ... ', flush=True); print('ERROR: no such image: x', file=sys.stderr, "
              "flush=True); print('  at line 3', file=sys.stderr, flush=True); sys.exit(3)")
    got: list[OutputLine] = []
    with pytest.raises(BackendError, match=r"exited with 3: ERROR: no such image: x$"):
        async for line in run_tool([PY, "-c", script]):
            got.append(line)
    assert got[0] == OutputLine("Creating web ... ")
    assert got[-1] == OutputLine("exit 3", "status")


async def test_merge_stderr_keeps_exact_order() -> None:
    """With merge_stderr the OS interleaves both streams in one pipe: the order printed is the order seen."""
    script = ("import sys\nfor i in range(50):\n    (sys.stdout if i % 2 else sys.stderr).write(f'{i}\\n'); "
              "(sys.stdout if i % 2 else sys.stderr).flush()")
    lines = await collect(run_tool([PY, "-c", script], merge_stderr=True))
    assert [ln.text for ln in lines[:-1]] == [str(i) for i in range(50)]
    assert {ln.stream for ln in lines[:-1]} == {"stdout"}


@pytest.mark.skipif(sys.platform == "win32", reason="reads /proc to see the processes")
async def test_cancel_kills_the_tool_and_its_children() -> None:
    """Cancelling the consumer kills the tool's whole process group: the tool and a child it started are
    gone within seconds (not after their 60 s sleep)."""
    script = ("import os, subprocess, sys, time; c = subprocess.Popen([sys.executable, '-c', 'import time; "
              "time.sleep(60)']); print(os.getpid(), c.pid, flush=True); time.sleep(60)")
    first: asyncio.Queue[str] = asyncio.Queue()

    async def consume() -> None:
        async for line in run_tool([PY, "-c", script]):
            await first.put(line.text)

    task = asyncio.create_task(consume())
    tool_pids = [int(p) for p in (await asyncio.wait_for(first.get(), 10)).split()]
    assert len(tool_pids) == 2 and all(alive(p) for p in tool_pids)
    t0 = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    while any(alive(p) for p in tool_pids) and time.monotonic() - t0 < 10:
        await asyncio.sleep(0.05)
    assert not any(alive(p) for p in tool_pids)
    assert time.monotonic() - t0 < 5


@pytest.mark.skipif(sys.platform == "win32", reason="reads /proc to see the processes")
async def test_closing_early_kills_the_tool() -> None:
    """Leaving the loop and closing the iterator after the first line stops the tool as well."""
    script = "import os, time; print(os.getpid(), flush=True); time.sleep(60)"
    lines = run_tool([PY, "-c", script])
    pid = int((await anext(lines)).text)
    await lines.aclose()  # type: ignore[attr-defined]
    assert not alive(pid)


async def test_missing_program_and_directory() -> None:
    """A program not on PATH and a working dir that does not exist are clear InvalidInput errors."""
    with pytest.raises(InvalidInput, match="tt-compose-nope is not installed"):
        await collect(run_tool(["tt-compose-nope", "up"]))
    with pytest.raises(InvalidInput, match="does not exist"):
        await collect(run_tool([PY, "-c", "pass"], cwd="/nonexistent/tt-compose"))


async def test_find_tools_probes_the_installed_tools() -> None:
    """The real probes find docker-compose (v1) and podman-compose with the versions they report
    themselves; the result is cached until refresh."""
    need_tool("docker-compose")
    need_tool("podman-compose")
    compose.clear_tools_cache()
    tools = {t.name: t for t in await find_tools()}
    short = subprocess.run(["docker-compose", "version", "--short"], capture_output=True, text=True,
                           check=True).stdout.strip()
    assert tools["docker-compose"].version == short and tools["docker-compose"].argv == ("docker-compose",)
    assert tools["docker-compose"].engine == RuntimeKind.DOCKER
    assert tools["podman-compose"].version[:1].isdigit() and tools["podman-compose"].engine == RuntimeKind.PODMAN
    plugin = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, check=False)
    assert ("docker compose" in tools) == (plugin.returncode == 0)
    assert compose._tools_cache is not None and await find_tools() == list(tools.values())


async def test_no_tool_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]) -> None:
    """With nothing on PATH no tool is found, and picking one fails with the install hint."""
    compose.clear_tools_cache()
    monkeypatch.setenv("PATH", str(tmp_path))
    try:
        assert await find_tools() == []
        with pytest.raises(InvalidInput, match="no compose tool for podman: install podman-compose or docker compose"):
            pick_tool(RuntimeKind.PODMAN, await find_tools())
    finally:
        compose.clear_tools_cache()


async def test_project_action_refuses_unknown_action() -> None:
    """An action outside COMPOSE_ACTIONS is refused before anything runs."""
    from tests.compose.test_compose_units import project

    with pytest.raises(InvalidInput, match="unknown compose action 'logs'"):
        await collect(project_action(None, project(), "logs", tools=[]))  # type: ignore[arg-type]
