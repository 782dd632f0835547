"""Organizing sessions on the libSQL backend (mixed into :class:`~memory.libsql.LibsqlMemory`).

Pins, archive, tags, forks, the filtered recent list, usage rows and pruning, written
once for the embedded file and the remote server. Every write is one batch: one
transaction, one round trip remotely, and nothing changes when it fails.

The recent list with ``pinned_first`` is read in two keyset phases, each walking its own
partial index (migration 0005): pinned sessions by activity, then the others. The page
cursor stays an opaque ``(text, id)`` pair; a cursor inside the pinned phase carries
:data:`PINNED_CURSOR` before its timestamp.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Final

from libsql_client import ResultSet, Row

from memory.errors import MemoryLayerError, NotFoundError
from memory.records import (
    Event,
    SessionInfo,
    SessionPage,
    TokenCount,
    check_text,
    decode_payload,
    new_session_id,
    normalize_tag,
)

__all__ = [
    "PINNED_CURSOR",
    "SESSION_COLUMNS",
    "ForkPointError",
    "LibsqlOrganizer",
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
    "forked_at_seq, prompt_tokens, completion_tokens, tokens_estimated, "
    "(SELECT group_concat(tag, char(31)) FROM session_tags t WHERE t.session_id = sessions.id)"
)


class ForkPointError(MemoryLayerError):
    """A fork point outside the session's events (``--at`` zero, negative or past the end)."""

    title = "Invalid fork point"


def session_from_row(row: Row | tuple[Any, ...]) -> SessionInfo:
    """Build a :class:`SessionInfo` from a row of :data:`SESSION_COLUMNS`."""
    values = row.astuple() if isinstance(row, Row) else row
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
) -> tuple[str, list[Any]]:
    """One keyset query of the recent list.

    Args:
        phase: ``"pinned"`` (pinned, not archived), ``"rest"`` (neither), ``"active"``
            (not archived, pins not first), or ``"archived"``.
        driving_tag: one of ``tags`` carried by few sessions: the query starts from its
            sessions instead of walking the whole recent index.
    """
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


def check_tags(tags: Sequence[str]) -> list[str]:
    """Normalise tags (duplicates dropped, order kept); refuse any bad one before writing."""
    out: list[str] = []
    for tag in tags:
        clean = normalize_tag(tag)
        if clean not in out:
            out.append(clean)
    return out


