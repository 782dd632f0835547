-- depends: 0002.save-points
-- Stable event keys: every event gets an explicit INTEGER PRIMARY KEY ``id``.
-- An implicit rowid may change on VACUUM, so anything that refers to one event from
-- outside its row (the full-text index, later vectors) needs a declared key. The
-- table is rebuilt (SQLite cannot add a primary key in place): rows are copied in
-- (session_id, seq) order, so ids follow each session's order and every column keeps
-- its exact value; (session_id, seq) stays unique, which also keeps the index that
-- recall pages by.

CREATE TABLE conversation_events_keyed (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions (id),
    seq         INTEGER NOT NULL CHECK (seq > 0),
    turn        INTEGER NOT NULL DEFAULT 1,
    kind        TEXT NOT NULL CHECK (kind <> ''),
    payload     TEXT NOT NULL CHECK (json_valid(payload)),
    created_at  TEXT NOT NULL,
    -- Restore reads by this key, in order, forwards or backwards.
    UNIQUE (session_id, seq)
);

INSERT INTO conversation_events_keyed (session_id, seq, turn, kind, payload, created_at)
SELECT session_id, seq, turn, kind, payload, created_at
FROM conversation_events
ORDER BY session_id, seq;

DROP TABLE conversation_events;

ALTER TABLE conversation_events_keyed RENAME TO conversation_events;
