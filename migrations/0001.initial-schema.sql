-- turnkeep schema v1: sessions, ordered conversation events, state snapshots.
-- JSON-first: payloads and metadata are JSON text checked by json_valid().
-- Never edit this file once released; add a new numbered migration instead.

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    title       TEXT,
    agent       TEXT,
    provider    TEXT,
    model       TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    -- Denormalised counters kept by the same transaction that appends events, so the
    -- recent list never counts events and seq allocation is one UPDATE.
    last_seq    INTEGER NOT NULL DEFAULT 0,
    event_count INTEGER NOT NULL DEFAULT 0,
    turn_count  INTEGER NOT NULL DEFAULT 0,
    metadata    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata))
);

-- The recent-sessions list: newest activity first, keyset-paged on (updated_at, id).
CREATE INDEX sessions_recent ON sessions (updated_at DESC, id DESC);

CREATE TABLE conversation_events (
    session_id  TEXT NOT NULL REFERENCES sessions (id),
    seq         INTEGER NOT NULL CHECK (seq > 0),
    turn        INTEGER NOT NULL DEFAULT 1,
    kind        TEXT NOT NULL CHECK (kind <> ''),
    payload     TEXT NOT NULL CHECK (json_valid(payload)),
    created_at  TEXT NOT NULL,
    -- Restore reads by this key, in order, forwards or backwards.
    PRIMARY KEY (session_id, seq)
);

CREATE TABLE session_state (
    session_id  TEXT NOT NULL REFERENCES sessions (id),
    seq         INTEGER NOT NULL,
    state       TEXT NOT NULL CHECK (json_valid(state)),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
);
