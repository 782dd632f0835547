"""The contracts of the memory layer.

:class:`Memory` is the stable three-verb contract (``store``, ``recall``, ``forget``)
the runtime and TUI use. Everything else a backend can do is on separate, additive
interfaces (:class:`SessionCatalog`, :class:`StateStore`, :class:`HealthProbe`), so the
three verbs never have to change. :class:`MemoryBackend` is the union every backend of
this package implements.

Not-found semantics (deterministic, on every backend):

* ``store`` into an unknown session creates it (a session exists once it has events);
* ``recall`` and ``forget`` of an unknown session raise :class:`~memory.errors.NotFoundError`;
* ``recall`` of a known session past its last ``seq`` returns an empty list.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from memory.navigation import EventNavigator
from memory.records import (
    Event,
    EventDraft,
    SaveResult,
    SessionInfo,
    SessionPage,
    StateSnapshot,
    TokenCount,
    TurnRef,
)
from memory.search_records import SETTLE_BATCH, SearchHit, SearchProgress, TextOf

if TYPE_CHECKING:
    from memory.bundle import ImportOutcome, PortableEvent, PortableSession

__all__ = [
    "EventSearch",
    "HealthProbe",
    "HealthReport",
    "IdempotentStore",
    "Memory",
    "MemoryBackend",
    "Porter",
    "SessionCatalog",
    "SessionOrganizer",
    "StateStore",
    "TurnStore",
]


@runtime_checkable
class Memory(Protocol):
    """Durable, ordered conversation memory."""

    async def store(self, session_id: str, events: Sequence[EventDraft]) -> list[int]:
        """Append events to a session in one transaction (one round trip remotely).

        Each event gets the next ``seq`` of its session, assigned inside that same
        transaction, so concurrent writers never produce duplicate or skipped values.
        An unknown session is created.

        Args:
            session_id: the session to append to.
            events: the events, in order. An empty sequence stores nothing.

        Returns:
            The ``seq`` assigned to each event, in order.

        Raises:
            SerializationError: a payload cannot be encoded; nothing was stored.
            StoreBusyError: write contention did not clear within the retry budget.
            StoreConnectionError: the database cannot be reached.
            QueryError: any other database failure; nothing was stored.
        """
        ...

    async def recall(
        self,
        session_id: str,
        *,
        after: int = 0,
        before: int | None = None,
        limit: int | None = None,
        newest: bool = False,
    ) -> list[Event]:
        """Return a session's events in ``seq`` order.

        Args:
            session_id: the session.
            after: only events with ``seq > after``.
            before: only events with ``seq < before``.
            limit: at most this many events.
            newest: with ``limit``, take the newest matching events instead of the
                oldest (still returned in ascending ``seq`` order). This is how a
                long session is opened at its end and paged backwards.

        Raises:
            NotFoundError: the session does not exist.
            StoreConnectionError: the database cannot be reached.
            SerializationError: a stored payload cannot be decoded.
        """
        ...

    async def forget(self, session_id: str) -> None:
        """Remove a session with its events and state snapshots, in one transaction.

        Raises:
            NotFoundError: the session does not exist.
            StoreConnectionError: the database cannot be reached.
        """
        ...


@runtime_checkable
class SessionCatalog(Protocol):
    """Listing and describing sessions."""

    async def create_session(
        self,
        session_id: str,
        *,
        title: str | None = None,
        agent: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> SessionInfo:
        """Create an empty session, or describe an existing one (idempotent).

        Fields given for an existing session are updated when not ``None``.

        Raises:
            SerializationError: the title or metadata cannot be stored.
            StoreConnectionError / QueryError: the database failed.
        """
        ...

    async def get_session(self, session_id: str) -> SessionInfo:
        """Return one session.

        Raises:
            NotFoundError: the session does not exist.
        """
        ...

    async def find_session(self, session_id: str) -> SessionInfo | None:
        """Return one session, or ``None`` when it does not exist."""
        ...

    async def list_sessions(
        self,
        *,
        limit: int = 50,
        after: tuple[str, str] | None = None,
        title_filter: str | None = None,
        source: str | None = None,
        archived: bool = False,
        tags: Sequence[str] = (),
        pinned_first: bool = False,
    ) -> SessionPage:
        """Return recent sessions, newest activity first, by keyset paging.

        Args:
            limit: page size.
            after: the ``cursor`` of the previous page (opaque).
            title_filter: case-insensitive substring the title must contain.
            source: only sessions imported from this tool (``metadata.source.tool``,
                e.g. ``claude-code``).
            archived: list only archived sessions (by activity) instead of the others.
            tags: only sessions carrying every one of these tags.
            pinned_first: pinned sessions first (in their own order of activity), then
                the rest (the home list and ``sessions list``); ignored with ``archived``.
        """
        ...

    async def rename_session(self, session_id: str, title: str) -> SessionInfo:
        """Set a session's title.

        Raises:
            NotFoundError: the session does not exist.
            SerializationError: the title is not valid Unicode.
        """
        ...

    async def count_sessions(self, *, archived: bool | None = None) -> int:
        """Return the number of sessions: all of them (``archived=None``), only those
        not archived (``False``: the default lists), or only the archived (``True``)."""
        ...


@runtime_checkable
class IdempotentStore(Protocol):
    """Exactly-once save points, for writers that retry after ambiguous failures.

    A timeout or a dropped connection can hide a commit: the server stored the batch
    but the answer never arrived. Retrying with plain ``store`` would store it twice.
    """

    async def store_once(
        self, session_id: str, key: str, events: Sequence[EventDraft]
    ) -> list[int]:
        """Like :meth:`Memory.store`, unless a save point with this ``key`` was stored.

        In one transaction (one round trip remotely): if ``(session_id, key)`` is new,
        the events are appended as by ``store``; if an earlier attempt already stored
        it, nothing is written. Either way the seqs of that save point are returned.

        Args:
            session_id: the session to append to (created if unknown).
            key: unique per save point (e.g. a UUID); reuse it on every retry.
            events: the events, in order.

        Raises:
            Same as :meth:`Memory.store`.
        """
        ...


@runtime_checkable
class TurnStore(Protocol):
    """Save points of live turns: turn numbers and checkpoints assigned in the transaction.

    Two writers on one session (a TUI and ``turnkeep ask --session``) each compute turn
    numbers from their own view; only the database sees both. A save point therefore
    says *which* turn it belongs to (:class:`~memory.records.NewTurn` or
    :class:`~memory.records.TurnOf`) and the number is assigned where ``seq`` is.
    """

    async def store_turn(
        self,
        session_id: str,
        key: str,
        events: Sequence[EventDraft],
        *,
        turn: TurnRef,
        state: Mapping[str, Any] | None = None,
    ) -> SaveResult:
        """Like :meth:`IdempotentStore.store_once`, with the turn assigned inside it.

        The ``turn`` of each draft is ignored: a :class:`~memory.records.NewTurn` save
        point gets the session's ``turn_count + 1``; a :class:`~memory.records.TurnOf`
        save point gets the turn of the save point it names (stored earlier). When
        ``state`` is given it replaces the session's checkpoint (``session_state``) in
        the same transaction, at the save point's last ``seq``.

        Raises:
            Same as :meth:`Memory.store`.
        """
        ...


@runtime_checkable
class StateStore(Protocol):
    """Lightweight per-session snapshots (checkpoints) of runtime state."""

    async def save_state(self, session_id: str, state: Mapping[str, Any]) -> StateSnapshot:
        """Save a snapshot at the session's current last ``seq``.

        Raises:
            NotFoundError: the session does not exist.
            SerializationError: the state cannot be encoded.
        """
        ...

    async def load_state(self, session_id: str) -> StateSnapshot | None:
        """Return the latest snapshot, or ``None`` when there is none.

        Raises:
            NotFoundError: the session does not exist.
        """
        ...


@dataclass(frozen=True, slots=True)
class HealthReport:
    """What ``turnkeep db status`` and the Health screen show.

    ``location`` never contains credentials.
    """

    mode: Literal["embedded", "remote", "disabled"]
    location: str
    reachable: bool
    latency_ms: float | None
    engine_version: str | None
    applied_migrations: tuple[str, ...] = ()
    pending_migrations: tuple[str, ...] = ()
    row_counts: Mapping[str, int] = field(default_factory=dict)
    file_size: int | None = None
    wal_size: int | None = None
    journal_mode: str | None = None
    error: str | None = None
    server_version: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict with stable keys."""
        return {
            "mode": self.mode,
            "location": self.location,
            "reachable": self.reachable,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 3),
            "engine_version": self.engine_version,
            "applied_migrations": list(self.applied_migrations),
            "pending_migrations": list(self.pending_migrations),
            "row_counts": dict(self.row_counts),
            "file_size": self.file_size,
            "wal_size": self.wal_size,
            "journal_mode": self.journal_mode,
            "error": self.error,
            "server_version": self.server_version,
        }


