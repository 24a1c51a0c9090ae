"""Kubeconfig loading and merging like kubectl, connection parameters, credential resolution.

Everything works on temp files and explicit env dicts; no real cluster is needed here (the exec
plugin tests run a real tiny Python plugin as a subprocess).
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tamer_tui.core.kube.kubeconfig import (
    KubeConfigError,
    absolutize_paths,
    clear_exec_cache,
    kubeconfig_paths,
    load_files,
    load_kubeconfig,
    load_text,
    resolve_credentials,
)


@pytest.fixture(autouse=True)
def _fresh_exec_cache() -> Iterator[None]:
    """Every test starts and ends with an empty exec credential cache."""
    clear_exec_cache()
    yield
    clear_exec_cache()


CA_PEM = b"-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def kubeconfig(path: Path, *, current: str | None = None, clusters: dict[str, dict[str, Any]] | None = None,
               users: dict[str, dict[str, Any]] | None = None,
               contexts: dict[str, dict[str, Any]] | None = None) -> Path:
    data: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": n, "cluster": c} for n, c in (clusters or {}).items()],
        "users": [{"name": n, "user": u} for n, u in (users or {}).items()],
        "contexts": [{"name": n, "context": c} for n, c in (contexts or {}).items()],
    }
    if current is not None:
        data["current-context"] = current
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def simple(path: Path, name: str, server: str, current: str | None = None, **ctx: Any) -> Path:
    return kubeconfig(path, current=current, clusters={name: {"server": server}},
                      users={name: {"token": f"tok-{name}"}},
                      contexts={name: {"cluster": name, "user": name, **ctx}})


# ------------------------------------------------------------------------------ which files
def test_paths_explicit_wins_over_env(tmp_path: Path) -> None:
    """--kubeconfig overrides KUBECONFIG, which overrides ~/.kube/config."""
    env = {"KUBECONFIG": os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")])}
    assert kubeconfig_paths(tmp_path / "x", env, tmp_path) == [(tmp_path / "x", "--kubeconfig")]
    assert kubeconfig_paths(None, env, tmp_path) == [(tmp_path / "a", "KUBECONFIG"), (tmp_path / "b", "KUBECONFIG")]
    assert kubeconfig_paths(None, {}, tmp_path) == [(tmp_path / ".kube" / "config", "default")]
    assert kubeconfig_paths([], {}, tmp_path) == [(tmp_path / ".kube" / "config", "default")]


def test_paths_kubeconfig_drops_empty_and_duplicate_entries(tmp_path: Path) -> None:
    """Empty KUBECONFIG entries and repeated files are ignored, order is kept."""
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    env = {"KUBECONFIG": os.pathsep.join(["", a, b, "", a])}
    assert [p for p, _o in kubeconfig_paths(None, env, tmp_path)] == [Path(a), Path(b)]


# ------------------------------------------------------------------------------------ merge
def test_merge_first_file_wins_and_first_current_context(tmp_path: Path) -> None:
    """Duplicate context/cluster/user names: the first file's entry wins, as in kubectl; the
    current-context comes from the first file that sets one."""
    a = kubeconfig(tmp_path / "a", clusters={"shared": {"server": "https://a:1"}},
                   users={"u": {"token": "from-a"}},
                   contexts={"one": {"cluster": "shared", "user": "u", "namespace": "ns-a"}})
    b = kubeconfig(tmp_path / "b", current="two",
                   clusters={"shared": {"server": "https://b:2"}, "own": {"server": "https://b:3"}},
                   users={"u": {"token": "from-b"}},
                   contexts={"one": {"cluster": "own", "user": "u"}, "two": {"cluster": "shared", "user": "u"}})
    c = simple(tmp_path / "c", "three", "https://c:4", current="three")
    env = {"KUBECONFIG": os.pathsep.join(map(str, [a, b, c]))}
    config = load_kubeconfig(env=env, home=tmp_path)
    assert config.warnings == []
    assert config.current_context == "two"
    assert config.context_names == ["one", "two", "three"]
    one, two = config.contexts["one"], config.contexts["two"]
    assert (one.cluster, one.server, one.namespace, one.source_file) == ("shared", "https://a:1", "ns-a", str(a))
    assert (two.server, two.source_file, two.effective_namespace) == ("https://a:1", str(b), "default")
    assert config.connection_params("two").token == "from-a"
    assert config.files == [str(a), str(b), str(c)]


def test_explicit_file_ignores_kubeconfig_env(tmp_path: Path) -> None:
    """With --kubeconfig only that file is read."""
    a = simple(tmp_path / "a", "a", "https://a:1", current="a")
    b = simple(tmp_path / "b", "b", "https://b:1", current="b")
    config = load_kubeconfig(str(b), env={"KUBECONFIG": str(a)}, home=tmp_path)
    assert config.context_names == ["b"] and config.current_context == "b"


def test_default_file_and_missing_default_is_silent(tmp_path: Path) -> None:
    """Without KUBECONFIG ~/.kube/config is read; when it does not exist there is no warning."""
    assert load_kubeconfig(env={}, home=tmp_path).warnings == []
    simple(tmp_path / ".kube" / "config", "home", "https://h:1", current="home")
    config = load_kubeconfig(env={}, home=tmp_path)
    assert config.context_names == ["home"] and config.current_context == "home"


def test_broken_files_become_warnings_and_others_still_load(tmp_path: Path) -> None:
    """Bad YAML, a list at top level, binary junk, a directory and a missing file each give one
    warning naming the file and the problem; the good file still loads."""
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("apiVersion: v1\nclusters:\n\t- name: x\n", encoding="utf-8")
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n- b\n", encoding="utf-8")
    binary = tmp_path / "bin"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage")
    directory = tmp_path / "dir"
    directory.mkdir()
    good = simple(tmp_path / "good", "good", "https://g:1")
    missing = tmp_path / "missing"
    env = {"KUBECONFIG": os.pathsep.join(map(str, [bad_yaml, listy, binary, directory, missing, good]))}
    config = load_kubeconfig(env=env, home=tmp_path)
    assert config.context_names == ["good"]
    assert len(config.warnings) == 5, config.warnings
    w = dict(zip(["yaml", "list", "bin", "dir", "missing"], config.warnings, strict=True))
    assert str(bad_yaml) in w["yaml"] and "not valid YAML: line 3, column 1" in w["yaml"]
    assert str(listy) in w["list"] and "top level is a list" in w["list"]
    assert str(binary) in w["bin"] and "not UTF-8" in w["bin"]
    assert str(directory) in w["dir"] and "is a directory" in w["dir"]
    assert str(missing) in w["missing"] and "does not exist" in w["missing"] and "KUBECONFIG" in w["missing"]
    assert all("Traceback" not in x for x in config.warnings)


def test_unreadable_file_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file the user may not read is reported as 'permission denied' (EACCES is simulated, since
    the tests may run as root)."""
    locked = simple(tmp_path / "locked", "x", "https://x:1")
    good = simple(tmp_path / "good", "good", "https://g:1")
    real_read = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == locked:
            raise PermissionError(13, "Permission denied")
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    config = load_files([locked, good])
    assert config.context_names == ["good"]
    assert config.warnings == [f"cannot read kubeconfig {locked}: permission denied; skipped"]


