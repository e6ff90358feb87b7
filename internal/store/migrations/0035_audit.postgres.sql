-- The audit trail: who changed configuration or access, exported or erased
-- a customer, signed in or failed to, when, from where, and what changed.
-- Append-only: owned by internal/audit, which offers no update or delete,
-- and the database refuses an UPDATE. Times are the app's clock (unix ms);
-- before and after are JSON text ('' when none). No customer data beyond ids.
CREATE TABLE audit_log (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    role        TEXT NOT NULL,
    address     TEXT NOT NULL,
    action      TEXT NOT NULL,
    resource    TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    method      TEXT NOT NULL,
    route       TEXT NOT NULL,
    status      INTEGER NOT NULL,
    before_state TEXT NOT NULL,
    after_state  TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_actor_id ON audit_log (actor_id, seq);
CREATE INDEX audit_log_resource ON audit_log (resource, resource_id, seq);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
