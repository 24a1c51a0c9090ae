"""Pure parts of :mod:`tamer_tui.core.compose`: grouping real label sets, states, tool choice, argv,
environment, and podman-compose's hidden failures.

``data/docker_compose_v1_list.json`` is Docker's ``/containers/json`` for a docker-compose 1.29.2
project (web with a port and a health check, worker scaled to 2 with worker_2 stopped);
``data/podman_compose_list.json`` is libpod's list for a podman-compose 1.0.3 project (db stopped);
the ``podman_compose_*.txt`` files are podman-compose 1.0.3's real output (stderr merged) for an
``up``, an ``up`` of an existing project, a ``down`` and an ``up`` whose image does not exist. All were
captured on this machine's Docker 20.10 and Podman 4.3.1.
"""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

from tamer_tui.core import docker_runtime, podman_runtime
from tamer_tui.core.compose import (
    COMPOSE_ACTIONS,
    PROJECT_LABELS,
    ComposeProject,
    ComposeService,
    ComposeTool,
    PodmanComposeWatch,
    compose_argv,
    compose_env,
    error_line,
    group_projects,
    parse_tool_version,
    pick_tool,
    project_of,
    resolve_config_files,
    service_of,
    strip_ansi,
)
from tamer_tui.core.errors import InvalidInput, NotFound
from tamer_tui.core.models import ContainerRow, RuntimeEndpoint, RuntimeKind
from tests.compose.conftest import DATA, load_json

V2 = ComposeTool("docker compose", ("docker", "compose"), "2.24.5", RuntimeKind.DOCKER)
V1 = ComposeTool("docker-compose", ("docker-compose",), "1.29.2", RuntimeKind.DOCKER)
PC = ComposeTool("podman-compose", ("podman-compose",), "1.0.3", RuntimeKind.PODMAN)


def docker_rows() -> list[ContainerRow]:
    return [docker_runtime.parse_container("docker", c) for c in load_json("docker_compose_v1_list.json")]


def podman_rows() -> list[ContainerRow]:
    return [podman_runtime.parse_container(c, "podman") for c in load_json("podman_compose_list.json")]


def row(name: str, state: str = "running", health: str = "", labels: dict[str, str] | None = None) -> ContainerRow:
    return ContainerRow(runtime="docker", id=name + "-id", name=name, image="img", state=state, status="",
                        health=health, created=1.0, labels=tuple(sorted((labels or {}).items())))


def compose_row(project: str, service: str, number: int, state: str = "running",
                extra: dict[str, str] | None = None) -> ContainerRow:
    labels = {"com.docker.compose.project": project, "com.docker.compose.service": service,
              "com.docker.compose.container-number": str(number), **(extra or {})}
    return row(f"{project}_{service}_{number}", state, labels=labels)


def only_existing(*paths: str):  # noqa: ANN201 - a predicate
    return lambda p: p in paths


# -- grouping ---------------------------------------------------------------------------------------


def test_docker_compose_v1_labels_group_into_one_project() -> None:
    """A real docker-compose v1 list groups into one project with sorted services and replicas; the
    relative config_files label is resolved against the working dir; states, health and ports add up."""
    wd = "/tmp/tt-compose-capture"
    projects = group_projects(docker_rows(), exists=only_existing(f"{wd}/docker-compose.yml"))
    assert len(projects) == 1
    p = projects[0]
    assert (p.runtime, p.name, p.key, p.flavor, p.tool_version) == (
        "docker", "tt-compose-capture", "docker/tt-compose-capture", "docker-compose", "1.29.2")
    assert p.working_dir == wd and p.config_files == (f"{wd}/docker-compose.yml",)
    assert not p.files_missing
    assert [s.name for s in p.services] == ["web", "worker"]
    worker = p.service("worker")
    assert [c.name for c in worker.containers] == ["tt-compose-capture_worker_1", "tt-compose-capture_worker_2"]
    assert (worker.running, worker.total, worker.state) == (1, 2, "partial (1/2)")
    web = p.service("web")
    assert (web.state, web.health, web.ports, web.image) == (
        "running", "healthy", "127.0.0.1:18089->8080/tcp", "tamer-test/busybox:latest")
    assert (p.running, p.total, p.state) == (2, 3, "partial(2/3)")
    assert p.created == min(c.created for c in p.containers) > 0
    with pytest.raises(NotFound, match="no service 'db'.*web, worker"):
        p.service("db")


