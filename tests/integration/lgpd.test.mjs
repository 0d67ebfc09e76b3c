// tests/integration/lgpd.test.mjs — LGPD on a real stack: the versioned terms and policy in both languages, consent
// records (address, time, audit), the "my data" export (every module, no secrets, no other tenant), and account deletion.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startStack } from './harness.mjs';
import { anonCsrf, apiPost, DEMO, enrolTotp, findCookie, login, makeTrader, psql, SESSION_COOKIE, sessionCsrf } from './lib.mjs';

const FORM = 'application/x-www-form-urlencoded';
const CEO = Object.freeze({ email: 'ceo@botcriptofy.dev', password: 'demo-company-2026' });
// every hook of lib/lgpd.c's table: one section each in the export
const SECTIONS = ['account', 'sessions', 'api_tokens', 'credentials', 'consents', 'notification_settings', 'telegram',
  'notifications', 'security_events', 'audit', 'mail', 'jobs', 'banco'];
// a vault envelope: "<key id>|<nonce b64>|<ciphertext b64>"
const ENVELOPE_RE = /\d+\|[A-Za-z0-9+/=_-]{16,}\|[A-Za-z0-9+/=_-]{16,}/;

let stack;
const sha256 = (s) => createHash('sha256').update(s).digest('hex');
const valueOf = (cookie) => cookie.slice(cookie.indexOf('=') + 1);


async function session(email, password = DEMO.password, userAgent) {
  if (!userAgent) {
    const s = await login(stack, { email, password });
    return { cookie: s.cookie, csrf: await sessionCsrf(stack, s.cookie) };
  }
  const a = await anonCsrf(stack);
  const res = await stack.fetch('/login', {
    method: 'POST',
    headers: { 'content-type': FORM, cookie: a.cookie, 'user-agent': userAgent },
    body: new URLSearchParams({ _csrf: a.token, email, password }).toString(),
  });
  await res.text();
  assert.equal(res.status, 303, `login of ${email}`);
  const cookie = `${SESSION_COOKIE}=${findCookie(res, SESSION_COOKIE).value}`;
  return { cookie, csrf: await sessionCsrf(stack, cookie) };
}

function postForm(p, s, fields, headers = {}) {
  return stack.fetch(p, {
    method: 'POST',
    headers: { 'content-type': FORM, cookie: s.cookie, ...headers },
    body: new URLSearchParams({ _csrf: s.csrf, ...fields }).toString(),
  });
}

async function getJson(p, cookie) {
  const res = await stack.fetch(p, { headers: { cookie } });
  const text = await res.text();
  assert.equal(res.status, 200, `${p}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

const count = async (sql) => Number(await psql(stack, sql));

before(async () => {
  stack = await startStack();
});

after(async () => {
  await stack?.stop();
});

test('/terms shows version 1 of the terms and of the privacy policy in pt-BR and English; unknown ones are 404', async () => {
  const cases = [
    ['/terms', 'pt-BR', 'Termos de Uso', 'Versão 1'],
    ['/terms', 'en', 'Terms of Use', 'Version 1'],
    ['/terms?document=privacy', 'pt-BR', 'Política de Privacidade', 'Versão 1'],
    ['/terms?document=privacy', 'en', 'Privacy Policy', 'Version 1'],
    ['/terms?document=privacy&version=1', 'en', 'Privacy Policy', 'Version 1'],
  ];
  for (const [p, lang, title, version] of cases) {
    const res = await stack.fetch(p, { headers: { cookie: `lang=${lang}` } });
    const html = await res.text();
    assert.equal(res.status, 200, `${p} ${lang}`);
    assert.ok(html.includes(`<h1>${title}</h1>`), `${p} ${lang}: title ${title}`);
    assert.ok(html.includes(version), `${p} ${lang}: ${version}`);
    assert.ok(html.includes('dpo@botcriptofy.dev'), `${p} ${lang}: the DPO's contact`);
  }
  // the languages are really different texts, not one text under two titles
  const pt = await (await stack.fetch('/terms?document=privacy', { headers: { cookie: 'lang=pt-BR' } })).text();
  const en = await (await stack.fetch('/terms?document=privacy', { headers: { cookie: 'lang=en' } })).text();
  assert.match(pt, /Controlador/);
  assert.doesNotMatch(pt, /Controller\./);
  assert.match(en, /Controller\./);
  assert.match(en, /portability/);

  // the JSON twin: the same data, paragraph by paragraph
  const j = await getJson('/api/v1/terms?document=privacy&lang=en', '');
  assert.equal(j.document, 'privacy');
  assert.equal(j.version, 1);
  assert.equal(j.current_version, 1);
  assert.equal(j.is_current, true);
  assert.equal(j.title, 'Privacy Policy');
  assert.ok(j.paragraphs.length >= 6, `paragraphs: ${j.paragraphs.length}`);
  assert.ok(j.paragraphs.some((p) => /retention|kept/i.test(p)), 'retention is explained');
  assert.ok(j.paragraphs.some((p) => /deletion/.test(p) && /withdraw/.test(p)), 'the rights are listed');
  assert.deepEqual(j.versions.map((v) => v.version), [1]);

  for (const p of ['/terms?document=cookies', '/terms?version=2', '/terms?version=0', '/terms?version=abc',
    '/terms?document=privacy&version=99', '/api/v1/terms?document=x']) {
    const res = await stack.fetch(p);
    await res.text();
    assert.equal(res.status, 404, p);
  }
});

