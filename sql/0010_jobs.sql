-- 0010_jobs.sql — the job queue's truth: who asked, how many attempts a job may take, when it may
-- run next (retry backoff), the runner's lease (visibility timeout), cancellation, de-duplication,
-- and the indexes the worker's claim/sweep statements and the jobs pages use (docs/worker.md).
--
-- Status values (the CHECK of 0001 already lists them):
--   queued     waiting; run_after says from when (a retry waits out its backoff here)
--   running    claimed by worker_id until lease_until; attempts counts this claim
--   done       finished; result holds the handler's JSON
--   failed     a permanent error (unknown type, invalid parameters): not retried
--   dead       max_attempts used up (errors or runners that died); error keeps the last one
--   cancelled  cancelled while queued, or stopped by its handler after a cancel request
ALTER TABLE jobs
    ADD COLUMN user_id          BIGINT REFERENCES users(id) ON DELETE SET NULL,
    ADD COLUMN max_attempts     INT NOT NULL DEFAULT 5 CHECK (max_attempts BETWEEN 1 AND 100),
    ADD COLUMN run_after        TIMESTAMPTZ NOT NULL DEFAULT now(),
    ADD COLUMN lease_until      TIMESTAMPTZ,
    ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN dedupe_key       TEXT CHECK (length(dedupe_key) BETWEEN 1 AND 200),
    ADD COLUMN updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- a runner died holding it (maybe because of it): from now on it is claimed alone, never in
    -- a worker's batch, so a poison job cannot take its batch-mates' attempts with it again
    ADD COLUMN run_alone        BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE jobs ADD CONSTRAINT jobs_type_check CHECK (type ~ '^[a-z][a-z0-9_]{0,39}$') NOT VALID;

-- one job per (tenant, key), for ever: a bot tick "bot:<id>:<candle_close_ms>" runs once even
-- when the scheduler fires twice; system jobs (no tenant) share tenant 0
CREATE UNIQUE INDEX jobs_dedupe_key ON jobs ((coalesce(tenant_id, 0)), dedupe_key) WHERE dedupe_key IS NOT NULL;
-- the sweeper: queued jobs that are due, and running jobs whose lease ran out (only running jobs
-- hold a lease). No index may have a predicate that the claim's or the outcomes' conditions imply
-- (status IN ('queued', 'running'), status = 'running'): with stale statistics the planner would
-- scan it whole instead of fetching a few ids by primary key — 0001's status index did exactly that.
DROP INDEX jobs_status_idx;
CREATE INDEX jobs_due_idx ON jobs (run_after, id) WHERE status = 'queued';
CREATE INDEX jobs_lease_idx ON jobs (lease_until) WHERE lease_until IS NOT NULL;
-- the jobs pages (newest first per tenant) and the per-day quota count
CREATE INDEX jobs_tenant_idx ON jobs (tenant_id, id DESC);
CREATE INDEX jobs_tenant_type_day_idx ON jobs (tenant_id, type, created_at);
-- /health/detailed and /metrics count the dead-letter without reading finished jobs
CREATE INDEX jobs_dead_idx ON jobs (finished_at) WHERE status IN ('dead', 'failed');

-- what /health/detailed and /metrics show per worker: the job in hand and per-process counters
ALTER TABLE worker_heartbeats
    ADD COLUMN current_job_id BIGINT,
    ADD COLUMN stats          JSONB NOT NULL DEFAULT '{}';

INSERT INTO permissions (key, module, description) VALUES
    ('jobs.view', 'jobs', 'see one''s own tenant''s jobs: status, progress, results and errors'),
    ('jobs.manage', 'jobs', 'start, cancel and retry one''s own tenant''s jobs');
INSERT INTO role_permissions (role_key, permission_key) VALUES
    ('trader', 'jobs.view'), ('trader', 'jobs.manage'),
    ('influencer', 'jobs.view'), ('influencer', 'jobs.manage'),
    ('ceo', 'jobs.view'), ('ceo', 'jobs.manage');

GRANT SELECT, INSERT, UPDATE, DELETE ON jobs, worker_heartbeats TO bcf_app;
GRANT USAGE, SELECT, UPDATE ON SEQUENCE jobs_id_seq TO bcf_app;
