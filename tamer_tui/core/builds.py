"""Image builds and pushes on Docker and Podman, streamed as they happen.

Builds
    :func:`build_image` sends the build context as a tar stream produced on the fly (64 KiB pieces,
    ``.dockerignore``/``.containerignore`` honoured, nothing written to disk, never the whole context
    in memory) and turns the engine's JSON lines into :class:`BuildEvent` objects while the build
    runs. The last event is ``kind="done"`` with the image id (engine-native: ``sha256:...`` on Docker,
    bare hex on Podman); a failing step raises :class:`BackendError` after its output was yielded.

    * Docker: the Engine API ``/build`` endpoint (the classic builder, like the SDK's ``api.build``)
      read in a thread (:func:`tamer_tui.core.aio.iterate_blocking`). Build secrets and platforms need
      BuildKit, which Tamer drives through ``docker buildx build`` (an argv list, ``DOCKER_HOST`` set to
      the runtime's endpoint) when ``docker buildx version`` works, and refuses up front otherwise.
    * Podman: libpod ``/build``. Secrets go the way ``podman --remote build --secret`` sends them: each
      secret file is streamed from disk into the context tar under a random name and named in the
      ``secrets`` parameter; the service moves it out of the context before the build starts, so it
      is mounted at ``/run/secrets/<id>`` for ``RUN --mount=type=secret`` and never committed. Tamer
      never keeps, logs or stores the contents (the bytes pass through in 64 KiB pieces on their way
      to the socket). Platforms: each one is a separate ``platform`` parameter; several platforms
      build a manifest list named after the first tag (needs base images for every platform, and
      qemu-user-static for ``RUN`` steps of foreign architectures).

Pushes
    :func:`push_image` streams progress as :class:`PullProgress` rows; refusals (denied, unknown
    registry, no such local image) become clear :class:`TamerError` subclasses. Credentials come from
    :mod:`tamer_tui.core.registry_auth` and travel only in the ``X-Registry-Auth`` header.
"""

from __future__ import annotations

import contextlib
import functools
import io
import ipaddress
import json
import os
import re
import secrets as _random
import shlex
import shutil
import subprocess
import tarfile
import tempfile
import threading
import urllib.parse
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from tamer_tui.core.aio import iterate_blocking, run_blocking
from tamer_tui.core.errors import (
    BackendError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RuntimeUnavailable,
    TamerError,
)
from tamer_tui.core.models import PullProgress, RuntimeKind
from tamer_tui.core.registry_auth import RegistryAuth, registry_of
from tamer_tui.core.runtime import ContainerRuntime

CHUNK = 64 * 1024
DOCKERFILE_NAMES = ("Dockerfile", "Containerfile")
BUILDX_MISSING = (
    "build secrets/multi-platform builds need docker buildx, which is not installed "
    "(docker buildx version failed)"
)

_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_DOCKER_STEP_RE = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
_PODMAN_STEP_RE = re.compile(r"^(?:\[[^\]]+\] )?STEP (\d+)/(\d+): (.*)$")
_BUILDX_STEP_RE = re.compile(r"^#(\d+) \[(?:[^\]]*? )?(\d+)/(\d+)\] (.*)$")
_BUILDX_OUT_RE = re.compile(r"^#\d+ \d+(?:\.\d+)? (.*)$")
_BUILDX_ERR_RE = re.compile(r"^(?:#\d+ )?ERROR:? (.*)$")
_WARNING_RE = re.compile(r"^\s*(?:-+>\s*)?(?:\[warning\]|warning:|warn\[)", re.IGNORECASE)
# a builder status line: when one starts while a previous output line lacks its newline, that line ended
_BUILDER_LINE_RE = re.compile(r"^(?:Step \d+/\d+ :| ---> |Removing intermediate container |Successfully )")
_IMAGE_ID_RE = re.compile(r"^[0-9a-f]{64}$")
_SUCCESS_RE = re.compile(r"^Successfully built ([0-9a-f]{12,64})$")
_ARG_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_ID_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
_PLATFORM_RE = re.compile(r"^[a-z0-9_-]+(?:/[a-z0-9_.-]+){0,2}$")
_STAGE_RE = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*\S+\s+AS\s+(\S+)\s*$", re.IGNORECASE | re.MULTILINE)
# Docker's reference grammar (docker/distribution reference.go), without digests: a build names tags.
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_DOMAIN = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_TAG_RE = re.compile(rf"^(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})?$")


# ------------------------------------------------------------------------------------------------
# What to build, and what a build reports
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BuildSpec:
    """One image build. ``secrets`` are ``(id, source file path)``: the file is never read into a
    Python object, logged or stored by Tamer (see the module docstring for how it reaches the engine)."""

    context: str
    dockerfile: str = ""  # relative to the context; "" = Dockerfile or Containerfile, whichever exists
    tags: tuple[str, ...] = ()
    build_args: tuple[tuple[str, str], ...] = ()
    target: str = ""
    secrets: tuple[tuple[str, str], ...] = ()
    platforms: tuple[str, ...] = ()
    no_cache: bool = False
    pull: bool = False
    labels: tuple[tuple[str, str], ...] = ()

    def __repr__(self) -> str:  # secret paths and build-arg values (sometimes misused for tokens) stay out of logs
        return (
            f"BuildSpec(context={self.context!r}, dockerfile={self.dockerfile!r}, tags={self.tags!r}, "
            f"build_args={[key for key, _ in self.build_args]!r}, target={self.target!r}, "
            f"secrets={[sid for sid, _ in self.secrets]!r}, platforms={self.platforms!r}, "
            f"no_cache={self.no_cache!r}, pull={self.pull!r}, labels={self.labels!r})"
        )


