"""The runtime manager: every detected Docker/Podman endpoint, connected and kept track of.

The UI asks the manager for runtimes by name and for merged feeds; mutations go through
``guard()`` so ``--readonly`` blocks every one of them in one place.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from tamer_tui.core.commands import Target
from tamer_tui.core.errors import InvalidInput, NotFound, ReadOnlyMode, TamerError
from tamer_tui.core.models import RuntimeEndpoint, RuntimeInfo, RuntimeKind
from tamer_tui.core.runtime import ContainerRuntime


def make_runtime(endpoint: RuntimeEndpoint, timeout: float | None = None) -> ContainerRuntime:
    """The backend for an endpoint (imported lazily: the SDKs are only loaded when used)."""
    if endpoint.kind == RuntimeKind.DOCKER:
        from tamer_tui.core.docker_runtime import DockerRuntime

        return DockerRuntime(endpoint, timeout=timeout) if timeout else DockerRuntime(endpoint)
    from tamer_tui.core.podman_runtime import PodmanRuntime

    return PodmanRuntime(endpoint)


@dataclass
class RuntimeState:
    endpoint: RuntimeEndpoint
    runtime: ContainerRuntime
    info: RuntimeInfo | None = None
    error: str = ""
    checked: bool = False

    @property
    def reachable(self) -> bool:
        return self.info is not None


@dataclass
class RuntimeManager:
    endpoints: Sequence[RuntimeEndpoint]
    readonly: bool = False
    states: dict[str, RuntimeState] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for ep in self.endpoints:
            if ep.name not in self.states:
                self.states[ep.name] = RuntimeState(ep, make_runtime(ep))

    @classmethod
    def from_runtimes(cls, runtimes: Sequence[ContainerRuntime], readonly: bool = False) -> RuntimeManager:
        """A manager over runtimes built by the caller (tests, embedding)."""
        states = {rt.name: RuntimeState(rt.endpoint, rt) for rt in runtimes}
        return cls([rt.endpoint for rt in runtimes], readonly=readonly, states=states)

    @property
    def runtimes(self) -> list[ContainerRuntime]:
        return [s.runtime for s in self.states.values()]

    def get(self, name: str) -> ContainerRuntime:
        try:
            return self.states[name].runtime
        except KeyError:
            raise NotFound(f"no runtime named {name!r} (known: {', '.join(self.states) or 'none'})") from None

    def set_shown(self, endpoints: Sequence[RuntimeEndpoint]) -> list[ContainerRuntime]:
        """Show exactly these endpoints (the Hosts screen's choice): states of endpoints already shown are
        kept (connections stay open), new ones are added unconnected; returns the dropped runtimes, which
        the caller closes."""
        if not endpoints:
            raise InvalidInput("at least one host must stay shown")
        old = self.states
        self.states = {}
        for ep in endpoints:
            self.states[ep.name] = old.pop(ep.name) if ep.name in old else RuntimeState(ep, make_runtime(ep))
        self.endpoints = list(endpoints)
        return [s.runtime for s in old.values()]

    def guard(self, action: str) -> None:
        """Raise ``ReadOnlyMode`` for a mutation under ``--readonly``."""
        if self.readonly:
            raise ReadOnlyMode(action)

    async def connect_all(self, timeout: float = 5.0) -> dict[str, RuntimeState]:
        """Connect to every endpoint concurrently; an unreachable one records its error."""

        async def one(state: RuntimeState) -> None:
            try:
                state.info = await asyncio.wait_for(state.runtime.connect(), timeout)
                state.error = ""
            except TimeoutError:
                state.info = None
                state.error = f"no answer within {timeout:.0f}s from {state.endpoint.url}"
            except TamerError as exc:
                state.info = None
                state.error = str(exc)
            finally:
                state.checked = True

        await asyncio.gather(*(one(s) for s in self.states.values()))
        return self.states

    async def close(self) -> None:
        for s in self.states.values():
            await s.runtime.close()

    def summary(self) -> str:
        parts = []
        for name, s in self.states.items():
            if not s.checked:
                parts.append(f"{name}:…")
            elif s.info is not None:
                parts.append(f"{name} {s.info.version}")
            else:
                parts.append(f"{name}:down")
        return "  ".join(parts) if parts else "no container runtime"


async def resolve_target(manager: RuntimeManager, target: Target) -> tuple[ContainerRuntime, str, str]:
    """Find ``target`` on the runtimes: (runtime, id to call the API with, display name).

    Containers match by exact name, then by id prefix; images by tag (``:latest`` implied) or
    id; networks and volumes by name or id. An ambiguous name asks for a ``runtime:`` prefix.
    """
    states = [s for s in manager.states.values() if target.runtime in (None, s.endpoint.name)]
    if target.runtime and not states:
        raise NotFound(f"no runtime named {target.runtime!r}")
    hits: list[tuple[ContainerRuntime, str, str]] = []
    errors: list[str] = []
    for state in states:
        rt = state.runtime
        try:
            hits.extend(await _match(rt, target))
        except TamerError as exc:
            errors.append(f"{rt.name}: {exc}")
    if not hits:
        where = f" ({'; '.join(errors)})" if errors else ""
        raise NotFound(f"{target.kind} {target.name!r} not found{where}")
    if len({(rt.name, ident) for rt, ident, _ in hits}) > 1:
        names = ", ".join(f"{rt.name}:{disp}" for rt, _, disp in hits[:5])
        raise InvalidInput(f"{target} is ambiguous: {names}; prefix the runtime, e.g. {target.kind}/{hits[0][0].name}:NAME")
    return hits[0]


async def _match(rt: ContainerRuntime, target: Target) -> list[tuple[ContainerRuntime, str, str]]:
    name = target.name
    if target.kind == "container":
        rows = await rt.list_containers(all=True)
        exact = [(rt, r.id, r.name) for r in rows if r.name == name or r.id == name]
        return exact or [(rt, r.id, r.name) for r in rows if len(name) >= 3 and r.id.startswith(name)]
    if target.kind == "image":
        images = await rt.list_images()
        candidates = {name, f"{name}:latest", f"docker.io/library/{name}", f"localhost/{name}",
                      f"localhost/{name}:latest", f"docker.io/{name}", f"docker.io/library/{name}:latest"}
        exact_img = [(rt, i.id, i.display_name) for i in images if candidates & set(i.tags)]
        bare = name.removeprefix("sha256:")
        return exact_img or [
            (rt, i.id, i.display_name) for i in images if len(bare) >= 3 and i.id.removeprefix("sha256:").startswith(bare)
        ]
    if target.kind == "network":
        nets = await rt.list_networks()
        return [(rt, n.name, n.name) for n in nets if name in (n.name, n.id) or (len(name) >= 3 and n.id.startswith(name))]
    if target.kind == "volume":
        vols = await rt.list_volumes()
        return [(rt, v.name, v.name) for v in vols if v.name == name]
    raise InvalidInput(f"unknown kind {target.kind!r}")
