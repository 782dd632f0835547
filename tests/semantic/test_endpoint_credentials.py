"""Credentials in the embeddings URL are refused, never sent (review finding 8).

A real HTTP server on loopback records every request it gets: a URL carrying
``user:password@`` must be refused before any request (no ``Authorization: Basic``
ever leaves), with or without an API key, through the settings and through
``turnkeep db index`` (exit 2, one line, the password nowhere in the output).
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.embeddings import EmbeddingsSetupError, open_embedder
from runtime.embeddings.remote import RemoteEmbedder
from runtime.settings import SearchSettings

PASSWORD = "PWcanary-embeddings-77"


class Recorder(http.server.ThreadingHTTPServer):
    """A loopback server answering every POST with one 3-dimensional embedding."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[dict[str, str]] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Recorder

    def do_POST(self) -> None:
        self.server.seen.append(dict(self.headers.items()))
        length = int(self.headers.get("Content-Length") or 0)
        texts = json.loads(self.rfile.read(length))["input"]
        body = json.dumps(
            {"data": [{"index": i, "embedding": [1.0, 0.0, 0.0]} for i in range(len(texts))]}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        del format, args


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def with_user(base: str, userinfo: str) -> str:
    return base.replace("http://", f"http://{userinfo}@", 1)


@pytest.mark.parametrize("key", [None, "sk-embeddings-key"])
@pytest.mark.parametrize("userinfo", [f"u:{PASSWORD}", "justauser", f":{PASSWORD}"])
async def test_url_credentials_are_refused_before_any_request(
    recorder: Recorder, key: str | None, userinfo: str
) -> None:
    settings = SearchSettings(
        semantic=True,
        embeddings_url=with_user(recorder.base, userinfo),
        embeddings_model="m",
        embeddings_api_key=key,
    )
    with pytest.raises(EmbeddingsSetupError, match="carries credentials") as refused:
        open_embedder(settings)
    assert PASSWORD not in str(refused.value) and PASSWORD not in (refused.value.hint or "")
    assert "TURNKEEP_SEARCH__EMBEDDINGS_API_KEY" in (refused.value.hint or "")
    # A non-loopback host is refused the same way.
    with pytest.raises(EmbeddingsSetupError, match="carries credentials"):
        RemoteEmbedder(f"http://u:{PASSWORD}@10.255.255.1:9/v1", "m", None)
    assert recorder.seen == []


async def test_the_same_server_without_credentials_gets_the_key_as_bearer(
    recorder: Recorder,
) -> None:
    embedder = open_embedder(
        SearchSettings(embeddings_url=recorder.base, embeddings_model="m", embeddings_api_key="k1")
    )
    try:
        assert await embedder.dimension() == 3
    finally:
        await embedder.close()
    assert [h.get("Authorization") for h in recorder.seen] == ["Bearer k1"]


def test_a_plain_http_key_refusal_hints_at_the_fix() -> None:
    with pytest.raises(EmbeddingsSetupError, match="clear text") as refused:
        RemoteEmbedder("http://embeddings.example/v1", "m", "sk-secret")
    hint = refused.value.hint or ""
    assert "https://" in hint and "EMBEDDINGS_API_KEY" in hint
    assert "EMBEDDINGS_MODEL" not in hint  # the unrelated default hint is gone


def test_db_index_refuses_url_credentials_with_exit_2(recorder: Recorder, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tui", "db", "index"],
        env={
            **os.environ,
            "TURNKEEP_DB__PATH": str(tmp_path / "t.db"),
            "TURNKEEP_SEARCH__SEMANTIC": "true",
            "TURNKEEP_SEARCH__EMBEDDINGS_MODEL": "m",
            "TURNKEEP_SEARCH__EMBEDDINGS_URL": with_user(recorder.base, f"u:{PASSWORD}"),
            "TURNKEEP_SEARCH__EMBEDDINGS_API_KEY": "sk-embeddings-key",
        },
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "carries credentials" in result.stderr and result.stderr.count("\n") == 1
    assert PASSWORD not in result.stdout + result.stderr
    assert recorder.seen == []
