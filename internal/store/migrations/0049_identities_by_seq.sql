-- The owners of every identity are kept between the report pages' reads and
-- checked at each against the newest identity and merge (profile.AllKeys).
CREATE INDEX identities_seq ON identities (seq);
CREATE INDEX customer_merges_seq ON customer_merges (seq);
