// tests/integration/queue.test.mjs — the job queue on a real stack with short timeouts: enqueue through
// botctl and the jobs API (dedupe, bad input, quota), retries with backoff visible in run_after, the dead
// letter with its error on the jobs pages, cancel of queued and running jobs, progress while running, a
// poison job that kills its worker, graceful SIGTERM, tenant isolation, heartbeats and metrics.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';
import { apiPost, login, makeTrader, psql, scrape, metricValue, sessionCsrf, sleep, waitFor } from './lib.mjs';
import { jobRow, waitStatus, workers } from './workers.mjs';

// short enough that retries, leases and sweeps happen within a test, long enough for an ASan build
const CONFIG = {
  'queue.visibility_ms': '1500',
  'queue.sweep_ms': '200',
  'queue.resend_ms': '1000',
  'queue.backoff_base_ms': '400',
  'queue.backoff_max_ms': '3000',
  'queue.progress_ms': '100',
  'queue.max_attempts': '3',
  'queue.quota.noop.per_day': '3',
  'worker.shutdown_grace_s': '2',
  'worker.heartbeat_s': '1',
  'ratelimit.jobs.enqueue': '1000000/min',
};

let stack;
let w;
const A = {}; // a trader
const B = {}; // another tenant's trader

async function signIn(email) {
  const l = await login(stack, { email, password: 'demo-trader-2026' });
  return { cookie: l.cookie, csrf: await sessionCsrf(stack, l.cookie) };
}

async function getJson(who, p) {
  const res = await stack.fetch(p, { headers: { cookie: who.cookie, accept: 'application/json' } });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* HTML */ }
  return { res, json, text };
}

async function getHtml(who, p) {
  const res = await stack.fetch(p, { headers: { cookie: who.cookie } });
  return { res, text: await res.text() };
}

/** Enqueues through the API as `who`; resolves { res, json }. */
const enqueue = (who, body) => apiPost(stack, who.cookie, who.csrf, '/api/v1/jobs', body);

async function botctl(...args) {
  try {
    const { stdout, stderr } = await stack.botctl(...args);
    return { code: 0, stdout, stderr };
  } catch (e) {
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(e) };
  }
}

const count = async (where) => Number(await psql(stack, `SELECT count(*) FROM jobs WHERE ${where}`));

before(async () => {
  stack = await startStack({ config: CONFIG });
  w = workers(stack);
  await w.stopStackWorker();
  w.start();
  const a = await makeTrader(stack, 'qa');
  const b = await makeTrader(stack, 'qb');
  Object.assign(A, a, await signIn(a.email));
  Object.assign(B, b, await signIn(b.email));
});

after(async () => {
  await w?.stopAll();
  await stack?.stop();
});

/** A worker is running (restarts one when the last died, e.g. after a poison job). */
function ensureWorker() {
  if (!w.live.length) w.start();
}

test('botctl job-enqueue: done with its result; --dedupe returns the first job; --count queues many', async () => {
  ensureWorker();
  const r = await botctl('job-enqueue', 'noop');
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  const row = await waitStatus(stack, id, 'done');
  assert.deepEqual(row.result, { ok: true });
  assert.equal(row.attempts, 1);
  assert.equal(row.tenant_id, null, 'a botctl job without --tenant is a system job');

  const d1 = await botctl('job-enqueue', 'noop', '{"k":1}', '--dedupe', 'tick:42');
  const d2 = await botctl('job-enqueue', 'noop', '{"k":2}', '--dedupe', 'tick:42');
  assert.equal(d1.code, 0, d1.stderr);
  assert.equal(d2.stdout.trim(), d1.stdout.trim(), 'the same dedupe key gives the same job');
  assert.equal(await count("dedupe_key = 'tick:42'"), 1);
  // the key is per tenant: the same key in A's tenant is another job
  const d3 = await botctl('job-enqueue', 'noop', '--tenant', String(A.tenantId), '--dedupe', 'tick:42');
  assert.equal(d3.code, 0, d3.stderr);
  assert.notEqual(d3.stdout.trim(), d1.stdout.trim());

  const many = await botctl('job-enqueue', 'noop', '{"batch":true}', '--count', '40');
  assert.equal(many.code, 0, many.stderr);
  const ids = many.stdout.trim().split('\n');
  assert.equal(ids.length, 40);
  assert.equal(new Set(ids).size, 40);
  const done = await waitFor(async () => (await count(`id IN (${ids.join(',')}) AND status = 'done'`)) === 40,
    { timeoutMs: 20_000 });
  assert.ok(done, `40 batch jobs done: ${await count(`id IN (${ids.join(',')}) AND status = 'done'`)}`);

  for (const bad of [['job-enqueue', 'Bad-Type'], ['job-enqueue', 'noop', '[1]'], ['job-enqueue', 'noop', '--max-attempts', '101'],
    ['job-enqueue', 'noop', '--count', 'x'], ['jobs', 'cancel', 'abc']]) {
    const res = await botctl(...bad);
    assert.notEqual(res.code, 0, `${bad.join(' ')} refused`);
  }
});

