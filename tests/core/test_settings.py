"""Settings: defaults, strict validation, recovery from bad files, atomic saves, config-dir override."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from tamer_tui.core import settings as settings_mod
from tamer_tui.core.settings import (
    DockerSettings,
    KubeSettings,
    LogSettings,
    PodmanSettings,
    RuntimeSettings,
    Settings,
    default_settings_path,
    load_settings,
    save_settings,
    settings_from_dict,
    validate_settings,
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".bak-*"))


def test_missing_file_gives_defaults_and_writes_nothing(tmp_path: Path) -> None:
    """No settings file: the defaults are used, no warning, and nothing is created on disk."""
    target = tmp_path / "cfg" / "settings.yaml"
    result = load_settings(target)
    assert result.settings == Settings()
    assert result.warnings == []
    assert result.path == target
    assert not target.exists()


def test_defaults_have_the_documented_values() -> None:
    """The defaults the brief specifies: theme, mouse, logs, shell, runtimes enabled, no overrides."""
    s = Settings()
    assert s.theme == "tamer-dark" and s.mouse is True and s.readonly is False
    assert s.refresh_fallback_s > 0
    assert (s.logs.tail, s.logs.buffer_lines, s.logs.wrap, s.logs.timestamps) == (1000, 200_000, False, False)
    assert s.keys == {} and s.shell == ["bash", "sh"]
    assert s.runtimes.docker.enabled and s.runtimes.docker.host == ""
    assert s.runtimes.podman.enabled and s.runtimes.podman.url == ""
    assert s.kube.kubeconfig == [] and s.kube.favorite_namespaces == {}
    assert validate_settings(s) == []


def test_full_file_is_loaded_with_every_field(tmp_path: Path) -> None:
    """Every field in a valid file reaches the typed object (nested sections included)."""
    target = write(tmp_path / "settings.yaml", """
theme: tamer-light
mouse: false
readonly: true
refresh_fallback_s: 5
logs: {tail: 50, buffer_lines: 2000, wrap: true, timestamps: true}
keys: {containers.stop: "s", app.command: ":"}
runtimes:
  docker: {enabled: false, host: "tcp://127.0.0.1:2375"}
  podman: {enabled: true, url: "unix:///run/user/1000/podman/podman.sock"}
kube:
  kubeconfig: [/tmp/a.yaml, /tmp/b.yaml]
  favorite_namespaces: {kind-dev: [default, kube-system]}
