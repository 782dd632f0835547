"""What the screens use: settings, the clock, the memory backend and the save worker.

Built once by the app from the settings it was given (no globals), and handed down to
each screen. Nothing here imports Textual, so it can be reasoned about (and tested)
without an app.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from memory import HealthReport, MemoryBackend
from memory.errors import explain
from runtime.providers.pool import ProviderPool
from runtime.settings import Settings

if TYPE_CHECKING:
    from runtime.persistence import PersistenceWorker, WorkerState

__all__ = ["Clock", "ErrorNote", "Services", "describe_location", "error_parts", "tilde"]

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


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
        from memory import redact_url

        return redact_url(settings.db.url)
    return tilde(str(settings.db.resolved_path()))


class Services:
    """The app's connection to the runtime and memory layers.

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
        self.clock: Clock = clock or _utc_now
        self.memory: MemoryBackend | None = memory
        self.saver: PersistenceWorker | None = None
        self.last_error: ErrorNote | None = None
        self.unsaved: list[Any] = []
        self._owns_memory = memory is None
        #: One model provider for the whole app: a local model loads once, not per screen.
        self.providers = ProviderPool(settings.agent)
        #: How far the search index backfill is (set by the app's backfill worker).
        self.search_progress: Any = None
        #: Semantic search (tui.semantic): the searcher, the index's progress and the last
        #: embedding failure (shown on Health and in the search header).
        self.semantic: Any = None
        self.vector_progress: Any = None
        self.semantic_error: str | None = None

    @property
    def location(self) -> str:
        """The redacted location of the database."""
        return describe_location(self.settings)

    def now(self) -> datetime:
        """The current time, from the clock."""
        return self.clock()

    def require_memory(self) -> MemoryBackend:
        """The open backend (screens only exist once it is open)."""
        if self.memory is None:
            raise RuntimeError("the database is not open")
        return self.memory

    async def open(self) -> MemoryBackend:
        """Open the backend the settings select (once; later calls return it).

        Raises:
            memory.MemoryLayerError: typed, with a title, message and hint.
        """
        if self.memory is None:
            from runtime.store import open_memory

            self.memory = await open_memory(self.settings, clock=self.clock)
            self._owns_memory = True
        return self.memory

    async def start_saver(self, listener: Callable[[WorkerState], None]) -> None:
        """Start the persistence worker that stores live turns in the background."""
        if self.saver is not None or self.memory is None:
            return
        from runtime.persistence import PersistenceWorker

        saver = PersistenceWorker(self.memory)
        saver.add_listener(listener)
        await saver.start()
        self.saver = saver

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
        if self.saver is not None:
            if self.saver.state.last_error is not None and self.saver.state.pending:
                save_for = min(save_for, 2.0)  # the database is failing: do not hang the exit
            self.unsaved = list(await self.saver.stop(save_for))
            self.saver = None
        await self.providers.close()
        if self.memory is not None and self._owns_memory:
            memory, self.memory = self.memory, None
            await memory.close()
