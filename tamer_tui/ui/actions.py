"""What each action command does: resolve the target, confirm when destructive, call the runtime.

Each ``cmd_<name>`` runs in a worker (``TamerApp.run_command``) and reports through
``app.report``; errors are ``TamerError`` subclasses with messages fit for the user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tamer_tui.core.commands import Command
from tamer_tui.core.errors import InvalidInput, NotFound
from tamer_tui.core.logstream import LogOptions, LogSession
from tamer_tui.core.runtime import ContainerRuntime
from tamer_tui.ui.format import human_size

if TYPE_CHECKING:
    from tamer_tui.ui.app import TamerApp


def _need(cmd: Command, n: int) -> None:
    if len(cmd.args) < n:
        raise InvalidInput(f"usage: {cmd.spec.usage or cmd.name}")


async def _resolve(app: TamerApp, cmd: Command, default_kind: str | None = None) -> tuple[Any, ContainerRuntime, str, str]:
    _need(cmd, 1)
    target, (rt, ident, display) = await app.resolve(cmd.args[0], default_kind)
    return target, rt, ident, display


def _kube(app: TamerApp, cmd: Command) -> bool:
    from tamer_tui.ui.kube_nav import is_kube_target

    return bool(cmd.args) and is_kube_target(cmd.args[0])


async def cmd_describe(app: TamerApp, cmd: Command) -> None:
    if _kube(app, cmd):
        await app.kube_action("describe", cmd.args)
    else:
        await cmd_inspect(app, cmd)


async def cmd_yaml(app: TamerApp, cmd: Command) -> None:
    if _kube(app, cmd):
        await app.kube_action("yaml", cmd.args)
    else:
        await cmd_inspect(app, cmd)


async def _kube_only(app: TamerApp, cmd: Command) -> None:
    _need(cmd, 1)
    await app.kube_action(cmd.name, cmd.args)


cmd_reveal = _kube_only
cmd_scale = _kube_only
cmd_cordon = _kube_only
cmd_uncordon = _kube_only
cmd_drain = _kube_only
cmd_trigger = _kube_only
cmd_suspend = _kube_only
cmd_unsuspend = _kube_only


def _tail(cmd: Command) -> int | None:
    for a in cmd.args[1:]:
        if a.startswith("--tail="):
            value = a.split("=", 1)[1]
            if value == "all":
                return None
            if not value.isdigit():
                raise InvalidInput(f"--tail takes a number or 'all', got {value!r}")
            return int(value)
    return 1000


async def cmd_logs(app: TamerApp, cmd: Command) -> None:
    """``logs TARGET [--tail=N|all] [--since=5m] [--timestamps] [--previous]`` (targets: see core.logtargets)."""
    from tamer_tui.core.logtargets import (
        is_kube_log_target,
        open_kube_logs,
        open_runtime_logs,
        parse_log_args,
    )

    settings = app.log_settings()
    req = parse_log_args(cmd.args, default_tail=settings.tail)
    kube_target = is_kube_log_target(req.target)
    if kube_target:
        kube = app.kube

        async def opener(options: LogOptions) -> LogSession:
            return await open_kube_logs(kube, req.target, options)
    else:
        manager = app.session.manager

        async def opener(options: LogOptions) -> LogSession:
            return await open_runtime_logs(manager, req.target, options)

    session = await opener(req.options)  # a wrong target fails here, before a screen opens
    app.show_logs(session, opener, req.options, timestamps=req.timestamps, kube=kube_target)


async def cmd_inspect(app: TamerApp, cmd: Command) -> None:
    if _kube(app, cmd):
        await app.kube_action("yaml", cmd.args)
        return
    target, rt, ident, display = await _resolve(app, cmd, "container")
    fetch = {
        "container": rt.inspect_container,
        "image": rt.inspect_image,
        "network": rt.inspect_network,
        "volume": rt.inspect_volume,
    }[target.kind]
    data = await fetch(ident)
    app.show_inspect(f"{target.kind} {rt.name}:{display}", data)


async def cmd_env(app: TamerApp, cmd: Command) -> None:
    _, rt, ident, display = await _resolve(app, cmd, "container")
    data = await rt.inspect_container(ident)
    env = (data.get("Config") or {}).get("Env") or []
    rows = [list(e.partition("=")[::2]) for e in env]
    app.show_table(f"env {rt.name}:{display}", ["NAME", "VALUE"], rows)


async def cmd_top(app: TamerApp, cmd: Command) -> None:
    _, rt, ident, display = await _resolve(app, cmd, "container")
    titles, procs = await rt.top_container(ident)
    app.show_table(f"top {rt.name}:{display}", titles, procs)


async def cmd_stats(app: TamerApp, cmd: Command) -> None:
    _, rt, ident, display = await _resolve(app, cmd, "container")
    app.show_stats(rt, ident, display)


async def cmd_history(app: TamerApp, cmd: Command) -> None:
    _, rt, ident, display = await _resolve(app, cmd, "image")
    layers = await rt.image_history(ident)
    rows = [
        [
            str(layer.get("Id", ""))[:19],
            human_size(float(layer.get("Size") or 0)),
            str(layer.get("CreatedBy", ""))[:120],
            ",".join(layer.get("Tags") or []),
        ]
        for layer in layers
    ]
    app.show_table(f"history {rt.name}:{display}", ["LAYER", "SIZE", "CREATED BY", "TAGS"], rows)


async def _simple(app: TamerApp, cmd: Command, verb: str, past: str) -> None:
    _, rt, ident, display = await _resolve(app, cmd, "container")
    await getattr(rt, f"{verb}_container")(ident)
    app.report(f"{past} {rt.name}:{display}")


async def cmd_start(app: TamerApp, cmd: Command) -> None:
    await _simple(app, cmd, "start", "started")


async def cmd_stop(app: TamerApp, cmd: Command) -> None:
    await _simple(app, cmd, "stop", "stopped")


async def cmd_restart(app: TamerApp, cmd: Command) -> None:
    if _kube(app, cmd):
        await app.kube_action("restart", cmd.args)
        return
    await _simple(app, cmd, "restart", "restarted")


async def cmd_pause(app: TamerApp, cmd: Command) -> None:
    await _simple(app, cmd, "pause", "paused")


async def cmd_unpause(app: TamerApp, cmd: Command) -> None:
    await _simple(app, cmd, "unpause", "unpaused")


async def cmd_kill(app: TamerApp, cmd: Command) -> None:
    if _kube(app, cmd):
        await app.kube_action("kill", cmd.args)
        return
    _, rt, ident, display = await _resolve(app, cmd, "container")
    if not await app.confirm(f"Kill container {rt.name}:{display} (SIGKILL)?", "Kill"):
        app.report("kill cancelled")
        return
    await rt.kill_container(ident)
    app.report(f"killed {rt.name}:{display}")


async def cmd_rm(app: TamerApp, cmd: Command) -> None:
    if _kube(app, cmd):
        await app.kube_action("rm", cmd.args)
        return
    default = "image" if cmd.raw.split()[0] == "rmi" else "container"
    target, rt, ident, display = await _resolve(app, cmd, default)
    force = "--force" in cmd.args or "-f" in cmd.args
    if not await app.confirm(f"Delete {target.kind} {rt.name}:{display}{' (forced)' if force else ''}?"):
        app.report("delete cancelled")
        return
    if target.kind == "container":
        await rt.remove_container(ident, force=force)
    elif target.kind == "image":
        await rt.remove_image(ident, force=force)
    elif target.kind == "network":
        await rt.remove_network(ident)
    else:
        await rt.remove_volume(ident, force=force)
    app.report(f"deleted {target.kind} {rt.name}:{display}")


async def cmd_rename(app: TamerApp, cmd: Command) -> None:
    _need(cmd, 2)
    _, rt, ident, display = await _resolve(app, cmd, "container")
    await rt.rename_container(ident, cmd.args[1])
    app.report(f"renamed {rt.name}:{display} to {cmd.args[1]}")


def _pick_runtime(app: TamerApp, name: str | None) -> ContainerRuntime:
    manager = app.session.manager
    if name:
        return manager.get(name)
    reachable = [s.runtime for s in manager.states.values() if s.reachable]
    if not reachable:
        raise NotFound("no reachable container runtime")
    return reachable[0]


async def cmd_pull(app: TamerApp, cmd: Command) -> None:
    """``pull [RUNTIME:]REFERENCE``: layer progress in a panel; credentials from the keyring, Docker's config
    or a credential helper (sent to the engine only, never shown)."""
    from tamer_tui.core.aio import run_blocking
    from tamer_tui.core.registry_auth import find_auth, registry_of

    _need(cmd, 1)
    ref = cmd.args[0]
    runtime_name = None
    head, sep, tail = ref.partition(":")
    if sep and head in app.session.manager.states:
        runtime_name, ref = head, tail
    rt = _pick_runtime(app, runtime_name)
    auth = await run_blocking(find_auth, registry_of(ref))
    source = f" (credentials: {auth.source})" if auth else ""
    job = await app.run_output(f"pull {ref} ({rt.name}){source}", lambda: rt.pull_image(ref, auth),
                               collapse_progress=True)
    if job.state == "done":
        app.report(f"pulled {ref} on {rt.name}")


async def cmd_tag(app: TamerApp, cmd: Command) -> None:
    _need(cmd, 2)
    _, rt, ident, display = await _resolve(app, cmd, "image")
    new = cmd.args[1]
    last = new.rsplit("/", 1)[-1]
    repo, tag = (new.rsplit(":", 1) if ":" in last else (new, "latest"))
    await rt.tag_image(ident, repo, tag)
    app.report(f"tagged {rt.name}:{display} as {repo}:{tag}")


async def cmd_prune(app: TamerApp, cmd: Command) -> None:
    """``prune KIND [RUNTIME]``: what would go and the bytes it frees are shown before anything is removed."""
    from tamer_tui.core.diskusage import PRUNE_KINDS
    from tamer_tui.ui.image_actions import prune_with_preview

    _need(cmd, 1)
    kind = cmd.args[0].lower()
    kind = {"image": "images", "dangling": "dangling-images", "network": "networks", "volume": "volumes",
            "container": "containers", "cache": "build-cache", "builder": "build-cache"}.get(kind, kind)
    if kind not in PRUNE_KINDS:
        raise InvalidInput(f"usage: prune {'|'.join(PRUNE_KINDS)} [RUNTIME]")
    runtimes = [_pick_runtime(app, cmd.args[1])] if len(cmd.args) > 1 else [
        s.runtime for s in app.session.manager.states.values() if s.reachable
    ]
    for rt in runtimes:
        await prune_with_preview(app, rt, kind)


async def cmd_create(app: TamerApp, cmd: Command) -> None:
    _need(cmd, 2)
    kind = cmd.args[0].lower().rstrip("s")
    name = cmd.args[1]
    rt = _pick_runtime(app, cmd.args[2] if len(cmd.args) > 2 else None)
    if kind == "network":
        await rt.create_network(name)
    elif kind == "volume":
        await rt.create_volume(name)
    else:
        raise InvalidInput("usage: create network|volume NAME [RUNTIME]")
    app.report(f"created {kind} {rt.name}:{name}")


async def cmd_runtimes(app: TamerApp, cmd: Command) -> None:
    rows = []
    for name, s in app.session.manager.states.items():
        info = s.info
        rows.append([
            name,
            s.endpoint.kind.value,
            s.endpoint.url,
            s.endpoint.source,
            info.version if info else "-",
            "yes" if (info.rootless if info else s.endpoint.rootless) else "no",
            "reachable" if info else (s.error or "not checked"),
        ])
    app.show_table("runtimes", ["NAME", "KIND", "URL", "FOUND BY", "VERSION", "ROOTLESS", "STATE"], rows)


# -- exec, shell, attach ----------------------------------------------------------------------------

_POD_WORDS = ("pod", "pods", "po")


def _split_argv(cmd: Command) -> tuple[str, list[str]]:
    """``exec TARGET -- ARGV...`` -> (target, argv)."""
    _need(cmd, 1)
    args = list(cmd.args)
    if "--" in args:
        i = args.index("--")
        head, argv = args[:i], args[i + 1:]
    else:
        head, argv = args[:1], args[1:]
    if len(head) != 1:
        raise InvalidInput(f"{cmd.name}: one target, then -- and the command, e.g. exec pod/NS/NAME -- ls -la")
    return head[0], argv


async def exec_target(app: TamerApp, text: str) -> Any:
    """A pod's container (asking which one when the pod has several) or a Docker/Podman container."""
    from tamer_tui.core.exec import ExecTarget, pod_containers

    kind, _, rest = text.partition("/")
    if kind.lower() in _POD_WORDS:
        kube = app.kube
        parts = rest.split("/")
        if len(parts) == 1 and parts[0]:
            ns, name, container = kube.namespace or kube.state().namespace or "default", parts[0], ""
        elif len(parts) >= 2 and parts[0] and parts[1]:
            ns, name, container = parts[0], parts[1], "/".join(parts[2:])
        else:
            raise InvalidInput("expected pod/NAMESPACE/NAME[/CONTAINER]")
        context = kube.current
        if not container:
            names = await pod_containers(kube, context, ns, name)
            if not names:
                raise InvalidInput(f"pod {ns}/{name} has no running container")
            if len(names) == 1:
                container = names[0]
            else:
                from tamer_tui.ui.screens.pick_screen import PickScreen

                picked = await app.push_screen_wait(PickScreen(f"Container of pod {ns}/{name}:",
                                                               [(c, c) for c in names]))
                if not picked:
                    raise InvalidInput("cancelled")
                container = picked
        return ExecTarget("pod", f"pod/{ns}/{name}/{container}", kube=kube, context=context, namespace=ns,
                          pod=name, container=container)
    _target, (rt, ident, display) = await app.resolve(text, "container")
    return ExecTarget("container", f"container/{rt.name}:{display}", runtime=rt, ident=ident)


