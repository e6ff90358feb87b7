-- The log's archives (eventlog.ArchiveBefore, docs/retention.md): each
-- file holds the events with seq in [first_seq, last_seq]; dropped says
-- they are gone from the events table (an archive recorded but not yet
-- dropped is finished by the next run).
CREATE TABLE event_archives (
    file       TEXT PRIMARY KEY,
    first_seq  BIGINT NOT NULL,
    last_seq   BIGINT NOT NULL,
    events     BIGINT NOT NULL,
    bytes      BIGINT NOT NULL,
    sha256     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    dropped    BOOLEAN NOT NULL
);
