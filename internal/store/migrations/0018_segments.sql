-- Saved segments: named filters on traits, behaviour and computed values,
-- counted live and usable wherever a segment is (surveys, pulses, reports).
CREATE TABLE segments (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    query      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
