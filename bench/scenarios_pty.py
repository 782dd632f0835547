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
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.stats import Result
from tests.tui.test_real_terminal import NEWEST, TITLE, Terminal, seed_messages

OPENS = 50
#: Enter opens per process.
PER_PROCESS = 10
#: Seconds without a change to the screen's text before it is read.
QUIET = 1.0
SESSION_SCREEN = "Scroll history"


#: A miss is looked at again after this many more quiet seconds: "late" when the newest
#: message shows by then (the paint took longer than QUIET), "stuck" when it does not.
SECOND_LOOK = 3.0
_MESSAGE = re.compile(r"Message (\d+):")


def _verdict(term: Terminal) -> str:
    """``"shown"``, or for a miss ``"late"``/``"stuck"`` and the newest message visible."""
    if NEWEST in term.text():
        return "shown"
    seen = [int(n) for n in _MESSAGE.findall(term.text())]
    term.settle(SECOND_LOOK)
    late = NEWEST in term.text()
    return f"{'late' if late else 'stuck'} (newest visible: {max(seen, default=0)})"


def _open_fresh(args: list[str], db: Path) -> str:
    term = Terminal(args, db)
    try:
        term.wait_for(lambda: SESSION_SCREEN in term.text(), "the session screen")
        term.settle(QUIET)
        return _verdict(term)
    finally:
        term.close()


def _open_with_enter(db: Path, opens: int) -> list[str]:
    term = Terminal([], db)
    shown: list[str] = []
    try:
        for _ in range(opens):
            term.wait_for(lambda: TITLE in term.text(), "the home list")
            term.settle(0.3)
            term.send(b"\r")
            term.wait_for(lambda: SESSION_SCREEN in term.text(), "the session screen")
            term.settle(QUIET)
            shown.append(_verdict(term))
            term.send(b"\x1b")
            term.wait_for(lambda: SESSION_SCREEN not in term.text(), "back to the list")
    finally:
        term.close()
    return shown


def open_in_terminal(
    workdir: Path, *, opens: int = OPENS, ways: Sequence[str] = ()
) -> list[Result]:
    """9: opens that show the newest message, per way of opening, out of ``opens``."""
    db = workdir / "pty.db"
    sid = asyncio.run(seed_messages(db, 20_000))
    every: dict[str, Callable[[], list[str]]] = {
        "Enter on the list": lambda: [
            hit
            for start in range(0, opens, PER_PROCESS)
            for hit in _open_with_enter(db, min(PER_PROCESS, opens - start))
        ],
        "--continue": lambda: [_open_fresh(["--continue"], db) for _ in range(opens)],
        "--resume ID": lambda: [_open_fresh(["--resume", sid], db) for _ in range(opens)],
    }
    results = []
    for way, run in every.items():
        if ways and way not in ways:
            continue
        shown = run()
        misses = [f"#{i} {what}" for i, what in enumerate(shown) if what != "shown"]
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
