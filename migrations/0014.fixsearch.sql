-- depends: 0013.search-tidy
-- Long events are indexed anew with their end as well as their start.
--
-- Why: the index held the first 4 KB of a tool call or result and the first 32 KB of a
-- message, so the error at the end of a long build log, or the end of a pasted log, was
-- found by no search. runtime.payloads now indexes up to 128 KB of a message and, of a
-- longer text, its start and its end (tool traffic: 2 KB + 2 KB; messages: 96 KB + 32 KB).
--
-- The index rows of every event whose text may have been cut (a payload over 2,048
-- characters for tool traffic: its text can be half again as long as its JSON; over
-- 32,768 for the rest) are removed from both indexes and the background backfill
-- (runtime.search_index) is pointed at their id range: it indexes them again with the
-- runtime's reader, skipping events that still have their row, so the index stays
-- exact (tests/search/consistency.py) and meanwhile the rest stays searchable.
-- Nothing else changes; no event row is touched.

CREATE TABLE search_reindex_0014 (id INTEGER PRIMARY KEY);

INSERT INTO search_reindex_0014 (id)
SELECT e.id FROM conversation_events e
WHERE length(e.payload) > CASE WHEN substr(e.kind, 1, 4) = 'tool' THEN 2048 ELSE 32768 END
  AND EXISTS (SELECT 1 FROM search_events f WHERE f.rowid = e.id);

-- The word index is contentless: a row is removed by giving its values back.
INSERT INTO search_words (search_words, rowid, mine, reply, tool)
SELECT 'delete', f.rowid, f.mine, f.reply, f.tool
FROM search_reindex_0014 r JOIN search_events f ON f.rowid = r.id;

DELETE FROM search_events WHERE rowid IN (SELECT id FROM search_reindex_0014);

UPDATE search_progress SET
    backfill_done = min(
        backfill_done, coalesce((SELECT min(id) - 1 FROM search_reindex_0014), backfill_done)
    ),
    backfill_until = max(
        backfill_until, coalesce((SELECT max(id) FROM search_reindex_0014), backfill_until)
    )
WHERE id = 1;

DROP TABLE search_reindex_0014;
