-- Understand: orders and the signals of dissatisfaction as analytics
-- reads them, and each customer's computed value and risk.
CREATE TABLE an_orders (
    order_id    TEXT PRIMARY KEY,
    identity    TEXT NOT NULL,
    total       DOUBLE PRECISION NOT NULL,
    at          BIGINT NOT NULL,
    refunded_at BIGINT
);
CREATE INDEX an_orders_identity ON an_orders (identity, at);

CREATE TABLE an_signals (
    message_id TEXT NOT NULL,
    identity   TEXT NOT NULL,
    kind       TEXT NOT NULL,
    value      DOUBLE PRECISION NOT NULL,
    ref        TEXT NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (message_id, kind)
);
CREATE INDEX an_signals_identity ON an_signals (identity, at);

CREATE TABLE customer_values (
    customer_id  TEXT PRIMARY KEY,
    orders       INTEGER NOT NULL,
    p_alive      DOUBLE PRECISION NOT NULL,
    expected_52w DOUBLE PRECISION NOT NULL,
    spend        DOUBLE PRECISION NOT NULL,
    clv          DOUBLE PRECISION NOT NULL,
    risk         DOUBLE PRECISION NOT NULL,
    dissatisfied BOOLEAN NOT NULL,
    complained   BOOLEAN NOT NULL,
    silent       BOOLEAN NOT NULL,
    computed_at  BIGINT NOT NULL
);
CREATE INDEX customer_values_risk ON customer_values (risk);
