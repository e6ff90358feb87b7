-- Respond to desire: what a customer's orders say about their
-- preferences (size or variant by category, the address and payment
-- references last used), and their named shopping lists.
ALTER TABLE order_lines ADD COLUMN category TEXT NOT NULL DEFAULT '';
ALTER TABLE order_lines ADD COLUMN variant TEXT NOT NULL DEFAULT '';

CREATE TABLE order_refs (
    order_id    TEXT PRIMARY KEY,
    identity    TEXT NOT NULL,
    address_ref TEXT NOT NULL,
    payment_ref TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX order_refs_identity ON order_refs (identity, at);

CREATE TABLE customer_lists (
    customer_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    items       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (customer_id, name)
);
