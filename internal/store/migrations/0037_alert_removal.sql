-- A removed alert is kept (its firings stay readable), no longer listed or evaluated.
ALTER TABLE alerts ADD COLUMN deleted_at BIGINT NOT NULL DEFAULT 0;
