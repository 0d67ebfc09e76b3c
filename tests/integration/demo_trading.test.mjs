// tests/integration/demo_trading.test.mjs — the trading data dev/up adds (dev/demo-trading.mjs):
// demo markets, finished backtests, a paper bot that has traded, a finished search and walk-forward,
// and a trained ML model with its predictions; a second run adds nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { run, startStack, REPO } from './harness.mjs';
import { psql, waitFor } from './lib.mjs';

let stack;

before(async () => {
  stack = await startStack();
});

after(async () => {
  await stack?.stop();
});

const demoTenant = "(SELECT tenant_id FROM users WHERE email = 'demo@botcriptofy.dev')";

test('dev/demo-trading makes demo markets, two finished backtests, a trading paper bot, a search, a walk-forward, an ML model and funded wallets, once', async () => {
  const script = path.join(REPO, 'dev', 'demo-trading.mjs');
  const first = await run(process.execPath, [script, stack.varDir]);
  assert.match(first.stdout, /demo trading data: 3 demo markets/);
  assert.equal(await psql(stack, "SELECT string_agg(symbol, ',' ORDER BY symbol) FROM markets WHERE exchange = 'demo'"), 'BTCUSDT,ETHUSDT,SOLUSDT');
  const hours = Math.floor((Date.now() - Date.UTC(2025, 0, 1)) / 3600_000);
  assert.equal(Number(await psql(stack, `SELECT candles FROM market_series s JOIN markets m ON m.id = s.market_id
    WHERE m.exchange = 'demo' AND m.symbol = 'BTCUSDT' AND s.timeframe = '1h'`)), hours);
  assert.equal(await psql(stack, `SELECT count(*) FROM backtests b JOIN jobs j ON j.id = b.job_id
    WHERE b.tenant_id = ${demoTenant} AND j.status = 'done'`), '2');
  const bot = await psql(stack, `SELECT id FROM bots WHERE tenant_id = ${demoTenant} AND mode = 'paper' AND status = 'running'`);
  assert.ok(Number(bot) > 0, 'a running paper bot');
  // its first tick trades the two months of history it was started on
  await waitFor(async () => Number(await psql(stack, `SELECT count(*) FROM bot_trades WHERE bot_id = ${bot} AND kind = 'close'`)) > 0,
    { timeoutMs: 30_000, intervalMs: 250 });
  // a finished grid search with its heatmap, and a finished walk-forward with its verdict
  assert.equal(await psql(stack, `SELECT count(*) FROM optimizations WHERE tenant_id = ${demoTenant} AND kind = 'search'
    AND finished_at IS NOT NULL AND results ? 'heatmap' AND jsonb_array_length(results->'top') > 0`), '1');
  assert.equal(await psql(stack, `SELECT count(*) FROM optimizations WHERE tenant_id = ${demoTenant} AND kind = 'walk_forward'
    AND finished_at IS NOT NULL AND results->'summary' ? 'verdict'`), '1');
  // a trained model with one finished prediction run of the last two months of BTC
  const model = `SELECT id FROM ml_models WHERE tenant_id = ${demoTenant}`;
  assert.equal(await psql(stack, `SELECT count(*) FROM ml_models WHERE tenant_id = ${demoTenant} AND report IS NOT NULL
    AND kind = 'logreg' AND symbol = 'BTCUSDT'`), '1');
  assert.equal(await psql(stack, `SELECT count(*) FROM ml_prediction_runs WHERE model_id = (${model}) AND predictions > 0`), '1');
  assert.ok(Number(await psql(stack, `SELECT count(*) FROM ml_predictions WHERE model_id = (${model})`)) >= 60 * 24);
  // the wallets: R$ 2.500,00 deposited, R$ 500,00 of it in the "Reserva" pocket, and 500 USDT
  const balances = `SELECT string_agg(a.currency || ':' || coalesce(p.name, a.code) || ':' || (a.credits_posted - a.debits_posted),
    ',' ORDER BY a.currency, a.code) FROM ledger_accounts a LEFT JOIN banco_pockets p ON p.account_id = a.id
    WHERE a.tenant_id = ${demoTenant} AND (a.code = 'wallet' OR p.id IS NOT NULL)`;
  const funded = await psql(stack, balances);
  assert.equal(funded.split(',').filter((b) => !b.includes(':Reserva:')).join(','), 'BRL:wallet:200000,BTC:wallet:0,USDT:wallet:500000000');
  assert.ok(funded.includes('BRL:Reserva:50000'), funded);
  await run(process.execPath, [script, stack.varDir]);
  assert.equal(await psql(stack, balances), funded, 'the second run moves no money');
  assert.equal(await psql(stack, `SELECT count(*) FROM bots WHERE tenant_id = ${demoTenant}`), '1', 'the second run adds no bot');
  assert.equal(await psql(stack, `SELECT count(*) FROM backtests WHERE tenant_id = ${demoTenant}`), '2', 'nor backtests');
  assert.equal(await psql(stack, `SELECT count(*) FROM ml_models WHERE tenant_id = ${demoTenant}`), '1', 'nor a model');
  assert.equal(await psql(stack, `SELECT count(*) FROM optimizations WHERE tenant_id = ${demoTenant}`), '2', 'nor searches');
  assert.equal(await psql(stack, `SELECT count(*) FROM ml_prediction_runs WHERE tenant_id = ${demoTenant}`), '1', 'nor predictions');
});
