-- depends: 0012.home-list-order
-- The search indexes' segments are merged in the background (memory.sql.search_tidy), so a
-- search reads a few segments however long the history is.
--
-- Why: every save point's transaction adds one small segment to each FTS5 index, and
-- automerge (16, 0010) leaves up to 15 segments per level before it merges; a query reads
-- every segment (a b-tree lookup each per term). On a million events the indexes held 40
-- segments and a rare word's trigram query took 0.58 ms against 0.19 ms on 10,000 events
-- (13 segments); merged into one segment it took 0.04 ms. Save points keep their cheap
-- automerge; the app's idle time merges the rest with FTS5's 'merge' command, a bounded
-- number of pages per transaction.
--
-- * usermerge = 2: 'merge' takes any level holding two segments or more (default 4), so
--   the merged indexes keep about one segment per level (measured: 2-3 segments after
--   200 save points, merged in under 6 ms).
-- * Only a configuration value changes (the %_config rows): no index row is rewritten.

INSERT INTO search_events (search_events, rank) VALUES ('usermerge', 2);
INSERT INTO search_words (search_words, rank) VALUES ('usermerge', 2);
INSERT INTO search_titles (search_titles, rank) VALUES ('usermerge', 2);
