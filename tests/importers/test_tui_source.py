"""How imported sessions look and filter on the home screen (pure helpers)."""

from __future__ import annotations

from memory import SessionInfo
from tui.widgets.session_table import list_filters, session_model


def _info(metadata: dict[str, object], provider: str | None = None) -> SessionInfo:
    return SessionInfo("s", "t", None, provider, "gpt-4o", "x", "x", 1, 1, 1, metadata)


def test_imported_sessions_show_their_source() -> None:
    assert session_model(_info({"source": {"tool": "chatgpt"}})) == "⇣chatgpt · gpt-4o"
    assert session_model(_info({}, provider="local")) == "local · gpt-4o"
    hostile = session_model(_info({"source": {"tool": "x\x1b[31m"}}))
    assert "\x1b" not in hostile


def test_home_filter_understands_source() -> None:
    assert list_filters("source:claude-code") == {"source": "claude-code", "title_filter": None}
    assert list_filters("source:codex parser") == {"source": "codex", "title_filter": "parser"}
    assert list_filters("parser") == {"source": None, "title_filter": "parser"}
    assert list_filters("") == {"source": None, "title_filter": None}
