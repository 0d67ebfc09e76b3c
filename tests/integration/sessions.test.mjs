// tests/integration/sessions.test.mjs — sessions and personal API tokens through the real stack: cookie flags,
// a new id on every login, idle and absolute timeouts, "your sessions" with revoke, Bearer tokens (scopes, revoke, expiry).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { REPO, run, startStack } from './harness.mjs';
import {
  anonCsrf, apiPost, DEMO, findCookie, login, makeTrader, psql, redisCli, SESSION_COOKIE, sessionCsrf, sleep,
} from './lib.mjs';

const FORM = 'application/x-www-form-urlencoded';
const ABSOLUTE_S = 43200; // session.absolute_s default
const IDLE_S = 1800; // session.idle_s default
const TOKEN_RE = /^bcf_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

let stack; // defaults (session.secure_cookie = 0, as dev/stack writes it)
let secure; // session.secure_cookie = 1
let routes; // botcriptofy-fcgi --routes

before(async () => {
  const started = await Promise.allSettled([
    startStack(),
    startStack({ config: { 'session.secure_cookie': '1' } }),
  ]);
  [stack, secure] = started.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  const { stdout } = await run(path.join(REPO, 'cgi', 'botcriptofy-fcgi'), ['-c', stack.env.BCF_CONFIG, '--routes']);
  routes = stdout.trim().split('\n').map((l) => JSON.parse(l));
});

after(async () => {
  await Promise.all([stack?.stop(), secure?.stop()]);
});

const sha256 = (s) => createHash('sha256').update(s).digest('hex');
/** The public handle /account/sessions shows for a cookie value: a prefix of the hash of the stored hash. */
const handleOf = (cookieValue) => sha256(sha256(cookieValue)).slice(0, 20);
const valueOf = (cookie) => cookie.slice(cookie.indexOf('=') + 1);


/** POST /login through the form, optionally with a browser name and extra cookies; resolves { res, text, value, cookie }. */
async function postLogin(s, { email, password = DEMO.password, ua, extraCookie } = {}) {
  const uaHeader = ua ? { 'user-agent': ua } : {};
  const a = await anonCsrf(s, uaHeader);
  const res = await s.fetch('/login', {
    method: 'POST',
    headers: { 'content-type': FORM, cookie: extraCookie ? `${a.cookie}; ${extraCookie}` : a.cookie, ...uaHeader },
    body: new URLSearchParams({ _csrf: a.token, email, password }).toString(),
  });
  const text = await res.text();
  const sc = findCookie(res, SESSION_COOKIE);
  return { res, text, value: sc?.value, cookie: sc ? `${SESSION_COOKIE}=${sc.value}` : null };
}

async function signIn(s, email, ua) {
  const r = await postLogin(s, { email, ua });
  assert.equal(r.res.status, 303, `login ${email}: ${r.res.status} ${r.text.slice(0, 200)}`);
  return { cookie: r.cookie, value: r.value, csrf: await sessionCsrf(s, r.cookie) };
}

/** Status of GET path with these headers (body drained). */
async function statusOf(s, p, headers = {}) {
  const res = await s.fetch(p, { headers });
  await res.arrayBuffer();
  return res.status;
}

async function getJson(s, p, headers = {}) {
  const res = await s.fetch(p, { headers });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { res, text, json };
}

const bearer = (token) => ({ authorization: `Bearer ${token}` });

async function auditCount(s, action, extra = 'true') {
  return Number(await psql(s, `SELECT count(*) FROM audit_log WHERE action = '${action}' AND ${extra}`));
}

/** Replaces the JSON of a session's Redis copy (keeping its TTL), then lets the near caches hear of it. */
async function editRedisSession(s, value, edit) {
  const key = `s:${sha256(value)}`;
  const j = JSON.parse(await redisCli(s, 'GET', key));
  edit(j);
  const ttl = Math.max(1, Number(await redisCli(s, 'TTL', key)));
  assert.equal(await redisCli(s, 'SET', key, JSON.stringify(j), 'EX', String(ttl)), 'OK');
  await sleep(100); // client-tracking invalidation reaches every worker's near cache
}

async function createToken(s, who, body) {
  const r = await apiPost(s, who.cookie, who.csrf, '/api/v1/account/tokens', body);
  assert.equal(r.res.status, 201, `token create: ${r.res.status} ${r.text.slice(0, 200)}`);
  const m = TOKEN_RE.exec(r.json.token);
  assert.ok(m, `token shape: ${r.json.token}`);
  return { id: r.json.id, token: r.json.token, prefix: m[1], secret: m[2] };
}