test('the jobs API: enqueue, list, show; bad input is refused with 4xx and queues nothing', async () => {
  ensureWorker();
  const { res, json } = await enqueue(A, { type: 'noop' });
  assert.equal(res.status, 201, JSON.stringify(json));
  assert.equal(json.job.type, 'noop');
  const id = json.job.id;
  await waitStatus(stack, id, 'done');
  const show = await getJson(A, `/api/v1/jobs/${id}`);
  assert.equal(show.res.status, 200);
  assert.equal(show.json.job.status, 'done');
  assert.equal(show.json.job.progress, 100);
  assert.deepEqual(show.json.job.result, { ok: true });
  assert.deepEqual(show.json.job.params, {});
  assert.equal(show.json.job.user_id, A.id, 'the job records who started it');
  const list = await getJson(A, '/api/v1/jobs');
  assert.equal(list.res.status, 200);
  assert.ok(list.json.jobs.some((j) => j.id === id && j.status === 'done'));
  const html = await getHtml(A, '/jobs');
  assert.equal(html.res.status, 200);
  assert.match(html.text, new RegExp(`href="/jobs/${id}"`));
  assert.match(html.text, /<progress max="100" value="100">/);
  // the start is audited
  assert.equal(await psql(stack, `SELECT count(*) FROM audit_log WHERE action = 'jobs.enqueue' AND object_id = '${id}'`), '1');

  const before = await count(`tenant_id = ${A.tenantId}`);
  const cases = [
    [{ type: 'no_such_type' }, 422, 'unknown_job_type'],
    [{ type: 'Bad Type' }, 422, 'unknown_job_type'],
    [{}, 422, 'unknown_job_type'],
    [{ type: 'sleep', params: [1, 2] }, 422, 'invalid_job'],
    [{ type: 'sleep', params: '{not json' }, 422, 'invalid_job'],
    [{ type: 'sleep', params: 7 }, 422, 'invalid_job'],
    [{ type: 'sleep', params: { pad: 'x'.repeat(70_000) } }, 422, 'invalid_job'],
    [{ type: 'sleep', max_attempts: 0 }, 422, 'invalid_job'],
    [{ type: 'sleep', max_attempts: 21 }, 422, 'invalid_job'],
    [{ type: 'sleep', max_attempts: 'many' }, 422, 'invalid_job'],
  ];
  for (const [body, status, code] of cases) {
    const r = await enqueue(A, body);
    assert.equal(r.res.status, status, `${JSON.stringify(body).slice(0, 80)}: ${r.text.slice(0, 200)}`);
    assert.equal(r.json?.error?.code, code, JSON.stringify(body).slice(0, 80));
    assert.ok(r.json.error.request_id);
  }
  // without the CSRF token, and without a session
  const noCsrf = await stack.fetch('/api/v1/jobs', { method: 'POST', headers: { cookie: A.cookie, 'content-type': 'application/json' }, body: '{"type":"noop"}' });
  assert.equal(noCsrf.status, 403);
  const anon = await stack.fetch('/api/v1/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"noop"}' });
  assert.equal(anon.status, 401);
  assert.equal(await count(`tenant_id = ${A.tenantId}`), before, 'nothing was queued');
  // bad filters
  for (const q of ['?status=zombie', '?before=abc', '?before=-1']) {
    const r = await getJson(A, `/api/v1/jobs${q}`);
    assert.equal(r.res.status, 422, q);
  }
  for (const p of ['/api/v1/jobs/0', '/api/v1/jobs/abc', '/api/v1/jobs/99999999999']) {
    assert.equal((await getJson(A, p)).res.status, 404, p);
  }
});

