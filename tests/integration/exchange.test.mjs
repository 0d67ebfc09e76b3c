// tests/integration/exchange.test.mjs — exchange adapters on a real stack against fake_binance.mjs: credentials
// checked before they are stored, retries, backoff, Retry-After, bans, the circuit breaker, clock skew, weights,
// klines synced into candles, idempotent orders, and no secret or signature in any log.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO, run, startStack } from './harness.mjs';
import { apiPost, enrolTotp, login, makeTrader, metricValue, psql, scrape, sessionCsrf, sleep } from './lib.mjs';
import { fakeKline, startFakeBinance } from './fake_binance.mjs';

// Recognisable values: any of them found in a log or an answer is a leak.
const KEY = 'BNKEYVALID7f3a9c2e1d4b6a8f0e2c4a6b8d0f1e3c5a7b9d1f';
const SECRET = 'BNSECRETVALID3c5e7a9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1';
const READ_KEY = 'BNKEYREADONLY8e6c4a2f0d8b6e4c2a0f8d6b4e2c0a8f6d4b';
const READ_SECRET = 'BNSECRETREADONLY5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a7c';
const UNKNOWN_KEY = 'BNKEYUNKNOWN1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9';
const WRONG_SECRET = 'BNSECRETWRONG0f1e2d3c4b5a69788796a5b4c3d2e1f0a1b2';
const SECRETS = [SECRET, READ_SECRET, WRONG_SECRET, KEY, READ_KEY, UNKNOWN_KEY];

const H = 3_600_000;
const SERVICE_CONFIG = {
  'log.level': 'debug', // every line the client could write, written
  'ratelimit.credentials.validate': '1000/min',
  'http.client.binance.max_attempts': '3',
  'http.client.binance.backoff_base_ms': '20',
  'http.client.binance.backoff_max_ms': '50',
  'http.client.binance.timeout_ms': '1500',
  'http.client.binance.connect_timeout_ms': '500',
  'http.client.binance.breaker_failures': '3',
  'http.client.binance.breaker_cooldown_ms': '400',
  'http.client.binance.retry_after_max_ms': '3000',
  'exchange.binance.max_wait_ms': '500',
};

let fake;
let stack;
const A = {}; // the demo trader, 2FA enrolled and stepped up
const cliOutput = []; // every botctl answer, checked for leaks at the end

before(async () => {
  fake = await startFakeBinance({
    keys: {
      [KEY]: { secret: SECRET },
      [READ_KEY]: { secret: READ_SECRET, canTrade: false },
    },
  });
  stack = await startStack({ config: { 'exchange.binance.base_url': fake.url, ...SERVICE_CONFIG } });
  const l = await login(stack, { email: 'demo@botcriptofy.dev', password: 'demo-trader-2026' });
  const en = await enrolTotp(stack, l.cookie);
  Object.assign(A, { cookie: en.cookie, csrf: await sessionCsrf(stack, en.cookie) });
  A.id = Number(await psql(stack, "SELECT id FROM users WHERE email = 'demo@botcriptofy.dev'"));
});

after(async () => {
  await stack?.stop();
  await fake?.close();
});

