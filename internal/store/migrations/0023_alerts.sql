-- Alerts on aggregates: a rule that watches a metric over a window and
-- fires when it moves significantly. Owned by the cases package.

-- The store an order was bought in (the Order Completed `store` property),
-- so return rates and complaint volumes can be watched per store.
ALTER TABLE orders ADD COLUMN store TEXT NOT NULL DEFAULT '';

-- Social Mention and Complaint Submitted events, history included: the
-- share of negative mentions and the complaint volume per window. A
-- projection of the log (the cases consumer).
CREATE TABLE signals (
    message_id   TEXT PRIMARY KEY,
    event        TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    anonymous_id TEXT NOT NULL,
    channel      TEXT NOT NULL,
    team         TEXT NOT NULL,
    store        TEXT NOT NULL,
    order_id     TEXT NOT NULL,
    sentiment    TEXT NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX signals_event_at ON signals (event, at);

CREATE TABLE alerts (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    spec       TEXT NOT NULL,
    enabled    INTEGER NOT NULL,
    created_at BIGINT NOT NULL
);

-- One row per time an alert fired for a group, with its evidence. The id
-- names the alert, the group and the window, so it fires once per window.
CREATE TABLE alert_firings (
    id          TEXT PRIMARY KEY,
    alert_id    TEXT NOT NULL,
    group_key   TEXT NOT NULL,
    window_from BIGINT NOT NULL,
    window_to   BIGINT NOT NULL,
    evidence    TEXT NOT NULL,
    case_id     TEXT NOT NULL DEFAULT '',
    fired_at    BIGINT NOT NULL
);
CREATE INDEX alert_firings_alert ON alert_firings (alert_id, group_key, window_to);
