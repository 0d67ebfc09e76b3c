// tests/integration/stripe_storm.test.mjs — a Stripe webhook storm: 5,000 signed deliveries (20% of them
// redeliveries) in random order over many tenants and subscriptions, PostgreSQL restarted mid-run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startStack } from './harness.mjs';
import { psql, sleep } from './lib.mjs';

const SECRET = `whsec_${randomBytes(24).toString('hex')}`;
const TENANTS = 100;
const SUBS_PER_TENANT = 2;
const UNIQUE = 4000;            // events; with the redeliveries 5,000 deliveries
const DELIVERIES = 5000;
const CONCURRENCY = 16;
const RUN = randomBytes(4).toString('hex');
const PRICES = { price_storm_pro: 'pro', price_storm_ent: 'enterprise' };
const LIVE = new Set(['active', 'trialing', 'past_due']);

let stack;
let secretDir;

before(async () => {
  secretDir = await mkdtemp(path.join(tmpdir(), 'bcf-storm-'));
  const secretFile = path.join(secretDir, 'webhook_secret');
  await writeFile(secretFile, `${SECRET}\n`, { mode: 0o600 });
  stack = await startStack({
    workers: 4,
    config: {
      'stripe.webhook_secret_file': secretFile,
      'stripe.price.pro': 'price_storm_pro',
      'stripe.price.enterprise': 'price_storm_ent',
      // one sender address far over the per-address default: the webhook's own limit applies instead
      'ratelimit.default': '10/min',
      'ratelimit.stripe.webhook': '1000000/min',
    },
  });
});

after(async () => {
  await stack?.stop();
  if (secretDir) await rm(secretDir, { recursive: true, force: true });
});

/** Deterministic per run, so a failure can be replayed from the printed seed. */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sign = (body) => {
  const t = Math.floor(Date.now() / 1000);
  return `t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex')}`;
};

/** Every subscription's life: created, updates with distinct increasing `created`, maybe deleted last. */
function plan(tenantIds, rand) {
  const subs = [];
  const events = [];
  const base = Math.floor(Date.now() / 1000) - 86400;
  for (const tenant of tenantIds) {
    const cus = `cus_storm${RUN}x${tenant}`;
    for (let k = 0; k < SUBS_PER_TENANT; k++) subs.push({ id: `sub_storm${RUN}x${tenant}x${k}`, tenant, cus, events: [] });
  }
  const per = Math.floor(UNIQUE / subs.length);
  let n = 0;
  for (const s of subs) {
    const count = s === subs[subs.length - 1] ? UNIQUE - n : per;
    const deleted = rand() < 0.3;
    for (let i = 0; i < count; i++) {
      const last = i === count - 1;
      const type = i === 0 ? 'customer.subscription.created'
        : last && deleted ? 'customer.subscription.deleted' : 'customer.subscription.updated';
      const status = type === 'customer.subscription.deleted' ? 'canceled'
        : ['active', 'active', 'trialing', 'past_due', 'unpaid', 'incomplete'][Math.floor(rand() * 6)];
      const price = rand() < 0.5 ? 'price_storm_pro' : 'price_storm_ent';
      const ev = {
        id: `evt_storm_${RUN}_${++n}`, object: 'event', type, created: base + i * 7, livemode: false,
        api_version: '2024-06-20',
        data: {
          object: {
            id: s.id, object: 'subscription', customer: s.cus, status, cancel_at_period_end: rand() < 0.2,
            current_period_end: base + 30 * 86400, trial_end: null, metadata: { tenant_id: String(s.tenant) },
            items: { object: 'list', data: [{ id: `si_${s.id}`, price: { id: price, object: 'price' } }] },
          },
        },
      };
      s.events.push(ev);
      events.push(ev);
    }
  }
  return { subs, events };
}

/** POSTs one event, retrying 5xx and dropped connections with a short exponential backoff, as Stripe does. */
async function deliver(ev, stats) {
  const body = JSON.stringify(ev);
  for (let attempt = 0; ; attempt++) {
    let status = 0;
    let json = null;
    try {
      const res = await fetch(`${stack.baseUrl}/webhooks/stripe`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': sign(body) }, body,
      });
      status = res.status;
      json = await res.json().catch(() => null);
    } catch {
      status = 0; // connection refused or reset while the stack recovers
    }
    if (status === 200) return json.outcome;
    if (status !== 0 && status < 500) throw new Error(`event ${ev.id}: ${status} ${JSON.stringify(json)}`);
    stats.retries++;
    if (attempt > 100) throw new Error(`event ${ev.id}: still ${status} ${JSON.stringify(json)} after ${attempt} attempts`);
    await sleep(Math.min(1000, 20 * 2 ** Math.min(attempt, 6)));
  }
}

