"""What copying an event puts on the clipboard: its whole text, or one code block.

The text copied is the stored text (not the bounded prefix the log shows), with
terminal controls neutralised by :func:`tui.safe_text.safe_text`: a clipboard pasted
into a shell must not carry escape sequences from the database.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from markdown_it import MarkdownIt

from tui.safe_text import safe_line, safe_text
from tui.widgets.event_text import pretty_json
from tui.widgets.events import AssistantMessageView, EventView, MarkerView, UserMessageView
from tui.widgets.tool_views import ToolCallView, ToolResultView, ToolView

__all__ = ["CodeBlock", "code_blocks", "copy_label", "copy_text"]


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """A fenced or indented code block of a message.

    Attributes:
        language: the fence's info string (``""`` when none).
        text: the code, without its fences.
    """

    language: str
    text: str

    @property
    def label(self) -> str:
        """One line naming the block: its language, size and first line."""
        lines = self.text.splitlines()
        first = next((line.strip() for line in lines if line.strip()), "")
        size = f"{len(lines)} line" + ("" if len(lines) == 1 else "s")
        return safe_line(f"{self.language or 'code'} · {size} · {first}", 100)


def code_blocks(markdown: str) -> list[CodeBlock]:
    """The code blocks of a Markdown text, in order."""
    blocks = []
    for token in MarkdownIt("commonmark").parse(markdown):
        if token.type in ("fence", "code_block"):
            language = token.info.strip().split(" ")[0] if token.info else ""
            blocks.append(CodeBlock(language, token.content.removesuffix("\n")))
    return blocks


def _raw_text(view: EventView) -> str:
    if isinstance(view, (UserMessageView, AssistantMessageView)):
        return view.text
    if isinstance(view, ToolView):
        body = view.body()
        text = pretty_json(body, max_lines=sys.maxsize, max_chars=sys.maxsize)[0]
        if isinstance(view, ToolCallView):
            return f"{view.tool}({text})" if not isinstance(body, str) else text
        return text
    if isinstance(view, MarkerView):
        parts = [view.text, view.detail or "", view.partial or ""]
        return "\n".join(part for part in parts if part)
    return ""


def copy_text(view: EventView) -> str:
    """Everything ``view``'s event holds, as text to paste elsewhere."""
    return safe_text(_raw_text(view))


def copy_label(view: EventView) -> str:
    """What was copied, for the notification ("the answer", "the tool result")."""
    if isinstance(view, UserMessageView):
        return "your message"
    if isinstance(view, AssistantMessageView):
        return "the answer"
    if isinstance(view, ToolCallView):
        return "the tool call"
    if isinstance(view, ToolResultView):
        return "the tool result"
    return "the note"
