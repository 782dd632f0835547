"""Scenario 8, the TUI and exception texts: every screen exported headless and scanned.

The app runs in-process (Textual ``App.run_test``) against sqld with the canary JWT:
home, health, a session with a live (scripted) turn; then with a refused token: the
error screen and the health screen reached from it. Each screen is exported with
``export_screenshot()`` (kept as SVG under the work directory, so the file scan sees it
too) and scanned with the text on screen. The typed errors of a refused token, their
causes and formatted tracebacks, and the settings' ``repr``/JSON are scanned as well.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memory import MemoryLayerError, open_remote
from runtime.settings import load_settings
from tests.reliability.report import Outcome
from tests.support.sqld import SqldServer

if TYPE_CHECKING:
    from tests.reliability.secrets import Canaries

__all__ = ["run_into"]

SIZE = (120, 40)


def _screen_text(app: Any) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def _until(pilot: Any, condition: Callable[[], bool], seconds: float = 30) -> bool:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return True
        await pilot.pause(0.05)
    return condition()


class Shots:
    """Exports screens, keeps them, scans them."""

    def __init__(self, directory: Path, canaries: Canaries, outcome: Outcome) -> None:
        self.directory = directory
        self.canaries = canaries
        self.outcome = outcome
        self.count = 0
        directory.mkdir(parents=True, exist_ok=True)

    def take(self, app: Any, name: str) -> None:
        self.count += 1
        svg = app.export_screenshot()
        (self.directory / f"{self.count:02d}-{name}.svg").write_text(svg, encoding="utf-8")
        for text, what in ((svg, "screenshot"), (_screen_text(app), "screen text")):
            for needle in self.canaries.leaks(text):
                self.outcome.problem(f"TUI {name} {what}: a secret leaked ({needle[:14]}...)")


async def _good_token(
    server: SqldServer, shots: Shots, canaries: Canaries, outcome: Outcome
) -> None:
    from tui.app import TurnkeepApp

    settings = load_settings(
        db={"url": server.ws_url, "auth_token": canaries.jwt},
        agent={"provider": "scripted", "api_key": canaries.openai},
    )
    app = TurnkeepApp(settings)
    async with app.run_test(size=SIZE) as pilot:
        name = lambda: type(app.screen).__name__  # noqa: E731
        if not outcome.expect(
            await _until(pilot, lambda: name() == "HomeScreen"), f"no home: {name()}"
        ):
            shots.take(app, "unexpected")
            return
        await pilot.pause(0.3)
        shots.take(app, "home")
        await pilot.press("h")
        await _until(pilot, lambda: name() == "HealthScreen")
        await pilot.pause(1.0)
        shots.take(app, "health")
        await pilot.press("escape")
        await _until(pilot, lambda: name() == "HomeScreen")
        await pilot.press("enter")
        if await _until(pilot, lambda: name() == "SessionScreen"):
            await pilot.pause(0.5)
            shots.take(app, "session")
            prompt = app.screen.query_one("#prompt")
            await _until(pilot, lambda: not prompt.disabled)
            prompt.value = "a live turn"
            await pilot.press("enter")
            await pilot.pause(2.0)
            shots.take(app, "live-turn")
            await pilot.press("escape")
        else:
            outcome.problem(f"the session screen did not open ({name()})")
        await pilot.pause(0.2)
        app.exit()


async def _bad_token(
    server: SqldServer, shots: Shots, canaries: Canaries, outcome: Outcome
) -> None:
    from tui.app import TurnkeepApp

    settings = load_settings(db={"url": server.ws_url, "auth_token": canaries.db})
    app = TurnkeepApp(settings)
    async with app.run_test(size=SIZE) as pilot:
        name = lambda: type(app.screen).__name__  # noqa: E731
        shown = await _until(pilot, lambda: name() == "StartupErrorScreen")
        outcome.expect(shown, f"a refused token did not show the error screen ({name()})")
        shots.take(app, "error")
        await pilot.press("h")
        await pilot.pause(1.5)
        shots.take(app, "error-health")
        app.exit()


async def _exception_texts(server: SqldServer, canaries: Canaries, outcome: Outcome) -> int:
    count = 0
    for token in (canaries.db, canaries.foreign):
        for url in (server.ws_url, server.http_url):
            try:
                memory = await open_remote(url, auth_token=token, timeout=10)
            except MemoryLayerError as exc:
                texts = [str(exc), repr(exc), exc.hint, "".join(traceback.format_exception(exc))]
                cause: BaseException | None = exc
                while cause is not None:
                    texts += [str(cause), repr(cause)]
                    cause = cause.__cause__ or cause.__context__
                count += 1
                for needle in canaries.leaks("\n".join(texts)):
                    outcome.problem(f"the error of a refused token at {url} shows {needle[:14]}...")
            else:
                await memory.close()
                outcome.problem(f"{url} accepted a refused token")
    settings = load_settings(
        db={"url": server.ws_url, "auth_token": canaries.jwt}, agent={"api_key": canaries.openai}
    )
    for text in (repr(settings), str(settings), settings.model_dump_json(), repr(settings.db)):
        count += 1
        for needle in canaries.leaks(text):
            outcome.problem(f"the settings' repr/JSON shows {needle[:14]}...")
    return count


def run_into(server: SqldServer, workdir: Path, canaries: Canaries, outcome: Outcome) -> int:
    """Export and scan the TUI's screens and the error texts; returns how many were scanned."""
    shots = Shots(workdir / "screens", canaries, outcome)

    async def everything() -> int:
        await _good_token(server, shots, canaries, outcome)
        await _bad_token(server, shots, canaries, outcome)
        return await _exception_texts(server, canaries, outcome)

    texts = asyncio.run(everything())
    outcome.expect(shots.count >= 5, f"only {shots.count} TUI screens were exported")
    return shots.count + texts
