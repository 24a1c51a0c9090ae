"""Every module under tamer_tui imports on a platform without POSIX-only modules (i.e. Windows).

A subprocess installs an import hook that makes fcntl, termios, pty, pwd, grp and resource
unimportable, pre-imports the standard library and the third-party dependencies with the real
platform (their own platform switches must keep working on this Linux box), then sets
``sys.platform = "win32"`` and imports every module found by ``pkgutil.walk_packages``. Windows-only
modules (msvcrt, winreg, pywin32 ...) are replaced by stubs, so code written for Windows imports
here as it would there. Any failure is reported with its traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

CHECKER = textwrap.dedent(r'''
    import importlib, importlib.abc, importlib.machinery, json, pkgutil, sys, traceback, types
    from unittest import mock

    root, search_path = sys.argv[1], sys.argv[2]
    sys.path.insert(0, search_path)
    BLOCKED = {"fcntl", "termios", "pty", "pwd", "grp", "resource"}
    WINDOWS_ONLY = {"msvcrt", "winreg", "_winreg", "winsound", "_winapi", "_overlapped", "win32api",
                    "win32con", "win32file", "win32pipe", "win32event", "win32process", "pywintypes",
                    "win32console", "win32security", "pythoncom", "wmi"}

    class StubLoader(importlib.abc.Loader):
        def create_module(self, spec):
            module = types.ModuleType(spec.name)
            module.__getattr__ = lambda name: mock.MagicMock(name=f"{spec.name}.{name}")
            return module

        def exec_module(self, module):
            pass

    class Guard(importlib.abc.MetaPathFinder):
        active_stubs = False

        def find_spec(self, name, path=None, target=None):
            top = name.partition(".")[0]
            if top in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r} (POSIX-only: missing on Windows)",
                                          name=name)
            if self.active_stubs and top in WINDOWS_ONLY:
                return importlib.machinery.ModuleSpec(name, StubLoader())
            return None

    guard = Guard()
    for loaded in list(sys.modules):
        if loaded.partition(".")[0] in BLOCKED:
            del sys.modules[loaded]
    sys.meta_path.insert(0, guard)

    PRELOAD = [
        "asyncio", "asyncio.subprocess", "subprocess", "socket", "selectors", "signal", "shutil",
        "tempfile", "pathlib", "getpass", "ssl", "uuid", "concurrent.futures", "multiprocessing",
        "platform", "ctypes", "mimetypes", "webbrowser", "http.client", "urllib.request",
        "logging.handlers", "locale", "sqlite3", "shlex", "tomllib", "zoneinfo",
        "yaml", "platformdirs", "msgspec", "keyring", "docker", "podman", "aiohttp", "kubernetes",
        "kubernetes.client", "kubernetes.config", "kubernetes.stream", "kubernetes.watch",
        "kubernetes_validate", "pyperclip", "websocket", "requests", "urllib3", "rich", "textual",
        "textual.app", "textual.widgets", "textual.containers", "textual.screen", "textual.binding",
        "textual.theme", "textual.command",
    ]
    preload_errors = {}
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except BaseException as err:  # dependency problems are reported separately
            preload_errors[name] = f"{type(err).__name__}: {err}"

    sys.platform = "win32"
    guard.active_stubs = True
    imported, failures = [], {}

    def record(name):
        if name not in failures:
            failures[name] = traceback.format_exc(limit=-6)

    try:
        package = importlib.import_module(root)
        imported.append(root)
    except BaseException:
        record(root)
        package = None
    if package is not None and hasattr(package, "__path__"):
        for info in pkgutil.walk_packages(package.__path__, root + ".", onerror=record):
            try:
                importlib.import_module(info.name)
                imported.append(info.name)
            except BaseException:
                record(info.name)
    print("@@RESULT@@" + json.dumps({"imported": imported, "failures": failures,
                                     "preload_errors": preload_errors}))
''')


def run_checker(root: str, search_path: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", CHECKER, root, str(search_path)], capture_output=True,
                          text=True, timeout=300, env=env, cwd=str(search_path))
    marker = [line for line in proc.stdout.splitlines() if line.startswith("@@RESULT@@")]
    assert marker, f"checker crashed (rc={proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(marker[-1][len("@@RESULT@@"):])
    return result


def test_every_tamer_module_imports_without_posix_modules() -> None:
    """All tamer_tui modules import with POSIX-only modules blocked and sys.platform == 'win32'."""
    result = run_checker("tamer_tui", REPO)
    failures = result["failures"]
    report = "\n\n".join(f"--- {name}\n{tb}" for name, tb in sorted(failures.items()))
    assert not failures, f"{len(failures)} module(s) fail to import on Windows:\n{report}"
    mine = {"tamer_tui.core.settings", "tamer_tui.core.detect", "tamer_tui.core.platform",
            "tamer_tui.core.doctor", "tamer_tui.core.keymap", "tamer_tui.core.themes",
            "tamer_tui.core.credentials", "tamer_tui.core.models"}
    assert mine <= set(result["imported"]), "the walk did not reach every module"


def test_dependencies_import_without_posix_modules() -> None:
    """The third-party dependencies Tamer uses import without POSIX-only modules as well."""
    result = run_checker("tamer_tui.core.models", REPO)
    assert result["preload_errors"] == {}, result["preload_errors"]


def test_checker_catches_posix_imports_and_platform_branches(tmp_path: Path) -> None:
    """The checker really fails a module importing termios/fcntl at import time, and accepts
    lazy imports and win32-only branches (proving the hook and the platform switch work)."""
    pkg = tmp_path / "fakepkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "sub" / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "bad_termios.py").write_text("import termios\n", encoding="utf-8")
    (pkg / "sub" / "bad_fcntl.py").write_text("from fcntl import ioctl\n", encoding="utf-8")
    (pkg / "bad_pwd.py").write_text("import os\nif os.name == 'posix':\n    import pwd\n", encoding="utf-8")
    (pkg / "lazy_ok.py").write_text("def f():\n    import termios\n    return termios\n", encoding="utf-8")
    (pkg / "branch_ok.py").write_text(
        "import sys\nif sys.platform == 'win32':\n    import msvcrt\n    from msvcrt import getwch\n"
        "else:\n    import termios\n", encoding="utf-8")
    (pkg / "not_windows.py").write_text(
        "import sys\nassert sys.platform == 'win32', sys.platform\n", encoding="utf-8")
    result = run_checker("fakepkg", tmp_path)
    assert set(result["failures"]) == {"fakepkg.bad_termios", "fakepkg.sub.bad_fcntl", "fakepkg.bad_pwd"}
    assert "POSIX-only" in result["failures"]["fakepkg.bad_termios"]
    assert {"fakepkg.lazy_ok", "fakepkg.branch_ok", "fakepkg.not_windows"} <= set(result["imported"])
