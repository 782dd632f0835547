"""Exporting one session from the TUI to a JSON file (the ``sessions export`` format)."""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import unicodedata
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, Static

from memory.errors import MemoryLayerError
from memory.records import SessionInfo
from runtime.sessions import Sessions
from tui.safe_text import safe_line
from tui.widgets.inputs import StillInput

__all__ = [
    "ExportDialog",
    "ask_and_export",
    "default_export_name",
    "export_to_file",
    "why_not_written",
]

#: Characters of the title kept in the default file name (the whole name stays short).
_SLUG_CHARS = 40
#: Characters from the end of the session id in the default file name: the random
#: part of turnkeep's own ids and of imported ones (``claude-code-<uuid>`` share
#: their start), so two sessions never get the same default name in practice.
_ID_CHARS = 8


def _slug(text: str, limit: int) -> str:
    """``text`` as lower-case ASCII letters and digits joined by ``-`` (at most
    ``limit`` characters): no path separator, dot or control character can remain."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].strip("-")


def default_export_name(info: SessionInfo) -> str:
    """The file name offered for exporting ``info``: ``turnkeep-<title>-<id end>.json``.

    Readable (the title's words) and distinct per session (the end of its id); only
    ``a-z``, ``0-9`` and ``-`` besides the ``.json``, whatever the title holds.
    """
    tail = _slug(info.id, len(info.id))[-_ID_CHARS:] or "session"
    title = _slug(info.title or "", _SLUG_CHARS)
    return f"turnkeep-{title}-{tail}.json" if title else f"turnkeep-{tail}.json"


def why_not_written(path: Path, exc: OSError) -> str:
    """What stopped writing ``path``, in words about the path typed (never the name of
    the temporary file written beside it)."""
    if path.is_dir():
        return f"{path} is a folder: type a file name in it"
    if isinstance(exc, FileExistsError) or path.exists():
        return f"{path} already exists: choose another name"
    parent = path.parent
    if not parent.exists():
        return f"the folder {parent} does not exist"
    if not parent.is_dir():
        return f"{parent} is not a folder"
    if isinstance(exc, PermissionError):
        return f"no permission to write in the folder {parent}"
    return f"could not write {path}: {exc.strerror or type(exc).__name__}"


class ExportDialog(ModalScreen[Path | None]):
    """Ask where to write the export file and write it; ``None`` means cancelled.

    ``write`` writes the file. When it fails (the file exists, the folder does not...)
    the dialog stays open with the reason in it and the path as typed, to correct.
    """

    DEFAULT_CSS = """
    ExportDialog #export-error { color: $error; height: auto; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, default: Path, write: Callable[[Path], Awaitable[object]]) -> None:
        super().__init__(classes="dialog")
        self.default = default
        self.write = write
        #: Whether a write is under way (Enter meanwhile is ignored).
        self.writing = False
        #: The reason the last write failed, as shown (empty: none).
        self.error = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Export this session", id="dialog-title")
            yield StillInput(value=str(self.default), id="export-path")
            yield Static("", id="export-error", markup=False)
            yield Static(
                "A JSON file in the `turnkeep sessions export` format "
                "(`turnkeep sessions import` reads it back).\nEnter to write · Esc to cancel",
                id="dialog-help",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one("#export-error").display = False
        self.query_one("#export-path", Input).focus()

    def _show_error(self, text: str) -> None:
        self.error = safe_line(text, 300)
        error = self.query_one("#export-error", Static)
        error.update(self.error)
        error.display = bool(text)

    @on(Input.Submitted, "#export-path")
    def _submit(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self._show_error("Type a file name.")
            return
        if not self.writing:
            self.writing = True
            self.run_worker(self._write(Path(text).expanduser()), group="export")

    async def _write(self, path: Path) -> None:
        try:
            await self.write(path)
        except OSError as exc:
            self._show_error(why_not_written(path, exc))
        except MemoryLayerError as exc:
            self._show_error(str(exc))
        else:
            self.dismiss(path)
        finally:
            self.writing = False

    def action_cancel(self) -> None:
        self.dismiss(None)


def _write_new(path: Path, text: str) -> None:
    """Write ``text`` to a new file: beside it first, then renamed (whole or nothing).

    The file is owner-only (0600) from its creation, like ``turnkeep sessions export
    -o``: it holds conversations.
    """
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder: type a file name in it")
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
        IsADirectoryError: ``path`` is a folder.
        OSError: the file cannot be written (:func:`why_not_written` says why).
        NotFoundError: the session does not exist.
    """
    chunks: list[str] = []
    count = await sessions.export_to(chunks.append, [session_id])
    await asyncio.to_thread(_write_new, path, "".join(chunks))
    return count


def ask_and_export(screen: Screen[Any], sessions: Sessions, info: SessionInfo) -> None:
    """Ask ``screen``'s user for a file name and export ``info`` there.

    The dialog stays open until the file is written (or the user cancels); then a
    notification says where it went.
    """

    async def write(path: Path) -> None:
        await export_to_file(sessions, info.id, path)

    def done(path: Path | None) -> None:
        if path is not None:
            screen.notify(f"Wrote {safe_line(str(path))}.", title="Exported", markup=False)

    default = Path.cwd() / default_export_name(info)
    screen.app.push_screen(ExportDialog(default, write), done)
