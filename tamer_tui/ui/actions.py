"""What each action command does: resolve the target, confirm when destructive, call the runtime.

Each ``cmd_<name>`` runs in a worker (``TamerApp.run_command``) and reports through
``app.report``; errors are ``TamerError`` subclasses with messages fit for the user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tamer_tui.core.commands import Command
from tamer_tui.core.errors import InvalidInput, NotFound
from tamer_tui.core.logstream import LogOptions, LogSession
from tamer_tui.core.runtime import ContainerRuntime
from tamer_tui.ui.format import human_size

if TYPE_CHECKING:
    from tamer_tui.ui.app import TamerApp


def _need(cmd: Command, n: int) -> None:
    if len(cmd.args) < n:
        raise InvalidInput(f"usage: {cmd.spec.usage or cmd.name}")


async def _resolve(app: TamerApp, cmd: Command, default_kind: str | None = None) -> tuple[Any, ContainerRuntime, str, str]:
    _need(cmd, 1)
    target, (rt, ident, display) = await app.resolve(cmd.args[0], default_kind)
    return target, rt, ident, display


def _kube(app: TamerApp, cmd: Command) -> bool:
    from tamer_tui.ui.kube_nav import is_kube_target

    return bool(cmd.args) and is_kube_target(cmd.args[0])


async def cmd_describe(app: TamerApp, cmd: Command) -> None:
    if _kube(app, cmd):
        await app.kube_action("describe", cmd.args)
    else:
        await cmd_inspect(app, cmd)


async def cmd_yaml(app: TamerApp, cmd: Command) -> None:
    if _kube(app, cmd):
        await app.kube_action("yaml", cmd.args)
    else:
        await cmd_inspect(app, cmd)


async def _kube_only(app: TamerApp, cmd: Command) -> None:
    _need(cmd, 1)
    await app.kube_action(cmd.name, cmd.args)


cmd_reveal = _kube_only
cmd_scale = _kube_only
cmd_cordon = _kube_only
cmd_uncordon = _kube_only
cmd_drain = _kube_only
cmd_trigger = _kube_only
cmd_suspend = _kube_only
cmd_unsuspend = _kube_only


def _tail(cmd: Command) -> int | None:
    for a in cmd.args[1:]:
        if a.startswith("--tail="):
            value = a.split("=", 1)[1]
            if value == "all":
                return None
            if not value.isdigit():
                raise InvalidInput(f"--tail takes a number or 'all', got {value!r}")
            return int(value)
    return 1000


async def cmd_logs(app: TamerApp, cmd: Command) -> None:
    """``logs TARGET [--tail=N|all] [--since=5m] [--timestamps] [--previous]`` (targets: see core.logtargets)."""
    from tamer_tui.core.logtargets import (
        is_kube_log_target,
        open_kube_logs,
        open_runtime_logs,
        parse_log_args,
    )

    settings = app.log_settings()
    req = parse_log_args(cmd.args, default_tail=settings.tail)
    kube_target = is_kube_log_target(req.target)
    if kube_target:
        kube = app.kube

        async def opener(options: LogOptions) -> LogSession:
            return await open_kube_logs(kube, req.target, options)
    else:
        manager = app.session.manager

        async def opener(options: LogOptions) -> LogSession:
            return await open_runtime_logs(manager, req.target, options)

    session = await opener(req.options)  # a wrong target fails here, before a screen opens
    app.show_logs(session, opener, req.options, timestamps=req.timestamps, kube=kube_target)


async def cmd_inspect(app: TamerApp, cmd: Command) -> None:
    if _kube(app, cmd):
        await app.kube_action("yaml", cmd.args)
        return
    target, rt, ident, display = await _resolve(app, cmd, "container")
    fetch = {
        "container": rt.inspect_container,
        "image": rt.inspect_image,
        "network": rt.inspect_network,
        "volume": rt.inspect_volume,
    }[target.kind]
    data = await fetch(ident)
    app.show_inspect(f"{target.kind} {rt.name}:{display}", data)


async def cmd_env(app: TamerApp, cmd: Command) -> None:
    _, rt, ident, display = await _resolve(app, cmd, "container")
    data = await rt.inspect_container(ident)
    env = (data.get("Config") or {}).get("Env") or []
    rows = [list(e.partition("=")[::2]) for e in env]
    app.show_table(f"env {rt.name}:{display}", ["NAME", "VALUE"], rows)


async def cmd_top(app: TamerApp, cmd: Command) -> None:
    _, rt, ident, display = await _resolve(app, cmd, "container")
    titles, procs = await rt.top_container(ident)
    app.show_table(f"top {rt.name}:{display}", titles, procs)


async def cmd_stats(app: TamerApp, cmd: Command) -> None:
    _, rt, ident, display = await _resolve(app, cmd, "container")
    app.show_stats(rt, ident, display)


async def cmd_history(app: TamerApp, cmd: Command) -> None:
    _, rt, ident, display = await _resolve(app, cmd, "image")
    layers = await rt.image_history(ident)
    rows = [
        [
            str(layer.get("Id", ""))[:19],
            human_size(float(layer.get("Size") or 0)),
            str(layer.get("CreatedBy", ""))[:120],
            ",".join(layer.get("Tags") or []),
        ]
        for layer in layers
    ]
    app.show_table(f"history {rt.name}:{display}", ["LAYER", "SIZE", "CREATED BY", "TAGS"], rows)


async def _simple(app: TamerApp, cmd: Command, verb: str, past: str) -> None:
    _, rt, ident, display = await _resolve(app, cmd, "container")
    await getattr(rt, f"{verb}_container")(ident)
    app.report(f"{past} {rt.name}:{display}")


async def cmd_start(app: TamerApp, cmd: Command) -> None:
    await _simple(app, cmd, "start", "started")


async def cmd_stop(app: TamerApp, cmd: Command) -> None:
    await _simple(app, cmd, "stop", "stopped")


async def cmd_restart(app: TamerApp, cmd: Command) -> None:
    if _kube(app, cmd):
        await app.kube_action("restart", cmd.args)
        return
    await _simple(app, cmd, "restart", "restarted")


async def cmd_pause(app: TamerApp, cmd: Command) -> None:
    await _simple(app, cmd, "pause", "paused")


async def cmd_unpause(app: TamerApp, cmd: Command) -> None:
    await _simple(app, cmd, "unpause", "unpaused")


async def cmd_kill(app: TamerApp, cmd: Command) -> None:
    if _kube(app, cmd):
        await app.kube_action("kill", cmd.args)
        return
    _, rt, ident, display = await _resolve(app, cmd, "container")
    if not await app.confirm(f"Kill container {rt.name}:{display} (SIGKILL)?", "Kill"):
        app.report("kill cancelled")
        return
    await rt.kill_container(ident)
    app.report(f"killed {rt.name}:{display}")


async def cmd_rm(app: TamerApp, cmd: Command) -> None:
    if _kube(app, cmd):
        await app.kube_action("rm", cmd.args)
        return
    default = "image" if cmd.raw.split()[0] == "rmi" else "container"
    target, rt, ident, display = await _resolve(app, cmd, default)
    force = "--force" in cmd.args or "-f" in cmd.args
    if not await app.confirm(f"Delete {target.kind} {rt.name}:{display}{' (forced)' if force else ''}?"):
        app.report("delete cancelled")
        return
    if target.kind == "container":
        await rt.remove_container(ident, force=force)
    elif target.kind == "image":
        await rt.remove_image(ident, force=force)
    elif target.kind == "network":
        await rt.remove_network(ident)
    else:
        await rt.remove_volume(ident, force=force)
    app.report(f"deleted {target.kind} {rt.name}:{display}")


async def cmd_rename(app: TamerApp, cmd: Command) -> None:
    _need(cmd, 2)
    _, rt, ident, display = await _resolve(app, cmd, "container")
    await rt.rename_container(ident, cmd.args[1])
    app.report(f"renamed {rt.name}:{display} to {cmd.args[1]}")


def _pick_runtime(app: TamerApp, name: str | None) -> ContainerRuntime:
    manager = app.session.manager
    if name:
        return manager.get(name)
    reachable = [s.runtime for s in manager.states.values() if s.reachable]
    if not reachable:
        raise NotFound("no reachable container runtime")
    return reachable[0]


async def cmd_pull(app: TamerApp, cmd: Command) -> None:
    _need(cmd, 1)
    ref = cmd.args[0]
    runtime_name = None
    head, sep, tail = ref.partition(":")
    if sep and head in app.session.manager.states:
        runtime_name, ref = head, tail
    rt = _pick_runtime(app, runtime_name)
    last = ""
    async for p in rt.pull_image(ref):
        text = f"pull {ref}: {p.status}"
        if p.total:
            text += f" {p.layer} {100 * p.current // max(1, p.total)}%"
        if text != last:
            last = text
            screen = app.screen
            if hasattr(screen, "set_status"):
                screen.set_status(text)
    app.report(f"pulled {ref} on {rt.name}")


async def cmd_tag(app: TamerApp, cmd: Command) -> None:
    _need(cmd, 2)
    _, rt, ident, display = await _resolve(app, cmd, "image")
    new = cmd.args[1]
    last = new.rsplit("/", 1)[-1]
    repo, tag = (new.rsplit(":", 1) if ":" in last else (new, "latest"))
    await rt.tag_image(ident, repo, tag)
    app.report(f"tagged {rt.name}:{display} as {repo}:{tag}")


async def cmd_prune(app: TamerApp, cmd: Command) -> None:
    _need(cmd, 1)
    kind = cmd.args[0].lower().rstrip("s")
    if kind not in ("image", "network", "volume"):
        raise InvalidInput("usage: prune images|networks|volumes [RUNTIME]")
    runtimes = [_pick_runtime(app, cmd.args[1])] if len(cmd.args) > 1 else [
        s.runtime for s in app.session.manager.states.values() if s.reachable
    ]
    names = ", ".join(rt.name for rt in runtimes)
    what = {"image": "dangling images", "network": "unused networks", "volume": "unused volumes"}[kind]
    if not await app.confirm(f"Prune {what} on {names}?", "Prune"):
        app.report("prune cancelled")
        return
    total = 0
    count = 0
    for rt in runtimes:
        result = await getattr(rt, f"prune_{kind}s")()
        total += result.space_reclaimed
        count += len(result.deleted)
    app.report(f"pruned {count} {kind}(s), reclaimed {human_size(total)}")


async def cmd_create(app: TamerApp, cmd: Command) -> None:
    _need(cmd, 2)
    kind = cmd.args[0].lower().rstrip("s")
    name = cmd.args[1]
    rt = _pick_runtime(app, cmd.args[2] if len(cmd.args) > 2 else None)
    if kind == "network":
        await rt.create_network(name)
    elif kind == "volume":
        await rt.create_volume(name)
    else:
        raise InvalidInput("usage: create network|volume NAME [RUNTIME]")
    app.report(f"created {kind} {rt.name}:{name}")


async def cmd_runtimes(app: TamerApp, cmd: Command) -> None:
    rows = []
    for name, s in app.session.manager.states.items():
        info = s.info
        rows.append([
            name,
            s.endpoint.kind.value,
            s.endpoint.url,
            s.endpoint.source,
            info.version if info else "-",
            "yes" if (info.rootless if info else s.endpoint.rootless) else "no",
            "reachable" if info else (s.error or "not checked"),
        ])
    app.show_table("runtimes", ["NAME", "KIND", "URL", "FOUND BY", "VERSION", "ROOTLESS", "STATE"], rows)
