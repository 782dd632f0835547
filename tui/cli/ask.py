"""``turnkeep ask``: one live turn from the command line, saved through the persistence worker.

Streams the reply to stdout (tool activity and the session id go to stderr), or with
``--json`` prints each event of the turn as a JSON line once it is saved. Exits 0 only
when the whole turn is saved. Ctrl-C cancels the turn cleanly: the partial reply is
saved as a ``cancelled`` event (a running tool gets a cancelled result) and the exit
code is 130; a second Ctrl-C stops at once.

Exit codes: 0 saved; 1 the turn failed or could not be saved; 2 usage or provider
set-up (not installed, unknown model, bad script); 3 the database or the model server
cannot be reached or refused the credentials; 4 migration; 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from memory.records import EventDraft, check_text
from runtime.conversation import Conversation
from runtime.errors import (
    ProviderAuthError,
    ProviderConfigError,
    ProviderConnectionError,
    RuntimeLayerError,
)
from runtime.persistence import describe_error
from runtime.progress import (
    TextDelta,
    ToolFinished,
    ToolStarted,
    TurnCancelled,
    TurnFailed,
    TurnFinished,
)
from runtime.providers import PROVIDER_NAMES
from runtime.sessions import Sessions
from runtime.settings import Settings
from tui.cli.ids import resolve_ids
from tui.cli.output import UsageError
from tui.exit_codes import EXIT_CONFIG, EXIT_CONNECTION, EXIT_INTERRUPTED, EXIT_OK, EXIT_OTHER
from tui.format import plural
from tui.safe_text import safe_line, safe_text, terminal_json

__all__ = ["ask_command", "register"]

#: The turn failed or was not saved (the same code as any other error).
EXIT_FAILED = EXIT_OTHER
#: Seconds the worker may keep draining after the turn's own save deadline.
STOP_GRACE = 2.0


class AskUsageError(UsageError):
    """``turnkeep ask`` was given arguments it cannot use (exit code 2)."""

    default_hint = "See turnkeep ask --help."


def register(commands: Any) -> None:
    """Add the ``ask`` command to the top-level subparsers."""
    parser = commands.add_parser(
        "ask",
        help="run one live turn and save it",
        description=(
            "Send MESSAGE to the model, stream the reply to stdout and save the turn "
            "(your message, the reply, every tool call with its result) through the "
            "persistence worker. The session id is printed to stderr. Exits 0 only when "
            "the turn is saved. Ctrl-C cancels the turn and saves what was said so far. "
            "Providers: local (a GGUF model in-process, the default; SmolLM2-135M-Instruct "
            "unless TURNKEEP_AGENT__MODEL_PATH says otherwise), openai (any OpenAI-"
            "compatible server: TURNKEEP_AGENT__BASE_URL or OPENAI_BASE_URL, "
            "OPENAI_API_KEY) and scripted (replays a script; for tests and demos)."
        ),
        epilog=(
            "Examples:\n"
            '  turnkeep ask "What is the capital of France?"\n'
            '  turnkeep ask --session 019a3c... "And of Italy?"\n'
            '  turnkeep ask --provider openai --model gpt-4o-mini --json "What time is it?"\n'
            "  echo 'Summarise this' | turnkeep ask -\n"
            '  turnkeep ask --script demo.json "Run the demo"\n'
            "\n"
            "Exit codes: 0 saved, 1 turn failed or not saved, 2 usage/provider set-up,\n"
            "3 database or model server unreachable or refused credentials, 4 migration,\n"
            "130 interrupted."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--session", metavar="ID", help="continue the session ID")
    target.add_argument(
        "--new", action="store_true", help="start a new session (the default without --session)"
    )
    parser.add_argument(
        "--provider",
        choices=PROVIDER_NAMES,
        help="model provider (default: the session's, else TURNKEEP_AGENT__PROVIDER, else local)",
    )
    parser.add_argument("--model", metavar="NAME", help="model name (required for openai)")
    parser.add_argument(
        "--script",
        metavar="FILE",
        type=Path,
        help="JSON script for the scripted provider (implies --provider scripted)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the turn's events as JSON lines (session_id, seq, turn, kind, payload) "
        "as they are saved, instead of the streamed text",
    )
    parser.add_argument("message", metavar="MESSAGE", help="the message; '-' reads standard input")
    parser.set_defaults(handler=ask_command)


def _exit_code(error: BaseException) -> int:
    if isinstance(error, ProviderConfigError):
        return EXIT_CONFIG
    if isinstance(error, (ProviderConnectionError, ProviderAuthError)):
        return EXIT_CONNECTION
    return EXIT_FAILED


def _event_line(session_id: str, draft: EventDraft, seq: int) -> str:
    return terminal_json(
        {
            "session_id": session_id,
            "seq": seq,
            "turn": draft.turn,
            "kind": draft.kind,
            "payload": dict(draft.payload),
        }
    )


class _SafeStream:
    """Neutralises streamed text chunk by chunk (see :mod:`tui.safe_text`).

    Every control character is replaced on its own, so a sequence split across chunks is
    neutralised too; only a trailing carriage return waits for the next chunk, so that a
    ``\\r\\n`` line end split in two still becomes a plain newline.
    """

    def __init__(self) -> None:
        self._held = ""

    def feed(self, text: str) -> str:
        text = self._held + text
        self._held = ""
        if text.endswith("\r"):
            text, self._held = text[:-1], "\r"
        return safe_text(text)

    def finish(self) -> str:
        held, self._held = self._held, ""
        return safe_text(held)


def _uncancel() -> None:
    """Clear the interrupt so the bounded clean-up below can still await."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()


