"""Fixtures for the hosts tests: a real sshd, TLS material from the openssl CLI, a TLS proxy, a stand-in wsl.exe.

* ``sshd``: Debian's ``/usr/sbin/sshd`` started per module on 127.0.0.1:<free port> with a temporary
  config (host key made with ssh-keygen, key-only auth, ``SetEnv DOCKER_HOST/CONTAINER_HOST`` pointing
  at the test services); the client side uses ``TAMER_SSH_CONFIG`` (an ssh_config in tmp with
  ``StrictHostKeyChecking no``), so ``~/.ssh`` is never touched.
* ``tls_material``: a CA, a server certificate for IP 127.0.0.1 and a client certificate, plus a
  second, unrelated CA - all made with the ``openssl`` CLI.
* :class:`TlsDockerProxy`: a small TLS server (python ``ssl``, client certificate required) on
  127.0.0.1 that splices each connection to the real Docker socket - a stand-in for a TLS dockerd.
* ``fake_wsl``: a stand-in ``wsl.exe`` (a Python script, see ``WSL_SCRIPT``) on PATH that SIMULATES
  Windows' wsl.exe: it lists distros in UTF-16LE and runs ``-d D -- cmd`` locally with
  DOCKER_HOST/CONTAINER_HOST pointing at the test services.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import services

SSHD = "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def socket_path_of(url: str) -> str:
    assert url.startswith("unix://"), f"these tests need a unix:// service URL, not {url}"
    return url[len("unix://"):]


# ------------------------------------------------------------------------------------------- ssh
@dataclass
class SshServer:
    """A running sshd and the client material to reach it."""

    port: int
    user: str
    client_key: Path
    ssh_config: Path  # client config WITH IdentityFile
    bare_ssh_config: Path  # client config without any identity (the endpoint's identity must be used)
    process: subprocess.Popen[bytes]
    log: Path

    def url(self, path: str = "") -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def require_ssh_tools() -> None:
    missing = [tool for tool in (SSHD, "ssh", "ssh-keygen") if not shutil.which(tool)]
    if missing:
        msg = f"openssh-server/openssh-client not installed (missing {', '.join(missing)})"
        if os.environ.get("TAMER_REQUIRE_SERVICES") == "1":
            pytest.fail(msg)
        pytest.skip(msg)


def start_sshd(directory: Path, docker_url: str, podman_url: str) -> SshServer:
    """Start ``sshd -D`` on a free loopback port with key-only auth for the current user."""
    require_ssh_tools()
    directory.mkdir(parents=True, exist_ok=True)
    host_key, client_key = directory / "host_key", directory / "client_key"
    for key in (host_key, client_key):
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, timeout=30)
    authorized = directory / "authorized_keys"
    authorized.write_text(Path(f"{client_key}.pub").read_text(encoding="utf-8"), encoding="utf-8")
    authorized.chmod(0o600)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    port = free_port()
    config = directory / "sshd_config"
    config.write_text(textwrap.dedent(f"""\
        Port {port}
        ListenAddress 127.0.0.1
        HostKey {host_key}
        AuthorizedKeysFile {authorized}
        PubkeyAuthentication yes
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        PermitRootLogin prohibit-password
        StrictModes no
        UsePAM no
        PidFile {directory / "sshd.pid"}
        SetEnv DOCKER_HOST={docker_url} CONTAINER_HOST={podman_url}
        LogLevel ERROR
        """), encoding="utf-8")
    log = directory / "sshd.log"
    process = subprocess.Popen([SSHD, "-D", "-f", str(config), "-E", str(log)], stdin=subprocess.DEVNULL)
    try:
        wait_port(port)
    except AssertionError:
        process.kill()
        raise AssertionError(f"sshd did not start: {log.read_text(errors='replace') if log.exists() else ''}") from None
    common = "Host *\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n"
    ssh_config = directory / "ssh_config"
    ssh_config.write_text(common + f"  IdentityFile {client_key}\n  IdentitiesOnly yes\n", encoding="utf-8")
    bare = directory / "ssh_config_bare"
    bare.write_text(common + f"  IdentityFile {directory / 'no-such-key'}\n  IdentitiesOnly yes\n", encoding="utf-8")
    return SshServer(port, getpass.getuser(), client_key, ssh_config, bare, process, log)


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    server = start_sshd(tmp_path_factory.mktemp("sshd"), services.docker_host(), services.podman_url())
    yield server
    server.stop()


# ------------------------------------------------------------------------------------------- TLS
@dataclass
class TlsMaterial:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    wrong_ca: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_tls_material(directory: Path) -> TlsMaterial:
    """CA, server (SAN IP:127.0.0.1) and client certificates, and an unrelated CA, via the openssl CLI."""
    if not shutil.which("openssl"):
        pytest.fail("the openssl CLI is needed to make test certificates")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for name, cn in (("ca", "tamer test CA"), ("wrong-ca", "some other CA")):
        _openssl("req", "-x509", *ec, "-keyout", f"{name}-key.pem", "-out", f"{name}.pem", "-days", "2",
                 "-subj", f"/CN={cn}", "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)
    for name, cn, ext in (("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
                          ("client", "tamer client", "extendedKeyUsage=clientAuth\n")):
        _openssl("req", *ec, "-keyout", f"{name}-key.pem", "-out", f"{name}.csr", "-subj", f"/CN={cn}", cwd=directory)
        (directory / f"{name}.ext").write_text(ext, encoding="utf-8")
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial",
                 "-out", f"{name}-cert.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=directory)
    d = directory
    return TlsMaterial(d / "ca.pem", d / "server-cert.pem", d / "server-key.pem", d / "client-cert.pem",
                       d / "client-key.pem", d / "wrong-ca.pem")


@pytest.fixture(scope="module")
def tls_material(tmp_path_factory: pytest.TempPathFactory) -> TlsMaterial:
    return make_tls_material(tmp_path_factory.mktemp("tls"))


class TlsDockerProxy:
    """A TLS server on 127.0.0.1 (client certificate required) splicing connections to the Docker socket."""

    def __init__(self, material: TlsMaterial, target: str) -> None:
        self.target = target
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(material.ca))
        self.context.load_cert_chain(str(material.server_cert), str(material.server_key))
        self.context.verify_mode = ssl.CERT_REQUIRED
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.handshake_errors: list[str] = []
        self._socks: list[socket.socket] = []
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop:
            try:
                raw, _addr = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(raw,), daemon=True).start()

    def _handle(self, raw: socket.socket) -> None:
        try:
            raw.settimeout(10)
            tls = self.context.wrap_socket(raw, server_side=True)
            tls.settimeout(None)
        except (ssl.SSLError, OSError) as exc:
            self.handshake_errors.append(str(exc))
            raw.close()
            return
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.connect(self.target)
        self._socks += [tls, upstream]

        def pipe(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                with contextlib.suppress(OSError):
                    if dst is upstream:
                        dst.shutdown(socket.SHUT_WR)
                    else:
                        dst.close()

        threading.Thread(target=pipe, args=(upstream, tls), daemon=True).start()
        pipe(tls, upstream)

    def close(self) -> None:
        self._stop = True
        self.listener.close()
        for sock in self._socks:
            with contextlib.suppress(OSError):
                sock.close()


@pytest.fixture(scope="module")
def tls_proxy(tls_material: TlsMaterial) -> Iterator[TlsDockerProxy]:
    proxy = TlsDockerProxy(tls_material, socket_path_of(services.docker_host()))
    yield proxy
    proxy.close()


# ------------------------------------------------------------------------------------------- WSL
WSL_SCRIPT = '''\
"""A stand-in for Windows' wsl.exe - it SIMULATES wsl.exe for the tests; it is not WSL.

