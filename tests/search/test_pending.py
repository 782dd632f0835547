"""A save point's substring rows wait in ``search_pending`` until idle time moves them into
the trigram index (migration 0015, ``memory.sql.search_pending``).

Meanwhile nothing saved is unfindable: every query shape finds the same events before
and after the move, forget and fork keep both tables exact, and the persistence worker
moves them when it goes idle and when it stops.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from memory import EventDraft, LibsqlMemory, MemoryBackend, open_embedded
from runtime import payloads
from runtime.payloads import searchable_text
from runtime.persistence import PersistenceWorker
from runtime.search_index import describe_progress, settle_index
from tests.search.consistency import index_mismatches

#: Query -> the (session, seq) it must find, whatever the rows' table.
EXPECTED: dict[str, set[tuple[str, int]]] = {
    "wombat": {("alpha", 1)},  # a whole word: the word index
    "ombat": {("alpha", 1)},  # inside a word: the substring tier
    "AuthMidd": {("beta", 2)},  # an identifier's inner part
    "case_na": {("beta", 3)},  # snake_case: the trigram plan
    "東京": {("gamma", 1)},  # CJK, two characters
    "ro": {("alpha", 1), ("alpha", 2), ("beta", 1)},  # inside words (burrow): the short scan
    "wombat -burrow": set(),  # the only wombat says burrow
    '"flaky upload"': {("beta", 1)},
    "upload -flaky": {("gamma", 2)},
    "λημερ": {("gamma", 3)},  # cased Greek: the trigram plan
    "ΛΗΜΕΡ": {("gamma", 3)},
}


async def _seed(memory: MemoryBackend) -> None:
    memory.use_search_text(searchable_text)
    await memory.store(
        "alpha",
        [
            EventDraft("user", payloads.user("a wombat dug a burrow")),
            EventDraft("assistant", payloads.assistant("grow it")),
        ],
    )
    await memory.store(
        "beta",
        [
            EventDraft("user", payloads.user("the flaky upload test broke")),
            EventDraft("assistant", payloads.assistant("see refactorAuthMiddleware")),
            EventDraft("tool_call", payloads.tool_call("c1", "grep", {"q": "snake_case_name"})),
        ],
    )
    await memory.store(
        "gamma",
        [
            EventDraft("user", payloads.user("deploy to 東京都 servers")),
            EventDraft("user", payloads.user("the upload finished")),
            EventDraft("assistant", payloads.assistant("Καλημέρα σας")),
        ],
    )


async def _pending(memory: MemoryBackend) -> int:
    if not isinstance(memory, LibsqlMemory):
        return 0
    result = await memory.driver.execute("SELECT count(*) FROM search_pending")
    return int(result.rows[0][0])


async def _found(memory: MemoryBackend) -> dict[str, set[tuple[str, int]]]:
    out = {}
    for query in EXPECTED:
        hits = await memory.search(query, limit=20)
        out[query] = {(h.session_id, h.seq) for h in hits if h.kind != "title"}
    return out


async def test_saved_events_are_found_alike_before_and_after_they_settle(
    backend: MemoryBackend,
) -> None:
    await _seed(backend)
    sql = isinstance(backend, LibsqlMemory)
    assert await _pending(backend) == (8 if sql else 0)  # every row waits on SQL backends
    assert await _found(backend) == EXPECTED
    assert await index_mismatches(backend) == []
    # Filters apply to waiting rows too.
    hits = await backend.search("ombat", kinds=("assistant",))
    assert hits == []
    hits = await backend.search("upload", session_id="gamma")
    assert [(h.session_id, h.seq) for h in hits] == [("gamma", 2)]
    waiting = await backend.search("AuthMidd")
    assert waiting[0].marked() == "see refactor«AuthMidd»leware"  # cut and marked here

    # A cased non-ASCII term typed in another case than saved, inside a longer word:
    # the waiting row's folded copy finds it as the trigram index will.
    inside = {(h.session_id, h.seq) for h in await backend.search("καλημ")}
    assert inside == {("gamma", 3)}
    assert [(h.session_id, h.seq) for h in await backend.search("case_na", kinds=("tool",))] == [
        ("beta", 3)
    ]
    assert await settle_index(backend) == (8 if sql else 0)
    assert await _pending(backend) == 0
    assert await backend.settle_search() == 0  # nothing left
    assert await _found(backend) == EXPECTED
    assert (await backend.search("AuthMidd"))[0].marked() == waiting[0].marked()
    assert {(h.session_id, h.seq) for h in await backend.search("καλημ")} == {("gamma", 3)}
    assert await index_mismatches(backend) == []


async def test_forget_and_fork_keep_waiting_rows_exact(backend: MemoryBackend) -> None:
    await _seed(backend)
    await backend.fork_session("beta", new_id="beta-fork")
    await backend.forget("alpha")
    assert await index_mismatches(backend) == []
    assert await _pending(backend) == (6 if isinstance(backend, LibsqlMemory) else 0)
    assert {(h.session_id, h.seq) for h in await backend.search("AuthMidd")} == {
        ("beta", 2),
        ("beta-fork", 2),
    }
    assert await backend.search("ombat") == []
    await settle_index(backend)
    assert await index_mismatches(backend) == []
    await backend.forget("beta")
    assert await index_mismatches(backend) == []
    assert [(h.session_id, h.seq) for h in await backend.search("case_na")] == [("beta-fork", 3)]


async def test_settle_moves_the_oldest_rows_a_batch_at_a_time(db_path: Path) -> None:
    memory = await open_embedded(db_path)
    try:
        await _seed(memory)
        waiting = await memory.search_progress()
        assert waiting.waiting_rows == 8 and waiting.as_dict()["waiting_rows"] == 8
        assert describe_progress(waiting) == (
            "complete; 8 just-saved events waiting for the substring index (searched meanwhile)"
        )
        assert [await memory.settle_search(3) for _ in range(4)] == [3, 3, 2, 0]
        settled = await memory.search_progress()
        assert settled.waiting_rows == 0 and describe_progress(settled) == "complete"
        moved = await memory.driver.execute("SELECT rowid FROM search_events ORDER BY rowid")
        assert [int(r[0]) for r in moved.rows] == list(range(1, 9))
        assert await index_mismatches(memory) == []
    finally:
        await memory.close()


async def _wait_settled(memory: MemoryBackend) -> None:
    for _ in range(500):  # the worker moves them once idle (0.25 s); bounded wait
        if await _pending(memory) == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{await _pending(memory)} rows still waiting")


async def test_the_worker_settles_when_idle_and_when_it_stops(db_path: Path) -> None:
    memory = await open_embedded(db_path)
    memory.use_search_text(searchable_text)
    worker = PersistenceWorker(memory)
    await worker.start()
    try:
        for n in range(3):
            worker.submit("s", [EventDraft("user", payloads.user(f"question {n} about zebras"))])
        assert await worker.flush(10)
        await _wait_settled(memory)
        assert [h.seq for h in await memory.search("ebra")] == [3, 2, 1]
        worker.submit("s", [EventDraft("user", payloads.user("last words"))])
        assert await worker.stop(10) == []
        assert await _pending(memory) == 0  # stopping moved them
        assert await index_mismatches(memory) == []
    finally:
        await memory.close()
