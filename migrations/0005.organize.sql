-- depends: 0004.search
-- Organizing sessions: pins, archive, fork lineage, token totals and tags.
-- Additive only: every new column is NULL or 0 for existing rows, which means "not
-- pinned, not archived, not a fork, no recorded tokens"; no existing row changes meaning.

ALTER TABLE sessions ADD COLUMN pinned_at TEXT;
ALTER TABLE sessions ADD COLUMN archived_at TEXT;
ALTER TABLE sessions ADD COLUMN forked_from TEXT;
ALTER TABLE sessions ADD COLUMN forked_at_seq INTEGER;
-- Token totals of the session's assistant turns, kept by the save point's transaction.
ALTER TABLE sessions ADD COLUMN prompt_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN completion_tokens INTEGER NOT NULL DEFAULT 0;
-- 1 when any of those figures was estimated rather than reported by the provider.
ALTER TABLE sessions ADD COLUMN tokens_estimated INTEGER NOT NULL DEFAULT 0;
-- The session's tags for display (sorted, joined by U+001F; NULL when none), rewritten
-- from session_tags by the same transaction that changes them, so listing a page
-- reads no other table. session_tags is what filters use.
ALTER TABLE sessions ADD COLUMN tags TEXT;

-- The recent list is read in two keyset phases: pinned sessions first, then the rest;
-- archived sessions have their own list. Each phase walks its own partial index.
CREATE INDEX sessions_recent_pinned ON sessions (updated_at DESC, id DESC)
    WHERE pinned_at IS NOT NULL AND archived_at IS NULL;
CREATE INDEX sessions_recent_active ON sessions (updated_at DESC, id DESC)
    WHERE pinned_at IS NULL AND archived_at IS NULL;
CREATE INDEX sessions_recent_archived ON sessions (updated_at DESC, id DESC)
    WHERE archived_at IS NOT NULL;

CREATE TABLE session_tags (
    session_id  TEXT NOT NULL REFERENCES sessions (id),
    tag         TEXT NOT NULL CHECK (tag <> ''),
    PRIMARY KEY (session_id, tag)
);
-- Filtering by tag: the sessions carrying one tag.
CREATE INDEX session_tags_by_tag ON session_tags (tag, session_id);
