"""Large strings of a source line stored as the line wrote them, not escaped once more.

An import decodes every line (``json.loads``) and encodes every payload again
(``json.dumps``). For a multi-megabyte tool result the second pass escapes the very
text the line already holds escaped: as much work again as decoding it, spent holding
the GIL, so the writer thread waits on it too. For a long line of pure ASCII,
:func:`decode_keeping_literals` decodes as ``json.loads`` does (the standard library's
own scanner, in its Python form, so each string's place in the line is known) and keeps
the JSON text of every long string value; :func:`encode_with_literals` then writes a
payload that holds those very string objects with their kept text in place of a new
encoding. The result is the same JSON value (the kept text is what was decoded into
that string), in ASCII; for JSON that Python or JavaScript wrote, the same bytes.

A kept text with a ``\\ud...`` escape is not used (it may hold a lone surrogate, which a
payload must not: the ordinary encoder checks and refuses it). Lines of many values
(the Python scanner's cost grows with their number) are decoded the ordinary way.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Mapping
from json import decoder as json_decoder
from json.scanner import py_make_scanner  # type: ignore[attr-defined]
from typing import Any, Final

from memory.records import encode_payload_ascii

__all__ = [
    "LONG_LINE",
    "LONG_STRING",
    "Literals",
    "decode_keeping_literals",
    "encode_with_literals",
]

#: Lines shorter than this (bytes) are decoded the ordinary way.
LONG_LINE: Final = 256 * 1024
#: String values at least this long (characters of JSON text) are kept.
LONG_STRING: Final = 64 * 1024
#: Values (strings, numbers, objects, arrays) past which a line is decoded the ordinary way.
MAX_VALUES: Final = 20_000

#: ``{id(value): (value, its JSON text)}``; holding the value keeps its id valid.
Literals = dict[int, tuple[str, str]]

# The standard library's decoding pieces (untyped in typeshed): the C string scanner
# and the object and array parsers the Python scanner calls.
_scanstring: Callable[[str, int, bool], tuple[str, int]] = json_decoder.scanstring  # type: ignore[attr-defined]
_JSONObject: Callable[..., Any] = json_decoder.JSONObject  # type: ignore[attr-defined]
_JSONArray: Callable[..., Any] = json_decoder.JSONArray  # type: ignore[attr-defined]

#: A surrogate's escape (a pair's half, or a lone one), in any case.
_SURROGATE: Final = re.compile(r"\\u[dD][89a-fA-F]")

#: Stands in for a kept string while the rest of a payload is encoded.
_MARK: Final = f"\x00turnkeep-literal-{secrets.token_hex(8)}-"


class _TooMany(Exception):
    """The line has more values than :data:`MAX_VALUES`."""


def decode_keeping_literals(text: str) -> tuple[Any, Literals] | None:
    """``json.loads(text)`` and the JSON text of its long string values.

    Returns ``None`` when the line is not pure ASCII, has too many values, or does not
    decode (the caller decodes it the ordinary way, which reports the error).
    """
    if not text.isascii():
        return None
    literals: Literals = {}
    count = 0

    def counted(func: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            nonlocal count
            count += 1
            if count > MAX_VALUES:
                raise _TooMany
            return func(*args)

        return call

    def parse_string(s: str, end: int, strict: bool) -> tuple[str, int]:
        value, stop = counted(_scanstring)(s, end, strict)
        if stop - end >= LONG_STRING:
            literal = s[end - 1 : stop]
            if _SURROGATE.search(literal) is None:
                literals[id(value)] = (value, literal)
        return value, stop

    decoder = json.JSONDecoder()
    decoder.parse_string = parse_string  # type: ignore[attr-defined]
    decoder.parse_object = counted(_JSONObject)  # type: ignore[attr-defined]
    decoder.parse_array = counted(_JSONArray)  # type: ignore[attr-defined]
    decoder.parse_int = counted(int)
    decoder.parse_float = counted(float)
    decoder.scan_once = py_make_scanner(decoder)  # type: ignore[attr-defined]
    try:
        value = decoder.decode(text)
    except (_TooMany, ValueError, RecursionError):
        return None
    return value, literals


def _substituted(value: Any, literals: Literals, found: list[str]) -> Any:
    """``value`` with each kept string replaced by a mark (containers copied)."""
    if isinstance(value, str):
        kept = literals.get(id(value))
        if kept is not None and kept[0] is value:
            found.append(kept[1])
            return f"{_MARK}{len(found) - 1}"
        return value
    if isinstance(value, Mapping):
        return {k: _substituted(v, literals, found) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_substituted(v, literals, found) for v in value]
    return value


def encode_with_literals(payload: Mapping[str, Any], literals: Literals) -> str | None:
    """:func:`~memory.records.encode_payload_ascii` of ``payload``, its kept strings
    written as the source line wrote them; ``None`` when it holds none of them.

    Raises:
        SerializationError: as :func:`~memory.records.encode_payload_ascii`.
    """
    found: list[str] = []
    marked = _substituted(payload, literals, found)
    if not found:
        return None
    text = encode_payload_ascii(marked)
    parts: list[str] = []
    for index, literal in enumerate(found):
        # The mark's JSON form: its NUL escaped, quoted. Its random part never occurs
        # in a source, so it is found exactly where it stands for the string.
        quoted = json.dumps(f"{_MARK}{index}")
        head, sep, text = text.partition(quoted)
        if not sep:
            return None  # (cannot happen: every mark was encoded)
        parts += (head, literal)
    parts.append(text)
    return "".join(parts)
