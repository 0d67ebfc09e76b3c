-- 0005_audit.sql — the append-only, hash-chained audit trail. Rows are added only through
-- audit_append(), which runs as the schema owner, numbers rows without gaps and chains each
-- row's SHA-256 to the previous one; the application's role may read but never write or
-- rewrite the table, and a trigger refuses UPDATE, DELETE and TRUNCATE from anyone.
CREATE TABLE audit_log (
    id            BIGINT PRIMARY KEY,            -- 1, 2, 3, ... without gaps (assigned under the chain lock)
    at            TIMESTAMPTZ NOT NULL,
    tenant_id     BIGINT,
    actor_user_id BIGINT,
    action        TEXT NOT NULL,                 -- "<module>.<verb>"
    object_type   TEXT NOT NULL,
    object_id     TEXT NOT NULL,
    before        JSONB,
    after         JSONB,
    ip            TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_user_id, id);

-- the chain's tip: last id and hash; its row lock serialises appends
CREATE TABLE audit_chain_head (
    one       BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
    last_id   BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_chain_head VALUES (true, 0, repeat('0', 64));

-- A free-text field inside the hashed text: backslash and newline are escaped (\\ and \n) so
-- the newline between fields is unambiguous; otherwise bytes could be moved from one field to
-- its neighbour ("a\nb" | "c" versus "a" | "b\nc") without changing the hash.
CREATE FUNCTION audit_field(p TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT replace(replace(p, E'\\', E'\\\\'), E'\n', E'\\n')
$$;

-- The hashed text of a row: these fields joined by newlines, in this order, with NULL as ''.
-- `at` enters as microseconds since the epoch, JSON as PostgreSQL's jsonb text (which never
-- holds a raw newline) and free text through audit_field, so botctl audit verify can rebuild it
-- byte for byte (lib/audit.c).
CREATE FUNCTION audit_canonical(p_prev TEXT, p_id BIGINT, p_at TIMESTAMPTZ, p_tenant BIGINT, p_actor BIGINT,
                                p_action TEXT, p_object_type TEXT, p_object_id TEXT, p_before JSONB,
                                p_after JSONB, p_ip TEXT, p_request_id TEXT)
RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT p_prev || E'\n' || p_id::text || E'\n' || (extract(epoch FROM p_at) * 1000000)::bigint::text
        || E'\n' || coalesce(p_tenant::text, '') || E'\n' || coalesce(p_actor::text, '')
        || E'\n' || audit_field(p_action) || E'\n' || audit_field(p_object_type) || E'\n' || audit_field(p_object_id)
        || E'\n' || coalesce(p_before::text, '') || E'\n' || coalesce(p_after::text, '')
        || E'\n' || audit_field(p_ip) || E'\n' || audit_field(p_request_id)
$$;

CREATE FUNCTION audit_append(p_tenant BIGINT, p_actor BIGINT, p_action TEXT, p_object_type TEXT,
                             p_object_id TEXT, p_before JSONB, p_after JSONB, p_ip TEXT, p_request_id TEXT)
RETURNS BIGINT LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_head audit_chain_head%ROWTYPE;
    v_id   BIGINT;
    v_at   TIMESTAMPTZ;
    v_hash TEXT;
BEGIN
    IF p_action IS NULL OR p_action !~ '^[a-z0-9_]+\.[a-z0-9_.]+$' THEN
        RAISE EXCEPTION 'audit action must look like module.verb, got %', p_action USING ERRCODE = '22023';
    END IF;
    SELECT * INTO v_head FROM audit_chain_head WHERE one FOR UPDATE;
    v_id := v_head.last_id + 1;
    -- read the clock under the lock, so ids and times rise together
    v_at := date_trunc('microseconds', clock_timestamp());
    v_hash := encode(sha256(convert_to(audit_canonical(v_head.last_hash, v_id, v_at, p_tenant, p_actor, p_action,
                     coalesce(p_object_type, ''), coalesce(p_object_id, ''), p_before, p_after,
                     coalesce(p_ip, ''), coalesce(p_request_id, '')), 'UTF8')), 'hex');
    INSERT INTO audit_log (id, at, tenant_id, actor_user_id, action, object_type, object_id, before, after, ip,
                           request_id, prev_hash, hash)
    VALUES (v_id, v_at, p_tenant, p_actor, p_action, coalesce(p_object_type, ''), coalesce(p_object_id, ''),
            p_before, p_after, coalesce(p_ip, ''), coalesce(p_request_id, ''), v_head.last_hash, v_hash);
    UPDATE audit_chain_head SET last_id = v_id, last_hash = v_hash WHERE one;
    RETURN v_id;
END
$$;

CREATE FUNCTION audit_log_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_immutable();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_immutable();

-- the application reads the trail and appends through the function, nothing else
REVOKE ALL ON audit_log, audit_chain_head FROM bcf_app;
-- reading the head lets botctl audit verify (which runs as the app's role) catch rows removed at the end
GRANT SELECT ON audit_log, audit_chain_head TO bcf_app;
REVOKE ALL ON FUNCTION audit_append(BIGINT, BIGINT, TEXT, TEXT, TEXT, JSONB, JSONB, TEXT, TEXT) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_append(BIGINT, BIGINT, TEXT, TEXT, TEXT, JSONB, JSONB, TEXT, TEXT) TO bcf_app;
