"""The chart browser against a real chart repository (made with the real helm, served on 127.0.0.1):
add/remove/update through the helm CLI and without it, search, versions, README/values/templates of
a chart version (downloaded once, digest-checked), local chart directories and packages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tamer_tui.core.errors import Conflict, NotFound, RuntimeUnavailable
from tamer_tui.core.kube.helm import HelmCLI, HelmPaths
from tamer_tui.core.kube.helm_repo import ChartRepos, read_repositories
from tests.helm.conftest import ChartServer, full_env, helm_run
from tests.services import helm_bin

pytestmark = pytest.mark.helm


def _env(tmp_path: Path) -> dict[str, str]:
    """Helm homes private to one test (repository state must not leak between tests)."""
    return {"HELM_CONFIG_HOME": str(tmp_path / "config"), "HELM_CACHE_HOME": str(tmp_path / "cache"),
            "HELM_DATA_HOME": str(tmp_path / "data"),
            "HELM_REPOSITORY_CONFIG": str(tmp_path / "config" / "repositories.yaml"),
            "HELM_REPOSITORY_CACHE": str(tmp_path / "cache" / "repository")}


def _repos(tmp_path: Path, *, cli: bool) -> ChartRepos:
    env = _env(tmp_path)
    return ChartRepos(HelmCLI(helm_bin(), env=env), use_cli=cli)


async def test_add_search_and_read_charts_with_helm(tmp_path: Path, chart_server: ChartServer) -> None:
    """With helm: repo add (helm writes repositories.yaml and the index cache), search by name and
    keyword, versions with and without pre-releases, and README/values/templates of chosen versions."""
    repos = _repos(tmp_path, cli=True)
    msg = await repos.add("local", chart_server.url)
    assert '"local" has been added' in msg
    assert [(e.name, e.url) for e in await repos.repositories()] == [("local", chart_server.url)]
    assert repos.index_path("local").is_file()  # helm cached the index where we read it

    found = await repos.search("demo")
    assert [(c.ref, c.version, c.app_version) for c in found.results] == [("local/demo", "0.2.0", "2.0.0")]
    assert not found.warnings
    devel = await repos.search("demo", devel=True)
    assert [c.version for c in devel.results] == ["0.3.0-rc.1"]
    every = await repos.search("demo", all_versions=True)
    assert [c.version for c in every.results] == ["0.2.0", "0.1.0"]
    by_keyword = await repos.search("DATABASE")
    assert [c.ref for c in by_keyword.results] == ["local/toolbox"]
    by_description = await repos.search("swiss army")
    assert [c.ref for c in by_description.results] == ["local/toolbox"]
    everything = await repos.search("")
    assert [c.ref for c in everything.results] == ["local/demo", "local/toolbox"]
    assert (await repos.search("no-such-chart")).results == []
    versions = await repos.versions("local", "demo")
    assert [v.version for v in versions] == ["0.3.0-rc.1", "0.2.0", "0.1.0"]
    assert all(v.urls == (f"demo-{v.version}.tgz",) and len(v.digest) == 64 for v in versions)

    old = await repos.chart("local", "demo", "0.1.0")
    assert (old.name, old.version, old.app_version) == ("demo", "0.1.0", "1.0.0")
    assert old.readme.startswith("# demo 0.1.0") and old.readme_name == "README.md"
    assert old.values()["message"] == "hello" and "feature" not in old.values()
    assert {"templates/deployment.yaml", "templates/settings.yaml", "templates/tests/test-connection.yaml",
            "templates/NOTES.txt", "templates/_helpers.tpl"} <= set(old.templates)
    assert "{{ .Values.message | quote }}" in old.templates["templates/settings.yaml"]
    latest = await repos.chart("local", "demo")
    assert latest.version == "0.2.0" and latest.values()["feature"] == {"enabled": True}
    pre = await repos.chart("local", "demo", devel=True)
    assert pre.version == "0.3.0-rc.1" and pre.readme.startswith("# demo 0.3.0-rc.1")
    with pytest.raises(NotFound, match='version "7.7.7" not found'):
        await repos.chart("local", "demo", "7.7.7")


async def test_chart_archive_downloaded_once_and_cached(tmp_path: Path, chart_server: ChartServer) -> None:
    """A chart version's .tgz is fetched once (relative URL under the repo path), then read from the
    cache; a corrupted cache file fails the digest check and is fetched again."""
    repos = _repos(tmp_path, cli=True)
    await repos.add("local", chart_server.url)
    before = len(chart_server.requests)
    await repos.chart("local", "toolbox", "1.0.0")
    await repos.chart("local", "toolbox")
    fetched = [p for p in chart_server.requests[before:] if p.endswith(".tgz")]
    assert fetched == ["/charts/toolbox-1.0.0.tgz"]
    cv = (await repos.index("local")).get("toolbox")
    repos.archive_path(cv).write_bytes(b"corrupt")
    chart = await repos.chart("local", "toolbox")
    assert chart.name == "toolbox"
    assert [p for p in chart_server.requests[before:] if p.endswith(".tgz")] == ["/charts/toolbox-1.0.0.tgz"] * 2


async def test_repositories_without_helm_cli(tmp_path: Path, chart_server: ChartServer) -> None:
    """Without helm: add fetches the index and writes repositories.yaml atomically (helm itself then
    sees the repo and installs from its cache), same config again is a no-op, a different URL is a
    Conflict unless forced, update refreshes the cache, remove deletes the entry and cached files."""
    env = _env(tmp_path)
    repos = _repos(tmp_path, cli=False)
    msg = await repos.add("mine", chart_server.url)
    assert '"mine" has been added' in msg
    listed = json.loads(helm_run({**full_env({}), **env}, "repo", "list", "-o", "json").stdout)
    assert listed == [{"name": "mine", "url": chart_server.url}]
    shown = helm_run({**full_env({}), **env}, "show", "chart", "mine/demo", "--version", "0.1.0").stdout
    assert yaml.safe_load(shown)["version"] == "0.1.0"
    assert repos.charts_path("mine").read_text() == "demo\ntoolbox\n"

    assert "already exists with the same configuration" in await repos.add("mine", chart_server.url)
    with pytest.raises(Conflict, match="already exists"):
        await repos.add("mine", chart_server.url + "/")
    await repos.add("mine", chart_server.url + "/", force_update=True)
    assert [e.url for e in read_repositories(Path(env["HELM_REPOSITORY_CONFIG"]))] == [chart_server.url + "/"]

    repos.index_path("mine").unlink()
    before = len(chart_server.requests)
    assert await repos.update() == {"mine": ""}
    assert chart_server.requests[before:] == ["/charts/index.yaml"]
    assert repos.index_path("mine").is_file()
    assert await repos.update(["ghost"]) == {"ghost": "no repo named 'ghost' found"}

    await repos.remove("mine")
    assert await repos.repositories() == []
    assert not repos.index_path("mine").exists() and not repos.charts_path("mine").exists()
    assert json.loads(helm_run({**full_env({}), **env}, "repo", "list", "-o", "json", check=False).stdout
                      or "[]") == []


async def test_remove_and_update_with_helm(tmp_path: Path, chart_server: ChartServer) -> None:
    """With helm: our update refreshes helm's cache, helm repo remove goes through the CLI, and a
    repository that is not there is NotFound with helm's message."""
    repos = _repos(tmp_path, cli=True)
    await repos.add("local", chart_server.url)
    stale = repos.index_path("local")
    stale.write_text("apiVersion: v1\nentries: {}\n")
    assert (await repos.search("demo")).results == []  # reads the (changed) cache file
    assert await repos.update(["local"]) == {"local": ""}
    assert [c.ref for c in (await repos.search("demo")).results] == ["local/demo"]
    assert '"local" has been removed' in await repos.remove("local")
    assert await repos.repositories() == []
    with pytest.raises(NotFound, match="no repositories configured"):
        await repos.remove("local")
    await repos.add("other", chart_server.url)
    with pytest.raises(NotFound, match="no repo named"):
        await repos.remove("local")