async def cmd_shell(app: TamerApp, cmd: Command) -> None:
    from tamer_tui.core.exec import prepare_shell

    _need(cmd, 1)
    target = await exec_target(app, cmd.args[0])
    settings = app.session.settings
    shells = list(settings.shell) if settings is not None else ["bash", "sh"]
    app.report(f"opening a shell in {target.title} ...")
    app.run_interactive(await prepare_shell(target, shells))


async def cmd_attach(app: TamerApp, cmd: Command) -> None:
    from tamer_tui.core.exec import prepare_attach

    _need(cmd, 1)
    target = await exec_target(app, cmd.args[0])
    app.run_interactive(await prepare_attach(target))


async def cmd_exec(app: TamerApp, cmd: Command) -> None:
    import shlex

    from tamer_tui.core.exec import run_command

    text, argv = _split_argv(cmd)
    if not argv:
        raise InvalidInput("exec: the command goes after --, e.g. exec pod/NS/NAME -- ls -la")
    target = await exec_target(app, text)
    app.report(f"running {shlex.join(argv)} in {target.title} ...")
    result = await run_command(target, argv)
    code = "unknown" if result.exit_code is None else str(result.exit_code)
    app.show_exec_output(f"{target.title} $ {shlex.join(argv)}", result.stdout, result.stderr, code)