/** POST /api/v1 routes that a personal API token may use (not session-only, no step-up, no staff permission). */
function tokenPostRoutes() {
  const traderPerms = new Set([null, undefined, 'trading.use', 'credentials.manage']);
  return routes.filter((r) => r.method === 'POST' && r.pattern.startsWith('/api/') && r.flags.includes('auth') &&
    !r.flags.includes('session_only') && !r.flags.includes('stepup') && !r.flags.includes('dev') &&
    !r.flags.includes('internal') && traderPerms.has(r.permission) && !r.pattern.includes('{'));
}

// ------------------------------------------------------------------------------------------ cookies

test('the session cookie: HttpOnly, SameSite=Lax, Path=/, Max-Age = session.absolute_s, a new id on every login', async () => {
  const a = await login(stack);
  const b = await login(stack);
  for (const c of [a.sessionCookie, b.sessionCookie]) {
    assert.equal(c.name, 'bcf_session', 'no __Host- prefix while session.secure_cookie = 0');
    assert.match(c.value, /^[A-Za-z0-9_-]{43}$/, '256 random bits, base64url');
    assert.ok('httponly' in c.attrs, c.raw);
    assert.equal(c.attrs.samesite?.toLowerCase(), 'lax', c.raw);
    assert.equal(c.attrs.path, '/', c.raw);
    assert.equal(c.attrs['max-age'], String(ABSOLUTE_S), c.raw);
    assert.ok(!('secure' in c.attrs), `no Secure over plain HTTP: ${c.raw}`);
    assert.ok(!('domain' in c.attrs), c.raw);
  }
  assert.notEqual(a.sessionCookie.value, b.sessionCookie.value, 'two logins, two session ids');
  assert.equal(await statusOf(stack, '/api/v1/dashboard', { cookie: a.cookie }), 200);
  assert.equal(await statusOf(stack, '/api/v1/dashboard', { cookie: b.cookie }), 200, 'both sessions live side by side');

  // only the hash of the cookie value is stored; the row lives as long as the cookie
  const v = a.sessionCookie.value;
  assert.equal(await psql(stack, `SELECT count(*) FROM sessions WHERE id_hash = '${sha256(v)}'`), '1');
  assert.equal(await psql(stack, `SELECT count(*) FROM sessions s WHERE strpos(s::text, '${v}') > 0`), '0',
    'the cookie value itself is in no column');
  assert.equal(await psql(stack,
    `SELECT extract(epoch FROM expires_at - created_at)::int FROM sessions WHERE id_hash = '${sha256(v)}'`),
  String(ABSOLUTE_S));
});

test('session.secure_cookie = 1: the cookies are __Host- with Secure, and only those names are read', async () => {
  const a = await anonCsrf(secure);
  assert.equal(findCookie(a.res, 'bcf_csrf'), undefined, 'the anonymous CSRF cookie carries the prefix too');
  const csrfCookie = findCookie(a.res, '__Host-bcf_csrf');
  assert.ok('secure' in csrfCookie.attrs, `the CSRF cookie is Secure too: ${csrfCookie.raw}`);
  assert.equal(csrfCookie.attrs.path, '/');
  assert.ok(!('domain' in csrfCookie.attrs));
  // a planted unprefixed cookie (as a sibling subdomain could set) does not pass the check
  const planted = await secure.fetch('/login', {
    method: 'POST',
    headers: { 'content-type': FORM, cookie: `bcf_csrf=${'P'.repeat(32)}` },
    body: new URLSearchParams({ _csrf: 'P'.repeat(32), email: DEMO.email, password: DEMO.password }).toString(),
  });
  await planted.arrayBuffer();
  assert.equal(planted.status, 403, 'a planted bcf_csrf is not the double-submit cookie');
  const res = await secure.fetch('/login', {
    method: 'POST',
    headers: { 'content-type': FORM, cookie: a.cookie },
    body: new URLSearchParams({ _csrf: a.token, email: DEMO.email, password: DEMO.password }).toString(),
  });
  await res.arrayBuffer();
  assert.equal(res.status, 303);
  assert.equal(findCookie(res, 'bcf_session'), undefined, 'no cookie without the prefix');
  const c = findCookie(res, '__Host-bcf_session');
  assert.ok(c, `Set-Cookie: ${res.headers.getSetCookie().join(' | ')}`);
  assert.ok('secure' in c.attrs, c.raw);
  assert.ok('httponly' in c.attrs, c.raw);
  assert.equal(c.attrs.path, '/', '__Host- needs Path=/');
  assert.ok(!('domain' in c.attrs), '__Host- forbids Domain');
  assert.equal(c.attrs.samesite?.toLowerCase(), 'lax');
  assert.equal(c.attrs['max-age'], String(ABSOLUTE_S));
  // the server reads the prefixed name (a browser would send it back only over HTTPS)
  assert.equal(await statusOf(secure, '/api/v1/dashboard', { cookie: `__Host-bcf_session=${c.value}` }), 200);
  assert.equal(await statusOf(secure, '/api/v1/dashboard', { cookie: `bcf_session=${c.value}` }), 401,
    'the unprefixed name is not a session');
});

