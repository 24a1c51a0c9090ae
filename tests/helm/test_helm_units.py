"""Unit tests of the Helm engine without a cluster: release payload decoding (gzip, uncompressed,
Secret and ConfigMap drivers), value coalescing, error mapping, helm's paths, versions, index
parsing, URL resolution, chart archives/directories and repositories.yaml editing."""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tamer_tui.core.errors import (
    BackendError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RuntimeUnavailable,
)
from tamer_tui.core.kube.helm import (
    RELEASE_SECRET_TYPE,
    HelmCLI,
    HelmEngine,
    HelmNotInstalled,
    HelmPaths,
    HelmResult,
    coalesce_values,
    decode_release,
    detail_of,
    encode_release,
    helm_error,
    helm_message,
    release_from_object,
    summary_of,
)
from tamer_tui.core.kube.helm_repo import (
    ChartRepos,
    RepoEntry,
    index_url,
    parse_index,
    read_chart,
    read_chart_archive,
    read_repositories,
    resolve_chart_url,
    semver_key,
    write_repositories,
)
from tamer_tui.core.kube.manager import KubeManager

RELEASE: dict[str, Any] = {
    "name": "web",
    "namespace": "shop",
    "version": 4,
    "info": {"first_deployed": "2025-01-02T03:04:05.123456789Z", "last_deployed": "2025-02-03T04:05:06.5+01:00",
             "deleted": "", "description": "Upgrade complete", "status": "deployed", "notes": "Thanks!"},
    "chart": {"metadata": {"name": "nginx", "version": "15.1.0", "appVersion": "1.25.3", "apiVersion": "v2"},
              "templates": [{"name": "templates/cm.yaml",
                             "data": base64.b64encode(b"kind: ConfigMap\n").decode()}],
              "values": {"replicas": 1, "image": {"repo": "nginx", "tag": "1.25"}, "drop": {"a": 1}},
              "files": [{"name": "README.md", "data": base64.b64encode(b"# nginx\n").decode()}]},
    "config": {"replicas": 3, "drop": None},
    "manifest": "---\n# Source: nginx/templates/cm.yaml\nkind: ConfigMap\n",
    "hooks": [{"name": "web-test", "kind": "Pod", "path": "nginx/templates/tests/t.yaml", "manifest": "kind: Pod\n",
               "events": ["test"], "last_run": {"started_at": "2025-02-03T04:06:00Z",
                                                "completed_at": "2025-02-03T04:06:02Z", "phase": "Succeeded"},
               "weight": 5, "delete_policies": ["before-hook-creation"]}],
}


def secret_of(stored: str, name: str = "web", version: int = 4) -> dict[str, Any]:
    """A release Secret as the API server returns it (data values base64 once more)."""
    return {"metadata": {"name": f"sh.helm.release.v1.{name}.v{version}", "namespace": "shop",
                         "labels": {"owner": "helm", "name": name, "version": str(version), "status": "deployed"}},
            "type": RELEASE_SECRET_TYPE, "data": {"release": base64.b64encode(stored.encode()).decode()}}


def configmap_of(stored: str) -> dict[str, Any]:
    """A release ConfigMap as the API server returns it (string data, no extra base64)."""
    return {"metadata": {"name": "sh.helm.release.v1.web.v4", "namespace": "shop",
                         "labels": {"owner": "helm", "name": "web", "version": "4"}},
            "data": {"release": stored}}


# --------------------------------------------------------------------------- payloads


def test_gzip_payload_is_helms_format() -> None:
    """encode_release writes base64(gzip(JSON)) with gzip magic, and decode_release reads it back."""
    stored = encode_release(RELEASE)
    blob = base64.b64decode(stored)
    assert blob[:3] == b"\x1f\x8b\x08"
    assert json.loads(gzip.decompress(blob)) == RELEASE
    assert decode_release(stored) == RELEASE


