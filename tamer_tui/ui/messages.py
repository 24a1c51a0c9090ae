"""Messages the UI passes around (dataclasses, in the dolphie/posting style)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class RuntimesChanged(Message):
    """The manager's view of the runtimes changed (connected, lost, reconnecting)."""

    summary: str


@dataclass
class StatusText(Message):
    """A line for the status bar of the active screen."""

    text: str
    severity: str = "information"
