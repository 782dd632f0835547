-- Pending rows become trigram rows (their word rows are already there), and the delete
-- trigger reads search_events alone again.
INSERT INTO search_events (rowid, mine, reply, tool) SELECT id, mine, reply, tool FROM search_pending;
DROP TRIGGER search_pending_deleted;
DROP TRIGGER search_words_deleted;
CREATE TRIGGER search_words_deleted BEFORE DELETE ON conversation_events BEGIN
    INSERT INTO search_words (search_words, rowid, mine, reply, tool)
    SELECT 'delete', rowid, mine, reply, tool FROM search_events WHERE rowid = old.id;
END;
DROP TABLE search_pending;
