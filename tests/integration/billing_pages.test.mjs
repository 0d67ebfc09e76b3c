// tests/integration/billing_pages.test.mjs — Assinaturas and Financeiro on a real stack: figures from
// seeded subscriptions, Stripe events and ledger transfers (MRR, churn, payment success, usage,
// dunning), the transfer filters, paging and CSV, who may open which page, pt-BR and English.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startStack } from './harness.mjs';
import { enrolTotp, login, makeTrader, psql } from './lib.mjs';

const CEO = Object.freeze({ email: 'ceo@botcriptofy.dev', password: 'demo-company-2026' });
const DAY = 86400;
const PRO = 9900; // plans.pro.price_brl_cents (default)
const ENTERPRISE = 49900;

let stack;
let ceoCookie = null;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

const now = () => Math.floor(Date.now() / 1000);
const tag = () => randomBytes(5).toString('hex');

async function ceo() {
  if (!ceoCookie) ceoCookie = (await enrolTotp(stack, (await login(stack, CEO)).cookie)).cookie;
  return ceoCookie;
}

async function get(p, cookie, { lang } = {}) {
  const res = await stack.fetch(p, { headers: { cookie: lang ? `${cookie}; lang=${lang}` : cookie } });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* a page or CSV */ }
  return { status: res.status, headers: res.headers, text, json };
}

/** A subscription row as the webhook stores it, and its first event `started` seconds ago. */
async function seedSubscription(tenant, { plan, status = 'active', startedAgo, canceledAgo, invoiceUrl, invoiceStatus, invoiceAgo }) {
  const sub = `sub_${tag()}`;
  const last = canceledAgo !== undefined ? now() - canceledAgo : now() - startedAgo;
  await psql(stack, `INSERT INTO subscriptions (tenant_id, stripe_subscription_id, stripe_customer_id, price_id, plan,
      status, current_period_end, latest_invoice_id, latest_invoice_status, latest_invoice_url, last_event_created,
      last_invoice_created)
    VALUES (${tenant}, '${sub}', 'cus_${tag()}', 'price_x', '${plan}', '${status}', now() + interval '20 days',
      ${invoiceStatus ? `'in_${tag()}'` : 'NULL'}, ${invoiceStatus ? `'${invoiceStatus}'` : 'NULL'},
      ${invoiceUrl ? `'${invoiceUrl}'` : 'NULL'}, ${last}, ${invoiceAgo !== undefined ? now() - invoiceAgo : 'NULL'})`);
  await psql(stack, `INSERT INTO stripe_events (event_id, type, created, payload, tenant_id, outcome)
    VALUES ('evt_${tag()}', 'customer.subscription.created', ${now() - startedAgo},
      '{"data": {"object": {"id": "${sub}", "object": "subscription"}}}', ${tenant}, 'applied')`);
  return sub;
}

async function seedInvoiceEvent(tenant, type, { id = `in_${tag()}`, amount, url, ago = DAY }) {
  const field = type === 'invoice.paid' ? 'amount_paid' : 'amount_due';
  await psql(stack, `INSERT INTO stripe_events (event_id, type, created, payload, tenant_id, outcome)
    VALUES ('evt_${tag()}', '${type}', ${now() - ago}, '${JSON.stringify({ data: { object: {
      id, object: 'invoice', customer: 'cus_x', [field]: amount, currency: 'brl', hosted_invoice_url: url } } })}',
      ${tenant}, 'applied')`);
  return id;
}

