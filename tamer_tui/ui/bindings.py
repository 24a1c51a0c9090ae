"""Bindings built from the key map (``tamer_tui.core.keymap``), so ids and default keys live in one place.

User overrides from settings are applied app-wide with ``App.set_keymap`` by binding id.
"""

from __future__ import annotations

from textual.binding import Binding

from tamer_tui.core.keymap import Keymap

_DEFAULTS = Keymap()


def kb(action_id: str, action: str, label: str, *, show: bool = True, priority: bool = False) -> Binding:
    """A Binding whose key is the default for ``action_id`` (e.g. ``containers.stop`` -> ``x``)."""
    return Binding(_DEFAULTS.resolve(action_id), action, label, show=show, priority=priority, id=action_id)
