"""The JSONL line splitter gives exactly the lines Python's own file iteration gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.importers.lines import iter_lines


@pytest.mark.parametrize("block", [1, 3, 7, 64, 1 << 18])
@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\n",
        b'{"a": 1}\n{"b": 2}\n',
        b'{"a": 1}\n\n  \n{"b": "' + b"x" * 1000 + b'"}\n{"c": 3',  # long line, no final \n
        "é→\n😀\r\n".encode(),
    ],
)
def test_lines_match_file_iteration(tmp_path: Path, data: bytes, block: int) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(data)
    with path.open("rb") as handle:
        expected = list(handle)
    assert list(iter_lines(path, block=block)) == expected
    # From an offset (a resumed import): the rest of the file, cut the same way.
    cut = len(expected[0]) if expected else 0
    with path.open("rb") as handle:
        handle.seek(cut)
        assert list(iter_lines(path, cut, block=block)) == list(handle)