def test_podman_compose_labels_group_with_flavor_and_files_missing() -> None:
    """A real podman-compose 1.0.3 list (both project labels set) is one podman-compose project; with
    its compose file gone it is still grouped, marked files_missing."""
    rows = podman_rows()
    assert {project_of(r) for r in rows} == {"tt-compose-pcapture"}
    assert all(r.label(PROJECT_LABELS[1]) == "tt-compose-pcapture" for r in rows)
    p = group_projects(rows, exists=lambda _p: False)[0]
    assert (p.runtime, p.flavor, p.files_missing) == ("podman", "podman-compose", True)
    assert p.config_files == ("/tmp/tt-compose-capture/docker-compose.yml",)
    assert {s.name: s.state for s in p.services} == {"db": "exited", "web": "running"}
    assert p.state == "partial(1/2)"


def test_podman_project_label_alone_is_enough() -> None:
    """A container with only io.podman.compose.project (and no service label) still forms a project,
    the service named after the container; containers without a project label are ignored."""
    rows = [row("a", labels={"io.podman.compose.project": "p1"}), row("plain")]
    [p] = group_projects(rows, exists=lambda _p: True)
    assert (p.name, p.flavor, [s.name for s in p.services]) == ("p1", "podman-compose", ["a"])
    assert p.files_missing  # no config file was labelled
    assert service_of(rows[1]) is None and project_of(rows[1]) is None


def test_same_project_name_on_two_runtimes_are_two_projects() -> None:
    """Projects are per runtime: the same name on docker and podman gives two keys, sorted by runtime."""
    rows = [replace(compose_row("app", "web", 1), runtime="podman"), compose_row("app", "web", 1)]
    assert [p.key for p in group_projects(rows, exists=lambda _p: True)] == ["docker/app", "podman/app"]


def test_replicas_sort_by_number_not_name() -> None:
    """Container 10 comes after container 2 (numeric container-number order)."""
    rows = [compose_row("p", "w", n) for n in (10, 2, 1)]
    [p] = group_projects(rows, exists=lambda _p: True)
    assert [c.name for c in p.service("w").containers] == ["p_w_1", "p_w_2", "p_w_10"]


@pytest.mark.parametrize(("states", "service_state", "project_state"), [
    (["running", "running"], "running", "running(2/2)"),
    (["exited", "exited"], "exited", "exited(0/2)"),
    (["running", "exited"], "partial (1/2)", "partial(1/2)"),
    (["paused", "paused"], "paused", "paused(0/2)"),
    (["restarting", "running"], "restarting", "partial(1/2)"),
    (["restarting", "exited"], "restarting", "restarting(0/2)"),
    (["created", "created"], "created", "created(0/2)"),
    (["created", "exited"], "exited", "exited(0/2)"),
])
def test_states(states: list[str], service_state: str, project_state: str) -> None:
    """Service and project states from their containers' states."""
    rows = [compose_row("p", "s", i + 1, st) for i, st in enumerate(states)]
    [p] = group_projects(rows, exists=lambda _p: True)
    assert p.service("s").state == service_state
    assert p.state == project_state


def test_health_is_the_worst() -> None:
    """unhealthy beats starting beats healthy beats no check."""
    def svc(*healths: str) -> ComposeService:
        return ComposeService("s", tuple(row(f"c{i}", health=h) for i, h in enumerate(healths)))

    assert svc("", "healthy").health == "healthy"
    assert svc("healthy", "starting").health == "starting"
    assert svc("starting", "unhealthy", "healthy").health == "unhealthy"
    assert svc("", "").health == ""


def test_relative_config_files() -> None:
    """v1 and podman-compose record files as typed: found in the working dir, else by base name there
    (podman-compose run from another directory); absolute paths are kept; several files are comma-separated."""
    assert resolve_config_files("/w", "a.yml,sub/b.yml,/abs/c.yml", exists=only_existing("/w/b.yml")) == (
        "/w/a.yml", "/w/b.yml", "/abs/c.yml")
    assert resolve_config_files("/w", "sub/b.yml", exists=only_existing("/w/sub/b.yml")) == ("/w/sub/b.yml",)
    assert resolve_config_files("", "", exists=lambda _p: True) == ()