def test_uncompressed_payload_is_read() -> None:
    """Releases stored before helm compressed them (base64 of plain JSON) decode too."""
    stored = encode_release(RELEASE, compress=False)
    assert base64.b64decode(stored)[:1] == b"{"
    assert decode_release(stored) == RELEASE


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "plain"])
def test_secret_driver_double_base64(compress: bool) -> None:
    """A Secret's data.release is base64 of helm's base64 string; both levels are undone."""
    obj = secret_of(encode_release(RELEASE, compress=compress))
    assert release_from_object(obj, "secret") == RELEASE
    assert release_from_object(obj) == RELEASE  # the type tells it is a Secret


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "plain"])
def test_configmap_driver_single_base64(compress: bool) -> None:
    """A ConfigMap's data.release is helm's string itself (one base64 level)."""
    obj = configmap_of(encode_release(RELEASE, compress=compress))
    assert release_from_object(obj, "configmap") == RELEASE
    assert release_from_object(obj) == RELEASE  # no kind: the payload shape tells


def test_corrupt_payloads_raise_invalid_input() -> None:
    """Garbage in data.release is an InvalidInput with a message, never a crash."""
    with pytest.raises(InvalidInput, match="no release data"):
        release_from_object({"metadata": {"name": "x"}, "data": {}}, "secret")
    with pytest.raises(InvalidInput, match="not JSON"):
        decode_release(base64.b64encode(b"not json at all").decode())
    with pytest.raises(InvalidInput, match="corrupt gzip"):
        decode_release(base64.b64encode(b"\x1f\x8b\x08garbage").decode())
    with pytest.raises(InvalidInput, match="not a JSON object"):
        decode_release(base64.b64encode(b"[1, 2]").decode())


def test_summary_and_detail() -> None:
    """A decoded release gives the table row (chart, app version, times) and the full detail."""
    rel = summary_of(RELEASE, "secret")
    assert (rel.name, rel.namespace, rel.revision, rel.status) == ("web", "shop", 4, "deployed")
    assert (rel.chart, rel.app_version, rel.description) == ("nginx-15.1.0", "1.25.3", "Upgrade complete")
    assert rel.updated is not None and rel.updated.isoformat() == "2025-02-03T04:05:06.500000+01:00"
    assert rel.first_deployed is not None and rel.first_deployed.microsecond == 123456
    assert rel.storage_name == "sh.helm.release.v1.web.v4"
    detail = detail_of(RELEASE)
    assert detail.config == {"replicas": 3, "drop": None}
    assert detail.computed_values == {"replicas": 3, "image": {"repo": "nginx", "tag": "1.25"}}
    assert detail.notes == "Thanks!" and detail.manifest.startswith("---")
    assert detail.templates == {"templates/cm.yaml": "kind: ConfigMap\n"}
    assert detail.files == {"README.md": "# nginx\n"}
    hook = detail.hooks[0]
    assert (hook.name, hook.events, hook.weight, hook.last_phase) == ("web-test", ("test",), 5, "Succeeded")
    assert hook.delete_policies == ("before-hook-creation",)
    assert "# Source: nginx/templates/tests/t.yaml\nkind: Pod" in detail.hooks_manifest


def test_coalesce_values_like_helm() -> None:
    """User values win, maps merge deeply, a user null deletes the chart key, type clashes keep the
    user's value, and the inputs are not modified."""
    chart = {"a": 1, "m": {"x": 1, "y": {"deep": True}, "gone": 5}, "list": [1, 2], "table": {"k": 1}, "s": "v"}
    user = {"a": 2, "m": {"y": {"more": 1}, "gone": None}, "list": [3], "table": "scalar", "s": {"k": 1},
            "new": None}
    out = coalesce_values(chart, user)
    assert out == {"a": 2, "m": {"x": 1, "y": {"deep": True, "more": 1}}, "list": [3], "table": "scalar",
                   "s": {"k": 1}, "new": None}
    assert chart["m"] == {"x": 1, "y": {"deep": True}, "gone": 5} and user["m"] == {"y": {"more": 1}, "gone": None}
    assert coalesce_values(None, None) == {}


# --------------------------------------------------------------------------- errors and the CLI


def _res(stderr: str, code: int = 1) -> HelmResult:
    return HelmResult(["helm", "x"], code, "", stderr)