test('a failing job is retried with exponential backoff in run_after, then dead with its error on the pages', async () => {
  ensureWorker();
  const { res, json } = await enqueue(A, { type: 'fail', params: { message: 'exchange said <no>' }, max_attempts: 3 });
  assert.equal(res.status, 201, JSON.stringify(json));
  const id = json.job.id;
  // each failed attempt leaves the job queued with run_after = failure time + backoff (equal jitter:
  // [step/2, step], step = 400 ms * 2^(attempt-1))
  const seen = {};
  const ok = await waitFor(async () => {
    const row = await jobRow(stack, id);
    if (row.status === 'queued' && row.attempts > 0 && row.waiting && !seen[row.attempts]) seen[row.attempts] = row.backoff_ms;
    return row.status === 'dead' ? row : null;
  }, { timeoutMs: 20_000, intervalMs: 20 });
  assert.ok(ok, `job ${id} dead: ${JSON.stringify(await jobRow(stack, id))}`);
  assert.ok(seen[1] !== undefined && seen[2] !== undefined, `both waits observed: ${JSON.stringify(seen)}`);
  assert.ok(seen[1] >= 195 && seen[1] <= 405, `first backoff ${seen[1]} ms in [200, 400]`);
  assert.ok(seen[2] >= 395 && seen[2] <= 805, `second backoff ${seen[2]} ms in [400, 800]`);
  assert.equal(ok.attempts, 3);
  assert.equal(ok.error, 'exchange said <no> (attempt 3 of 3)');

  const show = await getJson(A, `/api/v1/jobs/${id}`);
  assert.equal(show.json.job.status, 'dead');
  assert.equal(show.json.job.error, 'exchange said <no> (attempt 3 of 3)');
  assert.equal(show.json.job.can_retry, true);
  const page = await getHtml(A, `/jobs/${id}`);
  assert.match(page.text, /exchange said &lt;no&gt; \(attempt 3 of 3\)/, 'the error is on the page, escaped');
  assert.ok(!page.text.includes('<no>'));
  const list = await getHtml(A, '/jobs?status=dead');
  assert.match(list.text, /exchange said &lt;no&gt;/);
  assert.match(list.text, new RegExp(`href="/jobs/${id}"`));

  // retry: fresh attempts, runs again, dead again; audited
  const r = await apiPost(stack, A.cookie, A.csrf, `/api/v1/jobs/${id}/retry`);
  assert.equal(r.res.status, 200, r.text);
  assert.ok(['queued', 'running'].includes(r.json.job.status));
  const again = await waitStatus(stack, id, 'dead', { timeoutMs: 20_000 });
  assert.equal(again.attempts, 3);
  assert.equal(await psql(stack, `SELECT count(*) FROM audit_log WHERE action = 'jobs.retry' AND object_id = '${id}'`), '1');
  // a done job cannot be retried
  const done = (await enqueue(A, { type: 'noop' })).json.job.id;
  await waitStatus(stack, done, 'done');
  const r2 = await apiPost(stack, A.cookie, A.csrf, `/api/v1/jobs/${done}/retry`);
  assert.equal(r2.res.status, 409);
  assert.equal(r2.json.error.code, 'job_state');
  assert.equal((await jobRow(stack, done)).status, 'done');
});

test('cancel: a queued job at once, a running one at its next progress report; progress shows while it runs', async () => {
  ensureWorker();
  const running = (await enqueue(B, { type: 'sleep', params: { ms: 4000 } })).json.job.id;
  await waitStatus(stack, running, 'running');
  // the worker is busy: this one waits in the queue
  const queued = (await enqueue(B, { type: 'sleep', params: { ms: 50 } })).json.job.id;
  assert.equal((await jobRow(stack, queued)).status, 'queued');

  // progress is reported while it runs: on the API and as a <progress> bar on the page
  const mid = await waitFor(async () => {
    const j = (await getJson(B, `/api/v1/jobs/${running}`)).json.job;
    return j.progress > 5 && j.progress < 95 ? j : null;
  }, { timeoutMs: 5000, intervalMs: 50 });
  assert.ok(mid, 'progress between 5% and 95% seen while running');
  const page = await getHtml(B, `/jobs/${running}`);
  assert.match(page.text, /<progress max="100" value="\d+">/);
  assert.match(page.text, /data-auto-refresh=/, 'a page with a running job refreshes itself');

  const c1 = await apiPost(stack, B.cookie, B.csrf, `/api/v1/jobs/${queued}/cancel`);
  assert.equal(c1.res.status, 200, c1.text);
  assert.equal(c1.json.job.status, 'cancelled', 'a queued job is cancelled at once');
  const c2 = await apiPost(stack, B.cookie, B.csrf, `/api/v1/jobs/${running}/cancel`);
  assert.equal(c2.res.status, 200, c2.text);
  assert.equal(c2.json.job.status, 'running');
  assert.equal(c2.json.job.cancel_requested, true);
  const t0 = Date.now();
  const end = await waitStatus(stack, running, 'cancelled', { timeoutMs: 3000 });
  assert.ok(Date.now() - t0 < 2000, 'the handler stopped within a few progress reports');
  assert.equal(end.attempts, 1);
  // the cancelled queued job never ran
  await sleep(300);
  assert.equal((await jobRow(stack, queued)).attempts, 0);
  assert.equal(await psql(stack, `SELECT count(*) FROM audit_log WHERE action = 'jobs.cancel' AND object_id IN ('${queued}', '${running}')`), '2');
  // cancelling a finished job is refused; the HTML form posts redirect back to the job
  const c3 = await apiPost(stack, B.cookie, B.csrf, `/api/v1/jobs/${running}/cancel`);
  assert.equal(c3.res.status, 409);
  const form = await stack.fetch(`/jobs/${queued}/retry`, {
    method: 'POST',
    headers: { cookie: B.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: B.csrf }).toString(),
  });
  assert.equal(form.status, 303);
  assert.equal(form.headers.get('location'), `/jobs/${queued}`);
  await waitStatus(stack, queued, 'done');
});

