"""Colour themes as plain data: YAML files that map 1:1 onto Textual's ``Theme`` fields.

The bundled themes (``tamer-dark``, the default, ``tamer-light`` and ``tamer-high-contrast``) live
in the repository's top-level ``themes/`` directory; an installed wheel ships them as
``tamer_tui/themes/`` (the package-data pattern in pyproject.toml). Users add their own as
``<config dir>/themes/*.yaml``; a user theme with a bundled name replaces the bundled one. A broken
file never crashes the app: it is skipped with a warning naming the file and the field.

Nothing here imports Textual: the UI builds ``textual.theme.Theme(**spec.to_theme_kwargs())``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tamer_tui.core import platform

DEFAULT_THEME = "tamer-dark"
BUNDLED_THEMES = ("tamer-dark", "tamer-light", "tamer-high-contrast")

#: Colour fields of Textual's Theme (``primary`` is required, the others optional).
COLOR_FIELDS = ("primary", "secondary", "accent", "foreground", "background", "surface", "panel",
                "success", "warning", "error", "boost")

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_VARIABLE = re.compile(r"^[a-z][a-z0-9-]*$")

#: CSS named colours (what Textual's ``Color.parse`` accepts by name, besides ``ansi_*``).
_CSS_COLOR_NAMES = """
aliceblue antiquewhite aqua aquamarine azure beige bisque black blanchedalmond blue blueviolet brown
burlywood cadetblue chartreuse chocolate coral cornflowerblue cornsilk crimson cyan darkblue darkcyan
darkgoldenrod darkgray darkgreen darkgrey darkkhaki darkmagenta darkolivegreen darkorange darkorchid
darkred darksalmon darkseagreen darkslateblue darkslategray darkslategrey darkturquoise darkviolet
deeppink deepskyblue dimgray dimgrey dodgerblue firebrick floralwhite forestgreen fuchsia gainsboro
ghostwhite gold goldenrod gray green greenyellow grey honeydew hotpink indianred indigo ivory khaki
lavender lavenderblush lawngreen lemonchiffon lightblue lightcoral lightcyan lightgoldenrodyellow
lightgray lightgreen lightgrey lightpink lightsalmon lightseagreen lightskyblue lightslategray
lightslategrey lightsteelblue lightyellow lime limegreen linen magenta maroon mediumaquamarine
mediumblue mediumorchid mediumpurple mediumseagreen mediumslateblue mediumspringgreen mediumturquoise
mediumvioletred midnightblue mintcream mistyrose moccasin navajowhite navy oldlace olive olivedrab
orange orangered orchid palegoldenrod palegreen paleturquoise palevioletred papayawhip peachpuff peru
pink plum powderblue purple rebeccapurple red rosybrown royalblue saddlebrown salmon sandybrown
seagreen seashell sienna silver skyblue slateblue slategray slategrey snow springgreen steelblue tan
teal thistle tomato turquoise violet wheat white whitesmoke yellow yellowgreen
"""
NAMED_COLORS = frozenset(_CSS_COLOR_NAMES.split())


class ThemeError(ValueError):
    """A theme file is invalid; the message names the file and the field."""


@dataclass(frozen=True)
class ThemeSpec:
    """One theme, field for field what ``textual.theme.Theme`` takes, plus where it came from."""

    name: str
    primary: str
    secondary: str | None = None
    accent: str | None = None
    foreground: str | None = None
    background: str | None = None
    surface: str | None = None
    panel: str | None = None
    success: str | None = None
    warning: str | None = None
    error: str | None = None
    boost: str | None = None
    dark: bool = True
    luminosity_spread: float = 0.15
    text_alpha: float = 0.95
    ansi: bool = False
    variables: dict[str, str] = field(default_factory=dict)
    source: str = ""

    def to_theme_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``textual.theme.Theme``."""
        kwargs: dict[str, Any] = {"name": self.name, "primary": self.primary}
        for name in COLOR_FIELDS[1:]:
            value = getattr(self, name)
            if value is not None:
                kwargs[name] = value
        kwargs.update(dark=self.dark, ansi=self.ansi, luminosity_spread=self.luminosity_spread,
                      text_alpha=self.text_alpha, variables=dict(self.variables))
        return kwargs


def is_color(value: object) -> bool:
    """``#rrggbb`` or a CSS colour name."""
    return isinstance(value, str) and (bool(_HEX.match(value)) or value.lower() in NAMED_COLORS)