@pytest.mark.parametrize(("stderr", "cls"), [
    ("Error: INSTALLATION FAILED: cannot re-use a name that is still in use", Conflict),
    ('Error: UPGRADE FAILED: "web" has no deployed releases', NotFound),
    ("Error: uninstall: Release not loaded: web: release: not found", NotFound),
    ("Error: release has no 9 version", NotFound),
    ("Error: INSTALLATION FAILED: Kubernetes cluster unreachable: Get \"https://x\": dial tcp: connection refused",
     RuntimeUnavailable),
    ('Error: list: failed to list: secrets is forbidden: User "bob" cannot list resource "secrets"', PermissionDenied),
    ("Error: INSTALLATION FAILED: parse error at (demo/templates/x.yaml:3): unexpected EOF", InvalidInput),
    ("Error: unknown flag: --bogus", InvalidInput),
    ('Error: INSTALLATION FAILED: unable to build kubernetes objects from release manifest: resource mapping not '
     'found for name: "x" namespace: "" from "": no matches for kind "Widget"', InvalidInput),
    ("Error: INSTALLATION FAILED: context deadline exceeded", BackendError),
])
def test_helm_errors_map_to_tamer_errors(stderr: str, cls: type[Exception]) -> None:
    """helm's Error: lines map to the matching TamerError class, with helm's message as the text."""
    err = helm_error(_res("WARNING: Kubernetes configuration file is group-readable.\n" + stderr), "act")
    assert isinstance(err, cls)
    assert str(err) == "act: " + stderr.removeprefix("Error: ")
    assert err.result.returncode == 1


def test_helm_message_without_error_prefix() -> None:
    """Without an Error: line the last non-empty line is the message."""
    assert helm_message("one\ntwo\n\n") == "two"
    assert helm_message("") == ""
    assert helm_message("x\nError: first\ncontinued\n") == "first\ncontinued"


async def test_missing_helm_binary_gives_clear_message(tmp_path: Path) -> None:
    """A helm path that does not exist makes actions raise HelmNotInstalled saying how to fix it."""
    cli = HelmCLI(str(tmp_path / "no-helm"), paths=HelmPaths.resolve({"HOME": str(tmp_path)}))
    assert not cli.available
    with pytest.raises(HelmNotInstalled, match="helm not found at .*install helm"):
        await cli.run(["version"])
    km = KubeManager(kubeconfig=str(tmp_path / "none"))
    engine = HelmEngine(km, helm_bin=str(tmp_path / "no-helm"))
    assert not engine.helm_available


async def test_cli_runs_argv_and_maps_failure(tmp_path: Path) -> None:
    """The runner passes argv untouched (no shell), returns output, and maps a failing exit."""
    if sys.platform == "win32":
        pytest.skip("needs a POSIX script as a fake helm")
    fake = tmp_path / "helm"
    fake.write_text("#!/bin/sh\nif [ \"$1\" = fail ]; then echo 'Error: release: not found' >&2; exit 1; fi\n"
                    "printf '%s|' \"$@\"; echo \"$HELM_REPOSITORY_CONFIG\"\n")
    fake.chmod(0o755)
    paths = HelmPaths.resolve({"HELM_CONFIG_HOME": str(tmp_path / "c"), "HOME": str(tmp_path)})
    cli = HelmCLI(str(fake), paths=paths)
    res = await cli.run(["a b", "$(x)", ";"])
    assert res.stdout.strip() == f"a b|$(x)|;|{tmp_path / 'c' / 'repositories.yaml'}"
    with pytest.raises(NotFound, match="release: not found"):
        await cli.run(["fail"])
    slow = tmp_path / "slow-helm"
    slow.write_text("#!/bin/sh\nexec sleep 30\n")
    slow.chmod(0o755)
    with pytest.raises(BackendError, match="no result within"):
        await HelmCLI(str(slow), paths=paths).run(["x"], timeout=0.3)


