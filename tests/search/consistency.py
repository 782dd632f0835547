"""An ``integrity-check``-style comparison of the search index with the events.

Every event must have exactly one index row (in the trigram index, or waiting for it in
``search_pending``) holding exactly the text the runtime's reader gives for it (folded),
every titled session exactly one title row, and nothing else may be in the index.
"""

from __future__ import annotations

from typing import Any

from memory import EphemeralMemory, MemoryBackend
from memory.search_query import fold
from memory.sql.search_statements import TextOf, index_values
from memory.sql.store import LibsqlMemory
from runtime.payloads import searchable_text


async def _rows(memory: LibsqlMemory, sql: str) -> list[tuple[Any, ...]]:
    result = await memory.driver.execute(sql)
    return [tuple(row) for row in result.rows]


async def index_mismatches(memory: MemoryBackend, text_of: TextOf = searchable_text) -> list[str]:
    """What differs between the index and the events (``[]`` when exact).

    Args:
        text_of: the reader the writers indexed with.
    """
    if isinstance(memory, EphemeralMemory):
        db = memory._search._db  # the mirror is private; this check is its only reader
        events = {
            (sid, seq): (kind, payload)
            for session in memory._sessions.values()
            for sid, seq, kind, payload in (
                (e.session_id, e.seq, e.kind, e.payload_json) for e in session.events
            )
        }
        rows = db.execute(
            "SELECT e.session_id, e.seq, f.mine, f.reply, f.tool FROM search_events f "
            "LEFT JOIN conversation_events e ON e.id = f.rowid"
        ).fetchall()
        titles = db.execute("SELECT session_id, title FROM search_titles").fetchall()
        wanted_titles = {
            (s.info.id, fold(s.info.title))
            for s in memory._sessions.values()
            if s.info.title is not None
        }
    else:
        assert isinstance(memory, LibsqlMemory)
        stored = await _rows(
            memory, "SELECT session_id, seq, kind, payload FROM conversation_events"
        )
        events = {(sid, seq): (kind, payload) for sid, seq, kind, payload in stored}
        # An event's row is in the trigram index or still waiting for it (0015).
        rows = await _rows(
            memory,
            "SELECT e.session_id, e.seq, f.mine, f.reply, f.tool FROM search_events f "
            "LEFT JOIN conversation_events e ON e.id = f.rowid UNION ALL "
            "SELECT e.session_id, e.seq, p.mine, p.reply, p.tool FROM search_pending p "
            "LEFT JOIN conversation_events e ON e.id = p.id",
        )
        titles = await _rows(memory, "SELECT session_id, title FROM search_titles")
        sessions = await _rows(memory, "SELECT id, title FROM sessions WHERE title IS NOT NULL")
        orphans = await _rows(
            memory,
            "SELECT session_id FROM search_title_keys "
            "WHERE session_id NOT IN (SELECT id FROM sessions)",
        )
        if orphans:
            return [f"title keys of sessions that are gone: {orphans}"]
        wanted_titles = {(sid, fold(title)) for sid, title in sessions}
    problems: list[str] = []
    seen: set[tuple[str, int]] = set()
    for sid, seq, *values in rows:
        key = (sid, seq)
        if sid is None:
            problems.append(f"index row without an event: {values!r}")
            continue
        if key in seen:
            problems.append(f"event {key} indexed twice")
        seen.add(key)
        kind, payload = events[key]
        if tuple(values) != index_values(text_of, kind, payload):
            problems.append(f"event {key} indexed with other text")
    problems += [f"event {key} not indexed" for key in sorted(set(events) - seen)]
    if sorted(titles) != sorted(wanted_titles):
        problems.append(f"titles differ: {sorted(titles)} != {sorted(wanted_titles)}")
    if isinstance(memory, EphemeralMemory):
        words, fresh = _word_vocabularies(lambda sql: db.execute(sql).fetchall())
    elif memory.driver.__class__.__module__.startswith("memory.drivers.sqlite_file"):
        words, fresh = await _word_vocabularies_async(memory)
    else:
        # sqld parses no CREATE VIRTUAL TABLE of a temp table: there the rows must be
        # the same ones (their words are checked on the embedded and in-process kinds).
        words = await _rows(memory, "SELECT id FROM search_words_docsize ORDER BY id")
        fresh = await _rows(
            memory,
            "SELECT rowid FROM search_events UNION ALL SELECT id FROM search_pending ORDER BY 1",
        )
    if words != fresh:
        problems.append(f"word index differs from the trigram rows: {words} != {fresh}")
    return problems


#: The word index (0007) is contentless: it is exact when its vocabulary (each word with
#: the rows and times it occurs, per column) equals that of a fresh index of the trigram
#: table's rows (which the checks above compare with the events).
_VOCAB = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.{name} USING fts5vocab(main, {table}, 'instance')",
    "SELECT term, doc, col, offset FROM temp.{name} ORDER BY 1, 2, 3, 4",
)
_FRESH = (
    "CREATE VIRTUAL TABLE temp.words_fresh USING fts5 (mine, reply, tool, content = '', "
    "tokenize = 'unicode61 remove_diacritics 2')",
    "INSERT INTO temp.words_fresh (rowid, mine, reply, tool) "
    "SELECT rowid, mine, reply, tool FROM search_events UNION ALL "
    "SELECT id, mine, reply, tool FROM search_pending",
    "CREATE VIRTUAL TABLE temp.words_fresh_vocab USING fts5vocab(temp, words_fresh, 'instance')",
)


def _word_vocabularies(run: Any) -> tuple[list[Any], list[Any]]:
    run(_VOCAB[0].format(name="words_vocab", table="search_words"))
    words = run(_VOCAB[1].format(name="words_vocab"))
    for sql in _FRESH:
        run(sql)
    fresh = run(_VOCAB[1].format(name="words_fresh_vocab"))
    run("DROP TABLE temp.words_fresh_vocab")
    run("DROP TABLE temp.words_fresh")
    return words, fresh


async def _word_vocabularies_async(memory: LibsqlMemory) -> tuple[list[Any], list[Any]]:
    """The same on the backend's own connection, in one batch (one remote stream)."""
    stmts = [_VOCAB[0].format(name="words_vocab", table="search_words")]
    stmts += [
        _VOCAB[1].format(name="words_vocab"),
        *_FRESH,
        _VOCAB[1].format(name="words_fresh_vocab"),
    ]
    stmts += ["DROP TABLE temp.words_fresh_vocab", "DROP TABLE temp.words_fresh"]
    results = await memory.driver.batch([(sql, ()) for sql in stmts])
    return [tuple(r) for r in results[1].rows], [tuple(r) for r in results[5].rows]
