"""Counting what really goes over the WebSocket to sqld: frames, Hrana requests, round trips.

:class:`WireTap` wraps aiohttp's ``ClientWebSocketResponse.send_str`` and ``receive`` for
the duration of a ``with`` block, so it sees every Hrana message any libsql-client in
the process sends or receives, whoever calls it (turnkeep's bounded client or a bare
libsql-client). A *round trip* is a burst of frames the client sends before it hears
anything back: libsql-client pipelines ``open_stream``, ``batch`` and ``close_stream``
without waiting, so those three frames are one round trip, while a client that waited
for an answer before sending its next statement would show two.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

#: Hrana requests that carry SQL; the caller waits for each one's answer.
SQL_REQUESTS = frozenset({"execute", "batch", "sequence", "describe"})


@dataclass
class Window:
    """What crossed the wire between :meth:`WireTap.mark` calls."""

    frames_sent: int = 0
    frames_received: int = 0
    round_trips: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    batch_sql: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def sql_requests(self) -> int:
        """Requests that carry SQL (execute / batch / sequence / describe)."""
        return sum(n for kind, n in self.requests.items() if kind in SQL_REQUESTS)


class WireTap:
    """Count WebSocket frames and Hrana requests while installed (a context manager)."""

    def __init__(self) -> None:
        self.window = Window()
        self._heard_since_send = True
        self._originals: dict[str, Any] = {}

    def mark(self) -> Window:
        """Return the current window and start a new one."""
        window, self.window = self.window, Window()
        return window

    def _sent(self, text: str) -> None:
        window = self.window
        window.frames_sent += 1
        if self._heard_since_send:
            window.round_trips += 1
            self._heard_since_send = False
        try:
            message = json.loads(text)
        except ValueError:
            return
        if message.get("type") != "request":
            window.requests[str(message.get("type"))] += 1
            return
        request = message.get("request", {})
        kind = str(request.get("type"))
        window.requests[kind] += 1
        if kind == "batch":
            steps = request.get("batch", {}).get("steps", [])
            window.batch_sql.append(tuple(str(step["stmt"].get("sql")) for step in steps))

    def _received(self, message: aiohttp.WSMessage) -> None:
        if message.type == aiohttp.WSMsgType.TEXT:
            self.window.frames_received += 1
            self._heard_since_send = True

    def __enter__(self) -> WireTap:
        cls = aiohttp.ClientWebSocketResponse
        send_str, receive = cls.send_str, cls.receive
        self._originals = {"send_str": send_str, "receive": receive}
        tap = self

        async def counted_send(self: Any, data: str, *args: Any, **kwargs: Any) -> None:
            tap._sent(data)
            await send_str(self, data, *args, **kwargs)

        async def counted_receive(self: Any, *args: Any, **kwargs: Any) -> aiohttp.WSMessage:
            message: aiohttp.WSMessage = await receive(self, *args, **kwargs)
            tap._received(message)
            return message

        cls.send_str = counted_send  # type: ignore[method-assign]
        cls.receive = counted_receive  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        cls = aiohttp.ClientWebSocketResponse
        for name, original in self._originals.items():
            setattr(cls, name, original)
