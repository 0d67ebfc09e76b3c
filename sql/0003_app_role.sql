-- 0003_app_role.sql — the application connects as a member of bcf_app, which may read and write
-- rows but owns nothing: it cannot alter the schema, and later migrations can deny it UPDATE or
-- DELETE on a table (audit_log). Migrations run as the owning role (db.migrate_dsn).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bcf_app') THEN
        RAISE EXCEPTION 'database role bcf_app is missing: create it and make the application''s login role a member (docs/operations.md, "Database roles")';
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO bcf_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO bcf_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO bcf_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO bcf_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO bcf_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO bcf_app;
-- the migration ledger is the owner's alone
REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM bcf_app;
