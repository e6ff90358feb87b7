-- How an invitation was answered: '' on its survey page or through the API,
-- 'score_link' by a one-click score in its email, 'reply' by replying to
-- that email. An answer given from the email may be revised (a second
-- click, a later reply, the rest of the questions on the page) rather than
-- refused as already answered. Owned by the survey package.
ALTER TABLE survey_invitations ADD COLUMN answered_via TEXT NOT NULL DEFAULT '';
