// tests/integration/optimize.test.mjs — optimizations and walk-forward on a real stack: a grid search
// queued through the API and its results (sorted, heatmap, progress), its page, a result turned into a
// backtest that reports the very same metrics and into a paper bot; a walk-forward report; refused
// input with nothing stored; another tenant's 404; cancel; a worker killed mid-search resuming from its
// checkpoint to the results of an uninterrupted run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';
import { apiGet, apiPost, login, makeTrader, psql, sessionCsrf, waitFor } from './lib.mjs';
import { workers } from './workers.mjs';

let stack;
let w;
let me; // { cookie, csrf } of the demo trader
let other; // another tenant's trader

const CONFIG = {
  strategy: 'sma_cross',
  params: { fast: 5, slow: 20 },
  risk: { stop_loss_pct: 4, take_profit_pct: 6, stake_pct: 90 },
  costs: { fee_bps: 10, slippage_bps: 5 },
};
const MARKET = 'demo:BTCUSDT:1h';
const PERIOD = { from: '2024-01-05', to: '2024-01-25' };
// 4 x 4 = 16 parameter sets: a two-dimensional grid, so the results carry a heatmap
const GRID = {
  method: 'grid', objective: 'sharpe', constraints: { min_trades: 1 },
  space: { fast: { min: 3, max: 9, step: 2 }, slow: { min: 15, max: 30, step: 5 } },
};

const getJson = (path, cookie = me.cookie) => apiGet(stack, cookie, `/api/v1${path}`);

async function create(path, body, who = me) {
  const r = await apiPost(stack, who.cookie, who.csrf, `/api/v1${path}`, body);
  assert.equal(r.res.status, 201, r.text);
  return r.json;
}

/** Polls GET /api/v1<path>/<id> until the row is done; resolves its JSON. */
async function waitDone(path, id, timeoutMs = 30_000) {
  let last;
  const done = await waitFor(async () => {
    last = await getJson(`${path}/${id}`);
    const st = last.json?.optimization?.status;
    assert.ok(!['failed', 'dead', 'cancelled'].includes(st), `${path}/${id} ${st}: ${last.json?.optimization?.error}`);
    return st === 'done' ? last.json : null;
  }, { timeoutMs, intervalMs: 100 });
  assert.ok(done, `${path}/${id} did not finish: ${last?.text?.slice(0, 300)}`);
  return done;
}

const counts = () => psql(stack, "SELECT (SELECT count(*) FROM optimizations) || '/' || (SELECT count(*) FROM jobs)");

before(async () => {
  stack = await startStack({
    config: {
      'optimize.max_sets': '20000',
      'ratelimit.optimizations.create': '1000/min',
      'optimize.checkpoint_ms': '20',
      'queue.visibility_ms': '1000',
      'queue.sweep_ms': '100',
      'queue.backoff_base_ms': '100',
      'queue.backoff_max_ms': '200',
      'queue.progress_ms': '50',
      'worker.heartbeat_s': '1',
      'worker.compute_threads': '1',
    },
  });
  w = workers(stack);
  await stack.botctl('candles', 'synth', '--exchange', 'demo', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--from', '2024-01-01',
    '--count', '600', '--seed', '7');
  const { cookie } = await login(stack);
  me = { cookie, csrf: await sessionCsrf(stack, cookie) };
  const b = await makeTrader(stack, 'opt-b');
  const s = await login(stack, { email: b.email, password: 'demo-trader-2026' });
  other = { cookie: s.cookie, csrf: await sessionCsrf(stack, s.cookie) };
});

after(async () => {
  await w?.stopAll();
  await stack?.stop();
});

let search; // the finished grid search of the first test

