"""The model picker of the ``openai`` provider: the server's models, one to choose."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from tui.safe_text import safe_line
from tui.services import error_parts

__all__ = ["ModelPicker"]


class ModelPicker(ModalScreen[str | None]):
    """List what ``list_models`` returns; dismisses with the chosen id (``None``: Esc).

    Args:
        list_models: reads the server's models (run in a worker).
        current: the session's model, marked and highlighted.
    """

    DEFAULT_CSS = """
    ModelPicker { align: center top; }
    ModelPicker > Vertical { width: 70; height: auto; max-height: 80%; margin-top: 2;
                             padding: 0 1; border: round $accent; background: $surface; }
    ModelPicker #model-title { text-style: bold; margin-bottom: 1; }
    ModelPicker OptionList { height: auto; max-height: 20; border: none; padding: 0; }
    ModelPicker #model-help { color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, list_models: Callable[[], Awaitable[list[str]]], current: str | None
    ) -> None:
        super().__init__()
        self.list_models = list_models
        self.current = current
        #: The models listed once the server answered (tests wait for it).
        self.models: list[str] | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Choose the model of this session", id="model-title")
            yield OptionList(Option("Asking the server…", disabled=True), id="model-list")
            yield Static("↑↓ choose · Enter use it · Esc cancel", id="model-help")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.load()

    @work(exclusive=True, group="models", exit_on_error=False)
    async def load(self) -> None:
        listing = self.query_one(OptionList)
        try:
            models = await self.list_models()
        except Exception as exc:  # shown in the picker: the server is the person's to fix
            title, message, hint = error_parts(exc)
            text = Text(f"✗ {safe_line(title)}: {safe_line(message)}")
            if hint:
                text.append(f"\n  {safe_line(hint)}", style="dim")
            listing.clear_options()
            listing.add_option(Option(text, disabled=True))
            self.models = []
            return
        listing.clear_options()
        if not models:
            listing.add_option(Option("The server lists no model.", disabled=True))
        for model in models:
            label = Text(safe_line(model))
            if model == self.current:
                label.append("  (current)", style="dim")
            listing.add_option(Option(label, id=model))
        if self.current in models:
            listing.highlighted = models.index(self.current)
        elif models:
            listing.highlighted = 0
        self.models = models

    @on(OptionList.OptionSelected, "#model-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
