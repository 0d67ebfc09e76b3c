-- 0014_optimize.sql — parameter searches and walk-forward analyses of one strategy on one market:
-- the request, the resumable state while the worker runs it, and the results the pages show.
CREATE TABLE optimizations (
    id              BIGSERIAL PRIMARY KEY,
    tenant_id       BIGINT NOT NULL REFERENCES tenants(id),
    user_id         BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    job_id          BIGINT REFERENCES jobs(id) ON DELETE SET NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('search', 'walk_forward')),
    name            TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    exchange        TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    timeframe       TEXT NOT NULL,
    from_ms         BIGINT NOT NULL,
    to_ms           BIGINT NOT NULL CHECK (to_ms > from_ms),
    initial_balance DOUBLE PRECISION NOT NULL CHECK (initial_balance > 0 AND initial_balance < 1e15),
    config          JSONB NOT NULL,  -- the base strategy (engine_config_to_json): what is not searched
    spec            JSONB NOT NULL,  -- search: opt_spec_to_json form; walk_forward: windows + search
    total           BIGINT NOT NULL CHECK (total > 0), -- parameter sets (search) or windows (walk_forward)
    checkpoint      JSONB,           -- search: opt_checkpoint() while it runs, so a retry resumes
    results         JSONB,           -- search: opt_results_json(); walk_forward: wf_report_json()
    backend         TEXT CHECK (backend IN ('cpu', 'cuda')), -- where it last ran
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at     TIMESTAMPTZ
);
CREATE INDEX optimizations_tenant_idx ON optimizations (tenant_id, kind, id DESC);
