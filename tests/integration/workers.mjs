// tests/integration/workers.mjs — job workers that a test starts, kills and restarts itself (dev/stack
// starts one and does not supervise it): spawn, SIGKILL, SIGTERM, wait for exit; plus job table helpers.
//
//   const w = workers(stack);      // stops the stack's own worker
//   await w.stopStackWorker();
//   const p = w.start();           // { pid, exited: Promise<{code, signal}> }
//   process.kill(p.pid, 'SIGKILL'); await p.exited;
//   await w.stopAll();             // in after()
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import path from 'node:path';
import { REPO, psql, sleep, waitFor } from './lib.mjs';

export const WORKER_BIN = path.join(REPO, 'worker', 'botcriptofy-worker');

export function workers(stack) {
  const live = new Set();
  let seq = 0;
  return {
    /** SIGTERM the worker dev/stack started and wait until it is gone. */
    async stopStackWorker() {
      const { jobWorker } = await stack.fcgiPids();
      if (!jobWorker) return;
      process.kill(jobWorker, 'SIGTERM');
      const gone = await waitFor(() => { try { process.kill(jobWorker, 0); return false; } catch { return true; } },
        { timeoutMs: 30_000, intervalMs: 50 });
      if (!gone) throw new Error(`the stack's worker ${jobWorker} did not stop`);
    },

    /** Starts a worker (log appended to <var>/log/worker.log); env adds variables (BCF_WORKER_ID...). */
    start(env = {}) {
      const fd = openSync(path.join(stack.varDir, 'log', 'worker.log'), 'a');
      const child = spawn(WORKER_BIN, ['-c', stack.config], {
        env: { ...process.env, ...env },
        stdio: ['ignore', fd, fd],
        detached: true,
      });
      closeSync(fd);
      const p = { pid: child.pid, n: ++seq, exit: null };
      p.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
        p.exit = { code, signal };
        live.delete(p);
        resolve(p.exit);
      }));
      live.add(p);
      return p;
    },

    get live() {
      return [...live];
    },

    /** SIGKILLs every worker still running (after()). */
    async stopAll() {
      const all = [...live];
      for (const p of all) {
        try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
      }
      await Promise.all(all.map((p) => Promise.race([p.exited, sleep(5000)])));
    },
  };
}

/** One job row as an object (psql, application role). */
export async function jobRow(stack, id) {
  const row = await psql(stack, `SELECT row_to_json(j) FROM (SELECT id, tenant_id, type, status, attempts, max_attempts,
      progress, error, result, worker_id, cancel_requested,
      (extract(epoch FROM run_after - updated_at) * 1000)::int AS backoff_ms,
      (run_after > now()) AS waiting FROM jobs WHERE id = ${Number(id)}) j`);
  return row ? JSON.parse(row) : null;
}

/** Waits until the job's status is one of `statuses`; resolves the row (or throws with the last one). */
export async function waitStatus(stack, id, statuses, { timeoutMs = 20_000, intervalMs = 50 } = {}) {
  const want = Array.isArray(statuses) ? statuses : [statuses];
  let last;
  const ok = await waitFor(async () => {
    last = await jobRow(stack, id);
    return last && want.includes(last.status);
  }, { timeoutMs, intervalMs });
  if (!ok) throw new Error(`job ${id} did not reach ${want.join('/')} within ${timeoutMs} ms: ${JSON.stringify(last)}`);
  return last;
}