test('tenant isolation: another tenant\'s job answers 404 everywhere and is not changed; no permission, 403', async () => {
  ensureWorker();
  const id = (await enqueue(A, { type: 'fail', max_attempts: 1 })).json.job.id;
  await waitStatus(stack, id, 'dead');
  for (const p of [`/jobs/${id}`, `/api/v1/jobs/${id}`]) {
    const r = await getJson(B, p);
    assert.equal(r.res.status, 404, p);
  }
  for (const verb of ['retry', 'cancel']) {
    const r = await apiPost(stack, B.cookie, B.csrf, `/api/v1/jobs/${id}/${verb}`);
    assert.equal(r.res.status, 404, verb);
  }
  assert.equal((await jobRow(stack, id)).status, 'dead', 'unchanged');
  const list = await getJson(B, '/api/v1/jobs');
  assert.ok(!list.json.jobs.some((j) => j.id === id), 'not in the other tenant\'s list');
  assert.ok(list.json.jobs.every((j) => typeof j.id === 'number'));
  const theirs = await getJson(A, '/api/v1/jobs?status=dead');
  assert.ok(theirs.json.jobs.some((j) => j.id === id));

  // a user without jobs.view / jobs.manage
  const c = await makeTrader(stack, 'qnoperm');
  await psql(stack, `DELETE FROM user_roles WHERE user_id = ${c.id}`);
  const C = await signIn(c.email);
  assert.equal((await getJson(C, '/api/v1/jobs')).res.status, 403);
  assert.equal((await enqueue(C, { type: 'noop' })).res.status, 403);
});

test('quota hook: the tenant\'s daily quota refuses one more with 429 and a clear message; system jobs are not counted', async () => {
  ensureWorker();
  const q = await makeTrader(stack, 'qquota');
  const Q = await signIn(q.email);
  for (let i = 0; i < 3; i++) assert.equal((await enqueue(Q, { type: 'noop' })).res.status, 201);
  const r = await enqueue(Q, { type: 'noop' });
  assert.equal(r.res.status, 429, r.text);
  assert.equal(r.json.error.code, 'quota_exceeded');
  assert.match(r.json.error.message, /3 of 3 'noop' jobs per day used/);
  assert.match(r.json.error.message, /limit|limite/);
  assert.equal(await count(`tenant_id = ${q.tenantId}`), 3, 'the refused one was not queued');
  assert.equal(await psql(stack, `SELECT count(*) FROM audit_log WHERE action = 'jobs.enqueue' AND tenant_id = ${q.tenantId}`), '3');
  // the same through botctl for that tenant, with a non-zero exit
  const b = await botctl('job-enqueue', 'noop', '--tenant', String(q.tenantId));
  assert.notEqual(b.code, 0);
  assert.match(b.stderr, /refused: 3 of 3 'noop' jobs per day used/);
  // another type, and system jobs, are not limited
  assert.equal((await enqueue(Q, { type: 'sleep', params: { ms: 1 } })).res.status, 201);
  assert.equal((await botctl('job-enqueue', 'noop')).code, 0);
});

