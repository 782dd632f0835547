"""turnkeep's memory layer: durable, ordered conversation events on libSQL.

Knows libSQL, yoyo and SQL; nothing of the runtime or Textual. Nothing here does I/O at
import time. Start with :func:`open_embedded` (a local file, the default),
:func:`open_remote` (sqld/Turso) or :class:`EphemeralMemory` (memory disabled).
"""

from memory.connect import open_embedded
from memory.ephemeral import EphemeralMemory
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
from memory.libsql import LibsqlMemory
from memory.migrate import MigrationOutcome
from memory.portable import ImportOutcome, PortableSession, parse_bundle, write_bundle
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
from memory.remote import open_remote, redact_url

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
