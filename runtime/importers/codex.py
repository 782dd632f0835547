"""Codex CLI rollouts: ``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<uuid>.jsonl``.

Each line is ``{"timestamp", "type", "payload"}``. Types: ``session_meta`` (first line:
``id``, ``cwd``, ``cli_version``, ``originator``, ``git``, ``instructions``),
``turn_context`` (the ``model``, ``cwd``, policies of the turns that follow),
``response_item`` (the model-visible history: ``message`` with ``role`` and
``input_text``/``output_text``/``input_image`` content, ``reasoning`` with ``summary``
and ``encrypted_content``, ``function_call`` with a JSON-text ``arguments`` and
``call_id``, ``function_call_output``, ``custom_tool_call``(``_output``),
``local_shell_call``, ``web_search_call``), ``event_msg`` (UI notifications that repeat
the response items, token counts) and ``compacted`` (a compaction summary). Older
rollouts have a bare ``{"id", "timestamp", "instructions"}`` first line followed by bare
response items and ``{"record_type": "state"}`` lines; both are read.

Mapping: user messages that are context Codex injects (``<environment_context>``,
``<user_instructions>``, AGENTS.md) and ``developer`` messages are ``system`` events;
``event_msg`` records are ignored (counted), since the response items hold the same
conversation.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from runtime.importers.base import (
    EventBuilder,
    placeholder,
    session_id_for,
    short_title,
    text_of,
    to_ts,
    token_usage,
)
from runtime.importers.jsonl import JsonlSession, first_record, transcript_files
from runtime.importers.units import ImportReport, Unit

__all__ = ["CodexReader", "default_dir"]

TOOL: Final = "codex"
_TYPES: Final = frozenset(
    {"session_meta", "turn_context", "response_item", "event_msg", "compacted"}
)
_ITEM_TYPES: Final = frozenset(
    {
        "message",
        "reasoning",
        "function_call",
        "function_call_output",
        "custom_tool_call",
        "custom_tool_call_output",
        "local_shell_call",
        "web_search_call",
    }
)
_INJECTED: Final = ("<environment_context>", "<user_instructions>", "# AGENTS.md instructions")
_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def default_dir() -> Path:
    """``$CODEX_HOME/sessions``, or ``~/.codex/sessions``."""
    home = os.environ.get("CODEX_HOME")
    return (Path(home) if home else Path.home() / ".codex") / "sessions"


def _looks_like_codex(value: dict[str, Any]) -> bool:
    if value.get("type") in _TYPES and "payload" in value:
        return True
    # The older layout: a bare session header line.
    return "id" in value and "timestamp" in value and "type" not in value


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for item in content if isinstance(content, list) else []:
        if not isinstance(item, dict):
            parts.append(text_of(item))
        elif "text" in item:
            parts.append(str(item["text"]))
        elif item.get("type") == "input_image":
            url = item.get("image_url")
            size = len(url) * 3 // 4 if isinstance(url, str) and url.startswith("data:") else None
            parts.append(placeholder("image", size))
        else:
            parts.append(placeholder(str(item.get("type", "content"))))
    return "\n".join(parts)


def _arguments(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return {"raw_arguments": raw}
    return raw


def _figure(usage: Any, key: str) -> int:
    value = usage.get(key) if isinstance(usage, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _token_count(payload: dict[str, Any], builder: EventBuilder) -> None:
    """Credit a ``token_count`` notice to the answer before it.

    Codex writes one after each model call, with the session's running
    ``total_token_usage`` (and, in newer versions, the call's ``last_token_usage``).
    The call's figures are the growth of the total since the last notice (kept in the
    resume point, so a notice repeated, or read again by a later import, adds nothing);
    a notice without a total counts its ``last_token_usage``. ``input_tokens`` include
    the cached ones (``cached_input_tokens``), like OpenAI's ``prompt_tokens``.
    """
    info = payload.get("info")
    if not isinstance(info, dict):
        return
    total = info.get("total_token_usage")
    keys = ("input_tokens", "output_tokens", "cached_input_tokens", "reasoning_output_tokens")
    if isinstance(total, dict):
        now = [_figure(total, k) for k in keys]
        seen = builder.usage_state.get("codex_total")
        before = seen if isinstance(seen, list) and len(seen) == len(keys) else [0] * len(keys)
        builder.usage_state["codex_total"] = now
        call = [max(0, a - b) for a, b in zip(now, before, strict=True)]
    else:
        call = [_figure(info.get("last_token_usage"), k) for k in keys]
    if not call[0] and not call[1]:
        return
    builder.usage_after(
        token_usage(call[0], call[1], cached_tokens=call[2], reasoning_tokens=call[3])
    )


class CodexSession(JsonlSession):
    """One rollout file."""

    def __init__(self, path: Path) -> None:
        match = _UUID.search(path.stem)
        original = match.group(0) if match else path.stem
        super().__init__(TOOL, path, original, session_id_for(TOOL, original))

    def check(self, value: Any) -> bool:
        if isinstance(value.get("type"), str) and "payload" in value:
            return True  # a record type of a newer version is kept as an ``unknown`` event
        return (
            _looks_like_codex(value) or value.get("type") in _ITEM_TYPES or "record_type" in value
        )

    def record(
        self, value: dict[str, Any], line: int, builder: EventBuilder, report: ImportReport
    ) -> None:
        kind = value.get("type")
        at = value.get("timestamp")
        payload = value.get("payload")
        if kind not in _TYPES and "payload" not in value:
            if "record_type" in value:
                report.ignored[f"record_type:{value['record_type']}"] += 1
                return
            if kind is None:  # the older header line; its items carry no time of their own
                self._meta(value)
                builder.last_time = builder.last_time or to_ts(value.get("timestamp"))
                return
            kind, payload = "response_item", value
        if not isinstance(payload, dict):
            report.bad(str(self.path), line, f"{kind} record without a payload object")
            return
        if kind == "session_meta":
            self._meta(payload)
            builder.last_time = builder.last_time or to_ts(at)
        elif kind == "turn_context":
            model = payload.get("model")
            if isinstance(model, str):
                self.model = model
        elif kind == "event_msg":
            report.ignored[f"event_msg:{payload.get('type')}"] += 1
            if payload.get("type") == "token_count":
                _token_count(payload, builder)
        elif kind == "compacted":
            rest = {k: v for k, v in payload.items() if k != "message"}
            builder.add(
                "summary", {"content": text_of(payload.get("message", ""))}, at, source=rest
            )
        elif kind == "response_item":
            self._item(payload, at, builder, report)
        else:
            report.unknown[str(kind)] += 1
            builder.add("unknown", {"type": kind, "content": f"[{kind} record]"}, at, source=value)

    def _meta(self, payload: dict[str, Any]) -> None:
        for key in ("cwd", "cli_version", "originator", "model_provider", "git"):
            if key in payload:
                self.info[key] = payload[key]
        if "id" in payload:
            self.info["session_meta_id"] = payload["id"]
        if payload.get("instructions"):
            self.info["instructions"] = payload["instructions"]

    def _item(
        self, item: dict[str, Any], at: Any, builder: EventBuilder, report: ImportReport
    ) -> None:
        itype = item.get("type")
        if itype == "message":
            role = item.get("role")
            text = _content_text(item.get("content"))
            rest = {k: v for k, v in item.items() if k not in ("type", "role", "content")}
            images = [
                c
                for c in item.get("content") or []
                if isinstance(c, dict) and c.get("type") == "input_image"
            ]
            if images:
                rest["images"] = images
            if role == "assistant":
                payload: dict[str, Any] = {"role": "assistant", "content": text}
                if self.model:
                    payload["model"] = self.model
                builder.add("assistant", payload, at, source=rest)
            elif role == "user" and not text.lstrip().startswith(_INJECTED):
                builder.add(
                    "user", {"role": "user", "content": text}, at, source=rest, new_turn=True
                )
                if self.title is None:
                    self.title = short_title(text)
            else:
                rest["role"] = role
                builder.add("system", {"role": "system", "content": text}, at, source=rest)
        elif itype == "reasoning":
            texts = [
                str(part.get("text", ""))
                for key in ("summary", "content")
                for part in item.get(key) or []
                if isinstance(part, dict)
            ]
            text = "\n".join(t for t in texts if t) or placeholder("encrypted reasoning")
            rest = {k: v for k, v in item.items() if k != "type"}
            builder.add("reasoning", {"content": text}, at, source=rest)
        elif itype in ("function_call", "custom_tool_call", "local_shell_call"):
            raw = item.get("arguments", item.get("input", item.get("action")))
            args = _arguments(raw) if itype == "function_call" else raw
            if itype == "custom_tool_call":
                args = {"input": raw}
            skip = ("type", "call_id", "name", "arguments", "input", "action")
            rest = {k: v for k, v in item.items() if k not in skip}
            rest["item_type"] = itype
            name = str(item.get("name") or ("shell" if itype == "local_shell_call" else ""))
            builder.call(str(item.get("call_id", item.get("id", ""))), name, args, at, source=rest)
        elif itype in ("function_call_output", "custom_tool_call_output"):
            output = item.get("output")
            rest = {k: v for k, v in item.items() if k not in ("type", "call_id", "output")}
            rest["item_type"] = itype
            call_id = str(item.get("call_id", ""))
            if isinstance(output, dict) and "content" in output:
                rest["output"] = {k: v for k, v in output.items() if k != "content"}
                if output.get("success") is False:
                    builder.result(call_id, None, at, error=text_of(output["content"]), source=rest)
                    return
                output = output["content"]
            builder.result(call_id, output, at, source=rest)
        elif itype == "web_search_call":
            rest = {k: v for k, v in item.items() if k not in ("type", "action")}
            call_id = str(item.get("id") or f"web_search@{at}")
            builder.call(call_id, "web_search", item.get("action") or {}, at, source=rest)
        else:
            report.unknown[f"response_item:{itype}"] += 1
            builder.add("unknown", {"type": itype, "content": f"[{itype} item]"}, at, source=item)


class CodexReader:
    """Every rollout under a directory (or one file).

    Raises:
        SourceFormatError: the path does not exist, holds no rollout, or a file given
            directly is not a Codex rollout.
    """

    tool = TOOL
    unit_name = "bytes"
    #: It pickles (paths and sizes) and its units open their files themselves, so a
    #: large history is parsed in a child process (:mod:`runtime.importers.parallel`).
    in_child = True

    def __init__(self, path: Path) -> None:
        self.files = transcript_files(
            path, "rollout-*.jsonl", _looks_like_codex, one="Codex rollout", many="Codex rollouts"
        )
        self.total = sum(p.stat().st_size for p in self.files)

    def close(self) -> None:
        """Nothing to release (files are opened per unit)."""

    def units(self, report: ImportReport) -> Iterator[Unit]:
        for path in self.files:
            if not first_record(path, _looks_like_codex):
                report.bad(str(path), 1, "not a Codex rollout; file skipped")
                report.advance(path.stat().st_size)
                continue
            yield CodexSession(path)
