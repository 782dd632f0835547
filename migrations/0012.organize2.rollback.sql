DROP INDEX session_tags_recent_home;
DROP INDEX sessions_recent_home;
