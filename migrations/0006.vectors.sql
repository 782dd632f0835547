-- depends: 0005.organize
-- Semantic search (opt-in): one embedding per event, keyed by the stable event id.
--
-- Why this design:
-- * ``vector`` is little-endian float32, byte-identical to libSQL's ``vector32()``
--   format, so sqld ranks with ``vector_distance_cos(vector, vector32(?))`` in one
--   statement while the embedded engine (stdlib SQLite, no vector functions) reads the
--   same bytes into numpy. No ``libsql_vector_idx``: it makes the table unwritable for
--   stdlib SQLite and costs many times the disk; brute force is fast enough here.
-- * ``vector_state`` (one row) holds the fingerprint of the embedding space in use
--   (source, model, dimension, text recipe). A different fingerprint deletes every
--   vector in the same transaction that records it, and every insert is guarded by
--   the fingerprint, so two vector spaces never mix.
-- * ``indexed_upto``: every event with an id up to it has been considered by the
--   indexer (embedded, or skipped because it has no text worth embedding). It moves
--   in the same transaction as the vectors it covers, so a killed indexer resumes
--   where it stopped. Deleting the newest events lowers it to the largest id left
--   (their ids may be given out again), and deleting events deletes their vectors.
-- * Saving a turn never touches these tables: semantic search does not change how
--   turns are saved.

CREATE TABLE event_vectors (
    event_id   INTEGER PRIMARY KEY,
    model      TEXT NOT NULL,
    dimension  INTEGER NOT NULL CHECK (dimension > 0),
    vector     BLOB NOT NULL CHECK (length(vector) = 4 * dimension)
);

-- One row. ``embedded`` counts event_vectors (kept by triggers: count(*) would read every
-- vector); ``deletions`` changes whenever vectors or events go away, so a reader that
-- caches vectors knows when only new ones were added.
CREATE TABLE vector_state (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint   TEXT,
    model         TEXT,
    dimension     INTEGER,
    indexed_upto  INTEGER NOT NULL DEFAULT 0,
    embedded      INTEGER NOT NULL DEFAULT 0,
    deletions     INTEGER NOT NULL DEFAULT 0
);

INSERT INTO vector_state (id) VALUES (1);

-- (One statement per trigger: the remote driver refuses a statement holding several.)
CREATE TRIGGER event_vectors_added AFTER INSERT ON event_vectors BEGIN
    UPDATE vector_state SET embedded = embedded + 1 WHERE id = 1;
END;

CREATE TRIGGER event_vectors_removed AFTER DELETE ON event_vectors BEGIN
    UPDATE vector_state SET embedded = embedded - 1, deletions = deletions + 1 WHERE id = 1;
END;

CREATE TRIGGER event_vectors_event_deleted AFTER DELETE ON conversation_events BEGIN
    DELETE FROM event_vectors WHERE event_id = old.id;
END;

-- Only the newest ids can be given out again (a new row gets max(id) + 1), so the cursor
-- never needs to go below the largest id left: deleting an old session re-reads nothing.
CREATE TRIGGER vector_state_rewound AFTER DELETE ON conversation_events BEGIN
    UPDATE vector_state SET
        indexed_upto = min(indexed_upto, (SELECT coalesce(max(id), 0) FROM conversation_events)),
        deletions = deletions + 1
    WHERE id = 1;
END;
