"""Snapshot scenes of the conversation screen (issue 13): an earlier attempt shown
dimmed after a regenerate, the prompt editing the last question, and the code-block
picker of copy.

Builders import the shared helpers of :mod:`tests.tui.scenes` when called, so that
module can list these scenes without an import cycle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.pilot import Pilot

from runtime import payloads

if TYPE_CHECKING:
    from tests.tui.scenes import Scene

__all__ = ["CONVO_SCENES"]

#: The session the scenes open: a wrong answer regenerated, then a code answer.
N = 20
_LOCAL, _SMOL = "local", "SmolLM2-135M-Instruct"
_CODE = (
    "Either works:\n\n```python\nprimes = [n for n in range(2, 30) if all(n % d for d in "
    "range(2, n))]\n```\n\n```sh\nfactor 11 13 17\n```\n"
)


def _session() -> Any:
    from datetime import timedelta

    from tests.tui.seed import DemoSession, assistant, user

    question = "Name a prime number between 10 and 20."
    return DemoSession(
        N,
        "Primes between 10 and 20",
        _LOCAL,
        _SMOL,
        timedelta(minutes=3),
        turns=[
            [user(question), assistant("15 is a prime number.", _LOCAL, _SMOL)],
            [
                ("superseded", payloads.superseded(1, 2, reason="regenerate", turn=1)),
                user(question),
                assistant("**11** is prime: its only divisors are 1 and 11.", _LOCAL, _SMOL),
            ],
            [user("How would I list them in code?"), assistant(_CODE, _LOCAL, _SMOL)],
        ],
    )


def _scene(name: str, drive_keys: Callable[[Pilot[Any]], Any]) -> Callable[[Path], Scene]:
    def build(home: Path) -> Scene:
        from tests.tui.scenes import Scene, _app, prepare_home, settle
        from tests.tui.seed import demo_sessions, seed_demo, session_id

        path = prepare_home(home)
        asyncio.run(seed_demo(path, [*demo_sessions(), _session()]))

        async def drive(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            await drive_keys(pilot)
            await settle(pilot)

        return Scene(name, _app(resume=session_id(N)), drive)

    return build


async def _show_earlier(pilot: Pilot[Any]) -> None:
    from tui.widgets.superseded import SupersededView

    pilot.app.screen.query_one(SupersededView).focus()
    await pilot.press("enter")  # the marker's own toggle: the attempt shows dimmed


async def _edit_last(pilot: Pilot[Any]) -> None:
    from tests.tui.scenes import wait_until

    screen: Any = pilot.app.screen
    prompt = screen.query_one("#prompt")
    await wait_until(pilot, lambda: not prompt.disabled, "the conversation opened")
    await pilot.press("ctrl+e")
    await wait_until(pilot, lambda: screen.editing, "the last question is in the prompt")


async def _code_picker(pilot: Pilot[Any]) -> None:
    from tests.tui.scenes import wait_until
    from tui.screens.session_copy import CodeBlockPicker
    from tui.widgets.events import AssistantMessageView

    pilot.app.screen.query(AssistantMessageView).last().focus()
    await pilot.press("c")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, CodeBlockPicker), "picker")


CONVO_SCENES: dict[str, Callable[[Path], Scene]] = {
    "earlier-attempt": _scene("earlier-attempt", _show_earlier),
    "edit-last": _scene("edit-last", _edit_last),
    "copy-code": _scene("copy-code", _code_picker),
}
