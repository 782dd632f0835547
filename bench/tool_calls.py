"""How well a local GGUF model calls tools and answers: the figures behind the default model.

Usage::

    .venv/bin/python -m bench.tool_calls [--model PATH] [--chat-format NAME]
        [--only tools|answers] [--out FILE]

Runs the real ``local`` provider (xllamacpp) on the fixed prompt sets of
:mod:`bench.tool_prompts`, at temperature 0, with the tools turnkeep offers
(``current_time``, ``calculator``, ``search_sessions``):

- **tool-worthy prompts** (54): a *well-formed call* is one tool call whose name is an
  offered tool and whose arguments pass the tool's schema check; a *right call* is the
  expected tool with the right arguments (the calculator expression evaluates to the
  expected value; the search query contains an expected word).
- **control prompts** (24): any call is a *false call*.
- **answers** (20, no tools): correct when an accepted word appears as a whole word; plus
  answers that hit the token limit or repeat a phrase three times running, tokens per
  second over the answers, the model's load time and file size.

Nothing is asserted; the table goes to stdout and the figures to ``--out`` (JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.tool_prompts import ANSWERS, CALCULATOR, CONTROL, SEARCH
from runtime.calculator import evaluate
from runtime.errors import RuntimeLayerError
from runtime.providers.base import ChatRequest, StreamEnd, TextChunk, ToolCallChunk
from runtime.providers.local import LocalProvider
from runtime.repetition import repeats_three_times
from runtime.tools import ToolRegistry, check_arguments, default_tools

SYSTEM = "You are a helpful assistant."
ANSWER_TOKENS = 128
#: Tokens allowed on the tool and control prompts (a call, JSON included, fits): a call
#: comes first or not at all, so a longer text answer would change no figure (and would
#: cost minutes on a loaded machine).
DECISION_TOKENS = 48


@dataclass
class Figures:
    """What one model scored."""

    model: str
    chat_format: str | None
    size_mib: float
    load_s: float = 0.0
    tool_prompts: int = 0
    well_formed: int = 0
    right: int = 0
    control_prompts: int = 0
    false_calls: int = 0
    answers: int = 0
    correct: int = 0
    hit_limit: int = 0
    triple_repeats: int = 0
    answer_tokens: int = 0
    answer_seconds: float = 0.0
    misses: list[str] = field(default_factory=list)

    @property
    def tokens_per_s(self) -> float:
        """Generated tokens per second over the answer set."""
        return self.answer_tokens / self.answer_seconds if self.answer_seconds else 0.0


async def _run(
    provider: LocalProvider, prompt: str, tools: list[dict[str, Any]], max_tokens: int
) -> tuple[str, list[ToolCallChunk], StreamEnd]:
    request = ChatRequest(
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}],
        tools=tools,
        tool_choice="auto" if tools else None,
        max_tokens=max_tokens,
        temperature=0,
    )
    text: list[str] = []
    calls: list[ToolCallChunk] = []
    end = StreamEnd()
    async for chunk in provider.stream(request):
        if isinstance(chunk, TextChunk):
            text.append(chunk.text)
        elif isinstance(chunk, ToolCallChunk):
            calls.append(chunk)
        else:
            end = chunk
    return "".join(text), calls, end


def well_formed(registry: ToolRegistry, calls: list[ToolCallChunk]) -> bool:
    """One call, to an offered tool, whose arguments are a JSON object passing its schema."""
    if len(calls) != 1 or calls[0].arguments_error or calls[0].name not in registry:
        return False
    try:
        check_arguments(registry.get(calls[0].name), calls[0].arguments)
    except RuntimeLayerError:
        return False
    return True


def calculator_right(call: ToolCallChunk, value: float) -> bool:
    """The call is the calculator's and its expression evaluates to ``value``."""
    if call.name != "calculator":
        return False
    try:
        got = float(evaluate(str(call.arguments.get("expression", ""))))
    except (RuntimeLayerError, TypeError, ValueError, OverflowError):
        return False
    return math.isclose(got, value, rel_tol=1e-9, abs_tol=1e-9)


def search_right(call: ToolCallChunk, words: tuple[str, ...]) -> bool:
    """The call is search_sessions' and its query contains one of ``words``."""
    query = str(call.arguments.get("query", "")).lower()
    return call.name == "search_sessions" and any(word in query for word in words)


