"""Podman-only commands: ``:ppods`` (pods), ``:systemd``, ``:quadlet``, ``:kgen``, ``:kplay``, ``:userns``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tamer_tui.core.commands import Command, split_runtime
from tamer_tui.core.errors import Conflict, InvalidInput, NotFound
from tamer_tui.core.models import RuntimeKind

if TYPE_CHECKING:
    from tamer_tui.core.podman_runtime import PodmanRuntime
    from tamer_tui.ui.app import TamerApp

POD_VERBS = ("create", "start", "stop", "restart", "pause", "unpause", "kill", "rm", "inspect", "top", "stats",
             "containers")
POD_MUTATING = {"create", "start", "stop", "restart", "pause", "unpause", "kill", "rm"}


async def find_pod(app: TamerApp, text: str) -> tuple[PodmanRuntime, str]:
    """``[RUNTIME:]NAME`` (a ``ppod/`` prefix is accepted) -> the Podman runtime that has the pod, and its name."""
    from tamer_tui.core.podman_pods import PodmanPods

    if text.startswith(("ppod/", "pod/")):
        text = text.split("/", 1)[1]
    runtime_name, name = split_runtime(text)
    candidates = [rt for rt in app.runtimes_of(RuntimeKind.PODMAN) if runtime_name in (None, rt.name)]
    if not candidates:
        raise InvalidInput("pods need a Podman engine, and none is detected (:hosts lists what was found)")
    found = []
    for rt in candidates:
        try:
            await PodmanPods(rt).inspect(name)  # type: ignore[arg-type]
        except NotFound:
            continue
        found.append(rt)
    if not found:
        raise NotFound(f"no Podman pod {name!r}")
    if len(found) > 1:
        raise InvalidInput(f"pod {name!r} exists on several engines; say which: "
                           + ", ".join(f"{rt.name}:{name}" for rt in found))
    return found[0], name  # type: ignore[return-value]


async def cmd_ppods(app: TamerApp, cmd: Command) -> None:
    """``ppods`` | ``ppods create NAME [RUNTIME]`` | ``ppods VERB [RUNTIME:]NAME``."""
    from tamer_tui.core.podman_pods import PodmanPods
    from tamer_tui.ui.screens.podman_pods_screen import PodmanPodsScreen

    args = list(cmd.args)
    if not args or args[0].startswith("/"):
        screen = app.open_list("ppods", PodmanPodsScreen)
        if args:
            screen.table.set_filter(args[0][1:])
        return
    verb = args[0]
    if verb not in POD_VERBS:
        raise InvalidInput(f"ppods: unknown action {verb!r} (one of {', '.join(POD_VERBS)})")
    if len(args) < 2:
        raise InvalidInput(f"usage: ppods {verb} [RUNTIME:]NAME")
    if verb in POD_MUTATING:
        app.guard_mutation(f"ppods {verb}")
    if verb == "create":
        runtime_name, name = split_runtime(args[1])
        rt = app.one_runtime(RuntimeKind.PODMAN, runtime_name or (args[2] if len(args) > 2 else None))
        ident = await PodmanPods(rt).create(name)  # type: ignore[arg-type]
        app.report(f"pod {name} created on {rt.name} ({ident[:12]})")
        return
    rt, name = await find_pod(app, args[1])
    pods = PodmanPods(rt)
    if verb == "inspect":
        app.show_inspect(f"pod {name} ({rt.name})", await pods.inspect(name))
    elif verb == "top":
        headers, rows = await pods.top(name)
        app.show_table(f"top: pod {name}", headers, rows)
    elif verb == "stats":
        stats = await pods.stats(name)
        app.show_table(f"stats: pod {name}", ["CONTAINER", "CPU%", "MEM", "MEM%", "NET I/O", "BLOCK I/O", "PIDS"],
                       [_stats_cells(s) for s in stats])
    elif verb == "containers":
        app.execute(f"containers /{name}")
    elif verb in ("rm", "kill"):
        question = f"{'Remove' if verb == 'rm' else 'Kill'} pod {name} on {rt.name}" + (
            " (and its containers)?" if verb == "rm" else " (SIGKILL to every container)?")
        if not await app.confirm(question, "Remove" if verb == "rm" else "Kill"):
            app.report("cancelled")
            return
        if verb == "rm":
            await pods.remove(name, force=True)
        else:
            await pods.kill(name)
        app.report(f"pod {name}: {'removed' if verb == 'rm' else 'killed'}")
    else:
        await getattr(pods, verb)(name)
        past = {"start": "started", "stop": "stopped", "restart": "restarted", "pause": "paused",
                "unpause": "unpaused"}[verb]
        app.report(f"pod {name} {past}")


def _stats_cells(s: Any) -> list[str]:
    from tamer_tui.ui.format import human_size

    def get(*names: str) -> Any:
        for n in names:
            if hasattr(s, n):
                return getattr(s, n)
        return ""

    cpu = get("cpu_percent", "cpu")
    mem = get("mem_usage", "memory")
    limit = get("mem_limit")
    mem_pct = get("mem_percent")
    net = f"{human_size(get('net_rx') or 0)} / {human_size(get('net_tx') or 0)}"
    blk = f"{human_size(get('blk_read', 'block_read') or 0)} / {human_size(get('blk_write', 'block_write') or 0)}"
    return [str(get("name", "container")), f"{float(cpu or 0):.1f}",
            f"{human_size(mem or 0)}" + (f" / {human_size(limit)}" if limit else ""),
            f"{float(mem_pct or 0):.1f}", net, blk, str(get("pids") or "")]


async def _podman_subject(app: TamerApp, text: str) -> tuple[PodmanRuntime, str, str]:
    """``container/[RT:]NAME`` or ``ppod/[RT:]NAME`` on a Podman engine -> (runtime, ident, kind)."""
    if text.startswith(("ppod/", "pod/")):
        rt, name = await find_pod(app, text)
        return rt, name, "pod"
    _, (rt, ident, display) = await app.resolve(text, "container")
    if rt.kind != RuntimeKind.PODMAN:
        raise InvalidInput(f"{display} runs on {rt.name} (Docker): systemd units, Quadlet and kube YAML come "
                           "from Podman")
    return rt, ident, "container"


async def cmd_systemd(app: TamerApp, cmd: Command) -> None:
    """``systemd container/NAME|ppod/NAME [--no-new]``: preview the units Podman generates."""
    from tamer_tui.core.podman_pods import generate_systemd
    from tamer_tui.ui.screens.file_preview_screen import FilePreviewScreen, PreviewFile

    if not cmd.args:
        raise InvalidInput(f"usage: {cmd.spec.usage}")
    rt, ident, kind = await _podman_subject(app, cmd.args[0])
    units = await generate_systemd(rt, ident, new="--no-new" not in cmd.args)
    files = [PreviewFile(name, text) for name, text in sorted(units.items())]
    app.push_screen(FilePreviewScreen(f"systemd units for {kind} {ident}", files))
    app.report(f"{len(files)} systemd unit(s) for {kind} {ident}")


async def cmd_quadlet(app: TamerApp, cmd: Command) -> None:
    """``quadlet container/NAME | ppod/NAME | kube/PATH [--dir=DIR]``: preview, then ``w`` writes."""
    from tamer_tui.core import quadlet
    from tamer_tui.core.podman_pods import container_quadlet_for, pod_quadlet_files, rootless_info
    from tamer_tui.ui.screens.file_preview_screen import FilePreviewScreen, PreviewFile

    args = list(cmd.args)
    directory: Path | None = None
    for a in list(args):
        if a.startswith("--dir="):
            directory = Path(a.split("=", 1)[1]).expanduser()
            args.remove(a)
    if not args:
        raise InvalidInput(f"usage: {cmd.spec.usage}")
    target = args[0]
    rootless = False
    if target.startswith("kube/"):
        path = Path(target[len("kube/"):]).expanduser().resolve()
        if not path.is_file():
            raise NotFound(f"{path}: no such file")
        files = [quadlet.kube_quadlet(str(path), path.stem)]
        rts = app.runtimes_of(RuntimeKind.PODMAN)
        if rts:
            rootless = (await rootless_info(rts[0])).rootless  # type: ignore[arg-type]
    else:
        rt, ident, kind = await _podman_subject(app, target)
        rootless = (await rootless_info(rt)).rootless
        if kind == "pod":
            files = await pod_quadlet_files(rt, ident)
        else:
            files = [await container_quadlet_for(rt, ident)]
    dest = directory or quadlet.quadlet_dir(rootless)

    async def write() -> None:
        await write_files(app, dest, files)

    writer = None if app.session.readonly else write
    app.push_screen(FilePreviewScreen(f"Quadlet for {target}", [PreviewFile(f.filename, f.text, f.note)
                                                               for f in files],
                                      destination=str(dest), writer=writer))


async def write_files(app: TamerApp, directory: Path, files: list[Any]) -> list[Path]:
    """Write Quadlet files; an existing file is overwritten only after a confirmation."""
    from tamer_tui.core import quadlet
    from tamer_tui.core.aio import run_blocking

    written: list[Path] = []
    for f in files:
        try:
            written.append(await run_blocking(quadlet.write_quadlet, directory, f))
        except Conflict:
            if await app.confirm(f"{directory / f.filename} exists. Overwrite it?", "Overwrite"):
                written.append(await run_blocking(quadlet.write_quadlet, directory, f, overwrite=True))
            else:
                app.report(f"kept the existing {f.filename}", "warning")
    if written:
        app.report(f"wrote {', '.join(p.name for p in written)} into {directory} "
                   "(systemctl --user daemon-reload, or daemon-reload as root, to pick them up)")
    return written


async def cmd_kgen(app: TamerApp, cmd: Command) -> None:
    """``kgen container/NAME|ppod/NAME``: Podman's kube YAML, opened in the YAML editor."""
    from tamer_tui.core.kube.drafts import EditSource
    from tamer_tui.core.podman_pods import generate_kube

    if not cmd.args:
        raise InvalidInput(f"usage: {cmd.spec.usage}")
    rt, ident, kind = await _podman_subject(app, cmd.args[0])
    text = await generate_kube(rt, [ident])
    editor = app.kube_editor(required=False)
    source = EditSource(origin="new", context=editor.context if editor is not None else "", kind="Pod",
                        name=ident, namespace=editor.namespace if editor is not None else "",
                        template=f"podman kube generate {kind} {ident}")
    app.open_editor(source, text, editor=editor,
                    note=f"generated by podman kube generate from {kind} {ident} on {rt.name}")


