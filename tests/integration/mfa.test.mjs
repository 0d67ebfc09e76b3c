// tests/integration/mfa.test.mjs — TOTP 2FA through the real stack: enrolment with a QR code, codes from the real
// oathtool, the replay guard, two-step login, recovery codes, step-up, turning 2FA off, and staff who must enrol.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { startStack } from './harness.mjs';
import { anonCsrf, apiPost, DEMO, findCookie, makeTrader, psql, redisCli, SESSION_COOKIE, sleep, totpCode } from './lib.mjs';

const FORM = 'application/x-www-form-urlencoded';
const CEO = Object.freeze({ email: 'ceo@botcriptofy.dev', password: 'demo-company-2026' });
const RECOVERY_RE = /^[A-Za-z2-7]{4}-[A-Za-z2-7]{4}-[A-Za-z2-7]{4}$/;

let stack;

before(async () => {
  // the pending-login limit (5 wrong codes) is tested here; the account's delay and lock, which
  // wrong codes also feed, are tested in login_defence.test.mjs
  stack = await startStack({ config: { 'security.login.delay_after': '50', 'security.login.account_max_failures': '100' } });
});

after(async () => {
  await stack?.stop();
});

const sha256 = (s) => createHash('sha256').update(s).digest('hex');
const valueOf = (cookie) => cookie.slice(cookie.indexOf('=') + 1);

/** The code the real oathtool computes for a base32 secret at unix time t. Fails (never skips) without oathtool. */
function oathtool(secret, t = Date.now() / 1000) {
  try {
    return execFileSync('oathtool', ['--totp', '-b', '-N', `@${Math.floor(t)}`, secret], { encoding: 'utf8' }).trim();
  } catch (e) {
    if (e.code === 'ENOENT') throw new Error('oathtool is not installed: install the Debian package "oathtool" (dev/deps lists it)');
    throw e;
  }
}

/** Six digits that are not the code of any step near now (so they are wrong, not a replay or a lucky hit). */
function wrongCode(secret) {
  const near = new Set([-2, -1, 0, 1, 2].map((k) => totpCode(secret, Date.now() / 1000, k)));
  for (let n = 123456; ; n = (n + 111111) % 1_000_000) {
    const c = String(n).padStart(6, '0');
    if (!near.has(c)) return c;
  }
}


/** Step 1 of a login (the password). Resolves { res, html, mfaToken, anon, cookie (set only without 2FA) }. */
async function loginStep1(email, password = DEMO.password) {
  const anon = await anonCsrf(stack);
  const res = await stack.fetch('/login', {
    method: 'POST',
    headers: { 'content-type': FORM, cookie: anon.cookie },
    body: new URLSearchParams({ _csrf: anon.token, email, password }).toString(),
  });
  const html = await res.text();
  const m = /name="mfa_token" value="([^"]+)"/.exec(html);
  const sc = findCookie(res, SESSION_COOKIE);
  return { res, html, mfaToken: m?.[1], anon, cookie: sc?.value ? `${SESSION_COOKIE}=${sc.value}` : null };
}

/** Step 2: POST /login/2fa for a pending login. Resolves { res, text, cookie }. */
async function loginStep2(step1, code, token = step1.mfaToken) {
  const res = await stack.fetch('/login/2fa', {
    method: 'POST',
    headers: { 'content-type': FORM, cookie: step1.anon.cookie },
    body: new URLSearchParams({ _csrf: step1.anon.token, mfa_token: token, code }).toString(),
  });
  const text = await res.text();
  const sc = findCookie(res, SESSION_COOKIE);
  return { res, text, cookie: sc?.value ? `${SESSION_COOKIE}=${sc.value}` : null };
}

async function signIn(email, password = DEMO.password) {
  const r = await loginStep1(email, password);
  assert.equal(r.res.status, 303, `login ${email}: ${r.res.status} ${r.html.slice(0, 200)}`);
  return r.cookie;
}

/**
 * The session's CSRF token from the logout form of a page. /account/2fa is reachable before a
 * staff member has enrolled (the dashboard is not), so it is the default.
 */
async function csrfOf(cookie, p = '/account/2fa') {
  const res = await stack.fetch(p, { headers: { cookie } });
  const html = await res.text();
  assert.equal(res.status, 200, `GET ${p}: ${res.status}`);
  const m = /action="\/logout"[\s\S]*?name="_csrf" value="([^"]*)"/.exec(html);
  assert.ok(m, `no logout form on ${p}`);
  return m[1];
}

