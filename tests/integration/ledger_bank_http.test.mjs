// tests/integration/ledger_bank_http.test.mjs — the bank test through HTTP: 64 async clients move money between one
// tenant's pockets with POST /api/v1/banco/transferencias and read GET /api/v1/banco while FastCGI workers are SIGKILLed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startStack } from './harness.mjs';
import { apiPost, enrolTotp, login, makeTrader, psql, sessionCsrf, sleep } from './lib.mjs';

const CEO = Object.freeze({ email: 'ceo@botcriptofy.dev', password: 'demo-company-2026' });
const POCKETS = 16;
const FUNDS = 30000; // minor units per pocket (R$ 300,00): transfers of up to R$ 50,00 are sometimes refused
const CLIENTS = 64;
const OPS = 20; // per client: three in four a transfer, one in four a read
const KILL_EVERY_MS = 400;

let stack;
before(async () => {
  stack = await startStack({ config: { 'ratelimit.banco.transfer': '1000000/min', 'ratelimit.financeiro.create_transaction': '1000000/min' } });
});
after(async () => { await stack?.stop(); });

/** A request that is answered for sure: network errors and 5xx (a killed worker, nginx's 502) are retried unchanged. */
async function definitive(make) {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await stack.fetch(...make());
      const text = await res.text();
      if (res.status < 500) return { status: res.status, json: JSON.parse(text), retries: attempt };
    } catch { /* the connection died with the worker */ }
    if (attempt > 200) throw new Error('no definitive answer after 200 tries');
    await sleep(20 + Math.random() * 50);
  }
}

