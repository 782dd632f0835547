"""Build llm ``logs.db`` files with llm's real schema (as its migrations leave it).

The released layout is what migrations m001-m022 (``m022_response_reasoning``) create
through sqlite-utils; the message-store layout is ``m023_message_store``. Column names
and order follow llm's ``migrations.py``.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

RELEASED_SCHEMA = """
CREATE TABLE [_llm_migrations] ([name] TEXT PRIMARY KEY, [applied_at] TEXT);
CREATE TABLE [conversations] ([id] TEXT PRIMARY KEY, [name] TEXT, [model] TEXT);
CREATE TABLE [schemas] ([id] TEXT PRIMARY KEY, [content] TEXT);
CREATE TABLE "responses" (
   [id] TEXT PRIMARY KEY, [model] TEXT, [prompt] TEXT, [system] TEXT, [prompt_json] TEXT,
   [options_json] TEXT, [response] TEXT, [response_json] TEXT,
   [conversation_id] TEXT REFERENCES [conversations]([id]), [duration_ms] INTEGER,
   [datetime_utc] TEXT, [input_tokens] INTEGER, [output_tokens] INTEGER, [token_details] TEXT,
   [schema_id] TEXT REFERENCES [schemas]([id]), [resolved_model] TEXT, [reasoning] TEXT
);
CREATE VIRTUAL TABLE [responses_fts] USING FTS5 ([prompt], [response], content=[responses]);
CREATE TABLE [attachments] ([id] TEXT PRIMARY KEY, [type] TEXT, [path] TEXT, [url] TEXT,
   [content] BLOB);
CREATE TABLE [prompt_attachments] ([response_id] TEXT REFERENCES [responses]([id]),
   [attachment_id] TEXT REFERENCES [attachments]([id]), [order] INTEGER,
   PRIMARY KEY ([response_id], [attachment_id]));
CREATE TABLE [tools] ([id] INTEGER PRIMARY KEY, [hash] TEXT, [name] TEXT, [description] TEXT,
   [input_schema] TEXT, [plugin] TEXT);
CREATE TABLE [tool_responses] ([tool_id] INTEGER REFERENCES [tools]([id]),
   [response_id] TEXT REFERENCES [responses]([id]), PRIMARY KEY ([tool_id], [response_id]));
CREATE TABLE [tool_calls] ([id] INTEGER PRIMARY KEY,
   [response_id] TEXT REFERENCES [responses]([id]), [tool_id] INTEGER REFERENCES [tools]([id]),
   [name] TEXT, [arguments] TEXT, [tool_call_id] TEXT);
CREATE TABLE [tool_instances] ([id] INTEGER PRIMARY KEY, [plugin] TEXT, [name] TEXT,
   [arguments] TEXT);
CREATE TABLE [tool_results] ([id] INTEGER PRIMARY KEY,
   [response_id] TEXT REFERENCES [responses]([id]), [tool_id] INTEGER REFERENCES [tools]([id]),
   [name] TEXT, [output] TEXT, [tool_call_id] TEXT,
   [instance_id] INTEGER REFERENCES [tool_instances]([id]), [exception] TEXT);
CREATE TABLE [tool_results_attachments] (
   [tool_result_id] INTEGER REFERENCES [tool_results]([id]),
   [attachment_id] TEXT REFERENCES [attachments]([id]), [order] INTEGER,
   PRIMARY KEY ([tool_result_id], [attachment_id]));
"""

MESSAGE_STORE_SCHEMA = """
CREATE TABLE [messages] ([hash] TEXT PRIMARY KEY,
   [parent_hash] TEXT REFERENCES [messages]([hash]), [role] TEXT, [provider_metadata] TEXT);
CREATE INDEX [idx_messages_parent_hash] ON [messages] ([parent_hash]);
CREATE TABLE [parts] ([id] INTEGER PRIMARY KEY,
   [message_hash] TEXT REFERENCES [messages]([hash]), [position] INTEGER, [type] TEXT,
   [tool_name] TEXT, [text] TEXT, [payload] TEXT);
CREATE UNIQUE INDEX [idx_parts_message_hash_position] ON [parts] ([message_hash], [position]);
CREATE TABLE [threads] ([id] TEXT PRIMARY KEY, [name] TEXT,
   [tip_message_hash] TEXT REFERENCES [messages]([hash]),
   [forked_from] TEXT REFERENCES [threads]([id]), [datetime_utc] TEXT);
