// tests/integration/routes_security.test.mjs — table-driven checks over EVERY route of every module, read
// from `botcriptofy-fcgi --routes`: CSRF on every POST, anonymous access, tenant isolation, and escaping of an XSS corpus.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { run, startStack, REPO } from './harness.mjs';
import { apiPost, enrolTotp, findCookie, login, makeTrader, psql, SESSION_COOKIE, sessionCsrf } from './lib.mjs';

const XSS = [
  '<script>alert("x1")</script>',
  '"><img src=x onerror=alert(2)>',
  "'><svg onload=alert(3)>",
];
const PAYLOAD = XSS.join(' ');
// what must never come back verbatim, and what the escaped form looks like
const RAW_MARKERS = ['<script>alert("x1")', '<img src=x onerror', '<svg onload'];
const ESCAPED_MARKER = '&lt;script&gt;alert(';

let stack;
let routes;
const users = {};


async function session(email, password, ua) {
  const s = await login(stack, { email, password, ...(ua ? {} : {}) });
  let cookie = s.cookie;
  if (ua) {
    // a second sign-in with a hostile User-Agent: it is shown on the sessions page
    const a = await stack.fetch('/login');
    const csrf = findCookie(a, 'bcf_csrf').value;
    await a.text();
    const res = await stack.fetch('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `bcf_csrf=${csrf}`, 'user-agent': ua },
      body: new URLSearchParams({ _csrf: csrf, email, password }).toString(),
    });
    await res.text();
    cookie = `${SESSION_COOKIE}=${findCookie(res, SESSION_COOKIE).value}`;
  }
  return { cookie, csrf: await sessionCsrf(stack, cookie) };
}

function fill(pattern, ids) {
  return pattern.replace(/\{([a-z_]+)\}/g, (_, name) => {
    for (const [prefix, value] of Object.entries(ids)) if (pattern.includes(prefix)) return String(value);
    return name === 'name' ? '1-1.eml' : '1';
  });
}

before(async () => {
  stack = await startStack();
  const { stdout } = await run(path.join(REPO, 'cgi', 'botcriptofy-fcgi'), ['-c', stack.env.BCF_CONFIG, '--routes']);
  routes = stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(routes.length > 30, `route list read (${routes.length})`);

  // A: the demo trader, with a hostile browser name; B: another tenant's trader; C: the CEO (2FA).
  users.aId = Number(await psql(stack, "SELECT id FROM users WHERE email = 'demo@botcriptofy.dev'"));
  users.bId = (await makeTrader(stack, 'b', { email: 'trader-b@example.com', name: 'Trader B' })).id;
  users.a = await session('demo@botcriptofy.dev', 'demo-trader-2026', PAYLOAD);
  users.b = await session('trader-b@example.com', 'demo-trader-2026');
  const ceo = await login(stack, { email: 'ceo@botcriptofy.dev', password: 'demo-company-2026' });
  const en = await enrolTotp(stack, ceo.cookie);
  users.ceo = { cookie: en.cookie, csrf: await sessionCsrf(stack, en.cookie) };

  // A's objects that B will aim at: an API token named with the payload, a session handle
  // token names are at most 60 characters: the script tag alone
  const tok = await apiPost(stack, users.a.cookie, users.a.csrf, '/api/v1/account/tokens', { name: XSS[0], scope: 'read' });
  assert.equal(tok.res.status, 201, tok.text);
  users.aToken = tok.json.token;
  users.aTokenId = tok.json.id;
  const sess = await (await stack.fetch('/api/v1/account/sessions', { headers: { cookie: users.a.cookie } })).json();
  users.aSession = sess.sessions.find((s) => s.current).id;

  // hostile text in fields other people see: the tenant name (dashboard), an employee's name (roles page)
  await psql(stack, `UPDATE tenants SET name = '${PAYLOAD.replace(/'/g, "''")}' WHERE id = (SELECT tenant_id FROM users WHERE id = ${users.aId})`);
  await psql(stack, `INSERT INTO users (tenant_id, email, display_name, password_hash, role, email_verified_at)
    SELECT tenant_id, 'employee-xss@botcriptofy.dev', '${PAYLOAD.replace(/'/g, "''")}', password_hash, 'ceo', now()
    FROM users WHERE email = 'ceo@botcriptofy.dev'`);
  await stack.botctl('cache-invalidate', 'tenant:' + (await psql(stack, `SELECT tenant_id FROM users WHERE id = ${users.aId}`)));
});

after(async () => {
  await stack?.stop();
});

const TRADER_PERMS = new Set(['trading.use', 'credentials.manage']);
const isDev = (r) => r.flags.includes('dev');
const isInternal = (r) => r.flags.includes('internal');

