DROP TRIGGER search_words_deleted;
INSERT INTO search_events (search_events, rank) VALUES ('automerge', 4);
INSERT INTO search_events (search_events, rank) VALUES ('crisismerge', 16);
DROP TABLE search_words;
