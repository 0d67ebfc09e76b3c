// report.mjs — turns the raw output of tests/bench/run (wrk, CPU ticks, RSS samples) into the
// printed table, the ours/twin ratios with PASS/MISS per target, and results.json.
// Usage: node report.mjs RAW_DIR RESULTS_JSON STRICT(0|1)
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [rawDir, outFile, strictArg] = process.argv.slice(2);
if (!rawDir || !outFile) {
  console.error('usage: node report.mjs RAW_DIR RESULTS_JSON STRICT');
  process.exit(2);
}
const strict = strictArg === '1';

const ORDER = ['nginx-return200', 'nginx-static', 'libfcgi-hello', 'ours-health', 'ours-dashboard', 'twin-dashboard',
  'ours-login', 'twin-login'];
const GROUPS = ['nginx', 'ours', 'twin', 'hello', 'redis', 'postgres'];

// Targets of the issue (64 connections, this 2-core machine).
const TARGET_RPS_RATIO = 1.5;
const TARGET_CACHED_P99_MS = 3;
const TARGET_WORKER_RSS_MB = 10;

function readKv(file) {
  const out = {};
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}
function readTicks(file) {
  const out = {};
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out[k] = Number(v);
  }
  return out;
}
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const meta = readKv(path.join(rawDir, 'meta.env'));
const clk = Number(meta.clk_tck || 100);
const cpus = Number(meta.cpus || 2);

// ---- one measurement
function parseRun(dir) {
  const m = readKv(path.join(dir, 'meta.txt'));
  const wrkText = existsSync(path.join(dir, 'wrk.txt')) ? readFileSync(path.join(dir, 'wrk.txt'), 'utf8') : '';
  const jl = wrkText.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  const w = jl ? JSON.parse(jl.slice('BENCH_JSON '.length)) : null;
  const wrkTicks = Number((wrkText.match(/^wrk_ticks (\d+)/m) || [])[1] || 0);
  const non2xx = Number((wrkText.match(/Non-2xx or 3xx responses: (\d+)/) || [])[1] || 0);
  const r = { name: m.name, url: m.url, group: m.group, ok: !!w };
  if (!w) {
    r.error = (wrkText.trim().split('\n').slice(-3).join(' ') || 'no wrk output').slice(0, 300);
    return r;
  }
  const secs = w.duration_us / 1e6;
  r.requests = w.requests;
  r.rps = w.requests / secs;
  r.mb_per_s = w.bytes / secs / 1e6;
  r.p50_ms = w.latency_us.p50 / 1000;
  r.p90_ms = w.latency_us.p90 / 1000;
  r.p99_ms = w.latency_us.p99 / 1000;
  r.p999_ms = w.latency_us.p999 / 1000;
  r.max_ms = w.latency_us.max / 1000;
  r.mean_ms = w.latency_us.mean / 1000;
  r.errors = { ...w.errors, non_2xx_3xx: non2xx };
  r.error_count = w.errors.connect + w.errors.read + w.errors.write + w.errors.timeout + w.errors.status + non2xx;

  // CPU: % of one core per group during the measured seconds
  const b = readTicks(path.join(dir, 'cpu-before.txt')), a = readTicks(path.join(dir, 'cpu-after.txt'));
  const pct = (t) => Math.round((t / clk / secs) * 1000) / 10;
  const cpu = {};
  let known = 0;
  for (const g of GROUPS) {
    const d = (a[g] ?? 0) - (b[g] ?? 0);
    cpu[g] = pct(d);
    known += d;
  }
  cpu.wrk = pct(wrkTicks);
  known += wrkTicks;
  const busy = (a.machine_busy ?? 0) - (b.machine_busy ?? 0);
  cpu.other = pct(Math.max(0, busy - known)); // kernel threads, and anything else running on the box
  cpu.machine_busy = pct(busy);
  r.cpu_pct_of_core = cpu;
  // how the app group's CPU splits over its processes (balance between workers)
  const procs = {};
  for (const k of Object.keys(a)) {
    const m = k.match(/^proc_(\w+)_(\d+)$/);
    if (m && m[1] === r.group) procs[m[2]] = (a[k] ?? 0) - (b[k] ?? 0);
  }
  const totalProc = Object.values(procs).reduce((x, y) => x + y, 0);
  r.process_share_pct = totalProc
    ? Object.fromEntries(Object.entries(procs).map(([pid, t]) => [pid, Math.round((t / totalProc) * 100)])) : {};

  // RSS: max over the samples, per process
  const rss = {};
  const rssFile = path.join(dir, 'rss.txt');
  if (existsSync(rssFile)) {
    for (const line of readFileSync(rssFile, 'utf8').split('\n')) {
      const [g, pid, kb] = line.trim().split(/\s+/);
      if (!g || !pid || !Number(kb)) continue;
      rss[g] ??= {};
      rss[g][pid] = Math.max(rss[g][pid] ?? 0, Number(kb));
    }
  }
  r.rss_kb = rss;
  return r;
}

