"""A child process for the pseudo-terminal tests: prepare a session, play it on its terminal, report.

``python -m tests.exec.pty_child SPEC_JSON`` with the pty slave as stdin/stdout/stderr (the test owns
the master). It makes the pty its controlling terminal (so resizing the pty sends it SIGWINCH),
installs a marker SIGWINCH handler, optionally stretches the bridge's idle wake-up (so only
SIGWINCH can deliver a resize in time), prepares the session (``shell``, ``exec`` or ``attach`` on a pod
or a Docker/Podman container), runs it, and prints ``EXIT=<code>`` (or ``ERROR=<message>``), then
``WINCH=restored|changed``, ``MODE=same|changed`` (terminal attributes before and after) and
``LEAKS threads=<n> fds=<n>`` (extra threads and descriptors left after the session).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
from typing import Any


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def _prepare(spec: dict[str, Any]) -> tuple[Any, Any]:
    from tamer_tui.core.exec import ExecTarget, prepare_attach, prepare_exec, prepare_shell

    closer: Any = None
    if spec["kind"] == "pod":
        from tamer_tui.core.kube.manager import KubeManager

        km = KubeManager(kubeconfig=spec["kubeconfig"], context=spec["context"])
        km.load()
        closer = km
        target = ExecTarget("pod", f"pod/{spec['namespace']}/{spec['pod']}/{spec['container']}", kube=km,
                            context=spec["context"], namespace=spec["namespace"], pod=spec["pod"],
                            container=spec["container"])
    else:
        from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind

        if spec["runtime"] == "docker":
            from tamer_tui.core.docker_runtime import DockerRuntime

            rt: Any = DockerRuntime(RuntimeEndpoint(RuntimeKind.DOCKER, "docker", spec["url"], "test"))
        else:
            from tamer_tui.core.podman_runtime import PodmanRuntime

            rt = PodmanRuntime(RuntimeEndpoint(RuntimeKind.PODMAN, "podman", spec["url"], "test"))
        await rt.connect()
        closer = rt
        target = ExecTarget("container", f"container/{spec['runtime']}:{spec['ident']}", runtime=rt,
                            ident=spec["ident"])
    try:
        if spec["action"] == "shell":
            session = await prepare_shell(target, spec.get("shells") or ["bash", "sh"])
        elif spec["action"] == "exec":
            session = await prepare_exec(target, spec["argv"], tty=spec.get("tty", True))
        else:
            session = await prepare_attach(target)
    except BaseException:
        await closer.close()
        raise
    return session, closer


def main() -> int:
    import fcntl
    import termios

    spec = json.loads(sys.argv[1])
    if "idle_wake" in spec:
        import tamer_tui.core.exec as ex

        ex.IDLE_WAKE = float(spec["idle_wake"])
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # our pty becomes the controlling terminal: SIGWINCH reaches us

    def marker(_sig: int, _frame: Any) -> None:
        return None

    signal.signal(signal.SIGWINCH, marker)
    mode_before = termios.tcgetattr(0)
    threads_before = {t.ident for t in threading.enumerate()}
    fds_before = _fds()
    loop = asyncio.new_event_loop()
    try:
        session, closer = loop.run_until_complete(_prepare(spec))
    except Exception as exc:  # noqa: BLE001 - reported to the test
        print(f"ERROR={type(exc).__name__}: {exc}", flush=True)
        return 0
    print(f"PREPARED {session.description}", flush=True)
    try:
        code = session.run()
        result = f"EXIT={code}"
    except Exception as exc:  # noqa: BLE001 - reported to the test
        result = f"ERROR={type(exc).__name__}: {exc}"
    finally:
        loop.run_until_complete(closer.close())
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
    mode_after = termios.tcgetattr(0)
    leaked_threads = [t.name for t in threading.enumerate() if t.ident not in threads_before]
    print(f"\r\n{result}", flush=True)
    print("WINCH=" + ("restored" if signal.getsignal(signal.SIGWINCH) is marker else "changed"), flush=True)
    print("MODE=" + ("same" if mode_after == mode_before else "changed"), flush=True)
    print(f"LEAKS threads={len(leaked_threads)} fds={_fds() - fds_before} {leaked_threads}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
