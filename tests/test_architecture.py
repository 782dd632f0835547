"""Dependency direction: memory and runtime never import Textual (nor each other upward)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


@pytest.mark.parametrize("package", ["memory", "runtime"])
def test_headless_packages_do_not_import_textual(package: str) -> None:
    modules = imported_after(
        f"import {package}; import pkgutil, importlib; "
        f"[importlib.import_module(m.name) for m in "
        f"pkgutil.walk_packages({package}.__path__, '{package}.')]"
    )
    assert "textual" not in modules
    assert not any(m == "tui" or m.startswith("tui.") for m in modules)


def test_memory_does_not_import_runtime() -> None:
    modules = imported_after(
        "import memory, memory.schema.yoyo_libsql"
        if (ROOT / "memory" / "yoyo_libsql.py").exists()
        else "import memory"
    )
    assert not any(m == "runtime" or m.startswith("runtime.") for m in modules)


def test_cli_commands_start_without_textual() -> None:
    modules = imported_after("import tui.cli; tui.cli.build_parser()")
    assert "textual" not in modules


def test_db_status_on_an_up_to_date_file_loads_only_what_it_needs(tmp_path: Path) -> None:
    """Start-up (issue 19): no TUI, no server stack, no migrator, no model runtime."""
    import os

    env = {**os.environ, "TURNKEEP_DB__PATH": str(tmp_path / "t.db")}
    run = [sys.executable, "-m", "tui", "db", "migrate"]
    subprocess.run(run, cwd=ROOT, env=env, capture_output=True, check=True, timeout=120)
    code = (
        "import sys, runpy; sys.argv = ['turnkeep', 'db', 'status', '--json']\n"
        "try:\n    runpy.run_module('tui', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print('MODULES', ' '.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("MODULES "))
    modules = set(line.split()[1:])
    assert '"reachable": true' in done.stdout
    for heavy in ("textual", "libsql_client", "aiohttp", "yoyo", "xllamacpp", "onnxruntime"):
        assert heavy not in modules, heavy
    others = {"tui.cli.ask", "tui.cli.importing", "tui.cli.search", "runtime.importers"}
    assert not modules & others
