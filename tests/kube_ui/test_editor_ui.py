"""The YAML editor screen against `tamer sim`: live validation with line numbers, diff, server-side apply,
conflicts that ask before forcing, and drafts that survive a session that died."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tamer_tui.core.kube.drafts import DraftStore, EditSource
from tests.kube_ui.conftest import kube_app, kubectl, wait_rows
from tests.ui.conftest import wait_for


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAMER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TAMER_CONFIG_DIR", str(tmp_path / "config"))


def _replace_line(area: Any, startswith: str, new: str) -> int:
    """Replace the first line starting (after indentation) with ``startswith``; returns its 1-based number."""
    lines = area.text.split("\n")
    row = next(i for i, line in enumerate(lines) if line.strip().startswith(startswith))
    indent = lines[row][: len(lines[row]) - len(lines[row].lstrip())]
    area.replace(indent + new, (row, 0), (row, len(lines[row])))
    return row + 1


async def _open_editor(app: Any, pilot: Any, target: str) -> Any:
    await pilot.press("colon", *f"edit {target}", "enter")
    await wait_for(lambda: type(app.screen).__name__ == "EditorScreen", pilot, timeout=15)
    screen = app.screen
    await wait_for(lambda: screen.validations >= 1, pilot, timeout=15)
    return screen


async def test_validation_marks_the_line_and_jumps(sim: Any) -> None:
    """`:edit deploy/default/web` opens the live object without managedFields/status; a wrong type for
    replicas is reported at its line (problem list + gutter); Enter on the problem moves the cursor there."""
    app = kube_app(sim, command="deploy -n default")
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_rows(app, pilot)
        screen = await _open_editor(app, pilot, "deploy/default/web")
        area = screen.area
        assert "kind: Deployment" in area.text and "managedFields" not in area.text and "\nstatus:" not in area.text
        assert not [p for p in screen.problems if p.severity == "error"]
        line = _replace_line(area, "replicas:", "replicas: three")
        runs = screen.validations
        await wait_for(lambda: screen.validations > runs and screen.problems, pilot, timeout=15)
        [problem] = [p for p in screen.problems if p.severity == "error"]
        assert problem.line == line and "replicas" in problem.path
        assert area.problem_lines.get(line) == "error"
        area.cursor_location = (0, 0)
        problems = screen.query_one("#editor-problems")
        problems.focus()
        await pilot.press("enter")
        assert area.cursor_location[0] == line - 1


async def test_diff_then_apply_then_conflict_and_force(sim: Any) -> None:
    """Changing replicas shows `-replicas: N` / `+replicas: M` in the diff; F4 applies it server-side: the
    field belongs to kubectl (it scaled), so the conflict is shown with its owner and Force takes it over;
    kubectl then sees the new value and `tamer` among the managers. Same again with a manager "other"."""
    kubectl(sim, "scale", "deploy/web", "-n", "default", "--replicas=2")
    app = kube_app(sim, command="deploy -n default")
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_rows(app, pilot)
        screen = await _open_editor(app, pilot, "deploy/default/web")
        _replace_line(screen.area, "replicas:", "replicas: 3")
        await pilot.press("f3")
        await wait_for(lambda: type(app.screen).__name__ == "DiffScreen", pilot, timeout=15)
        body = str(app.screen.query_one("#diff-body").render())
        assert "-  replicas: 2" in body and "+  replicas: 3" in body
        await pilot.press("escape")
        await pilot.press("f4")
        # `kubectl scale` made kubectl the owner of spec.replicas: server-side apply reports the conflict
        await wait_for(lambda: type(app.screen).__name__ == "ConfirmScreen", pilot, timeout=15)
        assert "kubectl" in str(app.screen.question) and ".spec.replicas" in str(app.screen.question)
        await pilot.press("y")  # Force
        await wait_for(lambda: "configured" in screen.last_summary, pilot, timeout=15)
        live = json.loads(kubectl(sim, "get", "deploy/web", "-n", "default", "-o", "json",
                                  "--show-managed-fields").stdout)
        assert live["spec"]["replicas"] == 3
        managers = {m["manager"] for m in live["metadata"].get("managedFields", [])}
        assert "tamer" in managers
        # another manager takes spec.replicas over
        patch = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
                 "spec": {"replicas": 4}}
        kubectl(sim, "apply", "--server-side", "--force-conflicts", "--field-manager=other", "-f", "-",
                input=json.dumps(patch))
        _replace_line(screen.area, "replicas:", "replicas: 5")
        await pilot.press("f4")
        await wait_for(lambda: type(app.screen).__name__ == "ConfirmScreen", pilot, timeout=15)
        assert "other" in str(app.screen.question)
        await pilot.press("y")  # Force
        await wait_for(lambda: json.loads(kubectl(sim, "get", "deploy/web", "-n", "default", "-o", "json").stdout)
                       ["spec"]["replicas"] == 5, pilot, timeout=15)
        kubectl(sim, "scale", "deploy/web", "-n", "default", "--replicas=2")


async def test_draft_of_a_dead_session_is_offered_and_restored(sim: Any, tmp_path: Path) -> None:
    """A draft left by a process that died (its pid is gone) is announced at start; `:drafts` reopens it
    with the edited text intact and the editor autosaves it again."""
    store = DraftStore(Path(os.environ["TAMER_DATA_DIR"]) / "drafts")
    source = EditSource(origin="new", kind="ConfigMap", namespace="default", name="recovered")
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: recovered\ndata:\n  k: typed-before-the-crash\n"
    draft = store.create(source, "", text)
    raw = json.loads(store._path(draft.id).read_text())
    raw["pid"], raw["session"] = 999_999_999, "dead-session"
    store._path(draft.id).write_text(json.dumps(raw))
    app = kube_app(sim, command="pods -n default")
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_rows(app, pilot)
        assert any("unsaved editor draft" in n.message for n in app._notifications)
        await pilot.press("colon", *"drafts", "enter")
        await wait_for(lambda: type(app.screen).__name__ == "PickScreen", pilot)
        await pilot.press("enter")
        await wait_for(lambda: type(app.screen).__name__ == "EditorScreen", pilot)
        screen = app.screen
        assert "typed-before-the-crash" in screen.area.text
        screen.area.insert("# more\n", (0, 0))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and "# more" not in store.load(draft.id).text:
            await pilot.pause(0.1)
        assert store.load(draft.id).text.startswith("# more\n")


async def test_kustomize_apply_with_prune(sim: Any, tmp_path: Path) -> None:
    """`:kapply DIR --prune=K=V` builds with `kubectl kustomize` and applies; after a ConfigMap is dropped
    from the kustomization, the next run (confirmed) deletes it and keeps the other one."""
    base = tmp_path / "kbase"
    base.mkdir()
    for name in ("kz-one", "kz-two"):
        (base / f"{name}.yaml").write_text(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: b\n")
    (base / "kustomization.yaml").write_text("namespace: default\nresources:\n  - kz-one.yaml\n  - kz-two.yaml\n")
    app = kube_app(sim, command="pods -n default")
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_rows(app, pilot)
        await pilot.press("colon", *f"kapply {base} --prune=tamer-test/set=kz", "enter")
        await wait_for(lambda: type(app.screen).__name__ == "ConfirmScreen", pilot, timeout=20)
        await pilot.press("y")
        await wait_for(lambda: "applied 2 objects" in app.last_result, pilot, timeout=30)
        names = kubectl(sim, "get", "cm", "-n", "default", "-l", "tamer-test/set=kz", "-o", "name").stdout.split()
        assert sorted(names) == ["configmap/kz-one", "configmap/kz-two"]
        (base / "kustomization.yaml").write_text("namespace: default\nresources:\n  - kz-one.yaml\n")
        await pilot.press("escape")
        await pilot.press("colon", *f"kapply {base} --prune=tamer-test/set=kz", "enter")
        await wait_for(lambda: type(app.screen).__name__ == "ConfirmScreen", pilot, timeout=20)
        await pilot.press("y")
        await wait_for(lambda: "pruned 1" in app.last_result, pilot, timeout=30)
        names = kubectl(sim, "get", "cm", "-n", "default", "-l", "tamer-test/set=kz", "-o", "name").stdout.split()
        assert names == ["configmap/kz-one"]
