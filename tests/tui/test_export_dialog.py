"""The export dialog: a distinct, safe default name; errors shown in it, path kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import Input

from memory import EventDraft, open_embedded
from memory.records import SessionInfo
from runtime import payloads
from tests.tui.conftest import SIZE, make_app, screen_text, settings_for, settle, wait_until
from tests.tui.test_home_filter_typing import burst
from tests.tui.test_palette import run_command
from tui.app import TurnkeepApp
from tui.screens.export import ExportDialog, default_export_name
from tui.screens.home import HomeScreen
from tui.widgets.session_table import SessionTable

#: Shaped like the ids of sessions imported from Claude Code (one common prefix).
CLAUDE_IDS = [
    "claude-code-6f1c2a9e-8b3d-4c5e-9a7b-1d2e3f4a5b6c",
    "claude-code-0a9b8c7d-6e5f-4a3b-8c2d-e1f0a9b8c7d6",
]


async def seed_imported(path: Path) -> None:
    memory = await open_embedded(path)
    try:
        for sid in CLAUDE_IDS:
            await memory.store(sid, [EventDraft("user", payloads.user("fix the flaky test"))])
            await memory.rename_session(sid, "Fix the flaky test")
    finally:
        await memory.close()


async def open_export(pilot: object, app: TurnkeepApp) -> ExportDialog:
    await run_command(pilot, "export", "Export")
    await wait_until(pilot, lambda: isinstance(app.screen, ExportDialog), "export dialog")
    dialog = app.screen
    assert isinstance(dialog, ExportDialog)
    return dialog


async def _seeded_in_out_dir(
    db_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Imported sessions in ``db_file``; the working directory an empty ``out`` (where a
    default export name lands), returned."""
    await seed_imported(db_file)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    return out


async def test_imported_sessions_get_distinct_default_names(
    db_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = await _seeded_in_out_dir(db_file, tmp_path, monkeypatch)
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        table = app.screen.query_one(SessionTable)
        written: list[Path] = []
        for row in range(2):
            table.move_cursor(row=row)
            await settle(pilot)
            dialog = await open_export(pilot, app)
            written.append(dialog.default)
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), "written")
        assert written[0] != written[1]
        assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)
        for path in written:
            assert path.name.startswith("turnkeep-fix-the-flaky-test-"), path.name


@pytest.mark.parametrize(
    "title",
    [
        "../../etc/passwd",
        "\x1b]0;pwned\x07\x1b[31mred\r\nline two\x00",
        "[b]bold[/b] C:\\Windows\\system32",
        "..",
        "",
        None,
        "日本語のタイトル",
        "word " * 200,
    ],
)
def test_default_name_is_safe_and_bounded(title: str | None) -> None:
    info = SessionInfo(
        id="claude-code-6f1c2a9e-8b3d-4c5e-9a7b-1d2e3f4a5b6c",
        title=title,
        agent=None,
        provider=None,
        model=None,
        created_at="2026-11-25T12:00:00.000000Z",
        updated_at="2026-11-25T12:00:00.000000Z",
        turns=1,
        events=1,
        last_seq=1,
    )
    name = default_export_name(info)
    assert re.fullmatch(r"turnkeep-([a-z0-9]+(-[a-z0-9]+)*-)?3f4a5b6c\.json", name), name
    assert len(name) <= 64


async def test_errors_keep_the_dialog_open_with_the_path(
    db_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = await _seeded_in_out_dir(db_file, tmp_path, monkeypatch)
    taken = out / "taken.json"
    taken.write_text("{}", encoding="utf-8")
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dialog = await open_export(pilot, app)
        assert "turnkeep sessions import" in screen_text(app)  # the command that reads it
        field = dialog.query_one("#export-path", Input)
        cases = [
            ("/nonexistent/dir/x.json", "the folder /nonexistent/dir does not exist"),
            (str(out), f"{out} is a folder"),
            (str(taken), f"{taken} already exists"),
        ]
        for typed, said in cases:
            field.value = typed
            await pilot.press("enter")
            await wait_until(pilot, lambda said=said: said in dialog.error, said)
            assert app.screen is dialog
            assert field.value == typed
            assert ".partial" not in dialog.error and "Errno" not in dialog.error
            assert said.split(" ", 1)[1].split(":")[0] in screen_text(app)  # wrapped in it
        assert taken.read_text(encoding="utf-8") == "{}"
        field.value = str(out / "new.json")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), "written")
        assert (out / "new.json").exists()
    assert sorted(p.name for p in out.iterdir()) == ["new.json", "taken.json"]


async def test_ctrl_u_a_path_and_enter_typed_in_one_burst(
    db_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed_imported(db_file)
    monkeypatch.chdir(tmp_path)
    app = make_app(settings_for(db_file))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dialog = await open_export(pilot, app)
        # Ctrl+U clears what was there before the path typed after it, not after.
        burst(app, ["ctrl+u", *"/nonexistent/dir/x.json", "enter"])
        await wait_until(pilot, lambda: bool(dialog.error), "an error")
        assert dialog.error == "the folder /nonexistent/dir does not exist"
        assert dialog.query_one("#export-path", Input).value == "/nonexistent/dir/x.json"