test('a grid search runs as a job: every set scored, the best first, a heatmap, a page with the table', async () => {
  const c = await create('/optimizations', { name: 'SMA grid', market: MARKET, ...PERIOD, initial_balance: '10000',
    config: CONFIG, spec: GRID });
  assert.equal(c.total, 16);
  search = await waitDone('/optimizations', c.id);
  search.id = c.id;
  const { results } = search;
  assert.equal(results.progress.done, results.progress.total);
  assert.equal(results.progress.total, 16);
  assert.ok(results.top.length > 3, `results kept: ${results.top.length}`);
  results.top.forEach((r, i) => {
    assert.equal(r.rank, i + 1);
    if (i) assert.ok(r.score <= results.top[i - 1].score, 'sorted by score, best first');
    assert.ok(r.metrics.trades >= 1, 'the constraint held');
  });
  // the heatmap: 4 x 4 cells, the best of them the first result's score
  const h = results.heatmap;
  assert.ok(h, 'a two-parameter grid has a heatmap');
  assert.deepEqual([h.xs.length, h.ys.length, h.scores.length, h.scores[0].length], [4, 4, 4, 4]);
  assert.deepEqual(new Set([h.x, h.y]), new Set(['fast', 'slow']));
  const best = Math.max(...h.scores.flat().filter((v) => v !== null));
  assert.equal(best, results.top[0].score);
  // the JSON sorts on request, missing values last
  const byTrades = await getJson(`/optimizations/${c.id}?sort=trades&dir=asc`);
  const trades = byTrades.json.rows.map((r) => r.metrics.trades);
  assert.deepEqual(trades, [...trades].sort((a, b) => a - b));
  assert.equal(byTrades.json.rows.length, results.top.length);
  // the page: the table with sorting links, the heatmap as SVG, the result buttons
  const page = await stack.fetch(`/optimizations/${c.id}?sort=profit_pct&dir=desc`, { headers: { cookie: me.cookie } });
  const html = await page.text();
  assert.equal(page.status, 200);
  assert.match(html, /<table class="table results">/);
  assert.match(html, /<svg[^>]*class="chart chart-heatmap"/);
  assert.match(html, /aria-sort="descending"><a href="\/optimizations\/\d+\?sort=profit_pct&amp;dir=asc"/);
  assert.equal((html.match(/<rect class="cell h/g) || []).length >= 16, true);
  assert.match(html, new RegExp(`action="/optimizations/${c.id}/backtest"`));
  // the list shows it, and one audit record tells who created it
  const list = await getJson('/optimizations');
  assert.ok(list.json.optimizations.some((o) => o.id === c.id && o.status === 'done' && o.best_score === results.top[0].score));
  assert.equal(await psql(stack, `SELECT count(*) FROM audit_log WHERE action = 'optimizations.create' AND object_id = '${c.id}'`), '1');
});

test('"backtest this" runs a backtest of the result that reports the same metrics', async () => {
  for (const rank of [1, 2]) {
    const result = search.results.top[rank - 1];
    const r = await apiPost(stack, me.cookie, me.csrf, `/api/v1/optimizations/${search.id}/backtest`, { rank });
    assert.equal(r.res.status, 201, r.text);
    const bt = await waitFor(async () => {
      const g = await getJson(`/backtests/${r.json.id}`);
      assert.ok(!['failed', 'dead'].includes(g.json?.backtest?.status), g.text.slice(0, 300));
      return g.json?.backtest?.status === 'done' ? g.json : null;
    }, { timeoutMs: 30_000, intervalMs: 100 });
    assert.ok(bt, 'the backtest finished');
    assert.equal(bt.backtest.config.params.fast, result.values.fast);
    assert.equal(bt.backtest.config.params.slow, result.values.slow);
    assert.equal(bt.backtest.from, search.optimization.from.slice(0, 10) + ' 00:00');
    const s = bt.report.summary;
    // the sweep kernel is the engine's arithmetic to the bit; the return statistics sum in one pass
    assert.equal(s.trades, result.metrics.trades, `rank ${rank} trades`);
    assert.equal(s.profit_pct, result.metrics.profit_pct, `rank ${rank} profit_pct`);
    assert.equal(s.max_drawdown_pct, result.metrics.max_drawdown_pct, `rank ${rank} max_drawdown_pct`);
    assert.ok(Math.abs(s.sharpe - result.metrics.sharpe) <= 1e-9 * Math.abs(result.metrics.sharpe),
      `rank ${rank} sharpe ${s.sharpe} vs ${result.metrics.sharpe}`);
  }
  // from the page: a form post answered with a redirect to the new backtest
  const res = await stack.fetch(`/optimizations/${search.id}/backtest`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: me.cookie },
    body: new URLSearchParams({ _csrf: me.csrf, rank: '1' }).toString(),
  });
  await res.text();
  assert.equal(res.status, 303);
  assert.match(res.headers.get('location'), /^\/backtests\/\d+$/);
  // a rank that is not among the results
  const bad = await apiPost(stack, me.cookie, me.csrf, `/api/v1/optimizations/${search.id}/backtest`, { rank: 999 });
  assert.equal(bad.res.status, 422, bad.text);
});

test('"deploy" creates a stopped paper bot trading the result on the same market', async () => {
  const result = search.results.top[0];
  const r = await apiPost(stack, me.cookie, me.csrf, `/api/v1/optimizations/${search.id}/deploy`, { rank: 1 });
  assert.equal(r.res.status, 201, r.text);
  const bot = (await getJson(`/bots/${r.json.id}`)).json.bot;
  assert.equal(bot.mode, 'paper');
  assert.equal(bot.status, 'stopped');
  assert.deepEqual([bot.exchange, bot.symbol, bot.timeframe], ['demo', 'BTCUSDT', '1h']);
  assert.equal(bot.config.params.fast, result.values.fast);
  assert.equal(bot.config.params.slow, result.values.slow);
  assert.equal(bot.config.risk.stop_loss_pct, CONFIG.risk.stop_loss_pct, 'the base strategy kept what was not searched');
  assert.equal(bot.name, 'SMA grid #1');
  assert.equal(bot.initial_balance, 10000);
  const res = await stack.fetch(`/optimizations/${search.id}/deploy`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: me.cookie },
    body: new URLSearchParams({ _csrf: me.csrf, rank: '2' }).toString(),
  });
  await res.text();
  assert.equal(res.status, 303);
  assert.match(res.headers.get('location'), /^\/bots\/\d+$/);
});

