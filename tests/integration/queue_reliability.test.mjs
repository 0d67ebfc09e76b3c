// tests/integration/queue_reliability.test.mjs — the queue under failure: two workers (as on two hosts)
// SIGKILLed again and again during a batch of 500 jobs, and Redis flushed mid-run. Triggers on the jobs
// table (added here, as the schema owner) record every claim and every transition to done, so "each job
// completed exactly once, none lost" is proved by PostgreSQL itself, independently of the worker's code.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';
import { psql, redisCli, sleep, waitFor } from './lib.mjs';
import { workers } from './workers.mjs';

const CONFIG = {
  'queue.visibility_ms': '1000',
  'queue.sweep_ms': '100',
  'queue.resend_ms': '500',
  'queue.backoff_base_ms': '100',
  'queue.backoff_max_ms': '400',
  'queue.progress_ms': '100',
  'queue.batch': '4',
  'worker.heartbeat_s': '1',
};

let stack;
let w;
let hostSeq = 0;

const q = (sql) => psql(stack, sql);
const num = async (sql) => Number(await q(sql));

/** A worker named as if on its own host. */
function startWorker() {
  hostSeq++;
  return w.start({ BCF_WORKER_ID: `host-${hostSeq % 2 ? 'a' : 'b'}:${hostSeq}` });
}

before(async () => {
  stack = await startStack({ config: CONFIG });
  w = workers(stack);
  await w.stopStackWorker();
  await psql(stack, `
    CREATE TABLE queue_test_claims (job_id bigint NOT NULL, attempt int NOT NULL, worker text, at timestamptz NOT NULL DEFAULT clock_timestamp());
    CREATE TABLE queue_test_done (job_id bigint NOT NULL, worker text, at timestamptz NOT NULL DEFAULT clock_timestamp());
    CREATE FUNCTION queue_test_track() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.status = 'running' AND NEW.attempts > OLD.attempts THEN
        INSERT INTO queue_test_claims (job_id, attempt, worker) VALUES (NEW.id, NEW.attempts, NEW.worker_id);
      END IF;
      IF NEW.status = 'done' AND OLD.status <> 'done' THEN
        INSERT INTO queue_test_done (job_id, worker) VALUES (NEW.id, NEW.worker_id);
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER queue_test_track AFTER UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION queue_test_track();
    GRANT SELECT, INSERT ON queue_test_claims, queue_test_done TO bcf_app;`, { user: 'botcriptofy_owner' });
});

after(async () => {
  await w?.stopAll();
  await stack?.stop();
});

/** Enqueues `n` sleep jobs of `ms` through botctl --count; resolves their ids. */
async function enqueueSleeps(n, ms, maxAttempts = 50) {
  const { stdout } = await stack.botctl('job-enqueue', 'sleep', JSON.stringify({ ms }), '--count', String(n),
    '--max-attempts', String(maxAttempts));
  const ids = stdout.trim().split('\n').map(Number);
  assert.equal(ids.length, n);
  return ids;
}

async function outcome(ids) {
  const list = ids.join(',');
  return {
    done: await num(`SELECT count(*) FROM jobs WHERE id IN (${list}) AND status = 'done'`),
    other: await q(`SELECT coalesce(string_agg(DISTINCT status, ','), '') FROM jobs WHERE id IN (${list}) AND status <> 'done'`),
    completions: await num(`SELECT count(*) FROM queue_test_done WHERE job_id IN (${list})`),
    distinctCompletions: await num(`SELECT count(DISTINCT job_id) FROM queue_test_done WHERE job_id IN (${list})`),
    claims: await num(`SELECT count(*) FROM queue_test_claims WHERE job_id IN (${list})`),
    claimedJobs: await num(`SELECT count(DISTINCT job_id) FROM queue_test_claims WHERE job_id IN (${list})`),
  };
}