async def cmd_kplay(app: TamerApp, cmd: Command) -> None:
    """``kplay PATH [--replace] [--down] [--runtime=NAME]``: podman kube play (or down) of a YAML file."""
    from tamer_tui.core.aio import run_blocking
    from tamer_tui.core.podman_pods import play_kube, play_kube_down

    args = [a for a in cmd.args if not a.startswith("--")]
    runtime_name = next((a.split("=", 1)[1] for a in cmd.args if a.startswith("--runtime=")), None)
    if not args:
        raise InvalidInput(f"usage: {cmd.spec.usage}")
    path = Path(args[0]).expanduser()
    try:
        text = await run_blocking(path.read_text, encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: {exc}") from None
    rt = app.one_runtime(RuntimeKind.PODMAN, runtime_name)
    if "--down" in cmd.args:
        if not await app.confirm(f"Tear down what {path.name} created on {rt.name}?", "Down"):
            app.report("cancelled")
            return
        await play_kube_down(rt, text)  # type: ignore[arg-type]
        app.report(f"kube down {path.name}: done")
        return
    report = await play_kube(rt, text, replace="--replace" in cmd.args)  # type: ignore[arg-type]
    made = ", ".join([*(f"pod {p}" for p in report.pods), *(f"container {c}" for c in report.containers)])
    if report.errors:
        app.report(f"kube play {path.name}: {'; '.join(report.errors)}", "error")
    else:
        app.report(f"kube play {path.name}: {made or 'nothing created'}")
