CREATE TABLE conversation_events_unkeyed (
    session_id  TEXT NOT NULL REFERENCES sessions (id),
    seq         INTEGER NOT NULL CHECK (seq > 0),
    turn        INTEGER NOT NULL DEFAULT 1,
    kind        TEXT NOT NULL CHECK (kind <> ''),
    payload     TEXT NOT NULL CHECK (json_valid(payload)),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
);

INSERT INTO conversation_events_unkeyed (session_id, seq, turn, kind, payload, created_at)
SELECT session_id, seq, turn, kind, payload, created_at
FROM conversation_events
ORDER BY session_id, seq;

DROP TABLE conversation_events;

ALTER TABLE conversation_events_unkeyed RENAME TO conversation_events;
