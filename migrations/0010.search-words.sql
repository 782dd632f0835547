-- depends: 0009.session-tags-recent
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

-- Fewer, larger merges of both indexes' segments: FTS5 starts merging a level once it
-- holds `automerge` segments (default 4), and merging was most of a save point's index
-- cost. CPU of a two-event save with its index rows vs without (200,000 events, bench
-- save points): 2.0x at 4, 1.6x at 8, 1.4x at 16 with crisismerge 64 (so a level is
-- merged a little per write, not all at once when it reaches 16). Queries read up to
-- 15 segments per level instead of 3 (a b-tree lookup each), which the query figures
-- include.
INSERT INTO search_events (search_events, rank) VALUES ('automerge', 16);
INSERT INTO search_events (search_events, rank) VALUES ('crisismerge', 64);
INSERT INTO search_words (search_words, rank) VALUES ('automerge', 16);
INSERT INTO search_words (search_words, rank) VALUES ('crisismerge', 64);

CREATE TRIGGER search_words_deleted BEFORE DELETE ON conversation_events BEGIN
    INSERT INTO search_words (search_words, rowid, mine, reply, tool)
    SELECT 'delete', rowid, mine, reply, tool FROM search_events WHERE rowid = old.id;
END;
