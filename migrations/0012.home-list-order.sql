-- depends: 0011.token-totals
-- The home list (pins first) and its tag filters as one index range scan each.
--
-- Before, a pins-first page was two keyset reads joined by UNION ALL (the pinned
-- sessions' partial index, then the others'), each wrapped in a subquery that SQLite
-- runs as a co-routine; a tag filter did the same over session_tags_recent_order. These
-- two indexes hold the pinned sessions first and then the others, each newest first,
-- so the page is the first rows of one index in order, with no sort and no compound.
--
-- sessions_recent_home also serves each phase alone (an equality on its first column,
-- then the keyset range), so it replaces the two partial indexes of 0005 that did:
-- every save point moves updated_at, and with one index instead of two it rewrites one
-- index entry of the list instead of two. No table changes and no row changes meaning;
-- both new indexes leave archived sessions out (their list has its own indexes). The
-- trailing listed makes the tag index covering (SQLite reads the table row for a column
-- used only inside an indexed expression).

CREATE INDEX sessions_recent_home
    ON sessions ((pinned_at IS NOT NULL) DESC, updated_at DESC, id DESC)
    WHERE archived_at IS NULL;

DROP INDEX sessions_recent_pinned;
DROP INDEX sessions_recent_active;

CREATE INDEX session_tags_recent_home
    ON session_tags_recent (tag, (listed = 1) DESC, updated_at DESC, session_id DESC, listed)
    WHERE listed < 2;
