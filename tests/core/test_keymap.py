"""Key map: defaults are valid and conflict-free, overrides are validated, docs stay in sync,
and the resolved key strings really fire Textual bindings."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.keys import _character_to_key
from textual.widgets import Static

from tamer_tui.core.keymap import (
    DEFAULT_BINDINGS,
    DEFAULTS,
    RESERVED_KEYS,
    SCOPE_PARENTS,
    Keymap,
    active_scopes,
    display_key,
    parse_key,
    parse_keys,
    render_keys_markdown,
)
from tamer_tui.core.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "keys.md"


def test_defaults_parse_and_avoid_reserved_keys() -> None:
    """Every default key is a valid key name and none is reserved by Textual or the terminal."""
    for d in DEFAULT_BINDINGS:
        for key in parse_keys(d.key):
            assert key not in RESERVED_KEYS, d
        assert d.scope in SCOPE_PARENTS, d
    assert len(DEFAULTS) == len(DEFAULT_BINDINGS)  # action ids are unique


def test_defaults_have_no_conflicts_in_any_active_chain() -> None:
    """No key means two things in any set of scopes that are active together."""
    km = Keymap()
    assert km.warnings == []
    for scope in SCOPE_PARENTS:
        owners: dict[str, str] = {}
        for active in active_scopes(scope):
            for b in km.bindings(active):
                for key in b.key.split(","):
                    assert key not in owners, f"{key} bound to {owners.get(key)} and {b.action} in {scope}"
                    owners[key] = b.action


def test_k9s_style_defaults() -> None:
    """The k9s-compatible keys the docs promise."""
    km = Keymap()
    expected = {"app.command": "colon", "app.filter": "slash", "app.help": "question_mark",
                "app.back": "escape", "containers.describe": "d", "containers.yaml": "y",
                "containers.delete": "ctrl+d", "containers.kill": "ctrl+k", "table.sort_name": "N",
                "table.sort_age": "A", "table.top": "g", "table.bottom": "G"}
    assert {a: km.resolve(a) for a in expected} == expected


@pytest.mark.parametrize(("raw", "canonical"), [
    (":", "colon"), ("/", "slash"), ("?", "question_mark"), ("N", "N"), ("shift+n", "N"),
    ("Ctrl+D", "ctrl+d"), ("F5", "f5"), ("shift+ctrl+x", "ctrl+shift+x"), ("+", "plus"),
    ("ctrl++", "ctrl+plus"), (" ", "space"), ("space", "space"), ("colon", "colon"), ("alt+x", "alt+x"),
    ("ctrl+shift+left", "ctrl+shift+left"), ("PageDown", "pagedown"), ("[", "left_square_bracket"),
])
def test_parse_key_canonical_names(raw: str, canonical: str) -> None:
    """Key names are normalised to the names Textual uses for key events."""
    assert parse_key(raw) == canonical


@pytest.mark.parametrize("bad", ["", "ctrl+", "hyperx+a", "foo", "ctrl+foo", "\x01", "ctrl+\x01"])
def test_parse_key_rejects_invalid(bad: str) -> None:
    """Empty, unknown modifiers, unknown names and control characters are rejected."""
    with pytest.raises(ValueError):
        parse_key(bad)


def test_character_names_match_textual() -> None:
    """For every ASCII punctuation character our name equals Textual's own key name."""
    for char in string.punctuation + string.ascii_letters + string.digits:
        assert parse_key(char) == _character_to_key(char), char
        assert display_key(parse_key(char)) == char


def test_overrides_apply_and_swaps_work() -> None:
    """User overrides replace defaults; swapping two keys in one scope is not a conflict."""
    km = Keymap({"containers.stop": "b", "containers.start": "x", "app.command": ";"})
    assert km.warnings == []
    assert km.resolve("containers.stop") == "b" and km.resolve("containers.start") == "x"
    assert km.resolve("app.command") == "semicolon" and km.display("app.command") == ";"
    assert km.is_overridden("containers.stop") and not km.is_overridden("containers.restart")
    assert km.action_for("containers", "b") == "containers.stop"


def test_conflicting_override_keeps_default_with_warning() -> None:
    """An override that collides with another binding in its active chain is refused."""
    km = Keymap({"containers.kill": "j"})  # j is table.cursor_down, active with containers
    assert km.resolve("containers.kill") == "ctrl+k"
    [warning] = km.warnings
    assert "keys.containers.kill" in warning and "table.cursor_down" in warning and "'ctrl+k'" in warning


