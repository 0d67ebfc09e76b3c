// tests/integration/trading.test.mjs — backtests and bots on a real stack: a backtest queued as a job
// and its report; a paper bot fed candles over several ticks trades exactly what the backtest traded;
// bad input refused with nothing stored; tenant isolation; stop-all; the platform halt.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';
import { apiGet, apiPost, enrolTotp, login, makeTrader, psql, sessionCsrf, waitFor } from './lib.mjs';

let stack;
let me; // { cookie, csrf } of the demo trader

const CONFIG = {
  strategy: 'sma_cross',
  params: { fast: 5, slow: 20 },
  risk: { stop_loss_pct: 4, take_profit_pct: 6, trailing_stop_pct: 2, trailing_offset_pct: 1, stake_pct: 90 },
  costs: { fee_bps: 10, slippage_bps: 5 },
};

async function synth(symbol, count, seed) {
  await stack.botctl('candles', 'synth', '--exchange', 'demo', '--symbol', symbol, '--timeframe', '1h', '--from', '2024-01-01',
    '--count', String(count), '--seed', String(seed));
}

const getJson = (path, cookie = me.cookie) => apiGet(stack, cookie, `/api/v1${path}`);

async function runBacktest(body) {
  const r = await apiPost(stack, me.cookie, me.csrf, '/api/v1/backtests', body);
  assert.equal(r.res.status, 201, r.text);
  const id = r.json.id;
  const done = await waitFor(async () => {
    const g = await getJson(`/backtests/${id}`);
    const st = g.json?.backtest?.status;
    assert.ok(!['failed', 'dead', 'cancelled'].includes(st), `backtest ${st}: ${g.json?.backtest?.error}`);
    return st === 'done' ? g.json : null;
  }, { timeoutMs: 30_000, intervalMs: 200 });
  return { id, ...done };
}

/** Queues a bot_tick through botctl and waits until that job is done. */
async function tick(botId) {
  const { stdout } = await stack.botctl('job-enqueue', 'bot_tick', JSON.stringify({ bot_id: botId }));
  const job = Number(stdout.trim().split(/\s+/).pop());
  assert.ok(job > 0, stdout);
  await waitFor(async () => {
    const st = await psql(stack, `SELECT status FROM jobs WHERE id = ${job}`);
    assert.ok(!['failed', 'dead'].includes(st), `tick job ${st}`);
    return st === 'done';
  }, { timeoutMs: 20_000 });
}

before(async () => {
  stack = await startStack();
  await synth('BTCUSDT', 600, 7);
  await synth('ETHUSDT', 300, 8);
  const { cookie } = await login(stack);
  me = { cookie, csrf: await sessionCsrf(stack, cookie) };
});

after(async () => {
  await stack?.stop();
});

test('a backtest runs as a job; its report holds every metric, the trades and the curves', async () => {
  const bt = await runBacktest({ name: 'SMA 5/20', markets: ['demo:BTCUSDT:1h'], from: '2024-01-05', to: '2024-01-25',
    initial_balance: '10000', config: CONFIG });
  const s = bt.report.summary;
  for (const k of ['profit_abs', 'profit_pct', 'cagr_pct', 'sharpe', 'sortino', 'calmar', 'max_drawdown_abs', 'max_drawdown_pct',
    'profit_factor', 'expectancy', 'win_rate_pct', 'trades', 'avg_win_duration_ms', 'avg_loss_duration_ms', 'best_trade_pct',
    'worst_trade_pct', 'max_consecutive_wins', 'max_consecutive_losses', 'exposure_pct', 'market_change_pct']) {
    assert.ok(k in s, `summary.${k}`);
  }
  assert.ok(s.trades > 0, 'the strategy traded');
  assert.equal(bt.report.trades.length, s.trades);
  const sum = bt.report.trades.reduce((a, t) => a + t.profit_abs, 0);
  assert.ok(Math.abs(sum - s.profit_abs) < 1e-6, 'the trades add up to the profit');
  assert.ok(bt.report.equity_curve.time.length > 10);
  // the first trade cannot open before the start: the candles before it only warm the indicators
  assert.ok(bt.report.trades[0].entry_time >= Date.UTC(2024, 0, 5));
  // the page draws both curves and names the metrics
  const page = await stack.fetch(`/backtests/${bt.id}`, { headers: { cookie: me.cookie } });
  const html = await page.text();
  assert.equal(page.status, 200);
  assert.equal((html.match(/<svg/g) || []).length >= 2, true);
  assert.match(html, /Sharpe/);
  // one audit record for its creation
  assert.equal(await psql(stack, `SELECT count(*) FROM audit_log WHERE action = 'backtests.create' AND object_id = '${bt.id}'`), '1');
});

