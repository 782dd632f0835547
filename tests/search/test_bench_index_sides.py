"""The sides the benchmarks measure a save point's index cost with (bench/index_sides.py).

The "save point with index <= 1.3x" figure compares a save point with the same batch
minus its index rows; the breakdown splits that per index and measures the floor (one
token per index row). These checks keep the sides honest against the real write path:
an index table the filter missed (save-breakdown once kept the word index on its "no
index" side) or a floor side that stopped writing rows would go unnoticed in a ratio.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.index_sides import (
    FLOOR_TOKEN,
    INDEX_TABLES,
    count_index_rows,
    in_transaction,
    one_token,
    only_index,
    without_index,
)
from memory import EventDraft, LibsqlMemory, NewTurn, open_embedded
from runtime import payloads
from runtime.payloads import searchable_text

Statements = list[tuple[str, list[Any]]]


def _drafts(turn: int) -> list[EventDraft]:
    return [
        EventDraft("user", payloads.user(f"turn {turn}: the flaky upload test")),
        EventDraft("tool_call", payloads.tool_call("c1", "grep", {"pattern": "snake_case_name"})),
        EventDraft("assistant", payloads.assistant("An answer about refactorAuthMiddleware. " * 5)),
    ]


def _batch(memory: LibsqlMemory, session_id: str, turn: int, keyed: bool) -> Statements:
    if keyed:  # as save-breakdown stores (a save point key, a new turn: claim-check arguments)
        return memory._store_statements(session_id, _drafts(turn), f"k{turn}", turn=NewTurn())
    return memory._store_statements(session_id, _drafts(turn), None)


def _index_tables(stmts: Statements) -> list[str]:
    return [sql.split()[2] for sql, _ in stmts if sql.startswith("INSERT INTO search_")]


async def test_sides_change_only_index_statements(tmp_path: Path) -> None:
    memory = await open_embedded(tmp_path / "sides.db")
    memory.use_search_text(searchable_text)
    try:
        for keyed in (False, True):
            stmts = _batch(memory, "s", 1, keyed)
            # Every statement writing a search table writes one of the two, once each: the
            # word index and the pending rows (which become trigram rows when settled).
            assert sorted(_index_tables(stmts)) == sorted(INDEX_TABLES)
            assert sorted(_index_tables(in_transaction(stmts))) == [
                "search_events",
                "search_words",
            ]
            assert [a for _, a in in_transaction(stmts)] == [a for _, a in stmts]
            rest = [s for s in stmts if not s[0].startswith("INSERT INTO search_")]
            assert without_index(stmts) == rest
            for table in INDEX_TABLES:
                assert _index_tables(only_index(stmts, table)) == [table]
            floor = one_token(stmts)
            assert [sql for sql, _ in floor] == [sql for sql, _ in stmts]
            for (sql, args), (_, cut) in zip(stmts, floor, strict=True):
                if not sql.startswith("INSERT INTO search_"):
                    assert cut == args
                    continue
                rows = sql.count("(?, ?, ?, ?)")
                assert rows == 3
                # Offsets, the session id and the claim check are kept; each non-empty
                # text becomes the token, each empty one stays empty.
                assert cut[4 * rows :] == args[4 * rows :]
                for i in range(4 * rows):
                    want = args[i] if i % 4 == 0 else (FLOOR_TOKEN if args[i] else "")
                    assert cut[i] == want
    finally:
        await memory.close()


async def test_sides_write_the_index_rows_they_claim(tmp_path: Path) -> None:
    memory = await open_embedded(tmp_path / "rows.db")
    memory.use_search_text(searchable_text)
    sides = {
        "indexed": lambda s: s,
        "plain": without_index,
        "words": lambda s: only_index(s, "search_words"),
        "pending": lambda s: only_index(s, "search_pending"),
        "before": in_transaction,
        "trigram": lambda s: only_index(in_transaction(s), "search_events"),
        "floor": lambda s: one_token(in_transaction(s)),
    }
    try:
        for turn in range(1, 4):
            for name, side in sides.items():
                await memory.driver.batch(side(_batch(memory, name, turn, keyed=turn % 2 == 0)))
        events = 3 * 3
        # (word index, pending, trigram index, rows holding the floor token)
        expected = {
            "indexed": (events, events, 0, 0),
            "plain": (0, 0, 0, 0),
            "words": (events, 0, 0, 0),
            "pending": (0, events, 0, 0),
            "before": (events, 0, events, 0),
            "trigram": (0, 0, events, 0),
            "floor": (events, 0, events, events),
        }

        def count(conn: Any) -> dict[str, tuple[int, int, int, int]]:
            found = {}
            for name in sides:
                rows = count_index_rows(conn, name, FLOOR_TOKEN)
                found[name] = (
                    rows["search_words"],
                    rows["search_pending"],
                    rows["search_events"],
                    rows["matching"],
                )
            return found

        assert await memory.driver.run(count) == expected
        # The saved events are whole on every side: only their index rows differ.
        for name in sides:
            assert len(await memory.recall(name)) == events
        # The floor rows are real index rows: a search for the token finds exactly them.
        hits = await memory.search(FLOOR_TOKEN, limit=50)
        assert {(h.session_id, h.kind) for h in hits} == {
            ("floor", "user"),
            ("floor", "tool_call"),
            ("floor", "assistant"),
        }
        assert len(hits) == events
    finally:
        await memory.close()


async def test_sides_drop_a_waiting_rows_folded_copy(tmp_path: Path) -> None:
    """Greek text gets a case-folded copy on its pending row (an UPDATE): the sides that
    write no pending row drop it with the row."""
    memory = await open_embedded(tmp_path / "greek.db")
    memory.use_search_text(searchable_text)
    try:
        drafts = [EventDraft("user", payloads.user("ΚΑΛΗΜΕΡΑ σας")), *_drafts(1)]
        stmts = memory._store_statements("g", drafts, None)
        folds = [sql for sql, _ in stmts if sql.startswith("UPDATE search_pending")]
        assert len(folds) == 1  # the Greek event's only
        for side in (without_index, in_transaction, one_token):
            assert not [sql for sql, _ in side(stmts) if sql.startswith("UPDATE search_pending")]
        assert len(only_index(stmts, "search_pending")) == len(stmts) - 1  # words dropped
        await memory.driver.batch(stmts)
        folded = await memory.driver.execute("SELECT folded FROM search_pending ORDER BY id")
        assert [r[0] for r in folded.rows] == ["καλημερα σασ", None, None, None]
    finally:
        await memory.close()