# -- port-forwards ----------------------------------------------------------------------------------

async def cmd_pf(app: TamerApp, cmd: Command) -> None:
    """``pf`` (the list), ``pf TARGET [LOCAL:]REMOTE [--address=A] [--save] [--autostart]``,
    ``pf --stop ID|all``, ``pf --restart ID``, ``pf --save ID [--autostart]``."""
    from tamer_tui.core.kube.portforward import parse_forward
    from tamer_tui.ui.screens.port_forwards_screen import PortForwardsScreen

    forwards = app.forwards
    args = list(cmd.args)
    if not args:
        app.push_screen(PortForwardsScreen())
        return
    flags = {a.split("=", 1)[0]: (a.split("=", 1)[1] if "=" in a else "") for a in args if a.startswith("--")}
    words = [a for a in args if not a.startswith("--")]
    if "--stop" in flags:
        which = words[0] if words else flags["--stop"]
        if which == "all":
            await forwards.stop_all()
            app.report("stopped every port-forward")
            return
        fwd = _forward(forwards, which)
        await forwards.stop(fwd)
        app.report(f"stopped port-forward {fwd.spec.describe()}")
        return
    if "--restart" in flags:
        fwd = _forward(forwards, words[0] if words else flags["--restart"])
        fwd = await forwards.restart(fwd)
        app.report(f"port-forward {fwd.spec.describe()}: {fwd.url}")
        return
    if "--save" in flags and len(words) == 1 and words[0].isdigit():
        fwd = _forward(forwards, words[0])
        app.report(_save_forward(fwd.spec, "--autostart" in flags))
        return
    if len(words) != 2:
        raise InvalidInput("usage: pf pod|svc/NS/NAME [LOCAL:]REMOTE [--address=127.0.0.1] [--save] [--autostart]")
    kube = app.kube
    spec = parse_forward(words[0], words[1], context=kube.current, namespace=kube.namespace or "default",
                         address=flags.get("--address") or None, autostart="--autostart" in flags)
    fwd = await forwards.start(spec)
    message = f"port-forward {spec.describe()} -> {fwd.url} (pod {fwd.pod})"
    if "--save" in flags or "--autostart" in flags:
        message += "; " + _save_forward(spec, "--autostart" in flags)
    app.report(message)


