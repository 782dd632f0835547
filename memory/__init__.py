"""turnkeep's memory layer: durable, ordered conversation events on libSQL.

Knows libSQL, yoyo and SQL; nothing of the runtime or Textual. Nothing here does I/O at
import time. Start with :func:`open_embedded` (a local file, the default),
:func:`open_remote` (sqld/Turso) or :class:`EphemeralMemory` (memory disabled).
"""

from memory.bundle import ImportOutcome, PortableSession, parse_bundle, write_bundle
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
from memory.open_embedded import open_embedded
from memory.open_remote import open_remote, redact_url
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
from memory.schema.migrate import MigrationOutcome
from memory.sql.store import LibsqlMemory

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
