"""Parsing the two engines' disk-usage answers into one :class:`DiskReport` (payloads shaped like the
real answers of Docker 20.10 ``/system/df`` - build cache records as in the Engine API docs - and of
Podman 4.3 ``/libpod/system/df``), and what counts as reclaimable."""

from __future__ import annotations

from typing import Any

import pytest

from tamer_tui.core.diskusage import (
    PODMAN_BUILD_CACHE_NOTE,
    PRUNE_KINDS,
    DiskItem,
    parse_docker_df,
    parse_podman_df,
)
from tamer_tui.core.errors import InvalidInput

DOCKER_DF: dict[str, Any] = {
    "LayersSize": 3_000_000,
    "Images": [
        {
            "Containers": 1,
            "Created": 1795672681,
            "Id": "sha256:" + "a" * 64,
            "Labels": {"org.tamer.test-image.recipe": "3"},
            "RepoDigests": None,
            "RepoTags": ["tamer-test/busybox:latest", "busybox:alias"],
            "SharedSize": 0,
            "Size": 2_000_387,
        },
        {
            "Containers": 0,
            "Created": 1795672690,
            "Id": "sha256:" + "b" * 64,
            "Labels": None,
            "RepoDigests": ["reg.example/app@sha256:" + "c" * 64],
            "RepoTags": ["<none>:<none>"],
            "SharedSize": 2_000_387,
            "Size": 2_500_000,
        },
        {
            "Containers": 0,
            "Created": 1795672700,
            "Id": "sha256:" + "d" * 64,
            "Labels": {"tamer.test": "x"},
            "RepoTags": ["app:unused"],
            "SharedSize": -1,
            "Size": 700,
        },
    ],
    "Containers": [
        {
            "Id": "1" * 64,
            "Names": ["/web"],
            "Image": "tamer-test/busybox:latest",
            "State": "running",
            "Status": "Up 3 minutes",
            "SizeRw": 12,
            "SizeRootFs": 2_000_399,
            "Labels": {},
            "Created": 1795690000,
        },
        {
            "Id": "2" * 64,
            "Names": ["/old"],
            "Image": "tamer-test/busybox:latest",
            "State": "exited",
            "SizeRw": 16_384,
            "SizeRootFs": 2_016_771,
            "Labels": {"tamer.prune": "yes"},
            "Created": 1795690001,
        },
        {"Id": "3" * 64, "Names": ["/new"], "Image": "x", "State": "created", "Labels": None, "Created": 1795690002},
    ],
    "Volumes": [
        {
            "CreatedAt": "2026-11-26T11:00:00Z",
            "Driver": "local",
            "Labels": {"tamer.prune": "yes"},
            "Name": "data",
            "UsageData": {"RefCount": 0, "Size": 4096},
        },
        {"CreatedAt": "", "Driver": "local", "Labels": None, "Name": "busy", "UsageData": {"RefCount": 2, "Size": -1}},
    ],
    "BuildCache": [
        {
            "ID": "hw53o5aio51xtltp5xjp8v7fx",
            "Parent": "",
            "Type": "regular",
            "Description": "pulled from docker.io/library/debian@sha256:234cb88d3020898631af0ccbbcca9a66ae7306ecd30c9720690858c1b007d2a0",
            "InUse": False,
            "Shared": True,
            "Size": 10_000,
            "CreatedAt": "2021-06-28T13:31:01.474619385Z",
            "LastUsedAt": "2021-07-07T22:02:32.738075951Z",
            "UsageCount": 26,
        },
        {"ID": "in-use-record", "Type": "exec.cachemount", "Description": "mount /root/.cache", "InUse": True, "Size": 500},
    ],
    "BuilderSize": 10_500,
}

PODMAN_DF: dict[str, Any] = {
    "Images": [
        {
            "Repository": "localhost/tamer-test/busybox",
            "Tag": "latest",
            "ImageID": "5" * 64,
            "Created": "2026-11-26T05:37:32.893531Z",
            "Size": 2_161_797,
            "SharedSize": 0,
            "UniqueSize": 2_161_797,
            "Containers": 2,
        },
        {
            "Repository": "localhost/alias",
            "Tag": "v1",
            "ImageID": "5" * 64,
            "Created": "2026-11-26T05:37:32.893531Z",
            "Size": 2_161_797,
            "SharedSize": 0,
            "UniqueSize": 2_161_797,
            "Containers": 2,
        },
        {
            "Repository": "<none>",
            "Tag": "<none>",
            "ImageID": "6" * 64,
            "Created": "2026-11-26T06:00:00Z",
            "Size": 2_200_000,
            "SharedSize": 2_161_797,
            "UniqueSize": 38_203,
            "Containers": 0,
        },
    ],
    "Containers": [
        {
            "ContainerID": "7" * 64,
            "Image": "5" * 64,
            "Command": ["sleep", "3600"],
            "LocalVolumes": 0,
            "Size": 2_000_387,
            "RWSize": 12,
            "Created": "2026-11-26T11:14:34.747217725Z",
            "Status": "exited",
            "Names": "tt-probe",
        },
        {
            "ContainerID": "8" * 64,
            "Image": "5" * 64,
            "Command": ["sleep", "3600"],
            "Size": 2_000_387,
            "RWSize": 24,
            "Created": "2026-11-26T11:14:35Z",
            "Status": "running",
            "Names": "tt-live",
        },
    ],
    "Volumes": [
        {"VolumeName": "podvol", "Links": 0, "Size": 8192, "ReclaimableSize": 8192},
        {"VolumeName": "usedvol", "Links": 1, "Size": 100, "ReclaimableSize": 0},
    ],
}


