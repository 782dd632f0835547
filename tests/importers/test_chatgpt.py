"""ChatGPT exports: the current branch, other branches as forks (and metadata), zip, bad
input, growth."""

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
    # The second conversation, the first one's current branch, and its other branch.
    assert (report.added, report.events_added) == (3, 23)
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
    # The regenerated branch is a fork: the shared start, then its own two messages.
    (fork,) = [s for s in (await store.list_sessions(limit=100)).sessions if s.forked_from == FIRST]
    assert (fork.forked_at_seq, fork.title) == (7, "Fork of Mean and median")
    assert fork.created_at == "2024-06-01T09:01:40.000000Z"  # its first own message
    forked = await store.recall(fork.id)
    assert [(e.seq, e.kind, e.payload) for e in forked[:7]] == [
        (e.seq, e.kind, e.payload) for e in events[:7]
    ]
    assert [(e.kind, e.payload["content"]) for e in forked[7:]] == [
        ("user", "And the median?"),
        ("assistant", "The median is 5."),
    ]
    assert fork.metadata["source"]["branch_of"] == FIRST
    # Its messages are listed in the session's metadata too (node ids and parents).
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
    assert (report.added, report.events_added) == (3, 23)
    assert digests(archive) == before
    assert report.malformed[0].file.endswith("export.zip!conversations.json")


async def test_truncated_export_imports_what_is_whole(store: MemoryBackend, tmp_path: Path) -> None:
    text = EXPORT.read_text()
    cut = tmp_path / "conversations.json"
    cut.write_text(text[: text.index('"Bonjour"') + 20])
    report = await run_import(store, ChatGPTReader(cut))
    assert report.added == 2  # the first conversation and its fork
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
    assert (report.updated, report.events_appended, report.unchanged) == (1, 1, 2)
    last = (await store.recall(SECOND))[-1]
    assert (last.seq, last.turn, last.payload["content"]) == (4, 2, "And 'merci'?")
    # A new alternative answer on another branch: a new fork, and the metadata follows.
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
    assert (report.added, report.updated, report.unchanged) == (1, 0, 3)
    assert (report.events_added, report.events_appended) == (9, 0)
    branches = (await store.get_session(FIRST)).metadata["branches"]
    assert [b["node"] for b in branches] == ["u2a", "a2a", "a2b"]
    forks = {
        s.id: s for s in (await store.list_sessions(limit=100)).sessions if s.forked_from == FIRST
    }
    assert len(forks) == 2 and {s.forked_at_seq for s in forks.values()} == {7}
    # Switching the first conversation to its other branch cannot be appended: the
    # session keeps its branch, and the branch now current is already a fork.
    convs[0]["current_node"] = "a2a"
    path.write_text(json.dumps(convs))
    report = await run_import(store, ChatGPTReader(path))
    assert report.not_updated == 1 and len(await store.recall(FIRST)) == 11
    assert report.added == 0
    assert any("imported as a fork" in note for note in report.notes)
    # Going on in ChatGPT from that branch: it ends at a new leaf, a new fork.
    convs[0]["mapping"]["a2a"]["children"] = ["u4"]
    convs[0]["mapping"]["u4"] = {
        "id": "u4",
        "parent": "a2a",
        "children": [],
        "message": {
            "id": "u4",
            "author": {"role": "user"},
            "create_time": 1717233000.0,
            "content": {"content_type": "text", "parts": ["And the mode?"]},
        },
    }
    convs[0]["current_node"] = "u4"
    path.write_text(json.dumps(convs))
    report = await run_import(store, ChatGPTReader(path))
    assert (report.added, report.not_updated) == (1, 1)
    newest = max(
        (s for s in (await store.list_sessions(limit=100)).sessions if s.forked_from == FIRST),
        key=lambda s: s.events,
    )
    assert [e.payload.get("content") for e in (await store.recall(newest.id))[-3:]] == [
        "And the median?",
        "The median is 5.",
        "And the mode?",
    ]


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
