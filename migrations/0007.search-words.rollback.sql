DROP TRIGGER search_words_deleted;
INSERT INTO search_events (search_events, rank) VALUES ('automerge', 4);
DROP TABLE search_words;
