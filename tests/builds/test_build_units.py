"""Pure pieces of :mod:`tamer_tui.core.builds`: parsing what a user typed, validation, the context tar
stream, reading build output, the buildx command line and push error messages. No engine needed."""

from __future__ import annotations

import io
import tarfile
import threading
from pathlib import Path

import pytest

from tamer_tui.core import builds
from tamer_tui.core.builds import (
    BuildSpec,
    BuildxParser,
    OutputParser,
    buildx_argv,
    is_loopback_registry,
    iter_context_tar,
    parse_build_args,
    parse_labels,
    parse_platforms,
    parse_secrets,
    plan_context,
    push_error,
    split_reference,
    tag_problem,
    validate,
)
from tamer_tui.core.errors import BackendError, InvalidInput, NotFound, PermissionDenied


def _ctx(tmp_path: Path, files: dict[str, str]) -> Path:
    ctx = tmp_path / "ctx"
    for rel, text in files.items():
        path = ctx / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return ctx


def test_parse_build_args_lines_quotes_and_overrides() -> None:
    """KEY=VALUE per line or several per line with shell quoting; a later key wins; comments are skipped."""
    text = "A=1 B='x y'\n# comment\n\nC=\nA=2\nURL=http://h/?q=a=b\n"
    assert parse_build_args(text) == (("B", "x y"), ("C", ""), ("A", "2"), ("URL", "http://h/?q=a=b"))
    with pytest.raises(InvalidInput, match="not KEY=VALUE"):
        parse_build_args("JUSTKEY")
    with pytest.raises(InvalidInput, match="invalid"):
        parse_build_args("1BAD=x")
    with pytest.raises(InvalidInput, match="cannot parse"):
        parse_build_args("A='unterminated")
    assert parse_build_args(r"WINPATH=C:\tools\bin") == (("WINPATH", r"C:\tools\bin"),)
    assert parse_labels("org.opencontainers.image.title=tamer a=b") == (
        ("org.opencontainers.image.title", "tamer"),
        ("a", "b"),
    )


def test_parse_secrets_forms() -> None:
    """Docker's id=..,src=.. form (source= and type=file too), several per line, spaces in paths; env secrets refused."""
    text = "id=tok,src=/tmp/a b.txt id=npm,source=/x/npmrc,type=file\nid=k,src=~/key\n"
    parsed = parse_secrets(text)
    assert parsed[0] == ("tok", "/tmp/a b.txt")
    assert parsed[1] == ("npm", "/x/npmrc")
    assert parsed[2][0] == "k" and not parsed[2][1].startswith("~")
    for bad, message in (
        ("id=tok", "needs both"),
        ("src=/x", "needs both"),
        ("id=t,env=TOKEN", "only file secrets"),
        ("id=t,src=/x,mode=0400", "unknown option"),
        ("tok", "not key=value"),
    ):
        with pytest.raises(InvalidInput, match=message):
            parse_secrets(bad)
    assert parse_platforms("linux/amd64, linux/arm64/v8 ") == ("linux/amd64", "linux/arm64/v8")
    assert builds.parse_tags("app:1, 127.0.0.1:5000/app:2  app:3") == ("app:1", "127.0.0.1:5000/app:2", "app:3")


@pytest.mark.parametrize(
    ("tag", "ok"),
    [
        ("app", True),
        ("app:1.0", True),
        ("127.0.0.1:5000/team/app:v1", True),
        ("localhost/app", True),
        ("Registry.Example.com/app:Latest_1", True),
        ("App:1", False),
        ("team/App", False),
        ("app:bad tag", False),
        ("app@sha256:" + "a" * 64, False),
        ("", False),
        ("app:" + "x" * 129, False),
    ],
)
def test_tag_problem(tag: str, ok: bool) -> None:
    """Tags follow Docker's reference grammar (lowercase repository, tag up to 128 chars, no digests)."""
    assert (tag_problem(tag) == "") is ok


