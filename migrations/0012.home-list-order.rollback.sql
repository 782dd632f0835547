DROP INDEX session_tags_recent_home;
CREATE INDEX sessions_recent_pinned ON sessions (updated_at DESC, id DESC)
    WHERE pinned_at IS NOT NULL AND archived_at IS NULL;
CREATE INDEX sessions_recent_active ON sessions (updated_at DESC, id DESC)
    WHERE pinned_at IS NULL AND archived_at IS NULL;
DROP INDEX sessions_recent_home;
