"""The entry point pauses the garbage collector for start-up only (tui.start, tui.collector)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tui.conftest import SIZE, make_app, settings_for, settle
from tui.collector import pause_collector, refreeze, resume_collector
from tui.screens.home import HomeScreen


@pytest.fixture
def collector_restored() -> Iterator[None]:
    """Whatever a test does to the collector, the next test finds it on."""
    yield
    resume_collector()
    gc.enable()


def test_pause_then_resume_turns_the_collector_back_on(collector_restored: None) -> None:
    gc.unfreeze()
    pause_collector()
    assert not gc.isenabled()
    resume_collector()
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0  # what start-up left alive is out of the collector's way
    gc.unfreeze()


def test_resume_leaves_a_collector_it_did_not_pause(collector_restored: None) -> None:
    gc.disable()  # turned off by someone else: not ours to turn on
    resume_collector()
    assert not gc.isenabled()


async def test_the_first_screen_ends_the_pause(demo_db: Path, collector_restored: None) -> None:
    pause_collector()
    app = make_app(settings_for(demo_db))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert gc.isenabled()
    gc.unfreeze()


async def test_a_start_up_error_ends_the_pause(tmp_path: Path, collector_restored: None) -> None:
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("this is not a database\n" * 100)
    pause_collector()
    app = make_app(settings_for(not_a_db))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.startup_error is not None
        assert gc.isenabled()
    gc.unfreeze()


def test_refreeze_keeps_what_lives_frozen_and_frees_the_rest(collector_restored: None) -> None:
    import weakref

    class Node:
        def __init__(self) -> None:
            self.me = self  # a cycle: only the collector can free it

    kept, dropped = Node(), Node()
    gone = weakref.ref(dropped)
    gc.freeze()
    del dropped  # garbage now, but frozen: no collection frees it
    gc.collect()
    assert gone() is not None
    refreeze()
    assert gone() is None
    assert gc.get_freeze_count() > 0  # what is still alive (``kept``) is frozen again
    assert kept.me is kept
    gc.unfreeze()
