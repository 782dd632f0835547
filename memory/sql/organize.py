"""Organizing sessions on the libSQL backend (mixed into :class:`~memory.sql.store.LibsqlMemory`).

Pins, archive, tags, forks, usage rows and pruning, written once for the embedded file
and the remote server (the filtered recent list is in :mod:`memory.sql.session_list`).
Every write is one batch: one transaction, one round trip remotely, and nothing changes
when it fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memory.drivers.base import Result, Statement
from memory.errors import ForkPointError, NotFoundError
from memory.records import (
    MAX_TITLE_CHARS,
    Event,
    SessionInfo,
    TokenCount,
    check_text,
    new_session_id,
    typed_tag,
)
from memory.search_query import fold
from memory.sql.search_words import with_words
from memory.sql.session_list import (
    PINNED_CURSOR,
    SESSION_COLUMNS,
    LibsqlSessionList,
    session_from_row,
)

__all__ = [
    "PINNED_CURSOR",
    "SESSION_COLUMNS",
    "ForkPointError",
    "LibsqlOrganizer",
    "check_tags",
    "removable_tags",
    "session_from_row",
]

#: A fork's default title: "Fork of " and the source's title, cut to MAX_TITLE_CHARS.
_FORK_TITLE = (
    f"CASE WHEN length('Fork of ' || coalesce(title, id)) > {MAX_TITLE_CHARS} "
    f"THEN substr('Fork of ' || coalesce(title, id), 1, {MAX_TITLE_CHARS - 1}) || '…' "
    "ELSE 'Fork of ' || coalesce(title, id) END"
)


#: The largest seq SQLite can store (a signed 64-bit INTEGER).
MAX_SEQ = 2**63 - 1


def fork_request(at: int | None, title: str | None, new_id: str | None) -> str:
    """Check a fork's arguments before anything is read; the fork's id (new unless given).

    Raises:
        ForkPointError: ``at`` is before the first event.
        SerializationError: the title or id cannot be stored.
    """
    if at is not None and at < 1:
        raise ForkPointError(
            f"cannot fork at seq {at}: the first event is seq 1",
            hint="Give --at a seq shown by `turnkeep sessions show ID`.",
        )
    if at is not None and at > MAX_SEQ:
        raise ForkPointError(
            f"cannot fork at seq {at}: no session has that many events",
            hint="Give --at a seq shown by `turnkeep sessions show ID`.",
        )
    if title is not None:
        check_text(title, "title")
    fork_id = new_id or new_session_id()
    check_text(fork_id, "session id")
    return fork_id


def check_tags(tags: Sequence[str]) -> list[str]:
    """Normalise tags (duplicates dropped, order kept); refuse any bad one before writing.

    A leading ``#`` (how the home filter writes a tag) is not part of the tag: ``#work``
    is stored as ``work``.
    """
    out: list[str] = []
    for tag in tags:
        clean = typed_tag(tag)
        if clean not in out:
            out.append(clean)
    return out


def removable_tags(tags: Sequence[str]) -> list[str]:
    """The tags to remove: each as :func:`check_tags` reads it, and as given (trimmed),
    so a tag stored with a leading ``#`` before it was dropped can still be removed."""
    clean = check_tags(tags)
    return list(dict.fromkeys([*clean, *(t.strip() for t in tags)]))


