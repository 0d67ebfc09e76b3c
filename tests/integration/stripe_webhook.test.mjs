// tests/integration/stripe_webhook.test.mjs — POST /webhooks/stripe on a real stack: signatures (bad,
// expired, tampered → 400 and nothing stored), subscription state and the tenant's plan, duplicates,
// out-of-order delivery, cancellation, customer mapping, invoices, unknown types, malformed bodies.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startStack } from './harness.mjs';
import { makeTrader, psql } from './lib.mjs';

const SECRET = `whsec_${randomBytes(24).toString('hex')}`;
let stack;
let secretDir;
let seq = 0;

before(async () => {
  secretDir = await mkdtemp(path.join(tmpdir(), 'bcf-stripe-'));
  const secretFile = path.join(secretDir, 'webhook_secret');
  await writeFile(secretFile, `${SECRET}\n`, { mode: 0o600 });
  stack = await startStack({
    config: {
      'stripe.webhook_secret_file': secretFile,
      'stripe.price.pro': 'price_pro_month, price_pro_year',
      'stripe.price.enterprise': 'price_enterprise',
    },
  });
});

after(async () => {
  await stack?.stop();
  if (secretDir) await rm(secretDir, { recursive: true, force: true });
});

const now = () => Math.floor(Date.now() / 1000);
const uid = (prefix) => `${prefix}_${process.pid}x${++seq}x${randomBytes(4).toString('hex')}`;

/** Stripe-Signature for body at t, as Stripe computes it: HMAC-SHA256 of "<t>.<body>". */
function sign(body, { t = now(), secret = SECRET } = {}) {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

async function post(body, signature) {
  const headers = { 'content-type': 'application/json; charset=utf-8' };
  if (signature !== undefined) headers['stripe-signature'] = signature;
  const res = await stack.fetch('/webhooks/stripe', { method: 'POST', headers, body });
  return { status: res.status, json: await res.json().catch(() => null) };
}

function event(type, object, { id = uid('evt'), created = now() } = {}) {
  return { id, object: 'event', type, created, livemode: false, api_version: '2024-06-20', data: { object } };
}

function subscription({ id, customer, status = 'active', price = 'price_pro_month', tenant, cancelAtPeriodEnd = false }) {
  return {
    id, object: 'subscription', customer, status, cancel_at_period_end: cancelAtPeriodEnd,
    current_period_end: now() + 30 * 86400, trial_end: null,
    metadata: tenant ? { tenant_id: String(tenant) } : {},
    items: { object: 'list', data: [{ id: uid('si'), price: { id: price, object: 'price' } }] },
  };
}

/** Sends ev signed, resolves the response. */
async function deliver(ev) {
  const body = JSON.stringify(ev);
  return post(body, sign(body));
}

const count = async (sql) => Number(await psql(stack, sql));
const planOf = (tenant) => psql(stack, `SELECT plan FROM tenants WHERE id = ${tenant}`);

/** A new tenant with a pro subscription created 100 s ago: resolves { t, sub, cus, base }. */
async function subscribedTenant(label) {
  const t = await makeTrader(stack, label);
  const sub = uid('sub');
  const cus = uid('cus');
  const base = now() - 100;
  const r = await deliver(event('customer.subscription.created', subscription({ id: sub, customer: cus, tenant: t.tenantId }), { created: base }));
  assert.equal(r.json?.outcome, 'applied');
  return { t, sub, cus, base };
}

test('bad, expired, tampered, future and missing signatures: 400 and nothing stored', async () => {
  const t = await makeTrader(stack, 'stripe-sig');
  const ev = event('customer.subscription.created',
    subscription({ id: uid('sub'), customer: uid('cus'), tenant: t.tenantId }));
  const body = JSON.stringify(ev);
  const cases = [
    ['wrong secret', body, sign(body, { secret: 'whsec_not_ours' })],
    ['expired', body, sign(body, { t: now() - 301 - 5 })],
    ['from the future', body, sign(body, { t: now() + 400 })],
    ['tampered body', body.replace('"active"', '"trialing"'), sign(body)],
    ['malformed header', body, 'v1=deadbeef'],
    ['no header', body, undefined],
  ];
  for (const [name, b, sig] of cases) {
    const r = await post(b, sig);
    assert.equal(r.status, 400, name);
    assert.equal(r.json?.error?.code, 'bad_signature', name);
  }
  assert.equal(await count(`SELECT count(*) FROM stripe_events WHERE event_id = '${ev.id}'`), 0);
  assert.equal(await count(`SELECT count(*) FROM subscriptions WHERE tenant_id = ${t.tenantId}`), 0);
  assert.equal(await planOf(t.tenantId), 'free');
  // several v1 values (a secret being rolled): one matching is enough
  const ts = now();
  const good = sign(body, { t: ts }).split(',')[1];
  const stale = sign(body, { t: ts, secret: 'whsec_rolled' }).split(',')[1];
  const r = await post(body, `t=${ts},${stale},${good},v0=abc`);
  assert.equal(r.status, 200);
  assert.equal(r.json.outcome, 'applied');
});

test('subscription created: a subscription row, the tenant plan, audit rows; a duplicate changes nothing', async () => {
  const t = await makeTrader(stack, 'stripe-new');
  const sub = uid('sub');
  const cus = uid('cus');
  const ev = event('customer.subscription.created', subscription({ id: sub, customer: cus, tenant: t.tenantId }));
  const r = await deliver(ev);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { received: true, outcome: 'applied' });
  assert.equal(await psql(stack, `SELECT tenant_id || ',' || status || ',' || plan || ',' || last_event_created
    FROM subscriptions WHERE stripe_subscription_id = '${sub}'`), `${t.tenantId},active,pro,${ev.created}`);
  assert.equal(await planOf(t.tenantId), 'pro');
  assert.equal(await psql(stack, `SELECT tenant_id FROM stripe_customers WHERE customer_id = '${cus}'`), String(t.tenantId));
  assert.equal(await psql(stack, `SELECT outcome || ',' || tenant_id || ',' || (payload->>'id')
    FROM stripe_events WHERE event_id = '${ev.id}'`), `applied,${t.tenantId},${ev.id}`);
  const audits = `SELECT count(*) FROM audit_log WHERE tenant_id = ${t.tenantId} AND action LIKE 'billing.%'`;
  const before = await count(audits);
  assert.ok(before >= 3, 'customer link, subscription and plan change are audited');
  for (let i = 0; i < 3; i++) {
    const again = await deliver(ev);
    assert.equal(again.status, 200);
    assert.equal(again.json.outcome, 'duplicate');
  }
  assert.equal(await count(`SELECT count(*) FROM stripe_events WHERE event_id = '${ev.id}'`), 1);
  assert.equal(await count(audits), before);
});

