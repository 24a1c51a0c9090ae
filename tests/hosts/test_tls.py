"""tcp:// + TLS: the TLS settings come from the context's material, and a wrong CA fails clearly.

No second dockerd: the "TLS daemon" is :class:`tests.hosts.conftest.TlsDockerProxy`, a small python
``ssl`` server on 127.0.0.1 that requires a client certificate signed by the test CA and splices
each connection to the real Docker socket. Certificates are made with the ``openssl`` CLI.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
import uuid
from pathlib import Path

import pytest

from tamer_tui.core.detect import TLSConfig
from tamer_tui.core.docker_runtime import DockerRuntime
from tamer_tui.core.errors import InvalidInput, RuntimeUnavailable
from tamer_tui.core.hosts import HostEntry, list_hosts, probe
from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind
from tamer_tui.core.stdio_transport import docker_api_client
from tests import services
from tests.hosts.conftest import TlsDockerProxy, TlsMaterial


def tls_context(cfg: Path, name: str, host: str, files: dict[str, Path]) -> None:
    """A Docker context with TLS material copied into contexts/tls/<sha>/docker/ (as the CLI stores it)."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = cfg / "contexts" / "meta" / digest / "meta.json"
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps({"Name": name, "Metadata": {},
                                "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}}}), encoding="utf-8")
    tls_dir = cfg / "contexts" / "tls" / digest / "docker"
    tls_dir.mkdir(parents=True, exist_ok=True)
    for target, source in files.items():
        shutil.copyfile(source, tls_dir / target)


def context_host(tmp_path: Path, name: str, host: str, files: dict[str, Path]) -> HostEntry:
    """The host list_hosts() makes of a TLS context (its own DOCKER_CONFIG: hosts are unique by URL)."""
    cfg = tmp_path / f"dockercfg-{name}"
    tls_context(cfg, name, host, files)
    [entry] = list_hosts({"DOCKER_CONFIG": str(cfg)}, tmp_path, find_wsl=False, probe_exists=lambda _p: False,
                         system_dirs=[])
    assert entry.name == f"docker@{name}"
    return entry


def good_files(material: TlsMaterial) -> dict[str, Path]:
    return {"ca.pem": material.ca, "cert.pem": material.client_cert, "key.pem": material.client_key}


async def test_context_tls_material_reaches_the_sdk_and_lists_containers(
        tmp_path: Path, tls_proxy: TlsDockerProxy, tls_material: TlsMaterial) -> None:
    """The TLS context's ca/cert/key become the SDK's TLSConfig; DockerRuntime lists containers over TLS."""
    host = context_host(tmp_path, "tls-good", tls_proxy.url, good_files(tls_material))
    tls_dir = tmp_path / "dockercfg-tls-good" / "contexts" / "tls" / hashlib.sha256(b"tls-good").hexdigest() / "docker"
    assert host.transport == "tls"
    assert host.tls == TLSConfig(str(tls_dir / "ca.pem"), str(tls_dir / "cert.pem"), str(tls_dir / "key.pem"), True)
    api = docker_api_client(host.endpoint(), timeout=10)
    try:
        assert api.base_url == f"https://127.0.0.1:{tls_proxy.port}"
        assert api.verify == str(tls_dir / "ca.pem")
        assert api.cert == (str(tls_dir / "cert.pem"), str(tls_dir / "key.pem"))
    finally:
        api.close()
    import docker

    local = docker.APIClient(base_url=services.docker_host(), version="auto")
    name = f"tt-hosts-tls-{uuid.uuid4().hex[:8]}"
    local.create_container(services.test_image(), ["sleep", "60"], name=name, labels={"tamer.test": name})
    runtime = DockerRuntime(host.endpoint(), timeout=10)
    try:
        info = await runtime.connect()
        assert info.version and info.url == tls_proxy.url
        assert name in {c.name for c in await runtime.list_containers(all=True)}
    finally:
        await runtime.close()
        local.remove_container(name, force=True)
        local.close()


async def test_a_wrong_ca_fails_with_a_clear_error(tmp_path: Path, tls_proxy: TlsDockerProxy,
                                                  tls_material: TlsMaterial) -> None:
    """A context whose ca.pem did not sign the server certificate: 'server certificate ... rejected'."""
    host = context_host(tmp_path, "tls-wrong-ca", tls_proxy.url, {**good_files(tls_material), "ca.pem": tls_material.wrong_ca})
    runtime = DockerRuntime(host.endpoint(), timeout=10)
    with pytest.raises(RuntimeUnavailable) as err:
        await runtime.connect()
    await runtime.close()
    message = str(err.value)
    assert message.startswith(f"docker@tls-wrong-ca: TLS: the server certificate of {tls_proxy.url} was rejected")
    assert re.search(r"\((self-signed certificate in certificate chain|unable to get local issuer certificate); "
                     r"verified against .*/docker/ca\.pem\)$", message), message
    started = time.monotonic()
    status = await probe(host, timeout=5)
    assert not status.reachable and "was rejected" in status.error
    assert time.monotonic() - started < 5


async def test_a_missing_client_certificate_is_reported(tmp_path: Path, tls_proxy: TlsDockerProxy,
                                                        tls_material: TlsMaterial) -> None:
    """The server requires a client certificate the context does not have: the TLS failure is named."""
    host = context_host(tmp_path, "tls-no-client-cert", tls_proxy.url, {"ca.pem": tls_material.ca})
    assert host.tls is not None and host.tls.cert == ""
    status = await probe(host, timeout=5)
    assert not status.reachable
    # (TLS 1.3: the rejection arrives as an alert, an EOF or a reset, depending on timing)
    assert status.error.startswith("docker@tls-no-client-cert: "), status.error
    assert tls_proxy.url in status.error
    assert status.error.endswith("the server may require a client certificate, and this endpoint has none "
                                 "(cert.pem/key.pem)"), status.error
    assert tls_proxy.handshake_errors, "the server never saw the handshake fail"


async def test_docker_tls_verify_environment(tmp_path: Path, tls_proxy: TlsDockerProxy,
                                            tls_material: TlsMaterial) -> None:
    """DOCKER_HOST=tcp://... with DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH: the detected endpoint connects."""
    certs = tmp_path / "certs"
    certs.mkdir()
    for target, source in (("ca.pem", tls_material.ca), ("cert.pem", tls_material.client_cert),
                           ("key.pem", tls_material.client_key)):
        shutil.copyfile(source, certs / target)
    env = {"DOCKER_HOST": tls_proxy.url, "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs),
           "DOCKER_CONFIG": str(tmp_path / "none")}
    [host] = list_hosts(env, tmp_path, find_wsl=False, probe_exists=lambda _p: False, system_dirs=[])
    assert (host.name, host.transport, host.current) == ("docker", "tls", True)
    status = await probe(host, timeout=5)
    assert status.reachable, status.error
    assert status.version and status.latency_ms > 0


async def test_missing_tls_files_are_invalid_input() -> None:
    """Missing TLS files are InvalidInput; TLS material pointing at missing files never reaches the network."""
    endpoint = RuntimeEndpoint(RuntimeKind.DOCKER, "docker@x", "tcp://127.0.0.1:9", "test",
                               tls_cert="/nonexistent/cert.pem", tls_key="/nonexistent/key.pem", tls_verify=True)
    with pytest.raises(InvalidInput, match="TLS settings"):
        docker_api_client(endpoint)
    runtime = DockerRuntime(endpoint)
    with pytest.raises(InvalidInput):
        await runtime.connect()
    await runtime.close()