def test_newest_container_decides_files() -> None:
    """When containers disagree (services upped from different files), the newest container's labels win."""
    old = compose_row("p", "a", 1, extra={"com.docker.compose.project.working_dir": "/w",
                                          "com.docker.compose.project.config_files": "/w/old.yml"})
    new = replace(compose_row("p", "b", 1, extra={"com.docker.compose.project.working_dir": "/w",
                                                  "com.docker.compose.project.config_files": "/w/new.yml"}),
                  created=5.0)
    [p] = group_projects([old, new], exists=lambda _p: True)
    assert p.config_files == ("/w/new.yml",)


# -- tools --------------------------------------------------------------------------------------------


def test_parse_tool_versions() -> None:
    """Versions from the probes' real outputs; a docker CLI answering with something else is no tool."""
    assert parse_tool_version("docker compose", "Docker Compose version v2.24.5\n") == "2.24.5"
    assert parse_tool_version("docker compose", "v2.29.1\n") == "2.29.1"
    assert parse_tool_version("docker compose", "Usage: docker [OPTIONS] COMMAND\n") == ""
    assert parse_tool_version("docker-compose", "1.29.2\n") == "1.29.2"
    out = ("['podman', '--version', '']\nusing podman version: 4.3.1\npodman-composer version  1.0.3\n"
           "podman --version \npodman version 4.3.1\nexit code: 0\n")
    assert parse_tool_version("podman-compose", out) == "1.0.3"
    assert parse_tool_version("podman-compose", "podman-compose version 1.2.0\npodman version 5.2.0\n") == "1.2.0"
    assert parse_tool_version("podman-compose", "something else") == ""


def project(flavor: str = "docker-compose", version: str = "1.29.2", **kw: object) -> ComposeProject:
    base: dict[str, object] = {"runtime": "docker", "name": "proj", "working_dir": "/w",
                               "config_files": ("/w/docker-compose.yml",), "services": (),
                               "files_missing": False, "flavor": flavor, "tool_version": version}
    base.update(kw)
    return ComposeProject(**base)  # type: ignore[arg-type]


def test_pick_tool() -> None:
    """Engines prefer their own tool, projects the tool (and major version) that made them; none fits ->
    a clear InvalidInput."""
    assert pick_tool(RuntimeKind.DOCKER, [PC, V1, V2]) is V2
    assert pick_tool(RuntimeKind.DOCKER, [PC, V1]) is V1
    assert pick_tool(RuntimeKind.PODMAN, [V1, V2, PC]) is PC
    assert pick_tool(RuntimeKind.PODMAN, [V1]) is V1  # through the service's Docker-compatible API
    assert pick_tool(project(version="1.29.2"), [V2, V1]) is V1
    assert pick_tool(project(version="2.20.0"), [V1, V2]) is V2
    assert pick_tool(project(version="2.20.0"), [V1]) is V1
    assert pick_tool(project("podman-compose"), [V1, V2, PC]) is PC
    with pytest.raises(InvalidInput, match="no compose tool for podman: install podman-compose or docker compose"):
        pick_tool(RuntimeKind.PODMAN, [])
    with pytest.raises(InvalidInput, match="no compose tool for docker"):
        pick_tool(RuntimeKind.DOCKER, [PC])
    with pytest.raises(InvalidInput, match="created by podman-compose.*install podman-compose"):
        pick_tool(project("podman-compose"), [V1, V2])
    with pytest.raises(InvalidInput, match="install docker compose"):
        pick_tool(project(), [PC])


def test_compose_argv_shapes() -> None:
    """-p and every -f before the action; up always detached; services last; down keeps volumes unless
    extra says -v; the v2 plugin's argv starts with docker compose."""
    p = project(config_files=("/w/a.yml", "/w/b.yml"))
    assert compose_argv(V2, p, "up") == ["docker", "compose", "-p", "proj", "-f", "/w/a.yml", "-f", "/w/b.yml",
                                         "up", "-d"]
    assert compose_argv(V1, p, "up", ["web"], extra=["--build"]) == [
        "docker-compose", "-p", "proj", "-f", "/w/a.yml", "-f", "/w/b.yml", "up", "-d", "--build", "web"]
    assert compose_argv(V2, p, "up", extra=["--detach"]).count("-d") == 0
    assert compose_argv(PC, p, "down")[-1] == "down"
    assert compose_argv(V2, p, "down", extra=["-v"])[-2:] == ["down", "-v"]
    assert compose_argv(V1, p, "restart", ["web", "db"])[-3:] == ["restart", "web", "db"]
    for action in COMPOSE_ACTIONS:
        assert action in compose_argv(PC, p, action)


