"""Images beyond the basics: ``:build`` (dialog or arguments), ``:push``, ``:login``, ``:df`` and prune previews."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from tamer_tui.core.commands import Command, split_runtime
from tamer_tui.core.errors import InvalidInput
from tamer_tui.ui.format import human_size

if TYPE_CHECKING:
    from tamer_tui.core.builds import BuildSpec
    from tamer_tui.core.runtime import ContainerRuntime
    from tamer_tui.ui.app import TamerApp

BUILD_FIELDS = (
    ("runtime", "Engine", "docker or podman (or a host name from :hosts)"),
    ("context", "Context directory", "path of the build context"),
    ("dockerfile", "Dockerfile", "relative to the context; empty: Dockerfile or Containerfile"),
    ("tags", "Tags", "name:tag, comma separated"),
    ("build_args", "Build args", "KEY=VALUE, comma separated"),
    ("target", "Target stage", "a stage of a multi-stage build"),
    ("secrets", "Secrets", "id=ID,src=FILE id=ID2,src=FILE2 (read by the builder, never shown or stored)"),
    ("platforms", "Platforms", "linux/amd64,linux/arm64 (Docker: needs buildx)"),
    ("no_cache", "No cache", "yes / no"),
)


def _truthy(text: str) -> bool:
    return text.strip().lower() in ("y", "yes", "true", "1", "on")


def build_spec_from_values(values: Mapping[str, str]) -> BuildSpec:
    """The dialog's values as a BuildSpec, parsed by core's parsers (the ones ``validate`` agrees with)."""
    from tamer_tui.core.builds import BuildSpec, parse_build_args, parse_platforms, parse_secrets, parse_tags

    return BuildSpec(
        context=values.get("context", "").strip(),
        dockerfile=values.get("dockerfile", "").strip(),
        tags=parse_tags(values.get("tags", "")),
        build_args=parse_build_args(values.get("build_args", "")),
        target=values.get("target", "").strip(),
        secrets=parse_secrets(values.get("secrets", "")),
        platforms=parse_platforms(values.get("platforms", "")),
        no_cache=_truthy(values.get("no_cache", "")),
    )


def build_spec_from_args(args: list[str]) -> tuple[str | None, BuildSpec]:
    """``[RUNTIME:]CONTEXT -f F -t T --build-arg K=V --target S --secret id=,src= --platform P --no-cache --pull``."""
    from tamer_tui.core.builds import BuildSpec, parse_build_args, parse_platforms, parse_secrets

    runtime = None
    context = ""
    values: dict[str, list[str]] = {"tags": [], "build_args": [], "secrets": [], "platforms": []}
    single: dict[str, str] = {}
    flags = {"no_cache": False, "pull": False}
    options = {"-f": "dockerfile", "--file": "dockerfile", "-t": "tags", "--tag": "tags", "--build-arg": "build_args",
               "--target": "target", "--secret": "secrets", "--platform": "platforms"}
    it = iter(args)
    for a in it:
        name, eq, inline = a.partition("=")
        if a in ("--no-cache", "--pull"):
            flags[a[2:].replace("-", "_")] = True
        elif name in options:
            value = inline if eq else next(it, None)
            if value is None:
                raise InvalidInput(f"{name} needs a value")
            key = options[name]
            if key in values:
                values[key].append(value)
            else:
                single[key] = value
        elif a.startswith("-"):
            raise InvalidInput(f"build: unknown option {a!r}")
        elif not context:
            runtime, context = split_runtime(a)
        else:
            raise InvalidInput(f"build: one context only (got {context!r} and {a!r})")
    if not context:
        raise InvalidInput("usage: build [RUNTIME:]CONTEXT [-f DOCKERFILE] [-t TAG] ...")
    # each option's value is one entry: newline-joined, core's parsers take one entry per line
    spec = BuildSpec(context=context, dockerfile=single.get("dockerfile", ""), tags=tuple(values["tags"]),
                     build_args=parse_build_args("\n".join(values["build_args"])), target=single.get("target", ""),
                     secrets=parse_secrets("\n".join(values["secrets"])),
                     platforms=parse_platforms(" ".join(values["platforms"])),
                     no_cache=flags["no_cache"], pull=flags["pull"])
    return runtime, spec


async def _build_dialog(app: TamerApp) -> tuple[str | None, BuildSpec] | None:
    from tamer_tui.core.builds import validate
    from tamer_tui.ui.screens.form_screen import FormField, FormScreen

    default_rt = app.runtimes_of()[0].name if app.runtimes_of() else "docker"

    def check(values: Mapping[str, str]) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        try:
            app.one_runtime(None, values.get("runtime", "").strip() or None)
        except InvalidInput as exc:
            problems.append(("runtime", str(exc)))
        try:
            spec = build_spec_from_values(values)
        except InvalidInput as exc:
            return [*problems, (_field_of(str(exc)), str(exc))]
        for message in validate(spec):
            problems.append((_field_of(message), message))
        return problems

    fields = [FormField(name, label, default_rt if name == "runtime" else ".", placeholder)
              if name in ("runtime", "context") else FormField(name, label, "", placeholder)
              for name, label, placeholder in BUILD_FIELDS]
    values = await app.push_screen_wait(FormScreen("Build an image", fields, check, submit_label="Build"))
    if values is None:
        return None
    return values.get("runtime", "").strip() or None, build_spec_from_values(values)


def _field_of(message: str) -> str:
    lowered = message.lower()
    for key, words in (("secrets", ("secret",)), ("dockerfile", ("dockerfile", "containerfile")),
                       ("tags", ("tag",)), ("context", ("context",)), ("platforms", ("platform",)),
                       ("build_args", ("build arg", "build-arg")), ("target", ("target", "stage"))):
        if any(w in lowered for w in words):
            return key
    return "context"


async def cmd_build(app: TamerApp, cmd: Command) -> None:
    """``build`` (dialog) or ``build [RUNTIME:]CONTEXT [options]``: progress streams into a panel."""
    from tamer_tui.core.builds import build_image, validate

    if cmd.args:
        runtime_name, spec = build_spec_from_args(list(cmd.args))
    else:
        picked = await _build_dialog(app)
        if picked is None:
            app.report("build cancelled")
            return
        runtime_name, spec = picked
    problems = validate(spec)
    if problems:
        raise InvalidInput("; ".join(problems))
    rt = app.one_runtime(None, runtime_name)
    what = ", ".join(spec.tags) or spec.context
    job = await app.run_output(f"build {what} ({rt.name})", lambda: build_image(rt, spec))
    if job.state == "done":
        app.report(f"built {what} on {rt.name}")


async def cmd_push(app: TamerApp, cmd: Command) -> None:
    """``push [RUNTIME:]REFERENCE``: credentials from the keyring, Docker's config or a credential helper."""
    from tamer_tui.core.builds import push_image
    from tamer_tui.core.registry_auth import find_auth, registry_of

    if not cmd.args:
        raise InvalidInput(f"usage: {cmd.spec.usage}")
    text = cmd.args[0]
    if text.startswith("image/"):
        text = text[len("image/"):]
    runtime_name, text = split_runtime(text)
    rt = app.one_runtime(None, runtime_name)
    registry = registry_of(text)
    from tamer_tui.core.aio import run_blocking

    auth = await run_blocking(find_auth, registry)
    source = f" (credentials: {auth.source})" if auth else ""
    job = await app.run_output(f"push {text} ({rt.name}){source}", lambda: push_image(rt, text, auth),
                               collapse_progress=True)
    if job.state == "done":
        app.report(f"pushed {text}")