test('a session id planted before login is never adopted (session fixation)', async () => {
  const forged = randomBytes(32).toString('base64url');
  const r = await postLogin(stack, { email: DEMO.email, extraCookie: `${SESSION_COOKIE}=${forged}` });
  assert.equal(r.res.status, 303, r.text.slice(0, 200));
  assert.ok(r.value, 'a session cookie is set');
  assert.notEqual(r.value, forged, 'the planted id is replaced');
  assert.equal(await statusOf(stack, '/api/v1/dashboard', { cookie: `${SESSION_COOKIE}=${forged}` }), 401,
    'the planted id does not authenticate');
  assert.equal(await statusOf(stack, '/api/v1/dashboard', { cookie: r.cookie }), 200);
  assert.equal(await psql(stack, `SELECT count(*) FROM sessions WHERE id_hash = '${sha256(forged)}'`), '0');
});

// ------------------------------------------------------------------------------------------ timeouts

test('idle timeout: a session unused for longer than session.idle_s is over (Redis copy and PostgreSQL row)', async () => {
  // the Redis copy expires after the idle time on its own
  const a = await login(stack);
  const va = valueOf(a.cookie);
  const ttl = Number(await redisCli(stack, 'TTL', `s:${sha256(va)}`));
  assert.ok(ttl > IDLE_S - 10 && ttl <= IDLE_S, `Redis TTL ${ttl} = session.idle_s`);

  // the Redis copy says: last seen idle_s + 1 seconds ago
  // control: an edited copy that is still within the idle time is accepted (and its use slides `seen`)
  let now = Math.floor(Date.now() / 1000);
  await editRedisSession(stack, va, (j) => { j.created = now - IDLE_S - 60; j.seen = now - IDLE_S + 60; });
  assert.equal(await statusOf(stack, '/api/v1/dashboard', { cookie: a.cookie }), 200);
  now = Math.floor(Date.now() / 1000);
  await editRedisSession(stack, va, (j) => { j.created = now - IDLE_S - 60; j.seen = now - IDLE_S - 1; });
  assert.equal(await statusOf(stack, '/api/v1/dashboard', { cookie: a.cookie }), 401);
  const page = await stack.fetch('/dashboard', { headers: { cookie: a.cookie } });
  await page.arrayBuffer();
  assert.equal(page.status, 303);
  assert.match(page.headers.get('location') ?? '', /^\/login\b/);

  // the PostgreSQL path (Redis emptied): losing the Redis copy alone does not end a session...
  const b = await login(stack);
  const vb = valueOf(b.cookie);
  await redisCli(stack, 'DEL', `s:${sha256(vb)}`);
  await sleep(100);
  assert.equal(await statusOf(stack, '/api/v1/dashboard', { cookie: b.cookie }), 200, 'restored from PostgreSQL');
  // ...but an idle row does
  await psql(stack, `UPDATE sessions SET seen_at = now() - interval '${IDLE_S + 60} seconds' WHERE id_hash = '${sha256(vb)}'`);
  await redisCli(stack, 'DEL', `s:${sha256(vb)}`);
  await sleep(100);
  assert.equal(await statusOf(stack, '/api/v1/dashboard', { cookie: b.cookie }), 401);
  assert.equal(await statusOf(stack, '/api/v1/dashboard', { cookie: b.cookie }), 401, 'and stays over');
});

test('absolute timeout: a session in constant use still ends session.absolute_s after it began', async () => {
  const a = await login(stack);
  const va = valueOf(a.cookie);
  const now = Math.floor(Date.now() / 1000);
  // control: seen just now, created a minute short of absolute_s ago
  await editRedisSession(stack, va, (j) => { j.created = now - ABSOLUTE_S + 60; j.seen = now; });
  assert.equal(await statusOf(stack, '/api/v1/dashboard', { cookie: a.cookie }), 200);
  // seen just now, created absolute_s + 1 seconds ago
  await editRedisSession(stack, va, (j) => { j.created = now - ABSOLUTE_S - 1; j.seen = now; });
  assert.equal(await statusOf(stack, '/api/v1/dashboard', { cookie: a.cookie }), 401);

  const b = await login(stack);
  const vb = valueOf(b.cookie);
  await psql(stack, `UPDATE sessions SET created_at = now() - interval '${ABSOLUTE_S + 60} seconds', seen_at = now()
    WHERE id_hash = '${sha256(vb)}'`);
  await redisCli(stack, 'DEL', `s:${sha256(vb)}`);
  await sleep(100);
  assert.equal(await statusOf(stack, '/api/v1/dashboard', { cookie: b.cookie }), 401);
  assert.equal(await redisCli(stack, 'EXISTS', `s:${sha256(vb)}`), '0', 'an expired row is not copied back to Redis');
});

