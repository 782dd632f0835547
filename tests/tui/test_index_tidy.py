"""The app merges the search index's pieces in idle time on a local file."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

import tui.app
from memory import EventDraft, open_embedded
from runtime import payloads
from runtime.payloads import searchable_text
from tests.tui.conftest import SIZE, make_app, settings_for, settle, wait_until
from tui.screens.search import SearchScreen


def segments(path: Path) -> int:
    """The word index's segments (a save point writes one; its substring rows wait)."""
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT count(DISTINCT segid) FROM search_words_idx").fetchone()
    return int(row[0])


def waiting(path: Path) -> int:
    """Substring rows not yet moved into the trigram index."""
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT count(*) FROM search_pending").fetchone()
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
    assert before > 4 and waiting(db_file) == 40
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
    assert waiting(db_file) == 0  # moved into the trigram index first


async def test_no_tidy_while_searching_and_nothing_left_waiting(
    db_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory = await open_embedded(db_file)
    memory.use_search_text(searchable_text)
    for n in range(40):
        await memory.store(f"s{n % 3}", [EventDraft("user", payloads.user(f"quoll {n}"))])
    await memory.close()
    before = segments(db_file)
    # The timers never fire on their own here; the test runs the tick itself.
    monkeypatch.setattr(tui.app, "TIDY_FIRST", 3600.0)
    monkeypatch.setattr(tui.app, "TIDY_EVERY", 3600.0)
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SearchScreen), "search is up")
        for _ in range(3):  # ticks while the search screen is up
            app._tidy_again()
            # No worker lingers: waiting for all of them ends (a held tidy would hang).
            await asyncio.wait_for(app.workers.wait_for_complete(), timeout=30)
        assert segments(db_file) == before
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, SearchScreen), "home again")
        app._tidy_again()
        await asyncio.wait_for(app.workers.wait_for_complete(), timeout=60)
        assert segments(db_file) < before