class LibsqlOrganizer:
    """The :class:`~memory.protocol.SessionOrganizer` capability for both libSQL modes."""

    where: str
    #: ``tag -> (when counted, sessions up to RARE_TAG)``: how to read a tag filter
    #: (only speed depends on it, never the result), re-counted after TAG_SIZE_TTL.
    _tag_sizes: dict[str, tuple[float, int]]

    def _now(self) -> str:
        raise NotImplementedError  # provided by LibsqlMemory

    async def _rows(self, sql: str, args: list[Any]) -> list[tuple[Any, ...]]:
        raise NotImplementedError  # provided by LibsqlMemory

    async def _batch(self, stmts: list[tuple[str, list[Any]]]) -> list[ResultSet]:
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
                )
            )
            found = [session_from_row(r) for r in rows]
            cursor = (found[-1].updated_at, found[-1].id) if found and len(found) == limit else None
            return SessionPage(tuple(found), cursor)
        common: dict[str, Any] = {
            "title_filter": title_filter,
            "tags": wanted,
            "driving_tag": driving,
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

    # -- pin, archive, tags ------------------------------------------------------------

    async def _update(self, session_id: str, stmts: list[tuple[str, list[Any]]]) -> SessionInfo:
        """Run ``stmts`` then read the session back, in one batch; unknown id: nothing done."""
        guarded = [
            ("SELECT 1 FROM sessions WHERE id = ?", [session_id]),
            *stmts,
            (f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?", [session_id]),
        ]
        results = await self._batch(guarded)
        if not results[-1].rows:
            raise NotFoundError(session_id)
        return session_from_row(results[-1].rows[0])

    async def set_pinned(self, session_id: str, pinned: bool) -> SessionInfo:
        """See :meth:`memory.protocol.SessionOrganizer.set_pinned`."""
        return await self._update(
            session_id,
            [
                (
                    "UPDATE sessions SET pinned_at = CASE WHEN ? THEN coalesce(pinned_at, ?) "
                    "ELSE NULL END WHERE id = ?",
                    [int(pinned), self._now(), session_id],
                )
            ],
        )

    async def set_archived(self, session_id: str, archived: bool) -> SessionInfo:
        """See :meth:`memory.protocol.SessionOrganizer.set_archived`."""
        return await self._update(
            session_id,
            [
                (
                    "UPDATE sessions SET archived_at = CASE WHEN ? THEN coalesce(archived_at, ?) "
                    "ELSE NULL END WHERE id = ?",
                    [int(archived), self._now(), session_id],
                )
            ],
        )

    async def add_tags(self, session_id: str, tags: Sequence[str]) -> SessionInfo:
        """See :meth:`memory.protocol.SessionOrganizer.add_tags`."""
        clean = check_tags(tags)
        return await self._update(
            session_id,
            [
                (
                    "INSERT OR IGNORE INTO session_tags (session_id, tag) "
                    "SELECT id, ? FROM sessions WHERE id = ?",
                    [tag, session_id],
                )
                for tag in clean
            ],
        )

    async def remove_tags(self, session_id: str, tags: Sequence[str]) -> SessionInfo:
        """See :meth:`memory.protocol.SessionOrganizer.remove_tags`."""
        clean = check_tags(tags)
        return await self._update(
            session_id,
            [
                ("DELETE FROM session_tags WHERE session_id = ? AND tag = ?", [session_id, tag])
                for tag in clean
            ],
        )

    async def all_tags(self) -> list[tuple[str, int]]:
        """See :meth:`memory.protocol.SessionOrganizer.all_tags`."""
        rows = await self._rows(
            "SELECT tag, count(*) FROM session_tags GROUP BY tag ORDER BY tag", []
        )
        return [(str(r[0]), int(r[1])) for r in rows]

    # -- fork --------------------------------------------------------------------------

    async def fork_session(
        self,
        session_id: str,
        *,
        at: int | None = None,
        title: str | None = None,
        tokens: TokenCount | None = None,
        new_id: str | None = None,
    ) -> SessionInfo:
        """See :meth:`memory.protocol.SessionOrganizer.fork_session`."""
        if at is not None and at < 1:
            raise ForkPointError(
                f"cannot fork at seq {at}: the first event is seq 1",
                hint="Give --at a seq shown by `turnkeep sessions show ID`.",
            )
        if title is not None:
            check_text(title, "title")
        fork_id = new_id or new_session_id()
        check_text(fork_id, "session id")
        now = self._now()
        has_tokens = tokens is not None
        counted = tokens or TokenCount()
        results = await self._batch(
            [
                # The new row exists only when the source exists and the point is in range;
                # every later write is conditioned on it, so a refusal writes nothing.
                (
                    "INSERT INTO sessions (id, title, agent, provider, model, created_at, "
                    "updated_at, metadata, forked_from, forked_at_seq, prompt_tokens, "
                    "completion_tokens, tokens_estimated) "
                    "SELECT ?, coalesce(?, 'Fork of ' || coalesce(title, id)), agent, provider, "
                    "model, ?, ?, metadata, id, coalesce(?, last_seq), "
                    "CASE WHEN ? THEN ? ELSE prompt_tokens END, "
                    "CASE WHEN ? THEN ? ELSE completion_tokens END, "
                    "CASE WHEN ? THEN ? ELSE tokens_estimated END "
                    "FROM sessions WHERE id = ? AND coalesce(?, last_seq) <= last_seq",
                    [
                        fork_id,
                        title,
                        now,
                        now,
                        at,
                        int(has_tokens),
                        counted.prompt,
                        int(has_tokens),
                        counted.completion,
                        int(has_tokens),
                        int(counted.estimated),
                        session_id,
                        at,
                    ],
                ),
                (
                    "INSERT INTO conversation_events (session_id, seq, turn, kind, payload, "
                    "created_at) SELECT f.id, e.seq, e.turn, e.kind, e.payload, e.created_at "
                    "FROM sessions f JOIN conversation_events e ON e.session_id = f.forked_from "
                    "AND e.seq <= f.forked_at_seq WHERE f.id = ? ORDER BY e.seq",
                    [fork_id],
                ),
                (
                    "INSERT INTO session_state (session_id, seq, state, created_at) "
                    "SELECT f.id, s.seq, s.state, s.created_at FROM sessions f "
                    "JOIN session_state s ON s.session_id = f.forked_from "
                    "AND s.seq <= f.forked_at_seq WHERE f.id = ?",
                    [fork_id],
                ),
                (
                    "UPDATE sessions SET "
                    "last_seq = (SELECT coalesce(max(seq), 0) FROM conversation_events "
                    "WHERE session_id = ?), "
                    "event_count = (SELECT count(*) FROM conversation_events "
                    "WHERE session_id = ?), "
                    "turn_count = (SELECT coalesce(max(turn), 0) FROM conversation_events "
                    "WHERE session_id = ?) WHERE id = ?",
                    [fork_id, fork_id, fork_id, fork_id],
                ),
                (f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?", [fork_id]),
                ("SELECT last_seq FROM sessions WHERE id = ?", [session_id]),
            ]
        )
        if results[-2].rows:
            return session_from_row(results[-2].rows[0])
        if not results[-1].rows:
            raise NotFoundError(session_id)
        last = int(results[-1].rows[0][0])
        raise ForkPointError(
            f"cannot fork session {session_id} at seq {at}: it has {last} event"
            f"{'s' if last != 1 else ''}",
            hint=f"Give --at a seq from 1 to {last}." if last else "It has no events yet.",
        )

    # -- usage and pruning -------------------------------------------------------------

    async def assistant_events(
        self, *, since: str | None = None, after: tuple[str, str, int] | None = None, limit: int
    ) -> list[tuple[Event, str | None, str | None]]:
        """See :meth:`memory.protocol.SessionOrganizer.assistant_events`."""
        clauses = ["e.kind = 'assistant'"]
        args: list[Any] = []
        if since is not None:
            clauses.append("e.created_at >= ?")
            args.append(since)
        if after is not None:
            clauses.append("(e.created_at, e.session_id, e.seq) > (?, ?, ?)")
            args.extend(after)
        args.append(max(0, limit))
        rows = await self._rows(
            "SELECT e.session_id, e.seq, e.turn, e.kind, e.payload, e.created_at, s.provider, "
            "s.model FROM conversation_events e JOIN sessions s ON s.id = e.session_id "
            f"WHERE {' AND '.join(clauses)} ORDER BY e.created_at, e.session_id, e.seq LIMIT ?",
            args,
        )
        return [
            (Event(str(r[0]), int(r[1]), int(r[2]), str(r[3]), str(r[4]), str(r[5])), r[6], r[7])
            for r in rows
        ]

    async def prune_candidates(
        self, *, empty: bool = False, older_than: str | None = None, archived: bool = False
    ) -> list[SessionInfo]:
        """See :meth:`memory.protocol.SessionOrganizer.prune_candidates`."""
        clauses = ["pinned_at IS NULL"]
        args: list[Any] = []
        if empty:
            clauses.append("event_count = 0")
        if older_than is not None:
            clauses.append("updated_at < ?")
            args.append(older_than)
        if archived:
            clauses.append("archived_at IS NOT NULL")
        rows = await self._rows(
            f"SELECT {SESSION_COLUMNS} FROM sessions WHERE {' AND '.join(clauses)} "
            "ORDER BY updated_at, id",
            args,
        )
        return [session_from_row(r) for r in rows]

    async def forget_many(self, session_ids: Sequence[str]) -> int:
        """See :meth:`memory.protocol.SessionOrganizer.forget_many`."""
        ids = list(dict.fromkeys(session_ids))
        if not ids:
            return 0
        stmts: list[tuple[str, list[Any]]] = []
        for start in range(0, len(ids), 200):
            chunk = ids[start : start + 200]
            marks = ", ".join("?" * len(chunk))
            for table, column in (
                ("conversation_events", "session_id"),
                ("session_state", "session_id"),
                ("save_points", "session_id"),
                ("session_tags", "session_id"),
                ("sessions", "id"),
            ):
                stmts.append((f"DELETE FROM {table} WHERE {column} IN ({marks})", list(chunk)))
        results = await self._batch(stmts)
        return sum(r.rows_affected for i, r in enumerate(results) if i % 5 == 4)

    async def prune_sessions(self, plan: Sequence[SessionInfo]) -> list[str]:
        """See :meth:`memory.protocol.SessionOrganizer.prune_sessions`."""
        chosen = list({info.id: info for info in plan}.values())
        if not chosen:
            return []
        deleted: list[str] = []
        for start in range(0, len(chosen), 100):
            chunk = chosen[start : start + 100]
            values = ", ".join(["(?, ?, ?)"] * len(chunk))
            args = [v for info in chunk for v in (info.id, info.updated_at, info.last_seq)]
            still = (
                "SELECT id FROM sessions WHERE pinned_at IS NULL AND "
                f"(id, updated_at, last_seq) IN (VALUES {values})"
            )
            stmts: list[tuple[str, list[Any]]] = [(still, args)]
            for table in ("conversation_events", "session_state", "save_points", "session_tags"):
                stmts.append((f"DELETE FROM {table} WHERE session_id IN ({still})", args))
            stmts.append((f"DELETE FROM sessions WHERE id IN ({still})", args))
            results = await self._batch(stmts)
            deleted.extend(str(row[0]) for row in results[0].rows)
        return deleted
