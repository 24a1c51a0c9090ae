"""Exec, shell and attach into pods of `tamer sim` over the channel WebSocket (v5, v4 fallback): a
command's output and exit code, an interactive shell driven through a real pseudo-terminal (typing,
resize via SIGWINCH, exit code, terminal restored), attach, and every fault with its message (403,
no shell, pod/container not running, connection dropped), with no thread or socket left behind."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from tamer_tui.core import exec as ex
from tamer_tui.core.errors import NotFound, PermissionDenied
from tamer_tui.core.kube.manager import KubeManager
from tamer_tui.sim.server import SimHandle
from tests.exec.conftest import Leaks, create_pod, delete_pod, pod_named, pod_target
from tests.socket_proxy import TcpProxy


async def test_run_command_output_and_exit_code(sim: SimHandle, kube: KubeManager) -> None:
    """A command without TTY: stdout and stderr apart, the exit code from the Status; a missing
    program comes back as exit 126 with the runtime's message; nothing stays open afterwards."""
    leaks = Leaks()
    target = pod_target(kube, await pod_named(kube, "web"))
    res = await ex.run_command(target, ["sh", "-c", "echo hello; echo oops >&2; exit 3"])
    assert res == ex.CommandResult(3, "hello\n", "oops\n")
    assert (await ex.run_command(target, ["cat", "/etc/hostname"])).stdout == f"{target.pod}\n"
    missing = await ex.run_command(target, ["nosuchcmd"])
    assert missing.exit_code == 126 and "executable file not found" in missing.stderr
    t0 = time.perf_counter()
    for _ in range(10):
        assert (await ex.run_command(target, ["true"])).exit_code == 0
    per_call = (time.perf_counter() - t0) / 10
    print(f"\nrun_command round trip on the sim: {per_call * 1000:.1f} ms")
    await kube.close()
    await leaks.check()