test('storm: 5,000 deliveries, 20% duplicates, random order, PostgreSQL restarted: each event once, newest state wins', async (t) => {
  const seed = Number.parseInt(RUN, 16);
  t.diagnostic(`seed ${seed}`);
  const rand = rng(seed);
  const values = Array.from({ length: TENANTS }, (_, i) => `('trader', 'storm ${RUN} ${i}')`).join(', ');
  const tenantIds = (await psql(stack, `INSERT INTO tenants (kind, name) VALUES ${values} RETURNING id`))
    .split('\n').map(Number);
  assert.equal(tenantIds.length, TENANTS);
  const { subs, events } = plan(tenantIds, rand);
  const queue = [...events];
  while (queue.length < DELIVERIES) queue.push(events[Math.floor(rand() * events.length)]);
  for (let i = queue.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [queue[i], queue[j]] = [queue[j], queue[i]];
  }

  const stats = { retries: 0, sent: 0, outcomes: {} };
  const restartAt = Math.floor(DELIVERIES * 0.4);
  let restart = null;
  const started = Date.now();
  let next = 0;
  const sender = async () => {
    while (next < queue.length) {
      const i = next++;
      if (i === restartAt) {
        // mid-run: the database goes away under the in-flight deliveries and comes back
        restart = (async () => {
          await stack.pgCtl('stop');
          await sleep(1000);
          await stack.pgCtl('start');
        })();
      }
      const outcome = await deliver(queue[i], stats);
      stats.outcomes[outcome] = (stats.outcomes[outcome] ?? 0) + 1;
      stats.sent++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, sender));
  await restart;
  t.diagnostic(`${stats.sent} deliveries in ${((Date.now() - started) / 1000).toFixed(1)} s, ${stats.retries} retries, outcomes ${JSON.stringify(stats.outcomes)}`);
  assert.ok(restart, 'PostgreSQL was restarted during the run');
  assert.ok(stats.retries > 0, 'the restart made some deliveries fail and be retried');
  assert.ok(stats.outcomes.duplicate >= DELIVERIES - UNIQUE, 'every redelivery answered duplicate');

  // every event stored exactly once
  const like = `evt_storm_${RUN}_%`;
  assert.equal(Number(await psql(stack, `SELECT count(*) FROM stripe_events WHERE event_id LIKE '${like}'`)), UNIQUE);
  // no duplicate effect: one subscription audit row per applied event, none for the others
  const audits = await psql(stack, `SELECT e.event_id || ' ' || e.outcome || ' ' || count(a.id)
    FROM stripe_events e LEFT JOIN audit_log a ON a.action = 'billing.subscription_update' AND a.after->>'event' = e.event_id
    WHERE e.event_id LIKE '${like}' GROUP BY e.event_id, e.outcome`);
  let applied = 0;
  for (const line of audits.split('\n')) {
    const [id, outcome, n] = line.split(' ');
    const want = outcome === 'applied' ? 1 : 0;
    assert.equal(Number(n), want, `${id} (${outcome}) has ${n} audit rows`);
    assert.ok(['applied', 'stale'].includes(outcome), `${id}: outcome ${outcome}`);
    applied += want;
  }
  t.diagnostic(`${applied} applied, ${UNIQUE - applied} stale`);

  // each subscription ends in the state of its newest event (canceled is final and always the newest)
  const rows = await psql(stack, `SELECT stripe_subscription_id || ' ' || tenant_id || ' ' || status || ' ' || plan || ' '
    || cancel_at_period_end || ' ' || last_event_created FROM subscriptions WHERE stripe_subscription_id LIKE 'sub_storm${RUN}x%'`);
  const got = new Map(rows.split('\n').map((l) => [l.split(' ')[0], l]));
  assert.equal(got.size, subs.length);
  const wantPlan = new Map();
  for (const s of subs) {
    const newest = s.events[s.events.length - 1].data.object;
    const created = s.events[s.events.length - 1].created;
    const plan = PRICES[newest.items.data[0].price.id];
    assert.equal(got.get(s.id), `${s.id} ${s.tenant} ${newest.status} ${plan} ${newest.cancel_at_period_end} ${created}`);
    if (LIVE.has(newest.status) && (wantPlan.get(s.tenant) !== 'enterprise')) wantPlan.set(s.tenant, plan);
  }
  // each tenant's plan is the best of its live subscriptions
  const plans = await psql(stack, `SELECT id || ' ' || plan FROM tenants WHERE id IN (${tenantIds.join(',')})`);
  for (const line of plans.split('\n')) {
    const [id, p] = line.split(' ');
    assert.equal(p, wantPlan.get(Number(id)) ?? 'free', `tenant ${id}`);
  }
});
