DROP TRIGGER search_words_deleted;
DROP TABLE search_words;
