"""ChatGPT exports: the current branch, other branches as metadata, zip, bad input, growth."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from memory import MemoryBackend
from runtime.importers.base import SourceFormatError
from runtime.importers.chatgpt import ChatGPTReader
from runtime.importers.run import run_import
from tests.importers.conftest import FIXTURES, digests

EXPORT = FIXTURES / "chatgpt" / "conversations.json"
FIRST = "chatgpt-6650f1c2-aaaa-4bbb-8ccc-000000000001"
SECOND = "chatgpt-6650f1c2-aaaa-4bbb-8ccc-000000000002"


async def test_current_branch_is_the_session(store: MemoryBackend) -> None:
    before = digests(EXPORT)
    report = await run_import(store, ChatGPTReader(EXPORT))
    assert digests(EXPORT) == before
    assert (report.added, report.events_added) == (2, 14)
    events = await store.recall(FIRST)
    assert [(e.turn, e.kind) for e in events] == [
        (1, "system"),
        (1, "user"),
        (1, "reasoning"),
        (1, "reasoning"),
        (1, "tool_call"),
        (1, "tool_result"),
        (1, "assistant"),
        (2, "user"),
        (2, "tool_call"),
        (2, "tool_result"),
        (2, "assistant"),
    ]
    p = [e.payload for e in events]
    assert p[0]["content"] == "I am a data analyst.\nAnswer briefly."
    assert p[2]["content"] == "Computing the mean\nSum is 18, divide by 3."
    assert p[4]["name"] == "python" and p[4]["arguments"]["input"] == "(3+5+10)/3"
    assert (p[5]["call_id"], p[5]["result"]) == (p[4]["call_id"], "6.0")
    assert p[6]["model"] == "gpt-4o"
    assert p[7]["content"].startswith("[image file-service://file-AbC123, 48,213 bytes")
    assert p[9]["name"] == "dalle.text2im" and "1,572,864 bytes" in p[9]["result"]
    assert events[1].created_at == "2024-06-01T09:00:00.000000Z"
    info = await store.get_session(FIRST)
    assert info.title == "Mean and median"
    assert (info.created_at, info.updated_at) == (
        "2024-06-01T08:59:59.500000Z",
        "2024-06-01T09:03:31.000000Z",
    )
    # The regenerated branch is kept as metadata (node ids and parents: forks later).
    branches = info.metadata["branches"]
    assert [(b["node"], b["parent"], b["content"]) for b in branches] == [
        ("u2a", "a1", "And the median?"),
        ("a2a", "u2a", "The median is 5."),
    ]
    assert info.metadata["source"]["current_node"] == "a3"
    assert [m.line for m in report.malformed] == [463]
    assert "has no mapping" in report.malformed[0].reason
    assert report.unknown == {"role:critic": 1}
    assert [e.kind for e in await store.recall(SECOND)] == ["user", "assistant", "unknown"]


async def test_zip_export_is_read_in_place(store: MemoryBackend, tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(EXPORT, "conversations.json")
        zf.writestr("user.json", "{}")
    before = digests(archive)
    report = await run_import(store, ChatGPTReader(archive))
    assert (report.added, report.events_added) == (2, 14)
    assert digests(archive) == before
    assert report.malformed[0].file.endswith("export.zip!conversations.json")


async def test_truncated_export_imports_what_is_whole(store: MemoryBackend, tmp_path: Path) -> None:
    text = EXPORT.read_text()
    cut = tmp_path / "conversations.json"
    cut.write_text(text[: text.index('"Bonjour"') + 20])
    report = await run_import(store, ChatGPTReader(cut))
    assert report.added == 1
    assert report.malformed_count == 2
    assert "invalid JSON" in report.malformed[-1].reason


async def test_conversation_that_went_on_is_appended(store: MemoryBackend, tmp_path: Path) -> None:
    convs = json.loads(EXPORT.read_text())
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(convs))
    await run_import(store, ChatGPTReader(path))
    second = convs[2]
    second["mapping"]["z"]["children"] = ["q2"]
    second["mapping"]["q2"] = {
        "id": "q2",
        "parent": "z",
        "children": [],
        "message": {
            "id": "q2",
            "author": {"role": "user"},
            "create_time": 1717300100.0,
            "content": {"content_type": "text", "parts": ["And 'merci'?"]},
        },
    }
    second["current_node"] = "q2"
    path.write_text(json.dumps(convs))
    report = await run_import(store, ChatGPTReader(path))
    assert (report.updated, report.events_appended, report.unchanged) == (1, 1, 1)
    last = (await store.recall(SECOND))[-1]
    assert (last.seq, last.turn, last.payload["content"]) == (4, 2, "And 'merci'?")
    # A new alternative answer on another branch: the metadata follows, no events.
    convs[0]["mapping"]["u2a"]["children"].append("a2b")
    convs[0]["mapping"]["a2b"] = {
        "id": "a2b",
        "parent": "u2a",
        "children": [],
        "message": {
            "id": "a2b",
            "author": {"role": "assistant"},
            "content": {"content_type": "text", "parts": ["Median: 5"]},
        },
    }
    path.write_text(json.dumps(convs))
    report = await run_import(store, ChatGPTReader(path))
    assert (report.updated, report.unchanged, report.events_appended) == (0, 2, 0)
    branches = (await store.get_session(FIRST)).metadata["branches"]
    assert [b["node"] for b in branches] == ["u2a", "a2a", "a2b"]
    # Switching the first conversation to its other branch cannot be appended.
    convs[0]["current_node"] = "a2a"
    path.write_text(json.dumps(convs))
    report = await run_import(store, ChatGPTReader(path))
    assert report.not_updated == 1 and len(await store.recall(FIRST)) == 11


def test_not_an_export_is_refused(tmp_path: Path) -> None:
    obj = tmp_path / "x.json"
    obj.write_text('{"not": "an array"}')
    with pytest.raises(SourceFormatError, match="not a ChatGPT export"):
        ChatGPTReader(obj)
    archive = tmp_path / "other.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(SourceFormatError, match="without conversations.json"):
        ChatGPTReader(archive)
