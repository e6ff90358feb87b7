-- How often a case was reopened: each resolution after a reopen is an
-- event of its own (cases.ResolutionMessage), which the complaint-handling
-- survey answers and a reopen withdraws.
ALTER TABLE cases ADD COLUMN reopened INTEGER NOT NULL DEFAULT 0;
