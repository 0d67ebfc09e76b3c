// tests/integration/observability.test.mjs — /metrics (counters aggregated across pool workers, the
// duration histogram, cache counters, per-worker RSS, promtool's linter), the metrics.allow guard on
// /metrics and /health/detailed, and the JSON access log in <var>/log/fcgi.log.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { startStack } from './harness.mjs';
import {
  decodeUtf8Strict, login, metricValue, parseMetrics, rawRequest, redisCli, rid, scrape, sleep, waitFor,
} from './lib.mjs';

let stack;

before(async () => {
  stack = await startStack();
});

after(async () => {
  await stack?.stop();
});

/** Runs promtool check metrics with `input` on stdin; resolves { code, output }. */
function promtool(input) {
  return new Promise((resolve, reject) => {
    const p = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d) => { output += d; });
    p.stderr.on('data', (d) => { output += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
    p.stdin.end(input);
  });
}

/** The JSON lines of fcgi.log (lines written by dev/stack itself start with '==='). */
async function logLines() {
  const text = await stack.logs('fcgi');
  return text.split('\n').filter((l) => l.startsWith('{')).map((l) => {
    try {
      return JSON.parse(l);
    } catch {
      return { unparsable: l };
    }
  });
}

test('/metrics: http_requests_total counts every request, aggregated across the pool workers', async (t) => {
  const labels = { method: 'GET', route: '/health', status: '200' };
  const before = metricValue((await scrape(stack)).samples, 'http_requests_total', labels);
  const N = 40;
  // Fresh connections (Connection: close), eight at a time, so both nginx workers and several
  // upstream connections (and so both pool workers) take part.
  for (let i = 0; i < N; i += 8) {
    const batch = [];
    for (let k = i; k < Math.min(N, i + 8); k++) batch.push(rawRequest(stack.baseUrl, '/health'));
    for (const r of await Promise.all(batch)) assert.equal(r.status, 200);
  }
  const { samples, text } = await scrape(stack);
  const afterV = metricValue(samples, 'http_requests_total', labels);
  t.diagnostic(`http_requests_total{GET,/health,200}: ${before} -> ${afterV}`);
  assert.ok(afterV - before >= N, `counter grew by ${afterV - before}, expected >= ${N}`);
  assert.ok(afterV - before <= N + 2, `counter grew by ${afterV - before}: nothing else asked /health`);
  assert.match(text, /^# TYPE http_requests_total counter$/m);
  for (const s of samples.filter((x) => x.name === 'http_requests_total')) {
    assert.deepEqual(Object.keys(s.labels).sort(), ['method', 'route', 'status'], JSON.stringify(s));
    assert.match(s.labels.status, /^[1-5]\d\d$/);
  }
  // Requests logged by both pool workers still add up in one counter: check with a logged route.
  const ids = [];
  const lb = metricValue(samples, 'http_requests_total', { method: 'GET', route: '/login', status: '200' });
  for (let i = 0; i < 24; i += 8) {
    const batch = [];
    for (let k = 0; k < 8; k++) {
      const id = rid('agg');
      ids.push(id);
      batch.push(rawRequest(stack.baseUrl, '/login', { headers: { 'X-Request-Id': id } }));
    }
    for (const r of await Promise.all(batch)) assert.equal(r.status, 200);
  }
  const la = metricValue((await scrape(stack)).samples, 'http_requests_total', { method: 'GET', route: '/login', status: '200' });
  assert.equal(la - lb, ids.length);
  const pids = new Set((await logLines()).filter((l) => ids.includes(l.request_id)).map((l) => l.pid));
  t.diagnostic(`the ${ids.length} /login requests were served by pool pids ${[...pids].join(', ')}`);
});

test('/metrics: the http_request_duration_seconds histogram is consistent', async () => {
  const { samples, text } = await scrape(stack);
  assert.match(text, /^# TYPE http_request_duration_seconds histogram$/m);
  const buckets = samples.filter((s) => s.name === 'http_request_duration_seconds_bucket' && s.labels.route === '/health');
  assert.ok(buckets.length >= 2, 'buckets for route /health');
  const les = buckets.map((b) => b.labels.le);
  assert.equal(les.at(-1), '+Inf');
  for (let i = 1; i < buckets.length; i++) {
    assert.ok(Number(les[i]) > Number(les[i - 1]) || les[i] === '+Inf', `le ascending: ${les}`);
    assert.ok(buckets[i].value >= buckets[i - 1].value, 'cumulative buckets never decrease');
  }
  const count = metricValue(samples, 'http_request_duration_seconds_count', { route: '/health' });
  const sum = metricValue(samples, 'http_request_duration_seconds_sum', { route: '/health' });
  assert.equal(count, buckets.at(-1).value, '_count equals the +Inf bucket');
  assert.ok(count >= 40);
  assert.ok(sum > 0 && sum < count, `_sum ${sum} s for ${count} fast requests`);
  const served = metricValue(samples, 'http_requests_total', { route: '/health' });
  assert.equal(count, served, 'every counted /health request is in the histogram');
});

test('/metrics: cache_hits_total / cache_misses_total{module="dashboard"} follow the dashboard calls', async () => {
  const { cookie } = await login(stack);
  const first = await stack.fetch('/api/v1/dashboard', { headers: { cookie } });
  const j = JSON.parse(await first.text());
  await redisCli(stack, 'DEL', `c:dashboard:summary:${j.tenant.id}`);
  await sleep(200); // near caches receive the invalidation
  const s0 = (await scrape(stack)).samples;
  const h0 = metricValue(s0, 'cache_hits_total', { module: 'dashboard' });
  const m0 = metricValue(s0, 'cache_misses_total', { module: 'dashboard' });
  for (let i = 0; i < 4; i++) {
    const r = await stack.fetch('/api/v1/dashboard', { headers: { cookie } });
    await r.arrayBuffer();
    assert.equal(r.status, 200);
  }
  const s1 = (await scrape(stack)).samples;
  const h1 = metricValue(s1, 'cache_hits_total', { module: 'dashboard' });
  const m1 = metricValue(s1, 'cache_misses_total', { module: 'dashboard' });
  assert.equal((h1 - h0) + (m1 - m0), 4, `one lookup per call: hits ${h0}->${h1}, misses ${m0}->${m1}`);
  assert.ok(m1 - m0 >= 1, 'the first call after the delete missed');
  assert.ok(h1 - h0 >= 2, 'later calls hit');
  assert.ok(metricValue(s1, 'cache_hits_total', { module: 'session' }) > 0, 'session lookups are counted too');
});

test('/metrics: process_resident_memory_bytes for each pool worker', async () => {
  const { workers } = await stack.fcgiPids();
  assert.equal(workers.length, 2);
  // Workers refresh their slot once a second.
  await sleep(1100);
  const { samples } = await scrape(stack);
  const rss = samples.filter((s) => s.name === 'process_resident_memory_bytes');
  const byPid = new Map(rss.map((s) => [Number(s.labels.pid), s.value]));
  assert.deepEqual([...byPid.keys()].sort((a, b) => a - b), workers, 'one series per live worker, none for dead ones');
  for (const [pid, v] of byPid) {
    assert.ok(v > 512 * 1024, `worker ${pid} RSS ${v}`);
    assert.ok(v < 64 * 1024 * 1024, `worker ${pid} RSS ${v} stays small`);
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const vmrss = Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
    assert.ok(Math.abs(vmrss - v) < 16 * 1024 * 1024, `reported ${v} vs /proc ${vmrss}`);
  }
});

test('/metrics passes promtool check metrics', async () => {
  // Some traffic of every kind first, errors included, so every family has samples.
  for (const p of ['/nope', '/api/v1/nope', '/login', '/%C3%28']) {
    const r = await stack.fetch(p);
    await r.arrayBuffer();
  }
  const res = await stack.fetch('/metrics');
  const body = await res.text();
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  assert.doesNotThrow(() => parseMetrics(body));
  const { code, output } = await promtool(body);
  const allowed = []; // promtool lint messages we accept; none today
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean)
    .filter((l) => !allowed.some((re) => re.test(l)));
  assert.equal(code, 0, `promtool exit ${code}:\n${output}`);
  assert.deepEqual(lines, [], `promtool said:\n${output}`);
  // Every family has one TYPE line and its HELP.
  const types = [...body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]);
  assert.equal(new Set(types).size, types.length, 'no duplicate TYPE lines');
  for (const f of types) assert.match(body, new RegExp(`^# HELP ${f} \\S`, 'm'), `HELP for ${f}`);
});

