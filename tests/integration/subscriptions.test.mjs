// tests/integration/subscriptions.test.mjs — plan changes, cancellation at period end, the card-free trial and
// dunning on a real stack: the buttons against fake_stripe.mjs, the state from signed webhook events, the worker's expiry.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startStack } from './harness.mjs';
import { startFakeStripe } from './fake_stripe.mjs';
import { DEMO, apiGet, apiPost, login, makeTrader, psql, sessionCsrf, sleep, waitFor } from './lib.mjs';

const SECRET_KEY = `sk_test_${randomBytes(16).toString('hex')}`;
const WHSEC = `whsec_${randomBytes(24).toString('hex')}`;
const DAY = 86400;
let stack;
let fake;
let dir;
let seq = 0;

before(async () => {
  fake = await startFakeStripe({ secretKey: SECRET_KEY, prices: ['price_pro', 'price_ent'] });
  dir = await mkdtemp(path.join(tmpdir(), 'bcf-subs-'));
  await writeFile(path.join(dir, 'key'), `${SECRET_KEY}\n`, { mode: 0o600 });
  await writeFile(path.join(dir, 'whsec'), `${WHSEC}\n`, { mode: 0o600 });
  stack = await startStack({
    config: {
      'stripe.secret_key_file': path.join(dir, 'key'),
      'stripe.webhook_secret_file': path.join(dir, 'whsec'),
      'stripe.api_base': fake.url,
      'stripe.price.pro': 'price_pro',
      'stripe.price.enterprise': 'price_ent',
      'app.base_url': 'http://portal.test',
      'http.client.stripe.backoff_base_ms': '20',
      'http.client.stripe.breaker_failures': '1000',
      'ratelimit.billing.stripe': '1000/min',
      'billing.expire_poll_ms': '200',
    },
  });
});

