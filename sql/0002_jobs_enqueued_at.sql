-- 0002_jobs_enqueued_at.sql — when a job id was last put on the Redis stream, so the worker's
-- sweeper can re-send queued jobs that Redis lost without flooding the stream with duplicates.
ALTER TABLE jobs ADD COLUMN enqueued_at TIMESTAMPTZ;
