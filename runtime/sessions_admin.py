"""The database itself, through the runtime: where it is, backups, export files, imports.

A part of the :class:`~runtime.sessions.Sessions` facade (mixed in there). ``turnkeep
db``, ``sessions export/import/prune`` and ``turnkeep import`` ask here; the export
format, the backup copy and the migrations stay in the memory layer.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from memory import LibsqlMemory, PortableSession, write_bundle
from memory.bundle import parse_bundle_versioned
from memory.errors import StoreConfigError
from memory.records import decode_payload
from runtime import payloads

if TYPE_CHECKING:
    from memory import MemoryBackend
    from memory.backup import BackupResult
    from memory.schema.migrate import MigrationOutcome
    from runtime.importers.run import ImportReport, Reader
    from runtime.settings import Settings

__all__ = ["AdminSessions", "migration_ids", "read_export", "write_export"]


class AdminSessions:
    """Facts about the open database, backups, export files and tool imports."""

    memory: MemoryBackend
    settings: Settings

    @property
    def where(self) -> str:
        """The redacted location of the database (a path, or a URL without credentials)."""
        if isinstance(self.memory, LibsqlMemory):
            return self.memory.where
        return self.settings.mode

    @property
    def file_path(self) -> Path | None:
        """The database file of an embedded database; ``None`` otherwise."""
        if isinstance(self.memory, LibsqlMemory):
            return self.memory.path
        return None

    @property
    def migration_outcome(self) -> MigrationOutcome | None:
        """What opening the database migrated; ``None`` when memory is disabled."""
        if isinstance(self.memory, LibsqlMemory):
            return self.memory.migration_outcome
        return None

    async def backup_file(self, target: Path) -> BackupResult:
        """A consistent, integrity-checked copy of the embedded database at ``target``
        (replaced atomically).

        Raises:
            StoreConfigError: the database is not an embedded file, or ``target`` is the
                database itself.
            QueryError: the copy cannot be written or failed its integrity check.
        """
        from memory.backup import backup_embedded

        if not isinstance(self.memory, LibsqlMemory) or self.memory.path is None:
            raise StoreConfigError(f"{self.where} is not an embedded database file")
        return await backup_embedded(self.memory, target)

    async def export_to(
        self, write: Callable[[str], object], session_ids: Sequence[str] | None = None
    ) -> int:
        """Write an export file of these sessions (``None``: all) through ``write``.

        Returns:
            How many sessions were written.

        Raises:
            NotFoundError: an id does not exist.
        """
        return await write_bundle(self.memory.export_sessions(session_ids), write)

    async def import_from(
        self, reader: Reader, *, dry_run: bool = False, report: ImportReport | None = None
    ) -> ImportReport:
        """Import everything new from another tool's history (``turnkeep import``).

        Raises:
            SourceFormatError: the source is not of the reader's format.
            MemoryLayerError: the store failed.
        """
        from runtime.importers.run import run_import

        return await run_import(self.memory, reader, dry_run=dry_run, report=report)


async def write_export(
    sessions: AsyncIterable[PortableSession], write: Callable[[str], object]
) -> int:
    """Write sessions as an export file through ``write``; returns how many."""
    return await write_bundle(sessions, write)


def read_export(data: str | bytes) -> tuple[PortableSession, ...]:
    """Parse and check a whole export file.

    A version 1 file has no session token totals (they came with version 2): each
    session gets them from its answers' recorded usage, as ``turnkeep usage`` counts
    them, instead of zeros.

    Raises:
        BundleFormatError: it is not a valid export (naming where).
    """
    version, sessions = parse_bundle_versioned(data)
    if version == 1:
        return tuple(_with_token_totals(session) for session in sessions)
    return sessions


def _with_token_totals(session: PortableSession) -> PortableSession:
    """``session`` with token totals summed from its answers' usage (version 1 files),
    as :func:`runtime.sessions_organize.count_tokens_until` sums a fork's."""
    answers = (decode_payload(e.payload_json) for e in session.events if e.kind == "assistant")
    total = payloads.summed_usage(answers)
    if not total.total:
        return session
    return replace(
        session,
        prompt_tokens=total.prompt,
        completion_tokens=total.completion,
        tokens_estimated=total.estimated,
    )


def migration_ids() -> tuple[str, ...]:
    """The ids of every migration this version knows, in order.

    Raises:
        MigrationError: the migrations cannot be read.
    """
    from memory.schema.migrate import list_migrations

    return tuple(m.id for m in list_migrations())
