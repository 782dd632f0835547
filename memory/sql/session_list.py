"""The recent-sessions list on the libSQL backend: pins first, archive and tag filters.

With ``pinned_first`` a page is one index range scan: ``sessions_recent_home``
(migration 0012) holds the sessions that are not archived, pinned ones first, each
group newest first, so the page is that index's first rows, with no sort and no
compound statement. A tag filter walks ``session_tags_recent_home`` the same way, from
the rarest of the wanted tags, and checks the others on the row's own copy of its tags.
The page cursor stays an opaque ``(text, id)`` pair; a cursor inside the pinned phase
carries :data:`PINNED_CURSOR` before its timestamp.

Rows come back in :class:`SessionInfo`'s field order, so a row becomes a record with one
constructor call; only the metadata, the tags and the estimate flag are converted.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import lru_cache
from itertools import starmap
from typing import Any, Final

from memory.records import SessionInfo, SessionPage, decode_payload

__all__ = [
    "PINNED_CURSOR",
    "RARE_TAG",
    "SESSION_COLUMNS",
    "LibsqlSessionList",
    "list_query",
    "session_from_row",
    "sessions_from_rows",
]

#: Marks a list cursor that is still inside the pinned phase.
PINNED_CURSOR: Final = "pinned:"
#: Below this many sessions a tag filter of the plain (not pins-first) list reads the
#: tag's sessions and sorts them; above it, walking the recent index finds a page of
#: matches sooner (at 100,000 sessions the two cost about the same at ~2,000). Sizes are
#: counted up to this bound, which also picks the rarest of several tags.
RARE_TAG: Final = 2000
#: Seconds a tag's counted size is reused (paging or typing a filter re-reads it often).
TAG_SIZE_TTL: Final = 30.0
#: Separates tags in the ``group_concat`` of a row (tags never hold control characters).
_TAG_SEP: Final = "\x1f"
#: Each stored tag string's tuple, shared by the rows carrying the same tags (a page of
#: a tag filter mostly repeats a few); emptied when it reaches :data:`_TAG_SETS_KEPT`.
_TAG_SETS: dict[str, tuple[str, ...]] = {}
_TAG_SETS_KEPT: Final = 4096

#: A list row: exactly :class:`SessionInfo`'s fields, in their order (the counters and
#: token totals are ``NOT NULL``, so they need no conversion).
SESSION_COLUMNS: Final = (
    "id, title, agent, provider, model, created_at, updated_at, "
    "turn_count, event_count, last_seq, metadata, pinned_at, archived_at, tags, "
    "forked_from, forked_at_seq, prompt_tokens, completion_tokens, tokens_estimated"
)


def sessions_from_rows(rows: Sequence[tuple[Any, ...]]) -> list[SessionInfo]:
    """Build :class:`SessionInfo` records from rows of :data:`SESSION_COLUMNS`.

    One constructor call per row (the columns are the fields, in order), then the three
    stored forms that differ from the record's are converted in place: metadata JSON
    (``'{}'`` without the decoder), the ``U+001F``-joined tags, the 0/1 estimate flag.
    """
    found = list(starmap(SessionInfo, rows))
    tag_sets = _TAG_SETS
    for info in found:
        meta: Any = info.metadata
        info.metadata = {} if meta == "{}" else decode_payload(meta)
        tags: Any = info.tags
        if tags:
            known = tag_sets.get(tags)
            if known is None:
                if len(tag_sets) >= _TAG_SETS_KEPT:
                    tag_sets.clear()
                known = tag_sets[tags] = tuple(sorted(tags.split(_TAG_SEP)))
            info.tags = known
        else:
            info.tags = ()
        info.tokens_estimated = bool(info.tokens_estimated)
    return found


def session_from_row(row: tuple[Any, ...]) -> SessionInfo:
    """Build a :class:`SessionInfo` from a row of :data:`SESSION_COLUMNS`."""
    return sessions_from_rows([row])[0]


def _has_tag(column: str) -> str:
    """A row's check that it carries the tag bound to ``?``, on its display copy of its
    tags (``column``, ``U+001F``-joined; rewritten from ``session_tags`` by the very
    transaction that changes them, and tags never hold control characters).

    The row is already read for the page, so this costs a string search where a probe
    of ``session_tags``'s primary key costs a b-tree descent (about 4 us less per page
    of 50 with a second tag, ``bash scripts/bench``, scenario 4o).
    """
    return f"instr(char(31) || {column} || char(31), char(31) || ? || char(31)) > 0"


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


#: ``session_tags_recent.listed`` of each list phase (migration 0009).
_LISTED: Final = {"rest": 0, "pinned": 1, "archived": 2}
_TAGGED_PHASES: Final = frozenset({*_LISTED, "home"})
_QUALIFIED: Final = ", ".join(f"s.{c.strip()}" for c in SESSION_COLUMNS.split(","))
_RECENT: Final = "updated_at DESC, id DESC"


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
        phase: ``"home"`` (not archived, pins first; ``after`` is a cursor inside the
            pins), ``"pinned"`` (pinned, not archived), ``"rest"`` (neither),
            ``"active"`` (not archived, pins not first), or ``"archived"``.
        driving_tag: one of ``tags``: the query walks its sessions (the rarest tag).
            In the ``"active"`` phase, ``None`` walks the recent index instead.
    """
    tagged = bool(tags) and phase in _TAGGED_PHASES
    if tagged and driving_tag is None:
        driving_tag = tags[0]
    others = [tag for tag in tags if tag != driving_tag]
    sql = _list_sql(
        phase,
        tagged=tagged,
        after=after is not None,
        title=bool(title_filter),
        source=source is not None,
        driving=driving_tag is not None and driving_tag in tags,
        others=len(others),
    )
    args: list[Any] = []
    if tagged:
        args.append(driving_tag)
        if phase != "home":
            args.append(_LISTED[phase])
    if after is not None:
        args.extend(after)
    if title_filter:
        args.append(_like(title_filter))
    if source is not None:
        args.append(source)
    if not tagged and driving_tag is not None and driving_tag in tags:
        args.append(driving_tag)
    args.extend(others)
    args.append(max(0, limit))
    return sql, args


