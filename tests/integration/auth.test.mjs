// tests/integration/auth.test.mjs — sign-in and sign-out through nginx: the CSRF double-submit cookie,
// wrong passwords, the session cookie's flags, redirects for anonymous users, the open-redirect guard,
// logout revoking the session, and the dashboard's JSON twin matching its HTML page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';
import { anonCsrf, csrfFromHtml, DEMO, findCookie, login, SESSION_COOKIE, sessionCsrf } from './lib.mjs';

let stack;

before(async () => {
  stack = await startStack();
});

after(async () => {
  await stack?.stop();
});

const FORM = 'application/x-www-form-urlencoded';

function postLogin(fields, cookie) {
  const headers = { 'content-type': FORM };
  if (cookie) headers.cookie = cookie;
  return stack.fetch('/login', { method: 'POST', headers, body: new URLSearchParams(fields).toString() });
}

test('GET /login sets the bcf_csrf cookie and puts the same token in the form', async () => {
  const res = await stack.fetch('/login');
  const html = await res.text();
  assert.equal(res.status, 200);
  const c = findCookie(res, 'bcf_csrf');
  assert.ok(c, 'bcf_csrf cookie set');
  assert.ok(c.value.length >= 32, `token long enough: ${c.value}`);
  assert.ok('httponly' in c.attrs, 'HttpOnly');
  assert.equal(c.attrs.samesite?.toLowerCase(), 'lax');
  assert.equal(c.attrs.path, '/');
  assert.equal(csrfFromHtml(html), c.value, 'the form carries the cookie token');
  // A second anonymous visit gets a different token.
  const again = await anonCsrf(stack);
  assert.notEqual(again.token, c.value);
  // A visitor who already has the cookie keeps it (no new Set-Cookie, same token in the form).
  const kept = await stack.fetch('/login', { headers: { cookie: `bcf_csrf=${c.value}` } });
  const keptHtml = await kept.text();
  assert.equal(findCookie(kept, 'bcf_csrf'), undefined);
  assert.equal(csrfFromHtml(keptHtml), c.value);
});

test('POST /login without or with a wrong _csrf answers 403 and sets no session', async () => {
  const a = await anonCsrf(stack);
  const cases = [
    ['no token, no cookie', { email: DEMO.email, password: DEMO.password }, undefined],
    ['no token, cookie', { email: DEMO.email, password: DEMO.password }, a.cookie],
    ['token, no cookie', { _csrf: a.token, email: DEMO.email, password: DEMO.password }, undefined],
    ['wrong token', { _csrf: `${a.token.slice(0, -1)}${a.token.endsWith('A') ? 'B' : 'A'}`, email: DEMO.email, password: DEMO.password }, a.cookie],
    ['empty token', { _csrf: '', email: DEMO.email, password: DEMO.password }, 'bcf_csrf='],
  ];
  for (const [name, fields, cookie] of cases) {
    const res = await postLogin(fields, cookie);
    const body = await res.text();
    assert.equal(res.status, 403, `${name}: ${body.slice(0, 200)}`);
    assert.equal(findCookie(res, SESSION_COOKIE), undefined, `${name}: no session cookie`);
  }
});

test('a wrong password answers 401 and sets no session cookie', async () => {
  const a = await anonCsrf(stack);
  for (const [email, password] of [[DEMO.email, 'wrong-password'], ['nobody@botcriptofy.dev', DEMO.password]]) {
    const res = await postLogin({ _csrf: a.token, email, password }, a.cookie);
    const html = await res.text();
    assert.equal(res.status, 401, `${email}: ${html.slice(0, 200)}`);
    assert.equal(findCookie(res, SESSION_COOKIE), undefined);
    assert.match(html, /E-mail ou senha incorretos|Wrong e-mail or password/);
    assert.ok(!html.includes(password), 'the password is not echoed');
  }
  const missing = await postLogin({ _csrf: a.token, email: DEMO.email }, a.cookie);
  await missing.arrayBuffer();
  assert.equal(missing.status, 422);
  assert.equal(findCookie(missing, SESSION_COOKIE), undefined);
});

test('the demo login answers 303 to /dashboard with an HttpOnly SameSite=Lax session cookie', async () => {
  const { res, sessionCookie } = await login(stack);
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/dashboard');
  assert.ok(sessionCookie.value.length >= 32);
  assert.ok('httponly' in sessionCookie.attrs, `HttpOnly: ${sessionCookie.raw}`);
  assert.equal(sessionCookie.attrs.samesite?.toLowerCase(), 'lax', sessionCookie.raw);
  assert.equal(sessionCookie.attrs.path, '/');
  // Email matching is case-insensitive.
  const upper = await login(stack, { email: DEMO.email.toUpperCase() });
  assert.notEqual(upper.sessionCookie.value, sessionCookie.value, 'every login gets a new session id');
});

test('/dashboard without a cookie redirects to /login?next=/dashboard', async () => {
  const res = await stack.fetch('/dashboard');
  await res.arrayBuffer();
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/login?next=/dashboard');
  const forged = await stack.fetch('/dashboard', { headers: { cookie: `${SESSION_COOKIE}=${'A'.repeat(43)}` } });
  await forged.arrayBuffer();
  assert.equal(forged.status, 303, 'a made-up session id is no session');
});

