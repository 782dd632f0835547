"""``turnkeep search`` says on stderr which words of a long query were not searched
(review finding 10: they were dropped silently), embedded and on a real sqld."""

from __future__ import annotations

import json

import pytest

from memory.search_query import MAX_TERMS
from tests.e2e.cli_support import Target, cli


def test_words_past_the_limit_are_named_on_stderr(
    target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    target.seed()
    words = [f"word{i:03d}" for i in range(MAX_TERMS + 3)]
    code, out, err = cli(target, capsys, "search", " ".join(words), "--json")
    assert code == 0 and json.loads(out) == []
    assert "3 words not searched" in err
    assert all(word in err for word in words[MAX_TERMS:])
    assert words[MAX_TERMS - 1] not in err

    # Every word of a query within the limit is used, and stderr stays quiet about it.
    code, out, err = cli(target, capsys, "search", "lunch", "--json")
    assert code == 0 and json.loads(out) and "not searched" not in err
