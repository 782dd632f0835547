"""The real ``turnkeep`` in a pseudo-terminal lands on the newest message (item 5).

Headless runs hid the open-at-the-oldest race; this runs the installed command in a
pty sized 120x40, reads what it draws through a VT100 emulator (pyte) and checks the
newest message of a 20,000-message session is on screen once the output has settled,
opening with ``--resume`` and with Enter from the list.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pyte
import pytest

from memory import EventDraft, open_embedded
from tests.tui.seed import session_id

pytestmark = pytest.mark.slow

COLUMNS, LINES = 120, 40
NEWEST = "Message 20000:"
TITLE = "Twenty thousand messages"


async def seed_messages(path: Path, count: int) -> str:
    """A session of ``count`` questions and answers of varied length (no tool events)."""
    memory = await open_embedded(path)
    sid = session_id(901)
    try:
        await memory.create_session(sid, title=TITLE, provider="local", model="m")
        batch: list[EventDraft] = []
        for index in range(count):
            turn = index // 2 + 1
            if index % 2 == 0:
                text = f"Message {index + 1}: question {turn} " + "words " * (index % 30)
                batch.append(EventDraft("user", {"role": "user", "content": text}, turn=turn))
            else:
                text = f"Message {index + 1}: answer {turn}\n\n" + "more text " * (index % 50)
                batch.append(
                    EventDraft("assistant", {"role": "assistant", "content": text}, turn=turn)
                )
            if len(batch) >= 2000:
                await memory.store(sid, batch)
                batch = []
        if batch:
            await memory.store(sid, batch)
    finally:
        await memory.close()
    return sid


@pytest.fixture(scope="module")
def long_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("pty") / "turnkeep.db"
    sid = asyncio.run(seed_messages(path, 20_000))
    return path, sid


class Terminal:
    """A child process on a pty, its screen emulated by pyte."""

    def __init__(self, args: list[str], db: Path) -> None:
        self.screen = pyte.Screen(COLUMNS, LINES)
        self.stream = pyte.ByteStream(self.screen)
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "COLUMNS": str(COLUMNS),
            "LINES": str(LINES),
            "TURNKEEP_DB__PATH": str(db),
            "TURNKEEP_AGENT__PROVIDER": "scripted",
        }
        env.pop("TEXTUAL", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.master = master

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def read(self, seconds: float) -> bool:
        """Feed output for up to ``seconds``; ``True`` if any arrived."""
        ready, _, _ = select.select([self.master], [], [], seconds)
        if not ready:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:
            return False
        self.stream.feed(data)
        return bool(data)

    def wait_for(self, condition: Callable[[], bool], what: str, bound: float = 60) -> None:
        # A bound so a broken run ends; not a speed check.
        end = time.monotonic() + bound
        while time.monotonic() < end:
            if condition():
                return
            self.read(0.2)
        raise AssertionError(f"never happened: {what}\n{self.text()}")

    def settle(self, quiet: float = 1.5) -> None:
        """Read until the screen's text has not changed for ``quiet`` seconds.

        (A blinking cursor keeps writing; it does not change the text.)
        """
        for _ in range(60):
            before = self.text()
            end = time.monotonic() + quiet
            while (left := end - time.monotonic()) > 0:
                self.read(min(left, 0.2))
            if self.text() == before:
                return

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        try:
            self.send(b"\x11")  # ctrl+q
            for _ in range(100):
                self.read(0.05)
                if self.proc.poll() is not None:
                    break
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(timeout=30)
            os.close(self.master)


def open_and_check(args: list[str], db: Path, enter: bool) -> str:
    term = Terminal(args, db)
    try:
        if enter:
            term.wait_for(lambda: TITLE in term.text(), "the home list")
            term.settle(0.5)
            term.send(b"\r")
        term.wait_for(lambda: "Scroll history" in term.text(), "the session screen")
        term.settle()
        return term.text()
    finally:
        term.close()


@pytest.mark.parametrize("attempt", range(3))
def test_resume_in_a_real_terminal_shows_the_newest_message(
    long_db: tuple[Path, str], attempt: int
) -> None:
    db, sid = long_db
    screen = open_and_check(["--resume", sid], db, enter=False)
    assert NEWEST in screen, screen


def test_enter_in_a_real_terminal_shows_the_newest_message(long_db: tuple[Path, str]) -> None:
    db, _sid = long_db
    term = Terminal([], db)
    misses: list[int] = []
    try:
        for attempt in range(8):
            term.wait_for(lambda: TITLE in term.text(), "the home list")
            term.settle(0.5)
            term.send(b"\r")
            term.wait_for(lambda: "Scroll history" in term.text(), "the session screen")
            term.settle()
            if NEWEST not in term.text():
                misses.append(attempt)
            term.send(b"\x1b")  # Esc: back to the list
            term.wait_for(lambda: "Scroll history" not in term.text(), "back to the list")
    finally:
        term.close()
    assert not misses, f"opens without the newest message: {misses}"
