#!/usr/bin/env node
// dev/demo-trading.mjs — demo trading data for dev/up: synthetic hourly markets, two finished
// backtests, a running paper bot, a finished parameter search and walk-forward, a trained ML
// model with a prediction run, and money in the wallets with a pocket, all of the demo trader and
// made through the portal's own API (the deposits through botctl ledger, as staff would confirm them).
// Usage: node dev/demo-trading.mjs VAR_DIR   (idempotent: the demo trader's bots, backtests and model are made once)
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { apiPost, login, sessionCsrf, waitFor } from '../tests/integration/lib.mjs';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const varDir = path.resolve(process.argv[2] ?? path.join(ROOT, 'var'));
const env = Object.fromEntries(readFileSync(path.join(varDir, 'stack.env'), 'utf8').split('\n')
  .filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
const stack = { fetch: (p, opts = {}) => fetch(new URL(p, env.BCF_BASE_URL), { redirect: 'manual', ...opts }) };
const botctl = (...args) => run(path.join(ROOT, 'cli', 'botctl'), ['-c', env.BCF_CONFIG, ...args]);

const HOUR = 3600_000;
const FROM = Date.UTC(2025, 0, 1);
// The same seed and start give the same candles however many there are, so a later run only
// appends the hours that closed since: the series stays one continuous market.
const MARKETS = [['BTCUSDT', 42], ['ETHUSDT', 43], ['SOLUSDT', 44]];
const SMA = {
  strategy: 'sma_cross', params: { fast: 12, slow: 48 },
  risk: { stop_loss_pct: 5, take_profit_pct: 12, trailing_stop_pct: 3, trailing_offset_pct: 2, stake_pct: 95 },
  costs: { fee_bps: 10, slippage_bps: 5 },
};
const RSI = {
  strategy: 'rsi_reversion', params: { period: 14, oversold: 30, overbought: 70 },
  risk: { stop_loss_pct: 6, stake_pct: 95 }, costs: { fee_bps: 10, slippage_bps: 5 },
};
const day = (ms) => new Date(ms).toISOString().slice(0, 10);
const MODEL = 'BTC direction (demo)';

async function main() {
  const count = Math.floor((Date.now() - FROM) / HOUR); // the hours that have closed
  for (const [symbol, seed] of MARKETS) {
    await botctl('candles', 'synth', '--exchange', 'demo', '--symbol', symbol, '--timeframe', '1h',
      '--from', day(FROM), '--count', String(count), '--seed', String(seed));
  }
  const { cookie } = await login(stack);
  const csrf = await sessionCsrf(stack, cookie);
  const get = async (p) => (await stack.fetch(`/api/v1${p}`, { headers: { cookie } })).json();

  if (!(await get('/backtests')).backtests?.length) {
    const to = FROM + count * HOUR;
    for (const [name, config] of [['SMA 12/48 — BTC', SMA], ['RSI 14 — BTC', RSI]]) {
      const r = await apiPost(stack, cookie, csrf, '/api/v1/backtests', {
        name, markets: ['demo:BTCUSDT:1h'], from: day(to - 180 * 24 * HOUR), to: day(to), initial_balance: '10000', config,
      });
      if (r.res.status !== 201) throw new Error(`backtest ${name}: ${r.res.status} ${r.text}`);
      await waitFor(async () => (await get(`/backtests/${r.json.id}`)).backtest?.status === 'done',
        { timeoutMs: 120_000, intervalMs: 500 });
    }
  }
  if (!(await get('/bots')).bots?.length) {
    const r = await apiPost(stack, cookie, csrf, '/api/v1/bots', {
      name: 'ETH SMA 12/48 (paper)', exchange: 'demo', symbol: 'ETHUSDT', timeframe: '1h', mode: 'paper',
      initial_balance: '10000', config: SMA,
    });
    if (r.res.status !== 201) throw new Error(`bot: ${r.res.status} ${r.text}`);
    const s = await apiPost(stack, cookie, csrf, `/api/v1/bots/${r.json.id}/start`, { start: day(Date.now() - 60 * 24 * HOUR) });
    if (s.res.status !== 200) throw new Error(`bot start: ${s.res.status} ${s.text}`);
  }
  await demoSearches(get, cookie, csrf, FROM + count * HOUR);
  await demoModel(get, cookie, csrf, FROM + count * HOUR);
  await demoBanco(get, cookie, csrf);
  console.log(`demo trading data: ${MARKETS.length} demo markets (1h, ${count} candles), backtests, a paper bot, a search, a walk-forward, an ML model and funded wallets ready`);
}

/** A grid search of the SMA crossover's two periods on BTC's last 180 days (a heatmap), and a
 * walk-forward of the same search in 30-day in-sample and 10-day out-of-sample windows. Once. */
async function demoSearches(get, cookie, csrf, to) {
  const search = { method: 'grid', objective: 'sharpe', constraints: { min_trades: 3 },
    space: { fast: { min: 4, max: 28, step: 4 }, slow: { min: 36, max: 120, step: 12 } } };
  const base = { market: 'demo:BTCUSDT:1h', from: day(to - 180 * 24 * HOUR), to: day(to), initial_balance: '10000', config: SMA };
  for (const [route, name, spec] of [
    ['/optimizations', 'SMA periods — BTC (demo)', search],
    ['/walk-forward', 'SMA walk-forward — BTC (demo)', { optimization: search, in_sample: 720, out_of_sample: 240 }],
  ]) {
    let id = (await get(route)).optimizations?.find((o) => o.name === name)?.id;
    if (!id) {
      const r = await apiPost(stack, cookie, csrf, `/api/v1${route}`, { ...base, name, spec });
      if (r.res.status !== 201) throw new Error(`${route}: ${r.res.status} ${r.text}`);
      id = r.json.id;
    }
    await waitFor(async () => {
      const o = (await get(`${route}/${id}`)).optimization;
      if (['failed', 'dead', 'cancelled'].includes(o?.status)) throw new Error(`${route}: ${o.status} ${o.error}`);
      return o?.status === 'done';
    }, { timeoutMs: 120_000, intervalMs: 500 });
  }
}

/** A small logistic regression trained on BTC's last 180 days, and its predictions of the last 60
 * (what an ml_signal backtest trades on). Made once; a run stopped between the two finishes it. */
async function demoModel(get, cookie, csrf, to) {
  const wait = (id, done) => waitFor(async () => {
    const m = await get(`/models/${id}`);
    if (['failed', 'dead', 'cancelled'].includes(m.model?.status)) throw new Error(`model: ${m.model.status} ${m.model.error}`);
    return done(m);
  }, { timeoutMs: 120_000, intervalMs: 500 });
  let id = (await get('/models')).models?.find((m) => m.name === MODEL)?.id;
  if (!id) {
    const r = await apiPost(stack, cookie, csrf, '/api/v1/models', {
      name: MODEL, market: 'demo:BTCUSDT:1h', from: day(to - 180 * 24 * HOUR), to: day(to),
      options: { kind: 'logreg', hyperparameters: { epochs: 20 } },
    });
    if (r.res.status !== 201) throw new Error(`model: ${r.res.status} ${r.text}`);
    id = r.json.id;
  }
  const trained = await wait(id, (m) => m.model?.status === 'done' && m);
  if (!trained.prediction_runs.length) {
    const p = await apiPost(stack, cookie, csrf, `/api/v1/models/${id}/predict`, {
      market: 'demo:BTCUSDT:1h', from: day(to - 60 * 24 * HOUR), to: day(to + 24 * HOUR),
    });
    if (p.res.status !== 201) throw new Error(`prediction: ${p.res.status} ${p.text}`);
  }
  await wait(id, (m) => m.prediction_runs.some((run) => run.status === 'done'));
}

/** The demo trader's wallets: R$ 2.500,00 and 500 USDT deposited (ledger transfers from the tenant's
 * external account, what a confirmed deposit makes), and a "Reserva" pocket holding R$ 500,00. Fixed
 * idempotency keys: a second run changes nothing. */
async function demoBanco(get, cookie, csrf) {
  const psql = async (sql) => (await run(path.join(env.BCF_PG_BIN, 'psql'), ['-X', '-q', '-t', '-A', '-h',
    path.join(varDir, 'run'), '-p', env.BCF_PG_PORT, '-U', 'botcriptofy', '-d', 'botcriptofy', '-c', sql])).stdout.trim();
  const tenant = await psql("SELECT tenant_id FROM users WHERE email = 'demo@botcriptofy.dev'");
  for (const [cur, minor] of [['BRL', '250000'], ['USDT', '500000000']]) {
    const external = (await botctl('ledger', 'open', tenant, cur, 'external', '--allow-negative')).stdout.trim();
    const wallet = (await botctl('ledger', 'open', tenant, cur, 'wallet')).stdout.trim();
    await botctl('ledger', 'transfer', tenant, `demo-deposit-${cur}`, external, wallet, minor, '--code', 'deposit');
  }
  let pocket = (await get('/banco')).accounts?.find((a) => a.kind === 'pocket' && a.name === 'Reserva');
  if (!pocket) {
    const r = await apiPost(stack, cookie, csrf, '/api/v1/banco/caixinhas', { name: 'Reserva', currency: 'BRL' });
    if (r.res.status !== 201) throw new Error(`pocket: ${r.res.status} ${r.text}`);
    pocket = (await get('/banco')).accounts.find((a) => a.kind === 'pocket' && a.name === 'Reserva');
  }
  const wallet = (await get('/banco')).accounts.find((a) => a.kind === 'wallet' && a.currency === 'BRL');
  const t = await apiPost(stack, cookie, csrf, '/api/v1/banco/transferencias',
    { from: String(wallet.id), to: String(pocket.id), amount_minor: '50000', key: 'demo-reserva' });
  if (t.res.status !== 200 && t.res.status !== 201) throw new Error(`pocket transfer: ${t.res.status} ${t.text}`);
}

main().catch((e) => {
  console.error(`dev/demo-trading: ${e.message}`);
  process.exit(1);
});
