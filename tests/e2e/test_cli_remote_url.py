"""Issue 11.10: the ``libsql://127.0.0.1:PORT`` that sqld prints, and ``?tls=0``, on a real sqld.

``db.url`` accepts ``libsql://HOST:PORT?tls=0`` for a loopback host (meaning ``ws://``),
as the yoyo backend does; a plain ``libsql://`` to a local sqld (which speaks no TLS)
fails with a hint naming the URLs that work instead of a bare SSL error.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from memory.drivers.remote_url import parse_remote_url
from memory.errors import StoreConfigError
from tests.support.sqld import SqldServer

pytestmark = pytest.mark.remote


def turnkeep(*args: str, url: str, token: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TURNKEEP_", "TURSO_"))}
    env.update({"TURNKEEP_DB__URL": url, "TURNKEEP_DB__AUTH_TOKEN": token})
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("url", "client", "http"),
    [
        ("libsql://127.0.0.1:8080?tls=0", "ws://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("libsql://localhost:8080/db?tls=0", "ws://localhost:8080/db", "http://localhost:8080/db"),
        ("libsql://[::1]:8080?tls=0", "ws://[::1]:8080", "http://[::1]:8080"),
        ("libsql://127.0.0.1:8080?tls=1", "wss://127.0.0.1:8080", "https://127.0.0.1:8080"),
        ("libsql://127.0.0.1:8080", "wss://127.0.0.1:8080", "https://127.0.0.1:8080"),
    ],
)
def test_tls_0_means_plain_websocket_on_loopback(url: str, client: str, http: str) -> None:
    target = parse_remote_url(url, has_token=False)
    assert (target.url, target.ws_url, target.http_url) == (client, client, http)
    assert "tls" not in target.display


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("libsql://db.example.com?tls=0", "clear text"),
        ("libsql://127.0.0.1:8080?tls=2", "tls"),
        ("libsql://127.0.0.1:8080?tls=0&color=red", "unsupported parameters"),
        ("wss://127.0.0.1:8080?tls=0", "only for libsql://"),
    ],
)
def test_tls_parameter_is_checked(url: str, fragment: str) -> None:
    with pytest.raises(StoreConfigError) as caught:
        parse_remote_url(url, has_token=True)
    assert fragment in str(caught.value)


def test_the_url_sqld_prints_works_with_tls_0(sqld: SqldServer) -> None:
    url = f"libsql://127.0.0.1:{sqld.port}?tls=0"
    result = turnkeep("sessions", "list", "--json", url=url, token=sqld.token())
    assert result.returncode == 0, result.stderr
    status = turnkeep("db", "status", url=url, token=sqld.token())
    assert status.returncode == 0, status.stderr
    assert f"ws://127.0.0.1:{sqld.port}" in status.stdout


def test_a_tls_handshake_with_a_local_sqld_says_what_to_use(sqld: SqldServer) -> None:
    token = sqld.token()
    result = turnkeep("sessions", "list", url=f"libsql://127.0.0.1:{sqld.port}", token=token)
    assert result.returncode == 3, result.stderr
    assert result.stderr.count("\n") == 1 and token not in result.stderr
    assert "does not speak TLS" in result.stderr
    assert f"ws://127.0.0.1:{sqld.port}" in result.stderr
    assert f"libsql://127.0.0.1:{sqld.port}?tls=0" in result.stderr
