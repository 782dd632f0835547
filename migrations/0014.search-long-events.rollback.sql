-- The walk's marker goes; events indexed again with their start and end keep those rows
-- (an older reader finds a superset of what it indexed).
ALTER TABLE search_progress DROP COLUMN reindex_upto;