test('two backtests compare side by side', async () => {
  const a = await runBacktest({ name: 'A', markets: ['demo:BTCUSDT:1h'], from: '2024-01-05', to: '2024-01-20', initial_balance: '1000', config: CONFIG });
  const b = await runBacktest({ name: 'B', markets: ['demo:BTCUSDT:1h'], from: '2024-01-05', to: '2024-01-20', initial_balance: '1000',
    config: { ...CONFIG, params: { fast: 8, slow: 30 } } });
  const g = await getJson(`/backtests/compare?a=${a.id}&b=${b.id}`);
  assert.equal(g.res.status, 200, g.text);
  const row = g.json.rows.find((r) => r.key === 'profit_pct');
  assert.equal(row.value_a, a.report.summary.profit_pct);
  assert.equal(row.value_b, b.report.summary.profit_pct);
  const html = await (await stack.fetch(`/backtests/compare?id=${a.id}&id=${b.id}`, { headers: { cookie: me.cookie } })).text();
  assert.match(html, /<svg/);
  const bad = await getJson(`/backtests/compare?a=${a.id}&b=999999`);
  assert.equal(bad.res.status, 400);
});

test('bad backtest input gets 422 naming the field, and nothing is stored or queued', async () => {
  const before = await psql(stack, 'SELECT count(*) || \'/\' || (SELECT count(*) FROM jobs) FROM backtests');
  const base = { name: 'x', markets: ['demo:BTCUSDT:1h'], from: '2024-01-05', to: '2024-01-25', initial_balance: '1000', config: CONFIG };
  const cases = [
    [{ config: { ...CONFIG, params: { fast: 30, slow: 20 } } }, 'config'],
    [{ config: { strategy: 'martingale' } }, 'config'],
    [{ config: { ...CONFIG, risk: { stop_loss_pct: 150 } } }, 'config'],
    [{ config: { ...CONFIG, surprise: 1 } }, 'config'],
    [{ markets: ['demo:NOPE:1h'] }, 'market'],
    [{ markets: ['demo:BTCUSDT:1h', 'binance:BTCUSDT:1h'] }, 'market'],
    [{ markets: [] }, 'market'],
    [{ from: '2024-02-01', to: '2024-01-01' }, 'range'],
    [{ from: 'yesterday' }, 'range'],
    [{ initial_balance: '-5' }, 'initial_balance'],
    [{ initial_balance: 'NaN' }, 'initial_balance'],
    [{ name: 'n'.repeat(81) }, 'name'],
  ];
  for (const [patch, field] of cases) {
    const r = await apiPost(stack, me.cookie, me.csrf, '/api/v1/backtests', { ...base, ...patch });
    assert.equal(r.res.status, 422, `${JSON.stringify(patch)}: ${r.text}`);
    assert.ok(r.json.error.fields[field], `${JSON.stringify(patch)} names ${field}: ${r.text}`);
  }
  assert.equal(await psql(stack, 'SELECT count(*) || \'/\' || (SELECT count(*) FROM jobs) FROM backtests'), before);
});

