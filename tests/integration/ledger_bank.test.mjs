// tests/integration/ledger_bank.test.mjs — a Jepsen-style bank test of the ledger: 64 client processes
// (tests/bench/ledger_clients, one connection each) transfer and read while the test SIGKILLs and restarts them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startStack, run, REPO } from './harness.mjs';
import { psql, sleep } from './lib.mjs';

const BIN = path.join(REPO, 'tests', 'bench', 'ledger_clients');
const CLIENTS = 64;
const OPS = 60;             // per client: about 3/4 transfers, 1/4 reads
const ACCOUNTS = 16;
const PER_ACCOUNT = 300;     // small: some transfers are refused for lack of funds
const TOTAL = ACCOUNTS * PER_ACCOUNT;
const KILLS = 24;

let stack;
let env;
before(async () => {
  stack = await startStack();
  // the application role, as the web tier connects
  env = { ...process.env, BCF_TEST_DSN: `host=${path.join(stack.varDir, 'run')} port=${stack.env.BCF_PG_PORT} dbname=botcriptofy user=botcriptofy` };
});
after(async () => { await stack?.stop(); });

/** One client process from op `from`; its lines are parsed into the shared history as they arrive. */
function startClient(state, tenant, ids, name, from, history) {
  const child = spawn(BIN, ['client', tenant, ids, name, String(from), String(OPS)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const c = { name, next: from, child, done: false, stderr: '' };
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const [kind, a, b] = buf.slice(0, nl).split(' ');
      buf = buf.slice(nl + 1);
      if (kind === 'done') { c.done = true; continue; }
      history.push({ kind, a, b, client: name });
      c.next++;
    }
  });
  child.stderr.on('data', (d) => { c.stderr += d; });
  c.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  state.set(name, c);
  return c;
}

test('bank: 64 clients transfer and read while clients are killed; sums constant, no overdraft, acks exactly once', async (t) => {
  assert.ok(existsSync(BIN), 'tests/bench/ledger_clients is built by make check');
  const setup = (await run(BIN, ['setup', String(ACCOUNTS), String(PER_ACCOUNT)], { env })).stdout;
  const tenant = setup.match(/^tenant (\d+)$/m)[1];
  const ids = setup.match(/^accounts ([\d,]+)$/m)[1];
  const history = [];
  const state = new Map();
  for (let i = 0; i < CLIENTS; i++) startClient(state, tenant, ids, `c${i}`, 0, history);

  // kill a random running client mid-operation every so often, and start it again where it stopped:
  // the op it was in (maybe committed, never acknowledged) is retried with the same key and body
  let kills = 0;
  const started = Date.now();
  while ([...state.values()].some((c) => !c.done)) {
    await sleep(150);
    const running = [...state.values()].filter((c) => !c.done && c.next > 0 && c.next < OPS);
    if (kills < KILLS && running.length) {
      const victim = running[Math.floor(Math.random() * running.length)];
      victim.child.kill('SIGKILL');
      const how = await victim.exited;
      if (!victim.done) {
        assert.equal(how.signal, 'SIGKILL');
        kills++;
        startClient(state, tenant, ids, victim.name, victim.next, history);
      }
    }
    for (const c of state.values()) {
      if (c.child.exitCode !== null && c.child.exitCode !== 0) assert.fail(`client ${c.name} failed: ${c.stderr}`);
    }
    assert.ok(Date.now() - started < 240_000, 'the clients finish');
  }
  await Promise.all([...state.values()].map((c) => c.exited));
  const reads = history.filter((h) => h.kind === 'read');
  const acks = history.filter((h) => h.kind === 'ack');
  const refused = history.filter((h) => h.kind === 'refused');
  const retries = [...state.values()].reduce((n, c) => n + (c.stderr.match(/retrying/g) ?? []).length, 0);
  t.diagnostic(`${retries} transfers retried after a database error`);
  t.diagnostic(`${kills} kills, ${acks.length} acknowledged, ${refused.length} refused, ${reads.length} reads in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  assert.ok(kills >= 5, `clients were killed mid-run (${kills})`);
  assert.ok(refused.length > 0, 'some transfers were refused for lack of funds');
  assert.equal(acks.length + refused.length + reads.length, CLIENTS * OPS, 'every op answered once');

  // every read: the constant total, and no account below zero
  for (const r of reads) {
    assert.equal(Number(r.a), TOTAL, `a read by ${r.client} summed to ${r.a}`);
    assert.ok(Number(r.b) >= 0, `a read by ${r.client} saw an overdrawn account (${r.b})`);
  }
  // refusals are only for lack of funds
  for (const r of refused) assert.equal(r.b, 'exceeds_credits', `${r.a}: ${r.b}`);
  // every acknowledged transfer is in the ledger exactly once under its id, and nothing else is
  const rows = await psql(stack, `SELECT idempotency_key || ' ' || id FROM ledger_transfers
    WHERE tenant_id = ${tenant} AND code = 'bank_test'`);
  const stored = new Map(rows ? rows.split('\n').map((l) => l.split(' ')) : []);
  const ackKeys = new Set(acks.map((a) => a.a));
  assert.equal(ackKeys.size, acks.length, 'no key acknowledged twice');
  for (const a of acks) assert.equal(stored.get(a.a), a.b, `acknowledged ${a.a} is transfer ${a.b}`);
  for (const k of stored.keys()) assert.ok(ackKeys.has(k), `${k} is stored but was never acknowledged`);
  assert.equal(Number(await psql(stack, `SELECT sum(credits_posted - debits_posted) FROM ledger_accounts
    WHERE id IN (${ids})`)), TOTAL);
  assert.match((await stack.botctl('ledger', 'verify')).stdout, /ledger consistent/);
});