test('consents are recorded with address, browser and time and audited; bad requests are 422 and change nothing', async () => {
  const uid = await count(`SELECT id FROM users WHERE email = '${DEMO.email}'`);
  const s = await session(DEMO.email);
  const state = await getJson('/api/v1/privacy', s.cookie);
  assert.equal(state.terms.up_to_date, true, 'the demo account accepted the terms in force');
  assert.equal(state.terms.accepted_version, 1);
  assert.equal(state.privacy.up_to_date, true);
  assert.equal(state.marketing.granted, false);

  const consentsOf = `SELECT count(*) FROM consents WHERE user_id = ${uid}`;
  const auditsOf = `SELECT count(*) FROM audit_log WHERE actor_user_id = ${uid} AND action = 'privacy.consent'`;
  const c0 = await count(consentsOf);
  const a0 = await count(auditsOf);

  // the browser form: marketing granted
  const res = await postForm('/privacy/consent', s, { document: 'marketing', granted: '1' }, { 'user-agent': 'lgpd-test/1.0' });
  await res.text();
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/privacy');
  const row = (await psql(stack, `SELECT document || ',' || version || ',' || granted || ',' || ip || ',' || user_agent
    || ',' || (at > now() - interval '1 minute') FROM consents WHERE user_id = ${uid} ORDER BY id DESC LIMIT 1`)).split(',');
  assert.deepEqual(row, ['marketing', '0', 'true', '127.0.0.1', 'lgpd-test/1.0', 'true']);
  const audit = JSON.parse(await psql(stack, `SELECT json_build_object('after', after, 'ip', ip, 'object_type', object_type)
    FROM audit_log WHERE actor_user_id = ${uid} AND action = 'privacy.consent' ORDER BY id DESC LIMIT 1`));
  assert.deepEqual(audit.after, { document: 'marketing', version: 0, granted: true });
  assert.equal(audit.object_type, 'consent');
  assert.equal(audit.ip, '127.0.0.1');
  assert.equal((await getJson('/api/v1/privacy', s.cookie)).marketing.granted, true);

  // the API: withdrawn again
  const off = await apiPost(stack, s.cookie, s.csrf, '/api/v1/privacy/consent', { document: 'marketing', granted: 0 });
  assert.equal(off.res.status, 200, off.text);
  assert.deepEqual(off.json, { document: 'marketing', version: 0, granted: false });
  assert.equal((await getJson('/api/v1/privacy', s.cookie)).marketing.granted, false);
  assert.equal(await count(consentsOf), c0 + 2);
  assert.equal(await count(auditsOf), a0 + 2);

  // refused: withdrawing the terms (that is deleting the account), an old or future version, unknown documents
  const bad = [
    [{ document: 'terms', granted: 0 }, 'consent_required'],
    [{ document: 'privacy', granted: '0' }, 'consent_required'],
    [{ document: 'terms', granted: 1, version: 2 }, 'not_current_version'],
    [{ document: 'privacy', granted: 1, version: 'x' }, 'not_current_version'],
    [{ document: 'cookies', granted: 1 }, 'bad_consent'],
    [{ document: 'Marketing', granted: 1 }, 'bad_consent'],
    [{ document: 'marketing', granted: 'yes' }, 'bad_consent'],
    [{ document: 'marketing' }, 'bad_consent'],
    [{}, 'bad_consent'],
  ];
  for (const [body, code] of bad) {
    const r = await apiPost(stack, s.cookie, s.csrf, '/api/v1/privacy/consent', body);
    assert.equal(r.res.status, 422, `${JSON.stringify(body)}: ${r.text}`);
    assert.equal(r.json?.error?.code, code, JSON.stringify(body));
  }
  // without the CSRF token nothing is recorded either
  const noCsrf = await stack.fetch('/privacy/consent', {
    method: 'POST', headers: { 'content-type': FORM, cookie: s.cookie },
    body: new URLSearchParams({ document: 'marketing', granted: '1' }).toString(),
  });
  await noCsrf.text();
  assert.equal(noCsrf.status, 403);
  assert.equal(await count(consentsOf), c0 + 2, 'refused requests recorded nothing');
  assert.equal(await count(auditsOf), a0 + 2, 'refused requests audited nothing');

  // accepting the version in force again is a new record
  const again = await apiPost(stack, s.cookie, s.csrf, '/api/v1/privacy/consent', { document: 'terms', granted: 1, version: 1 });
  assert.equal(again.res.status, 200, again.text);
  assert.deepEqual(again.json, { document: 'terms', version: 1, granted: true });
  assert.equal(await count(consentsOf), c0 + 3);

  // the page shows the state and the history
  const page = await stack.fetch('/privacy', { headers: { cookie: `${s.cookie}; lang=en` } });
  const html = await page.text();
  assert.equal(page.status, 200);
  assert.match(html, /Consent history/);
  // newest first: the withdrawal, then the grant, of marketing messages
  assert.match(html, /UTC<\/td><td>Marketing messages<\/td><td><\/td>\s*<td>withdrawn<\/td>/);
  assert.match(html, /UTC<\/td><td>Marketing messages<\/td><td><\/td>\s*<td>granted<\/td>/);
  assert.match(html, /href="\/privacy\/export.json"/);
  assert.match(html, /href="\/privacy\/delete"/);
  // anonymous visitors are sent to sign in
  const anon = await stack.fetch('/privacy');
  await anon.text();
  assert.equal(anon.status, 303);
  assert.match(anon.headers.get('location') ?? '', /^\/login\b/);
});

