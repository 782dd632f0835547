"""The runtime's door to sessions: what the TUI and the CLI ask for, in their words.

Front ends never call the memory layer: they import its records (``SessionInfo``,
``Event``, ...) and ask this facade, which owns the backend, the persistence worker
and the model provider of the process. That keeps one place that knows how a session
is listed, opened (its newest window and its conversation), renamed, forgotten,
exported, imported and probed, and one place where later capabilities (search,
organizing, imports) plug in.

Built once per process from the settings (``await Sessions.open(settings)``) or around
an already open backend (tests, benchmarks).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from memory import (
    Event,
    EventDraft,
    HealthReport,
    ImportOutcome,
    MemoryBackend,
    NotFoundError,
    PortableSession,
    SessionInfo,
    SessionPage,
)
from memory.records import Clock, utc_now
from runtime.navigation import Window, window_at
from runtime.providers.pool import ProviderPool
from runtime.session_ids import resolve_session_id
from runtime.sessions_admin import AdminSessions
from runtime.sessions_organize import OrganizeSessions, count_tokens_until
from runtime.sessions_search import SearchSessions
from runtime.sessions_semantic import SemanticSessions
from runtime.settings import Settings

if TYPE_CHECKING:
    from runtime.conversation import Conversation
    from runtime.persistence import PersistenceWorker, WorkerState
    from runtime.providers import Provider

__all__ = ["OpenedSession", "Sessions", "count_tokens_until"]


@dataclass(frozen=True, slots=True)
class OpenedSession:
    """A session as it opens: its catalog row and its newest events (oldest first)."""

    info: SessionInfo
    events: list[Event]

    @property
    def has_older(self) -> bool:
        """Events exist before the first one returned."""
        return bool(self.events) and self.events[0].seq > 1


class Sessions(OrganizeSessions, SearchSessions, SemanticSessions, AdminSessions):
    """Listing, opening, changing and moving sessions, for every front end.

    Organizing (:mod:`runtime.sessions_organize`), search
    (:mod:`runtime.sessions_search`) and the database's own chores
    (:mod:`runtime.sessions_admin`) are mixed in from their modules.

    Args:
        settings: built once at start-up.
        memory: the open backend.
        owns_memory: close ``memory`` in :meth:`close`.
        clock: the current time (frozen in tests and screenshots).
    """

    def __init__(
        self,
        settings: Settings,
        memory: MemoryBackend,
        *,
        owns_memory: bool = True,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.memory = memory
        self.clock: Clock = clock or utc_now
        self._owns_memory = owns_memory
        self.worker: PersistenceWorker | None = None
        self.providers = ProviderPool(settings.agent)

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        migrate: bool = True,
        verify: bool = True,
        clock: Clock | None = None,
    ) -> Sessions:
        """Open the backend the settings select (no fallback between modes).

        Raises:
            memory.MemoryLayerError: typed, with a title, message and hint.
        """
        from runtime.store import open_memory

        memory = await open_memory(settings, migrate=migrate, verify=verify, **_clock(clock))
        return cls(settings, memory, clock=clock)

    @classmethod
    def in_process(cls, settings: Settings, *, clock: Clock | None = None) -> Sessions:
        """Sessions kept in process memory only (memory disabled, or a dry run that must
        not create the database)."""
        from memory.ephemeral import EphemeralMemory  # only when memory is disabled

        return cls(settings, EphemeralMemory(**_clock(clock)), clock=clock)

    # -- reading -----------------------------------------------------------------------

    async def page(
        self,
        *,
        limit: int,
        after: tuple[str, str] | None = None,
        title_filter: str | None = None,
        source: str | None = None,
        archived: bool = False,
        tags: Sequence[str] = (),
        pinned_first: bool = False,
    ) -> SessionPage:
        """One keyset page of recent sessions, newest activity first.

        Args:
            limit: page size.
            after: the previous page's ``cursor``.
            title_filter: case-insensitive substring of the title.
            source: only sessions imported from this tool.
            archived: only archived sessions instead of the others.
            tags: only sessions carrying every one of these tags.
            pinned_first: pinned sessions first (ignored with ``archived``).
        """
        return await self.memory.list_sessions(
            limit=limit,
            after=after,
            title_filter=title_filter or None,
            source=source,
            archived=archived,
            tags=tags,
            pinned_first=pinned_first,
        )

    async def count(self, *, archived: bool | None = None) -> int:
        """How many sessions there are (``archived``: see ``count_sessions``)."""
        return await self.memory.count_sessions(archived=archived)

    async def find(self, session_id: str) -> SessionInfo | None:
        """One session, or ``None``."""
        return await self.memory.find_session(session_id)

    async def get(self, session_id: str) -> SessionInfo:
        """One session.

        Raises:
            NotFoundError: it does not exist.
        """
        return await self.memory.get_session(session_id)

    async def latest(self) -> SessionInfo | None:
        """The session with the most recent activity (``--continue``), or ``None``."""
        page = await self.memory.list_sessions(limit=1)
        return page.sessions[0] if page.sessions else None

    async def open_newest(self, session_id: str, limit: int) -> OpenedSession:
        """A session's row and its newest ``limit`` events: what a screen shows first.

        Raises:
            NotFoundError: it does not exist.
        """
        # Both reads sent at once: one round trip to a remote server, not two.
        info, events = await asyncio.gather(
            self.memory.get_session(session_id),
            self.memory.recall(session_id, limit=limit, newest=True),
        )
        return OpenedSession(info, events)

    async def newest(
        self, session_id: str, limit: int, *, before: int | None = None
    ) -> list[Event]:
        """Up to ``limit`` of the newest events (those before ``before`` when given),
        oldest first."""
        return await self.memory.recall(session_id, before=before, limit=limit, newest=True)

    async def older(self, session_id: str, before: int, limit: int) -> list[Event]:
        """Up to ``limit`` events just before ``before`` (oldest first)."""
        return await self.memory.recall(session_id, before=before, limit=limit, newest=True)

    async def newer(self, session_id: str, after: int, limit: int | None = None) -> list[Event]:
        """Up to ``limit`` events just after ``after`` (oldest first)."""
        return await self.memory.recall(session_id, after=after, limit=limit)

    async def events(
        self, session_id: str, *, after: int = 0, limit: int | None = None
    ) -> list[Event]:
        """A session's events in order, a page at a time."""
        return await self.memory.recall(session_id, after=after, limit=limit)

    async def resolve_id(self, text: str) -> str:
        """The full id of the one session whose id is ``text`` or starts with it.

        Raises:
            EmptySessionIdError: ``text`` is blank.
            NotFoundError: no session id starts with ``text``.
            AmbiguousSessionIdError: several do (it lists a few).
        """
        return await resolve_session_id(self.memory, text)

    async def recent_prompts(self) -> list[str]:
        """The person's recent messages across sessions, newest first (prompt history)."""
        from runtime.prompt_history import recent_prompts

        return await recent_prompts(self.memory)

    async def ids_with_prefix(self, prefix: str, limit: int) -> list[str]:
        """Up to ``limit`` session ids starting with ``prefix``, in id order (one indexed read)."""
        return await self.memory.session_ids_with_prefix(prefix, limit)

    async def turn_start(self, session_id: str, turn: int) -> int | None:
        """``seq`` of the user message starting turn ``turn`` (or the next turn that has one)."""
        return await self.memory.turn_start_seq(session_id, turn)

    async def user_message(
        self, session_id: str, *, after: int | None = None, before: int | None = None
    ) -> int | None:
        """``seq`` of the next user message after ``after`` / the previous before ``before``."""
        return await self.memory.user_message_seq(session_id, after=after, before=before)

    async def window_at(self, session_id: str, seq: int, size: int) -> Window:
        """The events around ``seq`` (``size`` each side): where a jump lands."""
        return await window_at(self.memory, session_id, seq, size)

    async def server_models(self) -> list[str]:
        """The models the ``openai`` provider's server serves (for the model picker).

        Raises:
            ProviderConfigError: the base URL is invalid or would send the key in clear text.
            ProviderConnectionError / ProviderAuthError / ProviderResponseError.
        """
        from runtime.providers import make_provider
        from runtime.providers.openai import OpenAIProvider

        provider = make_provider(self.settings.agent, "openai")
        assert isinstance(provider, OpenAIProvider)
        try:
            return await provider.list_models()
        finally:
            await provider.close()

    async def choose_model(self, session_id: str, model: str) -> SessionInfo:
        """Store ``model`` (of the ``openai`` provider) as the session's model: its next
        turns run on it, as they do on any session's stored provider and model.

        Raises:
            NotFoundError: the session does not exist.
        """
        await self.memory.get_session(session_id)
        return await self.memory.create_session(session_id, provider="openai", model=model)

    async def health(self) -> HealthReport:
        """Database health (never raises for an unreachable database)."""
        return await self.memory.health()

    async def integrity_check(self) -> list[str]:
        """SQLite's integrity check; ``["ok"]`` when healthy."""
        return await self.memory.integrity_check()

    # -- changing ----------------------------------------------------------------------

    async def rename(self, session_id: str, title: str) -> SessionInfo:
        """Set a session's title.

        Raises:
            NotFoundError: it does not exist.
            SerializationError: the title cannot be stored (too long, invalid text).
        """
        return await self.memory.rename_session(session_id, title)

    async def forget(self, session_id: str) -> None:
        """Delete a session with its events and state, for good.

        Raises:
            NotFoundError: it does not exist.
        """
        await self.memory.forget(session_id)

    async def discard_if_unused(self, session_id: str) -> bool:
        """Delete a session started and left without a word: no event, no title, tag,
        pin or archive. Returns whether it was deleted (any of those keeps it).

        For a new session opened and left at once, which should leave nothing behind;
        never for a session with anything in it.
        """
        info = await self.memory.find_session(session_id)
        if info is None or info.events or info.title or info.tags:
            return False
        if info.pinned_at is not None or info.archived_at is not None:
            return False
        await self.memory.forget(session_id)
        return True

    def export(self, session_ids: Sequence[str] | None = None) -> AsyncIterator[PortableSession]:
        """Whole sessions, for export files (``None``: every session)."""
        return self.memory.export_sessions(session_ids)

    async def import_(
        self, sessions: Sequence[PortableSession], *, as_new: bool = False
    ) -> ImportOutcome:
        """Write sessions exactly as given, all or nothing."""
        return await self.memory.import_sessions(sessions, as_new=as_new)

    # -- live turns --------------------------------------------------------------------

    async def start_worker(
        self, listener: Callable[[WorkerState], None] | None = None
    ) -> PersistenceWorker:
        """Start the persistence worker that stores live turns in the background (once;
        later calls return it)."""
        if self.worker is not None:
            return self.worker
        from runtime.persistence import PersistenceWorker

        worker = PersistenceWorker(self.memory)
        if listener is not None:
            worker.add_listener(listener)
        await worker.start()
        self.worker = worker
        return worker

    def provider_for(self, info: SessionInfo | None) -> Provider:
        """The model provider a session's turns run on, made once per process."""
        return self.providers.for_session(info)

    async def conversation(
        self,
        session_id: str | None,
        *,
        provider: str | None = None,
        model: str | None = None,
        script: Path | None = None,
    ) -> Conversation:
        """Open a session's live conversation (``None`` starts a new session).

        Turns run on the process's shared provider, unless ``provider``, ``model`` or
        ``script`` choose one for this conversation only (``turnkeep ask``); the
        conversation then owns it and closes it.

        Raises:
            NotFoundError: ``session_id`` is unknown.
            ProviderConfigError: the provider cannot be set up.
            RuntimeError: :meth:`start_worker` was not called.
        """
        from runtime.conversation import Conversation

        if self.worker is None:
            raise RuntimeError("the persistence worker is not running")
        info = None if session_id is None else await self.memory.get_session(session_id)
        if session_id is not None and info is None:
            raise NotFoundError(session_id)
        chosen = provider is not None or model is not None or script is not None
        return await Conversation.open(
            self.memory,
            self.worker,
            self.settings,
            session_id,
            provider=provider,
            model=model,
            script=script,
            provider_instance=None if chosen else self.provider_for(info),
            clock=self.clock,
        )

    async def close(self, save_for: float = 10.0) -> list[tuple[str, list[EventDraft]]]:
        """Save what is queued (for at most ``save_for`` s), then release everything.

        Returns:
            Save points that could not be stored, ``(session_id, drafts)``.
        """
        unsaved: list[tuple[str, list[EventDraft]]] = []
        if self.worker is not None:
            state = self.worker.state
            if state.last_error is not None and state.pending:
                save_for = min(save_for, 2.0)  # the database is failing: do not hang the exit
            unsaved = [(sid, list(drafts)) for sid, drafts in await self.worker.stop(save_for)]
            self.worker = None
        await self.close_searcher()
        await self.providers.close()
        if self._owns_memory:
            await self.memory.close()
        return unsaved


def _clock(clock: Clock | None) -> dict[str, Clock]:
    """``clock=`` for the memory layer when one was given (else its own default)."""
    return {} if clock is None else {"clock": clock}
