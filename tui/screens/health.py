"""The Health screen: where the database is, whether it answers, and what it holds.

Reads run in workers; the integrity check (which reads every page) only runs when asked.
Works without an open database too (from the start-up error screen): it then shows
what the settings point at and the error that stopped the app from opening it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from memory.protocol import HealthReport
from tui.format import human_size, relative_time
from tui.safe_text import safe_line, safe_text
from tui.screens.base import TurnkeepScreen
from tui.semantic import semantic_enabled
from tui.services import Services
from tui.widgets.event_text import plural
from tui.widgets.header import TitleHeader
from tui.widgets.save_status import save_label

__all__ = ["HealthScreen"]

#: Table name -> (one row, several rows), for people.
_ROW_NAMES = {
    "sessions": ("session", "sessions"),
    "conversation_events": ("event", "events"),
    "session_state": ("state snapshot", "state snapshots"),
}


def _grid() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", min_width=14, no_wrap=True)
    table.add_column(overflow="fold")
    return table


class HealthScreen(TurnkeepScreen[None]):
    """Database and persistence health.

    Args:
        services: the app's services.
        startup_error: the error that kept the database from opening, when coming from
            the error screen.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back", tooltip="Back to where you were"),
        Binding("r", "refresh", "Refresh", tooltip="Probe the database again"),
        Binding(
            "i",
            "integrity_check",
            "Integrity check",
            tooltip="Run SQLite's integrity check (reads every page)",
        ),
    ]

    def __init__(self, services: Services, *, startup_error: BaseException | None = None) -> None:
        super().__init__(classes="health")
        self.services = services
        self.startup_error = startup_error
        self.report: HealthReport | None = None
        self.integrity: list[str] | None = None
        self._checking = False

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        with VerticalScroll(id="health-body"):
            yield Static("Probing the database…", id="health-database", classes="panel")
            yield Static("", id="health-storage", classes="panel")
            yield Static("", id="health-saving", classes="panel")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "health"
        self.query_one("#health-database").border_title = "Database"
        self.query_one("#health-storage").border_title = "Contents and storage"
        self.query_one("#health-saving").border_title = "Saving"
        self.watch(self.app, "save_state", self._render_saving)
        self.action_refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "integrity_check":
            return None if not self.services.is_open or self._checking else True
        return True

    # -- reading -----------------------------------------------------------------------

    def action_refresh(self) -> None:
        if not self.services.is_open:
            error = self.startup_error or RuntimeError("the database is not open")
            self.show_report(self.services.startup_report(error))
        else:
            self.probe()

    @work(exclusive=True, group="health", exit_on_error=False)
    async def probe(self) -> None:
        sessions = self.services.sessions
        report = await sessions.health()
        progress = await sessions.search_progress_or_none()  # None: not yet migrated
        if progress is not None:
            self.services.search_progress = progress
        if semantic_enabled(self.services):
            vectors = await sessions.vector_progress_or_none()
            if vectors is not None:
                self.services.vector_progress = vectors
        self.show_report(report)

    def action_integrity_check(self) -> None:
        if not self.services.is_open or self._checking:
            return
        self._checking = True
        self.refresh_bindings()
        self._render_storage()
        self.integrity_check()

    @work(exclusive=True, group="integrity", exit_on_error=False)
    async def integrity_check(self) -> None:
        try:
            self.integrity = await self.services.sessions.integrity_check()
        finally:
            self._checking = False
            self.refresh_bindings()
            self._render_storage()

    # -- showing -----------------------------------------------------------------------

    def show_report(self, report: HealthReport) -> None:
        """Show a health report (also how snapshots pin the measured latency)."""
        self.report = report
        self._render_database()
        self._render_storage()
        self._render_saving(getattr(self.app, "save_state", None))

    def _render_database(self) -> None:
        report = self.report
        assert report is not None
        grid = _grid()
        grid.add_row("Mode", _mode_text(report.mode))
        grid.add_row(
            "Location", Text(self.services.location if report.mode != "remote" else report.location)
        )
        if report.reachable:
            latency = (
                "" if report.latency_ms is None else f" · {report.latency_ms:.1f} ms round trip"
            )
            grid.add_row("Reachable", Text.assemble(("yes", "bold green"), latency))
        else:
            grid.add_row("Reachable", Text("no", style="bold red"))
        engine = f"SQLite {report.engine_version}" if report.engine_version else "—"
        server = getattr(report, "server_version", None)
        grid.add_row("Engine", f"{engine} · server {server}" if server else engine)
        applied, pending = report.applied_migrations, report.pending_migrations
        migrations = Text(f"{len(applied)} applied · ")
        migrations.append(f"{len(pending)} pending", style="bold yellow" if pending else "")
        if pending:
            migrations.append(f"\npending: {', '.join(pending)}", style="yellow")
        if applied:
            migrations.append(f"\n{', '.join(applied)}", style="dim")
        if report.reachable:
            grid.add_row("Migrations", migrations)
        if report.error:
            grid.add_row("Error", Text(safe_text(report.error), style="red"))
        self.query_one("#health-database", Static).update(grid)

    def _render_storage(self) -> None:
        report = self.report
        if report is None:
            return
        grid = _grid()
        if report.row_counts:
            rows = " · ".join(
                plural(count, *_ROW_NAMES.get(name, (name, name)))
                for name, count in report.row_counts.items()
            )
            grid.add_row("Rows", rows)
        if report.mode == "embedded":
            grid.add_row("File", _size(report.file_size))
            grid.add_row("WAL", _size(report.wal_size))
        grid.add_row("Journal mode", report.journal_mode or "—")
        grid.add_row("Integrity", self._integrity_text())
        grid.add_row("Search index", self._search_index_text())
        if semantic_enabled(self.services):
            grid.add_row("Semantic index", self._semantic_index_text())
        self.query_one("#health-storage", Static).update(grid)

    def _search_index_text(self) -> Text:
        from runtime.search_index import describe_progress

        if not self.services.is_open:
            return Text("— (the database is not open)", style="dim")
        progress = self.services.search_progress
        if progress is None:
            return Text("checking…", style="dim")
        line = describe_progress(progress)
        return Text(line, style="green" if progress.complete else "yellow")

    def _semantic_index_text(self) -> Text:
        """The semantic index's progress, and the last embedding failure in red."""
        from runtime.vector_index import describe_vector_progress

        progress = self.services.vector_progress
        if progress is None:
            text = Text("checking…", style="dim")
        else:
            line = describe_vector_progress(progress)
            text = Text(line, style="green" if progress.complete else "yellow")
        if self.services.semantic_error:
            text.append("\n" + safe_line(self.services.semantic_error, 300), style="bold red")
        return text

    def _integrity_text(self) -> Text:
        if not self.services.is_open:
            return Text("— (the database is not open)", style="dim")
        if self._checking:
            return Text("checking every page…", style="italic")
        if self.integrity is None:
            return Text.assemble("not checked yet · press ", ("i", "bold"), " to run it")
        if self.integrity == ["ok"]:
            return Text("ok", style="bold green")
        problems = len(self.integrity)
        text = Text(f"{problems} problem{'s' if problems != 1 else ''}: ", style="bold red")
        text.append(safe_text("; ".join(self.integrity[:5])))
        return text

    def _render_saving(self, state: Any) -> None:
        grid = _grid()
        label, kind = save_label(state, disabled=self.services.settings.mode == "disabled")
        style = {"ok": "green", "busy": "yellow", "failed": "bold red"}.get(kind, "dim")
        if state is not None:
            grid.add_row("Worker", Text.assemble((label, style), f"  ({state.status})"))
            grid.add_row("Queued", plural(state.pending, "event"))
            grid.add_row(
                "Last saved",
                "—" if state.last_saved_seq is None else f"seq {state.last_saved_seq}",
            )
            failed = getattr(state, "failed", 0)
            retries = getattr(state, "retries", 0)
            if failed or retries:
                grid.add_row("Retries", f"{retries:,} retried · {failed:,} given up")
            if state.last_error:
                grid.add_row("Worker error", Text(safe_text(state.last_error), style="red"))
        else:
            grid.add_row("Worker", Text(label, style=style))
        note = self.services.last_error
        if note is None:
            grid.add_row("Last error", Text("none seen", style="dim"))
        else:
            when = relative_time(note.at, self.services.now())
            grid.add_row(
                "Last error",
                Text(safe_text(f"{note.title}: {note.message}  ({when})"), style="red"),
            )
        self.query_one("#health-saving", Static).update(grid)

    def action_back(self) -> None:
        self.dismiss(None)


def _mode_text(mode: str) -> Text:
    descriptions = {
        "embedded": "embedded (a local file)",
        "remote": "remote (libSQL server)",
        "disabled": "disabled (nothing is saved)",
    }
    return Text(descriptions.get(mode, mode))


def _size(size: int | None) -> str:
    return "—" if size is None else human_size(size)
