"""The command palette: described commands, one Quit, every per-session action (issue 13)."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandList, CommandPalette

from memory import open_embedded
from tests.tui.conftest import SIZE, make_app, settings_for, settle, wait_until
from tests.tui.seed import demo_sessions, session_id
from tui.screens.dialogs import ConfirmDialog
from tui.screens.export import ExportDialog
from tui.screens.home import HomeScreen
from tui.screens.session import SessionScreen
from tui.widgets.session_table import SessionTable

SESSION_ACTIONS = {
    "New session",
    "Delete",
    "Export",
    "Rename",
    "Fork",
    "Pin",
    "Archive",
    "Tags",
    "Search",
    "Health",
    "Find",
    "Go to turn",
    "Start",
    "End",
    "Next question",
    "Previous question",
}


async def palette_entries(pilot: Any) -> list[tuple[str, str]]:
    """(name, help) of every command the palette lists with an empty query."""
    app = pilot.app
    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
    palette = app.screen
    listing = palette.query_one(CommandList)
    await wait_until(pilot, lambda: listing.option_count > 5, "commands listed")
    await settle(pilot)
    entries = []
    for index in range(listing.option_count):
        hit = listing.get_option_at_index(index).hit  # type: ignore[attr-defined]
        entries.append((str(hit.text), str(hit.help or "")))
    return entries


async def test_session_palette_describes_every_action_once(demo_db: Path) -> None:
    title = demo_sessions()[0].title
    app = make_app(settings_for(demo_db), resume=session_id(1))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen), "opened")
        await settle(pilot)
        entries = await palette_entries(pilot)
        names = [name for name, _ in entries]
        assert set(names) >= SESSION_ACTIONS, SESSION_ACTIONS - set(names)
        assert names.count("Quit") == 1
        assert len(names) == len(set(names)), names
        for name, help_text in entries:
            assert help_text and help_text != name, name
            assert title not in help_text  # the second line describes, not the session
        helps = dict(entries)
        assert helps["Go to turn"] == "Go to turn N of this session · ^g"
        assert helps["Export"] == "Write this session to a JSON file"


async def test_home_palette_has_export_and_one_quit(demo_db: Path) -> None:
    app = make_app(settings_for(demo_db))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
        await settle(pilot)
        names = [name for name, _ in await palette_entries(pilot)]
        assert {"Open", "New", "Rename", "Delete", "Export", "Search", "Health"} <= set(names)
        assert names.count("Quit") == 1


async def run_command(pilot: Any, query: str, name: str) -> None:
    app = pilot.app
    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
    await pilot.press(*query)
    listing = app.screen.query_one(CommandList)

    def first_is_it() -> bool:
        return listing.option_count > 0 and str(listing.get_option_at_index(0).hit.text) == name

    await wait_until(pilot, first_is_it, f"{name} first")
    await pilot.press("enter")


async def test_export_and_delete_the_open_session_from_the_palette(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(settings_for(demo_db), resume=session_id(2))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen), "opened")
        await settle(pilot)
        await run_command(pilot, "export", "Export")
        await wait_until(pilot, lambda: isinstance(app.screen, ExportDialog), "export dialog")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        written = dialog.default
        assert written.parent == tmp_path and session_id(2)[-8:] in written.name
        await pilot.press("enter")
        await wait_until(pilot, written.exists, "the file")
        bundle = json.loads(written.read_text(encoding="utf-8"))
        assert [s["id"] for s in bundle["sessions"]] == [session_id(2)]
        # Owner-only like `sessions export -o` (it holds conversations), nothing left beside.
        assert stat.S_IMODE(written.stat().st_mode) == 0o600
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
        await settle(pilot)
        await run_command(pilot, "delete", "Delete")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "asked first")
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), "back home")
        table = app.screen.query_one(SessionTable)
        await wait_until(
            pilot,
            lambda: (
                len(table.sessions) == 5
                and session_id(2) not in {info.id for info in table.sessions}
            ),
            "the list without it",
        )
    memory = await open_embedded(demo_db)
    try:
        assert await memory.find_session(session_id(2)) is None
    finally:
        await memory.close()
