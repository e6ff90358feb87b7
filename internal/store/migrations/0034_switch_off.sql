-- Automation can be switched off. Webhooks, nudges, teams and sources can be
-- removed: their rows stay (with the time they were removed), so deliveries,
-- sends, cases and events keep their history. Loyalty earning rules and
-- sources can be paused. A source's write key can be rotated: the old key's
-- hash is kept, valid until old_key_until (unix ms), then refused.
ALTER TABLE webhooks ADD COLUMN deleted_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE nudges ADD COLUMN deleted_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE teams ADD COLUMN deleted_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE loyalty_rules ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN deleted_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN old_key_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE sources ADD COLUMN old_key_until BIGINT NOT NULL DEFAULT 0;
CREATE INDEX sources_old_key ON sources (old_key_hash);
