"""The YAML editor: edit, validate while typing, diff, apply (server-side), create, replace, delete.

Every change is autosaved to a draft (the data dir's ``drafts/``) half a second after typing stops, and
validated in a worker (syntax, the cluster's schemas, CRD schemas). Problems are listed below the text
and marked in the gutter; Enter on one jumps to its line. Failed applies keep the buffer; the draft is
dropped only once the edit was applied, saved to a file, or explicitly discarded.
"""

from __future__ import annotations

import asyncio
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from tamer_tui.core.errors import TamerError
from tamer_tui.core.kube.drafts import Draft, DraftStore, EditSource
from tamer_tui.ui.bindings import kb
from tamer_tui.ui.screens.prompt_screen import PromptScreen
from tamer_tui.ui.widgets.header_bar import HeaderBar
from tamer_tui.ui.widgets.yaml_text_area import YamlTextArea

SEVERITY_STYLE = {"error": "red", "warning": "yellow", "info": "cyan"}


class EditorScreen(Screen[None]):
    """One buffer; ``editor`` is a KubeEditor (None: no cluster, syntax and offline schemas only)."""

    BINDINGS = [
        kb("app.back", "leave", "Back"),
        kb("editor.dry_run", "dry_run", "Dry run"),
        kb("editor.diff", "diff", "Diff"),
        kb("editor.apply", "apply", "Apply"),
        kb("editor.replace", "replace", "Replace"),
        kb("editor.create", "create", "Create", show=False),
        kb("editor.delete", "delete", "Delete", show=False),
        kb("editor.save_as", "save_as", "Save as"),
        kb("editor.external", "external", "$EDITOR", show=False),
        kb("editor.discard", "discard", "Discard", show=False),
    ]

    def __init__(self, source: EditSource, text: str, editor: Any, store: DraftStore, *,
                 draft: Draft | None = None, note: str = "", original_text: str | None = None) -> None:
        super().__init__()
        self.source = source
        self.editor = editor
        self.store = store
        self.initial_text = text
        self.original_text = text if original_text is None else original_text
        self.note = note
        self.draft = draft
        self.problems: list[Any] = []
        self.applied_text: str | None = None
        self._save_timer: Timer | None = None
        self._validate_timer: Timer | None = None
        self.validations = 0  # finished validation runs (tests wait on it)
        self._save_lock = asyncio.Lock()
        self.last_summary = ""  # what the last apply/create/replace/delete did

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield HeaderBar()
        area = YamlTextArea(self.initial_text, id="editor-text")
        area.border_title = f"edit {self.source.title}"
        yield area
        problems = OptionList(id="editor-problems")
        problems.border_title = "problems"
        yield problems
        yield Static("", id="status-line")
        yield Footer()

    @property
    def area(self) -> YamlTextArea:
        return self.query_one(YamlTextArea)

    def on_mount(self) -> None:
        if self.draft is None:
            self.draft = self.store.create(self.source, self.original_text, self.initial_text)
        else:
            self.store.adopt(self.draft)
        self.area.focus()
        self.status(self.note or "validating ...")
        self.validate_now()

    def status(self, text: str, severity: str = "") -> None:
        line = self.query_one("#status-line", Static)
        line.update(text)
        line.styles.color = SEVERITY_STYLE.get(severity)

    # -- autosave and validation -------------------------------------------------------------
    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        for timer in (self._save_timer, self._validate_timer):
            if timer is not None:
                timer.stop()
        self._save_timer = self.set_timer(0.5, self.autosave)
        self._validate_timer = self.set_timer(0.4, self.validate_now)

    def autosave(self) -> None:
        """Write the draft off the UI thread (the write is fsynced); saves run one after another."""
        if self.draft is not None:
            self.run_worker(self._autosave(self.draft, self.area.text), group="autosave")

    async def _autosave(self, draft: Draft, text: str) -> None:
        async with self._save_lock:
            try:
                await asyncio.to_thread(self.store.save, draft, text)
            except (OSError, TamerError) as exc:
                self.status(f"cannot autosave the draft: {exc}", "error")

    def save_now(self) -> None:
        """Write the draft before the screen goes away (a worker could be cancelled with the screen)."""
        if self.draft is not None:
            try:
                self.store.save(self.draft, self.area.text)
            except (OSError, TamerError) as exc:
                self.app.notify(f"cannot save the draft: {exc}", severity="error")

    def validate_now(self) -> None:
        self.run_worker(self._validate(self.area.text), group="validate", exclusive=True)

    async def _validate(self, text: str) -> None:
        from tamer_tui.core.kube.yamlcheck import load_schemas, validate_text

        if self.editor is not None:
            result = await self.editor.validate(text)
            problems = list(result.problems)
        else:
            schemas = await asyncio.to_thread(load_schemas, None)
            problems = list((await asyncio.to_thread(validate_text, text, schemas)).problems)
        if text != self.area.text:
            return  # typed on meanwhile: the next run reports
        self.show_problems(problems)
        self.validations += 1

    def show_problems(self, problems: list[Any]) -> None:
        self.problems = problems
        lines: dict[int, str] = {}
        rank = {"error": 0, "warning": 1, "info": 2}
        for p in problems:
            if p.line and rank.get(p.severity, 3) < rank.get(lines.get(p.line, ""), 9):
                lines[p.line] = p.severity
        self.area.set_problem_lines(lines)
        box = self.query_one("#editor-problems", OptionList)
        box.clear_options()
        for i, p in enumerate(problems[:500]):
            style = SEVERITY_STYLE.get(p.severity, "")
            box.add_option(Option(f"[{style}]{p.line}:{p.column} {p.severity}[/] {p.message}"
                                  + (f" [dim]({p.path})[/]" if p.path else ""), id=str(i)))
        if problems:
            box.highlighted = 0
        errors = sum(1 for p in problems if p.severity == "error")
        warnings = len(problems) - errors
        last = f" · {self.last_summary}" if self.last_summary else ""
        if problems:
            self.status(f"{errors} errors, {warnings} warnings · Enter on a problem jumps to it{last}",
                        "error" if errors else "warning")
        else:
            self.status("valid" + (f" · {self.note}" if self.note else "") + last)
        box.border_title = f"problems ({len(problems)})"

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is None:
            return
        p = self.problems[int(event.option.id)]
        self.jump_to(p.line, p.column)

    def jump_to(self, line: int, column: int = 1) -> None:
        area = self.area
        row = max(0, min(line - 1, area.document.line_count - 1))
        area.cursor_location = (row, max(0, column - 1))
        area.scroll_cursor_visible(center=True)
        area.focus()

    # -- cluster actions ---------------------------------------------------------------------
    def _need_cluster(self) -> bool:
        if self.editor is None:
            self.status("no Kubernetes context: only save-as works here", "error")
            return False
        return True

    def action_dry_run(self) -> None:
        if self._need_cluster():
            self.run_worker(self._dry_run(), group="cluster", exclusive=True)

    async def _dry_run(self) -> None:
        self.status("server-side dry run ...")
        try:
            problems = await self.editor.dry_run(self.area.text)
        except TamerError as exc:
            self.status(f"dry run: {exc}", "error")
            return
        local = [p for p in self.problems if getattr(p, "source", "") != "server"]
        self.show_problems(sorted(local + list(problems), key=lambda p: p.sort_key()))
        if not problems:
            self.status("dry run: the server accepts every object (dryRun=All, fieldValidation=Strict)")

    def action_diff(self) -> None:
        if self._need_cluster():
            self.run_worker(self._diff(), group="cluster", exclusive=True)

    async def _diff(self) -> None:
        from tamer_tui.ui.screens.diff_screen import DiffScreen

        self.status("diffing against the cluster ...")
        try:
            sections = await self.editor.diff(self.area.text)
        except TamerError as exc:
            self.status(f"diff: {exc}", "error")
            return
        self.status(f"diff: {len(sections)} object(s)")
        self.app.push_screen(DiffScreen(self.source.title, sections))

    def action_apply(self) -> None:
        if self._need_cluster():
            self.run_worker(self._apply(), group="cluster", exclusive=True)

    async def _apply(self, force: bool = False) -> None:
        from tamer_tui.core.kube.editor import results_text

        text = self.area.text
        if any(p.severity == "error" and p.source == "yaml" for p in self.problems):
            self.status("fix the YAML syntax errors first (nothing was applied)", "error")
            return
        self.status("applying (server-side, field manager tamer) ..." + (" with force" if force else ""))
        try:
            results = await self.editor.apply(text, force=force)
        except TamerError as exc:
            self.status(f"apply failed, your edit is kept: {exc}", "error")
            return
        conflicts = [r for r in results if r.action == "conflict"]
        if conflicts and not force:
            owners = sorted({c.manager for r in conflicts for c in r.conflicts})
            fields = sorted({c.field for r in conflicts for c in r.conflicts})
            question = (f"Conflict: {', '.join(fields[:6])} owned by {', '.join(owners)}. "
                        "Force the apply and take those fields over?")
            if await self.app.push_screen_wait(_confirm(question, "Force")):
                await self._apply(force=True)
            else:
                self.status("not applied: conflicts with " + ", ".join(owners), "warning")
            return
        self._after_mutation(results, results_text(results))

    def _after_mutation(self, results: list[Any], summary: str) -> None:
        summary = summary.replace("\n", "; ")
        self.last_summary = summary
        failed = [r for r in results if not r.ok]
        if failed:
            self.status(f"{summary} · your edit is kept", "error")
            first = next((r for r in failed if r.line), None)
            if first is not None:
                self.jump_to(first.line)
            return
        self.applied_text = self.area.text
        if self.draft is not None:
            self.store.delete(self.draft.id)  # applied: nothing to recover any more
            self.draft = self.store.create(self.source, self.area.text)
        self.status(summary)
        self.app.notify(summary, timeout=4)

    def action_replace(self) -> None:
        if self._need_cluster():
            self.run_worker(self._replace(), group="cluster", exclusive=True)

    async def _replace(self) -> None:
        from tamer_tui.core.kube.editor import results_text

        try:
            results = await self.editor.replace(self.area.text, resource_version=self.source.resource_version or None)
        except TamerError as exc:
            self.status(f"replace failed, your edit is kept: {exc}", "error")
            return
        self._after_mutation(results, results_text(results))

    def action_create(self) -> None:
        if self._need_cluster():
            self.run_worker(self._create(), group="cluster", exclusive=True)

    async def _create(self) -> None:
        from tamer_tui.core.kube.editor import results_text

        try:
            results = await self.editor.create(self.area.text)
        except TamerError as exc:
            self.status(f"create failed, your edit is kept: {exc}", "error")
            return
        self._after_mutation(results, results_text(results))

    def action_delete(self) -> None:
        if self._need_cluster():
            self.run_worker(self._delete(), group="cluster", exclusive=True)

    async def _delete(self) -> None:
        from tamer_tui.core.kube.editor import results_text

        if not await self.app.push_screen_wait(_confirm(f"Delete every object of this buffer ({self.source.title})?",
                                                        "Delete")):
            return
        try:
            results = await self.editor.delete(self.area.text)
        except TamerError as exc:
            self.status(f"delete failed: {exc}", "error")
            return
        self.status(results_text(results), "error" if any(not r.ok for r in results) else "")

    # -- files and drafts --------------------------------------------------------------------
    def action_save_as(self) -> None:
        default = self.source.path or f"{(self.source.name or 'object')}.yaml"

        def chosen(path: str | None) -> None:
            if path:
                self.run_worker(self._save_as(path), group="save")

        self.app.push_screen(PromptScreen("Save the buffer to:", default), chosen)

    async def _save_as(self, path: str) -> None:
        from tamer_tui.core.kube.editor import save_as

        try:
            written = await asyncio.to_thread(save_as, path, self.area.text)
        except (OSError, TamerError) as exc:
            self.status(f"cannot save to {path}: {exc}", "error")
            return
        if self.draft is not None:
            self.store.delete(self.draft.id)
            self.draft = self.store.create(self.source, self.area.text)
        self.status(f"saved to {written}")

    @work(group="external")
    async def action_external(self) -> None:
        """Edit the buffer in $KUBE_EDITOR / $EDITOR (the TUI suspends), then validate it here."""
        from tamer_tui.core.kube.editor import ExternalEdit

        edit = ExternalEdit(self.area.text)
        try:
            argv = edit.start()
            with self.app.suspend():
                import subprocess

                subprocess.run(argv, check=False)  # noqa: S603 - argv list from $EDITOR, no shell
            text = edit.finish()
        except Exception as exc:  # noqa: BLE001 - SuspendNotSupported, OSError, TamerError: all reported
            self.status(f"external editor: {exc}", "error")
            return
        finally:
            edit.cleanup()
        if text != self.area.text:
            self.area.load_text(text)
            self.status("edited in the external editor; validating ...")
            self.autosave()
            self.validate_now()

    def action_discard(self) -> None:
        self.run_worker(self._discard(), group="leave", exclusive=True)

    async def _discard(self) -> None:
        if await self.app.push_screen_wait(_confirm("Discard this edit and its draft?", "Discard")):
            if self.draft is not None:
                self.store.delete(self.draft.id)
                self.draft = None
            self.app.pop_screen()

    def action_leave(self) -> None:
        text = self.area.text
        if text in (self.original_text, self.applied_text):
            if self.draft is not None:
                self.store.delete(self.draft.id)  # nothing unsaved
                self.draft = None
            self.app.pop_screen()
            return
        self.save_now()
        self.app.notify("the edit is kept as a draft (:drafts reopens it)", timeout=4)
        self.app.pop_screen()


def _confirm(question: str, label: str) -> Any:
    from tamer_tui.ui.screens.confirm_screen import ConfirmScreen

    return ConfirmScreen(question, label)
