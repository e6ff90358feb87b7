-- Case rules can be removed: a removed rule keeps its row (its firings and
-- cases stay readable) with the time it was removed, and fires no more.
ALTER TABLE rules ADD COLUMN deleted_at BIGINT NOT NULL DEFAULT 0;
