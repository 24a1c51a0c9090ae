"""A unix-socket proxy in front of a real daemon socket, to take the daemon "away" and bring it back.

Stopping the proxy closes every open connection and removes the socket file, which is exactly what
a client sees when the daemon dies or restarts; the daemon behind it stays up for other tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import os


class SocketProxy:
    def __init__(self, path: str, target: str) -> None:
        self.path = path
        self.target = target
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(self._handle, path=self.path)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for w in list(self._writers):
            w.close()
        self._writers.clear()
        if self.path:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)

    async def _open_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_unix_connection(self.target)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Splice one client connection to a new upstream connection until either side closes."""
        try:
            up_reader, up_writer = await self._open_upstream()
        except OSError:
            writer.close()
            return
        self._writers.update({writer, up_writer})

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True)
        self._writers.discard(writer)
        self._writers.discard(up_writer)


class TcpProxy(SocketProxy):
    """The same, on 127.0.0.1 TCP (for API servers): ``stop()`` cuts every connection, ``start()``
    listens again on the same port."""

    def __init__(self, target_host: str, target_port: int, port: int = 0) -> None:
        super().__init__("", "")
        self.target_host = target_host
        self.target_port = target_port
        self.port = port

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _open_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(self.target_host, self.target_port)
