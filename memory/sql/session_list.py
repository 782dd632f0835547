"""The recent-sessions list on the libSQL backend: pins first, archive and tag filters.

With ``pinned_first`` a page is read in one statement: this page's pinned sessions
(their own partial index, migration 0005) followed by the others, stopping at the page
size. The page cursor stays an opaque ``(text, id)`` pair; a cursor inside the pinned
phase carries :data:`PINNED_CURSOR` before its timestamp. A tag filter reads a rare
tag's sessions through the tag index and walks the recent index for common ones.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Final

from memory.records import SessionInfo, SessionPage, decode_payload

__all__ = [
    "PINNED_CURSOR",
    "RARE_TAG",
    "SESSION_COLUMNS",
    "LibsqlSessionList",
    "list_query",
    "session_from_row",
]

#: Marks a list cursor that is still inside the pinned phase.
PINNED_CURSOR: Final = "pinned:"
#: Below this many sessions a tag filter reads the tag's sessions and sorts them; above
#: it, walking the recent index finds a page of matches sooner (at 100,000 sessions the
#: two cost about the same at ~2,000).
RARE_TAG: Final = 2000
#: Seconds a tag's counted size is reused (paging or typing a filter re-reads it often).
TAG_SIZE_TTL: Final = 30.0
#: Separates tags in the ``group_concat`` of a row (tags never hold control characters).
_TAG_SEP: Final = "\x1f"

SESSION_COLUMNS: Final = (
    "id, title, agent, provider, model, created_at, updated_at, "
    "turn_count, event_count, last_seq, metadata, pinned_at, archived_at, forked_from, "
    "forked_at_seq, prompt_tokens, completion_tokens, tokens_estimated, tags"
)


def session_from_row(row: tuple[Any, ...]) -> SessionInfo:
    """Build a :class:`SessionInfo` from a row of :data:`SESSION_COLUMNS`."""
    values = row
    (sid, title, agent, provider, model, created, updated, turns, events, last_seq, meta) = values[
        :11
    ]
    pinned, archived, forked, forked_at, prompt, completion, estimated, tags = values[11:]
    return SessionInfo(
        sid,
        title,
        agent,
        provider,
        model,
        created,
        updated,
        turns or 0,
        events or 0,
        last_seq or 0,
        {} if meta == "{}" else decode_payload(meta),
        pinned,
        archived,
        tuple(sorted(tags.split(_TAG_SEP))) if tags else (),
        forked,
        forked_at,
        prompt or 0,
        completion or 0,
        bool(estimated),
    )


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_query(
    phase: str,
    *,
    limit: int,
    after: tuple[str, str] | None,
    title_filter: str | None,
    tags: Sequence[str],
    driving_tag: str | None = None,
    source: str | None = None,
) -> tuple[str, list[Any]]:
    """One keyset query of the recent list.

    Args:
        phase: ``"pinned"`` (pinned, not archived), ``"rest"`` (neither), ``"active"``
            (not archived, pins not first), or ``"archived"``.
        driving_tag: one of ``tags`` carried by few sessions: the query starts from its
            sessions instead of walking the whole recent index.
    """
    if tags and phase in _LISTED:
        return _tagged_query(
            phase,
            limit=limit,
            after=after,
            title_filter=title_filter,
            tags=tags,
            driving_tag=driving_tag or tags[0],
            source=source,
        )
    clauses = {
        "pinned": ["pinned_at IS NOT NULL", "archived_at IS NULL"],
        "rest": ["pinned_at IS NULL", "archived_at IS NULL"],
        "active": ["archived_at IS NULL"],
        "archived": ["archived_at IS NOT NULL"],
    }[phase]
    args: list[Any] = []
    if after is not None:
        clauses.append("(updated_at, id) < (?, ?)")
        args.extend(after)
    if title_filter:
        clauses.append("title LIKE ? ESCAPE '\\'")
        args.append(_like(title_filter))
    if source is not None:
        clauses.append("json_extract(metadata, '$.source.tool') = ?")
        args.append(source)
    for tag in tags:
        if tag == driving_tag:
            # A rare tag: read its few sessions through the tag index, then sort them.
            clauses.append("id IN (SELECT session_id FROM session_tags WHERE tag = ?)")
        else:
            # A common tag: walk the recent index and probe each row (stops at the page).
            clauses.append(
                "EXISTS (SELECT 1 FROM session_tags t WHERE t.session_id = sessions.id "
                "AND t.tag = ?)"
            )
        args.append(tag)
    args.append(max(0, limit))
    sql = (
        f"SELECT {SESSION_COLUMNS} FROM sessions WHERE {' AND '.join(clauses)} "
        "ORDER BY updated_at DESC, id DESC LIMIT ?"
    )
    return sql, args


#: ``session_tags_recent.listed`` of each list phase (migration 0006).
_LISTED: Final = {"rest": 0, "pinned": 1, "archived": 2}
_QUALIFIED: Final = ", ".join(f"s.{c.strip()}" for c in SESSION_COLUMNS.split(","))


def _tagged_query(
    phase: str,
    *,
    limit: int,
    after: tuple[str, str] | None,
    title_filter: str | None,
    tags: Sequence[str],
    driving_tag: str,
    source: str | None,
) -> tuple[str, list[Any]]:
    """A tag-filtered page: walk one tag's entries in list order, stop at the page.

    ``session_tags_recent`` (kept by triggers, migration 0006) holds each tagged
    session's list phase and ``updated_at`` beside the tag, so its index yields the
    tag's sessions of one phase newest first, exactly the list's order; the other tags
    are probed per row (the driving tag is the rarest, so few rows are probed).
    """
    clauses = ["r.tag = ?", "r.listed = ?"]
    args: list[Any] = [driving_tag, _LISTED[phase]]
    if after is not None:
        clauses.append("(r.updated_at, r.session_id) < (?, ?)")
        args.extend(after)
    if title_filter:
        clauses.append("s.title LIKE ? ESCAPE '\\'")
        args.append(_like(title_filter))
    if source is not None:
        clauses.append("json_extract(s.metadata, '$.source.tool') = ?")
        args.append(source)
    for tag in tags:
        if tag != driving_tag:
            clauses.append(
                "EXISTS (SELECT 1 FROM session_tags t WHERE t.session_id = r.session_id "
                "AND t.tag = ?)"
            )
            args.append(tag)
    args.append(max(0, limit))
    sql = (
        f"SELECT {_QUALIFIED} FROM session_tags_recent r JOIN sessions s "
        f"ON s.id = r.session_id WHERE {' AND '.join(clauses)} "
        "ORDER BY r.updated_at DESC, r.session_id DESC LIMIT ?"
    )
    return sql, args


class LibsqlSessionList:
    """``list_sessions`` for both libSQL modes (mixed into the organizer)."""

    #: ``tag -> (when counted, sessions up to RARE_TAG)``: how to read a tag filter
    #: (only speed depends on it, never the result), re-counted after TAG_SIZE_TTL.
    _tag_sizes: dict[str, tuple[float, int]]

    async def _rows(self, sql: str, args: list[Any]) -> list[tuple[Any, ...]]:
        raise NotImplementedError  # provided by LibsqlMemory

    # -- the recent list ---------------------------------------------------------------

    async def list_sessions(
        self,
        *,
        limit: int = 50,
        after: tuple[str, str] | None = None,
        title_filter: str | None = None,
        archived: bool = False,
        tags: Sequence[str] = (),
        pinned_first: bool = False,
        source: str | None = None,
    ) -> SessionPage:
        """See :meth:`memory.protocol.SessionCatalog.list_sessions`."""
        wanted = list(dict.fromkeys(t.strip() for t in tags))
        driving = await self._rare_tag(wanted)
        found: list[SessionInfo] = []
        limit = max(0, limit)
        if archived or not pinned_first:
            phase = "archived" if archived else "active"
            rows = await self._rows(
                *list_query(
                    phase,
                    limit=limit,
                    after=after,
                    title_filter=title_filter,
                    tags=wanted,
                    driving_tag=driving,
                    source=source,
                )
            )
            found = [session_from_row(r) for r in rows]
            cursor = (found[-1].updated_at, found[-1].id) if found and len(found) == limit else None
            return SessionPage(tuple(found), cursor)
        common: dict[str, Any] = {
            "title_filter": title_filter,
            "tags": wanted,
            "driving_tag": driving,
            "source": source,
        }
        if after is None or after[0].startswith(PINNED_CURSOR):
            # Still among the pins: this page's pins and, if they run out, the first of
            # the rest, in one statement (one round trip).
            pin_after = None if after is None else (after[0][len(PINNED_CURSOR) :], after[1])
            pin_sql, pin_args = list_query("pinned", limit=limit, after=pin_after, **common)
            rest_sql, rest_args = list_query("rest", limit=limit, after=None, **common)
            # The outer LIMIT stops the compound as soon as the page is full.
            rows = await self._rows(
                f"SELECT * FROM ({pin_sql}) UNION ALL SELECT * FROM ({rest_sql}) LIMIT ?",
                [*pin_args, *rest_args, limit],
            )
            rows.sort(key=lambda r: r[11] is None)  # pins first (stable: keeps activity order)
        else:
            rows = await self._rows(*list_query("rest", limit=limit, after=after, **common))
        found = [session_from_row(r) for r in rows[:limit]]
        full = bool(found) and len(found) == limit
        cursor = (found[-1].updated_at, found[-1].id) if full else None
        if cursor is not None and found[-1].pinned:
            cursor = (PINNED_CURSOR + cursor[0], cursor[1])
        return SessionPage(tuple(found), cursor)

    async def _rare_tag(self, tags: list[str]) -> str | None:
        """The rarest of ``tags`` if fewer than :data:`RARE_TAG` sessions carry it.

        Counting stops at the threshold, so this costs at most that many index entries.
        """
        if not tags:
            return None
        now = time.monotonic()
        known = [self._tag_sizes.get(tag) for tag in tags]
        if all(k is not None and now - k[0] < TAG_SIZE_TTL for k in known):
            sizes = [k[1] for k in known if k is not None]
            count, tag = min(zip(sizes, tags, strict=True))
            return tag if count < RARE_TAG else None
        probe = "(SELECT count(*) FROM (SELECT 1 FROM session_tags WHERE tag = ? LIMIT ?))"
        rows = await self._rows(
            "SELECT " + ", ".join([probe] * len(tags)),
            [value for tag in tags for value in (tag, RARE_TAG)],
        )
        sizes = [int(v) for v in rows[0]]
        for tag, size in zip(tags, sizes, strict=True):
            self._tag_sizes[tag] = (now, size)
        count, tag = min(zip(sizes, tags, strict=True))
        return tag if count < RARE_TAG else None