// ------------------------------------------------------------------------------------------ your sessions

test('"your sessions" lists the user\'s sessions with the current one marked; the JSON twin has no id hash or CSRF token', async () => {
  const u = await makeTrader(stack, 'list');
  const s1 = await signIn(stack, u.email, 'Browser-One/1.0');
  const s2 = await signIn(stack, u.email, 'Browser-Two/2.0');
  await signIn(stack, DEMO.email, 'Browser-One/1.0'); // someone else's session: never listed

  const { res, text, json } = await getJson(stack, '/api/v1/account/sessions', { cookie: s1.cookie });
  assert.equal(res.status, 200, text);
  assert.equal(json.sessions.length, 2, text);
  const cur = json.sessions.find((x) => x.current);
  const other = json.sessions.find((x) => !x.current);
  assert.equal(cur.user_agent, 'Browser-One/1.0');
  assert.equal(cur.id, handleOf(s1.value));
  assert.equal(other.user_agent, 'Browser-Two/2.0');
  assert.equal(other.id, handleOf(s2.value));
  for (const x of json.sessions) {
    assert.deepEqual(Object.keys(x).sort(), ['created', 'current', 'id', 'ip', 'mfa', 'seen', 'user_agent']);
    assert.equal(x.ip, '127.0.0.1');
  }
  for (const secret of [s1.value, s2.value, sha256(s1.value), sha256(s2.value), s1.csrf]) {
    assert.ok(!text.includes(secret), 'no cookie value, id hash or CSRF token in the JSON twin');
  }
  assert.ok(!/id_hash|csrf/.test(text), text);

  const html = await (await stack.fetch('/account/sessions', { headers: { cookie: s1.cookie } })).text();
  const rows = html.split('<tr>').slice(1);
  const row1 = rows.find((r) => r.includes('Browser-One/1.0'));
  const row2 = rows.find((r) => r.includes('Browser-Two/2.0'));
  assert.ok(row1 && row2, 'both sessions are on the page');
  assert.match(row1, /<strong>/, 'the current session is marked');
  assert.doesNotMatch(row2, /<strong>/, 'the other is not');
  assert.ok(row2.includes(`/account/sessions/${handleOf(s2.value)}/revoke`), 'with a revoke form per session');
  assert.ok(!html.includes(sha256(s2.value)), 'the page shows handles, never id hashes');
});

test('revoking another session ends it at once and is audited once; revoke-others ends all the rest', async () => {
  const u = await makeTrader(stack, 'revoke');
  const s1 = await signIn(stack, u.email, 'Keep/1');
  const s2 = await signIn(stack, u.email, 'Lost/2');
  const s3 = await signIn(stack, u.email, 'Other/3');
  const s4 = await signIn(stack, u.email, 'Other/4');
  const h2 = handleOf(s2.value);
  const before = await auditCount(stack, 'account.session_revoke', `actor_user_id = ${u.id}`);

  const r = await apiPost(stack, s1.cookie, s1.csrf, `/api/v1/account/sessions/${h2}/revoke`);
  assert.equal(r.res.status, 200, r.text);
  assert.equal(r.json.revoked, 1);
  assert.equal(await statusOf(stack, '/api/v1/dashboard', { cookie: s2.cookie }), 401, 'the revoked session is over');
  const page = await stack.fetch('/dashboard', { headers: { cookie: s2.cookie } });
  await page.arrayBuffer();
  assert.equal(page.status, 303);
  assert.match(page.headers.get('location') ?? '', /^\/login\b/);
  assert.equal(await statusOf(stack, '/api/v1/dashboard', { cookie: s1.cookie }), 200, 'the revoking session lives on');
  assert.equal(await auditCount(stack, 'account.session_revoke', `actor_user_id = ${u.id}`), before + 1);
  assert.equal(await psql(stack, `SELECT object_id FROM audit_log WHERE action = 'account.session_revoke'
    AND actor_user_id = ${u.id} ORDER BY id DESC LIMIT 1`), h2);

  const again = await apiPost(stack, s1.cookie, s1.csrf, `/api/v1/account/sessions/${h2}/revoke`);
  assert.equal(again.res.status, 404, 'an ended session cannot be revoked twice');
  assert.equal(await auditCount(stack, 'account.session_revoke', `actor_user_id = ${u.id}`), before + 1);

  const others = await apiPost(stack, s1.cookie, s1.csrf, '/api/v1/account/sessions/revoke-others');
  assert.equal(others.res.status, 200, others.text);
  assert.equal(others.json.revoked, 2);
  assert.equal(await statusOf(stack, '/api/v1/dashboard', { cookie: s3.cookie }), 401);
  assert.equal(await statusOf(stack, '/api/v1/dashboard', { cookie: s4.cookie }), 401);
  assert.equal(await statusOf(stack, '/api/v1/dashboard', { cookie: s1.cookie }), 200);
  assert.equal(await auditCount(stack, 'account.sessions_revoke_others', `actor_user_id = ${u.id}`), 1);
  assert.equal(await psql(stack, `SELECT count(*) FROM sessions WHERE user_id = ${u.id} AND revoked_at IS NULL`), '1');
});

