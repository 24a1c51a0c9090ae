"""``:swarm``: services, nodes, tasks and stacks of a Docker swarm, and the actions on them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tamer_tui.core.commands import Command
from tamer_tui.core.errors import InvalidInput
from tamer_tui.core.models import RuntimeKind
from tamer_tui.core.swarm import Swarm

if TYPE_CHECKING:
    from tamer_tui.ui.app import TamerApp

LISTS = ("services", "nodes", "tasks", "stacks")
MUTATING = {"scale", "update", "rollback", "rm", "drain", "activate", "pause", "rmstack"}
USAGE = {
    "scale": "swarm scale SERVICE REPLICAS", "update": "swarm update SERVICE IMAGE",
    "rollback": "swarm rollback SERVICE", "rm": "swarm rm SERVICE", "rmstack": "swarm rmstack STACK",
    "drain": "swarm drain NODE", "activate": "swarm activate NODE", "pause": "swarm pause NODE",
    "inspect": "swarm inspect SERVICE", "inspect-node": "swarm inspect-node NODE",
}


def _split(cmd: Command) -> tuple[str | None, list[str]]:
    runtime = None
    args: list[str] = []
    it = iter(cmd.args)
    for a in it:
        if a.startswith("--runtime="):
            runtime = a.split("=", 1)[1]
        elif a == "--runtime":
            runtime = next(it, None)
        else:
            args.append(a)
    return runtime, args


def open_swarm_list(app: TamerApp, runtime: Any, kind: str, arg: str | None = None) -> None:
    from tamer_tui.ui.screens.swarm_nodes_screen import SwarmNodesScreen
    from tamer_tui.ui.screens.swarm_services_screen import SwarmServicesScreen
    from tamer_tui.ui.screens.swarm_stacks_screen import SwarmStacksScreen
    from tamer_tui.ui.screens.swarm_tasks_screen import SwarmTasksScreen

    screens: dict[str, Any] = {"services": SwarmServicesScreen, "nodes": SwarmNodesScreen,
                               "tasks": SwarmTasksScreen, "stacks": SwarmStacksScreen}
    service = arg if kind == "tasks" and arg else None
    probe = screens[kind](runtime, service)
    screen = app.open_list(probe.screen_key, lambda: probe)
    if kind != "tasks" and arg and arg.startswith("/"):
        screen.table.set_filter(arg[1:])


async def cmd_swarm(app: TamerApp, cmd: Command) -> None:
    """``swarm [services|nodes|tasks [SERVICE]|stacks]`` or ``swarm VERB TARGET [ARG]`` (see USAGE)."""
    runtime_name, args = _split(cmd)
    runtime = app.one_runtime(RuntimeKind.DOCKER, runtime_name)
    if not args or args[0] in LISTS or args[0].startswith("/"):
        kind = args[0] if args and args[0] in LISTS else "services"
        rest = args[1:] if args and args[0] in LISTS else args
        open_swarm_list(app, runtime, kind, rest[0] if rest else None)
        return
    verb = args[0]
    if verb not in USAGE:
        raise InvalidInput(f"swarm: unknown action {verb!r} (lists: {', '.join(LISTS)}; actions: "
                           f"{', '.join(USAGE)})")
    needed = 3 if verb in ("scale", "update") else 2
    if len(args) < needed:
        raise InvalidInput(f"usage: {USAGE[verb]}")
    if verb in MUTATING:
        app.guard_mutation(f"swarm {verb}")
    swarm = Swarm(runtime)  # type: ignore[arg-type]
    target = args[1]
    if verb == "inspect":
        app.show_inspect(f"service {target} ({runtime.name})", await swarm.inspect_service(target))
    elif verb == "inspect-node":
        app.show_inspect(f"node {target} ({runtime.name})", await swarm.inspect_node(target))
    elif verb == "scale":
        if not args[2].isdigit():
            raise InvalidInput(f"replicas must be a number, got {args[2]!r}")
        await swarm.scale(target, int(args[2]))
        app.report(f"service {target} scaled to {args[2]}")
    elif verb == "update":
        await swarm.update_image(target, args[2])
        app.report(f"service {target}: updating to {args[2]}")
    elif verb == "rollback":
        await swarm.rollback(target)
        app.report(f"service {target}: rolling back")
    elif verb in ("drain", "activate", "pause"):
        availability = {"drain": "drain", "activate": "active", "pause": "pause"}[verb]
        await swarm.set_availability(target, availability)
        app.report(f"node {target}: {availability}")
    elif verb == "rm":
        if await app.confirm(f"Remove swarm service {target} (all its tasks) on {runtime.name}?", "Remove"):
            await swarm.remove_service(target)
            app.report(f"service {target} removed")
        else:
            app.report("cancelled")
    elif verb == "rmstack":
        if await app.confirm(f"Remove stack {target}: its services, networks, configs and secrets?", "Remove"):
            await swarm.remove_stack(target)
            app.report(f"stack {target} removed")
        else:
            app.report("cancelled")
