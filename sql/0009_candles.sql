-- 0009_candles.sql — platform-wide market data (not tenant data): markets and their OHLCV candles,
-- range-partitioned by month of open time; candles_ensure_partition() lets the app make a month's partition.
CREATE TABLE markets (
    id       BIGSERIAL PRIMARY KEY,
    exchange TEXT NOT NULL CHECK (exchange ~ '^[a-z0-9_]{1,32}$'),
    symbol   TEXT NOT NULL CHECK (symbol ~ '^[A-Z0-9]{2,32}$'),   -- exchange spelling, e.g. 'BTCUSDT'
    base     TEXT NOT NULL CHECK (base ~ '^[A-Z0-9]{1,16}$'),
    quote    TEXT NOT NULL CHECK (quote ~ '^[A-Z0-9]{1,16}$'),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (exchange, symbol)
);

-- Prices and volumes are DOUBLE PRECISION: market data is measured, not owed (balances are integer
-- minor units elsewhere), and indicators want doubles. open_time is BIGINT epoch milliseconds,
-- the unit exchanges publish, so rows compare and partition without time-zone conversions.
CREATE TABLE candles (
    market_id BIGINT NOT NULL REFERENCES markets (id),
    timeframe TEXT NOT NULL CHECK (timeframe IN ('1m', '5m', '15m', '1h', '4h', '1d')),
    open_time BIGINT NOT NULL CHECK (open_time >= 0),
    open      DOUBLE PRECISION NOT NULL,
    high      DOUBLE PRECISION NOT NULL,
    low       DOUBLE PRECISION NOT NULL,
    close     DOUBLE PRECISION NOT NULL,
    volume    DOUBLE PRECISION NOT NULL,
    -- 'NaN' is a float8 value that compares greater than everything: refuse it and infinities outright
    CHECK (open NOT IN ('NaN', 'Infinity') AND high NOT IN ('NaN', 'Infinity')
           AND close NOT IN ('NaN', 'Infinity') AND volume NOT IN ('NaN', 'Infinity')),
    CHECK (high >= greatest(open, close)),
    CHECK (low <= least(open, close)),
    CHECK (low > 0),
    CHECK (volume >= 0),
    PRIMARY KEY (market_id, timeframe, open_time)
) PARTITION BY RANGE (open_time);

-- rows of a month whose partition does not exist yet land here, so an insert never fails for that
CREATE TABLE candles_default PARTITION OF candles DEFAULT;

-- Creates the partition of the UTC calendar month holding p_ms (epoch ms) when missing and returns
-- its name, e.g. candles_y2024m01. Runs as the schema owner because the app's role may not create
-- tables; rows of that month already in the default partition are moved into the new one (a
-- plain CREATE ... PARTITION OF would fail on them).
CREATE FUNCTION candles_ensure_partition(p_ms BIGINT) RETURNS TEXT
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_month TIMESTAMP;
    v_from  BIGINT;
    v_to    BIGINT;
    v_name  TEXT;
BEGIN
    IF p_ms IS NULL OR p_ms < 0 OR p_ms > 253402300799999 THEN
        RAISE EXCEPTION 'candles_ensure_partition: open time % out of range', p_ms USING ERRCODE = '22023';
    END IF;
    v_month := date_trunc('month', to_timestamp(p_ms / 1000) AT TIME ZONE 'UTC');
    v_from := (extract(epoch FROM v_month) * 1000)::bigint;
    v_to := (extract(epoch FROM v_month + interval '1 month') * 1000)::bigint;
    v_name := to_char(v_month, '"candles_y"YYYY"m"MM');
    IF to_regclass(v_name) IS NOT NULL THEN
        RETURN v_name;
    END IF;
    -- two importers touching the same new month: the second waits, then finds the table
    PERFORM pg_advisory_xact_lock(hashtext('candles_ensure_partition'));
    IF to_regclass(v_name) IS NOT NULL THEN
        RETURN v_name;
    END IF;
    IF EXISTS (SELECT 1 FROM candles_default WHERE open_time >= v_from AND open_time < v_to) THEN
        EXECUTE format('CREATE TABLE %I (LIKE candles INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_name);
        EXECUTE format('WITH moved AS (DELETE FROM candles_default WHERE open_time >= $1 AND open_time < $2 '
                       'RETURNING *) INSERT INTO %I SELECT * FROM moved', v_name) USING v_from, v_to;
        EXECUTE format('ALTER TABLE candles ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)', v_name, v_from, v_to);
    ELSE
        EXECUTE format('CREATE TABLE %I PARTITION OF candles FOR VALUES FROM (%s) TO (%s)', v_name, v_from, v_to);
    END IF;
    RETURN v_name;
END
$$;

REVOKE ALL ON FUNCTION candles_ensure_partition(BIGINT) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION candles_ensure_partition(BIGINT) TO bcf_app;
