"""``turnkeep search`` on each database kind (embedded, sqld over ws and http)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from memory import EventDraft, MemoryBackend
from runtime import payloads
from runtime.payloads import searchable_text
from tests.conftest import FrozenClock
from tests.e2e.cli_support import Target, cli

HIT_KEYS = {"session_id", "seq", "kind", "title", "snippet", "at"}


async def plant(memory: MemoryBackend) -> None:
    """Two sessions; ``zanzibar`` said by the person in one, by the model in the other."""
    memory.use_search_text(searchable_text)
    clock = FrozenClock()
    await memory.create_session("s-one", title="Trip \x1b[31mplans")
    await memory.store(
        "s-one",
        [
            EventDraft("user", payloads.user("book zanzibar flights \x1b]0;x\x07 now")),
            EventDraft("tool_call", payloads.tool_call("c", "web_search", {"q": "ferry"})),
        ],
    )
    clock.advance(60)
    await memory.store("s-two", [EventDraft("assistant", payloads.assistant("Zanzibar is warm"))])


@pytest.fixture
def planted(target: Target) -> Target:
    target.using(plant)
    return target


def test_plain_output_marks_matches_and_neutralises_stored_text(
    planted: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(planted, capsys, "search", "zanzibar")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("Trip ␛[31mplans  ·  ") and lines[0].endswith("user  ·  s-one#1")
    assert "«zanzibar»" in lines[1] and "\x1b" not in out and "\x07" not in out
    assert lines[2].endswith("assistant  ·  s-two#1") and "«Zanzibar»" in lines[3]


def test_json_hits_and_filters(planted: Target, capsys: pytest.CaptureFixture[str]) -> None:
    def found(*argv: str) -> list[dict[str, Any]]:
        code, out, err = cli(planted, capsys, "search", *argv, "--json")
        assert code == 0, err
        hits: list[dict[str, Any]] = json.loads(out)
        return hits

    code, out, _ = cli(planted, capsys, "search", "zanzibar", "--json")
    hits = json.loads(out)
    assert code == 0 and [(h["session_id"], h["seq"], h["kind"]) for h in hits] == [
        ("s-one", 1, "user"),
        ("s-two", 1, "assistant"),
    ]
    assert all(set(h) >= HIT_KEYS for h in hits)
    assert hits[0]["title"] == "Trip \x1b[31mplans" and "\\u001b" in out
    assert hits[0]["snippet"].startswith("book «zanzibar»")
    assert [h["session_id"] for h in found("zanzibar", "--kind", "assistant")] == ["s-two"]
    tool = found("ferry", "--kind", "tool")
    assert [(h["kind"], h["snippet"]) for h in tool] == [
        ("tool_call", 'web_search {"q": "«ferry»"}')
    ]
    assert [h["session_id"] for h in found("zanzibar", "--session", "s-two")] == ["s-two"]
    assert len(found("zanzibar", "--limit", "1")) == 1
    assert found("zanzibar", "--since", "2099-01-01") == []
    assert [(h["kind"], h["seq"]) for h in found("plans")] == [("title", 0)]


def test_no_match_exits_0(planted: Target, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(planted, capsys, "search", "nothing-like-this") == (0, "", "")
    assert cli(planted, capsys, "search", '"(( AND NEAR', "--json") == (0, "[]\n", "")


def test_bad_since_is_a_usage_error(planted: Target, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(planted, capsys, "search", "x", "--since", "yesterday")
    assert code == 2 and "--since" in err


def test_whole_process(planted: Target) -> None:
    result = planted.run("search", "zanzibar", "--json")
    assert result.returncode == 0, result.stderr
    assert [h["session_id"] for h in json.loads(result.stdout)] == ["s-one", "s-two"]


def test_db_status_reports_the_search_index(
    planted: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(planted, capsys, "db", "status", "--json")
    assert code == 0
    index = json.loads(out)["search_index"]
    assert index["complete"] is True and index["pending_events"] == 0
    code, out, _ = cli(planted, capsys, "db", "status")
    assert code == 0 and "search index  complete" in out


async def many_saves(memory: MemoryBackend) -> None:
    """Forty save points (one new index segment each) holding ``numbat``."""
    memory.use_search_text(searchable_text)
    for n in range(40):
        await memory.store(f"s{n % 4}", [EventDraft("user", payloads.user(f"numbat {n}"))])


def test_db_tidy_merges_then_has_nothing_left(
    target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    target.using(many_saves)
    _, before, _ = cli(target, capsys, "search", "numbat", "--json", "--limit", "100")
    code, out, err = cli(target, capsys, "db", "tidy")
    assert code == 0, err
    assert out.startswith("search index: merged in ") and out.rstrip().endswith(" s)")
    code, out, err = cli(target, capsys, "db", "tidy", "--json")
    assert code == 0, err
    assert json.loads(out)["merged_steps"] == 0 and "seconds" in json.loads(out)
    _, after, _ = cli(target, capsys, "search", "numbat", "--json", "--limit", "100")
    assert len(json.loads(after)) == 40 and json.loads(after) == json.loads(before)
