// tests/integration/resilience.test.mjs — the pool and its dependencies under trouble: a worker killed
// with SIGKILL under load, a SIGHUP reload under load, Redis stopped (degraded but serving) and PostgreSQL
// stopped (503 in the one error shape, recovery without restarting the pool).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { load, startStack } from './harness.mjs';
import { anonCsrf, DEMO, login, metricValue, redisCli, scrape, sleep, waitFor } from './lib.mjs';

let stack;

before(async () => {
  stack = await startStack();
});

after(async () => {
  await stack?.stop();
});

function failures(r) {
  let bad = r.errors;
  for (const [status, n] of Object.entries(r.byStatus)) if (status !== '200') bad += n;
  return bad;
}

/** The pids that /metrics reports process_resident_memory_bytes for equal the live workers (they refresh each second). */
async function assertRssSeriesMatchWorkers() {
  const ok = await waitFor(async () => {
    const { workers } = await stack.fcgiPids();
    const { samples } = await scrape(stack);
    const pids = samples.filter((s) => s.name === 'process_resident_memory_bytes').map((s) => Number(s.labels.pid))
      .sort((a, b) => a - b);
    return JSON.stringify(pids) === JSON.stringify(workers) ? true : null;
  }, { timeoutMs: 3000, intervalMs: 250 });
  const { workers } = await stack.fcgiPids();
  const { text } = await scrape(stack);
  assert.ok(ok, `process_resident_memory_bytes series match workers ${workers}:\n` +
    text.split('\n').filter((l) => l.startsWith('process_resident')).join('\n'));
}

async function detailed() {
  const res = await stack.fetch('/health/detailed');
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) };
}

async function getJson(p, headers = {}) {
  const res = await stack.fetch(p, { headers });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch { /* not JSON */ }
  return { res, status: res.status, text, json };
}

test('SIGKILL of a worker under load: the master replaces it and at most the in-flight requests fail', async (t) => {
  const { cookie } = await login(stack);
  const before = await stack.fcgiPids();
  assert.equal(before.workers.length, 2, JSON.stringify(before));
  const victim = before.workers[0];
  const concurrency = 8;

  const running = load({
    url: `${stack.baseUrl}/api/v1/dashboard`,
    headers: { cookie },
    concurrency,
    durationMs: 4000,
    maxRequests: 100_000,
  });
  await sleep(1500);
  process.kill(victim, 'SIGKILL');
  const r = await running;
  const failed = failures(r);
  t.diagnostic(`load: ${r.requests} requests, ${r.rps} req/s, byStatus ${JSON.stringify(r.byStatus)}, ` +
    `errors ${JSON.stringify(r.errorsByCode)}; failed ${failed}`);

  assert.ok(r.requests > 100, `the load ran (${r.requests} requests)`);
  assert.ok(failed <= concurrency, `failed requests (${failed}) <= requests in flight (${concurrency})`);

  const after = await waitFor(async () => {
    const p = await stack.fcgiPids();
    return p.workers.length === 2 && !p.workers.includes(victim) ? p : null;
  }, { timeoutMs: 5000 });
  assert.ok(after, `worker count restored without pid ${victim}: ${JSON.stringify(await stack.fcgiPids())}`);
  assert.equal(after.master, before.master, 'the master survived');
  const fresh = after.workers.filter((p) => !before.workers.includes(p));
  assert.equal(fresh.length, 1, `one new worker: before ${before.workers}, after ${after.workers}`);
  assert.ok(after.workers.includes(before.workers[1]), 'the other worker was left alone');

  const log = await stack.logs('fcgi');
  assert.match(log, new RegExp(`worker ${victim} \\(slot \\d+\\) ended: signal 9`));
  assert.match(log, /replaced a worker/);
  // The replacement serves.
  const check = await load({ url: `${stack.baseUrl}/api/v1/dashboard`, headers: { cookie }, concurrency: 4, durationMs: 500 });
  assert.equal(failures(check), 0, JSON.stringify(check.byStatus));
  await assertRssSeriesMatchWorkers();
});

test('SIGHUP reload under load: no failed request, every worker replaced, the master kept', async (t) => {
  const { cookie } = await login(stack);
  const before = await stack.fcgiPids();
  assert.equal(before.workers.length, 2);
  const logStart = (await stack.logs('fcgi')).length;
  const dashOk = { method: 'GET', route: '/api/v1/dashboard', status: '200' };
  const counted0 = metricValue((await scrape(stack)).samples, 'http_requests_total', dashOk);

  const running = load({
    url: `${stack.baseUrl}/api/v1/dashboard`,
    headers: { cookie },
    concurrency: 8,
    durationMs: 5000,
    maxRequests: 100_000,
  });
  await sleep(2000);
  process.kill(before.master, 'SIGHUP');
  const r = await running;
  const failed = failures(r);
  t.diagnostic(`load: ${r.requests} requests, ${r.rps} req/s, byStatus ${JSON.stringify(r.byStatus)}, ` +
    `errors ${JSON.stringify(r.errorsByCode)}, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms`);
  assert.ok(r.requests > 100, `the load ran (${r.requests} requests)`);
  assert.equal(failed, 0, `no failed request across the reload: ${JSON.stringify(r.byStatus)} ${JSON.stringify(r.errorsByCode)}`);

  const after = await waitFor(async () => {
    const p = await stack.fcgiPids();
    return p.workers.length === 2 && p.workers.every((w) => !before.workers.includes(w)) ? p : null;
  }, { timeoutMs: 10_000 });
  assert.ok(after, `all worker pids changed: before ${before.workers}, now ${JSON.stringify(await stack.fcgiPids())}`);
  assert.equal(after.master, before.master, 'the master pid did not change');
  const log = (await stack.logs('fcgi')).slice(logStart);
  assert.match(log, /reload: generation \d+ has 2 of 2 workers ready/);
  assert.doesNotMatch(log, /ended: /, 'the drained workers exited cleanly (no signal)');
  await assertRssSeriesMatchWorkers();
  // The counters live in memory shared by all generations: the reload loses none of them.
  const counted1 = metricValue((await scrape(stack)).samples, 'http_requests_total', dashOk);
  assert.equal(counted1 - counted0, r.byStatus[200], `http_requests_total across the reload: ${counted0} -> ${counted1}`);
});