def test_malformed_entries_are_skipped_with_warnings(tmp_path: Path) -> None:
    """Entries without names, non-mapping entries, a non-list section and a non-string server are
    skipped with a warning each; contexts pointing at missing clusters/users say so in `problem`."""
    path = tmp_path / "kc"
    path.write_text(yaml.safe_dump({
        "clusters": [{"cluster": {"server": "https://x:1"}}, "junk", {"name": "c", "cluster": {"server": "https://c:1"}},
                     {"name": "bad-server", "cluster": {"server": 42}}],
        "users": {"not": "a list"},
        "contexts": [{"name": "ok", "context": {"cluster": "c"}},
                     {"name": "nocluster", "context": {"cluster": "gone", "user": "u"}},
                     {"name": "nouser", "context": {"cluster": "c", "user": "ghost"}},
                     {"name": "weird", "context": ["x"]}],
    }), encoding="utf-8")
    config = load_files([path])
    assert set(config.contexts) == {"ok", "nocluster", "nouser"}
    assert len(config.warnings) == 5, config.warnings
    assert any("clusters[0] has no name" in w for w in config.warnings)
    assert any("'users' is a dict" in w for w in config.warnings)
    assert any("server that is not a string" in w for w in config.warnings)
    assert config.contexts["ok"].problem == ""
    assert config.contexts["nocluster"].problem == "cluster 'gone' is not defined"
    assert config.contexts["nouser"].problem == "user 'ghost' is not defined"
    with pytest.raises(KubeConfigError, match="refers to cluster 'gone'"):
        config.connection_params("nocluster")
    with pytest.raises(KubeConfigError, match="refers to user 'ghost'"):
        config.connection_params("nouser")
    with pytest.raises(KubeConfigError, match="context 'nope' not found"):
        config.connection_params("nope")


