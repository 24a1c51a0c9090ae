"""The Tamer application: navigation, command mode, actions, themes and key remapping.

Every user-visible action is a command (``:stop container/docker:web``); keys on rows just build
that command, so ``tamer -c`` and tests drive exactly what a user does. Backend work runs in
workers; the UI only renders state.
"""

from __future__ import annotations

import platform
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rich.markup import escape
from textual import work
from textual.app import App, ScreenStackError, SystemCommand
from textual.command import Hit, Hits, Provider
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.screen import Screen

from tamer_tui.core.commands import COMMANDS, Command, lookup, parse_command, parse_target
from tamer_tui.core.errors import InvalidInput, TamerError
from tamer_tui.core.kube.drafts import DraftStore
from tamer_tui.core.kube.portforward import PortForwardManager, parse_forward
from tamer_tui.core.manager import resolve_target
from tamer_tui.core.models import ContainerRow
from tamer_tui.core.session import Session
from tamer_tui.core.settings import LogSettings
from tamer_tui.core.stats_poller import StatsPoller
from tamer_tui.ui.bindings import kb
from tamer_tui.ui.engine_nav import EngineNavigation
from tamer_tui.ui.format import human_size, published_urls
from tamer_tui.ui.kube_nav import KubeNavigation, words_of
from tamer_tui.ui.screens.confirm_screen import ConfirmScreen
from tamer_tui.ui.screens.containers_screen import ContainersScreen
from tamer_tui.ui.screens.contexts_screen import ContextsScreen
from tamer_tui.ui.screens.dashboard_screen import DashboardScreen
from tamer_tui.ui.screens.help_screen import HelpScreen
from tamer_tui.ui.screens.images_screen import ImagesScreen
from tamer_tui.ui.screens.inspect_screen import InspectScreen
from tamer_tui.ui.screens.logs_screen import LogsScreen
from tamer_tui.ui.screens.networks_screen import NetworksScreen
from tamer_tui.ui.screens.prompt_screen import PromptScreen
from tamer_tui.ui.screens.resource_screen import ResourceScreen
from tamer_tui.ui.screens.stats_screen import StatsScreen
from tamer_tui.ui.screens.table_screen import TableScreen
from tamer_tui.ui.screens.text_screen import TextScreen
from tamer_tui.ui.screens.volumes_screen import VolumesScreen
from tamer_tui.ui.themes import register_themes

RESOURCE_SCREENS: dict[str, type[ResourceScreen]] = {
    "containers": ContainersScreen,
    "images": ImagesScreen,
    "networks": NetworksScreen,
    "volumes": VolumesScreen,
}


class ContainerStatsColumns:
    """CPU/MEM cells of the containers table, sampled for visible running rows only."""

    def __init__(self, app: TamerApp) -> None:
        self.app = app
        self.poller = StatsPoller(app.session.manager)

    def cpu(self, key: str) -> float:
        return self.poller.cpu(key)

    def mem(self, key: str) -> int:
        return self.poller.mem(key)

    def cpu_text(self, key: str) -> str:
        v = self.poller.cpu(key)
        return "-" if v < 0 else f"{v:.1f}"

    def mem_text(self, key: str) -> str:
        v = self.poller.mem(key)
        return "-" if v < 0 else human_size(v)

    def attach(self, screen: ContainersScreen) -> None:
        def visible() -> list[ContainerRow]:
            try:
                if self.app.screen is not screen or not screen._alive():  # noqa: SLF001
                    return []
                table = screen.table
            except (ScreenStackError, NoMatches):
                return []  # the app is closing: no screen, or the screen's widgets are gone
            top = int(table.scroll_y)
            keys = table.keys[top : top + max(1, table.size.height)]
            return [r for k in keys if (r := screen.store.get(k)) is not None]

        def refreshed() -> None:
            if not screen._alive():  # noqa: SLF001
                return
            screen.table._cache.clear()
            screen.table.refresh()

        screen.run_worker(self.poller.run(visible, refreshed), name="container-stats", group="stats")