def test_helm_paths_follow_helm_rules(tmp_path: Path) -> None:
    """HELM_*_HOME beat XDG_*, which beat the OS default; repository file/cache overrides win."""
    home = str(tmp_path)
    p = HelmPaths.resolve({"HOME": home, "HELM_CONFIG_HOME": "/h/c", "XDG_CONFIG_HOME": "/x/c",
                           "XDG_CACHE_HOME": "/x/k"})
    assert p.config_home == Path("/h/c") and p.repository_config == Path("/h/c/repositories.yaml")
    assert p.cache_home == Path("/x/k/helm") and p.repository_cache == Path("/x/k/helm/repository")
    p2 = HelmPaths.resolve({"HOME": home, "HELM_REPOSITORY_CONFIG": "/r.yaml", "HELM_REPOSITORY_CACHE": "/rc"})
    assert p2.repository_config == Path("/r.yaml") and p2.repository_cache == Path("/rc")
    if sys.platform.startswith("linux"):
        assert p2.config_home == tmp_path / ".config" / "helm"
        assert p2.data_home == tmp_path / ".local" / "share" / "helm"
    assert p2.environment()["HELM_REPOSITORY_CONFIG"] == str(Path("/r.yaml"))


# --------------------------------------------------------------------------- repositories


def test_semver_order() -> None:
    """Versions sort like semver: pre-releases before their release, numeric parts numerically."""
    versions = ["1.0.0", "1.0.0-rc.1", "1.0.0-rc.10", "1.0.0-rc.2", "0.9.12", "0.10.0", "v2.0.0", "1.0.0-alpha",
                "junk"]
    ordered = sorted(versions, key=semver_key, reverse=True)
    assert ordered == ["v2.0.0", "1.0.0", "1.0.0-rc.10", "1.0.0-rc.2", "1.0.0-rc.1", "1.0.0-alpha", "0.10.0",
                       "0.9.12", "junk"]


def test_parse_index_sorts_and_skips_bad_entries() -> None:
    """index.yaml entries are parsed (versions newest first); entries without a version are skipped."""
    text = """apiVersion: v1
entries:
  app:
  - {name: app, version: 1.2.0, appVersion: "5", urls: [app-1.2.0.tgz], digest: abc, keywords: [web]}
  - {name: app, version: 1.10.0, urls: [app-1.10.0.tgz]}
  - {name: app, version: 2.0.0-beta.1, urls: [app-2.0.0-beta.1.tgz]}
  - {name: app}
  only-pre:
  - {name: only-pre, version: 0.1.0-alpha}
generated: "2025-01-01T00:00:00Z"
"""
    idx = parse_index(text, "r")
    assert [v.version for v in idx.versions("app")] == ["2.0.0-beta.1", "1.10.0", "1.2.0"]
    assert idx.get("app").version == "1.10.0"
    assert idx.get("app", devel=True).version == "2.0.0-beta.1"
    assert idx.get("app", "v1.2.0").keywords == ("web",)
    with pytest.raises(NotFound, match='version "9.9.9" not found'):
        idx.get("app", "9.9.9")
    with pytest.raises(NotFound, match="no stable version"):
        idx.get("only-pre")
    with pytest.raises(NotFound, match='chart "nope" not found'):
        idx.versions("nope")
    with pytest.raises(InvalidInput, match="no API version"):
        parse_index("entries: {}\n", "r")
    with pytest.raises(InvalidInput, match="not valid YAML"):
        parse_index("apiVersion: [\n", "r")


def test_url_resolution_like_helm() -> None:
    """Index and chart URLs resolve like helm: under the repo path, absolute URLs kept, query kept."""
    assert index_url("https://h/charts") == "https://h/charts/index.yaml"
    assert index_url("https://h/charts/?t=1") == "https://h/charts/index.yaml?t=1"
    assert resolve_chart_url("https://h/charts", "a-1.tgz") == "https://h/charts/a-1.tgz"
    assert resolve_chart_url("https://h/charts/", "sub/a-1.tgz") == "https://h/charts/sub/a-1.tgz"
    assert resolve_chart_url("https://h/charts", "/top/a-1.tgz") == "https://h/top/a-1.tgz"
    assert resolve_chart_url("https://h/charts", "https://cdn/a-1.tgz") == "https://cdn/a-1.tgz"
    assert resolve_chart_url("https://h/charts?sig=x", "a-1.tgz") == "https://h/charts/a-1.tgz?sig=x"


