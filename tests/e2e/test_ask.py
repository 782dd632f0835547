"""``turnkeep ask`` as a user runs it: a separate process, a real database file.

Providers: the scripted test double for tool flows, the real local model (SmolLM2), and
an openai endpoint that is down. Ctrl-C is a real SIGINT.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from memory import Event, open_embedded
from tests.e2e.cli_support import turnkeep_process
from tests.support.llama_server import free_port

ROOT = Path(__file__).resolve().parents[2]


#: ``turnkeep`` as a terminal's foreground job runs it: SIGINT at its default (Ctrl-C
#: interrupts). A shell starts background jobs with SIGINT ignored, and a process that
#: inherits that keeps ignoring it by design; a suite run from such a job must not
#: pass that on to the Ctrl-C tests.
FOREGROUND = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from tui.start import main; sys.exit(main())"
)


def events_of(db: Path, session_id: str) -> list[Event]:
    async def read() -> list[Event]:
        memory = await open_embedded(db)
        try:
            return await memory.recall(session_id)
        finally:
            await memory.close()

    return asyncio.run(read())


def assert_well_formed(events: list[Event]) -> None:
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    calls = [e.payload["call_id"] for e in events if e.kind == "tool_call"]
    results = [e.payload["call_id"] for e in events if e.kind == "tool_result"]
    assert calls == results


def session_of(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("session: ")]
    assert len(lines) == 1, stderr
    return lines[0].removeprefix("session: ").strip()


def ask(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> Any:
    return turnkeep_process("ask", *args, env=env, timeout=timeout)


def test_scripted_turn_streams_the_reply_and_saves_it(db: Path) -> None:
    result = ask("--provider", "scripted", "hello «there»")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        'Let me check two things. \nYou said: "hello «there»". The calculator says 6 * 7 = 42.\n'
    )
    assert "[tool] calculator returned:" in result.stderr
    session = session_of(result.stderr)
    events = events_of(db, session)
    assert_well_formed(events)
    assert [e.kind for e in events] == [
        "user",
        "assistant",
        "tool_call",
        "tool_result",
        "tool_call",
        "tool_result",
        "assistant",
    ]

    again = ask("--session", session, "--json", "second")
    assert again.returncode == 0, again.stderr
    assert session_of(again.stderr) == session
    lines = [json.loads(line) for line in again.stdout.splitlines()]
    assert [line["seq"] for line in lines] == list(range(8, 15))
    assert {line["session_id"] for line in lines} == {session}
    assert {line["turn"] for line in lines} == {2}
    assert [line["kind"] for line in lines][0] == "user"
    assert lines[0]["payload"] == {"role": "user", "content": "second"}
    stored = events_of(db, session)
    assert_well_formed(stored)
    assert [(e.seq, e.kind, e.payload) for e in stored[7:]] == [
        (line["seq"], line["kind"], line["payload"]) for line in lines
    ]


def test_script_file_and_stdin_message(db: Path, tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps([[{"text": "echo: {user}", "chunk_size": 3}]]))
    result = subprocess.run(
        [sys.executable, "-m", "tui", "ask", "--script", str(script), "-"],
        input="from stdin",
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "echo: from stdin\n"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--session", "no-such-session", "hi"], 1, "Session not found"),
        (["--script", "missing.json", "hi"], 2, "cannot read the script"),
        (["--provider", "openai", "--script", "x.json", "hi"], 2, "only works with the scripted"),
        (["--provider", "scripted", "   "], 2, "the message is empty"),
        (["--provider", "gpt", "hi"], 2, "invalid choice"),
    ],
)
def test_usage_and_setup_errors_are_one_line_with_their_exit_code(
    db: Path, args: list[str], code: int, message: str
) -> None:
    result = ask(*args)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreachable_model_server_fails_the_turn_and_saves_the_error(
    db: Path,
) -> None:
    env = {"OPENAI_BASE_URL": f"http://127.0.0.1:{free_port()}/v1", "OPENAI_API_KEY": "sk-x"}
    result = ask("--provider", "openai", "--model", "m", "hi", env=env)
    assert result.returncode == 3, result.stderr
    assert "Cannot reach the model server" in result.stderr
    assert "sk-x" not in result.stderr + result.stdout
    events = events_of(db, session_of(result.stderr))
    assert [e.kind for e in events] == ["user", "error"]
    assert events[1].payload["error_type"] == "ProviderConnectionError"


def test_local_model_answers_and_the_turn_is_saved(db: Path) -> None:
    result = ask("What is the capital of France?", env={"TURNKEEP_AGENT__MAX_TOKENS": "16"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    events = events_of(db, session_of(result.stderr))
    assert [e.kind for e in events] == ["user", "assistant"]
    assert events[1].payload["model"] == "SmolLM2-135M-Instruct"
    assert events[1].payload["content"].strip() == result.stdout.strip()


def test_memory_disabled_says_so_and_writes_nothing(tmp_path: Path, db: Path) -> None:
    result = ask("--provider", "scripted", "hi", env={"TURNKEEP_MEMORY__ENABLED": "false"})
    assert result.returncode == 0, result.stderr
    assert "memory is disabled" in result.stderr
    assert "You said" in result.stdout
    assert not db.exists()


def start_hung_ask(tmp_path: Path, child: str, *, stdin: int) -> subprocess.Popen[bytes]:
    """``turnkeep ask`` run by ``child`` (a ``python -c`` program) on a scripted turn
    that calls a tool, streams "partial reply" and then hangs; returned once the reply
    is out (the turn is hanging)."""
    script = tmp_path / "hang.json"
    script.write_text(
        json.dumps(
            [
                [
                    {"tool_calls": [{"name": "calculator", "arguments": {"expression": "1+1"}}]},
                    {"chunks": ["partial ", "reply"], "hang": True},
                ]
            ]
        )
    )
    process = subprocess.Popen(
        [sys.executable, "-c", child, "ask", "--script", str(script), "count"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=stdin,
    )
    assert process.stdout is not None
    seen = b""
    while b"partial reply" not in seen:
        chunk = process.stdout.read1(4096)
        assert chunk, "ask exited before the reply streamed"
        seen += chunk
    return process


def assert_saved_as_cancelled(db: Path, stderr: bytes) -> None:
    """The interrupted turn of :func:`start_hung_ask` is saved, ending in its partial reply."""
    events = events_of(db, session_of(stderr.decode()))
    assert_well_formed(events)
    assert [e.kind for e in events] == ["user", "tool_call", "tool_result", "cancelled"]
    assert events[3].payload["partial_content"] == "partial reply"


def test_ctrl_c_cancels_the_turn_and_saves_the_partial_reply(db: Path, tmp_path: Path) -> None:
    process = start_hung_ask(tmp_path, FOREGROUND, stdin=subprocess.DEVNULL)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr.decode()
    assert b"interrupted" in stderr
    assert_saved_as_cancelled(db, stderr)


def test_help_is_complete_with_examples() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tui", "ask", "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0
    for flag in ("--session", "--new", "--provider", "--model", "--script", "--json", "MESSAGE"):
        assert flag in result.stdout
    assert "Examples:" in result.stdout
    assert "turnkeep ask" in result.stdout
    assert "Exit codes" in result.stdout
