// tests/integration/ml_signal.test.mjs — the ml_signal strategy on a real stack: a model trained by the
// worker, a paper bot that trades its probabilities (computing and storing the missing ones), a backtest
// of the same candles that reads those stored predictions and makes exactly the bot's trades, and a
// model id that is not the tenant's (or not trained) refused with nothing stored.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';
import { apiPost, login, makeTrader, psql, sessionCsrf, waitFor } from './lib.mjs';

let stack;
let me;
let tenant;
let userId;

async function synth(symbol, count, seed) {
  await stack.botctl('candles', 'synth', '--exchange', 'demo', '--symbol', symbol, '--timeframe', '1h', '--from', '2024-01-01',
    '--count', String(count), '--seed', String(seed));
}

async function jobDone(job) {
  await waitFor(async () => {
    const st = await psql(stack, `SELECT status || coalesce(':' || error, '') FROM jobs WHERE id = ${job}`);
    assert.ok(!/^(failed|dead)/.test(st), `job ${job}: ${st}`);
    return st === 'done';
  }, { timeoutMs: 60_000, intervalMs: 200 });
}

async function enqueue(type, params) {
  const { stdout } = await stack.botctl('job-enqueue', type, JSON.stringify(params), '--tenant', String(tenant), '--user', String(userId));
  const job = Number(stdout.trim().split(/\s+/).pop());
  assert.ok(job > 0, stdout);
  return job;
}

/** A model trained by the worker's ml_train job on the first 700 candles; returns its id. */
async function trainModel(name, kind = 'logreg') {
  const id = Number(await psql(stack, `INSERT INTO ml_models (tenant_id, user_id, name, version, kind, exchange, symbol, timeframe,
    from_ms, to_ms, options) VALUES (${tenant}, ${userId}, '${name}', 1, '${kind}', 'demo', 'BTCUSDT', '1h', ${Date.UTC(2024, 0, 1)},
    ${Date.UTC(2024, 0, 1) + 700 * 3600_000}, '{"kind":"${kind}"}') RETURNING id`));
  await jobDone(await enqueue('ml_train', { model_id: id }));
  assert.equal(await psql(stack, `SELECT model IS NOT NULL FROM ml_models WHERE id = ${id}`), 't');
  return id;
}

const config = (model) => ({ strategy: 'ml_signal', params: { model_id: model, buy_above: 0.5, sell_below: 0.5 },
  risk: { stake_pct: 90 }, costs: { fee_bps: 10, slippage_bps: 5 } });

before(async () => {
  stack = await startStack();
  await synth('BTCUSDT', 1100, 21);
  const { cookie } = await login(stack);
  me = { cookie, csrf: await sessionCsrf(stack, cookie) };
  tenant = Number(await psql(stack, `SELECT tenant_id FROM users WHERE email = 'demo@botcriptofy.dev'`));
  userId = Number(await psql(stack, `SELECT id FROM users WHERE email = 'demo@botcriptofy.dev'`));
});

after(async () => {
  await stack?.stop();
});