after(async () => {
  await stack?.stop();
  await fake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const now = () => Math.floor(Date.now() / 1000);
const uid = (p) => `${p}_${process.pid}x${++seq}x${randomBytes(4).toString('hex')}`;
const count = async (sql) => Number(await psql(stack, sql));
const planOf = (tenant) => psql(stack, `SELECT plan FROM tenants WHERE id = ${tenant}`);
const notices = (tenant, kind) => count(`SELECT count(*) FROM notifications WHERE tenant_id = ${tenant} AND kind = '${kind}'`);
const audits = (tenant, action) => count(`SELECT count(*) FROM audit_log WHERE tenant_id = ${tenant} AND action = '${action}'`);

async function deliver(type, object, created = now()) {
  const body = JSON.stringify({ id: uid('evt'), object: 'event', type, created, livemode: false, api_version: '2024-06-20',
    data: { object } });
  const t = now();
  const sig = `t=${t},v1=${createHmac('sha256', WHSEC).update(`${t}.${body}`).digest('hex')}`;
  const res = await stack.fetch('/webhooks/stripe', { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': sig }, body });
  const json = await res.json();
  assert.equal(res.status, 200, JSON.stringify(json));
  return json.outcome;
}

/** A signed-in trader: { t, cookie, csrf }. */
async function trader(label) {
  const t = await makeTrader(stack, label);
  const { cookie } = await login(stack, { email: t.email, password: DEMO.password });
  return { t, cookie, csrf: await sessionCsrf(stack, cookie) };
}

/** A trader whose tenant has a subscription to price, known to Stripe (the fake) and to us (its webhook). */
async function subscriber(label, price = 'price_pro', created = now() - 100) {
  const u = await trader(label);
  const sub = fake.addSubscription({ customer: uid('cus'), price, tenant: u.t.tenantId });
  assert.equal(await deliver('customer.subscription.created', structuredClone(sub), created), 'applied');
  return { ...u, sub };
}

const post = (u, p, body) => apiPost(stack, u.cookie, u.csrf, `/api/v1${p}`, body);
const page = async (u) => (await apiGet(stack, u.cookie, '/api/v1/assinaturas')).json;
const lastPost = (from, sub) => fake.since(from, `/v1/subscriptions/${sub}`).filter((r) => r.method === 'POST').at(-1);

test('upgrade: the item gets the new price with prorations now; the page says pending until the webhook', async () => {
  const u = await subscriber('upgrade');
  assert.equal(await planOf(u.t.tenantId), 'pro');
  const from = fake.requests.length;
  const r = await post(u, '/assinaturas/plano', { plan: 'enterprise' });
  assert.equal(r.res.status, 202, r.text);
  assert.equal(r.json.effective, 'now');
  const calls = fake.since(from, `/v1/subscriptions/${u.sub.id}`);
  assert.deepEqual(calls.map((c) => c.method), ['GET', 'POST']);
  assert.equal(calls[0].headers['idempotency-key'], undefined);
  const p = calls[1];
  assert.ok(p.headers['idempotency-key']?.startsWith(`plan:${u.t.tenantId}:${u.sub.id}:enterprise:`));
  assert.equal(p.form['items[0][id]'], u.sub.items.data[0].id);
  assert.equal(p.form['items[0][price]'], 'price_ent');
  assert.equal(p.form.proration_behavior, 'create_prorations');
  // the plan follows the webhook, not the button
  assert.equal(await planOf(u.t.tenantId), 'pro');
  assert.equal((await page(u)).subscription.pending_plan, 'enterprise');
  const html = await (await stack.fetch('/assinaturas', { headers: { cookie: u.cookie } })).text();
  assert.match(html, /id="pending-plan" data-plan="enterprise"/);
  assert.equal(await audits(u.t.tenantId, 'billing.plan_change_request'), 1);
  assert.equal(await deliver('customer.subscription.updated', structuredClone(fake.subscriptions.get(u.sub.id))), 'applied');
  assert.equal(await planOf(u.t.tenantId), 'enterprise');
  assert.equal((await page(u)).subscription.pending_plan, '');
  const again = await post(u, '/assinaturas/plano', { plan: 'enterprise' });
  assert.equal(again.res.status, 409);
  assert.equal(again.json.error.code, 'same_plan');
});

test('downgrade: no proration, the paid plan is kept until period end, then the worker applies the lower one', async () => {
  const u = await subscriber('downgrade', 'price_ent');
  assert.equal(await planOf(u.t.tenantId), 'enterprise');
  const from = fake.requests.length;
  const r = await post(u, '/assinaturas/plano', { plan: 'pro' });
  assert.equal(r.res.status, 202, r.text);
  assert.equal(r.json.effective, 'period_end');
  const p = lastPost(from, u.sub.id);
  assert.equal(p.form.proration_behavior, 'none');
  assert.equal(p.form['items[0][price]'], 'price_pro');
  assert.equal(await deliver('customer.subscription.updated', structuredClone(fake.subscriptions.get(u.sub.id))), 'applied');
  // Stripe bills pro from the next period; enterprise was paid until then
  assert.equal(await planOf(u.t.tenantId), 'enterprise');
  const s = (await page(u)).subscription;
  assert.equal(s.plan, 'pro');
  assert.equal(s.held_plan, 'enterprise');
  assert.equal(s.held_until, new Date(u.sub.current_period_end * 1000).toISOString().slice(0, 10));
  await psql(stack, `UPDATE subscriptions SET held_until = now() - interval '1 second' WHERE stripe_subscription_id = '${u.sub.id}'`);
  await waitFor(async () => (await planOf(u.t.tenantId)) === 'pro', { timeoutMs: 10_000 });
  assert.equal(await audits(u.t.tenantId, 'billing.hold_end'), 1);
  assert.equal(await count(`SELECT count(*) FROM audit_log WHERE tenant_id = ${u.t.tenantId} AND action = 'billing.plan_change'
    AND after->>'reason' = 'period_end'`), 1);
});

test('cancel at period end and resume: cancel_at_period_end on Stripe, "ends on" once confirmed, repeats refused', async () => {
  const u = await subscriber('cancel');
  let from = fake.requests.length;
  const c = await post(u, '/assinaturas/cancelar', {});
  assert.equal(c.res.status, 202, c.text);
  assert.equal(lastPost(from, u.sub.id).form.cancel_at_period_end, 'true');
  assert.equal((await page(u)).subscription.pending_cancel, true);
  const twice = await post(u, '/assinaturas/cancelar', {});
  assert.equal(twice.res.status, 409);
  assert.equal(twice.json.error.code, 'already_canceling');
  assert.equal(await deliver('customer.subscription.updated', structuredClone(fake.subscriptions.get(u.sub.id))), 'applied');
  const s = (await page(u)).subscription;
  assert.equal(s.cancel_at_period_end, true);
  assert.equal(s.pending_cancel, false);
  const html = await (await stack.fetch('/assinaturas', { headers: { cookie: u.cookie } })).text();
  assert.match(html, /id="ends-on"><time datetime="\d{4}-\d\d-\d\d"/);
  assert.match(html, /action="\/assinaturas\/retomar"/);
  assert.equal(await planOf(u.t.tenantId), 'pro', 'the plan stays until the period ends');
  from = fake.requests.length;
  const resume = await post(u, '/assinaturas/retomar', {});
  assert.equal(resume.res.status, 202, resume.text);
  assert.equal(lastPost(from, u.sub.id).form.cancel_at_period_end, 'false');
  assert.equal(await deliver('customer.subscription.updated', structuredClone(fake.subscriptions.get(u.sub.id))), 'applied');
  assert.equal((await page(u)).subscription.cancel_at_period_end, false);
  const notCanceling = await post(u, '/assinaturas/retomar', {});
  assert.equal(notCanceling.res.status, 409);
  assert.equal(notCanceling.json.error.code, 'not_canceling');
  assert.equal(await audits(u.t.tenantId, 'billing.cancel_request'), 1);
  assert.equal(await audits(u.t.tenantId, 'billing.resume_request'), 1);
});

test('trial: once per tenant without a card; it ends through the worker, back to free with a notice', async () => {
  const u = await trader('trial');
  assert.equal((await page(u)).trial.can_start, true);
  const from = fake.requests.length;
  const r = await post(u, '/assinaturas/teste', {});
  assert.equal(r.res.status, 201, r.text);
  assert.equal(r.json.trial_days, 14);
  assert.equal(await planOf(u.t.tenantId), 'pro');
  assert.equal(fake.since(from).length, 0, 'no card, no Stripe call');
  assert.equal(await audits(u.t.tenantId, 'billing.trial_start'), 1);
  const second = await post(u, '/assinaturas/teste', {});
  assert.equal(second.res.status, 409);
  assert.equal(second.json.error.code, 'not_free');
  await psql(stack, `UPDATE plan_trials SET started_at = now() - interval '15 days', ends_at = now() - interval '1 second'
    WHERE tenant_id = ${u.t.tenantId}`);
  await waitFor(async () => (await planOf(u.t.tenantId)) === 'free', { timeoutMs: 10_000 });
  assert.equal(await notices(u.t.tenantId, 'billing.trial_ended'), 1);
  assert.equal(await audits(u.t.tenantId, 'billing.trial_end'), 1);
  const third = await post(u, '/assinaturas/teste', {});
  assert.equal(third.res.status, 409);
  assert.equal(third.json.error.code, 'trial_used');
  assert.equal(await count(`SELECT count(*) FROM plan_trials WHERE tenant_id = ${u.t.tenantId}`), 1);
  assert.equal((await page(u)).trial.can_start, false);
  // no second trial through Checkout either
  const co = await post(u, '/assinaturas/checkout', { plan: 'pro' });
  assert.equal(co.res.status, 200, co.text);
  const session = fake.requests.filter((q) => q.path === '/v1/checkout/sessions').at(-1);
  assert.equal(session.form['subscription_data[trial_period_days]'], undefined);
});

test('past_due: the owners are told; past the grace the worker moves the tenant to free once; paying brings it back', async () => {
  const u = await subscriber('dunning', 'price_pro', now() - 30 * DAY);
  const old = now() - 8 * DAY; // older than billing.dunning_grace_days
  const invoice = { id: uid('in'), object: 'invoice', subscription: u.sub.id, hosted_invoice_url: 'https://invoice.stripe.com/i/x' };
  assert.equal(await deliver('invoice.payment_failed', invoice, old), 'applied');
  assert.equal(await notices(u.t.tenantId, 'billing.payment_failed'), 1);
  assert.equal(await deliver('customer.subscription.updated', { ...structuredClone(u.sub), status: 'past_due' }, old), 'applied');
  await waitFor(async () => (await planOf(u.t.tenantId)) === 'free', { timeoutMs: 10_000 });
  await sleep(600); // several more worker passes
  assert.equal(await audits(u.t.tenantId, 'billing.dunning_expire'), 1);
  assert.equal(await notices(u.t.tenantId, 'billing.dunning_downgrade'), 1);
  // another past_due update on the same unpaid invoice does not give the plan back
  assert.equal(await deliver('customer.subscription.updated', { ...structuredClone(u.sub), status: 'past_due' }), 'applied');
  assert.equal(await planOf(u.t.tenantId), 'free');
  assert.equal(await deliver('invoice.paid', invoice), 'applied');
  assert.equal(await deliver('customer.subscription.updated', structuredClone(u.sub)), 'applied');
  assert.equal(await planOf(u.t.tenantId), 'pro');
});

test('past_due recovered before the grace ends keeps the plan', async () => {
  const u = await subscriber('recover', 'price_pro', now() - 30 * DAY);
  const recent = now() - 2 * DAY;
  const invoice = { id: uid('in'), object: 'invoice', subscription: u.sub.id };
  assert.equal(await deliver('invoice.payment_failed', invoice, recent), 'applied');
  assert.equal(await deliver('customer.subscription.updated', { ...structuredClone(u.sub), status: 'past_due' }, recent), 'applied');
  await sleep(800);
  assert.equal(await planOf(u.t.tenantId), 'pro');
  assert.equal((await page(u)).past_due, true);
  assert.equal(await deliver('invoice.paid', invoice), 'applied');
  assert.equal(await deliver('customer.subscription.updated', structuredClone(u.sub)), 'applied');
  await sleep(600);
  assert.equal(await planOf(u.t.tenantId), 'pro');
  assert.equal(await audits(u.t.tenantId, 'billing.dunning_expire'), 0);
  assert.equal(await notices(u.t.tenantId, 'billing.dunning_downgrade'), 0);
});

test('trial_will_end tells the owners, with the trial end date', async () => {
  const u = await subscriber('trialwill');
  const obj = { ...structuredClone(u.sub), status: 'trialing', trial_end: now() + 3 * DAY };
  assert.equal(await deliver('customer.subscription.trial_will_end', obj), 'applied');
  assert.equal(await notices(u.t.tenantId, 'billing.trial_will_end'), 1);
  const text = await psql(stack, `SELECT body FROM notifications WHERE tenant_id = ${u.t.tenantId} AND kind = 'billing.trial_will_end'`);
  assert.match(text, /\d{4}-\d\d-\d\d/);
});

test('bad input and refusals: 4xx, Stripe not called, nothing changed', async () => {
  const u = await subscriber('bad');
  const from = fake.requests.length;
  for (const plan of ['bogus', '', 'free', 'x'.repeat(40)]) {
    const r = await post(u, '/assinaturas/plano', { plan });
    assert.equal(r.res.status, 422, `${plan}: ${r.text}`);
    assert.equal(r.json.error.code, 'bad_plan');
  }
  const same = await post(u, '/assinaturas/plano', { plan: 'pro' });
  assert.equal(same.res.status, 409);
  const trial = await post(u, '/assinaturas/teste', { plan: 'enterprise' });
  assert.equal(trial.res.status, 409, 'a paying tenant is not on free');
  const noTrial = await post(u, '/assinaturas/teste', { plan: 'free' });
  assert.equal(noTrial.res.status, 422);
  assert.equal(fake.since(from).length, 0);
  assert.equal(await count(`SELECT count(*) FROM subscriptions WHERE stripe_subscription_id = '${u.sub.id}'
    AND (requested_plan IS NOT NULL OR requested_cancel IS NOT NULL)`), 0);
  // no CSRF token: refused by the route's flags
  const noCsrf = await stack.fetch('/api/v1/assinaturas/cancelar', { method: 'POST', headers: { cookie: u.cookie, 'content-type': 'application/json' }, body: '{}' });
  assert.equal(noCsrf.status, 403);
  // without a subscription: nothing to cancel; a plan change is Checkout
  const free = await trader('nosub');
  const cancel = await post(free, '/assinaturas/cancelar', {});
  assert.equal(cancel.res.status, 409);
  assert.equal(cancel.json.error.code, 'no_subscription');
  const change = await post(free, '/assinaturas/plano', { plan: 'pro' });
  assert.equal(change.res.status, 200, change.text);
  assert.match(change.json.url, /^https:\/\/checkout\.stripe\.com\//);
});

test('Stripe down: 503 stripe_unavailable, nothing stored, the plan unchanged', async () => {
  const u = await subscriber('down');
  fake.fail(50, { status: 500, path: `/v1/subscriptions/${u.sub.id}` });
  try {
    for (const [p, body] of [['/assinaturas/plano', { plan: 'enterprise' }], ['/assinaturas/cancelar', {}]]) {
      const r = await post(u, p, body);
      assert.equal(r.res.status, 503, r.text);
      assert.equal(r.json.error.code, 'stripe_unavailable');
    }
  } finally {
    fake.clearFaults();
  }
  assert.equal(await planOf(u.t.tenantId), 'pro');
  assert.equal(await count(`SELECT count(*) FROM subscriptions WHERE stripe_subscription_id = '${u.sub.id}'
    AND (requested_plan IS NOT NULL OR requested_cancel IS NOT NULL)`), 0);
  assert.equal(await audits(u.t.tenantId, 'billing.plan_change_request'), 0);
  assert.equal(fake.subscriptions.get(u.sub.id).items.data[0].price.id, 'price_pro');
});
