"""The one schema step every opener takes: read the state, migrate what is pending, verify.

Both :func:`memory.open_file.open_embedded` and :func:`memory.open_server.open_remote`
open their driver their own way, then hand the schema question to :func:`settle_schema`
with the two things that differ between them: how the schema state is read and how
pending migrations are applied. A database with nothing pending is opened without a
single write (a read-only token, or a full disk, can still open it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memory.errors import MigrationError
from memory.schema.migrate import MigrationOutcome, SchemaState, list_migrations

__all__ = ["SettledSchema", "settle_schema"]


@dataclass(frozen=True, slots=True)
class SettledSchema:
    """What the schema step found and did.

    Attributes:
        migration_ids: the project's migration ids (to report pending ones later).
        outcome: what was migrated (``None`` when migrating was not asked for).
    """

    migration_ids: tuple[str, ...]
    outcome: MigrationOutcome | None


async def settle_schema(
    *,
    where: str,
    read_state: Callable[[], Awaitable[SchemaState]],
    pending_of: Callable[[SchemaState, Any], Sequence[str]],
    apply: Callable[[Sequence[str]], Awaitable[MigrationOutcome]],
    migrate: bool,
    verify: bool,
    migrations_dir: Path | None,
) -> SettledSchema:
    """Read the schema state, apply what is pending (if asked), and verify it.

    Args:
        where: the database as messages name it.
        read_state: reads the migration state without writing.
        pending_of: which migrations need the migrator, given the state and the
            project's migrations (a file also breaks a dead migrator's lock).
        apply: applies pending migrations under yoyo's lock and says what it did.
        migrate: apply pending migrations.
        verify: without ``migrate``, still require a complete schema.
        migrations_dir: migrations to use instead of the project's (tests).

    Raises:
        MigrationError: a migration failed, or the schema is incomplete.
    """
    migrations = list_migrations(migrations_dir)
    state = await read_state()
    pending = pending_of(state, migrations)
    outcome: MigrationOutcome | None = None
    if migrate:
        outcome = MigrationOutcome(applied=())
        if pending:
            outcome = await apply(pending)
            state = await read_state()
    if (migrate or verify) and state.missing:
        raise MigrationError(
            f"{where} is not migrated (missing {', '.join(state.missing)})",
            hint="Run `turnkeep db migrate`.",
        )
    return SettledSchema(tuple(m.id for m in migrations), outcome)
