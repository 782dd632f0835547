-- depends: 0010.search-words
-- Token totals of sessions whose answers predate 0005.organize (or were imported):
-- 0005 added the session totals at zero, and only save points made after it add to
-- them. The answers themselves always recorded their usage in their payloads
-- (runtime.payloads.usage reads it; `turnkeep usage` already counts them), so the
-- totals are recomputed from those payloads, with the same rules as that reader:
-- prompt_tokens and completion_tokens when they are integers (a boolean is not), else
-- total_tokens as completion; estimated when the usage says so.
--
-- Only sessions still at zero are filled: a session credited by save points keeps its
-- figures (a save point adds exactly its answer's payload usage, so for those the
-- result would be the same). One statement, run once: at a million events it reads
-- each assistant payload once (seconds, not minutes), and a kill rolls it back whole,
-- so the next start simply runs it again.

UPDATE sessions
SET prompt_tokens = t.prompt, completion_tokens = t.completion,
    tokens_estimated = max(tokens_estimated, t.estimated)
FROM (
    SELECT session_id, sum(prompt) AS prompt,
           sum(CASE WHEN prompt = 0 AND completion = 0 THEN total ELSE completion END)
               AS completion,
           max(estimated) AS estimated
    FROM (
        SELECT session_id,
               CASE json_type(payload, '$.usage.prompt_tokens') WHEN 'integer'
                    THEN json_extract(payload, '$.usage.prompt_tokens') ELSE 0 END AS prompt,
               CASE json_type(payload, '$.usage.completion_tokens') WHEN 'integer'
                    THEN json_extract(payload, '$.usage.completion_tokens') ELSE 0 END
                   AS completion,
               CASE json_type(payload, '$.usage.total_tokens') WHEN 'integer'
                    THEN json_extract(payload, '$.usage.total_tokens') ELSE 0 END AS total,
               coalesce(json_type(payload, '$.usage.estimated') = 'true', 0) AS estimated
        FROM conversation_events WHERE kind = 'assistant'
    )
    GROUP BY session_id
) AS t
WHERE sessions.id = t.session_id AND sessions.prompt_tokens = 0
  AND sessions.completion_tokens = 0 AND (t.prompt > 0 OR t.completion > 0);
