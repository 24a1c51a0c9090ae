"""Navigation and long-running jobs for the engine screens (compose, swarm, Podman pods, hosts, disk).

A mixin of ``TamerApp`` (like ``kube_nav``): list screens with a parameter (a project's services,
a service's tasks) are installed under a key, kept while recent (at most ``MAX_ENGINE_SCREENS``), and
reached through the same history as every other list; streamed commands run as ``OutputJob``s.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from tamer_tui.core.errors import InvalidInput
from tamer_tui.core.models import RuntimeKind
from tamer_tui.ui.output_job import OutputJob

if TYPE_CHECKING:
    from tamer_tui.core.runtime import ContainerRuntime
    from tamer_tui.ui.app import TamerApp
    from tamer_tui.ui.screens.resource_screen import ResourceScreen

MAX_ENGINE_SCREENS = 12


class EngineNavigation:
    """Mixed into ``TamerApp``."""

    engine_screens: OrderedDict[str, ResourceScreen]
    output_jobs: list[OutputJob]

    def open_list(self: TamerApp, key: str, factory: Callable[[], ResourceScreen]) -> ResourceScreen:  # type: ignore[misc]
        """Show the list screen installed under ``key``, creating it first when needed."""
        if key not in self.engine_screens:
            screen = factory()
            self.install_screen(screen, key)
            self.engine_screens[key] = screen
            self._trim_engine_screens(keep=key)
        else:
            self.engine_screens.move_to_end(key)
        self._navigate(key)
        return self.engine_screens[key]

    def _trim_engine_screens(self: TamerApp, keep: str) -> None:  # type: ignore[misc]
        for key in list(self.engine_screens):
            if len(self.engine_screens) <= MAX_ENGINE_SCREENS:
                return
            screen = self.engine_screens[key]
            if key == keep or screen in self.screen_stack:
                continue
            del self.engine_screens[key]
            self.history = [h for h in self.history if h != key]
            self.uninstall_screen(key)

    def guard_mutation(self: TamerApp, what: str) -> None:  # type: ignore[misc]
        """Refuse ``what`` under ``--readonly`` (for commands that both show and change things)."""
        if self.session.readonly:
            raise InvalidInput(f"read-only mode: {what} is disabled (started with --readonly)")

    # -- runtimes ----------------------------------------------------------------------
    def runtimes_of(self: TamerApp, kind: RuntimeKind | None = None) -> list[ContainerRuntime]:  # type: ignore[misc]
        return [rt for rt in self.session.manager.runtimes if kind is None or rt.kind == kind]

    def one_runtime(self: TamerApp, kind: RuntimeKind | None, name: str | None = None) -> ContainerRuntime:  # type: ignore[misc]
        """The runtime called ``name``, or the first of ``kind`` (a clear error when there is none)."""
        candidates = self.runtimes_of(kind)
        if name:
            for rt in candidates:
                if rt.name == name:
                    return rt
            known = ", ".join(rt.name for rt in candidates) or "none"
            raise InvalidInput(f"no {kind or 'runtime'} called {name!r} (known: {known})")
        if not candidates:
            raise InvalidInput(f"no {kind or 'container'} engine detected (:hosts lists what was found)")
        return candidates[0]

    # -- streamed commands -------------------------------------------------------------
    async def run_output(self: TamerApp, title: str, make: Callable[[], AsyncIterator[Any]], *,  # type: ignore[misc]
                         show: bool = True, collapse_progress: bool = False) -> OutputJob:
        """Run ``make()`` with its output streaming into a panel (shown when ``show``); returns when it
        ends. Called from action workers, so ``tamer -c`` scripts and tests wait for the outcome;
        leaving the panel keeps it running, ``ctrl+k`` in the panel stops it."""
        job = OutputJob(title, make, collapse_progress=collapse_progress)
        self.output_jobs.append(job)
        self.output_jobs = self.output_jobs[-20:]
        if show:
            from tamer_tui.ui.screens.command_output_screen import CommandOutputScreen

            self.push_screen(CommandOutputScreen(job))
        await job.run()
        self.report(job.summary(), "error" if job.state == "failed" else "information")
        return job
