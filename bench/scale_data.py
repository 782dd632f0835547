"""Generated databases for scenario 8 (a million events), built with direct SQL and cached.

Two databases with the same shape at two sizes: a ``small`` one of 1,000 sessions and
10,000 events and a ``large`` one of 100,000 sessions and 1,000,000 events. Both hold
the same largest session (:data:`BIG_EVENTS` events, id :data:`BIG`) and the same rare
word in :data:`RARE_HITS` events, so every operation timed on them does the same work
on its own rows and only the size of everything around it differs.

Index rows for search are written by SQL (the text is plain ASCII, which the app's
folding leaves as it is), three events per transaction as save points write them, so
no backfill runs and the index has the segments the app's own writes leave. The files are cached in
``$TURNKEEP_BENCH_CACHE`` (default ``/tmp/turnkeep-bench-cache``) under a key made of
the migrations' text and :data:`GENERATOR_VERSION`: a schema change builds new ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Final

from bench.seed import BASE, migrated
from memory.records import format_ts
from memory.schema.migrate import migrations_dir

#: Bump when the generated content changes.
GENERATOR_VERSION: Final = 3
BIG: Final = "big-session"
BIG_EVENTS: Final = 2_000
RARE: Final = "xylophonic"
RARE_HITS: Final = 10
#: Events per index transaction (a save point of one turn).
SAVE_POINT_EVENTS: Final = 3
_INDEX_RANGE: Final = (
    "INSERT INTO search_events (rowid, mine, reply, tool) SELECT id, "
    "CASE kind WHEN 'user' THEN json_extract(payload, '$.content') ELSE '' END, "
    "CASE kind WHEN 'assistant' THEN json_extract(payload, '$.content') ELSE '' END, '' "
    "FROM conversation_events WHERE id BETWEEN ? AND ?"
)
#: The word index (0010) gets the same rows in the same transaction, as a save point
#: writes them (memory.sql.search_words.with_words); version 2 left it empty, so every
#: search fell back to the trigram index.
_WORDS_RANGE: Final = _INDEX_RANGE.replace("search_events", "search_words", 1)
SIZES: Final = {"small": (1_000, 10_000), "large": (100_000, 1_000_000)}


def cache_dir() -> Path:
    """Where generated databases are kept between runs."""
    return Path(os.environ.get("TURNKEEP_BENCH_CACHE", "/tmp/turnkeep-bench-cache"))


def schema_key() -> str:
    """A short hash of every migration's text and the generator version."""
    digest = hashlib.sha256(str(GENERATOR_VERSION).encode())
    for path in sorted(migrations_dir().glob("*.sql")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def database(size: str, workdir: Path) -> Path:
    """A private copy (in ``workdir``) of the cached ``size`` database, built if missing."""
    cached = cache_dir() / f"scale-{size}-{schema_key()}.db"
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        building = cached.with_suffix(".building")
        building.unlink(missing_ok=True)
        sessions, events = SIZES[size]
        generate(migrated(building), sessions, events)
        building.rename(cached)
    copy = workdir / f"scale-{size}.db"
    shutil.copyfile(cached, copy)
    return copy


def _content(seq: int, number: int) -> str:
    return f"#{seq} note on topic {number % 97} item{number * 31 % 5003} and more"


def generate(path: Path, sessions: int, events: int) -> None:
    """Fill a migrated database: ``sessions`` sessions, ``events`` events in all."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    others = sessions - 1
    per = (events - BIG_EVENTS) // others
    extra = (events - BIG_EVENTS) - per * others
    rare_every = max(1, events // RARE_HITS)
    conn.execute("BEGIN")
    ends = BASE + timedelta(days=30)
    counts = {BIG: BIG_EVENTS}
    session_rows = [
        (BIG, format_ts(BASE), format_ts(ends - timedelta(seconds=sessions)), BIG_EVENTS)
    ]
    for i in range(others):
        count = per + (1 if i < extra else 0)
        sid = f"s{i:08d}"
        counts[sid] = count
        updated = ends - timedelta(seconds=(i * 7919) % sessions)
        created = format_ts(BASE + timedelta(seconds=i))
        session_rows.append((sid, created, format_ts(updated), count))
    conn.executemany(
        "INSERT INTO sessions (id, provider, model, created_at, updated_at, last_seq, "
        "event_count, turn_count) VALUES (?, 'local', 'smollm2', ?, ?, ?4, ?4, (?4 + 1) / 2)",
        session_rows,
    )
    stamp = format_ts(BASE)
    number = 0

    def rows() -> Iterator[tuple[str, int, int, str, str, str]]:
        nonlocal number
        for sid, count in counts.items():
            for seq in range(1, count + 1):
                number += 1
                kind = "user" if seq % 2 else "assistant"
                text = _content(seq, number)
                if number % rare_every == 0:
                    text += f" {RARE}"
                payload = json.dumps({"role": kind, "content": text}, separators=(",", ":"))
                yield sid, seq, (seq + 1) // 2, kind, payload, stamp

    conn.executemany(
        "INSERT INTO conversation_events (session_id, seq, turn, kind, payload, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows(),
    )
    conn.execute("COMMIT")
    # Index rows a save point at a time (three events per transaction), as the app writes
    # them: FTS5 merges its segments as it goes, and a search probes each segment, so an
    # index written in one bulk statement would be shaped (and searched) differently.
    last = conn.execute("SELECT max(id) FROM conversation_events").fetchone()[0]
    for first in range(1, last + 1, SAVE_POINT_EVENTS):
        conn.execute("BEGIN")
        conn.execute(_INDEX_RANGE, (first, first + SAVE_POINT_EVENTS - 1))
        conn.execute(_WORDS_RANGE, (first, first + SAVE_POINT_EVENTS - 1))
        conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
