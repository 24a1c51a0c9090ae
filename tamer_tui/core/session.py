"""Everything a running Tamer needs, built once by the CLI and handed to the UI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tamer_tui.core.manager import RuntimeManager


@dataclass
class Session:
    manager: RuntimeManager
    readonly: bool = False
    theme: str = "tamer-dark"
    mouse: bool = True
    settings: Any = None
    warnings: list[str] = field(default_factory=list)
    key_overrides: dict[str, str] = field(default_factory=dict)
    themes: list[Any] = field(default_factory=list)
    host_label: str = ""
    kube: Any = None  # KubeManager, or None when Kubernetes is not configured
