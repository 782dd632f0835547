"""Fixtures of the importer tests: a real embedded database, the fixture files, hashes."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from memory import MemoryBackend, open_embedded
from tests.conftest import FrozenClock

FIXTURES = Path(__file__).parent / "fixtures"


def digests(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (or of ``root`` itself)."""
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture
async def store(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[MemoryBackend]:
    """A fresh embedded database (a real SQLite file)."""
    memory = await open_embedded(tmp_path / "import.db", clock=clock)
    try:
        yield memory
    finally:
        await memory.close()


@pytest.fixture
def fixture_copy(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Copy a fixture directory or file into tmp_path (for tests that grow it)."""

    def copy(name: str) -> Path:
        source = FIXTURES / name
        target = tmp_path / "src" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
        return target

    return copy
