"""Opening the memory backend the settings select. No fallback between modes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from memory import MemoryBackend, redact_url
from memory.records import Clock, utc_now
from runtime.payloads import searchable_text
from runtime.settings import Settings, default_db_path

__all__ = ["open_memory", "redacted_url"]


def redacted_url(url: str) -> str:
    """A database URL without credentials, fit to show or log."""
    return redact_url(url)


def _ensure_default_dir(path: Path) -> None:
    """Create the default data directory (owner-only); a configured one must exist."""
    if path == default_db_path() and not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)


async def open_memory(
    settings: Settings, *, migrate: bool = True, verify: bool = True, clock: Clock = utc_now
) -> MemoryBackend:
    """Open the backend the settings select: disabled, remote, or embedded (default).

    Args:
        settings: the settings built at start-up.
        migrate: apply pending migrations.
        verify: require the schema to be complete (``db status`` turns it off to
            report pending migrations).
        clock: timestamps source.

    Raises:
        memory.MemoryLayerError: any typed error of the memory layer; never falls back
            to another mode.
    """
    backend = await _open(settings, migrate=migrate, verify=verify, clock=clock)
    # Search indexes what runtime.payloads says a person may look for.
    backend.use_search_text(searchable_text)
    return backend


async def _open(settings: Settings, *, migrate: bool, verify: bool, clock: Clock) -> MemoryBackend:
    if not settings.memory.enabled:
        from memory.ephemeral import EphemeralMemory  # only when memory is disabled

        return EphemeralMemory(clock=clock)
    db = settings.db
    if db.url:
        token = db.auth_token.get_secret_value() if db.auth_token else None
        from memory.open_server import open_remote  # deferred: loads the server stack

        return await open_remote(
            db.url,
            auth_token=token,
            timeout=db.timeout,
            migrate=migrate,
            verify=verify,
            clock=clock,
        )
    path = db.resolved_path()
    await asyncio.to_thread(_ensure_default_dir, path)
    from memory.open_file import open_embedded

    return await open_embedded(
        path,
        synchronous=db.synchronous,
        busy_timeout=db.busy_timeout,
        migrate=migrate,
        verify=verify,
        clock=clock,
    )
