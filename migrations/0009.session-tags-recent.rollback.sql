DROP TRIGGER session_tags_recent_gone;
DROP TRIGGER session_tags_recent_moved;
DROP TRIGGER session_tags_recent_removed;
DROP TRIGGER session_tags_recent_added;
DROP INDEX session_tags_recent_order;
DROP TABLE session_tags_recent;
