// tests/integration/candles.test.mjs — market data on a real stack: `botctl candles import` into monthly
// partitions (idempotent, all-or-nothing, audited), seeded `botctl candles synth`, and the partition function's rights.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack } from './harness.mjs';
import { psql } from './lib.mjs';

const H = 3_600_000;
const JAN31_22H = Date.UTC(2024, 0, 31, 22); // the file crosses from January into February

let stack;
let tmp;

before(async () => {
  stack = await startStack();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-candles-'));
});

after(async () => {
  await stack?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** A Binance kline line for open time t (price p), in the exchange's 12-column layout. */
function kline(t, p) {
  return [t, p, p + 10, p - 10, p + 5, 12.5, t + H - 1, 1000, 42, 6, 500, 0].join(',');
}

function writeFile(name, lines) {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, lines.join('\n') + '\n');
  return f;
}

/** botctl candles ...: resolves { code, stdout, stderr } whatever the exit status. */
async function candles(...args) {
  try {
    const { stdout, stderr } = await stack.botctl('candles', ...args);
    return { code: 0, stdout, stderr };
  } catch (e) {
    if (e.code === undefined) throw e;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const count = async (where = 'true') => Number(await psql(stack, `SELECT count(*) FROM candles WHERE ${where}`));
const audits = async (action) => Number(await psql(stack, `SELECT count(*) FROM audit_log WHERE action = '${action}'`));
const BTC = "market_id = (SELECT id FROM markets WHERE exchange = 'binance' AND symbol = 'BTCUSDT')";

test('import puts each row in its month partition; a re-import changes nothing and says 0 new', async () => {
  const rows = [0, 1, 2, 3, 4].map((i) => kline(JAN31_22H + i * H, 42000 + i));
  const file = writeFile('btc.csv', rows);
  const args = ['import', '--exchange', 'binance', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--format', 'binance', file];
  const before = await audits('candles.import');
  const r = await candles(...args);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^imported 5 candles \(5 new\)$/m);
  assert.equal(await count(BTC), 5);
  const market = await psql(stack, "SELECT base || '/' || quote FROM markets WHERE exchange = 'binance' AND symbol = 'BTCUSDT'");
  assert.equal(market, 'BTC/USDT');
  const parts = await psql(stack, `SELECT tableoid::regclass || ':' || count(*) FROM candles WHERE ${BTC} GROUP BY tableoid ORDER BY 1`);
  assert.deepEqual(parts.split('\n'), ['candles_y2024m01:2', 'candles_y2024m02:3']);
  assert.equal(await count(`${BTC} AND tableoid = 'candles_default'::regclass`), 0);
  const first = await psql(stack, `SELECT open || ',' || high || ',' || low || ',' || close || ',' || volume FROM candles WHERE ${BTC} AND open_time = ${JAN31_22H}`);
  assert.equal(first, '42000,42010,41990,42005,12.5');

  const again = await candles(...args);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^imported 5 candles \(0 new\)$/m);
  assert.equal(await count(BTC), 5);
  assert.equal(await audits('candles.import'), before + 2, 'one audit row per import');
  const a = JSON.parse(await psql(stack, "SELECT after FROM audit_log WHERE action = 'candles.import' ORDER BY id DESC LIMIT 1"));
  assert.equal(a.rows, 5);
  assert.equal(a.new, 0);
  assert.equal(a.timeframe, '1h');
  const obj = await psql(stack, "SELECT object_type || ':' || object_id || ':' || coalesce(tenant_id::text, '-') || ':' || coalesce(actor_user_id::text, '-') FROM audit_log WHERE action = 'candles.import' ORDER BY id DESC LIMIT 1");
  const id = await psql(stack, "SELECT id FROM markets WHERE exchange = 'binance' AND symbol = 'BTCUSDT'");
  assert.equal(obj, `market:${id}:-:-`);
});

test('one bad row in the middle: exit 1, the line is named, nothing is written', async () => {
  const base = Date.UTC(2024, 2, 1);
  const rows = [0, 1, 2, 3, 4, 5].map((i) => kline(base + i * H, 30000 + i));
  rows[3] = [base + 3 * H, 100, 90, 80, 95, 1, 0, 0, 0, 0, 0, 0].join(','); // high below open
  const file = writeFile('bad.csv', rows);
  const beforeRows = await count();
  const beforeAudit = await audits('candles.import');
  const beforeMarkets = Number(await psql(stack, 'SELECT count(*) FROM markets'));
  const r = await candles('import', '--exchange', 'binance', '--symbol', 'ETHUSDT', '--timeframe', '1h', '--format', 'binance', file);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^line 4: high is below max\(open, close\)$/m);
  assert.doesNotMatch(r.stderr, /^line [12356]:/m);
  assert.equal(r.stdout, '');
  assert.equal(await count(), beforeRows);
  assert.equal(await audits('candles.import'), beforeAudit);
  assert.equal(Number(await psql(stack, 'SELECT count(*) FROM markets')), beforeMarkets, 'no market made either');
  assert.equal(await psql(stack, "SELECT to_regclass('candles_y2024m03') IS NULL"), 't', 'no partition made');

  // a generic file whose rows go back in time is refused the same way
  const g = writeFile('gen.csv', ['timestamp,open,high,low,close,volume', '2024-03-01T01:00:00Z,1,2,0.5,1.5,1',
    '2024-03-01T00:00:00Z,1,2,0.5,1.5,1']);
  const r2 = await candles('import', '--exchange', 'binance', '--symbol', 'ETHUSDT', '--timeframe', '1h', '--format', 'generic', g);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /^line 3: open time \d+ is not after the previous row's/m);
  assert.equal(await count(), beforeRows);

  // bad arguments are usage errors that touch nothing
  const r3 = await candles('import', '--exchange', 'binance', '--symbol', 'ETHUSDT', '--timeframe', '2h', '--format', 'binance', file);
  assert.equal(r3.code, 2);
  assert.equal(await count(), beforeRows);
});

test('synth: seeded rows stored; the same seed again gives identical rows', async () => {
  const args = (sym, seed) => ['synth', '--exchange', 'demo', '--symbol', sym, '--timeframe', '1h', '--from', '2024-01-01', '--count', '2000', '--seed', String(seed)];
  const beforeAudit = await audits('candles.synth');
  const r = await candles(...args('BTCUSDT', 42));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^generated 2000 candles \(2000 new\)$/m);
  const q = (sym) => `SELECT md5(string_agg(open_time || ':' || open || ':' || high || ':' || low || ':' || close || ':' || volume, ';' ORDER BY open_time))
    FROM candles WHERE market_id = (SELECT id FROM markets WHERE exchange = 'demo' AND symbol = '${sym}')`;
  const h1 = await psql(stack, q('BTCUSDT'));
  const again = await candles(...args('BTCUSDT', 42));
  assert.match(again.stdout, /^generated 2000 candles \(0 new\)$/m);
  assert.equal(await psql(stack, q('BTCUSDT')), h1);
  assert.equal(await count("market_id = (SELECT id FROM markets WHERE exchange = 'demo' AND symbol = 'BTCUSDT')"), 2000);

  // the same seed on another market gives the very same series; another seed does not
  assert.equal((await candles(...args('ETHUSDT', 42))).code, 0);
  assert.equal(await psql(stack, q('ETHUSDT')), h1);
  assert.equal((await candles(...args('SOLUSDT', 43))).code, 0);
  assert.notEqual(await psql(stack, q('SOLUSDT')), h1);
  assert.equal(await audits('candles.synth'), beforeAudit + 4);
  // 2000 hours from January 1st reach into March: three partitions
  const parts = await psql(stack, `SELECT count(DISTINCT tableoid) FROM candles WHERE market_id = (SELECT id FROM markets WHERE exchange = 'demo' AND symbol = 'SOLUSDT')`);
  assert.equal(parts, '3');
});

