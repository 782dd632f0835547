"""The search benchmark's corpus: realistic text, a million events, written fast.

Prose, code identifiers, tool output, accented and CJK words drawn from a fixed
vocabulary with a seeded generator (every run searches the same text), written with raw
sqlite3 into a migrated database; a rare word is planted in one session of every
thousand. The index is left to the backfill.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.seed import BASE, migrated
from memory.records import format_ts
from runtime import payloads

EVENTS = int(os.environ.get("TURNKEEP_BENCH_SEARCH_EVENTS", "1000000"))
SESSIONS = max(1, EVENTS // 100)
#: Planted words and where: (word, kind, every Nth session gets one).
RARE = "zanzibarite"
PHRASE = '"connection reset by peer"'
COMMON = "function"
PREFIX = "refact*"
#: A frequent word without another frequent one (inside words too), and a two-letter
#: term (no trigram: whole words, then inside words among the newest events).
EXCLUDED = "function -error"
SHORT = "go"

WORDS = [
    "the",
    "a",
    "to",
    "of",
    "and",
    "in",
    "is",
    "it",
    "that",
    "for",
    "on",
    "with",
    "as",
    "this",
    "be",
    "are",
    "was",
    "you",
    "we",
    "can",
    "not",
    "or",
    "by",
    "at",
    "from",
    "have",
    "but",
    "if",
    "will",
    "should",
    "would",
    "could",
    "then",
    "when",
    "what",
    "which",
    "how",
    "why",
    "where",
    "there",
    "test",
    "tests",
    "file",
    "files",
    "error",
    "errors",
    "value",
    "values",
    "function",
    "functions",
    "class",
    "method",
    "request",
    "response",
    "server",
    "client",
    "database",
    "query",
    "index",
    "table",
    "column",
    "row",
    "rows",
    "session",
    "upload",
    "download",
    "retry",
    "timeout",
    "connection",
    "network",
    "socket",
    "buffer",
    "cache",
    "memory",
    "thread",
    "process",
    "worker",
    "queue",
    "event",
    "events",
    "message",
    "messages",
    "payload",
    "config",
    "setting",
    "settings",
    "build",
    "deploy",
    "release",
    "branch",
    "commit",
    "merge",
    "review",
    "change",
    "changes",
    "fix",
    "fixed",
    "bug",
    "issue",
    "flaky",
    "slow",
    "fast",
    "latency",
    "throughput",
    "benchmark",
    "profile",
    "trace",
    "log",
    "logs",
    "output",
    "input",
    "parser",
    "lexer",
    "token",
    "tokens",
    "syntax",
    "tree",
    "node",
    "graph",
    "path",
    "route",
    "handler",
    "middleware",
    "auth",
    "refactor",
    "rename",
    "extract",
    "inline",
    "module",
    "package",
    "import",
    "export",
    "interface",
    "protocol",
    "type",
    "café",
    "naïve",
    "résumé",
    "über",
    "straße",
    "東京",
    "数据库",
    "测试",
    "搜索",
    "会话",
]
_IDENTIFIERS = [
    "refactorAuthMiddleware",
    "snake_case_name",
    "parseConfigFile",
    "upload_chunk",
    "retryWithBackoff",
    "SessionCatalog",
    "store_once",
    "search_events",
    "open_embedded",
    "flakyUploadTest",
    "build_index",
]


def _sentence(rng: random.Random, words: int) -> str:
    picked = rng.choices(WORDS, k=words)
    if rng.random() < 0.3:
        picked[rng.randrange(words)] = rng.choice(_IDENTIFIERS)
    return " ".join(picked).capitalize() + "."


def _event(rng: random.Random, kind: str, turn: int) -> dict[str, Any]:
    if kind == "user":
        return payloads.user(_sentence(rng, rng.randint(8, 30)))
    if kind == "assistant":
        return payloads.assistant(
            " ".join(_sentence(rng, rng.randint(8, 20)) for _ in range(rng.randint(2, 5))),
            provider="local",
            model="m",
        )
    if kind == "tool_call":
        return payloads.tool_call(
            f"c{turn}", "run_shell", {"cmd": f"pytest -k {rng.choice(_IDENTIFIERS)} -x"}
        )
    lines = [
        f"{rng.choice(_IDENTIFIERS)}.py:{rng.randint(1, 900)}: {_sentence(rng, rng.randint(4, 10))}"
        for _ in range(rng.randint(1, 4))
    ]
    if rng.random() < 0.01:
        lines.append("ConnectionResetError: connection reset by peer")
    return payloads.tool_result(f"c{turn}", "run_shell", result="\n".join(lines))


_KINDS = ("user", "tool_call", "tool_result", "assistant")


def _rows(events: int, sessions: int) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(14)
    per = events // sessions
    for s in range(sessions):
        sid = f"s{s:05d}"
        for seq in range(1, per + 1):
            kind = _KINDS[(seq - 1) % 4]
            turn = (seq - 1) // 4 + 1
            payload = _event(rng, kind, turn)
            if kind == "user" and seq == 1 and s % 1000 == 7:
                payload = payloads.user(f"where did the {RARE} crystal go?")
            moment = format_ts(BASE.replace(microsecond=0) + _delta(s, seq))
            yield sid, seq, turn, kind, json.dumps(payload, separators=(",", ":")), moment


def _delta(session: int, seq: int) -> timedelta:
    return timedelta(minutes=session, seconds=seq)


def build_corpus(path: Path, events: int = EVENTS, sessions: int = SESSIONS) -> dict[str, float]:
    """Write the corpus with raw sqlite3 into a migrated database (index left empty).

    The index's progress row is set as migration 0004 sets it on a database that had
    these events: all of them wait for the backfill.
    """
    migrated(path)
    conn = sqlite3.connect(path)
    started = time.perf_counter()
    per = events // sessions
    with conn:
        conn.executemany(
            "INSERT INTO sessions (id, title, created_at, updated_at, last_seq, event_count, "
            "turn_count) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    f"s{s:05d}",
                    f"Session {s} about {WORDS[s % len(WORDS)]} {_IDENTIFIERS[s % 10]}",
                    format_ts(BASE),
                    format_ts(BASE + _delta(s, per)),
                    per,
                    per,
                    per // 4,
                )
                for s in range(sessions)
            ],
        )
        conn.executemany(
            "INSERT INTO conversation_events (session_id, seq, turn, kind, payload, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            _rows(events, sessions),
        )
        conn.execute(
            "UPDATE search_progress SET backfill_until = (SELECT max(id) FROM "
            "conversation_events), backfill_done = 0, titles_done = 0"
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {"seconds": time.perf_counter() - started, "bytes": path.stat().st_size}