@runtime_checkable
class HealthProbe(Protocol):
    """Database health, for status commands and the Health screen."""

    async def health(self) -> HealthReport:
        """Probe the database. Never raises for an unreachable database: it reports it."""
        ...

    async def integrity_check(self) -> list[str]:
        """Run SQLite's integrity check; ``["ok"]`` when healthy."""
        ...


@runtime_checkable
class Porter(Protocol):
    """Moving whole sessions in and out: export files, imports, backups of remote databases.

    The file format is :mod:`memory.bundle`.
    """

    def export_sessions(
        self, session_ids: Sequence[str] | None = None
    ) -> AsyncIterator[PortableSession]:
        """Yield whole sessions (catalog row, events, state snapshots), ordered by id.

        Each session is read as one consistent snapshot; sessions are read a group at a
        time, so exporting everything never holds the whole database in memory.

        Args:
            session_ids: the sessions to export (duplicates ignored), or ``None`` for all.

        Raises:
            NotFoundError: one of ``session_ids`` does not exist (checked before the
                first session is yielded).
            SerializationError: a stored payload is not a JSON object.
            StoreConnectionError / QueryError: the database failed.
        """
        ...

    async def import_sessions(
        self, sessions: Sequence[PortableSession], *, as_new: bool = False
    ) -> ImportOutcome:
        """Write sessions exactly as given, all or nothing, in one transaction.

        Ids, ``seq``, turns, kinds, payload text, timestamps and state snapshots are kept
        exactly; the counters are derived from the events. A session already present
        with identical content is left alone (importing the same file twice changes
        nothing).

        Args:
            sessions: the sessions, e.g. from :func:`memory.bundle.parse_bundle`.
            as_new: store every session under a fresh id instead of its own (never
                conflicts).

        Raises:
            ImportConflictError: a session id exists with different content; nothing
                was written.
            BundleFormatError: two sessions share an id.
            StoreConnectionError / QueryError: the database failed; nothing was written.
        """
        ...

    async def append_imported(
        self,
        session_id: str,
        events: Sequence[PortableEvent],
        *,
        expect_last_seq: int,
        metadata_json: str | None = None,
        updated_at: str | None = None,
        create: PortableSession | None = None,
        tokens: TokenCount | None = None,
    ) -> int:
        """Append events with explicit ``seq``, turn and ``created_at``, in one transaction.

        For importers that re-read another tool's history and add what is new to a
        session they imported earlier. Nothing is written unless the session's
        ``last_seq`` is still ``expect_last_seq`` (no other writer appended meanwhile).
        Each event's ``created_at`` is kept as given; ``metadata_json`` (a JSON object),
        when given, replaces the session's metadata and ``updated_at`` its last
        activity, in the same transaction. An empty ``events`` only updates those.

        Args:
            session_id: an existing session.
            events: seqs ``expect_last_seq + 1, + 2, ...`` in order.
            expect_last_seq: the ``last_seq`` the caller read.
            metadata_json: the session's new metadata, or ``None`` to keep it.
            updated_at: the session's new last activity, or ``None`` to keep it.
            create: a new session to create first, in the same transaction: its title,
                agent, provider, model, created/updated times and metadata (its events
                and states are not used); ``expect_last_seq`` is then 0.
            tokens: the token usage of the appended answers (the runtime reads it from
                their payloads; the memory layer never does), added to the session's
                totals in the same transaction, as a save point adds its answers'.

        Returns:
            The session's new ``last_seq``.

        Raises:
            NotFoundError: the session does not exist (and ``create`` was not given).
            ImportConflictError: its ``last_seq`` moved, or ``create`` names a session
                that exists; nothing was written.
            BundleFormatError: the seqs do not continue ``expect_last_seq``.
            StoreConnectionError / QueryError: the database failed; nothing was written.
        """
        ...