// Shared by the export and deletion tests: trader X with data in every module, trader Y of another tenant.
const X = {};
const Y = {};

// Notification settings, a linked Telegram chat with what the bot sent and received, and Banco
// requests with destinations (sql/0019, 0024-0026), written directly: the UI paths are long. The
// outbox rows are sent or not yet due, so no worker picks them up meanwhile.
async function chatAndMoney(u, tag) {
  u.chat = 7_700_000_000 + u.id;
  u.updates = [u.id * 10 + 880_000_000_001, u.id * 10 + 880_000_000_002];
  await psql(stack, `INSERT INTO notification_preferences (tenant_id, user_id, category, channel, enabled)
      VALUES (${u.tenantId}, ${u.id}, 'trading', 'email', true), (${u.tenantId}, ${u.id}, 'p2p', 'telegram', false);
    INSERT INTO notification_quiet_hours (tenant_id, user_id, start_min, end_min, time_zone)
      VALUES (${u.tenantId}, ${u.id}, 1320, 420, 'America/Manaus');
    INSERT INTO notification_deliveries (notification_id, tenant_id, user_id, channel, dedupe_key, status, attempts, sent_at)
      SELECT id, tenant_id, user_id, 'telegram', 'lgpd-${u.id}-' || id, 'sent', 2, '2026-03-02T10:00:00Z'
      FROM notifications WHERE user_id = ${u.id} AND title = 'note-for-${tag}${tag === 'Y' ? '-only' : ''}';
    INSERT INTO telegram_links (tenant_id, user_id, chat_id, linked_at)
      VALUES (${u.tenantId}, ${u.id}, ${u.chat}, '2026-03-01T12:00:00Z');
    INSERT INTO telegram_link_codes (code_hash, tenant_id, user_id, expires_at, used_at)
      VALUES ('${sha256(`code-of-${tag}-${u.id}`)}', ${u.tenantId}, ${u.id}, now() + interval '15 minutes', now());
    INSERT INTO telegram_outbox (chat_id, method, params, dedupe_key, status, sent_at, next_attempt_at) VALUES
      (${u.chat}, 'sendMessage', '{"chat_id": ${u.chat}, "text": "Saldo de ${tag}: R$ 1.234,56"}', 'lgpd-${u.id}-1',
       'sent', '2026-03-02T10:00:01Z', now()),
      (${u.chat}, 'sendMessage', '{"chat_id": ${u.chat}, "text": "Backtest de ${tag} na fila"}', 'lgpd-${u.id}-2',
       'pending', NULL, now() + interval '1 day');
    INSERT INTO telegram_updates (update_id, chat_id, kind, outcome)
      VALUES (${u.updates[0]}, ${u.chat}, 'message', 'handled'), (${u.updates[1]}, ${u.chat}, 'callback_query', 'handled');
    WITH b AS (INSERT INTO backtests (tenant_id, user_id, name, exchange, symbols, timeframe, from_ms, to_ms,
        initial_balance, config) VALUES (${u.tenantId}, ${u.id}, 'bt-of-${tag}', 'binance', '{BTC/USDT}', '1h', 0, 3600000,
        1000, '{}') RETURNING id, tenant_id)
      INSERT INTO telegram_backtests (backtest_id, tenant_id, chat_id) SELECT id, tenant_id, ${u.chat} FROM b;
    INSERT INTO banco_requests (tenant_id, user_id, kind, currency, amount, reference, destination, status, decided_at) VALUES
      (${u.tenantId}, ${u.id}, 'withdrawal', 'BRL', 123456, 'SAQ-LGPD${u.id}A', 'pix paid-to-${tag}@example.com', 'approved',
       '2026-03-03T09:00:00Z'),
      (${u.tenantId}, ${u.id}, 'withdrawal', 'BRL', 500, 'SAQ-LGPD${u.id}B', 'pix canceled-of-${tag}@example.com', 'canceled',
       '2026-03-03T09:30:00Z'),
      (${u.tenantId}, ${u.id}, 'withdrawal', 'USDT', 7000000, 'SAQ-LGPD${u.id}C', 'TRC20-wallet-of-${tag}', 'pending', NULL),
      (${u.tenantId}, ${u.id}, 'deposit', 'BRL', 100000, 'DEP-LGPD${u.id}D', '', 'confirmed', '2026-03-01T08:00:00Z')`);
  u.backtestId = Number(await psql(stack, `SELECT id FROM backtests WHERE user_id = ${u.id} AND name = 'bt-of-${tag}'`));
}