test('a walk-forward analysis reports every window and a summary with its verdict', async () => {
  const spec = { optimization: { method: 'grid', objective: 'profit',
    space: { fast: { min: 3, max: 7, step: 2 }, slow: { min: 20, max: 30, step: 10 } } },
  in_sample: 200, out_of_sample: 100 };
  const c = await create('/walk-forward', { name: 'WF', market: MARKET, from: '2024-01-02', to: '2024-01-25',
    initial_balance: '10000', config: CONFIG, spec });
  assert.equal(c.total, 4); // 552 candles: windows start at 0, 100, 200, 300
  const wf = await waitDone('/walk-forward', c.id);
  const { windows, summary } = wf.results;
  assert.equal(windows.length, 4);
  windows.forEach((x, i) => {
    assert.ok(x.is_from < x.is_to && x.is_to < x.oos_to, `window ${i} in order`);
    // rolling windows, and the out-of-sample part begins where the in-sample part ends
    if (i) assert.equal(x.is_from - windows[i - 1].is_from, 100 * 3600_000);
    assert.equal(x.is_to - x.is_from, 200 * 3600_000);
    if (x.found) {
      assert.ok('fast' in x.values && 'slow' in x.values);
      assert.equal(typeof x.in_sample.metrics.profit_pct, 'number');
      assert.equal(typeof x.out_of_sample.metrics.trades, 'number');
    }
  });
  assert.equal(summary.windows, 4);
  assert.equal(summary.objective, 'profit');
  assert.ok(['robust', 'degraded', 'overfit', 'no_edge', 'no_result'].includes(summary.verdict), summary.verdict);
  // the page: the windows, the chart, the verdict in words (pt-BR by default, English when asked)
  const pt = await (await stack.fetch(`/walk-forward/${c.id}?lang=pt-BR`, { headers: { cookie: me.cookie } })).text();
  assert.match(pt, /<svg[^>]*class="chart chart-bars"/);
  assert.match(pt, /<table class="table windows">/);
  assert.match(pt, /Veredito/);
  const en = await (await stack.fetch(`/walk-forward/${c.id}?lang=en`, { headers: { cookie: me.cookie } })).text();
  assert.match(en, /Verdict/);
  const list = await getJson('/walk-forward');
  assert.ok(list.json.optimizations.some((o) => o.id === c.id && o.verdict === summary.verdict));
  // a walk-forward is not a search: its id under /optimizations is not found
  assert.equal((await getJson(`/optimizations/${c.id}`)).res.status, 404);
});

