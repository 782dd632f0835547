"""The runtime is the only door to sessions (issue 12.4): ``tui`` imports records, errors
and types from ``memory`` and calls nothing in it.

``lint-imports`` (pyproject.toml) forbids the other memory modules; these tests keep
that list honest as ``memory`` grows, and check what import-linter cannot see: which
names come in, and that no screen reaches the backend behind the facade.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import tomllib
from fnmatch import fnmatchcase
from pathlib import Path

import memory

ROOT = Path(__file__).resolve().parents[1]

#: The memory modules tui may import from: records, errors and types.
ALLOWED = {
    "memory.records",
    "memory.errors",
    "memory.protocol",
    "memory.search_records",
    "memory.vector_records",
    "memory.bundle",
}
#: Pure helpers: parsing and checking record values, wording an error, the default
#: clock (no I/O, no database).
PURE_HELPERS = {
    "parse_ts",
    "format_ts",
    "normalize_tag",
    "typed_tag",
    "check_text",
    "explain",
    "utc_now",
}


def _contract() -> dict[str, object]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (found,) = [c for c in contracts if c.get("source_modules") == ["tui", "tui.**"]]
    return dict(found)


def _forbidden(name: str, patterns: list[str]) -> bool:
    return any(fnmatchcase(name, p.replace("**", "*")) for p in patterns)


def _memory_modules() -> list[str]:
    return ["memory"] + [
        m.name for m in pkgutil.walk_packages(memory.__path__, "memory.") if m.name
    ]


def _tui_files() -> list[Path]:
    return sorted((ROOT / "tui").rglob("*.py"))


def test_every_memory_module_is_either_allowed_or_forbidden_to_tui() -> None:
    contract = _contract()
    patterns = [str(p) for p in contract["forbidden_modules"]]  # type: ignore[attr-defined]
    assert contract["allow_indirect_imports"] is True and contract["as_packages"] is False
    for name in _memory_modules():
        if name in ALLOWED:
            assert not _forbidden(name, patterns), name
        else:
            assert _forbidden(name, patterns), f"{name}: add it to the tui contract"


def test_tui_imports_only_records_errors_and_types_from_memory() -> None:
    offending: list[str] = []
    for path in _tui_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                offending += [a.name for a in node.names if a.name.split(".")[0] == "memory"]
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith("memory"):
                continue
            module = importlib.import_module(str(node.module))
            for alias in node.names:
                value = getattr(module, alias.name)
                callable_code = inspect.isfunction(value) or inspect.iscoroutinefunction(value)
                if node.module not in ALLOWED or (callable_code and alias.name not in PURE_HELPERS):
                    offending.append(f"{path.relative_to(ROOT)}: {node.module}.{alias.name}")
    assert offending == []


def test_screens_reach_the_backend_only_through_the_facade() -> None:
    offending: list[str] = []
    for path in _tui_files():
        if path.name == "services.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("require_memory", "memory"):
                owner = ast.unparse(node.value)
                if node.attr == "require_memory" or owner.endswith("services"):
                    offending.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert offending == []