/** botctl exchange ... with the valid key in the environment; resolves { code, stdout, stderr, lines }. */
async function ex(args, { key = KEY, secret = SECRET } = {}) {
  const env = { ...process.env, BOTCTL_API_KEY: key, BOTCTL_API_SECRET: secret };
  let out;
  try {
    const r = await run(path.join(REPO, 'cli', 'botctl'), ['-c', stack.config, 'exchange', ...args], { env, timeoutMs: 60_000 });
    out = { code: 0, ...r };
  } catch (e) {
    if (e.code === undefined) throw e;
    out = { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
  cliOutput.push(out.stdout, out.stderr);
  out.lines = out.stdout.split('\n').filter((l) => /^(ok|error)\b/.test(l));
  return out;
}

async function candles(...args) {
  try {
    const r = await stack.botctl('candles', ...args);
    cliOutput.push(r.stdout, r.stderr);
    return { code: 0, ...r };
  } catch (e) {
    if (e.code === undefined) throw e;
    cliOutput.push(e.stdout ?? '', e.stderr ?? '');
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const creds = async (where = 'true') => Number(await psql(stack, `SELECT count(*) FROM credentials WHERE ${where}`));
const audits = async (action) => Number(await psql(stack, `SELECT count(*) FROM audit_log WHERE action = '${action}'`));
const add = (body) => apiPost(stack, A.cookie, A.csrf, '/api/v1/credentials', body);

/** Waits out the breaker's cool-down in every process that may have opened it. */
const coolDown = () => sleep(500);

test('a key Binance accepts is stored, marked validated, and audited by its mask', async () => {
  fake.reset();
  const before = await audits('credentials.create');
  const r = await add({ exchange: 'binance', label: 'Binance principal', api_key: KEY, api_secret: SECRET });
  assert.equal(r.res.status, 201, r.text.slice(0, 300));
  const c = r.json.credentials.find((x) => x.label === 'Binance principal');
  assert.equal(c.validated, true);
  assert.equal(c.can_trade, true);
  assert.equal(c.checkable, true);
  assert.match(c.validated_at, /^\d{4}-\d\d-\d\d \d\d:\d\d$/);
  const row = await psql(stack, `SELECT validated_at IS NOT NULL, can_trade, validation_error IS NULL, permissions
    FROM credentials WHERE id = ${c.id}`);
  assert.equal(row, 't|t|t|trade');
  A.credId = c.id;
  // the exchange saw one signed account request carrying our key in its header
  const acct = fake.requests.filter((q) => q.path === '/api/v3/account');
  assert.equal(acct.length, 1);
  assert.equal(acct[0].status, 200);
  assert.equal(acct[0].apiKey, KEY);
  assert.match(acct[0].params.signature, /^[0-9a-f]{64}$/);
  assert.ok(Number(acct[0].params.recvWindow) > 0 && Number(acct[0].params.timestamp) > 0);
  assert.equal(await audits('credentials.create'), before + 1);
  const a = JSON.parse(await psql(stack, `SELECT after FROM audit_log WHERE action = 'credentials.create' ORDER BY id DESC LIMIT 1`));
  assert.equal(a.validated, true);
  assert.equal(a.key_mask, 'BNKE…9d1f');
  // the HTML page shows the check
  const page = await (await stack.fetch('/credentials', { headers: { cookie: A.cookie } })).text();
  assert.match(page, /Verificada na corretora|Checked with the exchange/);
  assert.match(page, new RegExp(`/credentials/${c.id}/revalidate`));
  // the web workers counted their calls to the exchange
  const { samples } = await scrape(stack);
  assert.ok(metricValue(samples, 'http_client_requests_total', { service: 'binance', status: '200' }) >= 1);
});

test('a key Binance refuses is not stored: 422 with the reason', async () => {
  fake.reset();
  const rows = await creds();
  const auditsBefore = await audits('credentials.create');
  const cases = [
    [{ api_key: UNKNOWN_KEY, api_secret: SECRET }, 'credential_rejected', /Invalid API-key/],
    [{ api_key: KEY, api_secret: WRONG_SECRET }, 'credential_rejected', /Signature for this request is not valid/],
    [{ api_key: READ_KEY, api_secret: READ_SECRET }, 'credential_cannot_trade', /negociar|cannot trade/],
  ];
  for (const [body, code, msg] of cases) {
    const r = await add({ exchange: 'binance', label: 'refused', ...body });
    assert.equal(r.res.status, 422, r.text.slice(0, 300));
    assert.equal(r.json.error.code, code);
    assert.match(r.json.error.message, msg);
    for (const s of SECRETS) assert.ok(!r.text.includes(s), 'no key or secret in the answer');
  }
  // the exchange was asked each time, with the signature it could check
  assert.deepEqual(fake.requests.filter((q) => q.path === '/api/v3/account').map((q) => q.code), [-2015, -1022, 0]);
  // the HTML form: the reason at the key field, the label kept, the secrets not echoed
  const form = await stack.fetch('/credentials', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: A.cookie },
    body: new URLSearchParams({ _csrf: A.csrf, exchange: 'binance', label: 'Form label', api_key: UNKNOWN_KEY, api_secret: SECRET }).toString(),
  });
  const html = await form.text();
  assert.equal(form.status, 422);
  assert.match(html, /recusou esta chave|refused this key/);
  assert.match(html, /value="Form label"/);
  assert.ok(!html.includes(UNKNOWN_KEY) && !html.includes(SECRET));
  assert.equal(await creds(), rows, 'nothing stored');
  assert.equal(await audits('credentials.create'), auditsBefore, 'nothing audited');
  // the same read-only key is fine when stored as read only
  const ro = await add({ exchange: 'binance', label: 'Somente leitura', api_key: READ_KEY, api_secret: READ_SECRET, permissions: 'read' });
  assert.equal(ro.res.status, 201, ro.text.slice(0, 300));
  const c = ro.json.credentials.find((x) => x.label === 'Somente leitura');
  assert.equal(c.validated, true);
  assert.equal(c.can_trade, false);
  A.readId = c.id;
});

test('an exchange that is down or failing: 503, nothing stored', async () => {
  const rows = await creds();
  fake.reset();
  await fake.down();
  try {
    const r = await add({ exchange: 'binance', label: 'while down', api_key: KEY, api_secret: SECRET });
    assert.equal(r.res.status, 503, r.text.slice(0, 300));
    assert.equal(r.json.error.code, 'exchange_unavailable');
    assert.match(r.json.error.message, /nada foi salvo|nothing was saved/);
  } finally {
    await fake.up();
  }
  await coolDown();
  // answering, but with server errors on every try
  fake.fail(100, { status: 503, path: '/api/v3/account' });
  const r2 = await add({ exchange: 'binance', label: 'while failing', api_key: KEY, api_secret: SECRET });
  assert.equal(r2.res.status, 503, r2.text.slice(0, 300));
  assert.equal(r2.json.error.code, 'exchange_unavailable');
  assert.ok(fake.count('/api/v3/account') >= 1 && fake.count('/api/v3/account') <= 3, 'tried, at most max_attempts times');
  fake.reset();
  assert.equal(await creds(), rows, 'nothing stored');
  await coolDown();
});

test('keys of exchanges without an adapter are stored unchecked', async () => {
  fake.reset();
  const r = await add({ exchange: 'kraken', label: 'Kraken', api_key: 'KRAKENKEY-0123456789', api_secret: 'KRAKENSECRET-0123456789' });
  assert.equal(r.res.status, 201, r.text.slice(0, 300));
  const c = r.json.credentials.find((x) => x.label === 'Kraken');
  assert.equal(c.validated, false);
  assert.equal(c.checkable, false);
  assert.equal(fake.requests.length, 0, 'no exchange was asked');
  assert.equal(await psql(stack, `SELECT validated_at IS NULL AND can_trade IS NULL FROM credentials WHERE id = ${c.id}`), 't');
  const rv = await apiPost(stack, A.cookie, A.csrf, `/api/v1/credentials/${c.id}/revalidate`);
  assert.equal(rv.res.status, 422);
  assert.equal(rv.json.error.code, 'not_checkable');
});

test('revalidate records a refusal, a recovery, and changes nothing when Binance is unreachable', async () => {
  fake.reset();
  const id = A.credId;
  const before = await audits('credentials.revalidate');
  // the account lost its trading permission
  fake.addKey(KEY, { secret: SECRET, canTrade: false });
  let r = await apiPost(stack, A.cookie, A.csrf, `/api/v1/credentials/${id}/revalidate`);
  assert.equal(r.res.status, 200, r.text.slice(0, 300));
  let c = r.json.credentials.find((x) => x.id === id);
  assert.equal(c.validated, false);
  assert.match(c.validation_error, /negociar|cannot trade/);
  assert.equal(await psql(stack, `SELECT validated_at IS NULL, can_trade IS NULL FROM credentials WHERE id = ${id}`), 't|t');
  // unreachable: 503 and the row keeps what it had
  await fake.down();
  try {
    r = await apiPost(stack, A.cookie, A.csrf, `/api/v1/credentials/${id}/revalidate`);
    assert.equal(r.res.status, 503);
    assert.equal(r.json.error.code, 'exchange_unavailable');
  } finally {
    await fake.up();
  }
  await coolDown();
  assert.match(await psql(stack, `SELECT validation_error FROM credentials WHERE id = ${id}`), /negociar|cannot trade/);
  // permission back: validated again, the error cleared
  fake.addKey(KEY, { secret: SECRET, canTrade: true });
  r = await apiPost(stack, A.cookie, A.csrf, `/api/v1/credentials/${id}/revalidate`);
  assert.equal(r.res.status, 200, r.text.slice(0, 300));
  c = r.json.credentials.find((x) => x.id === id);
  assert.equal(c.validated, true);
  assert.equal(c.can_trade, true);
  assert.equal(c.validation_error, '');
  assert.equal(await audits('credentials.revalidate'), before + 2, 'one audit row per recorded check');
  // someone else's id, or no id: 404
  const other = await makeTrader(stack, 'reval');
  const l = await login(stack, { email: other.email, password: 'demo-trader-2026' });
  const csrf = await sessionCsrf(stack, l.cookie);
  const foreign = await apiPost(stack, l.cookie, csrf, `/api/v1/credentials/${id}/revalidate`);
  assert.equal(foreign.res.status, 404);
  const bad = await apiPost(stack, A.cookie, A.csrf, '/api/v1/credentials/x1/revalidate');
  assert.equal(bad.res.status, 404);
});

test('botctl exchange: public calls, balances and the stored credential through the vault', async () => {
  fake.reset();
  assert.deepEqual((await ex(['ping'])).lines, ['ok']);
  const t = await ex(['ticker', 'BTCUSDT']);
  assert.deepEqual(t.lines, ['ok BTCUSDT 42000.01000000']);
  const info = await ex(['info', 'BTCUSDT']);
  assert.match(info.lines[0], /step 0\.00001000 min_qty 0\.00001000 tick 0\.01000000 min_notional 5\.00000000/);
  const b = await ex(['balances']);
  assert.equal(b.code, 0, b.stdout + b.stderr);
  assert.match(b.stdout, /^USDT free \d+\.\d{8} locked \d+\.\d{8}$/m);
  const bad = await ex(['ticker', 'NOPEUSDT']);
  assert.equal(bad.code, 1);
  assert.match(bad.lines[0], /^error not_found: Binance: Invalid symbol\. \(HTTP 400, code -1121\)$/);
  // the stored credential, opened through the vault: no key in the environment at all
  const stored = await ex(['--credential', String(A.readId), 'validate'], { key: '', secret: '' });
  assert.equal(stored.code, 0, stored.stdout + stored.stderr);
  assert.match(stored.lines[0], /^ok can_trade 0 /);
  assert.equal(fake.requests.at(-1).apiKey, READ_KEY);
});

test('retries with backoff after 5xx, Retry-After honoured after 429', async () => {
  fake.reset();
  fake.fail(2, { status: 503, path: '/api/v3/ticker/price' });
  const r = await ex(['ticker', 'BTCUSDT']);
  assert.deepEqual(r.lines, ['ok BTCUSDT 42000.01000000']);
  assert.deepEqual(fake.requests.map((q) => q.status), [503, 503, 200]);

  fake.reset();
  fake.fail(1, { status: 429, retryAfter: 1, path: '/api/v3/ticker/price' });
  const r2 = await ex(['ticker', 'BTCUSDT']);
  assert.deepEqual(r2.lines, ['ok BTCUSDT 42000.01000000']);
  const [first, second] = fake.requests;
  assert.equal(first.status, 429);
  assert.equal(second.status, 200);
  assert.ok(second.at - first.at >= 950, `waited ${second.at - first.at} ms for Retry-After: 1`);

  // a Retry-After longer than http.client.binance.retry_after_max_ms: no wait, the caller is told
  fake.reset();
  fake.fail(1, { status: 429, retryAfter: 30, path: '/api/v3/ticker/price' });
  const r3 = await ex(['ticker', 'BTCUSDT']);
  assert.equal(r3.code, 1);
  assert.match(r3.lines[0], /^error rate_limited: .*retry after 30000 ms/);
  assert.equal(fake.requests.length, 1);
});

test('a 418 ban stops further requests from the process until it ends', async () => {
  fake.reset();
  fake.fail(1, { status: 418, retryAfter: 120, path: '/api/v3/ping' });
  const r = await ex(['ping', '--repeat', '3']);
  assert.equal(r.code, 1);
  assert.equal(r.lines.length, 3);
  assert.match(r.lines[0], /^error rate_limited: Binance: Way too much request weight used/);
  for (const l of r.lines.slice(1)) assert.match(l, /^error rate_limited: Binance asked us to back off/);
  assert.equal(fake.requests.length, 1, 'nothing sent during the ban');
});

test('timeouts: an unanswered GET is retried within the time limit', async () => {
  fake.reset();
  fake.hang(2, { path: '/api/v3/ping' });
  const t0 = Date.now();
  const r = await ex(['ping']);
  assert.deepEqual(r.lines, ['ok']);
  assert.deepEqual(fake.requests.map((q) => q.status), ['hung', 'hung', 200]);
  assert.ok(Date.now() - t0 >= 2 * 1400, 'each hung try waited for the timeout');
});

test('circuit breaker: opens after consecutive failures, refuses without sending, half-opens and recovers', async () => {
  fake.reset();
  // first call: 3 tries, 3 failures → open; the first probe fails too → open again; the next probe succeeds
  fake.fail(4, { status: 503, path: '/api/v3/ping' });
  const r = await ex(['ping', '--repeat', '18', '--interval-ms', '100']);
  const kinds = r.lines.map((l) => (l === 'ok' ? 'ok' : /circuit breaker open/.test(l) ? 'open' : /HTTP 503/.test(l) ? '503' : l));
  assert.equal(kinds[0], '503', kinds.join(' '));
  assert.equal(kinds.filter((k) => k === '503').length, 2, kinds.join(' '));
  assert.ok(kinds.filter((k) => k === 'open').length >= 4, kinds.join(' '));
  assert.equal(kinds.at(-1), 'ok', kinds.join(' '));
  // the shape: 503, open..., 503 (the failed probe), open..., ok...
  const compact = kinds.filter((k, i) => i === 0 || k !== kinds[i - 1]);
  assert.deepEqual(compact, ['503', 'open', '503', 'open', 'ok'], kinds.join(' '));
  // while open nothing reached the exchange: 4 failures, then one request per ok
  assert.equal(fake.requests.length, 4 + kinds.filter((k) => k === 'ok').length);
  assert.deepEqual(fake.requests.slice(0, 4).map((q) => q.status), [503, 503, 503, 503]);
  // refused tries were immediate: the fake saw no gap shorter than the cool-down between failure 3 and 4
  assert.ok(fake.requests[3].at - fake.requests[2].at >= 380);
  // the exchange gone altogether (connection refused) opens it the same way
  await fake.down();
  let down;
  try {
    down = await ex(['ping', '--repeat', '3']);
  } finally {
    await fake.up();
  }
  assert.match(down.lines[0], /^error unavailable: Binance did not answer: .*connect/i);
  assert.match(down.lines[1], /circuit breaker open/);
});

test('clock skew: a -1021 answer measures the offset and the request goes again', async () => {
  for (const skew of [30_000, -30_000]) {
    fake.reset();
    fake.setSkew(skew);
    const r = await ex(['balances', '--repeat', '2']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(r.lines, ['ok 3 balances', 'ok 3 balances']);
    // refused once, clock read, resent; the second call already had the offset
    assert.deepEqual(fake.requests.map((q) => `${q.path} ${q.code || q.status}`),
      ['/api/v3/account -1021', '/api/v3/time 200', '/api/v3/account 200', '/api/v3/account 200']);
    const t = await ex(['time']);
    const offset = Number(/offset_ms (-?\d+)/.exec(t.lines[0])[1]);
    assert.ok(Math.abs(offset - skew) < 1000, `offset ${offset} for skew ${skew}`);
  }
  fake.setSkew(0);
});

test('weight: near the per-minute limit the client waits or refuses before sending', async () => {
  fake.reset();
  // not within a few seconds of a minute's end, so the refusal cannot be a new minute's first request
  const left = 60_000 - (fake.now() % 60_000);
  if (left < 5000) await sleep(left + 200);
  fake.setWeightFloor(5500); // 6000 per minute, 10% kept free: 5400 usable
  const r = await ex(['ticker', 'BTCUSDT', '--repeat', '2']);
  assert.equal(r.lines[0], 'ok BTCUSDT 42000.01000000');
  assert.match(r.lines[1], /^error rate_limited: the request-weight budget of this minute is used up \(5500 of 6000 used\); retry in \d+ ms/);
  assert.equal(fake.requests.length, 1, 'the second request was never sent');
  fake.setWeightFloor(0);
});

test('candles sync: klines paged into monthly partitions, closed candles only, audited, idempotent', async () => {
  fake.reset();
  const from = '2024-01-31T22:00:00Z';
  const to = '2024-02-01T16:00:00Z'; // 18 h of 1m candles: 1080 rows, two pages of at most 1000
  const r = await candles('sync', '--exchange', 'binance', '--symbol', 'BTCUSDT', '--timeframe', '1m', '--from', from, '--to', to);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^synced 1080 candles \(1080 new\) in 2 requests$/m);
  assert.equal(fake.count('/api/v3/klines'), 2);
  const M = "market_id = (SELECT id FROM markets WHERE exchange = 'binance' AND symbol = 'BTCUSDT') AND timeframe = '1m'";
  const parts = await psql(stack, `SELECT tableoid::regclass || ':' || count(*) FROM candles WHERE ${M} GROUP BY tableoid ORDER BY 1`);
  assert.deepEqual(parts.split('\n'), ['candles_y2024m01:120', 'candles_y2024m02:960']);
  const t = Date.UTC(2024, 1, 1, 3, 7);
  const k = fakeKline(t, 60_000);
  assert.equal(await psql(stack, `SELECT open || ',' || high || ',' || low || ',' || close || ',' || volume FROM candles WHERE ${M} AND open_time = ${t}`),
    `${k.open},${k.high},${k.low},${k.close},${k.volume}`);
  assert.equal(await psql(stack, `SELECT min(open_time) || ',' || max(open_time) FROM candles WHERE ${M}`),
    `${Date.UTC(2024, 0, 31, 22)},${Date.UTC(2024, 1, 1, 15, 59)}`);
  assert.equal(await psql(stack, "SELECT base || '/' || quote FROM markets WHERE exchange = 'binance' AND symbol = 'BTCUSDT'"), 'BTC/USDT');
  const a = JSON.parse(await psql(stack, "SELECT after FROM audit_log WHERE action = 'candles.sync' ORDER BY id DESC LIMIT 1"));
  assert.equal(a.rows, 1080);
  assert.equal(a.new, 1080);
  assert.equal(a.pages, 2);
  // the market's series summary (what the markets page and bot sync read) follows the sync
  assert.equal(await psql(stack, `SELECT candles || ',' || first_open_time || ',' || last_open_time FROM market_series s
    JOIN markets m ON m.id = s.market_id WHERE m.exchange = 'binance' AND m.symbol = 'BTCUSDT' AND s.timeframe = '1m'`),
    `1080,${Date.UTC(2024, 0, 31, 22)},${Date.UTC(2024, 1, 1, 15, 59)}`);
  // again: the same rows, nothing new, one more audit row
  const again = await candles('sync', '--exchange', 'binance', '--symbol', 'BTCUSDT', '--timeframe', '1m', '--from', from, '--to', to);
  assert.match(again.stdout, /^synced 1080 candles \(0 new\)/m);
  assert.equal(await audits('candles.sync'), 2);
  // the series summary the markets list, backtests and bots read counts each candle once
  assert.equal(await psql(stack, `SELECT candles || ',' || first_open_time || ',' || last_open_time FROM market_series WHERE ${M}`),
    `1080,${Date.UTC(2024, 0, 31, 22)},${Date.UTC(2024, 1, 1, 15, 59)}`);
  // up to now: the candle still open is left for the next run
  const now = fake.now();
  const recent = await candles('sync', '--exchange', 'binance', '--symbol', 'ETHUSDT', '--timeframe', '1h',
    '--from', new Date(now - 5 * H).toISOString().replace(/\.\d+Z$/, 'Z'));
  assert.equal(recent.code, 0, recent.stderr);
  const last = Number(await psql(stack, "SELECT max(open_time) FROM candles c JOIN markets m ON m.id = c.market_id WHERE m.symbol = 'ETHUSDT'"));
  assert.ok(last + H <= fake.now(), 'only closed candles are stored');
  assert.ok(last + 2 * H > now, 'the last closed candle is there');
  // an unknown symbol stores nothing
  const rows = Number(await psql(stack, 'SELECT count(*) FROM candles'));
  const bad = await candles('sync', '--exchange', 'binance', '--symbol', 'NOPEUSDT', '--timeframe', '1h', '--from', '2024-01-01');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /nothing stored: not_found/);
  assert.equal(Number(await psql(stack, 'SELECT count(*) FROM candles')), rows);
});

test('orders: a send whose answer was lost is looked up by its client id and never placed twice', async () => {
  fake.reset();
  const mine = (cid) => fake.orders.filter((o) => o.clientOrderId === cid);
  const posts = () => fake.requests.filter((q) => q.path === '/api/v3/order' && q.method === 'POST');
  // a market order carried out, but its answer lost in a 503: Binance would accept the id again
  // (the first order is FILLED), so only a look-up keeps it single
  fake.fail(1, { status: 503, path: '/api/v3/order', method: 'POST', process: true });
  const r1 = await ex(['order', 'BTCUSDT', 'BUY', 'MARKET', '0.0100009', '--client-id', 'idem-1']);
  assert.equal(r1.code, 0, r1.stdout + r1.stderr);
  assert.match(r1.lines[0], /^ok order \d+ client idem-1 BTCUSDT BUY MARKET status FILLED .* qty 0\.01000000 /);
  assert.equal(mine('idem-1').length, 1);
  assert.deepEqual(fake.requests.map((q) => `${q.method} ${q.path} ${q.status}`).filter((s) => !s.includes('exchangeInfo')),
    ['POST /api/v3/order 503', 'GET /api/v3/order 200']);
  assert.equal(posts()[0].params.quantity, '0.01000', 'the quantity fitted to the step size');

  // a 503 before anything happened: looked up (not there), then sent again once
  fake.reset();
  fake.fail(1, { status: 503, path: '/api/v3/order', method: 'POST' });
  const r2 = await ex(['order', 'BTCUSDT', 'SELL', 'MARKET', '0.002', '--client-id', 'idem-2']);
  assert.equal(r2.code, 0, r2.stdout);
  assert.equal(mine('idem-2').length, 1);
  assert.equal(posts().length, 2);
  assert.equal(fake.requests.find((q) => q.path === '/api/v3/order' && q.method === 'GET').code, -2013);

  // no answer at all (timeout): the same
  fake.reset();
  fake.hang(1, { path: '/api/v3/order', method: 'POST' });
  const r3 = await ex(['order', 'BTCUSDT', 'BUY', 'LIMIT', '0.001', '30000.004', '--client-id', 'idem-3']);
  assert.equal(r3.code, 0, r3.stdout);
  assert.match(r3.lines[0], /status NEW price 30000\.00000000 qty 0\.00100000/);
  assert.equal(mine('idem-3').length, 1);
  // the same id again while the order is open: Binance says duplicate, we answer with that order
  const again = await ex(['order', 'BTCUSDT', 'BUY', 'LIMIT', '0.001', '30000', '--client-id', 'idem-3']);
  assert.equal(again.code, 0, again.stdout);
  assert.equal(/^ok order (\d+)/.exec(again.lines[0])[1], /^ok order (\d+)/.exec(r3.lines[0])[1]);
  assert.equal(mine('idem-3').length, 1);
  const open = await ex(['open-orders', 'BTCUSDT']);
  assert.equal(open.lines[0], 'ok 1 open orders');

  // cancel, and a second cancel of the same order
  const c1 = await ex(['cancel', 'BTCUSDT', '--client-id', 'idem-3']);
  assert.match(c1.lines[0], /client idem-3 .* status CANCELED/);
  const c2 = await ex(['cancel', 'BTCUSDT', '--client-id', 'nope-9']);
  assert.match(c2.lines[0], /^error not_found: Binance: Unknown order sent\./);
  // refusals keep their meaning
  const poor = await ex(['order', 'BTCUSDT', 'BUY', 'MARKET', '100']);
  assert.match(poor.lines[0], /^error insufficient_balance: Binance: Account has insufficient balance/);
  const tiny = await ex(['order', 'BTCUSDT', 'BUY', 'LIMIT', '0.0001', '100']);
  assert.match(tiny.lines[0], /^error rejected: order value .* below the minimum notional 5\.00000000/);
  // every order and cancel was audited before it was sent
  assert.ok(await audits('exchange.order_place') >= 5);
  assert.ok(await audits('exchange.order_cancel') >= 2);
});

test('no log, audit row or botctl answer holds a key, a secret, a signature or a signed query', async () => {
  const signatures = fake.requests.map((q) => q.params.signature).filter(Boolean);
  assert.ok(signatures.length > 0);
  const dir = path.join(stack.varDir, 'log');
  const files = await readdir(dir);
  assert.ok(files.some((f) => f.startsWith('fcgi')), files.join(', '));
  const texts = [];
  for (const f of files) texts.push([f, await readFile(path.join(dir, f), 'utf8').catch(() => '')]);
  texts.push(['botctl answers', cliOutput.join('\n')]);
  texts.push(['audit_log', await psql(stack, "SELECT coalesce(string_agg(coalesce(before::text, '') || coalesce(after::text, ''), ' '), '') FROM audit_log")]);
  const fcgi = texts.find(([f]) => f.startsWith('fcgi'))[1];
  assert.match(fcgi, /http client request/, 'the client does log its requests (at debug)');
  assert.match(fcgi, /"path":"\/api\/v3\/account"/);
  for (const [f, text] of texts) {
    for (const s of SECRETS) assert.ok(!text.includes(s), `${f} holds a key or secret`);
    for (const sig of signatures) assert.ok(!text.includes(sig), `${f} holds a signature`);
    assert.ok(!/signature=|timestamp=|X-MBX-APIKEY/i.test(text), `${f} holds a signed query or the key header`);
  }
});