test('a paper bot fed candles over several ticks makes exactly the backtest\'s trades', async () => {
  const create = await apiPost(stack, me.cookie, me.csrf, '/api/v1/bots', { name: 'ETH paper', exchange: 'demo', symbol: 'ETHUSDT',
    timeframe: '1h', mode: 'paper', initial_balance: '10000', config: CONFIG });
  assert.equal(create.res.status, 201, create.text);
  const bot = create.json.id;
  const start = await apiPost(stack, me.cookie, me.csrf, `/api/v1/bots/${bot}/start`, { start: '2024-01-05' });
  assert.equal(start.res.status, 200, start.text);
  // the start queued a first tick: it trades the 300 candles there are
  await waitFor(async () => (await psql(stack, `SELECT coalesce(last_candle_ms, 0) FROM bots WHERE id = ${bot}`)) !== '0', { timeoutMs: 20_000 });
  // more candles arrive (the same series, longer), and each batch is one more tick
  for (const count of [380, 450, 451, 600]) {
    await synth('ETHUSDT', count, 8);
    await tick(bot);
  }
  assert.equal(Number(await psql(stack, `SELECT last_candle_ms FROM bots WHERE id = ${bot}`)), Date.UTC(2024, 0, 1) + 599 * 3600_000);
  // a tick with nothing new changes nothing
  const eqBefore = await psql(stack, `SELECT equity || '/' || (SELECT count(*) FROM bot_trades WHERE bot_id = ${bot}) FROM bots WHERE id = ${bot}`);
  await tick(bot);
  assert.equal(await psql(stack, `SELECT equity || '/' || (SELECT count(*) FROM bot_trades WHERE bot_id = ${bot}) FROM bots WHERE id = ${bot}`), eqBefore);

  const bt = await runBacktest({ name: 'ETH same', markets: ['demo:ETHUSDT:1h'], from: '2024-01-05', to: '2024-01-26', initial_balance: '10000', config: CONFIG });
  const expected = bt.report.trades.filter((t) => t.exit_reason !== 'end_of_data');
  const closes = JSON.parse(await psql(stack, `SELECT coalesce(json_agg(json_build_object('time', time_ms, 'price', price, 'pnl', pnl, 'reason', reason) ORDER BY seq), '[]') FROM bot_trades WHERE bot_id = ${bot} AND kind = 'close'`));
  assert.ok(expected.length >= 3, `the backtest traded (${expected.length})`);
  assert.equal(closes.length, expected.length, 'as many closed trades');
  closes.forEach((c, i) => {
    assert.equal(c.time, expected[i].exit_time, `trade ${i} exit time`);
    assert.equal(c.price, expected[i].exit_price, `trade ${i} exit price, to the last bit`);
    assert.equal(c.pnl, expected[i].profit_abs, `trade ${i} pnl, to the last bit`);
    assert.equal(c.reason, expected[i].exit_reason, `trade ${i} reason`);
  });
  // the page shows the bot and its history
  const page = await stack.fetch(`/bots/${bot}`, { headers: { cookie: me.cookie } });
  assert.equal(page.status, 200);
  assert.match(await page.text(), /ETH paper/);
  // ticks that traded wrote audit records; the engine state is stored
  assert.ok(Number(await psql(stack, `SELECT count(*) FROM audit_log WHERE action = 'bots.trade' AND object_id = '${bot}'`)) >= 1);
  assert.ok(Number(await psql(stack, `SELECT octet_length(state) FROM bots WHERE id = ${bot}`)) > 100);
});

test('DCA adds and several grid trades of one symbol are stored and shown as open positions by trade', async () => {
  const cases = [
    ['dca', { strategy: 'dca', params: { interval: 12, max_buys: 6, safety_orders: 2, safety_step_pct: 1, take_profit_pct: 50 },
      risk: { stake_pct: 10 }, costs: { fee_bps: 10, slippage_bps: 5 } }, 'add'],
    ['grid', { strategy: 'grid', params: { levels: 8, spacing_pct: 0.5, reference: 0 }, risk: {}, costs: { fee_bps: 10, slippage_bps: 5 } }, 'open'],
  ];
  for (const [name, config, kind] of cases) {
    const c = await apiPost(stack, me.cookie, me.csrf, '/api/v1/bots', { name, exchange: 'demo', symbol: 'BTCUSDT', timeframe: '1h',
      initial_balance: '10000', config });
    assert.equal(c.res.status, 201, c.text);
    const bot = c.json.id;
    assert.equal((await apiPost(stack, me.cookie, me.csrf, `/api/v1/bots/${bot}/start`, { start: '2024-01-03' })).res.status, 200);
    await waitFor(async () => (await psql(stack, `SELECT coalesce(last_candle_ms, 0) FROM bots WHERE id = ${bot}`)) !== '0', { timeoutMs: 20_000 });
    assert.ok(Number(await psql(stack, `SELECT count(*) FROM bot_trades WHERE bot_id = ${bot} AND kind = '${kind}'`)) >= 2,
      `${name}: at least two '${kind}' rows`);
    // what is still open: every trade id with buys and no close, as the database sees it
    const stillOpen = await psql(stack, `SELECT count(*) FROM bot_trades b WHERE bot_id = ${bot} AND kind <> 'close'
      AND NOT EXISTS (SELECT 1 FROM bot_trades c WHERE c.bot_id = b.bot_id AND c.trade_id = b.trade_id AND c.kind = 'close')`);
    const page = await getJson(`/bots/${bot}`);
    assert.equal(page.res.status, 200, page.text);
    assert.equal(page.json.open_trades.length, Number(stillOpen), `${name}: open positions listed by trade`);
    if (name === 'grid') {
      const ids = new Set(page.json.open_trades.map((t) => t.trade_id));
      assert.equal(ids.size, page.json.open_trades.length, 'one open row per grid trade');
      assert.ok(Number(await psql(stack, `SELECT count(DISTINCT trade_id) FROM bot_trades WHERE bot_id = ${bot}`)) >= 2, 'several grid trades');
    }
  }
});

