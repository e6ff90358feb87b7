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

-- What the engagement consumer keeps of the log for the engagement score,
-- by identity key ("u:" userId, else "a:" anonymousId): interactions and
-- community activity by UTC day (day: the day's start, Unix ms), survey
-- answers (survey_id: properties.survey_id as JSON), and what to rescore
-- (ref: an identity key, or a customer id for a referral's sender;
-- claimed: taken by the run under way, unless marked again since).
CREATE TABLE engagement_activity (
    identity     TEXT NOT NULL,
    day          BIGINT NOT NULL,
    interactions BIGINT NOT NULL,
    community    BIGINT NOT NULL,
    PRIMARY KEY (identity, day)
);
CREATE INDEX engagement_activity_day ON engagement_activity (day);

CREATE TABLE engagement_answers (
    seq       BIGINT PRIMARY KEY,
    identity  TEXT NOT NULL,
    at        BIGINT NOT NULL,
    survey_id TEXT NOT NULL
);
CREATE INDEX engagement_answers_identity ON engagement_answers (identity);

CREATE TABLE engagement_due (
    ref     TEXT PRIMARY KEY,
    claimed INTEGER NOT NULL DEFAULT 0
);