async def test_v4_fallback_when_v5_is_not_offered(sim: SimHandle, kube: KubeManager,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A server without v5 (here: we offer an unknown protocol instead of v5) negotiates v4; output,
    status and exit code work the same."""
    target = pod_target(kube, await pod_named(kube, "web"))
    config = (await kube.client()).config
    monkeypatch.setattr(ex, "V5", "v99.channel.example")
    query = ex._exec_query(target.container, ["sh", "-c", "echo v4-ok; exit 2"], stdin=False, tty=False)
    path = ex._pod_path(target.namespace, target.pod, "exec")
    stream = await asyncio.to_thread(ex.KubeChannelStream.open, config, path, query, "t", tty=False)
    assert stream.protocol == ex.V4
    res = await asyncio.to_thread(ex.drain, stream, time.monotonic() + 10, "t")
    assert res == ex.CommandResult(2, "v4-ok\n", "")


async def test_pod_containers_running_first(sim: SimHandle, kube: KubeManager) -> None:
    """The picker list has every container of the pod, running ones first."""
    name = f"two-{uuid.uuid4().hex[:5]}"
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "broken", "image": "doesnotexist/x:1"},
                                    {"name": "app", "image": "nginx:1.27"}]}}
    try:
        await create_pod(kube, body, phase="Pending")
        deadline = time.monotonic() + 15
        while (names := await ex.pod_containers(kube, None, "default", name)) != ["app", "broken"]:
            assert time.monotonic() < deadline, names
            await asyncio.sleep(0.1)
        pod = json.loads(await (await kube.client()).get(f"/api/v1/namespaces/default/pods/{name}"))
        with pytest.raises(ex.TargetNotRunning, match="container broken is not running .waiting"):
            await ex.prepare_shell(pod_target(kube, pod, "broken"), ["sh"])
    finally:
        await delete_pod(kube, name)


async def test_shell_through_a_pseudo_terminal(sim: SimHandle, kube: KubeManager, pty_child: Any) -> None:
    """The whole interactive path in a child process on a pty: prepare_shell picks bash, the test
    types a command and reads its output, resizes the pty while a command runs (the child gets
    SIGWINCH and the remote shell sees the new size without any key typed), types `exit 7`: the child gets 7, the terminal mode and the SIGWINCH
    handler are back as they were, and no thread or descriptor is left in the child."""
    pod = await pod_named(kube, "web")
    spec = {"kind": "pod", "kubeconfig": sim.kubeconfig, "context": sim.context, "namespace": "default",
            "pod": pod["metadata"]["name"], "container": pod["spec"]["containers"][0]["name"], "action": "shell",
            "idle_wake": 120}
    child = pty_child(spec, rows=24, cols=80)
    t0 = time.perf_counter()
    assert "bash in pod/default/" in child.expect("/ # ", timeout=30)
    print(f"\nshell prompt after {time.perf_counter() - t0:.2f} s (child start, kubeconfig, probe, connect)")
    child.send("stty size\r")
    child.expect("24 80")
    child.send("echo hello-$((1+2))\r")
    child.expect("hello-3")
    # resize while a command runs and no key is typed: only the SIGWINCH handler can forward it
    child.send("sleep 1; stty size\r")
    child.expect("stty size\r\n")
    child.resize(50, 132)
    child.expect("50 132")
    child.send("exit 7\r")
    child.expect("EXIT=7")
    child.expect("WINCH=restored")
    child.expect("MODE=same")
    child.expect("LEAKS threads=0 fds=0")
    assert child.wait() == 0


async def test_interactive_exec_and_leaks_in_process(sim: SimHandle, kube: KubeManager, inproc_pty: Any) -> None:
    """prepare_exec with a TTY runs the argv interactively (here a shell reading one line); in this
    process: the reader thread and the WebSocket are gone after the session."""
    pty = inproc_pty(rows=30, cols=100)
    leaks = Leaks()
    target = pod_target(kube, await pod_named(kube, "web"))
    session = await ex.prepare_exec(target, ["sh"], tty=True)
    assert session.description == f"sh in {target.title}"
    pty.start(session)
    await asyncio.to_thread(pty.expect, "/ # ")
    pty.send("stty size; exit 3\r")
    await asyncio.to_thread(pty.expect, "30 100")
    assert await pty.finished() == ("exit", 3)
    assert pty.mode_restored()
    await kube.close()
    await leaks.check()


async def test_attach_to_an_interactive_main_process(sim: SimHandle, kube: KubeManager, inproc_pty: Any) -> None:
    """Attach to a pod whose main process is an interactive shell (stdin + tty): typed commands run
    in it and its exit code ends the session."""
    name = f"att-{uuid.uuid4().hex[:5]}"
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"restartPolicy": "Never",
                     "containers": [{"name": "main", "image": "busybox", "command": ["sh"], "stdin": True, "tty": True}]}}
    pty = inproc_pty()
    try:
        pod = await create_pod(kube, body)
        session = await ex.prepare_attach(pod_target(kube, pod))
        assert session.tty and session.stdin and "detach: Ctrl-P Ctrl-Q" in session.description
        pty.start(session)
        await asyncio.sleep(0.3)
        pty.send("echo attached-$((2+3))\r")
        await asyncio.to_thread(pty.expect, "attached-5")
        pty.send("exit 4\r")
        assert await pty.finished() == ("exit", 4)
        assert pty.mode_restored()
    finally:
        await delete_pod(kube, name)


async def test_attach_streams_output_and_detaches(sim: SimHandle, kube: KubeManager, inproc_pty: Any) -> None:
    """Attach to an ordinary container streams its output; Ctrl-P Ctrl-Q detaches (None), leaving
    the pod running."""
    pod = await pod_named(kube, "chatty")
    pty = inproc_pty()
    session = await ex.prepare_attach(pod_target(kube, pod))
    assert not session.stdin
    pty.start(session)
    await asyncio.to_thread(pty.expect, "\n", 10)
    pty.send(b"\x10\x11")
    assert await pty.finished() == ("exit", None)
    assert pty.mode_restored()
    assert (await pod_named(kube, "chatty"))["metadata"]["uid"] == pod["metadata"]["uid"]


async def test_forbidden_is_a_clear_permission_error(sim: SimHandle) -> None:
    """The restricted user may read pods but not exec/attach: every entry point raises the 403 as
    PermissionDenied (Forbidden) naming pods/exec or pods/attach, before any terminal is touched."""
    km = KubeManager(kubeconfig=sim.kubeconfig, context=sim.restricted_context)
    km.load()
    try:
        target = pod_target(km, await pod_named(km, "web"))
        with pytest.raises(PermissionDenied, match='cannot create resource "pods/exec"'):
            await ex.prepare_shell(target, ["bash", "sh"])
        with pytest.raises(PermissionDenied, match='cannot create resource "pods/exec"'):
            await ex.run_command(target, ["true"])
        with pytest.raises(PermissionDenied, match="pods/exec"):
            await ex.prepare_exec(target, ["sh"])
        with pytest.raises(PermissionDenied, match="pods/attach"):
            await ex.prepare_attach(target)
    finally:
        await km.close()


async def test_missing_shell_pod_and_container(sim: SimHandle, kube: KubeManager) -> None:
    """No configured shell in the container, a missing pod and a missing container each get their
    own error and message."""
    pod = await pod_named(kube, "web")
    target = pod_target(kube, pod)
    with pytest.raises(ex.NoShellFound, match=r"has no shell \(tried zsh, fish\)"):
        await ex.prepare_shell(target, ["zsh", "fish"])
    ghost = ex.ExecTarget("pod", "pod/default/ghost/app", kube=kube, context=sim.context, namespace="default",
                          pod="ghost", container="app")
    with pytest.raises(NotFound, match='pods "ghost" not found'):
        await ex.prepare_shell(ghost, ["sh"])
    with pytest.raises(NotFound, match="no container 'nope'"):
        await ex.run_command(pod_target(kube, pod, "nope"), ["true"])


async def test_completed_pod_is_not_running(sim: SimHandle, kube: KubeManager) -> None:
    """A pod whose container finished (phase Succeeded) cannot be exec'd into: TargetNotRunning."""
    name = f"done-{uuid.uuid4().hex[:5]}"
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"restartPolicy": "Never",
                     "containers": [{"name": "job", "image": "busybox", "command": ["sh", "-c", "echo done"]}]}}
    try:
        pod = await create_pod(kube, body, phase="Succeeded")
        with pytest.raises(ex.TargetNotRunning, match="the pod has completed"):
            await ex.prepare_shell(pod_target(kube, pod), ["sh"])
        with pytest.raises(ex.TargetNotRunning):
            await ex.prepare_attach(pod_target(kube, pod))
    finally:
        await delete_pod(kube, name)