async function postForm(p, cookie, fields) {
  const res = await stack.fetch(p, {
    method: 'POST', headers: { 'content-type': FORM, cookie }, body: new URLSearchParams(fields).toString(),
  });
  const text = await res.text();
  const sc = findCookie(res, SESSION_COOKIE);
  return { res, text, cookie: sc?.value ? `${SESSION_COOKIE}=${sc.value}` : null };
}

async function statusOf(p, headers = {}) {
  const res = await stack.fetch(p, { headers });
  await res.arrayBuffer();
  return res.status;
}

/** Enrols through the JSON routes with oathtool's code. Resolves { secret, uri, recoveryCodes, cookie, csrf }. */
async function enrol(cookie) {
  const csrf = await csrfOf(cookie);
  const setup = await apiPost(stack, cookie, csrf, '/api/v1/account/2fa/setup');
  assert.equal(setup.res.status, 200, `setup: ${setup.text.slice(0, 200)}`);
  const { secret } = setup.json;
  assert.match(secret, /^[A-Z2-7]{32}$/);
  assert.ok(!('qr_svg' in setup.json), 'the JSON answer carries the URI, not the picture');
  const en = await apiPost(stack, cookie, csrf, '/api/v1/account/2fa/enable', { code: oathtool(secret) });
  assert.equal(en.res.status, 200, `enable: ${en.text.slice(0, 200)}`);
  const sc = findCookie(en.res, SESSION_COOKIE);
  assert.ok(sc?.value, 'enabling 2FA rotates the session');
  const next = `${SESSION_COOKIE}=${sc.value}`;
  return { secret, uri: setup.json.uri, recoveryCodes: en.json.recovery_codes, cookie: next, csrf: await csrfOf(next) };
}

/** Makes the session's last 2FA check ten minutes old (PostgreSQL row, then the Redis copy is reloaded from it). */
async function ageStepUp(cookie) {
  const h = sha256(valueOf(cookie));
  assert.equal(await psql(stack, `UPDATE sessions SET mfa_at = now() - interval '10 minutes' WHERE id_hash = '${h}' RETURNING 1`), '1');
  await redisCli(stack, 'DEL', `s:${h}`);
  await sleep(100); // near caches hear of the deletion
}

const count = async (sql) => Number(await psql(stack, sql));
const mfaFailures = (uid) => count(`SELECT count(*) FROM security_events WHERE kind = 'mfa_failed' AND user_id = ${uid}`);
const codeHashes = (uid) => psql(stack, `SELECT string_agg(code_hash, ',' ORDER BY code_hash) FROM recovery_codes WHERE user_id = ${uid} AND used_at IS NULL`);

