"""Pasted text reaches the app whole, whatever escape sequences it holds.

Textual 8.2's input parser reads an ESC inside a bracketed paste (``ESC [200~ … ESC
[201~``) as the start of a key sequence: a pasted ``ESC [31m`` (coloured terminal
output, a log, a hostile title) comes out as separate key presses ahead of the rest of
the paste, and a carriage return among them acts as Enter. Pasting three lines of
coloured output into the prompt sent a scrambled, truncated message at once.

:class:`PasteFilter` sits in front of the parser and takes the escape sequences (and
other control characters but tab and line breaks) out of what is pasted: the text of
coloured output stays, its colours go, and the parser then sees one clean paste. Text
outside a paste passes through untouched and undelayed (a lone Escape key still
arrives as one). :func:`install` makes the terminal drivers use
:class:`PasteSafeParser` (:class:`FullScreenParser`, which also lets Shift+F3 through,
for the full-screen one); ``launch_tui`` calls it before the app starts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import textual.drivers.linux_driver
import textual.drivers.linux_inline_driver
from textual._xterm_parser import XTermParser
from textual.message import Message

__all__ = [
    "PASTE_END",
    "PASTE_START",
    "FullScreenParser",
    "PasteFilter",
    "PasteSafeParser",
    "install",
]

PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"

#: A complete escape sequence: CSI (``ESC [`` parameters, a final byte), OSC (``ESC ]``
#: up to BEL or ``ESC \\``), DCS/SOS/PM/APC strings (up to ``ESC \\``), or ESC and one
#: more character.
_SEQUENCE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|[\x20-\x7e])"
)
#: Control characters left after the sequences are gone (tab, LF and CR stay).
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: An escape sequence that may still go on in the next read (no final byte yet).
_UNFINISHED = re.compile(r"\x1b(?:|\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?|[PX^_][^\x1b]*\x1b?)\Z")


def clean_paste(text: str) -> str:
    """``text`` without escape sequences and control characters (tab, LF, CR kept)."""
    return _CONTROLS.sub("", _SEQUENCE.sub("", text))


class PasteFilter:
    """Cleans the inside of bracketed pastes in a stream of terminal input.

    Called with each read (a ``str``; ``""`` at the end of input), returns what the
    parser should get. Only text inside a paste is changed or held back: a read that
    ends in the middle of a sequence (or of the closing marker) keeps that part until
    the next read, which the terminal sends at once.
    """

    def __init__(self) -> None:
        self.pasting = False
        self._held = ""  # inside a paste: an unfinished sequence from the last read
        self._seen = ""  # outside: the last few characters passed (a split marker)

    def __call__(self, data: str) -> str:
        if not data:  # end of input: whatever was held goes as it is
            held, self._held = self._held, ""
            return clean_paste(held)
        text, self._held = self._held + data, ""
        out: list[str] = []
        pos = 0
        while pos < len(text):
            if not self.pasting:
                window = self._seen + text[pos:]
                found = window.find(PASTE_START)
                if found < 0:
                    out.append(text[pos:])
                    self._seen = window[-(len(PASTE_START) - 1) :]
                    break
                begins = pos + found - len(self._seen) + len(PASTE_START)
                out.append(text[pos:begins])
                self._seen, self.pasting, pos = "", True, begins
                continue
            end = text.find(PASTE_END, pos)
            if end < 0:
                rest = text[pos:]
                unfinished = _UNFINISHED.search(rest)  # the closing marker's start too
                if unfinished is not None:
                    self._held = rest[unfinished.start() :]
                    rest = rest[: unfinished.start()]
                out.append(clean_paste(rest))
                break
            out.append(clean_paste(text[pos:end]) + PASTE_END)
            self.pasting, pos = False, end + len(PASTE_END)
        return "".join(out)


class PasteSafeParser(XTermParser):
    """Textual's terminal input parser, fed through a :class:`PasteFilter`."""

    def __init__(self, debug: bool = False) -> None:
        super().__init__(debug)
        self._paste_filter = PasteFilter()

    def feed(self, data: str) -> Iterable[Message]:
        cleaned = self._paste_filter(data)
        if data and not cleaned:
            return ()  # all of it held back (a sequence split between two reads)
        return super().feed(cleaned)


class FullScreenParser(PasteSafeParser):
    """The full-screen driver's parser: Shift+F3 from xterm-style terminals works.

    They send Shift+F3 as ``ESC [1;2R``, which Textual's parser reads first as a
    cursor position report (row 1, column 2) and drops. The full-screen driver never
    asks the terminal for its cursor position (only the inline driver does), so here
    that sequence can only be the key: it is passed on as ``ESC [13;2~``, another
    terminal's encoding of the same key, which Textual reads as ``shift+f3``.
    """

    def feed(self, data: str) -> Iterable[Message]:
        if _SHIFT_F3 in data and not self._paste_filter.pasting:
            data = data.replace(_SHIFT_F3, "\x1b[13;2~")
        return super().feed(data)


_SHIFT_F3 = "\x1b[1;2R"


def install() -> None:
    """Make Textual's terminal drivers parse input with :class:`PasteSafeParser`.

    The drivers create their parser by the module name ``XTermParser`` when input
    starts (``tests/tui/test_paste_input.py`` checks they still do).
    """
    setattr(textual.drivers.linux_driver, "XTermParser", FullScreenParser)  # noqa: B010
    setattr(textual.drivers.linux_inline_driver, "XTermParser", PasteSafeParser)  # noqa: B010
