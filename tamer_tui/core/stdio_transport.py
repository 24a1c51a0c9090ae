"""HTTP to a Docker or Podman service through a child process's stdin/stdout, and SDK clients for every transport.

``docker system dial-stdio`` and ``podman system dial-stdio`` copy their stdin/stdout to the
service's API socket. Started through ``ssh`` (``ssh -T -o BatchMode=yes -- HOST docker system
dial-stdio``) or through ``wsl.exe -d DISTRO -- docker system dial-stdio``, they give an HTTP
connection to a remote or WSL engine with nothing but the ssh client / wsl.exe on this side: the same
thing the Docker CLI does for ``ssh://`` hosts. The docker SDK's own ``ssh://`` support needs paramiko
(not installed) or, with ``use_ssh_client=True``, has no identity, no ssh options, a new ssh process per
request, no timeout on reads and no error text. podman-py's ``ssh://`` adapter (``ssh -N -L`` to a
local socket) works against a reachable sshd, but it turns host-key checking off
(``StrictHostKeyChecking no``, writing to ``~/.ssh/known_hosts``), may prompt on the terminal, and when
ssh fails (e.g. connection refused) it keeps polling for the forwarded socket for up to 300 s whatever
the request timeout (checked against Debian's sshd). So both SDKs get the adapter here:

* :class:`StdioSocket` - one end of a ``socket.socketpair()``; the other end is the child's stdin
  and stdout (POSIX), or is bridged to the child's pipes by two threads (Windows, where a socket
  cannot be a child's standard handle). The HTTP side therefore holds a *real* socket:
  timeouts, ``select``/``poll``, ``makefile``, ``shutdown`` (which wakes a blocked reader) and the
  SDKs' raw-socket code for attach/exec all work as on a unix socket. Closing it ends the child
  (stdin EOF, then terminate/kill, reaped in the background); its stderr is kept (last 4 KiB) so
  a failure reads "ssh root@host:22 failed (exit code 255): ssh: connect to host ... refused".
* :class:`StdioHTTPAdapter` - a requests adapter with a urllib3 pool of such connections (one child
  per pooled HTTP connection, kept alive between requests). ``close()`` also ends the children of
  connections still in use, so closing a client aborts its blocked requests.
* :func:`docker_api_client` / :func:`podman_api_client` - the SDK clients for an endpoint: unix,
  npipe, tcp:// (with TLS from the endpoint's ``tls_*`` fields for Docker), ``ssh://`` and
  ``wsl://DISTRO`` (Tamer's own scheme: the engine inside a WSL distro).

Commands are argv lists (never a local shell). The remote side of ssh always runs a shell, so the
remote command's words are quoted with :func:`shlex.quote`. ``ssh`` runs with ``BatchMode=yes``
(never a password or host-key prompt over the TUI), ``-T``, ``ConnectTimeout``, in its own session
(no controlling terminal, no SIGINT from the terminal). ``TAMER_SSH_EXE`` picks the ssh client,
``TAMER_SSH_CONFIG`` an ssh_config file passed with ``-F``, ``TAMER_WSL_EXE`` the wsl.exe to use.
Nothing POSIX-only is imported (the module imports on Windows).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shlex
import shutil
import socket
import ssl
import subprocess
import threading
import warnings
import weakref
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

import requests.adapters
import urllib3
import urllib3.connection
import urllib3.connectionpool

from tamer_tui.core.errors import InvalidInput, RuntimeUnavailable, TamerError
from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind

#: URL schemes served through a dial-stdio child process.
STDIO_SCHEMES = ("ssh", "wsl")
SSH_CONNECT_TIMEOUT = 10
#: How long a failed connection waits for its child to exit, to report the child's own message.
DIAGNOSE_WAIT = 2.0
#: How long a closed connection's child gets to exit on stdin EOF before it is terminated.
REAP_GRACE = 2.0
STDERR_TAIL = 4096
POOL_MAXSIZE = 10
_PLACEHOLDER_API_VERSION = "1.41"


class StdioTransportError(RuntimeUnavailable):
    """The dial-stdio child could not be started or ended the connection (its stderr is the message)."""


# ------------------------------------------------------------------------------------------ argv
def url_scheme(url: str) -> str:
    """The lower-cased scheme of a URL ('' without one)."""
    head, sep, _rest = url.partition("://")
    return head.lower() if sep else ""


def uses_stdio(url: str) -> bool:
    """True for the URLs this module's adapter serves (``ssh://``, ``wsl://``)."""
    return url_scheme(url) in STDIO_SCHEMES