@runtime_checkable
class EventSearch(Protocol):
    """Finding past conversation text across sessions (the ``search_sessions`` tool)."""

    async def search_events(
        self, query: str, *, limit: int = 20, session_id: str | None = None
    ) -> list[Event]:
        """Return ``user`` and ``assistant`` events whose ``content`` contains ``query``.

        Matching is a substring match, case-insensitive for ASCII letters (SQLite's
        ``LIKE``); ``%`` and ``_`` match themselves. Newest events first.

        Args:
            query: the text to look for; blank finds nothing.
            limit: at most this many events.
            session_id: only search this session.

        Raises:
            StoreConnectionError / QueryError: the database failed.
        """
        ...

    async def search(
        self,
        query: str,
        *,
        limit: int = 20,
        session_id: str | None = None,
        kinds: tuple[str, ...] = (),
        since: str | None = None,
    ) -> list[SearchHit]:
        """Ranked full-text search over event text and session titles.

        Any string is a valid query (see :mod:`memory.search_query`): words must all
        occur, ``"phrases"`` as written, ``-word`` must not; every term is a
        case-insensitive substring with diacritics folded; terms shorter than three
        characters are ignored. Hits are ranked by bm25 with the person's own messages
        weighted above replies and tool traffic, newest first among equal scores; one
        hit per event, plus title hits (``kind == "title"``, ``seq == 0``) when neither
        ``session_id`` nor ``kinds`` is given.

        Args:
            query: what the person typed.
            limit: at most this many hits.
            session_id: only this session's events.
            kinds: only these of ``"user"``, ``"assistant"``, ``"tool"`` (``()``: all).
            since: only events saved at or after this timestamp (``format_ts`` form).

        Raises:
            StoreConnectionError / QueryError: the database failed.
        """
        ...

    async def settle_search(self, batch: int = SETTLE_BATCH) -> int:
        """Move up to ``batch`` of the newest events' substring rows into the index proper;
        return how many were moved (``0``: none is waiting).

        A save point writes its events' word rows and leaves their substring rows
        waiting, so it writes one full-text index instead of two; a search finds the
        waiting rows by a scan of their text, so nothing saved is ever unfindable, but
        the scan grows with them. Call it in idle time (the persistence worker does when
        it goes idle, the tidy does first) until it returns less than ``batch``. One
        short write transaction; safe from several processes at once and to kill.

        Raises:
            StoreConnectionError / QueryError: the database failed (nothing is lost).
        """
        ...

    async def tidy_search(self, pages: int = 64) -> bool:
        """Merge a little of the index's pieces; ``True`` while more is left to merge.

        Every save adds a small piece to the index and a search reads every piece, so
        a long history searches faster once they are merged. One call is one short
        write transaction writing about ``pages`` pages per index (call it again, in
        idle time, until it returns ``False``); hits never change, only their speed.
        Safe from several processes at once and to kill at any point.

        Raises:
            StoreConnectionError / QueryError: the database failed (nothing is lost).
        """
        ...

    async def search_progress(self) -> SearchProgress:
        """How much of what predates the index is still to be indexed."""
        ...

    async def backfill_search(self, batch: int = 500) -> SearchProgress:
        """Index up to ``batch`` more events saved before the index existed.

        Safe to run from several processes at once and to kill at any point: progress
        is stored with the rows it covers, in one transaction.
        """
        ...

    def use_search_text(self, text_of: TextOf) -> None:
        """Index events with ``text_of(kind, payload)`` (given by the runtime at open)."""
        ...


