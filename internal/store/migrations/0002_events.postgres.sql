-- The event log: append-only, ordered by seq, one row per messageId.

CREATE TABLE events (
    seq          BIGINT PRIMARY KEY,
    message_id   TEXT NOT NULL UNIQUE,
    type         TEXT NOT NULL,
    event        TEXT NOT NULL,
    user_id      TEXT,
    anonymous_id TEXT,
    channel      TEXT NOT NULL,
    contact      TEXT NOT NULL,
    source_id    TEXT NOT NULL,
    ts           BIGINT NOT NULL,
    received_at  BIGINT NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX events_user ON events (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX events_anonymous ON events (anonymous_id) WHERE anonymous_id IS NOT NULL;
