-- 0001_core.sql — the platform's first tables: tenants, users, sessions, the job table the
-- worker consumes and worker heartbeats. Later issues extend these in new migrations.
CREATE TABLE tenants (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('company', 'trader', 'influencer')),
    name        TEXT NOT NULL,
    plan        TEXT NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'pro', 'enterprise', 'influencer', 'internal')),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    tenant_id     BIGINT NOT NULL REFERENCES tenants(id),
    email         TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'trader',
    lang          TEXT NOT NULL DEFAULT 'pt-BR' CHECK (lang IN ('pt-BR', 'en')),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_tenant_idx ON users (tenant_id);

CREATE TABLE sessions (
    id_hash     TEXT PRIMARY KEY,            -- hex SHA-256 of the cookie value; the value itself is never stored
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf        TEXT NOT NULL,
    ip          TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    seen_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE jobs (
    id           BIGSERIAL PRIMARY KEY,
    tenant_id    BIGINT REFERENCES tenants(id),
    type         TEXT NOT NULL,
    params       JSONB NOT NULL DEFAULT '{}',
    status       TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed', 'dead', 'cancelled')),
    attempts     INT NOT NULL DEFAULT 0,
    progress     REAL NOT NULL DEFAULT 0,
    result       JSONB,
    error        TEXT,
    worker_id    TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at   TIMESTAMPTZ,
    finished_at  TIMESTAMPTZ
);
CREATE INDEX jobs_status_idx ON jobs (status, created_at) WHERE status IN ('queued', 'running');

CREATE TABLE worker_heartbeats (
    worker_id    TEXT PRIMARY KEY,
    backend      TEXT NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    seen_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    jobs_done    BIGINT NOT NULL DEFAULT 0
);
