"""Disk usage, prune previews and label-filtered prunes against the real Docker daemon and Podman service.

Only objects labelled for this test are ever pruned (``prune(..., label=...)``): the engines are shared
with other tests running at the same time.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest

from tamer_tui.core.builds import BuildSpec
from tamer_tui.core.diskusage import DiskItem, disk_report, prune, prune_preview
from tamer_tui.core.errors import InvalidInput
from tamer_tui.core.models import ContainerSpec, RuntimeKind
from tamer_tui.core.runtime import ContainerRuntime
from tests.builds.conftest import Made, build, busybox, context_dir


async def _stopped(engine: ContainerRuntime, image: str, made: Made, labels: dict[str, str], script: str) -> str:
    spec = ContainerSpec(
        image=image,
        name=f"{made.prefix}-{uuid.uuid4().hex[:4]}",
        command=("sh", "-c", script),
        labels=(("tamer.test", made.prefix), *labels.items()),
    )
    ident = await engine.create_container(spec)
    await engine.start_container(ident)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        state = ((await engine.inspect_container(ident)).get("State") or {}).get("Status")
        if state in ("exited", "stopped"):
            return ident
        await asyncio.sleep(0.1)
    raise AssertionError(f"container {ident} did not stop")


def _same_id(a: str, b: str) -> bool:
    return a.split(":")[-1] == b.split(":")[-1]


async def test_report_preview_and_label_prune(engine: ContainerRuntime, made: Made, tmp_path: Path) -> None:
    """The report holds the built image (with its size) and the stopped container (with its bytes); the label
    preview lists exactly that container and its bytes; the label prune removes exactly it."""
    tag = f"{made.prefix}:df"
    ctx = context_dir(tmp_path, f"FROM {busybox()}\nRUN dd if=/dev/zero of=/blob bs=1024 count=64 2>/dev/null\n")
    events = await build(engine, BuildSpec(context=ctx, tags=(tag,), labels=(("tamer.test", made.prefix),)), made)
    image_id = events[-1][1].image_id
    image_ref = f"localhost/{tag}" if engine.kind == RuntimeKind.PODMAN else tag
    selector = f"tamer.prune={made.prefix}"
    doomed = await _stopped(
        engine, image_ref, made, {"tamer.prune": made.prefix}, "dd if=/dev/zero of=/written bs=1024 count=16 2>/dev/null"
    )
    kept = await _stopped(engine, image_ref, made, {}, "true")

    report = await disk_report(engine)
    assert report.runtime == engine.name
    images = [i for i in report.category("images") if _same_id(i.id, image_id)]
    assert len(images) == 1
    image = images[0]
    assert image.size >= 64 * 1024 and tag in image.name
    assert image.in_use == 2 and not image.reclaimable and not image.dangling
    by_id = {i.id: i for i in report.category("containers")}
    assert doomed in by_id and kept in by_id
    container: DiskItem = by_id[doomed]
    assert container.reclaimable and container.in_use == 0
    assert container.size >= 16 * 1024
    assert container.has_label(selector) and container.key == f"containers/{doomed}"
    count, size, reclaim = report.totals["containers"]
    assert count >= 2 and size >= container.size and reclaim >= container.size
    if engine.kind == RuntimeKind.PODMAN:
        assert not report.build_cache_supported and "no separate build cache" in report.note
    else:
        assert report.build_cache_supported

    items, freed = await prune_preview(engine, "containers", label=selector)
    assert [i.id for i in items] == [doomed]
    assert freed == container.size
    everything, _ = await prune_preview(engine, "containers")
    assert {doomed, kept} <= {i.id for i in everything}

    result = await prune(engine, "containers", label=selector)
    assert [d for d in result.deleted] == [doomed]
    remaining = {row.id for row in await engine.list_containers(all=True)}
    assert doomed not in remaining and kept in remaining
    assert (await prune_preview(engine, "containers", label=selector)) == ([], 0)


async def test_volume_and_network_previews_and_prunes(engine: ContainerRuntime, made: Made) -> None:
    """An unused labelled volume and network are previewed and then pruned by label (and only they)."""
    labels = {"tamer.test": made.prefix, "tamer.prune": made.prefix}
    volume = f"{made.prefix}-vol"
    network = f"{made.prefix}-net"
    if engine.kind == RuntimeKind.DOCKER:
        api = engine._client()  # type: ignore[attr-defined]
        api.create_volume(volume, labels=labels)
        api.create_network(network, labels=labels)
    else:
        await engine.create_volume(volume, labels=labels)  # type: ignore[call-arg]
        await engine.create_network(network, labels=labels)  # type: ignore[call-arg]
    selector = f"tamer.prune={made.prefix}"

    vols, freed = await prune_preview(engine, "volumes", label=selector)
    assert [v.name for v in vols] == [volume] and freed == 0
    assert vols[0].reclaimable and vols[0].in_use == 0
    nets, _ = await prune_preview(engine, "networks", label=selector)
    assert [n.name for n in nets] == [network]
    assert await prune_preview(engine, "build-cache", label=selector) == ([], 0)

    assert list((await prune(engine, "volumes", label=selector)).deleted) == [volume]
    assert list((await prune(engine, "networks", label=selector)).deleted) == [network]
    assert volume not in {v.name for v in await engine.list_volumes()}
    assert network not in {n.name for n in await engine.list_networks()}


async def test_build_cache_prune_refusals(engine: ContainerRuntime) -> None:
    """Podman has no build cache to prune (clear message); Docker build cache records cannot be pruned by label."""
    if engine.kind == RuntimeKind.PODMAN:
        with pytest.raises(InvalidInput, match="no separate build cache"):
            await prune(engine, "build-cache")
        assert await prune_preview(engine, "build-cache") == ([], 0)
    else:
        with pytest.raises(InvalidInput, match="carry no labels"):
            await prune(engine, "build-cache", label="tamer.test=x")
