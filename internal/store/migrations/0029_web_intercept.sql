-- Surveys shown inside web pages (the cxloop widget). Owned by the survey
-- package.

-- A survey's web trigger as JSON ('' when the survey is not shown in pages):
-- kept beside the definition so the widget's lookup reads only these surveys.
ALTER TABLE surveys ADD COLUMN web_trigger TEXT NOT NULL DEFAULT '';

-- When a visitor closed a survey shown in the page without answering
-- (status 'dismissed'): a contact for the contact policy, a non-response
-- for the response rate.
ALTER TABLE survey_invitations ADD COLUMN dismissed_at BIGINT;

-- The contact history of visitors known only by an identity (no profile yet).
CREATE INDEX survey_invitations_anonymous ON survey_invitations (anonymous_id) WHERE anonymous_id <> '';