shell: [zsh, sh]
""")
    result = load_settings(target)
    assert result.warnings == []
    s = result.settings
    assert s.theme == "tamer-light" and s.mouse is False and s.readonly is True
    assert s.refresh_fallback_s == 5.0 and isinstance(s.refresh_fallback_s, float)
    assert s.logs == LogSettings(tail=50, buffer_lines=2000, wrap=True, timestamps=True)
    assert s.keys == {"containers.stop": "s", "app.command": ":"}
    assert s.runtimes.docker == DockerSettings(enabled=False, host="tcp://127.0.0.1:2375")
    assert s.runtimes.podman.url == "unix:///run/user/1000/podman/podman.sock"
    assert s.kube.kubeconfig == ["/tmp/a.yaml", "/tmp/b.yaml"]
    assert s.kube.favorite_namespaces == {"kind-dev": ["default", "kube-system"]}
    assert s.shell == ["zsh", "sh"]


def test_invalid_value_message_backup_and_defaults(tmp_path: Path) -> None:
    """An invalid value gives the exact message, a timestamped backup, and defaults written back."""
    original = "theme: tamer-light\nlogs:\n  tail: abc\n"
    target = write(tmp_path / "settings.yaml", original)
    result = load_settings(target)
    assert "settings.yaml: logs.tail must be an integer >= 0, got 'abc'" in result.warnings
    assert result.settings == Settings()  # the whole file is replaced by the defaults
    [backup] = backups(target)
    assert result.backup == backup
    assert backup.read_text(encoding="utf-8") == original
    assert any(backup.name in w for w in result.warnings)
    assert yaml.safe_load(target.read_text(encoding="utf-8")) == settings_mod.settings_to_dict(Settings())
    # the rewritten file now loads cleanly
    again = load_settings(target)
    assert again.warnings == [] and again.backup is None


def test_corrupt_yaml_is_backed_up_with_line_number(tmp_path: Path) -> None:
    """Broken YAML never raises: the warning names the line, the file is kept as a backup."""
    original = "theme: tamer-dark\nlogs: [unclosed\n  tail: 3\n"
    target = write(tmp_path / "settings.yaml", original)
    result = load_settings(target)
    assert result.settings == Settings()
    assert any("not valid YAML at line" in w for w in result.warnings), result.warnings
    assert [b.read_text(encoding="utf-8") for b in backups(target)] == [original]


def test_two_recoveries_in_one_second_keep_both_backups(tmp_path: Path) -> None:
    """Backup names never collide: a second bad file within the same second gets its own backup."""
    target = tmp_path / "settings.yaml"
    write(target, "mouse: 3\n")
    load_settings(target)
    write(target, "mouse: 4\n")
    load_settings(target)
    contents = sorted(b.read_text(encoding="utf-8") for b in backups(target))
    assert contents == ["mouse: 3\n", "mouse: 4\n"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "settings.yaml: the top level must be a mapping of keys to values, got ['a', 'b']"),
        ("mouse: 'yes'\n", "settings.yaml: mouse must be true or false, got 'yes'"),
        ("logs: {tail: true}\n", "settings.yaml: logs.tail must be an integer >= 0, got True"),
        ("logs: {tail: -1}\n", "settings.yaml: logs.tail must be an integer >= 0, got -1"),
        ("refresh_fallback_s: 0\n", "settings.yaml: refresh_fallback_s must be a number between 0.1 and 3600.0, got 0"),
        ("theme: ''\n", "settings.yaml: theme must be a non-empty string, got ''"),
        ("shell: []\n", "settings.yaml: shell must be a non-empty list, got []"),
        ("shell: bash\n", "settings.yaml: shell must be a list, got 'bash'"),
        ("keys: {app.quit: 5}\n", "settings.yaml: keys.app.quit must be a string, got 5"),
        ("kube: {kubeconfig: [1]}\n", "settings.yaml: kube.kubeconfig[0] must be a string, got 1"),
        ("runtimes: {docker: {host: /var/run/docker.sock}}\n",
         "settings.yaml: runtimes.docker.host must be empty (auto-detect) or a URL starting with unix://, "
         "tcp://, ssh://, npipe://, http://, https://, got '/var/run/docker.sock'"),
        ("logs: 3\n", "settings.yaml: logs must be a mapping of keys to values, got 3"),
    ],
)
def test_each_invalid_value_has_a_clear_message(tmp_path: Path, text: str, message: str) -> None:
    """Every kind of invalid value is rejected with a message naming the dotted key and the value."""
    result = load_settings(write(tmp_path / "settings.yaml", text))
    assert message in result.warnings, result.warnings
    assert result.settings == Settings()


def test_unknown_keys_warn_but_keep_the_rest(tmp_path: Path) -> None:
    """Unknown keys are warnings only: known values in the same file are still used, no backup."""
    target = write(tmp_path / "settings.yaml", "theme: tamer-light\ncolour: red\nlogs: {tail: 7, speed: 3}\n")
    result = load_settings(target)
    assert result.settings.theme == "tamer-light" and result.settings.logs.tail == 7
    assert "settings.yaml: unknown key colour ignored" in result.warnings
    assert "settings.yaml: unknown key logs.speed ignored" in result.warnings
    assert backups(target) == [] and result.backup is None


def test_secret_like_keys_point_to_the_keyring(tmp_path: Path) -> None:
    """A password-like key is not stored and the warning says secrets belong in the keyring."""
    target = write(tmp_path / "settings.yaml", "runtimes: {docker: {password: hunter2}}\n")
    result = load_settings(target)
    [warning] = result.warnings
    assert "runtimes.docker.password looks like a credential" in warning and "keyring" in warning
    assert "hunter2" not in repr(result.settings)


def test_empty_file_means_defaults(tmp_path: Path) -> None:
    """An empty (or comment-only) file is the defaults, not an error."""
    target = write(tmp_path / "settings.yaml", "# nothing here\n")
    result = load_settings(target)
    assert result.settings == Settings() and result.warnings == [] and backups(target) == []


def test_unreadable_file_never_raises_and_is_left_alone(tmp_path: Path) -> None:
    """A path that cannot be read (here: a directory) gives defaults and a warning, and is untouched."""
    target = tmp_path / "settings.yaml"
    target.mkdir()
    result = load_settings(target)
    assert result.settings == Settings()
    assert any("cannot read" in w for w in result.warnings)
    assert any("left as it is" in w for w in result.warnings)
    assert target.is_dir()


def test_binary_garbage_is_recovered(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are treated like a corrupt file: backed up, defaults written."""
    target = tmp_path / "settings.yaml"
    target.write_bytes(b"\xff\xfe\x00garbage")
    result = load_settings(target)
    assert result.settings == Settings()
    assert [b.read_bytes() for b in backups(target)] == [b"\xff\xfe\x00garbage"]
    assert load_settings(target).warnings == []