def test_empty_file_is_an_empty_config(tmp_path: Path) -> None:
    """An empty kubeconfig (what `touch ~/.kube/config` leaves) loads without warnings."""
    empty = tmp_path / "empty"
    empty.write_text("", encoding="utf-8")
    config = load_files([empty])
    assert config.contexts == {} and config.warnings == [] and config.files == [str(empty)]
    with pytest.raises(KubeConfigError, match="no current-context"):
        config.context()


# ---------------------------------------------------------------------------------- params
def test_connection_params_decode_data_and_resolve_relative_paths(tmp_path: Path) -> None:
    """*-data fields are base64-decoded; relative file references resolve against the directory of
    the file that defined the entry (the cluster's and the user's files differ here)."""
    cluster_dir = tmp_path / "clusters"
    user_dir = tmp_path / "users"
    a = kubeconfig(cluster_dir / "kc", current="ctx",
                   clusters={"c": {"server": "https://c:6443", "certificate-authority": "pki/ca.crt",
                                   "tls-server-name": "api.internal", "proxy-url": "http://proxy:3128"}},
                   contexts={"ctx": {"cluster": "c", "user": "u", "namespace": "team"}})
    b = kubeconfig(user_dir / "kc", users={"u": {
        "client-certificate-data": b64(b"CERT"), "client-key": "keys/u.key", "tokenFile": "../tok",
        "as": "admin", "as-groups": ["ops", "dev"], "username": "bob", "password": "pw"}})
    config = load_files([a, b])
    p = config.connection_params()
    assert p.server == "https://c:6443" and p.namespace == "team"
    assert p.ca_file == str(cluster_dir / "pki" / "ca.crt") and p.ca_data is None
    assert p.client_cert_data == b"CERT" and p.client_key_file == str(user_dir / "keys" / "u.key")
    assert p.token_file == str(tmp_path / "tok")
    assert (p.tls_server_name, p.proxy_url, p.impersonate_user, p.impersonate_groups) == \
        ("api.internal", "http://proxy:3128", "admin", ("ops", "dev"))
    assert "pw" not in repr(p) and "CERT" not in repr(p)


def test_connection_params_bad_base64_names_field_and_file(tmp_path: Path) -> None:
    """Invalid base64 in certificate-authority-data is a clear error, not a traceback."""
    path = kubeconfig(tmp_path / "kc", current="x",
                      clusters={"x": {"server": "https://x:1", "certificate-authority-data": "not base64!!"}},
                      contexts={"x": {"cluster": "x"}})
    with pytest.raises(KubeConfigError, match=r"certificate-authority-data of cluster 'x' in .*kc is not valid base64"):
        load_files([path]).connection_params()


def test_context_flags_exec_insecure_and_provider(tmp_path: Path) -> None:
    """KubeContext carries has_exec_auth, insecure and minikube's provider extension."""
    path = kubeconfig(tmp_path / "kc", clusters={"mk": {
        "server": "https://192.168.49.2:8443", "insecure-skip-tls-verify": True,
        "extensions": [{"name": "cluster_info", "extension": {"provider": "minikube.sigs.k8s.io"}}]}},
        users={"e": {"exec": {"command": "aws", "apiVersion": "client.authentication.k8s.io/v1beta1"}}},
        contexts={"mk": {"cluster": "mk", "user": "e"}})
    ctx = load_files([path]).contexts["mk"]
    assert ctx.insecure and ctx.has_exec_auth and ctx.exec_command == "aws"
    assert ctx.provider == "minikube.sigs.k8s.io"


