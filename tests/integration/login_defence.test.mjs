// tests/integration/login_defence.test.mjs — brute-force defences of the sign-in through the real stack: a growing
// wait after failures, the account lock, the per-address counter, no account enumeration, notices after suspicious
// sign-ins, unverified accounts, and the password rehash when the hashing parameters rise.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startStack } from './harness.mjs';
import { anonCsrf, DEMO, findCookie, makeTrader, psql, redisCli, SESSION_COOKIE, sleep } from './lib.mjs';

const FORM = 'application/x-www-form-urlencoded';
const LOCK_S = 30;
const LOCKED_TEXT = /Muitas tentativas sem sucesso|Too many failed attempts/;
const INVALID_TEXT = /E-mail ou senha incorretos|Wrong e-mail or password/;
const UNVERIFIED_TEXT = /Confirme seu e-mail primeiro|Confirm your e-mail address first/;

let stack; // account_max_failures 4, delay after 2, lock 30 s, address limit out of the way
let stackB; // address limit 3 (account limit out of the way), argon2id t = 3

before(async () => {
  const started = await Promise.allSettled([
    startStack({
      config: {
        'security.login.account_max_failures': '4',
        'security.login.delay_after': '2',
        'security.login.lock_s': String(LOCK_S),
        'security.login.ip_max_failures': '1000',
      },
    }),
    startStack({
      config: {
        'security.login.ip_max_failures': '3',
        'security.login.account_max_failures': '100',
        'password.opslimit': '3',
      },
    }),
  ]);
  [stack, stackB] = started.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
});

after(async () => {
  await Promise.all([stack?.stop(), stackB?.stop()]);
});

const sha256 = (s) => createHash('sha256').update(s).digest('hex');
const accountKey = (email) => `lf:a:${sha256(email.toLowerCase())}`;
const count = async (s, sql) => Number(await psql(s, sql));


/** One POST /login through the form. Resolves { status, text, retryAfter (number|null), cookie, res }. */
async function attempt(s, email, password, { ua, anon } = {}) {
  const uaHeader = ua ? { 'user-agent': ua } : {};
  const a = anon ?? await anonCsrf(s, uaHeader);
  const res = await s.fetch('/login', {
    method: 'POST',
    headers: { 'content-type': FORM, cookie: a.cookie, ...uaHeader },
    body: new URLSearchParams({ _csrf: a.token, email, password }).toString(),
  });
  const text = await res.text();
  const ra = res.headers.get('retry-after');
  const sc = findCookie(res, SESSION_COOKIE);
  return { status: res.status, text, retryAfter: ra === null ? null : Number(ra), cookie: sc?.value ? sc.value : null, res };
}

/**
 * Waits for the start of a new wall-clock second, so that the next few requests fall in the same
 * second as the server counts them (a correctness wait for the one-second delay, not a timing check).
 */
async function freshSecond() {
  await sleep(1000 - (Date.now() % 1000) + 5);
}

/** Asserts a refusal that comes before the password is even looked at. */
function assertWait(r, min, max, what) {
  assert.equal(r.status, 429, `${what}: ${r.status} ${r.text.slice(0, 200)}`);
  assert.ok(Number.isInteger(r.retryAfter) && r.retryAfter >= min && r.retryAfter <= max,
    `${what}: Retry-After ${r.retryAfter} in [${min}, ${max}]`);
  assert.match(r.text, LOCKED_TEXT, what);
  assert.equal(r.cookie, null, `${what}: no session`);
}

test('failed logins: 401 each, then a growing wait that applies even to the right password, then a lock', async () => {
  const u = await makeTrader(stack, 'brute');
  const wrong = 'not-the-password';
  const r1 = await attempt(stack, u.email, wrong);
  assert.equal(r1.status, 401);
  assert.match(r1.text, INVALID_TEXT);
  await freshSecond();
  assert.equal((await attempt(stack, u.email, wrong)).status, 401, 'second failure (delay_after = 2)');
  // from here each attempt must wait 1, 2, 4... seconds after the last failure
  assertWait(await attempt(stack, u.email, DEMO.password), 1, 1, 'right password right after 2 failures');
  assert.equal(await redisCli(stack, 'HGET', accountKey(u.email), 'n'), '2', 'refusals during the wait are not failures');

  await sleep(1000);
  assert.equal((await attempt(stack, u.email, wrong)).status, 401, 'after the wait a try is allowed again');
  const w2 = await attempt(stack, u.email, DEMO.password);
  assertWait(w2, 1, 2, 'right password right after 3 failures');
  await sleep(w2.retryAfter * 1000 + 50);
  assert.equal((await attempt(stack, u.email, wrong)).status, 401, 'fourth failure (account_max_failures = 4)');

  // locked: the right password is refused for about lock_s
  const locked = await attempt(stack, u.email, DEMO.password);
  assertWait(locked, LOCK_S - 5, LOCK_S, 'locked account');
  const ttl = Number(await redisCli(stack, 'TTL', accountKey(u.email)));
  assert.ok(ttl > 0 && ttl <= LOCK_S, `the lock expires by itself: TTL ${ttl}`);
  assert.equal(await count(stack, `SELECT count(*) FROM security_events WHERE kind = 'login_failed' AND user_id = ${u.id}`), 4);
  assert.equal(await psql(stack, `SELECT (details->>'scope') || '|' || severity FROM security_events
    WHERE kind = 'login_locked' AND user_id = ${u.id}`), 'account|warning', 'one login_locked event');
  assert.equal(await count(stack, `SELECT count(*) FROM sessions WHERE user_id = ${u.id}`), 0, 'no session was ever made');
});

