"""Bridges between blocking SDK calls and asyncio.

Blocking calls run in worker threads; blocking generators (event, log and stats streams) are pumped
by a thread into a bounded queue and consumed as cancellable async iterators.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")

_END = object()


async def run_blocking(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``func`` in a thread so the event loop (and the UI) never blocks on I/O."""
    return await asyncio.to_thread(func, *args, **kwargs)


async def iterate_blocking(
    open_stream: Callable[[], Iterable[T]],
    close_stream: Callable[[Any], None] | None = None,
    maxsize: int = 1024,
) -> AsyncIterator[T]:
    """Consume a blocking iterable as an async iterator.

    ``open_stream`` is called in the pump thread (so connecting does not block the loop either).
    The queue is bounded: when the consumer is slow the pump thread waits, which pushes back on the
    socket instead of growing memory. Cancelling the consumer closes the stream via ``close_stream``
    (or the stream's own ``close()``), which unblocks the pump thread.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=maxsize)
    stop = threading.Event()
    holder: dict[str, Any] = {}

    def put(item: Any) -> bool:
        if stop.is_set():
            return False
        fut = asyncio.run_coroutine_threadsafe(queue.put(item), loop)
        while True:
            try:
                fut.result(timeout=0.5)
                return True
            except TimeoutError:
                if stop.is_set():
                    fut.cancel()
                    return False
            except Exception:
                return False

    def pump() -> None:
        try:
            stream = open_stream()
            holder["stream"] = stream
            if stop.is_set():
                _close(stream)
                return
            for item in stream:
                if not put(item):
                    break
        except BaseException as exc:  # noqa: BLE001 - forwarded to the consumer
            if not stop.is_set():
                put(exc)
            return
        put(_END)

    def _close(stream: Any) -> None:
        with contextlib.suppress(Exception):
            if close_stream is not None:
                close_stream(stream)
            elif hasattr(stream, "close"):
                stream.close()

    thread = threading.Thread(target=pump, name="tamer-stream", daemon=True)
    thread.start()
    try:
        while True:
            item = await queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        if "stream" in holder:
            await asyncio.to_thread(_close, holder["stream"])


async def iterate_blocking_batches(
    open_stream: Callable[[], Iterable[T]],
    close_stream: Callable[[Any], None] | None = None,
    max_pending: int = 20_000,
) -> AsyncIterator[list[T]]:
    """Like :func:`iterate_blocking`, but hands out everything the thread read since the last wake-up.

    One cross-thread wake-up per batch instead of per item, so a chatty stream (tens of thousands of
    log lines a second) costs the event loop little. When ``max_pending`` items wait unread, the pump
    thread blocks (pushing back on the socket); nothing is dropped. An exception of the stream is
    raised after the items read before it. Leaving the iteration (or cancelling it) closes the stream,
    which unblocks the pump thread.
    """
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()
    cond = threading.Condition()
    pending: list[Any] = []
    stop = threading.Event()
    holder: dict[str, Any] = {}
    state: dict[str, Any] = {"end": False, "error": None, "signalled": False}

    def signal() -> None:
        # called with cond held: wake the consumer once per batch
        if not state["signalled"]:
            state["signalled"] = True
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(wake.set)

    def pump() -> None:
        try:
            stream = open_stream()
            holder["stream"] = stream
            if stop.is_set():
                _close(stream)
                return
            for item in stream:
                with cond:
                    while len(pending) >= max_pending and not stop.is_set():
                        cond.wait(0.5)
                    if stop.is_set():
                        return
                    pending.append(item)
                    signal()
        except BaseException as exc:  # noqa: BLE001 - forwarded to the consumer
            with cond:
                if not stop.is_set():
                    state["error"] = exc
        with cond:
            state["end"] = True
            signal()

    def _close(stream: Any) -> None:
        with contextlib.suppress(Exception):
            if close_stream is not None:
                close_stream(stream)
            elif hasattr(stream, "close"):
                stream.close()

    thread = threading.Thread(target=pump, name="tamer-stream-batches", daemon=True)
    thread.start()
    try:
        while True:
            await wake.wait()
            with cond:
                wake.clear()
                state["signalled"] = False
                batch = pending[:]
                pending.clear()
                end, error = state["end"], state["error"]
                cond.notify_all()
            if batch:
                yield batch
            if end:
                if isinstance(error, BaseException):
                    raise error
                return
    finally:
        stop.set()
        with cond:
            cond.notify_all()
        if "stream" in holder:
            # shielded: a second cancellation (a session closed twice) must not stop the close, or the
            # pump thread would stay blocked on its socket for good
            await asyncio.shield(loop.run_in_executor(None, _close, holder["stream"]))
