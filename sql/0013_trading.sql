-- 0013_trading.sql — tenants' backtests and bots: what was asked, the engine's report, the bots'
-- saved engine state between ticks, their trades and (live) exchange orders, and the emergency halt.
CREATE TABLE backtests (
    id              BIGSERIAL PRIMARY KEY,
    tenant_id       BIGINT NOT NULL REFERENCES tenants(id),
    user_id         BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    job_id          BIGINT REFERENCES jobs(id) ON DELETE SET NULL,
    name            TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    exchange        TEXT NOT NULL,
    symbols         TEXT[] NOT NULL CHECK (cardinality(symbols) BETWEEN 1 AND 8),
    timeframe       TEXT NOT NULL,
    from_ms         BIGINT NOT NULL,
    to_ms           BIGINT NOT NULL CHECK (to_ms > from_ms),
    initial_balance DOUBLE PRECISION NOT NULL CHECK (initial_balance > 0 AND initial_balance < 1e15),
    config          JSONB NOT NULL,      -- engine_config_to_json(): strategy, params, risk, costs
    report          JSONB,               -- bt_report_json(): metrics, trades, curves; NULL until done
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at     TIMESTAMPTZ
);
CREATE INDEX backtests_tenant_idx ON backtests (tenant_id, id DESC);

CREATE TABLE bots (
    id              BIGSERIAL PRIMARY KEY,
    tenant_id       BIGINT NOT NULL REFERENCES tenants(id),
    user_id         BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name            TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    exchange        TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    timeframe       TEXT NOT NULL,
    mode            TEXT NOT NULL DEFAULT 'paper' CHECK (mode IN ('paper', 'live')),
    credential_id   BIGINT REFERENCES credentials(id) ON DELETE RESTRICT,
    config          JSONB NOT NULL,
    initial_balance DOUBLE PRECISION NOT NULL CHECK (initial_balance > 0 AND initial_balance < 1e15),
    status          TEXT NOT NULL DEFAULT 'stopped' CHECK (status IN ('stopped', 'running', 'error')),
    -- the engine (lib/trading/engine.h) saved after the last processed candle; NULL = fresh start
    state           BYTEA,
    start_ms        BIGINT,              -- first candle the bot trades (set when first started)
    last_candle_ms  BIGINT,              -- open time of the last candle fed to the engine
    equity          DOUBLE PRECISION,    -- mark-to-market after the last tick, quote currency
    error           TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (mode = 'paper' OR credential_id IS NOT NULL)
);
CREATE INDEX bots_tenant_idx ON bots (tenant_id, id);
CREATE INDEX bots_running_idx ON bots (timeframe) WHERE status = 'running';

-- One row per engine trade event; (bot_id, seq) makes a re-run tick write nothing twice.
CREATE TABLE bot_trades (
    id          BIGSERIAL PRIMARY KEY,
    tenant_id   BIGINT NOT NULL REFERENCES tenants(id),
    bot_id      BIGINT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    seq         INT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('open', 'add', 'close')), -- add: a DCA buy into an open trade
    trade_id    BIGINT NOT NULL,  -- the engine's trade number: an open, its adds and its close share it
    symbol      TEXT NOT NULL,
    time_ms     BIGINT NOT NULL,
    price       DOUBLE PRECISION NOT NULL,
    qty         DOUBLE PRECISION NOT NULL,
    fee         DOUBLE PRECISION NOT NULL,
    pnl         DOUBLE PRECISION,
    reason      TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (bot_id, seq)
);
CREATE INDEX bot_trades_tenant_idx ON bot_trades (tenant_id, bot_id, seq DESC);

-- Live bots: the exchange order behind each engine decision. client_order_id is derived from
-- (bot, seq), so a retried tick finds the order it already placed instead of placing another.
CREATE TABLE bot_orders (
    id              BIGSERIAL PRIMARY KEY,
    tenant_id       BIGINT NOT NULL REFERENCES tenants(id),
    bot_id          BIGINT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    client_order_id TEXT NOT NULL UNIQUE,
    side            TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
    symbol          TEXT NOT NULL,
    qty             TEXT NOT NULL,
    status          TEXT NOT NULL,
    exchange_order_id TEXT,
    fill_price      DOUBLE PRECISION,
    error           TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX bot_orders_tenant_idx ON bot_orders (tenant_id, bot_id, id DESC);

-- The platform-wide emergency halt (one row): while halted, no bot tick trades.
CREATE TABLE trading_halt (
    id         BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
    halted     BOOLEAN NOT NULL DEFAULT false,
    reason     TEXT,
    changed_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    changed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO trading_halt (halted) VALUES (false);

INSERT INTO permissions (key, module, description) VALUES
    ('trading.halt', 'trading', 'halt every bot on the platform in an emergency');
INSERT INTO role_permissions (role_key, permission_key) VALUES
    ('ceo', 'trading.halt'), ('seguranca.manager', 'trading.halt');
