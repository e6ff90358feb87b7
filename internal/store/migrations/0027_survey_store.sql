-- The store a survey answer is about (the touchpoint's store: the trigger
-- event's `store` property, or `touchpoint_store` on the answer), so scores
-- and alerts can be split by store. Owned by the survey package.
ALTER TABLE survey_invitations ADD COLUMN store TEXT NOT NULL DEFAULT '';
ALTER TABLE survey_responses ADD COLUMN store TEXT NOT NULL DEFAULT '';
ALTER TABLE survey_scores ADD COLUMN store TEXT NOT NULL DEFAULT '';