test('a poison job that kills its worker ends dead after max_attempts claims; the worker is restarted each time', async (t) => {
  await waitFor(async () => (await count("status IN ('queued', 'running')")) === 0, { timeoutMs: 20_000 });
  ensureWorker();
  const id = (await enqueue(A, { type: 'crash', max_attempts: 3 })).json.job.id;
  let restarts = 0;
  const t0 = Date.now();
  let row;
  while (Date.now() - t0 < 40_000) {
    row = await jobRow(stack, id);
    if (row.status === 'dead') break;
    if (!w.live.length) {
      restarts++;
      w.start();
    }
    await sleep(100);
  }
  t.diagnostic(`dead after ${Date.now() - t0} ms, ${restarts} worker restarts`);
  assert.equal(row.status, 'dead', JSON.stringify(row));
  assert.equal(row.attempts, 3);
  assert.match(row.error, /^runner lost: lease expired during attempt 3 on /);
  assert.equal(restarts, 3, 'the worker died on each claim and was started again');
  ensureWorker();
  // the queue goes on
  const next = (await enqueue(A, { type: 'sleep', params: { ms: 1 } })).json.job.id;
  await waitStatus(stack, next, 'done');
  const crashes = (await stack.logs('worker')).match(new RegExp(`job ${id} \\(crash\\): aborting the worker as asked`, 'g'));
  assert.equal(crashes?.length, 3, 'three runs, three crashes');
});

test('graceful SIGTERM: the job in hand finishes within the grace period, or is given back uncounted', async () => {
  await waitFor(async () => (await count("status IN ('queued', 'running')")) === 0, { timeoutMs: 20_000 });
  await w.stopAll();
  const p1 = w.start();
  const short = (await enqueue(A, { type: 'sleep', params: { ms: 800 } })).json.job.id;
  await waitStatus(stack, short, 'running');
  process.kill(p1.pid, 'SIGTERM');
  const exit1 = await Promise.race([p1.exited, sleep(10_000).then(() => null)]);
  assert.deepEqual(exit1, { code: 0, signal: null }, 'the worker exited cleanly');
  const r1 = await jobRow(stack, short);
  assert.equal(r1.status, 'done', 'finished within the grace period');
  assert.equal(r1.attempts, 1);

  const p2 = w.start();
  const long = (await enqueue(A, { type: 'sleep', params: { ms: 30_000 } })).json.job.id;
  await waitStatus(stack, long, 'running');
  const t0 = Date.now();
  process.kill(p2.pid, 'SIGTERM');
  const exit2 = await Promise.race([p2.exited, sleep(15_000).then(() => null)]);
  assert.deepEqual(exit2, { code: 0, signal: null });
  const waited = Date.now() - t0;
  assert.ok(waited >= 1800 && waited < 6000, `exited after the 2 s grace: ${waited} ms`);
  const r2 = await jobRow(stack, long);
  assert.equal(r2.status, 'queued', 'given back to the queue');
  assert.equal(r2.attempts, 0, 'the interrupted attempt does not count');
  // the next worker takes it at once
  w.start();
  const again = await waitStatus(stack, long, 'running', { timeoutMs: 5000 });
  assert.equal(again.attempts, 1);
  await apiPost(stack, A.cookie, A.csrf, `/api/v1/jobs/${long}/cancel`);
  await waitStatus(stack, long, 'cancelled');
});

test('/health/detailed shows the workers with the job in hand; /metrics counts jobs by type and outcome', async () => {
  ensureWorker();
  const id = (await enqueue(A, { type: 'sleep', params: { ms: 3000 } })).json.job.id;
  await waitStatus(stack, id, 'running');
  const hd = await waitFor(async () => {
    const j = await (await stack.fetch('/health/detailed')).json();
    return j.checks.worker.workers?.some((x) => x.current_job === id) ? j : null;
  }, { timeoutMs: 5000, intervalMs: 200 });
  assert.ok(hd, 'a heartbeat names the running job');
  assert.equal(hd.checks.worker.status, 'up');
  assert.ok(hd.checks.queue.running >= 1);
  assert.equal(typeof hd.checks.queue.dead, 'number');
  await waitStatus(stack, id, 'done');
  const m = await waitFor(async () => {
    const { samples } = await scrape(stack);
    return metricValue(samples, 'worker_jobs_total', { type: 'sleep', outcome: 'done' }) >= 1 ? samples : null;
  }, { timeoutMs: 5000, intervalMs: 250 });
  assert.ok(m, 'worker_jobs_total{type="sleep",outcome="done"} counted');
  assert.ok(metricValue(m, 'jobs', { status: 'dead' }) >= 1, 'jobs{status="dead"} gauge');
  assert.ok(metricValue(m, 'worker_job_pickup_seconds_count') >= 1);
});