@dataclass(frozen=True)
class BuildEvent:
    """One piece of build progress: a new step, a line of output, a warning, the error, or done."""

    kind: str  # "step" | "output" | "error" | "done" | "warning"
    text: str
    step: int = 0
    total: int = 0
    image_id: str = ""


# ------------------------------------------------------------------------------------------------
# Parsing what a user typed
# ------------------------------------------------------------------------------------------------
def _entries(text: str) -> Iterator[str]:
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if '"' not in line and "'" not in line:
            yield from line.split()  # no shell escapes: Windows paths keep their backslashes
            continue
        try:
            yield from shlex.split(line)
        except ValueError as exc:
            raise InvalidInput(f"cannot parse {line!r}: {exc}") from exc


def _pairs(text: str, what: str, key_re: re.Pattern[str] | None) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for entry in _entries(text):
        key, sep, value = entry.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidInput(f"{what} {entry!r} is not KEY=VALUE")
        if key_re is not None and not key_re.match(key):
            raise InvalidInput(f"{what} name {key!r} is invalid (letters, digits and '_', not starting with a digit)")
        out = [(k, v) for k, v in out if k != key]
        out.append((key, value))
    return tuple(out)


def parse_build_args(text: str) -> tuple[tuple[str, str], ...]:
    """``KEY=VALUE`` entries, one per line or several per line (shell quoting: ``A='x y'``)."""
    return _pairs(text, "build arg", _ARG_NAME_RE)


def parse_labels(text: str) -> tuple[tuple[str, str], ...]:
    """``key=value`` label entries, like :func:`parse_build_args` (any non-empty key)."""
    return _pairs(text, "label", None)


def parse_secrets(text: str) -> tuple[tuple[str, str], ...]:
    """Docker's ``id=NAME,src=PATH`` form (``source=`` and ``type=file`` too), one per line.

    Several may share a line when each starts with ``id=``; paths may contain spaces. Environment
    secrets (``env=``/``type=env``) are refused: Tamer only passes files.
    """
    out: list[tuple[str, str]] = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        for item in re.split(r"\s+(?=id=)", line):
            fields: dict[str, str] = {}
            for part in item.split(","):
                key, sep, value = part.strip().partition("=")
                if not sep:
                    raise InvalidInput(f"secret {item!r}: {part!r} is not key=value (use id=NAME,src=PATH)")
                fields[key.strip().lower()] = value.strip()
            kind = fields.pop("type", "file")
            if kind != "file" or "env" in fields:
                raise InvalidInput(f"secret {item!r}: only file secrets are supported (id=NAME,src=PATH)")
            ident = fields.pop("id", "")
            src = fields.pop("src", "") or fields.pop("source", "")
            if fields:
                raise InvalidInput(f"secret {item!r}: unknown option(s) {', '.join(sorted(fields))}")
            if not ident or not src:
                raise InvalidInput(f"secret {item!r} needs both id= and src= (id=NAME,src=PATH)")
            out.append((ident, os.path.expanduser(src)))
    return tuple(out)


def parse_platforms(text: str) -> tuple[str, ...]:
    """``linux/amd64,linux/arm64`` (commas or whitespace)."""
    return tuple(p for p in re.split(r"[\s,]+", (text or "").strip()) if p)


def parse_tags(text: str) -> tuple[str, ...]:
    """Image names separated by commas or whitespace."""
    return tuple(t for t in re.split(r"[\s,]+", (text or "").strip()) if t)


def tag_problem(tag: str) -> str:
    """Why ``tag`` is not a valid image name (``""`` when it is)."""
    if not tag:
        return "an empty tag"
    if "@" in tag:
        return f"tag {tag!r}: a build cannot produce a digest reference"
    name = tag.rsplit(":", 1)[0] if ":" in tag.rsplit("/", 1)[-1] else tag
    first, sep, rest = name.partition("/")
    has_domain = bool(sep) and ("." in first or ":" in first or first == "localhost")
    path = rest if has_domain else name
    if path != path.lower():
        return f"tag {tag!r}: the repository name must be lowercase"
    if not _TAG_RE.match(tag) or len(name) > 255:
        return f"tag {tag!r} is not a valid image name (repository[:tag], lowercase)"
    return ""


