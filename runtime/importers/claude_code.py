"""Claude Code transcripts: ``~/.claude/projects/<project>/<session-id>.jsonl``.

Each line is a record with a ``type``: ``user`` / ``assistant`` (an Anthropic Messages
``message`` whose ``content`` is a string or a list of blocks: ``text``, ``thinking``,
``redacted_thinking``, ``tool_use``, ``tool_result``, ``image``, ...), ``system`` (a
notice; subtype ``compact_boundary`` marks a compaction), ``summary`` (``summary`` text
and ``leafUuid``), and bookkeeping such as ``file-history-snapshot``. Records carry
``uuid``/``parentUuid``, ``sessionId``, ``timestamp``, ``cwd``, ``version``,
``gitBranch`` and ``isSidechain`` (a sub-agent's messages). An assistant reply is often
split over several records, one content block each, sharing ``message.id``; tool results
come back in separate ``user`` records (``tool_result`` blocks, with the tool's own
structured output in ``toolUseResult``). Sub-agents may also have their own files
(``agent-<id>.jsonl``), imported as sessions of their own.

Mapping: real user text starts a turn; ``isMeta`` user text is a ``system`` event; the
user message that carries a compaction summary (``isCompactSummary``) and ``summary``
records are ``summary`` events; sidechain records inside a main transcript are
``sidechain`` events (kept, but not part of the prompt when resumed).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from runtime.importers.base import (
    Draft,
    EventBuilder,
    placeholder,
    session_id_for,
    short_title,
    text_of,
    token_usage,
)
from runtime.importers.jsonl import JsonlSession, first_record, transcript_files
from runtime.importers.units import ImportReport, Unit

__all__ = ["ClaudeCodeReader", "default_dir"]

TOOL: Final = "claude-code"
_KINDS: Final = frozenset({"user", "assistant", "system", "summary"})
#: Bookkeeping records with nothing of the conversation in them.
_IGNORED: Final = frozenset({"file-history-snapshot", "queue-operation", "progress"})


def default_dir() -> Path:
    """Where Claude Code keeps its transcripts."""
    return Path.home() / ".claude" / "projects"


def _looks_like_claude(value: dict[str, Any]) -> bool:
    kind = value.get("type")
    if kind in _KINDS or kind in _IGNORED:
        return True
    return isinstance(kind, str) and ("sessionId" in value or "uuid" in value)


def block_text(content: Any) -> str:
    """The text of a tool result's ``content`` (a string or a list of blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for block in content:
            if isinstance(block, dict) and block.get("type") == "text":
                parts.append(str(block.get("text", "")))
            elif isinstance(block, dict):
                parts.append(_media_placeholder(block))
            else:
                parts.append(text_of(block))
        return "\n".join(parts)
    return "" if content is None else text_of(content)


def _media_placeholder(block: dict[str, Any]) -> str:
    kind = str(block.get("type", "block"))
    src = block.get("source")
    if isinstance(src, dict):
        media = src.get("media_type") or src.get("type") or ""
        data = src.get("data")
        size = len(data) * 3 // 4 if isinstance(data, str) else None
        if src.get("type") == "url":
            return placeholder(f"{kind} {src.get('url')}")
        return placeholder(f"{kind} {media}".strip(), size)
    return placeholder(kind)


