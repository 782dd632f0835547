"""llm's message-store layout (``threads``, ``messages``, ``parts``, ``turns``): one
thread becomes one session, its message chain (tip back to root) its events."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from runtime.importers.base import (
    Chunk,
    EventBuilder,
    Existing,
    placeholder,
    session_id_for,
    short_title,
    to_ts,
    token_usage,
)
from runtime.importers.llm_db import EPOCH, TOOL, LlmDb, attachment_text, from_json
from runtime.importers.units import ImportReport

__all__ = ["LlmThread"]


class LlmThread:
    """One thread of the message-store layout."""

    def __init__(self, db: LlmDb, row: sqlite3.Row) -> None:
        self.db = db
        self.row = dict(row)
        self.key = f"thread:{self.row['id']}"
        self.session_id = session_id_for(TOOL, self.key)

    def _chain(self) -> list[dict[str, Any]]:
        chain: list[dict[str, Any]] = []
        seen: set[str] = set()
        node = self.row.get("tip_message_hash")
        while node and node not in seen:
            seen.add(node)
            found = self.db.rows(
                "SELECT hash, parent_hash, role, provider_metadata FROM messages WHERE hash = ?",
                (node,),
            )
            if not found:
                break
            chain.append(dict(found[0]))
            node = found[0]["parent_hash"]
        return chain[::-1]

    def chunks(self, existing: Existing | None, report: ImportReport) -> Iterator[Chunk]:
        chain = self._chain()
        start = 0
        if existing is not None:
            done = int(existing.source.get("records", 0))
            if done > len(chain) or (
                done and chain[done - 1]["hash"] != existing.source.get("last_key")
            ):
                yield Chunk.left(
                    self.session_id,
                    existing,
                    "rewritten",
                    "the thread moved to another branch since it was imported; not updated",
                )
                return
            if done == len(chain):
                yield Chunk.left(self.session_id, existing, "unchanged")
                return
            start = done
        turns = (
            [
                dict(r)
                for r in self.db.rows(
                    "SELECT * FROM turns WHERE thread_id = ? ORDER BY datetime_utc, rowid",
                    (self.row["id"],),
                )
            ]
            if "turns" in self.db.tables
            else []
        )
        index = {m["hash"]: i for i, m in enumerate(chain)}
        tips = sorted(
            (index[t["tip_message_hash"]], t) for t in turns if t.get("tip_message_hash") in index
        )
        builder = EventBuilder(
            turn=existing.turns if existing else 0,
            last_time=existing.updated_at if existing else to_ts(self.row.get("datetime_utc")),
        )
        title = self.row.get("name")
        model = None
        for position, message in enumerate(chain):
            turn = next((t for i, t in tips if i >= position), None)
            if turn is not None and turn.get("model"):
                model = turn.get("resolved_model") or turn["model"]
            if position < start:
                continue
            at = turn.get("datetime_utc") if turn is not None else None
            builder.where = f"{self.db.path} (message {message['hash']})"
            parts = self.db.rows(
                "SELECT * FROM parts WHERE message_hash = ? ORDER BY position", (message["hash"],)
            )
            text_title = self._message(
                message, [dict(p) for p in parts], at, model, turn, builder, report
            )
            title = title or text_title
        yield Chunk(
            session_id=self.session_id,
            title=title,
            model=model,
            created_at=to_ts(self.row.get("datetime_utc")) or builder.first_time or EPOCH,
            updated_at=builder.last_time or EPOCH,
            source={
                "tool": TOOL,
                "id": self.key,
                "file": str(self.db.path),
                "layout": "threads",
                "forked_from": self.row.get("forked_from"),
                "records": len(chain),
                "last_key": chain[-1]["hash"] if chain else None,
            },
            events=builder.take(),
            status="new" if existing is None else "grown",
        )

    def _message(
        self,
        message: dict[str, Any],
        parts: list[dict[str, Any]],
        at: Any,
        model: str | None,
        turn: dict[str, Any] | None,
        builder: EventBuilder,
        report: ImportReport,
    ) -> str | None:
        role = message.get("role")
        texts: list[str] = []
        title = None
        src = {
            "message_hash": message["hash"],
            "provider_metadata": from_json(message.get("provider_metadata")),
        }

        def flush() -> None:
            nonlocal title
            if not texts:
                return
            text = "\n".join(texts)
            texts.clear()
            if role == "user":
                builder.add(
                    "user", {"role": "user", "content": text}, at, source=src, new_turn=True
                )
                title = title or short_title(text)
            elif role == "assistant":
                payload: dict[str, Any] = {"role": "assistant", "content": text}
                if model:
                    payload["model"] = model
                # A turn's figures go on its first answer only (a turn may end in
                # several assistant messages).
                key = turn.get("tip_message_hash") if turn is not None else None
                if turn is not None and key != builder.usage_state.get("turn"):
                    builder.usage_state["turn"] = key
                    usage = token_usage(turn.get("input_tokens"), turn.get("output_tokens"))
                    if usage["total_tokens"]:
                        payload["usage"] = usage
                builder.add("assistant", payload, at, source=src)
            else:
                builder.add(
                    "system", {"role": "system", "content": text}, at, source={**src, "role": role}
                )

        for part in parts:
            ptype = part.get("type")
            payload = from_json(part.get("payload")) or {}
            if not isinstance(payload, dict):
                payload = {"value": payload}
            if ptype == "text":
                texts.append(part.get("text") or str(payload.get("text", "")))
            elif ptype == "attachment":
                texts.append(self._attachment(payload))
            elif ptype == "reasoning":
                flush()
                text = (
                    part.get("text")
                    or payload.get("text")
                    or ("[redacted reasoning]" if payload.get("redacted") else "")
                )
                builder.add("reasoning", {"content": str(text)}, at, source={**src, **payload})
            elif ptype == "tool_call":
                flush()
                call_id = str(payload.get("tool_call_id") or f"llm-part-{part['id']}")
                rest = {
                    k: v
                    for k, v in payload.items()
                    if k not in ("arguments", "tool_call_id", "name")
                }
                builder.call(
                    call_id,
                    part.get("tool_name") or str(payload.get("name", "")),
                    payload.get("arguments", {}),
                    at,
                    source={**src, **rest},
                )
            elif ptype == "tool_result":
                flush()
                call_id = str(payload.get("tool_call_id") or f"llm-part-{part['id']}")
                rest = {
                    k: v
                    for k, v in payload.items()
                    if k not in ("output", "tool_call_id", "name", "exception")
                }
                name = part.get("tool_name") or payload.get("name")
                if payload.get("exception"):
                    builder.result(
                        call_id,
                        None,
                        at,
                        error=str(payload["exception"]),
                        name=name,
                        source={**src, **rest},
                    )
                else:
                    builder.result(
                        call_id,
                        payload.get("output", part.get("text")),
                        at,
                        name=name,
                        source={**src, **rest},
                    )
            else:
                report.unknown[f"part:{ptype}"] += 1
                flush()
                builder.add(
                    "unknown",
                    {"type": f"part:{ptype}", "content": part.get("text") or ""},
                    at,
                    source={**src, **payload},
                )
        flush()
        return title

    def _attachment(self, payload: dict[str, Any]) -> str:
        attachment_id = payload.get("attachment_id")
        if attachment_id and "attachments" in self.db.tables:
            rows = self.db.rows(
                "SELECT id, type, path, url, length(content) AS size FROM attachments WHERE id = ?",
                (attachment_id,),
            )
            if rows:
                return attachment_text(rows[0])
        return placeholder(f"attachment {attachment_id or ''}".strip())