def _fork_index_statements(fork_id: str, title: str | None) -> list[tuple[str, list[Any]]]:
    """The fork's search index rows, in the fork's own batch.

    Each copied event gets its source event's index row (the same text); the title is
    indexed as given, or as "Fork of" the source's indexed title. Events of the source
    not indexed yet (a backfill still running) are left for no one: the backfill only
    covers events that existed when the index was created.
    """
    if title is not None:
        title_sql, title_args = "?", [fold(title)]
    else:
        title_sql = (
            "'Fork of ' || coalesce((SELECT t.title FROM search_titles t "
            "JOIN search_title_keys sk ON t.rowid = sk.id WHERE sk.session_id = f.forked_from), "
            "f.forked_from)"
        )
        title_args = []
    # The source's rows are in the trigram index, or still pending (its newest events,
    # memory.sql.search_pending): each copied once, into the trigram index.
    return [
        *(
            (
                "INSERT INTO search_events (rowid, mine, reply, tool) "
                "SELECT n.id, s.mine, s.reply, s.tool FROM sessions f "
                "JOIN conversation_events o ON o.session_id = f.forked_from "
                "AND o.seq <= f.forked_at_seq "
                f"JOIN {source} s ON s.{key} = o.id "
                "JOIN conversation_events n ON n.session_id = f.id AND n.seq = o.seq "
                "WHERE f.id = ?",
                [fork_id],
            )
            for source, key in (("search_events", "rowid"), ("search_pending", "id"))
        ),
        (
            "INSERT INTO search_title_keys (session_id) SELECT id FROM sessions WHERE id = ? "
            "AND title IS NOT NULL ON CONFLICT (session_id) DO NOTHING",
            [fork_id],
        ),
        (
            "INSERT INTO search_titles (rowid, title, session_id) "
            f"SELECT k.id, {title_sql}, f.id FROM sessions f "
            "JOIN search_title_keys k ON k.session_id = f.id WHERE f.id = ? "
            "AND NOT EXISTS (SELECT 1 FROM search_titles WHERE rowid = k.id)",
            [*title_args, fork_id],
        ),
    ]


class LibsqlOrganizer(LibsqlSessionList):
    """The :class:`~memory.protocol.SessionOrganizer` capability for both libSQL modes."""

    where: str

    def _now(self) -> str:
        raise NotImplementedError  # provided by LibsqlMemory

    async def _rows(self, sql: str, args: list[Any]) -> list[tuple[Any, ...]]:
        raise NotImplementedError  # provided by LibsqlMemory

    async def _batch(self, stmts: Sequence[Statement]) -> list[Result]:
        raise NotImplementedError  # provided by LibsqlMemory

    # -- pin, archive, tags ------------------------------------------------------------

    async def _update(
        self, session_id: str, stmts: list[tuple[str, list[Any]]], *, retag: bool = False
    ) -> SessionInfo:
        """Run ``stmts`` then read the session back, in one batch; unknown id: nothing done.

        With ``retag``, the row's display copy of its tags is rewritten from
        ``session_tags`` in the same transaction.
        """
        if retag:
            stmts = [
                *stmts,
                (
                    "UPDATE sessions SET tags = (SELECT group_concat(tag, char(31)) FROM "
                    "(SELECT tag FROM session_tags WHERE session_id = ? ORDER BY tag)) "
                    "WHERE id = ?",
                    [session_id, session_id],
                ),
            ]
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
            retag=True,
        )

    async def remove_tags(self, session_id: str, tags: Sequence[str]) -> SessionInfo:
        """See :meth:`memory.protocol.SessionOrganizer.remove_tags`."""
        clean = removable_tags(tags)
        return await self._update(
            session_id,
            [
                ("DELETE FROM session_tags WHERE session_id = ? AND tag = ?", [session_id, tag])
                for tag in clean
            ],
            retag=True,
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
        fork_id = fork_request(at, title, new_id)
        now = self._now()
        has_tokens = tokens is not None
        counted = tokens or TokenCount()
        results = await self._batch(
            [
                # The new row exists only when the source exists and the point is in range;
                # every later write is conditioned on it, so a refusal writes nothing.
                # The fork is turnkeep's own session: it keeps the source's metadata but
                # its ``source`` (the import's tool, file and offset), so it is no import.
                (
                    "INSERT INTO sessions (id, title, agent, provider, model, created_at, "
                    "updated_at, metadata, forked_from, forked_at_seq, prompt_tokens, "
                    "completion_tokens, tokens_estimated) "
                    f"SELECT ?, coalesce(?, {_FORK_TITLE}), agent, provider, "
                    "model, ?, ?, CASE WHEN json_valid(metadata) THEN "
                    "json_remove(metadata, '$.source') ELSE metadata END, id, "
                    "coalesce(?, last_seq), "
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
                *with_words(_fork_index_statements(fork_id, title)),
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
        # A fork's copies of its source's events (seq <= forked_at_seq) are not new
        # answers: each answer is counted once, in the session that produced it.
        clauses = [
            "e.kind = 'assistant'",
            "(s.forked_from IS NULL OR e.seq > coalesce(s.forked_at_seq, 0))",
        ]
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