# ------------------------------------------------------------------------------------------------
# Validation
# ------------------------------------------------------------------------------------------------
def resolve_dockerfile(spec: BuildSpec) -> Path | None:
    """The Dockerfile the build uses (``Dockerfile``, else ``Containerfile``), or None when missing."""
    context = Path(spec.context).expanduser()
    if spec.dockerfile:
        path = Path(spec.dockerfile).expanduser()
        path = path if path.is_absolute() else context / path
        return path if path.is_file() else None
    for name in DOCKERFILE_NAMES:
        if (context / name).is_file():
            return context / name
    return None


def dockerfile_stages(path: Path) -> list[str]:
    """The named stages (``FROM image AS name``) of a Dockerfile."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [m.group(1) for m in _STAGE_RE.finditer(text)]


def validate(spec: BuildSpec) -> list[str]:
    """Everything wrong with ``spec``, as messages fit for the build dialog (empty = buildable)."""
    problems: list[str] = []
    context = Path(spec.context).expanduser() if spec.context else None
    if context is None or not spec.context.strip():
        problems.append("no build context directory given")
    elif not context.is_dir():
        problems.append(f"build context {spec.context!r} is not a directory")
    else:
        dockerfile = resolve_dockerfile(spec)
        if dockerfile is None:
            if spec.dockerfile:
                problems.append(f"Dockerfile {spec.dockerfile!r} not found (relative to {spec.context})")
            else:
                problems.append(f"no Dockerfile or Containerfile in {spec.context}")
        elif spec.target:
            stages = dockerfile_stages(dockerfile)
            if spec.target not in stages:
                known = ", ".join(stages) if stages else "none"
                problems.append(f"target stage {spec.target!r} is not in {dockerfile.name} (named stages: {known})")
    for tag in spec.tags:
        problem = tag_problem(tag)
        if problem:
            problems.append(problem)
    for key, _value in spec.build_args:
        if not _ARG_NAME_RE.match(key):
            problems.append(f"build arg name {key!r} is invalid")
    for key, _value in spec.labels:
        if not key.strip():
            problems.append("a label has an empty key")
    seen: set[str] = set()
    for ident, src in spec.secrets:
        if not _SECRET_ID_RE.match(ident or ""):
            problems.append(f"secret id {ident!r} is invalid (letters, digits, '_', '.', '-'; form id=NAME,src=PATH)")
        elif ident in seen:
            problems.append(f"secret id {ident!r} is given twice")
        seen.add(ident)
        path = Path(src).expanduser() if src else None
        if path is None:
            problems.append(f"secret {ident!r} has no source file (form id=NAME,src=PATH)")
        elif not path.is_file():
            problems.append(f"secret {ident!r}: source file {src!r} does not exist")
        elif not os.access(path, os.R_OK):
            problems.append(f"secret {ident!r}: source file {src!r} is not readable")
    for platform in spec.platforms:
        if not _PLATFORM_RE.match(platform):
            problems.append(f"platform {platform!r} is not os/arch[/variant] (e.g. linux/arm64)")
    return problems


def _check(spec: BuildSpec) -> None:
    problems = validate(spec)
    if problems:
        raise InvalidInput("; ".join(problems))


# ------------------------------------------------------------------------------------------------
# The build context as a tar stream
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ContextPlan:
    """What goes into the context tar: files under ``root`` plus extra files (arcname, path)."""

    root: Path
    names: tuple[str, ...]
    extras: tuple[tuple[str, Path], ...]
    dockerfile: str  # the Dockerfile's name inside the tar
    files: int
    size: int


def _ignore_patterns(root: Path, names: Sequence[str]) -> list[str]:
    for name in names:
        path = root / name
        if path.is_file():
            try:
                lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                return []
            return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    return []


def plan_context(
    spec: BuildSpec,
    *,
    ignore_files: Sequence[str] = (".dockerignore",),
    secret_names: Mapping[str, str] | None = None,
) -> ContextPlan:
    """List the context (honouring the ignore file) and decide the Dockerfile's name in the tar.

    ``secret_names`` maps secret ids to the random tar names their files are sent under (Podman).
    """
    from docker.utils.build import exclude_paths

    root = Path(spec.context).expanduser().resolve()
    dockerfile = resolve_dockerfile(spec)
    if dockerfile is None:
        raise InvalidInput(f"no Dockerfile or Containerfile in {spec.context}")
    dockerfile = dockerfile.resolve()
    extras: list[tuple[str, Path]] = []
    try:
        inside = dockerfile.relative_to(root).as_posix()
    except ValueError:
        inside = ""
    if inside:
        df_name = inside
    else:  # a Dockerfile outside the context travels inside the tar under a random name
        df_name = f".tamer-dockerfile-{_random.token_hex(8)}"
        extras.append((df_name, dockerfile))
    patterns = _ignore_patterns(root, ignore_files)
    names = sorted(p.replace(os.sep, "/") for p in exclude_paths(str(root), patterns, dockerfile=df_name))
    for ident, src in spec.secrets:
        if secret_names and ident in secret_names:
            extras.append((secret_names[ident], Path(src).expanduser()))
    files = 0
    size = 0
    for name in names:
        with contextlib.suppress(OSError):
            st = os.lstat(root / name)
            if not os.path.isdir(root / name) and not os.path.islink(root / name):
                files += 1
                size += st.st_size
    return ContextPlan(root, tuple(names), tuple(extras), df_name, files, size)


def _file_chunks(path: Path, size: int, arcname: str, cancelled: threading.Event | None) -> Iterator[bytes]:
    remaining = size
    with path.open("rb") as handle:
        while remaining > 0:
            if cancelled is not None and cancelled.is_set():
                raise BackendError("build cancelled")
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                raise InvalidInput(f"{arcname} shrank while the build context was being sent: try again")
            remaining -= len(chunk)
            yield chunk
    padding = (-size) % tarfile.BLOCKSIZE
    if padding:
        yield b"\0" * padding


def iter_context_tar(plan: ContextPlan, cancelled: threading.Event | None = None) -> Iterator[bytes]:
    """The context as an uncompressed tar, produced piece by piece (never whole in memory)."""
    helper = tarfile.TarFile(fileobj=io.BytesIO(), mode="w")  # gettarinfo() only (hard-link bookkeeping)
    windows = os.name == "nt"
    entries: list[tuple[str, Path, bool]] = [(n, plan.root / n, False) for n in plan.names]
    entries += [(arc, path, True) for arc, path in plan.extras]
    for arcname, path, extra in entries:
        if cancelled is not None and cancelled.is_set():
            raise BackendError("build cancelled")
        try:
            info = helper.gettarinfo(str(path), arcname=arcname)
        except OSError as exc:
            raise InvalidInput(f"cannot read {arcname} of the build context: {exc.strerror or exc}") from exc
        if info is None:  # sockets and other special files
            continue
        info.mtime = max(0, int(info.mtime))
        if windows:
            info.mode = info.mode & 0o755 | 0o111
        if extra:  # our own additions: no host user names, readable by the builder only
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mode = 0o600
        yield info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        if info.isreg() and info.size:
            yield from _file_chunks(path, info.size, arcname, cancelled)
    yield b"\0" * (tarfile.BLOCKSIZE * 2)


# ------------------------------------------------------------------------------------------------
# Turning build output into events
# ------------------------------------------------------------------------------------------------
def clean_text(text: str) -> str:
    """Without ANSI colour codes and carriage-return progress redraws."""
    text = _ANSI_RE.sub("", text)
    if "\r" in text:
        text = text.rstrip("\r").rsplit("\r", 1)[-1]
    return text


class OutputParser:
    """Engine output text (arriving in arbitrary pieces) -> :class:`BuildEvent` objects.

    Understands Docker's classic builder (``Step 2/5 : RUN ...``) and Podman/Buildah
    (``[1/2] STEP 2/3: RUN ...``); remembers the current step for the error message.
    """

    def __init__(self) -> None:
        self._buf = ""
        self.step = 0
        self.total = 0
        self.instruction = ""
        self.image_id = ""
        self.short_id = ""

    def feed(self, text: str) -> list[BuildEvent]:
        if self._buf and _BUILDER_LINE_RE.match(text):
            lines = [self._buf]
            self._buf = ""
        else:
            lines = []
        data = self._buf + text
        *complete, self._buf = data.split("\n")
        lines.extend(complete)
        return [ev for line in lines if (ev := self.line(line)) is not None]

    def flush(self) -> list[BuildEvent]:
        rest, self._buf = self._buf, ""
        event = self.line(rest) if rest else None
        return [event] if event is not None else []

    def line(self, raw: str) -> BuildEvent | None:
        text = clean_text(raw).rstrip()
        if not text.strip():
            return None
        m = _DOCKER_STEP_RE.match(text) or _PODMAN_STEP_RE.match(text)
        if m:
            self.step, self.total, self.instruction = int(m.group(1)), int(m.group(2)), m.group(3)
            return BuildEvent("step", text, self.step, self.total)
        if _IMAGE_ID_RE.match(text):  # Podman ends with the full image id on its own line
            self.image_id = text
            return None
        m = _SUCCESS_RE.match(text)
        if m:
            self.short_id = m.group(1)
        if _WARNING_RE.match(text):
            return BuildEvent("warning", text.strip(), self.step, self.total)
        return BuildEvent("output", text, self.step, self.total)

    def failure(self, message: str) -> tuple[BuildEvent, BackendError]:
        """The error event and the exception for a failed build."""
        message = clean_text(message).strip() or "the build failed"
        event = BuildEvent("error", message, self.step, self.total)
        if self.step:
            where = f"step {self.step}/{self.total} ({self.instruction})" if self.instruction else f"step {self.step}"
            return event, BackendError(f"build failed at {where}: {message}")
        return event, BackendError(f"build failed: {message}")


def _body_message(body: bytes) -> str:
    """The ``message`` (else ``cause``) of a JSON error body, or the body as text."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, Mapping):
        return str(data.get("message") or data.get("cause") or "").strip()
    return text


