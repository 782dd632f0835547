"""The ``turnkeep`` command: argument parsing, dispatch, and error-to-exit-code mapping.

Exit codes: 0 success, 1 other error, 2 usage or configuration, 3 connection or
authentication, 4 migration, 130 interrupted. Errors print one line on stderr and
never contain a token; ``--debug`` (before or after the command) prints the traceback
first, and the exit code stays the same.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import traceback
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from memory.errors import MemoryLayerError, explain
from runtime.errors import RuntimeLayerError
from runtime.settings import Settings, load_settings
from tui.cli.ids import package_version
from tui.exit_codes import (
    EXIT_CONFIG,
    EXIT_CONNECTION,
    EXIT_INTERRUPTED,
    EXIT_MIGRATION,
    EXIT_OTHER,
    exit_code_for,
)
from tui.safe_text import safe_line

__all__ = [
    "EXIT_CONFIG",
    "EXIT_CONNECTION",
    "EXIT_MIGRATION",
    "EXIT_OTHER",
    "exit_code_for",
    "main",
]

Handler = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


def error_line(exc: BaseException) -> str:
    """One line for stderr: title, message and what to do.

    A message may quote stored text (a session id, a title), so every part goes through
    :func:`~tui.safe_text.safe_line`: nothing in it can steer the terminal.
    """
    explained = explain(exc)
    line = f"turnkeep: {safe_line(explained.title)}: {safe_line(explained.message)}"
    return line + (f" ({safe_line(explained.hint)})" if explained.hint else "")


class _Parser(argparse.ArgumentParser):
    """argparse that exits with code 2 and one line on usage errors.

    Every command's parser also takes ``--debug``, so it may come after the command
    (``turnkeep search x --debug``) as well as before it.
    """

    def __init__(self, *args: Any, top: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not top:
            # SUPPRESS: given here it sets ``debug``; absent, the top level's value stays.
            self.add_argument(
                "--debug",
                action="store_true",
                default=argparse.SUPPRESS,
                help="show tracebacks on errors",
            )

    def error(self, message: str) -> Any:
        line = f"turnkeep: usage error: {safe_line(message)} (see {safe_line(self.prog)} --help)"
        self.exit(EXIT_CONFIG, line + "\n")


#: Each command and the module that registers it (imported only when needed).
COMMANDS: dict[str, str] = {
    "db": "tui.cli.db",
    "sessions": "tui.cli.sessions",
    "ask": "tui.cli.ask",
    "import": "tui.cli.importing",
    "usage": "tui.cli.usage",
    "search": "tui.cli.search",
}


def command_of(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names (its first word that is not an option), if it is one.

    ``None`` (register every command) when there is none, when it is unknown (argparse
    then lists the choices), or when ``--resume`` might have taken it as its id.
    """
    for word in argv:
        if word.startswith("--resume"):
            return None
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Build the argument parser (subcommands register themselves).

    Args:
        only: register just this command: its module alone is imported, which keeps a
            command's start-up free of every other command's dependencies.
    """
    import importlib

    parser = _Parser(
        top=True,
        prog="turnkeep",
        description=(
            "Keep every AI agent conversation turn durably in libSQL. With no command, "
            "opens the TUI."
        ),
        epilog="Examples:\n  turnkeep\n  turnkeep --continue\n  turnkeep db status --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--continue",
        dest="continue_last",
        action="store_true",
        help="open the most recent session in the TUI",
    )
    group.add_argument(
        "--resume",
        metavar="ID",
        nargs="?",
        const="",
        help="open the session ID (or a unique start of it) in the TUI; without ID, pick "
        "one from a list of recent sessions",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module in COMMANDS.items():
        if only is None or name == only:
            importlib.import_module(module).register(commands)
    return parser


def _run(handler: Handler, args: argparse.Namespace, settings: Settings) -> int:
    from tui.collector import resume_collector

    resume_collector()  # start-up is over: the command may allocate without bound
    return asyncio.run(_wakeful(handler, args, settings))


async def _wakeful(handler: Handler, args: argparse.Namespace, settings: Settings) -> int:
    """Run ``handler`` with every signal waking the loop (a Ctrl-C is never lost)."""
    from tui.cli.signal_wakeup import wake_loop_on_signals

    with wake_loop_on_signals(asyncio.get_running_loop()):
        return await handler(args, settings)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``turnkeep`` console script."""
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(command_of(words))
    args = parser.parse_args(words)
    debug = bool(args.debug)
    try:
        settings = load_settings()
        handler: Handler | None = getattr(args, "handler", None)
        if handler is None:
            from tui.launch import launch_tui

            return launch_tui(settings, continue_last=args.continue_last, resume=args.resume)
        return _run(handler, args, settings)
    except KeyboardInterrupt:
        print("turnkeep: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (MemoryLayerError, RuntimeLayerError) as exc:
        if debug:  # the traceback, then the same line and exit code as without --debug
            traceback.print_exc()
        print(error_line(exc), file=sys.stderr)
        return exit_code_for(exc)
    except BrokenPipeError:
        return EXIT_OTHER
    except Exception as exc:
        if debug:
            traceback.print_exc()
        print(
            f"turnkeep: internal error: {type(exc).__name__}: {safe_line(str(exc))}"
            + ("" if debug else " (run with --debug)"),
            file=sys.stderr,
        )
        return EXIT_OTHER


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
