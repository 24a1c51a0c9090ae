"""Real builds on Docker (classic builder through the Engine API) and Podman (libpod /build).

Contexts live in ``tmp_path`` and start ``FROM tamer-test/busybox:latest`` (no pulls). Each test that
takes ``engine`` runs against both engines.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tamer_tui.core import builds
from tamer_tui.core.builds import BUILDX_MISSING, BuildEvent, BuildSpec, build_image
from tamer_tui.core.errors import BackendError, InvalidInput
from tamer_tui.core.models import RuntimeKind
from tamer_tui.core.runtime import ContainerRuntime
from tests.builds.conftest import Made, build, busybox, context_dir, run_in

MULTI_STAGE = f"""\
FROM {busybox()} AS base
ARG GREETING=none
RUN echo "$GREETING" > /greeting
LABEL stage=base greeting=$GREETING
FROM base AS final
RUN echo final > /final
LABEL stage=final
"""


def _local(runtime: ContainerRuntime, tag: str) -> str:
    return f"localhost/{tag}" if runtime.kind == RuntimeKind.PODMAN else tag


async def test_build_streams_steps_before_it_finishes(engine: ContainerRuntime, made: Made, tmp_path: Path) -> None:
    """Step events arrive while the build still runs (a 2 s RUN separates them from the end): nothing is buffered."""
    ctx = context_dir(tmp_path, f"FROM {busybox()}\nRUN echo first-step-ran\nRUN sleep 2\nRUN echo last\n")
    timed = await build(engine, BuildSpec(context=ctx, tags=(f"{made.prefix}:stream",)), made)
    steps = [(t, e) for t, e in timed if e.kind == "step"]
    done_at, done = timed[-1]
    assert done.kind == "done" and done.image_id
    assert [e.step for _, e in steps] == [1, 2, 3, 4] and all(e.total == 4 for _, e in steps)
    assert "RUN sleep 2" in steps[2][1].text
    assert done_at - steps[0][0] >= 1.5  # the first step was reported long before the end
    assert any(e.kind == "output" and "first-step-ran" in e.text for _, e in timed)
    assert sum(1 for _, e in timed if e.kind == "done") == 1


async def test_build_args_target_labels_and_tags(engine: ContainerRuntime, made: Made, tmp_path: Path) -> None:
    """Build args reach RUN and LABEL, the target stage is the result (not the last stage), labels and all tags apply."""
    ctx = context_dir(tmp_path, MULTI_STAGE)
    tags = (f"{made.prefix}:base", f"{made.prefix}-alias:v2")
    greeting = f"hello-{uuid.uuid4().hex[:6]}"
    spec = BuildSpec(
        context=ctx,
        tags=tags,
        build_args=(("GREETING", greeting),),
        target="base",
        labels=(("tamer.test", made.prefix), ("org.example.built-by", "tamer")),
    )
    timed = await build(engine, spec, made)
    done = timed[-1][1]
    assert done.kind == "done"
    info = await engine.inspect_image(_local(engine, tags[0]))
    labels = (info.get("Config") or {}).get("Labels") or {}
    assert labels["stage"] == "base"  # the final stage would have said "final"
    assert labels["greeting"] == greeting
    assert labels["tamer.test"] == made.prefix and labels["org.example.built-by"] == "tamer"
    assert info["Id"].split(":")[-1] == done.image_id.split(":")[-1]
    other = await engine.inspect_image(_local(engine, tags[1]))
    assert other["Id"] == info["Id"]
    output = await run_in(engine, _local(engine, tags[0]), made, ["cat", "/greeting"])
    assert output.strip() == greeting
    missing = await run_in(engine, _local(engine, tags[0]), made, ["sh", "-c", "test -e /final && echo yes || echo no"])
    assert missing.strip() == "no"


async def test_failing_run_raises_with_the_step_message(engine: ContainerRuntime, made: Made, tmp_path: Path) -> None:
    """A failing RUN yields its output and an error event, then raises BackendError naming the step and exit code."""
    ctx = context_dir(tmp_path, f"FROM {busybox()}\nRUN echo ok-before\nRUN echo about-to-fail && exit 7\nRUN echo never\n")
    events: list[BuildEvent] = []
    with pytest.raises(BackendError) as err:
        async for event in build_image(engine, BuildSpec(context=ctx, tags=(f"{made.prefix}:fail",))):
            events.append(event)
    made.record(events)
    message = str(err.value)
    assert "step 3/4" in message and "RUN echo about-to-fail && exit 7" in message
    assert "7" in message.rsplit(":", 1)[-1]  # "returned a non-zero code: 7" / "exit status 7"
    texts = [e.text for e in events]
    assert any("about-to-fail" in t for t in texts if not t.startswith(("Step", "STEP")))
    assert events[-1].kind == "error" and events[-1].step == 3
    assert not any(e.kind == "done" for e in events)
    assert not any("never" in t and "RUN" not in t for t in texts)


async def test_invalid_spec_is_refused_before_anything_is_sent(engine: ContainerRuntime, made: Made, tmp_path: Path) -> None:
    """A bad tag and an unknown target stage raise InvalidInput with every problem; no image appears."""
    ctx = context_dir(tmp_path, MULTI_STAGE)
    with pytest.raises(InvalidInput) as err:
        await build(engine, BuildSpec(context=ctx, tags=(f"{made.prefix}:Bad Tag",), target="nope"), made)
    assert "not a valid image name" in str(err.value) and "target stage 'nope'" in str(err.value)
    names = [t for row in await engine.list_images() for t in row.tags]
    assert not any(made.prefix in name for name in names)


async def test_containerfile_and_dockerignore(engine: ContainerRuntime, made: Made, tmp_path: Path) -> None:
    """Without a Dockerfile the Containerfile is used; .dockerignore keeps files out of the context."""
    ctx = context_dir(
        tmp_path,
        f"FROM {busybox()}\nCOPY . /ctx/\n",
        name="Containerfile",
        files={"keep/a.txt": "a", "skip.log": "no", ".dockerignore": "*.log\n"},
    )
    tag = f"{made.prefix}:cf"
    await build(engine, BuildSpec(context=ctx, tags=(tag,)), made)
    listing = await run_in(engine, _local(engine, tag), made, ["find", "/ctx", "-type", "f"])
    files = sorted(line.strip() for line in listing.splitlines() if line.strip())
    assert "/ctx/keep/a.txt" in files and "/ctx/Containerfile" in files
    assert "/ctx/skip.log" not in files


async def test_docker_secrets_and_platforms_need_buildx(docker_rt: ContainerRuntime, made: Made, tmp_path: Path) -> None:
    """On Docker without buildx (as on this machine), secrets or platforms raise the clear buildx message up front."""
    builds.buildx_available.cache_clear()
    if builds.buildx_available():
        pytest.skip("docker buildx is installed here: the refusal cannot happen")
    ctx = context_dir(tmp_path, f"FROM {busybox()}\nRUN --mount=type=secret,id=tok cat /run/secrets/tok\n")
    secret = tmp_path / "tok.txt"
    secret.write_text("x", encoding="utf-8")
    for spec in (
        BuildSpec(context=ctx, tags=(f"{made.prefix}:s",), secrets=(("tok", str(secret)),)),
        BuildSpec(context=ctx, tags=(f"{made.prefix}:p",), platforms=("linux/amd64",)),
    ):
        events: list[BuildEvent] = []
        with pytest.raises(InvalidInput) as err:
            async for event in build_image(docker_rt, spec):
                events.append(event)
        assert str(err.value) == BUILDX_MISSING
        assert events == []  # refused before anything was sent
    names = [t for row in await docker_rt.list_images() for t in row.tags]
    assert not any(made.prefix in name for name in names)


async def test_podman_build_secret_is_used_but_never_stored(
    podman_rt: ContainerRuntime, podman_api: Any, made: Made, tmp_path: Path
) -> None:
    """A Podman build reads a secret file at build time; its value appears nowhere in the image or the events."""
    value = f"tt-secret-{uuid.uuid4().hex}"
    secret = tmp_path / "outside-the-context.txt"
    secret.write_text(value, encoding="utf-8")
    ctx = context_dir(
        tmp_path,
        f"FROM {busybox()}\n"
        "COPY . /ctx/\n"
        "RUN --mount=type=secret,id=tok test -s /run/secrets/tok && wc -c < /run/secrets/tok > /secret-size && echo used\n"
        "LABEL purpose=secret-test\n",
        files={"data.txt": "context data"},
    )
    tag = f"{made.prefix}:secret"
    timed = await build(podman_rt, BuildSpec(context=ctx, tags=(tag,), secrets=(("tok", str(secret)),)), made)
    events = [e for _, e in timed]
    assert events[-1].kind == "done"
    assert any(e.kind == "output" and e.text.strip() == "used" for e in events)
    # the secret was readable at build time (its length was measured in the RUN step) ...
    size = await run_in(podman_rt, f"localhost/{tag}", made, ["cat", "/secret-size"])
    assert int(size.strip()) == len(value)
    # ... but neither it nor its temporary file made it into the image, its metadata or the events
    listing = await run_in(podman_rt, f"localhost/{tag}", made, ["sh", "-c", "ls -a /ctx; ls -a /run/secrets 2>&1"])
    assert "tamer-secret" not in listing and "tok" not in listing.split()
    inspect = await podman_rt.inspect_image(f"localhost/{tag}")
    history = await podman_rt.image_history(f"localhost/{tag}")
    raw_inspect = podman_api.get(f"/images/localhost/{tag}/json").text
    for blob in (json.dumps(inspect), json.dumps(history), raw_inspect, repr(events)):
        assert value not in blob
    assert (inspect.get("Labels") or inspect.get("Config", {}).get("Labels") or {}).get("purpose") == "secret-test"
    assert value not in repr(BuildSpec(context=ctx, secrets=(("tok", str(secret)),)))


async def test_podman_single_platform_build(podman_rt: ContainerRuntime, made: Made, tmp_path: Path) -> None:
    """Podman builds for an explicit platform (the native one: base images exist only for it here)."""
    ctx = context_dir(tmp_path, f"FROM {busybox()}\nRUN echo platform-ok\n")
    tag = f"{made.prefix}:amd64"
    timed = await build(podman_rt, BuildSpec(context=ctx, tags=(tag,), platforms=("linux/amd64",)), made)
    assert timed[-1][1].kind == "done"
    info = await podman_rt.inspect_image(f"localhost/{tag}")
    assert info.get("Architecture") == "amd64" and info.get("Os") == "linux"


async def test_cancelling_a_build_stops_it(engine: ContainerRuntime, made: Made, tmp_path: Path) -> None:
    """Leaving the event loop mid-build closes the stream at once (the 30 s RUN never finishes the image)."""
    import asyncio
    import time

    ctx = context_dir(tmp_path, f"FROM {busybox()}\nRUN echo started && sleep 30\nRUN echo after\n")
    tag = f"{made.prefix}:cancel"
    events: list[BuildEvent] = []
    gen = build_image(engine, BuildSpec(context=ctx, tags=(tag,)))
    started = time.monotonic()
    async for event in gen:
        events.append(event)
        if event.kind == "output" and event.text.strip() == "started":
            break
    await asyncio.wait_for(gen.aclose(), 10)
    made.record(events)
    assert time.monotonic() - started < 20
    names = [t for row in await engine.list_images() for t in row.tags]
    assert not any(tag in name for name in names)
