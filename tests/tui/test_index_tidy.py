"""The app merges the search index's pieces in idle time on a local file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import tui.app
from memory import EventDraft, open_embedded
from runtime import payloads
from runtime.payloads import searchable_text
from tests.tui.conftest import SIZE, make_app, settings_for, settle, wait_until


def segments(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT count(DISTINCT segid) FROM search_events_idx").fetchone()
    return int(row[0])


async def test_the_app_tidies_the_index_after_start_up(
    db_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory = await open_embedded(db_file)
    memory.use_search_text(searchable_text)
    for n in range(40):  # one save point each: one new segment each
        await memory.store(f"s{n % 3}", [EventDraft("user", payloads.user(f"echidna {n}"))])
    await memory.close()
    before = segments(db_file)
    assert before > 4
    monkeypatch.setattr(tui.app, "TIDY_FIRST", 0.05)
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        def tidied() -> bool:
            worker = getattr(app, "_tidy_worker", None)
            return worker is not None and worker.is_finished

        await wait_until(pilot, tidied, "the idle tidy ran to its end")
        assert app._tidy_worker.error is None
    after = segments(db_file)
    assert after < before and after <= 3