test('bad input gets 422 naming the field, and nothing is stored or queued', async () => {
  const before = await counts();
  const base = { name: 'x', market: MARKET, ...PERIOD, initial_balance: '1000', config: CONFIG, spec: GRID };
  const cases = [
    ['/optimizations', { spec: { ...GRID, space: {} } }, 'spec', /space/],
    ['/optimizations', { spec: { ...GRID, space: { nope: { min: 1, max: 2 } } } }, 'spec', /space\.nope/],
    ['/optimizations', { spec: { ...GRID, space: { fast: { min: 9, max: 3 } } } }, 'spec', /space\.fast/],
    ['/optimizations', { spec: { ...GRID, space: { fast: { min: 3, max: 9, step: 0 } } } }, 'spec', /step/],
    // 200 x 200 = 40,000 sets, more than the 20,000 this stack allows
    ['/optimizations', { spec: { ...GRID, space: { fast: { min: 1, max: 200 }, slow: { min: 201, max: 400 } } } }, 'spec', /more than/],
    ['/optimizations', { spec: { ...GRID, method: 'annealing' } }, 'spec', /method/],
    ['/optimizations', { spec: { ...GRID, objective: 'luck' } }, 'spec', /objective/],
    ['/optimizations', { spec: undefined }, 'spec', /required/],
    ['/optimizations', { market: 'demo:NOPE:1h' }, 'market', /./],
    ['/optimizations', { from: '2024-02-01', to: '2024-01-01' }, 'range', /./],
    ['/optimizations', { from: '2023-01-01', to: '2023-02-01' }, 'range', /./],
    ['/optimizations', { initial_balance: '0' }, 'initial_balance', /./],
    ['/optimizations', { name: '' }, 'name', /./],
    ['/optimizations', { config: { ...CONFIG, params: { fast: 30, slow: 20 } } }, 'config', /./],
    ['/walk-forward', { spec: { optimization: GRID, in_sample: 500, out_of_sample: 100 } }, 'spec', /in_sample/],
    ['/walk-forward', { spec: { optimization: GRID, in_sample: 50, out_of_sample: 10, step: 1 } }, 'spec', /windows/],
    ['/walk-forward', { spec: { optimization: { space: {} }, in_sample: 200, out_of_sample: 100 } }, 'spec', /space/],
    ['/walk-forward', { spec: { optimization: GRID } }, 'spec', /in_sample/],
  ];
  for (const [path, patch, field, msg] of cases) {
    const r = await apiPost(stack, me.cookie, me.csrf, `/api/v1${path}`, { ...base, ...patch });
    assert.equal(r.res.status, 422, `${path} ${JSON.stringify(patch)}: ${r.text}`);
    assert.ok(r.json.error.fields[field], `${JSON.stringify(patch)} names ${field}: ${r.text}`);
    assert.match(r.json.error.fields[field], msg, `${JSON.stringify(patch)}: ${r.text}`);
  }
  // the form: 422 with the page again, the field's message beside its row
  const form = new URLSearchParams({ _csrf: me.csrf, strategy: 'sma_cross', name: 'form', market: MARKET, ...PERIOD,
    initial_balance: '1000', method: 'grid', objective: 'sharpe', 's.fast.min': '9', 's.fast.max': '3' });
  const res = await stack.fetch('/optimizations', { method: 'POST', body: form.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: me.cookie } });
  const html = await res.text();
  assert.equal(res.status, 422);
  assert.match(html, /space\.fast\.max: must not be below min/);
  assert.match(html, /name="s\.fast\.min" value="9"/);
  assert.equal(await counts(), before, 'no row, no job');
});