def _error_text(item: Mapping[str, Any]) -> str:
    detail = item.get("errorDetail")
    if isinstance(detail, Mapping) and detail.get("message"):
        return str(detail["message"])
    return str(item.get("error") or item.get("message") or "")


def _done_event(image_id: str, tags: Sequence[str], parser: OutputParser) -> BuildEvent:
    short = image_id.split(":", 1)[-1][:12]
    text = f"built {short}" + (f", tagged {', '.join(tags)}" if tags else "")
    return BuildEvent("done", text, parser.total, parser.total, image_id)


# ------------------------------------------------------------------------------------------------
# Docker
# ------------------------------------------------------------------------------------------------
def _build_params(spec: BuildSpec, dockerfile: str, yes: str) -> dict[str, Any]:
    """The ``/build`` query both engines share; ``yes`` is how each spells true ("1" / "true")."""
    params: dict[str, Any] = {"dockerfile": dockerfile, "rm": yes, "forcerm": yes}
    if spec.tags:
        params["t"] = list(spec.tags)
    if spec.build_args:
        params["buildargs"] = json.dumps(dict(spec.build_args))
    if spec.labels:
        params["labels"] = json.dumps(dict(spec.labels))
    if spec.target:
        params["target"] = spec.target
    if spec.no_cache:
        params["nocache"] = yes
    if spec.pull:
        params["pull"] = yes
    return params


