"""Semantic search in the TUI (Pilot): the mode choice on the search screen, the index on
Health, and an unreachable endpoint shown in both (with the real local model)."""

from __future__ import annotations

from pathlib import Path

from memory import open_embedded
from runtime.payloads import searchable_text
from runtime.settings import load_settings
from tests.semantic.corpus import EMBEDDABLE, seed
from tests.support.sqld import free_port
from tests.tui.conftest import SIZE, make_app, open_search, screen_text, wait_until
from tui.screens.health import HealthScreen


async def seeded(path: Path) -> None:
    memory = await open_embedded(path)
    memory.use_search_text(searchable_text)
    try:
        await seed(memory)
    finally:
        await memory.close()


def settings(path: Path, **search: object) -> object:
    return load_settings(
        db={"path": str(path)}, agent={"provider": "scripted"}, search={"semantic": True, **search}
    )


async def test_app_indexes_and_search_offers_modes(db_file: Path) -> None:
    await seeded(db_file)
    app = make_app(settings(db_file))
    async with app.run_test(size=SIZE) as pilot:
        services = app.services
        await wait_until(
            pilot,
            lambda: (
                services.vector_progress is not None
                and services.vector_progress.complete
                and services.vector_progress.embedded == EMBEDDABLE
            ),
            "the background indexer embedded everything",
        )
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, HealthScreen), "health")
        await wait_until(
            pilot, lambda: "Semantic index" in screen_text(app), "semantic index on Health"
        )
        assert f"complete; {EMBEDDABLE} embedded with all-MiniLM" in screen_text(app)
        await pilot.press("escape")
        screen = await open_search(pilot)
        await pilot.press(*"make uploads idempotent")
        await wait_until(pilot, lambda: screen.shown_query == "make uploads idempotent", "hits")
        assert screen.ran_mode == "hybrid" and screen.hits[0].session_id == "uploads"
        assert "hybrid (auto) · " in screen_text(app)
        await pilot.press("f2")  # auto -> text
        await wait_until(pilot, lambda: screen.ran_mode == "text", "text mode")
        await wait_until(pilot, lambda: "text (text) · " in screen_text(app), "header")
        assert screen.hits == []  # no session has all of these words
        await pilot.press("f2")  # text -> semantic
        await wait_until(pilot, lambda: screen.ran_mode == "semantic", "semantic mode")
        await wait_until(pilot, lambda: bool(screen.hits), "semantic hits")
        assert screen.hits[0].session_id == "uploads"
        assert "Mode" in screen_text(app)  # the key is in the footer


async def test_unreachable_endpoint_is_shown(db_file: Path) -> None:
    await seeded(db_file)
    url = f"http://127.0.0.1:{free_port()}/v1"
    app = make_app(settings(db_file, embeddings_url=url, embeddings_model="m"))
    async with app.run_test(size=SIZE) as pilot:
        services = app.services
        await wait_until(pilot, lambda: services.semantic_error is not None, "failure noted")
        assert "Embeddings server unreachable" in str(services.semantic_error)
        await pilot.press("h")
        await wait_until(
            pilot, lambda: "Embeddings server unreachable" in screen_text(app), "on Health"
        )
        await pilot.press("escape")
        screen = await open_search(pilot)
        await pilot.press("f2", "f2", "f2")  # auto -> text -> semantic -> hybrid
        await pilot.press(*"container")
        await wait_until(pilot, lambda: screen.shown_query == "container", "hits")
        assert screen.ran_mode == "text" and screen.hits  # fell back, with a note
        await wait_until(pilot, lambda: "ran text" in screen_text(app), "note in header")
