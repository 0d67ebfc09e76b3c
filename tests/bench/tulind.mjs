// tulind.mjs — times Tulip Indicators through its Node binding (npm tulind) on the series the C
// benchmark (tests/bench/backtest.c) wrote, then prints the trading table: backtest speed against
// its floor, and our batch and streaming indicators against Tulip, with PASS/MISS per target.
// Usage: node tulind.mjs SERIES_BIN N ROUNDS C_RESULTS_JSON OUT_JSON STRICT(0|1)
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [seriesFile, nArg, roundsArg, cFile, outFile, strictArg] = process.argv.slice(2);
if (!seriesFile || !nArg || !roundsArg || !cFile || !outFile) {
  console.error('usage: node tulind.mjs SERIES_BIN N ROUNDS C_RESULTS_JSON OUT_JSON STRICT');
  process.exit(2);
}
const n = Number(nArg), rounds = Number(roundsArg), strict = strictArg === '1';
const here = path.dirname(fileURLToPath(import.meta.url));
// tulind is installed for the indicator fixtures; the benchmark uses the same copy
const require = createRequire(path.join(here, '../fixtures/indicators/package.json'));
const tulind = require('tulind');

const TARGET_STEPS_PER_S = 100e6;
const TARGET_RATIO = 1.0;

// the series: 4 × n little-endian doubles (close, high, low, volume)
const buf = readFileSync(seriesFile);
if (buf.length !== 32 * n) throw new Error(`${seriesFile}: ${buf.length} bytes, expected ${32 * n}`);
const all = new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
// tulind takes plain arrays; converting them is not part of what is timed
const close = Array.from(all.subarray(0, n)), high = Array.from(all.subarray(n, 2 * n)),
  low = Array.from(all.subarray(2 * n, 3 * n)), volume = Array.from(all.subarray(3 * n, 4 * n));

// the same indicators and options as backtest.c's ind_rows (VWAP: Tulip has none)
const defs = [
  ['sma', [close], [20]], ['ema', [close], [20]], ['wma', [close], [20]], ['rsi', [close], [14]],
  ['bbands', [close], [20, 2]], ['macd', [close], [12, 26, 9]], ['atr', [high, low, close], [14]],
  ['stoch', [high, low, close], [14, 3, 3]], ['adx', [high, low, close], [14]], ['obv', [close, volume], []],
];
const tul = {};
for (const [name, inputs, options] of defs) {
  let best = Infinity, outLen = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    // the binding calls back synchronously: the time covers the whole call
    tulind.indicators[name].indicator(inputs, options, (err, res) => {
      if (err) throw new Error(`${name}: ${err}`);
      outLen = res[0].length;
    });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (s < best) best = s;
  }
  if (outLen < n / 2) throw new Error(`${name}: tulind returned ${outLen} values`);
  tul[name] = { best_s: best, per_s: n / best };
}

const c = JSON.parse(readFileSync(cFile, 'utf8'));
const rows = c.rows;
const rate = (name) => (rows[name] ? rows[name].per_s : null);
const fmt = (x, d = 1) => (x == null ? '-' : (x / 1e6).toFixed(d));
const ratioFmt = (x) => (x == null ? '-' : `${x.toFixed(2)}x`);
const misses = [];

console.log(`\nBacktest: SMA crossover 10/30, ${c.candles} synthetic 1h candles, one core, best of ${c.rounds} rounds`);
console.log(`  ${'row'.padEnd(22)} ${'M candle-steps/s'.padStart(17)} ${'time vs floor'.padStart(14)}`);
const floor = rate('floor-sma-pair');
for (const name of ['floor-sma-pair', 'engine-run', 'backtest-run']) {
  const r = rate(name);
  console.log(`  ${name.padEnd(22)} ${fmt(r).padStart(17)} ${ratioFmt(floor / r).padStart(14)}`);
}
console.log(`  ${'metrics+report-json'.padEnd(22)} ${fmt(rate('metrics+report-json')).padStart(17)}   (metrics of the full curve, JSON with ${c.trades} trades)`);
const steps = rate('backtest-run');
const stepsOk = steps >= TARGET_STEPS_PER_S;
if (!stepsOk) misses.push('backtest candle-steps/s');
console.log(`  target >= ${TARGET_STEPS_PER_S / 1e6} M candle-steps/s (backtest-run): ${stepsOk ? 'PASS' : 'MISS'}`);

console.log(`\nIndicators over the same ${n} candles, M values/s (best of ${rounds}); ratios are ours / theirs`);
const hdr = ['indicator', 'tulind', 'ours batch', 'ours stream', 'batch/tulind', 'stream/tulind', 'tulip C', 'batch/C', 'stream/C'];
const widths = [10, 8, 11, 12, 13, 14, 8, 8, 9];
console.log('  ' + hdr.map((h, i) => h.padStart(widths[i])).join(' '));
const indOut = {};
for (const [name] of defs) {
  const t = tul[name].per_s, b = rate(`ind-batch-${name}`), s = rate(`ind-stream-${name}`), tc = rate(`tulip-c-${name}`);
  const rb = b / t, rs = s / t;
  if (!(rb >= TARGET_RATIO)) misses.push(`${name} batch vs tulind`);
  if (!(rs >= TARGET_RATIO)) misses.push(`${name} streaming vs tulind`);
  indOut[name] = { tulind_per_s: t, batch_per_s: b, stream_per_s: s, tulip_c_per_s: tc, batch_vs_tulind: rb, stream_vs_tulind: rs,
    batch_vs_tulip_c: tc ? b / tc : null, stream_vs_tulip_c: tc ? s / tc : null };
  const cells = [name, fmt(t), fmt(b), fmt(s), ratioFmt(rb), ratioFmt(rs), fmt(tc), ratioFmt(tc ? b / tc : null), ratioFmt(tc ? s / tc : null)];
  console.log('  ' + cells.map((x, i) => String(x).padStart(widths[i])).join(' '));
}
console.log('  (vwap: Tulip has none; ours ' + `batch ${fmt(rate('ind-batch-vwap'))}, stream ${fmt(rate('ind-stream-vwap'))} M values/s)`);
console.log(`  tulind = the npm package called from Node (what a Node program gets: its binding copies every`);
console.log(`  value between JS arrays and C); tulip C = Tulip's C functions called directly, built with the same -O2.`);
console.log(`  target >= ${TARGET_RATIO.toFixed(1)}x tulind, batch and streaming, every indicator: ${misses.some((m) => m.includes('tulind')) ? 'MISS' : 'PASS'}`);

writeFileSync(outFile, JSON.stringify({ candles: c.candles, rounds: c.rounds, trades: c.trades, rows, tulind: tul, indicators: indOut,
  targets: { steps_per_s: TARGET_STEPS_PER_S, ratio_vs_tulind: TARGET_RATIO }, misses }, null, 2) + '\n');
console.log(`\nresults: ${outFile}${misses.length ? `; missed: ${misses.join(', ')}` : ''}`);
process.exit(strict && misses.length ? 3 : 0);