test('every POST route refuses a request without a CSRF token (403 csrf) and changes nothing', async () => {
  const before = await psql(stack, 'SELECT last_id FROM audit_chain_head');
  const posts = routes.filter((r) => r.method === 'POST' && r.flags.includes('csrf') && !isDev(r));
  assert.ok(posts.length >= 15, `POST routes found: ${posts.length}`);
  for (const r of posts) {
    const who = !r.flags.includes('auth') ? null
      : (r.permission && !TRADER_PERMS.has(r.permission)) ? users.ceo : users.a;
    const url = fill(r.pattern, { '/account/tokens/': users.aTokenId, '/account/sessions/': users.aSession });
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    if (who) headers.cookie = who.cookie;
    const res = await stack.fetch(url, { method: 'POST', headers, body: 'name=x&code=123456&email=a%40b.c' });
    const text = await res.text();
    assert.equal(res.status, 403, `${r.method} ${r.pattern}: ${res.status} ${text.slice(0, 160)}`);
    if (r.twin) assert.match(text, /"code":"csrf"/, `${r.pattern} JSON error code`);
    // a CSRF token of ANOTHER session does not pass either
    if (who) {
      const other = who === users.a ? users.b : users.a;
      const res2 = await stack.fetch(url, {
        method: 'POST', headers: { ...headers, 'x-csrf-token': other.csrf }, body: 'name=x',
      });
      await res2.text();
      assert.equal(res2.status, 403, `${r.pattern} with another session's token: ${res2.status}`);
    }
  }
  assert.equal(await psql(stack, 'SELECT last_id FROM audit_chain_head'), before, 'no audited change happened');
  assert.ok(Number(await psql(stack, "SELECT count(*) FROM security_events WHERE kind = 'csrf_failed'")) >= posts.length,
    'each refusal is a security event');
});

test('anonymous visitors reach no signed-in route: 401 JSON under /api, redirect to /login for pages', async () => {
  for (const r of routes.filter((x) => x.flags.includes('auth') && !isDev(x))) {
    const url = fill(r.pattern, { '/account/tokens/': users.aTokenId, '/account/sessions/': users.aSession });
    const res = await stack.fetch(url, { method: r.method, headers: { 'content-type': 'application/json' }, body: r.method === 'POST' ? '{}' : undefined });
    const text = await res.text();
    if (r.pattern.startsWith('/api/')) {
      assert.equal(res.status, 401, `${r.method} ${r.pattern}: ${res.status}`);
      assert.match(text, /"code":"unauthenticated"/);
    } else {
      assert.equal(res.status, 303, `${r.method} ${r.pattern}: ${res.status}`);
      assert.match(res.headers.get('location'), /^\/login\?next=/);
    }
    assert.ok(!text.includes('demo@botcriptofy.dev'), `${r.pattern} leaks nothing`);
  }
});

test("another tenant's user sees none of A's data on any route, and cannot change A's objects", async () => {
  const ids = { '/account/tokens/': users.aTokenId, '/account/sessions/': users.aSession };
  const secrets = ['demo@botcriptofy.dev', users.aToken.split('_')[1], 'Demo Trader'];
  for (const r of routes.filter((x) => x.method === 'GET' && !isDev(x) && !isInternal(x))) {
    const res = await stack.fetch(fill(r.pattern, ids), { headers: { cookie: users.b.cookie } });
    const text = await res.text();
    assert.ok(res.status < 500, `${r.pattern}: ${res.status}`);
    for (const s of secrets) assert.ok(!text.includes(s), `GET ${r.pattern} as B shows A's ${s}`);
  }
  for (const r of routes.filter((x) => x.method === 'POST' && x.flags.includes('auth') && !isDev(x))) {
    const b = await session('trader-b@example.com', 'demo-trader-2026');
    const res = await stack.fetch(fill(r.pattern, ids), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: b.cookie, 'x-csrf-token': b.csrf },
      body: 'name=x',
    });
    const text = await res.text();
    assert.ok(res.status < 500, `POST ${r.pattern}: ${res.status} ${text.slice(0, 120)}`);
    for (const s of secrets) assert.ok(!text.includes(s), `POST ${r.pattern} as B shows A's ${s}`);
  }
  // A's token and session survived every attempt
  const viaToken = await stack.fetch('/api/v1/dashboard', { headers: { authorization: `Bearer ${users.aToken}` } });
  assert.equal(viaToken.status, 200, "A's API token still works");
  await viaToken.text();
  const viaCookie = await stack.fetch('/api/v1/dashboard', { headers: { cookie: users.a.cookie } });
  assert.equal(viaCookie.status, 200, "A's session still works");
  await viaCookie.text();
});

test('an XSS corpus in every user-controlled field comes back escaped on every page that shows it', async () => {
  const pages = [
    ['/dashboard', users.a],                 // tenant name
    ['/account/sessions', users.a],          // the browser (User-Agent) of a session
    ['/account/tokens', users.a],            // token name
    ['/configuracoes/roles', users.ceo],     // an employee's name
    // the token name inside an audit summary (filtered: the route walks above add many newer records)
    ['/auditoria?action=account.token_create', users.ceo],
    [`/login?next=${encodeURIComponent('/' + PAYLOAD)}`, null], // a reflected query value
    [`/auditoria?action=${encodeURIComponent(PAYLOAD)}`, users.ceo],
  ];
  for (const [p, who] of pages) {
    const res = await stack.fetch(p, { headers: who ? { cookie: who.cookie } : {} });
    const html = await res.text();
    for (const m of RAW_MARKERS) assert.ok(!html.includes(m), `${p} contains raw ${m}`);
    if (res.status === 200) assert.ok(html.includes(ESCAPED_MARKER), `${p} shows the value (escaped)`);
    else assert.ok([422, 400].includes(res.status), `${p}: ${res.status}`);
  }
  // the JSON twins carry the text as data, never as markup in an HTML content type
  const j = await stack.fetch('/api/v1/account/tokens', { headers: { cookie: users.a.cookie } });
  assert.match(j.headers.get('content-type'), /^application\/json/);
  assert.ok((await j.json()).tokens.some((t) => t.name === XSS[0]), 'the token name round-trips exactly');
});