test('enrolment through the pages: QR code and secret, the seed sealed, oathtool codes accepted once, rotation and 10 recovery codes', async () => {
  const u = await makeTrader(stack, 'html');
  const cookie = await signIn(u.email);
  const csrf = await csrfOf(cookie);
  const status = await (await stack.fetch('/account/2fa', { headers: { cookie } })).text();
  assert.match(status, /action="\/account\/2fa\/setup"/, 'the status page offers enrolment');

  const setup = await postForm('/account/2fa/setup', cookie, { _csrf: csrf });
  assert.equal(setup.res.status, 200, setup.text.slice(0, 300));
  const svg = /<svg\b[^>]*class="qr"[^>]*>[\s\S]*?<\/svg>/.exec(setup.text)?.[0];
  assert.ok(svg, 'an inline SVG QR code');
  assert.match(svg, /<path\b[^>]*\sd="M[^"]+"/, 'with its modules drawn');
  assert.doesNotMatch(svg, /<script|on[a-z]+=/i);
  const secret = /<code class="secret">([A-Z2-7]+)<\/code>/.exec(setup.text)?.[1];
  assert.ok(secret && secret.length === 32, `a 160-bit base32 secret is shown: ${secret}`);

  const stored = await psql(stack, `SELECT totp_secret FROM users WHERE id = ${u.id}`);
  assert.match(stored, /^\d+\|/, 'a vault envelope "<key id>|..."');
  assert.ok(!stored.includes(secret) && !stored.toUpperCase().includes(secret), 'the seed is not stored in clear');
  assert.equal(await psql(stack, `SELECT totp_enabled_at IS NULL FROM users WHERE id = ${u.id}`), 't', 'not on before a code');
  assert.ok(!(await stack.logs('fcgi')).includes(secret), 'the seed is not logged');

  // a wrong code: 422, a security event, nothing turned on, the session unchanged
  const failsBefore = await mfaFailures(u.id);
  const wrong = await postForm('/account/2fa/enable', cookie, { _csrf: csrf, code: wrongCode(secret) });
  assert.equal(wrong.res.status, 422);
  assert.match(wrong.text, /<code>mfa_invalid<\/code>/);
  assert.equal(wrong.cookie, null);
  assert.equal(await mfaFailures(u.id), failsBefore + 1);
  assert.equal(await psql(stack, `SELECT totp_enabled_at IS NULL FROM users WHERE id = ${u.id}`), 't');

  // the real oathtool's current code turns 2FA on
  const code = oathtool(secret);
  assert.equal(code, totpCode(secret), 'oathtool and the test helper agree');
  const on = await postForm('/account/2fa/enable', cookie, { _csrf: csrf, code });
  assert.equal(on.res.status, 200, on.text.slice(0, 300));
  const codes = [...on.text.matchAll(/<li><code>([^<]+)<\/code><\/li>/g)].map((m) => m[1]);
  assert.equal(codes.length, 10, 'ten recovery codes, shown once');
  assert.equal(new Set(codes).size, 10);
  for (const c of codes) assert.match(c, RECOVERY_RE);
  assert.ok(on.cookie && on.cookie !== cookie, 'a new session id after the privilege change');
  assert.equal(await statusOf('/api/v1/dashboard', { cookie }), 401, 'the old id is over');
  assert.equal(await statusOf('/api/v1/dashboard', { cookie: on.cookie }), 200);
  assert.equal(await psql(stack, `SELECT totp_enabled_at IS NOT NULL FROM users WHERE id = ${u.id}`), 't');
  assert.equal(await count(`SELECT count(*) FROM recovery_codes WHERE user_id = ${u.id} AND used_at IS NULL`), 10);
  const hashes = await codeHashes(u.id);
  for (const c of codes) assert.ok(!hashes.includes(c.toLowerCase()) && !hashes.includes(c), 'codes are stored hashed');
  assert.equal(await count(`SELECT count(*) FROM audit_log WHERE action = 'mfa.enable' AND object_id = '${u.id}'`), 1);

  // the same code again is a replay; the next step's code (oathtool at +30 s) is fresh
  const csrf2 = await csrfOf(on.cookie);
  const replay = await apiPost(stack, on.cookie, csrf2, '/api/v1/account/2fa/verify', { code });
  assert.equal(replay.res.status, 422, replay.text);
  assert.equal(replay.json.error.code, 'mfa_invalid');
  const fresh = await apiPost(stack, on.cookie, csrf2, '/api/v1/account/2fa/verify', { code: oathtool(secret, Date.now() / 1000 + 30) });
  assert.equal(fresh.res.status, 200, fresh.text);
  assert.deepEqual(fresh.json, { ok: true, method: 'totp' });
  assert.ok(findCookie(fresh.res, SESSION_COOKIE)?.value, 'a step-up rotates the session too');
});