test('Redis stopped: pages and sessions keep working from PostgreSQL; /health/detailed says degraded', async () => {
  const { cookie } = await login(stack);
  const pidsBefore = await stack.fcgiPids();
  await stack.redisCtl('stop');
  try {
    const lp = await stack.fetch('/login');
    const lhtml = await lp.text();
    assert.equal(lp.status, 200, 'the login page renders');
    assert.match(lhtml, /name="_csrf"/);

    const page = await stack.fetch('/dashboard', { headers: { cookie } });
    const html = await page.text();
    assert.equal(page.status, 200, `logged-in dashboard renders: ${html.slice(0, 200)}`);
    assert.match(html, /Demo Trader/);
    const api = await getJson('/api/v1/dashboard', { cookie });
    assert.equal(api.status, 200, api.text);
    assert.equal(api.json.tenant.name, 'Demo Trader');

    // A new login works too: the session row lives in PostgreSQL.
    const fresh = await login(stack);
    const api2 = await getJson('/api/v1/dashboard', { cookie: fresh.cookie });
    assert.equal(api2.status, 200, api2.text);

    const d = await detailed();
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.equal(d.body.status, 'degraded');
    assert.equal(d.body.checks.redis.status, 'down');
    assert.equal(d.body.checks.postgresql.status, 'up');
  } finally {
    await stack.redisCtl('start');
  }
  const healthy = await waitFor(async () => {
    const d = await detailed();
    return d.status === 200 && d.body.status === 'healthy' ? d : null;
  }, { timeoutMs: 8000, intervalMs: 250 });
  assert.ok(healthy, `healthy again after Redis restarted: ${JSON.stringify((await detailed()).body)}`);
  assert.equal(healthy.body.checks.redis.status, 'up');
  // The session survives the emptied Redis.
  const api = await getJson('/api/v1/dashboard', { cookie });
  assert.equal(api.status, 200, api.text);
  const pidsAfter = await stack.fcgiPids();
  assert.equal(pidsAfter.master, pidsBefore.master);
  assert.deepEqual(pidsAfter.workers, pidsBefore.workers, 'no worker crashed during the Redis outage');
});

test('PostgreSQL stopped: DB routes answer 503 in the error shape, /health stays 200, recovery without a pool restart', async (t) => {
  const { cookie } = await login(stack);
  const first = await getJson('/api/v1/dashboard', { cookie });
  assert.equal(first.status, 200, first.text);
  const tenantId = first.json.tenant.id;
  const pidsBefore = await stack.fcgiPids();
  const anon = await anonCsrf(stack);

  await stack.pgCtl('stop');
  try {
    // The cached summary is gone, so the dashboard needs PostgreSQL.
    await redisCli(stack, 'DEL', `c:dashboard:summary:${tenantId}`);
    await sleep(200); // the near caches get the invalidation
    const api = await getJson('/api/v1/dashboard', { cookie, 'X-Request-Id': 'pg-down-1' });
    assert.equal(api.status, 503, api.text);
    assert.match(api.res.headers.get('content-type') ?? '', /^application\/json\b/);
    assert.deepEqual(Object.keys(api.json.error).sort(), ['code', 'message', 'request_id']);
    assert.equal(api.json.error.code, 'unavailable');
    assert.equal(api.json.error.request_id, 'pg-down-1');

    const lp = await stack.fetch('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: anon.cookie },
      body: new URLSearchParams({ _csrf: anon.token, email: DEMO.email, password: DEMO.password }).toString(),
    });
    const lhtml = await lp.text();
    assert.equal(lp.status, 503, 'POST /login needs the database');
    assert.match(lhtml, /unavailable/);

    const d = await detailed();
    assert.equal(d.status, 503);
    assert.equal(d.body.status, 'unhealthy');
    assert.equal(d.body.checks.postgresql.status, 'down');
    const h = await getJson('/health');
    assert.equal(h.status, 200);
    assert.equal(h.json.status, 'ok');
  } finally {
    await stack.pgCtl('start');
  }
  const t0 = Date.now();
  const ok = await waitFor(async () => {
    const r = await getJson('/api/v1/dashboard', { cookie });
    return r.status === 200 ? r : null;
  }, { timeoutMs: 10_000, intervalMs: 200 });
  t.diagnostic(`dashboard answered 200 again ${Date.now() - t0} ms after PostgreSQL started`);
  assert.ok(ok, 'the same request succeeds within 10 s of PostgreSQL starting');
  assert.equal(ok.json.tenant.name, 'Demo Trader');
  const again = await login(stack);
  assert.ok(again.cookie);
  const healthy = await waitFor(async () => {
    const d = await detailed();
    return d.status === 200 && d.body.checks.postgresql.status === 'up' ? d : null;
  }, { timeoutMs: 10_000, intervalMs: 250 });
  assert.ok(healthy, '/health/detailed recovers');
  const pidsAfter = await stack.fcgiPids();
  assert.equal(pidsAfter.master, pidsBefore.master, 'the pool was not restarted');
  assert.deepEqual(pidsAfter.workers, pidsBefore.workers, 'no worker was restarted or crashed');
});
