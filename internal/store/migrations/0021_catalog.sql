-- The product catalog: what the e-commerce events say about each product
-- (a projection of the log), what the business set through the API (kept
-- across replays: a NULL column was never set), and per-category defaults
-- of the attributes that decide what experiences may do with a product.
CREATE TABLE products (
    id            TEXT PRIMARY KEY,
    sku           TEXT NOT NULL,
    name          TEXT NOT NULL,
    category      TEXT NOT NULL,
    brand         TEXT NOT NULL,
    price         DOUBLE PRECISION,
    image_url     TEXT NOT NULL,
    url           TEXT NOT NULL,
    first_seen_at BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL
);
CREATE INDEX products_category ON products (category);

CREATE TABLE product_settings (
    id            TEXT PRIMARY KEY,
    sku           TEXT,
    name          TEXT,
    category      TEXT,
    brand         TEXT,
    price         DOUBLE PRECISION,
    image_url     TEXT,
    url           TEXT,
    replenishable BOOLEAN,
    pack_size     BIGINT,
    usage_days    DOUBLE PRECISION,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE product_categories (
    category      TEXT PRIMARY KEY,
    replenishable BOOLEAN NOT NULL,
    usage_days    DOUBLE PRECISION,
    updated_at    BIGINT NOT NULL
);
