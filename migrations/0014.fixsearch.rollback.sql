-- Nothing to undo in the schema: events indexed again with their start and end keep
-- those rows (an older reader finds a superset of what it indexed).
SELECT 1;
