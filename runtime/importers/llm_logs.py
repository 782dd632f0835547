"""simonw/llm's ``logs.db`` (``llm logs path``), opened read-only.

Two layouts, read wherever present:

* the released one (migrations ``m010`` on): ``conversations`` (``id``, ``name``,
  ``model``) and ``responses`` (``id``, ``model``, ``resolved_model``, ``prompt``,
  ``system``, ``prompt_json``, ``options_json``, ``response``, ``response_json``,
  ``conversation_id``, ``duration_ms``, ``datetime_utc``, ``input_tokens``,
  ``output_tokens``, ``token_details``, ``schema_id``, later ``reasoning``), with
  ``attachments`` + ``prompt_attachments``, and ``tool_calls`` / ``tool_results``
  (``tool_call_id``, ``name``, ``arguments`` / ``output``, ``exception``; results are the
  *input* of the response they belong to, calls its output);
* the message-store one (migration ``m023_message_store``): ``threads`` (``id``,
  ``name``, ``tip_message_hash``, ``forked_from``, ``datetime_utc``) whose messages are a
  chain of ``messages`` (``hash``, ``parent_hash``, ``role``) with ordered ``parts``
  (``type`` text/reasoning/tool_call/tool_result/attachment, ``tool_name``, ``text``,
  ``payload`` JSON), and ``turns`` (one model call: ``parent_message_hash``,
  ``tip_message_hash``, ``model``, tokens, ``datetime_utc``).

A conversation (or a thread) becomes a session; a response with no conversation is a
session of its own. Column sets differ between llm versions, so rows are read by name.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runtime.importers.base import (
    Chunk,
    EventBuilder,
    Existing,
    SourceFormatError,
    session_id_for,
    short_title,
    to_ts,
    token_usage,
)
from runtime.importers.llm_db import (
    EPOCH,
    TOOL,
    LlmDb,
    attachment_text,
    default_path,
    from_json,
)
from runtime.importers.llm_threads import LlmThread
from runtime.importers.units import ImportReport, Unit

__all__ = ["LlmReader", "default_path"]


class LlmConversation:
    """The responses of one conversation (the released layout)."""

    def __init__(
        self, db: LlmDb, key: str, name: str | None, model: str | None, orphan: bool
    ) -> None:
        self.db = db
        self.key = key
        self.name = name
        self.model = model
        self.orphan = orphan
        self.session_id = session_id_for(TOOL, key)

    def _responses(self) -> list[sqlite3.Row]:
        where = "id = ?" if self.orphan else "conversation_id = ?"
        return self.db.rows(
            f"SELECT * FROM responses WHERE {where} ORDER BY datetime_utc, rowid", (self.key,)
        )

    def chunks(self, existing: Existing | None, report: ImportReport) -> Iterator[Chunk]:
        responses = self._responses()
        start = 0
        if existing is not None:
            done = int(existing.source.get("records", 0))
            if done > len(responses) or (
                done and responses[done - 1]["id"] != existing.source.get("last_key")
            ):
                yield Chunk.left(
                    self.session_id,
                    existing,
                    "rewritten",
                    "its responses in logs.db changed since it was imported; not updated",
                )
                return
            if done == len(responses):
                yield Chunk.left(self.session_id, existing, "unchanged")
                return
            start = done
        builder = EventBuilder(
            turn=existing.turns if existing else 0,
            last_time=existing.updated_at if existing else None,
        )
        system: str | None = None
        title = self.name
        for row in responses[start:]:
            data = dict(row)
            builder.where = f"{self.db.path} (response {data['id']})"
            at = data.get("datetime_utc")
            rest = {
                k: from_json(v)
                for k, v in data.items()
                if k not in ("prompt", "system", "response", "reasoning")
            }
            if data.get("system") and data["system"] != system:
                system = data["system"]
                builder.add(
                    "system",
                    {"role": "system", "content": str(system)},
                    at,
                    source={"response_id": data["id"]},
                )
            if "tool_results" in self.db.tables:
                self._tool_results(data["id"], at, builder)
            prompt = data.get("prompt") or ""
            attachments = self._attachments(data["id"])
            if prompt or attachments:
                text = "\n".join([prompt, *attachments]) if prompt else "\n".join(attachments)
                builder.add(
                    "user",
                    {"role": "user", "content": text},
                    at,
                    source={"response_id": data["id"]},
                    new_turn=True,
                )
                title = title or short_title(prompt)
            if data.get("reasoning"):
                builder.add(
                    "reasoning",
                    {"content": str(data["reasoning"])},
                    at,
                    source={"response_id": data["id"]},
                )
            payload: dict[str, Any] = {"role": "assistant", "content": data.get("response") or ""}
            model = data.get("resolved_model") or data.get("model")
            if model:
                payload["model"] = model
            usage = token_usage(data.get("input_tokens"), data.get("output_tokens"))
            if data.get("token_details"):
                usage["details"] = from_json(data["token_details"])
            if usage["total_tokens"] or "details" in usage:
                payload["usage"] = usage
            builder.add("assistant", payload, at, source=rest)
            if "tool_calls" in self.db.tables:
                for call in self.db.rows(
                    "SELECT * FROM tool_calls WHERE response_id = ? ORDER BY id", (data["id"],)
                ):
                    call_id = call["tool_call_id"] or f"llm-call-{call['id']}"
                    builder.call(
                        call_id,
                        call["name"] or "",
                        from_json(call["arguments"]) or {},
                        at,
                        source={"tool_calls.id": call["id"], "tool_id": call["tool_id"]},
                    )
        last = responses[-1] if responses else None
        yield Chunk(
            session_id=self.session_id,
            title=title,
            model=self.model or (last["model"] if last is not None else None),
            created_at=to_ts(responses[0]["datetime_utc"]) or EPOCH if responses else EPOCH,
            updated_at=builder.last_time or EPOCH,
            source={
                "tool": TOOL,
                "id": self.key,
                "file": str(self.db.path),
                "layout": "responses",
                "records": len(responses),
                "last_key": last["id"] if last is not None else None,
            },
            events=builder.take(),
            status="new" if existing is None else "grown",
        )

    def _attachments(self, response_id: str) -> list[str]:
        if "prompt_attachments" not in self.db.tables or "attachments" not in self.db.tables:
            return []
        rows = self.db.rows(
            "SELECT a.id, a.type, a.path, a.url, length(a.content) AS size "
            "FROM prompt_attachments p JOIN attachments a ON a.id = p.attachment_id "
            'WHERE p.response_id = ? ORDER BY p."order"',
            (response_id,),
        )
        return [attachment_text(r) for r in rows]

    def _tool_results(self, response_id: str, at: Any, builder: EventBuilder) -> None:
        cols = self.db.columns.get("tool_results", set())
        for row in self.db.rows(
            "SELECT * FROM tool_results WHERE response_id = ? ORDER BY id", (response_id,)
        ):
            data = dict(row)
            call_id = data.get("tool_call_id") or f"llm-result-{data['id']}"
            extra: list[str] = []
            if "tool_results_attachments" in self.db.tables:
                extra = [
                    attachment_text(r)
                    for r in self.db.rows(
                        "SELECT a.id, a.type, a.path, a.url, length(a.content) AS size "
                        "FROM tool_results_attachments t "
                        "JOIN attachments a ON a.id = t.attachment_id "
                        'WHERE t.tool_result_id = ? ORDER BY t."order"',
                        (data["id"],),
                    )
                ]
            output = "\n".join([data.get("output") or "", *extra]) if extra else data.get("output")
            source = {
                k: v
                for k, v in data.items()
                if k not in ("output", "tool_call_id", "name", "exception")
            }
            if "exception" in cols and data.get("exception"):
                builder.result(
                    call_id,
                    None,
                    at,
                    error=str(data["exception"]),
                    name=data.get("name"),
                    source=source,
                )
            else:
                builder.result(call_id, output, at, name=data.get("name"), source=source)


class LlmReader:
    """The conversations and threads of a ``logs.db``.

    Raises:
        SourceFormatError: the file does not exist, is not SQLite, or has neither of
            llm's layouts.
    """

    tool = TOOL
    unit_name = "conversations"

    def __init__(self, path: Path) -> None:
        path = path.expanduser().absolute()
        if not path.is_file():
            raise SourceFormatError(f"{path} does not exist or is not a file")
        self.db = LlmDb(path)
        tables = self.db.tables
        self.old = "responses" in tables
        self.new = {"threads", "messages", "parts"} <= tables
        if not (self.old or self.new):
            self.db.close()
            raise SourceFormatError(
                f"{path} is not an llm logs database (no responses or threads table)"
            )
        self.total = 0
        if self.old:
            self.total += int(
                self.db.rows("SELECT count(DISTINCT coalesce(conversation_id, id)) FROM responses")[
                    0
                ][0]
            )
        if self.new:
            self.total += int(self.db.rows("SELECT count(*) FROM threads")[0][0])

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def units(self, report: ImportReport) -> Iterator[Unit]:
        if self.old:
            has_conversations = "conversations" in self.db.tables
            if has_conversations:
                for row in self.db.rows(
                    "SELECT c.id, c.name, c.model FROM conversations c "
                    "WHERE EXISTS (SELECT 1 FROM responses r WHERE r.conversation_id = c.id) "
                    "ORDER BY c.id"
                ):
                    report.advance(1)
                    yield LlmConversation(
                        self.db, str(row["id"]), row["name"], row["model"], orphan=False
                    )
            orphans = self.db.rows(
                "SELECT id FROM responses WHERE conversation_id IS NULL"
                + (
                    " OR conversation_id NOT IN (SELECT id FROM conversations)"
                    if has_conversations
                    else ""
                )
                + " ORDER BY datetime_utc, rowid"
            )
            for row in orphans:
                report.advance(1)
                yield LlmConversation(self.db, str(row["id"]), None, None, orphan=True)
        if self.new:
            for row in self.db.rows("SELECT * FROM threads ORDER BY datetime_utc, id"):
                report.advance(1)
                yield LlmThread(self.db, row)
