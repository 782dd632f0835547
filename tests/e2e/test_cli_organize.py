"""``turnkeep sessions fork/pin/archive/tag/prune``, ``list --archived/--tag`` and
``turnkeep usage``, against the embedded file and a real sqld over ws and http.

Bad input must exit with a clear one-line error and change nothing: each such case
compares a full export before and after.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from memory import EventDraft, MemoryBackend, parse_bundle
from memory.records import TokenCount
from tests.e2e.cli_support import Target, cli

ORGANIZE_KEYS = {
    "pinned",
    "archived",
    "tags",
    "forked_from",
    "forked_at_seq",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "tokens_estimated",
}


def listed(target: Target, capsys: pytest.CaptureFixture[str], *extra: str) -> list[str]:
    code, out, err = cli(target, capsys, "sessions", "list", "--json", *extra)
    assert (code, err) == (0, ""), err
    return [item["id"] for item in json.loads(out)]


def test_fork_prints_the_new_id_and_keeps_the_original(
    target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    target.seed()
    before = target.export_all()
    code, out, err = cli(target, capsys, "sessions", "fork", "s-tools", "--at", "4")
    assert code == 0, err
    fork_id = out.strip()
    assert out == fork_id + "\n" and fork_id not in ("s-tools", "")
    assert "forked s-tools at seq 4" in err

    after = {s.id: s for s in parse_bundle(target.export_all())}
    original = {s.id: s for s in parse_bundle(before)}
    assert after["s-tools"] == original["s-tools"]
    fork = after[fork_id]
    assert fork.events == original["s-tools"].events[:4]
    assert (fork.forked_from, fork.forked_at_seq, fork.title) == (
        "s-tools",
        4,
        "Fork of Refactor the parser ✓",
    )

    code, out, err = cli(target, capsys, "sessions", "show", fork_id)
    assert code == 0 and "forked from s-tools at seq 4" in out
    # A fork of the fork, with a title; the JSON list shows the lineage.
    code, out, err = cli(target, capsys, "sessions", "fork", fork_id, "--title", "Again")
    assert code == 0, err
    again = out.strip()
    code, out, _ = cli(target, capsys, "sessions", "list", "--json")
    item = next(i for i in json.loads(out) if i["id"] == again)
    assert (item["forked_from"], item["forked_at_seq"], item["title"]) == (fork_id, 4, "Again")
    assert set(item) >= ORGANIZE_KEYS


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (("sessions", "fork", "nope"), 1, "Session not found"),
        (("sessions", "fork", "s-tools", "--at", "7"), 2, "it has 6 events"),
        (("sessions", "fork", "s-tools", "--at", "-1"), 2, "--at must be"),
        (("sessions", "fork", "s-tools", "--at", "0"), 2, "--at must be"),
        (("sessions", "fork", "s-empty", "--at", "1"), 2, "it has 0 events"),
        (("sessions", "fork", "s-tools", "--at", "x"), 2, "invalid int value"),
        (("sessions", "pin", "nope"), 1, "Session not found"),
        (("sessions", "archive", "nope"), 1, "Session not found"),
        (("sessions", "tag", "nope", "x"), 1, "Session not found"),
        (("sessions", "tag", "s-tools", ""), 2, "must not be empty"),
        (("sessions", "tag", "s-tools", "ok", "two words"), 2, "whitespace"),
        (("sessions", "tag", "s-tools", "[bold]red"), 2, "markup"),
        (("sessions", "untag", "s-tools", "a]"), 2, "markup"),
        (("sessions", "tag", "s-tools", "x" * 65), 2, "longer than 64"),
        (("sessions", "tag", "s-tools", "bell\x07"), 2, "control character"),
        (("sessions", "list", "--tag", "two words"), 2, "whitespace"),
        (("sessions", "prune"), 2, "say what to prune"),
        (("sessions", "prune", "--older-than", "soon"), 2, "--older-than expects"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    target: Target,
    capsys: pytest.CaptureFixture[str],
    argv: tuple[str, ...],
    code: int,
    message: str,
) -> None:
    target.seed()
    before = target.export_all()
    got, out, err = cli(target, capsys, *argv)
    assert got == code, (out, err)
    assert message in err and err.count("\n") == 1, err
    assert "\x07" not in err
    assert target.export_all() == before


def test_pins_lead_archive_hides_and_tags_filter(
    target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    target.seed()
    assert listed(target, capsys) == ["s-empty", "s-plain", "s-tools"]
    code, out, _ = cli(target, capsys, "sessions", "pin", "s-tools")
    assert (code, out) == (0, "pinned s-tools\n")
    assert listed(target, capsys) == ["s-tools", "s-empty", "s-plain"]
    code, out, _ = cli(target, capsys, "sessions", "list")
    assert out.splitlines()[1].startswith("s-tools") and "[pinned]" in out.splitlines()[1]

    code, out, _ = cli(target, capsys, "sessions", "archive", "s-plain")
    assert code == 0 and out.startswith("archived s-plain")
    assert listed(target, capsys) == ["s-tools", "s-empty"]
    assert listed(target, capsys, "--archived") == ["s-plain"]
    code, out, _ = cli(target, capsys, "sessions", "show", "s-plain")
    assert code == 0 and "lunch?" in out  # archived sessions stay readable
    code, out, _ = cli(target, capsys, "sessions", "unarchive", "s-plain")
    assert (code, out) == (0, "restored s-plain\n")
    assert listed(target, capsys, "--archived") == []
    code, _, _ = cli(target, capsys, "sessions", "unpin", "s-tools")
    assert listed(target, capsys) == ["s-empty", "s-plain", "s-tools"]

    code, out, _ = cli(target, capsys, "sessions", "tag", "s-tools", " work ", "parser")
    assert (code, out) == (0, "tags of s-tools: parser, work\n")
    cli(target, capsys, "sessions", "tag", "s-plain", "work")
    assert listed(target, capsys, "--tag", "work") == ["s-plain", "s-tools"]
    assert listed(target, capsys, "--tag", "work", "--tag", "parser") == ["s-tools"]
    code, out, _ = cli(target, capsys, "sessions", "list", "--tag", "nothing")
    assert (code, out) == (0, "no sessions with tag 'nothing'\n")
    code, out, _ = cli(target, capsys, "sessions", "untag", "s-tools", "work")
    assert (code, out) == (0, "tags of s-tools: parser\n")
    code, out, _ = cli(target, capsys, "sessions", "list", "--json")
    tools = next(i for i in json.loads(out) if i["id"] == "s-tools")
    assert (tools["tags"], tools["pinned"], tools["archived"]) == (["parser"], False, False)


def test_prune_plans_then_backs_up_and_deletes(
    target: Target, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target.seed()
    cli(target, capsys, "sessions", "archive", "s-plain")
    before = target.export_all()
    code, out, err = cli(target, capsys, "sessions", "prune", "--empty")
    assert code == 0, err
    assert "1 session (0 events) match" in out and "s-empty" in out
    assert "nothing was changed" in out
    code, out, _ = cli(
        target, capsys, "sessions", "prune", "--archived", "--older-than", "2000-01-01"
    )
    assert code == 0 and "nothing to prune" in out
    assert target.export_all() == before

    code, out, err = cli(target, capsys, "sessions", "prune", "--archived", "--yes")
    assert code == 0, err
    assert "deleted 1 session (1 event)" in out
    backup = Path(out.split("backup: ", 1)[1].split()[0].rstrip(";"))
    assert backup.is_file()
    assert listed(target, capsys, "--archived") == []
    remaining = {s.id for s in parse_bundle(target.export_all())}
    assert remaining == {"s-tools", "s-empty"}
    if target.db_path is not None:
        assert backup.parent == target.db_path.parent
        with sqlite3.connect(backup) as conn:
            assert conn.execute("SELECT count(*) FROM sessions").fetchone() == (3,)
        conn.close()
    else:
        (saved,) = parse_bundle(backup.read_bytes())
        assert saved.id == "s-plain" and saved.archived_at is not None
        code, out, err = cli(target, capsys, "sessions", "import", str(backup))
        assert code == 0, err
        assert listed(target, capsys, "--archived") == ["s-plain"]


async def _answers(memory: MemoryBackend) -> None:
    await memory.create_session("u1", provider="openai", model="gpt-4o-mini")
    await memory.create_session("u2", provider="local", model="tiny")
    for session_id, usage, tokens in (
        ("u1", {"prompt_tokens": 1000, "completion_tokens": 500}, TokenCount(1000, 500)),
        ("u1", {"prompt_tokens": 2000, "completion_tokens": 100}, TokenCount(2000, 100)),
        (
            "u2",
            {"prompt_tokens": 10, "completion_tokens": 5, "estimated": True},
            TokenCount(10, 5, True),
        ),
    ):
        await memory.store(
            session_id,
            [
                EventDraft("user", {"role": "user", "content": "q"}),
                EventDraft(
                    "assistant", {"role": "assistant", "content": "a", "usage": usage}, 1, tokens
                ),
            ],
        )


def test_usage_totals_by_session_model_and_day_with_prices(
    target: Target,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target.using(_answers)
    config = tmp_path / "config.toml"
    config.write_text('[prices."gpt-4o-mini"]\nprompt = 0.15\ncompletion = 0.6\n')
    monkeypatch.setenv("TURNKEEP_CONFIG", str(config))
    code, out, err = cli(target, capsys, "usage", "--by", "session", "--json")
    assert code == 0, err
    doc = json.loads(out)
    rows = {r["session"]: r for r in doc["rows"]}
    assert (rows["u1"]["prompt_tokens"], rows["u1"]["completion_tokens"]) == (3000, 600)
    assert rows["u1"]["cost"] == pytest.approx((3000 * 0.15 + 600 * 0.6) / 1e6)
    assert rows["u2"]["cost"] is None and rows["u2"]["estimated_answers"] == 1
    assert doc["total"]["total_tokens"] == 3615

    code, out, _ = cli(target, capsys, "usage", "--by", "model")
    assert code == 0
    assert "openai/gpt-4o-mini" in out and "~15" in out and "COST" in out
    code, out, _ = cli(target, capsys, "usage", "--since", "2099-01-01")
    assert (code, out) == (0, "no answers recorded since 2099-01-01T00:00:00.000000Z\n")
    code, out, _ = cli(target, capsys, "sessions", "list", "--json")
    u1 = next(i for i in json.loads(out) if i["id"] == "u1")
    assert (u1["prompt_tokens"], u1["completion_tokens"], u1["tokens_estimated"]) == (
        3000,
        600,
        False,
    )
    code, _, err = cli(target, capsys, "usage", "--since", "yesterday-ish")
    assert code == 2 and "--since expects" in err


def test_fork_subprocess_black_box(target: Target, tmp_path: Path) -> None:
    target.seed()
    result = target.run("sessions", "fork", "s-tools", "--at", "2")
    assert result.returncode == 0, result.stderr
    fork_id = result.stdout.strip()
    listing = target.run("sessions", "list", "--json")
    ids = [i["id"] for i in json.loads(listing.stdout)]
    assert ids[0] == fork_id

    async def events(memory: MemoryBackend) -> int:
        return len(await memory.recall(fork_id))

    assert target.using(events) == 2


async def _question_and_answer(
    memory: MemoryBackend, session_id: str, answer: dict[str, object], tokens: TokenCount
) -> None:
    """Store a question and ``answer`` (with its token counts) as one turn."""
    await memory.store(
        session_id,
        [
            EventDraft("user", {"role": "user", "content": "q"}),
            EventDraft("assistant", answer, 1, tokens),
        ],
    )


async def _switched_model(memory: MemoryBackend) -> None:
    """One session that changed model between turns (the session row names the last)."""
    await memory.create_session("sw", provider="openai", model="gpt-4o")
    for model, prompt in (("gpt-4o-mini", 100), ("gpt-4o", 7), (None, 1)):
        answer: dict[str, object] = {
            "role": "assistant",
            "content": "a",
            "usage": {"prompt_tokens": prompt, "completion_tokens": 0},
        }
        if model is not None:
            answer |= {"provider": "openai", "model": model}
        await _question_and_answer(memory, "sw", answer, TokenCount(prompt, 0))


def test_usage_by_model_counts_each_answer_under_its_own_model(
    target: Target,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target.using(_switched_model)
    config = tmp_path / "config.toml"
    config.write_text('[prices."gpt-4o-mini"]\nprompt = 1.0\ncompletion = 1.0\n')
    monkeypatch.setenv("TURNKEEP_CONFIG", str(config))
    code, out, err = cli(target, capsys, "usage", "--by", "model", "--json")
    assert code == 0, err
    rows = {r["model"]: r for r in json.loads(out)["rows"]}
    # The answer without a recorded model falls back to the session's.
    assert {k: v["prompt_tokens"] for k, v in rows.items()} == {
        "openai/gpt-4o-mini": 100,
        "openai/gpt-4o": 8,
    }
    assert rows["openai/gpt-4o-mini"]["cost"] == pytest.approx(100 / 1e6)
    assert rows["openai/gpt-4o"]["cost"] is None


async def _cached_answers(memory: MemoryBackend) -> None:
    """Two answers of one model, most of their prompt read from the provider's cache,
    part of it written to the cache."""
    await memory.create_session("c1", provider="openai", model="claude-sonnet-4")
    for prompt, cached, written in ((10_000, 9_000, 500), (2_000, 0, 1_500)):
        usage = {"prompt_tokens": prompt, "completion_tokens": 100, "cached_tokens": cached}
        answer = {
            "role": "assistant",
            "content": "a",
            "model": "claude-sonnet-4",
            "usage": {**usage, "cache_write_tokens": written},
        }
        await _question_and_answer(memory, "c1", answer, TokenCount(prompt, 100))


def test_usage_prices_cached_prompt_tokens_at_their_own_price(
    target: Target,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target.using(_cached_answers)
    config = tmp_path / "config.toml"
    monkeypatch.setenv("TURNKEEP_CONFIG", str(config))
    full = '[prices."claude-sonnet-4"]\nprompt = 3.0\ncompletion = 15.0\n'
    for text, expected in (
        # Without a cache price, cached tokens cost the prompt price.
        (full, (12_000 * 3.0 + 200 * 15.0) / 1e6),
        (full + "cached_prompt = 0.3\n", (3_000 * 3.0 + 9_000 * 0.3 + 200 * 15.0) / 1e6),
        (
            full + "cached_prompt = 0.3\ncache_write = 3.75\n",
            (1_000 * 3.0 + 9_000 * 0.3 + 2_000 * 3.75 + 200 * 15.0) / 1e6,
        ),
    ):
        config.write_text(text)
        code, out, err = cli(target, capsys, "usage", "--by", "model", "--json")
        assert code == 0, err
        (row,) = json.loads(out)["rows"]
        assert row["prompt_tokens"] == 12_000
        assert (row["cached_tokens"], row["cache_write_tokens"]) == (9_000, 2_000)
        assert row["cost"] == pytest.approx(expected)
    for bad in ("cached_prompt = -1\n", "cache_write = -1\n"):
        config.write_text(full + bad)
        code, _, err = cli(target, capsys, "usage")
        assert code == 2 and bad.split()[0] in err
