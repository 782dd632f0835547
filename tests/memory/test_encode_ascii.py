"""``encode_payload_ascii``: the same values and refusals as ``encode_payload``, in ASCII."""

from __future__ import annotations

import json

import pytest

from memory.errors import SerializationError
from memory.records import MAX_JSON_DEPTH, encode_payload, encode_payload_ascii


@pytest.mark.parametrize(
    "payload",
    [
        {"content": "plain"},
        {"content": "café → naïve", "n": [1, 2.5, None, True]},
        {"content": "astral 😀 and 𝔘", "nested": {"k": ['\u0000\n\t"\\']}},
        {"content": "\\ud800 is only text here"},  # a backslash, not a surrogate
    ],
)
def test_same_value_as_ascii_text(payload: dict[str, object]) -> None:
    text = encode_payload_ascii(payload)
    assert text.isascii()
    assert json.loads(text) == json.loads(encode_payload(payload)) == payload


@pytest.mark.parametrize(
    "payload",
    [
        {"content": "lone \ud800 high"},
        {"content": "lone \udc00 low"},
        {"x": float("nan")},
        {"x": {1, 2}},
    ],
)
def test_refuses_what_encode_payload_refuses(payload: dict[str, object]) -> None:
    with pytest.raises(SerializationError):
        encode_payload(payload)
    with pytest.raises(SerializationError):
        encode_payload_ascii(payload)


def test_refuses_nesting_too_deep() -> None:
    deep: dict[str, object] = {}
    node = deep
    for _ in range(MAX_JSON_DEPTH + 1):
        node["a"] = {}
        node = node["a"]  # type: ignore[assignment]
    with pytest.raises(SerializationError, match="nested deeper"):
        encode_payload_ascii(deep)
