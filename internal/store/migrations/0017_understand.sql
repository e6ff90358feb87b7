-- Understand, second part: survey answers item by item (for the ACSI
-- model, the alignment gap and channel comparisons), journey stage
-- touches, and managers' predictions of customers' answers.
CREATE TABLE an_answers (
    message_id TEXT NOT NULL,
    identity   TEXT NOT NULL,
    survey_id  TEXT NOT NULL,
    question   TEXT NOT NULL,
    value      DOUBLE PRECISION NOT NULL,
    channel    TEXT NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (message_id, question)
);
CREATE INDEX an_answers_question ON an_answers (question);

CREATE TABLE an_stages (
    message_id TEXT PRIMARY KEY,
    identity   TEXT NOT NULL,
    stage      TEXT NOT NULL,
    channel    TEXT NOT NULL,
    experience TEXT NOT NULL,
    at         BIGINT NOT NULL
);
CREATE INDEX an_stages_identity ON an_stages (identity, at);

CREATE TABLE alignment_predictions (
    id         TEXT NOT NULL,
    team       TEXT NOT NULL,
    question   TEXT NOT NULL,
    value      DOUBLE PRECISION NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (id, question)
);
CREATE INDEX alignment_predictions_question ON alignment_predictions (question, team);
