"""Exporting one session from the TUI to a JSON file (the ``sessions export`` format)."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, Static

from memory.records import SessionInfo
from runtime.sessions import Sessions
from tui.safe_text import safe_line
from tui.widgets.inputs import StillInput

__all__ = ["ExportDialog", "ask_and_export", "export_to_file"]


class ExportDialog(ModalScreen[Path | None]):
    """Ask where to write the export file; ``None`` means cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, default: Path) -> None:
        super().__init__(classes="dialog")
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Export this session", id="dialog-title")
            yield StillInput(value=str(self.default), id="export-path")
            yield Static(
                "A JSON file in the `turnkeep sessions export` format "
                "(`turnkeep import` reads it back).\nEnter to write · Esc to cancel",
                id="dialog-help",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    @on(Input.Submitted, "#export-path")
    def _submit(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.notify("Type a file name.", severity="warning")
            return
        self.dismiss(Path(text).expanduser())

    def action_cancel(self) -> None:
        self.dismiss(None)


def _write_new(path: Path, text: str) -> None:
    """Write ``text`` to a new file: beside it first, then renamed (whole or nothing).

    The file is owner-only (0600) from its creation, like ``turnkeep sessions export
    -o``: it holds conversations.
    """
    if path.exists():
        raise FileExistsError(f"{path} already exists; choose another name")
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    partial = Path(name)
    try:
        with open(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


async def export_to_file(sessions: Sessions, session_id: str, path: Path) -> int:
    """Write ``session_id`` to a new file ``path`` (never over an existing one).

    The session is read first, then the file is written on a thread.

    Returns:
        The number of sessions written (1).

    Raises:
        FileExistsError: ``path`` exists.
        OSError: the file cannot be written.
        NotFoundError: the session does not exist.
    """
    chunks: list[str] = []
    count = await sessions.export_to(chunks.append, [session_id])
    await asyncio.to_thread(_write_new, path, "".join(chunks))
    return count


def ask_and_export(screen: Screen[Any], sessions: Sessions, info: SessionInfo) -> None:
    """Ask ``screen``'s user for a file name, then export ``info`` there in a worker.

    The outcome is a notification: the path written, or why it could not be.
    """

    async def export(path: Path) -> None:
        try:
            await export_to_file(sessions, info.id, path)
        except OSError as exc:
            screen.notify(
                safe_line(str(exc)), title="Export failed", severity="error", markup=False
            )
            return
        screen.notify(f"Wrote {safe_line(str(path))}.", title="Exported", markup=False)

    def chosen(path: Path | None) -> None:
        if path is not None:
            screen.run_worker(export(path), group="export", exit_on_error=False)

    default = Path.cwd() / f"turnkeep-{info.id[:12]}.json"
    screen.app.push_screen(ExportDialog(default), chosen)
