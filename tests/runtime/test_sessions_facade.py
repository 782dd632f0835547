"""The runtime's door to sessions (issue 12): one provider per process, newest window
and conversation from one place, on a real file."""

from __future__ import annotations

from pathlib import Path

from memory import open_embedded
from runtime.sessions import Sessions
from tests.conftest import FrozenClock
from tests.runtime.conftest import make_settings


async def test_sessions_open_list_and_share_one_provider(db_path: Path, clock: FrozenClock) -> None:
    settings = make_settings(provider="scripted", tools=False)
    sessions = Sessions(settings, await open_embedded(db_path, clock=clock), clock=clock)
    await sessions.start_worker()
    first = await sessions.conversation(None)
    async for _ in first.send("hello there"):
        pass
    assert sessions.worker is not None and await sessions.worker.flush(timeout=10)
    again = await sessions.conversation(first.session_id)
    assert again.provider is first.provider  # loaded once per process, not per open
    opened = await sessions.open_newest(first.session_id, limit=1)
    assert opened.info.id == first.session_id
    assert [e.seq for e in opened.events] == [opened.info.last_seq] and opened.has_older
    older = await sessions.older(first.session_id, before=opened.events[0].seq, limit=100)
    assert [e.seq for e in older] == list(range(1, opened.info.last_seq))
    assert older[0].kind == "user" and older[0].payload["content"] == "hello there"
    latest = await sessions.latest()
    assert latest is not None and latest.id == first.session_id
    await first.close()
    await again.close()
    assert await sessions.close() == []
