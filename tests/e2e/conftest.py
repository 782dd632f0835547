"""Fixtures of the CLI tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.cli_support import KINDS, Target, make_target


@pytest.fixture(params=KINDS)
def target(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Target:
    """A seeded database of each kind (embedded, remote over ws and http)."""
    return make_target(request.param, request, tmp_path, monkeypatch)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A database file that does not exist yet, which ``turnkeep`` run from here uses
    (``TURNKEEP_DB__PATH``)."""
    path = tmp_path / "turnkeep.db"
    monkeypatch.setenv("TURNKEEP_DB__PATH", str(path))
    return path
