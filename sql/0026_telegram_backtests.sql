-- 0026_telegram_backtests.sql — backtests queued from Telegram (/backtest): the worker that stores
-- the report looks here to tell the chat it is done (one telegram_outbox row, key bt:<id>:done).
CREATE TABLE telegram_backtests (
    backtest_id BIGINT PRIMARY KEY REFERENCES backtests(id) ON DELETE CASCADE,
    tenant_id   BIGINT NOT NULL REFERENCES tenants(id),
    chat_id     BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT, DELETE ON telegram_backtests TO bcf_app;