def _docker_params(spec: BuildSpec, dockerfile: str) -> dict[str, Any]:
    return _build_params(spec, dockerfile, "1")


def _close_docker_response(res: Any) -> None:
    from docker.types.daemon import CancellableStream

    with contextlib.suppress(Exception):
        CancellableStream(iter(()), res).close()
    with contextlib.suppress(Exception):
        res.close()


async def _docker_build(runtime: Any, spec: BuildSpec) -> AsyncIterator[BuildEvent]:
    from tamer_tui.core.docker_runtime import map_error

    api = runtime._client()
    cancelled = threading.Event()
    holder: dict[str, Any] = {}
    what = f"build {spec.tags[0] if spec.tags else spec.context}"

    def run() -> Iterator[dict[str, Any]]:
        plan = plan_context(spec, ignore_files=(".dockerignore",))
        yield {"_context": plan}
        headers = {"Content-Type": "application/x-tar"}
        with contextlib.suppress(Exception):
            api._set_auth_headers(headers)  # X-Registry-Config for base images, like the SDK's build()
        try:
            res = api._post(
                api._url("/build"),
                data=iter_context_tar(plan, cancelled),
                params=_docker_params(spec, plan.dockerfile),
                headers=headers,
                stream=True,
                timeout=None,
            )
            holder["res"] = res
            api._raise_for_status(res)
            yield from api._stream_helper(res, decode=True)
        except TamerError:
            raise
        except Exception as exc:  # noqa: BLE001 - one clear error
            if cancelled.is_set():
                return
            raise map_error(exc, what) from exc

    def close(_stream: Any) -> None:
        cancelled.set()
        res = holder.get("res")
        if res is not None:
            _close_docker_response(res)

    parser = OutputParser()
    image_id = ""
    items = cast("AsyncGenerator[dict[str, Any], None]", iterate_blocking(run, close, maxsize=256))
    async with contextlib.aclosing(items):
        async for item in items:
            if "_context" in item:
                plan = item["_context"]
                yield BuildEvent("output", f"sending build context: {plan.files} files, {_human(plan.size)}")
                continue
            if item.get("error") or item.get("errorDetail"):
                for event in parser.flush():
                    yield event
                event, error = parser.failure(_error_text(item))
                yield event
                raise error
            aux = item.get("aux")
            if isinstance(aux, Mapping) and aux.get("ID"):
                image_id = str(aux["ID"])
            stream = item.get("stream")
            if isinstance(stream, str):
                for event in parser.feed(stream):
                    yield event
            elif item.get("status"):
                for event in parser.feed(str(item["status"]) + "\n"):
                    yield event
    for event in parser.flush():
        yield event
    if not image_id and parser.short_id:
        info = await runtime.inspect_image(parser.short_id)
        image_id = str(info.get("Id") or "")
    if not image_id:
        raise BackendError("the build ended without an image id (the daemon closed the stream early)")
    yield _done_event(image_id, spec.tags, parser)