def _forward(forwards: Any, ident: str) -> Any:
    fwd = forwards.get(int(ident)) if ident.isdigit() else None
    if fwd is None:
        raise InvalidInput(f"no port-forward with id {ident!r} (:pf lists them)")
    return fwd


def _save_forward(spec: Any, autostart: bool) -> str:
    """Add the forward to settings.yaml (kube.port_forwards), read fresh from disk so nothing else changes."""
    from tamer_tui.core.settings import SavedForward, load_settings, save_settings

    loaded = load_settings()
    settings = loaded.settings
    entry = SavedForward(context=spec.context, target=spec.target, ports=spec.ports, address=spec.address,
                         autostart=autostart)
    kept = [f for f in settings.kube.port_forwards
            if (f.context, f.target, f.ports) != (entry.context, entry.target, entry.ports)]
    settings.kube.port_forwards = [*kept, entry]
    path = save_settings(settings)
    return f"saved to {path}" + (" (starts with Tamer)" if autostart else "")


# -- YAML editor ------------------------------------------------------------------------------------

async def cmd_edit(app: TamerApp, cmd: Command) -> None:
    """``edit KIND/[NS/]NAME``: the live object, fetched fresh (managedFields and status stripped)."""
    _need(cmd, 1)
    kind, _, rest = cmd.args[0].partition("/")
    if not rest:
        raise InvalidInput("edit KIND/[NAMESPACE/]NAME, e.g. edit deploy/shop/web")
    kube = app.kube
    editor = app.kube_editor()
    info = await kube.resolve(kind, editor.context)
    ns, _, name = rest.rpartition("/")
    if info.namespaced and not ns:
        ns = editor.namespace
    opened = await editor.open_object(info, ns if info.namespaced else "", name)
    app.open_editor(opened.source, opened.text, editor=editor, note=opened.note)


