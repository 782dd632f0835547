-- depends: 0006.session-tags-recent
-- A word-level companion of the trigram index: frequent words cheaply, ranked.
--
-- Why: the trigram index (0004) finds any substring, but a frequent word is a phrase of
-- trigrams whose rows FTS5 must all match position by position, and bm25 counts them
-- all before ranking any: "function" at a million events took 0.8-1.5 s. A word index
-- answers the same word from one doclist (a few ms to count 300,000 rows), so a search
-- asks it first for whole words and word prefixes (ranked by bm25 among the newest
-- matches) and falls back to the trigram index only when words give fewer hits than
-- asked for (matches inside words, CJK runs, code identifiers' inner parts).
--
-- * tokenize = unicode61 with remove_diacritics 2: words split on anything that is not
--   a letter or digit, case and accents folded (the stored text is already folded).
-- * content = '': the text is already stored once, by search_events (same rowid, same
--   values); this table keeps only the word index (about a tenth of the trigram one).
--   A contentless row is deleted by giving its values back, which the BEFORE DELETE
--   trigger reads from search_events before 0004's AFTER DELETE trigger removes them.
-- * Every writer of search_events writes the same row here in the same statement shape
--   and batch (memory.sql.search_words.with_words); the rows already indexed are copied.

CREATE VIRTUAL TABLE search_words USING fts5 (
    mine, reply, tool, content = '', tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO search_words (rowid, mine, reply, tool)
SELECT rowid, mine, reply, tool FROM search_events;
-- One bulk insert leaves many small segments, which the next save points would merge
-- piece by piece (tripling their cost until done): merge them all now, once.
INSERT INTO search_words (search_words) VALUES ('optimize');

-- Fewer, larger merges of both indexes' segments (FTS5 merges a level once it holds this
-- many; the default 4 made merging most of a save point's index cost: 0.43 ms of CPU per
-- two-event save with both indexes at a million events, 0.23 ms at 8). Queries read up
-- to 7 segments per level instead of 3, which the figures above include.
INSERT INTO search_events (search_events, rank) VALUES ('automerge', 8);
INSERT INTO search_words (search_words, rank) VALUES ('automerge', 8);

CREATE TRIGGER search_words_deleted BEFORE DELETE ON conversation_events BEGIN
    INSERT INTO search_words (search_words, rowid, mine, reply, tool)
    SELECT 'delete', rowid, mine, reply, tool FROM search_events WHERE rowid = old.id;
END;
