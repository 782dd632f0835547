"""Shared fixtures: an isolated environment for every test, and memory backends.

Nothing here reads the user's real config or data: every test gets its own
``XDG_*`` directories, an empty working directory, and no ``TURNKEEP_*``/``TURSO_*``
variables.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from memory import EphemeralMemory, MemoryBackend, open_embedded

_SCRUB_PREFIXES = ("TURNKEEP_", "TURSO_", "OPENAI_", "LIBSQL_")

#: The real sqld (sqld, fresh_sqld, jwt_keys) and ``remote_backend_opener`` fixtures.
pytest_plugins = ("tests.support.sqld",)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point XDG dirs into tmp, drop turnkeep/Turso/OpenAI variables, chdir to tmp."""
    for name in list(os.environ):
        if name.startswith(_SCRUB_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    (home / "config").mkdir()
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield home


class FrozenClock:
    """A clock that only moves when told to (tests and snapshots)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 1.0) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "turnkeep.db"


BackendFactory = Callable[..., "AsyncIterator[MemoryBackend]"]

#: Backends every contract test runs against. The remote ones talk to a real sqld over
#: WebSocket and over HTTP (``remote_backend_opener`` in tests/support/sqld.py).
BACKEND_KINDS = ["ephemeral", "embedded", "remote-ws", "remote-http"]


@pytest.fixture(params=BACKEND_KINDS)
def backend_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def backend(
    backend_kind: str, db_path: Path, clock: FrozenClock, request: pytest.FixtureRequest
) -> AsyncIterator[MemoryBackend]:
    """A fresh, migrated backend of each kind."""
    memory: MemoryBackend
    if backend_kind == "ephemeral":
        memory = EphemeralMemory(clock=clock)
    elif backend_kind == "embedded":
        memory = await open_embedded(db_path, clock=clock)
    else:
        opener = request.getfixturevalue("remote_backend_opener")
        memory = await opener(backend_kind, clock)
    try:
        yield memory
    finally:
        await memory.close()