test('the export holds a section from every module, no secret, and nothing of another tenant', async () => {
  Object.assign(X, await makeTrader(stack, 'lgpd-x'));
  Object.assign(Y, await makeTrader(stack, 'lgpd-y'));
  // Y: a session with a telling browser name, a notification and a token
  Y.s = await session(Y.email, DEMO.password, 'Browser-of-Y/9.9');
  await psql(stack, `INSERT INTO notifications (tenant_id, user_id, kind, severity, title, body)
    VALUES (${Y.tenantId}, ${Y.id}, 'test.note', 'info', 'note-for-Y-only', 'body-for-Y-only')`);
  const yTok = await apiPost(stack, Y.s.cookie, Y.s.csrf, '/api/v1/account/tokens', { name: 'token-of-Y', scope: 'read' });
  assert.equal(yTok.res.status, 201, yTok.text);

  // X: a failed sign-in (security event), two sessions, 2FA, a token, a notification, an exchange key, a consent
  const a = await anonCsrf(stack);
  const failed = await stack.fetch('/login', {
    method: 'POST', headers: { 'content-type': FORM, cookie: a.cookie },
    body: new URLSearchParams({ _csrf: a.token, email: X.email, password: 'not-the-password' }).toString(),
  });
  await failed.text();
  assert.equal(failed.status, 401);
  const first = await login(stack, { email: X.email, password: DEMO.password });
  const enrolled = await enrolTotp(stack, first.cookie);
  X.totpSecret = enrolled.secret;
  X.s = { cookie: enrolled.cookie, csrf: await sessionCsrf(stack, enrolled.cookie) };
  // a second browser signs in after enrolment (turning 2FA on ends the other sessions): two steps,
  // the second with a recovery code
  const ua = { 'user-agent': 'Second-browser-of-X' };
  const a2 = await anonCsrf(stack);
  const step1 = await stack.fetch('/login', {
    method: 'POST', headers: { 'content-type': FORM, cookie: a2.cookie, ...ua },
    body: new URLSearchParams({ _csrf: a2.token, email: X.email, password: DEMO.password }).toString(),
  });
  const mfaToken = /name="mfa_token" value="([^"]+)"/.exec(await step1.text())[1];
  const step2 = await stack.fetch('/login/2fa', {
    method: 'POST', headers: { 'content-type': FORM, cookie: a2.cookie, ...ua },
    body: new URLSearchParams({ _csrf: a2.token, mfa_token: mfaToken, code: enrolled.recoveryCodes[9] }).toString(),
  });
  await step2.text();
  assert.equal(step2.status, 303, 'second browser signed in');
  const otherCookie = `${SESSION_COOKIE}=${findCookie(step2, SESSION_COOKIE).value}`;
  X.other = { cookie: otherCookie, csrf: await sessionCsrf(stack, otherCookie) };
  const tok = await apiPost(stack, X.s.cookie, X.s.csrf, '/api/v1/account/tokens', { name: 'token-of-X', scope: 'read' });
  assert.equal(tok.res.status, 201, tok.text);
  X.token = tok.json.token;
  await psql(stack, `INSERT INTO notifications (tenant_id, user_id, kind, severity, title, body)
    VALUES (${X.tenantId}, ${X.id}, 'test.note', 'info', 'note-for-X', 'body-for-X')`);
  X.envelope = `1|${'A'.repeat(32)}|${'B'.repeat(48)}`;
  await psql(stack, `INSERT INTO credentials (tenant_id, user_id, exchange, label, api_key, api_secret, key_mask)
    VALUES (${X.tenantId}, ${X.id}, 'binance', 'main-key-of-X', '${X.envelope}', '${X.envelope}', 'abcd…wxyz')`);
  // a job X started that is still waiting (run_after far ahead, so no worker takes it)
  X.jobId = Number(await psql(stack, `INSERT INTO jobs (tenant_id, user_id, type, params, run_after)
    VALUES (${X.tenantId}, ${X.id}, 'noop', '{"of":"X"}', now() + interval '1 day') RETURNING id`));
  await chatAndMoney(X, 'X');
  await chatAndMoney(Y, 'Y');
  const mk = await apiPost(stack, X.s.cookie, X.s.csrf, '/api/v1/privacy/consent', { document: 'marketing', granted: 1 });
  assert.equal(mk.res.status, 200, mk.text);

  const res = await stack.fetch('/privacy/export.json', { headers: { cookie: X.s.cookie } });
  const text = await res.text();
  assert.equal(res.status, 200, text.slice(0, 300));
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const day = new Date().toISOString().slice(0, 10);
  assert.equal(res.headers.get('content-disposition'), `attachment; filename="botcriptofy-my-data-${day}.json"`);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const doc = JSON.parse(text);
  assert.equal(doc.format, 'botcriptofy-export/1');
  assert.equal(doc.user_id, X.id);
  assert.match(doc.generated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  for (const key of SECTIONS) assert.ok(key in doc, `section ${key}`);

  assert.equal(doc.account.email, X.email);
  assert.equal(doc.account.name, 'Trader lgpd-x');
  assert.equal(doc.account.two_factor_enabled, true);
  assert.deepEqual(doc.account.roles, ['trader']);
  assert.equal(doc.account.tenant.id, X.tenantId);
  assert.ok(doc.sessions.length >= 2, 'both sessions');
  assert.ok(doc.sessions.some((s) => s.user_agent === 'Second-browser-of-X' && s.ip === '127.0.0.1'));
  assert.deepEqual(doc.api_tokens.map((t) => t.name), ['token-of-X']);
  assert.equal(doc.api_tokens[0].prefix, /^bcf_([0-9a-f]{12})_/.exec(X.token)[1]);
  assert.deepEqual(doc.api_tokens[0].scopes, ['read']);
  assert.deepEqual(doc.credentials.map((c) => [c.exchange, c.label, c.key_mask]), [['binance', 'main-key-of-X', 'abcd…wxyz']]);
  assert.ok(doc.consents.some((c) => c.document === 'terms' && c.version === 1 && c.granted === true));
  assert.ok(doc.consents.some((c) => c.document === 'marketing' && c.granted === true && c.ip === '127.0.0.1'));
  assert.deepEqual(doc.notifications.map((n) => n.title).filter((t) => t.startsWith('note-')), ['note-for-X']);
  assert.deepEqual(doc.jobs.map((j) => [j.id, j.type, j.status, j.params]), [[X.jobId, 'noop', 'queued', { of: 'X' }]]);
  assert.ok(doc.security_events.some((e) => e.kind === 'login_failed'), 'the failed sign-in');
  const actions = doc.audit.map((r) => r.action);
  for (const act of ['auth.login', 'account.token_create', 'privacy.consent']) assert.ok(actions.includes(act), act);
  assert.ok(Array.isArray(doc.mail));
  const ns = doc.notification_settings;
  assert.deepEqual(ns.preferences.map((p) => [p.category, p.channel, p.enabled]),
    [['p2p', 'telegram', false], ['trading', 'email', true]]);
  assert.deepEqual([ns.quiet_hours.start, ns.quiet_hours.end, ns.quiet_hours.time_zone], ['22:00', '07:00', 'America/Manaus']);
  // (the sign-ins and the token sent real e-mail deliveries too)
  assert.ok(ns.deliveries.some((d) => d.channel === 'email' && d.status === 'sent'), 'an e-mail delivery');
  assert.deepEqual(ns.deliveries.filter((d) => d.notification_title === 'note-for-X')
    .map((d) => [d.channel, d.status, d.attempts, d.sent_at]), [['telegram', 'sent', 2, '2026-03-02T10:00:00Z']]);
  assert.deepEqual(doc.telegram.link, { chat_id: X.chat, linked_at: '2026-03-01T12:00:00Z' });
  assert.deepEqual(doc.telegram.messages.map((m) => [m.method, m.text, m.status, m.sent_at]), [
    ['sendMessage', 'Saldo de X: R$ 1.234,56', 'sent', '2026-03-02T10:00:01Z'],
    ['sendMessage', 'Backtest de X na fila', 'pending', null]]);
  assert.deepEqual(doc.telegram.updates.map((u) => [u.update_id, u.kind]), [[X.updates[0], 'message'],
    [X.updates[1], 'callback_query']]);
  assert.deepEqual(doc.telegram.backtests.map((b) => b.backtest_id), [X.backtestId]);
  assert.equal(doc.telegram.link_codes.length, 1);
  assert.ok(doc.telegram.link_codes[0].used_at, 'the code was used');
  assert.ok(!text.includes(sha256(`code-of-X-${X.id}`)), 'no link code hash');
  assert.deepEqual(doc.banco.map((r) => [r.kind, r.currency, r.amount, r.reference, r.destination, r.status, r.decided_at]), [
    ['withdrawal', 'BRL', 123456, `SAQ-LGPD${X.id}A`, 'pix paid-to-X@example.com', 'approved', '2026-03-03T09:00:00Z'],
    ['withdrawal', 'BRL', 500, `SAQ-LGPD${X.id}B`, 'pix canceled-of-X@example.com', 'canceled', '2026-03-03T09:30:00Z'],
    ['withdrawal', 'USDT', 7000000, `SAQ-LGPD${X.id}C`, 'TRC20-wallet-of-X', 'pending', null],
    ['deposit', 'BRL', 100000, `DEP-LGPD${X.id}D`, '', 'confirmed', '2026-03-01T08:00:00Z']]);
  assert.ok(doc.banco.every((r) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(r.created_at)), 'created_at in UTC');

  // no secret in any form: password hash, 2FA seed (sealed or plain), token secret or hash, session ids, envelopes
  const hashes = (await psql(stack, `SELECT password_hash || ' ' || coalesce(totp_secret, '') FROM users WHERE id = ${X.id}`)).split(' ');
  const tokenHash = await psql(stack, `SELECT token_hash FROM api_tokens WHERE user_id = ${X.id}`);
  const sessionHashes = (await psql(stack, `SELECT string_agg(id_hash, ' ') FROM sessions WHERE user_id = ${X.id}`)).split(' ');
  assert.ok(!/argon2id/i.test(text), 'no password hash');
  assert.ok(!ENVELOPE_RE.test(text), 'no vault envelope');
  assert.ok(hashes[1].length > 0, '2FA seed stored');
  for (const secret of [...hashes, X.totpSecret, X.token, X.token.slice(-43), tokenHash, ...sessionHashes,
    valueOf(X.s.cookie), valueOf(X.other.cookie), sha256(valueOf(X.s.cookie))]) {
    assert.ok(secret.length >= 16, 'a real secret to look for');
    assert.ok(!text.includes(secret), `secret ${secret.slice(0, 6)}… absent`);
  }
  for (const key of ['password_hash', 'totp_secret', 'token_hash', 'id_hash', 'api_secret', 'api_key']) {
    assert.ok(!text.includes(`"${key}"`), `no ${key} field`);
  }
  // nothing of the other tenant
  for (const other of [Y.email, 'note-for-Y-only', 'body-for-Y-only', 'Browser-of-Y/9.9', 'token-of-Y', 'Trader lgpd-y',
    'Saldo de Y', 'paid-to-Y', 'wallet-of-Y', String(Y.chat)]) {
    assert.ok(!text.includes(other), `${other} absent`);
  }

  // the export is audited, and it is a browser-session action only
  assert.equal(await count(`SELECT count(*) FROM audit_log WHERE actor_user_id = ${X.id} AND action = 'privacy.export'
    AND object_id = '${X.id}'`), 1);
  const anon = await stack.fetch('/privacy/export.json');
  await anon.text();
  assert.equal(anon.status, 303, 'anonymous: sent to sign in');
  const viaToken = await stack.fetch('/privacy/export.json', { headers: { authorization: `Bearer ${X.token}` } });
  const vt = await viaToken.text();
  assert.notEqual(viaToken.status, 200, 'a Bearer token does not reach the export');
  assert.ok(!vt.includes(X.email));
});