test('/api/v1/dashboard without a cookie answers 401 JSON', async () => {
  const res = await stack.fetch('/api/v1/dashboard');
  const text = await res.text();
  assert.equal(res.status, 401);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json\b/);
  const j = JSON.parse(text);
  assert.equal(j.error.code, 'unauthenticated');
  assert.equal(j.error.request_id, res.headers.get('x-request-id'));
  assert.equal(res.headers.get('location'), null, 'the API does not redirect');
});

test('/api/v1/dashboard with the session cookie answers the tenant "Demo Trader"', async () => {
  const { cookie } = await login(stack);
  const res = await stack.fetch('/api/v1/dashboard', { headers: { cookie } });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json\b/);
  const j = JSON.parse(text);
  assert.equal(j.tenant.name, 'Demo Trader');
  assert.equal(j.tenant.kind, 'trader');
  assert.equal(j.tenant.plan, 'pro');
  assert.equal(typeof j.users, 'number');
  assert.deepEqual(Object.keys(j.jobs).sort(), ['done', 'queued', 'running']);
});

test('open-redirect guard: next=//evil.example (and friends) lands on /dashboard', async () => {
  for (const next of ['//evil.example', 'https://evil.example/', '/\\evil.example', 'evil.example', '/\r\nLocation: x',
    '/\t/evil.example', '/\x0b/evil.example', '/x\\..\\..\\/evil.example', '/\x7f/evil.example']) {
    const { res } = await login(stack, { next });
    assert.equal(res.headers.get('location'), '/dashboard', `next=${JSON.stringify(next)}`);
  }
  const local = await login(stack, { next: '/dashboard?x=1' });
  assert.equal(local.res.headers.get('location'), '/dashboard?x=1', 'a local next is honoured');
  // The form itself never carries a foreign next.
  const form = await stack.fetch('/login?next=%2F%2Fevil.example');
  const html = await form.text();
  assert.match(html, /name="next" value="\/dashboard"/);
  assert.ok(!html.includes('evil.example'));
});

test('logout requires the CSRF token; afterwards the cookie no longer works', async () => {
  const { cookie } = await login(stack);
  const token = await sessionCsrf(stack, cookie);
  assert.ok(token && token.length >= 32, 'the logout form carries the session CSRF token');

  const noToken = await stack.fetch('/logout', { method: 'POST', headers: { cookie, 'content-type': FORM }, body: '' });
  await noToken.arrayBuffer();
  assert.equal(noToken.status, 403);
  const still = await stack.fetch('/api/v1/dashboard', { headers: { cookie } });
  await still.arrayBuffer();
  assert.equal(still.status, 200, 'a refused logout leaves the session alive');

  const anonToken = (await anonCsrf(stack)).token;
  const wrong = await stack.fetch('/logout', {
    method: 'POST',
    headers: { cookie: `${cookie}; bcf_csrf=${anonToken}`, 'content-type': FORM },
    body: `_csrf=${anonToken}`,
  });
  await wrong.arrayBuffer();
  assert.equal(wrong.status, 403, 'the anonymous double-submit token is not the session token');

  const res = await stack.fetch('/logout', {
    method: 'POST',
    headers: { cookie, 'content-type': FORM },
    body: new URLSearchParams({ _csrf: token }).toString(),
  });
  await res.arrayBuffer();
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/login');
  const cleared = findCookie(res, SESSION_COOKIE);
  assert.ok(cleared, 'the session cookie is cleared');
  assert.equal(cleared.value, '');
  assert.equal(cleared.attrs['max-age'], '0');

  const api = await stack.fetch('/api/v1/dashboard', { headers: { cookie } });
  await api.arrayBuffer();
  assert.equal(api.status, 401, 'the old cookie no longer authenticates the API');
  const page = await stack.fetch('/dashboard', { headers: { cookie } });
  await page.arrayBuffer();
  assert.equal(page.status, 303, 'nor the page');
});

test('the dashboard JSON twin and the HTML page show the same tenant and plan', async () => {
  const { cookie } = await login(stack);
  const jr = await stack.fetch('/api/v1/dashboard', { headers: { cookie } });
  const j = JSON.parse(await jr.text());
  const hr = await stack.fetch('/dashboard', { headers: { cookie } });
  const html = await hr.text();
  assert.equal(hr.status, 200);
  assert.match(hr.headers.get('content-type') ?? '', /^text\/html\b/);
  const big = [...html.matchAll(/<p class="big">([^<]*)<\/p>/g)].map((m) => m[1]);
  assert.equal(big[0], j.tenant.name, 'tenant name');
  assert.equal(big[1], String(j.users), 'user count');
  const plan = /<p class="muted">[^<:]*: ([^<]*)<\/p>/.exec(html);
  assert.ok(plan, 'plan line on the page');
  assert.equal(plan[1], j.tenant.plan);
  const dd = [...html.matchAll(/<dd>([^<]*)<\/dd>/g)].map((m) => Number(m[1]));
  assert.deepEqual(dd, [j.jobs.queued, j.jobs.running, j.jobs.done]);
  assert.match(html, /Demo Trader/);
  // A logged-in visit to /login goes to the dashboard.
  const lr = await stack.fetch('/login', { headers: { cookie } });
  await lr.arrayBuffer();
  assert.equal(lr.status, 303);
  assert.equal(lr.headers.get('location'), '/dashboard');
});