CREATE TABLE [turns] ([id] TEXT PRIMARY KEY, [thread_id] TEXT REFERENCES [threads]([id]),
   [parent_message_hash] TEXT REFERENCES [messages]([hash]),
   [tip_message_hash] TEXT REFERENCES [messages]([hash]), [model] TEXT, [resolved_model] TEXT,
   [options_json] TEXT, [schema_id] TEXT, [input_tokens] INTEGER, [output_tokens] INTEGER,
   [token_details] TEXT, [duration_ms] INTEGER, [datetime_utc] TEXT);
"""

_MIGRATIONS = [
    "m001_initial",
    "m002_id_primary_key",
    "m003_chat_id_foreign_key",
    "m004_column_order",
    "m004_drop_provider",
    "m005_debug",
    "m006_new_logs_table",
    "m007_finish_logs_table",
    "m008_reply_to_id_foreign_key",
    "m008_fix_column_order_in_logs",
    "m009_delete_logs_table_if_empty",
    "m010_create_new_log_tables",
    "m011_fts_for_responses",
    "m012_attachments_tables",
    "m013_usage",
    "m014_schemas",
    "m015_fragments_tables",
    "m016_fragments_table_pks",
    "m017_tools_tables",
    "m017_tools_plugin",
    "m018_tool_instances",
    "m019_resolved_model",
    "m020_tool_results_attachments",
    "m021_tool_results_exception",
    "m022_response_reasoning",
]


def _response(db: sqlite3.Connection, **row: object) -> None:
    columns = ", ".join(f"[{k}]" for k in row)
    marks = ", ".join("?" for _ in row)
    db.execute(f"INSERT INTO responses ({columns}) VALUES ({marks})", list(row.values()))


def build_released(path: Path) -> None:
    """A logs.db of the released layout: a tool-using conversation, an image prompt,
    a failing tool, and a response logged without a conversation."""
    db = sqlite3.connect(path)
    db.executescript(RELEASED_SCHEMA)
    db.executemany(
        "INSERT INTO _llm_migrations VALUES (?, ?)",
        [(name, "2025-05-01 10:00:00+00:00") for name in _MIGRATIONS],
    )
    db.execute(
        "INSERT INTO conversations VALUES ('01jv-conv-a', 'Weather in Paris', 'gpt-4o-mini')"
    )
    db.execute(
        "INSERT INTO tools (id, hash, name, description, input_schema, plugin) VALUES "
        "(1, 'h1', 'get_weather', 'Weather for a city', '{}', 'weather')"
    )
    _response(
        db,
        id="01jv-r1",
        model="gpt-4o-mini",
        prompt="What's the weather in Paris?",
        system="You are a concise assistant.",
        prompt_json=json.dumps({"messages": [{"role": "user", "content": "..."}]}),
        options_json="{}",
        response="",
        response_json=json.dumps({"finish_reason": "tool_calls"}),
        conversation_id="01jv-conv-a",
        duration_ms=800,
        datetime_utc="2025-05-01T10:00:00.100000",
        input_tokens=50,
        output_tokens=12,
        resolved_model="gpt-4o-mini-2024-07-18",
    )
    db.execute(
        "INSERT INTO tool_calls (response_id, tool_id, name, arguments, tool_call_id) "
        "VALUES ('01jv-r1', 1, 'get_weather', '{\"city\": \"Paris\"}', 'call_w1')"
    )
    _response(
        db,
        id="01jv-r2",
        model="gpt-4o-mini",
        prompt="",
        system="You are a concise assistant.",
        options_json="{}",
        response="It is 18°C and sunny in Paris.",
        conversation_id="01jv-conv-a",
        duration_ms=600,
        datetime_utc="2025-05-01T10:00:02.500000",
        input_tokens=70,
        output_tokens=10,
        token_details=json.dumps({"cached_tokens": 0}),
    )
    db.execute(
        "INSERT INTO tool_results (response_id, tool_id, name, output, tool_call_id) "
        "VALUES ('01jv-r2', 1, 'get_weather', '18C, sunny', 'call_w1')"
    )
    _response(
        db,
        id="01jv-r3",
        model="gpt-4o-mini",
        prompt="What is in this photo?",
        options_json="{}",
        response="A cat asleep on a sofa.",
        reasoning="The image shows a cat; it is lying down with closed eyes.",
        conversation_id="01jv-conv-a",
        datetime_utc="2025-05-01T10:05:00.000000",
    )
    db.execute(
        "INSERT INTO attachments VALUES ('att-cat', 'image/jpeg', '/home/ana/cat.jpg', NULL, ?)",
        [b"\xff\xd8\xff" + b"\x00" * 2045],
    )
    db.execute("INSERT INTO prompt_attachments VALUES ('01jv-r3', 'att-cat', 0)")
    _response(
        db,
        id="01jv-r4",
        model="gpt-4o-mini",
        prompt="And in Atlantis?",
        options_json="{}",
        response="I could not get the weather for Atlantis.",
        conversation_id="01jv-conv-a",
        datetime_utc="2025-05-01T10:06:00.000000",
    )
    db.execute(
        "INSERT INTO tool_results (response_id, tool_id, name, output, tool_call_id, exception) "
        "VALUES ('01jv-r4', 1, 'get_weather', '', 'call_w2', 'ValueError: unknown city')"
    )
    _response(
        db,
        id="01jv-r9",
        model="claude-3.5-haiku",
        prompt="Say hi",
        response="Hi!",
        conversation_id=None,
        datetime_utc="2025-05-02T08:00:00.000000",
    )
    db.commit()
    db.close()


def add_released_response(path: Path) -> None:
    """The conversation goes on: one more response (what ``llm -c`` would log)."""
    db = sqlite3.connect(path)
    _response(
        db,
        id="01jv-r5",
        model="gpt-4o-mini",
        prompt="Thanks!",
        response="You're welcome.",
        conversation_id="01jv-conv-a",
        datetime_utc="2025-05-01T10:07:00.000000",
    )
    db.commit()
    db.close()


def _message(db: sqlite3.Connection, hash_: str, parent: str | None, role: str) -> None:
    db.execute("INSERT INTO messages VALUES (?, ?, ?, NULL)", (hash_, parent, role))


def _part(
    db: sqlite3.Connection,
    message: str,
    position: int,
    type_: str,
    *,
    text: str | None = None,
    tool_name: str | None = None,
    payload: dict[str, object] | None = None,
) -> None:
    db.execute(
        "INSERT INTO parts (message_hash, position, type, tool_name, text, payload) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            message,
            position,
            type_,
            tool_name,
            text,
            None if payload is None else json.dumps(payload),
        ),
    )


def build_message_store(path: Path) -> None:
    """Add the message-store layout (llm's m023) with one thread to ``path``."""
    db = sqlite3.connect(path)
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'attachments'").fetchone():
        db.execute(
            "CREATE TABLE [attachments] ([id] TEXT PRIMARY KEY, [type] TEXT, [path] TEXT, "
            "[url] TEXT, [content] BLOB)"
        )
    db.executescript(MESSAGE_STORE_SCHEMA)
    db.execute(
        "INSERT INTO attachments VALUES ('att-log', 'text/plain', NULL, "
        "'https://example.com/build.log', NULL)"
    )
    _message(db, "h1", None, "system")
    _part(db, "h1", 0, "text", text="You help with Rust.")
    _message(db, "h2", "h1", "user")
    _part(db, "h2", 0, "text", text="Why does my build fail?")
    _part(db, "h2", 1, "attachment", payload={"attachment_id": "att-log"})
    _message(db, "h3", "h2", "assistant")
    _part(db, "h3", 0, "reasoning", text="Need to look at the log first.")
    _part(db, "h3", 1, "text", text="Let me search the log.")
    _part(
        db,
        "h3",
        2,
        "tool_call",
        tool_name="grep",
        payload={"arguments": {"pattern": "error"}, "tool_call_id": "tc_1"},
    )
    _message(db, "h4", "h3", "tool")
    _part(
        db,
        "h4",
        0,
        "tool_result",
        tool_name="grep",
        payload={"output": "error[E0308]: mismatched types", "tool_call_id": "tc_1"},
    )
    _message(db, "h5", "h4", "assistant")
    _part(db, "h5", 0, "text", text="A type mismatch: E0308.")
    db.execute(
        "INSERT INTO threads VALUES ('th-1', 'Rust build', 'h5', NULL, '2025-07-01T12:00:00+00:00')"
    )
    db.executemany(
        "INSERT INTO turns (id, thread_id, parent_message_hash, tip_message_hash, model, "
        "input_tokens, output_tokens, datetime_utc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ("tu-1", "th-1", "h2", "h3", "gpt-5", 40, 9, "2025-07-01T12:00:01+00:00"),
            ("tu-2", "th-1", "h4", "h5", "gpt-5", 60, 8, "2025-07-01T12:00:05+00:00"),
        ],
    )
    db.commit()
    db.close()