test('deleting the account: a wrong password or word changes nothing; success anonymises, keeps the audit trail', async () => {
  assert.ok(X.id, 'the export test set trader X up');
  const aboutX = `SELECT count(*) FROM audit_log WHERE actor_user_id = ${X.id} OR (object_type = 'user' AND object_id = '${X.id}')`;
  const snapshot = () => psql(stack, `SELECT json_build_object(
      'user', (SELECT row_to_json(u) FROM users u WHERE id = ${X.id}),
      'sessions', (SELECT count(*) FROM sessions WHERE user_id = ${X.id} AND revoked_at IS NULL),
      'tokens', (SELECT count(*) FROM api_tokens WHERE user_id = ${X.id}),
      'notifications', (SELECT count(*) FROM notifications WHERE user_id = ${X.id}),
      'credentials', (SELECT count(*) FROM credentials WHERE user_id = ${X.id}),
      'recovery', (SELECT count(*) FROM recovery_codes WHERE user_id = ${X.id}),
      'roles', (SELECT count(*) FROM user_roles WHERE user_id = ${X.id}),
      'consents', (SELECT count(*) FROM consents WHERE user_id = ${X.id}),
      'tenant', (SELECT name FROM tenants WHERE id = ${X.tenantId}),
      'chat', (SELECT count(*) FROM telegram_outbox WHERE chat_id = ${X.chat}),
      'destinations', (SELECT json_agg(destination ORDER BY id) FROM banco_requests WHERE user_id = ${X.id}),
      'audit', (${aboutX}))::text`);
  const before = await snapshot();
  const b = JSON.parse(before);
  assert.ok(b.sessions >= 2 && b.tokens === 1 && b.notifications >= 1 && b.credentials === 1 && b.recovery > 0, before);

  // the confirmation page, in either language
  const page = await stack.fetch('/privacy/delete', { headers: { cookie: X.s.cookie } });
  const html = await page.text();
  assert.equal(page.status, 200);
  assert.match(html, /<strong>EXCLUIR<\/strong>/);
  assert.match(html, /name="password"/);
  assert.equal((await getJson('/api/v1/privacy/delete?lang=en', X.s.cookie)).confirm_word, 'DELETE');

  const refused = [
    [{ password: 'wrong-password', confirm: 'EXCLUIR' }, 422, /Senha incorreta/],
    [{ password: '', confirm: 'EXCLUIR' }, 422, /Senha incorreta/],
    [{ password: DEMO.password, confirm: 'excluir' }, 422, /palavra de confirmação/],
    [{ password: DEMO.password, confirm: '' }, 422, /palavra de confirmação/],
    [{ password: DEMO.password }, 422, /palavra de confirmação/],
  ];
  for (const [fields, status, msg] of refused) {
    const r = await postForm('/privacy/delete', X.s, fields);
    const body = await r.text();
    assert.equal(r.status, status, `${JSON.stringify(fields)}: ${body.slice(0, 200)}`);
    assert.match(body, msg);
    assert.equal(findCookie(r, SESSION_COOKIE), undefined, 'the session stays');
  }
  const noCsrf = await stack.fetch('/privacy/delete', {
    method: 'POST', headers: { 'content-type': FORM, cookie: X.s.cookie },
    body: new URLSearchParams({ password: DEMO.password, confirm: 'EXCLUIR' }).toString(),
  });
  await noCsrf.text();
  assert.equal(noCsrf.status, 403);
  assert.equal(await snapshot(), before, 'refused deletions changed nothing');

  // success: the English word is accepted on the Portuguese page too
  const res = await postForm('/privacy/delete', X.s, { password: DEMO.password, confirm: 'DELETE' });
  await res.text();
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/login?deleted=1');
  const gone = findCookie(res, SESSION_COOKIE);
  assert.ok(gone && gone.value === '' && gone.attrs['max-age'] === '0', 'the session cookie is expired');

  const a = JSON.parse(await snapshot());
  assert.equal(a.user.email, `deleted-${X.id}@deleted.invalid`);
  assert.equal(a.user.display_name, '');
  assert.equal(a.user.status, 'deleted');
  assert.ok(a.user.deleted_at, 'deleted_at set');
  assert.equal(a.user.totp_secret, null);
  assert.equal(a.user.totp_enabled_at, null);
  assert.notEqual(a.user.password_hash, b.user.password_hash, 'a new, unknown password hash');
  assert.match(a.user.password_hash, /^\$argon2id\$/);
  assert.equal(a.user.created_at, b.user.created_at);
  assert.deepEqual([a.sessions, a.tokens, a.notifications, a.credentials, a.recovery, a.roles], [0, 0, 0, 0, 0, 0]);
  assert.equal(await count(`SELECT count(*) FROM sessions WHERE user_id = ${X.id}`), 0, 'session rows removed');
  assert.equal(a.consents, b.consents, 'consent records are kept as proof');
  assert.equal(await psql(stack, `SELECT status || ',' || (user_id IS NULL) FROM jobs WHERE id = ${X.jobId}`), 'cancelled,true',
    'the job stays with the tenant, unlinked from the person, and what was waiting is cancelled');
  assert.equal(a.tenant, `deleted-${X.tenantId}`);
  assert.equal(await count(`SELECT count(*) FROM security_events WHERE user_id = ${X.id}`) > 0, true, 'events kept');
  assert.equal(await count(`SELECT count(*) FROM security_events WHERE user_id = ${X.id} AND (ip <> '' OR details <> '{}')`), 0,
    'events without address or details');
  assert.equal(await count(`SELECT count(*) FROM users WHERE lower(email) = lower('${X.email}')`), 0, 'the e-mail is gone');

  // notification settings and the Telegram chat: nothing points at the user or the chat any more,
  // but the updates stay (update_id is the dedupe key) without their chat
  assert.equal(b.chat, 2, before);
  assert.deepEqual(JSON.parse(await psql(stack, `SELECT json_build_object(
      'preferences', (SELECT count(*) FROM notification_preferences WHERE user_id = ${X.id}),
      'quiet', (SELECT count(*) FROM notification_quiet_hours WHERE user_id = ${X.id}),
      'deliveries', (SELECT count(*) FROM notification_deliveries WHERE user_id = ${X.id}),
      'link', (SELECT count(*) FROM telegram_links WHERE user_id = ${X.id} OR chat_id = ${X.chat}),
      'codes', (SELECT count(*) FROM telegram_link_codes WHERE user_id = ${X.id}),
      'outbox', (SELECT count(*) FROM telegram_outbox WHERE chat_id = ${X.chat} OR params::text LIKE '%Saldo de X%'),
      'updates_of_chat', (SELECT count(*) FROM telegram_updates WHERE chat_id = ${X.chat}),
      'updates_kept', (SELECT count(*) FROM telegram_updates WHERE update_id IN (${X.updates}) AND chat_id IS NULL),
      'backtests', (SELECT count(*) FROM telegram_backtests WHERE chat_id = ${X.chat} OR backtest_id = ${X.backtestId}))::text`)),
  { preferences: 0, quiet: 0, deliveries: 0, link: 0, codes: 0, outbox: 0, updates_of_chat: 0, updates_kept: 2, backtests: 0 });
  // Banco requests stay as money records; the paid-out and the still pending withdrawals keep their destination
  assert.deepEqual(JSON.parse(await psql(stack, `SELECT json_agg(json_build_array(reference, destination, status) ORDER BY id)
    FROM banco_requests WHERE user_id = ${X.id}`)), [
    [`SAQ-LGPD${X.id}A`, 'pix paid-to-X@example.com', 'approved'],
    [`SAQ-LGPD${X.id}B`, '', 'canceled'],
    [`SAQ-LGPD${X.id}C`, 'TRC20-wallet-of-X', 'pending'],
    [`DEP-LGPD${X.id}D`, '', 'confirmed']]);

  // the audit trail: every earlier row kept, plus exactly one deletion record
  assert.equal(a.audit, b.audit + 1);
  const del = JSON.parse(await psql(stack, `SELECT json_build_object('before', before, 'after', after, 'actor', actor_user_id)
    FROM audit_log WHERE action = 'account.delete' AND object_id = '${X.id}'`));
  assert.deepEqual(del, { before: { email_domain: 'example.com' }, after: { status: 'deleted' }, actor: X.id });

  // no way back in: both old sessions, the password, the API token
  for (const cookie of [X.s.cookie, X.other.cookie]) {
    const r = await stack.fetch('/dashboard', { headers: { cookie } });
    await r.text();
    assert.equal(r.status, 303);
    assert.match(r.headers.get('location') ?? '', /^\/login\b/);
  }
  const l = await anonCsrf(stack);
  const relogin = await stack.fetch('/login', {
    method: 'POST', headers: { 'content-type': FORM, cookie: l.cookie },
    body: new URLSearchParams({ _csrf: l.token, email: X.email, password: DEMO.password }).toString(),
  });
  await relogin.text();
  assert.equal(relogin.status, 401);
  assert.equal(findCookie(relogin, SESSION_COOKIE), undefined);
  const api = await stack.fetch('/api/v1/dashboard', { headers: { authorization: `Bearer ${X.token}` } });
  await api.text();
  assert.equal(api.status, 401);

  // Y, in another tenant, lost nothing
  // (its own note, and the notice of the token it made)
  assert.equal(await count(`SELECT count(*) FROM notifications WHERE user_id = ${Y.id}`), 2);
  assert.equal(await count(`SELECT count(*) FROM api_tokens WHERE user_id = ${Y.id}`), 1);
  assert.equal(await psql(stack, `SELECT status FROM users WHERE id = ${Y.id}`), 'active');
  assert.deepEqual(JSON.parse(await psql(stack, `SELECT json_build_array(
      (SELECT count(*) FROM telegram_links WHERE user_id = ${Y.id} AND chat_id = ${Y.chat}),
      (SELECT count(*) FROM telegram_outbox WHERE chat_id = ${Y.chat}),
      (SELECT count(*) FROM telegram_updates WHERE chat_id = ${Y.chat}),
      (SELECT count(*) FROM telegram_backtests WHERE chat_id = ${Y.chat}),
      (SELECT count(*) FROM notification_preferences WHERE user_id = ${Y.id}),
      (SELECT count(*) FROM banco_requests WHERE user_id = ${Y.id} AND destination <> ''))::text`)), [1, 2, 2, 1, 2, 3],
  "Y's chat, settings and destinations untouched");

  const { stdout } = await stack.botctl('audit', 'verify');
  assert.match(stdout, /^audit chain intact: \d+ rows/, stdout);
});