def test_two_overrides_on_one_key_are_both_refused() -> None:
    """Two overrides claiming the same key in one chain: both fall back to their defaults."""
    km = Keymap({"containers.stop": "z", "containers.start": "z"})
    assert km.resolve("containers.stop") == "x" and km.resolve("containers.start") == "u"
    assert len(km.warnings) == 2


def test_same_key_in_unrelated_scopes_is_fine() -> None:
    """A key may be reused by scopes that are never active together (detail views vs containers)."""
    km = Keymap({"detail.wrap": "u"})  # containers.start is 'u', but detail views do not include containers
    assert km.warnings == [] and km.resolve("detail.wrap") == "u"


def test_override_shadowing_an_app_key_is_refused() -> None:
    """A scope key may not shadow a global (app) key."""
    km = Keymap({"images.pull": "slash"})
    assert km.resolve("images.pull") == "p" and "app.filter" in km.warnings[0]


@pytest.mark.parametrize(("overrides", "fragment"), [
    ({"nope.action": "a"}, "unknown action"),
    ({"app.help": "ctrl+c"}, "reserved"),
    ({"app.help": "tab"}, "reserved"),
    ({"app.help": "banana"}, "unknown key name 'banana'"),
    ({"app.help": ""}, "empty key name"),
])
def test_invalid_overrides_warn_and_keep_default(overrides: dict[str, str], fragment: str) -> None:
    """Unknown actions, reserved keys and bad key names produce one warning and change nothing."""
    km = Keymap(overrides)
    assert km.resolve("app.help") == "question_mark"
    [warning] = km.warnings
    assert fragment in warning and warning.startswith("settings.yaml: keys.")


def test_multiple_keys_and_from_settings() -> None:
    """Comma-separated keys are supported; Keymap.from_settings reads Settings.keys."""
    settings = Settings(keys={"table.cursor_down": "j,down"})
    km = Keymap.from_settings(settings)
    assert km.resolve("table.cursor_down") == "j,down"
    assert km.action_for("containers", "down") == "table.cursor_down"
    assert km.textual_keymap()["table.cursor_down"] == "j,down"


def test_unknown_action_resolve_raises() -> None:
    """Resolving an unknown action id is a programming error (KeyError)."""
    with pytest.raises(KeyError):
        Keymap().resolve("containers.fly")
    with pytest.raises(KeyError):
        Keymap().bindings("nowhere")


def test_docs_keys_md_is_in_sync() -> None:
    """docs/keys.md contains exactly the generated default table."""
    text = DOCS.read_text(encoding="utf-8")
    begin = "<!-- generated from tamer_tui/core/keymap.py: BEGIN -->\n"
    end = "<!-- generated from tamer_tui/core/keymap.py: END -->"
    assert begin in text and end in text
    generated = text.split(begin, 1)[1].split(end, 1)[0]
    assert generated == render_keys_markdown(), "regenerate docs/keys.md from render_keys_markdown()"


class KeysApp(App[None]):
    """A minimal app whose bindings come from the key map, recording the actions fired."""

    def __init__(self, keymap: Keymap) -> None:
        super().__init__()
        self.fired: list[str] = []
        self._keymap_under_test = keymap

    def compose(self) -> ComposeResult:
        yield Static("keys")

    def on_mount(self) -> None:
        for scope in ("app", "table", "containers"):
            for b in self._keymap_under_test.bindings(scope):
                if b.action == "app.quit":
                    continue
                self.bind(b.key, f"record('{b.action}')", description=b.description)

    def action_record(self, action: str) -> None:
        self.fired.append(action)


async def test_resolved_keys_fire_textual_bindings() -> None:
    """Pressing the resolved keys in a real (headless) Textual app triggers the mapped actions."""
    km = Keymap({"containers.stop": "z"})
    app = KeysApp(km)
    async with app.run_test() as pilot:
        for key in ("colon", "slash", "question_mark", "ctrl+d", "G", "z", "T", "ctrl+k", "N"):
            await pilot.press(key)
        await pilot.pause()
    assert app.fired == ["app.command", "app.filter", "app.help", "containers.delete", "table.bottom",
                         "containers.stop", "containers.top", "containers.kill", "table.sort_name"]
