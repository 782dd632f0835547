DROP TRIGGER row_counts_state_deleted;
DROP TRIGGER row_counts_state_inserted;
DROP TRIGGER row_counts_events_deleted;
DROP TRIGGER row_counts_events_inserted;
DROP TRIGGER row_counts_sessions_deleted;
DROP TRIGGER row_counts_sessions_inserted;
DROP TABLE row_counts;
