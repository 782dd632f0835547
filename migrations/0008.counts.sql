-- depends: 0007.event-navigation
-- Row counts kept by triggers, so `turnkeep db status` (HealthProbe.health) reads three
-- numbers instead of counting every row: count(*) walks a whole table (or its smallest
-- index), which at a million events is most of what `db status` costs.
--
-- Why triggers and not the save point's own statements: every path that adds or removes
-- rows (save points, imports, fork, forget, and any written later) keeps the counts
-- exact without knowing about them. The cost is one single-row UPDATE per inserted or
-- deleted row, inside the same transaction. INSERT OR REPLACE must not be used on these
-- tables: its implicit delete fires no trigger (recursive_triggers is off).
-- (One statement per trigger: the remote driver refuses a statement holding several.)

CREATE TABLE row_counts (
    name   TEXT PRIMARY KEY,
    rows   INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO row_counts (name, rows)
SELECT 'sessions', count(*) FROM sessions
UNION ALL SELECT 'conversation_events', count(*) FROM conversation_events
UNION ALL SELECT 'session_state', count(*) FROM session_state;

CREATE TRIGGER row_counts_sessions_inserted AFTER INSERT ON sessions BEGIN
    UPDATE row_counts SET rows = rows + 1 WHERE name = 'sessions';
END;

CREATE TRIGGER row_counts_sessions_deleted AFTER DELETE ON sessions BEGIN
    UPDATE row_counts SET rows = rows - 1 WHERE name = 'sessions';
END;

CREATE TRIGGER row_counts_events_inserted AFTER INSERT ON conversation_events BEGIN
    UPDATE row_counts SET rows = rows + 1 WHERE name = 'conversation_events';
END;

CREATE TRIGGER row_counts_events_deleted AFTER DELETE ON conversation_events BEGIN
    UPDATE row_counts SET rows = rows - 1 WHERE name = 'conversation_events';
END;

CREATE TRIGGER row_counts_state_inserted AFTER INSERT ON session_state BEGIN
    UPDATE row_counts SET rows = rows + 1 WHERE name = 'session_state';
END;

CREATE TRIGGER row_counts_state_deleted AFTER DELETE ON session_state BEGIN
    UPDATE row_counts SET rows = rows - 1 WHERE name = 'session_state';
END;