def test_save_then_load_round_trips(tmp_path: Path) -> None:
    """What save_settings writes, load_settings reads back identically (and creates the directory)."""
    s = Settings(theme="tamer-high-contrast", readonly=True, keys={"containers.stop": "s"},
                 logs=LogSettings(tail=10), shell=["fish"],
                 runtimes=RuntimeSettings(DockerSettings(True, "ssh://me@127.0.0.1"), PodmanSettings(False, "")),
                 kube=KubeSettings(["~/k.yaml"], {"ctx": ["a"]}))
    target = tmp_path / "new" / "dir" / "settings.yaml"
    save_settings(s, target)
    assert load_settings(target).settings == s


def test_save_is_atomic_when_replace_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the final rename fails, the old file is intact and no temp file is left behind."""
    target = write(tmp_path / "settings.yaml", "theme: tamer-light\n")

    def boom(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(settings_mod.os, "replace", boom)
    with pytest.raises(OSError):
        save_settings(Settings(theme="tamer-dark"), target)
    assert target.read_text(encoding="utf-8") == "theme: tamer-light\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.yaml"]


def test_save_uses_a_temp_file_in_the_same_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The temp file lives next to the target, so os.replace is an atomic same-filesystem rename."""
    seen: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        seen.append((src, str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(settings_mod.os, "replace", spy)
    target = tmp_path / "settings.yaml"
    save_settings(Settings(), target)
    [(src, dst)] = seen
    assert Path(src).parent == tmp_path and dst == str(target)


def test_config_dir_env_override(tmp_path: Path) -> None:
    """TAMER_CONFIG_DIR moves the settings file; load_settings honours the env it is given."""
    env = {"TAMER_CONFIG_DIR": str(tmp_path / "conf")}
    assert default_settings_path(env) == tmp_path / "conf" / "settings.yaml"
    write(tmp_path / "conf" / "settings.yaml", "mouse: false\n")
    result = load_settings(env=env)
    assert result.path == tmp_path / "conf" / "settings.yaml" and result.settings.mouse is False


def test_settings_from_dict_keeps_valid_values_and_lists_errors() -> None:
    """The parser reports every error at once and falls back per field."""
    s, errors, warnings = settings_from_dict({"mouse": 1, "theme": "x", "logs": {"tail": "a", "wrap": True}})
    assert s.theme == "x" and s.logs.wrap is True and s.mouse is True and s.logs.tail == 1000
    assert len(errors) == 2 and warnings == []


tails = st.integers(min_value=0, max_value=10**9)
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_.", min_size=1, max_size=12)


@hyp_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tail=tails, wrap=st.booleans(), theme=words, keys=st.dictionaries(words, words, max_size=4),
       shell=st.lists(words, min_size=1, max_size=3), refresh=st.floats(min_value=0.1, max_value=3600),
       favorites=st.dictionaries(words, st.lists(words, max_size=3), max_size=3))
def test_round_trip_property(tmp_path: Path, tail: int, wrap: bool, theme: str, keys: dict[str, str],
                             shell: list[str], refresh: float, favorites: dict[str, list[str]]) -> None:
    """For any valid settings, save then load returns equal settings with no warnings."""
    s = Settings(theme=theme, keys=keys, shell=shell, refresh_fallback_s=refresh,
                 logs=LogSettings(tail=tail, wrap=wrap), kube=KubeSettings([], favorites))
    target = tmp_path / "prop" / "settings.yaml"
    save_settings(s, target)
    result = load_settings(target)
    assert result.warnings == []
    assert result.settings == s