class ClaudeSession(JsonlSession):
    """One Claude Code transcript file."""

    def __init__(self, path: Path, *, subagent: bool) -> None:
        super().__init__(TOOL, path, path.stem, session_id_for(TOOL, path.stem))
        self.subagent = subagent
        #: The answer of the message being read (and the number of the chunk it is in).
        self._answer: tuple[int, Draft] | None = None
        self.info = {"project": path.parent.name}
        if subagent:
            self.info["subagent"] = True

    def check(self, value: Any) -> bool:
        return isinstance(value.get("type"), str)

    def record(
        self, value: dict[str, Any], line: int, builder: EventBuilder, report: ImportReport
    ) -> None:
        kind = value["type"]
        at = value.get("timestamp")
        for key in ("cwd", "version", "gitBranch"):
            if key in value and key not in self.info:
                self.info[key] = value[key]
        if self.subagent and "parent_session" not in self.info and value.get("sessionId"):
            self.info["parent_session"] = value["sessionId"]
        rest = {k: v for k, v in value.items() if k not in ("type", "timestamp", "message")}
        if kind == "summary":
            text = text_of(value.get("summary", ""))
            rest.pop("summary", None)
            builder.add("summary", {"content": text}, at, source=rest)
            if self.title is None:
                self.title = short_title(text)
        elif kind in _IGNORED:
            report.ignored[kind] += 1
        elif kind not in ("user", "assistant", "system"):
            report.unknown[kind] += 1
            builder.add("unknown", {"type": kind, "content": f"[{kind} record]"}, at, source=rest)
        elif kind == "system":
            text = text_of(value.get("content", ""))
            rest.pop("content", None)
            builder.add("system", {"role": "system", "content": text}, at, source=rest)
        elif value.get("isSidechain") and not self.subagent:
            message = value.get("message")
            content = message.get("content") if isinstance(message, dict) else None
            rest["message"] = message
            builder.add(
                "sidechain",
                {"role": kind, "content": block_text(content)},
                at,
                source=rest,
            )
        else:
            message = value.get("message")
            if not isinstance(message, dict) or "content" not in message:
                report.bad(str(self.path), line, f"{kind} record without message.content")
                return
            rest.update(
                {f"message.{k}": v for k, v in message.items() if k not in ("content", "role")}
            )
            content = message["content"]
            blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
            if not isinstance(blocks, list):
                report.bad(str(self.path), line, "message.content is neither text nor blocks")
                return
            if kind == "user":
                self._user(value, blocks, rest, builder)
            else:
                self._assistant(message, blocks, rest, at, builder)

    def _user(
        self,
        value: dict[str, Any],
        blocks: list[Any],
        rest: dict[str, Any],
        builder: EventBuilder,
    ) -> None:
        at = value.get("timestamp")
        texts: list[str] = []
        extra: list[Any] = []
        source: dict[str, Any] | None = rest
        for index, block in enumerate(blocks):
            if not isinstance(block, dict):
                texts.append(text_of(block))
                continue
            btype = block.get("type")
            if btype == "text":
                texts.append(str(block.get("text", "")))
            elif btype == "tool_result":
                call_id = str(block.get("tool_use_id", ""))
                result = block_text(block.get("content"))
                others = {
                    k: v for k, v in block.items() if k not in ("type", "tool_use_id", "content")
                }
                src = {**(source or {"uuid": value.get("uuid")}), "block": index, **others}
                source = None
                if block.get("is_error"):
                    builder.result(call_id, None, at, error=result, source=src)
                else:
                    builder.result(call_id, result, at, source=src)
            else:
                texts.append(_media_placeholder(block))
                extra.append(block)
        if not texts:
            return
        src = dict(source) if source is not None else {"uuid": value.get("uuid")}
        if extra:
            src["blocks"] = extra
        text = "\n".join(texts)
        if value.get("isCompactSummary"):
            builder.add("summary", {"content": text}, at, source=src)
        elif value.get("isMeta"):
            builder.add("system", {"role": "system", "content": text}, at, source=src)
        else:
            builder.add("user", {"role": "user", "content": text}, at, source=src, new_turn=True)
            if self.title is None:
                self.title = short_title(text)

    def _usage(self, message: dict[str, Any], builder: EventBuilder, first: Draft | None) -> None:
        """Credit the message's ``usage`` to its answer, once per message.

        Claude Code writes one record per content block of a reply, each repeating the
        message's ``id`` and its ``usage`` so far (the output count grows): the answer
        gets the message's latest figures, counted once. Prompt tokens are all the
        tokens the model read (``input_tokens`` plus the cache's creation and read
        tokens, as OpenAI's ``prompt_tokens`` include cached ones); the original figures
        stay in the event's ``source`` (``message.usage``). A message without text
        (only tool calls) has its usage carried to the next answer.
        """
        usage = message.get("usage")
        if not isinstance(usage, dict):
            return
        message_id = message.get("id")
        state = builder.usage_state
        if message_id is None or message_id != state.get("message"):
            state["message"] = message_id
            state["counted"] = {}
            self._answer = None
        if first is not None and self._answer is None:
            self._answer = (builder.taken, first)
        read, written = (
            usage.get("cache_read_input_tokens"),
            usage.get("cache_creation_input_tokens"),
        )
        prompt = sum(
            v
            for v in (usage.get("input_tokens"), read, written)
            if isinstance(v, int) and not isinstance(v, bool) and v > 0
        )
        now = token_usage(
            prompt, usage.get("output_tokens"), cached_tokens=read, cache_write_tokens=written
        )
        counted = state.get("counted")
        counted = counted if isinstance(counted, dict) else {}
        delta = {k: v - int(counted.get(k, 0)) for k, v in now.items() if v > counted.get(k, 0)}
        state["counted"] = {k: max(v, int(counted.get(k, 0))) for k, v in now.items()}
        if not delta:
            return
        answer = self._answer
        if answer is not None and answer[0] == builder.taken:  # still in this chunk
            builder.credit(answer[1], delta)
        else:
            builder.usage_before(delta)

    def _assistant(
        self,
        message: dict[str, Any],
        blocks: list[Any],
        rest: dict[str, Any],
        at: Any,
        builder: EventBuilder,
    ) -> None:
        model = message.get("model")
        if isinstance(model, str) and not model.startswith("<"):
            self.model = model
        before = len(builder.events)
        source: dict[str, Any] | None = rest
        for index, block in enumerate(blocks):
            src = {**(source or {"uuid": rest.get("uuid")}), "block": index}
            source = None
            if not isinstance(block, dict):
                block = {"type": "text", "text": text_of(block)}
            btype = block.get("type")
            others = {k: v for k, v in block.items() if k not in ("type", "text", "thinking")}
            if btype == "text":
                payload: dict[str, Any] = {
                    "role": "assistant",
                    "content": str(block.get("text", "")),
                }
                if isinstance(model, str):
                    payload["model"] = model
                builder.add("assistant", payload, at, source={**src, **others})
            elif btype in ("thinking", "redacted_thinking"):
                text = (
                    str(block.get("thinking", "")) if btype == "thinking" else "[redacted thinking]"
                )
                builder.add("reasoning", {"content": text}, at, source={**src, **others})
            elif btype in ("tool_use", "server_tool_use"):
                others = {k: v for k, v in others.items() if k not in ("id", "name", "input")}
                builder.call(
                    str(block.get("id", "")),
                    str(block.get("name", "")),
                    block.get("input", {}),
                    at,
                    source={**src, **others},
                )
            elif isinstance(btype, str) and btype.endswith("_tool_result"):
                others = {k: v for k, v in others.items() if k not in ("tool_use_id", "content")}
                builder.result(
                    str(block.get("tool_use_id", "")),
                    block.get("content"),
                    at,
                    source={**src, **others},
                )
            else:
                builder.add(
                    "assistant",
                    {"role": "assistant", "content": _media_placeholder(block)},
                    at,
                    source={**src, "block_data": block},
                )
        added = (d for d in builder.events[before:] if d.kind == "assistant")
        self._usage(message, builder, next(added, None))


class ClaudeCodeReader:
    """Every transcript under a directory (or one file).

    Raises:
        SourceFormatError: the path does not exist, holds no transcript, or a file given
            directly is not a Claude Code transcript.
    """

    tool = TOOL
    unit_name = "bytes"
    #: It pickles (paths and sizes) and its units open their files themselves, so a
    #: large history is parsed in a child process (:mod:`runtime.importers.parallel`).
    in_child = True

    def __init__(self, path: Path) -> None:
        self.files = transcript_files(
            path,
            "*.jsonl",
            _looks_like_claude,
            one="Claude Code transcript",
            many="Claude Code transcripts",
        )
        self.total = sum(p.stat().st_size for p in self.files)

    def close(self) -> None:
        """Nothing to release (files are opened per unit)."""

    def units(self, report: ImportReport) -> Iterator[Unit]:
        for path in self.files:
            if not first_record(path, _looks_like_claude):
                report.bad(str(path), 1, "not a Claude Code transcript; file skipped")
                report.advance(path.stat().st_size)
                continue
            yield ClaudeSession(path, subagent=path.stem.startswith("agent-"))