@lru_cache(maxsize=256)
def _list_sql(
    phase: str, *, tagged: bool, after: bool, title: bool, source: bool, driving: bool, others: int
) -> str:
    """The statement of one query shape (the text is built once per shape).

    Placeholders, in order: the driving tag (and ``listed``) of a tagged query, the
    cursor, the title pattern, the source, the driving tag of an untagged query, the
    other tags, the limit (see :func:`list_query`).
    """
    if tagged:
        return _tagged_sql(phase, after=after, title=title, source=source, others=others)
    clauses = {
        "home": ["archived_at IS NULL"],
        # Written as sessions_recent_home's first column: the phase is one range of it.
        "pinned": ["(pinned_at IS NOT NULL) = 1", "archived_at IS NULL"],
        "rest": ["(pinned_at IS NOT NULL) = 0", "archived_at IS NULL"],
        "active": ["archived_at IS NULL"],
        "archived": ["archived_at IS NOT NULL"],
    }[phase]
    if after:
        # In the home phase the cursor is inside the pins: the rest all follow it.
        clauses.append(
            "((pinned_at IS NOT NULL) = 0 OR (updated_at, id) < (?, ?))"
            if phase == "home"
            else "(updated_at, id) < (?, ?)"
        )
    if title:
        clauses.append("title LIKE ? ESCAPE '\\'")
    if source:
        clauses.append("json_extract(metadata, '$.source.tool') = ?")
    if driving:
        # A rare tag: read its few sessions through the tag index, then sort them.
        clauses.append("id IN (SELECT session_id FROM session_tags WHERE tag = ?)")
    # A common tag: walk the recent index and check each row (stops at the page).
    clauses += [_has_tag("tags")] * others
    order = f"(pinned_at IS NOT NULL) DESC, {_RECENT}" if phase == "home" else _RECENT
    return (
        f"SELECT {SESSION_COLUMNS} FROM sessions WHERE {' AND '.join(clauses)} "
        f"ORDER BY {order} LIMIT ?"
    )


