"""The ``libsql://`` URL policy of the yoyo backend (decided before any connection)."""

from __future__ import annotations

import pytest
from yoyo.connections import BadConnectionURI, parse_uri

from memory.schema.yoyo_libsql import endpoint_from_uri


@pytest.mark.parametrize(
    ("uri", "url"),
    [
        ("libsql://127.0.0.1:8080?tls=0", "ws://127.0.0.1:8080"),
        ("libsql://localhost:8080/db?tls=0&timeout=3", "ws://localhost:8080/db"),
        ("libsql://[::1]:8080?tls=0", "ws://[::1]:8080"),
        ("libsql://db-org.turso.io", "wss://db-org.turso.io"),
        ("libsql://db.example.com:443/path", "wss://db.example.com:443/path"),
    ],
)
def test_urls_map_to_websockets(uri: str, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIBSQL_AUTH_TOKEN", "t")
    assert endpoint_from_uri(parse_uri(uri)).url == url


@pytest.mark.parametrize(
    ("uri", "token", "expected"),
    [
        ("libsql://db.example.com?tls=0", "t", "clear text"),
        ("libsql://db.example.com", None, "auth token is required"),
        ("libsql://127.0.0.1:8080?authToken=secret-canary", None, "refusing a token"),
        ("libsql://127.0.0.1:8080?tls=0&color=red", None, "unsupported"),
        ("libsql://127.0.0.1:8080?tls=2", None, "tls"),
        ("libsql://127.0.0.1:8080?timeout=soon", None, "timeout"),
        ("libsql:///no-host", None, "host"),
    ],
)
def test_refused_urls(
    uri: str, token: str | None, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if token:
        monkeypatch.setenv("LIBSQL_AUTH_TOKEN", token)
    with pytest.raises(BadConnectionURI) as info:
        endpoint_from_uri(parse_uri(uri))
    assert expected in str(info.value)
    assert "secret-canary" not in str(info.value)


def test_token_sources_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    uri = parse_uri("libsql://db.example.com")
    monkeypatch.setenv("TURNKEEP_DB__AUTH_TOKEN", "from-turnkeep")
    assert endpoint_from_uri(uri).auth_token == "from-turnkeep"
    monkeypatch.setenv("TURSO_AUTH_TOKEN", "from-turso")
    assert endpoint_from_uri(uri).auth_token == "from-turso"
    monkeypatch.setenv("LIBSQL_AUTH_TOKEN", "from-libsql")
    assert endpoint_from_uri(uri).auth_token == "from-libsql"
    prompted = parse_uri("libsql://db.example.com")._replace(password="from-prompt")
    assert endpoint_from_uri(prompted).auth_token == "from-prompt"
    assert endpoint_from_uri(uri, auth_token="given").auth_token == "given"
    assert "from-libsql" not in repr(endpoint_from_uri(uri))