async def _read_message(text: str) -> str:
    if text != "-":
        return text
    return await asyncio.to_thread(sys.stdin.read)


async def ask_command(args: argparse.Namespace, settings: Settings) -> int:
    """``turnkeep ask``: run one live turn and save it (see the module docstring).

    Raises:
        AskUsageError: conflicting options or an empty message.
        MemoryLayerError: the database cannot be opened (before any turn starts).
        ProviderConfigError: the provider cannot be set up.
        NotFoundError: ``--session`` names no session.
    """
    if args.script is not None and args.provider not in (None, "scripted"):
        raise AskUsageError(f"--script only works with the scripted provider, not {args.provider}")
    provider = "scripted" if args.script is not None and args.provider is None else args.provider
    message = await _read_message(args.message)
    if not message.strip():
        raise AskUsageError("the message is empty")
    check_text(message, "message")  # refused before a session is created for it
    out = sys.stdout
    err = sys.stderr
    sessions = await Sessions.open(settings)
    # The agent's search_sessions tool ranks hybrid when semantic search is on.
    sessions.attach_semantic(settings.search)
    conversation: Conversation | None = None
    code = EXIT_OK
    interrupted = False
    outcome: TurnFinished | TurnFailed | TurnCancelled | None = None
    try:
        await resolve_ids(sessions, args, "session")
        worker = await sessions.start_worker()
        conversation = await sessions.conversation(
            args.session, provider=provider, model=args.model, script=args.script
        )
        session_id = conversation.session_id
        print(f"session: {safe_line(session_id)}", file=err, flush=True)
        if args.json:

            def print_saved(drafts: Sequence[EventDraft], seqs: list[int]) -> None:
                for draft, seq in zip(drafts, seqs, strict=True):
                    print(_event_line(session_id, draft, seq), file=out, flush=True)

            conversation.add_saved_listener(print_saved)
        line_open = False  # stdout has text without its final newline
        stream = _SafeStream()
        try:
            async for item in conversation.send(message):
                if isinstance(item, TextDelta):
                    if not args.json:
                        shown = stream.feed(item.text)
                        if shown:
                            out.write(shown)
                            out.flush()
                            line_open = not shown.endswith("\n")
                elif isinstance(item, ToolStarted):
                    _end_line(out, stream, line_open)
                    line_open = False
                    arguments = json.dumps(item.arguments, ensure_ascii=False)
                    print(f"[tool] {safe_line(item.name)} {_clip(arguments)}", file=err, flush=True)
                elif isinstance(item, ToolFinished):
                    shown = (
                        item.error
                        if item.error is not None
                        else json.dumps(item.result, ensure_ascii=False)
                    )
                    status = "failed" if item.error is not None else "returned"
                    print(
                        f"[tool] {safe_line(item.name)} {status}: {_clip(shown)}",
                        file=err,
                        flush=True,
                    )
                elif isinstance(item, (TurnFinished, TurnFailed, TurnCancelled)):
                    outcome = item
        except asyncio.CancelledError:
            interrupted = True
            _uncancel()
        _end_line(out, stream, line_open)
        if isinstance(outcome, TurnFailed):
            print(_error_line(outcome.error), file=err, flush=True)
            code = _exit_code(outcome.error)
        try:
            drained = await worker.flush(settings.agent.save_timeout)
        except asyncio.CancelledError:
            interrupted, drained = True, False
            _uncancel()
        if not drained or conversation.unsaved_save_points:
            state = worker.state
            reason = safe_line(state.last_error or "the save did not finish in time")
            print(
                f"turnkeep: Not saved: {plural(state.pending, 'event')} of session "
                f"{safe_line(session_id)} {'is' if state.pending == 1 else 'are'} not saved "
                f"yet ({reason}) "
                "(check `turnkeep db status`; nothing else was written)",
                file=err,
                flush=True,
            )
            code = EXIT_CONNECTION if state.status == "retrying" else EXIT_FAILED
        elif worker.state.disabled:
            print(
                "note: memory is disabled (memory.enabled = false): nothing was written to disk",
                file=err,
                flush=True,
            )
    finally:
        if conversation is not None:
            await conversation.close()
        unsaved = await sessions.close(STOP_GRACE)
    for session, drafts in unsaved:
        kinds = ", ".join(d.kind for d in drafts)
        print(
            f"turnkeep: not saved: session {safe_line(session)}: {safe_line(kinds)}",
            file=err,
            flush=True,
        )
    if interrupted:
        print(
            "turnkeep: interrupted; the partial turn was saved as cancelled"
            if not unsaved
            else "turnkeep: interrupted",
            file=err,
            flush=True,
        )
        return EXIT_INTERRUPTED
    if unsaved and code == EXIT_OK:
        code = EXIT_FAILED
    return code


def _end_line(out: TextIO, stream: _SafeStream, line_open: bool) -> None:
    """Write what the stream still holds, and end the line when one is open (before a
    tool line on stderr, and at the end of the answer)."""
    rest = stream.finish()
    if rest:
        out.write(rest)
        line_open = True
    if line_open:
        out.write("\n")
        out.flush()


def _clip(text: str, limit: int = 300) -> str:
    """One line, bounded and neutralised: tool results can be large (all of it is saved)."""
    return safe_line(text, limit)


def _error_line(exc: RuntimeLayerError) -> str:
    return safe_line(f"turnkeep: {describe_error(exc)} ({exc.hint})")