test('the app role cannot create tables, but can make a partition through the function', async () => {
  await assert.rejects(psql(stack, 'CREATE TABLE candles_rogue (x int)'), /permission denied/);
  await assert.rejects(psql(stack, `CREATE TABLE candles_y2030m01 PARTITION OF candles FOR VALUES FROM (1893456000000) TO (1896134400000)`), /permission denied|must be owner/);
  assert.equal(await psql(stack, `SELECT candles_ensure_partition(${Date.UTC(2030, 0, 15)})`), 'candles_y2030m01');
  assert.equal(await psql(stack, `SELECT candles_ensure_partition(${Date.UTC(2030, 0, 20)})`), 'candles_y2030m01', 'idempotent');
  assert.equal(await psql(stack, "SELECT relowner::regrole FROM pg_class WHERE relname = 'candles_y2030m01'"), 'botcriptofy_owner');

  // a row that landed in the default partition moves when its month's partition is made
  const t = Date.UTC(2031, 4, 2);
  await psql(stack, `INSERT INTO candles VALUES ((SELECT id FROM markets WHERE symbol = 'BTCUSDT' AND exchange = 'binance'), '1d', ${t}, 1, 2, 0.5, 1.5, 3)`);
  assert.equal(await psql(stack, `SELECT tableoid::regclass FROM candles WHERE open_time = ${t}`), 'candles_default');
  assert.equal(await psql(stack, `SELECT candles_ensure_partition(${t})`), 'candles_y2031m05');
  assert.equal(await psql(stack, `SELECT tableoid::regclass FROM candles WHERE open_time = ${t}`), 'candles_y2031m05');

  // the table's own checks hold against direct writes too
  await assert.rejects(psql(stack, `INSERT INTO candles VALUES ((SELECT id FROM markets WHERE symbol = 'BTCUSDT' AND exchange = 'binance'), '1d', ${t + 86400000}, 1, 2, 0, 1.5, 3)`), /check constraint/);
  await assert.rejects(psql(stack, `INSERT INTO candles VALUES ((SELECT id FROM markets WHERE symbol = 'BTCUSDT' AND exchange = 'binance'), '1d', ${t + 86400000}, 'NaN', 'NaN', 0.5, 1.5, 3)`), /check constraint/);
  await assert.rejects(psql(stack, `INSERT INTO candles VALUES ((SELECT id FROM markets WHERE symbol = 'BTCUSDT' AND exchange = 'binance'), '2h', ${t + 86400000}, 1, 2, 0.5, 1.5, 3)`), /check constraint/);
  await assert.rejects(psql(stack, 'SELECT candles_ensure_partition(-1)'), /out of range/);
});
