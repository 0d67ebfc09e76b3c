// tests/integration/markets.test.mjs — the markets pages on a real stack: the list, the server-drawn SVG chart and
// its JSON twin checked against indicators computed here, parameter validation, and the candle CSV import (raw body
// as the page's script sends it, and the pasted-text form), all-or-nothing, idempotent, permission-checked and escaped.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { run, startStack, REPO } from './harness.mjs';
import { DEMO, enrolTotp, login, psql, sessionCsrf } from './lib.mjs';

const CEO = Object.freeze({ email: 'ceo@botcriptofy.dev', password: 'demo-company-2026' });
const H = 3_600_000;
const JAN1 = Date.UTC(2024, 0, 1);
const FEB1 = Date.UTC(2024, 1, 1);
const UPLOAD_MAX = 2 * 1024 * 1024; // http.max_upload_bytes for this stack: above the 1 MiB body limit

let stack;
const users = {};

before(async () => {
  stack = await startStack({ config: { 'http.max_upload_bytes': String(UPLOAD_MAX) } });
  // 2000 hourly candles from 2024-01-01 (into March) and 300 daily ones, seeded
  await stack.botctl('candles', 'synth', '--exchange', 'demo', '--symbol', 'BTCUSDT', '--timeframe', '1h',
    '--from', '2024-01-01', '--count', '2000', '--seed', '42');
  await stack.botctl('candles', 'synth', '--exchange', 'demo', '--symbol', 'BTCUSDT', '--timeframe', '1d',
    '--from', '2023-01-01', '--count', '300', '--seed', '7');
  const t = await login(stack);
  users.trader = { cookie: t.cookie, csrf: await sessionCsrf(stack, t.cookie) };
  const c = await login(stack, CEO);
  const en = await enrolTotp(stack, c.cookie);
  users.ceo = { cookie: en.cookie, csrf: await sessionCsrf(stack, en.cookie) };
  users.ceoId = Number(await psql(stack, `SELECT id FROM users WHERE email = '${CEO.email}'`));
});

after(async () => {
  await stack?.stop();
});

async function get(p, who = users.trader) {
  const res = await stack.fetch(p, { headers: { cookie: who.cookie, 'accept-language': 'en' } });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* HTML */ }
  return { res, status: res.status, text, json };
}

/** POST the CSV as the page's script does: raw body, fields in the query string, CSRF in a header. */
async function upload(fields, csv, { who = users.ceo, csrf = who.csrf, type = 'text/csv' } = {}) {
  const headers = { cookie: who.cookie, 'content-type': type, 'accept-language': 'en' };
  if (csrf) headers['x-csrf-token'] = csrf;
  const res = await stack.fetch(`/api/v1/markets/import?${new URLSearchParams(fields)}`, { method: 'POST', headers, body: csv });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { res, status: res.status, text, json };
}

/** POST the import form without script: urlencoded, the CSV pasted in the textarea. */
async function formPost(fields, who = users.ceo) {
  const res = await stack.fetch('/markets/import', {
    method: 'POST',
    headers: { cookie: who.cookie, 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'en' },
    body: new URLSearchParams({ _csrf: who.csrf, ...fields }).toString(),
  });
  return { res, status: res.status, text: await res.text() };
}

function kline(t, p) {
  return [t, p, p + 10, p - 10, p + 5, 12.5, t + H - 1, 1000, 42, 6, 500, 0].join(',');
}

const q1 = async (sql) => psql(stack, sql);
const count = async (where = 'true') => Number(await q1(`SELECT count(*) FROM candles WHERE ${where}`));
const market = (ex, sym) => `market_id = (SELECT id FROM markets WHERE exchange = '${ex}' AND symbol = '${sym}')`;
const audits = async () => Number(await q1("SELECT count(*) FROM audit_log WHERE action = 'candles.import'"));

/** The DB's candles of a series in time order: [{t, o, h, l, c, v}]. */
async function dbCandles(where) {
  const out = await q1(`SELECT open_time || ',' || open || ',' || high || ',' || low || ',' || close || ',' || volume
    FROM candles WHERE ${where} ORDER BY open_time`);
  return out ? out.split('\n').map((l) => {
    const [t, o, h, lo, c, v] = l.split(',').map(Number);
    return { t, o, h, l: lo, c, v };
  }) : [];
}