def test_compose_argv_new_project_and_overrides() -> None:
    """Without a project: files and name given explicitly (or neither: the tool's defaults)."""
    assert compose_argv(V2, None, "up", files=["/x/c.yml"], project_name="new") == [
        "docker", "compose", "-p", "new", "-f", "/x/c.yml", "up", "-d"]
    assert compose_argv(PC, None, "pull") == ["podman-compose", "pull"]
    assert compose_argv(V1, project(), "stop", project_name="other")[:3] == ["docker-compose", "-p", "other"]


def test_compose_argv_project_directory() -> None:
    """A docker tool gets --project-directory when the labelled working dir is not the first file's
    directory (paths in the file resolve against it); podman-compose has no such option."""
    p = project(working_dir="/w", config_files=("/w/deploy/c.yml",))
    assert compose_argv(V2, p, "up")[4:6] == ["--project-directory", "/w"]
    assert "--project-directory" not in compose_argv(PC, p, "up")
    assert "--project-directory" not in compose_argv(V1, project(), "up")


def test_compose_argv_rejects_bad_input() -> None:
    """Unknown actions, option-looking service names and odd project names are refused, not passed on."""
    with pytest.raises(InvalidInput, match="unknown compose action 'rm'"):
        compose_argv(V2, project(), "rm")
    with pytest.raises(InvalidInput, match="service name"):
        compose_argv(V2, project(), "up", ["--volumes"])
    with pytest.raises(InvalidInput, match="project name"):
        compose_argv(V2, None, "up", project_name="a b")


def test_compose_env() -> None:
    """Docker tools get DOCKER_HOST (a context or stale TLS setting in the base env is dropped);
    podman-compose gets CONTAINER_HOST (and CONTAINER_SSHKEY for an ssh identity); wsl:// endpoints are
    refused; Python tools are unbuffered so their output streams."""
    base = {"PATH": "/bin", "DOCKER_CONTEXT": "other", "DOCKER_TLS_VERIFY": "1", "CONTAINER_CONNECTION": "x"}
    docker_ep = RuntimeEndpoint(RuntimeKind.DOCKER, "docker", "unix:///var/run/docker.sock", "test")
    env = compose_env(V1, docker_ep, base)
    assert env["DOCKER_HOST"] == "unix:///var/run/docker.sock" and env["PATH"] == "/bin"
    assert "DOCKER_CONTEXT" not in env and "DOCKER_TLS_VERIFY" not in env
    assert env["PYTHONUNBUFFERED"] == "1"
    podman_ep = RuntimeEndpoint(RuntimeKind.PODMAN, "podman", "unix:///run/podman/podman.sock", "test")
    env = compose_env(PC, podman_ep, base)
    assert env["CONTAINER_HOST"] == "unix:///run/podman/podman.sock" and "CONTAINER_CONNECTION" not in env
    assert compose_env(V2, podman_ep, {})["DOCKER_HOST"] == "unix:///run/podman/podman.sock"
    ssh_ep = replace(podman_ep, url="ssh://core@10.0.0.2:22/run/podman/podman.sock", identity="/k/id_ed25519")
    env = compose_env(PC, ssh_ep, {})
    assert (env["CONTAINER_HOST"], env["CONTAINER_SSHKEY"]) == (ssh_ep.url, "/k/id_ed25519")
    http_ep = replace(docker_ep, url="http://127.0.0.1:2375")
    assert compose_env(V2, http_ep, {})["DOCKER_HOST"] == "tcp://127.0.0.1:2375"
    with pytest.raises(InvalidInput, match="WSL"):
        compose_env(V2, replace(docker_ep, url="wsl://Debian"), {})
    assert "DOCKER_HOST" not in os.environ or compose_env(V1, docker_ep)["DOCKER_HOST"] == docker_ep.url


