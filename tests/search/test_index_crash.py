"""The index stays exact when a writer is killed with SIGKILL in the middle of saving."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

from memory import EventDraft, open_embedded
from memory.sql.search_statements import generic_text
from tests.search.consistency import index_mismatches


class Child(subprocess.Popen[str]):
    stdout: IO[str]


def started(*argv: str) -> Child:
    """``python ARGV`` with its output piped (read line by line)."""
    return Child([sys.executable, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def killed(process: Child) -> None:
    """SIGKILL ``process`` and reap it (closing its pipes)."""
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL


def killed_beside_a_writer(
    db_path: Path, saves: int, script: str, until_mid_work: Callable[[Child], None]
) -> None:
    """Start a writer (save points of 5 events into session ``crash``) and let it commit
    ``saves`` of them; start ``script`` on the same file beside it, let
    ``until_mid_work`` read the script's output until it is in the middle of its work,
    then SIGKILL both."""
    writer = started("-m", "tests.support.writer", str(db_path), "crash", "100000", "5")
    other: Child | None = None
    try:
        for _ in range(saves):
            assert writer.stdout.readline()
        other = started("-c", script, str(db_path))
        until_mid_work(other)
    finally:
        for child in (other, writer):
            if child is not None:
                killed(child)


async def test_kill_9_mid_save_leaves_index_and_events_equal(db_path: Path) -> None:
    memory = await open_embedded(db_path)  # migrated before the writer starts
    await memory.close()
    writer = started("-m", "tests.support.writer", str(db_path), "crash", "100000", "20")
    try:
        for _ in range(30):  # let it commit some save points, then kill it mid-stream
            assert writer.stdout.readline()
    finally:
        killed(writer)
    reopened = await open_embedded(db_path)
    try:
        events = await reopened.recall("crash")
        assert len(events) >= 30 * 20
        # The writer indexed with the memory layer's own reader (no runtime given).
        assert await index_mismatches(reopened, generic_text) == []
        last = events[-1].payload["content"]
        hits = await reopened.search(f'"{last}"', session_id="crash")
        assert [h.seq for h in hits] == [events[-1].seq]
    finally:
        await reopened.close()


TIDIER = """
import asyncio, sys
from pathlib import Path
from memory import open_embedded

async def main() -> None:
    memory = await open_embedded(Path(sys.argv[1]))
    while await memory.tidy_search(2):  # tiny steps: many transactions to die in
        print("step", flush=True)
    print("done", flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


async def test_kill_9_mid_tidy_beside_a_writer_leaves_the_index_exact(db_path: Path) -> None:
    memory = await open_embedded(db_path)
    try:
        # 64 save points of 100 words never seen twice: segments of many pages, so the
        # tidy below has dozens of merge steps to take whatever the writer's own
        # automerges did (the writer's short events alone left as few as 4 in CI).
        words = iter(range(10**6))
        for turn in range(64):
            texts = [" ".join(f"w{next(words)}" for _ in range(100)) for _ in range(5)]
            drafts = [EventDraft("user", {"content": text}, turn) for text in texts]
            await memory.store("seeded", drafts)
            await memory.settle_search()  # into the trigram index: a segment each
    finally:
        await memory.close()

    def merging(tidier: Child) -> None:  # beside the writer, then killed mid-merge
        for _ in range(5):
            assert tidier.stdout.readline().strip() == "step"

    # 300 save points beside the seeded segments, then the tidier.
    killed_beside_a_writer(db_path, 300, TIDIER, merging)
    reopened = await open_embedded(db_path)
    try:
        assert await index_mismatches(reopened, generic_text) == []
        for table in ("search_events", "search_words", "search_titles"):
            await reopened.driver.execute(
                f"INSERT INTO {table} ({table}) VALUES ('integrity-check')"
            )
        while await reopened.tidy_search():  # a later tidy finishes the job
            pass
        assert await index_mismatches(reopened, generic_text) == []
        events = await reopened.recall("crash")
        last = events[-1].payload["content"]
        hits = await reopened.search(f'"{last}"', session_id="crash")
        assert [h.seq for h in hits] == [events[-1].seq]
    finally:
        await reopened.close()


SETTLER = """
import asyncio, sys
from pathlib import Path
from memory import open_embedded

async def main() -> None:
    memory = await open_embedded(Path(sys.argv[1]))
    while True:  # tiny batches: many transactions to die in
        moved = await memory.settle_search(3)
        print("step" if moved else "idle", flush=True)
        await asyncio.sleep(0 if moved else 0.001)

asyncio.run(main())
"""


async def test_kill_9_mid_settle_beside_a_writer_leaves_the_index_exact(db_path: Path) -> None:
    """Waiting substring rows are moved into the trigram index beside a writer saving
    more of them; both are killed mid-stream and nothing is lost, doubled or stale."""
    memory = await open_embedded(db_path)
    await memory.close()

    def moving(settler: Child) -> None:  # beside the writer, then killed mid-move
        moved = 0
        while moved < 20:
            moved += settler.stdout.readline().strip() == "step"

    killed_beside_a_writer(db_path, 100, SETTLER, moving)
    reopened = await open_embedded(db_path)
    try:
        assert await index_mismatches(reopened, generic_text) == []
        waiting = await reopened.driver.execute("SELECT count(*) FROM search_pending")
        settled = await reopened.driver.execute("SELECT count(*) FROM search_events")
        assert int(settled.rows[0][0]) >= 20 * 3  # the settler did move rows
        events = await reopened.recall("crash")
        last = events[-1].payload["content"]
        # Found by substring ("id" only inside "pid": no word hit) whether its row
        # waits or was moved.
        hits = await reopened.search(f'"{last[1:]}"', session_id="crash")
        assert [h.seq for h in hits] == [events[-1].seq]
        while await reopened.settle_search():
            pass
        assert await index_mismatches(reopened, generic_text) == []
        after = await reopened.driver.execute("SELECT count(*) FROM search_pending")
        assert int(after.rows[0][0]) == 0 and int(waiting.rows[0][0]) >= 0
        for table in ("search_events", "search_words"):
            await reopened.driver.execute(
                f"INSERT INTO {table} ({table}) VALUES ('integrity-check')"
            )
    finally:
        await reopened.close()
