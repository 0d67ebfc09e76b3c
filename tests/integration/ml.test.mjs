// tests/integration/ml.test.mjs — ML models on a real stack: markets made here (one with a planted
// signal, one pure random walk) imported through the markets API; logistic regression beats the naive
// baseline on the first and not on the second; a GRU's curve; versions per name (racing requests
// included); prediction runs and an ml_signal backtest that trades on them; refused input storing
// nothing; another tenant's 404 and its ml_signal backtest finding no predictions.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';
import { apiGet, apiPost, enrolTotp, login, makeTrader, psql, sessionCsrf, waitFor } from './lib.mjs';

const H = 3600_000;
const T0 = Date.UTC(2024, 0, 1);
const PLANTED = 'demo:PLANTUSDT:1h';
const WALK = 'demo:WALKUSDT:1h';
const PLANTED_CANDLES = 3000;
const WARMUP = 50; // the features' warm-up (docs/ml.md); logistic regression adds no context

let stack;
let me; // the demo trader: { cookie, csrf }
let other; // a trader of another tenant
let planted; // the logistic regression trained on the planted market (its JSON)

/**
 * A generic-format candle CSV of n hourly candles from T0 whose log returns follow
 * r[t] = phi * r[t-1] + 0.01 * noise: phi < 0 plants a signal (a move tends to be undone on the next
 * candle), phi = 0 is a pure random walk. Seeded, so every run imports the same market.
 */
