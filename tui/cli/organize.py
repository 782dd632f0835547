"""``turnkeep sessions fork|pin|unpin|archive|unarchive|tag|untag|prune`` (issue 16).

Every command writes through the memory layer in one transaction; bad input (a fork
point outside the session, a malformed tag) is refused with a usage error (exit 2)
before anything changes, an unknown session exits 1. ``prune`` only prints its plan
unless ``--yes`` is given, and then writes a backup first.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memory.errors import ForkPointError, SerializationError
from memory.records import SessionInfo, parse_ts, typed_tag
from runtime.sessions import Sessions
from runtime.settings import Settings
from tui.cli.ids import resolve_ids
from tui.cli.output import UsageError, atomic_text, opened, utf8_stdout
from tui.cli.spans import moment_option
from tui.format import human_size, plural, relative_time
from tui.safe_text import safe_line

__all__ = ["MAX_TITLE", "checked_title", "register", "valid_tags"]

_RAW = argparse.RawDescriptionHelpFormatter
#: The longest title a command stores (``sessions rename`` and ``sessions fork --title``).
MAX_TITLE = 500
#: Events read per page while counting a fork's tokens.
_PAGE = 500


def checked_title(title: str) -> str:
    """A new title as given (rename, fork), or a :class:`UsageError`: empty or too long."""
    if not title:
        raise UsageError("the title must not be empty")
    if len(title) > MAX_TITLE:
        raise UsageError(
            f"the title is {len(title)} characters long; it may be at most {MAX_TITLE} characters"
        )
    return title


def valid_tags(tags: list[str]) -> list[str]:
    """The tags normalised, or a :class:`UsageError` naming the bad one (nothing written)."""
    out: list[str] = []
    for tag in tags:
        try:
            out.append(typed_tag(tag))
        except SerializationError as exc:
            raise UsageError(
                safe_line(exc.message),
                hint="A tag is one word of up to 64 characters, without [ ] or spaces.",
            ) from None
    return out


def register(sub: Any) -> None:
    """Add the organizing commands to the ``sessions`` subparsers."""
    fork = sub.add_parser(
        "fork",
        help="copy a session up to an event into a new session",
        description=(
            "Create a new session holding the events of ID up to and including seq SEQ "
            "(default: all of them) and print its id. The original never changes; the new "
            "session records where it came from (forked_from, forked_at_seq)."
        ),
        epilog=(
            "Examples:\n"
            "  turnkeep sessions fork ID\n"
            '  turnkeep sessions fork ID --at 4 --title "Try another approach"'
        ),
        formatter_class=_RAW,
    )
    fork.add_argument("id", metavar="ID", help="the session to fork")
    fork.add_argument("--at", type=int, metavar="SEQ", help="the last event to copy (a seq)")
    fork.add_argument(
        "--title",
        metavar="TEXT",
        help=f'the new title, at most {MAX_TITLE} characters (default "Fork of …")',
    )
    fork.set_defaults(handler=fork_command)

    for name, helptext, handler in (
        ("pin", "keep a session at the top of the lists", pin_command),
        ("unpin", "stop keeping a session at the top", pin_command),
        ("archive", "move a session out of the default lists (deletes nothing)", archive_command),
        ("unarchive", "bring an archived session back into the lists", archive_command),
    ):
        listing = "sessions list --archived" if "archive" in name else "sessions list"
        parser = sub.add_parser(
            name,
            help=helptext,
            description=helptext[0].upper() + helptext[1:] + ".",
            epilog=(
                "Examples:\n"
                f"  turnkeep sessions {name} 019ac3   (the start of an id is enough)\n"
                f"  turnkeep {listing}"
            ),
            formatter_class=_RAW,
        )
        parser.add_argument("id", metavar="ID", help="the session id")
        parser.set_defaults(handler=handler, organize_action=name)

    for name, helptext in (
        ("tag", "add tags to a session"),
        ("untag", "remove tags from a session"),
    ):
        parser = sub.add_parser(
            name,
            help=helptext,
            description=(
                f"{helptext[0].upper() + helptext[1:]}. A tag is one word of up to 64 "
                "characters (no spaces, no [ or ]); surrounding spaces and a leading # "
                "are dropped (#work is the tag work)."
            ),
            epilog=f"Example:\n  turnkeep sessions {name} ID work parser",
            formatter_class=_RAW,
        )
        parser.add_argument("id", metavar="ID", help="the session id")
        parser.add_argument("tags", metavar="TAG", nargs="+", help="the tags")
        parser.set_defaults(handler=tag_command, organize_action=name)

    prune = sub.add_parser(
        "prune",
        help="plan (and with --yes, carry out) deleting old, empty or archived sessions",
        description=(
            "Show which sessions match every given criterion (never pinned ones), with "
            "their events, and change nothing. With --yes, first write a backup next to "
            "the database (an embedded file is copied like `turnkeep db backup`; a remote "
            "database gets an export of the pruned sessions, restorable with "
            "`turnkeep sessions import`), say where it is, then delete them in one "
            "transaction. turnkeep never deletes anything on its own."
        ),
        epilog=(
            "Examples:\n"
            "  turnkeep sessions prune --empty\n"
            "  turnkeep sessions prune --archived --older-than 90d\n"
            "  turnkeep sessions prune --older-than 2026-01-01 --yes"
        ),
        formatter_class=_RAW,
    )
    prune.add_argument("--empty", action="store_true", help="sessions without events")
    prune.add_argument(
        "--older-than", metavar="SPAN|DATE", help="last activity before 90d/12h/30m/2w ago or DATE"
    )
    prune.add_argument("--archived", action="store_true", help="archived sessions")
    prune.add_argument("-y", "--yes", action="store_true", help="back up, then delete")
    prune.set_defaults(handler=prune_command)


async def fork_command(args: argparse.Namespace, settings: Settings) -> int:
    """``turnkeep sessions fork ID [--at SEQ] [--title TEXT]``: prints the new id."""
    if args.at is not None and args.at < 1:
        raise UsageError(
            f"--at must be a seq of the session (1 or more), got {args.at}",
            hint="See the seqs with `turnkeep sessions show ID`.",
        )
    title = None if args.title is None else checked_title(" ".join(args.title.split()))
    async with opened(settings) as sessions:
        await resolve_ids(sessions, args, "id")
        source = await sessions.get(args.id)
        try:
            fork = await sessions.fork(source, at=args.at, title=title)
        except ForkPointError as exc:
            raise UsageError(safe_line(exc.message), hint=exc.hint) from None
    print(fork.id)
    print(
        f"forked {safe_line(source.id)} at seq {fork.forked_at_seq} into {fork.id} "
        f"({plural(fork.events, 'event')}): {safe_line(fork.title or '', 80)}",
        file=sys.stderr,
    )
    return 0


async def pin_command(args: argparse.Namespace, settings: Settings) -> int:
    """``turnkeep sessions pin ID`` / ``unpin ID``."""
    async with opened(settings) as sessions:
        await resolve_ids(sessions, args, "id")
        info = await sessions.set_pinned(args.id, args.organize_action == "pin")
    print(f"{'pinned' if info.pinned else 'unpinned'} {safe_line(info.id)}")
    return 0


async def archive_command(args: argparse.Namespace, settings: Settings) -> int:
    """``turnkeep sessions archive ID`` / ``unarchive ID``."""
    async with opened(settings) as sessions:
        await resolve_ids(sessions, args, "id")
        info = await sessions.set_archived(args.id, args.organize_action == "archive")
    if info.archived:
        print(f"archived {safe_line(info.id)} (list it with `turnkeep sessions list --archived`)")
    else:
        print(f"restored {safe_line(info.id)}")
    return 0


async def tag_command(args: argparse.Namespace, settings: Settings) -> int:
    """``turnkeep sessions tag ID TAG...`` / ``untag ID TAG...``."""
    tags = valid_tags(args.tags)
    async with opened(settings) as sessions:
        await resolve_ids(sessions, args, "id")
        if args.organize_action == "tag":
            info = await sessions.add_tags(args.id, tags)
        else:
            # As given (checked above): remove_tags also takes each tag as it was
            # written, so a tag stored with a leading # (before # was dropped) goes.
            info = await sessions.remove_tags(args.id, args.tags)
    shown = ", ".join(safe_line(t) for t in info.tags) or "(none)"
    print(f"tags of {safe_line(info.id)}: {shown}")
    return 0


def _plan_line(info: SessionInfo) -> str:
    when = relative_time(parse_ts(info.updated_at))
    title = safe_line(info.title, 60) if info.title else "(untitled)"
    flags = " archived" if info.archived else ""
    return f"  {safe_line(info.id)}  {when}  {plural(info.events, 'event')}{flags}  {title}"


def _backup_path(settings: Settings, sessions: Sessions) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = sessions.file_path
    if path is not None:
        return path.with_name(f"{path.name}.before-prune-{stamp}.bak")
    folder = settings.db.resolved_path().parent
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"turnkeep-before-prune-{stamp}.json"


async def prune_command(args: argparse.Namespace, settings: Settings) -> int:
    """``turnkeep sessions prune [--empty] [--older-than 90d] [--archived] [--yes]``."""
    if not (args.empty or args.older_than or args.archived):
        raise UsageError(
            "say what to prune: --empty, --older-than SPAN|DATE and/or --archived",
            hint="Each criterion narrows the plan; pinned sessions are never pruned.",
        )
    older = None if args.older_than is None else moment_option(args.older_than, "--older-than")
    out = utf8_stdout()
    async with opened(settings) as sessions:
        plan = await sessions.prune_candidates(
            empty=args.empty, older_than=older, archived=args.archived
        )
        events = sum(i.events for i in plan)
        if not plan:
            out.write("nothing to prune: no unpinned session matches\n")
            return 0
        out.write(f"{plural(len(plan), 'session')} ({plural(events, 'event')}) match:\n")
        for info in plan:
            out.write(_plan_line(info) + "\n")
        if not args.yes:
            out.write(
                "nothing was changed; run again with --yes to delete them "
                "(a backup is written first)\n"
            )
            return 0
        target = _backup_path(settings, sessions)
        if sessions.file_path is not None:
            result = await sessions.backup_file(target)
            out.write(
                f"backup: {result.path} ({human_size(result.size)}); restore it by copying "
                "it over the database while turnkeep is closed\n"
            )
        else:
            with atomic_text(target) as handle:
                await sessions.export_to(handle.write, [i.id for i in plan])
            out.write(f"backup: {target}; restore with `turnkeep sessions import {target}`\n")
        deleted = set(await sessions.prune(plan))
    gone = [i for i in plan if i.id in deleted]
    kept = [i for i in plan if i.id not in deleted]
    removed = len(gone)
    out.write(
        f"deleted {plural(removed, 'session')} ({plural(sum(i.events for i in gone), 'event')})\n"
    )
    for info in kept:
        out.write(f"kept {safe_line(info.id)}: it changed since the plan was made\n")
    return 0
