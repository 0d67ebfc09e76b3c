// tests/integration/worker_migrate.test.mjs — the job worker (botctl job-enqueue → done in PostgreSQL,
// heartbeat seen by /health/detailed) and botctl migrate (idempotent, refuses edited history, applies
// new files exactly once).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startStack } from './harness.mjs';
import { psql, REPO, waitFor } from './lib.mjs';

let stack;
const tmpDirs = [];

before(async () => {
  stack = await startStack();
});

after(async () => {
  await stack?.stop();
  for (const d of tmpDirs) await rm(d, { recursive: true, force: true });
});

/** Runs botctl and resolves { code, stdout, stderr } whatever the exit status. */
async function botctl(...args) {
  try {
    const { stdout, stderr } = await stack.botctl(...args);
    return { code: 0, stdout, stderr };
  } catch (e) {
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(e) };
  }
}

async function sqlCopy() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bcf-sql-'));
  tmpDirs.push(dir);
  await cp(path.join(REPO, 'sql'), dir, { recursive: true });
  return dir;
}

async function migrations() {
  return (await psql(stack, 'SELECT name || \' \' || checksum FROM schema_migrations ORDER BY name')).split('\n').filter(Boolean);
}

test('botctl job-enqueue noop: the worker marks the job done in PostgreSQL', async () => {
  const { code, stdout, stderr } = await botctl('job-enqueue', 'noop');
  assert.equal(code, 0, stderr);
  const id = stdout.trim();
  assert.match(id, /^\d+$/, `job id printed: ${stdout}`);
  const done = await waitFor(async () => {
    const row = await psql(stack, `SELECT status || '|' || attempts || '|' || coalesce(result::text, '') || '|' || (finished_at IS NOT NULL) FROM jobs WHERE id = ${id}`);
    return row.startsWith('done|') ? row : null;
  }, { timeoutMs: 8000, intervalMs: 200 });
  assert.ok(done, `job ${id} done: ${await psql(stack, `SELECT status FROM jobs WHERE id = ${id}`)}`);
  const [status, attempts, result, finished] = done.split('|');
  assert.equal(status, 'done');
  assert.equal(attempts, '1', 'ran exactly once');
  assert.deepEqual(JSON.parse(result), { ok: true });
  assert.equal(finished, 'true', 'finished_at is set');
  const worker = await psql(stack, `SELECT worker_id FROM jobs WHERE id = ${id}`);
  assert.ok(worker.length > 0, 'the job records which worker ran it');
  assert.match(await stack.logs('worker'), new RegExp(`job ${id} \\(noop\\) done`));
});

test('several jobs, an unknown type fails cleanly, and nothing is left queued', async () => {
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push((await botctl('job-enqueue', 'noop', `{"n":${i}}`)).stdout.trim());
  const unknown = (await botctl('job-enqueue', 'no_such_type')).stdout.trim();
  const bad = await botctl('job-enqueue', 'noop', '{not json');
  assert.notEqual(bad.code, 0, 'invalid JSON params are refused');
  const settled = await waitFor(async () => {
    const rows = await psql(stack, `SELECT id || ':' || status FROM jobs WHERE id IN (${[...ids, unknown].join(',')}) ORDER BY id`);
    return rows.split('\n').every((r) => /:(done|failed)$/.test(r)) ? rows : null;
  }, { timeoutMs: 10_000, intervalMs: 200 });
  assert.ok(settled, 'all jobs settled');
  for (const id of ids) assert.match(settled, new RegExp(`^${id}:done$`, 'm'));
  assert.match(settled, new RegExp(`^${unknown}:failed$`, 'm'));
  assert.equal(await psql(stack, `SELECT error FROM jobs WHERE id = ${unknown}`), 'unknown job type');
  assert.equal(await psql(stack, "SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')"), '0');
});

test('/health/detailed shows checks.worker.status "up"', async () => {
  const res = await stack.fetch('/health/detailed');
  const j = JSON.parse(await res.text());
  assert.equal(res.status, 200);
  assert.equal(j.checks.worker.status, 'up', JSON.stringify(j));
  assert.ok(j.checks.worker.alive >= 1);
  assert.ok(j.checks.worker.last_heartbeat_age_s >= 0 && j.checks.worker.last_heartbeat_age_s < 30);
  assert.equal(j.checks.queue.status, 'up');
  assert.equal(j.checks.queue.queued, 0);
  assert.equal(j.status, 'healthy');
  const hb = await psql(stack, 'SELECT sum(jobs_done) FROM worker_heartbeats');
  assert.ok(Number(hb) >= 0);
});

