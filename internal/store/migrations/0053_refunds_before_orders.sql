-- A refund or return can reach the log before its order (sources send out
-- of order, an import of returns runs before the one of orders). Each
-- consumer that marks orders refunded keeps the refunds it has read, by
-- order, and applies one when its order arrives. Replay the cases,
-- loyalty and analytics consumers to apply them to history.
CREATE TABLE order_returns (
    order_id    TEXT PRIMARY KEY,
    returned_at BIGINT NOT NULL,
    reason      TEXT NOT NULL,
    channel     TEXT NOT NULL
);
CREATE TABLE loyalty_refunds (
    order_id   TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,
    event      TEXT NOT NULL,
    at         BIGINT NOT NULL
);
CREATE TABLE an_refunds (
    order_id TEXT PRIMARY KEY,
    at       BIGINT NOT NULL
);
