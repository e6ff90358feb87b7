-- Identities refused after an erasure (docs/privacy.md): kept only as
-- hashes, listed by the erased profile's id, liftable.
CREATE TABLE suppressions (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    kinds       TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE suppressed_identities (
    hash           TEXT PRIMARY KEY,
    suppression_id TEXT NOT NULL
);
CREATE INDEX suppressed_identities_suppression ON suppressed_identities (suppression_id);