def answer_correct(text: str, accepted: tuple[str, ...]) -> bool:
    """An accepted answer appears in ``text`` as a whole word (case-insensitive)."""
    lowered = text.lower()
    return any(re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", lowered) for word in accepted)


async def measure(model: Path | None, chat_format: str | None, only: str | None) -> Figures:
    """Run the prompt sets on one model."""
    provider = LocalProvider(model, chat_format=chat_format, context_window=2048)
    figures = Figures(
        model=provider.model,
        chat_format=provider.chat_format,
        size_mib=provider.model_path.stat().st_size / 2**20,
    )
    started = time.perf_counter()
    await provider.load()
    figures.load_s = time.perf_counter() - started
    registry = default_tools()
    tools = registry.specs() if provider.supports_tools else []
    try:
        if only in (None, "tools"):
            for calc in CALCULATOR:
                _, calls, _ = await _run(provider, calc.prompt, tools, DECISION_TOKENS)
                formed = well_formed(registry, calls)
                right = formed and calculator_right(calls[0], calc.value)
                _count(figures, calc.prompt, calls, formed, right)
            for search in SEARCH:
                _, calls, _ = await _run(provider, search.prompt, tools, DECISION_TOKENS)
                formed = well_formed(registry, calls)
                right = formed and search_right(calls[0], search.words)
                _count(figures, search.prompt, calls, formed, right)
            for prompt in CONTROL:
                _, calls, _ = await _run(provider, prompt, tools, DECISION_TOKENS)
                figures.control_prompts += 1
                print(f"{'FALSE' if calls else 'ok '} {prompt}", file=sys.stderr, flush=True)
                if calls:
                    figures.false_calls += 1
                    figures.misses.append(f"false call: {prompt!r} -> {_show(calls)}")
        if only in (None, "answers"):
            for answer in ANSWERS:
                started = time.perf_counter()
                text, _, end = await _run(provider, answer.prompt, [], ANSWER_TOKENS)
                figures.answer_seconds += time.perf_counter() - started
                figures.answers += 1
                figures.answer_tokens += int(end.usage.get("completion_tokens", 0))
                figures.correct += answer_correct(text, answer.accepted)
                figures.hit_limit += int(end.usage.get("completion_tokens", 0)) >= ANSWER_TOKENS
                figures.triple_repeats += repeats_three_times(text)
                print(f"answer {answer.prompt} -> {text[:60]!r}", file=sys.stderr, flush=True)
                if not answer_correct(text, answer.accepted):
                    figures.misses.append(f"wrong answer: {answer.prompt!r} -> {text[:80]!r}")
    finally:
        await provider.close()
    return figures


def _show(calls: list[ToolCallChunk]) -> str:
    return "; ".join(f"{c.name}({c.raw_arguments})" for c in calls)


def _count(
    figures: Figures, prompt: str, calls: list[ToolCallChunk], formed: bool, right: bool
) -> None:
    print(f"{'ok ' if right else 'MISS'} {prompt} -> {_show(calls)}", file=sys.stderr, flush=True)
    figures.tool_prompts += 1
    figures.well_formed += formed
    figures.right += right
    if not right:
        figures.misses.append(
            f"{'wrong call' if calls else 'no call'}: {prompt!r} -> {_show(calls)}"
        )


def _pct(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.0f}%)" if whole else "-"


def table(figures: Figures) -> str:
    """The figures as a Markdown table."""
    rows = [
        ("model", f"{figures.model} ({figures.chat_format or 'own template'})"),
        ("size", f"{figures.size_mib:.0f} MiB"),
        ("load", f"{figures.load_s:.2f} s"),
        ("well-formed calls, tool-worthy prompts", _pct(figures.well_formed, figures.tool_prompts)),
        ("right tool and arguments", _pct(figures.right, figures.tool_prompts)),
        ("false calls, control prompts", _pct(figures.false_calls, figures.control_prompts)),
        ("answers correct (strict)", _pct(figures.correct, figures.answers)),
        (
            f"answers hitting the {ANSWER_TOKENS}-token limit",
            _pct(figures.hit_limit, figures.answers),
        ),
        ("answers with a triple repeat", _pct(figures.triple_repeats, figures.answers)),
        ("tokens/s (answers)", f"{figures.tokens_per_s:.1f}"),
    ]
    lines = ["| measure | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure one model and print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.tool_calls", description=__doc__)
    parser.add_argument("--model", type=Path, default=None, help="GGUF file (default model)")
    parser.add_argument("--chat-format", default=None, help="as TURNKEEP_AGENT__CHAT_FORMAT")
    parser.add_argument("--only", choices=("tools", "answers"), default=None)
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args(argv)
    figures = asyncio.run(measure(args.model, args.chat_format, args.only))
    print(table(figures))
    for miss in figures.misses:
        print(f"  {miss}")
    if args.out is not None:
        record = asdict(figures) | {"tokens_per_s": figures.tokens_per_s}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
