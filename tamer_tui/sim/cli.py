"""``tamer sim``: run the simulated Kubernetes API server in the foreground.

Writes (merges) the kubeconfig, prints exactly one line ``ready <server-url> <kubeconfig-path>
<context>`` on stdout once serving, and runs until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time

from tamer_tui.sim.cluster import FLAVORS, Cluster, SimOptions
from tamer_tui.sim.kubeconfig import default_path, write_kubeconfig
from tamer_tui.sim.server import SimHandle, SimServer, start_in_thread

__all__ = ["SimHandle", "SimOptions", "add_arguments", "main", "options_from_args", "start_in_thread"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``tamer sim`` options to a parser."""
    d = SimOptions()
    parser.add_argument("--host", default=d.host, help=f"address to bind (default {d.host})")
    parser.add_argument("--port", type=int, default=d.port, help="port to bind (default: a free port)")
    parser.add_argument("--pods", type=int, default=d.pods, help=f"pods to seed (default {d.pods})")
    parser.add_argument(
        "--namespaces", type=int, default=d.namespaces, help=f"namespaces to seed (default {d.namespaces})"
    )
    parser.add_argument("--nodes", type=int, default=d.nodes, help=f"nodes to seed (default {d.nodes})")
    parser.add_argument(
        "--flavor", choices=FLAVORS, default=d.flavor, help=f"distribution to imitate (default {d.flavor})"
    )
    parser.add_argument("--name", default=d.name, help=f"cluster and context name (default {d.name})")
    parser.add_argument(
        "--kubeconfig",
        default=None,
        help="kubeconfig file to write/merge (default: <state dir>/tamer/sim/NAME.kubeconfig)",
    )
    parser.add_argument(
        "--seed", type=int, default=d.seed, help=f"random seed of the generated objects (default {d.seed})"
    )
    parser.add_argument(
        "--log-rate",
        type=float,
        default=d.log_rate,
        help=f"log lines per second per container (default {d.log_rate})",
    )
    parser.add_argument("--no-controllers", action="store_true", help="do not run the simulated controllers")
    parser.add_argument("--no-tls", action="store_true", help="serve plain HTTP (requests without a token act as admin, as kubectl sends none over HTTP)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log to stderr")


def options_from_args(args: argparse.Namespace) -> SimOptions:
    """The :class:`SimOptions` the parsed arguments describe."""
    d = SimOptions()
    return SimOptions(
        name=getattr(args, "name", d.name),
        flavor=getattr(args, "flavor", d.flavor),
        host=getattr(args, "host", d.host),
        port=getattr(args, "port", d.port),
        pods=getattr(args, "pods", d.pods),
        namespaces=getattr(args, "namespaces", d.namespaces),
        nodes=getattr(args, "nodes", d.nodes),
        seed=getattr(args, "seed", d.seed),
        kubeconfig=getattr(args, "kubeconfig", None),
        log_rate=getattr(args, "log_rate", d.log_rate),
        controllers=not getattr(args, "no_controllers", False),
        tls=not getattr(args, "no_tls", False),
    )


async def _serve(opts: SimOptions, verbose: bool) -> int:
    t0 = time.monotonic()
    cluster = Cluster(opts)
    server = SimServer(cluster)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):  # Windows
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    try:
        url = await server.start()
    except OSError as exc:
        print(f"tamer sim: cannot listen on {opts.host}:{opts.port}: {exc}", file=sys.stderr)
        return 1
    path = opts.kubeconfig or str(default_path(opts.name))
    ca = server.certs.ca_pem if server.certs is not None else None
    written = write_kubeconfig(path, opts.name, url, ca, cluster.admin_token, cluster.restricted_token)
    if verbose:
        print(f"tamer sim: serving {url} after {time.monotonic() - t0:.2f}s", file=sys.stderr)
    print(f"ready {url} {written} {opts.name}", flush=True)
    try:
        await stop.wait()
    finally:
        await server.stop()
    return 0


def main(args: argparse.Namespace) -> int:
    """Run ``tamer sim`` with parsed arguments; returns the exit code."""
    verbose = bool(getattr(args, "verbose", False))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr)
    try:
        opts = options_from_args(args)
        Cluster(opts)  # validates the flavor before anything starts
    except ValueError as exc:
        print(f"tamer sim: {exc}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(_serve(opts, verbose))
    return 0


if __name__ == "__main__":  # pragma: no cover - convenience entry point
    _p = argparse.ArgumentParser(prog="tamer sim")
    add_arguments(_p)
    sys.exit(main(_p.parse_args()))