test('Financeiro: MRR, ARR, churn, ARPU, LTV, payment success and revenue per plan from the seeded rows', async () => {
  const cookie = await ceo();
  const base = (await get('/api/v1/financeiro', cookie)).json;
  assert.ok(base, 'the JSON twin answers');
  const a = await makeTrader(stack, 'fin-a');
  const b = await makeTrader(stack, 'fin-b');
  const c = await makeTrader(stack, 'fin-c');
  // two pro (one tenant has both, one of them past due) and one enterprise started 5 days ago
  await seedSubscription(a.tenantId, { plan: 'pro', startedAgo: 60 * DAY });
  await seedSubscription(a.tenantId, { plan: 'pro', status: 'past_due', startedAgo: 50 * DAY });
  await seedSubscription(b.tenantId, { plan: 'enterprise', startedAgo: 5 * DAY });
  // paying at the period's start and canceled inside it; one canceled before it; one only trialing
  await seedSubscription(c.tenantId, { plan: 'pro', status: 'canceled', startedAgo: 40 * DAY, canceledAgo: 10 * DAY });
  await seedSubscription(c.tenantId, { plan: 'pro', status: 'canceled', startedAgo: 90 * DAY, canceledAgo: 45 * DAY });
  await seedSubscription(c.tenantId, { plan: 'pro', status: 'trialing', startedAgo: 2 * DAY });
  await seedInvoiceEvent(a.tenantId, 'invoice.paid', { amount: PRO, url: 'https://invoice.stripe.com/i/paid1' });
  await seedInvoiceEvent(b.tenantId, 'invoice.paid', { amount: ENTERPRISE, url: 'https://invoice.stripe.com/i/paid2' });
  await seedInvoiceEvent(a.tenantId, 'invoice.payment_failed', { amount: PRO, url: 'https://invoice.stripe.com/i/failed' });
  await seedInvoiceEvent(a.tenantId, 'invoice.payment_failed', { amount: PRO, ago: 40 * DAY }); // before the period

  const { json: d, status } = await get('/api/v1/financeiro', cookie);
  assert.equal(status, 200);
  assert.equal(d.mrr_cents - base.mrr_cents, 2 * PRO + ENTERPRISE);
  assert.equal(d.arr_cents - base.arr_cents, 12 * (2 * PRO + ENTERPRISE));
  assert.equal(d.paying_subscriptions - base.paying_subscriptions, 3);
  assert.equal(d.paying_tenants - base.paying_tenants, 2);
  assert.equal(d.active_at_start - base.active_at_start, 3); // a's two and c's first
  assert.equal(d.canceled_in_period - base.canceled_in_period, 1);
  assert.equal(d.payments.paid - base.payments.paid, 2);
  assert.equal(d.payments.failed - base.payments.failed, 1);
  // the derived figures follow their formulas (docs/billing.md) from the same numbers
  assert.equal(d.arpu_cents, Math.round(d.mrr_cents / d.paying_tenants));
  assert.ok(Math.abs(d.churn - d.canceled_in_period / d.active_at_start) < 1e-9);
  assert.equal(d.ltv_cents, Math.round(d.arpu_cents / d.churn));
  assert.ok(Math.abs(d.payments.rate - d.payments.paid / (d.payments.paid + d.payments.failed)) < 1e-9);
  const pro = d.per_plan.find((p) => p.plan === 'pro');
  const ent = d.per_plan.find((p) => p.plan === 'enterprise');
  assert.equal(pro.mrr_cents - (base.per_plan.find((p) => p.plan === 'pro')?.mrr_cents ?? 0), 2 * PRO);
  assert.equal(ent.mrr_cents - (base.per_plan.find((p) => p.plan === 'enterprise')?.mrr_cents ?? 0), ENTERPRISE);
  assert.equal(d.mrr_series.at(-1).mrr_cents, d.mrr_cents);
  if (base.mrr_cents === 0) {
    assert.equal(d.mrr, 'R$ 697,00');
    assert.equal(d.churn_text, '33.3%');
  }
  // a shorter period: the cancellation 10 days ago is outside the last 7 days
  const week = (await get('/api/v1/financeiro?days=7', cookie)).json;
  assert.equal(week.canceled_in_period - base.canceled_in_period, 0);
  assert.equal((await get('/api/v1/financeiro?days=0', cookie)).status, 422);

  const pt = await get('/financeiro', cookie);
  assert.equal(pt.status, 200);
  assert.match(pt.text, /<svg[^>]*>/);
  assert.match(pt.text, new RegExp(`id="kpi-mrr">${d.mrr.replace(/[$.]/g, '\\$&')}<`));
  assert.match(pt.text, /Receita por plano/);
  const en = await get('/financeiro', cookie, { lang: 'en' });
  assert.match(en.text, /Revenue per plan/);
  assert.match(en.text, /id="kpi-mrr">BRL [\d,]+\.\d\d</);

  const inv = await get('/api/v1/financeiro/faturas', cookie);
  assert.equal(inv.status, 200);
  const paid = inv.json.invoices.find((i) => i.url === 'https://invoice.stripe.com/i/paid2');
  assert.equal(paid.status, 'paid');
  assert.equal(paid.amount_minor, ENTERPRISE);
  assert.equal(paid.amount, 'R$ 499,00');
  assert.match((await get('/financeiro/faturas', cookie)).text, /href="https:\/\/invoice\.stripe\.com\/i\/failed"/);
});

