// tests/integration/plans.test.mjs — plan limits on a real stack: a free tenant refused its next bot
// with the reason and nothing stored, the same tenant on pro allowed; the plan's daily backtest quota;
// the plan's optimization size refused at create time; API tokens; /pricing in both languages and JSON.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';
import { apiGet, apiPost, login, makeTrader, psql, sessionCsrf } from './lib.mjs';

let stack;
const CONFIG = {
  strategy: 'sma_cross',
  params: { fast: 5, slow: 20 },
  risk: { stop_loss_pct: 4, take_profit_pct: 6, stake_pct: 90 },
  costs: { fee_bps: 10, slippage_bps: 5 },
};
const BOT = { exchange: 'demo', symbol: 'BTCUSDT', timeframe: '1h', mode: 'paper', initial_balance: '100', config: CONFIG };
const BACKTEST = { markets: ['demo:BTCUSDT:1h'], from: '2024-01-05', to: '2024-01-25', initial_balance: '1000', config: CONFIG };
// 4 x 4 = 16 parameter sets: over the free plan's 10 below, within pro's
const GRID = {
  method: 'grid', objective: 'sharpe', constraints: { min_trades: 1 },
  space: { fast: { min: 3, max: 9, step: 2 }, slow: { min: 15, max: 30, step: 5 } },
};

async function trader(label) {
  const t = await makeTrader(stack, label);
  const { cookie } = await login(stack, { email: t.email });
  return { ...t, cookie, csrf: await sessionCsrf(stack, cookie) };
}

const post = (who, path, body) => apiPost(stack, who.cookie, who.csrf, `/api/v1${path}`, body);
const count = (table, who) => psql(stack, `SELECT count(*) FROM ${table} WHERE tenant_id = ${who.tenantId}`).then(Number);

before(async () => {
  stack = await startStack({
    config: {
      'plans.free.backtests_per_day': '2',
      'plans.free.optimization_sets': '10',
      'plans.free.api_tokens': '1',
      'ratelimit.bots.write': '1000/min',
      'ratelimit.backtests.create': '1000/min',
      'ratelimit.optimizations.create': '1000/min',
    },
  });
  await stack.botctl('candles', 'synth', '--exchange', 'demo', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--from', '2024-01-01',
    '--count', '600', '--seed', '7');
});

after(async () => {
  await stack?.stop();
});

test('a free tenant past its bots gets 403 plan_limit with the reason and nothing stored; on pro it may', async () => {
  const t = await trader('bots');
  for (const name of ['one', 'two']) {
    const r = await post(t, '/bots', { ...BOT, name });
    assert.equal(r.res.status, 201, r.text);
  }
  const audits = () => psql(stack, `SELECT count(*) FROM audit_log WHERE tenant_id = ${t.tenantId} AND action = 'bots.create'`);
  const auditsBefore = await audits();
  const r = await post(t, '/bots', { ...BOT, name: 'three' });
  assert.equal(r.res.status, 403, r.text);
  assert.equal(r.json.error.code, 'plan_limit');
  assert.equal(r.json.error.limit, 'bots');
  assert.equal(r.json.error.plan, 'free');
  assert.equal(r.json.error.allowed, 2);
  assert.equal(r.json.error.used, 2);
  assert.equal(r.json.error.why, 'the free plan allows 2 bots; 2 already used');
  assert.match(r.json.error.message, /\/pricing/);
  assert.equal(await count('bots', t), 2);
  assert.equal(await audits(), auditsBefore);
  // the HTML form is refused alike, with the translated reason
  const form = await stack.fetch('/bots', {
    method: 'POST',
    headers: { cookie: t.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: t.csrf, name: 'four', market: 'demo:BTCUSDT:1h', mode: 'paper', initial_balance: '100',
      strategy: 'sma_cross', 'p.fast': '5', 'p.slow': '20' }).toString(),
  });
  const html = await form.text();
  assert.ok([403, 422].includes(form.status), `${form.status} ${html.slice(0, 300)}`);
  assert.equal(await count('bots', t), 2);
  await psql(stack, `UPDATE tenants SET plan = 'pro' WHERE id = ${t.tenantId}`);
  const ok = await post(t, '/bots', { ...BOT, name: 'three' });
  assert.equal(ok.res.status, 201, ok.text);
  assert.equal(await count('bots', t), 3);
});

