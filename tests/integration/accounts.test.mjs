// tests/integration/accounts.test.mjs — registration, e-mail verification, password reset and change end to end:
// real mail over SMTP (worker → libcurl → tests/integration/smtp.mjs), single-use links, sessions ended, the dev mail viewer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { REPO, startStack } from './harness.mjs';
import { anonCsrf, csrfFromHtml, findCookie, login, psql, SESSION_COOKIE, sessionCsrf, waitFor } from './lib.mjs';
import { startSmtp } from './smtp.mjs';

let stack;
let smtp;

// The anonymous flows are rate limited per address (10/h, 5/h); this file sends many from one.
const CONFIG = {
  'mail.poll_ms': '200',
  'ratelimit.account.register': '100000/min',
  'ratelimit.account.reset': '100000/min',
};

before(async () => {
  smtp = await startSmtp();
  stack = await startStack({ config: { ...CONFIG, 'mail.smtp_url': smtp.url } });
});

after(async () => {
  await stack?.stop();
  await smtp?.stop();
});

const FORM = 'application/x-www-form-urlencoded';
const PASSWORD = 'correct horse battery 42';
let seq = 0;
const newEmail = (tag) => `${tag}-${Date.now().toString(36)}-${++seq}@example.test`;
const sha256 = (s) => createHash('sha256').update(s).digest('hex');
const q = (s) => `'${String(s).replace(/'/g, "''")}'`;

/** POSTs a form with the anonymous CSRF cookie (or the given cookie/token). Resolves { res, html }. */
async function postForm(s, path, fields, { cookie, token, lang } = {}) {
  let c = cookie;
  let t = token;
  if (!c) {
    const a = await anonCsrf(s);
    c = a.cookie;
    t = a.token;
  }
  if (lang) c = `${c}; lang=${lang}`;
  const res = await s.fetch(path, {
    method: 'POST',
    headers: { 'content-type': FORM, cookie: c },
    body: new URLSearchParams({ _csrf: t, ...fields }).toString(),
  });
  return { res, html: await res.text() };
}

function register(s, fields, opts) {
  return postForm(s, '/register', {
    name: 'Ana Teste',
    password: PASSWORD,
    password_confirm: PASSWORD,
    accept_terms: '1',
    ...fields,
  }, opts);
}

/** The page's main <section>: the part of the answer that depends on what happened (the footer carries a request id). */
function section(html) {
  const m = /<section[\s\S]*<\/section>/.exec(html);
  assert.ok(m, `a <section> in the page: ${html.slice(0, 300)}`);
  return m[0];
}

const tokenOf = (body, path) => {
  const m = new RegExp(`${path.replace(/\//g, '\\/').replace('?', '\\?')}\\?token=([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])`).exec(body);
  return m ? m[1] : null;
};

async function verifyMail(email) {
  const m = await smtp.waitFor(email, (x) => tokenOf(x.body, '/verify') !== null);
  return { msg: m, token: tokenOf(m.body, '/verify') };
}

async function counts(s) {
  const out = await psql(s, 'SELECT (SELECT count(*) FROM users) || \',\' || (SELECT count(*) FROM tenants) || \',\' || ' +
    '(SELECT count(*) FROM account_tokens) || \',\' || (SELECT count(*) FROM mail_outbox)');
  const [users, tenants, tokens, outbox] = out.split(',').map(Number);
  return { users, tenants, tokens, outbox };
}

async function sessionAlive(s, cookie) {
  const res = await s.fetch('/dashboard', { headers: { cookie } });
  await res.text();
  if (res.status === 200) return true;
  assert.equal(res.status, 303);
  assert.match(res.headers.get('location'), /^\/login/);
  return false;
}

/** Registers and verifies an account through the real routes; resolves its e-mail. */
async function verifiedAccount(tag) {
  const email = newEmail(tag);
  const r = await register(stack, { email });
  assert.equal(r.res.status, 200, r.html.slice(0, 300));
  const { token } = await verifyMail(email);
  const v = await stack.fetch(`/verify?token=${token}`);
  await v.text();
  assert.equal(v.status, 200);
  return email;
}

