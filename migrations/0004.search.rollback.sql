DROP TRIGGER search_titles_changed;
DROP TRIGGER search_title_keys_deleted;
DROP TRIGGER search_titles_deleted;
DROP TRIGGER search_events_deleted;
DROP TABLE search_progress;
DROP TABLE search_titles;
DROP TABLE search_title_keys;
DROP TABLE search_events;
