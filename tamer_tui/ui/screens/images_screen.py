"""Images of every runtime (``:images``, ``:img``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from tamer_tui.core.feeds import FeedMessage, merged_feed
from tamer_tui.core.models import ImageRow
from tamer_tui.ui.bindings import kb
from tamer_tui.ui.format import age, human_size
from tamer_tui.ui.screens.resource_screen import ResourceScreen, sort_binding
from tamer_tui.ui.widgets.resource_table import Column


class ImagesScreen(ResourceScreen):
    """Repository:tag, id, size, containers using it, age; pull, tag, history, remove, prune."""

    resource = "images"
    target_kind = "image"

    BINDINGS = [
        kb("images.open", "run('inspect')", "Inspect", show=False),
        kb("images.describe", "run('inspect')", "Describe"),
        kb("images.yaml", "run('inspect')", "YAML", show=False),
        kb("images.history", "run('history')", "History"),
        kb("images.pull", "pull", "Pull"),
        kb("images.tag", "prompt_run('tag', 'New tag (repo[:tag])')", "Tag"),
        kb("images.delete", "run('rm')", "Delete"),
        kb("images.prune", "prune", "Prune"),
        kb("images.build", "build", "Build"),
        kb("images.push", "push", "Push"),
        kb("images.run", "run_container", "Run"),
        sort_binding("table.sort_name", "name"),
        sort_binding("table.sort_size", "size"),
        sort_binding("table.sort_age", "age"),
        sort_binding("table.sort_runtime", "runtime"),
    ]

    def columns(self) -> list[Column[Any]]:
        return [
            Column("name", "REPOSITORY:TAG", lambda r: r.display_name, min_width=20, max_width=60),
            Column("runtime", "RUNTIME", lambda r: r.runtime, min_width=7, max_width=16),
            Column("id", "ID", lambda r: r.short_id, min_width=12, max_width=12),
            Column("size", "SIZE", lambda r: human_size(r.size), min_width=7, align="right", sort=lambda r: r.size),
            Column("containers", "USED BY", lambda r: "-" if r.containers < 0 else str(r.containers), min_width=7,
                   align="right"),
            Column("more", "TAGS", lambda r: str(len(r.tags)), min_width=4, align="right"),
            Column("age", "AGE", lambda r: age(r.created), min_width=4, align="right", sort=lambda r: -r.created),
        ]

    def row_style(self, row: ImageRow) -> str:
        return "dim" if row.dangling else ""

    def feed(self) -> AsyncIterator[FeedMessage]:
        return merged_feed(self.tamer.session.manager.runtimes, "images")

    def target_of(self, row: ImageRow) -> str:
        return f"image/{row.runtime}:{row.id}"

    def action_pull(self) -> None:
        self.tamer.prompt_then_execute("Image to pull (e.g. docker.io/library/alpine:3)", lambda v: f"pull {v}")

    def action_prune(self) -> None:
        self.tamer.execute("prune dangling-images")

    def action_build(self) -> None:
        self.tamer.execute("build")

    def action_push(self) -> None:
        row = self.table.cursor_row
        if row is None or not row.tags:
            self.set_status("push needs a tagged image (t tags one)", "warning")
            return
        self.tamer.execute(f"push {row.runtime}:{row.tags[0]}")

    def action_run_container(self) -> None:
        row = self.table.cursor_row
        image = (row.tags[0] if row.tags else row.id) if row is not None else ""
        self.tamer.execute(f"run --dialog {row.runtime}:{image}" if row is not None else "run")