// ---- all rounds
const rounds = existsSync(rawDir) ? readdirSync(rawDir).filter((d) => /^round-\d+$/.test(d)).sort() : [];
const perName = {};
for (const rd of rounds) {
  for (const name of readdirSync(path.join(rawDir, rd))) {
    const r = parseRun(path.join(rawDir, rd, name));
    if (!r.name) continue;
    (perName[r.name] ??= []).push(r);
  }
}

const rows = {};
for (const name of ORDER.concat(Object.keys(perName).filter((n) => !ORDER.includes(n)))) {
  const runs = perName[name];
  if (!runs) continue;
  const ok = runs.filter((r) => r.ok);
  const row = { name, url: runs[0].url, group: runs[0].group, rounds: runs.length, runs };
  if (!ok.length) {
    row.error = runs.map((r) => r.error).join('; ');
    rows[name] = row;
    continue;
  }
  for (const k of ['rps', 'p50_ms', 'p90_ms', 'p99_ms', 'p999_ms', 'max_ms', 'mean_ms', 'mb_per_s'])
    row[k] = median(ok.map((r) => r[k]));
  row.error_count = ok.reduce((s, r) => s + r.error_count, 0);
  // CPU microseconds per request by group: % of a core / req/s, per round, then the median
  const us = (r, g) => (r.cpu_pct_of_core[g] / 100) * 1e6 / r.rps;
  row.cpu_us_per_request = {};
  for (const g of ['nginx', 'redis', 'postgres', 'wrk'])
    row.cpu_us_per_request[g] = median(ok.map((r) => us(r, g)));
  row.cpu_us_per_request.app = row.group === 'nginx' ? 0 : median(ok.map((r) => us(r, row.group)));
  row.cpu_us_per_request.server = median(ok.map((r) =>
    us(r, 'nginx') + (row.group === 'nginx' ? 0 : us(r, row.group)) + us(r, 'redis') + us(r, 'postgres')));
  row.cpu_pct_of_core = {};
  for (const g of [...GROUPS, 'wrk', 'other', 'machine_busy'])
    row.cpu_pct_of_core[g] = median(ok.map((r) => r.cpu_pct_of_core[g]));
  // RSS per process of every group seen during the row: the max over rounds and samples
  row.rss_mb = {};
  for (const r of ok) {
    for (const [g, pids] of Object.entries(r.rss_kb)) {
      const cur = row.rss_mb[g] ?? { processes: 0, max: 0, each: {} };
      for (const [pid, kb] of Object.entries(pids)) cur.each[pid] = Math.max(cur.each[pid] ?? 0, kb / 1024);
      cur.processes = Object.keys(cur.each).length;
      cur.max = Math.max(...Object.values(cur.each));
      row.rss_mb[g] = cur;
    }
  }
  // share of the app group's CPU per process, last round (e.g. 50/50 when balanced)
  const last = ok[ok.length - 1].process_share_pct;
  if (last && Object.keys(last).length > 1) row.share = Object.values(last).map((v) => `${v}%`).join(' / ');
  row.process_share_pct = last;
  rows[name] = row;
}

