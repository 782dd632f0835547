"""A search whose caller gave up stops on the database thread (embedded SQLite).

Search as you type cancels the search of an older prefix; without an interrupt its
statement would keep the one database thread busy and the newer search would wait
behind it. A statement that never ends on its own shows the interrupt works: if it did
not, the read after it would never run (the 60 s guard only turns a hang into a failure).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from memory import EventDraft, open_embedded
from memory.drivers.cancellable import cancellable_rows
from runtime import payloads
from runtime.payloads import searchable_text

ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"


async def test_a_cancelled_read_is_interrupted_and_the_next_one_runs(tmp_path: Path) -> None:
    memory = await open_embedded(tmp_path / "t.db")
    memory.use_search_text(searchable_text)
    try:
        await memory.store("s", [EventDraft("user", payloads.user("the quokka jumps"))])
        driver = memory._driver
        endless = asyncio.create_task(cancellable_rows(driver, ENDLESS))
        await asyncio.sleep(0.2)  # let it start on the database thread
        assert not endless.done()
        endless.cancel()
        hits = await asyncio.wait_for(memory.search("quokka"), timeout=60)
        assert [(h.session_id, h.seq) for h in hits] == [("s", 1)]
        assert endless.cancelled()
        # The handler was for that read only: later reads and writes run to their end.
        count = await driver.rows("SELECT count(*) FROM (SELECT 1 UNION ALL SELECT 2)")
        assert count == [(2,)]
        await memory.store("s", [EventDraft("user", payloads.user("a second quokka"))])
        assert len(await memory.search("quokka")) == 2
    finally:
        await memory.close()


async def test_a_read_cancelled_while_queued_never_runs(tmp_path: Path) -> None:
    memory = await open_embedded(tmp_path / "t.db")
    try:
        driver = memory._driver
        first = asyncio.create_task(cancellable_rows(driver, ENDLESS))
        await asyncio.sleep(0.2)
        queued = asyncio.create_task(cancellable_rows(driver, ENDLESS))
        await asyncio.sleep(0)
        queued.cancel()
        first.cancel()
        # Neither endless read holds the thread: this one answers.
        assert await asyncio.wait_for(driver.rows("SELECT 1"), timeout=60) == [(1,)]
        assert first.cancelled() and queued.cancelled()
    finally:
        await memory.close()
