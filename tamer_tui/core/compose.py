"""Compose projects: grouping containers by their compose labels, and running the compose tools.

Grouping is pure (:func:`group_projects`): a project is every container of one runtime that carries
one of :data:`PROJECT_LABELS`. The labels were checked against the real tools:

* docker-compose 1.29 (v1) and ``docker compose`` (v2) set ``com.docker.compose.project``,
  ``.service``, ``.container-number``, ``.oneoff``, ``.version``, ``.project.working_dir`` and
  ``.project.config_files`` (comma-separated; v2 writes absolute paths, v1 the paths as given, i.e.
  usually relative to the working dir). Their networks carry ``com.docker.compose.project`` and
  ``com.docker.compose.network``.
* podman-compose 1.0.3 sets ``io.podman.compose.project``, ``io.podman.compose.version`` (always
  "0.0.1"), ``io.podman.compose.config-hash`` ("123") *and* the Docker ones (project, service,
  container-number, project.working_dir, project.config_files). ``working_dir`` is the directory of
  the first compose file and ``config_files`` the paths as typed, relative to the directory
  podman-compose was started in (which is lost), so a relative file is looked up in the working
  dir, then by its base name there. Its networks carry both project labels.
  Quirks handled here: podman-compose 1.0.3 exits 0 even when a podman command it ran failed (it
  prints ``exit code: N``; :class:`PodmanComposeWatch` turns those into an error), ``down`` leaves
  the project's network behind (removed through the API afterwards), and ``up`` of an existing
  container fails ``podman run`` and falls back to ``podman start`` (not an error).

Tools (:func:`find_tools`) are found by running ``docker compose version``, ``docker-compose version
--short`` and ``podman-compose version``; :func:`compose_argv` builds their command lines and
:func:`compose_env` points them at a runtime's endpoint (``DOCKER_HOST`` for the Docker tools,
``CONTAINER_HOST`` for podman-compose, which puts the podman 4.x CLI in remote mode against that
service). :func:`run_tool` streams a tool's output line by line. When a project's compose files are
gone, :func:`project_action` does stop/start/restart/down through the runtime API instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tamer_tui.core.errors import BackendError, Conflict, InvalidInput, NotFound, TamerError
from tamer_tui.core.feeds import FeedMessage, Remove, Snapshot, SourceStatus, Upsert, merged_feed
from tamer_tui.core.models import ContainerRow, RuntimeEndpoint, RuntimeKind
from tamer_tui.core.runtime import ContainerRuntime

# -- labels -----------------------------------------------------------------------------------------
DOCKER_PROJECT = "com.docker.compose.project"
PODMAN_PROJECT = "io.podman.compose.project"
PROJECT_LABELS = (DOCKER_PROJECT, PODMAN_PROJECT)
SERVICE_LABEL = "com.docker.compose.service"
NUMBER_LABEL = "com.docker.compose.container-number"
ONEOFF_LABEL = "com.docker.compose.oneoff"
WORKING_DIR_LABEL = "com.docker.compose.project.working_dir"
CONFIG_FILES_LABEL = "com.docker.compose.project.config_files"
DOCKER_VERSION_LABEL = "com.docker.compose.version"
PODMAN_VERSION_LABEL = "io.podman.compose.version"

FLAVOR_DOCKER = "docker-compose"
FLAVOR_PODMAN = "podman-compose"

COMPOSE_ACTIONS = ("up", "down", "stop", "start", "restart", "pull", "build")
API_ACTIONS = ("stop", "start", "restart", "down")  # what works without the compose files

_HEALTH_RANK = {"unhealthy": 3, "starting": 2, "healthy": 1}
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def project_of(row: ContainerRow) -> str | None:
    """The compose project a container belongs to (Docker's label first, then podman-compose's)."""
    for label in PROJECT_LABELS:
        value = row.label(label)
        if value:
            return value
    return None


def service_of(row: ContainerRow) -> str | None:
    """The compose service of a container (both tools set Docker's label)."""
    return row.label(SERVICE_LABEL) or None


def container_number(row: ContainerRow) -> int:
    """``com.docker.compose.container-number`` as an int (0 when missing or garbled)."""
    try:
        return int(row.label(NUMBER_LABEL) or 0)
    except ValueError:
        return 0


def _unique(values: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for v in values:
        if v and v not in seen:
            seen.append(v)
    return seen


# -- rows -------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ComposeService:
    """One service of a project: its containers (replicas), sorted by container number, then name."""

    name: str
    containers: tuple[ContainerRow, ...]

    @property
    def running(self) -> int:
        return sum(1 for c in self.containers if c.state == "running")

    @property
    def total(self) -> int:
        return len(self.containers)

    @property
    def state(self) -> str:
        """``running``, ``exited``, ``paused``, ``restarting``, ``created``, or ``partial (1/2)``."""
        states = {c.state for c in self.containers}
        if not states:
            return "absent"
        if len(states) == 1:
            return next(iter(states))
        if "restarting" in states:
            return "restarting"
        if self.running:
            return f"partial ({self.running}/{self.total})"
        if "paused" in states:
            return "paused"
        return "exited"

    @property
    def health(self) -> str:
        """The worst health among the containers ("" when none has a health check)."""
        worst = ""
        for c in self.containers:
            if _HEALTH_RANK.get(c.health, 0) > _HEALTH_RANK.get(worst, 0):
                worst = c.health
        return worst

    @property
    def image(self) -> str:
        return ", ".join(_unique(c.image for c in self.containers))

    @property
    def ports(self) -> str:
        return ", ".join(_unique(p.strip() for c in self.containers for p in c.ports.split(",")))


@dataclass(frozen=True, slots=True)
class ComposeProject:
    """One compose project on one runtime, as found from its containers' labels."""

    runtime: str
    name: str
    working_dir: str
    config_files: tuple[str, ...]
    services: tuple[ComposeService, ...]
    files_missing: bool
    flavor: str
    tool_version: str = ""  # com.docker.compose.version / io.podman.compose.version of the newest container

    @property
    def key(self) -> str:
        return f"{self.runtime}/{self.name}"

    @property
    def containers(self) -> tuple[ContainerRow, ...]:
        return tuple(c for s in self.services for c in s.containers)

    @property
    def running(self) -> int:
        return sum(s.running for s in self.services)

    @property
    def total(self) -> int:
        return sum(s.total for s in self.services)

    @property
    def state(self) -> str:
        """``running(3/3)``, ``exited(0/3)``, ``partial(1/3)`` (also ``paused``, ``created``, ``restarting``)."""
        running, total = self.running, self.total
        if total and running == total:
            word = "running"
        elif running:
            word = "partial"
        else:
            states = {c.state for c in self.containers}
            if "restarting" in states:
                word = "restarting"
            elif states == {"paused"}:
                word = "paused"
            elif states == {"created"}:
                word = "created"
            else:
                word = "exited"
        return f"{word}({running}/{total})"

    @property
    def created(self) -> float:
        """When the oldest container was created (0.0 when unknown)."""
        stamps = [c.created for c in self.containers if c.created]
        return min(stamps) if stamps else 0.0

    def service(self, name: str) -> ComposeService:
        for s in self.services:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.services) or "none"
        raise NotFound(f"compose project {self.name!r} has no service {name!r} (services: {known})")


def resolve_config_files(working_dir: str, label: str, exists: Callable[[str], bool] = os.path.exists
                         ) -> tuple[str, ...]:
    """The absolute paths of a ``config_files`` label. Relative entries (docker-compose v1,
    podman-compose) are looked up in the working dir, then by their base name there."""
    out: list[str] = []
    for raw in label.split(","):
        item = raw.strip()
        if not item:
            continue
        if os.path.isabs(item) or not working_dir:
            out.append(os.path.normpath(item))
            continue
        candidates = [os.path.normpath(os.path.join(working_dir, item)),
                      os.path.normpath(os.path.join(working_dir, os.path.basename(item)))]
        out.append(next((c for c in candidates if exists(c)), candidates[0]))
    return tuple(_unique(out))


def _sort_key(row: ContainerRow) -> tuple[int, str]:
    return container_number(row), row.name


def group_projects(rows: Iterable[ContainerRow],
                   exists: Callable[[str], bool] = os.path.exists) -> list[ComposeProject]:
    """Group containers into compose projects per runtime (pure apart from ``exists``), sorted by
    runtime and name. Containers without a project label are ignored; a container without a service
    label becomes a service named after the container."""
    groups: dict[tuple[str, str], list[ContainerRow]] = {}
    for row in rows:
        project = project_of(row)
        if project:
            groups.setdefault((row.runtime, project), []).append(row)
    projects: list[ComposeProject] = []
    for (runtime, name), members in sorted(groups.items()):
        newest = max(members, key=lambda r: (r.created, r.name))
        working_dir = newest.label(WORKING_DIR_LABEL)
        files = resolve_config_files(working_dir, newest.label(CONFIG_FILES_LABEL), exists)
        podman = any(r.label(PODMAN_PROJECT) for r in members)
        version = newest.label(PODMAN_VERSION_LABEL if podman else DOCKER_VERSION_LABEL)
        by_service: dict[str, list[ContainerRow]] = {}
        for row in members:
            by_service.setdefault(service_of(row) or row.name, []).append(row)
        services = tuple(ComposeService(svc, tuple(sorted(cs, key=_sort_key)))
                         for svc, cs in sorted(by_service.items()))
        projects.append(ComposeProject(
            runtime=runtime,
            name=name,
            working_dir=working_dir,
            config_files=files,
            services=services,
            files_missing=not any(exists(f) for f in files),
            flavor=FLAVOR_PODMAN if podman else FLAVOR_DOCKER,
            tool_version=version,
        ))
    return projects


# -- tools ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ComposeTool:
    """An installed compose implementation and the argv prefix that runs it."""

    name: str  # "docker compose" | "docker-compose" | "podman-compose"
    argv: tuple[str, ...]
    version: str
    engine: RuntimeKind

    @property
    def docker_like(self) -> bool:
        """Speaks the Docker API through ``DOCKER_HOST`` (docker compose, docker-compose)."""
        return self.name != "podman-compose"

    @property
    def major(self) -> int:
        m = re.match(r"v?(\d+)", self.version)
        return int(m.group(1)) if m else 0


_VERSION_RE = re.compile(r"v?(\d+\.\d+(?:\.\d+)?[\w.+-]*)")
_PODMAN_COMPOSE_VERSION_RE = re.compile(r"podman-compose(?:r)?\s+version\s+v?(\S+)", re.IGNORECASE)
_PROBES: tuple[tuple[str, tuple[str, ...], tuple[str, ...], RuntimeKind], ...] = (
    ("docker compose", ("docker", "compose"), ("version",), RuntimeKind.DOCKER),
    ("docker-compose", ("docker-compose",), ("version", "--short"), RuntimeKind.DOCKER),
    ("podman-compose", ("podman-compose",), ("version",), RuntimeKind.PODMAN),
)
_tools_cache: list[ComposeTool] | None = None


def parse_tool_version(name: str, output: str) -> str:
    """The version in a probe's output ("" when it does not look like that tool)."""
    if name == "podman-compose":
        m = _PODMAN_COMPOSE_VERSION_RE.search(output)
        return m.group(1) if m else ""
    if name == "docker compose" and "compose" not in output.lower() and not re.fullmatch(r"\s*v?\d\S*\s*", output):
        return ""  # an old docker CLI without the plugin may print something else and exit 0
    m = _VERSION_RE.search(output)
    return m.group(1) if m else ""


async def _probe(name: str, prefix: tuple[str, ...], args: tuple[str, ...], engine: RuntimeKind,
                 timeout: float) -> ComposeTool | None:
    exe = shutil.which(prefix[0])
    if exe is None:
        return None
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    try:
        proc = await asyncio.create_subprocess_exec(
            exe, *prefix[1:], *args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=env, **_spawn_kwargs())
    except OSError:
        return None
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        await _kill_tree(proc)
        return None
    if proc.returncode != 0:
        return None
    version = parse_tool_version(name, out.decode("utf-8", "replace"))
    return ComposeTool(name, prefix, version, engine) if version else None


async def find_tools(refresh: bool = False, timeout: float = 15.0) -> list[ComposeTool]:
    """The compose tools installed here, probed concurrently in subprocesses (cached after the first
    call; ``refresh`` probes again)."""
    global _tools_cache
    if _tools_cache is not None and not refresh:
        return list(_tools_cache)
    found = await asyncio.gather(*(_probe(n, p, a, e, timeout) for n, p, a, e in _PROBES))
    _tools_cache = [t for t in found if t is not None]
    return list(_tools_cache)


def clear_tools_cache() -> None:
    """Forget the probed tools (the next :func:`find_tools` probes again)."""
    global _tools_cache
    _tools_cache = None


def pick_tool(project_or_kind: ComposeProject | RuntimeKind, tools: Sequence[ComposeTool]) -> ComposeTool:
    """The tool for a project (the kind that created it: podman-compose projects need podman-compose,
    the major version that created a docker-compose project is preferred) or for a new project on an
    engine (Podman: podman-compose, else a Docker tool talking to the service's Docker-compatible API;
    Docker: ``docker compose``, else docker-compose). Raises :class:`InvalidInput` when none fits."""
    by_name = {t.name: t for t in tools}
    v2, v1, pc = by_name.get("docker compose"), by_name.get("docker-compose"), by_name.get("podman-compose")
    if isinstance(project_or_kind, ComposeProject):
        project = project_or_kind
        if project.flavor == FLAVOR_PODMAN:
            if pc is None:
                raise InvalidInput(f"compose project {project.name!r} was created by podman-compose, which is "
                                   "not installed: install podman-compose")
            return pc
        docker_tools = [t for t in (v2, v1) if t is not None]
        if not docker_tools:
            raise InvalidInput(f"no compose tool for {project.name!r} (created by docker-compose): install "
                               "docker compose (the Docker CLI plugin) or docker-compose")
        wanted = re.match(r"(\d+)", project.tool_version)
        if wanted:
            same = [t for t in docker_tools if t.major == int(wanted.group(1))]
            if same:
                return same[0]
        return docker_tools[0]
    kind = RuntimeKind(project_or_kind)
    order = [pc, v2, v1] if kind == RuntimeKind.PODMAN else [v2, v1]
    for tool in order:
        if tool is not None:
            return tool
    if kind == RuntimeKind.PODMAN:
        raise InvalidInput("no compose tool for podman: install podman-compose or docker compose")
    raise InvalidInput("no compose tool for docker: install docker compose (the Docker CLI plugin) or docker-compose")


def _check_word(value: str, what: str) -> str:
    if not value or value.startswith("-") or any(ch.isspace() for ch in value):
        raise InvalidInput(f"invalid {what} {value!r}")
    return value


def compose_argv(tool: ComposeTool, project: ComposeProject | None, action: str, services: Sequence[str] = (),
                 *, files: Sequence[str] = (), project_name: str = "", extra: Sequence[str] = ()) -> list[str]:
    """``TOOL -p NAME [--project-directory DIR] -f F1 -f F2 ACTION [-d] [EXTRA] [SERVICES]``.

    ``up`` is always detached; ``down`` keeps volumes unless ``extra`` says otherwise (``-v``).
    ``files``/``project_name`` override the project's; with neither a project nor files the tool
    uses its default file in the working directory."""
    if action not in COMPOSE_ACTIONS:
        raise InvalidInput(f"unknown compose action {action!r} (one of {', '.join(COMPOSE_ACTIONS)})")
    name = project_name or (project.name if project is not None else "")
    if name and not _NAME_RE.fullmatch(name):
        raise InvalidInput(f"invalid compose project name {name!r}")
    config = list(files) if files else list(project.config_files if project is not None else ())
    argv = list(tool.argv)
    if name:
        argv += ["-p", name]
    if (tool.docker_like and project is not None and not files and project.working_dir and config
            and os.path.normpath(os.path.dirname(config[0])) != os.path.normpath(project.working_dir)):
        argv += ["--project-directory", project.working_dir]
    for f in config:
        argv += ["-f", f]
    argv.append(action)
    if action == "up" and not any(x in ("-d", "--detach") for x in extra):
        argv.append("-d")
    argv += list(extra)
    argv += [_check_word(s, "service name") for s in services]
    return argv


def _endpoint_url(endpoint: RuntimeEndpoint) -> str:
    url = endpoint.url
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme == "wsl":
        raise InvalidInput(f"compose cannot reach {endpoint.name} ({url}): run the compose tool inside that "
                           "WSL distribution")
    if scheme in ("http", "https"):
        return "tcp://" + url.partition("://")[2]
    return url


def compose_env(tool: ComposeTool, endpoint: RuntimeEndpoint, base: Mapping[str, str] | None = None
                ) -> dict[str, str]:
    """The environment that makes ``tool`` talk to ``endpoint``.

    Docker tools get ``DOCKER_HOST``; a TLS endpoint adds ``DOCKER_TLS_VERIFY`` (or ``DOCKER_TLS`` without
    verification) and ``DOCKER_CERT_PATH`` when its files have the standard ca/cert/key.pem names in one
    directory (other names cannot be passed through the environment); a Docker context or TLS
    setting inherited from ``base`` is dropped so it cannot redirect the tool. podman-compose gets
    ``CONTAINER_HOST``: the podman 4.x/5.x CLI it runs then works in remote mode against that service
    (an ssh identity goes into ``CONTAINER_SSHKEY``)."""
    env = dict(os.environ if base is None else base)
    env["PYTHONUNBUFFERED"] = "1"  # docker-compose v1 and podman-compose are Python: stream their prints
    url = _endpoint_url(endpoint)
    if tool.docker_like:
        for key in ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_TLS"):
            env.pop(key, None)
        env["DOCKER_HOST"] = url
        verify = getattr(endpoint, "tls_verify", None)  # None: plain TCP; True: verify; False: TLS, no check
        if verify is not None:
            tls = [str(getattr(endpoint, k, "") or "") for k in ("tls_ca", "tls_cert", "tls_key")]
            dirs = {os.path.dirname(p) for p in tls if p}
            if len(dirs) == 1 and [os.path.basename(p) for p in tls] == ["ca.pem", "cert.pem", "key.pem"]:
                env["DOCKER_CERT_PATH"] = dirs.pop()
            env["DOCKER_TLS_VERIFY" if verify else "DOCKER_TLS"] = "1"
    else:
        env.pop("CONTAINER_CONNECTION", None)
        env["CONTAINER_HOST"] = url
        identity = str(getattr(endpoint, "identity", "") or "")
        if identity:
            env["CONTAINER_SSHKEY"] = identity
    return env


# -- running a tool ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OutputLine:
    """One line of a tool's output; ``status`` lines are Tamer's own (the command, ``exit N``)."""

    text: str
    stream: str = "stdout"  # stdout | stderr | status


_ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_ERROR_RE = re.compile(r"error|invalid|unsupported|not found|no such|denied|failed|cannot|unable", re.IGNORECASE)


def strip_ansi(text: str) -> str:
    """Text without terminal colour/cursor escape sequences."""
    return _ANSI_RE.sub("", text)


def _clean(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").rstrip("\r")
    if "\r" in text:  # progress redrawn in place: what a terminal would finally show
        text = text.rsplit("\r", 1)[-1]
    return strip_ansi(text)


def error_line(lines: Sequence[str]) -> str:
    """The line that best explains a failure: the last error-like line not indented (a traceback's or
    YAML error's location lines are), else the last non-empty line."""
    nonempty = [ln.strip() for ln in lines if ln.strip()]
    for ln in reversed([ln for ln in lines if ln.strip() and not ln[:1].isspace()]):
        if _ERROR_RE.search(ln):
            return ln.strip()
    return nonempty[-1] if nonempty else ""


def _spawn_kwargs() -> dict[str, Any]:
    """Start the tool in its own process group, so cancelling can kill it with its children."""
    if sys.platform == "win32":
        return {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
    return {"start_new_session": True}


async def _kill_tree(proc: asyncio.subprocess.Process, grace: float = 2.0) -> None:
    """Terminate a tool and everything it started (its process group; ``taskkill /T`` on Windows)."""
    if proc.returncode is not None:
        return
    if sys.platform == "win32":
        with contextlib.suppress(OSError):
            killer = await asyncio.create_subprocess_exec(
                "taskkill", "/F", "/T", "/PID", str(proc.pid),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            await asyncio.wait_for(killer.wait(), 10)
        with contextlib.suppress(ProcessLookupError, OSError):
            proc.kill()
    else:
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(proc.wait()), grace)
        except TimeoutError:
            pass
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(asyncio.shield(proc.wait()), 10)


def _describe(argv: Sequence[str]) -> str:
    words = [os.path.basename(argv[0])]
    if len(argv) > 1 and argv[1] == "compose":
        words.append("compose")
    action = next((a for a in argv[1:] if a in COMPOSE_ACTIONS), "")
    return " ".join(words + ([action] if action else []))


async def run_tool(argv: Sequence[str], env: Mapping[str, str] | None = None, cwd: str | None = None, *,
                   merge_stderr: bool = False, drain_timeout: float = 2.0) -> AsyncIterator[OutputLine]:
    """Run a command (an argv list, never a shell string) and stream its stdout and stderr line by line
    as they come (ANSI codes stripped), then a ``status`` line ``exit N``. A non-zero exit raises
    :class:`BackendError` (with the line that best explains it) after everything was yielded.
    Cancelling or closing the iterator kills the process and its children. ``merge_stderr`` sends
    stderr into stdout at the OS level (exact interleaving; every line is then tagged stdout)."""
    if not argv:
        raise InvalidInput("no command to run")
    exe = argv[0] if os.path.dirname(argv[0]) else (shutil.which(argv[0]) or "")
    if not exe:
        raise InvalidInput(f"{argv[0]} is not installed (not found on PATH)")
    full_env = dict(os.environ if env is None else env)
    full_env.setdefault("PYTHONUNBUFFERED", "1")
    if cwd and not os.path.isdir(cwd):
        raise InvalidInput(f"working directory {cwd} does not exist")
    try:
        proc = await asyncio.create_subprocess_exec(
            exe, *argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
            env=full_env, cwd=cwd or None, **_spawn_kwargs())
    except OSError as exc:
        raise BackendError(f"{_describe(argv)}: cannot start: {exc}") from exc
    queue: asyncio.Queue[OutputLine | None] = asyncio.Queue()

    async def pump(stream: asyncio.StreamReader | None, name: str) -> None:
        buf = b""
        try:
            while stream is not None:
                chunk = await stream.read(65536)
                if not chunk:
                    break
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for raw in lines:
                    queue.put_nowait(OutputLine(_clean(raw), name))
            if buf:
                queue.put_nowait(OutputLine(_clean(buf), name))
        finally:
            queue.put_nowait(None)

    pumps = [asyncio.create_task(pump(proc.stdout, "stdout"))]
    if not merge_stderr:
        pumps.append(asyncio.create_task(pump(proc.stderr, "stderr")))
    waiter = asyncio.create_task(proc.wait())
    seen: dict[str, list[str]] = {"stdout": [], "stderr": []}
    finished = False
    try:
        open_pumps = len(pumps)
        drain_deadline: float | None = None
        while open_pumps:
            if waiter.done() and drain_deadline is None:
                # a grandchild that keeps the pipes open must not hold us forever
                drain_deadline = time.monotonic() + drain_timeout
            get = asyncio.ensure_future(queue.get())
            timeout = None if drain_deadline is None else max(0.0, drain_deadline - time.monotonic())
            wait_for: set[asyncio.Future[Any]] = {get} if waiter.done() else {get, waiter}
            done, _ = await asyncio.wait(wait_for, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if get not in done:
                get.cancel()
                if drain_deadline is not None and time.monotonic() >= drain_deadline:
                    break
                continue
            item = get.result()
            if item is None:
                open_pumps -= 1
                continue
            seen[item.stream].append(item.text)
            del seen[item.stream][:-200]
            yield item
        code = await waiter
        finished = True
        yield OutputLine(f"exit {code}", "status")
        if code != 0:
            detail = error_line(seen["stderr"]) or error_line(seen["stdout"])
            raise BackendError(f"{_describe(argv)} exited with {code}" + (f": {detail}" if detail else ""))
    finally:
        for task in pumps:
            task.cancel()
        if not finished:
            await _kill_tree(proc)
        waiter.cancel()
        for pending in [*pumps, waiter]:
            with contextlib.suppress(BaseException):
                await pending


# -- podman-compose's hidden failures ---------------------------------------------------------------
_EXIT_RE = re.compile(r"^exit code: (-?\d+)$")
_ABSENT_RE = re.compile(r"no container with name or ID|no such container|no such object", re.IGNORECASE)


@dataclass
class PodmanComposeWatch:
    """Finds the podman commands that failed inside a podman-compose 1.0.3 run (which itself exits 0).

    It prints each command (``podman run ...``), the command's own output, then ``exit code: N``; fed
    those lines in order (stderr merged into stdout) this records every failed command, except ``up``'s
    ``podman run`` of an existing container that the following ``podman start`` recovers, and, for
    stop/start/restart/down, commands on a container that does not exist."""

    action: str
    failures: list[tuple[str, int, str]] = field(default_factory=list)
    _cmd: str = ""
    _lines: list[str] = field(default_factory=list)
    _pending: tuple[str, int, str] | None = None

    def feed(self, line: str) -> None:
        m = _EXIT_RE.match(line.strip())
        if m is None:
            if line.startswith("podman ") or line.startswith("podman.exe "):
                self._cmd, self._lines = line.strip(), []
            else:
                self._lines.append(line)
            return
        code = int(m.group(1))
        err = error_line(self._lines)
        pending, self._pending = self._pending, None
        if code != 0 and self.action in API_ACTIONS and _ABSENT_RE.search(err):
            code = 0  # stopping/removing a container that is not there is what was wanted
        if code != 0:
            if pending is not None:
                self.failures.append(pending)
            self._pending = (self._cmd, code, err)
        elif pending is not None and not (pending[0].split()[1:2] == ["run"]
                                          and self._cmd.split()[1:2] == ["start"]):
            self.failures.append(pending)
        self._lines = []

    def finish(self) -> list[tuple[str, int, str]]:
        if self._pending is not None:
            self.failures.append(self._pending)
            self._pending = None
        return self.failures

    def error(self, project: str) -> BackendError | None:
        failures = self.finish()
        if not failures:
            return None
        cmd, code, err = failures[0]
        short = " ".join(cmd.split()[:2])
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        return BackendError(f"podman-compose {self.action} of {project}: {short} failed with exit code {code}"
                            + (f": {err}" if err else "") + more)


# -- actions ----------------------------------------------------------------------------------------
def _project_cwd(project: ComposeProject) -> str | None:
    if project.working_dir and os.path.isdir(project.working_dir):
        return project.working_dir
    for f in project.config_files:
        d = os.path.dirname(f)
        if d and os.path.isdir(d):
            return d
    return None


def _network_labels(info: Mapping[str, Any]) -> Mapping[str, Any]:
    labels = info.get("Labels") or info.get("labels") or {}
    return labels if isinstance(labels, Mapping) else {}


async def project_networks(runtime: ContainerRuntime, project: str) -> list[str]:
    """Names of the networks labelled with the compose project (either tool's label)."""
    skip = {"bridge", "host", "none", "podman", "ingress", "docker_gwbridge", "podman-default-kube-network"}
    names = [n.name for n in await runtime.list_networks() if n.name not in skip]
    sem = asyncio.Semaphore(8)

    async def labelled(name: str) -> bool:
        async with sem:
            try:
                labels = _network_labels(await runtime.inspect_network(name))
            except NotFound:
                return False
        return any(labels.get(k) == project for k in PROJECT_LABELS)

    flags = await asyncio.gather(*(labelled(n) for n in names))
    return [n for n, hit in zip(names, flags, strict=True) if hit]


async def _remove_networks(runtime: ContainerRuntime, project: str) -> AsyncIterator[OutputLine]:
    for net in await project_networks(runtime, project):
        try:
            await runtime.remove_network(net)
        except NotFound:
            continue
        except (Conflict, TamerError) as exc:
            yield OutputLine(f"network {net} not removed: {exc}", "stderr")
            continue
        yield OutputLine(f"removed network {net}")


def _selected(project: ComposeProject, services: Sequence[str]) -> list[ContainerRow]:
    if not services:
        return list(project.containers)
    out: list[ContainerRow] = []
    for name in services:
        out.extend(project.service(name).containers)  # NotFound for an unknown service
    return out


async def _api_action(runtime: ContainerRuntime, project: ComposeProject, action: str,
                      services: Sequence[str]) -> AsyncIterator[OutputLine]:
    """stop/start/restart/down through the runtime API (the compose files are gone)."""
    containers = _selected(project, services)
    failures: list[str] = []
    yield OutputLine(f"compose files of {project.name} are gone: {action} through the {runtime.name} API",
                     "status")
    ordered = list(reversed(containers)) if action in ("stop", "down") else containers
    for row in ordered:
        try:
            if action == "stop":
                if row.state in ("running", "paused", "restarting"):
                    await runtime.stop_container(row.id)
                    yield OutputLine(f"stopped {row.name}")
                else:
                    yield OutputLine(f"{row.name} is already {row.state}")
            elif action == "start":
                if row.state in ("exited", "created", "dead", "stopped"):
                    await runtime.start_container(row.id)
                    yield OutputLine(f"started {row.name}")
                else:
                    yield OutputLine(f"{row.name} is already {row.state}")
            elif action == "restart":
                await runtime.restart_container(row.id)
                yield OutputLine(f"restarted {row.name}")
            else:  # down
                if row.state in ("running", "paused", "restarting"):
                    with contextlib.suppress(NotFound, Conflict):
                        await runtime.stop_container(row.id)
                await runtime.remove_container(row.id, force=True)
                yield OutputLine(f"removed {row.name}")
        except NotFound:
            yield OutputLine(f"{row.name} is gone already")
        except TamerError as exc:
            failures.append(f"{row.name}: {exc}")
            yield OutputLine(f"{action} {row.name} failed: {exc}", "stderr")
    if action == "down" and not services:
        async for line in _remove_networks(runtime, project.name):
            yield line
    yield OutputLine(f"exit {1 if failures else 0}", "status")
    if failures:
        raise BackendError(f"{action} of {project.name}: " + "; ".join(failures))


async def project_action(runtime: ContainerRuntime, project: ComposeProject, action: str,
                         services: Sequence[str] = (), tools: Sequence[ComposeTool] | None = None
                         ) -> AsyncIterator[OutputLine]:
    """Run ``action`` on a project (or some of its services) with the right compose tool, in the
    project's working dir with its compose files, streaming the output. When the files are gone only
    stop/start/restart/down work, done through the runtime API."""
    if action not in COMPOSE_ACTIONS:
        raise InvalidInput(f"unknown compose action {action!r} (one of {', '.join(COMPOSE_ACTIONS)})")
    if runtime.name != project.runtime:
        raise InvalidInput(f"compose project {project.key} is not on {runtime.name}")
    if project.files_missing:
        if action not in API_ACTIONS:
            where = ", ".join(project.config_files) or "no files were recorded"
            raise InvalidInput(f"compose files of {project.name} are gone ({where}): only stop, start, restart "
                               "and down work")
        async for line in _api_action(runtime, project, action, services):
            yield line
        return
    tool = pick_tool(project, await find_tools() if tools is None else tools)
    argv = compose_argv(tool, project, action, services)
    async for line in _run_compose(runtime, tool, argv, _project_cwd(project), action, project.name, services):
        yield line


async def file_action(runtime: ContainerRuntime, files: Sequence[str], action: str, services: Sequence[str] = (),
                      *, project_name: str = "", tools: Sequence[ComposeTool] | None = None,
                      extra: Sequence[str] = ()) -> AsyncIterator[OutputLine]:
    """Run ``action`` for compose files that may have no containers yet (``up`` of a new project,
    ``build``, ``pull``) on ``runtime``, with the tool for its engine, in the first file's directory."""
    if not files:
        raise InvalidInput("which compose file? (none given)")
    paths = [os.path.abspath(f) for f in files]
    for path in paths:
        if not os.path.isfile(path):
            raise InvalidInput(f"compose file {path} does not exist")
    tool = pick_tool(runtime.kind, await find_tools() if tools is None else tools)
    argv = compose_argv(tool, None, action, services, files=paths, project_name=project_name, extra=extra)
    async for line in _run_compose(runtime, tool, argv, os.path.dirname(paths[0]), action, project_name, services):
        yield line


async def _run_compose(runtime: ContainerRuntime, tool: ComposeTool, argv: list[str], cwd: str | None, action: str,
                       project_name: str, services: Sequence[str]) -> AsyncIterator[OutputLine]:
    """The command as a status line, the tool's output, podman-compose's hidden failures as an error,
    and the network podman-compose 1.0.3's ``down`` leaves behind removed."""
    env = compose_env(tool, runtime.endpoint)
    podman = not tool.docker_like
    watch = PodmanComposeWatch(action) if podman else None
    yield OutputLine("$ " + shlex.join(argv), "status")
    lines = run_tool(argv, env, cwd, merge_stderr=podman)
    async with contextlib.aclosing(lines):  # type: ignore[type-var]
        async for line in lines:
            if watch is not None and line.stream != "status":
                watch.feed(line.text)
            yield line
    if watch is not None:
        error = watch.error(project_name or "the project")
        if error is not None:
            raise error
        if action == "down" and not services and project_name:
            async for line in _remove_networks(runtime, project_name):
                yield line


async def compose_feed(runtimes: Sequence[ContainerRuntime], coalesce_s: float = 0.1
                       ) -> AsyncIterator[FeedMessage]:
    """Live compose projects: the container feeds of ``runtimes`` regrouped (bursts coalesced over
    ``coalesce_s``) into ``Snapshot(source=runtime name, rows=tuple[ComposeProject])`` whenever that
    runtime's projects changed; ``SourceStatus`` messages pass through."""
    queue: asyncio.Queue[FeedMessage | BaseException] = asyncio.Queue()

    async def pump() -> None:
        try:
            async for msg in merged_feed(runtimes, "containers"):
                await queue.put(msg)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            await queue.put(exc)

    task = asyncio.create_task(pump())
    rows: dict[str, dict[str, ContainerRow]] = {}
    last: dict[str, tuple[ComposeProject, ...]] = {}
    try:
        while True:
            batch = [await queue.get()]
            deadline = time.monotonic() + coalesce_s
            while (left := deadline - time.monotonic()) > 0:
                try:
                    batch.append(await asyncio.wait_for(queue.get(), left))
                except TimeoutError:
                    break
            dirty: list[str] = []
            for msg in batch:
                if isinstance(msg, BaseException):
                    raise msg
                if isinstance(msg, SourceStatus):
                    yield msg
                    continue
                if isinstance(msg, Snapshot):
                    rows[msg.source] = {r.key: r for r in msg.rows}
                    touched = [msg.source]
                elif isinstance(msg, Upsert):
                    touched = []
                    for r in msg.rows:
                        rows.setdefault(r.runtime, {})[r.key] = r
                        touched.append(r.runtime)
                elif isinstance(msg, Remove):
                    touched = []
                    for key in msg.keys:
                        for source, known in rows.items():
                            if known.pop(key, None) is not None:
                                touched.append(source)
                else:
                    continue
                dirty += [s for s in touched if s not in dirty]
            for source in dirty:
                projects = tuple(await asyncio.to_thread(group_projects, list(rows.get(source, {}).values())))
                if last.get(source) != projects or source not in last:
                    last[source] = projects
                    yield Snapshot(source, projects)
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