test('the last active CEO cannot delete their account (409); with a second CEO they can', async () => {
  const ceoId = await count(`SELECT id FROM users WHERE email = '${CEO.email}'`);
  const companyId = await count(`SELECT tenant_id FROM users WHERE id = ${ceoId}`);
  assert.equal(await count(`SELECT count(*) FROM user_roles ur JOIN users u ON u.id = ur.user_id
    WHERE ur.role_key = 'ceo' AND u.status = 'active'`), 1, 'one CEO in the demo data');
  const l = await login(stack, CEO);
  const en = await enrolTotp(stack, l.cookie);
  const s = { cookie: en.cookie, csrf: await sessionCsrf(stack, en.cookie) };
  const before = await psql(stack, `SELECT row_to_json(u)::text FROM users u WHERE id = ${ceoId}`);
  const audits = await count(`SELECT count(*) FROM audit_log`);

  const res = await postForm('/privacy/delete', s, { password: CEO.password, confirm: 'EXCLUIR' }, { cookie: `${s.cookie}; lang=en` });
  const body = await res.text();
  assert.equal(res.status, 409, body.slice(0, 300));
  assert.match(body, /last active CEO/);
  assert.equal(await psql(stack, `SELECT row_to_json(u)::text FROM users u WHERE id = ${ceoId}`), before, 'nothing changed');
  assert.equal(await count(`SELECT count(*) FROM user_roles WHERE user_id = ${ceoId} AND role_key = 'ceo'`), 1);
  assert.equal(await count(`SELECT count(*) FROM audit_log`), audits, 'no audit row for a refused deletion');
  const still = await stack.fetch('/privacy', { headers: { cookie: s.cookie } });
  await still.text();
  assert.equal(still.status, 200, 'the session still works');

  // a second active CEO: now the first may leave
  await psql(stack, `WITH u AS (INSERT INTO users (tenant_id, email, display_name, password_hash, role, email_verified_at)
      SELECT ${companyId}, 'ceo2-${process.pid}@example.com', 'Second CEO', password_hash, 'ceo', now() FROM users WHERE id = ${ceoId}
      RETURNING id, tenant_id)
    INSERT INTO user_roles (tenant_id, user_id, role_key) SELECT tenant_id, id, 'ceo' FROM u`);
  const ok = await postForm('/privacy/delete', s, { password: CEO.password, confirm: 'EXCLUIR' });
  await ok.text();
  assert.equal(ok.status, 303);
  assert.equal(await psql(stack, `SELECT status FROM users WHERE id = ${ceoId}`), 'deleted');
  assert.equal(await count(`SELECT count(*) FROM user_roles ur JOIN users u ON u.id = ur.user_id
    WHERE ur.role_key = 'ceo' AND u.status = 'active'`), 1, 'the second CEO remains');
  assert.equal(await psql(stack, `SELECT name FROM tenants WHERE id = ${companyId}`) !== `deleted-${companyId}`, true,
    'the company keeps its name');
});

