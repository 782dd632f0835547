"""Scenario 9: the newest event is on screen after every open, in a real terminal.

The installed TUI runs in a pseudo-terminal (120x40) whose output is read through a
VT100 emulator (pyte), as in ``tests/tui/test_real_terminal.py``; a 20,000-message
session is opened :data:`OPENS` times each way: Enter on the home list (ten opens per
process, Esc back to the list in between), ``--continue`` and ``--resume ID`` (one
process per open). An open counts when the newest message is on screen once the
output has been quiet for :data:`QUIET` seconds. Target: every open.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from bench.stats import Result
from tests.tui.test_real_terminal import NEWEST, TITLE, Terminal, seed_messages

OPENS = 50
#: Enter opens per process.
PER_PROCESS = 10
#: Seconds without a change to the screen's text before it is read.
QUIET = 1.0
SESSION_SCREEN = "Scroll history"


def _open_fresh(args: list[str], db: Path) -> bool:
    term = Terminal(args, db)
    try:
        term.wait_for(lambda: SESSION_SCREEN in term.text(), "the session screen")
        term.settle(QUIET)
        return NEWEST in term.text()
    finally:
        term.close()


def _open_with_enter(db: Path, opens: int) -> list[bool]:
    term = Terminal([], db)
    shown: list[bool] = []
    try:
        for _ in range(opens):
            term.wait_for(lambda: TITLE in term.text(), "the home list")
            term.settle(0.3)
            term.send(b"\r")
            term.wait_for(lambda: SESSION_SCREEN in term.text(), "the session screen")
            term.settle(QUIET)
            shown.append(NEWEST in term.text())
            term.send(b"\x1b")
            term.wait_for(lambda: SESSION_SCREEN not in term.text(), "back to the list")
    finally:
        term.close()
    return shown


def open_in_terminal(workdir: Path, *, opens: int = OPENS) -> list[Result]:
    """9: opens that show the newest message, per way of opening, out of ``opens``."""
    db = workdir / "pty.db"
    sid = asyncio.run(seed_messages(db, 20_000))
    ways: dict[str, Callable[[], list[bool]]] = {
        "Enter on the list": lambda: [
            hit
            for start in range(0, opens, PER_PROCESS)
            for hit in _open_with_enter(db, min(PER_PROCESS, opens - start))
        ],
        "--continue": lambda: [_open_fresh(["--continue"], db) for _ in range(opens)],
        "--resume ID": lambda: [_open_fresh(["--resume", sid], db) for _ in range(opens)],
    }
    results = []
    for way, run in ways.items():
        shown = run()
        misses = [i for i, hit in enumerate(shown) if not hit]
        results.append(
            Result(
                f"9 newest on screen: {way}",
                "opens showing the newest (pty 120x40)",
                float(opens),
                float(len(shown) - len(misses)),
                f"{opens} of {opens}",
                not misses,
                unit="opens",
                note=f"20,000-message session, real terminal (pty + pyte), screen read after "
                f"{QUIET:g} s without change; missed opens: {misses or 'none'}",
            )
        )
    return results
