"""F2 in a session of the ``openai`` provider: the server's models, the choice stored
(issue 13). Against llama.cpp's real server on loopback (xllamacpp, serving SmolLM2)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from memory import open_embedded
from runtime.settings import load_settings
from tests.runtime.conftest import llama_server, smollm2_path  # noqa: F401 - fixtures
from tests.support.llama_server import LlamaServer
from tests.tui.conftest import SIZE, make_app, settle, wait_until
from tui.app import TurnkeepApp
from tui.screens.home import HomeScreen
from tui.screens.model_picker import ModelPicker
from tui.screens.session import SessionScreen


def openai_app(db: Path, server: LlamaServer, **agent: Any) -> TurnkeepApp:
    settings = load_settings(
        db={"path": str(db)},
        agent={
            "provider": "openai",
            "base_url": server.base_url,
            "api_key": server.api_key,
            **agent,
        },
    )
    return make_app(settings)


async def new_session(pilot: Any) -> SessionScreen:
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
    await pilot.press("n")
    await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen), "a new session")
    screen: SessionScreen = app.screen
    await wait_until(pilot, lambda: screen.conversation is not None, "the conversation")
    await settle(pilot)
    return screen


async def test_f2_lists_the_servers_models_and_stores_the_choice(
    db_file: Path,
    llama_server: LlamaServer,  # noqa: F811
) -> None:
    app = openai_app(db_file, llama_server)
    async with app.run_test(size=SIZE) as pilot:
        screen = await new_session(pilot)
        assert screen.conversation is not None and screen.conversation.model_name is None
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPicker), "the picker")
        picker: ModelPicker = app.screen
        await wait_until(pilot, lambda: picker.models is not None, "the server's models")
        assert picker.models == [llama_server.model]
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: (
                screen.conversation is not None
                and screen.conversation.model_name == llama_server.model
            ),
            "the conversation reopened on the chosen model",
        )
        session_id = screen.session_id
        assert session_id is not None
    memory = await open_embedded(db_file)
    try:
        info = await memory.get_session(session_id)
    finally:
        await memory.close()
    assert (info.provider, info.model) == ("openai", llama_server.model)


async def test_a_refused_key_is_said_in_the_picker(
    db_file: Path,
    llama_server: LlamaServer,  # noqa: F811
) -> None:
    app = openai_app(db_file, llama_server, api_key="wrong-key")
    async with app.run_test(size=SIZE) as pilot:
        await new_session(pilot)
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPicker), "the picker")
        picker: ModelPicker = app.screen
        await wait_until(pilot, lambda: picker.models == [], "the error")
        from textual.widgets import OptionList

        shown = str(picker.query_one(OptionList).get_option_at_index(0).prompt)
        assert "refused the API key" in shown and "wrong-key" not in shown
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen), "closed")


async def test_f2_is_not_offered_for_other_providers(demo_db: Path) -> None:
    from tests.tui.conftest import settings_for
    from tests.tui.seed import session_id

    app = make_app(settings_for(demo_db), resume=session_id(1))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen), "opened")
        screen: SessionScreen = app.screen
        await wait_until(pilot, lambda: screen.conversation is not None, "the conversation")
        await settle(pilot)
        assert screen.check_action("choose_model", ()) is False
        await pilot.press("f2")
        await pilot.pause()
        assert not isinstance(app.screen, ModelPicker)


def test_model_picker_snapshot(
    tmp_path: Path,
    llama_server: LlamaServer,  # noqa: F811
    snap_compare: Callable[..., bool],
) -> None:
    app = openai_app(tmp_path / "turnkeep.db", llama_server)

    async def drive(pilot: Any) -> None:
        await new_session(pilot)
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPicker), "the picker")
        picker: Any = app.screen
        await wait_until(pilot, lambda: picker.models is not None, "the models")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=drive)