test('Financeiro is staff only: a trader gets 403 on every page and its JSON twin', async () => {
  const t = await makeTrader(stack, 'fin-403');
  const cookie = (await login(stack, { email: t.email })).cookie;
  for (const p of ['/financeiro', '/financeiro/transacoes', '/financeiro/transacoes?format=csv', '/financeiro/faturas',
    '/api/v1/financeiro', '/api/v1/financeiro/transacoes']) {
    assert.equal((await get(p, cookie)).status, 403, p);
  }
});

test('ledger transfers: filters, keyset paging, CSV with escaping, exact amounts', async () => {
  const cookie = await ceo();
  const tenant = (await makeTrader(stack, 'fin-ledger')).tenantId;
  const open = async (cur, code, neg) => (await stack.botctl('ledger', 'open', tenant, cur, code, ...(neg ? ['--allow-negative'] : []))).stdout.trim();
  const bank = await open('BRL', 'bank', true);
  const wallet = await open('BRL', `wallet_${tag()}`, false);
  const usdtBank = await open('USDT', 'bank', true);
  const usdtWallet = await open('USDT', 'wallet', false);
  const code = `dep,"x"${tag()}`; // a comma and quotes: the CSV must quote and double them
  for (let i = 0; i < 3; i++) await stack.botctl('ledger', 'transfer', tenant, `brl-${i}`, bank, wallet, String(123456 + i), '--code', code);
  await stack.botctl('ledger', 'transfer', tenant, 'usdt-1', usdtBank, usdtWallet, '12500000', '--code', '=cmd');
  const walletCode = await psql(stack, `SELECT code FROM ledger_accounts WHERE id = ${wallet}`);

  const all = (await get(`/api/v1/financeiro/transacoes?tenant=${tenant}`, cookie)).json;
  assert.equal(all.rows.length, 4);
  assert.deepEqual(all.rows.map((r) => r.id), [...all.rows.map((r) => r.id)].sort((x, y) => y - x));
  const usdt = (await get(`/api/v1/financeiro/transacoes?tenant=${tenant}&currency=USDT`, cookie)).json.rows;
  assert.equal(usdt.length, 1);
  assert.equal(usdt[0].amount_minor, 12500000);
  assert.equal(usdt[0].amount, 'USDT 12,500000');
  const byAccount = (await get(`/api/v1/financeiro/transacoes?tenant=${tenant}&account=${walletCode}`, cookie)).json.rows;
  assert.equal(byAccount.length, 3);
  assert.equal(byAccount.at(-1).amount, 'R$ 1.234,56');
  assert.equal((await get(`/api/v1/financeiro/transacoes?tenant=${tenant}&kind=pending`, cookie)).json.rows.length, 0);
  const today = await psql(stack, "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')");
  assert.equal((await get(`/api/v1/financeiro/transacoes?tenant=${tenant}&from=${today}&to=${today}`, cookie)).json.rows.length, 4);
  assert.equal((await get(`/api/v1/financeiro/transacoes?tenant=${tenant}&to=2000-01-01`, cookie)).json.rows.length, 0);
  for (const bad of ['currency=EUR', 'kind=refund', 'from=2026-13-01', 'to=2026-02-30', 'tenant=0', 'account=Bad%20Code', 'from=2026-02-02&to=2026-01-01']) {
    assert.equal((await get(`/api/v1/financeiro/transacoes?${bad}`, cookie)).status, 422, bad);
  }
  // keyset paging: older than the second newest
  const older = (await get(`/api/v1/financeiro/transacoes?tenant=${tenant}&before=${all.rows[1].id}`, cookie)).json.rows;
  assert.deepEqual(older.map((r) => r.id), all.rows.slice(2).map((r) => r.id));
  // and back: newer than the third newest, shown newest first, with links both ways
  const page = (await get(`/api/v1/financeiro/transacoes?tenant=${tenant}&after=${all.rows[2].id}`, cookie)).json;
  assert.deepEqual(page.rows.map((r) => r.id), all.rows.slice(0, 2).map((r) => r.id));
  assert.equal(page.next_url, `/financeiro/transacoes?tenant=${tenant}&before=${all.rows[1].id}`);
  assert.equal(page.prev_url, undefined, 'nothing is newer than the newest');
  const back = (await get(`/api/v1/financeiro/transacoes?tenant=${tenant}&before=${all.rows[1].id}`, cookie)).json;
  assert.equal(back.prev_url, `/financeiro/transacoes?tenant=${tenant}&after=${all.rows[2].id}`);
  assert.equal((await get(`/api/v1/financeiro/transacoes?before=1&after=2`, cookie)).status, 422, 'one cursor at a time');

  const en = await get(`/financeiro/transacoes?tenant=${tenant}&currency=BRL`, cookie, { lang: 'en' });
  assert.match(en.text, /BRL 1,234\.58/);
  assert.match((await get(`/financeiro/transacoes?tenant=${tenant}`, cookie)).text, /R\$ 1\.234,57/);

  const csv = await get(`/financeiro/transacoes?tenant=${tenant}&format=csv`, cookie);
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-type'), /^text\/csv/);
  const lines = csv.text.split('\r\n').filter(Boolean);
  assert.equal(lines[0], 'id,at,tenant_id,kind,currency,amount_minor,amount,debit_tenant_id,debit_account,credit_tenant_id,credit_account,code,idempotency_key,pending_id');
  assert.equal(lines.length, 5);
  const escaped = `"${code.replace(/"/g, '""')}"`;
  assert.ok(lines.slice(1).filter((l) => l.includes(`,1234.56,`)).every((l) => l.includes(`,${escaped},brl-0,`)), csv.text);
  assert.ok(lines.some((l) => l.includes(",'=cmd,usdt-1,")), 'a formula-like field is neutralised');
  assert.ok(lines.some((l) => l.includes(',12500000,12.500000,')));
  const usdtCsv = (await get(`/financeiro/transacoes?tenant=${tenant}&currency=USDT&format=csv`, cookie)).text.split('\r\n').filter(Boolean);
  assert.equal(usdtCsv.length, 2);
  assert.equal(await psql(stack, "SELECT count(*) FROM audit_log WHERE action = 'financeiro.export'") > '0', true);
});

