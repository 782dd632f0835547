"""A writer process that saves turns the way the app does: settings, ``open_memory``, and
the persistence worker. Used by the reliability campaign (concurrent writers, full disk).

Usage::

    python -m tests.support.turn_writer --writer NAME --session ID --turns N
        [--go FILE] [--pace SECONDS] [--fsize-limit BYTES] [--filler CHARS]

The database comes from the usual settings (``TURNKEEP_DB__PATH``, or
``TURNKEEP_DB__URL`` with ``TURNKEEP_DB__AUTH_TOKEN``). Each turn is one save point of
four events (user, tool_call, tool_result, assistant) whose payloads carry
``writer``/``turn``. Every line on stdout is one JSON object:

* ``{"saved": TURN, "seqs": [...]}`` when a turn's save point is committed;
* ``{"state": STATUS, "error": TEXT, "pending": N}`` whenever the worker's state changes;
* ``{"done": true, "retries": N, "failed": N, "unsaved": N}`` at the end.

With ``--fsize-limit`` the process may write files only up to BYTES (``RLIMIT_FSIZE``,
SIGXFSZ ignored so a write fails with EFBIG): a full disk. A line ``grow`` on stdin lifts
the limit (space returns). ``--go FILE`` waits until FILE exists before writing, so
several writers start together.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import signal
import sys
import time
from pathlib import Path
from typing import Any

from memory import EventDraft
from runtime.persistence import PersistenceWorker, WorkerState
from runtime.settings import load_settings
from runtime.store import open_memory


def turn_events(writer: str, turn: int, filler: int = 0) -> list[EventDraft]:
    """The four events of one turn; ``writer``/``turn`` make every event identifiable.

    ``filler`` adds that many characters to the user's message (bigger save points).
    """
    call_id = f"call-{writer}-{turn}"
    tag = {"writer": writer, "turn": turn}
    text = f"{writer} asks #{turn}" + " padding" * (filler // 8)
    return [
        EventDraft("user", {"role": "user", "content": text, **tag}, turn),
        EventDraft(
            "tool_call",
            {"call_id": call_id, "name": "calculator", "arguments": {"expression": "1+1"}, **tag},
            turn,
        ),
        EventDraft(
            "tool_result", {"call_id": call_id, "name": "calculator", "result": 2, **tag}, turn
        ),
        EventDraft(
            "assistant", {"role": "assistant", "content": f"{writer} answers #{turn}", **tag}, turn
        ),
    ]


def emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj), flush=True)


def limit_file_size(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))


def lift_file_size_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))


async def watch_stdin(grown: asyncio.Event) -> None:
    """Lift the file-size limit when ``grow`` arrives on stdin."""
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            return
        if line.strip() == "grow":
            lift_file_size_limit()
            grown.set()
            emit({"grown": True})


async def main(args: argparse.Namespace) -> int:
    settings = load_settings()
    memory = await open_memory(settings)
    worker = PersistenceWorker(memory)

    def on_state(state: WorkerState) -> None:
        emit({"state": state.status, "error": state.last_error, "pending": state.pending})

    worker.add_listener(on_state)
    await worker.start()
    grown = asyncio.Event()
    watcher = asyncio.create_task(watch_stdin(grown)) if args.fsize_limit else None
    if args.fsize_limit:
        limit_file_size(args.fsize_limit)
    if args.go:
        emit({"ready": True})
        deadline = time.monotonic() + 120
        while not Path(args.go).exists():
            if time.monotonic() > deadline:
                emit({"error": "the go file never appeared"})
                return 1
            await asyncio.sleep(0.002)
    try:
        for turn in range(1, args.turns + 1):

            def saved(seqs: list[int], turn: int = turn) -> None:
                emit({"saved": turn, "seqs": seqs})

            events = turn_events(args.writer, turn, args.filler)
            worker.submit(args.session, events, on_saved=saved)
            if args.pace:
                await asyncio.sleep(args.pace)
            else:
                await worker.flush(600)
        if args.fsize_limit:
            await asyncio.wait_for(grown.wait(), 600)
        await worker.flush(600)
    finally:
        unsaved = await worker.stop(30)
        if watcher is not None:
            watcher.cancel()
        await memory.close()
    state = worker.state
    emit(
        {
            "done": True,
            "retries": state.retries,
            "failed": state.failed,
            "unsaved": sum(len(drafts) for _, drafts in unsaved),
        }
    )
    return 0 if not unsaved else 1


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="turn_writer")
    parser.add_argument("--writer", required=True)
    parser.add_argument("--session", required=True)
    parser.add_argument("--turns", type=int, required=True)
    parser.add_argument("--go")
    parser.add_argument("--pace", type=float, default=0.0)
    parser.add_argument("--fsize-limit", type=int, default=0)
    parser.add_argument("--filler", type=int, default=0)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse(sys.argv[1:]))))
