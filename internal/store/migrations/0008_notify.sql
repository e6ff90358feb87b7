-- A team's address for notifications, and the outbox of notification mail.
ALTER TABLE teams ADD COLUMN email TEXT NOT NULL DEFAULT '';

CREATE TABLE mail_outbox (
    id           TEXT PRIMARY KEY,
    recipient    TEXT NOT NULL,
    subject      TEXT NOT NULL,
    body         TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    next_at      BIGINT,
    last_error   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_at) WHERE state = 'pending';
