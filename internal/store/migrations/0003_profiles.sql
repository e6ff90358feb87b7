-- Customer profiles, built by the profile consumer from the event log.
CREATE TABLE customers (
    id          TEXT PRIMARY KEY,
    merged_into TEXT,
    traits      TEXT NOT NULL,
    trait_times TEXT NOT NULL,
    first_seen  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    event_count BIGINT NOT NULL,
    created_seq BIGINT NOT NULL,
    search      TEXT NOT NULL
);
CREATE INDEX customers_merged ON customers (merged_into) WHERE merged_into IS NOT NULL;

-- Every identity a customer used: user_id, anonymous_id, email, phone.
CREATE TABLE identities (
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    first_seen  BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    PRIMARY KEY (kind, value)
);
CREATE INDEX identities_customer ON identities (customer_id);

CREATE TABLE customer_channels (
    customer_id TEXT NOT NULL,
    channel     TEXT NOT NULL,
    events      BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    PRIMARY KEY (customer_id, channel)
);

-- Why and when two profiles became one.
CREATE TABLE customer_merges (
    from_id TEXT PRIMARY KEY,
    into_id TEXT NOT NULL,
    reason  TEXT NOT NULL,
    seq     BIGINT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX customer_merges_into ON customer_merges (into_id);

-- Business accounts (Segment groups) and the customers who belong to them.
CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    traits      TEXT NOT NULL,
    trait_times TEXT NOT NULL,
    first_seen  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL
);

CREATE TABLE account_members (
    account_id  TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    role        TEXT NOT NULL,
    joined_at   BIGINT NOT NULL,
    PRIMARY KEY (account_id, customer_id)
);
CREATE INDEX account_members_customer ON account_members (customer_id);