test('out of order: an older update arriving after a newer one is recorded as stale and changes nothing', async () => {
  const { t, sub, cus, base } = await subscribedTenant('stripe-order');
  const newer = event('customer.subscription.updated',
    subscription({ id: sub, customer: cus, price: 'price_enterprise', cancelAtPeriodEnd: true }), { created: base + 20 });
  const older = event('customer.subscription.updated',
    subscription({ id: sub, customer: cus, status: 'past_due' }), { created: base + 10 });
  assert.equal((await deliver(newer)).json.outcome, 'applied');
  const r = await deliver(older);
  assert.equal(r.status, 200);
  assert.equal(r.json.outcome, 'stale');
  assert.equal(await psql(stack, `SELECT status || ',' || plan || ',' || cancel_at_period_end || ',' || last_event_created
    FROM subscriptions WHERE stripe_subscription_id = '${sub}'`), `active,enterprise,true,${base + 20}`);
  assert.equal(await planOf(t.tenantId), 'enterprise');
  assert.equal(await psql(stack, `SELECT outcome FROM stripe_events WHERE event_id = '${older.id}'`), 'stale');
});

test('deleted: the plan goes back to free and a canceled subscription is never reopened', async () => {
  const { t, sub, cus, base } = await subscribedTenant('stripe-cancel');
  assert.equal(await planOf(t.tenantId), 'pro');
  const del = await deliver(event('customer.subscription.deleted',
    subscription({ id: sub, customer: cus, status: 'canceled' }), { created: base + 30 }));
  assert.equal(del.json.outcome, 'applied');
  assert.equal(await planOf(t.tenantId), 'free');
  // a late "updated" that Stripe sent after the deletion (same second or later) cannot revive it
  const late = await deliver(event('customer.subscription.updated', subscription({ id: sub, customer: cus }), { created: base + 31 }));
  assert.equal(late.json.outcome, 'stale');
  assert.equal(await psql(stack, `SELECT status FROM subscriptions WHERE stripe_subscription_id = '${sub}'`), 'canceled');
  assert.equal(await planOf(t.tenantId), 'free');
  assert.ok(await count(`SELECT count(*) FROM audit_log WHERE tenant_id = ${t.tenantId} AND action = 'billing.plan_change'`) >= 2);
});

