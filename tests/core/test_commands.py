"""Command-mode grammar: aliases, targets with runtime prefixes, clear errors."""

from __future__ import annotations

import pytest

from tamer_tui.core.commands import completions, parse_command, parse_target
from tamer_tui.core.errors import InvalidInput


def test_aliases_resolve() -> None:
    """k9s-style aliases map to their command; arguments are an argv list (quotes respected)."""
    assert parse_command(":co").name == "containers"
    assert parse_command("img").name == "images"
    assert parse_command("ctx").name == "ctx"
    cmd = parse_command('rename container/web "new name"')
    assert cmd.name == "rename" and cmd.args == ("container/web", "new name")


def test_unknown_command_suggests() -> None:
    """An unknown word says so and suggests close commands."""
    with pytest.raises(InvalidInput, match="unknown command 'ima'.*images"):
        parse_command("ima")
    with pytest.raises(InvalidInput):
        parse_command("   ")
    with pytest.raises(InvalidInput, match="cannot parse"):
        parse_command('stop "unterminated')


def test_targets() -> None:
    """kind/[runtime:]name, with image names that contain colons and slashes."""
    assert str(parse_target("co/docker:web")) == "container/docker:web"
    t = parse_target("image/podman:localhost/app:1.0")
    assert (t.kind, t.runtime, t.name) == ("image", "podman", "localhost/app:1.0")
    t = parse_target("image/busybox:latest")
    assert (t.runtime, t.name) == (None, "busybox:latest")
    assert parse_target("web", default_kind="container").name == "web"
    with pytest.raises(InvalidInput):
        parse_target("web")
    with pytest.raises(InvalidInput):
        parse_target("container/docker:")


def test_completions() -> None:
    """Completion lists canonical names first, then aliases."""
    assert completions("im")[0] == "images"
    assert "img" in completions("im")