test('fcgi.log: JSON lines with request_id, method, route, status, duration_ms, and user/tenant after login', async () => {
  const anonId = rid('log-anon');
  const r1 = await stack.fetch('/login', { headers: { 'X-Request-Id': anonId } });
  await r1.arrayBuffer();
  const nfId = rid('log-404');
  const r2 = await stack.fetch('/api/v1/nothing-here', { headers: { 'X-Request-Id': nfId } });
  await r2.arrayBuffer();
  const { cookie } = await login(stack);
  const userId = rid('log-user');
  const r3 = await stack.fetch('/api/v1/dashboard', { headers: { cookie, 'X-Request-Id': userId } });
  const dash = JSON.parse(await r3.text());

  const find = (id) => waitFor(async () => (await logLines()).find((l) => l.request_id === id), { timeoutMs: 3000 });
  const anon = await find(anonId);
  assert.ok(anon, `a log line for ${anonId}`);
  assert.equal(anon.method, 'GET');
  assert.equal(anon.route, '/login');
  assert.equal(anon.path, '/login');
  assert.equal(anon.status, 200);
  assert.equal(typeof anon.duration_ms, 'number');
  assert.ok(anon.duration_ms >= 0 && anon.duration_ms < 10_000);
  assert.equal(anon.user_id, undefined, 'no user before login');
  assert.equal(anon.tenant_id, undefined);
  assert.match(anon.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(anon.level, 'info');

  const nf = await find(nfId);
  assert.ok(nf);
  assert.equal(nf.status, 404);
  assert.equal(nf.route, 'unmatched');
  assert.equal(nf.error, 'not_found');

  const user = await find(userId);
  assert.ok(user, `a log line for ${userId}`);
  assert.equal(user.route, '/api/v1/dashboard');
  assert.equal(user.status, 200);
  assert.equal(typeof user.user_id, 'number');
  assert.ok(user.user_id > 0);
  assert.equal(user.tenant_id, dash.tenant.id);

  // No secrets in the log: neither the password nor the session cookie value.
  const raw = await stack.logs('fcgi');
  assert.ok(!raw.includes('demo-trader-2026'), 'the password is never logged');
  assert.ok(!raw.includes(cookie.split('=')[1]), 'the session token is never logged');
});

test('fcgi.log: every line is valid UTF-8 JSON, even after a request with an invalid UTF-8 path', async () => {
  const id = rid('log-utf8');
  const r = await stack.fetch('/%C3%28', { headers: { 'X-Request-Id': id } });
  await r.arrayBuffer();
  assert.equal(r.status, 400);
  await waitFor(async () => (await stack.logs('fcgi')).includes(id), { timeoutMs: 3000 });
  const buf = await readFile(`${stack.varDir}/log/fcgi.log`);
  const bad = [];
  for (const line of buf.toString('latin1').split('\n').map((l) => Buffer.from(l, 'latin1'))) {
    if (line[0] !== 0x7b) continue; // '{'
    try {
      JSON.parse(decodeUtf8Strict(line));
    } catch (e) {
      bad.push(`${e.message}: ${line.toString('latin1').slice(0, 240)}`);
    }
  }
  assert.deepEqual(bad, [], 'log lines that are not valid UTF-8 JSON');
});

test('metrics.allow: /metrics and /health/detailed refuse an address not on the list (403), after a SIGHUP reload', async () => {
  const ok = await stack.fetch('/health/detailed');
  await ok.arrayBuffer();
  assert.equal(ok.status, 200, '127.0.0.1 is allowed by the stack config');

  const conf = stack.config;
  const original = await readFile(conf, 'utf8');
  const { master, workers } = await stack.fcgiPids();
  await appendFile(conf, 'metrics.allow = 10.0.0.1\n');
  try {
    process.kill(master, 'SIGHUP');
    const reloaded = await waitFor(async () => {
      const p = await stack.fcgiPids();
      return p.workers.length === 2 && p.workers.every((w) => !workers.includes(w));
    }, { timeoutMs: 10_000 });
    assert.ok(reloaded, 'the reload replaced the workers');
    for (const p of ['/metrics', '/health/detailed']) {
      const res = await stack.fetch(p);
      const body = await res.text();
      assert.equal(res.status, 403, `${p}: ${body.slice(0, 200)}`);
      assert.ok(!body.includes('http_requests_total'), `${p} leaks nothing`);
      assert.ok(!body.includes('"checks"'), `${p} leaks nothing`);
    }
    const h = await stack.fetch('/health');
    await h.arrayBuffer();
    assert.equal(h.status, 200, '/health stays public');
  } finally {
    await writeFile(conf, original);
    const before = (await stack.fcgiPids()).workers;
    process.kill(master, 'SIGHUP');
    await waitFor(async () => {
      const p = await stack.fcgiPids();
      return p.workers.length === 2 && p.workers.every((w) => !before.includes(w));
    }, { timeoutMs: 10_000 });
  }
  const back = await stack.fetch('/metrics');
  await back.arrayBuffer();
  assert.equal(back.status, 200, 'allowed again after restoring the config');
});

test('a config rejected on reload keeps the running workers, and later replacements still get the good config', async (t) => {
  const conf = stack.config;
  const original = await readFile(conf, 'utf8');
  const { master, workers } = await stack.fcgiPids();
  assert.equal(workers.length, 2);
  const logStart = (await stack.logs('fcgi')).length;
  // The bad line comes first, so the file as a whole is rejected before any of it is read.
  await writeFile(conf, `no.such.key = 1\n${original}`);
  try {
    process.kill(master, 'SIGHUP');
    const said = await waitFor(async () => /configuration rejected/.test((await stack.logs('fcgi')).slice(logStart)),
      { timeoutMs: 5000 });
    assert.ok(said, 'the master logs the rejected configuration');
    const now = await stack.fcgiPids();
    assert.equal(now.master, master);
    assert.deepEqual(now.workers, workers, 'the running workers are kept');
    const res = await stack.fetch('/metrics');
    await res.arrayBuffer();
    assert.equal(res.status, 200);

    // A worker that dies after the rejected reload must be replaced by one running the
    // configuration that was kept, not by one running the built-in defaults.
    const killAt = (await stack.logs('fcgi')).length;
    process.kill(workers[0], 'SIGKILL');
    await sleep(3000);
    const log = (await stack.logs('fcgi')).slice(killAt);
    const failedStarts = log.split('\n').filter((l) => /ended: exit status/.test(l));
    t.diagnostic(`after the kill: ${failedStarts.length} replacement(s) failed to start`);
    const p = await stack.fcgiPids();
    assert.deepEqual(failedStarts, [], 'replacement workers start with the kept configuration:\n' +
      log.split('\n').filter((l) => /error|warn/.test(l)).slice(0, 4).join('\n'));
    assert.equal(p.workers.length, 2, `two workers after the replacement: ${JSON.stringify(p)}`);
    const replacement = p.workers.find((w) => !workers.includes(w));
    assert.ok(replacement, 'a new worker replaced the killed one');
  } finally {
    await writeFile(conf, original);
    // Load the good file again so the rest of the stack's life (and its stop) is normal.
    const before = (await stack.fcgiPids()).workers;
    process.kill(master, 'SIGHUP');
    await waitFor(async () => {
      const q = await stack.fcgiPids();
      return q.workers.length === 2 && q.workers.every((w) => !before.includes(w));
    }, { timeoutMs: 15_000 });
  }
});
