-- 0025_telegram.sql — the Telegram bot's own tables: every update received once (update_id is the
-- key), one-time codes that link a portal user to a chat, and the bot's outbox of Bot API calls
-- (replies, confirmations, answerCallbackQuery) that the worker sends with the notifications'
-- Telegram deliveries under one pacing (docs/telegram.md).

-- Each update is stored under its update_id in the transaction that handles it: a redelivery finds
-- the row and changes nothing. outcome says what it did.
CREATE TABLE telegram_updates (
    update_id   BIGINT PRIMARY KEY,
    chat_id     BIGINT,
    kind        TEXT NOT NULL,                  -- message, callback_query, edited_message, other
    outcome     TEXT NOT NULL,                  -- handled, ignored, malformed, unknown_command
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX telegram_updates_chat_idx ON telegram_updates (chat_id, received_at) WHERE chat_id IS NOT NULL;

-- A code shown in the portal (deep link https://t.me/<bot>?start=<code>): used once, expires.
-- Only its SHA-256 is stored, as for the other one-time tokens.
CREATE TABLE telegram_link_codes (
    code_hash  TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    tenant_id  BIGINT NOT NULL REFERENCES tenants(id),
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX telegram_link_codes_user_idx ON telegram_link_codes (user_id, created_at);

-- The bot's outbox: one Bot API call per row (method and its JSON parameters, chat_id among them),
-- written in the transaction of what caused it, delivered at least once by the worker in id order
-- per chat. dedupe_key makes a retried cause write it once.
CREATE TABLE telegram_outbox (
    id              BIGSERIAL PRIMARY KEY,
    chat_id         BIGINT NOT NULL,
    method          TEXT NOT NULL CHECK (method IN ('sendMessage', 'editMessageText', 'answerCallbackQuery')),
    params          JSONB NOT NULL,
    dedupe_key      TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        INT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at         TIMESTAMPTZ
);
CREATE INDEX telegram_outbox_due_idx ON telegram_outbox (next_attempt_at, id) WHERE status IN ('pending', 'sending');
CREATE INDEX telegram_outbox_failed_idx ON telegram_outbox (created_at) WHERE status = 'failed';
-- the worker sends a chat's rows in id order: it looks for an earlier unsent row of the same chat
CREATE INDEX telegram_outbox_chat_idx ON telegram_outbox (chat_id, id) WHERE status IN ('pending', 'sending');

GRANT SELECT, INSERT ON telegram_updates TO bcf_app;
REVOKE UPDATE, DELETE ON telegram_updates FROM bcf_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON telegram_link_codes TO bcf_app;
GRANT SELECT, INSERT, UPDATE ON telegram_outbox TO bcf_app;
REVOKE DELETE ON telegram_outbox FROM bcf_app;
GRANT USAGE, SELECT, UPDATE ON SEQUENCE telegram_outbox_id_seq TO bcf_app;
