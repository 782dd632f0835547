"""Helpers for the remote-mode tests; the sqld fixtures live in tests/support/sqld.py.

Every test in this directory talks to a real sqld and is marked ``remote``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import libsql_client
import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.path)).resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.remote)


async def query(url: str, token: str, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of one statement, read with a plain libsql-client (not turnkeep's code)."""
    async with libsql_client.create_client(url, auth_token=token) as client:
        result = await client.execute(sql, list(args))
        return [tuple(row) for row in result.rows]


async def schema(url: str, token: str) -> list[tuple[Any, ...]]:
    """Every table and index with its SQL, to compare a database before and after."""
    return await query(
        url,
        token,
        "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
    )


def data_home_files() -> list[Path]:
    """Everything under ``$XDG_DATA_HOME`` (where an embedded database would go)."""
    return sorted(Path(os.environ["XDG_DATA_HOME"]).rglob("*"))
