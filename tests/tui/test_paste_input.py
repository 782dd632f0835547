"""A bracketed paste holding escape sequences arrives as one clean paste.

Textual 8.2's parser turned an ESC inside a paste into key presses (a coloured log
pasted into the prompt was sent at once, scrambled): :mod:`tui.paste_input` cleans the
inside of pastes before the parser reads them.
"""

from __future__ import annotations

import inspect

import pytest
import textual.drivers.linux_driver
import textual.drivers.linux_inline_driver
from textual import events
from textual._xterm_parser import XTermParser

from tui import paste_input
from tui.paste_input import (
    PASTE_END,
    PASTE_START,
    FullScreenParser,
    PasteSafeParser,
    clean_paste,
)

COLOURED = "first line\n\x1b[31mERROR\x1b[0m failed\n\x1b]0;pwned\x07third line\r\n"
HOSTILE_TITLE = (
    "[bold red]RENAMED[/] \x1b]0;pwned\x07 \x1b[2J 中文🚀 [link=file:///etc/passwd]x[/link]"
)


def parsed(parser: XTermParser, *reads: str) -> list[tuple[str, str | None]]:
    """``(kind, text or key)`` of every event the parser makes of ``reads``."""
    out: list[events.Event] = []
    for data in (*reads, ""):
        out += list(parser.feed(data))  # type: ignore[arg-type]
    return [
        (type(e).__name__, e.text if isinstance(e, events.Paste) else getattr(e, "key", None))
        for e in out
    ]


def test_textuals_own_parser_still_scrambles_such_a_paste() -> None:
    """The defect this module works around (if Textual fixes it, this fails: drop the
    workaround)."""
    events_ = parsed(XTermParser(), "a" + PASTE_START + COLOURED + PASTE_END)
    assert ("Paste", COLOURED) not in events_
    assert ("Key", "circumflex_accent") in events_  # the ESC, as a key press


@pytest.mark.parametrize("pasted", [COLOURED, HOSTILE_TITLE, "plain\ttext [b]x[/b]\n"])
def test_a_paste_arrives_whole_and_without_escape_sequences(pasted: str) -> None:
    data = "ab" + PASTE_START + pasted + PASTE_END + "c\x1b[A"
    expected = [("Key", "a"), ("Key", "b"), ("Paste", clean_paste(pasted))]
    expected += [("Key", "c"), ("Key", "up")]
    assert parsed(PasteSafeParser(), data) == expected
    # Split into two reads anywhere (a sequence or a marker cut in two), or read
    # one character at a time: the same events.
    for cut in range(1, len(data)):
        assert parsed(PasteSafeParser(), data[:cut], data[cut:]) == expected, cut
    assert parsed(PasteSafeParser(), *data) == expected


def test_clean_paste_keeps_text_tabs_and_line_breaks_only() -> None:
    assert clean_paste(COLOURED) == "first line\nERROR failed\nthird line\r\n"
    assert clean_paste(HOSTILE_TITLE) == (
        "[bold red]RENAMED[/]   中文🚀 [link=file:///etc/passwd]x[/link]"
    )
    assert clean_paste("a\x07b\x08c\x00d\x7fe\tf") == "abcd" + "e\tf"
    assert clean_paste("tail \x1b") == "tail "


def test_keys_outside_a_paste_pass_untouched() -> None:
    assert parsed(PasteSafeParser(), "x\x1b[1;5Cy") == [
        ("Key", "x"),
        ("Key", "ctrl+right"),
        ("Key", "y"),
    ]


def test_install_makes_the_terminal_drivers_use_the_safe_parser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    modules = (textual.drivers.linux_driver, textual.drivers.linux_inline_driver)
    for module in modules:
        monkeypatch.setattr(module, "XTermParser", XTermParser)
        # The drivers still create their parser by this module-level name.
        assert "XTermParser(" in inspect.getsource(module)
    paste_input.install()
    assert textual.drivers.linux_driver.XTermParser is FullScreenParser
    assert textual.drivers.linux_inline_driver.XTermParser is PasteSafeParser


def test_shift_f3_from_an_xterm_style_terminal_is_a_key_in_full_screen() -> None:
    """tmux and xterm send Shift+F3 as ESC [1;2R, which Textual reads as a cursor
    position report; the full-screen app never asks for one."""
    assert parsed(XTermParser(), "\x1b[1;2R") == [("CursorPosition", None)]
    assert parsed(FullScreenParser(), "a\x1b[1;2Rb") == [
        ("Key", "a"),
        ("Key", "shift+f3"),
        ("Key", "b"),
    ]
    # Inside a paste it is text (its escape dropped), and the inline driver, which does
    # ask for the cursor position, keeps reading it as the report.
    pasted = PASTE_START + "x\x1b[1;2Ry" + PASTE_END
    assert parsed(FullScreenParser(), pasted) == [("Paste", "xy")]
    assert parsed(PasteSafeParser(), "\x1b[1;2R") == [("CursorPosition", None)]
