"""Find in a session reaches text the index does not hold (review finding 1), on every
backend.

The index keeps the start and the end of a long event (4 KB of a tool output, 128 KB of
a message); a word in the middle of a long build log or of a pasted log is found by
find in the session (``runtime.session_find``), in session order, with the index's
rules: folded diacritics, case-insensitive, excluded terms, nothing found in JSON keys.
"""

from __future__ import annotations

import pytest

from memory import EventDraft, MemoryBackend
from memory.sql.session_text import candidates_statement
from runtime import payloads
from runtime.payloads import SEARCH_TEXT_LIMIT, TOOL_TEXT_LIMIT, searchable_text
from runtime.session_find import PAGE, find_in_session

LOG = "line of ordinary build output here\n" * 150
#: 160 KB with the marker past the indexed start (96 KB) and before the end (32 KB).
PASTE = "x " * 60_000 + ' pastedmarker "quoted\\bit" ' + "x " * 20_000


@pytest.fixture
async def memory(backend: MemoryBackend) -> MemoryBackend:
    backend.use_search_text(searchable_text)
    return backend


async def _seed(memory: MemoryBackend) -> None:
    await memory.store(
        "s",
        [
            EventDraft("user", payloads.user("why did the build fail? QwertyZebra")),  # 1
            EventDraft("tool_call", payloads.tool_call("t1", "Bash", {"command": "make"})),  # 2
            EventDraft(
                "tool_result",
                payloads.tool_result(
                    "t1", "Bash", result=LOG + "FATAL: qwertyzebra exploded in Café module\n" + LOG
                ),
            ),  # 3
            EventDraft("assistant", payloads.assistant("It failed.")),  # 4
            EventDraft("user", payloads.user(PASTE)),  # 5
        ],
    )
    # Another session holding the same words is not looked at.
    await memory.store(
        "other",
        [EventDraft("tool_result", payloads.tool_result("t", "B", result=f"{LOG}qwertyzebra"))],
    )


async def test_text_past_the_index_is_found_in_order(memory: MemoryBackend) -> None:
    await _seed(memory)
    assert len(LOG) > TOOL_TEXT_LIMIT and len(PASTE) > SEARCH_TEXT_LIMIT
    # The index alone holds the start and the end (the question at seq 1 holds the word).
    indexed = await memory.search("qwertyzebra", session_id="s", limit=100)
    assert [h.seq for h in indexed] == [1]
    assert await find_in_session(memory, "s", "qwertyzebra") == [1, 3]
    assert await find_in_session(memory, "s", "QWERTYZEBRA exploded") == [3]
    assert await find_in_session(memory, "s", "pastedmarker") == [5]
    assert await find_in_session(memory, "s", "cafe module") == [3]  # diacritics fold
    assert await find_in_session(memory, "s", '"quoted\\bit"') == [5]  # JSON-escaped
    assert await find_in_session(memory, "s", "qwertyzebra -fatal") == [1]
    assert await find_in_session(memory, "other", "qwertyzebra") == [1]


async def test_json_keys_and_unknown_sessions_are_not_matches(memory: MemoryBackend) -> None:
    await _seed(memory)
    # "call_id" and "result" are keys of the stored tool result, not its text.
    assert await find_in_session(memory, "s", "call_id") == []
    assert await find_in_session(memory, "s", "zzznothere") == []
    assert await find_in_session(memory, "nobody", "qwertyzebra") == []


async def test_many_long_events_are_read_page_by_page(memory: MemoryBackend) -> None:
    count = PAGE * 2 + 5
    drafts = [
        EventDraft(
            "tool_result",
            payloads.tool_result(f"t{n}", "B", result=LOG + ("needle" if n % 2 else "hay") + LOG),
        )
        for n in range(count)
    ]
    await memory.store("big", drafts)
    assert await find_in_session(memory, "big", "needle") == list(range(2, count + 1, 2))


def test_the_statement_narrows_to_the_terms_json_form() -> None:
    sql, args = candidates_statement("s", ('ab"c', "café"), after_seq=3, min_chars=2048, limit=10)
    # A non-ASCII term cannot be predicted in the JSON (raw or \\u escaped): not used.
    assert args == ["s", 3, 2048, 'ab\\"c', 10]
    assert sql.count("instr(lower(payload), ?)") == 1