test('the form creates a search too, its space read from the min/max/step fields', async () => {
  const form = new URLSearchParams({ _csrf: me.csrf, strategy: 'sma_cross', name: 'from the form', market: MARKET, ...PERIOD,
    initial_balance: '5000', 'p.fast': '5', 'p.slow': '20', method: 'random', objective: 'profit_dd', samples: '7', seed: '3',
    min_trades: '0', 's.fast.min': '2', 's.fast.max': '8', 's.slow.min': '20', 's.slow.max': '40', 's.slow.step': '10',
    population: 'ignored by a random search' });
  const res = await stack.fetch('/optimizations', { method: 'POST', body: form.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: me.cookie } });
  await res.text();
  assert.equal(res.status, 303);
  const id = Number(res.headers.get('location').split('/').pop());
  const done = await waitDone('/optimizations', id);
  assert.deepEqual(done.spec, { method: 'random', objective: 'profit_dd', seed: 3, samples: 7, constraints: { min_trades: 0 },
    space: { fast: { min: 2, max: 8 }, slow: { min: 20, max: 40, step: 10 } } });
  assert.equal(done.results.progress.done, 7);
  assert.equal(done.results.heatmap, undefined, 'only grids have a heatmap');
  const page = await (await stack.fetch(`/optimizations/${id}`, { headers: { cookie: me.cookie } })).text();
  assert.ok(!page.includes('chart-heatmap'));
  const newPage = await stack.fetch('/optimizations/new?strategy=rsi_reversion', { headers: { cookie: me.cookie } });
  const nhtml = await newPage.text();
  assert.equal(newPage.status, 200);
  assert.match(nhtml, /name="s\.oversold\.min"/);
  assert.match(nhtml, /name="s\.stop_loss_pct\.min"/);
});

test("another tenant's optimizations are not found, and cannot be used, cancelled or deleted", async () => {
  assert.equal((await getJson(`/optimizations/${search.id}`, other.cookie)).res.status, 404);
  const page = await stack.fetch(`/optimizations/${search.id}`, { headers: { cookie: other.cookie } });
  await page.text();
  assert.equal(page.status, 404);
  for (const action of ['backtest', 'deploy', 'cancel', 'delete']) {
    const r = await apiPost(stack, other.cookie, other.csrf, `/api/v1/optimizations/${search.id}/${action}`, { rank: 1 });
    assert.equal(r.res.status, 404, `${action}: ${r.text}`);
  }
  const list = await getJson('/optimizations', other.cookie);
  assert.equal(list.json.optimizations.length, 0);
  assert.equal((await getJson(`/optimizations/${search.id}`)).res.status, 200, 'still there for its owner');
});