# -- BuildKit through docker buildx -------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def buildx_available() -> bool:
    """Whether ``docker buildx version`` works (probed once; ``buildx_available.cache_clear()`` re-probes)."""
    docker = shutil.which("docker")
    if not docker:
        return False
    try:
        proc = subprocess.run(
            [docker, "buildx", "version"], capture_output=True, timeout=15, check=False, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


async def buildx_available_async() -> bool:
    """:func:`buildx_available` off the event loop."""
    return await run_blocking(buildx_available)


def needs_buildkit(spec: BuildSpec) -> bool:
    """Docker builds that the classic builder cannot do (secrets, platforms)."""
    return bool(spec.secrets or spec.platforms)


def buildx_argv(spec: BuildSpec, iidfile: str, docker: str = "docker") -> list[str]:
    """The ``docker buildx build`` command line for ``spec`` (secrets by path only, never content)."""
    context = str(Path(spec.context).expanduser())
    dockerfile = resolve_dockerfile(spec)
    argv = [docker, "buildx", "build", "--progress=plain", "--iidfile", iidfile]
    if dockerfile is not None:
        argv += ["--file", str(dockerfile)]
    for tag in spec.tags:
        argv += ["--tag", tag]
    for key, value in spec.build_args:
        argv += ["--build-arg", f"{key}={value}"]
    for key, value in spec.labels:
        argv += ["--label", f"{key}={value}"]
    if spec.target:
        argv += ["--target", spec.target]
    for ident, src in spec.secrets:
        argv += ["--secret", f"id={ident},src={Path(src).expanduser()}"]
    if spec.platforms:
        argv += ["--platform", ",".join(spec.platforms)]
    if spec.no_cache:
        argv.append("--no-cache")
    if spec.pull:
        argv.append("--pull")
    if len(spec.platforms) <= 1:
        argv.append("--load")  # into the daemon's image store (not possible for several platforms)
    argv.append(context)
    return argv


class BuildxParser:
    """``docker buildx build --progress=plain`` lines -> :class:`BuildEvent` objects."""

    def __init__(self) -> None:
        self.base = OutputParser()
        self._seen: set[str] = set()
        self.errors: list[str] = []

    def line(self, raw: str) -> BuildEvent | None:
        text = clean_text(raw).rstrip()
        if not text.strip():
            return None
        m = _BUILDX_STEP_RE.match(text)
        if m:
            vertex = m.group(1)
            if vertex in self._seen:
                return None
            self._seen.add(vertex)
            base = self.base
            base.step, base.total, base.instruction = int(m.group(2)), int(m.group(3)), m.group(4)
            return BuildEvent("step", text, base.step, base.total)
        m = _BUILDX_ERR_RE.match(text)
        if m:
            self.errors.append(m.group(1))
            return BuildEvent("output", text, self.base.step, self.base.total)
        m = _BUILDX_OUT_RE.match(text)
        if m:
            text = m.group(1)
        if _WARNING_RE.match(text):
            return BuildEvent("warning", text.strip(), self.base.step, self.base.total)
        return BuildEvent("output", text, self.base.step, self.base.total)


async def _buildx_build(runtime: ContainerRuntime, spec: BuildSpec) -> AsyncIterator[BuildEvent]:
    docker = shutil.which("docker") or "docker"
    workdir = tempfile.mkdtemp(prefix="tamer-buildx-")
    iidfile = os.path.join(workdir, "iid")
    argv = buildx_argv(spec, iidfile, docker)
    env = dict(os.environ)
    env["DOCKER_HOST"] = runtime.endpoint.url
    env.pop("DOCKER_CONTEXT", None)
    holder: dict[str, Any] = {}

    def run() -> Iterator[str]:
        proc = subprocess.Popen(  # an argv list, never a shell
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
        )
        holder["proc"] = proc
        assert proc.stdout is not None
        for raw in proc.stdout:
            yield raw.decode("utf-8", "replace")
        yield f"\x00exit {proc.wait()}"

    def close(_stream: Any) -> None:
        proc = holder.get("proc")
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()

    parser = BuildxParser()
    code = -1
    try:
        items = cast("AsyncGenerator[str, None]", iterate_blocking(run, close, maxsize=256))
        async with contextlib.aclosing(items):
            async for line in items:
                if line.startswith("\x00exit "):
                    code = int(line.split()[1])
                    continue
                event = parser.line(line)
                if event is not None:
                    yield event
        if code != 0:
            message = parser.errors[-1] if parser.errors else f"docker buildx build exited with code {code}"
            event, error = parser.base.failure(message)
            yield event
            raise error
        image_id = ""
        with contextlib.suppress(OSError):
            image_id = Path(iidfile).read_text(encoding="utf-8").strip()
        if len(spec.platforms) > 1:
            yield BuildEvent(
                "warning",
                "a multi-platform result stays in the BuildKit cache: the daemon's image store cannot hold it",
            )
        yield _done_event(image_id, spec.tags, parser.base)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# ------------------------------------------------------------------------------------------------
# Podman
# ------------------------------------------------------------------------------------------------
def _podman_stream(runtime: Any, method: str, path: str, what: str, **kwargs: Any) -> Any:
    """One streaming libpod request decoded as JSON lines: the runtime's own closable stream (its own
    connection; ``close()`` aborts it from any thread, also while the body is still being sent)."""
    from tamer_tui.core.podman_runtime import _HTTPStream, iter_json_lines

    return _HTTPStream(runtime, method, path, what, iter_json_lines, params=kwargs.pop("params", None),
                       headers=kwargs.pop("headers", None), **kwargs)


def _podman_params(spec: BuildSpec, dockerfile: str, secret_names: Mapping[str, str]) -> dict[str, Any]:
    params = {**_build_params(spec, dockerfile, "true"), "layers": "true"}
    if spec.pull:
        params["pullpolicy"] = "always"
    if spec.secrets:
        params["secrets"] = json.dumps([f"id={ident},src={secret_names[ident]}" for ident, _ in spec.secrets])
    if spec.platforms:
        params["platform"] = list(spec.platforms)  # one parameter each: 4.3 does not split on commas
        if len(spec.platforms) > 1 and spec.tags:
            params["manifest"] = spec.tags[0]
    return params


async def _podman_build(runtime: Any, spec: BuildSpec) -> AsyncIterator[BuildEvent]:
    secret_names = {ident: f".tamer-secret-{_random.token_hex(12)}" for ident, _ in spec.secrets}
    plan = await run_blocking(
        plan_context, spec, ignore_files=(".containerignore", ".dockerignore"), secret_names=secret_names
    )
    yield BuildEvent("output", f"sending build context: {plan.files} files, {_human(plan.size)}")
    cancelled = threading.Event()
    request = _podman_stream(
        runtime,
        "POST",
        "/build",
        f"build of {spec.tags[0] if spec.tags else spec.context}",
        params=_podman_params(spec, plan.dockerfile, secret_names),
        data=iter_context_tar(plan, cancelled),
        headers={"Content-Type": "application/x-tar"},
    )

    def close(stream: Any) -> None:
        cancelled.set()
        stream.close()

    parser = OutputParser()
    items = cast("AsyncGenerator[Any, None]", iterate_blocking(lambda: request, close, maxsize=256))
    async with contextlib.aclosing(items):
        async for item in items:
            if not isinstance(item, Mapping):
                continue
            if item.get("error") or item.get("errorDetail"):
                for event in parser.flush():
                    yield event
                event, error = parser.failure(_error_text(item))
                yield event
                raise error
            stream = item.get("stream")
            if isinstance(stream, str):
                for event in parser.feed(stream):
                    yield event
    for event in parser.flush():
        yield event
    image_id = parser.image_id
    if not image_id and spec.tags:
        info = await runtime.inspect_image(spec.tags[0])
        image_id = str(info.get("Id") or "")
    if not image_id:
        raise BackendError("the build ended without an image id (the Podman service closed the stream early)")
    yield _done_event(image_id, spec.tags, parser)


# ------------------------------------------------------------------------------------------------
# Entry points
# ------------------------------------------------------------------------------------------------
def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


async def build_image(runtime: ContainerRuntime, spec: BuildSpec) -> AsyncIterator[BuildEvent]:
    """Build ``spec`` on ``runtime``, yielding progress as it happens; the last event is ``done``.

    Raises InvalidInput (bad spec; Docker secrets/platforms without buildx) before anything is sent,
    and BackendError with the failing step's message after that step's output was yielded.
    """
    _check(spec)
    if runtime.kind == RuntimeKind.DOCKER:
        if needs_buildkit(spec):
            if not await buildx_available_async():
                raise InvalidInput(BUILDX_MISSING)
            async for event in _buildx_build(runtime, spec):
                yield event
            return
        async for event in _docker_build(runtime, spec):
            yield event
        return
    if runtime.kind == RuntimeKind.PODMAN:
        async for event in _podman_build(runtime, spec):
            yield event
        return
    raise InvalidInput(f"{runtime.name}: image builds are not supported on this kind of runtime")


# -- push ----------------------------------------------------------------------------------------
def split_reference(reference: str) -> tuple[str, str]:
    """``repo[:tag]`` -> ``(repo, tag)`` (``latest`` when none); digests are not pushable."""
    ref = (reference or "").strip()
    if not ref or any(ch.isspace() for ch in ref):
        raise InvalidInput(f"invalid image reference {reference!r}")
    if "@" in ref:
        raise InvalidInput(f"cannot push a digest reference ({reference}): push a tag")
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        repo, _, tag = ref.rpartition(":")
        return repo, tag
    return ref, "latest"


_DENIED = ("denied", "unauthorized", "authentication required", "insufficient_scope")
# an HTTP status, not part of a port or an address ("127.0.0.1:34017" must not read as 401)
_DENIED_STATUS = re.compile(r"(?<![\d:.])40[13](?![\d])")
_MISSING_LOCAL = ("does not exist locally", "image not known", "no such image", "reference does not exist")
_UNREACHABLE = (
    "no such host",
    "connection refused",
    "dial tcp",
    "i/o timeout",
    "timeout",
    "network is unreachable",
    "server gave http response to https client",
    "certificate",
    "tls:",
    "pinging container registry",
    "404 page not found",
)


def push_error(reference: str, message: str) -> TamerError:
    """One clear error for a refused push (the message of the engine is kept at the end)."""
    text = clean_text(message).strip() or "unknown error"
    lowered = text.lower()
    registry = registry_of(reference)
    if any(marker in lowered for marker in _MISSING_LOCAL):
        return NotFound(f"push {reference}: there is no local image with that name ({text})")
    if any(marker in lowered for marker in _UNREACHABLE) and not any(m in lowered for m in _DENIED):
        return BackendError(f"push {reference}: registry {registry} is unknown or unreachable ({text})")
    if any(marker in lowered for marker in _DENIED) or _DENIED_STATUS.search(lowered):
        return PermissionDenied(
            f"push {reference}: {registry} denied access - log in (store credentials for {registry}) "
            f"or check the repository name ({text})"
        )
    if any(marker in lowered for marker in _UNREACHABLE):
        return BackendError(f"push {reference}: registry {registry} is unknown or unreachable ({text})")
    return BackendError(f"push {reference}: {text}")


def is_loopback_registry(registry: str) -> bool:
    """``localhost``, 127.0.0.0/8 and ::1 (Docker treats them as insecure registries by default)."""
    host = registry
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_EMPTY_AUTH = "e30="  # base64("{}"): Docker wants some X-Registry-Auth even for anonymous pushes


async def _docker_push(runtime: Any, reference: str, auth: RegistryAuth | None) -> AsyncIterator[PullProgress]:
    from tamer_tui.core.docker_runtime import map_error

    api = runtime._client()
    repo, tag = split_reference(reference)
    holder: dict[str, Any] = {}
    cancelled = threading.Event()

    def run() -> Iterator[dict[str, Any]]:
        headers = {"X-Registry-Auth": auth.header() if auth is not None else _EMPTY_AUTH}
        try:
            res = api._post(
                api._url("/images/{0}/push", repo), params={"tag": tag}, headers=headers, stream=True, timeout=None
            )
            holder["res"] = res
            api._raise_for_status(res)
            yield from api._stream_helper(res, decode=True)
        except TamerError:
            raise
        except Exception as exc:  # noqa: BLE001
            if cancelled.is_set():
                return
            mapped = map_error(exc, "")
            if isinstance(mapped, RuntimeUnavailable | PermissionDenied) and not _is_http_error(exc):
                raise mapped from exc
            raise push_error(reference, str(mapped)) from exc

    def close(_stream: Any) -> None:
        cancelled.set()
        res = holder.get("res")
        if res is not None:
            _close_docker_response(res)

    items = cast("AsyncGenerator[dict[str, Any], None]", iterate_blocking(run, close, maxsize=256))
    async with contextlib.aclosing(items):
        async for item in items:
            if item.get("error") or item.get("errorDetail"):
                raise push_error(reference, _error_text(item))
            if not item.get("status"):
                continue
            detail = item.get("progressDetail") or {}
            yield PullProgress(
                status=str(item.get("status", "")),
                layer=str(item.get("id", "")),
                current=int(detail.get("current") or 0),
                total=int(detail.get("total") or 0),
            )
    yield PullProgress(status=f"Pushed {reference}")


def _is_http_error(exc: BaseException) -> bool:
    import docker.errors

    return isinstance(exc, docker.errors.APIError)


_BLOB_RE = re.compile(r"^Copying (?:blob|config) (?:sha256:)?([0-9a-f]{12})")


async def _podman_push(
    runtime: Any, reference: str, auth: RegistryAuth | None, tls_verify: bool | None
) -> AsyncIterator[PullProgress]:
    ref = reference.strip()
    split_reference(ref)  # validates
    params: dict[str, Any] = {"destination": ref, "quiet": "false"}
    if tls_verify is None:
        tls_verify = not is_loopback_registry(registry_of(ref))
    if not tls_verify:
        params["tlsVerify"] = "false"
    headers = {"X-Registry-Auth": auth.header()} if auth is not None else {}

    def on_error(status: int, body: bytes) -> TamerError:
        return push_error(ref, _body_message(body) or f"HTTP {status}")

    request = _podman_stream(
        runtime,
        "POST",
        f"/images/{urllib.parse.quote(ref, safe='/:@')}/push",
        f"image '{ref}'",
        params=params,
        headers=headers,
        on_error=on_error,
    )
    items = cast("AsyncGenerator[Any, None]", iterate_blocking(lambda: request, maxsize=256))
    async with contextlib.aclosing(items):
        async for item in items:
            if not isinstance(item, Mapping):
                continue
            if item.get("error") or item.get("errorDetail"):
                raise push_error(ref, _error_text(item))
            text = clean_text(str(item.get("stream") or item.get("status") or "")).strip()
            if not text:
                continue
            m = _BLOB_RE.match(text)
            yield PullProgress(status=text, layer=m.group(1) if m else "")
    yield PullProgress(status=f"Pushed {ref}")


async def push_image(
    runtime: ContainerRuntime,
    reference: str,
    auth: RegistryAuth | None = None,
    *,
    tls_verify: bool | None = None,
) -> AsyncIterator[PullProgress]:
    """Push ``reference`` (a local image name) to its registry, yielding progress.

    ``auth`` is sent as ``X-Registry-Auth`` (look it up with :func:`registry_auth.find_auth`; nothing
    is looked up here). ``tls_verify`` applies to Podman only (Docker follows its daemon's
    ``insecure-registries``): None = off for loopback registries (as Docker does), on elsewhere. The
    last row has status ``Pushed <reference>``. Errors: NotFound (no such local image),
    PermissionDenied (registry refused the credentials), BackendError (registry unknown/unreachable).
    """
    if runtime.kind == RuntimeKind.DOCKER:
        async for item in _docker_push(runtime, reference, auth):
            yield item
        return
    if runtime.kind == RuntimeKind.PODMAN:
        async for item in _podman_push(runtime, reference, auth, tls_verify):
            yield item
        return
    raise InvalidInput(f"{runtime.name}: pushing images is not supported on this kind of runtime")

