"""Async Kubernetes API transport: aiohttp with TLS and credentials from kubeconfig.

The official client loads kubeconfig and resolves credentials (certificates, tokens, exec plugins);
requests go through one aiohttp session per context and return raw bytes, which callers decode with
msgspec into partial Structs (never the official client's models: those cost 14x ``json.loads``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tamer_tui.core.errors import (
    BackendError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RuntimeUnavailable,
    TamerError,
)


class Gone(TamerError):
    """410: the resourceVersion is too old; the caller must re-list."""


class Unauthorized(PermissionDenied):
    """401: the credentials were refused or expired."""


class Forbidden(PermissionDenied):
    """403: RBAC does not allow this; ``str()`` says what exactly."""


@dataclass
class ClientConfig:
    """Everything needed to talk to one API server."""

    context: str
    server: str
    namespace: str = "default"
    token: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    verify: bool = True
    username: str | None = None
    password: str | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)
    refresh: Any = None  # callable returning a fresh token (exec plugins), or None

    def ssl_context(self) -> ssl.SSLContext | bool:
        if not self.server.startswith("https"):
            return False
        ctx = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else ssl.create_default_context()
        if not self.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if self.cert_file and self.key_file:
            ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx


def load_client_config(kubeconfig: str | None, context: str | None) -> ClientConfig:
    """Use the official client's loader (auth plugins, cert files, tokens) for one context.

    Blocking (it may run an exec credential plugin): call it in a thread.
    """
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.config.config_exception import ConfigException

    cfg = k8s_client.Configuration()
    try:
        loader = k8s_config.kube_config._get_kube_config_loader(  # noqa: SLF001 - stable for years
            filename=kubeconfig or k8s_config.kube_config.KUBE_CONFIG_DEFAULT_LOCATION,
            active_context=context,
            persist_config=False,
        )
        loader.load_and_set(cfg)
    except ConfigException as exc:
        raise InvalidInput(f"kubeconfig: {exc}") from None
    except FileNotFoundError as exc:
        raise InvalidInput(f"kubeconfig not found: {exc.filename}") from None
    except Exception as exc:  # noqa: BLE001 - yaml errors, bad base64, ...
        raise InvalidInput(f"kubeconfig could not be loaded: {exc}") from None
    ctx = loader.current_context
    namespace = (ctx.get("context") or {}).get("namespace") or "default"
    token = _token_of(cfg)
    return ClientConfig(
        context=str(ctx.get("name") or context or ""),
        server=str(cfg.host).rstrip("/"),
        namespace=str(namespace),
        token=token,
        ca_file=cfg.ssl_ca_cert,
        cert_file=cfg.cert_file,
        key_file=cfg.key_file,
        verify=bool(cfg.verify_ssl),
        username=cfg.username or None,
        password=cfg.password or None,
        refresh=cfg.refresh_api_key_hook,
    )


def _token_of(cfg: Any) -> str | None:
    """The bearer token the official client's Configuration carries (key name varies by version)."""
    for key in ("BearerToken", "authorization"):
        value = (cfg.api_key or {}).get(key)
        if value:
            return str(value).removeprefix("Bearer ").strip()
    return None


def error_for(status: int, body: bytes, what: str) -> TamerError:
    """A Status object (or any body) to the matching TamerError with the server's own message."""
    message = ""
    reason = ""
    try:
        data = json.loads(body)
        if isinstance(data, dict):
            message = str(data.get("message") or "")
            reason = str(data.get("reason") or "")
    except ValueError:
        message = body[:300].decode("utf-8", "replace").strip()
    text = f"{what}: {message or reason or f'HTTP {status}'}"
    if status == 404:
        return NotFound(text)
    if status == 409:
        return Conflict(text)
    if status == 410:
        return Gone(text)
    if status == 401:
        return Unauthorized(f"{what}: unauthorized (credentials refused or expired): {message}".rstrip(": "))
    if status == 403:
        return Forbidden(text)
    if status in (400, 422):
        return InvalidInput(text)
    return BackendError(text)


