"""What the screens use: settings, the clock, the memory backend and the save worker.

Built once by the app from the settings it was given (no globals), and handed down to
each screen. Nothing here imports Textual, so it can be reasoned about (and tested)
without an app.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from memory.errors import explain
from memory.protocol import HealthReport
from memory.records import Clock, utc_now
from runtime.sessions import Sessions
from runtime.settings import Settings

if TYPE_CHECKING:
    from memory.protocol import MemoryBackend
    from runtime.persistence import PersistenceWorker, WorkerState

__all__ = ["Clock", "ErrorNote", "Services", "describe_location", "error_parts", "tilde"]


def tilde(text: str) -> str:
    """Write paths under the home directory as ``~/...`` (shorter, and the same on every
    machine, which keeps screenshots stable)."""
    home = os.environ.get("HOME", "").rstrip("/")
    if not home:
        return text
    return text.replace(home + "/", "~/")


def error_parts(error: BaseException) -> tuple[str, str, str | None]:
    """Title, message and hint of any error, paths written with ``~``, for display."""
    explained = explain(error)
    hint = explained.hint
    return explained.title, tilde(explained.message), tilde(hint) if hint else None


@dataclass(frozen=True, slots=True)
class ErrorNote:
    """The last error a person saw, for the Health screen."""

    title: str
    message: str
    at: datetime


def describe_location(settings: Settings) -> str:
    """Where the memory lives, for people: no credentials, ``~`` for the home directory."""
    if settings.mode == "disabled":
        return "process memory (nothing is saved)"
    if settings.db.url:
        from runtime.store import redacted_url

        return redacted_url(settings.db.url)
    return tilde(str(settings.db.resolved_path()))


class Services:
    """The app's connection to the runtime: the :class:`~runtime.sessions.Sessions` facade.

    Screens ask ``services.sessions`` for everything stored; they never call the memory
    layer (``lint-imports`` and ``tests/test_architecture.py`` check it).

    Args:
        settings: built once by the entry point.
        memory: a backend opened by the caller (tests, benchmarks); when given, the
            caller also closes it.
        clock: the current time (frozen in tests and screenshots).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        memory: MemoryBackend | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or utc_now
        self._sessions: Sessions | None = None
        #: The backend was opened here (not handed in), so :meth:`close` lets it go.
        self._owns_memory = memory is None
        if memory is not None:
            self._sessions = Sessions(settings, memory, owns_memory=False, clock=self.clock)
        self.last_error: ErrorNote | None = None
        self.unsaved: list[Any] = []
        #: How far the search index backfill is (set by the app's backfill worker).
        self.search_progress: Any = None
        #: Semantic search (tui.semantic): the searcher, the index's progress and the last
        #: embedding failure (shown on Health and in the search header).
        self.semantic: Any = None
        self.vector_progress: Any = None
        self.semantic_error: str | None = None
        #: What was typed into a session's prompt and not sent, by session id (kept
        #: while the app runs: going back with Esc does not lose it).
        self.drafts: dict[str, str] = {}

    @property
    def location(self) -> str:
        """The redacted location of the database."""
        return describe_location(self.settings)

    def now(self) -> datetime:
        """The current time, from the clock."""
        return self.clock()

    @property
    def is_open(self) -> bool:
        """The database is open (screens other than start-up and Health need it)."""
        return self._sessions is not None

    @property
    def sessions(self) -> Sessions:
        """The runtime's door to sessions (screens only exist once it is open)."""
        if self._sessions is None:
            raise RuntimeError("the database is not open")
        return self._sessions

    @property
    def memory(self) -> MemoryBackend | None:
        """The backend under the facade, for tests and benchmarks that seed or inspect
        it; the app's own code asks :attr:`sessions`."""
        return None if self._sessions is None else self._sessions.memory

    def require_memory(self) -> MemoryBackend:
        """:attr:`memory`, which must be open (tests and benchmarks only)."""
        return self.sessions.memory

    @property
    def saver(self) -> PersistenceWorker | None:
        """The persistence worker storing live turns, once started."""
        return None if self._sessions is None else self._sessions.worker

    async def open(self) -> Sessions:
        """Open the backend the settings select (once; later calls return it).

        Raises:
            memory.MemoryLayerError: typed, with a title, message and hint.
        """
        if self._sessions is None:
            self._sessions = await Sessions.open(self.settings, clock=self.clock)
        return self._sessions

    async def start_saver(self, listener: Callable[[WorkerState], None]) -> None:
        """Start the persistence worker that stores live turns in the background."""
        if self._sessions is not None:
            await self._sessions.start_worker(listener)

    def note_error(self, error: BaseException) -> ErrorNote:
        """Remember an error a person was shown."""
        title, message, _hint = error_parts(error)
        return self.note(title, message)

    def note(self, title: str, message: str) -> ErrorNote:
        """Remember a problem a person was told about (for the Health screen)."""
        self.last_error = ErrorNote(title, tilde(message), self.now())
        return self.last_error

    def startup_report(self, error: BaseException) -> HealthReport:
        """A health report for a database that could not be opened."""
        title, message, _hint = error_parts(error)
        return HealthReport(
            mode=self.settings.mode,
            location=self.location,
            reachable=False,
            latency_ms=None,
            engine_version=None,
            error=f"{title}: {message}",
        )

    async def close(self, save_for: float = 10.0) -> None:
        """Save what is queued (for at most ``save_for`` seconds), then close what we opened."""
        if self._sessions is not None:
            sessions = self._sessions
            if self._owns_memory:
                self._sessions = None
            self.unsaved = await sessions.close(save_for)
