"""``:compose``: the projects list, a project's services, and actions on a project or one service."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tamer_tui.core.commands import Command, split_runtime
from tamer_tui.core.compose import COMPOSE_ACTIONS, ComposeProject, group_projects, project_action
from tamer_tui.core.errors import InvalidInput, NotFound
from tamer_tui.core.runtime import ContainerRuntime

if TYPE_CHECKING:
    from tamer_tui.ui.app import TamerApp

DESTRUCTIVE = {"down"}


def split_target(text: str) -> tuple[str | None, str, str | None]:
    """``[RUNTIME:]PROJECT[/SERVICE]`` (a ``compose/`` prefix is accepted) -> (runtime, project, service)."""
    if text.startswith("compose/"):
        text = text[len("compose/"):]
    runtime, text = split_runtime(text)
    project, _, service = text.partition("/")
    if not project:
        raise InvalidInput("usage: compose ACTION [RUNTIME:]PROJECT[/SERVICE]")
    return runtime, project, service or None


async def find_project(app: TamerApp, text: str) -> tuple[ContainerRuntime, ComposeProject, str | None]:
    """Resolve a target against the projects the runtimes have now (ambiguity is an error)."""
    runtime_name, name, service = split_target(text)
    found: list[tuple[ContainerRuntime, ComposeProject]] = []
    for rt in app.runtimes_of():
        if runtime_name and rt.name != runtime_name:
            continue
        try:
            rows = await rt.list_containers(all=True)
        except Exception:  # noqa: BLE001 - an unreachable runtime just has no projects
            continue
        found += [(rt, p) for p in group_projects(rows) if p.name == name]
    if not found:
        raise NotFound(f"no compose project {name!r}" + (f" on {runtime_name}" if runtime_name else ""))
    if len(found) > 1:
        names = ", ".join(f"{rt.name}:{name}" for rt, _ in found)
        raise InvalidInput(f"project {name!r} exists on several runtimes; say which: {names}")
    rt, project = found[0]
    if service is not None:
        project.service(service)  # NotFound when the project has no such service
    return rt, project, service


async def cmd_compose(app: TamerApp, cmd: Command) -> None:
    """``compose`` | ``compose [RUNTIME:]PROJECT`` | ``compose describe|ACTION [RUNTIME:]PROJECT[/SERVICE]``."""
    from tamer_tui.ui.screens.compose_projects_screen import ComposeProjectsScreen
    from tamer_tui.ui.screens.compose_services_screen import ComposeServicesScreen

    args = list(cmd.args)
    if not args:
        app.open_list("compose", ComposeProjectsScreen)
        return
    verb = args[0]
    if verb not in COMPOSE_ACTIONS and verb != "describe":
        rt, project, _ = await find_project(app, verb)
        app.open_list(f"compose:{rt.name}:{project.name}",
                      lambda: ComposeServicesScreen(rt.name, project.name))
        return
    if len(args) < 2:
        raise InvalidInput(f"usage: compose {verb} [RUNTIME:]PROJECT[/SERVICE]")
    rt, project, service = await find_project(app, args[1])
    if verb == "describe":
        app.show_text(f"compose project {project.name} ({rt.name})", describe_project(project))
        return
    app.guard_mutation(f"compose {verb}")
    what = f"{project.name}/{service}" if service else project.name
    if verb in DESTRUCTIVE and not await app.confirm(
            f"compose down {what} on {rt.name}: stop and remove its containers and networks?", "Down"):
        app.report("cancelled")
        return
    services = [service] if service else []
    job = await app.run_output(f"compose {verb} {what} ({rt.name})",
                               lambda: project_action(rt, project, verb, services))
    if job.state == "done":
        app.report(f"compose {verb} {what}: done")


def describe_project(project: ComposeProject) -> str:
    lines = [
        f"Project:      {project.name}",
        f"Runtime:      {project.runtime}",
        f"Created by:   {project.flavor}",
        f"State:        {project.state}",
        f"Directory:    {project.working_dir or '-'}",
        "Compose files:" + ("  (gone: only stop, start, restart and down work)" if project.files_missing else ""),
    ]
    lines += [f"  {f}" for f in project.config_files] or ["  (not recorded)"]
    lines.append("Services:")
    for s in project.services:
        lines.append(f"  {s.name}: {s.state}  image {s.image}" + (f"  ports {s.ports}" if s.ports else ""))
        for c in s.containers:
            health = f" ({c.health})" if c.health else ""
            lines.append(f"    {c.name}  {c.state}{health}  {c.status}  {c.short_id}")
    return "\n".join(lines)
