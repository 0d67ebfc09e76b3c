// tests/integration/harness.mjs — starts and stops a private BotCriptoFy stack for one integration test file.
// Wraps dev/stack (fresh var dir under <repo>/var/test-*, free ports) and adds HTTP, outage, pid, log and load helpers.
//
//   import { startStack, load } from './harness.mjs';
//   let stack;
//   before(async () => { stack = await startStack(); });
//   after(async () => { await stack?.stop(); });
//   const res = await stack.fetch('/health');
//
// Set BCF_KEEP_VAR=1 to keep the var dirs (logs, database) of stopped or failed stacks.
import { execFile, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const STACK = path.join(REPO, 'dev', 'stack');
const KEEP = process.env.BCF_KEEP_VAR === '1';

// Stacks still running; stopped synchronously if the test process exits without stop().
const live = new Set();

function stopSync(varDir) {
  try {
    execFileSync(STACK, ['stop', '--var', varDir], { stdio: 'ignore', timeout: 120_000 });
  } catch { /* best effort while exiting */ }
  if (!KEEP) rmSync(varDir, { recursive: true, force: true });
}
process.on('exit', () => {
  for (const s of live) stopSync(s);
  live.clear();
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    for (const s of live) stopSync(s);
    live.clear();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

/** Runs a program; resolves {stdout, stderr}; rejects with an Error carrying both. */
export function run(file, args, { timeoutMs = 180_000, env } = {}) {
  return new Promise((resolve, reject) => {
    execFile(file, args, {
      cwd: REPO,
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
      env: env ?? process.env,
    }, (err, stdout, stderr) => {
      if (err) {
        const e = new Error(`${path.relative(REPO, file) || file} ${args.join(' ')} failed ` +
          `(${err.killed ? 'timed out' : `exit ${err.code}`}):\n${stdout}${stderr}`);
        e.stdout = stdout;
        e.stderr = stderr;
        e.code = err.code;
        reject(e);
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

/** Parses stack.env (shell KEY=value lines, optional quotes, # comments). */
export function parseEnv(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2].trim();
    if ((v.startsWith("'") && v.endsWith("'")) || (v.startsWith('"') && v.endsWith('"'))) v = v.slice(1, -1);
    out[m[1]] = v;
  }
  return out;
}

async function readPid(file) {
  try {
    const pid = parseInt((await readFile(file, 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Pids whose parent is ppid, from /proc/<pid>/stat (field 4, after the parenthesised name). */
export async function childPids(ppid) {
  const out = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = await readFile(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] !== 'Z' && parseInt(rest[1], 10) === ppid) out.push(parseInt(name, 10));
  }
  return out.sort((a, b) => a - b);
}

/**
 * Starts a private stack: dev/stack start --var <repo>/var/test-XXXXXX --env test.
 * Options: workers (FastCGI pool size, default 2), appEnv ('test'), httpPort (default: a free one),
 * timeoutMs for the start.
 */
// Limits a test stack starts with: the suites send thousands of requests from one address, so the
// per-address and per-user defaults are raised; a test of the limits passes its own `config`.
export const TEST_CONFIG = {
  'ratelimit.default': '1000000/min',
  'ratelimit.user': '1000000/min',
  'ratelimit.auth.login': '1000000/min',
};

/**
 * Starts a stack. `config` adds app config lines (key: value) on top of TEST_CONFIG, e.g.
 * { 'mail.smtp_url': 'smtp://127.0.0.1:2525' } or { 'ratelimit.default': '5/min' }.
 */
export async function startStack({ workers = 2, appEnv = 'test', httpPort, timeoutMs = 180_000, config = {} } = {}) {
  await mkdir(path.join(REPO, 'var'), { recursive: true });
  const varDir = await mkdtemp(path.join(REPO, 'var', 'test-'));
  // Owner mark: dev/test removes var/test-* stacks only when this process is gone.
  await writeFile(path.join(varDir, '.harness-pid'), `${process.pid}\n`);
  const args = ['start', '--var', varDir, '--env', appEnv, '--workers', String(workers)];
  if (httpPort) args.push('--http-port', String(httpPort));
  for (const [k, v] of Object.entries({ ...TEST_CONFIG, ...config })) args.push('--conf', `${k} = ${v}`);
  live.add(varDir);
  try {
    await run(STACK, args, { timeoutMs });
  } catch (e) {
    // dev/stack already stopped what it had started and printed the failing log's tail.
    live.delete(varDir);
    stopSync(varDir);
    throw new Error(`${e.message}${KEEP ? `\n(var dir kept: ${varDir})` : '\n(var dir removed; BCF_KEEP_VAR=1 keeps it)'}`);
  }
  const env = parseEnv(await readFile(path.join(varDir, 'stack.env'), 'utf8'));
  const baseUrl = env.BCF_BASE_URL;
  const runDir = path.join(varDir, 'run');
  let stopped = false;

  const stack = {
    baseUrl,
    env,
    varDir,
    config: env.BCF_CONFIG,

    /** Stops every component and removes the var dir (kept with BCF_KEEP_VAR=1). */
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await run(STACK, ['stop', '--var', varDir]);
      } finally {
        live.delete(varDir);
        if (!KEEP) await rm(varDir, { recursive: true, force: true });
      }
    },

    /** fetch() relative to baseUrl. Redirects are NOT followed (redirect: 'manual') unless asked. */
    fetch(p, opts = {}) {
      return fetch(new URL(p, baseUrl), { redirect: 'manual', ...opts });
    },

    /** Stops or starts (again, same port) this stack's PostgreSQL: action 'stop' | 'start'. */
    async pgCtl(action) {
      if (action !== 'stop' && action !== 'start') throw new Error(`pgCtl: bad action ${action}`);
      await run(STACK, [`pg-${action}`, '--var', varDir]);
    },

    /** Stops or starts (again, same port, empty) this stack's Redis: action 'stop' | 'start'. */
    async redisCtl(action) {
      if (action !== 'stop' && action !== 'start') throw new Error(`redisCtl: bad action ${action}`);
      await run(STACK, [`redis-${action}`, '--var', varDir]);
    },

    /**
     * Pids of the FastCGI pool and the job worker:
     * { master, workers: [pool children of the master], jobWorker }; null/[] for what is not running.
     */
    async fcgiPids() {
      let master = await readPid(path.join(runDir, 'fcgi.pid'));
      if (!alive(master)) master = null;
      let jobWorker = await readPid(path.join(runDir, 'worker.pid'));
      if (!alive(jobWorker)) jobWorker = null;
      return { master, workers: master ? await childPids(master) : [], jobWorker };
    },

    /** Contents of <var>/log/<name>.log ('' when absent): fcgi, worker, botctl, nginx-error, postgres, redis. */
    async logs(name) {
      const file = path.join(varDir, 'log', name.endsWith('.log') ? name : `${name}.log`);
      try {
        return await readFile(file, 'utf8');
      } catch {
        return '';
      }
    },

    /** Runs cli/botctl -c <config> ARGS...; resolves {stdout, stderr}. */
    botctl(...botArgs) {
      return run(path.join(REPO, 'cli', 'botctl'), ['-c', env.BCF_CONFIG, ...botArgs]);
    },
  };
  return stack;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * A small closed-loop load generator for loopback URLs: `concurrency` clients send requests
 * back to back until durationMs has passed or maxRequests were sent.
 * Returns { requests, byStatus: {200: n, ...}, errors, errorsByCode, durationMs, rps, latencyMs: {p50, p99, max} }.
 */
export async function load({
  url,
  concurrency = 8,
  durationMs = 2000,
  maxRequests = 200_000,
  method = 'GET',
  headers,
  body,
  timeoutMs = 10_000,
} = {}) {
  const u = new URL(url);
  if (!LOOPBACK.has(u.hostname)) throw new Error(`load: only loopback URLs are allowed, not ${u.hostname}`);
  concurrency = Math.max(1, Math.min(Number(concurrency) || 1, 512));
  durationMs = Math.max(1, Math.min(Number(durationMs) || 1, 120_000));
  maxRequests = Math.max(1, Math.min(Number(maxRequests) || 1, 1_000_000));

  const byStatus = {};
  const errorsByCode = {};
  const latencies = [];
  let sent = 0;
  let errors = 0;
  const start = performance.now();
  const deadline = start + durationMs;

  async function client() {
    while (performance.now() < deadline && sent < maxRequests) {
      sent++;
      const t0 = performance.now();
      try {
        const res = await fetch(u, {
          method,
          headers,
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
        await res.arrayBuffer();
        byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
      } catch (e) {
        errors++;
        const code = e?.cause?.code ?? e?.name ?? 'Error';
        errorsByCode[code] = (errorsByCode[code] ?? 0) + 1;
      }
      latencies.push(performance.now() - t0);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, client));
  const elapsed = performance.now() - start;
  latencies.sort((a, b) => a - b);
  const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : 0);
  return {
    requests: sent,
    byStatus,
    errors,
    errorsByCode,
    durationMs: Math.round(elapsed),
    rps: Math.round((sent * 1000) / elapsed),
    latencyMs: { p50: +pct(0.5).toFixed(2), p99: +pct(0.99).toFixed(2), max: +(latencies.at(-1) ?? 0).toFixed(2) },
  };
}