test('registration: the link arrives over SMTP, works once, and only then can the account sign in', async () => {
  const before0 = await counts(stack);
  const form = await stack.fetch('/register');
  const formHtml = await form.text();
  assert.equal(form.status, 200);
  assert.ok(csrfFromHtml(formHtml), 'the form carries a CSRF token');
  assert.match(formHtml, /name="accept_terms" value="1"/);

  const email = newEmail('reg');
  const r = await register(stack, { email, name: 'Ana Registro' });
  assert.equal(r.res.status, 200, r.html.slice(0, 500));
  assert.match(r.html, /Verifique seu e-mail/);

  // one tenant, one user, one role, one token (hashed), one consent, one audit row
  const row = await psql(stack, `SELECT u.id, u.tenant_id, t.kind, t.name, t.plan, u.lang, u.email_verified_at IS NULL, u.status
    FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE lower(u.email) = lower(${q(email)})`);
  const [uid, tid, kind, tname, plan, lang, unverified, status] = row.split('|');
  assert.deepEqual([kind, tname, plan, lang, unverified, status], ['trader', 'Ana Registro', 'free', 'pt-BR', 't', 'active']);
  assert.equal(await psql(stack, `SELECT string_agg(role_key, ',') FROM user_roles WHERE user_id = ${uid} AND tenant_id = ${tid}`), 'trader');
  assert.equal(await psql(stack, `SELECT count(*) FROM consents WHERE user_id = ${uid} AND document = 'terms' AND granted`), '1');
  assert.equal(await psql(stack, `SELECT count(*) FROM audit_log WHERE action = 'account.register' AND object_id = '${uid}'`), '1');
  const after0 = await counts(stack);
  assert.equal(after0.users, before0.users + 1);
  assert.equal(after0.tenants, before0.tenants + 1);

  const { msg, token } = await verifyMail(email);
  // envelope and headers as libcurl sent them
  assert.equal(msg.from, 'no-reply@botcriptofy.dev');
  assert.deepEqual(msg.to, [email]);
  assert.match(msg.headers.from, /<no-reply@botcriptofy\.dev>/);
  assert.equal(msg.headers.to, email);
  assert.match(msg.headers['message-id'], /^<[0-9a-f]{32}@botcriptofy\.dev>$/);
  assert.match(msg.headers.date, /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
  assert.ok(Math.abs(Date.parse(msg.headers.date) - Date.now()) < 120_000, 'Date is now');
  assert.equal(msg.headers['mime-version'], '1.0');
  assert.match(msg.headers['content-type'], /^text\/plain; charset=utf-8$/i);
  assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(msg.raw), 'every line ends in CRLF');
  assert.match(msg.body, /Ana Registro/);
  assert.ok(msg.links.some((l) => l.startsWith(`${stack.baseUrl}/verify?token=`)), `link to the portal: ${msg.links}`);
  // only the hash is stored
  assert.equal(await psql(stack, `SELECT count(*) FROM account_tokens WHERE token_hash = ${q(token)}`), '0');
  assert.equal(await psql(stack, `SELECT purpose FROM account_tokens WHERE token_hash = '${sha256(token)}' AND user_id = ${uid}`), 'verify');
  assert.equal(await waitFor(() => psql(stack, `SELECT status FROM mail_outbox WHERE to_addr = ${q(email)} AND status = 'sent'`)), 'sent');

  // before verification the login is refused (403 email_unverified, lead's auth module)
  const a = await anonCsrf(stack);
  const early = await stack.fetch('/login', {
    method: 'POST',
    headers: { 'content-type': FORM, cookie: a.cookie },
    body: new URLSearchParams({ _csrf: a.token, email, password: PASSWORD }).toString(),
  });
  await early.text();
  assert.equal(early.status, 403);
  assert.equal(findCookie(early, SESSION_COOKIE), undefined);

  const v = await stack.fetch(`/verify?token=${token}`);
  const vHtml = await v.text();
  assert.equal(v.status, 200, vHtml.slice(0, 300));
  assert.match(vHtml, /confirmado/);
  assert.equal(await psql(stack, `SELECT email_verified_at IS NOT NULL FROM users WHERE id = ${uid}`), 't');
  assert.equal(await psql(stack, `SELECT count(*) FROM audit_log WHERE action = 'account.verify' AND object_id = '${uid}'`), '1');

  // single use: the second visit is refused and changes nothing
  const again = await stack.fetch(`/verify?token=${token}`);
  const againHtml = await again.text();
  assert.equal(again.status, 400);
  assert.match(againHtml, /inválido, já foi usado ou expirou/);
  const api = await stack.fetch(`/api/v1/verify?token=${token}`);
  assert.equal(api.status, 400);
  assert.equal((await api.json()).error.code, 'invalid_token');
  assert.equal(await psql(stack, `SELECT count(*) FROM audit_log WHERE action = 'account.verify' AND object_id = '${uid}'`), '1');

  const s = await login(stack, { email, password: PASSWORD });
  assert.ok(await sessionAlive(stack, s.cookie));
});

