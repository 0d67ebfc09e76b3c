-- 0024_notifications.sql — the notifications center: categories, per-user preferences per category
-- and channel, quiet hours, and the delivery outbox the worker drains (docs/notifications.md).

-- The eight categories a user can tune. email_default/telegram_default: the channel's setting for a
-- user who never changed it (in-app is always on by default). Telegram also needs a linked chat.
CREATE TABLE notification_categories (
    key              TEXT PRIMARY KEY CHECK (key ~ '^[a-z0-9_]+$'),
    position         INT NOT NULL,
    email_default    BOOLEAN NOT NULL,
    telegram_default BOOLEAN NOT NULL
);
INSERT INTO notification_categories (key, position, email_default, telegram_default) VALUES
    ('financeiro', 1, true, true),
    ('seguranca', 2, true, true),
    ('trading', 3, false, true),
    ('assinaturas', 4, true, true),
    ('p2p', 5, false, true),
    ('affiliate', 6, false, true),
    ('sac', 7, false, true),
    ('sistema', 8, false, true);

-- template: the name under templates/notify/ ('' = a message written before templates, whose
-- title/body are the text for every channel); data: the template's variables; in_app = false when
-- the user turned the in-app channel off for the category (the row stays as the outbox's parent
-- but the bell and the page do not show it). dedupe_key: a second send with the same key for the
-- same user writes nothing (NULLs never collide).
ALTER TABLE notifications
    ADD COLUMN category   TEXT NOT NULL DEFAULT 'sistema' REFERENCES notification_categories(key),
    ADD COLUMN template   TEXT NOT NULL DEFAULT '',
    ADD COLUMN data       JSONB NOT NULL DEFAULT '{}',
    ADD COLUMN priority   TEXT NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    ADD COLUMN dedupe_key TEXT,
    ADD COLUMN in_app     BOOLEAN NOT NULL DEFAULT true,
    ADD CONSTRAINT notifications_dedupe_key UNIQUE (user_id, dedupe_key);
UPDATE notifications SET category = CASE
        WHEN kind LIKE 'security.%' OR kind LIKE 'account.%' THEN 'seguranca'
        WHEN kind LIKE 'banco.%' THEN 'financeiro'
        WHEN kind LIKE 'billing.%' THEN 'assinaturas'
        ELSE 'sistema' END,
    priority = CASE severity WHEN 'warning' THEN 'high' WHEN 'critical' THEN 'urgent' ELSE 'normal' END;
-- the bell's count and the page's list read only these
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL AND in_app;
CREATE INDEX notifications_list_idx ON notifications (user_id, id DESC) WHERE in_app;

-- Only what a user changed is stored; a missing row means the category's default.
CREATE TABLE notification_preferences (
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    tenant_id  BIGINT NOT NULL REFERENCES tenants(id),
    category   TEXT NOT NULL REFERENCES notification_categories(key),
    channel    TEXT NOT NULL CHECK (channel IN ('in_app', 'telegram', 'email')),
    enabled    BOOLEAN NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, category, channel)
);

-- Quiet hours: [start_min, end_min) in minutes of the local day in time_zone, wrapping past
-- midnight when start_min > end_min (22:00–07:00). No row = no quiet hours.
CREATE TABLE notification_quiet_hours (
    user_id    BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    tenant_id  BIGINT NOT NULL REFERENCES tenants(id),
    start_min  INT NOT NULL CHECK (start_min BETWEEN 0 AND 1439),
    end_min    INT NOT NULL CHECK (end_min BETWEEN 0 AND 1439),
    time_zone  TEXT NOT NULL DEFAULT 'America/Sao_Paulo',
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (start_min <> end_min)
);

-- A user's Telegram chat once linked (the Telegram work adds link codes and fills this); a
-- telegram delivery is written only for a linked user.
CREATE TABLE telegram_links (
    user_id   BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    chat_id   BIGINT NOT NULL UNIQUE,
    linked_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The outbox: one row per (notification, external channel), written in the notification's
-- transaction. The worker claims due rows (status pending, or sending whose lease in
-- next_attempt_at ran out) with FOR UPDATE SKIP LOCKED, sends, and records the outcome.
-- dedupe_key ('<user>:<channel>:<notification dedupe key or n<id>>') is the idempotency key a
-- sender may hand to the provider; it also makes a redelivered notify write nothing.
CREATE TABLE notification_deliveries (
    id              BIGSERIAL PRIMARY KEY,
    notification_id BIGINT NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    tenant_id       BIGINT NOT NULL REFERENCES tenants(id),
    user_id         BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    channel         TEXT NOT NULL CHECK (channel IN ('telegram', 'email')),
    dedupe_key      TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'suppressed')),
    attempts        INT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at         TIMESTAMPTZ,
    UNIQUE (notification_id, channel)
);
CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (channel, next_attempt_at)
    WHERE status IN ('pending', 'sending');
CREATE INDEX notification_deliveries_failed_idx ON notification_deliveries (created_at DESC) WHERE status = 'failed';

GRANT SELECT ON notification_categories TO bcf_app;
REVOKE INSERT, UPDATE, DELETE ON notification_categories FROM bcf_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON notification_preferences, notification_quiet_hours, telegram_links TO bcf_app;
GRANT SELECT, INSERT, UPDATE ON notification_deliveries TO bcf_app;
REVOKE DELETE ON notification_deliveries FROM bcf_app;
GRANT USAGE, SELECT, UPDATE ON SEQUENCE notification_deliveries_id_seq TO bcf_app;