class KubeClient:
    """One API server (one kubeconfig context)."""

    def __init__(self, config: ClientConfig, *, connect_timeout: float = 5.0, request_timeout: float = 60.0) -> None:
        self.config = config
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self._session: Any = None
        self._lock = asyncio.Lock()

    @property
    def context(self) -> str:
        return self.config.context

    async def _get_session(self) -> Any:
        import aiohttp

        async with self._lock:
            if self._session is None or self._session.closed:
                ssl_ctx = await asyncio.to_thread(self.config.ssl_context)
                connector = aiohttp.TCPConnector(ssl=ssl_ctx, limit=32)
                self._session = aiohttp.ClientSession(connector=connector)
            return self._session

    def _headers(self, accept: str = "application/json") -> dict[str, str]:
        headers = {"Accept": accept, "User-Agent": "tamer/0.1", **self.config.extra_headers}
        if self.config.token:
            headers["Authorization"] = f"Bearer {self.config.token}"
        return headers

    def _auth(self) -> Any:
        if self.config.username and self.config.password and not self.config.token:
            import aiohttp

            return aiohttp.BasicAuth(self.config.username, self.config.password)
        return None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: bytes | None = None,
        content_type: str = "application/json",
        accept: str = "application/json",
        what: str = "",
        timeout: float | None = None,
    ) -> bytes:
        """One request; returns the body bytes or raises the matching TamerError."""
        import aiohttp

        session = await self._get_session()
        headers = self._headers(accept)
        if body is not None:
            headers["Content-Type"] = content_type
        tmo = aiohttp.ClientTimeout(total=timeout or self.request_timeout, sock_connect=self.connect_timeout)
        label = what or f"{method} {path}"
        with self._transport_errors(label, stream=False):
            async with session.request(method, self.config.server + path, params=_params(params), data=body,
                                       headers=headers, timeout=tmo, auth=self._auth()) as resp:
                data = await resp.read()
                if resp.status == 401 and self.config.refresh is not None:
                    await asyncio.to_thread(self._refresh_token)
                if resp.status >= 400:
                    raise error_for(resp.status, data, label)
                return bytes(data)

    @contextlib.contextmanager
    def _transport_errors(self, label: str, *, stream: bool = False) -> Iterator[None]:
        """Transport failures as :class:`RuntimeUnavailable` with a message for people (TamerErrors pass)."""
        import aiohttp

        try:
            yield
        except TamerError:
            raise
        except TimeoutError:
            why = f"stream idle too long ({label})" if stream else f"no answer from {self.config.server} ({label})"
            raise RuntimeUnavailable(f"{self.context}: {why}") from None
        except aiohttp.ClientError as exc:
            why = f"stream broken ({exc})" if stream else f"{self.config.server} unreachable ({exc})"
            raise RuntimeUnavailable(f"{self.context}: {why}") from None
        except OSError as exc:
            raise RuntimeUnavailable(f"{self.context}: {exc}") from None

    def _refresh_token(self) -> None:
        from kubernetes import client as k8s_client

        cfg = k8s_client.Configuration()
        with contextlib.suppress(Exception):
            self.config.refresh(cfg)
            self.config.token = _token_of(cfg) or self.config.token

    async def get(self, path: str, params: Mapping[str, Any] | None = None, what: str = "",
                  accept: str = "application/json", timeout: float | None = None) -> bytes:
        return await self.request("GET", path, params=params, what=what, accept=accept, timeout=timeout)

    async def stream_lines(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        what: str = "",
        idle_timeout: float | None = None,
    ) -> AsyncIterator[bytes]:
        """A streaming GET (watch, follow logs): yields each line as bytes, ends when the server closes."""
        import aiohttp

        session = await self._get_session()
        tmo = aiohttp.ClientTimeout(total=None, sock_connect=self.connect_timeout, sock_read=idle_timeout)
        label = what or f"GET {path}"
        with self._transport_errors(label, stream=True):
            async with session.get(self.config.server + path, params=_params(params), headers=self._headers(),
                                   timeout=tmo, auth=self._auth()) as resp:
                if resp.status >= 400:
                    raise error_for(resp.status, await resp.read(), label)
                buf = b""
                async for chunk in resp.content.iter_any():
                    buf += chunk
                    if b"\n" in buf:
                        *lines, buf = buf.split(b"\n")
                        for line in lines:
                            if line:
                                yield line
                if buf:
                    yield buf

    async def stream_line_batches(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        what: str = "",
        idle_timeout: float | None = None,
    ) -> AsyncIterator[list[str]]:
        """A streaming GET of text lines (follow logs), in the batches the network delivered them.

        An empty batch comes first, as soon as the server answered (the stream is open). Every complete line is yielded (empty lines too: they are part of a log); "\r\n" endings lose
        the "\r"; a last line without its newline is yielded when the server closes. Each network
        read is decoded and split in one go (never line by line), so 100,000s of lines a second cost
        little; a multi-byte character split between reads is decoded whole (the cut is made at the
        last newline, which never falls inside a UTF-8 sequence).

        A connection that breaks (reset, closed before the end of a chunked body, idle timeout)
        raises :class:`RuntimeUnavailable`; HTTP errors raise the matching :class:`TamerError`."""
        import aiohttp

        session = await self._get_session()
        tmo = aiohttp.ClientTimeout(total=None, sock_connect=self.connect_timeout, sock_read=idle_timeout)
        label = what or f"GET {path}"
        with self._transport_errors(label, stream=True):
            async with session.get(self.config.server + path, params=_params(params), headers=self._headers(),
                                   timeout=tmo, auth=self._auth(), read_bufsize=1 << 20) as resp:
                if resp.status >= 400:
                    raise error_for(resp.status, await resp.read(), label)
                yield []  # the server answered: the stream is open
                rest = b""
                async for chunk in resp.content.iter_any():
                    cut = chunk.rfind(b"\n")
                    if cut < 0:
                        rest += chunk
                        continue
                    data = rest + chunk[:cut] if rest else chunk[:cut]
                    rest = chunk[cut + 1 :]
                    text = data.decode("utf-8", "replace")
                    if "\r" in text:
                        text = text.replace("\r\n", "\n").removesuffix("\r")
                    yield text.split("\n")
                if rest:
                    yield [rest.decode("utf-8", "replace").removesuffix("\r")]

    async def version(self, timeout: float = 5.0) -> dict[str, Any]:
        data = await self.get("/version", what=f"{self.context} version", timeout=timeout)
        result: dict[str, Any] = json.loads(data)
        return result

    async def ws_connect(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        protocols: tuple[str, ...] | list[str] = (),
        *,
        what: str = "",
        timeout: float | None = None,
        session: Any = None,
    ) -> Any:
        """Open a WebSocket to the API server (exec, attach, port-forward) with this context's TLS and auth.

        Returns aiohttp's ``ClientWebSocketResponse`` (the caller closes it); ``ws.protocol`` is the
        sub-protocol the server chose among ``protocols``. An open WebSocket holds one of the shared
        session's 32 connections until it is closed: callers that keep many open at once (port-forward)
        pass their own ``session`` (an aiohttp ``ClientSession`` whose connector has this context's
        ``config.ssl_context()``) and close it themselves. A refused upgrade raises the matching
        :class:`TamerError` with the server's own message (the handshake error carries no body, so the
        same URL is fetched once more as a plain GET to read the ``Status``); an unreachable server
        raises :class:`RuntimeUnavailable`. Frames are never compressed and may be of any size.
        """
        import aiohttp

        session = session if session is not None else await self._get_session()
        label = what or f"GET {path}"
        tmo = aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5.0)
        try:
            async with asyncio.timeout(timeout or self.connect_timeout * 2):
                return await session.ws_connect(
                    self.config.server + path, params=_params(params), protocols=tuple(protocols),
                    headers=self._headers("*/*"), auth=self._auth(), timeout=tmo, autoping=True,
                    heartbeat=None, compress=0, max_msg_size=0)
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status == 401 and self.config.refresh is not None:
                await asyncio.to_thread(self._refresh_token)
            fallback = error_for(exc.status or 500, json.dumps({"message": exc.message}).encode(), label)
            if 400 <= exc.status < 500:
                try:
                    await self.request("GET", path, params=params, what=label, timeout=self.connect_timeout * 2)
                except TamerError as err:
                    if type(err) is type(fallback):  # same kind of refusal: the Status carries the real message
                        raise err from None
            raise fallback from None
        except TimeoutError:
            raise RuntimeUnavailable(f"{self.context}: no answer from {self.config.server} ({label})") from None
        except aiohttp.ClientError as exc:
            raise RuntimeUnavailable(f"{self.context}: {self.config.server} unreachable ({exc})") from None
        except OSError as exc:
            raise RuntimeUnavailable(f"{self.context}: {exc}") from None


