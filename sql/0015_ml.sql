-- 0015_ml.sql — price-direction models: versioned trained models with their metrics and training
-- curve, prediction runs, and the predictions ml_signal backtests and optimizations trade on.
CREATE TABLE ml_models (
    id              BIGSERIAL PRIMARY KEY,
    tenant_id       BIGINT NOT NULL REFERENCES tenants(id),
    user_id         BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    job_id          BIGINT REFERENCES jobs(id) ON DELETE SET NULL,
    name            TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    version         INT NOT NULL CHECK (version >= 1),   -- 1, 2, ... per (tenant, name)
    kind            TEXT NOT NULL CHECK (kind IN ('logreg', 'gru')),
    exchange        TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    timeframe       TEXT NOT NULL,
    from_ms         BIGINT NOT NULL,
    to_ms           BIGINT NOT NULL CHECK (to_ms > from_ms),
    options         JSONB NOT NULL,  -- training options (ml_opts_to_json): horizon, split, hyperparameters
    model           JSONB,           -- the trained model (ml_model_to_json); NULL until trained
    report          JSONB,           -- metrics of the model and the naive baseline per set, the training curve
    backend         TEXT CHECK (backend IN ('cpu', 'cuda')),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at     TIMESTAMPTZ,
    UNIQUE (tenant_id, name, version)
);
CREATE INDEX ml_models_tenant_idx ON ml_models (tenant_id, id DESC);

-- one request to predict a market's period with a model (job `ml_predict`)
CREATE TABLE ml_prediction_runs (
    id              BIGSERIAL PRIMARY KEY,
    tenant_id       BIGINT NOT NULL REFERENCES tenants(id),
    user_id         BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    job_id          BIGINT REFERENCES jobs(id) ON DELETE SET NULL,
    model_id        BIGINT NOT NULL REFERENCES ml_models(id) ON DELETE CASCADE,
    exchange        TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    timeframe       TEXT NOT NULL,
    from_ms         BIGINT NOT NULL,
    to_ms           BIGINT NOT NULL CHECK (to_ms > from_ms),
    predictions     BIGINT,          -- rows written; NULL until done
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at     TIMESTAMPTZ
);
CREATE INDEX ml_prediction_runs_tenant_idx ON ml_prediction_runs (tenant_id, model_id, id DESC);

-- P(close[t + horizon] > close[t]) of the candle opened at open_time, from candles up to t only
CREATE TABLE ml_predictions (
    model_id        BIGINT NOT NULL REFERENCES ml_models(id) ON DELETE CASCADE,
    tenant_id       BIGINT NOT NULL REFERENCES tenants(id),
    exchange        TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    timeframe       TEXT NOT NULL,
    open_time       BIGINT NOT NULL,
    prob            DOUBLE PRECISION NOT NULL CHECK (prob >= 0 AND prob <= 1),
    PRIMARY KEY (model_id, exchange, symbol, timeframe, open_time)
);