test('botctl migrate twice is idempotent: nothing applied, nothing changed', async () => {
  const before = await migrations();
  assert.ok(before.length >= 1, 'the stack start applied the migrations');
  const files = (await readdir(path.join(REPO, 'sql'))).filter((f) => f.endsWith('.sql')).sort();
  assert.deepEqual(before.map((l) => l.split(' ')[0]), files, 'every sql/ file is recorded');
  for (let i = 0; i < 2; i++) {
    const r = await botctl('migrate');
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /applied/, `run ${i + 1} applied nothing: ${r.stdout}`);
    assert.equal(r.stdout.trim(), '');
  }
  const dry = await botctl('migrate', '--dry-run');
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(dry.stdout.trim(), '', 'nothing pending');
  assert.deepEqual(await migrations(), before);
});

test('botctl migrate --dir refuses a changed applied file and changes nothing', async () => {
  const dir = await sqlCopy();
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const target = path.join(dir, files[0]);
  await writeFile(target, `${await readFile(target, 'utf8')}\n-- edited after it was applied\n`);
  // A pending file next to the edited one must not be applied either.
  await writeFile(path.join(dir, '9998_should_not_apply.sql'), 'CREATE TABLE should_not_exist (id int);\n');
  const before = await migrations();
  const r = await botctl('migrate', '--dir', dir);
  assert.notEqual(r.code, 0, `exit status: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, /refusing/);
  assert.match(r.stderr, new RegExp(files[0].replace('.', '\\.')));
  assert.doesNotMatch(r.stdout, /applied/);
  assert.deepEqual(await migrations(), before, 'schema_migrations unchanged');
  assert.equal(await psql(stack, "SELECT to_regclass('public.should_not_exist') IS NULL"), 't');

  // A copy missing an applied file is refused too.
  const missing = await sqlCopy();
  await rm(path.join(missing, files[0]));
  const r2 = await botctl('migrate', '--dir', missing);
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /refusing/);
  assert.deepEqual(await migrations(), before);
});

test('a new migration file is applied exactly once', async () => {
  const dir = await sqlCopy();
  await writeFile(path.join(dir, '9999_test_extra.sql'),
    'CREATE TABLE test_extra (id int PRIMARY KEY);\nINSERT INTO test_extra VALUES (1);\n');
  const before = await migrations();
  const dry = await botctl('migrate', '--dir', dir, '--dry-run');
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /pending 9999_test_extra\.sql/);
  assert.equal(await psql(stack, "SELECT to_regclass('public.test_extra') IS NULL"), 't', 'a dry run applies nothing');

  const r1 = await botctl('migrate', '--dir', dir);
  assert.equal(r1.code, 0, r1.stderr);
  assert.equal(r1.stdout.trim(), 'applied 9999_test_extra.sql');
  const r2 = await botctl('migrate', '--dir', dir);
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(r2.stdout.trim(), '', 'the second run applies nothing');
  assert.equal(await psql(stack, 'SELECT count(*) FROM test_extra'), '1', 'its statements ran once');
  const afterRows = await migrations();
  assert.equal(afterRows.length, before.length + 1);
  assert.ok(afterRows.some((l) => l.startsWith('9999_test_extra.sql ')));

  // A failing migration is rolled back entirely and not recorded.
  await writeFile(path.join(dir, '10000_broken.sql'), 'CREATE TABLE broken_half (id int);\nSELECT no_such_function();\n');
  const r3 = await botctl('migrate', '--dir', dir);
  assert.notEqual(r3.code, 0);
  assert.match(r3.stderr, /10000_broken\.sql failed/);
  assert.equal(await psql(stack, "SELECT to_regclass('public.broken_half') IS NULL"), 't', 'nothing of it applied');
  assert.equal((await migrations()).length, afterRows.length);
});

test('a job enqueued while Redis is down is not lost: it runs once Redis is back', async (t) => {
  await stack.redisCtl('stop');
  let id;
  try {
    const r = await botctl('job-enqueue', 'noop');
    assert.equal(r.code, 0, `enqueue succeeds with Redis down (PostgreSQL is the truth): ${r.stderr}`);
    assert.match(r.stderr, /redis unavailable/);
    id = r.stdout.trim();
    assert.match(id, /^\d+$/);
    assert.equal(await psql(stack, `SELECT status FROM jobs WHERE id = ${id}`), 'queued');
  } finally {
    await stack.redisCtl('start');
  }
  const t0 = Date.now();
  const done = await waitFor(async () => (await psql(stack, `SELECT status FROM jobs WHERE id = ${id}`)) === 'done',
    { timeoutMs: 30_000, intervalMs: 500 });
  t.diagnostic(`job ${id}: ${done ? `done ${Date.now() - t0} ms after Redis came back` : 'still queued after 30 s'}`);
  assert.ok(done, `job ${id} still '${await psql(stack, `SELECT status FROM jobs WHERE id = ${id}`)}' 30 s after Redis ` +
    'came back: nothing re-sends queued jobs whose stream entry never reached (or was lost with) Redis');
});
