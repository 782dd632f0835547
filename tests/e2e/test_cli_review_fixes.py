"""Black-box review findings 2, 4, 7 and 12, each as a user meets it: ``turnkeep`` run
as a separate process against a real database (a file, or the test session's sqld)."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from pathlib import Path

import pytest

from memory import EventDraft, MemoryBackend
from memory.records import TokenCount
from tests.e2e.cli_support import Target, turnkeep_process
from tests.importers.conftest import FIXTURES
from tests.support.sqld import free_port

CLAUDE_SESSION = "claude-code-7f2c1a9e-4b1d-4e0a-9c3e-1f2a3b4c5d6e"


def turnkeep(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return turnkeep_process(*args, env=env, timeout=180)


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


# -- finding 4: imported answers keep their own model after a live turn -------------------


def test_imported_answers_are_not_reported_under_the_live_provider(db: Path) -> None:
    ok(turnkeep("import", "claude-code", str(FIXTURES / "claude-code")))
    before = json.loads(ok(turnkeep("usage", "--by", "model", "--json")))["rows"]
    imported = {r["model"]: r["answers"] for r in before}
    assert imported.get("claude-sonnet-4-20250514", 0) >= 1
    ok(turnkeep("ask", "--provider", "scripted", "--session", CLAUDE_SESSION, "hello"))
    session = json.loads(ok(turnkeep("sessions", "list", "--json")))
    assert next(i for i in session if i["id"] == CLAUDE_SESSION)["provider"] == "scripted"
    after = json.loads(ok(turnkeep("usage", "--by", "model", "--json")))["rows"]
    rows = {r["model"]: r["answers"] for r in after}
    # The imported rows are unchanged; the live answers have a row of their own.
    assert {k: v for k, v in rows.items() if not k.startswith("scripted/")} == imported
    assert not any(k.startswith("scripted/claude") for k in rows), rows
    assert sum(v for k, v in rows.items() if k.startswith("scripted/")) >= 1
    # A fork of the imported session keeps reporting the copied answers nowhere again,
    # and its own live answer under the live provider.
    fork = ok(turnkeep("sessions", "fork", CLAUDE_SESSION)).strip()
    ok(turnkeep("ask", "--provider", "scripted", "--session", fork, "again"))
    final = {r["model"]: r["answers"] for r in json.loads(
        ok(turnkeep("usage", "--by", "model", "--json")))["rows"]}  # fmt: skip
    assert {k: v for k, v in final.items() if not k.startswith("scripted/")} == imported


async def _imported_without_payload_source(memory: MemoryBackend) -> None:
    """An import whose answers carry no ``source`` of their own (only the session says)."""
    source = {"tool": "llm", "id": "01j", "file": "/x/logs.db"}
    await memory.create_session("imp", provider="openai", metadata={"source": source})
    answer = {"role": "assistant", "content": "a", "model": "gpt-4o-mini"}
    answer["usage"] = {"prompt_tokens": 5, "completion_tokens": 1}
    await memory.store(
        "imp",
        [
            EventDraft("user", {"role": "user", "content": "q"}),
            EventDraft("assistant", answer, 1, TokenCount(5, 1)),
        ],
    )


def test_an_imported_session_labels_its_answers_with_their_own_model(target: Target) -> None:
    target.using(_imported_without_payload_source)
    rows, total = usage_rows(target, "model")
    assert (list(rows), total) == (["gpt-4o-mini"], 6)


# -- finding 7: out-of-range spans, dates and seqs are usage errors ----------------------

FAR_BACK = ["999999d", "9999999999d", "0001-01-01T00:00+14:00", "9" * 5000 + "d"]


@pytest.mark.parametrize(
    "command",
    [("search", "parser", "--since"), ("usage", "--since"), ("sessions", "prune", "--older-than")],
)
@pytest.mark.parametrize("value", FAR_BACK)
def test_a_time_out_of_range_is_a_one_line_usage_error(
    db: Path, command: tuple[str, ...], value: str
) -> None:
    result = turnkeep(*command, value)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("turnkeep: usage error: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "outside the dates turnkeep can store" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "command",
    [("search", "parser", "--since"), ("usage", "--since"), ("sessions", "prune", "--older-than")],
)
def test_every_time_option_reads_the_same_spans(db: Path, command: tuple[str, ...]) -> None:
    for value in ("30m", "45s", "12h", "7d", "2w", "2026-11-01", "2026-11-01T08:00+02:00"):
        result = turnkeep(*command, value)
        assert result.returncode == 0, (value, result.stderr)
    result = turnkeep(*command, "yesterday")
    assert result.returncode == 2 and "a span like 7d, 12h, 30m or 2w" in result.stderr


def test_fork_past_any_seq_is_a_usage_error_and_creates_nothing(target: Target) -> None:
    target.using(_answered)
    before = target.export_all()
    result = target.run("sessions", "fork", "u1", "--at", "99999999999999999999")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("turnkeep: usage error: ") and result.stdout == ""
    assert "no session has that many events" in result.stderr
    assert result.stderr.count("\n") == 1
    assert target.export_all() == before


# -- finding 12: smaller items --------------------------------------------------------


def test_a_fork_of_an_imported_session_is_not_an_import(db: Path) -> None:
    ok(turnkeep("import", "claude-code", str(FIXTURES / "claude-code")))
    fork = ok(turnkeep("sessions", "fork", CLAUDE_SESSION, "--at", "3")).strip()
    doc = json.loads(ok(turnkeep("sessions", "export", CLAUDE_SESSION, fork)))
    meta = {s["id"]: s["metadata"] for s in doc["sessions"]}
    original, forked = meta[CLAUDE_SESSION], meta[fork]
    assert original["source"]["tool"] == "claude-code"
    assert "source" not in forked
    assert forked == {k: v for k, v in original.items() if k != "source"}


def test_fork_title_is_limited_like_rename(target: Target) -> None:
    target.using(_answered)
    before = target.export_all()
    result = target.run("sessions", "fork", "u1", "--title", "F" * 501)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("turnkeep: usage error: ")
    assert "at most 500 characters" in result.stderr
    assert target.export_all() == before
    renamed = target.run("sessions", "rename", "u1", "F" * 501)
    assert renamed.returncode == 2 and "at most 500 characters" in renamed.stderr
    fork = ok(target.run("sessions", "fork", "u1", "--title", "F" * 500)).strip()
    listed = {i["id"]: i for i in json.loads(ok(target.run("sessions", "list", "--json")))}
    assert listed[fork]["title"] == "F" * 500


def test_counts_are_spelled_in_the_singular_for_one(target: Target) -> None:
    async def one(memory: MemoryBackend) -> None:
        await memory.store("one", [EventDraft("user", {"role": "user", "content": "q"})])

    target.using(one)
    result = target.run("sessions", "fork", "one")
    assert result.returncode == 0, result.stderr
    assert "(1 event):" in result.stderr and "1 events" not in result.stderr
    plan = ok(target.run("sessions", "prune", "--older-than", "2999-01-01"))
    # The session and its fork, one event each.
    assert "2 sessions (2 events) match" in plan and plan.count("  1 event  ") == 2
    assert "1 events" not in plan


def test_a_leading_hash_is_dropped_from_tags(target: Target) -> None:
    target.using(_answered)
    assert ok(target.run("sessions", "tag", "u1", "#hash", "plain")) == "tags of u1: hash, plain\n"
    for spelled in ("#hash", "hash"):
        listed = json.loads(ok(target.run("sessions", "list", "--json", "--tag", spelled)))
        assert [(i["id"], i["tags"]) for i in listed] == [("u1", ["hash", "plain"])]
    assert ok(target.run("sessions", "untag", "u1", "#hash")) == "tags of u1: plain\n"
    refused = target.run("sessions", "tag", "u1", "#")
    assert refused.returncode == 2 and "must not be empty" in refused.stderr


@pytest.mark.parametrize(
    "argv",
    [("--debug", "search", "x"), ("search", "x", "--debug"), ("sessions", "list", "--debug")],
)
def test_debug_anywhere_shows_the_traceback_and_keeps_the_exit_code(
    argv: tuple[str, ...],
) -> None:
    port = free_port()  # nothing listens there
    result = turnkeep(*argv, env={"TURNKEEP_DB__URL": f"ws://127.0.0.1:{port}"})
    assert result.returncode == 3, result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith("turnkeep: Cannot open the database: cannot reach")
    plain = turnkeep(*[a for a in argv if a != "--debug"],
                     env={"TURNKEEP_DB__URL": f"ws://127.0.0.1:{port}"})  # fmt: skip
    assert plain.returncode == 3 and plain.stderr.count("\n") == 1
    assert plain.stderr.splitlines()[-1] == last


def test_debug_after_the_command_runs_it(db: Path) -> None:
    assert turnkeep("sessions", "list", "--debug").returncode == 0
    assert "--debug" in ok(turnkeep("search", "--help"))


def test_list_help_names_every_json_key(target: Target) -> None:
    target.using(_answered)
    keys = set(json.loads(ok(target.run("sessions", "list", "--json")))[0])
    words = set(re.findall(r"[a-z_]+", ok(target.run("sessions", "list", "--help"))))
    assert keys <= words, keys - words


def test_untag_removes_a_tag_stored_with_a_hash_earlier(target: Target) -> None:
    async def legacy(memory: MemoryBackend) -> None:
        await memory.store("old", [EventDraft("user", {"role": "user", "content": "q"})])
        (record,) = [s async for s in memory.export_sessions()]
        await memory.forget_many(["old"])
        await memory.import_sessions([dataclasses.replace(record, tags=("#old", "x"))])

    target.using(legacy)
    assert ok(target.run("sessions", "untag", "old", "#old")) == "tags of old: x\n"
