-- Connected experiences: what customers showed interest in (the
-- recommender's training data), what they ordered line by line (buy it
-- again, reorders), and the order proposals sent to the commerce system.
CREATE TABLE interactions (
    message_id TEXT NOT NULL,
    item       TEXT NOT NULL,
    identity   TEXT NOT NULL,
    kind       TEXT NOT NULL,
    weight     DOUBLE PRECISION NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (message_id, item)
);
CREATE INDEX interactions_at ON interactions (at);

CREATE TABLE order_lines (
    order_id   TEXT NOT NULL,
    item       TEXT NOT NULL,
    identity   TEXT NOT NULL,
    name       TEXT NOT NULL,
    quantity   DOUBLE PRECISION NOT NULL,
    price      DOUBLE PRECISION NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (order_id, item)
);
CREATE INDEX order_lines_identity ON order_lines (identity, at);

CREATE TABLE proposals (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    source      TEXT NOT NULL,
    items       TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    decided_at  BIGINT
);
CREATE INDEX proposals_customer ON proposals (customer_id, created_at);
