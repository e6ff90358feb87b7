-- Roles of people and tokens: admin, owner (leads a team), agent (works a
-- team's cases), analyst (reads everything). Editors become owners and
-- viewers analysts. Tokens, users and sessions may be limited to teams
-- (a comma-separated list of team names); tokens can be revoked.
ALTER TABLE api_tokens ADD COLUMN teams TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN revoked_at BIGINT;
ALTER TABLE users ADD COLUMN teams TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN teams TEXT NOT NULL DEFAULT '';
UPDATE api_tokens SET role = 'owner' WHERE role = 'editor';
UPDATE api_tokens SET role = 'analyst' WHERE role = 'viewer';
UPDATE users SET role = 'owner' WHERE role = 'editor';
UPDATE users SET role = 'analyst' WHERE role = 'viewer';
UPDATE sessions SET role = 'owner' WHERE role = 'editor';
UPDATE sessions SET role = 'analyst' WHERE role = 'viewer';
