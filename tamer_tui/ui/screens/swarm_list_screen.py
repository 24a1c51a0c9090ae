"""Base of the Swarm lists (services, nodes, tasks, stacks): one Docker engine that is a swarm manager."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from tamer_tui.core.feeds import FeedMessage
from tamer_tui.core.swarm import SwarmKind, swarm_feed
from tamer_tui.ui.screens.resource_screen import ResourceScreen


class SwarmListScreen(ResourceScreen):
    """Rows of one kind from one engine's swarm, live (events + a short re-list for task states)."""

    kind: SwarmKind = "services"

    def __init__(self, runtime: Any, service: str | None = None) -> None:
        self.swarm_runtime = runtime
        self.service_filter = service
        super().__init__()
        self.scope_label = runtime.name + (f":{service}" if service else "")

    @property
    def screen_key(self) -> str:
        return f"swarm-{self.kind}:{self.swarm_runtime.name}" + (f":{self.service_filter}" if self.service_filter
                                                                 else "")

    @property
    def resource(self) -> str:  # type: ignore[override]
        return f"swarm {self.kind}"

    def feed(self) -> AsyncIterator[FeedMessage]:
        return swarm_feed(self.swarm_runtime, self.kind, self.service_filter)

    def swarm_command(self, words: str) -> None:
        """Run ``swarm WORDS --runtime=NAME`` for this screen's engine."""
        self.tamer.execute(f"swarm {words} --runtime={self.swarm_runtime.name}")

    def action_swarm(self, verb: str) -> None:
        row = self.table.cursor_row
        if row is None:
            self.set_status(f"no {self.target_kind} selected", "warning")
            return
        self.swarm_command(f"{verb} {self.target_of(row)}")

    def action_prompt_swarm(self, verb: str, prompt: str) -> None:
        row = self.table.cursor_row
        if row is None:
            self.set_status(f"no {self.target_kind} selected", "warning")
            return
        target = self.target_of(row)
        self.tamer.prompt_then_execute(
            prompt, lambda value: f"swarm {verb} {target} {value} --runtime={self.swarm_runtime.name}")