function candleCsv(n, phi, seed) {
  let s = seed >>> 0;
  const u = () => { // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  const rows = ['timestamp,open,high,low,close,volume'];
  let close = 100;
  let r = 0;
  for (let i = 0; i < n; i++) {
    r = phi * r + 0.01 * gauss();
    const open = close;
    close = open * Math.exp(r);
    const high = Math.max(open, close) * (1 + 0.002 * u());
    const low = Math.min(open, close) * (1 - 0.002 * u());
    rows.push([T0 + i * H, open.toFixed(6), high.toFixed(6), low.toFixed(6), close.toFixed(6), (100 + 50 * u()).toFixed(3)].join(','));
  }
  return rows.join('\n') + '\n';
}

/** Imports a CSV as the markets import page's script does (the CEO holds markets.import). */
async function importMarket(ceo, symbol, csv) {
  const q = new URLSearchParams({ exchange: 'demo', symbol, timeframe: '1h', format: 'generic' });
  const res = await stack.fetch(`/api/v1/markets/import?${q}`, {
    method: 'POST', headers: { cookie: ceo.cookie, 'x-csrf-token': ceo.csrf, 'content-type': 'text/csv' }, body: csv,
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
}

const get = (p, who = me) => apiGet(stack, who.cookie, p);
const post = (p, body, who = me) => apiPost(stack, who.cookie, who.csrf, p, body);

/** Trains through the API and waits for the stored report; resolves the model's JSON. */
async function train(body) {
  const r = await post('/api/v1/models', body);
  assert.equal(r.res.status, 201, r.text);
  return waitModel(r.json.id);
}

async function waitModel(id) {
  return waitFor(async () => {
    const g = await get(`/api/v1/models/${id}`);
    const st = g.json?.model?.status;
    assert.ok(!['failed', 'dead', 'cancelled'].includes(st), `training ${st}: ${g.json?.model?.error}`);
    return st === 'done' ? g.json : null;
  }, { timeoutMs: 60_000, intervalMs: 200 });
}

/** Queues a prediction run and waits for it; resolves the run's row of the model's page. */
async function predict(modelId, body) {
  const r = await post(`/api/v1/models/${modelId}/predict`, body);
  assert.equal(r.res.status, 201, r.text);
  return waitFor(async () => {
    const run = (await get(`/api/v1/models/${modelId}`)).json.prediction_runs.find((x) => x.id === r.json.id);
    assert.ok(!['failed', 'dead'].includes(run.status), `prediction ${run.status}: ${run.error}`);
    return run.status === 'done' ? run : null;
  }, { timeoutMs: 30_000, intervalMs: 200 });
}

/** Queues a backtest and waits until its job ends; resolves the backtest's JSON. */
async function backtest(body, who = me) {
  const r = await post('/api/v1/backtests', body, who);
  assert.equal(r.res.status, 201, r.text);
  return waitFor(async () => {
    const b = (await get(`/api/v1/backtests/${r.json.id}`, who)).json;
    return ['done', 'failed', 'dead'].includes(b.backtest.status) ? b : null;
  }, { timeoutMs: 30_000, intervalMs: 200 });
}

const counts = () => psql(stack, `SELECT (SELECT count(*) FROM ml_models) || '/' || (SELECT count(*) FROM ml_prediction_runs)
  || '/' || (SELECT count(*) FROM jobs)`);

before(async () => {
  // many requests of one user in a few seconds: the models' own limit is not under test here
  stack = await startStack({ config: { 'ratelimit.models.write': '1000/min' } });
  const c = await login(stack, { email: 'ceo@botcriptofy.dev', password: 'demo-company-2026' });
  const en = await enrolTotp(stack, c.cookie);
  const ceo = { cookie: en.cookie, csrf: await sessionCsrf(stack, en.cookie) };
  await importMarket(ceo, 'PLANTUSDT', candleCsv(PLANTED_CANDLES, -0.5, 11));
  await importMarket(ceo, 'WALKUSDT', candleCsv(4000, 0, 12));
  const t = await login(stack);
  me = { cookie: t.cookie, csrf: await sessionCsrf(stack, t.cookie) };
  const o = await makeTrader(stack, 'ml-other');
  const ol = await login(stack, { email: o.email });
  other = { cookie: ol.cookie, csrf: await sessionCsrf(stack, ol.cookie) };
});

after(async () => {
  await stack?.stop();
});

test('logistic regression finds the planted signal: test AUC > 0.6 and log-loss below the naive baseline', async () => {
  planted = await train({ name: 'planted', market: PLANTED, from: '2024-01-01', to: '2024-07-01', options: { kind: 'logreg' } });
  const m = planted.model;
  assert.equal(m.version, 1);
  // the report as the job stored it
  const report = JSON.parse(await psql(stack, `SELECT report FROM ml_models WHERE id = ${m.id}`));
  const { test: t, baseline_test: b } = report.metrics;
  assert.ok(t.auc > 0.6, `test AUC ${t.auc}`);
  assert.ok(t.logloss < b.logloss, `test log-loss ${t.logloss} against the baseline's ${b.logloss}`);
  assert.equal(t.n + report.metrics.val.n + report.metrics.train.n > 2500, true, 'every set has its rows');
  assert.ok(report.split.train[1] < report.split.val[0] && report.split.val[1] < report.split.test[0], 'sets in time order');
  assert.deepEqual(m.report, report, 'the JSON twin carries the stored report');
  assert.equal(m.verdict, 'beats');
  assert.ok(Math.abs(m.logloss_gain - (b.logloss - t.logloss)) < 1e-12);
  // the options are stored complete (defaults filled in)
  assert.equal(m.options.hyperparameters.epochs, 50);
  assert.equal(m.options.horizon, 1);
  // the list shows it with its test scores
  const list = (await get('/api/v1/models')).json.models;
  const row = list.find((x) => x.id === m.id);
  assert.equal(row.test_auc, t.auc);
  assert.equal(row.verdict, 'beats');
  // the page: the metrics against the baseline in words, the curve and the split
  const page = await stack.fetch(`/models/${m.id}`, { headers: { cookie: me.cookie, 'accept-language': 'en' } });
  const html = await page.text();
  assert.equal(page.status, 200);
  assert.match(html, /The model beats the naive baseline on the test candles/);
  assert.match(html, /<svg[^>]*class="chart chart-lines"/);
  assert.match(html, /Time split/);
  assert.equal(await psql(stack, `SELECT count(*) FROM audit_log WHERE action = 'models.create' AND object_id = '${m.id}'`), '1');
});

test('on a pure random walk the model does not beat the baseline meaningfully', async () => {
  const m = (await train({ name: 'walk', market: WALK, from: '2024-01-01', to: '2024-07-01', options: { kind: 'logreg' } })).model;
  const t = m.report.metrics.test;
  assert.ok(Math.abs(t.auc - 0.5) <= 0.06, `test AUC ${t.auc}`);
  assert.ok(m.logloss_gain < 0.005, `log-loss gain ${m.logloss_gain}`);
  assert.notEqual(m.verdict, 'beats');
  const html = await (await stack.fetch(`/models/${m.id}`, { headers: { cookie: me.cookie, 'accept-language': 'en' } })).text();
  assert.doesNotMatch(html, /The model beats the naive baseline/);
});

test('a GRU trains with a few epochs and draws its training curve with the best epoch', async () => {
  const m = (await train({ name: 'gru small', market: PLANTED, from: '2024-01-01', to: '2024-07-01',
    options: { kind: 'gru', hyperparameters: { hidden: 4, seq_len: 4, epochs: 3, patience: 0 } } })).model;
  const c = m.report.curve;
  assert.equal(c.train_loss.length, 3, 'every epoch ran (patience 0)');
  assert.equal(c.val_loss.length, 3);
  assert.ok(c.best_epoch >= 1 && c.best_epoch <= 3);
  assert.equal(m.options.hyperparameters.hidden, 4);
  assert.equal(m.report.split.first, WARMUP + 3, 'the window of 4 candles starts after the warm-up');
  const html = await (await stack.fetch(`/models/${m.id}`, { headers: { cookie: me.cookie } })).text();
  assert.match(html, /<path class="line ov2"/, 'training loss');
  assert.match(html, /<path class="line ov5"/, 'validation loss');
  assert.match(html, /<path class="line s-best"/, 'the best epoch marked');
  assert.match(html, /Melhor época \(\d\)/, 'pt-BR first');
  // deleting it removes the row, and leaves an audit record
  const del = await post(`/api/v1/models/${m.id}/delete`);
  assert.equal(del.res.status, 200, del.text);
  assert.equal((await get(`/api/v1/models/${m.id}`)).res.status, 404);
  assert.equal(await psql(stack, `SELECT count(*) FROM audit_log WHERE action = 'models.delete' AND object_id = '${m.id}'`), '1');
});

test('versions count up per name, also for trainings asked for at the same moment', async () => {
  const body = { name: 'versioned', market: PLANTED, from: '2024-01-01', to: '2024-03-01',
    options: { kind: 'logreg', hyperparameters: { epochs: 2 } } };
  const first = await post('/api/v1/models', body);
  assert.equal(first.res.status, 201, first.text);
  assert.equal(first.json.version, 1);
  // three more wait behind a lock on the table, then all compute the same next version at once:
  // the unique key refuses all but one and the others retry
  const lock = psql(stack, 'BEGIN; LOCK TABLE ml_models IN SHARE ROW EXCLUSIVE MODE; SELECT pg_sleep(1); COMMIT;',
    { user: 'botcriptofy_owner' });
  await waitFor(async () => (await psql(stack, `SELECT count(*) FROM pg_locks WHERE granted AND
    relation = 'ml_models'::regclass AND mode = 'ShareRowExclusiveLock'`)) === '1', { timeoutMs: 5000, intervalMs: 20 });
  const racing = await Promise.all([post('/api/v1/models', body), post('/api/v1/models', body), post('/api/v1/models', body)]);
  await lock;
  for (const r of racing) assert.equal(r.res.status, 201, r.text);
  assert.deepEqual(racing.map((r) => r.json.version).sort(), [2, 3, 4]);
  assert.match(await stack.logs('postgres'), /ml_models_tenant_id_name_version_key/, 'a collision happened and was retried');
  assert.equal(await psql(stack, "SELECT string_agg(version::text, ',' ORDER BY version) FROM ml_models WHERE name = 'versioned'"), '1,2,3,4');
  // another name starts at 1 again
  const fresh = await post('/api/v1/models', { ...body, name: 'versioned 2' });
  assert.equal(fresh.json.version, 1);
  const shown = await waitModel(racing[0].json.id);
  assert.deepEqual(shown.versions.map((v) => v.version), [4, 3, 2, 1]);
  assert.equal(shown.versions.filter((v) => v.current).length, 1);
  const html = await (await stack.fetch(`/models/${first.json.id}`, { headers: { cookie: me.cookie } })).text();
  for (const r of racing) assert.match(html, new RegExp(`href="/models/${r.json.id}">v${r.json.version}<`));
  // the form: the kind's defaults shown; a form post is redirected to the new model
  const form = await (await stack.fetch('/models/new?kind=gru', { headers: { cookie: me.cookie } })).text();
  assert.match(form, /name="hp\.hidden" step="1" value="16"/);
  assert.match(form, /name="hp\.epochs" step="1" value="30"/);
  const lr = await (await stack.fetch('/models/new', { headers: { cookie: me.cookie } })).text();
  assert.match(lr, /name="hp\.epochs" step="1" value="50"/);
  assert.doesNotMatch(lr, /hp\.hidden/, 'logistic regression has no hidden units');
  const res = await stack.fetch('/models', {
    method: 'POST', headers: { cookie: me.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: me.csrf, kind: 'logreg', name: 'versioned', market: PLANTED, from: '2024-01-01',
      to: '2024-03-01', 'hp.epochs': '7', 'hp.learning_rate': '0.02' }).toString(),
  });
  await res.text();
  assert.equal(res.status, 303);
  const id = Number(res.headers.get('location').split('/').pop());
  assert.equal(await psql(stack, `SELECT version || '/' || (options->'hyperparameters'->>'epochs') || '/' ||
    (options->'hyperparameters'->>'learning_rate') FROM ml_models WHERE id = ${id}`), '5/7/0.02');
});

test('a prediction run predicts every candle after the warm-up, and an ml_signal backtest trades on it', async () => {
  const id = planted.model.id;
  // the whole series: nothing before its first candle, so the first 50 only warm the features up
  const all = await predict(id, { market: PLANTED, from: '2024-01-01', to: '2024-07-01' });
  assert.equal(all.predictions, PLANTED_CANDLES - WARMUP);
  // a later period: the candles before it warm up, so every candle of the period gets a probability
  const inPeriod = (Date.UTC(2024, 4, 1) - Date.UTC(2024, 2, 1)) / H;
  const part = await predict(id, { market: PLANTED, from: '2024-03-01', to: '2024-05-01' });
  assert.equal(part.predictions, inPeriod);
  assert.equal(await psql(stack, `SELECT count(*) FROM ml_predictions WHERE model_id = ${id}`), String(PLANTED_CANDLES - WARMUP));
  assert.equal(await psql(stack, `SELECT count(*) FROM ml_predictions WHERE model_id = ${id} AND (prob < 0 OR prob > 1)`), '0');
  assert.equal(await psql(stack, `SELECT count(*) FROM audit_log WHERE action = 'models.predict' AND object_id = '${part.id}'`), '1');

  const bt = await backtest({ name: 'ML planted', markets: [PLANTED], from: '2024-03-01', to: '2024-05-01', initial_balance: '10000',
    config: { strategy: 'ml_signal', params: { model_id: id, buy_above: 0.55, sell_below: 0.45 }, risk: { stake_pct: 90 },
      costs: { fee_bps: 0, slippage_bps: 0 } } });
  assert.equal(bt.backtest.status, 'done', bt.backtest.error);
  assert.ok(bt.report.summary.trades > 0, `trades: ${bt.report.summary.trades}`);

  // "backtest with this model" opens the backtest form filled in from the newest prediction run
  const shown = (await get(`/api/v1/models/${id}`)).json;
  assert.equal(shown.backtest_url, part.backtest_url);
  const form = await (await stack.fetch(shown.backtest_url, { headers: { cookie: me.cookie } })).text();
  assert.match(form, /<option value="ml_signal" selected>/);
  assert.match(form, new RegExp(`name="p\\.model_id"[^>]*value="${id}"`));
  assert.match(form, /<option value="demo:PLANTUSDT:1h" selected>/);
  assert.match(form, /name="from" [^>]*value="2024-03-01"/);
  const page = await (await stack.fetch(`/models/${id}`, { headers: { cookie: me.cookie } })).text();
  assert.ok(page.includes(`href="/backtests/new?strategy=ml_signal&amp;p.model_id=${id}&amp;`), 'the button on the page');
});

test('bad options, markets and periods get 422 naming the field, and nothing is stored or queued', async () => {
  const before = await counts();
  const base = { name: 'bad', market: PLANTED, from: '2024-01-01', to: '2024-07-01', options: { kind: 'logreg' } };
  const cases = [
    [{ options: { kind: 'forest' } }, 'options'],
    [{ options: {} }, 'options'],
    [{ options: { kind: 'logreg', hyperparameters: { epochs: 0 } } }, 'options'],
    [{ options: { kind: 'logreg', hyperparameters: { learning_rate: -1 } } }, 'options'],
    [{ options: { kind: 'logreg', hyperparameters: { epocs: 5 } } }, 'options'],
    [{ options: { kind: 'gru', hyperparameters: { hidden: 0 } } }, 'options'],
    [{ options: { kind: 'logreg', train_frac: 0.9, val_frac: 0.2 } }, 'options'],
    [{ options: { kind: 'logreg', surprise: 1 } }, 'options'],
    [{ options: 'logreg' }, 'options'],
    [{ market: 'demo:NOPEUSDT:1h' }, 'market'],
    [{ market: 'demo:PLANTUSDT:4h' }, 'market'],
    [{ from: '2024-07-01', to: '2024-01-01' }, 'range'],
    [{ from: 'yesterday' }, 'range'],
    [{ from: '2020-01-01', to: '2020-02-01' }, 'range'], // no candles
    [{ from: '2024-01-01', to: '2024-01-03T04:00:00Z' }, 'range'], // 52 candles: no training rows after the warm-up
    [{ name: '' }, 'name'],
    [{ name: 'n'.repeat(81) }, 'name'],
  ];
  for (const [patch, field] of cases) {
    const r = await post('/api/v1/models', { ...base, ...patch });
    assert.equal(r.res.status, 422, `${JSON.stringify(patch)}: ${r.text}`);
    assert.equal(r.json.error.code, 'invalid_model');
    assert.ok(r.json.error.fields[field], `${JSON.stringify(patch)} names ${field}: ${r.text}`);
  }
  // the lib's reason reaches the user
  const hp = await post('/api/v1/models', { ...base, options: { kind: 'logreg', hyperparameters: { epochs: 0 } } });
  assert.match(hp.json.error.fields.options, /epochs/);
  // the form shows the refusal and keeps what was typed
  const res = await stack.fetch('/models', {
    method: 'POST', headers: { cookie: me.cookie, 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'en' },
    body: new URLSearchParams({ _csrf: me.csrf, kind: 'logreg', name: 'typed', market: PLANTED, from: '2024-01-01',
      to: '2024-07-01', 'hp.epochs': 'many' }).toString(),
  });
  const html = await res.text();
  assert.equal(res.status, 422);
  assert.match(html, /hyperparameters\.epochs: must be a whole number/);
  assert.match(html, /name="hp\.epochs" step="1" value="many"/);
  assert.match(html, /value="typed"/);
  // prediction runs are checked the same way
  const id = planted.model.id;
  for (const [body, field] of [[{ market: 'demo:NOPEUSDT:1h', from: '2024-01-01', to: '2024-02-01' }, 'market'],
    [{ market: PLANTED, from: '2024-02-01', to: '2024-01-01' }, 'range'],
    [{ market: PLANTED, from: '2019-01-01', to: '2019-02-01' }, 'range']]) {
    const r = await post(`/api/v1/models/${id}/predict`, body);
    assert.equal(r.res.status, 422, r.text);
    assert.ok(r.json.error.fields[field], r.text);
  }
  const form = await stack.fetch(`/models/${id}/predict`, {
    method: 'POST', headers: { cookie: me.cookie, 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'en' },
    body: new URLSearchParams({ _csrf: me.csrf, market: PLANTED, from: '2019-01-01', to: '2019-02-01' }).toString(),
  });
  const page = await form.text();
  assert.equal(form.status, 422);
  assert.match(page, /The market has no candles in this period/);
  assert.match(page, /name="from" [^>]*value="2019-01-01"/, 'the prediction form keeps what was typed');
  assert.equal(await counts(), before);
});

test("another tenant gets 404 for the model and cannot backtest with it", async () => {
  const id = planted.model.id;
  assert.equal((await get(`/api/v1/models/${id}`, other)).res.status, 404);
  assert.equal((await stack.fetch(`/models/${id}`, { headers: { cookie: other.cookie } })).status, 404);
  assert.equal((await get('/api/v1/models', other)).json.models.length, 0);
  for (const p of [`/api/v1/models/${id}/predict`, `/api/v1/models/${id}/delete`]) {
    const r = await post(p, { market: PLANTED, from: '2024-01-01', to: '2024-02-01' }, other);
    assert.equal(r.res.status, 404, `${p}: ${r.text}`);
  }
  // the model is the tenant's own: another tenant naming its id is refused before anything is queued
  const counts = () => psql(stack, 'SELECT (SELECT count(*) FROM backtests) || \'/\' || (SELECT count(*) FROM jobs)');
  const before = await counts();
  const bt = await post('/api/v1/backtests', { name: 'stolen', markets: [PLANTED], from: '2024-03-01', to: '2024-05-01',
    initial_balance: '10000', config: { strategy: 'ml_signal', params: { model_id: id } } }, other);
  assert.equal(bt.res.status, 422, bt.text);
  assert.match(bt.json.error.fields.config, /model_id/);
  assert.equal(await counts(), before);
  assert.equal(await psql(stack, `SELECT count(*) FROM ml_models WHERE id = ${id}`), '1');
  assert.equal(await psql(stack, `SELECT count(*) FROM ml_prediction_runs WHERE model_id = ${id}`), '2');
});