// reference indicators, written from docs/trading.md's formulas
function sma(x, n) {
  return x.map((_, i) => (i < n - 1 ? null : x.slice(i - n + 1, i + 1).reduce((a, b) => a + b, 0) / n));
}
function ema(x, n) {
  const a = 2 / (n + 1);
  let e;
  return x.map((v, i) => (e = i === 0 ? v : (v - e) * a + e));
}
function bb(x, n, k) {
  const mid = sma(x, n);
  return x.map((_, i) => {
    if (mid[i] === null) return [null, null, null];
    const w = x.slice(i - n + 1, i + 1);
    const sd = Math.sqrt(w.reduce((s, v) => s + (v - mid[i]) ** 2, 0) / n);
    return [mid[i] - k * sd, mid[i], mid[i] + k * sd];
  });
}
function rsi(x, n) {
  let up = 0;
  let down = 0;
  return x.map((v, i) => {
    if (i === 0) return null;
    const u = Math.max(v - x[i - 1], 0);
    const d = Math.max(x[i - 1] - v, 0);
    if (i < n) { up += u; down += d; return null; }
    if (i === n) { up = (up + u) / n; down = (down + d) / n; } else { up += (u - up) / n; down += (d - down) / n; }
    return up + down > 0 ? (100 * up) / (up + down) : 50;
  });
}

function close(a, b, what) {
  if (a === null || b === null) {
    assert.equal(a, b, what);
    return;
  }
  assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} != ${b}`);
}

function svgOf(html) {
  const m = /<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="[^"]*" class="chart [\s\S]*?<\/svg>/.exec(html);
  assert.ok(m, 'the page holds the chart as an inline <svg>');
  return m[0];
}
const occurrences = (s, sub) => s.split(sub).length - 1;

test('the markets list shows each series from the summary, in HTML and JSON; the import link only for importers', async () => {
  const j = await get('/api/v1/markets');
  assert.equal(j.status, 200, j.text);
  const m = j.json.markets.find((x) => x.exchange === 'demo' && x.symbol === 'BTCUSDT');
  assert.ok(m, 'demo BTCUSDT listed');
  assert.equal(m.base, 'BTC');
  assert.equal(m.quote, 'USDT');
  assert.equal(m.candles, 2300);
  assert.deepEqual(m.series.map((s) => [s.timeframe, s.candles]), [['1h', 2000], ['1d', 300]]);
  const h = m.series[0];
  assert.equal(h.first_open_time, JAN1);
  assert.equal(h.last_open_time, JAN1 + 1999 * H);
  assert.equal(h.first, '2024-01-01 00:00');
  const lastClose = Number(await q1(`SELECT close FROM candles WHERE ${market('demo', 'BTCUSDT')} AND timeframe = '1h' ORDER BY open_time DESC LIMIT 1`));
  assert.equal(h.last_close, lastClose);
  assert.equal(j.json.can_import, false);

  const page = await get('/markets');
  assert.equal(page.status, 200);
  assert.match(page.text, /<a href="\/markets\/demo\/BTCUSDT\?tf=1h">BTCUSDT<\/a>/);
  assert.match(page.text, /<td>1h<\/td><td>2000<\/td><td>2024-01-01 00:00<\/td>/);
  assert.ok(!page.text.includes('href="/markets/import"'), 'no import link for a trader');
  assert.match(page.text, /<a href="\/markets"[^>]*>/, 'navigation entry');
  const ceoPage = await get('/markets', users.ceo);
  assert.ok(ceoPage.text.includes('href="/markets/import"'), 'import link for the CEO');
});

test('the chart: one candle body per candle in range, overlays and panel drawn, last values listed', async () => {
  const qs = 'tf=1h&from=2024-02-01&to=2024-02-05&overlay=sma:20,ema:50,bb:20:2&panel=rsi:14';
  const page = await get(`/markets/demo/BTCUSDT?${qs}`);
  assert.equal(page.status, 200, page.text.slice(0, 300));
  const svg = svgOf(page.text);
  // "to" as a date covers that whole day: Feb 1..5 = 5 × 24 candles
  assert.equal(occurrences(svg, '<rect class="body '), 120);
  assert.equal(occurrences(svg, '<line class="wick '), 120);
  assert.equal(occurrences(svg, 'class="line ov1"'), 1, 'SMA line');
  assert.equal(occurrences(svg, 'class="line ov2"'), 1, 'EMA line');
  assert.equal(occurrences(svg, 'class="line ov3"'), 3, 'Bollinger lower/middle/upper');
  assert.equal(occurrences(svg, 'class="line p-rsi"'), 1, 'RSI panel');
  assert.equal(occurrences(svg, '<line class="guide"'), 2, 'RSI 30/70 guides');
  for (const l of ['SMA 20', 'EMA 50', 'BB 20 2']) assert.ok(svg.includes(`>${l}</text>`), `legend ${l}`);
  // warm-up candles were fetched, so every overlay is continuous from the first candle: one M per path
  for (const cls of ['ov1', 'ov2']) {
    const d = new RegExp(`class="line ${cls}" fill="none" d="([^"]*)"`).exec(svg)[1];
    assert.equal(occurrences(d, 'M'), 1, `${cls} starts at the first candle`);
    assert.equal(occurrences(d, 'L'), 119);
  }
  assert.ok(!/style=/.test(svg), 'no inline styles (CSP)');
  assert.match(page.text, /<option value="1h" selected>1h \(2000\)<\/option>/);
  assert.match(page.text, /class="table last-values"/);
  assert.match(page.text, /<td>SMA 20<\/td><td>[0-9.]+<\/td>/);
  assert.match(page.text, /120 [^<]*2024-02-01 00:00[^<]*2024-02-05 23:00 UTC/);
  // the page loads no script of its own
  assert.ok(!/<script(?![^>]*src="\/static\/js\/app\.js")/.test(page.text), 'no other script');
});

