// tests/integration/live_bot.test.mjs — a live bot trading through the Binance adapter against fake_binance.mjs:
// its orders signed and sent after each tick, their fills recorded beside the engine's trades, sends that fail retried without buying twice, stop cancelling its open orders, and the refusals.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiPost, enrolTotp, login, makeTrader, psql, sessionCsrf, waitFor } from './lib.mjs';
import { startStack } from './harness.mjs';
import { fakeKline, startFakeBinance } from './fake_binance.mjs';

const KEY = 'BNKEYLIVEBOT4c6e8a0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a';
const SECRET = 'BNSECRETLIVEBOT9b7d5f3a1c9e7b5d3f1a9c7e5b3d1f9a7c5e';
const READ_KEY = 'BNKEYLIVEREAD2e4a6c8b0d2f4e6a8c0b2d4f6e8a0c2b4d6f';
const READ_SECRET = 'BNSECRETLIVEREAD7a5c3e1b9d7f5a3c1e9b7d5f3a1c9e7b5d';
const LOST_KEY = 'BNKEYLIVELOST1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e';
const LOST_SECRET = 'BNSECRETLIVELOST8c6a4e2d0b8f6c4a2e0d8b6f4c2a0e8d6b';

const H = 3_600_000;
const STEP = 0.00001; // fake_binance's BTCUSDT lot step
const SLIP = 5 / 10000;
// no stops: the SMA pair alone decides, so the trades fall where the fake's saw-tooth crosses it
const CONFIG = { strategy: 'sma_cross', params: { fast: 5, slow: 20 }, risk: { stake_pct: 50 }, costs: { fee_bps: 10, slippage_bps: 5 } };

// fakeKline's closes rise by 10 per hour and fall back every 100 hours. On candle index C + 18 after a
// fall at C (C % 100 = 0) SMA 5 rises above SMA 20 (a buy); on the next fall, C + 100, it drops below (a sell).
// C: the latest fall with two whole cycles after it already in the past.
const C = Math.floor((Math.floor(Date.now() / H) - 205) / 100) * 100;
const at = (k) => k * H;
const iso = (k) => new Date(at(k)).toISOString();
const open = (k) => fakeKline(at(k), H).open;

let fake;
let stack;
const A = {}; // the demo trader (plan pro), 2FA enrolled and stepped up: cookie, csrf, credId, bot

before(async () => {
  fake = await startFakeBinance({ keys: { [KEY]: { secret: SECRET }, [READ_KEY]: { secret: READ_SECRET, canTrade: false } } });
  stack = await startStack({
    config: {
      'exchange.binance.base_url': fake.url,
      'http.client.binance.backoff_base_ms': '20',
      'http.client.binance.backoff_max_ms': '50',
      'http.client.binance.breaker_failures': '20',
      // a failed tick is retried after 0.75..1.5 s: long enough to look at what it left
      'queue.backoff_base_ms': '1500',
      // the test ticks the bots itself, one chosen candle at a time
      'bots.schedule_poll_ms': '86400000',
    },
  });
  const l = await login(stack);
  const en = await enrolTotp(stack, l.cookie);
  Object.assign(A, { cookie: en.cookie, csrf: await sessionCsrf(stack, en.cookie) });
});

after(async () => {
  await stack?.stop();
  await fake?.close();
});

const post = (p, body) => apiPost(stack, A.cookie, A.csrf, p, body);
const json = async (sql) => JSON.parse(await psql(stack, sql));

/** The fake's market has closed candle k (and trades at the open of k + 1). */
const marketAt = (k) => fake.setMarketTime(at(k + 1));

async function addKey(label, apiKey, apiSecret, extra = {}) {
  const r = await post('/api/v1/credentials', { exchange: 'binance', label, api_key: apiKey, api_secret: apiSecret, ...extra });
  assert.equal(r.res.status, 201, r.text.slice(0, 300));
  return r.json.credentials.find((c) => c.label === label);
}

async function enqueueTick(bot) {
  const { stdout } = await stack.botctl('job-enqueue', 'bot_tick', JSON.stringify({ bot_id: bot }));
  const job = Number(stdout.trim().split(/\s+/).pop());
  assert.ok(job > 0, stdout);
  return job;
}

