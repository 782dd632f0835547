"""Checks every stored history must pass, and small helpers to drive a turn."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from memory import Event
from runtime.progress import Progress


async def collect(stream: AsyncIterator[Progress]) -> list[Progress]:
    """Everything a turn yields, in order."""
    return [item async for item in stream]


def assert_well_formed(events: Sequence[Event]) -> None:
    """``seq`` contiguous from 1; every tool call answered once, after it, in its turn."""
    assert [e.seq for e in events] == list(range(1, len(events) + 1)), "seq has gaps"
    calls: dict[str, Event] = {}
    answered: set[str] = set()
    for event in events:
        if event.kind == "tool_call":
            call_id = event.payload["call_id"]
            assert call_id not in calls, f"call id {call_id} stored twice"
            calls[call_id] = event
        elif event.kind == "tool_result":
            call_id = event.payload["call_id"]
            assert call_id in calls, f"result {call_id} without its call"
            assert call_id not in answered, f"call {call_id} answered twice"
            assert calls[call_id].turn == event.turn
            answered.add(call_id)
    assert set(calls) == answered, f"calls without results: {set(calls) - answered}"


def kinds(events: Sequence[Event]) -> list[str]:
    """The kinds, in order."""
    return [e.kind for e in events]