test('another user\'s session handle answers 404 and that session keeps working; revoking one\'s own signs out', async () => {
  const u = await makeTrader(stack, 'owner');
  const v = await makeTrader(stack, 'victim');
  const su = await signIn(stack, u.email);
  const sv = await signIn(stack, v.email);
  const hv = handleOf(sv.value);
  const before = await psql(stack, 'SELECT last_id FROM audit_chain_head');

  const api = await apiPost(stack, su.cookie, su.csrf, `/api/v1/account/sessions/${hv}/revoke`);
  assert.equal(api.res.status, 404, api.text);
  const form = await stack.fetch(`/account/sessions/${hv}/revoke`, {
    method: 'POST', headers: { 'content-type': FORM, cookie: su.cookie }, body: `_csrf=${encodeURIComponent(su.csrf)}`,
  });
  await form.arrayBuffer();
  assert.equal(form.status, 404);
  for (const bad of ['zz', 'A'.repeat(20), `${hv}0`]) {
    const r = await apiPost(stack, su.cookie, su.csrf, `/api/v1/account/sessions/${bad}/revoke`);
    assert.equal(r.res.status, 404, `handle ${bad}`);
  }
  assert.equal(await statusOf(stack, '/api/v1/dashboard', { cookie: sv.cookie }), 200, 'the victim is still signed in');
  assert.equal(await psql(stack, 'SELECT last_id FROM audit_chain_head'), before, 'nothing audited, nothing changed');

  // the revoke form on one's own current session signs this browser out
  const own = await stack.fetch(`/account/sessions/${handleOf(su.value)}/revoke`, {
    method: 'POST', headers: { 'content-type': FORM, cookie: su.cookie }, body: `_csrf=${encodeURIComponent(su.csrf)}`,
  });
  await own.arrayBuffer();
  assert.equal(own.status, 303);
  assert.equal(own.headers.get('location'), '/login');
  const cleared = findCookie(own, SESSION_COOKIE);
  assert.ok(cleared && cleared.value === '' && cleared.attrs['max-age'] === '0', 'the cookie is cleared');
  assert.equal(await statusOf(stack, '/api/v1/dashboard', { cookie: su.cookie }), 401);
});

// ------------------------------------------------------------------------------------------ API tokens

test('creating a token answers 201 with bcf_<12 hex>_<43>; only its SHA-256 is stored, the secret is nowhere', async () => {
  const u = await makeTrader(stack, 'tok');
  const s = await signIn(stack, u.email);
  const t = await createToken(stack, s, { name: 'ci read', scope: 'read', expires_days: '7' });
  const row = await psql(stack, `SELECT token_hash || '|' || prefix || '|' || array_to_string(scopes, ',') || '|' ||
    user_id || '|' || tenant_id || '|' || (expires_at > now() + interval '6 days' AND expires_at < now() + interval '8 days')
    FROM api_tokens WHERE id = ${t.id}`);
  const [hash, prefix, scopes, uid, tid, expiry] = row.split('|');
  assert.equal(hash, sha256(t.secret), 'the hash of the secret is stored');
  assert.notEqual(hash, t.token);
  assert.equal(prefix, t.prefix);
  assert.equal(scopes, 'read');
  assert.equal(Number(uid), u.id);
  assert.equal(Number(tid), u.tenantId);
  assert.equal(expiry, 'true', 'expires_days is honoured');
  assert.equal(await psql(stack, `SELECT count(*) FROM api_tokens t WHERE strpos(t::text, '${t.secret}') > 0`), '0');
  assert.equal(await psql(stack, `SELECT count(*) FROM audit_log a WHERE strpos(a::text, '${t.secret}') > 0`), '0');
  assert.equal(await auditCount(stack, 'account.token_create', `object_id = '${t.id}'`), 1);
  for (const log of ['fcgi', 'nginx-error']) assert.ok(!(await stack.logs(log)).includes(t.secret), `not in the ${log} log`);

  const list = await getJson(stack, '/api/v1/account/tokens', { cookie: s.cookie });
  assert.equal(list.res.status, 200);
  assert.equal(list.json.tokens.length, 1);
  assert.equal(list.json.tokens[0].prefix, t.prefix);
  assert.ok(!list.text.includes(t.secret) && !list.text.includes(hash), 'the list shows the prefix only');
});

