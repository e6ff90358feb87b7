-- Write keys are never stored: browsers send theirs in the body
-- (writeKey), which events and quarantined messages kept until 0028.
-- json (not jsonb) keeps every other member's text and order as it was.
UPDATE events SET body = COALESCE((
    SELECT json_object_agg(e.key, e.value ORDER BY e.ord)::text
    FROM json_each(events.body::json) WITH ORDINALITY AS e(key, value, ord)
    WHERE e.key <> 'writeKey'), '{}')
WHERE body LIKE '%"writeKey"%' AND json_typeof(body::json) = 'object'
  AND (body::json) -> 'writeKey' IS NOT NULL;
UPDATE quarantine SET body = COALESCE((
    SELECT json_object_agg(e.key, e.value ORDER BY e.ord)::text
    FROM json_each(quarantine.body::json) WITH ORDINALITY AS e(key, value, ord)
    WHERE e.key <> 'writeKey'), '{}')
WHERE body LIKE '%"writeKey"%' AND json_typeof(body::json) = 'object'
  AND (body::json) -> 'writeKey' IS NOT NULL;
