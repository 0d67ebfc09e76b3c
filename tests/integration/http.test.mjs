// tests/integration/http.test.mjs — the HTTP surface through nginx: error shapes (404/405/413/400/415/431),
// request ids, HEAD, security headers, static files, language choice, and that no bad input kills a process.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';
import { anonCsrf, decodeUtf8Strict, findCookie, rawRequest, rid } from './lib.mjs';

let stack;
let pidsBefore;

before(async () => {
  stack = await startStack();
  pidsBefore = await stack.fcgiPids();
  assert.ok(pidsBefore.master, 'FastCGI master is running');
  assert.equal(pidsBefore.workers.length, 2, `two pool workers: ${JSON.stringify(pidsBefore)}`);
});

after(async () => {
  await stack?.stop();
});

/** Asserts the one JSON error shape and that its request_id is the X-Request-Id header. */
async function assertJsonError(res, status, code) {
  const text = await res.text();
  assert.equal(res.status, status, `status (body: ${text.slice(0, 300)})`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json\b/);
  const j = JSON.parse(text);
  assert.equal(typeof j.error, 'object', `error object in ${text}`);
  assert.deepEqual(Object.keys(j.error).sort(), ['code', 'message', 'request_id']);
  if (code) assert.equal(j.error.code, code);
  assert.equal(typeof j.error.message, 'string');
  assert.ok(j.error.message.length > 0, 'non-empty message');
  const hdr = res.headers.get('x-request-id');
  assert.ok(hdr, 'X-Request-Id header present');
  assert.equal(j.error.request_id, hdr, 'request_id in the body equals the X-Request-Id header');
  return j;
}

test('404: an unknown page answers the HTML error page', async () => {
  const res = await stack.fetch(`/no-such-page-${Date.now()}`);
  const html = await res.text();
  assert.equal(res.status, 404);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html\b/);
  assert.match(html, /<!doctype html>/i);
  assert.match(html, /not_found/, 'the error code is shown on the page');
  const id = res.headers.get('x-request-id');
  assert.ok(id && html.includes(id), 'the page shows the request id of the X-Request-Id header');
});

test('404: an unknown /api/v1/ URL answers the JSON error shape', async () => {
  const res = await stack.fetch(`/api/v1/no-such-thing-${Date.now()}`);
  await assertJsonError(res, 404, 'not_found');
});

test('405: DELETE /login answers 405 with an Allow header', async () => {
  const res = await stack.fetch('/login', { method: 'DELETE' });
  await res.arrayBuffer();
  assert.equal(res.status, 405);
  const allow = (res.headers.get('allow') ?? '').split(',').map((s) => s.trim());
  assert.ok(allow.includes('GET'), `Allow: ${allow}`);
  assert.ok(allow.includes('POST'), `Allow: ${allow}`);
  assert.ok(!allow.includes('DELETE'), `Allow: ${allow}`);
});

test('405 on an /api path is the JSON error shape with Allow', async () => {
  const res = await stack.fetch('/api/v1/dashboard', { method: 'PUT', body: '{}', headers: { 'content-type': 'application/json' } });
  assert.match(res.headers.get('allow') ?? '', /\bGET\b/);
  await assertJsonError(res, 405, 'method_not_allowed');
});

test('413: a body above http.max_body_bytes (1 MiB) is refused with the JSON error for /api paths', async () => {
  const body = Buffer.alloc(1024 * 1024 + 1, 0x61);
  const res = await stack.fetch('/api/v1/dashboard', {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body,
  });
  await assertJsonError(res, 413, 'body_too_large');
});

test('413: an oversized form post to a page answers 413 (HTML)', async () => {
  const body = `a=${'b'.repeat(2 * 1024 * 1024)}`;
  const res = await stack.fetch('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  const html = await res.text();
  assert.equal(res.status, 413);
  assert.match(html, /body_too_large/);
});

test('400: a malformed urlencoded body (a=%zz)', async () => {
  const a = await anonCsrf(stack);
  const res = await stack.fetch('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: a.cookie },
    body: `_csrf=${a.token}&a=%zz`,
  });
  const html = await res.text();
  assert.equal(res.status, 400);
  assert.match(html, /bad_form/);
});

test('400 bad_json: a malformed JSON body with Content-Type application/json', async () => {
  const res = await stack.fetch('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"email": "x", ',
  });
  const html = await res.text();
  assert.equal(res.status, 400);
  assert.match(html, /bad_json/);
});

