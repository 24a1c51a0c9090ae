"""Builds, pushes and disk usage from the UI against the real Docker daemon and the loopback registry."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from tamer_tui.core.docker_runtime import DockerRuntime
from tests import services
from tests.ui.conftest import make_app, unique, wait_for


def _context(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(
        f"FROM {services.test_image()}\nARG GREETING=none\nRUN echo \"greeting=$GREETING\" > /greeting\n"
        "LABEL tamer.test.build=ui\n")
    return tmp_path


async def test_build_streams_into_a_panel_then_push_to_the_registry(docker_endpoint: Any, docker_api: Any,
                                                                    tmp_path: Path) -> None:
    """`:build DIR -t TAG --build-arg` opens the output panel with the builder's steps and ends "done";
    the image exists with the build arg applied; `:push` sends it to the loopback registry, whose tag list
    then has it."""
    registry = services.registry()
    repo = unique("tt-bui")
    tag = f"{registry}/{repo}:1"
    app = make_app([DockerRuntime(docker_endpoint)])
    try:
        async with app.run_test(size=(150, 40)) as pilot:
            await pilot.press("colon", *f"build docker:{_context(tmp_path)} -t {tag} --build-arg GREETING=hi",
                              "enter")
            await wait_for(lambda: app.screen.__class__.__name__ == "CommandOutputScreen", pilot, timeout=20)
            await wait_for(lambda: app.output_jobs and not app.output_jobs[-1].running, pilot, timeout=120)
            job = app.output_jobs[-1]
            assert job.state == "done", job.summary()
            texts = [e.text for e in job.lines]
            assert any("Step" in t or "RUN" in t for t in texts)
            image = docker_api.inspect_image(tag)
            assert image["Config"]["Labels"]["tamer.test.build"] == "ui"
            out = docker_api.create_container(tag, ["cat", "/greeting"])
            docker_api.start(out["Id"])
            docker_api.wait(out["Id"], timeout=30)
            assert b"greeting=hi" in docker_api.logs(out["Id"])
            docker_api.remove_container(out["Id"], force=True)

            await pilot.press("escape")
            await pilot.press("colon", *f"push docker:{tag}", "enter")
            await wait_for(lambda: len(app.output_jobs) == 2 and not app.output_jobs[-1].running, pilot,
                           timeout=120)
            assert app.output_jobs[-1].state == "done", app.output_jobs[-1].summary()
            with urllib.request.urlopen(f"http://{registry}/v2/{repo}/tags/list", timeout=10) as resp:
                assert json.loads(resp.read())["tags"] == ["1"]
    finally:
        try:
            docker_api.remove_image(tag, force=True)
        except Exception:  # noqa: BLE001 - the build failed before tagging
            pass


async def test_build_errors_are_clear(docker_endpoint: Any, tmp_path: Path) -> None:
    """A context without a Dockerfile is refused before anything runs; a secret on Docker without buildx
    says buildx is needed; a failing RUN ends the panel "failed" with the step's message."""
    app = make_app([DockerRuntime(docker_endpoint)])
    async with app.run_test(size=(150, 40)) as pilot:
        empty = tmp_path / "empty"
        empty.mkdir()
        await pilot.press("colon", *f"build docker:{empty} -t tt-bui-none:1", "enter")
        await wait_for(lambda: "Dockerfile" in app.last_result or "Containerfile" in app.last_result, pilot,
                       timeout=20)
        assert not app.output_jobs
        ok = tmp_path / "ok"
        ok.mkdir()
        ctx = _context(ok)
        secret = tmp_path / "token"
        secret.write_text("s3cr3t-value")
        await pilot.press("colon", *f"build docker:{ctx} -t tt-bui-sec:1 --secret id=tok,src={secret}", "enter")
        await wait_for(lambda: "buildx" in app.last_result, pilot, timeout=20)
        bad = tmp_path / "bad"
        bad.mkdir()
        (bad / "Dockerfile").write_text(f"FROM {services.test_image()}\nRUN echo failing-step-output && false\n")
        await pilot.press("colon", *f"build docker:{bad} -t tt-bui-bad:1", "enter")
        await wait_for(lambda: app.output_jobs and not app.output_jobs[-1].running, pilot, timeout=120)
        job = app.output_jobs[-1]
        assert job.state == "failed"
        assert any("failing-step-output" in e.text for e in job.lines)
        assert "s3cr3t-value" not in "\n".join(e.text for e in job.lines)


async def test_disk_usage_screen_and_prune_preview(docker_endpoint: Any, docker_api: Any) -> None:
    """`:df` lists images, containers and volumes with sizes (a stopped container made here is reclaimable);
    ctrl+x on it asks first, naming the count and the space to reclaim; answering no removes nothing."""
    name = unique("tt-df")
    c = docker_api.create_container(services.test_image(), ["true"], name=name,
                                    labels={"tamer.test": docker_api.test_label})
    app = make_app([DockerRuntime(docker_endpoint)], command="df")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(lambda: app.screen.screen_key == "df"
                       and any(r.item.name == name for r in app.screen.store.rows.values()), pilot, timeout=30)
        row = next(r for r in app.screen.store.rows.values() if r.item.name == name)
        assert row.item.category == "containers" and row.item.reclaimable
        categories = {r.item.category for r in app.screen.store.rows.values()}
        assert {"images", "containers"} <= categories
        await pilot.press("slash", *name, "enter")
        await wait_for(lambda: app.screen.table.cursor_row is not None, pilot)
        await pilot.press("ctrl+x")
        await wait_for(lambda: app.screen.__class__.__name__ == "ConfirmScreen", pilot, timeout=30)
        question = app.screen.question
        assert "Prune" in question and "containers" in question and "reclaiming" in question and name in question
        await pilot.press("n")
        await wait_for(lambda: app.last_result == "cancelled", pilot)
    assert docker_api.inspect_container(c["Id"])["Name"] == f"/{name}"
