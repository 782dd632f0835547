"""A separate writer process for concurrency, restart and backup tests.

Usage: python -m tests.support.writer DB_PATH SESSION_ID SAVE_POINTS [EVENTS_PER_SAVE]

Stores SAVE_POINTS save points of EVENTS_PER_SAVE events each and prints the seqs
assigned, one JSON list per line, so the test can check what this process was told.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from memory import EventDraft, open_embedded


async def write(path: Path, session_id: str, save_points: int, per_save: int) -> None:
    memory = await open_embedded(path)
    try:
        for turn in range(1, save_points + 1):
            drafts = [
                EventDraft("user", {"content": f"pid {os.getpid()} turn {turn} event {i}"}, turn)
                for i in range(per_save)
            ]
            seqs = await memory.store(session_id, drafts)
            print(json.dumps(seqs), flush=True)
    finally:
        await memory.close()


def main() -> None:
    path, session_id, save_points = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    per_save = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    asyncio.run(write(path, session_id, save_points, per_save))


if __name__ == "__main__":
    main()
