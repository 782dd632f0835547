"""``append_imported_many`` on the libSQL backend, embedded and remote: a session whose
append conflicts is reported and written nowhere, the others are written whole."""

from __future__ import annotations

import pytest

from memory import ImportConflictError, MemoryBackend
from memory.bundle import PortableEvent, PortableSession
from memory.records import encode_payload
from memory.sql.import_batch import ImportedAppend

AT = "2025-01-01T00:00:00.000000Z"


def _create(session_id: str, texts: list[str]) -> ImportedAppend:
    header = PortableSession(
        id=session_id,
        title=None,
        agent="claude-code",
        provider=None,
        model=None,
        created_at=AT,
        updated_at=AT,
        metadata_json=encode_payload({"source": {"tool": "claude-code"}}),
        states=(),
        events=(),
    )
    events = [
        PortableEvent(i + 1, 1, "user", AT, encode_payload({"role": "user", "content": t}))
        for i, t in enumerate(texts)
    ]
    return ImportedAppend(session_id, events, 0, header.metadata_json, AT, header)


async def test_a_conflicting_session_is_reported_and_the_others_are_written(
    backend: MemoryBackend,
) -> None:
    many = getattr(backend, "append_imported_many", None)
    if many is None:
        pytest.skip("the reference backend writes appends one by one (append_imported)")
    assert await many([_create("claude-code-x", ["first"])]) == {}
    failed = await many(
        [
            _create("claude-code-y", ["why", "not"]),
            _create("claude-code-x", ["again"]),
            _create("claude-code-z", ["zed"]),
        ]
    )
    assert list(failed) == ["claude-code-x"]
    assert isinstance(failed["claude-code-x"], ImportConflictError)
    contents = {
        sid: [e.payload["content"] for e in await backend.recall(sid)]
        for sid in ("claude-code-x", "claude-code-y", "claude-code-z")
    }
    assert contents == {
        "claude-code-x": ["first"],
        "claude-code-y": ["why", "not"],
        "claude-code-z": ["zed"],
    }
