"""Start-up errors shown in the UI (never a traceback), Retry, Quit, and the Health screen."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from memory import open_embedded
from tests.tui.conftest import SIZE, make_app, screen_text, settings_for, settle, wait_until
from tui.screens.health import HealthScreen
from tui.screens.home import HomeScreen
from tui.screens.startup import StartupErrorScreen


async def test_missing_directory_then_retry_after_fixing_it(tmp_path: Path) -> None:
    path = tmp_path / "not-yet" / "turnkeep.db"
    app = make_app(settings_for(path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StartupErrorScreen)
        text = screen_text(app)
        assert "Cannot open the database" in text
        message = str(screen.query_one("#error-message").render())
        assert message == f"the directory {path.parent} does not exist"
        assert "What to do" in text and "TURNKEEP_DB__PATH" in text
        assert "Traceback" not in text
        path.parent.mkdir()
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), "home after retry")
        await settle(pilot)
        assert app.screen.query_one("#welcome").display
    assert path.exists()


async def test_not_a_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n", encoding="utf-8")
    app = make_app(settings_for(path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, StartupErrorScreen)
        text = screen_text(app)
        assert "Not a turnkeep database" in text
        assert "never overwrites" in text
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 3
    assert path.read_text(encoding="utf-8") == "these are my notes, not a database\n"


async def test_broken_migration_state_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "turnkeep.db"
    memory = await open_embedded(path)
    await memory.close()
    with sqlite3.connect(path) as conn:  # someone dropped a table by hand
        conn.execute("DROP TABLE session_state")
    app = make_app(settings_for(path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, StartupErrorScreen)
        text = screen_text(app)
        assert "Migration failed" in text
        assert "session_state" in text
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 4


async def test_unreachable_server_never_shows_the_token(tmp_path: Path) -> None:
    secret = "tok-very-secret-123"
    settings = settings_for(tmp_path / "unused.db", url="ws://127.0.0.1:9", auth_token=secret)
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, StartupErrorScreen)
        text = screen_text(app)
        assert "cannot reach ws://127.0.0.1:9" in text
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, HealthScreen)
        health = screen_text(app)
        assert "remote" in health and "ws://127.0.0.1:9" in health
        assert "Reachable       no" in health
        assert secret not in text and secret not in health
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, StartupErrorScreen)
    assert not (tmp_path / "unused.db").exists(), "no silent fallback to a local file"


async def test_health_reports_the_database_and_runs_an_integrity_check(demo_db: Path) -> None:
    app = make_app(settings_for(demo_db))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HealthScreen)
        report = screen.report
        assert report is not None and report.reachable and report.mode == "embedded"
        assert report.row_counts["sessions"] == 6
        text = screen_text(app)
        for expected in (
            "embedded (a local file)",
            str(demo_db),
            "round trip",
            "SQLite 3.",
            "0001.initial-schema",
            " · 0 pending",
            "6 sessions · 21 events · 0 state snapshots",
            "Journal mode    wal",
            "not checked yet",
            "✓ saved",
            "none seen",
        ):
            assert expected in text, expected
        await pilot.press("i")
        await wait_until(pilot, lambda: screen.integrity == ["ok"], "integrity check ran")
        await settle(pilot)
        assert "Integrity       ok" in screen_text(app)