test('SIGKILL the workers again and again during 500 jobs: every job completes exactly once, none is lost', async (t) => {
  startWorker();
  startWorker();
  const ids = [];
  for (const ms of [5, 10, 15, 20]) ids.push(...await enqueueSleeps(125, ms));
  assert.equal(new Set(ids).size, 500);
  const list = ids.join(',');

  let kills = 0;
  let killsMidRun = 0;
  const t0 = Date.now();
  // kill a random live worker every 250-600 ms and start a new one in its place, 12 times
  while (kills < 12 && Date.now() - t0 < 60_000) {
    await sleep(250 + Math.floor(Math.random() * 350));
    const live = w.live;
    if (!live.length) {
      startWorker();
      continue;
    }
    const victim = live[Math.floor(Math.random() * live.length)];
    const doneNow = await num(`SELECT count(*) FROM jobs WHERE id IN (${list}) AND status = 'done'`);
    process.kill(victim.pid, 'SIGKILL');
    await victim.exited;
    kills++;
    if (doneNow < 500) killsMidRun++;
    startWorker();
  }
  const finished = await waitFor(async () => (await num(`SELECT count(*) FROM jobs WHERE id IN (${list}) AND status = 'done'`)) === 500,
    { timeoutMs: 90_000, intervalMs: 200 });
  const o = await outcome(ids);
  t.diagnostic(`${kills} kills (${killsMidRun} while jobs were outstanding) in ${Date.now() - t0} ms; ` +
    `${o.claims} claims for 500 jobs (${o.claims - 500} made again after their runner was killed holding them)`);
  assert.ok(finished, `all 500 done: ${JSON.stringify(o)}`);
  assert.equal(o.done, 500);
  assert.equal(o.other, '', 'no job left in another status');
  assert.equal(o.completions, 500, 'exactly 500 transitions to done: no job completed twice');
  assert.equal(o.distinctCompletions, 500);
  assert.equal(o.claimedJobs, 500);
  assert.ok(o.claims >= 500);
  assert.ok(killsMidRun >= 5, `the kills landed while jobs were outstanding (${killsMidRun})`);
  // a job held by a killed runner is claimed alone afterwards, so one kill costs it one attempt and
  // later kills only count against the job actually running: attempts stay far below 12 kills
  const maxAttempts = await num(`SELECT max(attempts) FROM jobs WHERE id IN (${list})`);
  assert.ok(maxAttempts <= 4, `max attempts ${maxAttempts}`);
  assert.ok(await num(`SELECT count(*) FROM jobs WHERE id IN (${list}) AND run_alone`) > 0, 'killed batches were marked run_alone');
  // every result is from the attempt that completed it (a stale runner never overwrote it)
  assert.equal(await num(`SELECT count(*) FROM jobs WHERE id IN (${list}) AND (result->>'attempt')::int <> attempts`), 0);
});

test('Redis flushed mid-run: every queued job is recovered from PostgreSQL and completes exactly once', async (t) => {
  while (w.live.length < 2) startWorker();
  const ids = await enqueueSleeps(300, 10, 5);
  const list = ids.join(',');
  await waitFor(async () => (await num(`SELECT count(*) FROM jobs WHERE id IN (${list}) AND status = 'done'`)) >= 20,
    { timeoutMs: 10_000, intervalMs: 20 });
  const before = await num(`SELECT count(*) FROM jobs WHERE id IN (${list}) AND status = 'queued'`);
  assert.equal(await redisCli(stack, 'FLUSHALL'), 'OK');
  assert.equal(await redisCli(stack, 'EXISTS', 'bcf:jobs'), '0', 'the stream is gone');
  const t0 = Date.now();
  const finished = await waitFor(async () => (await num(`SELECT count(*) FROM jobs WHERE id IN (${list}) AND status = 'done'`)) === 300,
    { timeoutMs: 60_000, intervalMs: 100 });
  const o = await outcome(ids);
  t.diagnostic(`${before} jobs were queued when Redis was flushed; all done ${Date.now() - t0} ms later; ${o.claims} claims`);
  assert.ok(before > 0, 'jobs were still queued at the flush');
  assert.ok(finished, `all 300 done after the flush: ${JSON.stringify(o)}`);
  assert.equal(o.completions, 300);
  assert.equal(o.distinctCompletions, 300);
  assert.equal(await redisCli(stack, 'EXISTS', 'bcf:jobs'), '1', 'the stream and its group were made again');
  assert.match(await stack.logs('worker'), /consumer group workers created on bcf:jobs; \d+ queued job\(s\) sent again/);
});

test('Redis down while jobs are enqueued: they wait in PostgreSQL and run once it is back', async () => {
  while (w.live.length < 1) startWorker();
  await stack.redisCtl('stop');
  let ids;
  try {
    ids = await enqueueSleeps(50, 1, 5);
    assert.equal(await num(`SELECT count(*) FROM jobs WHERE id IN (${ids.join(',')}) AND status = 'queued'`), 50);
  } finally {
    await stack.redisCtl('start');
  }
  const finished = await waitFor(async () => (await num(`SELECT count(*) FROM jobs WHERE id IN (${ids.join(',')}) AND status = 'done'`)) === 50,
    { timeoutMs: 30_000, intervalMs: 100 });
  assert.ok(finished, JSON.stringify(await outcome(ids)));
  assert.equal((await outcome(ids)).completions, 50);
});
