-- depends: 0001.initial-schema
-- Idempotent save points: the persistence worker gives each save point a key, so a
-- retry after an ambiguous failure (a timeout or a dropped connection after the server
-- committed) cannot store the same events twice. One row per save point.

CREATE TABLE save_points (
    session_id  TEXT NOT NULL REFERENCES sessions (id),
    key         TEXT NOT NULL,
    first_seq   INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (session_id, key)
);
