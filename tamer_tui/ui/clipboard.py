"""Copy text: pyperclip when the system has a clipboard, else OSC 52 through the terminal (SSH, tmux)."""

from __future__ import annotations

from typing import Any


def copy_text(app: Any, text: str) -> str:
    """Copy ``text``; returns how ("clipboard" or "OSC 52")."""
    try:
        import pyperclip

        pyperclip.copy(text)
        return "clipboard"
    except Exception:  # noqa: BLE001 - PyperclipException when no backend (headless, SSH)
        app.copy_to_clipboard(text)  # Textual writes the OSC 52 sequence to the terminal
        return "OSC 52"
