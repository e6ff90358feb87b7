-- Teams: the functions that own signals (service, delivery, product …).
CREATE TABLE teams (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

-- Rules: when an event or a score condition holds, then act. The
-- condition and the action are one JSON document each.
CREATE TABLE rules (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    cond       TEXT NOT NULL,
    action     TEXT NOT NULL,
    enabled    INTEGER NOT NULL,
    created_at BIGINT NOT NULL
);

-- Every time a rule fired, and what it did.
CREATE TABLE rule_firings (
    id         TEXT PRIMARY KEY,
    rule_id    TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    message_id TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    at         BIGINT NOT NULL
);
CREATE INDEX rule_firings_rule ON rule_firings (rule_id, at);

-- Cases: a complaint, a detractor follow-up, a return problem or a
-- question, owned by a team. Cases are work already handed out: replaying
-- the cases consumer never removes them.
CREATE TABLE cases (
    id                 TEXT PRIMARY KEY,
    customer_id        TEXT NOT NULL,
    user_id            TEXT NOT NULL,
    anonymous_id       TEXT NOT NULL,
    kind               TEXT NOT NULL,
    formal             INTEGER NOT NULL,
    channel            TEXT NOT NULL,
    team_id            TEXT NOT NULL,
    assignee           TEXT NOT NULL,
    priority           TEXT NOT NULL,
    status             TEXT NOT NULL,
    subject            TEXT NOT NULL,
    body               TEXT NOT NULL,
    order_id           TEXT NOT NULL,
    rule_id            TEXT NOT NULL,
    origin_message     TEXT NOT NULL,
    sla_ms             BIGINT NOT NULL,
    due_at             BIGINT NOT NULL,
    first_response_due BIGINT NOT NULL,
    first_response_at  BIGINT,
    resolved_at        BIGINT,
    escalated_at       BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX cases_team ON cases (team_id, status, due_at);
CREATE INDEX cases_customer ON cases (customer_id);
CREATE INDEX cases_user ON cases (user_id);

CREATE TABLE case_notes (
    id      TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    author  TEXT NOT NULL,
    body    TEXT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX case_notes_case ON case_notes (case_id, at);

-- Orders and their returns, projected from the log for return rates.
CREATE TABLE orders (
    order_id      TEXT PRIMARY KEY,
    customer_ref  TEXT NOT NULL,
    channel       TEXT NOT NULL,
    category      TEXT NOT NULL,
    total         DOUBLE PRECISION NOT NULL,
    ordered_at    BIGINT NOT NULL,
    returned_at   BIGINT,
    return_reason TEXT NOT NULL DEFAULT '',
    return_channel TEXT NOT NULL DEFAULT ''
);
CREATE INDEX orders_ordered ON orders (ordered_at);

-- Webhook endpoints and the outbox of their deliveries.
CREATE TABLE webhooks (
    id         TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    events     TEXT NOT NULL,
    secret     TEXT NOT NULL,
    active     INTEGER NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id           TEXT PRIMARY KEY,
    webhook_id   TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    event        TEXT NOT NULL,
    payload      TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    next_at      BIGINT,
    last_status  INTEGER NOT NULL,
    last_error   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, created_at);