test('JSON nested deeper than 32 is refused (400 json_too_deep); 32 levels still parse', async () => {
  const nest = (n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
  const deep = await stack.fetch('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: nest(33) });
  const deepText = await deep.text();
  assert.equal(deep.status, 400);
  assert.match(deepText, /json_too_deep/);
  // 32 levels parse; the request then stops at the CSRF check (403), not at the parser.
  const ok = await stack.fetch('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: nest(32) });
  const okText = await ok.text();
  assert.equal(ok.status, 403, okText.slice(0, 200));
  assert.match(okText, /csrf/);
  // Brackets inside strings do not count as nesting.
  const str = await stack.fetch('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ s: '['.repeat(100) }),
  });
  await str.arrayBuffer();
  assert.equal(str.status, 403);
});

test('415: an unsupported Content-Type', async () => {
  const res = await stack.fetch('/login', { method: 'POST', headers: { 'content-type': 'text/xml' }, body: '<a/>' });
  const html = await res.text();
  assert.equal(res.status, 415);
  assert.match(html, /unsupported_media_type/);
});

test('oversized headers (> 64 KiB in total, each < 16 KiB) get a 4xx and the stack keeps serving', async () => {
  const v = 'x'.repeat(12 * 1024);
  const headers = {};
  for (let i = 0; i < 6; i++) headers[`X-Big-${i}`] = v; // 72 KiB of header values
  const res = await rawRequest(stack.baseUrl, '/api/v1/dashboard', { headers });
  assert.ok(res.status >= 400 && res.status < 500, `expected a 4xx, got ${res.status}: ${res.text.slice(0, 200)}`);
  const h = await stack.fetch('/health');
  assert.equal(h.status, 200);
  await h.arrayBuffer();
});

test('header sets around nginx\'s limits never get a 5xx (FastCGI params over 64 KiB included)', async (t) => {
  // Whatever large_client_header_buffers allows, a header block that nginx accepts must reach the app
  // (whose http.max_params_bytes answers 431) or be refused by nginx with a 4xx; nginx cannot put more
  // than 65,535 bytes of FastCGI params in its one PARAMS record, and must never answer 500 for it.
  const shapes = [
    ['4 x 16,300 bytes', 4, 16_300],
    ['4 x 16,000 bytes', 4, 16_000],
    ['3 x 16,300 bytes', 3, 16_300],
    ['4 x 8,100 bytes', 4, 8_100],
    ['8 x 8,000 bytes', 8, 8_000],
    ['16 x 4,000 bytes', 16, 4_000],
    ['900 x 1 byte', 900, 1],
  ];
  const seen = [];
  for (const [name, count, size] of shapes) {
    const headers = {};
    for (let i = 0; i < count; i++) headers[`X-H${String(i).padStart(4, '0')}`] = 'x'.repeat(size);
    const res = await rawRequest(stack.baseUrl, '/api/v1/dashboard', { headers });
    seen.push(`${name}: ${res.status}`);
    assert.ok(res.status < 500, `${name}: got ${res.status}: ${res.text.replace(/\s+/g, ' ').slice(0, 160)}`);
    assert.ok([401, 400, 431, 494].includes(res.status), `${name}: ${res.status}`);
  }
  t.diagnostic(seen.join('; '));
  const h = await stack.fetch('/health');
  assert.equal(h.status, 200);
  await h.arrayBuffer();
});

test('invalid UTF-8 in the path (/%C3%28) answers 400', async () => {
  const res = await stack.fetch('/%C3%28');
  await res.arrayBuffer();
  assert.equal(res.status, 400);
  const api = await stack.fetch('/api/v1/%C3%28');
  await assertJsonError(api, 400, 'bad_path');
  const h = await stack.fetch('/health');
  assert.equal(h.status, 200);
  await h.arrayBuffer();
});

test('the 400 page for an invalid UTF-8 path is itself valid UTF-8 (no raw bytes echoed)', async () => {
  const res = await rawRequest(stack.baseUrl, '/%C3%28');
  assert.equal(res.status, 400);
  assert.match(res.headers['content-type'] ?? '', /charset=utf-8/i);
  assert.doesNotThrow(() => decodeUtf8Strict(res.body),
    'a page declared charset=utf-8 must not contain invalid UTF-8 (the raw path is echoed into the page)');
});

test('X-Request-Id: a sane client id is propagated to the response', async () => {
  const res = await stack.fetch('/health', { headers: { 'X-Request-Id': 'test-abc-123' } });
  await res.arrayBuffer();
  assert.equal(res.headers.get('x-request-id'), 'test-abc-123');
  const e = await stack.fetch('/api/v1/nope', { headers: { 'X-Request-Id': 'test-abc-124' } });
  const j = await assertJsonError(e, 404, 'not_found');
  assert.equal(j.error.request_id, 'test-abc-124');
});

test('X-Request-Id: an invalid id (over 128 chars, or with spaces) is replaced', async () => {
  const sane = /^[A-Za-z0-9._:-]{1,128}$/;
  for (const bad of ['a'.repeat(130), 'has spaces in it', 'semi;colon', '<script>']) {
    const res = await stack.fetch('/api/v1/nope', { headers: { 'X-Request-Id': bad } });
    const j = await assertJsonError(res, 404, 'not_found');
    const got = res.headers.get('x-request-id');
    assert.notEqual(got, bad);
    assert.match(got, sane, `replacement id ${got}`);
    assert.equal(j.error.request_id, got);
  }
  // Without a client id every response still gets a fresh one.
  const a = await stack.fetch('/health');
  const b = await stack.fetch('/health');
  await a.arrayBuffer();
  await b.arrayBuffer();
  assert.match(a.headers.get('x-request-id') ?? '', sane);
  assert.notEqual(a.headers.get('x-request-id'), b.headers.get('x-request-id'));
});

test('HEAD returns the headers without a body', async () => {
  const get = await stack.fetch('/login');
  const getBody = await get.text();
  const res = await rawRequest(stack.baseUrl, '/login', { method: 'HEAD' });
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'] ?? '', /^text\/html\b/);
  assert.equal(res.body.length, 0, 'no body bytes after a HEAD');
  assert.ok(getBody.length > 0);
  assert.ok(res.headers['x-request-id']);
  assert.ok(res.headers['content-security-policy']);
});

function assertSecurityHeaders(h, where) {
  const csp = h.get('content-security-policy') ?? '';
  assert.ok(csp, `${where}: CSP present`);
  const directives = Object.fromEntries(csp.split(';').map((d) => d.trim()).filter(Boolean)
    .map((d) => { const [k, ...v] = d.split(/\s+/); return [k, v]; }));
  const scriptSrc = directives['script-src'] ?? directives['default-src'];
  assert.ok(scriptSrc, `${where}: script-src or default-src in ${csp}`);
  assert.ok(!scriptSrc.includes("'unsafe-inline'"), `${where}: no 'unsafe-inline' in script-src: ${csp}`);
  assert.ok(!scriptSrc.includes("'unsafe-eval'"), `${where}: no 'unsafe-eval' in script-src: ${csp}`);
  assert.deepEqual(directives['frame-ancestors'], ["'none'"], `${where}: frame-ancestors 'none'`);
  assert.equal(h.get('x-content-type-options'), 'nosniff', where);
  assert.ok(h.get('referrer-policy'), `${where}: Referrer-Policy`);
}

test('security headers on pages, JSON and error responses', async () => {
  for (const p of ['/login', '/api/v1/dashboard', '/no-such-page', '/health']) {
    const res = await stack.fetch(p);
    await res.arrayBuffer();
    assertSecurityHeaders(res.headers, p);
  }
  const page = await stack.fetch('/login');
  const html = await page.text();
  assert.match(page.headers.get('cache-control') ?? '', /no-store/, 'pages are not cached');
  assert.doesNotMatch(html, /<script>(?!<\/script>)/, 'no inline script on the login page');
});

test('/static/css/app.css is served by nginx with Cache-Control and Expires', async () => {
  const res = await stack.fetch('/static/css/app.css');
  const css = await res.text();
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/css\b/);
  assert.ok(css.length > 100);
  const cc = res.headers.get('cache-control') ?? '';
  assert.match(cc, /max-age=[1-9]\d*/, `Cache-Control: ${cc}`);
  assert.match(cc, /public/);
  const exp = Date.parse(res.headers.get('expires') ?? '');
  assert.ok(Number.isFinite(exp) && exp > Date.now() + 3600_000, `Expires in the future: ${res.headers.get('expires')}`);
  assertSecurityHeaders(res.headers, 'static');
  // nginx serves it: no FastCGI request id format check needed, but it must not be a no-store app answer.
  assert.doesNotMatch(cc, /no-store/);
  const missing = await stack.fetch('/static/css/no-such-file.css');
  await missing.arrayBuffer();
  assert.equal(missing.status, 404);
});

test('language: pt-BR by default, English with Accept-Language en', async () => {
  const pt = await stack.fetch('/login');
  const ptHtml = await pt.text();
  assert.match(ptHtml, /<html lang="pt-BR">/);
  assert.match(ptHtml, /Entrar|Senha/, 'Portuguese strings by default');
  const en = await stack.fetch('/login', { headers: { 'Accept-Language': 'en-US,en;q=0.9' } });
  const enHtml = await en.text();
  assert.match(enHtml, /<html lang="en">/);
  assert.match(enHtml, /Sign in/);
  assert.match(enHtml, /Password/);
  const apiEn = await stack.fetch('/api/v1/nope', { headers: { 'Accept-Language': 'en' } });
  const j = await assertJsonError(apiEn, 404, 'not_found');
  assert.equal(j.error.message, 'Page not found.');
});

test('language: POST /lang with the CSRF token sets a lang cookie that wins over Accept-Language', async () => {
  const a = await anonCsrf(stack);
  const noToken = await stack.fetch('/lang', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: a.cookie },
    body: 'lang=en&next=/login',
  });
  await noToken.arrayBuffer();
  assert.equal(noToken.status, 403, 'POST /lang without the token is refused');
  assert.equal(findCookie(noToken, 'lang'), undefined);

  const res = await stack.fetch('/lang', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: a.cookie },
    body: new URLSearchParams({ _csrf: a.token, lang: 'en', next: '/login' }).toString(),
  });
  await res.arrayBuffer();
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/login');
  const lang = findCookie(res, 'lang');
  assert.ok(lang, 'a lang cookie is set');
  assert.equal(lang.value, 'en');
  assert.equal(lang.attrs.path, '/');
  const page = await stack.fetch('/login', { headers: { cookie: `${a.cookie}; lang=en`, 'Accept-Language': 'pt-BR' } });
  const html = await page.text();
  assert.match(html, /<html lang="en">/);
  assert.match(html, /Sign in/);

  const bad = await stack.fetch('/lang', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: a.cookie },
    body: new URLSearchParams({ _csrf: a.token, lang: 'xx' }).toString(),
  });
  await bad.arrayBuffer();
  assert.equal(bad.status, 422);
  assert.equal(findCookie(bad, 'lang'), undefined);
});