async def cmd_login(app: TamerApp, cmd: Command) -> None:
    """``login REGISTRY USERNAME``: the password is asked for and stored in the OS keyring only."""
    from tamer_tui.core.aio import run_blocking
    from tamer_tui.core.registry_auth import store_auth
    from tamer_tui.ui.screens.form_screen import FormField, FormScreen

    if len(cmd.args) < 2:
        raise InvalidInput(f"usage: {cmd.spec.usage}")
    registry, username = cmd.args[0], cmd.args[1]
    values = await app.push_screen_wait(FormScreen(
        f"Password for {username}@{registry}",
        [FormField("password", "Password", password=True, placeholder="stored in the OS keyring only")],
        lambda v: [] if v.get("password") else [("password", "the password is empty")], submit_label="Store"))
    if values is None:
        app.report("login cancelled")
        return
    await run_blocking(store_auth, registry, username, values["password"])
    app.report(f"credentials for {registry} stored in the OS keyring")


async def cmd_df(app: TamerApp, cmd: Command) -> None:
    """``df [RUNTIME]``: disk usage by images, containers, volumes and build cache."""
    from tamer_tui.ui.screens.disk_usage_screen import DiskUsageScreen

    runtime_name = cmd.args[0] if cmd.args else None
    rts = [app.one_runtime(None, runtime_name)] if runtime_name else app.runtimes_of()
    if not rts:
        raise InvalidInput("no container engine detected (:hosts lists what was found)")
    key = "df" + (f":{runtime_name}" if runtime_name else "")
    app.open_list(key, lambda: DiskUsageScreen(rts, key))


async def prune_with_preview(app: TamerApp, rt: ContainerRuntime, kind: str, label: str | None = None) -> None:
    """Show what a prune would remove and the bytes it frees; prune only after a confirmation."""
    from tamer_tui.core.diskusage import prune, prune_preview

    app.guard_mutation(f"prune {kind}")
    items, size = await prune_preview(rt, kind)
    if not items:
        app.report(f"nothing to prune: no unused {kind} on {rt.name}")
        return
    shown = ", ".join(i.name or i.id[:12] for i in items[:8]) + (f" and {len(items) - 8} more" if len(items) > 8
                                                                 else "")
    question = f"Prune {len(items)} {kind} on {rt.name}, reclaiming {human_size(size)}?\n{shown}"
    if not await app.confirm(question, "Prune"):
        app.report("cancelled")
        return
    result = await prune(rt, kind, label=label)
    app.report(f"pruned {len(result.deleted)} {kind} on {rt.name}, reclaimed {human_size(result.space_reclaimed)}")