test('cancel: a queued search is cancelled through the queue; delete removes it', async () => {
  await w.stopStackWorker();
  const c = await create('/optimizations', { name: 'to cancel', market: MARKET, ...PERIOD, initial_balance: '1000',
    config: CONFIG, spec: GRID });
  const r = await apiPost(stack, me.cookie, me.csrf, `/api/v1/optimizations/${c.id}/cancel`, {});
  assert.equal(r.res.status, 200, r.text);
  assert.equal(r.json.cancel, 'cancelled');
  const g = await getJson(`/optimizations/${c.id}`);
  assert.equal(g.json.optimization.status, 'cancelled');
  assert.equal(await psql(stack, `SELECT status FROM jobs WHERE id = ${c.job_id}`), 'cancelled');
  const again = await apiPost(stack, me.cookie, me.csrf, `/api/v1/optimizations/${c.id}/cancel`, {});
  assert.equal(again.res.status, 409, again.text);
  const del = await apiPost(stack, me.cookie, me.csrf, `/api/v1/optimizations/${c.id}/delete`, {});
  assert.equal(del.res.status, 200, del.text);
  assert.equal((await getJson(`/optimizations/${c.id}`)).res.status, 404);
  assert.equal(await psql(stack, `SELECT count(*) FROM audit_log WHERE action = 'optimizations.delete' AND object_id = '${c.id}'`), '1');
});

test('a worker killed mid-search: the retried job resumes from its checkpoint and ends as an uninterrupted run', async (t) => {
  await w.stopStackWorker(); // only the workers this test starts and kills
  // 2 x 25 x 81 = 4,050 sets over 1,416 candles on one thread: 16 batches, a checkpoint after each
  await stack.botctl('candles', 'synth', '--exchange', 'demo', '--symbol', 'ETHUSDT', '--timeframe', '1h', '--from', '2024-01-01',
    '--count', '1500', '--seed', '11');
  const body = { name: 'resumable', market: 'demo:ETHUSDT:1h', from: '2024-01-02', to: '2024-03-01', initial_balance: '10000',
    config: CONFIG, spec: { method: 'grid', objective: 'sharpe', top: 20,
      space: { fast: { min: 2, max: 3 }, slow: { min: 10, max: 58, step: 2 }, stop_loss_pct: { min: 1, max: 9, step: 0.1 } } } };
  const c = await create('/optimizations', body);
  assert.equal(c.total, 4050);
  const seen = [];
  const progress = async () => (await getJson(`/optimizations/${c.id}`)).json.results?.progress?.done ?? 0;
  const first = w.start();
  const mid = await waitFor(async () => {
    const d = await progress();
    seen.push(d);
    return d > 0 && d < c.total ? d : null;
  }, { timeoutMs: 30_000, intervalMs: 5 });
  assert.ok(mid, `a checkpoint was stored mid-search (${seen.slice(-3)})`);
  process.kill(first.pid, 'SIGKILL');
  await first.exited;
  const killedAt = await progress();
  assert.ok(killedAt < c.total, 'killed before the end');
  w.start();
  const done = await waitFor(async () => {
    const d = await progress();
    seen.push(d);
    return d === c.total;
  }, { timeoutMs: 45_000, intervalMs: 20 });
  assert.ok(done, `finished after the restart (${seen.slice(-3)})`);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] >= seen[i - 1], `progress went back: ${seen[i - 1]} -> ${seen[i]}`);
  const resumed = await waitDone('/optimizations', c.id);
  assert.ok(Number(await psql(stack, `SELECT attempts FROM jobs WHERE id = ${c.job_id}`)) >= 2, 'the job was run again');
  assert.match(await stack.logs('worker'), new RegExp(`optimization ${c.id} resumes from its checkpoint`));
  // the same search never interrupted ends with the same results
  const t0 = Date.now();
  const c2 = await create('/optimizations', { ...body, name: 'uninterrupted' });
  const straight = await waitDone('/optimizations', c2.id);
  t.diagnostic(`killed at ${killedAt} of ${c.total} sets; an uninterrupted run took ${Date.now() - t0} ms`);
  assert.deepEqual(resumed.results.top, straight.results.top);
  assert.deepEqual(resumed.results.progress, straight.results.progress);
  assert.deepEqual(resumed.results.heatmap, straight.results.heatmap);
});
