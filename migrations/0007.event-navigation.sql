-- depends: 0006.vectors
-- Moving through long sessions without walking them: the user messages of a session,
-- by seq (next / previous user message) and by turn (go to turn N). Partial indexes,
-- so only user events (one per turn) pay for them on insert.

CREATE INDEX conversation_events_user_seq ON conversation_events (session_id, seq)
    WHERE kind = 'user';
CREATE INDEX conversation_events_user_turn ON conversation_events (session_id, turn, seq)
    WHERE kind = 'user';