def theme_from_dict(data: Any, source: str = "<theme>") -> ThemeSpec:
    """Validate plain data (a parsed YAML document) and build a :class:`ThemeSpec`."""
    if not isinstance(data, Mapping):
        raise ThemeError(f"{source}: a theme must be a mapping of fields, got {type(data).__name__}")
    known = {"name", *COLOR_FIELDS, "dark", "ansi", "luminosity_spread", "text_alpha", "variables"}
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise ThemeError(f"{source}: unknown field(s) {', '.join(unknown)}")
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ThemeError(f"{source}: name must be lower-case letters, digits, '-' or '_', got {name!r}")
    if "primary" not in data:
        raise ThemeError(f"{source}: primary is required")
    colors: dict[str, str] = {}
    for fname in COLOR_FIELDS:
        if fname in data and data[fname] is not None:
            value = data[fname]
            if not is_color(value):
                raise ThemeError(f"{source}: {fname} must be #rrggbb or a colour name, got {value!r}")
            colors[fname] = value
    flags: dict[str, bool] = {}
    for fname, default_flag in (("dark", True), ("ansi", False)):
        flag = data.get(fname, default_flag)
        if not isinstance(flag, bool):
            raise ThemeError(f"{source}: {fname} must be true or false, got {flag!r}")
        flags[fname] = flag
    numbers: dict[str, float] = {}
    for fname, default in (("luminosity_spread", 0.15), ("text_alpha", 0.95)):
        value = data.get(fname, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ThemeError(f"{source}: {fname} must be a number between 0 and 1, got {value!r}")
        numbers[fname] = float(value)
    raw_vars = data.get("variables") or {}
    if not isinstance(raw_vars, Mapping):
        raise ThemeError(f"{source}: variables must be a mapping, got {type(raw_vars).__name__}")
    variables: dict[str, str] = {}
    for key, value in raw_vars.items():
        if not isinstance(key, str) or not _VARIABLE.match(key):
            raise ThemeError(f"{source}: variable name {key!r} must look like 'block-cursor-background'")
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ThemeError(f"{source}: variables.{key} must be a string, got {value!r}")
        variables[key] = str(value)
    fields: dict[str, Any] = {**colors, **flags, **numbers}
    return ThemeSpec(name=name, variables=variables, source=source, **fields)


def load_theme_file(path: Path) -> ThemeSpec:
    """Read and validate one theme file; raises :class:`ThemeError` with a readable message."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ThemeError(f"{path}: cannot read: {err}") from err
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ThemeError(f"{path}: not valid YAML: {str(err).splitlines()[0]}") from err
    return theme_from_dict(data, str(path))


def bundled_themes_dir() -> Path | None:
    """The directory holding the bundled themes: in the package (wheel) or the source checkout."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "themes", package.parent / "themes"):
        if (candidate / f"{DEFAULT_THEME}.yaml").is_file():
            return candidate
    return None


def load_themes(extra_dirs: Iterable[Path] = (), warnings: list[str] | None = None,
                include_user: bool = True, env: Mapping[str, str] | None = None) -> list[ThemeSpec]:
    """Bundled themes, then the user's ``<config dir>/themes``, then ``extra_dirs``.

    A later theme with the same name replaces an earlier one (so users can restyle ``tamer-dark``).
    Invalid files are skipped and described in ``warnings`` (when a list is given). The result keeps
    first-seen order: bundled themes first, in :data:`BUNDLED_THEMES` order.
    """
    notes = warnings if warnings is not None else []
    dirs: list[Path] = []
    bundled = bundled_themes_dir()
    if bundled is None:
        notes.append("the bundled themes directory was not found; only user themes are available")
    else:
        dirs.append(bundled)
    if include_user:
        dirs.append(platform.user_themes_dir(env))
    dirs.extend(Path(d) for d in extra_dirs)
    themes: dict[str, ThemeSpec] = {}
    for directory in dirs:
        if not directory.is_dir():
            continue
        files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")],
                       key=lambda p: (p.stem not in BUNDLED_THEMES, BUNDLED_THEMES.index(p.stem)
                                      if p.stem in BUNDLED_THEMES else 0, p.name))
        for path in files:
            try:
                spec = load_theme_file(path)
            except ThemeError as err:
                notes.append(f"theme skipped: {err}")
                continue
            themes[spec.name] = spec
    return list(themes.values())


def find_theme(themes: Iterable[ThemeSpec], name: str) -> ThemeSpec | None:
    """The theme called ``name``, or None."""
    return next((t for t in themes if t.name == name), None)
