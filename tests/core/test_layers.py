"""Layer rule: tamer_tui.core and tamer_tui.sim never import textual, rich or tamer_tui.ui.

Checked twice: at runtime (a fresh interpreter imports every core/sim module, then inspects
``sys.modules``, which also catches indirect and lazy-at-import imports) and statically with
import-linter's contracts from pyproject.toml (``lint-imports``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN = ("textual", "rich", "tamer_tui.ui")

CHECKER = textwrap.dedent(r'''
    import importlib, json, pkgutil, sys, traceback

    search_path, forbidden, packages = sys.argv[1], sys.argv[2].split(","), sys.argv[3:]
    sys.path.insert(0, search_path)
    imported, failures, culprits = [], {}, {}

    def loaded_forbidden():
        return sorted(m for m in sys.modules
                      if any(m == f or m.startswith(f + ".") for f in forbidden))

    def visit(name):
        before = set(loaded_forbidden())
        try:
            importlib.import_module(name)
            imported.append(name)
        except BaseException:
            failures[name] = traceback.format_exc(limit=-4)
        new = sorted(set(loaded_forbidden()) - before)
        if new:
            culprits[name] = new[:5]

    for root in packages:
        visit(root)
        package = sys.modules.get(root)
        if package is not None and hasattr(package, "__path__"):
            for info in pkgutil.walk_packages(package.__path__, root + ".",
                                              onerror=lambda n: failures.setdefault(n, traceback.format_exc())):
                visit(info.name)
    print("@@RESULT@@" + json.dumps({"imported": imported, "failures": failures, "culprits": culprits,
                                     "forbidden_loaded": loaded_forbidden()[:20]}))
''')


def run_checker(search_path: Path, packages: list[str], forbidden: tuple[str, ...] = FORBIDDEN) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", CHECKER, str(search_path), ",".join(forbidden), *packages],
                          capture_output=True, text=True, timeout=300, env=env, cwd=str(search_path))
    marker = [line for line in proc.stdout.splitlines() if line.startswith("@@RESULT@@")]
    assert marker, f"checker crashed (rc={proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(marker[-1][len("@@RESULT@@"):])
    return result


def test_core_and_sim_do_not_load_ui_libraries() -> None:
    """Importing every core and sim module loads no textual, rich or tamer_tui.ui module."""
    result = run_checker(REPO, ["tamer_tui.core", "tamer_tui.sim"])
    assert result["failures"] == {}, "\n".join(f"--- {k}\n{v}" for k, v in result["failures"].items())
    assert result["culprits"] == {}, f"these modules pull in UI libraries: {result['culprits']}"
    assert result["forbidden_loaded"] == []
    assert {"tamer_tui.core.settings", "tamer_tui.core.doctor", "tamer_tui.core.themes"} <= set(result["imported"])


def test_checker_detects_a_violation(tmp_path: Path) -> None:
    """A core module importing rich (even indirectly through a helper) is caught and named."""
    core = tmp_path / "fakeapp" / "core"
    core.mkdir(parents=True)
    (tmp_path / "fakeapp" / "__init__.py").write_text("", encoding="utf-8")
    (core / "__init__.py").write_text("", encoding="utf-8")
    (core / "clean.py").write_text("import json\n", encoding="utf-8")
    (core / "helper.py").write_text("import rich.text\n", encoding="utf-8")
    (core / "uses_helper.py").write_text("from fakeapp.core import helper\n", encoding="utf-8")
    result = run_checker(tmp_path, ["fakeapp.core"])
    assert list(result["culprits"]) == ["fakeapp.core.helper"]
    assert "rich" in result["culprits"]["fakeapp.core.helper"]


def lint_imports_bin() -> str:
    candidate = Path(sys.executable).parent / ("lint-imports.exe" if os.name == "nt" else "lint-imports")
    return str(candidate) if candidate.exists() else (shutil.which("lint-imports") or "lint-imports")


def test_import_linter_contracts_pass() -> None:
    """`lint-imports` (contracts in pyproject.toml) reports every contract kept."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.run([lint_imports_bin(), "--no-cache"], cwd=str(REPO), env=env, capture_output=True,
                          text=True, timeout=300)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-5000:]
    assert "core never imports the UI or Textual KEPT" in output, output[-3000:]
    assert "BROKEN" not in output
