"""Neutralising stored text at the display boundary: nothing stored may steer the terminal.

Titles, messages, tool output, ids and imported data are untrusted. Written to a
terminal as they are, an ``ESC ] 0 ; … BEL`` retitles the window, ``ESC [ 2 J`` clears
the screen and ``ESC ] 52 ; …`` writes the clipboard. Every place that shows stored
text (the TUI's widgets, ``sessions list``/``show``, ``ask``'s streamed reply, error
lines) passes it through :func:`safe_text` or :func:`safe_line` first; what is stored
and exported stays exactly as it was.

Control characters are not dropped silently: they are shown as visible stand-ins
(``␛`` for ESC, ``␇`` for BEL, the Unicode "control pictures" for the rest of C0,
``�`` for C1, bidi overrides and lone surrogates), so a person can see that something
odd was there.
Newlines and tabs are kept by :func:`safe_text` (``\\r\\n`` becomes ``\\n``) and folded
into spaces by :func:`safe_line`.

JSON output keeps JSON's own escaping; :func:`terminal_json` additionally escapes the
characters JSON leaves raw but terminals may act on (DEL, C1 controls, bidi overrides,
line/paragraph separators), which is still valid JSON for the same value.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

__all__ = ["safe_line", "safe_text", "terminal_json"]

#: Bidirectional overrides and isolates: they reorder what follows them on the line.
_BIDI: Final = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def _table(keep_layout: bool) -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x20):
        table[code] = chr(0x2400 + code)  # ␀ … ␟ (␛ for ESC, ␇ for BEL)
    table[0x7F] = "\u2421"  # ␡
    for code in range(0x80, 0xA0):
        table[code] = "\ufffd"
    for char in _BIDI:
        table[ord(char)] = "\ufffd"
    # Lone surrogates: what a file name that is not valid UTF-8 becomes in Python
    # (``\udc9b`` for the byte 0x9B, a C1 CSI once written with surrogateescape), and
    # what a JSON ``\ud800`` escape decodes to; neither can be written as UTF-8.
    for code in range(0xD800, 0xE000):
        table[code] = "\ufffd"
    table[0x2028] = "\n" if keep_layout else " "
    table[0x2029] = "\n" if keep_layout else " "
    if keep_layout:
        del table[0x0A]
        del table[0x09]
    else:
        table[0x0A] = " "
        table[0x09] = " "
    return table


_TEXT: Final = _table(keep_layout=True)
_LINE: Final = _table(keep_layout=False)
#: Characters any of the tables act on; text without them is returned as is (fast path).
_SURROGATES: Final = "\ud800-\udfff"
_UNSAFE: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029" + _BIDI + _SURROGATES + "]")
_UNSAFE_LINE: Final = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029" + _BIDI + _SURROGATES + "]")
_JSON_RAW: Final = re.compile("[\x7f-\x9f\u2028\u2029" + _BIDI + _SURROGATES + "]")


def safe_text(text: str) -> str:
    """``text`` with every terminal control neutralised; newlines and tabs kept.

    ``\\r\\n`` line ends become ``\\n``; a lone carriage return (which would let a line
    overwrite what was printed before it) is shown as ``␍``.
    """
    if not _UNSAFE.search(text):
        return text
    return text.replace("\r\n", "\n").translate(_TEXT)


def safe_line(text: str, limit: int | None = None) -> str:
    """``text`` neutralised and on one line (runs of whitespace become one space).

    Args:
        text: the untrusted text.
        limit: cut to this many characters, ending with ``…``.
    """
    if _UNSAFE_LINE.search(text):
        text = text.translate(_LINE)
    line = " ".join(text.split())
    if limit is not None and len(line) > limit:
        line = line[: max(1, limit - 1)] + "…"
    return line


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def terminal_json(value: Any, **kwargs: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, **kwargs)`` that is safe to print.

    JSON always escapes C0 controls (ESC included); this also escapes what it leaves
    raw (DEL, C1, bidi controls, U+2028/U+2029, lone surrogates). Those characters can only occur
    inside JSON strings, so the result decodes to exactly the same value.
    """
    text = json.dumps(value, ensure_ascii=False, **kwargs)
    return _JSON_RAW.sub(_escape, text)
