// ledger.test.mjs — runs the check program tests/unit/test_ledger against the stack's migrated
// PostgreSQL, then drives `botctl ledger` as an operator would: open, transfer, verify, damage, verify.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startStack, run, REPO } from './harness.mjs';
import { waitFor } from './lib.mjs';

let stack;
let dsn;
before(async () => {
  stack = await startStack();
  // the owner: the tests create tenants and damage a balance on purpose
  dsn = `host=${path.join(stack.varDir, 'run')} port=${stack.env.BCF_PG_PORT} dbname=botcriptofy user=botcriptofy_owner`;
});
after(async () => { await stack?.stop(); });

const psql = (sql) => promisify(execFile)('psql', [dsn, '-qtAc', sql]).then((r) => r.stdout.trim());

test('ledger: idempotency, refusals, linked batches, two-phase, verify, concurrent writers', async () => {
  const bin = path.join(REPO, 'tests', 'unit', 'test_ledger');
  assert.ok(existsSync(bin), 'tests/unit/test_ledger is built by make check');
  const { stdout } = await run(bin, [], { env: { ...process.env, BCF_TEST_DSN: dsn, CK_FORK: 'no' } });
  assert.match(stdout, /100%: Checks: 8, Failures: 0, Errors: 0/);
});

test('botctl ledger: transfers through the command line, verify catches a damaged balance', async () => {
  const tenant = await psql("INSERT INTO tenants (kind, name) VALUES ('trader', 'botctl ledger') RETURNING id");
  const bank = (await stack.botctl('ledger', 'open', tenant, 'USDT', 'bank', '--allow-negative')).stdout.trim();
  const wallet = (await stack.botctl('ledger', 'open', tenant, 'USDT', 'wallet')).stdout.trim();
  const first = await stack.botctl('ledger', 'transfer', tenant, 'dep-1', bank, wallet, '2500000', '--code', 'deposit');
  assert.match(first.stdout, /^ok \d+/);
  const retry = await stack.botctl('ledger', 'transfer', tenant, 'dep-1', bank, wallet, '2500000', '--code', 'deposit');
  assert.equal(retry.stdout.replace('exists', 'ok'), first.stdout);
  await assert.rejects(stack.botctl('ledger', 'transfer', tenant, 'wd-1', wallet, bank, '2500001'), /exceeds_credits/);
  const hold = await stack.botctl('ledger', 'transfer', tenant, 'hold-1', wallet, bank, '1000', '--pending', '--timeout', '30');
  const pending = hold.stdout.split(' ')[1].trim();
  assert.match((await stack.botctl('ledger', 'expire', '--at', String(Math.floor(Date.now() / 1000) + 60))).stdout, /^1 expired/);
  await assert.rejects(stack.botctl('ledger', 'post', tenant, 'post-1', pending), /pending_already_voided/);
  assert.match((await stack.botctl('ledger', 'verify')).stdout, /ledger consistent/);

  await psql(`UPDATE ledger_accounts SET debits_posted = debits_posted + 7 WHERE id = ${bank}`);
  const broken = await stack.botctl('ledger', 'verify').then(() => null, (e) => e);
  assert.ok(broken, 'verify exits non-zero on a damaged balance');
  assert.match(broken.stdout, new RegExp(`account ${bank} \\(USDT bank\\)`));
  assert.match(broken.stdout, /currency USDT: debits posted/);
  assert.match(broken.stdout, /ledger BROKEN: 2 problems/);
  await psql(`UPDATE ledger_accounts SET debits_posted = debits_posted - 7 WHERE id = ${bank}`);
  assert.match((await stack.botctl('ledger', 'verify')).stdout, /ledger consistent/);
});

test('the worker voids a pending transfer once its timeout has passed, releasing the held money', async () => {
  const tenant = await psql("INSERT INTO tenants (kind, name) VALUES ('trader', 'ledger expiry') RETURNING id");
  const bank = (await stack.botctl('ledger', 'open', tenant, 'BRL', 'bank', '--allow-negative')).stdout.trim();
  const wallet = (await stack.botctl('ledger', 'open', tenant, 'BRL', 'wallet')).stdout.trim();
  await stack.botctl('ledger', 'transfer', tenant, 'exp-dep', bank, wallet, '5000');
  const hold = await stack.botctl('ledger', 'transfer', tenant, 'exp-hold', wallet, bank, '2000', '--pending', '--timeout', '1');
  const pending = hold.stdout.split(' ')[1].trim();
  assert.equal(await psql(`SELECT debits_pending FROM ledger_accounts WHERE id = ${wallet}`), '2000', 'the money is held');
  // nobody calls botctl ledger expire: the worker's periodic pass does it
  await waitFor(async () => (await psql(`SELECT count(*) FROM ledger_transfers WHERE pending_id = ${pending}`)) === '1',
    { timeoutMs: 15_000, intervalMs: 200 });
  assert.equal(await psql(`SELECT kind || '/' || code FROM ledger_transfers WHERE pending_id = ${pending}`), 'expire/timeout');
  assert.equal(await psql(`SELECT debits_pending || '/' || debits_posted FROM ledger_accounts WHERE id = ${wallet}`), '0/0',
    'the hold is released and nothing was posted');
  assert.match((await stack.botctl('ledger', 'verify')).stdout, /ledger consistent/);
});
