"""Containers beyond the basics: ``:run`` (dialog or arguments), ``:limits``, ``:health``, ``:userns``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from tamer_tui.core.commands import Command, split_runtime
from tamer_tui.core.errors import InvalidInput, TamerError
from tamer_tui.core.models import RuntimeKind
from tamer_tui.ui.format import human_size

if TYPE_CHECKING:
    from tamer_tui.ui.app import TamerApp

RUN_LABELS = {
    "image": ("Image", "repository:tag (must exist locally or be pullable)"),
    "name": ("Name", "empty: the engine picks one"),
    "command": ("Command", "argv, shell-style quoting; no shell unless you write sh -c '...'"),
    "ports": ("Ports", "HOST:CONTAINER[/udp], comma separated (8080:80)"),
    "env": ("Environment", "KEY=VALUE, comma separated"),
    "volumes": ("Volumes", "SRC:DST[:ro], comma separated (a host path or a volume name)"),
    "network": ("Network", "bridge, host, none or a network name"),
    "cpus": ("CPUs", "1.5 or 500m"),
    "memory": ("Memory", "512m, 1g"),
    "restart": ("Restart policy", "no, always, unless-stopped, on-failure[:N]"),
    "health_cmd": ("Health command", "e.g. wget -q -O- http://127.0.0.1/ (empty: none)"),
    "health_interval": ("Health interval", "30s"),
    "labels": ("Labels", "KEY=VALUE, comma separated"),
    "workdir": ("Working dir", "inside the container"),
    "user": ("User", "uid[:gid] or name"),
}
# command-line options of `run` -> form fields (repeatable ones are joined with commas)
RUN_OPTIONS = {"--name": "name", "-p": "ports", "--publish": "ports", "-e": "env", "--env": "env", "-v": "volumes",
               "--volume": "volumes", "--network": "network", "--net": "network", "--cpus": "cpus", "-m": "memory",
               "--memory": "memory", "--restart": "restart", "--health-cmd": "health_cmd",
               "--health-interval": "health_interval", "-l": "labels", "--label": "labels", "-w": "workdir",
               "--workdir": "workdir", "-u": "user", "--user": "user"}
REPEATABLE = {"ports", "env", "volumes", "labels"}


def run_values_from_args(args: list[str]) -> tuple[str | None, dict[str, str], bool, str | None]:
    """``run`` arguments -> (runtime, form values, open the dialog?, --like target)."""
    import shlex

    values: dict[str, str] = {}
    runtime: str | None = None
    dialog = False
    like: str | None = None
    if "--" in args:
        i = args.index("--")
        values["command"] = shlex.join(args[i + 1:])
        args = args[:i]
    it = iter(args)
    for a in it:
        name, eq, inline = a.partition("=")
        if a == "--dialog":
            dialog = True
        elif name == "--like":
            like = inline if eq else next(it, None)
        elif name == "--runtime":
            runtime = inline if eq else next(it, None)
        elif name in RUN_OPTIONS:
            value = inline if eq else next(it, None)
            if value is None:
                raise InvalidInput(f"{name} needs a value")
            field = RUN_OPTIONS[name]
            values[field] = f"{values[field]}, {value}" if field in REPEATABLE and values.get(field) else value
        elif a.startswith("-"):
            raise InvalidInput(f"run: unknown option {a!r} (see :help)")
        elif "image" not in values:
            rt, image = split_runtime(a)
            runtime = runtime or rt
            values["image"] = image
        else:
            raise InvalidInput(f"run: unexpected {a!r}; the command goes after --")
    return runtime, values, dialog, like


def _check_run(app: TamerApp, values: Mapping[str, str]) -> list[tuple[str, str]]:
    from tamer_tui.core.runspec import build_spec

    problems: list[tuple[str, str]] = []
    try:
        app.one_runtime(None, values.get("runtime", "").strip() or None)
    except InvalidInput as exc:
        problems.append(("runtime", str(exc)))
    _, found = build_spec({k: v for k, v in values.items() if k != "runtime"})
    problems += [(p.field, p.message) for p in found]
    return problems


async def _run_dialog(app: TamerApp, runtime: str | None, values: Mapping[str, str]) -> dict[str, str] | None:
    from tamer_tui.core.runspec import RUN_FIELDS
    from tamer_tui.ui.screens.form_screen import FormField, FormScreen

    default_rt = runtime or (app.runtimes_of()[0].name if app.runtimes_of() else "")
    fields = [FormField("runtime", "Engine", default_rt, "docker, podman or a host from :hosts")]
    for name in RUN_FIELDS:
        label, hint = RUN_LABELS.get(name, (name.replace("_", " ").capitalize(), ""))
        fields.append(FormField(name, label, values.get(name, ""), hint))
    result: dict[str, str] | None = await app.push_screen_wait(
        FormScreen("Run a container", fields, lambda v: _check_run(app, v)))
    return result


async def cmd_run(app: TamerApp, cmd: Command) -> None:
    """``run`` (dialog), ``run --like container/NAME`` (dialog pre-filled), ``run [RUNTIME:]IMAGE [options] [-- CMD]``."""
    from tamer_tui.core.runspec import build_spec, spec_from_inspect, spec_to_values

    runtime, values, dialog, like = run_values_from_args(list(cmd.args))
    if like:
        _, (rt, ident, _display) = await app.resolve(like, "container")
        base = spec_to_values(spec_from_inspect(await rt.inspect_container(ident)))
        base.pop("name", None)  # a second container cannot have the same name
        values = {**base, **values}
        runtime = runtime or rt.name
        dialog = True
    if dialog or not values.get("image"):
        picked = await _run_dialog(app, runtime, values)
        if picked is None:
            app.report("run cancelled")
            return
        runtime = picked.pop("runtime", "").strip() or None
        # settings the dialog has no field for (entrypoint, tty ... of a "run like this") are kept
        values = {**{k: v for k, v in values.items() if k not in picked}, **picked}
    rt = app.one_runtime(None, runtime)
    spec, problems = build_spec(values)
    if problems or spec is None:
        raise InvalidInput("; ".join(f"{p.field}: {p.message}" for p in problems))
    ident = await rt.create_container(spec)
    try:
        await rt.start_container(ident)
    except Exception:
        app.report(f"created {spec.name or ident[:12]} on {rt.name}, but it did not start", "error")
        raise
    app.report(f"started {spec.name or ident[:12]} ({spec.image}) on {rt.name}")


LIMIT_LABELS = {"cpus": ("CPUs", "1.5 or 500m; empty = no limit"), "memory": ("Memory", "512m, 1g; empty = no limit"),
                "memory_swap": ("Memory + swap", "1g, or unlimited; empty = leave the engine's default"),
                "restart": ("Restart policy", "no, always, unless-stopped, on-failure[:N]")}
LIMIT_OPTIONS = {"--cpus": "cpus", "--memory": "memory", "-m": "memory", "--memory-swap": "memory_swap",
                 "--restart": "restart"}


async def cmd_limits(app: TamerApp, cmd: Command) -> None:
    """``limits container/NAME [--cpus=X] [--memory=Y] [--restart=P]``; without options, a dialog."""
    from tamer_tui.core.runspec import LIMIT_FIELDS, build_limits, limits_from_inspect, limits_to_values
    from tamer_tui.ui.screens.form_screen import FormField, FormScreen

    if not cmd.args:
        raise InvalidInput(f"usage: {cmd.spec.usage}")
    _, (rt, ident, display) = await app.resolve(cmd.args[0], "container")
    current = limits_from_inspect(await rt.inspect_container(ident))

    def check(values: Mapping[str, str]) -> list[tuple[str, str]]:
        return [(p.field, p.message) for p in build_limits(values, current)[1]]

    values: dict[str, str] = {}
    for a in cmd.args[1:]:
        name, eq, value = a.partition("=")
        key = LIMIT_OPTIONS.get(name)
        if key is None or not eq:
            raise InvalidInput(f"limits: unknown option {a!r} ({', '.join(o + '=' for o in LIMIT_OPTIONS)})")
        values[key] = value
    if not values:
        initial = limits_to_values(current)
        fields = [FormField(n, LIMIT_LABELS[n][0], initial.get(n, ""), LIMIT_LABELS[n][1]) for n in LIMIT_FIELDS]
        picked = await app.push_screen_wait(FormScreen(f"Limits of {display} ({rt.name})", fields, check,
                                                       submit_label="Apply"))
        if picked is None:
            app.report("limits unchanged")
            return
        values = picked
    limits, problems = build_limits(values, current)
    if problems or limits is None:
        raise InvalidInput("; ".join(f"{p.field}: {p.message}" for p in problems))
    if limits.is_empty():
        app.report(f"{display}: nothing changed")
        return
    await rt.update_container(ident, limits)
    now = limits_from_inspect(await rt.inspect_container(ident))
    app.report(f"{display}: cpus {now.cpus or 'unlimited'}, memory "
               f"{human_size(now.memory) if now.memory else 'unlimited'}, restart {now.restart_policy or 'no'}")


async def cmd_health(app: TamerApp, cmd: Command) -> None:
    """``health container/NAME``: state, failing streak and the health check log (newest last)."""
    import time

    if not cmd.args:
        raise InvalidInput(f"usage: {cmd.spec.usage}")
    _, (rt, ident, display) = await app.resolve(cmd.args[0], "container")
    if rt.kind == RuntimeKind.PODMAN:
        # Podman runs health checks from systemd timers; where there is no systemd (containers, WSL,
        # macOS machines without it) nothing runs them, so run the check once now
        runner = getattr(rt, "run_healthcheck", None)
        if runner is not None:
            try:
                await runner(ident)
            except TamerError:
                pass  # no health check, or not running: the state below says which
    state = await rt.health_log(ident)
    if not state.test and not state.status:
        app.report(f"{display} has no health check (the run dialog can add one)", "warning")
        return
    rows = [[time.strftime("%H:%M:%S", time.localtime(e.start)), f"{max(0.0, e.end - e.start):.2f}s",
             str(e.exit_code), e.output.strip().replace("\n", " ⏎ ")[:200]] for e in state.log]
    title = (f"health of {display}: {state.status or 'no status yet'}, failing streak {state.failing_streak}, "
             f"check {' '.join(state.test)} every {state.interval_s:g}s")
    app.show_table(title, ["STARTED", "TOOK", "EXIT", "OUTPUT"], rows)


async def cmd_userns(app: TamerApp, cmd: Command) -> None:
    """``userns container/NAME``: the user-namespace mode and uid/gid maps, and whether the engine is rootless."""
    if not cmd.args:
        raise InvalidInput(f"usage: {cmd.spec.usage}")
    _, (rt, ident, display) = await app.resolve(cmd.args[0], "container")
    lines = [f"Container: {display} on {rt.name}"]
    if rt.kind == RuntimeKind.PODMAN:
        from tamer_tui.core.podman_pods import rootless_info, userns_mapping

        info = await rootless_info(rt)  # type: ignore[arg-type]
        mode, uids, gids = await userns_mapping(rt, ident)  # type: ignore[arg-type]
        lines += [f"Engine:    {'rootless' if info.rootless else 'rootful'} Podman, socket {info.socket}",
                  f"User ns:   {mode or 'host'}"]
    else:
        data = await rt.inspect_container(ident)
        mode = (data.get("HostConfig") or {}).get("UsernsMode") or "host (or the daemon's userns-remap)"
        uids = gids = []
        if (data.get("State") or {}).get("Running"):
            uids = _parse_map((await rt.exec_run(ident, ["cat", "/proc/self/uid_map"])).output)
            gids = _parse_map((await rt.exec_run(ident, ["cat", "/proc/self/gid_map"])).output)
        info_rt = await rt.info()
        lines += [f"Engine:    {'rootless' if info_rt.rootless else 'rootful'} Docker", f"User ns:   {mode}"]
    lines.append("UID map (inside → outside, count):")
    lines += [f"  {a} → {b}  ({c})" for a, b, c in uids] or ["  (not running, or none)"]
    lines.append("GID map (inside → outside, count):")
    lines += [f"  {a} → {b}  ({c})" for a, b, c in gids] or ["  (not running, or none)"]
    app.show_text(f"user namespace of {display}", "\n".join(lines))


def _parse_map(text: str) -> list[tuple[int, int, int]]:
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            out.append((int(parts[0]), int(parts[1]), int(parts[2])))
    return out
