"""Find-in-session's read of long events (see :mod:`memory.session_text`), in SQL.

One statement per page, run where the data is (the database thread in embedded mode,
the server remotely): only events longer than the index's prefix, and among those only
the ones whose stored JSON holds every term (``instr`` over ``lower(payload)``, ASCII
case folding) or that the JSON cannot be checked for (escapes, non-ASCII text: folded
diacritics and ``\\uXXXX`` escapes are compared by the caller after decoding).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

__all__ = ["LibsqlSessionText", "candidates_statement"]


def _json_form(term: str) -> str | None:
    """``term`` as it appears inside a JSON string, lower-cased; ``None`` when the stored
    form cannot be predicted (non-ASCII: stored raw or escaped)."""
    if not term.isascii():
        return None
    return json.dumps(term.lower())[1:-1]


def candidates_statement(
    session_id: str, terms: tuple[str, ...], *, after_seq: int, min_chars: int, limit: int
) -> tuple[str, list[Any]]:
    """The page's statement and arguments (see
    :meth:`memory.session_text.SessionTextScan.session_text_candidates`)."""
    forms = [form for form in (_json_form(t) for t in terms) if form]
    sql = (
        "SELECT seq, kind, payload FROM conversation_events "
        "WHERE session_id = ? AND seq > ? AND length(payload) > ?"
    )
    args: list[Any] = [session_id, after_seq, min_chars]
    if forms:
        present = " AND ".join("instr(lower(payload), ?) > 0" for _ in forms)
        sql += (
            " AND (instr(payload, '\\u') > 0 OR length(CAST(payload AS BLOB)) <> length(payload) "
            f"OR ({present}))"
        )
        args += forms
    sql += " ORDER BY seq LIMIT ?"
    args.append(max(1, limit))
    return sql, args


class LibsqlSessionText:
    """:class:`memory.session_text.SessionTextScan` for both modes."""

    async def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError  # provided by LibsqlMemory

    async def session_text_candidates(
        self,
        session_id: str,
        terms: tuple[str, ...],
        *,
        after_seq: int,
        min_chars: int,
        limit: int,
    ) -> list[tuple[int, str, str]]:
        """See :meth:`memory.session_text.SessionTextScan.session_text_candidates`."""
        sql, args = candidates_statement(
            session_id, terms, after_seq=after_seq, min_chars=min_chars, limit=limit
        )
        rows = await self._rows(sql, args)
        return [(int(seq), str(kind), str(payload)) for seq, kind, payload in rows]