test('the JSON twin carries the drawn candles and overlay values equal to indicators computed here', async () => {
  const qs = 'tf=1h&from=2024-02-01&to=2024-02-05&overlay=sma:20,ema:50,bb:20:2,vwap&panel=rsi:14';
  const j = await get(`/api/v1/markets/demo/BTCUSDT?${qs}`);
  assert.equal(j.status, 200, j.text.slice(0, 300));
  const d = j.json;
  assert.equal(d.timeframe, '1h');
  assert.equal(d.count, 120);
  assert.equal(d.candles.length, 120);
  assert.equal(d.candles[0].open_time, FEB1);
  assert.equal(d.candles[119].open_time, FEB1 + 119 * H);
  assert.equal(d.warmup, 250, 'EMA 50 wants 5 × 50 candles before the first drawn one');
  assert.equal(d.chart_svg, undefined, 'the twin carries data, not markup');
  assert.deepEqual(d.overlays.map((o) => o.id), ['sma:20', 'ema:50', 'bb:20:2', 'vwap']);
  assert.equal(d.panel.id, 'rsi:14');
  assert.deepEqual(d.params, { tf: '1h', from: '2024-02-01', to: '2024-02-05', limit: 500, overlay: 'sma:20,ema:50,bb:20:2,vwap', panel: 'rsi:14' });

  const all = await dbCandles(`${market('demo', 'BTCUSDT')} AND timeframe = '1h'`);
  const first = all.findIndex((c) => c.t === FEB1);
  const win = all.slice(first - d.warmup, first + 120); // what the server computed over
  d.candles.forEach((c, i) => {
    const w = win[d.warmup + i];
    assert.deepEqual([c.open_time, c.open, c.high, c.low, c.close, c.volume], [w.t, w.o, w.h, w.l, w.c, w.v], `candle ${i}`);
  });
  const closes = win.map((c) => c.c);
  const series = (id) => d.overlays.find((o) => o.id === id).series;
  const s = sma(closes, 20).slice(d.warmup);
  const e = ema(closes, 50).slice(d.warmup);
  const b = bb(closes, 20, 2).slice(d.warmup);
  const r = rsi(closes, 14).slice(d.warmup);
  for (let i = 0; i < 120; i++) {
    close(series('sma:20').sma[i], s[i], `sma ${i}`);
    close(series('ema:50').ema[i], e[i], `ema ${i}`);
    close(series('bb:20:2').lower[i], b[i][0], `bb lower ${i}`);
    close(series('bb:20:2').middle[i], b[i][1], `bb middle ${i}`);
    close(series('bb:20:2').upper[i], b[i][2], `bb upper ${i}`);
    close(d.panel.series.rsi[i], r[i], `rsi ${i}`);
  }
  // SMA and Bollinger are exact from the first candle: the same as over the whole history
  const full = sma(all.map((c) => c.c), 20);
  close(series('sma:20').sma[0], full[first], 'sma at the first drawn candle');
  // VWAP is anchored at the first drawn candle
  let pv = 0;
  let vol = 0;
  win.slice(d.warmup).forEach((c, i) => {
    pv += ((c.h + c.l + c.c) / 3) * c.v;
    vol += c.v;
    close(series('vwap').vwap[i], pv / vol, `vwap ${i}`);
  });
  const lastSma = d.last_values.find((v) => v.id === 'sma:20');
  close(lastSma.value, s[119], 'last value table');
  assert.ok(d.earlier.startsWith('/markets/demo/BTCUSDT?tf=1h&limit=500&to='), d.earlier);
  assert.ok(d.later.includes(`&from=${FEB1 + 120 * H}`), d.later);
});

