"""A separate indexer process for the kill -9 test: ``python -m tests.semantic.indexer_proc DB``.

Indexes the database with the local model in small batches and prints the embedded count
after every batch (flushed), so the test can kill it mid-run.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from memory import open_embedded
from runtime.embeddings.local import LocalEmbedder
from runtime.vector_index import index_pending


async def main(path: Path) -> None:
    memory = await open_embedded(path)
    try:
        await index_pending(
            memory,
            LocalEmbedder(),
            batch=4,
            pause=0,
            on_progress=lambda p: print(p.embedded, flush=True),
        )
    finally:
        await memory.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
