-- A console session ends with the credential it was opened with: it names
-- that credential ("token:<id>" or "user:<id>"), and a user can be
-- disabled. Sessions opened before this record no credential and end now
-- (everyone signs in once more).
ALTER TABLE sessions ADD COLUMN credential TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
DELETE FROM sessions;
