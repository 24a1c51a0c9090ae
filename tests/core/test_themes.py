"""Themes: the bundled YAML files are valid Textual themes; bad user files warn instead of crashing."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.color import Color
from textual.theme import Theme
from textual.widgets import DataTable, Footer

from tamer_tui.core.settings import Settings
from tamer_tui.core.themes import (
    BUNDLED_THEMES,
    DEFAULT_THEME,
    NAMED_COLORS,
    ThemeError,
    bundled_themes_dir,
    find_theme,
    is_color,
    load_theme_file,
    load_themes,
    theme_from_dict,
)

REPO = Path(__file__).resolve().parents[2]


def close(a: str, b: str) -> bool:
    """Same colour up to Textual's HSL round-trip rounding (one step per channel)."""
    ca, cb = Color.parse(a), Color.parse(b)
    return all(abs(x - y) <= 1 for x, y in zip(ca.rgb, cb.rgb, strict=True))


def user_env(tmp_path: Path) -> dict[str, str]:
    return {"TAMER_CONFIG_DIR": str(tmp_path / "cfg")}


def test_bundled_themes_load_in_order(tmp_path: Path) -> None:
    """The three bundled themes load without warnings, default first, from the top-level themes/."""
    warnings: list[str] = []
    themes = load_themes(warnings=warnings, env=user_env(tmp_path))
    assert warnings == []
    assert [t.name for t in themes] == list(BUNDLED_THEMES)
    assert themes[0].name == DEFAULT_THEME == Settings().theme
    assert bundled_themes_dir() in (REPO / "themes", REPO / "tamer_tui" / "themes")
    assert {t.dark for t in themes} == {True, False}


def test_bundled_themes_build_textual_color_systems(tmp_path: Path) -> None:
    """Each bundled theme becomes a textual Theme whose colour system generates all CSS variables."""
    for spec in load_themes(env=user_env(tmp_path)):
        theme = Theme(**spec.to_theme_kwargs())
        variables = theme.to_color_system().generate()
        assert close(variables["primary"], spec.primary)
        assert close(variables["background"], spec.background or "")
        for name, value in spec.variables.items():
            assert variables[name] == value


class ThemedApp(App[None]):
    """A tiny app rendering a table and a footer under a given theme."""

    def compose(self) -> ComposeResult:
        table: DataTable[str] = DataTable()
        table.add_columns("NAME", "STATE")
        table.add_rows([("web", "running"), ("db", "exited")])
        yield table
        yield Footer()


async def test_bundled_themes_apply_in_a_running_app(tmp_path: Path) -> None:
    """Registering and switching to every bundled theme works in a headless Textual app."""
    app = ThemedApp()
    async with app.run_test() as pilot:
        for spec in load_themes(env=user_env(tmp_path)):
            app.register_theme(Theme(**spec.to_theme_kwargs()))
            app.theme = spec.name
            await pilot.pause()
            assert app.current_theme.name == spec.name
            assert close(app.screen.styles.background.hex, spec.background or "")


def test_named_colors_are_textual_colors() -> None:
    """Every colour name we accept is one Textual can parse."""
    for name in NAMED_COLORS:
        Color.parse(name)
    assert is_color("#a1B2c3") and is_color("Teal")
    assert not is_color("#abc") and not is_color("#12345g") and not is_color("notacolor") and not is_color(3)


def test_user_theme_overrides_and_extends(tmp_path: Path) -> None:
    """A user theme with a bundled name replaces it; a new name is appended; extra_dirs come last."""
    user = tmp_path / "cfg" / "themes"
    user.mkdir(parents=True)
    (user / "mine.yaml").write_text("name: tamer-dark\nprimary: '#ff0000'\n", encoding="utf-8")
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "ocean.yml").write_text("name: ocean\nprimary: navy\ndark: true\n", encoding="utf-8")
    themes = load_themes([extra], env=user_env(tmp_path))
    assert [t.name for t in themes] == [*BUNDLED_THEMES, "ocean"]
    dark = find_theme(themes, "tamer-dark")
    assert dark is not None and dark.primary == "#ff0000" and dark.source == str(user / "mine.yaml")
    assert find_theme(themes, "nope") is None


@pytest.mark.parametrize(("text", "fragment"), [
    ("name: x\nprimary: '#12'\n", "primary must be #rrggbb or a colour name, got '#12'"),
    ("name: x\nprimary: red\nbackground: blurple\n", "background must be #rrggbb"),
    ("name: x\n", "primary is required"),
    ("name: Bad Name\nprimary: red\n", "name must be lower-case"),
    ("name: x\nprimary: red\ndark: maybe\n", "dark must be true or false"),
    ("name: x\nprimary: red\ncolour: red\n", "unknown field(s) colour"),
    ("name: x\nprimary: red\nvariables: [1]\n", "variables must be a mapping"),
    ("name: x\nprimary: red\nvariables: {Bad Var: x}\n", "variable name 'Bad Var'"),
    ("name: x\nprimary: red\ntext_alpha: 2\n", "text_alpha must be a number between 0 and 1"),
    ("[unclosed\n", "not valid YAML"),
    ("- a\n", "a theme must be a mapping"),
])
def test_invalid_user_theme_is_skipped_with_warning(tmp_path: Path, text: str, fragment: str) -> None:
    """Each kind of broken theme file produces a warning naming the file; the bundled themes remain."""
    user = tmp_path / "cfg" / "themes"
    user.mkdir(parents=True)
    (user / "broken.yaml").write_text(text, encoding="utf-8")
    warnings: list[str] = []
    themes = load_themes(warnings=warnings, env=user_env(tmp_path))
    assert [t.name for t in themes] == list(BUNDLED_THEMES)
    [warning] = warnings
    assert fragment in warning and "broken.yaml" in warning


def test_load_theme_file_and_dict_errors(tmp_path: Path) -> None:
    """The single-file loader raises ThemeError (never a raw YAML/OS error)."""
    with pytest.raises(ThemeError, match="cannot read"):
        load_theme_file(tmp_path / "missing.yaml")
    spec = theme_from_dict({"name": "ok", "primary": "#000000", "variables": {"footer-key-foreground": "red"}})
    assert spec.to_theme_kwargs() == {"name": "ok", "primary": "#000000", "dark": True, "ansi": False,
                                      "luminosity_spread": 0.15, "text_alpha": 0.95,
                                      "variables": {"footer-key-foreground": "red"}}


def test_bundled_files_are_complete() -> None:
    """The shipped files set every colour field Tamer relies on (no accidental Textual fallbacks)."""
    directory = bundled_themes_dir()
    assert directory is not None
    for name in BUNDLED_THEMES:
        spec = load_theme_file(directory / f"{name}.yaml")
        for field_name in ("primary", "secondary", "accent", "foreground", "background", "surface", "panel",
                           "success", "warning", "error"):
            assert getattr(spec, field_name), (name, field_name)