async function jobDone(job) {
  await waitFor(async () => {
    const st = await psql(stack, `SELECT status FROM jobs WHERE id = ${job}`);
    assert.ok(!['failed', 'dead', 'cancelled'].includes(st), `job ${job} ${st}: ${await psql(stack, `SELECT error FROM jobs WHERE id = ${job}`)}`);
    return st === 'done';
  }, { timeoutMs: 20_000, intervalMs: 50 });
  return json(`SELECT json_build_object('attempts', attempts, 'result', result) FROM jobs WHERE id = ${job}`);
}

/** Steps the market to candle k and runs one tick of the bot to the end. */
async function tickAt(bot, k) {
  marketAt(k);
  return jobDone(await enqueueTick(bot));
}

const orders = (bot) => json(`SELECT coalesce(json_agg(json_build_object('cid', client_order_id, 'side', side, 'qty', qty,
  'status', status, 'order_id', exchange_order_id, 'fill_price', fill_price, 'error', error) ORDER BY id), '[]') FROM bot_orders WHERE bot_id = ${bot}`);
const trades = (bot) => json(`SELECT coalesce(json_agg(json_build_object('seq', seq, 'kind', kind, 'time', time_ms, 'price', price,
  'qty', qty, 'pnl', pnl, 'reason', reason) ORDER BY seq), '[]') FROM bot_trades WHERE bot_id = ${bot}`);
/** The order requests the fake received for a client order id (or every one the bot's prefix names). */
const posts = (cid) => fake.requests.filter((q) => q.path === '/api/v3/order' && q.method === 'POST' &&
  (cid.endsWith('-') ? q.params.newClientOrderId?.startsWith(cid) : q.params.newClientOrderId === cid));
const onExchange = (cid) => fake.orders.filter((o) => o.clientOrderId === cid);
const near = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.abs(b), `${what}: ${a} vs ${b}`);

function assertSigned(q) {
  assert.equal(q.apiKey, KEY);
  assert.match(q.params.signature, /^[0-9a-f]{64}$/);
  assert.ok(Number(q.params.timestamp) > 0 && Number(q.params.recvWindow) > 0, 'timestamp and recvWindow');
}

/** The order a tick sent is the fill of the next trade event: seq N's order fills as trade N + 1. */
function assertFillMatchesTrade(order, trade, candle) {
  assert.equal(trade.kind, order.side === 'BUY' ? 'open' : 'close', `${order.cid} is trade ${trade.seq}`);
  assert.equal(trade.time, at(candle), `${order.cid} filled in the candle the engine filled it`);
  near(order.fill_price, open(candle), `${order.cid}: the exchange price`);
  near(trade.price, open(candle) * (order.side === 'BUY' ? 1 + SLIP : 1 - SLIP), `${order.cid}: the engine's price, slippage included`);
}