async def cmd_new(app: TamerApp, cmd: Command) -> None:
    """``new TEMPLATE [NAME] [-n NS]``."""
    from tamer_tui.core.kube.editor import open_template, template_names

    args = list(cmd.args)
    if not args:
        raise InvalidInput(f"new TEMPLATE [NAME] [-n NAMESPACE]; templates: {', '.join(template_names())}")
    namespace = ""
    if "-n" in args:
        i = args.index("-n")
        if i + 1 >= len(args):
            raise InvalidInput("-n needs a namespace")
        namespace = args[i + 1]
        del args[i:i + 2]
    editor = app.kube_editor(required=False)
    if not namespace:
        namespace = editor.namespace if editor is not None else "default"
    opened = open_template(args[0], name=args[1] if len(args) > 1 else "example", namespace=namespace,
                           context=editor.context if editor is not None else "")
    app.open_editor(opened.source, opened.text, editor=editor, note=opened.note)


async def cmd_open(app: TamerApp, cmd: Command) -> None:
    """``open PATH``: a file, a directory of YAML files, or a kustomization (built; overlays offered)."""
    from pathlib import Path

    from tamer_tui.core.kube import kustomize
    from tamer_tui.core.kube.editor import open_directory, open_file

    _need(cmd, 1)
    path = Path(cmd.args[0]).expanduser()
    if path.is_dir():
        if kustomize.kustomization_file(path) is not None:
            overlays = [o for o in kustomize.list_overlays(path) if o.references_base]
            if overlays:
                from tamer_tui.ui.screens.pick_screen import PickScreen

                choices = [(str(path), f"{path.name} (the base)")] + [(str(o.path), o.name) for o in overlays]
                picked = await app.push_screen_wait(PickScreen("Build which kustomization?", choices))
                if not picked:
                    return
                path = Path(picked)
        opened = await open_directory(path)
    else:
        opened = open_file(path)
    app.open_editor(opened.source, opened.text, editor=app.kube_editor(required=False), note=opened.note)


