// tests/integration/stripe_fixtures.test.mjs — the committed Stripe-Signature fixtures are what their
// generator makes: a copy of tests/fixtures/stripe installs the pinned stripe library (npm ci) and must
// write signatures.json byte for byte, so fixtures and generator cannot drift apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO, run } from './harness.mjs';

test('signatures.json is regenerated identically by generate.mjs with the locked stripe package', async () => {
  const src = path.join(REPO, 'tests', 'fixtures', 'stripe');
  const dir = await mkdtemp(path.join(tmpdir(), 'bcf-stripe-fixtures-'));
  try {
    for (const f of ['generate.mjs', 'package.json', 'package-lock.json']) await copyFile(path.join(src, f), path.join(dir, f));
    await run('npm', ['ci', '--prefix', dir, '--no-audit', '--no-fund', '--loglevel=error'], { timeoutMs: 240_000 });
    const { stdout } = await run(process.execPath, [path.join(dir, 'generate.mjs')]);
    assert.match(stdout, /wrote \d+ cases/);
    const fresh = JSON.parse(await readFile(path.join(dir, 'signatures.json'), 'utf8'));
    assert.ok(fresh.cases.length >= 20);
    assert.equal(await readFile(path.join(dir, 'signatures.json'), 'utf8'),
      await readFile(path.join(src, 'signatures.json'), 'utf8'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