test('malformed verification links answer 400 and change nothing', async () => {
  for (const t of ['', 'abc', 'x'.repeat(43), `${'A'.repeat(42)}!`, 'A'.repeat(44)]) {
    const res = await stack.fetch(`/verify?token=${encodeURIComponent(t)}`);
    const html = await res.text();
    assert.equal(res.status, 400, `token ${JSON.stringify(t)}`);
    assert.match(html, /action="\/verify\/resend"/, 'the page offers a new link');
  }
  const res = await stack.fetch('/verify');
  await res.text();
  assert.equal(res.status, 400);
});

test('an expired verification link is refused; a resent link replaces the old one', async () => {
  const email = newEmail('exp');
  assert.equal((await register(stack, { email })).res.status, 200);
  const first = await verifyMail(email);
  await psql(stack, `UPDATE account_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = '${sha256(first.token)}'`);
  const res = await stack.fetch(`/verify?token=${first.token}`);
  await res.text();
  assert.equal(res.status, 400);
  assert.equal(await psql(stack, `SELECT email_verified_at IS NULL FROM users WHERE lower(email) = lower(${q(email)})`), 't');

  // a resend for an unknown address and for this one give the same page
  const unknown = await postForm(stack, '/verify/resend', { email: newEmail('nobody') });
  const known = await postForm(stack, '/verify/resend', { email });
  assert.equal(unknown.res.status, 200);
  assert.equal(known.res.status, 200);
  assert.equal(section(unknown.html), section(known.html));
  const bad = await postForm(stack, '/verify/resend', { email: 'not an address' });
  assert.equal(bad.res.status, 422);

  const second = await verifyMail(email);
  assert.notEqual(second.token, first.token);
  const ok = await stack.fetch(`/verify?token=${second.token}`);
  await ok.text();
  assert.equal(ok.status, 200);
  assert.equal(await psql(stack, `SELECT email_verified_at IS NOT NULL FROM users WHERE lower(email) = lower(${q(email)})`), 't');
  const uidExp = await psql(stack, `SELECT id FROM users WHERE lower(email) = lower(${q(email)})`);
  assert.equal(await psql(stack, `SELECT count(*) FROM audit_log WHERE action = 'account.verify_resend' AND object_id = '${uidExp}'`), '1');
  // a verified account gets no more verification mail
  await postForm(stack, '/verify/resend', { email });
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(await psql(stack, `SELECT count(*) FROM mail_outbox WHERE to_addr = ${q(email)}`), '2');
});

test('registering an address that exists gives the identical page, a warning mail and no second account', async () => {
  const email = await verifiedAccount('dup');
  const before0 = await counts(stack);
  const fresh = await register(stack, { email: newEmail('dup-fresh'), name: 'Outra Pessoa' });
  const dup = await register(stack, { email: email.toUpperCase(), name: 'Outra Pessoa', password: 'another long pass 77', password_confirm: 'another long pass 77' });
  assert.equal(dup.res.status, fresh.res.status);
  assert.equal(section(dup.html), section(fresh.html));
  const warn = await smtp.waitFor(email, (m) => /Tentativa de cadastro/.test(m.subject));
  assert.ok(!/token=/.test(warn.body), 'the warning carries no token');
  assert.match(warn.body, /\/password\/forgot/);
  assert.equal(await psql(stack, `SELECT count(*) FROM users WHERE lower(email) = lower(${q(email)})`), '1');
  const after0 = await counts(stack);
  assert.equal(after0.users, before0.users + 1, 'only the fresh registration made a user');
  assert.equal(after0.tenants, before0.tenants + 1);
  // the existing password still works, the attempted one does not
  await login(stack, { email, password: PASSWORD });
});

