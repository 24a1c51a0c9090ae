"""Command line: ``tamer`` (the TUI), ``tamer doctor``, ``tamer sim``, ``tamer demo``."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tamer_tui import __version__

SUBCOMMANDS = ("doctor", "sim", "demo", "kubeconfig")


def _app_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tamer",
        description="Keyboard-driven terminal control center for Kubernetes, Docker and Podman.",
        epilog="subcommands: tamer doctor [--json] | tamer sim [...] | tamer demo | tamer kubeconfig import PATH... "
               "(tamer SUBCOMMAND --help)",
    )
    p.add_argument("--version", action="version", version=f"tamer {__version__}")
    p.add_argument("-c", "--command", metavar="COMMAND", help="command-mode text to run at start, e.g. 'images'")
    p.add_argument("--readonly", action="store_true", help="block every mutation")
    p.add_argument("--theme", help="theme name (tamer-dark, tamer-light, tamer-high-contrast, or your own)")
    p.add_argument("--no-mouse", action="store_true", help="let the terminal handle the mouse (text selection)")
    p.add_argument("--docker-host", help="Docker endpoint (overrides detection), e.g. unix:///var/run/docker.sock")
    p.add_argument("--podman-url", help="Podman endpoint (overrides detection), e.g. unix:///run/podman/podman.sock")
    p.add_argument("--kubeconfig", help="kubeconfig file(s) (default: $KUBECONFIG, ~/.kube/config)")
    p.add_argument("--context", help="Kubernetes context to start in")
    p.add_argument("-n", "--namespace", help="Kubernetes namespace to start in")
    p.add_argument("-A", "--all-namespaces", action="store_true", help="start in all namespaces")
    p.add_argument("--no-docker", action="store_true", help="do not use Docker")
    p.add_argument("--no-podman", action="store_true", help="do not use Podman")
    return p


def build_session(args: argparse.Namespace) -> Any:
    """Settings + detected runtimes -> a ``Session`` for the app (no connection made yet)."""
    from tamer_tui.core.detect import detect
    from tamer_tui.core.manager import RuntimeManager
    from tamer_tui.core.models import RuntimeEndpoint
    from tamer_tui.core.session import Session
    from tamer_tui.core.settings import load_settings

    loaded = load_settings()
    settings = loaded.settings
    warnings = list(loaded.warnings)
    if getattr(args, "docker_host", None):
        settings.runtimes.docker.host = args.docker_host
    if getattr(args, "podman_url", None):
        settings.runtimes.podman.url = args.podman_url
    if getattr(args, "no_docker", False):
        settings.runtimes.docker.enabled = False
    if getattr(args, "no_podman", False):
        settings.runtimes.podman.enabled = False
    detection = detect(settings=settings)
    endpoints: list[RuntimeEndpoint] = list(detection.endpoints)
    readonly = bool(getattr(args, "readonly", False) or settings.readonly)
    manager = RuntimeManager(endpoints, readonly=readonly)
    from tamer_tui.core.themes import load_themes

    themes = load_themes(warnings=warnings)
    from tamer_tui.core.keymap import Keymap
    from tamer_tui.core.kube.manager import KubeManager

    keymap = Keymap.from_settings(settings)
    warnings.extend(keymap.warnings)
    kube = KubeManager(
        kubeconfig=getattr(args, "kubeconfig", None) or (os.pathsep.join(settings.kube.kubeconfig) or None),
        context=getattr(args, "context", None),
        namespace=getattr(args, "namespace", None),
        all_namespaces=bool(getattr(args, "all_namespaces", False)),
        readonly=readonly,
        readonly_contexts=frozenset(settings.kube.readonly_contexts),
        favorite_namespaces=settings.kube.favorite_namespaces,
    )
    kube.load()
    if kube.load_error and (getattr(args, "kubeconfig", None) or getattr(args, "context", None)):
        warnings.append(kube.load_error)
    return Session(
        kube=kube,
        manager=manager,
        readonly=readonly,
        theme=getattr(args, "theme", None) or settings.theme,
        mouse=settings.mouse and not getattr(args, "no_mouse", False),
        settings=settings,
        warnings=warnings,
        key_overrides=keymap.textual_keymap(),
        themes=themes,
        host_label=os.environ.get("TAMER_HOST_LABEL", ""),
    )


def run_app(args: argparse.Namespace) -> int:
    from tamer_tui.ui.app import TamerApp

    session = build_session(args)
    command = args.command
    if command is None and (args.context or args.namespace or args.all_namespaces or getattr(args, "demo", False)):
        command = "pods"
    app = TamerApp(session, initial_command=command)
    app.run(mouse=session.mouse)
    return app.return_code or 0


def _doctor(argv: Sequence[str]) -> int:
    from tamer_tui.core.doctor import run_doctor
    from tamer_tui.core.manager import make_runtime
    from tamer_tui.core.settings import load_settings

    p = argparse.ArgumentParser(prog="tamer doctor", description="What Tamer detects on this machine.")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--timeout", type=float, default=3.0, help="seconds per runtime probe")
    args = p.parse_args(list(argv))
    settings = load_settings().settings

    async def probe(endpoint: Any) -> Any:
        rt = make_runtime(endpoint, timeout=args.timeout)
        try:
            return await rt.connect()
        finally:
            await rt.close()

    report = asyncio.run(run_doctor(settings, probe, timeout=args.timeout))
    print(report.to_json() if args.json else report.to_text())
    return 0


def _sim(argv: Sequence[str]) -> int:
    from tamer_tui.sim import cli as sim_cli

    p = argparse.ArgumentParser(prog="tamer sim", description="Run a simulated Kubernetes cluster.")
    sim_cli.add_arguments(p)
    return int(sim_cli.main(p.parse_args(list(argv))))


def _kubeconfig(argv: Sequence[str]) -> int:
    """``tamer kubeconfig import PATH...``: merge other kubeconfigs into yours (backup first)."""
    from tamer_tui.core.kube import kubeconfig_import

    return int(kubeconfig_import.run(list(argv)))


def _demo(argv: Sequence[str]) -> int:
    """Two simulated clusters (k3s and kind flavours) plus the TUI on local Docker/Podman."""
    from tamer_tui.sim.cli import SimOptions, start_in_thread

    p = _app_parser()
    p.prog = "tamer demo"
    p.add_argument("--pods", type=int, default=120, help="pods per simulated cluster")
    args = p.parse_args(list(argv))
    args.demo = True
    kubeconfig = str(Path(tempfile.mkdtemp(prefix="tamer-demo-")) / "kubeconfig")
    args.kubeconfig = kubeconfig
    handles = []
    try:
        for name, flavor in (("demo-k3s", "k3s"), ("demo-kind", "kind")):
            handles.append(start_in_thread(SimOptions(name=name, flavor=flavor, pods=args.pods, kubeconfig=kubeconfig)))
        os.environ["KUBECONFIG"] = kubeconfig
        print(f"simulated clusters {', '.join(h.context for h in handles)} in KUBECONFIG={kubeconfig}", file=sys.stderr)
        return run_app(args)
    finally:
        for h in handles:
            h.stop()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        sub, rest = argv[0], argv[1:]
        return {"doctor": _doctor, "sim": _sim, "demo": _demo, "kubeconfig": _kubeconfig}[sub](rest)
    args = _app_parser().parse_args(argv)
    return run_app(args)


if __name__ == "__main__":
    raise SystemExit(main())
