"""Command mode: the text after ``:`` (and ``tamer -c``) parsed into a ``Command``.

``:co``, ``:img``, ``:inspect container/docker:web``, ``:rename container/web web2``,
``:prune volumes``. Parsing is pure; the app decides what each command does. Arguments are
split with shlex-like rules into an argv list, never handed to a shell.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from tamer_tui.core.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    aliases: tuple[str, ...]
    help: str
    usage: str = ""
    screen: bool = False  # opens a screen (navigation) rather than doing an action
    mutates: bool = False  # blocked by --readonly
    destructive: bool = False  # asks for confirmation


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("containers", ("co", "ctr", "ps", "container"), "Containers of every runtime", screen=True),
    CommandSpec("images", ("img", "image", "im"), "Images of every runtime", screen=True),
    CommandSpec("networks", ("net", "nets", "network"), "Networks of every runtime", screen=True),
    CommandSpec("volumes", ("vol", "vols", "volume"), "Volumes of every runtime", screen=True),
    CommandSpec("runtimes", ("rt", "doctor"), "Detected runtimes and their state", screen=True),
    CommandSpec("help", ("?", "h"), "Keys and commands of the current screen", screen=True),
    CommandSpec("ctx", ("context", "contexts", "clusters", "cluster"), "Kubernetes contexts; :ctx NAME switches",
                "ctx [NAME]", screen=True),
    CommandSpec("dashboard", ("dash", "pulse", "overview"), "The current cluster at a glance", "dashboard",
                screen=True),
    CommandSpec("inspect", (), "Inspect a container, image, network or volume", "inspect KIND/[RUNTIME:]NAME"),
    CommandSpec("describe", ("desc",), "Describe an object (Kubernetes: with its events)", "describe KIND/[NS/]NAME"),
    CommandSpec("yaml", (), "YAML of an object (managedFields hidden)", "yaml KIND/[NS/]NAME"),
    CommandSpec("reveal", ("decode",), "Decoded values of a Secret", "reveal secret/NS/NAME"),
    CommandSpec("scale", (), "Scale a deployment, statefulset or replicaset", "scale KIND/NS/NAME REPLICAS",
                mutates=True),
    CommandSpec("cordon", (), "Cordon a node", "cordon node/NAME", mutates=True),
    CommandSpec("uncordon", (), "Uncordon a node", "uncordon node/NAME", mutates=True),
    CommandSpec("drain", (), "Cordon a node and evict its pods", "drain node/NAME", mutates=True, destructive=True),
    CommandSpec("trigger", (), "Run a CronJob now", "trigger cronjob/NS/NAME", mutates=True),
    CommandSpec("suspend", (), "Suspend a CronJob", "suspend cronjob/NS/NAME", mutates=True),
    CommandSpec("unsuspend", (), "Resume a suspended CronJob", "unsuspend cronjob/NS/NAME", mutates=True),
    CommandSpec("logs", ("log",), "Follow logs: a pod, a workload's pods, a label selector, a container, "
                "a compose project or a Podman pod",
                "logs pod/NS/NAME[/CONTAINER] | deploy|sts|ds|job/NS/NAME | selector/NS/SELECTOR | "
                "container/[RUNTIME:]NAME | compose/PROJECT[/SERVICE] | podman-pod/NAME "
                "[--tail=N|all] [--since=5m] [--timestamps] [--previous]"),
    CommandSpec("shell", ("sh", "ssh"), "Interactive shell in a pod's container or a container (the TUI suspends)",
                "shell pod/NS/NAME[/CONTAINER] | shell container/[RUNTIME:]NAME", mutates=True),
    CommandSpec("exec", ("ex",), "Run a command in a pod's container or a container; output and exit code in a pane",
                "exec pod/NS/NAME[/CONTAINER] -- ARGV... | exec container/[RUNTIME:]NAME -- ARGV...", mutates=True),
    CommandSpec("attach", (), "Attach to the main process of a pod's container or a container",
                "attach pod/NS/NAME[/CONTAINER] | attach container/[RUNTIME:]NAME", mutates=True),
    CommandSpec("pf", ("port-forward", "portforward", "forwards", "pfs"),
                "Port-forwards: without arguments the list; with a target starts one",
                "pf | pf pod/NS/NAME [LOCAL:]REMOTE | pf svc/NS/NAME [LOCAL:]REMOTE [--address=127.0.0.1]"),
    CommandSpec("edit", ("e",), "Edit a live object in the YAML editor (validate, diff, apply)",
                "edit KIND/[NS/]NAME"),
    CommandSpec("new", ("template",), "A new object from a template in the YAML editor",
                "new deployment|service|ingress|configmap|secret|job|cronjob|pvc|namespace|blank [NAME] [-n NS]"),
    CommandSpec("open", ("file", "kustomize"), "Open a YAML file, a directory, or a kustomization (built) in the editor",
                "open PATH"),
    CommandSpec("kapply", ("kustomize-apply",), "Build a kustomization and apply it (prune labelled leftovers on request)",
                "kapply DIR [--prune=KEY=VALUE] [--dry-run]", mutates=True),
    CommandSpec("drafts", ("draft",), "Unsaved editor drafts (also those a crash left behind); Enter reopens one",
                "drafts"),
    CommandSpec("helm", ("releases", "hr", "charts-releases"), "Helm releases; helm ACTION NS/NAME acts on one",
                "helm | helm values|manifest|notes|hooks|history|test NS/NAME | helm rollback NS/NAME REV | "
                "helm uninstall NS/NAME | helm upgrade NS/NAME CHART [--version=V] | "
                "helm install RELEASE CHART [--version=V] [-n NS] | helm repo add NAME URL|remove NAME|update|list | "
                "helm chart REPO/CHART [--version=V] [--show=readme|values|templates]"),
    CommandSpec("charts", ("chart", "helm-charts"), "Browse and search the charts of helm's repositories",
                "charts [QUERY]"),
    CommandSpec("top", (), "Processes of a container", "top container/NAME"),
    CommandSpec("stats", (), "Live CPU/memory/net/IO of a container", "stats container/NAME"),
    CommandSpec("env", (), "Environment of a container", "env container/NAME"),
    CommandSpec("history", ("layers",), "Layers of an image", "history image/NAME"),
    CommandSpec("start", ("up",), "Start a container", "start container/NAME", mutates=True),
    CommandSpec("stop", (), "Stop a container", "stop container/NAME", mutates=True),
    CommandSpec("restart", ("rollout-restart",), "Restart a container, or rollout-restart a workload",
                "restart container/NAME | restart deploy/NS/NAME", mutates=True),
    CommandSpec("pause", (), "Pause a container", "pause container/NAME", mutates=True),
    CommandSpec("unpause", ("resume",), "Unpause a container", "unpause container/NAME", mutates=True),
    CommandSpec("kill", (), "Kill a container (SIGKILL) or force-delete a pod", "kill container/NAME | kill pod/NS/NAME",
                mutates=True, destructive=True),
    CommandSpec("rm", ("delete", "del", "remove", "rmi"), "Remove an object", "rm KIND/NAME", mutates=True,
                destructive=True),
    CommandSpec("rename", (), "Rename a container", "rename container/NAME NEW", mutates=True),
    CommandSpec("pull", (), "Pull an image", "pull [RUNTIME:]REFERENCE", mutates=True),
    CommandSpec("tag", (), "Tag an image", "tag image/NAME REPO[:TAG]", mutates=True),
    CommandSpec("prune", (), "Prune unused objects; shows what would go and the space it frees first",
                "prune images|dangling-images|containers|volumes|build-cache|networks [RUNTIME]",
                mutates=True, destructive=True),
    CommandSpec("create", ("mk",), "Create a network or volume", "create network|volume NAME [RUNTIME]",
                mutates=True),
    CommandSpec("compose", ("dc", "projects", "docker-compose", "podman-compose"),
                "Compose projects; compose PROJECT shows its services; compose ACTION acts on a project or service",
                "compose | compose [RUNTIME:]PROJECT | compose up|down|stop|start|restart|pull|build "
                "[RUNTIME:]PROJECT[/SERVICE]", screen=True),
    CommandSpec("swarm", ("sw", "services-swarm"),
                "Swarm services; swarm nodes|tasks|stacks; swarm ACTION on a service, node or stack",
                "swarm | swarm nodes | swarm tasks [SERVICE] | swarm stacks | swarm scale SERVICE N | "
                "swarm update SERVICE IMAGE | swarm rollback SERVICE | swarm rm SERVICE | "
                "swarm drain|activate|pause NODE | swarm rmstack STACK [--runtime=NAME]", screen=True),
    CommandSpec("ppods", ("pp", "podman-pods", "ppod"),
                "Podman pods; ppods ACTION NAME acts on one",
                "ppods | ppods create NAME | ppods start|stop|restart|pause|unpause|kill|rm|inspect|top|stats|"
                "containers [RUNTIME:]NAME", screen=True),
    CommandSpec("hosts", ("host", "endpoints"),
                "Docker contexts, DOCKER_HOST, Podman connections and WSL distros, with reachability; "
                "hosts use|add|drop|all NAME chooses which are shown",
                "hosts | hosts use NAME | hosts add NAME | hosts drop NAME | hosts all", screen=True),
    CommandSpec("df", ("disk", "system-df", "du"),
                "Disk usage by images, containers, volumes and build cache, with prune previews", "df [RUNTIME]", screen=True),
    CommandSpec("build", ("bd",), "Build an image (a dialog without arguments); progress streams into a panel",
                "build [RUNTIME:]CONTEXT [-f DOCKERFILE] [-t TAG]... [--build-arg K=V]... [--target STAGE] "
                "[--secret id=ID,src=PATH]... [--platform P[,P]] [--no-cache] [--pull]", mutates=True),
    CommandSpec("push", (), "Push an image to its registry (progress; credentials from the keyring or Docker's "
                "config)", "push [RUNTIME:]REFERENCE", mutates=True),
    CommandSpec("login", (), "Store registry credentials in the OS keyring (asks for the password)",
                "login REGISTRY USERNAME", mutates=True),
    CommandSpec("run", ("create-container",), "Create and start a container (a dialog without arguments)",
                "run [RUNTIME:]IMAGE [--name=N] [-p HOST:CTR]... [-e K=V]... [-v SRC:DST[:ro]]... [--network=N] "
                "[--cpus=1.5] [--memory=512m] [--restart=on-failure:3] [--health-cmd=CMD] [--health-interval=5s] "
                "[-- COMMAND...]", mutates=True),
    CommandSpec("limits", ("update", "resources"), "Change a running container's CPU/memory limits or restart "
                "policy (a dialog without options)",
                "limits container/NAME [--cpus=1.5] [--memory=512m] [--memory-swap=1g] [--restart=always]", mutates=True),
    CommandSpec("health", ("healthcheck",), "Health state and health check log of a container",
                "health container/NAME"),
    CommandSpec("userns", ("idmap",), "User-namespace mapping of a container (and whether its engine is rootless)",
                "userns container/NAME"),
    CommandSpec("systemd", ("units",), "systemd units for a Podman container or pod (generate systemd)",
                "systemd container/NAME | systemd ppod/NAME [--no-new]"),
    CommandSpec("quadlet", (), "Quadlet files for a Podman container or pod (or a kube YAML file), previewed, then "
                "written into the Quadlet directory", "quadlet container/NAME | quadlet ppod/NAME | "
                "quadlet kube/PATH [--dir=DIR]"),
    CommandSpec("kgen", ("kube-generate", "generate-kube"), "podman kube generate for a container or pod, opened "
                "in the YAML editor (apply it to a cluster from there)", "kgen container/NAME | kgen ppod/NAME"),
    CommandSpec("kplay", ("kube-play", "play-kube"), "podman kube play of a YAML file (--down tears it down)",
                "kplay PATH [--replace] [--down] [--runtime=NAME]", mutates=True),
    CommandSpec("theme", (), "Switch the theme", "theme NAME"),
    CommandSpec("quit", ("q", "q!", "exit", "qa"), "Quit Tamer"),
)

_BY_NAME: dict[str, CommandSpec] = {}
for _spec in COMMANDS:
    _BY_NAME[_spec.name] = _spec
    for _alias in _spec.aliases:
        _BY_NAME[_alias] = _spec

KIND_ALIASES: dict[str, str] = {
    "container": "container", "containers": "container", "co": "container", "ctr": "container", "c": "container",
    "image": "image", "images": "image", "img": "image", "im": "image", "i": "image",
    "network": "network", "networks": "network", "net": "network", "n": "network",
    "volume": "volume", "volumes": "volume", "vol": "volume", "v": "volume",
}


@dataclass(frozen=True, slots=True)
class Target:
    """``KIND/[RUNTIME:]NAME`` - a kind, an optional runtime name and a name or id."""

    kind: str
    name: str
    runtime: str | None = None

    def __str__(self) -> str:
        rt = f"{self.runtime}:" if self.runtime else ""
        return f"{self.kind}/{rt}{self.name}"


@dataclass(frozen=True, slots=True)
class Command:
    spec: CommandSpec
    args: tuple[str, ...] = field(default=())
    raw: str = ""

    @property
    def name(self) -> str:
        return self.spec.name


def lookup(word: str) -> CommandSpec | None:
    return _BY_NAME.get(word.lower())


def parse_command(text: str) -> Command:
    """Parse command-mode text; raises ``InvalidInput`` with a message fit for the status line."""
    raw = text.strip().lstrip(":").strip()
    if not raw:
        raise InvalidInput("empty command")
    try:
        words = shlex.split(raw, posix=True)
    except ValueError as exc:
        raise InvalidInput(f"cannot parse {raw!r}: {exc}") from None
    spec = lookup(words[0])
    if spec is None:
        hint = completions(words[0])
        extra = f" (did you mean {', '.join(hint[:3])}?)" if hint else ""
        raise InvalidInput(f"unknown command {words[0]!r}{extra}")
    return Command(spec, tuple(words[1:]), raw)


def parse_target(text: str, default_kind: str | None = None) -> Target:
    """``container/web``, ``co/docker:web``, ``image/podman:busybox:latest``, or a bare name."""
    kind = default_kind
    rest = text
    if "/" in text:
        head, _, tail = text.partition("/")
        if head.lower() in KIND_ALIASES:
            kind, rest = KIND_ALIASES[head.lower()], tail
    if kind is None:
        raise InvalidInput(f"target {text!r} needs a kind, e.g. container/{text}")
    runtime, rest = split_runtime(rest)
    if not rest:
        raise InvalidInput(f"target {text!r} has no name")
    return Target(kind, rest, runtime)


def split_runtime(text: str) -> tuple[str | None, str]:
    """``docker@ctx:web`` -> ("docker@ctx", "web"); text without a runtime prefix -> (None, text).

    A runtime name is ``docker`` or ``podman``, optionally followed by ``@`` or ``-`` and more (the names
    detection gives), so image references like ``alpine:3`` are never taken for one."""
    head, sep, rest = text.partition(":")
    if sep and (head in ("docker", "podman") or head.startswith(("docker@", "podman@", "docker-", "podman-"))):
        return head, rest
    return None, text


def completions(prefix: str) -> list[str]:
    """Command names and aliases starting with ``prefix`` (canonical names first)."""
    p = prefix.lower().lstrip(":")
    names = [s.name for s in COMMANDS if s.name.startswith(p)]
    aliases = sorted(a for s in COMMANDS for a in s.aliases if a.startswith(p) and a not in names)
    return names + aliases
