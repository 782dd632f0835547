-- depends: 0008.counts
-- A tag filter that reads a page, not the tag: the recent list filtered by a tag walks
-- this table's index in the list's own order and stops at the page size, as the plain
-- list walks sessions_recent_*. Before it, a common tag probed session_tags for every
-- session of the recent index until a page matched (about 500 probes for a tag on 10%
-- of the sessions), and a rare tag read and sorted all of its sessions.
--
-- Additive: session_tags keeps its shape and meaning; this table is derived from it and
-- from sessions by triggers, on every write path (tag, untag, import, forget, prune, and
-- any save point that moves a session's updated_at or a pin/archive change), so it can
-- never disagree with them. listed is 0 for the active list, 1 for pinned (not
-- archived), 2 for archived: the three phases the list reads.

CREATE TABLE session_tags_recent (
    session_id  TEXT NOT NULL,
    tag         TEXT NOT NULL,
    listed      INTEGER NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (session_id, tag)
);
CREATE INDEX session_tags_recent_order
    ON session_tags_recent (tag, listed, updated_at DESC, session_id DESC);

INSERT INTO session_tags_recent (session_id, tag, listed, updated_at)
SELECT t.session_id, t.tag,
       CASE WHEN s.archived_at IS NOT NULL THEN 2 WHEN s.pinned_at IS NOT NULL THEN 1 ELSE 0 END,
       s.updated_at
FROM session_tags t JOIN sessions s ON s.id = t.session_id;

-- (One statement per trigger: the remote driver refuses a statement holding several.)
CREATE TRIGGER session_tags_recent_added AFTER INSERT ON session_tags BEGIN
    INSERT OR REPLACE INTO session_tags_recent (session_id, tag, listed, updated_at)
    SELECT s.id, new.tag,
           CASE WHEN s.archived_at IS NOT NULL THEN 2
                WHEN s.pinned_at IS NOT NULL THEN 1 ELSE 0 END,
           s.updated_at
    FROM sessions s WHERE s.id = new.session_id;
END;

CREATE TRIGGER session_tags_recent_removed AFTER DELETE ON session_tags BEGIN
    DELETE FROM session_tags_recent WHERE session_id = old.session_id AND tag = old.tag;
END;

CREATE TRIGGER session_tags_recent_moved AFTER UPDATE OF updated_at, pinned_at, archived_at
ON sessions BEGIN
    UPDATE session_tags_recent
    SET updated_at = new.updated_at,
        listed = CASE WHEN new.archived_at IS NOT NULL THEN 2
                      WHEN new.pinned_at IS NOT NULL THEN 1 ELSE 0 END
    WHERE session_id = new.id;
END;

CREATE TRIGGER session_tags_recent_gone AFTER DELETE ON sessions BEGIN
    DELETE FROM session_tags_recent WHERE session_id = old.id;
END;
