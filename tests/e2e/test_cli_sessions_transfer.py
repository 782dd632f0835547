"""``turnkeep sessions export`` / ``import`` against the embedded file and a real sqld."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memory import EventDraft, MemoryBackend
from tests.e2e.cli_support import SEEDED, Target, cli
from tui.cli import main


def forget_all(target: Target) -> None:
    async def forget(memory: MemoryBackend) -> None:
        for session_id in SEEDED:
            await memory.forget(session_id)
        assert await memory.count_sessions() == 0

    target.using(forget)


def test_export_import_export_is_byte_identical(
    target: Target, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    target.seed()
    first = tmp_path / "first.json"
    code, out, err = cli(target, capsys, "sessions", "export", "--all", "-o", str(first))
    assert (code, out, err) == (0, "", f"exported 3 sessions to {first}\n")
    assert first.stat().st_mode & 0o777 == 0o600
    doc = json.loads(first.read_text(encoding="utf-8"))
    assert (doc["format"], doc["version"]) == ("turnkeep.sessions", 2)
    assert [s["id"] for s in doc["sessions"]] == sorted(SEEDED)
    tools = doc["sessions"][2]
    assert [e["seq"] for e in tools["events"]] == [1, 2, 3, 4, 5, 6]
    assert tools["states"] == [{"seq": 6, "created_at": tools["states"][0]["created_at"],
                                "state": {"cursor": 6}}]  # fmt: skip
    # Standard output carries the same bytes, black box too.
    _, out, _ = cli(target, capsys, "sessions", "export", "--all")
    assert out == first.read_text(encoding="utf-8")
    done = target.run("sessions", "export", *SEEDED)
    assert (done.returncode, done.stdout) == (0, out)

    forget_all(target)
    code, out, _ = cli(target, capsys, "sessions", "import", str(first))
    assert (code, out) == (0, "imported 3 sessions (7 events)\n")
    second = tmp_path / "second.json"
    assert cli(target, capsys, "sessions", "export", "--all", "-o", str(second))[0] == 0
    assert second.read_bytes() == first.read_bytes()


def test_import_twice_conflict_and_as_new(
    target: Target, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    target.seed()
    exported = tmp_path / "sessions.json"
    assert cli(target, capsys, "sessions", "export", "--all", "-o", str(exported))[0] == 0
    before = target.export_all()
    for _ in range(2):
        code, out, _ = cli(target, capsys, "sessions", "import", str(exported))
        assert (code, out) == (
            0,
            "imported 0 sessions (0 events); 3 already present and unchanged\n",
        )
    assert target.export_all() == before

    async def move_on(memory: MemoryBackend) -> None:
        await memory.store("s-plain", [EventDraft("assistant", {"content": "noodles"}, 1)])

    target.using(move_on)
    before = target.export_all()
    code, out, err = cli(target, capsys, "sessions", "import", str(exported))
    assert (code, out) == (1, "")
    assert err.count("\n") == 1
    assert err.startswith("turnkeep: Import conflict: session 's-plain' already exists")
    assert "--as-new" in err
    assert target.export_all() == before

    code, out, _ = cli(target, capsys, "sessions", "import", "--as-new", str(exported))
    assert code == 0
    lines = out.splitlines()
    assert lines[-1] == "imported 3 sessions (7 events)"
    mapping = dict(line.removeprefix("imported ").split(" as ") for line in lines[:-1])
    assert set(mapping) == set(SEEDED)
    _, out, _ = cli(target, capsys, "sessions", "show", mapping["s-plain"], "--json")
    assert [json.loads(line)["payload"] for line in out.splitlines()] == [{"content": "lunch?"}]
    _, out, _ = cli(target, capsys, "sessions", "list", "--all", "--json")
    assert len(json.loads(out)) == 6


def _break(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def test_malformed_files_are_rejected_naming_the_problem_and_nothing_is_written(
    target: Target, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    target.seed()
    good = target.export_all()
    # Every case also brings a session this database does not have, so an import that
    # wrote anything at all would show.
    fresh = _break(good, '"id": "s-empty"', '"id": "s-new"')
    truncated = fresh[: len(fresh) // 2]
    cases = {
        "truncated": (truncated, f"line {truncated.count(chr(10)) + 1} column"),
        "wrong-type": (
            _break(fresh, '{"seq": 2, "turn": 1', '{"seq": "2", "turn": 1'),
            "sessions[2].events[1].seq: expected an integer, got a string",
        ),
        "late-field": (
            _break(fresh, '"kind": "assistant"', '"kind": 5'),
            "sessions[2].events[3].kind: expected a string, got a number",
        ),
        "bad-version": (
            _break(fresh, '"version": 2', '"version": 99'),
            "version: unsupported version 99",
        ),
        "not-json": ("this is not an export\n", "line 1 column 1"),
    }
    before = target.export_all()
    for name, (text, fragment) in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(text, encoding="utf-8")
        code, out, err = cli(target, capsys, "sessions", "import", str(path))
        assert (code, out) == (1, ""), name
        assert err.count("\n") == 1, name
        assert err.startswith("turnkeep: Invalid export file: "), name
        assert fragment in err, (name, err)
        assert target.export_all() == before, name
    with open(tmp_path / "truncated.json", "rb") as stdin:
        done = target.run("sessions", "import", "-", stdin=stdin)
    assert done.returncode == 1 and "looks truncated" in done.stderr
    code, _, err = cli(target, capsys, "sessions", "import", str(tmp_path / "missing.json"))
    assert code == 2 and "does not exist" in err
    assert target.export_all() == before


def test_markdown_export(target: Target, capsys: pytest.CaptureFixture[str]):
    target.seed()
    code, out, err = cli(target, capsys, "sessions", "export", "s-tools", "--format", "markdown")
    assert (code, err) == (0, "")
    assert out.startswith("# Refactor the parser ✓\n")
    assert "- Session: `s-tools`" in out and "- Model: scripted / m1" in out
    assert out.index("## Turn 1") < out.index("## Turn 2")
    assert '**Tool call** `calculator (c1)`\n\n```json\n{\n  "expression": "2+2"\n}\n```' in out
    assert "**Tool result** `calculator (c1)`\n\n```\n4\n```" in out
    assert "> What is 2+2? «ünï»" in out
    # Content holding ``` does not break out of its block; every fence is closed.
    fences = [line for line in out.splitlines() if line.startswith("```")]
    assert len(fences) % 2 == 0
    _, out, _ = cli(target, capsys, "sessions", "export", "--all", "--format", "markdown")
    assert out.count("\n---\n") == 2 and "# Untitled session" in out


def test_export_usage_and_unknown_ids_leave_no_file(
    target: Target, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    target.seed()
    out_file = tmp_path / "out.json"
    code, _, err = cli(target, capsys, "sessions", "export")
    assert code == 2 and "give session ids or --all" in err
    code, _, _ = cli(target, capsys, "sessions", "export", "s-tools", "--all")
    assert code == 2
    code, _, err = cli(target, capsys, "sessions", "export", "s-tools", "nope", "-o", str(out_file))
    assert code == 1 and "nope" in err
    assert list(tmp_path.glob("out.json*")) == [] and list(tmp_path.glob(".out.json*")) == []
    assert cli(target, capsys, "sessions", "export", "s-tools", "-o", str(out_file))[0] == 0
    code, _, err = cli(target, capsys, "sessions", "export", "s-plain", "-o", str(out_file))
    assert code == 2 and "already exists" in err and "--force" in err
    args = ("sessions", "export", "s-plain", "-o", str(out_file), "--force")
    assert cli(target, capsys, *args)[0] == 0
    assert [s["id"] for s in json.loads(out_file.read_text())["sessions"]] == ["s-plain"]
    code, _, err = cli(target, capsys, "sessions", "export", "--all", "-o", "/nonexistent/x.json")
    assert code == 2 and "does not exist" in err


def test_round_trip_with_tool_events_unicode_and_a_1_mb_payload(
    target: Target, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    from tests.conftest import FrozenClock
    from tests.memory.test_portable import IDS, ONE_MB, seed

    clock = FrozenClock()
    target.using(lambda memory: seed(memory, clock), clock)
    first = tmp_path / "first.json"
    assert cli(target, capsys, "sessions", "export", *IDS, "-o", str(first))[0] == 0
    assert first.stat().st_size > ONE_MB

    async def forget(memory: MemoryBackend) -> None:
        for session_id in IDS:
            await memory.forget(session_id)

    target.using(forget)
    code, out, _ = cli(target, capsys, "sessions", "import", str(first))
    assert (code, out) == (0, "imported 4 sessions (7 events)\n")
    second = tmp_path / "second.json"
    assert cli(target, capsys, "sessions", "export", "--all", "-o", str(second))[0] == 0
    assert second.read_bytes() == first.read_bytes()
    # Standard output carries the same data; characters a terminal could act on (the
    # U+2028 of c-escapes) are JSON escapes there (issue 11), so it is not byte-equal.
    code, out, _ = cli(target, capsys, "sessions", "export", "--all")
    assert json.loads(out) == json.loads(first.read_text(encoding="utf-8"))
    assert "\u2028" not in out and "\\u2028" in out


def test_import_refuses_when_memory_is_disabled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    exported = tmp_path / "empty.json"
    exported.write_text('{"format": "turnkeep.sessions", "version": 1, "sessions": []}\n')
    monkeypatch.setenv("TURNKEEP_MEMORY__ENABLED", "false")
    code = main(["sessions", "import", str(exported)])
    err = capsys.readouterr().err
    assert code == 2 and "would not be kept" in err
