// tests/integration/stripe_api.test.mjs — the Assinaturas buttons against a local server speaking Stripe's wire
// format: headers (key, version, idempotency), form bodies, a retried call with the same key, customer reuse, errors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startStack } from './harness.mjs';
import { startFakeStripe } from './fake_stripe.mjs';
import { DEMO, login, makeTrader, psql, sessionCsrf } from './lib.mjs';

const SECRET_KEY = `sk_test_${randomBytes(16).toString('hex')}`;
const BASE_URL = 'http://portal.test';
let stack;
let fake;
let secretDir;

before(async () => {
  fake = await startFakeStripe({ secretKey: SECRET_KEY, prices: ['price_pro_month', 'price_ent'] });
  secretDir = await mkdtemp(path.join(tmpdir(), 'bcf-stripe-api-'));
  const keyFile = path.join(secretDir, 'secret_key');
  await writeFile(keyFile, `${SECRET_KEY}\n`, { mode: 0o600 });
  stack = await startStack({
    config: {
      'stripe.secret_key_file': keyFile,
      'stripe.api_base': fake.url,
      'stripe.price.pro': 'price_pro_month, price_pro_year',
      'stripe.price.enterprise': 'price_ent_unknown_to_stripe',
      'app.base_url': BASE_URL,
      'http.client.stripe.backoff_base_ms': '20',
      'http.client.stripe.breaker_failures': '1000',
    },
  });
});

after(async () => {
  await stack?.stop();
  await fake?.close();
  if (secretDir) await rm(secretDir, { recursive: true, force: true });
});

const count = async (sql) => Number(await psql(stack, sql));

/** A signed-in new trader: { t, cookie, csrf }. */
async function trader(label) {
  const t = await makeTrader(stack, label);
  const { cookie } = await login(stack, { email: t.email, password: DEMO.password });
  return { t, cookie, csrf: await sessionCsrf(stack, cookie) };
}

/** The browser form post: resolves { status, location, text }. */
async function formPost(u, p, fields) {
  const res = await stack.fetch(p, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: u.cookie },
    body: new URLSearchParams({ _csrf: u.csrf, ...fields }).toString(),
  });
  return { status: res.status, location: res.headers.get('location'), text: await res.text() };
}