test('unknown e-mails are counted like known ones and get the very same answer (no account enumeration)', async () => {
  const known = await makeTrader(stack, 'known');
  const unknown = `nobody-${process.pid}-${Date.now()}@example.com`;
  const anon = await anonCsrf(stack);
  const norm = (r, email) => r.text.split(email).join('EMAIL').split(r.res.headers.get('x-request-id')).join('RID');
  const headersOf = (r) => [...r.res.headers.keys()].filter((k) => !['date', 'x-request-id', 'content-length'].includes(k)).sort();

  const k1 = await attempt(stack, known.email, 'wrong-one', { anon });
  const u1 = await attempt(stack, unknown, 'wrong-one', { anon });
  assert.equal(k1.status, 401);
  assert.equal(u1.status, k1.status);
  assert.equal(norm(u1, unknown), norm(k1, known.email), 'the same page, but for the e-mail typed');
  assert.deepEqual(headersOf(u1), headersOf(k1));
  assert.equal(await redisCli(stack, 'HGET', accountKey(unknown), 'n'), '1', 'the unknown e-mail has a counter too');
  assert.equal(await psql(stack, `SELECT coalesce(user_id::text, 'none') || '|' || (details->>'reason') FROM security_events
    WHERE kind = 'login_failed' AND details->>'email_hash' = '${sha256(unknown)}'`), 'none|unknown_account');

  // the wait starts after the same number of failures for both (and the e-mail's case does not matter)
  await freshSecond();
  assert.equal((await attempt(stack, known.email, 'wrong-two', { anon })).status, 401);
  assert.equal((await attempt(stack, unknown.toUpperCase(), 'wrong-two', { anon })).status, 401);
  const k3 = await attempt(stack, known.email, DEMO.password, { anon });
  const u3 = await attempt(stack, unknown, DEMO.password, { anon });
  assertWait(k3, 1, 1, 'known e-mail');
  assertWait(u3, 1, 1, 'unknown e-mail');
  assert.equal(norm(u3, unknown), norm(k3, known.email));
  assert.equal(await redisCli(stack, 'HGET', accountKey(unknown), 'n'), '2');
});

test('a successful login after failures resets the counter and warns the user (notification and warning event)', async () => {
  const u = await makeTrader(stack, 'warned');
  assert.equal((await attempt(stack, u.email, 'oops')).status, 401);
  assert.equal(await redisCli(stack, 'EXISTS', accountKey(u.email)), '1');
  const ok = await attempt(stack, u.email, DEMO.password);
  assert.equal(ok.status, 303, ok.text.slice(0, 200));
  assert.ok(ok.cookie);
  assert.equal(await redisCli(stack, 'EXISTS', accountKey(u.email)), '0', 'the account counter is reset');
  assert.equal(await psql(stack, `SELECT severity || '|' || (details->>'prior_failures') FROM security_events
    WHERE kind = 'login_new_device' AND user_id = ${u.id}`), 'warning|1');
  const note = await psql(stack, `SELECT severity || '|' || body FROM notifications WHERE user_id = ${u.id} AND kind = 'account.suspicious_login'`);
  assert.ok(note.startsWith('warning|'), `one warning notice: ${note}`);
  assert.ok(note.includes('127.0.0.1'), 'the notice says where from');
  assert.ok(!note.includes(DEMO.password) && !note.includes('oops'), 'no password in the notice');

  // a clean login from the same browser is not suspicious
  assert.equal((await attempt(stack, u.email, DEMO.password)).status, 303);
  assert.equal(await count(stack, `SELECT count(*) FROM notifications WHERE user_id = ${u.id}`), 1);
  assert.equal(await count(stack, `SELECT count(*) FROM security_events WHERE kind = 'login_new_device' AND user_id = ${u.id}`), 1);
});

