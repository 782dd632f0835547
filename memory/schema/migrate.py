"""The schema's migrations: where they are, which are applied, what is missing.

Deciding whether a database is up to date needs no yoyo: a migration's id is its file
name and yoyo's hash of it is the SHA-256 of that id (:func:`list_migrations`, checked
against yoyo's own reading by a test). So opening an up-to-date database never imports
yoyo; applying migrations does (:mod:`memory.schema.yoyo_sqlite` for a file,
:mod:`memory.schema.yoyo_libsql` for a server).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from memory.errors import MigrationError

__all__ = [
    "MIGRATION_TABLE",
    "REQUIRED_INDEXES",
    "REQUIRED_TABLES",
    "MigrationOutcome",
    "MigrationRef",
    "SchemaState",
    "list_migrations",
    "load_migrations",
    "migrations_dir",
    "read_schema_state",
]

MIGRATION_TABLE = "_yoyo_migration"
REQUIRED_TABLES = ("sessions", "conversation_events", "session_state")
REQUIRED_INDEXES = ("sessions_recent",)
#: A remote lock older than this, whose owner cannot be checked, is considered stale.
REMOTE_LOCK_STALE_AFTER = timedelta(minutes=2)


def migrations_dir() -> Path:
    """Return the directory holding the project's SQL migrations.

    An installed wheel carries them as ``memory/_migrations``; a source checkout (and
    an editable install) has them at the top level as ``migrations/``.
    """
    package = Path(__file__).resolve().parent.parent
    packaged = package / "_migrations"
    if packaged.is_dir():
        return packaged
    return package.parent / "migrations"


@dataclass(frozen=True, slots=True)
class MigrationRef:
    """A migration as the schema state needs it: its id and yoyo's hash of the id."""

    id: str
    hash: str


def list_migrations(directory: Path | None = None) -> list[MigrationRef]:
    """The migrations in ``directory`` (the project's by default), in order, without yoyo.

    Ids are numbered (``0001.name``), so file order is dependency order.

    Raises:
        MigrationError: the directory is missing.
    """
    source = directory or migrations_dir()
    if not source.is_dir():
        raise MigrationError(f"the migrations directory {source} does not exist")
    ids = sorted(
        path.name.removesuffix(".sql")
        for path in source.glob("*.sql")
        if not path.name.endswith(".rollback.sql")
    )
    return [MigrationRef(i, hashlib.sha256(i.encode("utf-8")).hexdigest()) for i in ids]


def load_migrations(directory: Path | None = None) -> Any:
    """Read the migrations in ``directory`` (the project's by default).

    Raises:
        MigrationError: the directory is missing or a migration cannot be read.
    """
    source = directory or migrations_dir()
    if not source.is_dir():
        raise MigrationError(f"the migrations directory {source} does not exist")
    from yoyo import read_migrations  # deferred: only migrating needs yoyo

    try:
        return read_migrations(str(source))
    except Exception as exc:  # yoyo raises plain exceptions for unreadable files
        raise MigrationError(f"cannot read migrations from {source}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class MigrationOutcome:
    """What :func:`apply_pending` did.

    Attributes:
        applied: ids of the migrations this call applied, in order.
        notes: things a person should know (e.g. a stale lock that was broken).
    """

    applied: tuple[str, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)


#: The names of every table and index (what "missing" is judged from).
SCHEMA_NAMES_SQL = "SELECT name FROM sqlite_master WHERE type IN ('table', 'index')"
#: The migrations recorded as applied (only when yoyo's table exists).
APPLIED_SQL = f"SELECT migration_hash FROM {MIGRATION_TABLE}"
#: Whether a migrator's lock row is left (only when yoyo's lock table exists).
LOCK_LEFT_SQL = "SELECT 1 FROM yoyo_lock LIMIT 1"


@dataclass(frozen=True, slots=True)
class SchemaState:
    """What a database's schema says about migrations: the one "pending or missing" rule.

    Both openers (the file and the server) read the three queries above their own way
    and ask this.

    Attributes:
        names: every table and index name.
        applied: hashes of the migrations recorded as applied.
        lock_left: a migrator's lock row is present.
    """

    names: frozenset[str]
    applied: frozenset[str] = frozenset()
    lock_left: bool = False

    @property
    def has_bookkeeping(self) -> bool:
        """yoyo's migration table exists."""
        return MIGRATION_TABLE in self.names

    @property
    def has_lock_table(self) -> bool:
        """yoyo's lock table exists."""
        return "yoyo_lock" in self.names

    def pending(self, migrations: Any) -> list[str]:
        """Ids of the migrations not recorded as applied, in order."""
        return [m.id for m in migrations if m.hash not in self.applied]

    @property
    def missing(self) -> list[str]:
        """Required tables and indexes that do not exist."""
        return [name for name in (*REQUIRED_TABLES, *REQUIRED_INDEXES) if name not in self.names]

    def needs_migrator(self, migrations: Any) -> bool:
        """Whether yoyo must run: no bookkeeping yet, a lock left, or a migration pending."""
        return not self.has_bookkeeping or self.lock_left or bool(self.pending(migrations))


def read_schema_state(conn_execute: Any) -> SchemaState:
    """Read a :class:`SchemaState` with a synchronous ``(sql) -> rows`` callable."""
    names = frozenset(str(row[0]) for row in conn_execute(SCHEMA_NAMES_SQL))
    state = SchemaState(names)
    applied = (
        frozenset(str(row[0]) for row in conn_execute(APPLIED_SQL))
        if state.has_bookkeeping
        else frozenset()
    )
    lock_left = state.has_lock_table and bool(conn_execute(LOCK_LEFT_SQL))
    return SchemaState(names, applied, lock_left)


def missing_schema(conn_execute: Any) -> list[str]:
    """Return the required tables and indexes that are missing.

    Args:
        conn_execute: a callable ``(sql) -> rows`` (works for sqlite3 and DB-API cursors).
    """
    return SchemaState(frozenset(str(row[0]) for row in conn_execute(SCHEMA_NAMES_SQL))).missing