async function apiPost(u, p, body) {
  const res = await stack.fetch(`/api/v1${p}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: u.cookie, 'x-csrf-token': u.csrf },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

function assertStripeHeaders(r) {
  assert.equal(r.headers.authorization, `Bearer ${SECRET_KEY}`);
  assert.equal(r.headers['stripe-version'], '2024-06-20');
  assert.match(r.headers['content-type'], /^application\/x-www-form-urlencoded/);
  assert.ok(r.headers['idempotency-key'], `an Idempotency-Key on ${r.path}`);
}

test('checkout: a customer, then a subscription Checkout Session, and a 303 to its url', async () => {
  const u = await trader('checkout');
  const from = fake.requests.length;
  const r = await formPost(u, '/assinaturas/checkout', { plan: 'pro' });
  assert.equal(r.status, 303, r.text);
  assert.match(r.location, /^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/);

  const sent = fake.since(from);
  assert.deepEqual(sent.map((x) => x.path), ['/v1/customers', '/v1/checkout/sessions']);
  sent.forEach(assertStripeHeaders);
  const [cus, co] = sent;
  assert.equal(cus.headers['idempotency-key'], `customer:${u.t.tenantId}`);
  assert.equal(cus.form['metadata[tenant_id]'], String(u.t.tenantId));
  assert.equal(cus.form.email, u.t.email);
  assert.match(cus.raw, /metadata\[tenant_id\]=/, 'Stripe bracket notation, brackets literal');
  const customerId = [...fake.customers.keys()].at(-1);
  assert.match(co.headers['idempotency-key'], new RegExp(`^checkout:${u.t.tenantId}:pro:`));
  assert.deepEqual(
    { ...co.form, success_url: undefined, cancel_url: undefined },
    {
      mode: 'subscription', customer: customerId, client_reference_id: String(u.t.tenantId),
      'line_items[0][price]': 'price_pro_month', 'line_items[0][quantity]': '1',
      'metadata[tenant_id]': String(u.t.tenantId), 'subscription_data[metadata][tenant_id]': String(u.t.tenantId),
      'subscription_data[trial_period_days]': '14', success_url: undefined, cancel_url: undefined,
    });
  assert.equal(co.form.success_url, `${BASE_URL}/assinaturas?checkout=success&session_id={CHECKOUT_SESSION_ID}`);
  assert.equal(co.form.cancel_url, `${BASE_URL}/assinaturas?checkout=canceled`);

  assert.equal(await psql(stack, `SELECT customer_id FROM stripe_customers WHERE tenant_id = ${u.t.tenantId}`), customerId);
  assert.equal(await count(`SELECT count(*) FROM audit_log WHERE tenant_id = ${u.t.tenantId} AND action = 'billing.customer_create'`), 1);
  assert.equal(await count(`SELECT count(*) FROM audit_log WHERE tenant_id = ${u.t.tenantId} AND action = 'billing.checkout_open'`), 1);
  const fcgiLog = await stack.logs('fcgi');
  assert.ok(!fcgiLog.includes(SECRET_KEY), 'the secret key is never logged');
});

test('the JSON twin reuses the stored customer; a 500 is retried with the same Idempotency-Key', async () => {
  const u = await trader('reuse');
  assert.equal((await apiPost(u, '/assinaturas/checkout', { plan: 'pro' })).status, 200);
  const customers = fake.customers.size;
  const from = fake.requests.length;
  fake.fail(1, { status: 500, path: '/v1/checkout/sessions' });
  const r = await apiPost(u, '/assinaturas/checkout', { plan: 'pro', nonce: 'n1' });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.match(r.json.url, /^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/);
  assert.equal(fake.customers.size, customers, 'no second customer');
  const sent = fake.since(from);
  assert.deepEqual(sent.map((x) => [x.path, x.status]), [['/v1/checkout/sessions', 500], ['/v1/checkout/sessions', 200]]);
  assert.equal(sent[0].headers['idempotency-key'], `checkout:${u.t.tenantId}:pro:n1`);
  assert.equal(sent[1].headers['idempotency-key'], sent[0].headers['idempotency-key'], 'the retry reuses the key');
  assert.equal(sent[1].raw, sent[0].raw, 'and the same body');
  assert.equal(await count(`SELECT count(*) FROM stripe_customers WHERE tenant_id = ${u.t.tenantId}`), 1);

  // the same nonce again is the same request to Stripe: its first answer comes back
  const again = await apiPost(u, '/assinaturas/checkout', { plan: 'pro', nonce: 'n1' });
  assert.equal(again.json.url, r.json.url);
  assert.equal(fake.requests.at(-1).replayed, true);
});

test('Stripe refusing or failing: a clear error, nothing stored', async () => {
  const u = await trader('refused');
  // a price Stripe does not know: 502 naming Stripe's code; the customer exists at Stripe and is kept
  let from = fake.requests.length;
  const bad = await apiPost(u, '/assinaturas/checkout', { plan: 'enterprise' });
  assert.equal(bad.status, 502);
  assert.equal(bad.json.error.code, 'stripe_error');
  assert.match(bad.json.error.message, /resource_missing/);
  assert.deepEqual(fake.since(from).map((x) => x.status), [200, 400]);
  assert.equal(await count(`SELECT count(*) FROM audit_log WHERE tenant_id = ${u.t.tenantId} AND action = 'billing.checkout_open'`), 0);

  // the customer call refused: no mapping stored
  const v = await trader('refused-customer');
  fake.fail(1, { status: 400, path: '/v1/customers', code: 'email_invalid', message: 'Invalid email address' });
  const r = await formPost(v, '/assinaturas/checkout', { plan: 'pro' });
  assert.equal(r.status, 502);
  assert.equal(await count(`SELECT count(*) FROM stripe_customers WHERE tenant_id = ${v.t.tenantId}`), 0);

  // Stripe down through every retry: 503, nothing stored
  fake.fail(3, { status: 503, path: '/v1/customers' });
  from = fake.requests.length;
  const down = await apiPost(v, '/assinaturas/checkout', { plan: 'pro' });
  assert.equal(down.status, 503);
  assert.equal(down.json.error.code, 'stripe_unavailable');
  const tries = fake.since(from);
  assert.equal(tries.length, 3, 'http.client.max_attempts');
  assert.equal(new Set(tries.map((x) => x.headers['idempotency-key'])).size, 1);
  assert.equal(await count(`SELECT count(*) FROM stripe_customers WHERE tenant_id = ${v.t.tenantId}`), 0);
  fake.clearFaults();
});

test('refused before calling Stripe: a free plan, an existing subscription, no CSRF token', async () => {
  const u = await trader('refusals');
  const from = fake.requests.length;
  const free = await apiPost(u, '/assinaturas/checkout', { plan: 'free' });
  assert.equal(free.status, 422);
  assert.equal(free.json.error.code, 'bad_plan');
  await psql(stack, `INSERT INTO subscriptions (tenant_id, stripe_subscription_id, stripe_customer_id, status, plan, last_event_created)
    VALUES (${u.t.tenantId}, 'sub_${randomBytes(6).toString('hex')}', 'cus_x', 'active', 'pro', 1)`);
  const dup = await apiPost(u, '/assinaturas/checkout', { plan: 'pro' });
  assert.equal(dup.status, 409);
  assert.equal(dup.json.error.code, 'already_subscribed');
  const noCsrf = await stack.fetch('/assinaturas/checkout', {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: u.cookie },
    body: 'plan=pro',
  });
  assert.equal(noCsrf.status, 403);
  assert.equal(fake.requests.length, from, 'nothing sent to Stripe');
});

test('portal: a Billing Portal session for the stored customer, 409 without one', async () => {
  const u = await trader('portal');
  const none = await apiPost(u, '/assinaturas/portal', {});
  assert.equal(none.status, 409);
  assert.equal(none.json.error.code, 'no_customer');
  await apiPost(u, '/assinaturas/checkout', { plan: 'pro' });
  const cus = await psql(stack, `SELECT customer_id FROM stripe_customers WHERE tenant_id = ${u.t.tenantId}`);
  const from = fake.requests.length;
  const r = await formPost(u, '/assinaturas/portal', {});
  assert.equal(r.status, 303, r.text);
  assert.match(r.location, /^https:\/\/billing\.stripe\.com\/p\/session\//);
  const [sent] = fake.since(from);
  assertStripeHeaders(sent);
  assert.match(sent.headers['idempotency-key'], new RegExp(`^portal:${u.t.tenantId}:`));
  assert.deepEqual(sent.form, { customer: cus, return_url: `${BASE_URL}/assinaturas` });
});