def test_load_text_and_absolutize(tmp_path: Path) -> None:
    """load_text parses kubeconfig text; absolutize_paths rewrites relative references against a
    base dir (and through a mapper first), leaving absolute ones and PATH commands alone."""
    text = yaml.safe_dump({
        "clusters": [{"name": "c", "cluster": {"server": "https://c:1", "certificate-authority": "ca.crt"}}],
        "users": [{"name": "u", "user": {"client-certificate": "/abs/cert", "client-key": r"C:\k\u.key",
                                         "exec": {"command": "./bin/plugin", "apiVersion": "x"}}},
                  {"name": "v", "user": {"exec": {"command": "aws"}}}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
    })
    assert load_text(text, str(tmp_path / "kc")).context_names == ["ctx"]
    with pytest.raises(KubeConfigError, match="stdin is not valid YAML"):
        load_text("a: [", "stdin")
    data = yaml.safe_load(text)
    fixed = absolutize_paths(data, tmp_path)
    assert fixed["clusters"][0]["cluster"]["certificate-authority"] == str(tmp_path / "ca.crt")
    assert fixed["users"][0]["user"]["client-certificate"] == "/abs/cert"
    assert fixed["users"][0]["user"]["client-key"] == r"C:\k\u.key"
    assert fixed["users"][0]["user"]["exec"]["command"] == str(tmp_path / "bin" / "plugin")
    assert fixed["users"][1]["user"]["exec"]["command"] == "aws"
    assert data["clusters"][0]["cluster"]["certificate-authority"] == "ca.crt"  # input untouched
    mapped = absolutize_paths(data, tmp_path, lambda p: "/mnt/c/k/u.key" if p.startswith("C:") else p)
    assert mapped["users"][0]["user"]["client-key"] == "/mnt/c/k/u.key"


# ----------------------------------------------------------------------------- credentials
def test_resolve_reads_files_and_rereads_token_file(tmp_path: Path) -> None:
    """CA, client cert/key and token files are read; the token file is re-read on each call."""
    (tmp_path / "ca.crt").write_bytes(CA_PEM)
    (tmp_path / "c.crt").write_bytes(b"CERT")
    (tmp_path / "c.key").write_bytes(b"KEY")
    (tmp_path / "token").write_text("first\n", encoding="utf-8")
    path = kubeconfig(tmp_path / "kc", current="x",
                      clusters={"x": {"server": "https://x:1", "certificate-authority": "ca.crt"}},
                      users={"u": {"client-certificate": "c.crt", "client-key": "c.key", "tokenFile": "token"}},
                      contexts={"x": {"cluster": "x", "user": "u"}})
    params = load_files([path]).connection_params()
    creds = resolve_credentials(params)
    assert (creds.ca_data, creds.client_cert_data, creds.client_key_data, creds.token) == \
        (CA_PEM, b"CERT", b"KEY", "first")
    (tmp_path / "token").write_text("second", encoding="utf-8")
    assert resolve_credentials(params).token == "second"
    assert "second" not in repr(resolve_credentials(params))


def test_resolve_errors_are_clear(tmp_path: Path) -> None:
    """A missing token file, a cert without key and unsupported auth providers are KubeConfigErrors
    that say what is wrong."""
    path = kubeconfig(tmp_path / "kc", clusters={"x": {"server": "https://x:1"}}, users={
        "tok": {"tokenFile": "nope"},
        "half": {"client-certificate-data": b64(b"CERT")},
        "gcp": {"auth-provider": {"name": "gcp", "config": {}}},
        "oidc": {"auth-provider": {"name": "oidc", "config": {"id-token": "jwt"}}},
    }, contexts={n: {"cluster": "x", "user": n} for n in ("tok", "half", "gcp", "oidc")})
    config = load_files([path])
    with pytest.raises(KubeConfigError, match=r"token file .*nope of context 'tok' does not exist"):
        resolve_credentials(config.connection_params("tok"))
    with pytest.raises(KubeConfigError, match="has a client certificate but no client key"):
        resolve_credentials(config.connection_params("half"))
    with pytest.raises(KubeConfigError, match="auth-provider 'gcp'.*no longer supported"):
        resolve_credentials(config.connection_params("gcp"))
    assert resolve_credentials(config.connection_params("oidc")).token == "jwt"


PLUGIN = r'''
import json, os, sys
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
with open(os.environ["COUNTER"], "a") as fh:
    fh.write(json.dumps(info) + "\n")
mode = os.environ.get("MODE", "token")
if mode == "fail":
    sys.stderr.write("login required: run az login\n")
    sys.exit(3)
if mode == "garbage":
    print("not json")
    sys.exit(0)
if mode in ("hang", "slow"):
    import time
    time.sleep(30 if mode == "hang" else 0.4)
status = {"token": os.environ.get("TOKEN", "tok")}
if mode == "cert":
    status = {"clientCertificateData": "-----BEGIN CERTIFICATE-----\nC\n", "clientKeyData": "-----BEGIN KEY-----\nK\n"}
if os.environ.get("EXPIRES"):
    status["expirationTimestamp"] = os.environ["EXPIRES"]
print(json.dumps({"apiVersion": info["apiVersion"], "kind": "ExecCredential", "status": status}))
'''


def exec_config(tmp_path: Path, mode: str = "token", *, expires: str = "", provide: bool = False,
                api: str = "client.authentication.k8s.io/v1", extra: dict[str, Any] | None = None) -> Path:
    script = tmp_path / "plugin.py"
    script.write_text(PLUGIN, encoding="utf-8")
    env = [{"name": "COUNTER", "value": str(tmp_path / "calls")}, {"name": "MODE", "value": mode},
           {"name": "TOKEN", "value": f"exec-{mode}"}, {"name": "EXPIRES", "value": expires}]
    return kubeconfig(tmp_path / "kc", current="x", clusters={"x": {
        "server": "https://x:6443", "certificate-authority-data": b64(CA_PEM),
        "extensions": [{"name": "client.authentication.k8s.io/exec", "extension": {"audience": "me"}}]}},
        users={"u": {"exec": {"command": sys.executable, "args": [str(script)], "env": env, "apiVersion": api,
                              "provideClusterInfo": provide, "interactiveMode": "Never",
                              "installHint": "install it with pip", **(extra or {})}}},
        contexts={"x": {"cluster": "x", "user": "u"}})


def calls(tmp_path: Path) -> int:
    counter = tmp_path / "calls"
    return len(counter.read_text().splitlines()) if counter.exists() else 0


def test_exec_plugin_token_cached_until_expiry(tmp_path: Path) -> None:
    """A real plugin subprocess is run with KUBERNETES_EXEC_INFO and its env; the credential is
    cached while valid and the plugin re-run once the (fake) clock passes expirationTimestamp."""
    params = load_files([exec_config(tmp_path, expires="2030-01-01T00:00:00Z", provide=True)]).connection_params()
    now = [1_800_000_000.0]  # 2027
    creds = resolve_credentials(params, clock=lambda: now[0])
    assert creds.token == "exec-token" and creds.from_exec and creds.expires_at is not None
    assert creds.expires_at.year == 2030
    assert resolve_credentials(params, clock=lambda: now[0]).token == "exec-token"
    assert calls(tmp_path) == 1
    info = yaml.safe_load((tmp_path / "calls").read_text().splitlines()[0])
    assert info["kind"] == "ExecCredential" and info["spec"]["interactive"] is False
    assert info["spec"]["cluster"]["server"] == "https://x:6443"
    assert base64.b64decode(info["spec"]["cluster"]["certificate-authority-data"]) == CA_PEM
    assert info["spec"]["cluster"]["config"] == {"audience": "me"}
    now[0] = 1_900_000_000.0  # 2030-03: expired
    resolve_credentials(params, clock=lambda: now[0])
    assert calls(tmp_path) == 2


def test_exec_plugin_without_expiry_runs_once_and_certs(tmp_path: Path) -> None:
    """Without expirationTimestamp the credential is kept; client cert/key data come back as PEM
    bytes; cluster info is only sent with provideClusterInfo."""
    params = load_files([exec_config(tmp_path, "cert", api="client.authentication.k8s.io/v1beta1")]).connection_params()
    first = resolve_credentials(params)
    second = resolve_credentials(params)
    assert first.client_cert_data == b"-----BEGIN CERTIFICATE-----\nC\n" and first.token is None
    assert second.client_key_data == b"-----BEGIN KEY-----\nK\n"
    assert calls(tmp_path) == 1
    info = yaml.safe_load((tmp_path / "calls").read_text().splitlines()[0])
    assert "cluster" not in info["spec"] and info["apiVersion"].endswith("v1beta1")


def test_concurrent_callers_share_one_plugin_run(tmp_path: Path) -> None:
    """Four threads asking at once for the same credential wait for a single plugin run."""
    from concurrent.futures import ThreadPoolExecutor

    params = load_files([exec_config(tmp_path, "slow")]).connection_params()
    with ThreadPoolExecutor(4) as pool:
        tokens = list(pool.map(lambda _i: resolve_credentials(params).token, range(4)))
    assert tokens == ["exec-slow"] * 4
    assert calls(tmp_path) == 1


@pytest.mark.parametrize(("mode", "message"), [
    ("fail", "exited with status 3: login required: run az login"),
    ("garbage", "did not print an ExecCredential JSON object"),
])
def test_exec_plugin_failures_are_readable(tmp_path: Path, mode: str, message: str) -> None:
    """A failing plugin's exit status and stderr, or its non-JSON output, end up in the error."""
    params = load_files([exec_config(tmp_path, mode)]).connection_params()
    with pytest.raises(KubeConfigError, match=message):
        resolve_credentials(params)


def test_exec_plugin_timeout_missing_binary_and_bad_config(tmp_path: Path) -> None:
    """A hanging plugin is killed after the timeout; a missing binary shows the installHint;
    interactiveMode Always and unknown apiVersions are refused before running anything."""
    import time

    params = load_files([exec_config(tmp_path, "hang")]).connection_params()
    started = time.monotonic()
    with pytest.raises(KubeConfigError, match="no answer within 0.5s"):
        resolve_credentials(params, timeout=0.5)
    assert time.monotonic() - started < 5
    missing = load_files([exec_config(tmp_path, extra={"command": str(tmp_path / "no-such-plugin")})])
    with pytest.raises(KubeConfigError, match="executable not found. install it with pip"):
        resolve_credentials(missing.connection_params())
    always = load_files([exec_config(tmp_path, extra={"interactiveMode": "Always"})]).connection_params()
    with pytest.raises(KubeConfigError, match="interactive terminal"):
        resolve_credentials(always)
    with pytest.raises(KubeConfigError, match="v1alpha1' is not supported"):
        load_files([exec_config(tmp_path, api="client.authentication.k8s.io/v1alpha1")]).connection_params()


@pytest.mark.skipif(sys.platform == "win32", reason="runs a script through its shebang")
def test_exec_relative_command_resolves_against_kubeconfig_dir(tmp_path: Path) -> None:
    """An exec command with a path separator is relative to the kubeconfig's directory, not the
    working directory (client-go's rule); the runner gets an argv list, never a shell string."""
    bindir = tmp_path / "conf" / "bin"
    bindir.mkdir(parents=True)
    script = bindir / "plugin"
    script.write_text(f"#!{sys.executable}\n{PLUGIN}", encoding="utf-8")
    script.chmod(0o755)
    path = kubeconfig(tmp_path / "conf" / "kc", current="x", clusters={"x": {"server": "https://x:1"}},
                      users={"u": {"exec": {"command": "./bin/plugin", "apiVersion": "client.authentication.k8s.io/v1",
                                            "env": [{"name": "COUNTER", "value": str(tmp_path / "calls")}]}}},
                      contexts={"x": {"cluster": "x", "user": "u"}})
    seen: list[Any] = []

    def runner(argv: Any, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        seen.append(argv)
        return subprocess.run(argv, **kwargs)

    params = load_files([path]).connection_params()
    assert resolve_credentials(params, runner=runner).token == "tok"
    assert seen == [[str(script)]]


@pytest.mark.skipif(sys.platform == "win32", reason="runs a script through its shebang")
def test_exec_command_is_looked_up_on_the_plugin_path(tmp_path: Path) -> None:
    """A bare command name is found on PATH as the plugin will see it (the config's env may set
    PATH); a name found nowhere is reported with the installHint before anything runs."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "tamer-fake-plugin"
    script.write_text(f"#!{sys.executable}\n{PLUGIN}", encoding="utf-8")
    script.chmod(0o755)

    def config(command: str) -> Path:
        return kubeconfig(tmp_path / "kc", current="x", clusters={"x": {"server": "https://x:1"}},
                          users={"u": {"exec": {"command": command, "apiVersion": "client.authentication.k8s.io/v1",
                                                "installHint": "brew install fake",
                                                "env": [{"name": "COUNTER", "value": str(tmp_path / "calls")},
                                                        {"name": "PATH", "value": f"{bindir}{os.pathsep}/usr/bin"}]}}},
                          contexts={"x": {"cluster": "x", "user": "u"}})

    assert resolve_credentials(load_files([config("tamer-fake-plugin")]).connection_params()).token == "tok"
    with pytest.raises(KubeConfigError, match=r"'tamer-no-such-plugin' .* executable not found on PATH. brew install fake"):
        resolve_credentials(load_files([config("tamer-no-such-plugin")]).connection_params())
