-- Verbatim search matches a comment whatever its case, the same way on
-- both engines: LIKE and LOWER fold only ASCII on SQLite, and LIKE folds
-- nothing on PostgreSQL, so the survey consumer stores each comment folded
-- as Go folds it (strings.ToLower) and the search compares with that.
-- Answers recorded before this migration are folded by LOWER here (ASCII
-- only on SQLite) until `cxloop replay survey` rebuilds them.
ALTER TABLE survey_texts ADD COLUMN folded TEXT NOT NULL DEFAULT '';
UPDATE survey_texts SET folded = LOWER(body);
