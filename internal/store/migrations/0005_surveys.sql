-- Survey definitions. The questions, texts, trigger, schedule and contact
-- rules are one JSON document (definition); the columns are what is queried.
CREATE TABLE surveys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    rhythm       TEXT NOT NULL,
    owner        TEXT NOT NULL,
    status       TEXT NOT NULL,
    definition   TEXT NOT NULL,
    activated_at BIGINT,
    next_run     BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

-- One row per decision to ask a customer: scheduled, then sent or skipped
-- (with a reason code), then started and answered. Invitations are actions
-- already taken, so replaying the survey consumer never removes them.
CREATE TABLE survey_invitations (
    id               TEXT PRIMARY KEY,
    survey_id        TEXT NOT NULL,
    rhythm           TEXT NOT NULL,
    wave             TEXT NOT NULL DEFAULT '',
    customer_id      TEXT NOT NULL DEFAULT '',
    user_id          TEXT NOT NULL DEFAULT '',
    anonymous_id     TEXT NOT NULL DEFAULT '',
    email            TEXT NOT NULL DEFAULT '',
    locale           TEXT NOT NULL DEFAULT '',
    trigger_seq      BIGINT NOT NULL DEFAULT 0,
    trigger_event    TEXT NOT NULL DEFAULT '',
    trigger_message  TEXT NOT NULL DEFAULT '',
    channel          TEXT NOT NULL DEFAULT '',
    order_id         TEXT NOT NULL DEFAULT '',
    delivery         TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL,
    reason           TEXT NOT NULL DEFAULT '',
    due_at           BIGINT NOT NULL,
    sent_at          BIGINT,
    expires_at       BIGINT,
    answered_at      BIGINT,
    partial          TEXT NOT NULL DEFAULT '{}',
    reminders        INTEGER NOT NULL DEFAULT 0,
    next_reminder_at BIGINT,
    mail_state       TEXT NOT NULL DEFAULT '',
    mail_attempts    INTEGER NOT NULL DEFAULT 0,
    mail_next_at     BIGINT,
    mail_error       TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL
);
CREATE INDEX survey_invitations_due ON survey_invitations (due_at, id) WHERE status = 'scheduled';
CREATE INDEX survey_invitations_mail ON survey_invitations (mail_next_at) WHERE mail_state = 'queued';
CREATE INDEX survey_invitations_remind ON survey_invitations (next_reminder_at) WHERE next_reminder_at IS NOT NULL;
CREATE INDEX survey_invitations_customer ON survey_invitations (customer_id, sent_at);
CREATE INDEX survey_invitations_user ON survey_invitations (user_id);
CREATE INDEX survey_invitations_survey ON survey_invitations (survey_id, due_at);

-- Customers who asked never to be surveyed again.
CREATE TABLE survey_optouts (
    customer_id TEXT PRIMARY KEY,
    at          BIGINT NOT NULL,
    source      TEXT NOT NULL
);

-- Answers, projected from Survey Responded events (the consumer rebuilds
-- these three tables on replay).
CREATE TABLE survey_responses (
    id            TEXT PRIMARY KEY,
    survey_id     TEXT NOT NULL,
    invitation_id TEXT NOT NULL DEFAULT '',
    customer_id   TEXT NOT NULL DEFAULT '',
    user_id       TEXT NOT NULL DEFAULT '',
    anonymous_id  TEXT NOT NULL DEFAULT '',
    channel       TEXT NOT NULL,
    owner         TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT '',
    account_id    TEXT NOT NULL DEFAULT '',
    locale        TEXT NOT NULL DEFAULT '',
    answers       TEXT NOT NULL,
    responded_at  BIGINT NOT NULL,
    seq           BIGINT NOT NULL
);
CREATE INDEX survey_responses_survey ON survey_responses (survey_id, responded_at);
CREATE INDEX survey_responses_user ON survey_responses (user_id);

-- One row per response and metric (nps, csat, ces, acsi): what scores read.
CREATE TABLE survey_scores (
    response_id  TEXT NOT NULL,
    metric       TEXT NOT NULL,
    survey_id    TEXT NOT NULL,
    value        DOUBLE PRECISION NOT NULL,
    channel      TEXT NOT NULL,
    owner        TEXT NOT NULL,
    role         TEXT NOT NULL,
    account_id   TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    anonymous_id TEXT NOT NULL,
    responded_at BIGINT NOT NULL,
    PRIMARY KEY (response_id, metric)
);
CREATE INDEX survey_scores_metric ON survey_scores (metric, responded_at);

-- Open-text answers with their sentiment and keywords.
CREATE TABLE survey_texts (
    response_id  TEXT NOT NULL,
    question     TEXT NOT NULL,
    survey_id    TEXT NOT NULL,
    body         TEXT NOT NULL,
    language     TEXT NOT NULL,
    sentiment    TEXT NOT NULL,
    keywords     TEXT NOT NULL,
    responded_at BIGINT NOT NULL,
    PRIMARY KEY (response_id, question)
);
CREATE INDEX survey_texts_survey ON survey_texts (survey_id, responded_at);