def _tagged_sql(phase: str, *, after: bool, title: bool, source: bool, others: int) -> str:
    """A tag-filtered page: walk the driving tag's entries in list order, stop at the page.

    ``session_tags_recent`` (kept by triggers, migration 0009) holds each tagged
    session's list phase and ``updated_at`` beside the tag, so its indexes yield the
    tag's sessions newest first, exactly the list's order: ``session_tags_recent_home``
    (0012) the pins then the rest, ``session_tags_recent_order`` one phase. The other
    tags are checked on each row's copy of its tags (:func:`_has_tag`).
    """
    if phase == "home":
        clauses = ["r.tag = ?", "r.listed < 2"]
        order = "(r.listed = 1) DESC, r.updated_at DESC, r.session_id DESC"
    else:
        clauses = ["r.tag = ?", "r.listed = ?"]
        order = "r.updated_at DESC, r.session_id DESC"
    if after:
        clauses.append(
            "(r.listed <> 1 OR (r.updated_at, r.session_id) < (?, ?))"
            if phase == "home"
            else "(r.updated_at, r.session_id) < (?, ?)"
        )
    if title:
        clauses.append("s.title LIKE ? ESCAPE '\\'")
    if source:
        clauses.append("json_extract(s.metadata, '$.source.tool') = ?")
    clauses += [_has_tag("s.tags")] * others
    return (
        f"SELECT {_QUALIFIED} FROM session_tags_recent r JOIN sessions s "
        f"ON s.id = r.session_id WHERE {' AND '.join(clauses)} ORDER BY {order} LIMIT ?"
    )


class LibsqlSessionList:
    """``list_sessions`` for both libSQL modes (mixed into the organizer)."""

    #: ``tag -> (when counted, sessions up to RARE_TAG)``: how to read a tag filter
    #: (only speed depends on it, never the result), re-counted after TAG_SIZE_TTL.
    _tag_sizes: dict[str, tuple[float, int]]

    async def _rows(self, sql: str, args: list[Any]) -> list[tuple[Any, ...]]:
        raise NotImplementedError  # provided by LibsqlMemory

    async def _page_rows(self, sql: str, args: list[Any]) -> list[tuple[Any, ...]]:
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
        limit = max(0, limit)
        if archived or not pinned_first:
            phase = "archived" if archived else "active"
        elif after is None or after[0].startswith(PINNED_CURSOR):
            # Still among the pins: this page's pins and, if they run out, the first of
            # the rest, from one index in order (one statement, one round trip).
            phase = "home"
            if after is not None:
                after = (after[0][len(PINNED_CURSOR) :], after[1])
        else:
            phase = "rest"
        rows = await self._page_rows(
            *list_query(
                phase,
                limit=limit,
                after=after,
                title_filter=title_filter,
                tags=wanted,
                driving_tag=await self._driving_tag(wanted, walk_tags=phase != "active"),
                source=source,
            )
        )
        found = sessions_from_rows(rows)
        if not found or len(found) != limit:
            return SessionPage(tuple(found), None)
        last = found[-1]
        marker = PINNED_CURSOR if phase == "home" and last.pinned_at is not None else ""
        return SessionPage(tuple(found), (marker + last.updated_at, last.id))

    async def _driving_tag(self, tags: list[str], *, walk_tags: bool) -> str | None:
        """Which of ``tags`` the query starts from, if any.

        With ``walk_tags`` (the lists kept in ``session_tags_recent``) the rarest tag
        drives, and a single tag needs no count. Otherwise (the plain list) the rarest
        drives only when fewer than :data:`RARE_TAG` sessions carry it; a common tag is
        checked while walking the recent index. Counting stops at that bound, so a
        count costs at most that many index entries, and is reused for a while.
        """
        if not tags or (walk_tags and len(tags) == 1):
            return tags[0] if tags else None
        now = time.monotonic()
        known = [self._tag_sizes.get(tag) for tag in tags]
        if all(k is not None and now - k[0] < TAG_SIZE_TTL for k in known):
            sizes = [k[1] for k in known if k is not None]
        else:
            probe = "(SELECT count(*) FROM (SELECT 1 FROM session_tags WHERE tag = ? LIMIT ?))"
            rows = await self._page_rows(
                "SELECT " + ", ".join([probe] * len(tags)),
                [value for tag in tags for value in (tag, RARE_TAG)],
            )
            sizes = [int(v) for v in rows[0]]
            for tag, size in zip(tags, sizes, strict=True):
                self._tag_sizes[tag] = (now, size)
        count, tag = min(zip(sizes, tags, strict=True))
        return tag if walk_tags or count < RARE_TAG else None