test('a sign-in from a new browser is a login_new_device event and a notice; a known browser is not', async () => {
  const u = await makeTrader(stack, 'device');
  const events = () => count(stack, `SELECT count(*) FROM security_events WHERE kind = 'login_new_device' AND user_id = ${u.id}`);
  assert.equal((await attempt(stack, u.email, DEMO.password, { ua: 'Firefox/120 test' })).status, 303);
  assert.equal(await events(), 0, 'the very first sign-in has nothing to compare with');
  assert.equal((await attempt(stack, u.email, DEMO.password, { ua: 'Firefox/120 test' })).status, 303);
  assert.equal(await events(), 0, 'the same browser again');
  assert.equal((await attempt(stack, u.email, DEMO.password, { ua: 'Chrome/125 elsewhere' })).status, 303);
  assert.equal(await events(), 1, 'a new browser');
  assert.equal(await psql(stack, `SELECT severity || '|' || (details->>'new_device') FROM security_events
    WHERE kind = 'login_new_device' AND user_id = ${u.id}`), 'info|true');
  const note = await psql(stack, `SELECT severity || '|' || body FROM notifications WHERE user_id = ${u.id} AND kind = 'account.suspicious_login'`);
  assert.ok(note.startsWith('info|') && note.includes('Chrome/125 elsewhere'), `the notice names the browser: ${note}`);
  assert.equal((await attempt(stack, u.email, DEMO.password, { ua: 'Chrome/125 elsewhere' })).status, 303);
  assert.equal(await events(), 1, 'known from now on');
});

test('an unverified account: the right password gets 403 and no session; a wrong one still 401', async () => {
  const u = await makeTrader(stack, 'unverified');
  await psql(stack, `UPDATE users SET email_verified_at = NULL WHERE id = ${u.id}`);
  const r = await attempt(stack, u.email, DEMO.password);
  assert.equal(r.status, 403, r.text.slice(0, 200));
  assert.match(r.text, UNVERIFIED_TEXT);
  assert.equal(r.cookie, null);
  const w = await attempt(stack, u.email, 'wrong-password');
  assert.equal(w.status, 401, 'a wrong password does not reveal the account state');
  assert.doesNotMatch(w.text, UNVERIFIED_TEXT);
  assert.equal(await count(stack, `SELECT count(*) FROM sessions WHERE user_id = ${u.id}`), 0);
});

test('raised hashing parameters: the next login replaces a t=2 hash by a t=3 one and audits it once', async () => {
  // a t=2 hash of the demo password, made by the stack with the default parameters
  const t2 = await psql(stack, `SELECT password_hash FROM users WHERE email = '${DEMO.email}'`);
  assert.match(t2, /^\$argon2id\$v=19\$m=\d+,t=2,p=1\$/);
  const id = await count(stackB, `SELECT id FROM users WHERE email = '${DEMO.email}'`);
  await psql(stackB, `UPDATE users SET password_hash = '${t2}' WHERE id = ${id}`);
  for (const k of (await redisCli(stackB, '--scan', '--pattern', 'lf:*')).split('\n').filter(Boolean)) await redisCli(stackB, 'DEL', k);

  const r = await attempt(stackB, DEMO.email, DEMO.password);
  assert.equal(r.status, 303, r.text.slice(0, 200));
  const now = await psql(stackB, `SELECT password_hash FROM users WHERE id = ${id}`);
  assert.match(now, /^\$argon2id\$v=19\$m=\d+,t=3,p=1\$/, 'rehashed with t=3');
  assert.notEqual(now, t2);
  assert.equal(await count(stackB, `SELECT count(*) FROM audit_log WHERE action = 'account.password_rehash' AND object_id = '${id}'`), 1);
  assert.ok(!(await psql(stackB, `SELECT coalesce(after::text, '') || coalesce(before::text, '') FROM audit_log
    WHERE action = 'account.password_rehash' AND object_id = '${id}'`)).includes('argon2'), 'no hash in the audit row');

  const again = await attempt(stackB, DEMO.email, DEMO.password);
  assert.equal(again.status, 303, 'the new hash verifies');
  assert.equal(await psql(stackB, `SELECT password_hash FROM users WHERE id = ${id}`), now, 'no rehash of a current hash');
  assert.equal(await count(stackB, `SELECT count(*) FROM audit_log WHERE action = 'account.password_rehash' AND object_id = '${id}'`), 1);
});