class TamerCommands(Provider):
    """Command palette (ctrl+p): every command and every screen."""

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        app: TamerApp = self.app  # type: ignore[assignment]
        for spec in COMMANDS:
            text = f":{spec.name}  {spec.help}"
            score = matcher.match(text)
            if score > 0 and (spec.screen or spec.name in ("quit", "prune")):
                yield Hit(score, matcher.highlight(text), lambda s=spec: app.execute(s.name),
                          help=escape(spec.usage))  # usages have [OPTIONAL] parts: text, not markup

    async def discover(self) -> Hits:
        app: TamerApp = self.app  # type: ignore[assignment]
        for spec in COMMANDS:
            if spec.screen:
                yield Hit(1.0, f":{spec.name}", lambda s=spec: app.execute(s.name), help=escape(spec.help))


class TamerApp(KubeNavigation, EngineNavigation, App[None]):
    """Tamer's Textual app."""

    CSS_PATH = "app.tcss"
    TITLE = "Tamer"
    COMMANDS = App.COMMANDS | {TamerCommands}
    BINDINGS = [
        kb("app.command", "command_mode", "Command"),
        kb("app.help", "help", "Help"),
    ]

    header_state: reactive[tuple[str, str, bool]] = reactive(("", "", False))

    def __init__(self, session: Session, initial_command: str | None = None) -> None:
        super().__init__()
        self.session = session
        self.initial_command = initial_command or "containers"
        self.history: list[str] = []
        self.container_stats = ContainerStatsColumns(self)
        self._forwards: PortForwardManager | None = None
        self._drafts: DraftStore | None = None
        self._editors: dict[str, Any] = {}
        self._helm: Any = None
        self.runtime_notes: dict[str, str] = {}
        self.last_result: str = ""  # last action's outcome, for tests and `tamer -c` scripts
        self.kube_screens: OrderedDict[str, Any] = OrderedDict()
        self.engine_screens: OrderedDict[str, Any] = OrderedDict()
        self.output_jobs: list[Any] = []

    # -- start -------------------------------------------------------------------------
    def on_mount(self) -> None:
        theme_dirs = [Path(p) for p in getattr(self.session.settings, "theme_dirs", [])]
        for warning in register_themes(self, self.session.themes, theme_dirs):
            self.session.warnings.append(warning)
        if self.session.theme in self.available_themes:
            self.theme = self.session.theme
        else:
            self.session.warnings.append(f"unknown theme {self.session.theme!r}; using tamer-dark")
            self.theme = "tamer-dark" if "tamer-dark" in self.available_themes else "textual-dark"
        if self.session.key_overrides:
            self.set_keymap(self.session.key_overrides)
        self._update_header()
        for name, cls in RESOURCE_SCREENS.items():
            self.install_screen(cls(), name)
        self.push_screen("containers")
        if self.initial_command.strip().lstrip(":") not in ("containers", "co"):
            self.execute(self.initial_command)
        for warning in self.session.warnings:
            self.notify(warning, severity="warning", timeout=10)
        self.connect_runtimes()
        self.autostart_forwards()
        self.offer_drafts()

    async def on_unmount(self) -> None:
        if self._forwards is not None:
            await self._forwards.stop_all()
        if self.session.kube is not None:
            await self.session.kube.close()
        await self.session.manager.close()

    @work(group="connect")
    async def connect_runtimes(self) -> None:
        await self.session.manager.connect_all()
        for name, state in self.session.manager.states.items():
            self.runtime_notes[name] = "" if state.reachable else state.error
        self._update_header()

    def runtime_state_changed(self, name: str, live: bool, message: str) -> None:
        state = self.session.manager.states.get(name)
        if state is not None and live and state.info is None:
            self.connect_runtimes()
        self.runtime_notes[name] = "" if live else (message or "down")
        self._update_header()

    def _update_header(self) -> None:
        host = self.session.host_label or platform.node()
        parts = []
        for name, state in self.session.manager.states.items():
            note = self.runtime_notes.get(name, "")
            if not state.checked:
                parts.append(f"{name} …")
            elif note:
                parts.append(f"{name} ✗")
            elif state.info is not None:
                parts.append(f"{name} {state.info.version}")
            else:
                parts.append(f"{name} ✗")
        runtimes = "  ".join(parts) if parts else "no container runtime found"
        kube = self.session.kube
        if kube is not None and kube.available:
            ns = kube.namespace or "all"
            runtimes = f"ctx {kube.current} ns {ns}  │  {runtimes}"
        self.header_state = (host, runtimes, self.session.readonly)

    # -- navigation --------------------------------------------------------------------
    def _navigate(self, name: str) -> None:
        current = self.screen
        if isinstance(current, ResourceScreen) and current.screen_key == name:
            return
        while len(self.screen_stack) > 1 and not isinstance(self.screen, ResourceScreen):
            self.pop_screen()
        if isinstance(self.screen, ResourceScreen):
            self.history.append(self.screen.screen_key)
            self.history = self.history[-50:]
            self.switch_screen(name)
        else:
            self.push_screen(name)

    def switch_context(self, name: str) -> None:
        """Switch the current Kubernetes context at once and show its pods (no waiting on the server)."""
        try:
            self.kube.switch(name)
        except TamerError as exc:
            self.report(str(exc), "error")
            return
        self._update_header()
        self.kube_command("pods", [])
        self.report(f"context {name}")

    def go_back(self) -> None:
        while self.history:
            previous = self.history.pop()
            if not (isinstance(self.screen, ResourceScreen) and self.screen.screen_key == previous):
                self.switch_screen(previous)
                return
        self.notify("nothing to go back to (: for commands, ctrl+q to quit)", timeout=3)

    def resource_screen(self, name: str) -> ResourceScreen:
        screen = self.get_screen(name)
        assert isinstance(screen, ResourceScreen)
        return screen

    # -- command mode ------------------------------------------------------------------
    def action_command_mode(self) -> None:
        screen = self.screen
        if isinstance(screen, ResourceScreen):
            screen.action_command()
        else:
            self.prompt_then_execute("command", lambda v: v)

    def action_help(self) -> None:
        screen = self.screen
        rows: list[tuple[str, str, str]] = []
        seen: set[tuple[str, str]] = set()
        for key, active in screen.active_bindings.items():
            b = active.binding
            label = b.description or b.action
            if (key, label) in seen:
                continue
            seen.add((key, label))
            rows.append((self.get_key_display(b), label, b.id or ""))
        rows.sort(key=lambda r: (r[2] == "", r[2] or r[1]))  # Tamer's own (with ids) first, Textual's after
        self.push_screen(HelpScreen(rows, screen.name or type(screen).__name__))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for spec in COMMANDS:
            if spec.screen:
                yield SystemCommand(f":{spec.name}", spec.help, lambda s=spec: self.execute(s.name))

    def prompt_then_execute(self, prompt: str, build: Callable[[str], str]) -> None:
        def done(value: str | None) -> None:
            if value:
                self.execute(build(value))

        self.push_screen(PromptScreen(prompt), done)

    def execute(self, text: str) -> None:
        """Run command-mode text: navigate at once, or start a worker for the action."""
        try:
            words = words_of(text)
            if words and lookup(words[0]) is None and self.kube_available():
                self.kube_command(words[0], words[1:])
                return
            cmd = parse_command(text)
        except InvalidInput as exc:
            self.report(str(exc), "error")
            return
        if cmd.name == "ctx":
            if not self.kube_available():
                self.report(self.session.kube.load_error if self.session.kube else "no kubeconfig found", "error")
            elif cmd.args:
                self.switch_context(cmd.args[0])
            else:
                self.push_screen(ContextsScreen())
            return
        if cmd.name == "dashboard":
            if not self.kube_available():
                self.report("no Kubernetes context configured", "error")
            else:
                self.push_screen(DashboardScreen(self.kube.current))
            return
        if cmd.name in RESOURCE_SCREENS:
            self._navigate(cmd.name)
            if cmd.args and cmd.args[0].startswith("/"):
                self.resource_screen(cmd.name).table.set_filter(" ".join(cmd.args)[1:])
            return
        if cmd.name == "help":
            self.action_help()
            return
        if cmd.name == "quit":
            self.exit()
            return
        if cmd.name == "theme":
            self._set_theme(cmd)
            return
        if cmd.spec.mutates and self.session.readonly:
            self.report(f"read-only mode: {cmd.name} is disabled (started with --readonly)", "error")
            return
        self.run_command(cmd)

    def _set_theme(self, cmd: Command) -> None:
        if not cmd.args:
            self.report(f"themes: {', '.join(sorted(self.available_themes))}", "information")
            return
        if cmd.args[0] not in self.available_themes:
            self.report(f"unknown theme {cmd.args[0]!r}", "error")
            return
        self.theme = cmd.args[0]

    def report(self, text: str, severity: str = "information") -> None:
        self.last_result = text
        screen = self.screen
        if isinstance(screen, ResourceScreen):
            screen.set_status(text, severity)
        self.notify(text, severity=severity, timeout=6 if severity == "error" else 3)  # type: ignore[arg-type]

    @work(group="actions")
    async def run_command(self, cmd: Command) -> None:
        try:
            await self._dispatch(cmd)
        except TamerError as exc:
            self.report(str(exc), "error")

    async def _dispatch(self, cmd: Command) -> None:
        from tamer_tui.ui import (
            actions,
            compose_actions,
            container_actions,
            host_actions,
            image_actions,
            podman_actions,
            swarm_actions,
        )

        handler = None
        for module in (actions, compose_actions, swarm_actions, podman_actions, image_actions, container_actions,
                       host_actions):
            handler = getattr(module, f"cmd_{cmd.name}", None)
            if handler is not None:
                break
        if handler is None:
            raise InvalidInput(f"{cmd.name}: not available here")
        await handler(self, cmd)

    async def confirm(self, question: str, label: str = "Delete") -> bool:
        screen: Screen[Any] = ConfirmScreen(question, label)
        return bool(await self.push_screen_wait(screen))

    async def resolve(self, text: str, default_kind: str | None = None) -> Any:
        target = parse_target(text, default_kind)
        return target, await resolve_target(self.session.manager, target)

    def show_inspect(self, title: str, data: Any) -> None:
        self.push_screen(InspectScreen(title, data))

    def show_table(self, title: str, headers: list[str], rows: list[list[str]]) -> None:
        self.push_screen(TableScreen(title, headers, rows))

    def log_settings(self) -> LogSettings:
        settings = self.session.settings
        return settings.logs if settings is not None else LogSettings()

    def show_logs(self, session: Any, opener: Callable[[Any], Any], options: Any, *, timestamps: bool = False,
                  kube: bool = False) -> None:
        cfg = self.log_settings()
        self.push_screen(LogsScreen(session.title, session, opener, options, max_lines=cfg.buffer_lines,
                                    max_bytes=cfg.buffer_mb * 1024 * 1024, timestamps=timestamps or cfg.timestamps,
                                    wrap=cfg.wrap, prefixes=cfg.prefixes, kube=kube, spill_dir=cfg.spill_dir))

    # -- port-forwards -----------------------------------------------------------------
    @property
    def forwards(self) -> PortForwardManager:
        if self._forwards is None:
            if not self.kube_available():
                raise InvalidInput("port-forwards need a Kubernetes context (none is configured)")
            self._forwards = PortForwardManager(self.kube.client)
        return self._forwards

    @work(group="pf-autostart")
    async def autostart_forwards(self) -> None:
        """Saved forwards marked autostart, for the contexts the kubeconfig has."""
        settings = self.session.settings
        if settings is None or not self.kube_available():
            return
        for saved in settings.kube.port_forwards:
            if not saved.autostart or saved.context not in self.kube.contexts:
                continue
            try:
                spec = parse_forward(saved.target, saved.ports, context=saved.context, address=saved.address,
                                     autostart=True)
                fwd = await self.forwards.start(spec)
                self.report(f"port-forward {spec.describe()}: {fwd.url}")
            except TamerError as exc:
                self.report(f"saved port-forward {saved.target} {saved.ports}: {exc}", "error")

    def published_ports(self) -> list[str]:
        """``name: http://127.0.0.1:8080`` for running containers' published ports."""
        out: list[str] = []
        try:
            rows = self.resource_screen("containers").store.rows.values()
        except Exception:  # noqa: BLE001 - the screen may not exist (tests, early start)
            return out
        for row in rows:
            for url in published_urls(getattr(row, "ports", "")):
                out.append(f"{row.name}: {url}")
        return out[:20]

    # -- Helm -------------------------------------------------------------------------
    def helm_engine(self) -> Any:
        from tamer_tui.core.kube.helm import HelmEngine

        if not self.kube_available():
            raise InvalidInput("Helm needs a Kubernetes context (none is configured)")
        if self._helm is None:
            self._helm = HelmEngine(self.kube)
        return self._helm

    # -- YAML editor ------------------------------------------------------------------
    def draft_store(self) -> DraftStore:
        if self._drafts is None:
            self._drafts = DraftStore()
        return self._drafts

    def kube_editor(self, context: str | None = None, *, required: bool = True) -> Any:
        """The KubeEditor of a context (cached); None (or an error when ``required``) without Kubernetes."""
        from tamer_tui.core.kube.editor import KubeEditor

        if not self.kube_available():
            if required:
                raise InvalidInput("editing live objects needs a Kubernetes context (none is configured)")
            return None
        ctx = context or self.kube.current
        if ctx not in self._editors:
            self._editors[ctx] = KubeEditor(self.kube, ctx)
        return self._editors[ctx]

    def open_editor(self, source: Any, text: str, *, editor: Any, note: str = "", draft: Any = None,
                    original_text: str | None = None) -> None:
        from tamer_tui.ui.screens.editor_screen import EditorScreen

        self.push_screen(EditorScreen(source, text, editor, self.draft_store(), draft=draft, note=note,
                                      original_text=original_text))

    def offer_drafts(self) -> None:
        """Drafts a crashed or killed Tamer left behind: say so once at start."""
        try:
            left = self.draft_store().leftovers()
        except OSError:
            return
        if left:
            self.notify(f"{len(left)} unsaved editor draft(s) from an earlier session: :drafts reopens them",
                        severity="warning", timeout=12)

    def show_exec_output(self, title: str, stdout: str, stderr: str, exit_code: str) -> None:
        from tamer_tui.ui.screens.exec_output_screen import ExecOutputScreen

        self.push_screen(ExecOutputScreen(title, stdout, stderr, exit_code))

    def run_interactive(self, interactive: Any) -> None:
        """Suspend the TUI, hand the terminal to ``interactive`` (a shell, an attach) and come back."""
        from textual.app import SuspendNotSupported

        error = ""
        code: int | None = None
        try:
            with self.suspend():
                try:
                    code = interactive.run()
                except TamerError as exc:
                    error = str(exc)
        except SuspendNotSupported:
            raise InvalidInput("this terminal cannot hand over to a shell (no real terminal attached)") from None
        self.refresh(layout=True)
        if error:
            self.report(f"{interactive.description}: {error}", "error")
        else:
            self.report(f"{interactive.description} ended" + ("" if code is None else f" (exit code {code})"))

    def show_text(self, title: str, text: str) -> None:
        self.push_screen(TextScreen(title, text))

    def show_stats(self, runtime: Any, ident: str, name: str) -> None:
        self.push_screen(StatsScreen(runtime, ident, name))
