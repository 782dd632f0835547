"""Size limits on the wire to a libSQL server: what it accepts, and what we read back.

Pure Python (no libsql-client, no aiohttp), so the importers can check sizes without
loading the server stack.

Verified against sqld 0.24 (the server Turso runs): a text or blob value longer than
5,000,000 bytes is refused (``ARGS_INVALID: ... string or blob too big``), and a
WebSocket message over 16 MiB makes the server drop the connection, which looks exactly
like a lost server. Either way the save point can never be stored, yet a retry would be
attempted forever, blocking every save point behind it. So the remote backend checks
sizes first and refuses such a save point with a :class:`SerializationError`: nothing is
sent, and the persistence worker sets it aside and goes on.

Reading is limited on our side: libsql-client's WebSocket client keeps aiohttp's
default 4 MiB message limit, so a session of more than 4 MiB (or one 4.5 MB event the
server accepted) could be saved but never read back over ``ws(s)://``.
:func:`memory.drivers.hrana.create_client` raises that limit to :data:`MAX_RESPONSE_BYTES`.
"""

from __future__ import annotations

from collections.abc import Sequence
from json.encoder import encode_basestring_ascii
from typing import Any, Final

from memory.errors import SerializationError

__all__ = [
    "MAX_REQUEST_BYTES",
    "MAX_RESPONSE_BYTES",
    "MAX_VALUE_BYTES",
    "check_encodable",
    "check_request_size",
]

#: The longest text or blob value the server accepts, in bytes (UTF-8 for text).
MAX_VALUE_BYTES: Final = 5_000_000
#: A bound on one request's encoded size, below the server's 16 MiB WebSocket limit.
MAX_REQUEST_BYTES: Final = 15 * 1024 * 1024
#: The largest WebSocket message read from the server (one response: a page of events).
MAX_RESPONSE_BYTES: Final = 256 * 1024 * 1024
_MB = 1_000_000


def check_encodable(stmts: Sequence[Any]) -> None:
    """Refuse text arguments that are not valid Unicode before they are sent.

    libsql-client would send a lone surrogate as a JSON escape the server cannot decode;
    it then drops the WebSocket or answers HTTP 400, which looks like a lost server.

    Args:
        stmts: statements as given to ``execute``/``batch``: ``sql`` strings or
            ``(sql, args)`` tuples, ``args`` a sequence or a mapping.

    Raises:
        UnicodeEncodeError: an argument holds a lone surrogate (the memory layer's
            boundary translates it into a ``SerializationError``).
    """
    for stmt in stmts:
        if not isinstance(stmt, tuple) or len(stmt) < 2 or stmt[1] is None:
            continue
        args = stmt[1]
        for value in args.values() if isinstance(args, dict) else args:
            if isinstance(value, str) and not value.isascii():
                value.encode("utf-8")


def check_request_size(stmts: Sequence[tuple[str, Sequence[Any]]], where: str) -> None:
    """Refuse a batch the server would refuse or drop the connection over.

    Args:
        stmts: the batch, ``(sql, args)`` each.
        where: the redacted server location, named in the message.

    Raises:
        SerializationError: a value or the whole request is too large; nothing was sent.
    """
    total = 0
    for sql, args in stmts:
        total += len(sql) + 64
        for value in args:
            if isinstance(value, str):
                size = len(value.encode("utf-8", "surrogatepass"))
                wire = len(encode_basestring_ascii(value))  # libsql-client's JSON encoding
            elif isinstance(value, bytes | bytearray):
                size = len(value)
                wire = (size + 2) // 3 * 4 + 2
            else:
                size, wire = 0, 32
            if size > MAX_VALUE_BYTES:
                raise SerializationError(
                    f"an event of {size / _MB:.1f} MB cannot be saved: {where} accepts at most "
                    f"{MAX_VALUE_BYTES / _MB:.0f} MB per value; nothing was sent",
                    hint="Keep messages and tool results under 5 MB in remote mode "
                    "(an embedded database file has no such limit).",
                )
            total += wire
    if total > MAX_REQUEST_BYTES:
        raise SerializationError(
            f"a save point of {total / _MB:.1f} MB on the wire cannot be saved: {where} accepts "
            f"at most {MAX_REQUEST_BYTES / _MB:.0f} MB per request; nothing was sent",
            hint="Keep messages and tool results smaller in remote mode "
            "(an embedded database file has no such limit).",
        )
