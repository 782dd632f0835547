"""A search runs inline while it is short, on the database thread once it is not.

On the embedded driver a search first runs on the caller's thread when the database
thread is idle and the previous search was short (:mod:`memory.drivers.cancellable`);
past :data:`INLINE_BUDGET` it is stopped and runs again on the database thread. These
tests run real statements on a real SQLite file and tell where each one ran by a SQL
function that returns the id of the thread evaluating it.
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from memory import EventDraft, open_embedded
from memory.drivers import cancellable
from memory.drivers.cancellable import INLINE_BUDGET, ReadPace, cancellable_rows
from memory.errors import QueryError
from memory.sql.store import LibsqlMemory
from runtime import payloads
from runtime.payloads import searchable_text

#: Where the statement is evaluated: the id of the thread running it.
WHERE = "SELECT tk_thread()"
#: Counts to three million: far longer than the inline budget (~0.3 s here).
LONG = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) "
    "SELECT count(*), tk_thread() FROM c"
)


@pytest.fixture
async def memory(tmp_path: Path) -> AsyncIterator[LibsqlMemory]:
    opened = await open_embedded(tmp_path / "t.db")
    opened.use_search_text(searchable_text)

    def mark(conn: Any) -> None:
        conn.create_function("tk_thread", 0, threading.get_ident)

    await opened.driver.run(mark)  # type: ignore[attr-defined]
    try:
        yield opened
    finally:
        await opened.close()


def _ran_inline(rows: list[tuple[Any, ...]]) -> bool:
    return bool(rows[0][-1] == threading.get_ident())


async def test_the_first_read_runs_on_the_thread_and_short_ones_then_inline(
    memory: LibsqlMemory,
) -> None:
    pace = ReadPace()
    assert not pace.short  # unknown: a cold first read may be slow
    assert not _ran_inline(await cancellable_rows(memory.driver, WHERE, pace=pace))
    assert math.isfinite(pace.last)  # measured on the thread
    for _ in range(3):
        # As after a short one (set here: a read preempted past the budget on a loaded
        # machine would count as long).
        pace.last = 0.0
        assert _ran_inline(await cancellable_rows(memory.driver, WHERE, pace=pace))
        assert math.isfinite(pace.last)
    # Without a pace (any read but a search's), never inline.
    assert not _ran_inline(await cancellable_rows(memory.driver, WHERE))


async def test_a_read_past_the_budget_is_stopped_and_finished_on_the_thread(
    memory: LibsqlMemory,
) -> None:
    pace = ReadPace(last=0.0)
    rows = await cancellable_rows(memory.driver, LONG, pace=pace)
    assert rows[0][0] == 3_000_000  # the whole answer, not the stopped one's
    assert not _ran_inline(rows)
    long_took = pace.last
    assert long_took > INLINE_BUDGET  # measured on the thread
    # The next read goes to the thread (the last one was long), where it is measured.
    assert not _ran_inline(await cancellable_rows(memory.driver, WHERE, pace=pace))
    assert pace.last != long_took
    # The stopped read left no handler behind: a long read without a pace runs to its end.
    assert (await memory.driver.rows(LONG))[0][0] == 3_000_000


async def test_a_read_never_runs_inline_ahead_of_an_earlier_call(memory: LibsqlMemory) -> None:
    started, release = threading.Event(), threading.Event()

    def hold() -> int:
        started.set()
        release.wait()
        return 1

    def register(conn: Any) -> None:
        conn.create_function("tk_hold", 0, hold)

    await memory.driver.run(register)  # type: ignore[attr-defined]
    pace = ReadPace(last=0.0)
    earlier = asyncio.create_task(memory.driver.rows("SELECT tk_hold()"))
    await asyncio.to_thread(started.wait)  # the earlier call runs on the database thread
    search = asyncio.create_task(cancellable_rows(memory.driver, WHERE, pace=pace))
    await asyncio.sleep(0)  # the search has tried, and been sent behind the earlier call
    assert not search.done()
    release.set()
    assert await earlier == [(1,)]
    assert not _ran_inline(await search)


@pytest.mark.parametrize("last", [0.0, math.inf], ids=["inline", "on the thread"])
async def test_a_failing_read_is_a_query_error_either_way(
    memory: LibsqlMemory, last: float
) -> None:
    pace = ReadPace(last=last)
    with pytest.raises(QueryError, match="no such table"):
        await cancellable_rows(memory.driver, "SELECT * FROM no_such_table", pace=pace)
    assert await cancellable_rows(memory.driver, "SELECT 7", pace=pace) == [(7,)]


async def test_a_search_finds_the_same_hits_inline_and_on_the_thread(
    memory: LibsqlMemory,
) -> None:
    await memory.store(
        "s",
        [
            EventDraft("user", payloads.user("the quokka crossed the road")),
            EventDraft("assistant", payloads.assistant("a quokka is a small wallaby")),
        ],
    )
    await memory.search("quokka")  # creates the search's pace
    pace = memory._search_pace
    assert pace is not None
    found = {}
    for where, last in (("on the thread", math.inf), ("inline", 0.0)):
        pace.last = last
        found[where] = [(h.session_id, h.seq, h.snippet) for h in await memory.search("quokka")]
        assert math.isfinite(pace.last)  # measured wherever it ran
    assert found["inline"] == found["on the thread"]
    assert {seq for _, seq, _ in found["inline"]} == {1, 2}


class CountingGiveWay:
    """Test double of the database thread's ``sched_yield``: counts the calls. Whether the
    kernel then runs another thread first is not something a test can observe
    deterministically; that a long search asks for it, and a short one does not, is."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


