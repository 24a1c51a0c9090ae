"""Small formatting helpers for cells: sizes, ages, percentages."""

from __future__ import annotations

import time


def human_size(n: float) -> str:
    if n < 0:
        return "-"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1000.0
    return f"{n:.1f}PB"


def human_bytes_iec(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024.0
    return f"{n:.1f}PiB"


def age(ts: float, now: float | None = None) -> str:
    """k9s-style age: 42s, 5m, 3h, 12d, 2y."""
    if not ts:
        return "-"
    delta = max(0.0, (now if now is not None else time.time()) - ts)
    if delta < 60:
        return f"{int(delta)}s"
    if delta < 3600:
        return f"{int(delta // 60)}m"
    if delta < 86400:
        return f"{int(delta // 3600)}h"
    if delta < 365 * 86400:
        return f"{int(delta // 86400)}d"
    return f"{int(delta // (365 * 86400))}y"


def published_urls(ports: str) -> list[str]:
    """URLs of a container's published TCP ports: ``0.0.0.0:8080->80/tcp`` -> ``http://localhost:8080``."""
    urls: list[str] = []
    for part in ports.split(","):
        part = part.strip()
        if "->" not in part or part.endswith("/udp"):
            continue
        host_part = part.split("->", 1)[0]
        host, _, port = host_part.rpartition(":")
        if not port.isdigit():
            continue
        host = host.strip("[]")
        if host in ("", "0.0.0.0", "::"):
            host = "localhost"
        elif ":" in host:
            host = f"[{host}]"
        url = f"http://{host}:{port}"
        if url not in urls:
            urls.append(url)
    return urls