``-l -q`` prints the distro names of wsl.json as UTF-16LE (like the real wsl.exe on Windows);
``-d DISTRO -- COMMAND...`` runs COMMAND through ``sh -c`` on this machine (as wsl.exe runs it through
the distro's shell) with DOCKER_HOST/CONTAINER_HOST from wsl.json, so ``docker``/``podman`` inside the
"distro" reach the test services. An engine the distro does not have answers like a missing command.
Every call is appended to calls.log.
"""
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
config = json.load(open(os.path.join(here, "wsl.json"), encoding="utf-8"))
args = sys.argv[1:]
with open(os.path.join(here, "calls.log"), "a", encoding="utf-8") as log:
    log.write(json.dumps(args) + "\\n")
if args[:2] == ["-l", "-q"]:
    sys.stdout.buffer.write("".join(d + "\\r\\n" for d in config["distros"]).encode("utf-16-le"))
    sys.exit(0)
if len(args) >= 4 and args[0] == "-d" and args[2] == "--":
    distro = config["distros"].get(args[1])
    if distro is None:
        sys.stdout.buffer.write("There is no distribution with the supplied name.\\r\\n".encode("utf-16-le"))
        sys.exit(255)  # the real wsl.exe exits with -1
    command = args[3:]
    if command[0] in ("docker", "podman") and command[0] not in distro["engines"]:
        sys.stderr.write("sh: 1: %s: not found\\n" % command[0])
        sys.exit(127)
    env = dict(os.environ)
    env.update(distro.get("env", {}))
    os.execvpe("sh", ["sh", "-c", " ".join(command)], env)
sys.stderr.write("stand-in wsl.exe: unsupported arguments %r\\n" % (args,))
sys.exit(2)
'''


@dataclass
class FakeWsl:
    directory: Path
    exe: Path

    def calls(self) -> list[list[str]]:
        log = self.directory / "calls.log"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]


def install_fake_wsl(directory: Path, distros: dict[str, dict[str, object]]) -> FakeWsl:
    """Write the stand-in wsl.exe (see ``WSL_SCRIPT``) and its distro table into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    exe = directory / "wsl.exe"
    exe.write_text(f"#!{sys.executable}\n" + WSL_SCRIPT, encoding="utf-8")
    exe.chmod(0o755)
    (directory / "wsl.json").write_text(json.dumps({"distros": distros}), encoding="utf-8")
    return FakeWsl(directory, exe)


@pytest.fixture
def fake_wsl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeWsl:
    """The stand-in wsl.exe on PATH: distro Debian has docker and podman, Ubuntu-22.04 has neither."""
    docker_url, podman_url = services.docker_host(), services.podman_url()
    fake = install_fake_wsl(tmp_path / "wslbin", {
        "Debian": {"engines": ["docker", "podman"], "env": {"DOCKER_HOST": docker_url, "CONTAINER_HOST": podman_url}},
        "Ubuntu-22.04": {"engines": [], "env": {}},
        "docker-desktop": {"engines": ["docker"], "env": {"DOCKER_HOST": docker_url}},
    })
    monkeypatch.setenv("PATH", f"{fake.directory}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.delenv("TAMER_WSL_EXE", raising=False)
    return fake