async def cmd_drafts(app: TamerApp, cmd: Command) -> None:
    """Pick a draft (newest first) and reopen it in the editor."""
    import time

    from tamer_tui.ui.screens.pick_screen import PickScreen

    drafts = app.draft_store().list_drafts()
    if not drafts:
        app.report("no drafts")
        return
    choices = [(d.id, f"{d.source.title} · {time.strftime('%Y-%m-%d %H:%M', time.localtime(d.updated))}"
                      + (" · changed" if d.changed else "")) for d in drafts]
    picked = await app.push_screen_wait(PickScreen("Reopen which draft?", choices))
    if not picked:
        return
    draft = next(d for d in drafts if d.id == picked)
    editor = None
    if draft.source.context and app.kube_available() and draft.source.context in app.kube.contexts:
        editor = app.kube_editor(context=draft.source.context)
    app.open_editor(draft.source, draft.text, editor=editor, draft=draft, original_text=draft.original_text,
                    note="restored draft")


# -- Helm -------------------------------------------------------------------------------------------

def _release_ref(text: str, app: TamerApp) -> tuple[str, str]:
    """``NS/NAME`` (or ``NAME`` in the current namespace) -> (namespace, name)."""
    ns, _, name = text.rpartition("/")
    if not name:
        raise InvalidInput("a release is NAMESPACE/NAME")
    return ns or app.kube.namespace or "default", name


def _option(args: list[str], name: str) -> str | None:
    """``--name=value`` or ``--name value`` (removed from ``args``)."""
    for i, a in enumerate(args):
        if a.startswith(f"--{name}="):
            del args[i]
            return a.split("=", 1)[1]
        if a == f"--{name}" and i + 1 < len(args):
            value = args[i + 1]
            del args[i:i + 2]
            return value
    return None