test('bad registrations answer 422 with the field marked and store nothing', async () => {
  const long81 = 'N'.repeat(81);
  const cases = [
    ['missing name', { name: '' }, 'name'],
    ['name too long', { name: long81 }, 'name'],
    ['name with control bytes', { name: 'Ana\u0007' }, 'name'],
    ['missing e-mail', { email: '' }, 'email'],
    ['invalid e-mail', { email: 'not-an-email' }, 'email'],
    ['two addresses', { email: 'a@example.test,b@example.test' }, 'email'],
    ['header injection', { email: 'victim@example.test\r\nBcc: evil@example.test' }, 'email'],
    ['missing password', { password: '', password_confirm: '' }, 'password'],
    ['short common password', { password: 'senha123', password_confirm: 'senha123' }, 'password'],
    ['common password', { password: '1234567890', password_confirm: '1234567890' }, 'password'],
    ['mismatched confirmation', { password_confirm: `${PASSWORD}!` }, 'password_confirm'],
    ['terms not accepted', { accept_terms: '' }, 'accept_terms'],
  ];
  const before0 = await counts(stack);
  for (const [name, fields, fieldName] of cases) {
    const email = fields.email ?? newEmail('bad');
    const r = await register(stack, { email, ...fields });
    assert.equal(r.res.status, 422, `${name}: ${r.html.slice(0, 200)}`);
    assert.match(r.html, new RegExp(`data-field="${fieldName}"`), `${name}: the ${fieldName} field is marked`);
    assert.match(r.html, /action="\/register"/, `${name}: the form comes back`);
  }
  // the policy's own words (Lang.password.*) reach the page
  const common = await register(stack, { email: newEmail('bad'), password: '1234567890', password_confirm: '1234567890' });
  assert.match(common.html, /comum demais/);
  const short = await register(stack, { email: newEmail('bad'), password: 'senha123', password_confirm: 'senha123' }, { lang: 'en' });
  assert.match(short.html, /too short/);
  // typed values come back escaped
  const xss = await register(stack, { email: newEmail('bad'), name: '<script>alert(1)</script>', accept_terms: '' });
  assert.equal(xss.res.status, 422);
  assert.ok(!xss.html.includes('<script>alert(1)</script>'));
  assert.match(xss.html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  // a missing CSRF token is refused before anything else
  const noCsrf = await stack.fetch('/register', {
    method: 'POST',
    headers: { 'content-type': FORM },
    body: new URLSearchParams({ name: 'X', email: newEmail('csrf'), password: PASSWORD, password_confirm: PASSWORD, accept_terms: '1' }).toString(),
  });
  await noCsrf.text();
  assert.equal(noCsrf.status, 403);
  await new Promise((r) => setTimeout(r, 600));
  assert.deepEqual(await counts(stack), before0);
  assert.equal(smtp.messagesTo('evil@example.test').length, 0);
});

test('password reset: same answer for any address, single-use link, every session ended', async () => {
  const email = await verifiedAccount('reset');
  const s1 = await login(stack, { email, password: PASSWORD });
  assert.ok(await sessionAlive(stack, s1.cookie));
  const uid = await psql(stack, `SELECT id FROM users WHERE lower(email) = lower(${q(email)})`);

  const form = await stack.fetch('/password/forgot');
  await form.text();
  assert.equal(form.status, 200);
  const tokensBefore = (await counts(stack)).tokens;
  const unknown = await postForm(stack, '/password/forgot', { email: newEmail('ghost') });
  const known = await postForm(stack, '/password/forgot', { email });
  assert.equal(unknown.res.status, 200);
  assert.equal(known.res.status, 200);
  assert.equal(section(unknown.html), section(known.html));
  // the link is made after the answer has left (so both answers take the same time)
  const audited = await waitFor(async () =>
    (await psql(stack, `SELECT count(*) FROM audit_log WHERE action = 'account.reset_request' AND object_id = '${uid}'`)) === '1');
  assert.ok(audited, 'the known address got its reset link, audited once');
  assert.equal((await counts(stack)).tokens, tokensBefore + 1, 'one token, for the known address only');
  const bad = await postForm(stack, '/password/forgot', { email: 'x\r\nBcc: evil@example.test' });
  assert.equal(bad.res.status, 422);

  const m = await smtp.waitFor(email, (x) => tokenOf(x.body, '/password/reset') !== null);
  const token = tokenOf(m.body, '/password/reset');
  const page = await stack.fetch(`/password/reset?token=${token}`);
  const pageHtml = await page.text();
  assert.equal(page.status, 200);
  assert.ok(pageHtml.includes(`name="token" value="${token}"`));

  // a rejected new password leaves the link usable
  const weak = await postForm(stack, '/password/reset', { token, password: '1234567890', password_confirm: '1234567890' });
  assert.equal(weak.res.status, 422);
  const mismatch = await postForm(stack, '/password/reset', { token, password: 'brand new secret 9', password_confirm: 'brand new secret 8' });
  assert.equal(mismatch.res.status, 422);
  assert.match(mismatch.html, /data-field="password_confirm"/);

  const NEW = 'brand new secret 9';
  const done = await postForm(stack, '/password/reset', { token, password: NEW, password_confirm: NEW });
  assert.equal(done.res.status, 303, done.html.slice(0, 300));
  assert.equal(done.res.headers.get('location'), '/login?reset=1');
  assert.equal(await psql(stack, `SELECT count(*) FROM audit_log WHERE action = 'account.password_reset' AND object_id = '${uid}'`), '1');
  assert.equal(await sessionAlive(stack, s1.cookie), false, 'the session from before the reset is over');

  // the link was single use: a second submit (double click) and a second visit are refused
  const twice = await postForm(stack, '/password/reset', { token, password: 'yet another secret 5', password_confirm: 'yet another secret 5' });
  assert.equal(twice.res.status, 400);
  const visit = await stack.fetch(`/password/reset?token=${token}`);
  await visit.text();
  assert.equal(visit.status, 400);

  await assert.rejects(login(stack, { email, password: PASSWORD }), /401/);
  await login(stack, { email, password: NEW });
  await smtp.waitFor(email, (x) => /Sua senha foi alterada/.test(x.subject));

  // an expired reset link is refused
  await postForm(stack, '/password/forgot', { email });
  const m2 = await smtp.waitFor(email, (x) => tokenOf(x.body, '/password/reset') !== null);
  const t2 = tokenOf(m2.body, '/password/reset');
  await psql(stack, `UPDATE account_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = '${sha256(t2)}'`);
  const expired = await postForm(stack, '/password/reset', { token: t2, password: 'expired link pass 1', password_confirm: 'expired link pass 1' });
  assert.equal(expired.res.status, 400);
  await login(stack, { email, password: NEW });
});

test('password change: wrong current password is 422, success ends other sessions and keeps this browser signed in', async () => {
  const email = await verifiedAccount('change');
  const other = await login(stack, { email, password: PASSWORD });
  const mine = await login(stack, { email, password: PASSWORD });
  const uid = await psql(stack, `SELECT id FROM users WHERE lower(email) = lower(${q(email)})`);
  const csrf = await sessionCsrf(stack, mine.cookie);

  const form = await stack.fetch('/account/password', { headers: { cookie: mine.cookie } });
  await form.text();
  assert.equal(form.status, 200);
  const overview = await stack.fetch('/account', { headers: { cookie: mine.cookie } });
  const ovHtml = await overview.text();
  assert.equal(overview.status, 200);
  for (const href of ['/account/password', '/account/2fa', '/account/sessions', '/account/tokens', '/credentials', '/privacy']) {
    assert.ok(ovHtml.includes(`href="${href}"`), `overview links ${href}`);
  }
  const hashBefore = await psql(stack, `SELECT password_hash FROM users WHERE id = ${uid}`);

  const change = (fields) => postForm(stack, '/account/password', fields, { cookie: mine.cookie, token: csrf });
  const wrong = await change({ current_password: 'not my password 1', password: 'a fresh password 1', password_confirm: 'a fresh password 1' });
  assert.equal(wrong.res.status, 422);
  assert.match(wrong.html, /data-field="current_password"/);
  assert.equal(await psql(stack, `SELECT count(*) FROM security_events WHERE kind = 'password_change_failed' AND user_id = ${uid}`), '1');
  const same = await change({ current_password: PASSWORD, password: PASSWORD, password_confirm: PASSWORD });
  assert.equal(same.res.status, 422);
  const weak = await change({ current_password: PASSWORD, password: '1234567890', password_confirm: '1234567890' });
  assert.equal(weak.res.status, 422);
  assert.equal(await psql(stack, `SELECT password_hash FROM users WHERE id = ${uid}`), hashBefore, 'nothing changed');
  assert.ok(await sessionAlive(stack, other.cookie));

  const NEW = 'a fresh password 1';
  const ok = await change({ current_password: PASSWORD, password: NEW, password_confirm: NEW });
  assert.equal(ok.res.status, 303, ok.html.slice(0, 300));
  assert.equal(ok.res.headers.get('location'), '/account?password_changed=1');
  const fresh = findCookie(ok.res, SESSION_COOKIE);
  assert.ok(fresh?.value, 'a new session cookie');
  assert.notEqual(`${SESSION_COOKIE}=${fresh.value}`, mine.cookie);
  const freshCookie = `${SESSION_COOKIE}=${fresh.value}`;
  assert.ok(await sessionAlive(stack, freshCookie), 'this browser stays signed in');
  assert.equal(await sessionAlive(stack, mine.cookie), false, 'the old id of this browser is over');
  assert.equal(await sessionAlive(stack, other.cookie), false, 'the other browser is signed out');
  assert.equal(await psql(stack, `SELECT count(*) FROM audit_log WHERE action = 'account.password_change' AND object_id = '${uid}'`), '1');
  const after0 = await stack.fetch('/account?password_changed=1', { headers: { cookie: freshCookie } });
  assert.match(await after0.text(), /senha foi alterada/);

  await assert.rejects(login(stack, { email, password: PASSWORD }), /401/);
  await login(stack, { email, password: NEW });

  // anonymous visitors are sent to the sign-in page
  const anon = await stack.fetch('/account/password');
  await anon.text();
  assert.equal(anon.status, 303);
});

test('pt-BR and English mail: non-ASCII subjects are RFC 2047 encoded and arrive decoded', async () => {
  const pt = newEmail('pt');
  await register(stack, { email: pt });
  const mPt = (await verifyMail(pt)).msg;
  assert.equal(mPt.subject, 'Confirmação de e-mail — BotCriptoFy');
  assert.match(mPt.rawHeaders, /^Subject: =\?UTF-8\?B\?/m);
  assert.match(mPt.body, /Para confirmar seu e-mail/);
  assert.match(mPt.headers['content-transfer-encoding'], /^base64$/i);

  const en = newEmail('en');
  await register(stack, { email: en, name: 'Zoë English' }, { lang: 'en' });
  const mEn = (await verifyMail(en)).msg;
  assert.equal(mEn.subject, 'Confirm your e-mail address — BotCriptoFy');
  assert.match(mEn.body, /Hello Zoë English/);
  assert.equal(await psql(stack, `SELECT lang FROM users WHERE lower(email) = lower(${q(en)})`), 'en');
});

test('with the SMTP server down the message stays queued, and goes out once it is back', async () => {
  const port = smtp.port;
  await smtp.stop();
  const email = newEmail('down');
  assert.equal((await register(stack, { email })).res.status, 200);
  const row = await waitFor(async () => {
    const r = await psql(stack, `SELECT id, status, attempts, last_error FROM mail_outbox WHERE to_addr = ${q(email)}`);
    const [, , attempts] = r.split('|');
    return Number(attempts) >= 1 ? r : null;
  }, { timeoutMs: 15_000 });
  assert.ok(row, 'the worker tried');
  const [id, status, , lastError] = row.split('|');
  assert.equal(status, 'queued');
  assert.match(lastError, /connect/i);
  assert.ok(!lastError.includes('token'), 'no body in the error');
  // first retry after 30 s (30 s × 2^(attempts-1), capped at 1 h)
  assert.equal(await psql(stack, `SELECT extract(epoch FROM next_try_at - now()) BETWEEN 15 AND 30.5 FROM mail_outbox WHERE id = ${id}`), 't',
    'it waits for the backoff');

  // a message on its last attempt (mail.max_attempts = 8) is given up
  const doomed = newEmail('doomed');
  assert.equal((await register(stack, { email: doomed })).res.status, 200);
  const doomedId = await waitFor(() => psql(stack, `SELECT id FROM mail_outbox WHERE to_addr = ${q(doomed)} AND attempts >= 1`));
  await psql(stack, `UPDATE mail_outbox SET attempts = 7, next_try_at = now() WHERE id = ${doomedId}`);
  assert.equal(await waitFor(() => psql(stack, `SELECT status FROM mail_outbox WHERE id = ${doomedId} AND status = 'failed'`)), 'failed');
  assert.equal(await psql(stack, `SELECT attempts FROM mail_outbox WHERE id = ${doomedId}`), '8');

  smtp = await startSmtp({ port });
  // the backoff is 30 s; bring the retry forward instead of sleeping through it
  await psql(stack, `UPDATE mail_outbox SET next_try_at = now() WHERE id = ${id}`);
  const { msg } = await verifyMail(email);
  assert.deepEqual(msg.to, [email]);
  assert.equal(await waitFor(() => psql(stack, `SELECT status || ',' || (sent_at IS NOT NULL) FROM mail_outbox WHERE id = ${id} AND status = 'sent'`)), 'sent,true');
  // the given-up message stays given up
  await psql(stack, `UPDATE mail_outbox SET next_try_at = now() WHERE id = ${doomedId}`);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(smtp.messagesTo(doomed).length, 0);
  assert.equal(await psql(stack, `SELECT status FROM mail_outbox WHERE id = ${doomedId}`), 'failed');
  const log = await stack.logs('worker');
  assert.ok(!log.includes(email), 'the worker log names the domain, not the address');
  assert.ok(!/token=/.test(log), 'the worker log never holds a link');
});

test('SMTP circuit breaker: a dead server costs one probe per cool-down, and mail flows once it listens', async () => {
  // a port nothing listens on: a server started and stopped at once
  const gone = await startSmtp();
  const port = gone.port;
  await gone.stop();
  const s = await startStack({
    config: { ...CONFIG, 'mail.smtp_url': `smtp://127.0.0.1:${port}`, 'http.client.smtp.breaker_failures': '2', 'http.client.smtp.breaker_cooldown_ms': '5000' },
  });
  let server;
  try {
    const tag = Date.now().toString(36);
    const N = 6;
    const mine = `to_addr LIKE 'breaker-${tag}-%'`;
    await psql(s, `INSERT INTO mail_outbox (to_addr, subject, body_text)
      SELECT 'breaker-${tag}-' || i || '@example.test', 'breaker ' || i, 'body ' || i FROM generate_series(1, ${N}) i`);
    const attempts = async () => Number(await psql(s, `SELECT sum(attempts) FROM mail_outbox WHERE ${mine}`));
    const transitions = async (state) => (await s.logs('worker')).split('\n').filter((l) => l.includes(`http client: smtp circuit breaker ${state}"`)).length;
    // a failed message waits 30 s for its retry: keep every one due, so only the breaker holds them back
    const due = () => psql(s, `UPDATE mail_outbox SET next_try_at = now() WHERE ${mine} AND status = 'queued'`);

    assert.ok(await waitFor(async () => { await due(); return (await transitions('open')) >= 1; }, { timeoutMs: 20_000 }), 'the breaker opened');
    // each pass stops at its first connect failure, so the threshold cost two attempts in all
    assert.equal(await attempts(), 2);
    // while open nothing is claimed though all are due; after the cool-down one message is the probe,
    // and its failure opens the breaker again for another cool-down
    assert.ok(await waitFor(async () => { await due(); return (await transitions('open')) >= 2; }, { timeoutMs: 20_000 }), 'the probe failed');
    assert.equal(await transitions('half_open'), 1);
    assert.equal(await attempts(), 3, 'one probe in a whole cool-down of due messages');
    assert.equal(await psql(s, `SELECT count(*) FROM mail_outbox WHERE ${mine} AND status = 'queued'`), String(N));

    server = await startSmtp({ port });
    const sent = await waitFor(async () => {
      await due();
      return Number(await psql(s, `SELECT count(*) FROM mail_outbox WHERE ${mine} AND status = 'sent'`)) === N;
    }, { timeoutMs: 30_000 });
    assert.ok(sent, 'all sent once the server listens');
    assert.equal(await transitions('closed'), 1);
    for (let i = 1; i <= N; i++) assert.equal(server.messagesTo(`breaker-${tag}-${i}@example.test`).length, 1, `message ${i} arrived once`);
  } finally {
    await s.stop();
    await server?.stop();
  }
});

test('two workers delivering at once send every message exactly once', async () => {
  // a second worker on the same database and SMTP server; both claim with FOR UPDATE SKIP LOCKED
  const second = spawn(path.join(REPO, 'worker', 'botcriptofy-worker'), ['-c', stack.config], {
    env: { ...process.env, BCF_WORKER_ID: 'accounts-test-second' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let secondLog = '';
  second.stderr.on('data', (d) => { secondLog += d; });
  try {
    const N = 300;
    const tag = Date.now().toString(36);
    await psql(stack, `INSERT INTO mail_outbox (to_addr, subject, body_text)
      SELECT 'race-${tag}-' || i || '@example.test', 'race ' || i, 'body ' || i FROM generate_series(1, ${N}) i`);
    const done = await waitFor(async () => Number(await psql(stack,
      `SELECT count(*) FROM mail_outbox WHERE to_addr LIKE 'race-${tag}-%' AND status = 'sent'`)) === N, { timeoutMs: 60_000 });
    assert.ok(done, 'all sent');
    for (let i = 1; i <= N; i++) {
      assert.equal(smtp.messagesTo(`race-${tag}-${i}@example.test`).length, 1, `message ${i} arrived once`);
    }
    assert.equal(await psql(stack, `SELECT count(*) FROM mail_outbox WHERE to_addr LIKE 'race-${tag}-%' AND attempts <> 1`), '0');
    // each outbox id was sent by one worker only
    const ids = [...`${await stack.logs('worker')}\n${secondLog}`.matchAll(/"msg":"mail (\d+) to @example\.test sent"/g)].map((m) => m[1]);
    const raceIds = new Set((await psql(stack, `SELECT id FROM mail_outbox WHERE to_addr LIKE 'race-${tag}-%'`)).split('\n'));
    const sentRace = ids.filter((id) => raceIds.has(id));
    assert.equal(sentRace.length, N);
    assert.equal(new Set(sentRace).size, N);
  } finally {
    second.kill('SIGTERM');
    await new Promise((r) => (second.exitCode !== null ? r() : second.once('exit', r)));
  }
});

test('development: /dev/mail lists the captured verification mail; in test it is 404', async () => {
  const notFound = await stack.fetch('/dev/mail');
  await notFound.text();
  assert.equal(notFound.status, 404);
  const dev = await startStack({ appEnv: 'development', config: CONFIG });
  try {
    const email = newEmail('dev');
    assert.equal((await register(dev, { email })).res.status, 200);
    const listed = await waitFor(async () => {
      const res = await dev.fetch('/api/v1/dev/mail');
      if (res.status !== 200) return null;
      const j = await res.json();
      return j.messages.find((m) => m.to === email);
    }, { timeoutMs: 15_000 });
    assert.ok(listed, 'the message is listed');
    assert.equal(listed.subject, 'Confirmação de e-mail — BotCriptoFy');
    assert.match(listed.name, /^\d+-\d+\.eml$/);
    const page = await dev.fetch('/dev/mail');
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.ok(html.includes(`href="/dev/mail/${listed.name}"`));
    const one = await dev.fetch(`/dev/mail/${listed.name}`);
    const oneHtml = await one.text();
    assert.equal(one.status, 200);
    const token = tokenOf(oneHtml, '/verify');
    assert.ok(token, 'the decoded body shows the link');
    const v = await dev.fetch(`/verify?token=${token}`);
    await v.text();
    assert.equal(v.status, 200);
    for (const bad of ['x.eml', '1-2.txt', '..%2f..%2fetc%2fpasswd', '1-2.eml.bak', '99999-99999.eml']) {
      const r = await dev.fetch(`/dev/mail/${bad}`);
      await r.text();
      assert.equal(r.status, 404, bad);
    }
  } finally {
    await dev.stop();
  }
});