def test_docker_df_items_and_reclaimable() -> None:
    """Docker: unused images, stopped (exited/created) containers, unlinked volumes and idle cache are reclaimable."""
    report = parse_docker_df("docker", DOCKER_DF)
    assert report.build_cache_supported and report.note == ""
    images = {i.id[-1]: i for i in report.category("images")}
    assert not images["a"].reclaimable and images["a"].in_use == 1
    assert images["a"].name == "tamer-test/busybox:latest" and "also busybox:alias" in images["a"].detail
    assert images["b"].dangling and images["b"].reclaimable and "dangling" in images["b"].detail
    assert images["b"].name == "reg.example/app@<none>" and images["b"].freed == 2_500_000 - 2_000_387
    assert images["d"].freed == 700 and images["d"].labels == (("tamer.test", "x"),)
    containers = {c.name: c for c in report.category("containers")}
    assert not containers["web"].reclaimable and containers["web"].in_use == 1
    assert containers["old"].reclaimable and containers["old"].size == 16_384 and containers["old"].has_label("tamer.prune=yes")
    assert containers["new"].reclaimable and containers["new"].size == 0
    volumes = {v.name: v for v in report.category("volumes")}
    assert volumes["data"].reclaimable and volumes["data"].size == 4096 and volumes["data"].created > 0
    assert not volumes["busy"].reclaimable and volumes["busy"].size == 0 and volumes["busy"].in_use == 2
    cache = {c.id: c for c in report.category("build-cache")}
    assert cache["hw53o5aio51xtltp5xjp8v7fx"].reclaimable and "shared" in cache["hw53o5aio51xtltp5xjp8v7fx"].detail
    assert not cache["in-use-record"].reclaimable
    assert report.totals["images"] == (3, 3_000_000, (2_500_000 - 2_000_387) + 700)
    assert report.totals["containers"] == (3, 12 + 16_384, 16_384)
    assert report.totals["volumes"] == (2, 4096, 4096)
    assert report.totals["build-cache"] == (2, 10_500, 10_000)
    assert report.find("volumes/data") is volumes["data"]


def test_podman_df_merges_tags_and_has_no_build_cache() -> None:
    """Podman: one row per tag is merged per image; labels/created come from the lists; no build cache."""
    containers = [{"Id": "7" * 64, "Labels": {"tamer.prune": "yes"}, "Image": "localhost/tamer-test/busybox:latest"}]
    images = [{"Id": "6" * 64, "Labels": {"io.buildah.version": "1.28.2"}}]
    volumes = [{"Name": "podvol", "Driver": "local", "CreatedAt": "2026-11-26T11:00:00Z", "Labels": {"k": "v"}}]
    report = parse_podman_df("podman", PODMAN_DF, containers, images, volumes)
    assert not report.build_cache_supported and report.note == PODMAN_BUILD_CACHE_NOTE
    assert report.category("build-cache") == []
    imgs = {i.id[0]: i for i in report.category("images")}
    assert len(report.category("images")) == 2
    assert imgs["5"].name == "localhost/tamer-test/busybox:latest" and "also localhost/alias:v1" in imgs["5"].detail
    assert not imgs["5"].reclaimable and imgs["5"].in_use == 2
    assert imgs["6"].dangling and imgs["6"].reclaimable and imgs["6"].freed == 38_203
    assert imgs["6"].labels == (("io.buildah.version", "1.28.2"),)
    ctrs = {c.name: c for c in report.category("containers")}
    assert ctrs["tt-probe"].reclaimable and ctrs["tt-probe"].size == 12 and ctrs["tt-probe"].has_label("tamer.prune")
    assert not ctrs["tt-live"].reclaimable and ctrs["tt-live"].in_use == 1
    vols = {v.name: v for v in report.category("volumes")}
    assert vols["podvol"].reclaimable and vols["podvol"].labels == (("k", "v"),) and vols["podvol"].created > 0
    assert not vols["usedvol"].reclaimable
    assert report.totals["images"] == (2, 2_161_797 + 2_200_000, 38_203)
    assert report.totals["containers"] == (2, 36, 12)
    assert report.totals["volumes"] == (2, 8292, 8192)
    assert report.totals["build-cache"] == (0, 0, 0)


def test_item_label_selector_and_key() -> None:
    """has_label understands 'key' and 'key=value'; key is category/id; freed falls back to size."""
    item = DiskItem("volumes", "v1", "v1", 10, True, 0, "", 0.0, labels=(("a", "1"), ("b", "")))
    assert item.key == "volumes/v1" and item.freed == 10
    assert item.has_label("a") and item.has_label("a=1") and item.has_label("b=")
    assert not item.has_label("a=2") and not item.has_label("c")


async def test_unknown_prune_kind_is_refused() -> None:
    """An unknown kind is refused before any engine call (the runtime is never touched)."""
    from tamer_tui.core.diskusage import prune, prune_preview

    assert "build-cache" in PRUNE_KINDS and "networks" in PRUNE_KINDS
    with pytest.raises(InvalidInput, match="unknown prune kind"):
        await prune_preview(object(), "everything")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="unknown prune kind"):
        await prune(object(), "caches")  # type: ignore[arg-type]
