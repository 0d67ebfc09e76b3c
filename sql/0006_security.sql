-- 0006_security.sql — Segurança's event log and alerts, and the notifications every module
-- sends through notify() (the in-app bell until the notifications module delivers elsewhere).
CREATE TABLE security_events (
    id          BIGSERIAL PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    tenant_id   BIGINT REFERENCES tenants(id),
    user_id     BIGINT REFERENCES users(id) ON DELETE SET NULL,   -- the account concerned
    actor_id    BIGINT REFERENCES users(id) ON DELETE SET NULL,   -- who acted (0/NULL = anonymous)
    kind        TEXT NOT NULL,
    severity    TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    ip          TEXT NOT NULL DEFAULT '',
    request_id  TEXT NOT NULL DEFAULT '',
    details     JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX security_events_at_idx ON security_events (at DESC);
CREATE INDEX security_events_kind_idx ON security_events (kind, at DESC);
CREATE INDEX security_events_user_idx ON security_events (user_id, at DESC);

-- an anomaly rule that fired: one row per rule per window, acknowledged by Segurança
CREATE TABLE security_alerts (
    id              BIGSERIAL PRIMARY KEY,
    at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    rule            TEXT NOT NULL,
    subject         TEXT NOT NULL DEFAULT '',      -- e.g. the account or address concerned
    observed        BIGINT NOT NULL,
    threshold       BIGINT NOT NULL,
    acknowledged_by BIGINT REFERENCES users(id),
    acknowledged_at TIMESTAMPTZ
);
CREATE INDEX security_alerts_open_idx ON security_alerts (at DESC) WHERE acknowledged_at IS NULL;

CREATE TABLE notifications (
    id          BIGSERIAL PRIMARY KEY,
    tenant_id   BIGINT NOT NULL REFERENCES tenants(id),
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    severity    TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    read_at     TIMESTAMPTZ
);
CREATE INDEX notifications_user_idx ON notifications (tenant_id, user_id, created_at DESC);