test('defaults: the latest candles of 1h; MACD and volume panels; a timeframe without candles draws an empty chart', async () => {
  const j = await get('/api/v1/markets/demo/BTCUSDT?panel=macd');
  assert.equal(j.status, 200);
  assert.equal(j.json.timeframe, '1h');
  assert.equal(j.json.count, 200);
  assert.equal(j.json.candles.at(-1).open_time, JAN1 + 1999 * H);
  assert.deepEqual(Object.keys(j.json.panel.series), ['macd', 'signal', 'hist']);
  const v = await get('/markets/demo/BTCUSDT?tf=1d&limit=30&panel=volume');
  assert.equal(v.status, 200);
  const svg = svgOf(v.text);
  assert.equal(occurrences(svg, '<rect class="body '), 30);
  assert.equal(occurrences(svg, '<rect class="bar up"') + occurrences(svg, '<rect class="bar down"'), 30);
  const empty = await get('/markets/demo/BTCUSDT?tf=5m');
  assert.equal(empty.status, 200);
  assert.equal(occurrences(svgOf(empty.text), 'class="body'), 0);
  assert.match(svgOf(empty.text), /<text class="empty"[^>]*>[^<]+<\/text>/);
});

test('bad parameters are refused with 400 and a clear message; unknown markets are 404', async () => {
  const cases = [
    ['tf=2h', /timeframe/i],
    ['from=yesterday', /from/i],
    ['to=2024-13-01', /to/i],
    ['from=2024-02-02&to=2024-02-01', /after/i],
    ['limit=0', /1\.\.500/],
    ['limit=501', /1\.\.500/],
    ['limit=abc', /1\.\.500/],
    ['tf=1h&from=2024-01-01&to=2024-03-01', /1464 × 1h > 500/],
    ['overlay=foo:1', /unknown indicator/],
    ['overlay=sma:0', /1 to 512/],
    ['overlay=sma:20,rsi:14', /unknown indicator/],
    ['overlay=sma:1,sma:2,sma:3,sma:4,sma:5,sma:6,sma:7', /at most 6/],
    ['panel=bogus', /panel/i],
    ['panel=macd:26:12:9', /FAST < SLOW/],
    [`overlay=${encodeURIComponent('<script>alert(1)</script>')}`, /overlay/i],
  ];
  for (const [qs, re] of cases) {
    const j = await get(`/api/v1/markets/demo/BTCUSDT?${qs}`);
    assert.equal(j.status, 400, `${qs}: ${j.status} ${j.text.slice(0, 200)}`);
    assert.equal(j.json.error.code, 'bad_parameter', qs);
    assert.match(j.json.error.message, re, qs);
    assert.ok(!j.text.includes('<script'), `${qs}: markup not echoed`);
  }
  const html = await get(`/markets/demo/BTCUSDT?overlay=${encodeURIComponent('"><img src=x onerror=alert(1)>')}`);
  assert.equal(html.status, 400);
  assert.ok(!html.text.includes('<img src=x'), 'the HTML error page does not echo markup');
  for (const p of ['/markets/demo/NOPEUSDT', '/markets/demo/%3Cscript%3E', '/markets/DEMO/BTCUSDT', '/api/v1/markets/nope/BTCUSDT']) {
    const r = await get(p);
    assert.equal(r.status, 404, p);
    assert.ok(!r.text.includes('<script>'), p);
  }
});