test('Assinaturas: plan, usage counted from the tables, subscription, past_due banner, forms; never another tenant', async () => {
  const mine = await makeTrader(stack, 'sub-mine');
  const other = await makeTrader(stack, 'sub-other');
  await psql(stack, `UPDATE tenants SET plan = 'pro' WHERE id = ${mine.tenantId}`);
  await psql(stack, `UPDATE tenants SET plan = 'enterprise' WHERE id = ${other.tenantId}`);
  await seedSubscription(mine.tenantId, { plan: 'pro', status: 'past_due', startedAgo: 40 * DAY, invoiceStatus: 'payment_failed',
    invoiceUrl: 'https://invoice.stripe.com/i/mine', invoiceAgo: 2 * DAY });
  await seedSubscription(other.tenantId, { plan: 'enterprise', startedAgo: 10 * DAY, invoiceStatus: 'paid',
    invoiceUrl: 'https://invoice.stripe.com/i/OTHER' });
  // usage: 3 bots, 2 backtests today and 1 yesterday, 1 ML training, 2 tokens in force and 1 revoked
  // (the jobs are cancelled ones: counted like any, never picked up by the workers)
  const ins = (n, sql) => Promise.all(Array.from({ length: n }, () => psql(stack, sql)));
  await ins(3, `INSERT INTO bots (tenant_id, user_id, name, exchange, symbol, timeframe, config, initial_balance)
    VALUES (${mine.tenantId}, ${mine.id}, 'b', 'paper', 'BTC/USDT', '1h', '{}', 1000)`);
  await ins(2, `INSERT INTO jobs (tenant_id, type, status) VALUES (${mine.tenantId}, 'backtest', 'cancelled')`);
  await psql(stack, `INSERT INTO jobs (tenant_id, type, status, created_at) VALUES (${mine.tenantId}, 'backtest', 'cancelled', now() - interval '1 day' - interval '1 hour')`);
  await psql(stack, `INSERT INTO jobs (tenant_id, type, status) VALUES (${mine.tenantId}, 'ml_train', 'cancelled')`);
  await psql(stack, `INSERT INTO jobs (tenant_id, type, status) VALUES (${other.tenantId}, 'backtest', 'cancelled')`);
  const tok = (extra) => psql(stack, `INSERT INTO api_tokens (tenant_id, user_id, name, prefix, token_hash, scopes, expires_at${extra ? ', revoked_at' : ''})
    VALUES (${mine.tenantId}, ${mine.id}, 't', '${tag()}', '${tag()}${tag()}', '{read}', now() + interval '30 days'${extra ? ', now()' : ''})`);
  await tok(false); await tok(false); await tok(true);

  const cookie = (await login(stack, { email: mine.email })).cookie;
  const { status, json } = await get('/api/v1/assinaturas', cookie);
  assert.equal(status, 200);
  assert.equal(json.plan, 'pro');
  const use = Object.fromEntries(json.usage.map((u) => [u.limit, u]));
  assert.equal(use.bots.used, 3);
  assert.equal(use.bots.allowed, 20);
  assert.equal(use.backtests_per_day.used, 2);
  assert.equal(use.backtests_per_day.allowed, 500);
  assert.equal(use.optimizations_per_day.used, 0);
  assert.equal(use.ml_trainings_per_day.used, 1);
  assert.equal(use.api_tokens.used, 2);
  assert.equal(use.api_tokens.allowed, 10);
  assert.equal(json.subscription.status, 'past_due');
  assert.equal(json.subscription.latest_invoice_url, 'https://invoice.stripe.com/i/mine');
  assert.equal(json.past_due, true);
  const due = await psql(stack, `SELECT to_char(now() AT TIME ZONE 'UTC' - interval '2 days' + interval '7 days', 'YYYY-MM-DD')`);
  assert.equal(json.subscription.pay_before, due);
  assert.ok(json.plans.some((p) => p.plan === 'pro' && p.current && p.price === 'R$ 99,00'));

  const page = await get('/assinaturas', cookie);
  assert.equal(page.status, 200);
  assert.match(page.text, new RegExp(`O último pagamento falhou. Atualize a forma de pagamento até <time datetime="${due}">`));
  // a subscription in force changes plan in the Billing Portal; checkout is for a first one
  assert.equal(json.can_checkout, false);
  assert.ok(!page.text.includes('action="/assinaturas/checkout"'));
  assert.match(page.text, /<form method="post" action="\/assinaturas\/portal"/);
  assert.match(page.text, /name="_csrf" value="[^"]+"/);
  assert.ok(!page.text.includes('OTHER'), 'another tenant\'s invoice never shows');
  const en = await get('/assinaturas', cookie, { lang: 'en' });
  assert.match(en.text, /Your last payment failed\. Update your payment method before/);
  assert.match(en.text, /BRL 99\.00/);

  // the other tenant sees its own, no banner
  const oc = (await login(stack, { email: other.email })).cookie;
  const o = (await get('/api/v1/assinaturas', oc)).json;
  assert.equal(o.plan, 'enterprise');
  assert.equal(o.past_due, false);
  assert.equal(o.subscription.latest_invoice_url, 'https://invoice.stripe.com/i/OTHER');
  assert.equal(o.usage.find((u) => u.limit === 'backtests_per_day').used, 1);
  assert.equal(o.usage.find((u) => u.limit === 'bots').used, 0);
  assert.ok(!(await get('/assinaturas', oc)).text.includes('Atualize a forma de pagamento'));

  // no subscription at all: the page still answers, free plan
  const none = await makeTrader(stack, 'sub-none');
  const noneCookie = (await login(stack, { email: none.email })).cookie;
  const nj = (await get('/api/v1/assinaturas', noneCookie)).json;
  assert.equal(nj.plan, 'free');
  assert.equal(nj.subscription, null);
  assert.equal(nj.can_checkout, true);
  const np = await get('/assinaturas?checkout=success', noneCookie);
  assert.match(np.text, /<form method="post" action="\/assinaturas\/checkout"/);
  assert.match(np.text, /<option value="pro">Pro — R\$ 99,00<\/option>/);
  assert.match(np.text, /Pagamento recebido/);
  assert.ok(!np.text.includes('action="/assinaturas/portal"'), 'no billing account yet: no portal button');
});
