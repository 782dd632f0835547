"""Clearly named test doubles wrapping a *real* backend, for what no real component can
drive deterministically: a database that fails for a while and then recovers, and one
whose writes wait until the test opens a gate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from memory import EventDraft, MemoryBackend, SaveResult, TurnRef
from memory.errors import MemoryLayerError, StoreConnectionError


class FlakyMemoryDouble:
    """Delegates to a real backend, but ``store`` fails ``fail_times`` times first.

    Every attempt is recorded in ``attempts`` as ``(session_id, kinds, ok)``.
    """

    def __init__(
        self,
        real: MemoryBackend,
        *,
        fail_times: int,
        error: MemoryLayerError | None = None,
        after_commit: bool = False,
    ) -> None:
        self._real = real
        self.fail_times = fail_times
        #: Fail *after* the real write committed: the ambiguous outcome of a timeout or
        #: a connection dropped just before the answer arrived.
        self.after_commit = after_commit
        self.error = error or StoreConnectionError("cannot reach the test database (injected)")
        self.attempts: list[tuple[str, list[str], bool]] = []
        self.mode = getattr(real, "mode", "embedded")

    async def store(self, session_id: str, events: Sequence[EventDraft]) -> list[int]:
        kinds = [e.kind for e in events]
        if self.fail_times > 0:
            self.fail_times -= 1
            self.attempts.append((session_id, kinds, False))
            raise self.error
        seqs = await self._real.store(session_id, events)
        self.attempts.append((session_id, kinds, True))
        return seqs

    async def store_once(
        self, session_id: str, key: str, events: Sequence[EventDraft]
    ) -> list[int]:
        kinds = [e.kind for e in events]
        if self.fail_times > 0:
            self.fail_times -= 1
            self.attempts.append((session_id, kinds, False))
            if self.after_commit:
                await self._real.store_once(session_id, key, events)
            raise self.error
        seqs = await self._real.store_once(session_id, key, events)
        self.attempts.append((session_id, kinds, True))
        return seqs

    async def store_turn(
        self,
        session_id: str,
        key: str,
        events: Sequence[EventDraft],
        *,
        turn: TurnRef,
        state: Mapping[str, Any] | None = None,
    ) -> SaveResult:
        kinds = [e.kind for e in events]
        if self.fail_times > 0:
            self.fail_times -= 1
            self.attempts.append((session_id, kinds, False))
            if self.after_commit:
                await self._real.store_turn(session_id, key, events, turn=turn, state=state)
            raise self.error
        result = await self._real.store_turn(session_id, key, events, turn=turn, state=state)
        self.attempts.append((session_id, kinds, True))
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class GatedMemoryDouble:
    """Delegates to a real backend, but every ``store`` waits until ``gate`` is set."""

    def __init__(self, real: MemoryBackend) -> None:
        self._real = real
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()
        self.mode = getattr(real, "mode", "embedded")

    async def store(self, session_id: str, events: Sequence[EventDraft]) -> list[int]:
        self.entered.set()
        await self.gate.wait()
        return await self._real.store(session_id, events)

    async def store_once(
        self, session_id: str, key: str, events: Sequence[EventDraft]
    ) -> list[int]:
        self.entered.set()
        await self.gate.wait()
        return await self._real.store_once(session_id, key, events)

    async def store_turn(
        self,
        session_id: str,
        key: str,
        events: Sequence[EventDraft],
        *,
        turn: TurnRef,
        state: Mapping[str, Any] | None = None,
    ) -> SaveResult:
        self.entered.set()
        await self.gate.wait()
        return await self._real.store_turn(session_id, key, events, turn=turn, state=state)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)
