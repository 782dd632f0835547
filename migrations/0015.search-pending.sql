-- depends: 0014.search-long-events
-- A save point's substring rows wait in a plain table; idle time moves them into the
-- trigram index in batches.
--
-- Why: a save point wrote one row into each of the two FTS5 indexes in its own
-- transaction, and FTS5 writes a new segment, its structure record and its averages for
-- every table written in a transaction, whatever the text. That cost a save point 1.5x
-- its time without the index (1M events, two events per save point), and 1.38x with a
-- single three-letter token per row, so no choice of text could bring it to 1.3x while
-- both indexes were written per save point. The trigram index's share (0.11 ms of
-- 0.51 ms) is moved out of the save point: the save point writes the word index row
-- (ranked word search stays exact at once) and its text into search_pending (an
-- ordinary b-tree insert: 1.2x in all); memory.sql.search.LibsqlSearch.settle_search
-- moves pending rows into search_events a few hundred per transaction (about 30 us an
-- event instead of 55), called when the persistence worker goes idle and by the tidy.
--
-- * An event saved is findable at once: by word from search_words, and by substring
--   (inside words, CJK, identifiers' parts) by a scan of the pending rows, which every
--   search statement adds to its trigram tier (memory.sql.search_pending).
-- * A pending row is the trigram row it will become (same id, same folded columns), so
--   an event's text is read from either table, and the word index's contentless rows are
--   deleted with the values from whichever holds them.
-- * Pending rows go with their events (forget, and any other delete) like index rows.

-- folded: the text case-folded (Python's str.casefold) when it holds letters beyond
-- ASCII whose case SQLite's lower() does not fold (Greek, Cyrillic); NULL otherwise. The
-- scan compares terms with it, so a cased non-ASCII term finds a waiting row as the
-- trigram tokenizer (which folds every case) will find it once moved.
CREATE TABLE search_pending (
    id      INTEGER PRIMARY KEY,
    mine    TEXT NOT NULL,
    reply   TEXT NOT NULL,
    tool    TEXT NOT NULL,
    folded  TEXT
);

DROP TRIGGER search_words_deleted;

CREATE TRIGGER search_words_deleted BEFORE DELETE ON conversation_events BEGIN
    INSERT INTO search_words (search_words, rowid, mine, reply, tool)
    SELECT 'delete', rowid, mine, reply, tool FROM search_events WHERE rowid = old.id
    UNION ALL
    SELECT 'delete', id, mine, reply, tool FROM search_pending WHERE id = old.id;
END;

CREATE TRIGGER search_pending_deleted AFTER DELETE ON conversation_events BEGIN
    DELETE FROM search_pending WHERE id = old.id;
END;
