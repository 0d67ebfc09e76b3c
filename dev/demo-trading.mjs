#!/usr/bin/env node
// dev/demo-trading.mjs — demo trading data for dev/up: synthetic hourly markets, two finished
// backtests and a running paper bot of the demo trader, made through the portal's own API.
// Usage: node dev/demo-trading.mjs VAR_DIR   (idempotent: the demo trader's bots and backtests are made once)
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
  console.log(`demo trading data: ${MARKETS.length} demo markets (1h, ${count} candles), backtests and a paper bot ready`);
}

main().catch((e) => {
  console.error(`dev/demo-trading: ${e.message}`);
  process.exit(1);
});
