-- Loyalty's own state, typed, in place of its keys in the settings table:
-- the secret that signs guide links and the program (tiers and perks, as
-- JSON); NULL until set (the program is then the default one).
CREATE TABLE loyalty_config (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    guide_link_key TEXT,
    program        TEXT
);
INSERT INTO loyalty_config (id, guide_link_key, program) VALUES (1,
    (SELECT value FROM settings WHERE key = 'guide_link_key'),
    (SELECT value FROM settings WHERE key = 'loyalty_program'));
DELETE FROM settings WHERE key IN ('guide_link_key', 'loyalty_program', 'engagement_seq');
