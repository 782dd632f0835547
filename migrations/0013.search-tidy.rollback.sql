-- Back to FTS5's default usermerge (no row in the %_config tables); merged segments stay merged.
DELETE FROM search_events_config WHERE k = 'usermerge';
DELETE FROM search_words_config WHERE k = 'usermerge';
DELETE FROM search_titles_config WHERE k = 'usermerge';