test('a burst of hostile inputs is answered 4xx and leaves the pool serving', async () => {
  const bodies = [
    ['application/json', '['.repeat(5000)],
    ['application/json', '"\\ud800"'],
    ['application/json', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])],
    ['application/x-www-form-urlencoded', '%'],
    ['application/x-www-form-urlencoded', 'a=%00'],
    ['application/x-www-form-urlencoded', Array.from({ length: 300 }, (_, i) => `k${i}=v`).join('&')],
    ['text/plain', 'hello'],
  ];
  for (const [ct, body] of bodies) {
    const res = await stack.fetch('/login', { method: 'POST', headers: { 'content-type': ct }, body });
    await res.arrayBuffer();
    assert.ok(res.status >= 400 && res.status < 500, `${ct} ${String(body).slice(0, 20)}: ${res.status}`);
  }
  for (const p of ['/%00', '/login?%zz', '/login?a=%C3', '/%FF%FE', `/api/v1/${'a/'.repeat(2000)}`]) {
    const res = await stack.fetch(p, { headers: { 'X-Request-Id': rid('hostile') } });
    await res.arrayBuffer();
    assert.ok(res.status >= 400 && res.status < 500, `${p.slice(0, 40)}: ${res.status}`);
  }
  const many = await stack.fetch('/login', { headers: { cookie: Array.from({ length: 400 }, (_, i) => `c${i}=v`).join('; ') } });
  await many.arrayBuffer();
  assert.ok(many.status < 500, `400 cookies: ${many.status}`);
  const h = await stack.fetch('/health');
  assert.equal(h.status, 200);
  await h.arrayBuffer();
});

test('after all the bad input the FastCGI master and every worker still have the same pids', async () => {
  const now = await stack.fcgiPids();
  assert.equal(now.master, pidsBefore.master, 'master pid unchanged');
  assert.deepEqual(now.workers, pidsBefore.workers, 'worker pids unchanged (no crash, no respawn)');
  const log = await stack.logs('fcgi');
  assert.doesNotMatch(log, /ended: signal/, 'no worker died from a signal');
});
