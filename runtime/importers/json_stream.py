"""Reading a huge top-level JSON array one element at a time, in bounded memory.

ChatGPT's ``conversations.json`` is one array of conversations, often hundreds of
megabytes. :func:`iter_array` decodes it incrementally: it holds the text of the current
element (plus one read) at a time, never the whole file.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Final

from runtime.importers.base import SourceFormatError

__all__ = ["ArrayItem", "iter_array"]

_READ: Final = 1 << 20
#: An element that is not complete after this much text is reported as malformed.
MAX_ELEMENT: Final = 512 * 1024 * 1024
_WS: Final = " \t\r\n"


@dataclass(slots=True)
class ArrayItem:
    """One element: its index, the line it starts on, its value or why it is unreadable."""

    index: int
    line: int
    value: Any
    error: str | None


def iter_array(
    stream: IO[bytes], name: str, progress: Callable[[int], None] | None = None
) -> Iterator[ArrayItem]:
    """Yield the elements of the JSON array in ``stream``.

    A syntax error ends the array (nothing after it can be located): it is yielded as
    an item with an ``error`` and the iteration stops.

    Raises:
        SourceFormatError: the stream does not hold a JSON array.
    """
    decode = codecs.getincrementaldecoder("utf-8")(errors="strict")
    decoder = json.JSONDecoder()
    buf = ""
    pos = 0
    line = 1  # line number of buf[0]
    eof = False
    want = _READ

    def fill() -> bool:
        nonlocal buf, eof
        if eof:
            return False
        chunk = stream.read(want)
        if progress is not None:
            progress(len(chunk))
        eof = not chunk
        try:
            buf += decode.decode(chunk, final=eof)
        except UnicodeDecodeError as exc:
            raise SourceFormatError(f"{name} is not UTF-8 text") from exc
        return True

    def skip_ws() -> bool:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in _WS:
                pos += 1
            if pos < len(buf):
                return True
            if not fill():
                return False

    if not skip_ws() or buf[pos] != "[":
        raise SourceFormatError(f"{name} is not a JSON array of conversations")
    pos += 1
    index = 0
    expect_value = True
    while True:
        if not skip_ws():
            yield ArrayItem(
                index, line + buf.count("\n", 0, pos), None, "the file ends early (truncated)"
            )
            return
        char = buf[pos]
        if char == "]":
            return
        if char == "," and not expect_value:
            pos += 1
            expect_value = True
            continue
        start_line = line + buf.count("\n", 0, pos)
        while True:
            try:
                value, end = decoder.raw_decode(buf, pos)
                break
            except json.JSONDecodeError as exc:
                if len(buf) - pos > MAX_ELEMENT or not fill():
                    where = start_line + buf.count("\n", pos, exc.pos)
                    yield ArrayItem(index, where, None, f"invalid JSON ({exc.msg})")
                    return
                want = min(want * 2, 64 * _READ)
        yield ArrayItem(index, start_line, value, None)
        index += 1
        expect_value = False
        # Drop what was consumed so memory holds one element at a time.
        line += buf.count("\n", 0, end)
        buf = buf[end:]
        pos = 0
        want = _READ
