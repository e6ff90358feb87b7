-- Loyalty, second part: who a rule rewards, refunds that take an order out
-- of spend, referrals that remember their sender and convert on the
-- friend's first order, referral codes as looked up, how-to guides, and
-- each customer's engagement score.
ALTER TABLE loyalty_rules ADD COLUMN beneficiary TEXT NOT NULL DEFAULT '';
ALTER TABLE loyalty_orders ADD COLUMN refunded_at BIGINT;
ALTER TABLE loyalty_referrals ADD COLUMN sender_id TEXT NOT NULL DEFAULT '';
ALTER TABLE loyalty_referrals ADD COLUMN converted_at BIGINT;
CREATE INDEX loyalty_referrals_user ON loyalty_referrals (user_id);
CREATE INDEX loyalty_referrals_anonymous ON loyalty_referrals (anonymous_id);
CREATE INDEX loyalty_orders_at ON loyalty_orders (at);

-- Referral codes are derived from customer ids; this remembers the ones
-- looked up so a sign-up finds its sender without hashing every id again.
CREATE TABLE loyalty_codes (
    code        TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL
);

-- Content that saves customers time, and who read it.
CREATE TABLE guides (
    id            TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    url           TEXT NOT NULL,
    topic         TEXT NOT NULL,
    minutes_saved INTEGER NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE guide_views (
    message_id TEXT PRIMARY KEY,
    guide_id   TEXT NOT NULL,
    identity   TEXT NOT NULL,
    at         BIGINT NOT NULL
);
CREATE INDEX guide_views_guide ON guide_views (guide_id, at);

-- What members do in their affinity groups: posts, answers, events attended.
CREATE TABLE community_activity (
    message_id TEXT PRIMARY KEY,
    community  TEXT NOT NULL,
    identity   TEXT NOT NULL,
    kind       TEXT NOT NULL,
    at         BIGINT NOT NULL
);
CREATE INDEX community_activity_community ON community_activity (community, at);

-- The engagement score (0–100) of each customer and its parts.
CREATE TABLE engagement_scores (
    customer_id      TEXT PRIMARY KEY,
    score            DOUBLE PRECISION NOT NULL,
    recency          DOUBLE PRECISION NOT NULL,
    frequency        DOUBLE PRECISION NOT NULL,
    surveys          DOUBLE PRECISION NOT NULL,
    community        DOUBLE PRECISION NOT NULL,
    referrals        DOUBLE PRECISION NOT NULL,
    interactions_90d BIGINT NOT NULL,
    last_interaction BIGINT NOT NULL,
    computed_at      BIGINT NOT NULL
);
CREATE INDEX engagement_scores_score ON engagement_scores (score);