def _params(params: Mapping[str, Any] | None) -> list[tuple[str, str]] | None:
    if not params:
        return None
    out: list[tuple[str, str]] = []
    for k, v in params.items():
        if v is None:
            continue
        if isinstance(v, list | tuple):
            out.extend((k, str(x)) for x in v)
        elif isinstance(v, bool):
            out.append((k, "true" if v else "false"))
        else:
            out.append((k, str(v)))
    return out


def sync_websocket_options(config: ClientConfig) -> tuple[str, dict[str, str], dict[str, Any]]:
    """``(ws_base_url, headers, sslopt)`` for a blocking WebSocket client (``websocket-client``).

    The exec/attach terminal bridge runs while the asyncio loop is blocked (the TUI is suspended), so
    it opens its own connection with the same TLS settings and credentials :class:`KubeClient` uses:
    ``ws_base_url`` is the server URL with ``ws``/``wss`` instead of ``http``/``https`` (append the
    path and query), ``sslopt`` carries an ``ssl.SSLContext`` under ``"context"`` (empty for http).
    Read-only: nothing is cached or changed.
    """
    import base64

    headers = {"User-Agent": "tamer/0.1", **config.extra_headers}
    if config.token:
        headers["Authorization"] = f"Bearer {config.token}"
    elif config.username and config.password:
        pair = f"{config.username}:{config.password}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    server = config.server
    if server.startswith("https://"):
        base = "wss://" + server[len("https://") :]
    elif server.startswith("http://"):
        base = "ws://" + server[len("http://") :]
    else:
        base = server
    ctx = config.ssl_context()
    sslopt: dict[str, Any] = {"context": ctx} if isinstance(ctx, ssl.SSLContext) else {}
    return base, headers, sslopt
