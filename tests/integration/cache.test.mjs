// cache.test.mjs — the cache through the real stack: per-module TTL policy, tag invalidation with
// botctl, and every worker's near cache following a change made in Redis (client tracking).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';
import { login, psql, redisCli, waitFor } from './lib.mjs';

let stack;
let cookie;
let tenantId;

before(async () => {
  stack = await startStack();
  ({ cookie } = await login(stack));
  const res = await stack.fetch('/api/v1/dashboard', { headers: { cookie } });
  tenantId = (await res.json()).tenant.id;
});

after(async () => {
  await stack?.stop();
});

/** Fetches the dashboard JSON `n` times, `width` at a time; returns [{pid, name}] using the log. */
async function dashboards(n, width = 16) {
  const out = [];
  for (let i = 0; i < n; i += width) {
    const batch = Array.from({ length: Math.min(width, n - i) }, async () => {
      const res = await stack.fetch('/api/v1/dashboard', { headers: { cookie } });
      const body = await res.json();
      assert.equal(res.status, 200);
      return { rid: res.headers.get('x-request-id'), name: body.tenant.name };
    });
    out.push(...(await Promise.all(batch)));
  }
  // the fcgi log names the worker pid that answered each request id
  const pidOf = new Map();
  for (const line of (await stack.logs('fcgi')).split('\n')) {
    if (!line.includes('"request_id"')) continue;
    try {
      const j = JSON.parse(line);
      pidOf.set(j.request_id, j.pid);
    } catch { /* partial last line */ }
  }
  return out.map((r) => ({ ...r, pid: pidOf.get(r.rid) }));
}

test('the dashboard entry gets the TTL of its policy (cache.ttl.dashboard = 30 s)', async () => {
  const key = `c:dashboard:summary:${tenantId}`;
  await redisCli(stack, 'DEL', key);
  await dashboards(1, 1);
  const ttl = Number(await redisCli(stack, 'TTL', key));
  assert.ok(ttl > 20 && ttl <= 30, `TTL ${ttl}`);
  assert.equal(await redisCli(stack, 'SISMEMBER', `ct:tenant:${tenantId}`, key), '1', 'tagged with its tenant');
});

test('a change in Redis reaches every worker\'s near cache at once', async () => {
  const key = `c:dashboard:summary:${tenantId}`;
  // warm: both workers have read (and near-cached) the entry
  let seen = new Set();
  await waitFor(async () => {
    for (const r of await dashboards(32)) if (r.pid) seen.add(r.pid);
    return seen.size >= 2;
  }, { timeoutMs: 20_000, intervalMs: 50 });
  const value = JSON.parse(await redisCli(stack, 'GET', key));
  value.tenant.name = 'Changed In Redis';
  await redisCli(stack, 'SET', key, JSON.stringify(value), 'EX', '30');
  await new Promise((r) => setTimeout(r, 100)); // one event-loop turn for the invalidation message
  seen = new Set();
  const after = await dashboards(64);
  for (const r of after) {
    assert.equal(r.name, 'Changed In Redis', `worker ${r.pid} answered a stale value`);
    if (r.pid) seen.add(r.pid);
  }
  assert.ok(seen.size >= 2, `the check reached ${seen.size} worker(s); it needs both`);
});

test('botctl cache-invalidate drops the tagged entries, and the next read comes from PostgreSQL', async () => {
  await psql(stack, `UPDATE tenants SET name = 'Renamed In PostgreSQL' WHERE id = ${tenantId}`);
  // still the cached value: the database change alone does not reach the cache
  const before = await dashboards(4, 4);
  for (const r of before) assert.notEqual(r.name, 'Renamed In PostgreSQL');
  const { stdout } = await stack.botctl('cache-invalidate', `tenant:${tenantId}`);
  assert.ok(Number(stdout.trim()) >= 1, `dropped ${stdout.trim()} entries`);
  assert.equal(await redisCli(stack, 'EXISTS', `ct:tenant:${tenantId}`), '0', 'the tag set is gone too');
  await new Promise((r) => setTimeout(r, 100));
  for (const r of await dashboards(32)) assert.equal(r.name, 'Renamed In PostgreSQL', `worker ${r.pid}`);
});

test('cache hits and misses are counted per module in /metrics', async () => {
  const text = await (await stack.fetch('/metrics')).text();
  const hits = /^cache_hits_total\{module="dashboard"\} (\d+)$/m.exec(text);
  const misses = /^cache_misses_total\{module="dashboard"\} (\d+)$/m.exec(text);
  assert.ok(hits && Number(hits[1]) > 0, 'dashboard hits counted');
  assert.ok(misses && Number(misses[1]) >= 2, 'dashboard misses counted (first read, after invalidation)');
});
