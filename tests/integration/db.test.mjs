// db.test.mjs — runs the check program tests/unit/test_db (db_tx retry behaviour) against the
// stack's real PostgreSQL; make check builds it, this file gives it a database.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startStack, run, REPO } from './harness.mjs';

let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

test('db_tx retries 40001, stops at db.retry_max, never retries other errors', async () => {
  const bin = path.join(REPO, 'tests', 'unit', 'test_db');
  assert.ok(existsSync(bin), 'tests/unit/test_db is built by make check');
  const dsn = `host=${path.join(stack.varDir, 'run')} port=${stack.env.BCF_PG_PORT} dbname=botcriptofy user=botcriptofy_owner`;  // the test creates its own table
  const { stdout } = await run(bin, [], { env: { ...process.env, BCF_TEST_DSN: dsn, CK_FORK: 'no' } });
  assert.match(stdout, /100%: Checks: 3, Failures: 0, Errors: 0/);
});
