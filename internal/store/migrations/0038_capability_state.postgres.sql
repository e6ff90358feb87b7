-- Each capability keeps its own state in a table of its own, one row,
-- typed columns (was: keys in the untyped settings table, which stays the
-- application's). '' in a document column means the default.
CREATE TABLE auth_state (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    device_cookie_key TEXT NOT NULL DEFAULT ''
);
INSERT INTO auth_state (id, device_cookie_key)
    VALUES (1, COALESCE((SELECT value FROM settings WHERE key = 'device_cookie_key'), ''));

CREATE TABLE survey_state (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    link_key        TEXT NOT NULL DEFAULT '',
    handling_survey TEXT NOT NULL DEFAULT '',
    contact_policy  TEXT NOT NULL DEFAULT ''
);
INSERT INTO survey_state (id, link_key, handling_survey, contact_policy) VALUES (1,
    COALESCE((SELECT value FROM settings WHERE key = 'survey_link_key'), ''),
    COALESCE((SELECT value FROM settings WHERE key = 'complaint_handling_survey'), ''),
    COALESCE((SELECT value FROM settings WHERE key = 'survey_contact_policy'), ''));

CREATE TABLE experience_state (
    id                     INTEGER PRIMARY KEY CHECK (id = 1),
    replenish_lead_days    DOUBLE PRECISION NOT NULL DEFAULT 3,
    replenish_cancel_hours DOUBLE PRECISION NOT NULL DEFAULT 48,
    replenish_paused       BOOLEAN NOT NULL DEFAULT FALSE
);
INSERT INTO experience_state (id) VALUES (1);
UPDATE experience_state SET
    replenish_lead_days = COALESCE((SELECT (value::jsonb->>'lead_days')::double precision FROM settings WHERE key = 'replenishment'), 3),
    replenish_cancel_hours = COALESCE((SELECT (value::jsonb->>'cancel_hours')::double precision FROM settings WHERE key = 'replenishment'), 48),
    replenish_paused = COALESCE((SELECT (value::jsonb->>'paused')::boolean FROM settings WHERE key = 'replenishment'), FALSE);

CREATE TABLE analytics_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    journey_stages TEXT NOT NULL DEFAULT '',
    value_model    TEXT NOT NULL DEFAULT ''
);
INSERT INTO analytics_state (id, journey_stages, value_model) VALUES (1,
    COALESCE((SELECT value FROM settings WHERE key = 'journey_stages'), ''),
    COALESCE((SELECT value FROM settings WHERE key = 'clv_model'), ''));

DELETE FROM settings WHERE key IN ('device_cookie_key', 'survey_link_key', 'complaint_handling_survey', 'survey_contact_policy',
    'replenishment', 'journey_stages', 'clv_model');