test('the plan sets the daily backtest quota: free stops at its 2 with nothing stored, pro goes on', async () => {
  const t = await trader('bt');
  for (const name of ['a', 'b']) {
    const r = await post(t, '/backtests', { ...BACKTEST, name });
    assert.equal(r.res.status, 201, r.text);
  }
  const r = await post(t, '/backtests', { ...BACKTEST, name: 'c' });
  assert.equal(r.res.status, 429, r.text);
  assert.equal(r.json.error.code, 'quota_exceeded');
  assert.match(r.text, /the free plan allows 2 backtests per day; 2 already used/);
  assert.equal(await count('backtests', t), 2);
  assert.equal(await count('jobs', t), 2);
  await psql(stack, `UPDATE tenants SET plan = 'pro' WHERE id = ${t.tenantId}`);
  const ok = await post(t, '/backtests', { ...BACKTEST, name: 'c' });
  assert.equal(ok.res.status, 201, ok.text);
});

test('an optimization larger than the plan allows is refused at create time with 422 naming the limit', async () => {
  const t = await trader('opt');
  const body = { name: 'grid', market: 'demo:BTCUSDT:1h', from: '2024-01-05', to: '2024-01-25', initial_balance: '1000', config: CONFIG,
    spec: GRID };
  const r = await post(t, '/optimizations', body);
  assert.equal(r.res.status, 422, r.text);
  assert.equal(r.json.error.fields.spec, 'space: the free plan allows 10 parameter sets per optimization; this asks for 16');
  assert.equal(await count('optimizations', t), 0);
  assert.equal(await count('jobs', t), 0);
  await psql(stack, `UPDATE tenants SET plan = 'pro' WHERE id = ${t.tenantId}`);
  const ok = await post(t, '/optimizations', body);
  assert.equal(ok.res.status, 201, ok.text);
  assert.equal(ok.json.total, 16);
});

test('API tokens in force are counted against the plan; a revoked one frees its place', async () => {
  const t = await trader('tok');
  const first = await post(t, '/account/tokens', { name: 'one', scope: 'read' });
  assert.equal(first.res.status, 201, first.text);
  const r = await post(t, '/account/tokens', { name: 'two', scope: 'read' });
  assert.equal(r.res.status, 403, r.text);
  assert.equal(r.json.error.limit, 'api_tokens');
  assert.equal(await count('api_tokens', t), 1);
  const rev = await post(t, `/account/tokens/${first.json.id}/revoke`, {});
  assert.ok(rev.res.status < 400, rev.text);
  const again = await post(t, '/account/tokens', { name: 'two', scope: 'read' });
  assert.equal(again.res.status, 201, again.text);
});

test('/pricing is public, in Portuguese and English, with a JSON twin from the catalog; the signed-in plan is marked', async () => {
  const pt = await stack.fetch('/pricing');
  const ptHtml = await pt.text();
  assert.equal(pt.status, 200, ptHtml.slice(0, 300));
  assert.match(ptHtml, /Planos e preços/);
  assert.match(ptHtml, /R\$ 99,00/);
  assert.match(ptHtml, /Robôs/);
  assert.ok(!/Seu plano atual/.test(ptHtml));
  const en = await stack.fetch('/pricing', { headers: { cookie: 'lang=en' } });
  const enHtml = await en.text();
  assert.equal(en.status, 200);
  assert.match(enHtml, /Plans and pricing/);
  assert.match(enHtml, /Backtests per day/);
  assert.match(enHtml, /Unlimited/);
  const j = await stack.fetch('/api/v1/pricing', { headers: { accept: 'application/json' } });
  assert.equal(j.status, 200);
  const data = await j.json();
  assert.deepEqual(data.plans.map((p) => p.plan), ['free', 'pro', 'enterprise']);
  const free = data.plans[0];
  assert.deepEqual([free.limits.bots, free.limits.backtests_per_day, free.limits.optimization_sets, free.limits.live_trading],
    [2, 2, 10, 0]);
  assert.equal(data.plans[1].price_brl_cents, 9900);
  assert.equal(data.plans[1].trial_days, 14);
  assert.equal(data.plans[2].limits.backtests_per_day, null);
  assert.equal(data.current, null);
  // signed in: the tenant's plan is marked
  const t = await trader('price');
  const mine = await apiGet(stack, t.cookie, '/api/v1/pricing');
  assert.equal(mine.json.current, 'free');
  assert.deepEqual(mine.json.plans.map((p) => p.current), [true, false, false]);
  const page = await stack.fetch('/pricing', { headers: { cookie: t.cookie } });
  assert.match(await page.text(), /class="plan current" id="plan-free"/);
});