@runtime_checkable
class SessionOrganizer(Protocol):
    """Pins, archive, tags, forks, token usage rows and pruning (issue 16).

    Every write is one transaction (one round trip remotely); an unknown session raises
    :class:`~memory.errors.NotFoundError` and changes nothing. None of these changes a
    session's events or its ``updated_at`` (pinning does not reorder activity).
    """

    async def fork_session(
        self,
        session_id: str,
        *,
        at: int | None = None,
        title: str | None = None,
        tokens: TokenCount | None = None,
        new_id: str | None = None,
    ) -> SessionInfo:
        """Copy events ``1..at`` (default: all) and their state snapshots into a new session.

        Events keep their seq, turn, kind, payload text and ``created_at``; the counters
        are derived from the copy; ``forked_from``/``forked_at_seq`` record the lineage;
        the title defaults to ``"Fork of <title>"``; the metadata is copied without its
        ``source`` key (a fork is turnkeep's own session, not an import). The original
        never changes.

        Args:
            tokens: the token totals of events ``1..at`` (the runtime counts them; the
                memory layer never reads payload keys). ``None``: the source's totals,
                exact when the fork takes every event.
            new_id: the new session's id (default: a fresh one).

        Raises:
            NotFoundError: the session does not exist.
            ForkPointError: ``at`` is below 1 or past the last event.
        """
        ...

    async def set_pinned(self, session_id: str, pinned: bool) -> SessionInfo:
        """Pin or unpin a session (idempotent; a re-pin keeps the first ``pinned_at``)."""
        ...

    async def set_archived(self, session_id: str, archived: bool) -> SessionInfo:
        """Archive or restore a session (idempotent). Archiving deletes nothing."""
        ...

    async def add_tags(self, session_id: str, tags: Sequence[str]) -> SessionInfo:
        """Add tags (normalised by :func:`memory.records.normalize_tag`).

        Raises:
            SerializationError: a tag is invalid; no tag was added.
        """
        ...

    async def remove_tags(self, session_id: str, tags: Sequence[str]) -> SessionInfo:
        """Remove tags (absent ones are ignored; invalid ones refused before any write)."""
        ...

    async def all_tags(self) -> list[tuple[str, int]]:
        """Every tag in use with its number of sessions, by tag."""
        ...

    async def assistant_events(
        self, *, since: str | None = None, after: tuple[str, str, int] | None = None, limit: int
    ) -> list[tuple[Event, str | None, str | None]]:
        """Assistant events with their session's provider and model, oldest first.

        Each answer once: the events a fork copied from its source (``seq`` up to
        ``forked_at_seq``) are left out; a fork contributes only its own answers.

        Keyset-paged on ``(created_at, session_id, seq)`` (pass the last event's); for
        ``turnkeep usage``, which reads the token figures with :mod:`runtime.payloads`.
        """
        ...

    async def prune_candidates(
        self, *, empty: bool = False, older_than: str | None = None, archived: bool = False
    ) -> list[SessionInfo]:
        """Unpinned sessions matching every given criterion, oldest activity first.

        Args:
            empty: only sessions without events.
            older_than: only sessions whose last activity is before this timestamp.
            archived: only archived sessions.
        """
        ...

    async def forget_many(self, session_ids: Sequence[str]) -> int:
        """Remove these sessions in one transaction; returns how many existed."""
        ...

    async def prune_sessions(self, plan: Sequence[SessionInfo]) -> list[str]:
        """Remove the planned sessions that did not change since the plan was read.

        In one transaction per 100 sessions: a session that got new activity or events
        (``updated_at``/``last_seq`` differ) or was pinned meanwhile is kept, so nothing
        is deleted that the plan (and the backup taken after it) did not show.

        Returns:
            The ids deleted.
        """
        ...


@runtime_checkable
class MemoryBackend(
    Memory,
    IdempotentStore,
    TurnStore,
    SessionCatalog,
    StateStore,
    HealthProbe,
    Porter,
    SessionOrganizer,
    EventSearch,
    EventNavigator,
    Protocol,
):
    """Everything a backend of this package implements."""

    async def close(self) -> None:
        """Release connections and threads. Safe to call twice."""
        ...