async def test_connection_dropped_mid_session(sim: SimHandle, tmp_path: Path, inproc_pty: Any) -> None:
    """The API server connection is cut during a shell: run() raises ConnectionDropped (not a
    hang), the terminal is restored, and no thread or socket is left."""
    u = urlparse(sim.url)
    proxy = TcpProxy(u.hostname or "127.0.0.1", int(u.port or 443))
    await proxy.start()
    cfg = yaml.safe_load(Path(sim.kubeconfig).read_text())
    for c in cfg["clusters"]:
        c["cluster"]["server"] = f"https://{proxy.url}"
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(cfg))
    pty = inproc_pty()
    leaks = Leaks()
    km = KubeManager(kubeconfig=str(path), context=sim.context)
    km.load()
    try:
        target = pod_target(km, await pod_named(km, "web"))
        session = await ex.prepare_shell(target, ["sh"])
        pty.start(session)
        await asyncio.to_thread(pty.expect, "/ # ")
        pty.send("echo before-cut\r")
        await asyncio.to_thread(pty.expect, "before-cut\r\n")
        await proxy.stop()
        kind, err = await pty.finished()
        assert kind == "error" and isinstance(err, ex.ConnectionDropped), err
        assert "dropped before the process ended" in str(err)
        assert pty.mode_restored()
    finally:
        await km.close()
        await proxy.stop()
    await leaks.check()
