"""``turnkeep usage``: token totals (and cost, with prices) by day, model or session.

The figures are read from the stored assistant events with the runtime's payload
reader (:func:`runtime.payloads.usage`), page by page; turns whose figures were only
estimated are counted and flagged. Prices come from the config file::

    [prices."gpt-4o-mini"]
    prompt = 0.15       # per million prompt tokens
    completion = 0.6    # per million completion tokens
    cached_prompt = 0.075  # optional: per million prompt tokens read from the cache
    cache_write = 0.1875   # optional: per million prompt tokens written to the cache
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from memory.errors import NotFoundError
from memory.records import Event
from runtime import payloads
from runtime.settings import Settings
from tui.cli.output import opened, utf8_stdout
from tui.cli.spans import moment_option
from tui.format import plural
from tui.safe_text import safe_line, terminal_json

__all__ = ["Bucket", "register", "usage_command"]

#: Assistant events read per page.
PAGE = 1000


@dataclass
class Bucket:
    """The totals of one row (a day, a model or a session)."""

    key: str
    turns: int = 0
    prompt: int = 0
    completion: int = 0
    estimated: int = 0
    cost: float | None = None
    cached: int = 0
    cache_written: int = 0

    def as_dict(self, by: str) -> dict[str, Any]:
        """The JSON form of the row."""
        return {
            by: self.key,
            "answers": self.turns,
            "prompt_tokens": self.prompt,
            "completion_tokens": self.completion,
            "total_tokens": self.prompt + self.completion,
            "cached_tokens": self.cached,
            "cache_write_tokens": self.cache_written,
            "estimated_answers": self.estimated,
            "cost": None if self.cost is None else round(self.cost, 6),
        }


def register(commands: Any) -> None:
    """Add ``turnkeep usage`` to the top-level subparsers."""
    usage = commands.add_parser(
        "usage",
        help="token usage (and cost) by day, model or session",
        description=(
            "Add up the prompt and completion tokens of every answer, as reported by the "
            "provider (answers with only estimated figures are counted and flagged), by "
            "day (UTC), model or session. With prices in the config file "
            '([prices."MODEL"] prompt = ..., completion = ... per million tokens, and '
            "optionally cached_prompt = ... and cache_write = ... for prompt tokens read "
            "from and written to the provider's cache), shows the cost. With --json, "
            "prints one object with the keys by, since, rows and total (each row also "
            "gives the prompt tokens read from and written to the provider's cache: "
            "cached_tokens, cache_write_tokens)."
        ),
        epilog=(
            "Examples:\n"
            "  turnkeep usage\n"
            "  turnkeep usage --by model --since 7d\n"
            "  turnkeep usage --by session --since 2026-11-01 --json"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    usage.add_argument(
        "--by", choices=("day", "model", "session"), default="day", help="group by (default day)"
    )
    usage.add_argument(
        "--since", metavar="SPAN|DATE", help="only answers since 7d/12h/30m/2w or DATE"
    )
    usage.add_argument("--json", action="store_true", help="print one JSON object")
    usage.set_defaults(handler=usage_command)


def _cost(settings: Settings, model: str | None, used: payloads.Usage) -> float | None:
    """What an answer cost at its model's prices (``None`` when the model has none).

    Prompt tokens read from the provider's cache cost ``cached_prompt``, those written
    to it ``cache_write``, when the price gives them (the prompt price otherwise)."""
    price = None if model is None else settings.prices.get(model)
    if price is None:
        return None
    cached_price = price.prompt if price.cached_prompt is None else price.cached_prompt
    written_price = price.prompt if price.cache_write is None else price.cache_write
    fresh = used.prompt - used.cached - used.cache_written
    return (
        fresh * price.prompt
        + used.cached * cached_price
        + used.cache_written * written_price
        + used.completion * price.completion
    ) / 1_000_000


async def usage_command(args: argparse.Namespace, settings: Settings) -> int:
    """``turnkeep usage [--by day|model|session] [--since 7d|DATE] [--json]``."""
    since = None if args.since is None else moment_option(args.since, "--since")
    buckets: dict[str, Bucket] = {}
    total = Bucket("total")
    priced_any = False
    async with opened(settings) as sessions:
        imported_sessions: dict[str, bool] = {}

        async def imported(event: Event) -> bool:
            """Whether the answer was imported (its payload or its session says so)."""
            if "source" in event.payload:
                return True
            known = imported_sessions.get(event.session_id)
            if known is None:
                try:
                    info = await sessions.get(event.session_id)
                except NotFoundError:  # deleted meanwhile: its payload is all we have
                    known = False
                else:
                    known = "source" in info.metadata
                imported_sessions[event.session_id] = known
            return known

        after: tuple[str, str, int] | None = None
        while True:
            rows = await sessions.assistant_events(since=since, after=after, limit=PAGE)
            for event, provider, session_model in rows:
                used = payloads.usage(event.payload)
                # Each answer's own model (a session can switch model between turns);
                # the session's only for answers that do not record theirs.
                turn_provider, turn_model = payloads.answered_by(event.payload)
                model = turn_model or session_model
                # An imported answer was produced by another tool: it never takes the
                # provider of the session's later live turns.
                from_elsewhere = await imported(event)
                provider = turn_provider if from_elsewhere else turn_provider or provider
                if args.by == "day":
                    key = event.created_at[:10]
                elif args.by == "model":
                    key = "/".join(p for p in (provider, model) if p) or "(unknown)"
                else:
                    key = event.session_id
                for bucket in (buckets.setdefault(key, Bucket(key)), total):
                    bucket.turns += 1
                    bucket.prompt += used.prompt
                    bucket.completion += used.completion
                    bucket.cached += used.cached
                    bucket.cache_written += used.cache_written
                    bucket.estimated += int(used.estimated)
                cost = _cost(settings, model, used)
                if cost is not None:
                    priced_any = True
                    for bucket in (buckets[key], total):
                        bucket.cost = (bucket.cost or 0.0) + cost
            if len(rows) < PAGE:
                break
            last = rows[-1][0]
            after = (last.created_at, last.session_id, last.seq)
    ordered = [buckets[k] for k in sorted(buckets)]
    out = utf8_stdout()
    if args.json:
        document = {
            "by": args.by,
            "since": since,
            "rows": [b.as_dict(args.by) for b in ordered],
            "total": total.as_dict("key"),
        }
        out.write(terminal_json(document, indent=2) + "\n")
        return 0
    if not ordered:
        out.write("no answers recorded" + (f" since {since}" if since else "") + "\n")
        return 0
    headings: tuple[str, ...] = (args.by.upper(), "ANSWERS", "PROMPT", "COMPLETION", "TOTAL")
    if priced_any:
        headings += ("COST",)
    lines = [_cells(b, priced_any) for b in [*ordered, total]]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headings)]
    out.write(_line(headings, widths) + "\n")
    for cells in lines[:-1]:
        out.write(_line(cells, widths) + "\n")
    out.write(_line(lines[-1], widths) + "\n")
    if total.estimated:
        have = "has" if total.estimated == 1 else "have"
        out.write(
            f"~ {plural(total.estimated, 'answer')} {have} estimated figures (no provider report)\n"
        )
    return 0


def _cells(bucket: Bucket, priced: bool) -> tuple[str, ...]:
    mark = "~" if bucket.estimated else ""
    cells: tuple[str, ...] = (
        safe_line(bucket.key, 40),
        str(bucket.turns),
        f"{mark}{bucket.prompt:,}",
        f"{mark}{bucket.completion:,}",
        f"{mark}{bucket.prompt + bucket.completion:,}",
    )
    if priced:
        cells += ("-" if bucket.cost is None else f"{bucket.cost:.4f}",)
    return cells


def _line(cells: tuple[str, ...], widths: list[int]) -> str:
    parts = [c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(cells)]
    return "  ".join(parts).rstrip()