test('a subscription seen before its checkout is adopted when checkout.session.completed maps the customer', async () => {
  const t = await makeTrader(stack, 'stripe-checkout');
  const sub = uid('sub');
  const cus = uid('cus');
  const early = await deliver(event('customer.subscription.created', subscription({ id: sub, customer: cus, price: 'price_pro_year' })));
  assert.equal(early.json.outcome, 'unmatched');
  assert.equal(await psql(stack, `SELECT coalesce(tenant_id::text, 'none') FROM subscriptions WHERE stripe_subscription_id = '${sub}'`), 'none');
  assert.equal(await planOf(t.tenantId), 'free');
  const done = await deliver(event('checkout.session.completed', {
    id: uid('cs'), object: 'checkout.session', mode: 'subscription', customer: cus, subscription: sub,
    client_reference_id: String(t.tenantId),
  }));
  assert.equal(done.json.outcome, 'applied');
  assert.equal(await psql(stack, `SELECT tenant_id FROM subscriptions WHERE stripe_subscription_id = '${sub}'`), String(t.tenantId));
  assert.equal(await planOf(t.tenantId), 'pro');
  // another tenant cannot take the customer over
  const other = await makeTrader(stack, 'stripe-thief');
  const steal = await deliver(event('checkout.session.completed', {
    id: uid('cs'), object: 'checkout.session', customer: cus, client_reference_id: String(other.tenantId),
  }));
  assert.equal(steal.json.outcome, 'unmatched');
  assert.equal(await psql(stack, `SELECT tenant_id FROM stripe_customers WHERE customer_id = '${cus}'`), String(t.tenantId));
});

test('invoices set the latest invoice state, newest first; one-off invoices and unknown types are recorded', async () => {
  const { t, sub, cus, base } = await subscribedTenant('stripe-invoice');
  const inv = (id, type, created) => event(type, {
    id, object: 'invoice', customer: cus, subscription: sub, hosted_invoice_url: `https://invoice.stripe.com/i/${id}`,
  }, { created });
  assert.equal((await deliver(inv('in_b', 'invoice.payment_failed', base + 20))).json.outcome, 'applied');
  assert.equal((await deliver(inv('in_a', 'invoice.paid', base + 10))).json.outcome, 'stale');
  assert.equal(await psql(stack, `SELECT latest_invoice_id || ',' || latest_invoice_status FROM subscriptions
    WHERE stripe_subscription_id = '${sub}'`), 'in_b,payment_failed');
  assert.equal((await deliver(inv('in_c', 'invoice.payment_action_required', base + 30))).json.outcome, 'applied');
  assert.equal((await deliver(inv('in_c', 'invoice.paid', base + 40))).json.outcome, 'applied');
  assert.equal(await psql(stack, `SELECT latest_invoice_status FROM subscriptions WHERE stripe_subscription_id = '${sub}'`), 'paid');
  const oneOff = await deliver(event('invoice.paid', { id: uid('in'), object: 'invoice', customer: cus }));
  assert.equal(oneOff.json.outcome, 'ignored');
  const unknown = event('charge.refunded', { id: uid('ch'), object: 'charge' });
  const r = await deliver(unknown);
  assert.equal(r.status, 200);
  assert.equal(r.json.outcome, 'ignored');
  assert.equal(await psql(stack, `SELECT type || ',' || outcome FROM stripe_events WHERE event_id = '${unknown.id}'`),
    'charge.refunded,ignored');
});

test('a correctly signed body that is not an event: 400 and nothing stored', async () => {
  const before = await count('SELECT count(*) FROM stripe_events');
  const broken = '{"id": "evt_broken", "type": "customer.subscription.created", ';
  const r1 = await post(broken, sign(broken));
  assert.equal(r1.status, 400);
  const noId = JSON.stringify({ type: 'invoice.paid', created: now(), data: { object: {} } });
  const r2 = await post(noId, sign(noId));
  assert.equal(r2.status, 400);
  assert.equal(r2.json.error.code, 'bad_event');
  const badSub = JSON.stringify(event('customer.subscription.updated', { id: 'sub_x', customer: 'cus_x', status: 'bogus' }));
  const r3 = await post(badSub, sign(badSub));
  assert.equal(r3.status, 400);
  // an id the subscriptions table would refuse: refused here, not a 503 retried forever
  const badId = JSON.stringify(event('customer.subscription.updated', { id: 'sub_with_underscores', customer: 'cus_x', status: 'active' }));
  assert.equal((await post(badId, sign(badId))).status, 400);
  const notObject = JSON.stringify([1, 2, 3]);
  assert.equal((await post(notObject, sign(notObject))).status, 400);
  assert.equal(await count('SELECT count(*) FROM stripe_events'), before);
});

test('PostgreSQL down: 503 so Stripe retries, and the retry after recovery is applied once', async () => {
  const t = await makeTrader(stack, 'stripe-down');
  const ev = event('customer.subscription.created', subscription({ id: uid('sub'), customer: uid('cus'), tenant: t.tenantId }));
  await stack.pgCtl('stop');
  try {
    const r = await deliver(ev);
    assert.ok(r.status >= 500 && r.status < 600, `status ${r.status}`);
  } finally {
    await stack.pgCtl('start');
  }
  let r;
  for (let i = 0; i < 50; i++) {
    r = await deliver(ev);
    if (r.status === 200) break;
    await new Promise((ok) => setTimeout(ok, 200));
  }
  assert.equal(r.status, 200);
  assert.equal(r.json.outcome, 'applied');
  assert.equal((await deliver(ev)).json.outcome, 'duplicate');
  assert.equal(await planOf(t.tenantId), 'pro');
});