def test_validate_lists_every_problem(tmp_path: Path) -> None:
    """Missing context, missing Dockerfile, bad tag/arg/platform, unknown target and secret problems are all reported."""
    assert validate(BuildSpec(context=str(tmp_path / "nope"))) == [f"build context {str(tmp_path / 'nope')!r} is not a directory"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert validate(BuildSpec(context=str(empty))) == [f"no Dockerfile or Containerfile in {empty}"]
    assert "not found" in validate(BuildSpec(context=str(empty), dockerfile="sub/Dockerfile.dev"))[0]
    ctx = _ctx(tmp_path, {"Dockerfile": "FROM x AS base\nFROM base AS final\n"})
    secret = tmp_path / "s.txt"
    secret.write_text("v", encoding="utf-8")
    problems = validate(
        BuildSpec(
            context=str(ctx),
            tags=("Bad",),
            build_args=(("9x", "1"),),
            target="missing",
            secrets=(("ok", str(secret)), ("ok", str(secret)), ("bad id!", str(secret)), ("gone", str(tmp_path / "no"))),
            platforms=("linux amd64",),
        )
    )
    joined = "\n".join(problems)
    assert "target stage 'missing'" in joined and "base, final" in joined
    assert "repository name must be lowercase" in joined
    assert "build arg name '9x'" in joined
    assert "secret id 'ok' is given twice" in joined
    assert "secret id 'bad id!' is invalid" in joined
    assert "source file" in joined and "does not exist" in joined
    assert "platform 'linux amd64'" in joined
    good = BuildSpec(context=str(ctx), tags=("app:1",), target="final", secrets=(("ok", str(secret)),))
    assert validate(good) == []


def test_context_tar_stream_honours_dockerignore_and_adds_extras(tmp_path: Path) -> None:
    """The streamed tar is a valid archive of the context minus ignored files, plus the outside Dockerfile and secrets."""
    ctx = _ctx(
        tmp_path,
        {
            "app/main.py": "print(1)\n" * 20000,  # > one 64 KiB piece
            "app/debug.log": "x",
            "notes.md": "n",
            ".dockerignore": "*.log\n**/*.log\nnotes.md\n",
        },
    )
    dockerfile = tmp_path / "elsewhere.Dockerfile"
    dockerfile.write_text("FROM scratch\n", encoding="utf-8")
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cr3t", encoding="utf-8")
    spec = BuildSpec(context=str(ctx), dockerfile=str(dockerfile), secrets=(("tok", str(secret)),))
    plan = plan_context(spec, secret_names={"tok": ".tamer-secret-abc"})
    assert plan.dockerfile.startswith(".tamer-dockerfile-")
    pieces = list(iter_context_tar(plan))
    assert max(len(p) for p in pieces) <= builds.CHUNK
    with tarfile.open(fileobj=io.BytesIO(b"".join(pieces))) as tar:
        names = set(tar.getnames())
        assert {"app", "app/main.py", ".dockerignore", plan.dockerfile, ".tamer-secret-abc"} <= names
        assert "app/debug.log" not in names and "notes.md" not in names
        main = tar.extractfile("app/main.py")
        assert main is not None and main.read() == ("print(1)\n" * 20000).encode()
        member = tar.getmember(".tamer-secret-abc")
        assert member.mode == 0o600 and member.uid == 0 and member.uname == ""
    assert plan.files == 2 and plan.size == len("print(1)\n" * 20000) + len("*.log\n**/*.log\nnotes.md\n")
    # without secret names the secret file is not part of the context
    plain = plan_context(BuildSpec(context=str(ctx), dockerfile="../elsewhere.Dockerfile"))
    assert all(not arc.startswith(".tamer-secret") for arc, _ in plain.extras)


def test_context_tar_stream_stops_when_cancelled(tmp_path: Path) -> None:
    """Setting the cancel event stops the tar generator at the next piece."""
    ctx = _ctx(tmp_path, {"Dockerfile": "FROM x\n", "big.bin": "x" * (builds.CHUNK * 4)})
    cancelled = threading.Event()
    stream = iter_context_tar(plan_context(BuildSpec(context=str(ctx))), cancelled)
    next(stream)
    cancelled.set()
    with pytest.raises(BackendError, match="cancelled"):
        list(stream)


def test_output_parser_docker_classic_stream() -> None:
    """Docker's pieces (step line and its newline apart, output without newline, colours) become clean events."""
    parser = OutputParser()
    events = []
    for piece in (
        "Step 1/3 : FROM busybox",
        "\n",
        " ---> 6a072844f7a9\n",
        "Step 2/3 : RUN echo hi | tr -d '\\n'",
        "\n",
        " ---> Running in 43d44aa119d5\n",
        "hi-without-newline",
        "Removing intermediate container 43d44aa119d5\n",
        "\x1b[91mwarn on stderr\n\x1b[0m",
        "[Warning] One or more build-args [X] were not consumed\n",
        "Successfully built 8369c2e7ad67\n",
    ):
        events.extend(parser.feed(piece))
    events.extend(parser.flush())
    kinds = [(e.kind, e.text, e.step) for e in events]
    assert kinds[0] == ("step", "Step 1/3 : FROM busybox", 1)
    assert ("output", "hi-without-newline", 2) in kinds
    assert ("output", "Removing intermediate container 43d44aa119d5", 2) in kinds
    assert ("output", "warn on stderr", 2) in kinds
    assert ("warning", "[Warning] One or more build-args [X] were not consumed", 2) in kinds
    assert parser.short_id == "8369c2e7ad67"
    event, error = parser.failure("The command '/bin/sh -c x' returned a non-zero code: 3")
    assert event.kind == "error" and event.step == 2
    assert str(error) == (
        "build failed at step 2/3 (RUN echo hi | tr -d '\\n'): The command '/bin/sh -c x' returned a non-zero code: 3"
    )


def test_output_parser_podman_stages_and_image_id() -> None:
    """Podman's staged steps are recognised, the final full id is taken (and not shown as output)."""
    parser = OutputParser()
    lines = (
        "[1/2] STEP 1/3: FROM busybox AS base\n"
        "[2/2] STEP 2/3: RUN echo used\nused\n"
        "[linux/386] STEP 1/2: FROM x\n"
        "[Warning] one or more build args were not consumed: [TARGETARCH]\n"
        + "b" * 64
        + "\n"
    )
    events = parser.feed(lines)
    assert [(e.kind, e.step, e.total) for e in events if e.kind == "step"] == [("step", 1, 3), ("step", 2, 3), ("step", 1, 2)]
    assert any(e.kind == "warning" for e in events)
    assert parser.image_id == "b" * 64
    assert not any("b" * 64 in e.text for e in events)


def test_buildx_argv_and_plain_progress() -> None:
    """The buildx command line passes secrets by path and loads single-platform results; plain progress is parsed."""
    spec = BuildSpec(
        context="/src",
        dockerfile="/src/Dockerfile",
        tags=("a:1", "b:2"),
        build_args=(("X", "1"),),
        target="final",
        secrets=(("tok", "/keys/tok"),),
        platforms=("linux/amd64",),
        no_cache=True,
        pull=True,
        labels=(("k", "v"),),
    )
    argv = buildx_argv(spec, "/tmp/iid")
    assert argv[:4] == ["docker", "buildx", "build", "--progress=plain"]
    assert argv[argv.index("--secret") : argv.index("--secret") + 2] == ["--secret", "id=tok,src=/keys/tok"]
    for flag in ("--no-cache", "--pull", "--load"):
        assert flag in argv
    assert argv[-1] == "/src" and argv.count("--tag") == 2 and "--target" in argv
    multi = buildx_argv(BuildSpec(context="/src", platforms=("linux/amd64", "linux/arm64")), "/tmp/iid")
    assert "--load" not in multi and "linux/amd64,linux/arm64" in multi
    parser = BuildxParser()
    events = [
        parser.line(line)
        for line in (
            "#5 [base 2/3] RUN echo hi",
            "#5 0.245 hi",
            "#5 [base 2/3] RUN echo hi",
            "#5 DONE 0.3s",
            "#6 [3/3] RUN exit 3",
            "#6 ERROR: process \"/bin/sh -c exit 3\" did not complete successfully: exit code: 3",
        )
    ]
    real = [e for e in events if e is not None]
    assert [(e.kind, e.step) for e in real if e.kind == "step"] == [("step", 2), ("step", 3)]
    assert any(e.kind == "output" and e.text == "hi" for e in real)
    assert parser.errors[-1].endswith("exit code: 3")


def test_push_errors_are_classified() -> None:
    """Denied, missing local image and unreachable registry each get their own clear error."""
    ref = "127.0.0.1:5000/team/app:1"
    denied = push_error(ref, "denied: requested access to the resource is denied")
    assert isinstance(denied, PermissionDenied) and "127.0.0.1:5000 denied access" in str(denied)
    assert isinstance(push_error(ref, "unauthorized: authentication required"), PermissionDenied)
    missing = push_error(ref, "An image does not exist locally with the tag: 127.0.0.1:5000/team/app")
    assert isinstance(missing, NotFound) and "no local image" in str(missing)
    assert isinstance(push_error(ref, "image not known"), NotFound)
    gone = push_error("nosuch.invalid/app:1", 'Get "https://nosuch.invalid/v2/": dial tcp: lookup nosuch.invalid: no such host')
    assert isinstance(gone, BackendError) and "registry nosuch.invalid is unknown or unreachable" in str(gone)
    other = push_error(ref, "blob upload invalid")
    assert type(other) is BackendError and str(other) == f"push {ref}: blob upload invalid"


def test_references_and_loopback() -> None:
    """References split into repo and tag (latest by default, ports are not tags); loopback registries are known."""
    assert split_reference("127.0.0.1:5000/app") == ("127.0.0.1:5000/app", "latest")
    assert split_reference("127.0.0.1:5000/app:v1") == ("127.0.0.1:5000/app", "v1")
    with pytest.raises(InvalidInput):
        split_reference("app@sha256:" + "a" * 64)
    with pytest.raises(InvalidInput):
        split_reference("has space")
    assert is_loopback_registry("127.0.0.1:5000") and is_loopback_registry("localhost:5000")
    assert is_loopback_registry("[::1]:5000") and is_loopback_registry("127.3.2.1")
    assert not is_loopback_registry("ghcr.io") and not is_loopback_registry("10.0.0.1:5000")


async def test_build_refuses_unknown_runtime_kinds(tmp_path: Path) -> None:
    """A runtime that is neither Docker nor Podman is refused with a clear message (after validation)."""
    from types import SimpleNamespace

    ctx = _ctx(tmp_path, {"Dockerfile": "FROM x\n"})
    fake = SimpleNamespace(kind="other", name="weird")
    with pytest.raises(InvalidInput, match="not supported"):
        async for _ in builds.build_image(fake, BuildSpec(context=str(ctx))):  # type: ignore[arg-type]
            pass
