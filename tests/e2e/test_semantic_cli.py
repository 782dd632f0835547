"""``turnkeep search --mode``, ``turnkeep db index [--wait]`` and ``db status``'s
``semantic_index``, on the embedded file and on sqld, with the real local model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memory import MemoryBackend
from runtime.payloads import searchable_text
from tests.e2e.cli_support import Target, cli, make_target
from tests.semantic.conftest import RESET_VECTORS
from tests.semantic.corpus import EMBEDDABLE, seed
from tests.support.sqld import free_port


@pytest.fixture(params=["embedded", "remote-ws"])
def corpus(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Target:
    target = make_target(request.param, request, tmp_path, monkeypatch)

    async def fill(memory: MemoryBackend) -> None:
        memory.use_search_text(searchable_text)
        if target.url:
            await memory.driver.batch([(sql, ()) for sql in RESET_VECTORS])  # type: ignore[attr-defined]
        await seed(memory)

    target.using(fill)
    return target


def status(target: Target, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    code, out, err = cli(target, capsys, "db", "status", "--json")
    assert code == 0, err
    doc: dict[str, object] = json.loads(out)["semantic_index"]
    return doc


def test_index_then_search_by_mode(
    corpus: Target, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = status(corpus, capsys)
    assert before["model"] is None and before["embedded"] == 0
    assert before["pending"] == EMBEDDABLE and before["enabled"] is False
    # Before indexing, asking for hybrid runs text and says why.
    code, out, err = cli(corpus, capsys, "search", "make uploads idempotent", "--mode", "hybrid")
    assert code == 0 and out == ""
    assert "turnkeep: text search" in err and "TURNKEEP_SEARCH__SEMANTIC=true" in err

    result = corpus.run("db", "index", "--wait")  # black box, a separate process
    assert result.returncode == 0, result.stderr
    assert f"embedded {EMBEDDABLE} events" in result.stdout
    after = status(corpus, capsys)
    assert (after["model"], after["dimension"]) == ("all-MiniLM-L6-v2-onnx-int8", 384)
    assert (after["embedded"], after["pending"], after["complete"]) == (EMBEDDABLE, 0, True)

    code, out, err = cli(
        corpus, capsys, "search", "make uploads idempotent", "--mode", "hybrid", "--json"
    )
    hits = json.loads(out)
    assert code == 0 and "turnkeep: hybrid search" in err
    assert hits[0]["session_id"] == "uploads" and {h["mode"] for h in hits} == {"hybrid"}
    code, out, _ = cli(corpus, capsys, "search", "upload", "--mode", "text", "--json")
    assert code == 0 and {h["mode"] for h in json.loads(out)} == {"text"}
    code, out, _ = cli(corpus, capsys, "search", "container image size", "--mode", "semantic")
    assert code == 0 and out.splitlines()[0].endswith("docker#1")

    # With search.semantic on, hybrid is the default once the index is complete.
    monkeypatch.setenv("TURNKEEP_SEARCH__SEMANTIC", "true")
    code, out, err = cli(corpus, capsys, "search", "prevent SQL injection", "--json")
    assert code == 0 and "hybrid search" in err
    assert json.loads(out)[0]["session_id"] == "sqlinj"
    code, out, _ = cli(corpus, capsys, "db", "status")
    assert code == 0 and f"semantic index  complete; {EMBEDDABLE} embedded" in out


def test_endpoint_down_falls_back_visibly(
    corpus: Target, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus.run("db", "index")  # the local model's index exists
    monkeypatch.setenv("TURNKEEP_SEARCH__SEMANTIC", "true")
    monkeypatch.setenv("TURNKEEP_SEARCH__EMBEDDINGS_URL", f"http://127.0.0.1:{free_port()}/v1")
    monkeypatch.setenv("TURNKEEP_SEARCH__EMBEDDINGS_MODEL", "nomic")
    monkeypatch.setenv("TURNKEEP_SEARCH__EMBEDDINGS_API_KEY", "sk-never-printed")
    code, out, err = cli(corpus, capsys, "search", "container image", "--json")
    assert code == 0 and json.loads(out)[0]["mode"] == "text"
    assert "Embeddings server unreachable" in err and "ran text" in err
    code, out, err = cli(corpus, capsys, "db", "index")
    assert code == 3 and "Embeddings server unreachable" in err  # connection: 3 (README)
    assert "sk-never-printed" not in out + err
    # Misconfigured (a URL without a model): a settings error, exit code 2.
    monkeypatch.delenv("TURNKEEP_SEARCH__EMBEDDINGS_MODEL")
    code, out, err = cli(corpus, capsys, "db", "index")
    assert code == 2 and "TURNKEEP_SEARCH__EMBEDDINGS_MODEL" in err


@pytest.mark.parametrize("corpus", ["embedded"], indirect=True)
def test_ask_tool_ranks_hybrid(corpus: Target, tmp_path: Path) -> None:
    """``turnkeep ask``: the agent's search_sessions tool finds a paraphrase (hybrid)."""
    assert corpus.run("db", "index", "--wait").returncode == 0
    script = tmp_path / "script.json"
    call = {"name": "search_sessions", "arguments": {"query": "prevent SQL injection"}}
    script.write_text(json.dumps([[{"tool_calls": [call]}, {"text": "found it"}]]))
    corpus.env["TURNKEEP_SEARCH__SEMANTIC"] = "true"
    result = corpus.run("ask", "--new", "--script", str(script), "where was that?")
    assert result.returncode == 0, result.stderr

    async def tool_result(memory: MemoryBackend) -> dict[str, object]:
        for hit in await memory.search("prevent SQL injection", kinds=("tool",)):
            events = await memory.recall(hit.session_id)
            for event in events:
                if event.kind == "tool_result":
                    payload: dict[str, object] = dict(event.payload)
                    return payload
        raise AssertionError("no tool result saved")

    payload = corpus.using(tool_result)
    found = payload["result"]
    assert isinstance(found, dict) and found["mode"] == "hybrid"
    assert found["events"][0]["session_id"] == "sqlinj"
