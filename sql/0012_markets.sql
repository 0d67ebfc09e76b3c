-- 0012_markets.sql — the markets pages: a per-series summary (candle count, first/last time, last
-- close) kept by the shared candle store, and the permissions to view markets and import candles.

-- One row per (market, timeframe) that has candles, updated in the same transaction as every
-- import (lib/market_store.c), so the list never counts millions of candles. Platform-wide data
-- like markets and candles: no tenant.
CREATE TABLE market_series (
    market_id       BIGINT NOT NULL REFERENCES markets (id),
    timeframe       TEXT NOT NULL CHECK (timeframe IN ('1m', '5m', '15m', '1h', '4h', '1d')),
    candles         BIGINT NOT NULL CHECK (candles >= 0),
    first_open_time BIGINT NOT NULL,
    last_open_time  BIGINT NOT NULL,
    last_close      DOUBLE PRECISION NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (market_id, timeframe)
);

-- candles stored before this migration
INSERT INTO market_series (market_id, timeframe, candles, first_open_time, last_open_time, last_close)
SELECT s.market_id, s.timeframe, s.n, s.first, s.last,
       (SELECT c.close FROM candles c WHERE c.market_id = s.market_id AND c.timeframe = s.timeframe
        AND c.open_time = s.last)
FROM (SELECT market_id, timeframe, count(*) AS n, min(open_time) AS first, max(open_time) AS last
      FROM candles GROUP BY market_id, timeframe) s;

-- Market data is the same for everyone, so every role may look at it; importing it changes what
-- every tenant's bots and backtests read, so it is a platform operation of the CEO and of the
-- settings managers (Configurações), who hold the platform's data. The CEO holds every
-- permission but trading.use (sql/0004), so that both can be granted onwards.
INSERT INTO permissions (key, module, description) VALUES
    ('markets.view', 'markets', 'see markets, candle charts and indicators'),
    ('markets.import', 'markets', 'import candles into the platform''s market data');
INSERT INTO role_permissions (role_key, permission_key)
    SELECT key, 'markets.view' FROM roles;
INSERT INTO role_permissions (role_key, permission_key) VALUES
    ('ceo', 'markets.import'),
    ('configuracoes.manager', 'markets.import');