test('a read token reads /api/v1 as its owner (cookies ignored), cannot write, and means nothing outside /api', async () => {
  const u = await makeTrader(stack, 'reader');
  const s = await signIn(stack, u.email);
  const t = await createToken(stack, s, { name: 'reader', scope: 'read' });
  const demo = await login(stack);

  const d = await getJson(stack, '/api/v1/dashboard', { ...bearer(t.token), cookie: demo.cookie });
  assert.equal(d.res.status, 200, d.text);
  assert.equal(d.json.tenant.id, u.tenantId, 'the token\'s owner, not the cookie\'s');
  assert.equal(d.json.tenant.name, 'Trader reader');

  // a broken token is not rescued by a valid cookie
  const broken = await getJson(stack, '/api/v1/dashboard', { ...bearer(`${t.token.slice(0, -1)}${t.token.endsWith('A') ? 'B' : 'A'}`), cookie: demo.cookie });
  assert.equal(broken.res.status, 401);

  const denialsBefore = Number(await psql(stack, `SELECT count(*) FROM security_events WHERE kind = 'permission_denied' AND user_id = ${u.id}`));
  const rowsBefore = await psql(stack, `SELECT count(*) FROM api_tokens WHERE user_id = ${u.id}`);
  const post = await stack.fetch('/api/v1/account/tokens', {
    method: 'POST', headers: { ...bearer(t.token), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', scope: 'read' }),
  });
  const pj = JSON.parse(await post.text());
  assert.equal(post.status, 403);
  assert.equal(pj.error.code, 'token_scope');
  assert.equal(await psql(stack, `SELECT count(*) FROM api_tokens WHERE user_id = ${u.id}`), rowsBefore);
  const sess = await getJson(stack, '/api/v1/account/sessions', bearer(t.token));
  assert.equal(sess.res.status, 403, 'session-only pages refuse tokens, even for reading');
  assert.equal(sess.json.error.code, 'token_scope');
  assert.equal(Number(await psql(stack, `SELECT count(*) FROM security_events WHERE kind = 'permission_denied' AND user_id = ${u.id}`)),
    denialsBefore + 2, 'each refusal is a security event');
  for (const r of tokenPostRoutes()) {
    const res = await stack.fetch(r.pattern, { method: 'POST', headers: { ...bearer(t.token), 'content-type': 'application/json' }, body: '{}' });
    const text = await res.text();
    assert.equal(res.status, 403, `${r.pattern} with a read token: ${text.slice(0, 200)}`);
    assert.equal(JSON.parse(text).error.code, 'token_scope');
  }

  // Bearer is an API credential only: pages do not see it
  const page = await stack.fetch('/dashboard', { headers: bearer(t.token) });
  await page.arrayBuffer();
  assert.equal(page.status, 303);
  assert.match(page.headers.get('location') ?? '', /^\/login\b/);
  const tokensPage = await stack.fetch('/account/tokens', { headers: bearer(t.token) });
  await tokensPage.arrayBuffer();
  assert.equal(tokensPage.status, 303);
});

test('a write token passes the scope check on token routes but never on session-only routes', async () => {
  const u = await makeTrader(stack, 'writer');
  const s = await signIn(stack, u.email);
  const t = await createToken(stack, s, { name: 'writer', scope: 'write' });
  assert.equal(await psql(stack, `SELECT array_to_string(scopes, ',') FROM api_tokens WHERE id = ${t.id}`), 'read,write');
  assert.equal(await statusOf(stack, '/api/v1/dashboard', bearer(t.token)), 200, 'write includes read');

  const rowsBefore = await psql(stack, `SELECT count(*) FROM api_tokens WHERE user_id = ${u.id}`);
  // the session's cookie and CSRF token alongside do not turn the request into a session request
  for (const [p, body] of [['/api/v1/account/tokens', { name: 'more', scope: 'write' }], ['/api/v1/account/2fa/setup', {}],
    [`/api/v1/account/tokens/${t.id}/revoke`, {}], ['/api/v1/account/sessions/revoke-others', {}]]) {
    const res = await stack.fetch(p, {
      method: 'POST',
      headers: { ...bearer(t.token), cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    assert.equal(res.status, 403, `${p}: ${text.slice(0, 200)}`);
    assert.equal(JSON.parse(text).error.code, 'token_scope', p);
  }
  assert.equal(await psql(stack, `SELECT count(*) FROM api_tokens WHERE user_id = ${u.id} AND revoked_at IS NULL`), rowsBefore);
  assert.equal(await psql(stack, `SELECT totp_secret IS NULL FROM users WHERE id = ${u.id}`), 't', '2FA setup did not run');
  assert.equal(await statusOf(stack, '/api/v1/dashboard', { cookie: s.cookie }), 200, 'the session was not revoked');

  // token-capable write routes (e.g. /api/v1/privacy/consent): the write token gets past the scope check
  // (an empty body then fails the handler's own validation, so nothing changes)
  const open = tokenPostRoutes();
  assert.ok(open.length >= 1, 'at least one POST route accepts API tokens');
  const head = await psql(stack, 'SELECT last_id FROM audit_chain_head');
  for (const r of open) {
    const res = await stack.fetch(r.pattern, { method: 'POST', headers: { ...bearer(t.token), 'content-type': 'application/json' }, body: '{}' });
    const text = await res.text();
    assert.ok(res.status !== 401 && !/"token_scope"/.test(text), `${r.pattern} with a write token: ${res.status} ${text.slice(0, 200)}`);
    assert.equal(res.status, 422, `${r.pattern}: the handler itself refuses the empty body (${text.slice(0, 200)})`);
  }
  assert.equal(await psql(stack, 'SELECT last_id FROM audit_chain_head'), head, 'the empty bodies changed nothing');
});

test('a wrong or malformed Bearer token answers 401 invalid_token with WWW-Authenticate', async () => {
  const u = await makeTrader(stack, 'wrong');
  const s = await signIn(stack, u.email);
  const t = await createToken(stack, s, { name: 'real', scope: 'read' });
  const flip = (c) => (c === 'A' ? 'B' : 'A');
  const cases = [
    ['wrong secret', `bcf_${t.prefix}_${t.secret.slice(0, -1)}${flip(t.secret.at(-1))}`],
    ['unknown prefix', `bcf_${t.prefix.slice(0, -1)}${t.prefix.at(-1) === '0' ? '1' : '0'}_${t.secret}`],
    ['short secret', `bcf_${t.prefix}_${t.secret.slice(0, 42)}`],
    ['long secret', `${t.token}A`],
    ['no bcf_ prefix', `xyz_${t.prefix}_${t.secret}`],
    ['bad characters', `bcf_${t.prefix}_${t.secret.slice(0, 42)}!`],
    ['garbage', 'not-a-token'],
  ];
  for (const [name, value] of cases) {
    const res = await stack.fetch('/api/v1/dashboard', { headers: bearer(value) });
    const text = await res.text();
    assert.equal(res.status, 401, `${name}: ${text.slice(0, 200)}`);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b.*invalid_token/, name);
    assert.equal(JSON.parse(text).error.code, 'invalid_token', name);
    assert.ok(!text.includes(t.secret), 'the secret is not echoed');
  }
  assert.equal(await statusOf(stack, '/api/v1/dashboard', bearer(t.token)), 200, 'the real one still works');
});

test('revoking a token ends it at once, its cached copy included; another user cannot revoke it', async () => {
  const u = await makeTrader(stack, 'rev');
  const v = await makeTrader(stack, 'revother');
  const su = await signIn(stack, u.email);
  const sv = await signIn(stack, v.email);
  const t = await createToken(stack, su, { name: 'to revoke', scope: 'read' });
  assert.equal(await statusOf(stack, '/api/v1/dashboard', bearer(t.token)), 200);
  const cacheKey = `c:apitoken:prefix:${t.prefix}`;
  assert.equal(await redisCli(stack, 'EXISTS', cacheKey), '1', 'the token row is cached after its first use');

  const foreign = await apiPost(stack, sv.cookie, sv.csrf, `/api/v1/account/tokens/${t.id}/revoke`);
  assert.equal(foreign.res.status, 404, foreign.text);
  assert.equal(await statusOf(stack, '/api/v1/dashboard', bearer(t.token)), 200, 'still valid');

  const r = await apiPost(stack, su.cookie, su.csrf, `/api/v1/account/tokens/${t.id}/revoke`);
  assert.equal(r.res.status, 200, r.text);
  assert.equal(await redisCli(stack, 'EXISTS', cacheKey), '0', 'the cached copy is dropped');
  await sleep(100); // near caches hear of it
  const after = await stack.fetch('/api/v1/dashboard', { headers: bearer(t.token) });
  await after.arrayBuffer();
  assert.equal(after.status, 401, 'a revoked token is refused at once');
  assert.match(after.headers.get('www-authenticate') ?? '', /invalid_token/);
  assert.equal(await auditCount(stack, 'account.token_revoke', `object_id = '${t.id}'`), 1);
  const twice = await apiPost(stack, su.cookie, su.csrf, `/api/v1/account/tokens/${t.id}/revoke`);
  assert.equal(twice.res.status, 404);
  assert.equal(await auditCount(stack, 'account.token_revoke', `object_id = '${t.id}'`), 1);
  const list = await getJson(stack, '/api/v1/account/tokens', { cookie: su.cookie });
  assert.equal(list.json.tokens.length, 0, 'a revoked token leaves the list');
});

test('an expired token is refused, also from its cached copy; last_used_at is recorded on use', async () => {
  const u = await makeTrader(stack, 'exp');
  const s = await signIn(stack, u.email);
  const old = await createToken(stack, s, { name: 'old', scope: 'read' });
  await psql(stack, `UPDATE api_tokens SET expires_at = now() - interval '1 minute' WHERE id = ${old.id}`);
  assert.equal(await statusOf(stack, '/api/v1/dashboard', bearer(old.token)), 401);

  const t = await createToken(stack, s, { name: 'short-lived', scope: 'read' });
  assert.equal(await psql(stack, `SELECT last_used_at IS NULL FROM api_tokens WHERE id = ${t.id}`), 't');
  // a whole second, so the expiry instant is exact in the cached copy too
  const exp = Number(await psql(stack, `UPDATE api_tokens SET expires_at = date_trunc('second', now()) + interval '2 seconds'
    WHERE id = ${t.id} RETURNING extract(epoch FROM expires_at)`));
  assert.equal(await statusOf(stack, '/api/v1/dashboard', bearer(t.token)), 200);
  assert.equal(await psql(stack, `SELECT last_used_at IS NOT NULL FROM api_tokens WHERE id = ${t.id}`), 't');
  assert.equal(await redisCli(stack, 'EXISTS', `c:apitoken:prefix:${t.prefix}`), '1', 'served from the cache from now on');
  // a correctness wait: the expiry instant must pass (no timing is measured)
  await sleep(Math.max(0, (exp + 1) * 1000 + 100 - Date.now()));
  assert.equal(await statusOf(stack, '/api/v1/dashboard', bearer(t.token)), 401, 'the cached copy knows its expiry');
  const list = await getJson(stack, '/api/v1/account/tokens', { cookie: s.cookie });
  assert.equal(list.json.tokens.length, 0, 'expired tokens leave the list');
});

test('bad token requests answer 422 and create nothing', async () => {
  const u = await makeTrader(stack, 'bad');
  const s = await signIn(stack, u.email);
  const audit = await psql(stack, 'SELECT last_id FROM audit_chain_head');
  const cases = [
    {},
    { scope: 'read' },
    { name: '', scope: 'read' },
    { name: 'x'.repeat(61), scope: 'read' },
    { name: 'x', scope: 'admin' },
    { name: 'x' },
    { name: 'x', scope: 'read', expires_days: '0' },
    { name: 'x', scope: 'read', expires_days: '366' },
    { name: 'x', scope: 'read', expires_days: 'soon' },
  ];
  for (const body of cases) {
    const r = await apiPost(stack, s.cookie, s.csrf, '/api/v1/account/tokens', body);
    assert.equal(r.res.status, 422, `${JSON.stringify(body)}: ${r.text.slice(0, 200)}`);
    assert.equal(r.json.error.code, 'bad_token_request');
  }
  assert.equal(await psql(stack, `SELECT count(*) FROM api_tokens WHERE user_id = ${u.id}`), '0');
  assert.equal(await psql(stack, 'SELECT last_id FROM audit_chain_head'), audit, 'nothing audited');
});

test('a password change revokes every personal API token at once, and a new token notifies its owner', async () => {
  const u = await makeTrader(stack, 'pwtok');
  const s = await login(stack, { email: u.email, password: DEMO.password });
  const csrf = await sessionCsrf(stack, s.cookie);
  const made = await apiPost(stack, s.cookie, csrf, '/api/v1/account/tokens', { name: 'script', scope: 'read' });
  assert.equal(made.res.status, 201, made.text);
  assert.equal(await psql(stack, `SELECT count(*) FROM notifications WHERE user_id = ${u.id} AND kind = 'account.token_created'`), '1');
  const use = () => stack.fetch('/api/v1/dashboard', { headers: { authorization: `Bearer ${made.json.token}` } });
  const before = await use();
  await before.text();
  assert.equal(before.status, 200, 'the token works (and its row is now cached)');
  const res = await stack.fetch('/account/password', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: s.cookie },
    body: new URLSearchParams({ _csrf: csrf, current_password: DEMO.password, password: 'a-much-longer-new-passphrase-2026',
      password_confirm: 'a-much-longer-new-passphrase-2026' }).toString(),
  });
  await res.text();
  assert.equal(res.status, 303, 'password changed');
  const after = await use();
  await after.text();
  assert.equal(after.status, 401, 'the cached token row went with the change');
  assert.equal(await psql(stack, `SELECT count(*) FROM api_tokens WHERE user_id = ${u.id} AND revoked_at IS NULL`), '0');
  assert.equal(await psql(stack, `SELECT after->>'api_tokens_revoked' FROM audit_log WHERE action = 'account.password_change'
    AND object_id = '${u.id}'`), '1');
});
