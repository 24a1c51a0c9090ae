"""rootless_info and userns_mapping against the real (rootful) Podman service.

Objects are named ``tt-pod-<random>...`` and removed by the conftest fixtures.
"""

from __future__ import annotations

import urllib.parse

import pytest

from tamer_tui.core.errors import NotFound
from tamer_tui.core.podman_pods import HOST_MAPPING, rootless_info, userns_mapping
from tamer_tui.core.podman_runtime import PodmanRuntime
from tests import services
from tests.podman_pods.conftest import make_container

pytestmark = pytest.mark.podman


async def test_rootless_info_of_the_rootful_service(rt: PodmanRuntime) -> None:
    """The CI service runs as root: rootless False, user root, identity maps, its socket path."""
    info = await rootless_info(rt)
    assert info.runtime == "podman" and info.rootless is False
    expected = urllib.parse.urlparse(services.podman_url()).path
    assert info.socket == expected
    assert info.user == "root"
    assert info.uid_map == HOST_MAPPING == ((0, 0, 4294967295),) and info.gid_map == HOST_MAPPING
    assert info.cgroups in ("v1", "v2") and info.cgroup_manager in ("cgroupfs", "systemd")
    assert "rootful" in info.note


async def test_userns_mapping_host_private_and_stopped(rt: PodmanRuntime, prefix: str) -> None:
    """A running default container shows the host mapping (read from /proc/1/uid_map); an explicit
    private mapping shows that range; a created (not running) one falls back to its inspect data."""
    host = await make_container(rt, prefix, "uhost")
    await rt.start_container(host)
    mode, uids, gids = await userns_mapping(rt, f"{prefix}-uhost")
    assert (mode, uids, gids) == ("host", [(0, 0, 4294967295)], [(0, 0, 4294967295)])

    mapping = [{"container_id": 0, "host_id": 300000, "size": 65536}]
    private = await make_container(rt, prefix, "upriv", idmappings={"UIDMap": mapping, "GIDMap": mapping},
                                   userns={"nsmode": "private"})
    mode, uids, gids = await userns_mapping(rt, private)  # created only: from HostConfig.IDMappings
    assert (mode, uids, gids) == ("private", [(0, 300000, 65536)], [(0, 300000, 65536)])
    await rt.start_container(private)
    mode, uids, gids = await userns_mapping(rt, private)  # running: from /proc/1/uid_map
    assert (mode, uids, gids) == ("private", [(0, 300000, 65536)], [(0, 300000, 65536)])

    with pytest.raises(NotFound, match=f"{prefix}-nobody"):
        await userns_mapping(rt, f"{prefix}-nobody")
