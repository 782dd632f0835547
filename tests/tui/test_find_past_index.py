"""Ctrl+F in an open session finds text the search index does not hold (Pilot).

Review finding 1: text past the indexed part of a long tool output gave "No match"
although the session shows it (the index now holds a long output's start and end;
this word is in the middle). The events are not loaded when found (the
newest page is shown), and F3 / shift+F3 go through them in session order.
"""

from __future__ import annotations

from pathlib import Path

from memory import EventDraft, open_embedded
from runtime import payloads
from runtime.payloads import TOOL_TEXT_LIMIT, searchable_text
from tests.tui.conftest import SIZE, find_in_session, make_app, settings_for, settle
from tests.tui.seed import seed_long_session

LOG = "line of ordinary build output here\n" * 150


async def _plant_long_outputs(path: Path, sid: str, at: list[int], last: int) -> None:
    """Long tool outputs ending in the word at seqs ``at``; fillers up to ``last``."""
    memory = await open_embedded(path)
    memory.use_search_text(searchable_text)  # as the app indexes (a 4 KB tool prefix)
    try:
        for seq in [*at, last + 1]:
            filler = seq - (await memory.get_session(sid)).last_seq - 1
            drafts = [EventDraft("user", payloads.user(f"filler {i}")) for i in range(filler)]
            if seq <= last:
                result = LOG + "FATAL: qwertyzebra exploded\n" + LOG
                drafts.append(
                    EventDraft("tool_result", payloads.tool_result("t", "make", result=result))
                )
            await memory.store(sid, drafts)
    finally:
        await memory.close()


async def test_find_reaches_the_end_of_a_long_tool_output(db_file: Path) -> None:
    assert len(LOG) > TOOL_TEXT_LIMIT
    sid = await seed_long_session(db_file, 400)
    await _plant_long_outputs(db_file, sid, [401, 650], 900)
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await find_in_session(pilot, app, sid, newest=900, word="qwertyzebra", matches=[401, 650])