test('a paper bot trades the model\'s probabilities, and a backtest of the same candles makes exactly its trades', async () => {
  const model = await trainModel('direction');
  const create = await apiPost(stack, me.cookie, me.csrf, '/api/v1/bots', { name: 'ML paper', exchange: 'demo', symbol: 'BTCUSDT',
    timeframe: '1h', mode: 'paper', initial_balance: '10000', config: config(model) });
  assert.equal(create.res.status, 201, create.text);
  const bot = create.json.id;
  const start = await apiPost(stack, me.cookie, me.csrf, `/api/v1/bots/${bot}/start`, { start: '2024-02-05' });
  assert.equal(start.res.status, 200, start.text);
  const last = Date.UTC(2024, 0, 1) + 1099 * 3600_000;
  await waitFor(async () => Number(await psql(stack, `SELECT coalesce(last_candle_ms, 0) FROM bots WHERE id = ${bot}`)) === last,
    { timeoutMs: 60_000 });
  assert.equal(await psql(stack, `SELECT status FROM bots WHERE id = ${bot}`), 'running');
  // no prediction run was made: the bot computed one per candle it traded, and stored them
  const from = Date.UTC(2024, 1, 5);
  const candles = (last - from) / 3600_000 + 1;
  assert.equal(Number(await psql(stack, `SELECT count(*) FROM ml_predictions WHERE model_id = ${model} AND open_time >= ${from}`)), candles);

  const bt = await apiPost(stack, me.cookie, me.csrf, '/api/v1/backtests', { name: 'ML same', markets: ['demo:BTCUSDT:1h'],
    from: '2024-02-05', to: '2024-02-16T12:00:00Z', initial_balance: '10000', config: config(model) });
  assert.equal(bt.res.status, 201, bt.text);
  let report;
  await waitFor(async () => {
    const st = await psql(stack, `SELECT coalesce(j.status, '') || ':' || (b.report IS NOT NULL) FROM backtests b LEFT JOIN jobs j ON j.id = b.job_id WHERE b.id = ${bt.json.id}`);
    assert.ok(!/^(failed|dead)/.test(st), st);
    if (st.endsWith(':true')) report = JSON.parse(await psql(stack, `SELECT report FROM backtests WHERE id = ${bt.json.id}`));
    return !!report;
  }, { timeoutMs: 30_000 });
  const expected = report.trades.filter((t) => t.exit_reason !== 'end_of_data');
  const closes = JSON.parse(await psql(stack, `SELECT coalesce(json_agg(json_build_object('time', time_ms, 'price', price, 'pnl', pnl) ORDER BY seq), '[]') FROM bot_trades WHERE bot_id = ${bot} AND kind = 'close'`));
  assert.ok(expected.length >= 3, `the model traded (${expected.length})`);
  assert.equal(closes.length, expected.length, 'as many closed trades');
  closes.forEach((c, i) => {
    assert.equal(c.time, expected[i].exit_time, `trade ${i} exit time`);
    assert.equal(c.price, expected[i].exit_price, `trade ${i} exit price, to the last bit`);
    assert.equal(c.pnl, expected[i].profit_abs, `trade ${i} pnl, to the last bit`);
  });
});

test('a model that is not the tenant\'s, or not trained, is refused where the strategy is configured', async () => {
  const t = await makeTrader(stack, 'ml-other');
  const o = await login(stack, { email: t.email });
  const other = { cookie: o.cookie, csrf: await sessionCsrf(stack, o.cookie) };
  const untrained = Number(await psql(stack, `INSERT INTO ml_models (tenant_id, user_id, name, version, kind, exchange, symbol, timeframe,
    from_ms, to_ms, options) VALUES (${tenant}, ${userId}, 'later', 1, 'logreg', 'demo', 'BTCUSDT', '1h', 0, 1, '{"kind":"logreg"}') RETURNING id`));
  const mine = Number(await psql(stack, `SELECT max(id) FROM ml_models WHERE tenant_id = ${tenant} AND model IS NOT NULL`));
  const counts = () => psql(stack, `SELECT (SELECT count(*) FROM bots) || '/' || (SELECT count(*) FROM backtests) || '/' || (SELECT count(*) FROM jobs)`);
  const before = await counts();
  const tries = [
    [other, '/api/v1/bots', { name: 'x', exchange: 'demo', symbol: 'BTCUSDT', timeframe: '1h', mode: 'paper', initial_balance: '1000', config: config(mine) }],
    [other, '/api/v1/backtests', { name: 'x', markets: ['demo:BTCUSDT:1h'], from: '2024-01-10', to: '2024-01-20', initial_balance: '1000', config: config(mine) }],
    [me, '/api/v1/bots', { name: 'x', exchange: 'demo', symbol: 'BTCUSDT', timeframe: '1h', mode: 'paper', initial_balance: '1000', config: config(untrained) }],
    [me, '/api/v1/backtests', { name: 'x', markets: ['demo:BTCUSDT:1h'], from: '2024-01-10', to: '2024-01-20', initial_balance: '1000', config: config(99999999) }],
  ];
  for (const [who, path, body] of tries) {
    const r = await apiPost(stack, who.cookie, who.csrf, path, body);
    assert.equal(r.res.status, 422, `${path}: ${r.text}`);
    assert.match(r.json.error.fields.config, /model_id/, r.text);
  }
  assert.equal(await counts(), before);
});