test('64 HTTP clients moving money between pockets while pool workers are killed: no money created, lost or applied twice', async () => {
  const t = await makeTrader(stack, 'bank');
  const cookie = (await login(stack, { email: t.email })).cookie;
  const csrf = await sessionCsrf(stack, cookie);
  const headers = { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf };
  const staff = (await enrolTotp(stack, (await login(stack, CEO)).cookie)).cookie;
  const staffCsrf = await sessionCsrf(stack, staff);

  // fund the wallet through a confirmed deposit, then each pocket from it
  const dep = await apiPost(stack, cookie, csrf, '/api/v1/banco/depositos', { currency: 'BRL', amount_minor: String(POCKETS * FUNDS), key: 'bank-deposit' });
  assert.equal(dep.res.status, 201, dep.text);
  assert.equal((await apiPost(stack, staff, staffCsrf, `/api/v1/banco/pedidos/${dep.json.request.id}/confirmar`)).res.status, 200);
  const wallet = (await (await stack.fetch('/api/v1/banco', { headers: { cookie } })).json()).accounts.find((a) => a.kind === 'wallet' && a.currency === 'BRL');
  const pockets = [];
  for (let i = 0; i < POCKETS; i++) {
    const p = await apiPost(stack, cookie, csrf, '/api/v1/banco/caixinhas', { currency: 'BRL', name: `Caixinha ${i}` });
    assert.equal(p.res.status, 201, p.text);
    pockets.push(p.json.pocket.account_id);
    const f = await apiPost(stack, cookie, csrf, '/api/v1/banco/transferencias', { from: wallet.id, to: p.json.pocket.account_id, amount_minor: String(FUNDS), key: `fund-${i}` });
    assert.equal(f.res.status, 201, f.text);
  }
  const total = POCKETS * FUNDS;
  const pocketSet = new Set(pockets);

  const acked = new Map(); // key -> transfer id
  const refused = new Set();
  const problems = [];
  let reads = 0;
  let retries = 0;

  async function client(c) {
    for (let op = 0; op < OPS; op++) {
      if (Math.random() < 0.25) {
        const r = await definitive(() => ['/api/v1/banco', { headers: { cookie } }]);
        retries += r.retries;
        if (r.status !== 200) { problems.push(`read answered ${r.status}`); continue; }
        const mine = r.json.accounts.filter((a) => pocketSet.has(a.id));
        const sum = mine.reduce((s, a) => s + a.available_minor, 0);
        if (mine.length !== POCKETS || sum !== total) problems.push(`read saw ${mine.length} pockets summing to ${sum}, not ${total}`);
        if (mine.some((a) => a.available_minor < 0 || a.posted_minor < 0)) problems.push('read saw a negative balance');
        reads++;
        continue;
      }
      const from = pockets[Math.floor(Math.random() * POCKETS)];
      let to = pockets[Math.floor(Math.random() * POCKETS)];
      if (to === from) to = pockets[(pockets.indexOf(from) + 1) % POCKETS];
      const key = `c${c}-${op}`;
      // the body is fixed before the first try, so every retry sends the same request
      const body = JSON.stringify({ from, to, amount_minor: String(1 + Math.floor(Math.random() * 5000)) });
      const r = await definitive(() => ['/api/v1/banco/transferencias', { method: 'POST', headers: { ...headers, 'idempotency-key': key }, body }]);
      retries += r.retries;
      if (r.status === 201 || r.status === 200) acked.set(key, r.json.transfer_id);
      else if (r.status === 409 && r.json.error.code === 'exceeds_credits') refused.add(key);
      else problems.push(`transfer ${key} answered ${r.status} ${JSON.stringify(r.json)}`);
    }
  }

  // The killer is a separate process: 64 busy fetch loops can hold this process's timers back for seconds.
  // Every KILL_EVERY_MS it SIGKILLs one random pool worker of this stack's master (its children only).
  const { master } = await stack.fcgiPids();
  assert.ok(master, 'the FastCGI master runs');
  const killer = spawn('bash', ['-c', `while sleep ${KILL_EVERY_MS / 1000}; do
      pid=$(pgrep -P ${master} | shuf -n 1); [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && echo "$pid"; done`],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  let killed = '';
  killer.stdout.on('data', (d) => { killed += d; });
  const started = Date.now();
  try {
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
  } finally {
    killer.kill('SIGTERM');
  }
  const kills = killed.split('\n').filter(Boolean).length;
  const elapsed = Date.now() - started;

  assert.deepEqual(problems.slice(0, 5), [], `${problems.length} problems`);
  assert.ok(kills >= 5, `only ${kills} workers killed in ${elapsed} ms`);
  assert.ok(reads > 0 && acked.size > 0, `reads ${reads}, acknowledged ${acked.size}`);
  assert.equal(acked.size + refused.size, CLIENTS * OPS - reads, 'every transfer got a definitive answer');

  const rows = await psql(stack, `SELECT idempotency_key || ' ' || id FROM ledger_transfers
    WHERE tenant_id = ${t.tenantId} AND idempotency_key LIKE 'transfer:c%'`);
  const stored = new Map();
  for (const line of rows.split('\n').filter(Boolean)) {
    const [k, id] = line.split(' ');
    const key = k.slice('transfer:'.length);
    assert.ok(!stored.has(key), `${key} applied twice`);
    stored.set(key, Number(id));
  }
  for (const [key, id] of acked) assert.equal(stored.get(key), id, `acknowledged ${key} is stored once under ${id}`);
  for (const key of refused) assert.ok(!stored.has(key), `refused ${key} left no transfer`);
  assert.equal(stored.size, acked.size, 'nothing unacknowledged was applied');

  const final = await psql(stack, `SELECT sum(credits_posted - debits_posted) || ' ' || min(credits_posted - debits_posted - debits_pending)
    FROM ledger_accounts WHERE id IN (${pockets.join(',')})`);
  const [sum, min] = final.split(' ').map(Number);
  assert.equal(sum, total);
  assert.ok(min >= 0);
  const { stdout } = await stack.botctl('ledger', 'verify');
  assert.match(stdout, /ledger consistent/);
  console.log(`# ${CLIENTS} clients, ${acked.size} transfers, ${refused.size} refused, ${reads} reads, ${kills} worker kills, ${retries} retries, ${elapsed} ms`);
});
