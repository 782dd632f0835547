"""Every way a remote server can refuse or fail us gives its typed error, naming the host.

Each test opens through the settings, as the app does, and checks that nothing was
written anywhere else: remote mode never falls back to a local file.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from memory import (
    EventDraft,
    MemoryBackend,
    MigrationError,
    ReadOnlyError,
    StoreAuthError,
    StoreConnectionError,
    StoreTimeoutError,
    new_session_id,
    open_remote,
)
from runtime.settings import Settings, load_settings
from runtime.store import open_memory
from tests.remote.conftest import data_home_files, query
from tests.support.sqld import SqldServer, free_port

KINDS = ["ws", "http"]


def remote_settings(
    monkeypatch: pytest.MonkeyPatch, url: str, token: str | None, timeout: float = 5.0
) -> Settings:
    monkeypatch.setenv("TURNKEEP_DB__URL", url)
    if token is not None:
        monkeypatch.setenv("TURNKEEP_DB__AUTH_TOKEN", token)
    monkeypatch.setenv("TURNKEEP_DB__TIMEOUT", str(timeout))
    return load_settings()


def message(error: BaseException) -> str:
    return f"{error} {getattr(error, 'hint', '')}"


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A TCP server that accepts connections and never answers a byte."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        del reader
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        for writer in held:
            writer.close()
        await server.wait_closed()


@pytest.mark.parametrize("kind", KINDS)
async def test_missing_token_is_an_auth_error(
    sqld: SqldServer, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = remote_settings(monkeypatch, sqld.url(kind), token=None)
    with pytest.raises(StoreAuthError) as info:
        await open_memory(settings)
    assert f"127.0.0.1:{sqld.port}" in str(info.value)
    assert "TURNKEEP_DB__AUTH_TOKEN" in message(info.value)
    assert data_home_files() == []


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("which", ["foreign-key", "garbage"])
async def test_wrong_token_is_an_auth_error_that_never_shows_the_token(
    sqld: SqldServer, kind: str, which: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = sqld.keys.foreign_token() if which == "foreign-key" else "canary-not-a-jwt-4d1f"
    settings = remote_settings(monkeypatch, sqld.url(kind), token=token)
    with pytest.raises(StoreAuthError) as info:
        await open_memory(settings)
    text = message(info.value)
    assert f"the server refused the auth token for {sqld.url(kind)}" in text
    assert "TURNKEEP_DB__AUTH_TOKEN" in text
    assert token not in text
    assert token.split(".")[-1] not in text
    assert data_home_files() == []


@pytest.mark.parametrize("kind", KINDS)
async def test_read_only_token_reads_but_its_writes_are_refused(
    sqld: SqldServer, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = await open_remote(sqld.ws_url, auth_token=sqld.token())  # migrated, with a row
    session = new_session_id()
    await writer.store(session, [EventDraft("user", {"content": "by rw"})])
    await writer.close()

    settings = remote_settings(monkeypatch, sqld.url(kind), token=sqld.token("ro"))
    memory: MemoryBackend = await open_memory(settings)
    try:
        assert [e.payload for e in await memory.recall(session)] == [{"content": "by rw"}]
        with pytest.raises(ReadOnlyError) as info:
            await memory.store(session, [EventDraft("user", {"content": "by ro"})])
        assert f"127.0.0.1:{sqld.port}" in str(info.value)
        assert "read-write token" in info.value.hint
        # The client still reads after the server closed the socket on the write.
        assert len(await memory.recall(session)) == 1
    finally:
        await memory.close()
    rows = await query(
        sqld.ws_url,
        sqld.token(),
        "SELECT count(*) FROM conversation_events WHERE session_id = ?",
        [session],
    )
    assert rows == [(1,)]
    assert data_home_files() == []


async def test_read_only_token_cannot_migrate_and_writes_nothing(
    fresh_sqld: SqldServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = remote_settings(monkeypatch, fresh_sqld.ws_url, token=fresh_sqld.token("ro"))
    with pytest.raises(MigrationError) as info:
        await open_memory(settings)
    assert "read-only" in str(info.value)
    assert "0001.initial-schema" in str(info.value)
    assert (
        await query(fresh_sqld.ws_url, fresh_sqld.token(), "SELECT name FROM sqlite_master") == []
    )
    assert data_home_files() == []


@pytest.mark.parametrize("kind", KINDS)
async def test_unreachable_port_is_a_connection_error(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    settings = remote_settings(monkeypatch, f"{kind}://127.0.0.1:{port}", token=None)
    with pytest.raises(StoreConnectionError) as info:
        await open_memory(settings)
    assert not isinstance(info.value, (StoreAuthError, StoreTimeoutError))
    assert f"cannot reach {kind}://127.0.0.1:{port}" in str(info.value)
    assert data_home_files() == []


@pytest.mark.parametrize("kind", KINDS)
async def test_server_that_never_answers_is_bounded_by_the_timeout(
    silent_port: int, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"{kind}://127.0.0.1:{silent_port}"
    settings = remote_settings(monkeypatch, url, token=None, timeout=0.5)
    with pytest.raises(StoreTimeoutError) as info:
        await open_memory(settings)
    assert str(info.value) == f"{url} did not answer in time"
    assert data_home_files() == []
