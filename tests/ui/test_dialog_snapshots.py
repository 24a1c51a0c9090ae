"""Snapshots of the smaller screens added with exec, port-forwards and Helm: the container picker, the
command output pane, the port-forwards list and the values editor. Each is driven by keys after the picture
where that matters. The port-forwards screen is fed fixed forwards (a stand-in manager below) because live
ones carry random ports and running ages; the live path is tested in tests/kube_ui/test_kube_live.py."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tamer_tui.core.kube.portforward import ForwardState, PortForward, parse_forward
from tamer_tui.ui.app import TamerApp
from tamer_tui.ui.screens.exec_output_screen import ExecOutputScreen
from tamer_tui.ui.screens.pick_screen import PickScreen
from tamer_tui.ui.screens.port_forwards_screen import PortForwardsScreen
from tamer_tui.ui.screens.values_editor_screen import ValuesEditorScreen
from tests.ui.conftest import make_app

SIZE = (120, 26)


def test_container_picker(snap_compare: Any) -> None:
    """The container picker of a multi-container pod; down + Enter returns the second container."""
    app = make_app([], command="containers")
    picked: list[str | None] = []

    async def run_before(pilot: Any) -> None:
        await pilot.pause(0.2)
        pilot.app.push_screen(PickScreen("Container of pod shop/web-7d9:", [("app", "app"), ("istio-proxy", "istio-proxy"),
                                                                           ("log-shipper", "log-shipper")]),
                              picked.append)
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


async def test_container_picker_returns_the_choice() -> None:
    """Down + Enter picks the second container; Escape returns None."""
    app = make_app([], command="containers")
    picked: list[str | None] = []
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(PickScreen("Container:", [("app", "app"), ("sidecar", "sidecar")]), picked.append)
        await pilot.pause(0.2)
        await pilot.press("down", "enter")
        app.push_screen(PickScreen("Container:", [("app", "app")]), picked.append)
        await pilot.pause(0.2)
        await pilot.press("escape")
        await pilot.pause(0.1)
    assert picked == ["sidecar", None]


def test_exec_output(snap_compare: Any) -> None:
    """A command's output pane: stdout, then stderr under a marker, and the exit code in red (not 0)."""
    app = make_app([], command="containers")

    async def run_before(pilot: Any) -> None:
        await pilot.pause(0.2)
        pilot.app.push_screen(ExecOutputScreen("pod/shop/web-7d9/app $ sh -c 'ls /srv; exit 4'",
                                               "index.html\nstatic\n", "ls: /srv/missing: No such file\n", "4"))
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


class _Forwards:
    def __init__(self) -> None:
        now = time.monotonic()
        specs = [("svc/shop/web", "8080:80", ForwardState.ACTIVE, "web-7d9-abcde", 3, 12, 1_234_567, 45_678, ""),
                 ("pod/shop/db-0", "15432:5432", ForwardState.RECONNECTING, "db-0", 0, 4, 98_765, 4_321,
                  "pod db-0 is gone; waiting for a ready pod"),
                 ("pod/default/api-1", "9000", ForwardState.FAILED, "", 0, 0, 0, 0, "pod gone")]
        self.items = []
        for i, (target, ports, state, pod, conns, total, rx, tx, reason) in enumerate(specs, 1):
            fwd = PortForward(id=i, spec=parse_forward(target, ports, context="prod"), state=state, reason=reason,
                              local_address="127.0.0.1", local_port=int(ports.split(":")[0]), pod=pod,
                              connections=conns, total_connections=total, bytes_in=rx, bytes_out=tx)
            fwd.started_monotonic, fwd.stopped_monotonic = now - 65 * i, now  # frozen ages: 1m05s, 2m10s, 3m15s
            self.items.append(fwd)

    def list(self) -> list[PortForward]:
        return self.items

    def get(self, fid: int) -> PortForward | None:
        return next((f for f in self.items if f.id == fid), None)

    def subscribe(self, listener: Any) -> Any:
        return lambda: None


def test_port_forwards(snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The port-forwards list: target, ports, URL, pod, state (active/reconnecting/failed), connections,
    traffic, age and reason."""
    fake = _Forwards()
    monkeypatch.setattr(TamerApp, "forwards", property(lambda self: fake))
    app = make_app([], command="containers")

    async def run_before(pilot: Any) -> None:
        await pilot.pause(0.2)
        pilot.app.push_screen(PortForwardsScreen())
        await pilot.pause(0.4)

    assert snap_compare(app, terminal_size=(150, 20), run_before=run_before)


def test_values_editor_with_error(snap_compare: Any) -> None:
    """The helm values editor: a YAML syntax error is marked in the gutter and named in the status line;
    F4 refuses to run helm while it is there."""
    app = make_app([], command="containers")
    result: list[str | None] = []

    async def run_before(pilot: Any) -> None:
        await pilot.pause(0.2)
        pilot.app.push_screen(ValuesEditorScreen("values for shop/cache (upgrade to bitnami/redis)",
                                                 "replicaCount: 2\nimage:\n  tag: [7.4\nauth:\n  enabled: true\n"),
                              result.append)
        await pilot.pause(0.3)
        await pilot.press("f4")
        await pilot.pause(0.3)
        assert result == []  # not dismissed: the values do not parse

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
