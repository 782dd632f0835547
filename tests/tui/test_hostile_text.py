"""Stored text never steers the terminal: every screen shows controls as stand-ins.

A session whose title, id-less title, messages, Markdown (code blocks too), tool output,
model name, markers and unknown event kinds hold terminal escapes (OSC title, clear
screen, OSC 52 clipboard write, a C1 CSI, a bidi override) is shown on the home list,
the preview, the session screen, the rename and delete dialogs and notifications; what
reaches the screen holds no ESC, BEL, C1 or bidi control, and the visible ``␛`` does.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from memory import EventDraft, open_embedded
from tests.tui.conftest import SIZE, make_app, screen_text, settings_for, settle
from tests.tui.seed import session_id
from tui.screens.dialogs import ConfirmDialog, RenameDialog
from tui.screens.home import HomeScreen
from tui.screens.session import SessionScreen

#: Everything a terminal may act on: C0 but newline, DEL, C1, bidi controls.
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")

TITLE_ESC = "\x1b]0;HACKED\x07"
CLEAR = "\x1b[2J"
CLIPBOARD = "\x1b]52;c;ZXZpbA==\x07"
C1 = "\x9b31m"
BIDI = "\u202e"
HOSTILE = f"x {TITLE_ESC} {CLEAR} {CLIPBOARD} {C1} {BIDI}evil"


async def seed_hostile(path: Path) -> str:
    sid = session_id(66)
    memory = await open_embedded(path)
    try:
        await memory.create_session(
            sid, title=f"T {HOSTILE}", provider="local", model=f"m{CLEAR}odel"
        )
        md = f"# Head {TITLE_ESC}\n\n**bold {CLEAR}**\n\n```\ncode {CLIPBOARD} {C1}\n```\n"
        await memory.store(
            sid,
            [
                EventDraft("user", {"role": "user", "content": f"U {HOSTILE}"}, turn=1),
                EventDraft(
                    "tool_call",
                    {"call_id": "c1", "name": f"t{CLEAR}", "arguments": {"q": HOSTILE}},
                    turn=1,
                ),
                EventDraft(
                    "tool_result",
                    {"call_id": "c1", "name": "search", "result": f"R {HOSTILE}"},
                    turn=1,
                ),
                EventDraft("assistant", {"role": "assistant", "content": md}, turn=1),
                EventDraft(
                    "cancelled",
                    {"reason": f"C {HOSTILE}", "partial_text": f"P {HOSTILE}"},
                    turn=1,
                ),
                EventDraft("note\x1b[2J", {"text": f"N {HOSTILE}"}, turn=1),
                EventDraft(
                    "error",
                    {"error": {"title": "E", "message": f"M {HOSTILE}"}, "hint": f"H {CLEAR}"},
                    turn=1,
                ),
            ],
        )
    finally:
        await memory.close()
    return sid


def assert_clean(app: Any, where: str) -> str:
    text = screen_text(app)
    bad = sorted({f"U+{ord(c):04X}" for c in UNSAFE.findall(text)})
    assert not bad, f"{where}: {bad} reached the screen"
    return text


async def test_home_list_preview_and_dialogs_show_controls_as_stand_ins(db_file: Path) -> None:
    await seed_hostile(db_file)
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        text = assert_clean(app, "home")
        assert "T x ␛]0;HACKED␇" in text  # the row and the preview's title
        assert "U x ␛]0;HACKED␇" in text  # the preview's question
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, RenameDialog)
        assert "␛" in assert_clean(app, "rename dialog")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "␛]0;HACKED" in assert_clean(app, "delete dialog")
        await pilot.press("y")
        await settle(pilot)
        notes = [n.message for n in app._notifications]
        assert notes and all(not UNSAFE.search(m) for m in notes), notes
        assert any("␛]0;HACKED" in m for m in notes)


async def test_session_screen_shows_controls_as_stand_ins(db_file: Path) -> None:
    sid = await seed_hostile(db_file)
    app = make_app(settings_for(db_file), resume=sid)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        assert not UNSAFE.search(screen.sub_title)
        await pilot.press("ctrl+t")  # expand the tool call and result bodies
        await settle(pilot)
        text = assert_clean(app, "session")
        for shown in ("U x ␛]0;HACKED␇", "Head ␛]0;HACKED␇", "code ␛]52;c;", "N x ␛"):
            assert shown in text, shown
        assert "␛[2J" in text
