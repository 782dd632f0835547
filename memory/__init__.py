"""turnkeep's memory layer: durable, ordered conversation events on libSQL.

Knows libSQL, yoyo and SQL; nothing of the runtime or Textual. Nothing here does I/O at
import time. Start with :func:`open_embedded` (a local file, the default),
:func:`open_remote` (sqld/Turso) or :class:`EphemeralMemory` (memory disabled).
"""

from typing import TYPE_CHECKING, Any

from memory.errors import (
    BundleFormatError,
    ConnectionLostError,
    ImportConflictError,
    MemoryLayerError,
    MigrationError,
    NotADatabaseError,
    NotFoundError,
    QueryError,
    ReadOnlyError,
    SerializationError,
    StoreAuthError,
    StoreBusyError,
    StoreConfigError,
    StoreConnectionError,
    StoreTimeoutError,
)
from memory.protocol import (
    EventSearch,
    HealthProbe,
    HealthReport,
    IdempotentStore,
    Memory,
    MemoryBackend,
    Porter,
    SessionCatalog,
    StateStore,
    TurnStore,
)
from memory.records import (
    Event,
    EventDraft,
    NewTurn,
    SaveResult,
    SessionInfo,
    SessionPage,
    StateSnapshot,
    TokenCount,
    TurnOf,
    TurnRef,
    new_session_id,
)

if TYPE_CHECKING:
    from memory.bundle import ImportOutcome, PortableSession, parse_bundle, write_bundle
    from memory.drivers.remote_url import redact_url
    from memory.ephemeral import EphemeralMemory
    from memory.open_file import open_embedded
    from memory.open_server import open_remote
    from memory.schema.migrate import MigrationOutcome
    from memory.sql.store import LibsqlMemory

#: Names imported on first use: the backends pull in SQLite mirrors, every SQL module
#: and (remote) libsql-client with aiohttp, which a command that never opens them, or
#: opens only a local file, should not pay for at start-up; the export format and the
#: URL parser are not needed before an export or a remote open either.
_LAZY = {
    "EphemeralMemory": "memory.ephemeral",
    "ImportOutcome": "memory.bundle",
    "MigrationOutcome": "memory.schema.migrate",
    "PortableSession": "memory.bundle",
    "parse_bundle": "memory.bundle",
    "redact_url": "memory.drivers.remote_url",
    "write_bundle": "memory.bundle",
    "LibsqlMemory": "memory.sql.store",
    "open_embedded": "memory.open_file",
    "open_remote": "memory.open_server",
}


def __getattr__(name: str) -> Any:
    """Import a backend or opener on first use (see :data:`_LAZY`)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'memory' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "TokenCount",
    "ConnectionLostError",
    "TurnStore",
    "TurnRef",
    "TurnOf",
    "SaveResult",
    "NewTurn",
    "BundleFormatError",
    "EphemeralMemory",
    "Event",
    "EventDraft",
    "EventSearch",
    "HealthProbe",
    "HealthReport",
    "IdempotentStore",
    "ImportConflictError",
    "ImportOutcome",
    "LibsqlMemory",
    "Memory",
    "MemoryBackend",
    "MemoryLayerError",
    "MigrationError",
    "MigrationOutcome",
    "NotADatabaseError",
    "NotFoundError",
    "PortableSession",
    "Porter",
    "QueryError",
    "ReadOnlyError",
    "SerializationError",
    "SessionCatalog",
    "SessionInfo",
    "SessionPage",
    "StateSnapshot",
    "StateStore",
    "StoreAuthError",
    "StoreBusyError",
    "StoreConfigError",
    "StoreConnectionError",
    "StoreTimeoutError",
    "new_session_id",
    "open_embedded",
    "open_remote",
    "parse_bundle",
    "redact_url",
    "write_bundle",
]
