"""Black-box review findings, each as a user meets it: ``turnkeep`` run
as a separate process against a real database (a file, or the test session's sqld)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from memory import EventDraft, MemoryBackend
from memory.records import TokenCount
from tests.e2e.cli_support import Target


def turnkeep(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


# -- finding 2: forks do not count the same answers again ---------------------------------


async def _answered(memory: MemoryBackend) -> None:
    await memory.create_session("u1", provider="openai", model="gpt-4o-mini")
    for prompt in (1000, 2000):
        usage = {"prompt_tokens": prompt, "completion_tokens": 10}
        await memory.store(
            "u1",
            [
                EventDraft("user", {"role": "user", "content": "q"}),
                EventDraft(
                    "assistant",
                    {"role": "assistant", "content": "a", "usage": usage},
                    1,
                    TokenCount(prompt, 10),
                ),
            ],
        )


def usage_rows(target: Target, by: str) -> tuple[dict[str, dict[str, int]], int]:
    doc = json.loads(ok(target.run("usage", "--by", by, "--json")))
    return {r[by]: r for r in doc["rows"]}, doc["total"]["total_tokens"]


def test_usage_counts_an_answer_once_however_often_it_is_forked(target: Target) -> None:
    target.using(_answered)
    before, total = usage_rows(target, "session")
    assert total == 3020 and list(before) == ["u1"]
    whole = ok(target.run("sessions", "fork", "u1")).strip()
    half = ok(target.run("sessions", "fork", "u1", "--at", "2")).strip()
    rows, after = usage_rows(target, "session")
    assert after == total and list(rows) == ["u1"]
    # The forks' own totals still describe their content.
    listed = {i["id"]: i for i in json.loads(ok(target.run("sessions", "list", "--json")))}
    assert (listed[whole]["total_tokens"], listed[half]["total_tokens"]) == (3020, 1010)
    # A fork's own answer is counted, under the fork.
    result = target.run("ask", "--provider", "scripted", "--session", half, "hello")
    assert result.returncode == 0, result.stderr
    rows, after = usage_rows(target, "session")
    assert set(rows) == {"u1", half} and rows["u1"]["total_tokens"] == 3020
    assert after == 3020 + rows[half]["total_tokens"] and rows[half]["answers"] >= 1
