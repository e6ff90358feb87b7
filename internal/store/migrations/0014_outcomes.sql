-- The Repeat loop: what became of each recommendation (shown, clicked,
-- purchased), for the learning report and the next training.
CREATE TABLE rec_outcomes (
    message_id TEXT NOT NULL,
    rec_id     TEXT NOT NULL,
    identity   TEXT NOT NULL,
    item       TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (message_id, rec_id, outcome)
);
CREATE INDEX rec_outcomes_identity ON rec_outcomes (identity, item, at);
CREATE INDEX rec_outcomes_at ON rec_outcomes (at);
