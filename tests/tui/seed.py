"""Seeded databases for the TUI's tests, snapshots and ``scripts/screenshots.py``.

Everything here goes through the real memory API (``open_embedded``, ``store``,
``create_session``) into a real SQLite file, with a frozen clock so timestamps, relative
times and ids are the same on every run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from memory import EventDraft, open_embedded

__all__ = [
    "NOW",
    "DemoSession",
    "SteppingClock",
    "demo_sessions",
    "seed_demo",
    "seed_long_session",
    "seed_many_sessions",
    "session_id",
]

#: "Now" in every seeded picture: the frozen clock of the tests.
NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


class SteppingClock:
    """A frozen clock that the seeding moves forward by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment


def session_id(n: int) -> str:
    """A deterministic id shaped like the real ones (48 hex digits, time-ordered)."""
    return f"{0x019A0000000 + n:012x}{n:036x}"[:48]


def user(text: str) -> tuple[str, dict[str, Any]]:
    return "user", {"role": "user", "content": text}


def assistant(text: str, provider: str, model: str, **extra: Any) -> tuple[str, dict[str, Any]]:
    return "assistant", {
        "role": "assistant",
        "content": text,
        "provider": provider,
        "model": model,
        **extra,
    }


def tool_call(call_id: str, name: str, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "tool_call", {"call_id": call_id, "name": name, "arguments": arguments}


def tool_result(
    call_id: str, name: str, result: Any, error: str | None = None
) -> tuple[str, dict[str, Any]]:
    return "tool_result", {"call_id": call_id, "name": name, "result": result, "error": error}


@dataclass
class DemoSession:
    """A session to seed: its catalog row and its turns (each a list of events)."""

    n: int
    title: str | None
    provider: str
    model: str
    age: timedelta
    turns: list[list[tuple[str, dict[str, Any]]]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return session_id(self.n)


def demo_sessions() -> list[DemoSession]:
    """A small, realistic history: tool calls, Markdown, a cancelled turn, an error."""
    local, smol = "local", "SmolLM2-135M-Instruct"
    openai, mini = "openai", "gpt-4o-mini"
    return [
        DemoSession(
            1,
            "Why does the upload test flake on CI?",
            local,
            smol,
            timedelta(minutes=4),
            [
                [
                    user("The upload test fails about one run in ten on CI. Can you look?"),
                    tool_call("call_1", "read_file", {"path": "tests/test_upload.py"}),
                    tool_result(
                        "call_1",
                        "read_file",
                        {
                            "path": "tests/test_upload.py",
                            "lines": 42,
                            "excerpt": "await client.upload(blob)\nassert store.count() == 1",
                        },
                    ),
                    tool_call("call_2", "search", {"query": "store.count", "limit": 5}),
                    tool_result(
                        "call_2",
                        "search",
                        [
                            {"file": "app/store.py", "line": 88},
                            {"file": "tests/test_upload.py", "line": 31},
                        ],
                    ),
                    assistant(
                        "The test asserts **before the background flush** finishes:\n\n"
                        "1. `upload()` returns once the blob is queued\n"
                        "2. `store.count()` reads the table right away\n\n"
                        "Wait for the flush first:\n\n"
                        "```python\nawait client.upload(blob)\nawait store.flush()\n"
                        "assert store.count() == 1\n```",
                        local,
                        smol,
                    ),
                ],
                [
                    user("Run the test 20 times with the fix."),
                    tool_call(
                        "call_3", "run_tests", {"target": "tests/test_upload.py", "repeat": 20}
                    ),
                    tool_result(
                        "call_3", "run_tests", {"passed": 20, "failed": 0, "seconds": 41.2}
                    ),
                    assistant("All **20 runs passed** in 41 s. The flake is gone.", local, smol),
                ],
            ],
        ),
        DemoSession(
            2,
            "Plan the move from SQLite to a shared libSQL server",
            openai,
            mini,
            timedelta(hours=3),
            [
                [
                    user("We outgrew one laptop. What changes if the team shares one database?"),
                    assistant(
                        "Three things change:\n\n- **Auth**: every client needs a token\n"
                        "- **Latency**: each save point is a network round trip\n"
                        "- **Migrations**: run once, from one place",
                        openai,
                        mini,
                    ),
                ]
            ],
        ),
        DemoSession(
            3,
            "Summarise the incident timeline",
            openai,
            mini,
            timedelta(hours=26),
            [
                [
                    user("Summarise yesterday's incident channel for the postmortem."),
                    assistant(
                        "Here is the timeline so far: 09:12 first alert, 09:20", openai, mini
                    ),
                    ("cancelled", {"reason": "cancelled by the user", "partial_text": "Here is"}),
                ]
            ],
        ),
        DemoSession(
            4,
            None,
            local,
            smol,
            timedelta(days=2, hours=5),
            [
                [
                    user("Translate the README into French."),
                    (
                        "error",
                        {
                            "error": {
                                "title": "Model provider failed",
                                "message": "the prompt does not fit the 2,048-token context",
                            }
                        },
                    ),
                ]
            ],
        ),
        DemoSession(
            5,
            "Draft the 0.4 release notes",
            local,
            smol,
            timedelta(days=6),
            [
                [
                    user("Draft release notes from the merged PRs."),
                    assistant("## 0.4\n\n- Faster session list\n- Remote mode", local, smol),
                ]
            ],
        ),
        DemoSession(
            6,
            "Regex for ISO dates with optional time",
            openai,
            mini,
            timedelta(days=12),
            [
                [
                    user("A regex for 2026-11-25 and 2026-11-25T12:00?"),
                    assistant(r"`\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?`", openai, mini),
                ]
            ],
        ),
    ]


async def _store_session(memory: Any, clock: SteppingClock, demo: DemoSession) -> None:
    start = NOW - demo.age
    clock.set(start - timedelta(minutes=2 * len(demo.turns)))
    await memory.create_session(demo.id, title=demo.title, provider=demo.provider, model=demo.model)
    for number, turn in enumerate(demo.turns, start=1):
        clock.set(start - timedelta(minutes=2 * (len(demo.turns) - number)))
        await memory.store(demo.id, [EventDraft(k, p, turn=number) for k, p in turn])


async def seed_demo(path: Path, sessions: Sequence[DemoSession] | None = None) -> list[DemoSession]:
    """Create ``path`` holding the demo sessions (oldest stored first)."""
    chosen = list(sessions if sessions is not None else demo_sessions())
    clock = SteppingClock(NOW)
    memory = await open_embedded(path, clock=clock)
    try:
        for demo in sorted(chosen, key=lambda d: d.age, reverse=True):
            await _store_session(memory, clock, demo)
        # As the app leaves a history at rest: the save points' substring rows moved
        # into the index (the persistence worker does it when idle).
        while await memory.settle_search():
            pass
    finally:
        await memory.close()
    return chosen


async def seed_long_session(
    path: Path, events: int, *, n: int = 900, title: str = "A very long session"
) -> str:
    """A session of ``events`` events (user/tool/assistant turns), stored in big batches."""
    clock = SteppingClock(NOW - timedelta(hours=1))
    memory = await open_embedded(path, clock=clock)
    sid = session_id(n)
    try:
        await memory.create_session(
            sid, title=title, provider="local", model="SmolLM2-135M-Instruct"
        )
        batch: list[EventDraft] = []
        for index in range(events):
            turn = index // 4 + 1
            kind, payload = _long_event(index, turn)
            batch.append(EventDraft(kind, payload, turn=turn))
            if len(batch) >= 2000:
                await memory.store(sid, batch)
                batch = []
        if batch:
            await memory.store(sid, batch)
    finally:
        await memory.close()
    return sid


def _long_event(index: int, turn: int) -> tuple[str, dict[str, Any]]:
    step = index % 4
    if step == 0:
        return user(f"Question number {turn}: what is {turn} squared?")
    if step == 1:
        return tool_call(f"c{turn}", "calculator", {"expression": f"{turn}*{turn}"})
    if step == 2:
        return tool_result(f"c{turn}", "calculator", {"value": turn * turn})
    return assistant(f"Turn {turn}: **{turn * turn}**.", "local", "SmolLM2-135M-Instruct")


async def seed_many_sessions(path: Path, count: int, *, prefix: str = "Session") -> None:
    """``count`` small sessions (titles ``{prefix} 00001`` ...), newest last."""
    clock = SteppingClock(NOW - timedelta(seconds=count))
    memory = await open_embedded(path, clock=clock)
    try:
        for index in range(count):
            clock.set(NOW - timedelta(seconds=count - index))
            sid = session_id(10_000 + index)
            await memory.store(sid, [EventDraft(*user(f"hello {index}"))])
            await memory.rename_session(sid, f"{prefix} {index:05d}")
    finally:
        await memory.close()