// ---- printing
const f = (x, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
const GROUP_LABEL = { nginx: 'nginx worker', ours: 'our worker', twin: 'bun', hello: 'fcgi_hello' };

console.log('');
console.log(`BotCriptoFy web tier benchmark — wrk -t${meta.threads} -c${meta.connections} -d${meta.duration}s ` +
  `(warm-up ${meta.warmup}s, ${meta.rounds} round(s)${Number(meta.rounds) > 1 ? ', medians' : ''}); ` +
  `nginx ${meta.nginx}, ${cpus} CPUs, Bun ${meta.bun} + Elysia ${meta.elysia}; our build: ${meta.build}` +
  `${meta.sanitized === '1' ? ' (SANITIZERS ON: not representative)' : ''}, app log level ${meta.app_log_level}, ` +
  (meta.fcgi_split === '1' ? 'our pool: 2 single-worker pools on 2 sockets (--fcgi-split)' : 'our pool: 2 workers on one socket'));
console.log('');
const head = `${pad('name', 16)} ${lpad('req/s', 9)} ${lpad('p50 ms', 7)} ${lpad('p99 ms', 7)} ${lpad('p99.9', 7)}  ${pad('RSS per process (max sampled)', 34)} errors  CPU split over processes`;
console.log(head);
console.log('-'.repeat(head.length + 2));
for (const row of Object.values(rows)) {
  if (row.error) {
    console.log(`${pad(row.name, 16)} FAILED: ${row.error}`);
    continue;
  }
  const g = row.rss_mb[row.group];
  let rss = '-';
  if (g) {
    const vals = Object.values(g.each).map((v) => v.toFixed(1));
    rss = `${GROUP_LABEL[row.group] ?? row.group} ${g.processes}x: ${vals.join(' / ')} MB`;
  }
  console.log(`${pad(row.name, 16)} ${lpad(f(row.rps, 0), 9)} ${lpad(f(row.p50_ms), 7)} ${lpad(f(row.p99_ms), 7)} ` +
    `${lpad(f(row.p999_ms), 7)}  ${pad(rss, 34)} ${lpad(row.error_count, 6)}  ${row.share ?? ''}`);
}

console.log('');
console.log('CPU during each row, % of one core (machine = ' + cpus * 100 + '%):');
const cpuHead = `${pad('name', 16)} ${['nginx', 'app', 'redis', 'postgres', 'wrk', 'other', 'total'].map((h) => lpad(h, 8)).join(' ')}`;
console.log(cpuHead);
for (const row of Object.values(rows)) {
  if (row.error) continue;
  const c = row.cpu_pct_of_core;
  const app = row.group === 'nginx' ? 0 : c[row.group];
  console.log(`${pad(row.name, 16)} ${[c.nginx, app, c.redis, c.postgres, c.wrk, c.other, c.machine_busy]
    .map((v) => lpad(f(v, 0), 8)).join(' ')}`);
}
console.log('');
console.log('CPU per request, microseconds (CPU time / requests; steadier than req/s on a busy machine):');
const usHead = `${pad('name', 16)} ${['nginx', 'app', 'redis', 'postgres', 'wrk', 'server'].map((h) => lpad(h, 8)).join(' ')}`;
console.log(usHead);
for (const row of Object.values(rows)) {
  if (row.error) continue;
  const u = row.cpu_us_per_request;
  console.log(`${pad(row.name, 16)} ${[u.nginx, u.app, u.redis, u.postgres, u.wrk, u.server].map((v) => lpad(f(v, 1), 8)).join(' ')}`);
}
console.log(`${' '.repeat(16)} (server = nginx + app + redis + postgres: what one request costs the machine, wrk aside)`);
const noisy = Object.values(rows).filter((r) => !r.error && r.cpu_pct_of_core.other > 15);
if (noisy.length)
  console.log(`note: 'other' above 15% of a core (${noisy.map((r) => r.name).join(', ')}): something else ran on ` +
    'the machine during those rows; rerun (--rounds 3) before trusting small differences.');

// ---- ratios and targets
const ratios = {};
const targets = [];
const has = (n) => rows[n] && !rows[n].error;
function target(name, value, want, pass, detail) {
  targets.push({ name, value, target: want, pass, detail });
}
console.log('');
console.log('Ratios:');
for (const [what, o, t] of [['dashboard', 'ours-dashboard', 'twin-dashboard'], ['template page', 'ours-login', 'twin-login']]) {
  if (!has(o) || !has(t)) continue;
  const rps = rows[o].rps / rows[t].rps, p99 = rows[o].p99_ms / rows[t].p99_ms;
  const cpuO = rows[o].cpu_us_per_request, cpuT = rows[t].cpu_us_per_request;
  ratios[`${o}/${t}`] = { rps, p99, p50: rows[o].p50_ms / rows[t].p50_ms,
    server_cpu_per_request: cpuO.server / cpuT.server, app_cpu_per_request: cpuO.app / cpuT.app };
  console.log(`  ${pad(what + ':', 15)} ours/twin req/s ${f(rps)}x   p99 ${f(rows[o].p99_ms)} vs ${f(rows[t].p99_ms)} ms ` +
    `(ours/twin ${f(p99)})   p50 ${f(rows[o].p50_ms)} vs ${f(rows[t].p50_ms)} ms`);
  console.log(`  ${pad('', 15)} CPU per request: app ${f(cpuO.app, 1)} vs ${f(cpuT.app, 1)} us, ` +
    `server (nginx+app+redis+pg) ${f(cpuO.server, 1)} vs ${f(cpuT.server, 1)} us (ours/twin ${f(cpuO.server / cpuT.server)})`);
  target(`${what}: req/s ours/twin >= ${TARGET_RPS_RATIO}`, rps, TARGET_RPS_RATIO, rps >= TARGET_RPS_RATIO,
    `${f(rows[o].rps, 0)} vs ${f(rows[t].rps, 0)} req/s`);
  target(`${what}: p99 ours < twin`, rows[o].p99_ms, rows[t].p99_ms, rows[o].p99_ms < rows[t].p99_ms,
    `${f(rows[o].p99_ms)} vs ${f(rows[t].p99_ms)} ms`);
}
for (const [label, a, b] of [
  ['ours-dashboard / libfcgi-hello', 'ours-dashboard', 'libfcgi-hello'],
  ['ours-health / libfcgi-hello', 'ours-health', 'libfcgi-hello'],
  ['ours-dashboard / nginx-return200', 'ours-dashboard', 'nginx-return200'],
  ['ours-health / nginx-return200', 'ours-health', 'nginx-return200'],
  ['libfcgi-hello / nginx-return200', 'libfcgi-hello', 'nginx-return200'],
  ['twin-dashboard / nginx-return200', 'twin-dashboard', 'nginx-return200'],
]) {
  if (!has(a) || !has(b)) continue;
  const rps = rows[a].rps / rows[b].rps;
  ratios[label] = { rps };
  console.log(`  ${pad(label + ':', 34)} req/s ${f(rps)}x   p99 ${f(rows[a].p99_ms)} vs ${f(rows[b].p99_ms)} ms`);
}
if (has('ours-dashboard')) {
  const p = rows['ours-dashboard'].p99_ms;
  target(`cached endpoint p99 <= ${TARGET_CACHED_P99_MS} ms`, p, TARGET_CACHED_P99_MS, p <= TARGET_CACHED_P99_MS, `${f(p)} ms`);
}
// worker RSS: every sample of every one of our workers, over every row
let workerMax = 0, workerSeen = 0;
for (const row of Object.values(rows))
  if (!row.error && row.rss_mb.ours) {
    workerMax = Math.max(workerMax, row.rss_mb.ours.max);
    workerSeen = Math.max(workerSeen, row.rss_mb.ours.processes);
  }
let twinMax = 0;
for (const row of Object.values(rows))
  if (!row.error && row.group === 'twin' && row.rss_mb.twin) twinMax = Math.max(twinMax, row.rss_mb.twin.max);
if (workerSeen) {
  target(`RSS per worker process <= ${TARGET_WORKER_RSS_MB} MB`, workerMax, TARGET_WORKER_RSS_MB,
    workerMax <= TARGET_WORKER_RSS_MB, `max ${f(workerMax, 1)} MB over ${workerSeen} workers` +
    (twinMax ? `; Bun ${f(twinMax, 1)} MB per process (${f(twinMax / workerMax, 1)}x)` : ''));
}
ratios.rss_per_process_mb = { ours_worker_max: workerMax || null, twin_max: twinMax || null };

console.log('');
console.log('Targets (64 connections, this machine):');
for (const t of targets) console.log(`  ${t.pass ? 'PASS' : 'MISS'}  ${pad(t.name, 40)} ${t.detail}`);
if (meta.parity_dashboard !== 'identical' || meta.parity_login !== 'identical')
  console.log(`  note: twin parity dashboard=${meta.parity_dashboard} login=${meta.parity_login}: the twin's bytes differ from ours`);
const missed = targets.filter((t) => !t.pass).length;
console.log('');
console.log(targets.length ? (missed ? `${missed} of ${targets.length} targets missed.` : `All ${targets.length} targets met.`)
  : 'No targets evaluated (rows missing).');

const results = {
  generated_at: new Date().toISOString(),
  settings: {
    duration_s: Number(meta.duration), connections: Number(meta.connections), threads: Number(meta.threads),
    warmup_s: Number(meta.warmup), rounds: Number(meta.rounds), build: meta.build, sanitized: meta.sanitized === '1',
    app_log_level: meta.app_log_level, fcgi_split: meta.fcgi_split === '1', nginx: meta.nginx, bun: meta.bun, elysia: meta.elysia, cpus,
    loadavg_at_end: meta.loadavg,
  },
  parity: { dashboard: meta.parity_dashboard, login: meta.parity_login, dashboard_bytes: Number(meta.dashboard_bytes),
    login_bytes: Number(meta.login_bytes) },
  rows: Object.fromEntries(Object.entries(rows).map(([k, r]) => {
    const { runs, ...rest } = r;
    return [k, { ...rest, per_round: runs.map(({ rss_kb, ...x }) => x) }];
  })),
  ratios,
  targets,
  verdict: targets.length && !missed ? 'pass' : 'miss',
};
writeFileSync(outFile, JSON.stringify(results, null, 2) + '\n');
process.exit(strict && missed ? 3 : 0);
