"""``:hosts``: which Docker/Podman hosts are shown (one, several side by side with a RUNTIME column, or all)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tamer_tui.core.aio import run_blocking
from tamer_tui.core.commands import Command
from tamer_tui.core.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from tamer_tui.core.hosts import HostEntry
    from tamer_tui.core.models import RuntimeEndpoint
    from tamer_tui.ui.app import TamerApp

VERBS = ("use", "add", "drop", "all")


async def _entries(app: TamerApp) -> list[HostEntry]:
    from tamer_tui.core.hosts import list_hosts

    return await run_blocking(list_hosts, settings=app.session.settings)


def _find(entries: list[HostEntry], name: str) -> HostEntry:
    for e in entries:
        if e.name == name:
            return e
    raise NotFound(f"no host {name!r} (known: {', '.join(e.name for e in entries) or 'none'})")


async def show_hosts(app: TamerApp, endpoints: list[RuntimeEndpoint]) -> None:
    """Make ``endpoints`` the shown hosts; every list follows the new set at once."""
    from tamer_tui.ui.screens.hosts_screen import HostsScreen
    from tamer_tui.ui.screens.resource_screen import ResourceScreen

    manager = app.session.manager
    dropped = manager.set_shown(endpoints)
    for rt in dropped:
        await rt.close()
    app.connect_runtimes()
    for screen in list(app._installed_screens.values()):  # noqa: SLF001 - every installed list screen
        if isinstance(screen, HostsScreen):
            screen.refresh_shown()
        elif isinstance(screen, ResourceScreen):
            screen.restart_feed()
    app._update_header()  # noqa: SLF001


async def cmd_hosts(app: TamerApp, cmd: Command) -> None:
    """``hosts`` | ``hosts use NAME`` | ``hosts add NAME`` | ``hosts drop NAME`` | ``hosts all``."""
    from tamer_tui.core.hosts import probe_all
    from tamer_tui.ui.screens.hosts_screen import HostsScreen

    args = list(cmd.args)
    if not args:
        app.open_list("hosts", HostsScreen)
        return
    verb = args[0]
    if verb not in VERBS:
        raise InvalidInput(f"hosts: unknown action {verb!r} (one of {', '.join(VERBS)})")
    entries = await _entries(app)
    shown = [s.endpoint for s in app.session.manager.states.values()]
    if verb == "all":
        statuses = {s.name: s for s in await probe_all(entries)}
        chosen = [e.endpoint() for e in entries if statuses[e.name].reachable] or shown
    else:
        if len(args) < 2:
            raise InvalidInput(f"usage: hosts {verb} NAME")
        name = args[1]
        if verb == "drop":
            chosen = [ep for ep in shown if ep.name != name]
            if len(chosen) == len(shown):
                raise NotFound(f"host {name!r} is not shown")
            if not chosen:
                raise InvalidInput("at least one host must stay shown (use another one first)")
        else:
            entry = _find(entries, name)
            if verb == "use":
                chosen = [entry.endpoint()]
            else:
                chosen = shown + ([entry.endpoint()] if all(ep.name != name for ep in shown) else [])
    await show_hosts(app, chosen)
    app.report(f"showing {', '.join(ep.name for ep in chosen)}")