test('a live bot sends its orders to Binance after the tick and records their fills beside the engine\'s trades', async () => {
  // the market as a trader finds it: candles synced from the exchange up to C + 9
  marketAt(C + 9);
  await stack.botctl('candles', 'sync', '--exchange', 'binance', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--from', iso(C - 100));
  const cred = await addKey('Live key', KEY, SECRET);
  assert.equal(cred.validated, true);
  A.credId = cred.id;
  const create = await post('/api/v1/bots', { name: 'BTC live', exchange: 'binance', symbol: 'BTCUSDT', timeframe: '1h', mode: 'live',
    credential_id: String(cred.id), initial_balance: '1000', config: CONFIG });
  assert.equal(create.res.status, 201, create.text);
  const bot = create.json.id;
  A.bot = bot;
  // as if first started at C + 10 and stopped before its first tick: the fake's market lies in the past
  await psql(stack, `UPDATE bots SET start_ms = ${at(C + 10)} WHERE id = ${bot}`);
  marketAt(C + 18);
  fake.requests.length = 0;
  const start = await post(`/api/v1/bots/${bot}/start`);
  assert.equal(start.res.status, 200, start.text);
  // the start's own tick: candles C + 10 .. C + 18 fetched from the exchange and fed; the buy decided on the last
  const startJob = Number(await psql(stack, `SELECT max(id) FROM jobs WHERE type = 'bot_tick' AND params->>'bot_id' = '${bot}'`));
  const first = await jobDone(startJob);
  assert.equal(first.result.candles, 9);
  assert.ok(fake.count('/api/v3/klines') >= 1, 'the tick fetched the new candles from the exchange');

  let o = await orders(bot);
  assert.equal(o.length, 1);
  const buy = o[0];
  assert.equal(buy.cid, `bcf${bot}-0-b`);
  assert.equal(buy.side, 'BUY');
  assert.equal(buy.status, 'FILLED');
  assert.equal(buy.qty, '500.00000000', 'half the equity (stake_pct 50), in quote');
  // one signed market order, spending quote; looked up by its client id first
  const [p] = posts(buy.cid);
  assert.equal(posts(`bcf${bot}-`).length, 1);
  assertSigned(p);
  assert.equal(p.params.symbol, 'BTCUSDT');
  assert.equal(p.params.side, 'BUY');
  assert.equal(p.params.type, 'MARKET');
  assert.equal(p.params.quoteOrderQty, buy.qty);
  assert.equal(p.params.quantity, undefined);
  assert.equal(p.status, 200);
  const lookup = fake.requests.find((q) => q.method === 'GET' && q.path === '/api/v3/order');
  assert.equal(lookup.params.origClientOrderId, buy.cid);
  assert.equal(lookup.code, -2013);
  assert.ok(fake.requests.indexOf(lookup) < fake.requests.indexOf(p), 'looked up before it was sent');
  const [ex] = onExchange(buy.cid);
  assert.equal(buy.order_id, String(ex.orderId));
  assert.equal(ex.status, 'FILLED');
  // the engine fills its buy at the next candle's open: no trade yet
  assert.equal((await trades(bot)).length, 0);

  // the next candle: the engine opens the trade the exchange already filled; no order
  const mark = fake.requests.length;
  await tickAt(bot, C + 19);
  const klines = fake.requests.slice(mark).filter((q) => q.path === '/api/v3/klines');
  assert.equal(klines[0].params.startTime, String(at(C + 19)), 'only the candles after the stored ones were asked for');
  let t = await trades(bot);
  assert.equal(t.length, 1);
  assertFillMatchesTrade(buy, t[0], C + 19);
  assert.equal((await orders(bot)).length, 1);

  // the fall at C + 100: a sell of everything the engine holds, the quantity fitted to the lot step
  await tickAt(bot, C + 100);
  o = await orders(bot);
  assert.equal(o.length, 2);
  const sell = o[1];
  assert.equal(sell.cid, `bcf${bot}-1-s`);
  assert.equal(sell.side, 'SELL');
  assert.equal(sell.status, 'FILLED');
  assert.equal(Number(sell.qty), t[0].qty, 'the engine\'s quantity');
  const [ps] = posts(sell.cid);
  assertSigned(ps);
  assert.equal(ps.params.type, 'MARKET');
  assert.equal(ps.params.quoteOrderQty, undefined);
  assert.match(ps.params.quantity, /^\d+\.\d{5}$/, 'a multiple of the step 0.00001');
  const fitted = Number(ps.params.quantity);
  assert.ok(fitted <= t[0].qty && t[0].qty - fitted < STEP, `${ps.params.quantity} is ${sell.qty} rounded down`);
  assert.equal(onExchange(sell.cid)[0].executedQty, `${ps.params.quantity}000`);
  await tickAt(bot, C + 101);
  t = await trades(bot);
  assert.equal(t.length, 2);
  assertFillMatchesTrade(sell, t[1], C + 101);
  assert.equal(t[1].reason, 'signal');
  assert.deepEqual(posts(`bcf${bot}-`).map((q) => q.params.newClientOrderId), [buy.cid, sell.cid], 'nothing else was sent');

  // a backtest of the same candles makes the very same trade
  const bt = await post('/api/v1/backtests', { name: 'live twin', markets: ['binance:BTCUSDT:1h'], from: iso(C + 10), to: iso(C + 102),
    initial_balance: '1000', config: CONFIG });
  assert.equal(bt.res.status, 201, bt.text);
  const report = await waitFor(async () => {
    const r = await stack.fetch(`/api/v1/backtests/${bt.json.id}`, { headers: { cookie: A.cookie } });
    const g = await r.json();
    assert.ok(!['failed', 'dead'].includes(g.backtest.status), g.backtest.error);
    return g.backtest.status === 'done' ? g.report : null;
  }, { timeoutMs: 20_000 });
  assert.equal(report.trades.length, 1);
  const [rt] = report.trades;
  assert.equal(rt.entry_time, t[0].time);
  assert.equal(rt.entry_price, t[0].price);
  assert.equal(rt.exit_time, t[1].time);
  assert.equal(rt.exit_price, t[1].price);
  assert.equal(rt.profit_abs, t[1].pnl);
});

test('a send that fails stays new, the tick is retried, and the retry never places the order twice', async () => {
  const bot = A.bot;
  // (1) the exchange fails every try of the buy: nothing placed, the job retried later
  fake.fail(3, { status: 503, path: '/api/v3/order', method: 'POST' });
  marketAt(C + 118);
  let job = await enqueueTick(bot);
  const cid = `bcf${bot}-2-b`;
  await waitFor(async () => (await psql(stack, `SELECT attempts || status FROM jobs WHERE id = ${job}`)) === '1queued', { intervalMs: 20 });
  assert.match(await psql(stack, `SELECT error FROM jobs WHERE id = ${job}`), /^exchange: Binance: Internal error.*HTTP 503/);
  let [o] = (await orders(bot)).filter((x) => x.cid === cid);
  assert.equal(o.status, 'new');
  assert.deepEqual(posts(cid).map((q) => q.status), [503, 503, 503]);
  assert.equal(onExchange(cid).length, 0);
  // the retry: its tick finds no new candle, yet sends the order left over, once
  let done = await jobDone(job);
  assert.equal(done.attempts, 2);
  assert.equal(done.result.candles, 0);
  [o] = (await orders(bot)).filter((x) => x.cid === cid);
  assert.equal(o.status, 'FILLED');
  assert.deepEqual(posts(cid).map((q) => q.status), [503, 503, 503, 200]);
  assert.equal(onExchange(cid).length, 1);
  await tickAt(bot, C + 119);
  assertFillMatchesTrade(o, (await trades(bot))[2], C + 119);

  // (2) the sell is carried out but its answer is lost, and so are the look-ups that would tell:
  // the order stays new; the retry finds it filled on the exchange by its client id and sends nothing
  const sellCid = `bcf${bot}-3-s`;
  fake.fail(1, { status: 503, path: '/api/v3/order', method: 'POST', process: true });
  fake.fail(3, { status: 503, path: '/api/v3/order', method: 'GET', skip: 1 });
  marketAt(C + 200);
  job = await enqueueTick(bot);
  await waitFor(async () => (await psql(stack, `SELECT attempts || status FROM jobs WHERE id = ${job}`)) === '1queued', { intervalMs: 20 });
  assert.match(await psql(stack, `SELECT error FROM jobs WHERE id = ${job}`), /outcome unknown/);
  [o] = (await orders(bot)).filter((x) => x.cid === sellCid);
  assert.equal(o.status, 'new');
  assert.equal(onExchange(sellCid).length, 1, 'the exchange did fill it');
  done = await jobDone(job);
  assert.equal(done.attempts, 2);
  [o] = (await orders(bot)).filter((x) => x.cid === sellCid);
  assert.equal(o.status, 'FILLED');
  assert.equal(o.order_id, String(onExchange(sellCid)[0].orderId));
  assert.equal(posts(sellCid).length, 1, 'sent once');
  assert.equal(onExchange(sellCid).length, 1, 'placed once');
  await tickAt(bot, C + 201);

  // four orders, four trades, each order the fill of the trade after it
  const all = await orders(bot);
  const t = await trades(bot);
  assert.deepEqual(all.map((x) => `${x.cid} ${x.status}`), [0, 1, 2, 3].map((n) => `bcf${bot}-${n}-${n % 2 ? 's' : 'b'} FILLED`));
  assert.deepEqual(t.map((x) => `${x.seq} ${x.kind}`), ['1 open', '2 close', '3 open', '4 close']);
  assertFillMatchesTrade(all[3], t[3], C + 201);
  assert.equal(fake.orders.filter((x) => x.clientOrderId.startsWith(`bcf${bot}-`)).length, 4, 'four orders on the exchange');
});

test('stopping a live bot cancels its open orders on the exchange, and only its own', async () => {
  const bot = A.bot;
  // open limit orders on the account: one under the bot's client ids, one of a bot whose id starts alike, one of the trader's own
  const mine = `bcf${bot}-77-b`;
  const others = [`bcf${bot}7-1-b`, 'manual-1'];
  for (const cid of [mine, ...others]) {
    await stack.botctl('exchange', '--credential', String(A.credId), 'order', 'BTCUSDT', 'BUY', 'LIMIT', '0.001', '30000', '--client-id', cid);
  }
  assert.deepEqual([mine, ...others].map((c) => onExchange(c)[0]?.status), ['NEW', 'NEW', 'NEW']);
  fake.requests.length = 0;
  const stop = await post(`/api/v1/bots/${bot}/stop`);
  assert.equal(stop.res.status, 200, stop.text);
  assert.equal(await psql(stack, `SELECT status FROM bots WHERE id = ${bot}`), 'stopped');
  const job = Number(await psql(stack, `SELECT max(id) FROM jobs WHERE type = 'bot_cancel_orders' AND params->>'bot_id' = '${bot}'`));
  assert.ok(job > 0, 'a cancel job was queued');
  await jobDone(job);
  const open = fake.requests.filter((q) => q.path === '/api/v3/openOrders');
  assert.equal(open.length, 1);
  assert.equal(open[0].params.symbol, 'BTCUSDT');
  const cancels = fake.requests.filter((q) => q.method === 'DELETE' && q.path === '/api/v3/order');
  assert.equal(cancels.length, 1);
  assertSigned(cancels[0]);
  assert.equal(cancels[0].params.orderId, String(onExchange(mine)[0].orderId));
  assert.deepEqual([mine, ...others].map((c) => onExchange(c)[0].status), ['CANCELED', 'NEW', 'NEW']);
  // a stopped bot's tick sends nothing, even with a new candle
  const r = await tickAt(bot, C + 202);
  assert.equal(r.result.skipped, 'stopped');
  assert.equal(fake.requests.filter((q) => q.method === 'POST').length, 0);
});

test('live bots: a read-only, unvalidated or foreign key is refused with nothing stored; a live start trades from now', async () => {
  const count = () => psql(stack, "SELECT (SELECT count(*) FROM bots) || '/' || (SELECT count(*) FROM jobs)");
  const ro = await addKey('Read only', READ_KEY, READ_SECRET, { permissions: 'read' });
  assert.equal(ro.validated, true);
  // a key validated once, then refused by the exchange on a later check
  fake.addKey(LOST_KEY, { secret: LOST_SECRET });
  const lost = await addKey('Lost', LOST_KEY, LOST_SECRET);
  fake.addKey(LOST_KEY, { secret: LOST_SECRET, canTrade: false });
  const rv = await post(`/api/v1/credentials/${lost.id}/revalidate`);
  assert.equal(rv.json.credentials.find((c) => c.id === lost.id).validated, false, rv.text);
  const base = { name: 'refused', exchange: 'binance', symbol: 'BTCUSDT', timeframe: '1h', mode: 'live', initial_balance: '100', config: CONFIG };
  const before = await count();
  for (const id of [ro.id, lost.id]) {
    const r = await post('/api/v1/bots', { ...base, credential_id: String(id) });
    assert.equal(r.res.status, 422, r.text);
    assert.match(r.json.error.fields.credential_id, /validad|validated/, 'the message, not its key');
  }
  // a trader of another tenant, even on a plan with live trading, cannot name this tenant's key
  const other = await makeTrader(stack, 'livebot');
  await psql(stack, `UPDATE tenants SET plan = 'pro' WHERE id = ${other.tenantId}`);
  const { cookie } = await login(stack, { email: other.email });
  const r = await apiPost(stack, cookie, await sessionCsrf(stack, cookie), '/api/v1/bots', { ...base, credential_id: String(A.credId) });
  assert.equal(r.res.status, 422, r.text);
  assert.ok(r.json.error.fields.credential_id, r.text);
  assert.equal(await count(), before, 'no bot stored, no job queued');

  // a live bot asked to start in the past starts with the candle now forming: it never replays history
  const b = await post('/api/v1/bots', { ...base, name: 'from now', credential_id: String(A.credId) });
  assert.equal(b.res.status, 201, b.text);
  const hour = () => Math.floor(Date.now() / H) * H;
  const h0 = hour();
  const s = await post(`/api/v1/bots/${b.json.id}/start`, { start: iso(C) });
  assert.equal(s.res.status, 200, s.text);
  assert.ok([h0, hour()].includes(Number(await psql(stack, `SELECT start_ms FROM bots WHERE id = ${b.json.id}`))), 'the current hour');
  assert.equal((await post(`/api/v1/bots/${b.json.id}/stop`)).res.status, 200);
});

test('a live bot that missed candles catches up one candle at a time: every decision reaches the exchange', async () => {
  // a second bot, as if its worker had been down since C + 10: one tick meets every candle stored
  // since (up to C + 201, from the ticks above), with two buys (C + 18, C + 118) and two sells
  // (C + 100, C + 200) among them
  const create = await post('/api/v1/bots', { name: 'BTC catch-up', exchange: 'binance', symbol: 'BTCUSDT', timeframe: '1h', mode: 'live',
    credential_id: String(A.credId), initial_balance: '1000', config: CONFIG });
  assert.equal(create.res.status, 201, create.text);
  const bot = create.json.id;
  await psql(stack, `UPDATE bots SET start_ms = ${at(C + 10)} WHERE id = ${bot}`);
  marketAt(C + 202);
  fake.requests.length = 0;
  assert.equal((await post(`/api/v1/bots/${bot}/start`)).res.status, 200);
  const job = Number(await psql(stack, `SELECT max(id) FROM jobs WHERE type = 'bot_tick' AND params->>'bot_id' = '${bot}'`));
  const done = await jobDone(job);
  assert.equal(done.result.candles, 193, 'C + 10 .. C + 202');
  const o = await orders(bot);
  assert.deepEqual(o.map((x) => `${x.cid} ${x.status}`), [0, 1, 2, 3].map((n) => `bcf${bot}-${n}-${n % 2 ? 's' : 'b'} FILLED`),
    'each buy and sell the engine decided was sent');
  assert.deepEqual(posts(`bcf${bot}-`).map((q) => q.params.newClientOrderId), o.map((x) => x.cid), 'in order, once each');
  const t = await trades(bot);
  assert.deepEqual(t.map((x) => `${x.kind} ${x.time}`), [`open ${at(C + 19)}`, `close ${at(C + 101)}`, `open ${at(C + 119)}`, `close ${at(C + 201)}`]);
  // each sell is the quantity the engine bought just before: nothing of this bot is left open
  assert.equal(Number(o[1].qty), t[0].qty);
  assert.equal(Number(o[3].qty), t[2].qty);
  assert.equal((await post(`/api/v1/bots/${bot}/stop`)).res.status, 200);
});

test('a live start checks the plan and the key again; a running bot whose key lost trading stops with the reason', async () => {
  const bot = A.bot; // stopped by the test above
  const tenant = await psql(stack, `SELECT tenant_id FROM bots WHERE id = ${bot}`);
  const audits = () => psql(stack, `SELECT count(*) FROM audit_log WHERE object_id = '${bot}' AND action = 'bots.start'`);
  const a0 = await audits();
  // the tenant moved to a plan without live trading
  await psql(stack, `UPDATE tenants SET plan = 'free' WHERE id = ${tenant}`);
  let r = await post(`/api/v1/bots/${bot}/start`);
  assert.equal(r.res.status, 422, r.text);
  assert.equal(r.json.error.code, 'live_plan');
  await psql(stack, `UPDATE tenants SET plan = 'pro' WHERE id = ${tenant}`);
  // the key lost its trading permission at a revalidation
  await psql(stack, `UPDATE credentials SET can_trade = false WHERE id = ${A.credId}`, { user: 'botcriptofy_owner' });
  r = await post(`/api/v1/bots/${bot}/start`);
  assert.equal(r.res.status, 422, r.text);
  assert.equal(r.json.error.code, 'credential_id');
  assert.equal(await psql(stack, `SELECT status FROM bots WHERE id = ${bot}`), 'stopped');
  assert.equal(await audits(), a0, 'no start recorded');

  // with the key valid it starts; then the key loses trading while an order waits to be sent
  await psql(stack, `UPDATE credentials SET can_trade = true WHERE id = ${A.credId}`, { user: 'botcriptofy_owner' });
  assert.equal((await post(`/api/v1/bots/${bot}/start`)).res.status, 200);
  await psql(stack, `UPDATE credentials SET can_trade = false WHERE id = ${A.credId}`, { user: 'botcriptofy_owner' });
  await psql(stack, `INSERT INTO bot_orders (tenant_id, bot_id, client_order_id, side, symbol, qty, status)
    VALUES (${tenant}, ${bot}, 'bcf${bot}-99-b', 'BUY', 'BTCUSDT', '10.00000000', 'new')`, { user: 'botcriptofy_owner' });
  fake.requests.length = 0;
  const job = await enqueueTick(bot);
  await waitFor(async () => ['failed', 'dead'].includes(await psql(stack, `SELECT status FROM jobs WHERE id = ${job}`)), { timeoutMs: 20_000 });
  assert.equal(await psql(stack, `SELECT status || ': ' || error FROM bots WHERE id = ${bot}`),
    'error: the bot has no validated exchange key with trading permission');
  assert.equal(fake.requests.filter((q) => q.path === '/api/v3/order').length, 0, 'nothing was sent');
  assert.equal(await psql(stack, `SELECT status FROM bot_orders WHERE client_order_id = 'bcf${bot}-99-b'`), 'new');
});
