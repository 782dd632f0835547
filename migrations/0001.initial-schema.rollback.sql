DROP TABLE session_state;
DROP TABLE conversation_events;
DROP INDEX sessions_recent;
DROP TABLE sessions;