async def cmd_helm(app: TamerApp, cmd: Command) -> None:
    """``helm`` (releases), ``helm values|manifest|notes|hooks|history|rollback|uninstall|test|upgrade NS/NAME``,
    ``helm install RELEASE CHART [--version=V] [-n NS]``, ``helm repo add|remove|update``, ``helm chart REPO/CHART``."""
    import yaml

    from tamer_tui.ui.screens.helm_releases_screen import HelmReleasesScreen

    args = list(cmd.args)
    if not args:
        app.push_screen(HelmReleasesScreen(None))
        return
    engine = app.helm_engine()
    sub = args.pop(0)
    if sub == "repo":
        await _helm_repo(app, engine, args)
        return
    if sub == "chart":
        await _helm_chart(app, engine, args)
        return
    if sub == "install":
        ns = _option(args, "namespace") or _option(args, "n") or app.kube.namespace or "default"
        if "-n" in args:
            i = args.index("-n")
            ns = args[i + 1] if i + 1 < len(args) else ns
            del args[i:i + 2]
        version = _option(args, "version")
        if len(args) != 2:
            raise InvalidInput("helm install RELEASE CHART [--version=V] [-n NAMESPACE]")
        release, chart = args
        content = await _chart_content(engine, chart, version)
        values = await app.push_screen_wait(_values_editor(f"values for {release} ({chart} {version or ''})",
                                                           content.values_yaml if content else ""))
        if values is None:
            app.report("install cancelled")
            return
        res = await engine.install(release, chart, ns, version=version, values_yaml=values, create_namespace=True)
        app.show_text(f"helm install {ns}/{release}", res.output)
        app.report(f"installed {ns}/{release} ({chart})")
        return
    if not args:
        raise InvalidInput(f"helm {sub} NAMESPACE/NAME")
    ns, name = _release_ref(args.pop(0), app)
    if sub == "values":
        detail = await engine.get_release(name, ns)
        data = detail.computed_values if "--all" in args else detail.config
        app.show_text(f"helm values {ns}/{name}" + (" (computed)" if "--all" in args else ""),
                      yaml.safe_dump(data or {}, sort_keys=False) if data else "# no user-supplied values\n")
    elif sub in ("manifest", "notes", "hooks"):
        detail = await engine.get_release(name, ns)
        text = {"manifest": detail.manifest, "notes": detail.notes, "hooks": detail.hooks_manifest}[sub]
        app.show_text(f"helm {sub} {ns}/{name}", text or f"# no {sub}\n")
    elif sub == "history":
        revs = await engine.history(name, ns)
        rows = [[str(r.revision), r.updated.strftime("%Y-%m-%d %H:%M:%S") if r.updated else "-", r.status, r.chart,
                 r.app_version or "-", r.description] for r in revs]
        app.show_table(f"helm history {ns}/{name}", ["REVISION", "UPDATED", "STATUS", "CHART", "APP VERSION",
                                                      "DESCRIPTION"], rows)
    elif sub == "rollback":
        if not args or not args[0].isdigit():
            raise InvalidInput("helm rollback NAMESPACE/NAME REVISION")
        if not await app.confirm(f"Roll {ns}/{name} back to revision {args[0]}?", "Rollback"):
            return
        await engine.rollback(name, int(args[0]), ns)
        app.report(f"rolled {ns}/{name} back to revision {args[0]}")
    elif sub == "uninstall":
        if not await app.confirm(f"Uninstall helm release {ns}/{name}?", "Uninstall"):
            return
        await engine.uninstall(name, ns)
        app.report(f"uninstalled {ns}/{name}")
    elif sub == "test":
        res = await engine.test(name, ns, logs=True)
        app.show_text(f"helm test {ns}/{name}", res.output)
    elif sub == "upgrade":
        version = _option(args, "version")
        if not args:
            raise InvalidInput("helm upgrade NAMESPACE/NAME CHART [--version=V]")
        chart = args[0]
        detail = await engine.get_release(name, ns)
        current = yaml.safe_dump(detail.config, sort_keys=False) if detail.config else ""
        values = await app.push_screen_wait(_values_editor(f"values for {ns}/{name} (upgrade to {chart})", current))
        if values is None:
            app.report("upgrade cancelled")
            return
        res = await engine.upgrade(name, chart, ns, version=version, values_yaml=values)
        app.show_text(f"helm upgrade {ns}/{name}", res.output)
        app.report(f"upgraded {ns}/{name}")
    else:
        raise InvalidInput(f"unknown helm action {sub!r} (values, manifest, notes, hooks, history, rollback, "
                           "uninstall, test, upgrade, install, repo, chart)")


def _values_editor(title: str, text: str) -> Any:
    from tamer_tui.ui.screens.values_editor_screen import ValuesEditorScreen

    return ValuesEditorScreen(title, text)


