"""Any stored kind renders: unknown kinds (which imports accept) are generic notes."""

from __future__ import annotations

from pathlib import Path

from memory import EventDraft, open_embedded
from tests.tui.conftest import SIZE, make_app, screen_text, settings_for, settle
from tests.tui.seed import session_id
from tui.screens.session import SessionScreen
from tui.widgets.event_log import EventLog
from tui.widgets.events import MarkerView

ODD_KINDS = ["note.v2", "a:b", "x/y", "f(x)", "9lives", "two words", "-", "ünïcode"]


async def test_unknown_kinds_render_as_generic_events(db_file: Path) -> None:
    sid = session_id(77)
    memory = await open_embedded(db_file)
    try:
        await memory.create_session(sid, title="Odd kinds")
        drafts = [EventDraft("user", {"role": "user", "content": "first"}, turn=1)]
        drafts += [EventDraft(kind, {"text": f"body of {kind}"}, turn=1) for kind in ODD_KINDS]
        drafts.append(EventDraft("user", {"role": "user", "content": "the newest"}, turn=2))
        await memory.store(sid, drafts)
    finally:
        await memory.close()
    app = make_app(settings_for(db_file), resume=sid)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SessionScreen)
        assert not list(app._notifications), [n.message for n in app._notifications]
        views = app.screen.query_one(EventLog).views
        markers = [v for v in views if isinstance(v, MarkerView)]
        assert [m.kind for m in markers] == ODD_KINDS
        assert all(m.has_class("-note") for m in markers)
        text = screen_text(app)
        assert "body of note.v2" in text and "body of f(x)" in text
        assert "the newest" in text