test('a new version of the terms sends signed-in users to /privacy until they accept it; the API keeps working', async () => {
  const t = await makeTrader(stack, 'terms-v2');
  const s = await session(t.email);
  const before = await stack.fetch('/dashboard', { headers: { cookie: s.cookie } });
  await before.text();
  assert.equal(before.status, 200, 'up to date: the dashboard opens');

  await psql(stack, `INSERT INTO legal_documents (document, version, title_pt, title_en, body_pt, body_en)
    SELECT document, 2, title_pt, title_en, body_pt || ' (v2)', body_en || ' (v2)' FROM legal_documents
    WHERE document = 'terms' AND version = 1`, { user: 'botcriptofy_owner' });
  try {
    // the versions in force are cached for cache.ttl.lgpd; publishing drops them, as docs/security.md says
    await stack.botctl('cache-invalidate', 'lgpd:documents');
    const page = await stack.fetch('/dashboard', { headers: { cookie: s.cookie } });
    await page.text();
    assert.equal(page.status, 303);
    assert.equal(page.headers.get('location'), '/privacy?accept=1');
    const api = await stack.fetch('/api/v1/dashboard', { headers: { cookie: s.cookie } });
    await api.text();
    assert.equal(api.status, 200, 'the JSON API is not redirected');
    const privacy = await stack.fetch('/privacy?accept=1', { headers: { cookie: s.cookie } });
    await privacy.text();
    assert.equal(privacy.status, 200, '/privacy itself stays reachable');

    const res = await postForm('/privacy/consent', s, { document: 'terms', granted: '1' });
    await res.text();
    assert.equal(res.status, 303);
    assert.equal(await psql(stack, `SELECT version FROM consents WHERE user_id = ${t.id} AND document = 'terms'
      ORDER BY id DESC LIMIT 1`), '2');
    const after = await stack.fetch('/dashboard', { headers: { cookie: s.cookie } });
    await after.text();
    assert.equal(after.status, 200, 'accepted: the dashboard opens again at once');
  } finally {
    await psql(stack, "DELETE FROM legal_documents WHERE document = 'terms' AND version = 2", { user: 'botcriptofy_owner' });
    await stack.botctl('cache-invalidate', 'lgpd:documents');
  }
});