async def _chart_content(engine: Any, chart: str, version: str | None) -> Any:
    from pathlib import Path

    if Path(chart).expanduser().exists():
        return await engine.repos.local_chart(Path(chart).expanduser())
    repo, _, name = chart.partition("/")
    if not name:
        raise InvalidInput(f"chart {chart!r}: REPO/CHART, a chart directory or a .tgz")
    return await engine.repos.chart(repo, name, version)


async def _helm_chart(app: TamerApp, engine: Any, args: list[str]) -> None:
    version = _option(args, "version")
    show = _option(args, "show") or "readme"
    if not args:
        raise InvalidInput("helm chart REPO/CHART [--version=V] [--show=readme|values|templates]")
    content = await _chart_content(engine, args[0], version)
    title = f"{args[0]} {content.version}"
    if show == "values":
        app.show_text(f"{title} values.yaml", content.values_yaml or "# no values.yaml\n")
    elif show == "templates":
        parts = [f"# --- {path}\n{text}" for path, text in sorted(content.templates.items())]
        app.show_text(f"{title} templates", "\n".join(parts) or "# no templates\n")
    else:
        app.show_text(f"{title} {content.readme_name or 'README'}", content.readme or "(no README)")


async def _helm_repo(app: TamerApp, engine: Any, args: list[str]) -> None:
    repos = engine.repos
    action = args.pop(0) if args else "list"
    if action in ("add", "remove", "rm"):
        app.kube.guard(f"helm repo {action}")
    if action == "add":
        if len(args) != 2:
            raise InvalidInput("helm repo add NAME URL")
        app.report(await repos.add(args[0], args[1]))
    elif action in ("remove", "rm"):
        if not args:
            raise InvalidInput("helm repo remove NAME")
        app.report(await repos.remove(args[0]))
    elif action == "update":
        errors = await repos.update(args or None)
        failed = {k: v for k, v in errors.items() if v}
        app.report(f"updated {len(errors) - len(failed)} repositories"
                   + (f"; failed: {', '.join(f'{k} ({v})' for k, v in failed.items())}" if failed else ""),
                   "error" if failed else "information")
    elif action == "list":
        entries = await repos.repositories()
        app.show_table("helm repositories", ["NAME", "URL"], [[e.name, e.url] for e in entries])
    else:
        raise InvalidInput("helm repo add NAME URL | remove NAME | update [NAME...] | list")


async def cmd_charts(app: TamerApp, cmd: Command) -> None:
    from tamer_tui.ui.screens.chart_browser_screen import ChartBrowserScreen

    app.helm_engine()
    app.push_screen(ChartBrowserScreen(" ".join(cmd.args)))


async def cmd_kapply(app: TamerApp, cmd: Command) -> None:
    """``kapply DIR [--prune=KEY=VALUE] [--dry-run]``: build a kustomization, apply it server-side, and
    with ``--prune`` label every object and delete the labelled objects the build no longer has."""
    from tamer_tui.core.kube.editor import results_text
    from tamer_tui.core.kube.kustomize import apply_kustomization

    args = list(cmd.args)
    prune = _option(args, "prune")
    dry_run = "--dry-run" in args
    args = [a for a in args if a != "--dry-run"]
    if len(args) != 1:
        raise InvalidInput("kapply DIR [--prune=KEY=VALUE] [--dry-run]")
    if prune and not dry_run and not await app.confirm(
            f"Apply {args[0]} and delete objects labelled {prune} that it no longer contains?", "Apply + prune"):
        return
    result = await apply_kustomization(app.kube_editor(), args[0], prune_label=prune, dry_run=dry_run)
    lines = [results_text(result.applied)]
    if result.pruned:
        lines.append(results_text(result.pruned))
    if result.prune_skipped:
        lines.append(result.prune_skipped)
    app.show_text(f"kapply {args[0]}" + (" (dry run)" if dry_run else ""), "\n".join(lines) + "\n")
    app.report(f"applied {len(result.applied)} objects" + (f", pruned {len(result.pruned)}" if result.pruned else ""))