test('upload as the script sends it: raw text/csv body, all rows stored, audited; the same file again adds nothing', async () => {
  const rows = Array.from({ length: 48 }, (_, i) => kline(Date.UTC(2024, 3, 30) + i * H, 3000 + i)); // April into May
  const csv = rows.join('\n') + '\n';
  const fields = { exchange: 'binance', symbol: 'ETHUSDT', timeframe: '1h', format: 'binance' };
  const beforeAudit = await audits();
  const r = await upload(fields, csv);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual({ rows: r.json.imported.rows, new: r.json.imported.new, created: r.json.imported.market_created },
    { rows: 48, new: 48, created: true });
  assert.equal(r.json.imported.chart, '/markets/binance/ETHUSDT?tf=1h');
  assert.equal(await count(market('binance', 'ETHUSDT')), 48);
  assert.equal(await q1(`SELECT count(DISTINCT tableoid) FROM candles WHERE ${market('binance', 'ETHUSDT')}`), '2', 'April and May partitions');
  assert.equal(await audits(), beforeAudit + 1);
  const a = JSON.parse(await q1("SELECT json_build_object('actor', actor_user_id, 'after', after) FROM audit_log WHERE action = 'candles.import' ORDER BY id DESC LIMIT 1"));
  assert.equal(a.actor, users.ceoId);
  assert.equal(a.after.source, 'upload');
  assert.equal(a.after.rows, 48);
  assert.equal(a.after.new, 48);
  assert.equal(a.after.format, 'binance');

  // the list is not stale: the import dropped its cache
  const list = await get('/api/v1/markets');
  const m = list.json.markets.find((x) => x.symbol === 'ETHUSDT' && x.exchange === 'binance');
  assert.deepEqual(m.series.map((s) => [s.timeframe, s.candles, s.last_close]), [['1h', 48, 3047 + 5]]);

  const again = await upload(fields, csv);
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json.imported.new, 0);
  assert.equal(again.json.imported.market_created, false);
  assert.equal(await count(market('binance', 'ETHUSDT')), 48);
  assert.equal(await q1(`SELECT candles FROM market_series WHERE ${market('binance', 'ETHUSDT')}`), '48', 'summary unchanged');
  assert.equal(await audits(), beforeAudit + 2, 'one audit row per import');

  const chart = await get('/markets/binance/ETHUSDT?tf=1h&limit=48');
  assert.equal(occurrences(svgOf(chart.text), '<rect class="body '), 48);
});

