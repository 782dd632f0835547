"""Reading JSONL: lines split fast, in memory bounded by the longest line, and decoded.

Iterating a buffered binary file (``for raw in handle``) costs about as much as
decoding the JSON of a large transcript's lines once more: its readline grows and
copies a buffer for every multi-megabyte line. Reading fixed blocks without Python's
buffering and cutting them at newlines with ``bytes.find`` (a C ``memchr``) is several
times cheaper; a line longer than a block is joined once from its pieces.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

__all__ = ["BLOCK", "JsonLine", "iter_lines", "read_jsonl"]

#: Bytes read at a time (measured: 64-512 KiB are equally fast; 1 MiB and more are
#: slower, their allocations being fresh memory maps every time).
BLOCK: Final = 256 * 1024


def iter_lines(path: Path, offset: int = 0, block: int = BLOCK) -> Iterator[bytes]:
    """Yield the lines of ``path`` from byte ``offset``, each with its ``\\n`` (the last
    one without, when the file does not end with a newline), as ``for raw in handle``
    would. The file is opened read-only."""
    with path.open("rb", buffering=0) as handle:
        handle.seek(offset)
        parts: list[bytes] = []
        while data := handle.read(block):
            start = 0
            find = data.find
            while (end := find(b"\n", start)) >= 0:
                if parts:
                    parts.append(data[start : end + 1])
                    # Only the joined line stays alive while the caller reads it.
                    parts[:] = [b"".join(parts)]
                    yield parts.pop()
                else:
                    yield data[start : end + 1]
                start = end + 1
            if start < len(data):
                parts.append(data[start:])
        if parts:
            parts[:] = [b"".join(parts)]
            yield parts.pop()


@dataclass(slots=True)
class JsonLine:
    """One line of a JSONL file.

    Attributes:
        number: 1-based line number in the file.
        end: byte offset just past the line.
        value: the decoded JSON value (``None`` on error or for a blank line).
        error: why the line could not be read, or ``None``.
        complete: the line ends with a newline (a last line without one may still be
            being written).
        size: its length in bytes.
        ascii: at most 1 % of its bytes belong to characters beyond ASCII (its events
            are stored as ASCII JSON: ``\\uXXXX`` escapes then grow it by 4 % at most).
    """

    number: int
    end: int
    value: Any
    error: str | None
    complete: bool
    size: int
    ascii: bool = False


def read_jsonl(path: Path, *, offset: int = 0, line: int = 0) -> Iterator[JsonLine]:
    """Stream a JSONL file from ``offset`` (whose line number is ``line + 1``), read-only.

    Memory is bounded by the longest line, never by the file. Blank lines yield a
    value of ``None`` with no error; a last line without its newline that does not
    parse is reported as truncated.
    """
    position = offset
    for raw in iter_lines(path, offset):
        line += 1
        size = len(raw)
        position += size
        complete = raw.endswith(b"\n")
        value, error, mostly_ascii = _decode(raw, complete)
        del raw  # not kept alive while the caller maps the record (a line may be megabytes)
        yield JsonLine(line, position, value, error, complete, size, mostly_ascii)


def _decode(raw: bytes, complete: bool) -> tuple[Any, str | None, bool]:
    """A line's JSON value (``None`` for a blank line), why it is unreadable, and whether
    it is nearly all ASCII (see :attr:`JsonLine.ascii`)."""
    if raw[:1].isspace() and not raw.strip():  # (no copy of every line)
        return None, None, False
    try:
        text: str | None = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None  # json.loads says what is wrong with it (or reads it: UTF-16)
    # json.loads decodes bytes itself: decoding here costs nothing more, and tells how
    # much of the line is beyond ASCII.
    source: str | bytes = raw if text is None or text.startswith("\ufeff") else text
    try:
        value = json.loads(source)
    except (ValueError, RecursionError) as exc:
        reason = (
            "truncated last line (no newline at the end; it may still be being written)"
            if not complete
            else f"not valid JSON ({_short_error(exc)})"
        )
        return None, reason, False
    return value, None, text is not None and (len(raw) - len(text)) * 100 <= len(raw)


def _short_error(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        # Some messages end in "at" already ("Invalid control character at").
        return f"{exc.msg.removesuffix(' at')} at column {exc.colno}"
    return type(exc).__name__