def ssh_exe(env: Mapping[str, str] | None = None) -> str:
    """The ssh client: ``TAMER_SSH_EXE``, else ``ssh`` (found on PATH when started)."""
    environ = os.environ if env is None else env
    return environ.get("TAMER_SSH_EXE") or "ssh"


def ssh_config_file(env: Mapping[str, str] | None = None) -> str:
    """An ssh_config file to use instead of ``~/.ssh/config`` (``TAMER_SSH_CONFIG``), or ''."""
    environ = os.environ if env is None else env
    return environ.get("TAMER_SSH_CONFIG", "")


def wsl_exe(env: Mapping[str, str] | None = None) -> str:
    """``TAMER_WSL_EXE``, else ``wsl.exe`` from PATH, else the bare name ``wsl.exe``."""
    environ = os.environ if env is None else env
    if environ.get("TAMER_WSL_EXE"):
        return environ["TAMER_WSL_EXE"]
    return shutil.which("wsl.exe", path=environ.get("PATH")) or "wsl.exe"


def _remote_command(kind: RuntimeKind, socket_path: str) -> list[str]:
    """``docker [-H unix://P] system dial-stdio`` / ``podman [--url unix://P] system dial-stdio``."""
    if kind is RuntimeKind.DOCKER:
        head = ["docker", "-H", f"unix://{socket_path}"] if socket_path else ["docker"]
    else:
        head = ["podman", "--url", f"unix://{socket_path}"] if socket_path else ["podman"]
    return [*head, "system", "dial-stdio"]


def _url_path(url: str) -> str:
    path = unquote(urlsplit(url).path)
    return "" if path in ("", "/") else path


def dial_stdio_argv(url: str, kind: RuntimeKind, wsl_exe: str = "wsl.exe", *, identity: str = "",
                    ssh: str = "ssh", ssh_config: str = "",
                    connect_timeout: int = SSH_CONNECT_TIMEOUT) -> list[str]:
    """The child process that connects stdin/stdout to the engine behind ``url``.

    ``ssh://[user@]host[:port][/socket/path]`` -> ``ssh [-F cfg] [-l user] [-p port] [-i identity]
    -o BatchMode=yes -o ConnectTimeout=N -T -- host docker system dial-stdio`` (a socket path, as
    Podman connections have, becomes ``podman --url unix://PATH`` / ``docker -H unix://PATH``).
    ``wsl://DISTRO[/socket/path]`` -> ``wsl.exe -d DISTRO -- docker system dial-stdio``.
    """
    scheme = url_scheme(url)
    parts = urlsplit(url)
    path = _url_path(url)
    if scheme == "ssh":
        try:
            host, port = parts.hostname, parts.port
        except ValueError as exc:
            raise InvalidInput(f"bad ssh URL {url!r}: {exc}") from None
        if not host:
            raise InvalidInput(f"ssh URL without a host: {url!r}")
        argv = [ssh]
        if ssh_config:
            argv += ["-F", ssh_config]
        if parts.username:
            argv += ["-l", unquote(parts.username)]
        if port:
            argv += ["-p", str(port)]
        if identity:
            argv += ["-i", os.path.expanduser(identity), "-o", "IdentitiesOnly=yes"]
        argv += ["-o", "BatchMode=yes", "-o", f"ConnectTimeout={int(connect_timeout)}", "-T", "--", host]
        return argv + [shlex.quote(word) for word in _remote_command(kind, path)]
    if scheme == "wsl":
        distro = unquote(parts.netloc)
        if not distro:
            raise InvalidInput(f"wsl URL without a distro: {url!r} (wsl://DISTRO)")
        return [wsl_exe, "-d", distro, "--", *(shlex.quote(w) for w in _remote_command(kind, path))]
    raise InvalidInput(f"{url!r} is not an ssh:// or wsl:// URL")


