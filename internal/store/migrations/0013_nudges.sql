-- Coach behaviour: nudge rules, who consented to nudges, and every nudge
-- sent or held out (the holdout group), for caps and the uplift report.
CREATE TABLE nudges (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    config      TEXT NOT NULL,
    active      BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE nudge_consents (
    identity TEXT PRIMARY KEY,
    at       BIGINT NOT NULL
);

CREATE TABLE nudge_sends (
    id          TEXT PRIMARY KEY,
    nudge_id    TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    item        TEXT NOT NULL,
    channel     TEXT NOT NULL,
    status      TEXT NOT NULL,
    at          BIGINT NOT NULL,
    UNIQUE (nudge_id, customer_id, subject_key)
);
CREATE INDEX nudge_sends_customer ON nudge_sends (customer_id, channel, at);
