"""Register theme specs (plain data from ``tamer_tui.core.themes``) as Textual themes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from textual.app import App
from textual.theme import Theme

_FIELDS = ("primary", "secondary", "warning", "error", "success", "accent", "foreground", "background",
           "surface", "panel", "boost", "dark", "luminosity_spread", "text_alpha", "variables")


def _as_dict(spec: Any) -> dict[str, Any]:
    if isinstance(spec, dict):
        return dict(spec)
    if is_dataclass(spec) and not isinstance(spec, type):
        return asdict(spec)
    return {k: getattr(spec, k) for k in ("name", *_FIELDS) if hasattr(spec, k)}


def to_theme(spec: Any) -> Theme:
    if hasattr(spec, "to_theme_kwargs"):
        return Theme(**spec.to_theme_kwargs())
    data = _as_dict(spec)
    kwargs = {k: v for k, v in data.items() if k in _FIELDS and v is not None}
    return Theme(name=str(data["name"]), **kwargs)


def register_themes(app: App[Any], specs: Iterable[Any], extra_dirs: Iterable[Path] = ()) -> list[str]:
    """Register every spec; returns warnings for the ones Textual refuses."""
    warnings: list[str] = []
    for spec in specs:
        try:
            app.register_theme(to_theme(spec))
        except Exception as exc:  # noqa: BLE001 - a bad user theme must not stop the app
            warnings.append(f"theme {_as_dict(spec).get('name', '?')!r} skipped: {exc}")
    return warnings