test('with 2FA on, login takes two steps; a recovery code works once; five wrong codes end the pending login', async () => {
  const u = await makeTrader(stack, 'twostep');
  const first = await signIn(u.email);
  const e = await enrol(first);
  assert.match(e.uri, /^otpauth:\/\/totp\//);
  assert.ok(e.uri.includes(`secret=${e.secret}`) && e.uri.includes('issuer=BotCriptoFy'), e.uri);
  assert.equal(e.recoveryCodes.length, 10);
  const again = await apiPost(stack, e.cookie, e.csrf, '/api/v1/account/2fa/setup');
  assert.equal(again.res.status, 409, 'no second enrolment while 2FA is on');
  assert.equal(again.json.error.code, 'mfa_already_enabled');

  // step 1: the right password gives the code form, not a session
  const s1 = await loginStep1(u.email);
  assert.equal(s1.res.status, 200, s1.html.slice(0, 200));
  assert.ok(s1.mfaToken && s1.mfaToken.length === 43, 'a pending-login token in the form');
  assert.equal(s1.cookie, null, 'no session before the second step');
  assert.ok(!(s1.res.headers.getSetCookie() ?? []).some((c) => c.startsWith(`${SESSION_COOKIE}=`)));

  // step 2 with the next step's code (the current one was spent on enrolment)
  const ok = await loginStep2(s1, oathtool(e.secret, Date.now() / 1000 + 30));
  assert.equal(ok.res.status, 303, ok.text.slice(0, 200));
  assert.equal(ok.res.headers.get('location'), '/dashboard');
  assert.ok(ok.cookie);
  assert.equal(await statusOf('/api/v1/dashboard', { cookie: ok.cookie }), 200);
  assert.equal(await psql(stack, `SELECT mfa_at IS NOT NULL FROM sessions WHERE id_hash = '${sha256(valueOf(ok.cookie))}'`), 't');
  const reuse = await loginStep2(s1, e.recoveryCodes[5]);
  assert.equal(reuse.res.status, 400, 'a pending login is used once');
  assert.match(reuse.text, /bad_mfa_token/);

  // a recovery code works once
  const r1 = await loginStep2(await loginStep1(u.email), e.recoveryCodes[0]);
  assert.equal(r1.res.status, 303, r1.text.slice(0, 200));
  assert.equal(await psql(stack, `SELECT after->>'method' FROM audit_log WHERE action = 'auth.login' AND actor_user_id = ${u.id} ORDER BY id DESC LIMIT 1`), 'recovery');
  assert.equal(await count(`SELECT count(*) FROM recovery_codes WHERE user_id = ${u.id} AND used_at IS NOT NULL`), 1);
  const failsBefore = await mfaFailures(u.id);
  const r2 = await loginStep2(await loginStep1(u.email), e.recoveryCodes[0]);
  assert.equal(r2.res.status, 422, 'a used recovery code is refused');
  assert.equal(r2.cookie, null);
  assert.equal(await mfaFailures(u.id), failsBefore + 1);

  // five wrong codes end the pending login, and a right code cannot revive it
  const p = await loginStep1(u.email);
  for (let i = 1; i <= 4; i++) {
    const w = await loginStep2(p, wrongCode(e.secret));
    assert.equal(w.res.status, 422, `wrong code ${i}`);
    assert.match(w.text, /name="mfa_token"/, 'the form is shown again');
  }
  const fifth = await loginStep2(p, wrongCode(e.secret));
  assert.equal(fifth.res.status, 400);
  assert.match(fifth.text, /bad_mfa_token/);
  const dead = await loginStep2(p, e.recoveryCodes[1]);
  assert.equal(dead.res.status, 400, 'the pending login is gone');
  assert.equal(dead.cookie, null);
  assert.equal(await count(`SELECT count(*) FROM recovery_codes WHERE user_id = ${u.id} AND used_at IS NOT NULL`), 1,
    'the refused request did not spend the code');
  const later = await loginStep2(await loginStep1(u.email), e.recoveryCodes[1]);
  assert.equal(later.res.status, 303, 'the code still works in a new login');

  // a made-up pending token
  const fake = await loginStep2(await loginStep1(u.email), e.recoveryCodes[2], 'A'.repeat(43));
  assert.equal(fake.res.status, 400);
});

test('step-up: an old 2FA check is not enough for new recovery codes or turning 2FA off; a fresh one is; a trader can turn it off', async () => {
  const u = await makeTrader(stack, 'stepup');
  const e = await enrol(await signIn(u.email));
  // right after enrolment the session counts as freshly checked
  const fresh = await apiPost(stack, e.cookie, e.csrf, '/api/v1/account/2fa/recovery');
  assert.equal(fresh.res.status, 200, fresh.text);
  assert.equal(fresh.json.recovery_codes.length, 10);

  await ageStepUp(e.cookie);
  const hashes = await codeHashes(u.id);
  const refused = await apiPost(stack, e.cookie, e.csrf, '/api/v1/account/2fa/recovery');
  assert.equal(refused.res.status, 403, refused.text);
  assert.equal(refused.json.error.code, 'step_up_required');
  const off = await postForm('/account/2fa/disable', e.cookie, { _csrf: e.csrf });
  assert.equal(off.res.status, 403);
  assert.match(off.text, /<code>step_up_required<\/code>/);
  assert.equal(await codeHashes(u.id), hashes, 'the recovery codes did not change');
  assert.equal(await psql(stack, `SELECT totp_enabled_at IS NOT NULL FROM users WHERE id = ${u.id}`), 't', '2FA still on');
  const st = await (await stack.fetch('/api/v1/account/2fa', { headers: { cookie: e.cookie } })).json();
  assert.deepEqual(st, { enabled: true, required: false, recent: false });

  // a fresh check (the next step's code) unlocks both
  const v = await apiPost(stack, e.cookie, e.csrf, '/api/v1/account/2fa/verify', { code: oathtool(e.secret, Date.now() / 1000 + 30) });
  assert.equal(v.res.status, 200, v.text);
  const cookie = `${SESSION_COOKIE}=${findCookie(v.res, SESSION_COOKIE).value}`;
  const csrf = await csrfOf(cookie);
  const renewed = await apiPost(stack, cookie, csrf, '/api/v1/account/2fa/recovery');
  assert.equal(renewed.res.status, 200, renewed.text);
  assert.equal(renewed.json.recovery_codes.length, 10);
  const newHashes = await codeHashes(u.id);
  assert.equal(newHashes.split(',').length, 10);
  for (const h of hashes.split(',')) assert.ok(!newHashes.includes(h), 'every old code is replaced');
  assert.equal(await count(`SELECT count(*) FROM audit_log WHERE action = 'mfa.recovery_codes' AND object_id = '${u.id}'`), 2);

  const disabled = await postForm('/account/2fa/disable', cookie, { _csrf: csrf });
  assert.equal(disabled.res.status, 303, disabled.text.slice(0, 200));
  assert.equal(disabled.res.headers.get('location'), '/account/2fa');
  assert.ok(disabled.cookie && disabled.cookie !== cookie, 'a new session id');
  assert.equal(await psql(stack, `SELECT (totp_enabled_at IS NULL AND totp_secret IS NULL)::text FROM users WHERE id = ${u.id}`), 'true');
  assert.equal(await count(`SELECT count(*) FROM recovery_codes WHERE user_id = ${u.id}`), 0);
  assert.equal(await count(`SELECT count(*) FROM audit_log WHERE action = 'mfa.disable' AND object_id = '${u.id}'`), 1);
  const plain = await loginStep1(u.email);
  assert.equal(plain.res.status, 303, 'login is one step again');
  assert.ok(plain.cookie);
});

test('staff must enrol: the CEO without 2FA is sent to /account/2fa, can enrol and sign out, then reaches the dashboard and cannot turn 2FA off', async () => {
  const ceoId = await count(`SELECT id FROM users WHERE email = '${CEO.email}'`);
  assert.equal(await psql(stack, `SELECT totp_enabled_at IS NULL FROM users WHERE id = ${ceoId}`), 't', 'the demo CEO starts without 2FA');
  const cookie = await signIn(CEO.email, CEO.password);

  const page = await stack.fetch('/dashboard', { headers: { cookie } });
  await page.arrayBuffer();
  assert.equal(page.status, 303);
  assert.equal(page.headers.get('location'), '/account/2fa');
  const api = await stack.fetch('/api/v1/dashboard', { headers: { cookie } });
  const aj = JSON.parse(await api.text());
  assert.equal(api.status, 403);
  assert.equal(aj.error.code, 'mfa_enrollment_required');
  const st = await (await stack.fetch('/api/v1/account/2fa', { headers: { cookie } })).json();
  assert.equal(st.enabled, false);
  assert.equal(st.required, true);
  const csrf = await csrfOf(cookie);
  const tok = await apiPost(stack, cookie, csrf, '/api/v1/account/tokens', { name: 'x', scope: 'read' });
  assert.equal(tok.res.status, 403, 'no API token before enrolment');
  assert.equal(tok.json.error.code, 'mfa_enrollment_required');
  assert.equal(await count(`SELECT count(*) FROM api_tokens WHERE user_id = ${ceoId}`), 0);

  // sign-out works before enrolment
  const other = await signIn(CEO.email, CEO.password);
  const out = await postForm('/logout', other, { _csrf: await csrfOf(other) });
  assert.equal(out.res.status, 303);
  assert.equal(out.res.headers.get('location'), '/login');
  assert.equal(await statusOf('/account/2fa', { cookie: other }), 303, 'that session is over');

  const e = await enrol(cookie);
  assert.equal(await statusOf('/dashboard', { cookie: e.cookie }), 200);
  assert.equal(await statusOf('/api/v1/dashboard', { cookie: e.cookie }), 200);

  const status = await (await stack.fetch('/account/2fa', { headers: { cookie: e.cookie } })).text();
  assert.doesNotMatch(status, /action="\/account\/2fa\/disable"/, 'staff are not offered to turn 2FA off');
  const off = await postForm('/account/2fa/disable', e.cookie, { _csrf: e.csrf }); // stepped up by the enrolment
  assert.equal(off.res.status, 409);
  assert.match(off.text, /<code>mfa_required_for_role<\/code>/);
  assert.equal(await psql(stack, `SELECT totp_enabled_at IS NOT NULL FROM users WHERE id = ${ceoId}`), 't');
  assert.equal(await count(`SELECT count(*) FROM recovery_codes WHERE user_id = ${ceoId}`), 10);
});
