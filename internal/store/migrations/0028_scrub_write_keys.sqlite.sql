-- Write keys are never stored: browsers send theirs in the body
-- (writeKey), which events and quarantined messages kept until 0028.
UPDATE events SET body = json_remove(body, '$.writeKey')
WHERE body LIKE '%"writeKey"%' AND json_valid(body) AND json_type(body) = 'object'
  AND json_type(body, '$.writeKey') IS NOT NULL;
UPDATE quarantine SET body = json_remove(body, '$.writeKey')
WHERE body LIKE '%"writeKey"%' AND json_valid(body) AND json_type(body) = 'object'
  AND json_type(body, '$.writeKey') IS NOT NULL;
