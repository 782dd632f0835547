-- depends: 0003.event-keys
-- Full-text search: one FTS5 table of event text keyed on the stable event id, one of
-- session titles, triggers that keep deletions exact on every write path, and the
-- progress of the background backfill of events that predate this index.
--
-- Why this design:
-- * The indexed text is what runtime.payloads.searchable_text says a person may look
--   for, folded (NFKC, diacritics stripped: ``cafe`` finds ``caf\u00e9``). SQL cannot
--   compute either (json_extract cannot follow the readers' tolerant rules, and the
--   3.40 trigram tokenizer has no remove_diacritics), so the memory layer writes the
--   rows itself, in the same batch as the save point (one transaction, one round trip
--   remotely). That is why the tables store their own content (not external content
--   over conversation_events: the text is not a column there).
-- * tokenize = 'trigram': any substring of three or more characters matches, so CJK
--   text (no spaces to split on) and parts of code identifiers (AuthMid in
--   refactorAuthMiddleware, case_name in snake_case_name) are found; case folds.
-- * Three columns by who wrote the text, each row filling one of them, so bm25 weighs
--   the person's own words (mine) above replies (reply) and tool traffic (tool), and
--   a kind filter is an FTS5 column filter rather than a scan.
-- * Deletions go through triggers: forget, and any future path that deletes events or
--   sessions or changes a title (fork, organize), can never leave a stale hit.
--   A changed title drops its stale row here and the writer adds the folded new one.

CREATE VIRTUAL TABLE search_events USING fts5 (mine, reply, tool, tokenize = 'trigram');

INSERT INTO search_events (search_events, rank) VALUES ('rank', 'bm25(4.0, 1.0, 0.5)');

-- Session ids are text, and the implicit rowid of a table is not stable across VACUUM, so a
-- title row is keyed by an explicit integer key per session (found by the session id
-- through the unique index), never by a scan of the FTS table.
CREATE TABLE search_title_keys (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT NOT NULL UNIQUE
);

CREATE VIRTUAL TABLE search_titles USING fts5 (title, session_id UNINDEXED, tokenize = 'trigram');

-- One row: events with id <= backfill_until existed before the index and are indexed
-- by the background backfill, which has done every id <= backfill_done; titles_done
-- is 1 once existing titles are indexed. Later events are indexed as they are saved.
CREATE TABLE search_progress (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    backfill_until  INTEGER NOT NULL,
    backfill_done   INTEGER NOT NULL,
    titles_done     INTEGER NOT NULL
);

INSERT INTO search_progress (id, backfill_until, backfill_done, titles_done)
SELECT 1, coalesce(max(id), 0), 0,
       NOT EXISTS (SELECT 1 FROM sessions WHERE title IS NOT NULL)
FROM conversation_events;

CREATE TRIGGER search_events_deleted AFTER DELETE ON conversation_events BEGIN
    DELETE FROM search_events WHERE rowid = old.id;
END;

-- (One statement per trigger: the remote driver refuses a statement holding several.)
CREATE TRIGGER search_titles_deleted AFTER DELETE ON sessions BEGIN
    DELETE FROM search_title_keys WHERE session_id = old.id;
END;

CREATE TRIGGER search_title_keys_deleted AFTER DELETE ON search_title_keys BEGIN
    DELETE FROM search_titles WHERE rowid = old.id;
END;

CREATE TRIGGER search_titles_changed AFTER UPDATE OF title ON sessions
WHEN old.title IS NOT new.title BEGIN
    DELETE FROM search_titles
    WHERE rowid = (SELECT id FROM search_title_keys WHERE session_id = old.id);
END;
