-- Loyalty: earning rules and the points ledger. The balance is the sum of a
-- customer's entries; entries are never changed, only added (a refund adds
-- a reversal).
CREATE TABLE loyalty_rules (
    id              TEXT PRIMARY KEY,
    event           TEXT NOT NULL,
    points_per_unit DOUBLE PRECISION NOT NULL,
    points          BIGINT NOT NULL,
    property        TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE loyalty_entries (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    anonymous_id    TEXT NOT NULL,
    kind            TEXT NOT NULL,
    points          BIGINT NOT NULL,
    event           TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    order_id        TEXT NOT NULL,
    rule_id         TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    note            TEXT NOT NULL,
    at              BIGINT NOT NULL
);
CREATE INDEX loyalty_entries_user ON loyalty_entries (user_id, at);
CREATE INDEX loyalty_entries_anonymous ON loyalty_entries (anonymous_id, at);
CREATE INDEX loyalty_entries_order ON loyalty_entries (order_id) WHERE order_id <> '';

-- Orders and referrals as the loyalty program reads them: what each
-- customer spent and whom they brought.
CREATE TABLE loyalty_orders (
    order_id     TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    anonymous_id TEXT NOT NULL,
    total        DOUBLE PRECISION NOT NULL,
    at           BIGINT NOT NULL
);

CREATE TABLE loyalty_referrals (
    message_id   TEXT PRIMARY KEY,
    code         TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    anonymous_id TEXT NOT NULL,
    at           BIGINT NOT NULL
);

-- Running sums of the ledger by identity ("u:<userId>" or "a:<anonymousId>"),
-- kept in the transaction of each entry: a balance is a few rows to add up.
CREATE TABLE loyalty_balances (
    identity TEXT PRIMARY KEY,
    points   BIGINT NOT NULL
);

-- Points earned (net of reversals) by identity and calendar month, for tiers.
CREATE TABLE loyalty_earned (
    identity TEXT NOT NULL,
    month    TEXT NOT NULL,
    points   BIGINT NOT NULL,
    PRIMARY KEY (identity, month)
);

-- Each member's tier as last reviewed: upgrades take effect at once, a
-- downgrade only after the grace period below the tier's threshold.
CREATE TABLE loyalty_tiers (
    customer_id TEXT PRIMARY KEY,
    tier        TEXT NOT NULL,
    since       BIGINT NOT NULL,
    below_since BIGINT
);

-- Affinity groups and who belongs, from Community Joined / Community Left events.
CREATE TABLE community_members (
    community    TEXT NOT NULL,
    identity     TEXT NOT NULL,
    joined_at    BIGINT NOT NULL,
    PRIMARY KEY (community, identity)
);

-- Introductions between customers (bridges) and whether they led anywhere.
CREATE TABLE introductions (
    id           TEXT PRIMARY KEY,
    from_ref     TEXT NOT NULL,
    to_ref       TEXT NOT NULL,
    note         TEXT NOT NULL,
    made_at      BIGINT NOT NULL,
    converted_at BIGINT
);
