"""Helpers for the ``turnkeep sessions`` / ``db backup`` command-line tests.

A :class:`Target` is a real database the CLI is pointed at through the environment, as
a user would: an embedded file (``TURNKEEP_DB__PATH``) or the test session's real sqld
(``TURNKEEP_DB__URL`` + ``TURNKEEP_DB__AUTH_TOKEN``), over WebSocket or HTTP.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from memory import EventDraft, MemoryBackend, open_embedded, open_remote, write_bundle
from tests.conftest import FrozenClock
from tui.cli import main

ROOT = Path(__file__).resolve().parents[2]
#: Where every command is run: the embedded file, and sqld over ws and over http.
KINDS = ["embedded", "remote-ws", "remote-http"]

T = TypeVar("T")


@dataclass
class Target:
    """A database the CLI is pointed at, and a way to look at it directly."""

    kind: str
    env: dict[str, str]
    db_path: Path | None = None
    url: str | None = None
    token: str | None = None

    async def open(self, clock: FrozenClock | None = None) -> MemoryBackend:
        """Open the same database through the memory layer (seeding and checking)."""
        clock = clock or FrozenClock()
        if self.db_path is not None:
            return await open_embedded(self.db_path, clock=clock)
        assert self.url is not None
        return await open_remote(self.url, auth_token=self.token, clock=clock)

    def using(
        self, func: Callable[[MemoryBackend], Awaitable[T]], clock: FrozenClock | None = None
    ) -> T:
        """Run ``func(memory)`` on a freshly opened backend and close it."""

        async def run() -> T:
            memory = await self.open(clock)
            try:
                return await func(memory)
            finally:
                await memory.close()

        return asyncio.run(run())

    def seed(self) -> None:
        """Store the :data:`SEEDED` sessions."""
        clock = FrozenClock()
        self.using(lambda memory: seed(memory, clock), clock)

    def export_all(self) -> str:
        """Every session as export text, through the memory layer (not the CLI)."""

        async def export(memory: MemoryBackend) -> str:
            chunks: list[str] = []
            await write_bundle(memory.export_sessions(), chunks.append)
            return "".join(chunks)

        return self.using(export)

    def run(
        self, *args: str, stdin: Any = subprocess.DEVNULL, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run ``python -m tui ARGS`` as a separate process, black box."""
        return subprocess.run(
            [sys.executable, "-m", "tui", *args],
            env={**os.environ, **self.env},
            stdin=stdin,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=timeout,
            check=False,
        )


def make_target(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Target:
    """Build a :class:`Target` of ``kind`` with no sessions, and point the environment at it."""
    if kind == "embedded":
        path = tmp_path / "cli.db"
        target = Target(kind, {"TURNKEEP_DB__PATH": str(path)}, db_path=path)
    else:
        from tests.support.sqld import CLEAR_ROWS

        sqld = request.getfixturevalue("sqld")
        token = sqld.token()
        url = sqld.url(kind)
        target = Target(
            kind,
            {"TURNKEEP_DB__URL": url, "TURNKEEP_DB__AUTH_TOKEN": token},
            url=url,
            token=token,
        )

        async def clear(memory: MemoryBackend) -> None:
            await memory.driver.batch([(sql, ()) for sql in CLEAR_ROWS])  # type: ignore[attr-defined]

        target.using(clear)
    for name, value in target.env.items():
        monkeypatch.setenv(name, value)
    return target


SEEDED = ["s-tools", "s-plain", "s-empty"]


async def seed(memory: MemoryBackend, clock: FrozenClock) -> None:
    """Three sessions; newest activity first they are s-empty, s-plain, s-tools."""
    await memory.create_session(
        "s-tools", title="Refactor the parser ✓", provider="scripted", model="m1"
    )
    await memory.store(
        "s-tools",
        [
            EventDraft("user", {"role": "user", "content": "What is 2+2? «ünï»"}, turn=1),
            EventDraft(
                "tool_call",
                {"name": "calculator", "call_id": "c1", "arguments": {"expression": "2+2"}},
                turn=1,
            ),
            EventDraft("tool_result", {"name": "calculator", "call_id": "c1", "result": "4"}, 1),
            EventDraft("assistant", {"role": "assistant", "content": "It is **4**."}, turn=1),
            EventDraft("user", {"role": "user", "content": "thanks ```x```"}, turn=2),
            EventDraft("assistant", {"role": "assistant", "content": "You're welcome."}, 2),
        ],
    )
    await memory.save_state("s-tools", {"cursor": 6})
    clock.advance(60)
    await memory.store("s-plain", [EventDraft("user", {"content": "lunch?"}, turn=1)])
    await memory.rename_session("s-plain", "Lunch plans")
    clock.advance(60)
    await memory.create_session("s-empty")


def cli(target: Target, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``turnkeep ARGV`` in-process; the token must never appear in what it prints."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    if target.token:
        assert target.token not in out + err
    return code, out, err


def turnkeep_process(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m tui ARGS`` as a separate process with ``env`` added to this
    one's environment, stdin closed, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )
