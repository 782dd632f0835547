"""The search screen freezes the heap after each result set and frees what that leaves
behind when the person pauses (:class:`tui.collector.FrozenBudget`)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memory import EventDraft, open_embedded
from runtime import payloads
from tests.tui.conftest import SIZE, make_app, open_search, settings_for, settle, wait_until
from tui.app import TurnkeepApp
from tui.collector import FrozenBudget
from tui.screens.search import SearchScreen


class _Cycle:
    def __init__(self) -> None:
        self.me = self  # only the collector can free it


@pytest.fixture
def collector_restored() -> Iterator[None]:
    """The next test finds the collector on and nothing frozen."""
    yield
    gc.unfreeze()
    gc.enable()


def test_frozen_garbage_is_freed_once_due_and_collected(collector_restored: None) -> None:
    budget = FrozenBudget(every=2, cap=10)
    garbage = _Cycle()
    gone = weakref.ref(garbage)
    budget.freeze()
    del garbage
    gc.collect()
    assert gone() is not None  # frozen: out of every pass
    assert not budget.due
    budget.freeze()
    assert budget.due
    budget.collect()
    assert gone() is None
    assert not budget.due  # counting starts again


def test_the_cap_collects_without_a_pause(collector_restored: None) -> None:
    budget = FrozenBudget(every=1, cap=3)
    garbage = _Cycle()
    gone = weakref.ref(garbage)
    budget.freeze()
    del garbage
    budget.freeze()
    assert gone() is not None
    budget.freeze()  # the third: over the cap, collected at once
    assert gone() is None
    assert not budget.due


async def _app(db_file: Path, monkeypatch: pytest.MonkeyPatch) -> TurnkeepApp:
    """An app that freezes its heap (as launched), on one session holding "wombat", with
    a short pause before the search screen collects."""
    memory = await open_embedded(db_file)
    try:
        await memory.store("s", [EventDraft("user", payloads.user("wombat burrow"))])
    finally:
        await memory.close()
    monkeypatch.setattr(SearchScreen, "PAUSE", 0.3)
    return make_app(settings_for(db_file), freeze_startup_heap=True)


async def _search(pilot: Any, *, every: int) -> tuple[SearchScreen, FrozenBudget]:
    """The search screen, and its budget made due after ``every`` result sets."""
    await settle(pilot)
    screen = await open_search(pilot)
    budget = screen._frozen
    assert budget is not None
    budget.every = every
    return screen, budget


async def test_the_screen_collects_in_a_pause(
    db_file: Path, collector_restored: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = await _app(db_file, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        screen, budget = await _search(pilot, every=2)  # due after two result sets
        await pilot.press(*"wombat")
        await wait_until(pilot, lambda: screen.shown_query == "wombat", "the results")
        await pilot.press("backspace")
        await wait_until(pilot, lambda: screen.shown_query == "womba", "other results")
        await settle(pilot)
        garbage = _Cycle()
        gone = weakref.ref(garbage)
        budget.freeze()  # as after a paint: ``garbage`` is frozen with the rest
        del garbage
        assert budget.due
        await wait_until(pilot, lambda: gone() is None, "collected in the pause")
        assert not budget.due


async def test_no_collection_under_a_session_opened_from_the_search(
    db_file: Path, collector_restored: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = await _app(db_file, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        screen, budget = await _search(pilot, every=1)
        await pilot.press(*"wombat")
        await wait_until(pilot, lambda: screen.shown_query == "wombat", "the results")
        await pilot.press("enter")  # the session opens over the search screen
        await wait_until(pilot, lambda: app.screen is not screen, "the session shown")
        garbage = _Cycle()
        gone = weakref.ref(garbage)
        budget.freeze()
        del garbage
        await pilot.pause(1.5)  # past the pause and the screen's once-a-second check
        assert gone() is not None and budget.due  # not collected while not shown
        await pilot.press("escape")  # back to the search
        await wait_until(pilot, lambda: app.screen is screen, "the search again")
        await wait_until(pilot, lambda: gone() is None, "collected once shown")