test('bad bot input gets 422 and stores nothing; live needs a plan and a validated key', async () => {
  const count = () => psql(stack, 'SELECT count(*) FROM bots');
  const before = await count();
  const base = { name: 'b', exchange: 'demo', symbol: 'BTCUSDT', timeframe: '1h', mode: 'paper', initial_balance: '100', config: CONFIG };
  const cases = [
    [{ name: '' }, 'name'],
    [{ symbol: 'DOGEUSDT' }, 'market'],
    [{ timeframe: '2h' }, 'market'],
    [{ mode: 'yolo' }, 'mode'],
    [{ initial_balance: '0' }, 'initial_balance'],
    [{ config: { ...CONFIG, params: { fast: 0 } } }, 'config'],
    [{ mode: 'live' }, 'credential_id'],
    [{ mode: 'live', credential_id: '1' }, 'credential_id'],
  ];
  for (const [patch, field] of cases) {
    const r = await apiPost(stack, me.cookie, me.csrf, '/api/v1/bots', { ...base, ...patch });
    assert.equal(r.res.status, 422, `${JSON.stringify(patch)}: ${r.text}`);
    assert.ok(r.json.error.fields[field], `${JSON.stringify(patch)} names ${field}: ${r.text}`);
  }
  // a free-plan trader may not trade live at all
  const free = await makeTrader(stack, 'free');
  const { cookie } = await login(stack, { email: free.email });
  const csrf = await sessionCsrf(stack, cookie);
  const r = await apiPost(stack, cookie, csrf, '/api/v1/bots', { ...base, mode: 'live' });
  assert.equal(r.res.status, 422);
  assert.ok(r.json.error.fields.live_plan, r.text);
  assert.equal(await count(), before);
});

test('another tenant cannot see, start, edit or delete a bot or a backtest', async () => {
  const b = await apiPost(stack, me.cookie, me.csrf, '/api/v1/bots', { name: 'mine', exchange: 'demo', symbol: 'BTCUSDT', timeframe: '1h',
    initial_balance: '100', config: CONFIG });
  assert.equal(b.res.status, 201);
  const bt = await psql(stack, `SELECT max(id) FROM backtests WHERE tenant_id = (SELECT tenant_id FROM users WHERE email = 'demo@botcriptofy.dev')`);
  const other = await makeTrader(stack, 'other');
  const { cookie } = await login(stack, { email: other.email });
  const csrf = await sessionCsrf(stack, cookie);
  assert.equal((await getJson(`/bots/${b.json.id}`, cookie)).res.status, 404);
  assert.equal((await getJson(`/backtests/${bt}`, cookie)).res.status, 404);
  for (const p of [`/api/v1/bots/${b.json.id}/start`, `/api/v1/bots/${b.json.id}/delete`, `/api/v1/bots/${b.json.id}`, `/api/v1/backtests/${bt}/delete`]) {
    const r = await apiPost(stack, cookie, csrf, p, { name: 'stolen', exchange: 'demo', symbol: 'BTCUSDT', timeframe: '1h', initial_balance: '1', config: CONFIG });
    assert.ok([404, 422].includes(r.res.status), `${p}: ${r.res.status}`);
  }
  assert.equal(await psql(stack, `SELECT name || '/' || status FROM bots WHERE id = ${b.json.id}`), 'mine/stopped');
  assert.equal(await psql(stack, `SELECT count(*) FROM backtests WHERE id = ${bt}`), '1');
  assert.equal((await getJson('/bots', cookie)).json.bots.length, 0);
});