def describe(url: str, kind: RuntimeKind) -> str:
    """A short label for messages: ``ssh root@host:22``, ``wsl Debian (docker)``."""
    parts = urlsplit(url)
    if url_scheme(url) == "wsl":
        return f"wsl {unquote(parts.netloc)} ({kind.value})"
    return f"ssh {parts.netloc}"


def decode_console_output(data: bytes) -> str:
    """Text a child wrote: UTF-16LE (wsl.exe's own messages on Windows, with or without BOM) or UTF-8."""
    if data.startswith(b"\xff\xfe"):
        return data[2:].decode("utf-16-le", "replace")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    if b"\x00" in data:
        even = data if len(data) % 2 == 0 else data + b"\x00"
        return even.decode("utf-16-le", "replace").replace("\x00", "")
    return data.decode("utf-8", "replace")


# ------------------------------------------------------------------------------ the child process
class _Child:
    """A dial-stdio child process: its stderr tail, optional bridge threads, and reaping."""

    def __init__(self, process: subprocess.Popen[bytes], label: str) -> None:
        self.process = process
        self.label = label
        self._lock = threading.Lock()
        self._tail = b""
        self._ending = False
        self.local_shutdown = False
        self._reader = threading.Thread(target=self._read_stderr, name="tamer-stdio-stderr", daemon=True)
        self._reader.start()

    def _read_stderr(self) -> None:
        stream = self.process.stderr
        if stream is None:
            return
        try:
            while True:
                chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
                if not chunk:
                    break
                with self._lock:
                    self._tail = (self._tail + chunk)[-STDERR_TAIL:]
        except (OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                stream.close()

    def stderr_text(self) -> str:
        with self._lock:
            return decode_console_output(self._tail)

    def failure(self, wait: float, output: str = "") -> str | None:
        """What went wrong, from the child's exit code and stderr; None when it looks healthy.

        ``output`` is what the child wrote to stdout instead of HTTP (wsl.exe prints its own
        errors there), shown after its stderr.
        """
        if self.local_shutdown:
            return None
        try:
            code: int | None = self.process.wait(timeout=wait) if wait > 0 else self.process.poll()
        except subprocess.TimeoutExpired:
            code = None
        if code is not None:
            self._reader.join(0.5)
        text = self.stderr_text() + "\n" + output
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if code is None and not lines:
            return None
        status = f"exit code {code}" if code is not None else "still running"
        detail = "; ".join(lines[-3:]) if lines else "it closed the connection without a message"
        return f"{self.label} failed ({status}): {detail}"

    def end(self, grace: float = REAP_GRACE) -> None:
        """Reap the child in the background: ``grace`` seconds to exit on stdin EOF, then terminate, then kill."""
        with self._lock:
            if self._ending:
                return
            self._ending = True
        threading.Thread(target=self._reap, args=(grace,), name="tamer-stdio-reap", daemon=True).start()

    def _reap(self, grace: float) -> None:
        proc = self.process
        for step in ("wait", "terminate", "kill"):
            if step == "terminate":
                with contextlib.suppress(OSError):
                    proc.terminate()
            elif step == "kill":
                with contextlib.suppress(OSError):
                    proc.kill()
            try:
                proc.wait(timeout=grace if step == "wait" else 5.0)
                return
            except subprocess.TimeoutExpired:
                continue

    def kill_now(self) -> None:
        with contextlib.suppress(OSError):
            self.process.terminate()
        self.end(grace=0.5)


def _bridge(theirs: socket.socket, process: subprocess.Popen[bytes]) -> None:
    """Copy between a socket-pair end and the child's pipes (used where a socket cannot be a std handle)."""
    stdin, stdout = process.stdin, process.stdout
    assert stdin is not None and stdout is not None
    done = threading.Semaphore(0)

    def up() -> None:
        try:
            while data := theirs.recv(65536):
                stdin.write(data)
                stdin.flush()
        except (OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError, ValueError):
                stdin.close()
            done.release()

    def down() -> None:
        try:
            while data := (stdout.read1(65536) if hasattr(stdout, "read1") else stdout.read(65536)):
                theirs.sendall(data)
        except (OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                theirs.shutdown(socket.SHUT_WR)
            with contextlib.suppress(OSError, ValueError):
                stdout.close()
            done.release()

    def closer() -> None:
        done.acquire()
        done.acquire()
        theirs.close()

    for target, name in ((up, "tamer-stdio-up"), (down, "tamer-stdio-down"), (closer, "tamer-stdio-close")):
        threading.Thread(target=target, name=name, daemon=True).start()


class StdioSocket(socket.socket):
    """Our end of a socket pair whose other end is a dial-stdio child's stdin and stdout."""

    _child: _Child | None = None

    @classmethod
    def spawn(cls, argv: Sequence[str], *, label: str, env: Mapping[str, str] | None = None,
              bridge: bool | None = None) -> StdioSocket:
        """Start ``argv`` connected to a new socket pair; raises :class:`StdioTransportError`."""
        use_bridge = os.name == "nt" if bridge is None else bridge
        ours, theirs = socket.socketpair()
        sock = cls(ours.family, ours.type, ours.proto, fileno=ours.detach())
        kwargs: dict[str, Any] = {"stderr": subprocess.PIPE, "env": None if env is None else dict(env)}
        if os.name == "nt":
            kwargs["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
        else:
            kwargs["start_new_session"] = True
        if use_bridge:
            kwargs.update(stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        else:
            kwargs.update(stdin=theirs.fileno(), stdout=theirs.fileno())
        try:
            process = subprocess.Popen(list(argv), **kwargs)  # noqa: S603 - argv list, no shell
        except OSError as exc:
            sock.close()
            theirs.close()
            reason = "not found (is it installed and on PATH?)" if isinstance(exc, FileNotFoundError) else str(exc)
            raise StdioTransportError(f"{label}: cannot run {argv[0]}: {reason}") from exc
        if use_bridge:
            _bridge(theirs, process)
        else:
            theirs.close()
        sock._child = _Child(process, label)
        return sock

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The child process (None once spawning failed)."""
        return self._child.process if self._child is not None else None

    def failure(self, wait: float = DIAGNOSE_WAIT, output: str = "") -> str | None:
        """The child's own explanation of a broken connection (None when it looks healthy)."""
        return self._child.failure(wait, output) if self._child is not None else None

    def shutdown(self, how: int) -> None:
        """Shut down our end (wakes a blocked reader); the child then sees EOF and exits."""
        if self._child is not None:
            self._child.local_shutdown = True
        super().shutdown(how)

    def abort(self) -> None:
        """End the connection from another thread: shut our end down and stop the child now."""
        with contextlib.suppress(OSError):
            self.shutdown(socket.SHUT_RDWR)
        if self._child is not None:
            self._child.kill_now()

    def _real_close(self, *_args: Any) -> None:  # socket.close() calls it once the last makefile() is closed
        super()._real_close()  # type: ignore[misc]
        if self._child is not None:  # (http.client closes first, then we may still explain a failure)
            self._child.end()


class StdioDialer:
    """Starts one child per connection and remembers the live ones (to abort them on close)."""

    def __init__(self, argv: Sequence[str], label: str, env: Mapping[str, str] | None = None,
                 bridge: bool | None = None) -> None:
        self.argv = list(argv)
        self.label = label
        self.env = env
        self.bridge = bridge
        self._lock = threading.Lock()
        self._live: weakref.WeakSet[StdioSocket] = weakref.WeakSet()

    def open(self) -> StdioSocket:
        sock = StdioSocket.spawn(self.argv, label=self.label, env=self.env, bridge=self.bridge)
        with self._lock:
            self._live.add(sock)
        return sock

    def live(self) -> list[StdioSocket]:
        """Connections whose child may still run."""
        with self._lock:
            return [s for s in self._live if s.process is not None and s.process.poll() is None]

    def close_all(self) -> None:
        with self._lock:
            socks = list(self._live)
        for sock in socks:
            sock.abort()


# ---------------------------------------------------------------------------------- urllib3 glue
class StdioConnection(urllib3.connection.HTTPConnection):
    """An HTTP connection whose socket is a :class:`StdioSocket`; failures carry the child's stderr."""

    def __init__(self, *args: Any, dialer: StdioDialer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._dialer = dialer
        self._stdio: StdioSocket | None = None

    def _new_conn(self) -> socket.socket:
        sock = self._dialer.open()
        timeout = self.timeout
        sock.settimeout(float(timeout) if isinstance(timeout, int | float) else None)
        self._stdio = sock
        return sock

    def _explain(self, exc: BaseException) -> None:
        sock = self._stdio
        if sock is None:
            return
        output = ""
        if isinstance(exc, http.client.BadStatusLine):  # the child printed text, not HTTP
            line = str(getattr(exc, "line", "") or (exc.args[0] if exc.args else ""))
            output = decode_console_output(line.encode("latin-1", "replace"))[:500]
        message = sock.failure(0.0 if isinstance(exc, TimeoutError) else DIAGNOSE_WAIT, output)
        if message:
            raise StdioTransportError(message) from exc

    def request(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        try:
            super().request(*args, **kwargs)
        except OSError as exc:
            self._explain(exc)
            raise

    def getresponse(self) -> Any:  # type: ignore[override]
        try:
            return super().getresponse()
        except (http.client.HTTPException, OSError) as exc:
            self._explain(exc)
            raise


class StdioConnectionPool(urllib3.connectionpool.HTTPConnectionPool):
    """A urllib3 pool of :class:`StdioConnection` (the dialer arrives as a connection keyword)."""

    ConnectionCls = StdioConnection  # type: ignore[assignment]


class StdioPoolManager(urllib3.PoolManager):
    """Hands out one :class:`StdioConnectionPool` whatever the URL's host (the child decides where)."""

    def __init__(self, dialer: StdioDialer, num_pools: int = 1, headers: Mapping[str, str] | None = None,
                 **connection_pool_kw: Any) -> None:
        super().__init__(num_pools, headers, **connection_pool_kw)
        self.dialer = dialer
        self.pool_classes_by_scheme = {"http": StdioConnectionPool, "https": StdioConnectionPool}

    def _new_pool(self, scheme: str, host: str, port: int,
                  request_context: dict[str, Any] | None = None) -> urllib3.connectionpool.HTTPConnectionPool:
        pool_cls = self.pool_classes_by_scheme.get(scheme) or self.pool_classes_by_scheme["http"]
        kw = dict(self.connection_pool_kw if request_context is None else request_context)
        for key in ("scheme", "host", "port"):
            kw.pop(key, None)
        return pool_cls(host, port, dialer=self.dialer, **kw)


class StdioHTTPAdapter(requests.adapters.HTTPAdapter):
    """A requests adapter: every request goes over a pooled dial-stdio child connection."""

    def __init__(self, dialer: StdioDialer, pool_maxsize: int = POOL_MAXSIZE) -> None:
        self.dialer = dialer
        super().__init__(pool_connections=1, pool_maxsize=pool_maxsize, max_retries=0)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False,
                         **pool_kwargs: Any) -> None:
        self._pool_connections = connections
        self._pool_maxsize = maxsize
        self._pool_block = block
        self.poolmanager = StdioPoolManager(self.dialer, num_pools=connections, maxsize=maxsize,
                                            block=block, **pool_kwargs)

    def get_connection_with_tls_context(self, request: Any, verify: Any, proxies: Any = None,
                                        cert: Any = None) -> Any:
        return self.poolmanager.connection_from_host("localhost", 80, scheme="http")

    def get_connection(self, url: Any, proxies: Any = None) -> Any:
        return self.poolmanager.connection_from_host("localhost", 80, scheme="http")

    def request_url(self, request: Any, proxies: Any) -> str:
        return str(request.path_url)

    def close(self) -> None:
        super().close()
        self.dialer.close_all()


# ------------------------------------------------------------------------------------ SDK clients
def dialer_for(endpoint: RuntimeEndpoint, env: Mapping[str, str] | None = None,
               bridge: bool | None = None) -> StdioDialer:
    """The dialer for an ``ssh://`` or ``wsl://`` endpoint (identity and ssh options applied)."""
    argv = dial_stdio_argv(endpoint.url, endpoint.kind, wsl_exe(env), identity=endpoint.identity,
                           ssh=ssh_exe(env), ssh_config=ssh_config_file(env))
    return StdioDialer(argv, describe(endpoint.url, endpoint.kind), env=None, bridge=bridge)


def _docker_tls(endpoint: RuntimeEndpoint) -> Any:
    """``docker.tls.TLSConfig`` from the endpoint's TLS fields (None = plain TCP)."""
    import docker.errors
    import docker.tls

    https = url_scheme(endpoint.url) == "https"
    if endpoint.tls_verify is None and not https:
        return None
    verify = True if endpoint.tls_verify is None else endpoint.tls_verify
    if not verify:
        warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
    cert = (endpoint.tls_cert, endpoint.tls_key) if endpoint.tls_cert and endpoint.tls_key else None
    try:
        return docker.tls.TLSConfig(client_cert=cert, ca_cert=endpoint.tls_ca or None, verify=verify)
    except docker.errors.TLSParameterError as exc:
        raise InvalidInput(f"{endpoint.name}: TLS settings for {endpoint.url}: {exc}") from None


def _keep_endpoint_ca(api: Any) -> None:
    """Make the endpoint's CA win over ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``.

    requests lets those variables replace a session's ``verify`` path on every request (requests
    issue #3829), which would verify a Docker TLS daemon against the system bundle instead of the
    context's ``ca.pem``. Proxy settings from the environment still apply.
    """
    merge = api.merge_environment_settings

    def merge_keeping_ca(url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        settings = merge(url, proxies, stream, verify, cert)
        if verify is None or verify is True:
            settings["verify"] = api.verify
        return settings

    api.merge_environment_settings = merge_keeping_ca


def docker_api_client(endpoint: RuntimeEndpoint, *, version: str | None = "auto", timeout: float = 60.0,
                      env: Mapping[str, str] | None = None) -> Any:
    """A docker SDK ``APIClient`` for any endpoint: unix, npipe, tcp (+TLS), ssh:// and wsl://.

    ``version="auto"`` asks the daemon (one request); on failure the client is closed before the
    error propagates (use :func:`connect_error` for a readable message).
    """
    import docker

    scheme = url_scheme(endpoint.url)
    if scheme in STDIO_SCHEMES:
        adapter = StdioHTTPAdapter(dialer_for(endpoint, env), pool_maxsize=docker.constants.DEFAULT_MAX_POOL_SIZE)
        api = docker.APIClient(base_url="tcp://127.0.0.1:2375", version=_PLACEHOLDER_API_VERSION, timeout=timeout)
        api._unmount("http://", "https://")  # noqa: SLF001 - what the SDK does for its own adapters
        api.mount("http+docker://", adapter)
        api._custom_adapter = adapter  # noqa: SLF001
        api.base_url = "http+docker://localhost"
    else:
        tls = _docker_tls(endpoint)
        api = docker.APIClient(base_url=endpoint.url, version=_PLACEHOLDER_API_VERSION, timeout=timeout,
                               tls=tls or False)
        if tls is not None:
            _keep_endpoint_ca(api)
    if version is None or version.lower() == "auto":
        try:
            api._version = api._retrieve_server_version()  # noqa: SLF001 - the SDK's own negotiation
        except BaseException:
            with contextlib.suppress(Exception):
                api.close()
            raise
    else:
        api._version = version  # noqa: SLF001
    return api


def podman_api_client(endpoint: RuntimeEndpoint, env: Mapping[str, str] | None = None) -> Any:
    """A podman-py ``APIClient`` talking to an ``ssh://`` or ``wsl://`` endpoint through dial-stdio."""
    from podman.api.client import APIClient

    adapter = StdioHTTPAdapter(dialer_for(endpoint, env))
    api = APIClient(base_url="tcp://localhost")
    api.trust_env = False
    api.mount("http://", adapter)
    api.mount("https://", adapter)
    return api


# ------------------------------------------------------------------------------------------ errors
def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it wraps (causes, contexts, urllib3 ``reason``, exception args)."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nxt in (current.__cause__, current.__context__, getattr(current, "reason", None)):
            if isinstance(nxt, BaseException):
                stack.append(nxt)
        stack.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))


def connect_error(exc: BaseException, endpoint: RuntimeEndpoint) -> TamerError | None:
    """A readable error for a transport failure (dial-stdio child, TLS); None when not recognised."""
    chain = list(exception_chain(exc))
    for link in chain:
        if isinstance(link, TamerError):
            return link
    for link in chain:
        if isinstance(link, ssl.SSLCertVerificationError):
            ca = endpoint.tls_ca or "the system CAs"
            return RuntimeUnavailable(
                f"{endpoint.name}: TLS: the server certificate of {endpoint.url} was rejected "
                f"({link.verify_message or link.reason}; verified against {ca})")
    for link in chain:
        if isinstance(link, ssl.SSLError):
            reason = str(link.reason or link)
            hint = ""
            upper = reason.upper()
            has_cert = bool(endpoint.tls_cert and endpoint.tls_key)
            if "WRONG_VERSION_NUMBER" in upper or "RECORD_LAYER" in upper:
                hint = ": the server does not speak TLS (is it a plain tcp:// endpoint?)"
            elif "CERTIFICATE" in upper or isinstance(link, ssl.SSLEOFError) or "EOF OCCURRED" in upper:
                hint = (": the server did not accept our client certificate (cert.pem/key.pem)" if has_cert else
                        ": the server may require a client certificate, and this endpoint has none (cert.pem/key.pem)")
            return RuntimeUnavailable(f"{endpoint.name}: TLS handshake with {endpoint.url} failed ({reason}){hint}")
        if type(link).__name__ == "TLSParameterError":
            return InvalidInput(f"{endpoint.name}: TLS settings for {endpoint.url}: {link}")
    if endpoint.tls_verify is not None and any(isinstance(link, ConnectionResetError) for link in chain):
        # a TLS server that rejects the client certificate may just reset the connection (TLS 1.3)
        hint = ("did it reject our client certificate (cert.pem/key.pem)?" if endpoint.tls_cert and endpoint.tls_key
                else "the server may require a client certificate, and this endpoint has none (cert.pem/key.pem)")
        return RuntimeUnavailable(f"{endpoint.name}: the TLS connection to {endpoint.url} was reset by the server: {hint}")
    return None


__all__ = [
    "STDIO_SCHEMES",
    "StdioConnection",
    "StdioConnectionPool",
    "StdioDialer",
    "StdioHTTPAdapter",
    "StdioPoolManager",
    "StdioSocket",
    "StdioTransportError",
    "connect_error",
    "decode_console_output",
    "describe",
    "dial_stdio_argv",
    "dialer_for",
    "docker_api_client",
    "exception_chain",
    "podman_api_client",
    "ssh_config_file",
    "ssh_exe",
    "uses_stdio",
    "wsl_exe",
]