async def test_unreachable_and_missing_repositories(tmp_path: Path, chart_server: ChartServer) -> None:
    """A dead port is RuntimeUnavailable, a 404 index is NotFound; search reports broken repos as
    warnings and still lists the good ones."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    repos = _repos(tmp_path, cli=False)
    with pytest.raises(RuntimeUnavailable, match="unreachable"):
        await repos.add("dead", f"http://127.0.0.1:{dead}/charts")
    with pytest.raises(NotFound, match="404"):
        await repos.add("missing", chart_server.url + "/nothing-here")
    await repos.add("good", chart_server.url)
    # A second entry whose index is gone from the server and from the cache.
    from tamer_tui.core.kube.helm_repo import RepoEntry, write_repositories

    entries = [*await repos.repositories(), RepoEntry(name="gone", url=chart_server.url + "/gone")]
    write_repositories(repos.paths.repository_config, entries)
    result = await repos.search("toolbox")
    assert [c.ref for c in result.results] == ["good/toolbox"]
    assert len(result.warnings) == 1 and result.warnings[0].startswith("gone: ")
    assert ": 404 " in (await repos.update())["gone"]


async def test_local_chart_directory_and_package(tmp_path: Path, chart_server: ChartServer) -> None:
    """Local charts (a directory made by helm create and a helm-packaged .tgz) read the same way."""
    repos = ChartRepos(HelmCLI(helm_bin(), paths=HelmPaths.resolve(_env(tmp_path))))
    source = chart_server.source / "0.2.0" / "demo"
    from_dir = await repos.local_chart(source)
    from_pkg = await repos.local_chart(chart_server.root / "charts" / "demo-0.2.0.tgz")
    assert from_dir.version == from_pkg.version == "0.2.0"
    assert from_dir.templates == from_pkg.templates
    assert from_dir.values_yaml == from_pkg.values_yaml
    assert from_dir.readme == from_pkg.readme
    assert ".helmignore" in from_dir.files  # helm packages it too
    assert set(from_dir.files) == set(from_pkg.files)