def test_compose_env_tls_material() -> None:
    """A TLS endpoint whose files are ca/cert/key.pem in one directory gives DOCKER_CERT_PATH plus
    DOCKER_TLS_VERIFY (verify) or DOCKER_TLS (no verification); tls_verify None is plain TCP."""
    ep = RuntimeEndpoint(RuntimeKind.DOCKER, "remote", "tcp://10.0.0.1:2376", "test", tls_ca="/c/ca.pem",
                         tls_cert="/c/cert.pem", tls_key="/c/key.pem", tls_verify=True)
    env = compose_env(V2, ep, {})
    assert (env["DOCKER_CERT_PATH"], env["DOCKER_TLS_VERIFY"]) == ("/c", "1") and "DOCKER_TLS" not in env
    env = compose_env(V1, replace(ep, tls_verify=False), {})
    assert env["DOCKER_TLS"] == "1" and "DOCKER_TLS_VERIFY" not in env
    env = compose_env(V1, replace(ep, tls_verify=None), {"DOCKER_CERT_PATH": "/stale"})
    assert not {"DOCKER_CERT_PATH", "DOCKER_TLS", "DOCKER_TLS_VERIFY"} & set(env)
    env = compose_env(V1, replace(ep, tls_ca="/c/my-ca.crt"), {})
    assert "DOCKER_CERT_PATH" not in env and env["DOCKER_TLS_VERIFY"] == "1"


# -- output -------------------------------------------------------------------------------------------


def test_strip_ansi_and_error_line() -> None:
    """Colour codes go; the explaining line is the last error-like unindented one (YAML errors end
    with indented location lines), else the last line."""
    assert strip_ansi("\x1b[31mCreating\x1b[0m web ... \x1b[32mdone\x1b[0m") == "Creating web ... done"
    yaml_error = ["yaml.parser.ParserError: while parsing a flow sequence",
                  '  in "./docker-compose.yml", line 3, column 12',
                  "expected ',' or ']', but got '<stream end>'",
                  '  in "./docker-compose.yml", line 4, column 1']
    assert error_line(yaml_error) == "yaml.parser.ParserError: while parsing a flow sequence"
    assert error_line(["The Compose file './docker-compose.yml' is invalid because:",
                       "Unsupported config option for services.web: 'imagex'"]) == \
        "Unsupported config option for services.web: 'imagex'"
    assert error_line(["all good", "  "]) == "all good"
    assert error_line([]) == ""


def watch_file(action: str, name: str) -> PodmanComposeWatch:
    watch = PodmanComposeWatch(action)
    for line in (DATA / name).read_text().splitlines():
        watch.feed(line)
    return watch


def test_podman_compose_watch_real_outputs() -> None:
    """On real podman-compose 1.0.3 output: a clean up and down have no failures; an up of an existing
    project (podman run fails, podman start recovers) is no failure; an up whose image is missing is
    reported with podman's own message, though podman-compose itself exited 0."""
    assert watch_file("up", "podman_compose_up.txt").error("p") is None
    assert watch_file("up", "podman_compose_up_again.txt").error("p") is None
    assert watch_file("down", "podman_compose_down.txt").error("p") is None
    err = watch_file("up", "podman_compose_up_missing_image.txt").error("tt-compose-pbad")
    assert err is not None
    assert str(err).startswith("podman-compose up of tt-compose-pbad: podman run failed with exit code 125: "
                               "Error: localhost/tt-compose-missing:none: image not known")
    assert "(and 1 more)" in str(err)


def test_podman_compose_watch_absent_containers_on_stop() -> None:
    """stop/down of a service whose container does not exist is not a failure; a real stop error is."""
    watch = PodmanComposeWatch("stop")
    for line in ["podman stop -t 10 p_web_1",
                 'Error: no container with name or ID "p_web_1" found: no such container', "exit code: 125"]:
        watch.feed(line)
    assert watch.error("p") is None
    watch = PodmanComposeWatch("stop")
    for line in ["podman stop p_web_1", "Error: something broke", "exit code: 125"]:
        watch.feed(line)
    assert "podman stop failed with exit code 125: Error: something broke" in str(watch.error("p"))
