"""Log sources as async iterators of line batches: a Kubernetes pod (container) or a Docker/Podman container.

Lines are batched (at most every ``interval`` seconds or ``max_lines`` lines) so a chatty source
costs one UI update per batch, not one per line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from tamer_tui.core.errors import InvalidInput


async def batched(lines: AsyncIterator[str], interval: float = 0.05, max_lines: int = 2000) -> AsyncIterator[list[str]]:
    """Group a line stream into lists (bounded queue between reader and consumer)."""
    queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=max_lines * 4)
    failure: list[BaseException] = []

    async def pump() -> None:
        try:
            async for line in lines:
                await queue.put(line)
        except BaseException as exc:  # noqa: BLE001 - re-raised to the consumer
            failure.append(exc)
        finally:
            await queue.put(None)

    task = asyncio.create_task(pump())
    try:
        done = False
        while not done:
            first = await queue.get()
            if first is None:
                break
            batch = [first]
            deadline = asyncio.get_running_loop().time() + interval
            while len(batch) < max_lines:
                timeout = deadline - asyncio.get_running_loop().time()
                if timeout <= 0:
                    break
                try:
                    item = await asyncio.wait_for(queue.get(), timeout)
                except TimeoutError:
                    break
                if item is None:
                    done = True
                    break
                batch.append(item)
            yield batch
        if failure:
            raise failure[0]
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


async def pod_log_lines(kube: Any, context: str, namespace: str, name: str, container: str | None = None, *,
                        tail: int | None = 1000, follow: bool = True, timestamps: bool = False) -> AsyncIterator[str]:
    """``GET pods/log`` streamed line by line; the first container when the pod has several and none is named."""
    client = await kube.client(context)
    if not container:
        pod = json.loads(await client.get(f"/api/v1/namespaces/{namespace}/pods/{name}", what=f"pod {name}"))
        containers = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
        if not containers:
            raise InvalidInput(f"pod {namespace}/{name} has no containers")
        container = containers[0]
    params: dict[str, Any] = {"container": container, "follow": "true" if follow else "false"}
    if tail is not None:
        params["tailLines"] = tail
    if timestamps:
        params["timestamps"] = "true"
    async for raw in client.stream_lines(f"/api/v1/namespaces/{namespace}/pods/{name}/log", params,
                                         what=f"logs {namespace}/{name}/{container}"):
        yield raw.decode("utf-8", "replace").rstrip("\r")


async def container_log_lines(runtime: Any, ident: str, *, tail: int | None = 1000,
                              follow: bool = True) -> AsyncIterator[str]:
    async for line in runtime.logs_stream(ident, follow=follow, tail=tail):
        yield line.text