test('the per-address counter locks the address across different accounts', async () => {
  for (const k of (await redisCli(stackB, '--scan', '--pattern', 'lf:*')).split('\n').filter(Boolean)) await redisCli(stackB, 'DEL', k);
  const victim = await makeTrader(stackB, 'addr');
  const others = [`a-${process.pid}@example.com`, `b-${process.pid}@example.com`, DEMO.email];
  for (const email of others) {
    const r = await attempt(stackB, email, 'guess-123456');
    assert.equal(r.status, 401, email);
  }
  assert.equal(await redisCli(stackB, 'HGET', 'lf:ip:127.0.0.1', 'n'), '3', 'one counter for the address');
  const r = await attempt(stackB, victim.email, DEMO.password);
  assertWait(r, 800, 900, 'an account never tried before, from the locked address');
  assert.equal(await redisCli(stackB, 'EXISTS', accountKey(victim.email)), '0', 'it is the address that is locked, not the account');
  assert.equal(await count(stackB, `SELECT count(*) FROM security_events WHERE kind = 'login_locked' AND details->>'scope' = 'address'`), 1);
  assert.equal(await count(stackB, `SELECT count(*) FROM sessions WHERE user_id = ${victim.id}`), 0);
});

test('wrong 2FA codes at the second step count towards the account lock, across pending sign-ins', async () => {
  const { enrolTotp, login } = await import('./lib.mjs');
  const t = await makeTrader(stack, 'mfa-guess');
  const s = await login(stack, { email: t.email, password: DEMO.password });
  await enrolTotp(stack, s.cookie);
  // someone with the password starts a fresh pending sign-in for every guess
  const guess = async () => {
    const a = await anonCsrf(stack);
    const step1 = await stack.fetch('/login', {
      method: 'POST', headers: { 'content-type': FORM, cookie: a.cookie },
      body: new URLSearchParams({ _csrf: a.token, email: t.email, password: DEMO.password }).toString(),
    });
    const html = await step1.text();
    const m = /name="mfa_token" value="([^"]+)"/.exec(html);
    if (!m) return { status: step1.status, retryAfter: step1.headers.get('retry-after') };
    const step2 = await stack.fetch('/login/2fa', {
      method: 'POST', headers: { 'content-type': FORM, cookie: a.cookie },
      body: new URLSearchParams({ _csrf: a.token, mfa_token: m[1], code: '000000' }).toString(),
    });
    await step2.text();
    return { status: step2.status, retryAfter: step2.headers.get('retry-after') };
  };
  const first = await guess();
  assert.equal(first.status, 422, 'a wrong code');
  assert.equal(await redisCli(stack, 'HGET', accountKey(t.email), 'n'), '1', 'the account counter moved');
  await guess();
  // after delay_after (2) failures the next attempt must wait: the password step itself answers 429
  const third = await guess();
  assert.equal(third.status, 429, 'the growing wait applies to the next sign-in');
  assert.ok(Number(third.retryAfter) >= 1);
  assert.ok(await count(stack, `SELECT count(*) FROM security_events WHERE user_id = ${t.id} AND kind = 'login_failed'
    AND details->>'reason' = 'mfa_code'`) >= 2);
});

test('look-alike spellings of an address (Kelvin sign, dotted capital I) share the account lock', async () => {
  // lower() in PostgreSQL folds U+212A to "k" and U+0130 to "i": both spellings reach the account,
  // so both must count towards the one lock
  const t = await makeTrader(stack, 'lookalike-kit');
  const [local, domain] = t.email.split('@');
  const spellings = [t.email, local.replace('k', '\u212a') + '@' + domain, local.replace('i', '\u0130') + '@' + domain];
  assert.notEqual(spellings[1], t.email, 'the address has a k');
  assert.notEqual(spellings[2], t.email, 'the address has an i');
  // four failures, each spelling in turn; an attempt refused by the growing wait is made again once
  // the wait is over, so all four count however slowly the machine hashes passwords
  const statuses = [];
  for (let i = 0; i < 4; i++) {
    let r = await attempt(stack, spellings[i % 3], 'wrong-password');
    while (r.status === 429) {
      await sleep(Number(r.retryAfter) * 1000);
      r = await attempt(stack, spellings[i % 3], 'wrong-password');
    }
    statuses.push(r.status);
  }
  assert.deepEqual(statuses, [401, 401, 401, 401]);
  assert.equal(await redisCli(stack, 'HGET', accountKey(t.email), 'n'), '4', 'every spelling moved the one account counter');
  // the account is locked: no spelling signs in with the right password
  for (const email of spellings) {
    const r = await attempt(stack, email, DEMO.password);
    assert.equal(r.status, 429, `${JSON.stringify(email)} is locked with the account`);
  }
});
