-- A journey stage row says whether it is cxloop's own action (an event of
-- the source cxloop-actions: a nudge sent, an order proposed), as the
-- analytics consumer saw it, so that journeys need not read the log again.
ALTER TABLE an_stages ADD COLUMN action BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE an_stages SET action = TRUE WHERE message_id IN (SELECT message_id FROM events WHERE source_id = 'cxloop-actions');