test('stop-all stops every running bot of the tenant with one audit record', async () => {
  const ids = [];
  for (const n of ['s1', 's2']) {
    const r = await apiPost(stack, me.cookie, me.csrf, '/api/v1/bots', { name: n, exchange: 'demo', symbol: 'BTCUSDT', timeframe: '1h',
      initial_balance: '100', config: CONFIG });
    ids.push(r.json.id);
    assert.equal((await apiPost(stack, me.cookie, me.csrf, `/api/v1/bots/${r.json.id}/start`)).res.status, 200);
  }
  const audits = () => psql(stack, "SELECT count(*) FROM audit_log WHERE action = 'bots.stop_all'");
  const a0 = Number(await audits());
  const unconfirmed = await apiPost(stack, me.cookie, me.csrf, '/api/v1/bots/stop-all', {});
  assert.equal(unconfirmed.res.status, 422, 'an empty body stops nothing');
  assert.equal(await psql(stack, `SELECT count(*) FROM bots WHERE id IN (${ids}) AND status = 'running'`), '2');
  const r = await apiPost(stack, me.cookie, me.csrf, '/api/v1/bots/stop-all', { confirm: true });
  assert.equal(r.res.status, 200);
  assert.ok(r.json.stopped >= 2);
  assert.equal(await psql(stack, `SELECT count(*) FROM bots WHERE id IN (${ids}) AND status = 'running'`), '0');
  assert.equal(Number(await audits()), a0 + 1);
  // a tick of a stopped bot changes nothing
  const before = await psql(stack, `SELECT coalesce(last_candle_ms, 0) FROM bots WHERE id = ${ids[0]}`);
  await tick(ids[0]);
  assert.equal(await psql(stack, `SELECT coalesce(last_candle_ms, 0) FROM bots WHERE id = ${ids[0]}`), before);
});

test('the platform halt: only trading.halt holders; while halted no bot starts or trades', async () => {
  assert.equal((await apiPost(stack, me.cookie, me.csrf, '/api/v1/trading/halt', { reason: 'x' })).res.status, 403);
  let ceo = (await login(stack, { email: "ceo@botcriptofy.dev", password: "demo-company-2026" })).cookie;
  ceo = (await enrolTotp(stack, ceo)).cookie;
  const csrf = await sessionCsrf(stack, ceo);
  assert.equal((await apiPost(stack, ceo, csrf, '/api/v1/trading/halt', {})).res.status, 422, 'a reason is required');
  const h = await apiPost(stack, ceo, csrf, '/api/v1/trading/halt', { reason: 'exchange incident' });
  assert.equal(h.res.status, 200, h.text);
  assert.equal(await psql(stack, 'SELECT halted FROM trading_halt'), 't');
  const b = await apiPost(stack, me.cookie, me.csrf, '/api/v1/bots', { name: 'h', exchange: 'demo', symbol: 'BTCUSDT', timeframe: '1h',
    initial_balance: '100', config: CONFIG });
  const s = await apiPost(stack, me.cookie, me.csrf, `/api/v1/bots/${b.json.id}/start`);
  assert.equal(s.res.status, 409);
  assert.equal(await psql(stack, `SELECT status FROM bots WHERE id = ${b.json.id}`), 'stopped');
  // a running bot's tick is skipped while halted
  await psql(stack, `UPDATE bots SET status = 'running', start_ms = ${Date.UTC(2024, 0, 10)} WHERE id = ${b.json.id}`);
  await tick(b.json.id);
  assert.equal(await psql(stack, `SELECT count(*) FROM bot_trades WHERE bot_id = ${b.json.id}`), '0');
  assert.equal(await psql(stack, `SELECT last_candle_ms IS NULL FROM bots WHERE id = ${b.json.id}`), 't');
  assert.equal(await psql(stack, "SELECT count(*) FROM audit_log WHERE action = 'trading.halt'"), '1');
  // resuming asks for a fresh 2FA check (step-up): the enrolment counted as one
  const res = await apiPost(stack, ceo, csrf, '/api/v1/trading/resume');
  assert.equal(res.res.status, 200, res.text);
  assert.equal(await psql(stack, 'SELECT halted FROM trading_halt'), 'f');
  await psql(stack, `UPDATE bots SET status = 'stopped' WHERE id = ${b.json.id}`);
});
