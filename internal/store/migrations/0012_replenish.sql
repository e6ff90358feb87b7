-- Automatic execution: who consented to replenishment (of one product, or
-- of everything: item ''), and the orders cxloop scheduled, placed or saw
-- cancelled.
CREATE TABLE replenish_consents (
    identity TEXT NOT NULL,
    item     TEXT NOT NULL,
    at       BIGINT NOT NULL,
    PRIMARY KEY (identity, item)
);

CREATE TABLE replenishments (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    item        TEXT NOT NULL,
    quantity    DOUBLE PRECISION NOT NULL,
    after_at    BIGINT NOT NULL,
    need_at     BIGINT NOT NULL,
    place_at    BIGINT NOT NULL,
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    decided_at  BIGINT,
    UNIQUE (customer_id, item, after_at)
);
CREATE INDEX replenishments_due ON replenishments (place_at) WHERE status = 'scheduled';
CREATE INDEX replenishments_customer ON replenishments (customer_id, created_at);
