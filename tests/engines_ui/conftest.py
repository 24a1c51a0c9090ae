"""Fixtures of the engine UI tests: the same apps and daemon clients as tests/ui, and private data/config
directories (the YAML editor autosaves drafts; a test must never leave one in the user's real directory)."""

from pathlib import Path

import pytest

from tests.ui.conftest import docker_api, docker_endpoint, frozen_clock, replay_app  # noqa: F401


@pytest.fixture(autouse=True)
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAMER_DATA_DIR", str(tmp_path / "tamer-data"))
    monkeypatch.setenv("TAMER_CONFIG_DIR", str(tmp_path / "tamer-config"))