def _tgz(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_read_chart_archive() -> None:
    """A chart .tgz gives metadata, README, values, templates, text files and binary files."""
    blob = _tgz({"app/Chart.yaml": b"apiVersion: v2\nname: app\nversion: 1.0.0\nappVersion: '2'\n",
                 "app/values.yaml": b"replicas: 2\n", "app/Readme.MD": b"# App\n",
                 "app/templates/deploy.yaml": b"kind: Deployment\n", "app/templates/_h.tpl": b"{{/* */}}\n",
                 "app/charts/sub.tgz": b"\x1f\x8b\x08\x00bin\x00ary", "app/charts/dir/Chart.yaml": b"name: dir\n",
                 "app/charts/dir/templates/x.yaml": b"kind: X\n", "../evil": b"x"})
    chart = read_chart_archive(blob, "test")
    assert (chart.name, chart.version, chart.app_version) == ("app", "1.0.0", "2")
    assert chart.readme == "# App\n" and chart.readme_name == "Readme.MD"
    assert chart.values() == {"replicas": 2}
    assert list(chart.templates) == ["templates/_h.tpl", "templates/deploy.yaml"]
    assert chart.binary_files == {"charts/sub.tgz": 11}
    assert chart.subcharts == ["dir", "sub.tgz"]
    with pytest.raises(InvalidInput, match="no Chart.yaml"):
        read_chart_archive(_tgz({"app/values.yaml": b"a: 1\n"}), "bad")
    with pytest.raises(InvalidInput, match="not a chart archive"):
        read_chart_archive(b"plain bytes", "bad")


def test_read_chart_dir_honours_helmignore(tmp_path: Path) -> None:
    """A chart directory is read like an archive, minus .helmignore'd files and .git."""
    root = tmp_path / "c"
    (root / "templates").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref")
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 0.0.1\n")
    (root / "values.yaml").write_text("a: 1\n")
    (root / "templates" / "a.yaml").write_text("kind: A\n")
    (root / "templates" / "a.yaml.bak").write_text("old\n")
    (root / "secret.env").write_text("x\n")
    (root / ".helmignore").write_text("# comment\n*.bak\nsecret.env\n")
    chart = read_chart(root)
    assert set(chart.files) == {"Chart.yaml", "values.yaml", "templates/a.yaml", ".helmignore"}
    assert chart.readme == "" and chart.name == "c"
    with pytest.raises(NotFound):
        read_chart(tmp_path / "missing")


def test_repositories_yaml_round_trip(tmp_path: Path) -> None:
    """repositories.yaml is rewritten atomically (0600), keeping unknown keys and the header."""
    path = tmp_path / "helm" / "repositories.yaml"
    assert read_repositories(path) == []
    path.parent.mkdir()
    path.write_text("apiVersion: ''\ngenerated: '2024-01-01T00:00:00Z'\nrepositories:\n"
                    "- name: a\n  url: https://a\n  username: u\n  futureKey: keep\n  insecure_skip_tls_verify: true\n")
    entries = read_repositories(path)
    assert entries[0].extra == {"futureKey": "keep"} and entries[0].insecure_skip_tls_verify
    entries.append(RepoEntry(name="b", url="http://b"))
    write_repositories(path, entries)
    again = read_repositories(path)
    assert [(e.name, e.url, e.username) for e in again] == [("a", "https://a", "u"), ("b", "http://b", "")]
    assert again[0].extra == {"futureKey": "keep"}
    assert "generated: '2024-01-01T00:00:00Z'" in path.read_text()
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["repositories.yaml"]  # no temp file left behind
    path.write_text("repositories: [\n")
    with pytest.raises(InvalidInput):
        read_repositories(path)


async def test_repo_add_validates_before_network(tmp_path: Path) -> None:
    """Bad names and URLs are refused up front; removing an unknown repo is NotFound (no helm CLI)."""
    repos = ChartRepos(paths=HelmPaths.resolve({"HELM_CONFIG_HOME": str(tmp_path / "c"),
                                                "HELM_CACHE_HOME": str(tmp_path / "k"), "HOME": str(tmp_path)}),
                       use_cli=False)
    with pytest.raises(InvalidInput, match="must not"):
        await repos.add("a/b", "https://x")
    with pytest.raises(InvalidInput, match="protocol"):
        await repos.add("ok", "ftp://x")
    with pytest.raises(NotFound, match="no repo named"):
        await repos.remove("ghost")
    with pytest.raises(NotFound, match="no repo named"):
        await repos.index("ghost")
