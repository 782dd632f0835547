-- depends: 0013.search-tidy
-- Long events are indexed anew with their end as well as their start.
--
-- Why: the index held the first 4 KB of a tool call or result and the first 32 KB of a
-- message, so the error at the end of a long build log, or the end of a pasted log, was
-- found by no search. runtime.payloads now indexes up to 128 KB of a message and, of a
-- longer text, its start and its end (tool traffic: 2 KB + 2 KB; messages: 96 KB + 32 KB).
--
-- Nothing is re-indexed here: opening a database with a million events must not wait
-- for it. The background backfill (runtime.search_index) walks the events that existed
-- before this migration again, from the first: an event whose text may have been cut
-- (a payload over 2,048 characters for tool traffic, over 32,768 for the rest) gets its
-- rows in both indexes replaced by rows of its start and end, one batch per
-- transaction, so the index stays exact (tests/search/consistency.py) once the walk is
-- done, and meanwhile every event stays findable by what its rows held before.
-- Nothing else changes; no event row is touched.

-- Events with ids up to this one were indexed the old way (0: nothing to re-index).
ALTER TABLE search_progress ADD COLUMN reindex_upto INTEGER NOT NULL DEFAULT 0;

UPDATE search_progress SET
    reindex_upto = (SELECT coalesce(max(id), 0) FROM conversation_events),
    backfill_done = 0,
    backfill_until = max(backfill_until, (SELECT coalesce(max(id), 0) FROM conversation_events))
WHERE id = 1;