async def test_a_read_on_the_thread_gives_way_once_per_interval(
    memory: LibsqlMemory, monkeypatch: pytest.MonkeyPatch
) -> None:
    counting = CountingGiveWay()
    monkeypatch.setattr(cancellable, "_give_way", counting)
    # An interval longer than any read: the progress handler runs, and never gives way.
    monkeypatch.setattr(cancellable, "GIVE_WAY_EVERY", 3600.0)
    rows = await cancellable_rows(memory.driver, LONG)
    assert rows[0][0] == 3_000_000 and not _ran_inline(rows)
    assert counting.calls == 0
    # No interval: it gives way at every check of the handler (every PROGRESS_STEPS VM
    # steps; counting to three million takes tens of millions of steps).
    monkeypatch.setattr(cancellable, "GIVE_WAY_EVERY", 0.0)
    rows = await cancellable_rows(memory.driver, LONG)
    assert rows[0][0] == 3_000_000
    assert counting.calls >= 3_000_000 // cancellable.PROGRESS_STEPS


def _cpus_of_this_thread() -> str:
    return ",".join(str(cpu) for cpu in sorted(os.sched_getaffinity(0)))


@pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs a system that sets threads' CPUs (Linux) and two CPUs",
)
async def test_a_read_on_the_thread_keeps_off_the_callers_cpu_then_gives_it_back(
    memory: LibsqlMemory,
) -> None:
    def register(conn: Any) -> None:
        conn.create_function("tk_cpus", 0, _cpus_of_this_thread)

    await memory.driver.run(register)  # type: ignore[attr-defined]
    allowed = set(os.sched_getaffinity(0))

    def cpus(rows: list[tuple[Any, ...]]) -> set[int]:
        return {int(cpu) for cpu in str(rows[0][0]).split(",")}

    # A search's read on the database thread: one CPU fewer while it runs (the one the
    # event loop's thread asked from).
    during = cpus(await cancellable_rows(memory.driver, "SELECT tk_cpus()"))
    assert during < allowed and len(allowed - during) == 1
    # Given back after, and any other call on the thread is not restricted.
    assert cpus(await memory.driver.rows("SELECT tk_cpus()")) == allowed
