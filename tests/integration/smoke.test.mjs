// tests/integration/smoke.test.mjs — smoke test of the whole stack: nginx, the FastCGI pool and static files.
// Starts one private stack for the file (harness.mjs), checks /health, a static file and a 404, then stops it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';

let stack;

before(async () => {
  stack = await startStack();
});

after(async () => {
  await stack?.stop();
});

test('GET /health answers 200 with {"status":"ok"}', async () => {
  const res = await stack.fetch('/health');
  const text = await res.text();
  assert.equal(res.status, 200, `body: ${text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json\b/);
  assert.equal(JSON.parse(text).status, 'ok');
});

test('GET /static/css/app.css is served by nginx with cache headers', async () => {
  const res = await stack.fetch('/static/css/app.css');
  await res.arrayBuffer();
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/css\b/);
  const cc = res.headers.get('cache-control') ?? '';
  assert.match(cc, /max-age=\d+/, `Cache-Control: ${cc}`);
  assert.match(cc, /public/, `Cache-Control: ${cc}`);
});

test('an unknown URL answers 404', async () => {
  const res = await stack.fetch(`/no-such-page-${Date.now()}`);
  await res.arrayBuffer();
  assert.equal(res.status, 404);
});