test('upload without script: the CSV pasted in the form (CRLF lines, generic format)', async () => {
  const lines = ['timestamp,open,high,low,close,volume'];
  for (let i = 0; i < 10; i++) lines.push(`2024-06-0${Math.floor(i / 4) + 1}T${String((i % 4) * 6).padStart(2, '0')}:00:00Z,10,12,9,11,${i}`);
  const r = await formPost({ exchange: 'demo', symbol: 'SOLBRL', timeframe: '1h', format: 'generic', csv: lines.join('\r\n') });
  assert.equal(r.status, 200, r.text.slice(0, 500));
  assert.match(r.text, /class="notice" role="status"[^>]*>[^<]*10 candles \(10 new\)/);
  assert.match(r.text, /href="\/markets\/demo\/SOLBRL\?tf=1h"/);
  assert.equal(await count(market('demo', 'SOLBRL')), 10);
  assert.equal(await q1("SELECT base || '/' || quote FROM markets WHERE symbol = 'SOLBRL'"), 'SOL/BRL');
  const a = JSON.parse(await q1("SELECT after FROM audit_log WHERE action = 'candles.import' ORDER BY id DESC LIMIT 1"));
  assert.equal(a.source, 'form');
  // the form page itself: the script is a static file, the CSRF token is in the form
  const f = await get('/markets/import', users.ceo);
  assert.equal(f.status, 200);
  assert.match(f.text, /<script src="\/static\/js\/markets-import\.js" defer><\/script>/);
  assert.ok(!/<script>/.test(f.text), 'no inline script');
  assert.match(f.text, /<progress id="import-progress"/);
  assert.match(f.text, /name="_csrf" value="[^"]{32,}"/);
  const js = await stack.fetch('/static/js/markets-import.js');
  assert.equal(js.status, 200);
  const jsText = await js.text();
  assert.match(jsText, /setRequestHeader\('X-CSRF-Token'/);
  assert.match(jsText, /setRequestHeader\('Content-Type', 'text\/csv'\)/);
  assert.match(jsText, /upload\.addEventListener\('progress'/);
});

test('a bad CSV is refused with 422 naming the lines, and nothing is stored', async () => {
  const base = Date.UTC(2024, 7, 1);
  const rows = Array.from({ length: 8 }, (_, i) => kline(base + i * H, 500 + i));
  rows[2] = [base + 2 * H, 100, 90, 80, 95, 1, 0, 0, 0, 0, 0, 0].join(','); // high below open
  rows[5] = 'not,a,candle';
  const snapshot = async () => [await count(), await audits(), await q1('SELECT count(*) FROM markets'),
    await q1('SELECT coalesce(sum(candles), 0) FROM market_series'), await q1("SELECT to_regclass('candles_y2024m08') IS NULL")];
  const before = await snapshot();
  const fields = { exchange: 'binance', symbol: 'ADAUSDT', timeframe: '1h', format: 'binance' };
  const r = await upload(fields, rows.join('\n'));
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.error.code, 'invalid_csv');
  assert.equal(r.json.error.bad_lines, 2);
  assert.deepEqual(r.json.error.lines.map((l) => l.line), [3, 6]);
  assert.match(r.json.error.lines[0].reason, /high is below max\(open, close\)/);
  assert.match(r.json.error.lines[1].reason, /expected 12 fields/);
  assert.deepEqual(await snapshot(), before, 'no row, market, summary, partition or audit record');

  // the form shows the same lines
  const f = await formPost({ ...fields, csv: rows.join('\n') });
  assert.equal(f.status, 422);
  assert.match(f.text, /<li>line 3: high is below max\(open, close\)<\/li>/);
  assert.match(f.text, /<li>line 6: expected 12 fields/);
  assert.deepEqual(await snapshot(), before);

  // at most 50 lines are listed, all are counted
  const many = Array.from({ length: 60 }, (_, i) => `${base + i * H},1,0.5,0.2,1,1,0,0,0,0,0,0`);
  const m = await upload(fields, many.join('\n'));
  assert.equal(m.status, 422);
  assert.equal(m.json.error.lines.length, 50);
  assert.equal(m.json.error.bad_lines, 60);
  const mf = await formPost({ ...fields, csv: many.join('\n') });
  assert.equal(mf.status, 422);
  assert.equal(occurrences(mf.text, '<li>line '), 50);
  assert.match(mf.text, /<p>10 more lines with errors are not listed\.<\/p>/);
  assert.deepEqual(await snapshot(), before);

  // fields are checked too: 422 naming them
  const bad = await upload({ exchange: 'Bin ance', symbol: 'btc', timeframe: '2h', format: 'xml' }, rows.join('\n'));
  assert.equal(bad.status, 422);
  assert.equal(bad.json.error.code, 'invalid_import');
  assert.deepEqual(Object.keys(bad.json.error.fields).sort(), ['exchange', 'format', 'symbol', 'timeframe']);
  const noAssets = await upload({ ...fields, symbol: 'FOOBAR' }, rows.join('\n'));
  assert.equal(noAssets.status, 422);
  assert.deepEqual(Object.keys(noAssets.json.error.fields), ['assets']);
  const empty = await upload(fields, '\n\n');
  assert.equal(empty.status, 422);
  assert.equal(empty.json.error.code, 'empty_csv');
  const mp = await upload(fields, '--x\r\n\r\n--x--', { type: 'multipart/form-data; boundary=x' });
  assert.equal(mp.status, 415);
  assert.deepEqual(await snapshot(), before);
});

test('body limits: an upload may exceed the general body limit up to http.max_upload_bytes, and no further', async () => {
  // ~1.5 MiB of klines: more than http.max_body_bytes (1 MiB), less than this stack's upload limit (2 MiB)
  const start = Date.UTC(2022, 0, 1);
  const rows = [];
  for (let i = 0, size = 0; size < 1.5 * 1024 * 1024; i += 1) {
    rows.push(kline(start + i * H, 20000 + (i % 100)));
    size += rows.at(-1).length + 1;
  }
  const csv = rows.join('\n');
  assert.ok(csv.length > 1024 * 1024 && csv.length < UPLOAD_MAX);
  const r = await upload({ exchange: 'binance', symbol: 'BIGUSDT', timeframe: '1h', format: 'binance' }, csv);
  assert.equal(r.status, 200, r.text.slice(0, 300));
  assert.equal(r.json.imported.rows, rows.length);
  assert.equal(await count(market('binance', 'BIGUSDT')), rows.length);

  const before = await count();
  const huge = csv + '\n' + csv.slice(0, UPLOAD_MAX - csv.length + 10);
  const t = await upload({ exchange: 'binance', symbol: 'HUGEUSDT', timeframe: '1h', format: 'binance' }, huge);
  assert.equal(t.status, 413, t.text.slice(0, 200));
  assert.equal(await count(), before);
  // other routes keep the general limit
  const other = await stack.fetch('/api/v1/account/2fa/verify', {
    method: 'POST',
    headers: { cookie: users.ceo.cookie, 'x-csrf-token': users.ceo.csrf, 'content-type': 'application/json' },
    body: JSON.stringify({ code: 'x'.repeat(1100 * 1024) }),
  });
  await other.text();
  assert.equal(other.status, 413);
});

test('permissions: a trader views markets but cannot import; the import needs the CSRF token; the route is declared', async () => {
  const csv = kline(Date.UTC(2024, 9, 1), 1) + '\n';
  const fields = { exchange: 'binance', symbol: 'XRPUSDT', timeframe: '1h', format: 'binance' };
  const before = await count();
  const t = await upload(fields, csv, { who: users.trader });
  assert.equal(t.status, 403);
  assert.equal(t.json.error.code, 'forbidden');
  const tf = await formPost({ ...fields, csv }, users.trader);
  assert.equal(tf.status, 403);
  assert.equal((await get('/markets/import')).status, 403);
  assert.equal((await get('/markets/demo/BTCUSDT')).status, 200);
  const noCsrf = await upload(fields, csv, { csrf: null });
  assert.equal(noCsrf.status, 403);
  assert.equal(noCsrf.json.error.code, 'csrf');
  assert.equal(await count(), before);
  assert.equal(await q1("SELECT count(*) FROM markets WHERE symbol = 'XRPUSDT'"), '0');
  // anonymous: login first
  const anon = await stack.fetch('/markets');
  await anon.text();
  assert.equal(anon.status, 303);

  const { stdout } = await run(path.join(REPO, 'cgi', 'botcriptofy-fcgi'), ['-c', stack.env.BCF_CONFIG, '--routes']);
  const routes = stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.pattern.includes('/markets'));
  const imp = routes.find((r) => r.method === 'POST' && r.pattern === '/api/v1/markets/import');
  assert.deepEqual([imp.permission, imp.rate_action], ['markets.import', 'markets.import']);
  assert.ok(imp.flags.includes('csrf') && imp.flags.includes('upload'));
  assert.ok(routes.filter((r) => r.method === 'GET').every((r) => r.permission === 'markets.view' || r.pattern.endsWith('/import')));
  assert.equal(await q1("SELECT string_agg(role_key, ',' ORDER BY role_key) FROM role_permissions WHERE permission_key = 'markets.import'"),
    'ceo,configuracoes.manager');
  assert.ok(fs.existsSync(path.join(REPO, 'sql', '0012_markets.sql')));
});

test('markup in stored market data comes back escaped', async () => {
  // the table's CHECKs keep markup out of market names; an attacker with database access lifts them
  await psql(stack, "INSERT INTO markets (exchange, symbol, base, quote) VALUES ('demo', 'XSSUSDT', 'XSS', 'USDT')");
  await psql(stack, `ALTER TABLE markets DROP CONSTRAINT markets_base_check;
    UPDATE markets SET base = '<script>alert(1)</script>' WHERE symbol = 'XSSUSDT'`, { user: 'postgres' });
  await stack.botctl('cache-invalidate', 'markets');
  for (const p of ['/markets', '/markets/demo/XSSUSDT']) {
    const page = await get(p);
    assert.equal(page.status, 200, p);
    assert.ok(!page.text.includes('<script>alert(1)'), `${p} shows raw markup`);
    assert.ok(page.text.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), `${p} shows the name escaped`);
  }
  const j = await get('/api/v1/markets/demo/XSSUSDT');
  assert.equal(j.json.market.base, '<script>alert(1)</script>', 'the JSON twin carries it as data');
});
