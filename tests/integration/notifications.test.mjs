// notifications.test.mjs — the notifications center through the real stack: notify_send against the
// database (tests/unit/test_notify_db), the bell, the list with its filter, mark read / mark all,
// preferences and quiet hours with their JSON twins, and one user never reaching another's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { REPO, run, startStack } from './harness.mjs';
import { apiGet, apiPost, login, makeTrader, psql, sessionCsrf } from './lib.mjs';

let stack;
let A; let B; // two traders of different tenants, signed in: { id, tenantId, cookie, csrf }

before(async () => {
  stack = await startStack();
  const sign = async (label) => {
    const u = await makeTrader(stack, label);
    const { cookie } = await login(stack, { email: u.email });
    return { ...u, cookie, csrf: await sessionCsrf(stack, cookie) };
  };
  A = await sign('notif-a');
  B = await sign('notif-b');
});
after(async () => { await stack?.stop(); });

const owner = (sql) => psql(stack, sql, { user: 'botcriptofy_owner' });
const note = async (u, category, title, extra = '') => Number(await owner(`INSERT INTO notifications
  (tenant_id, user_id, kind, severity, title, body, category${extra ? ', in_app' : ''})
  VALUES (${u.tenantId}, ${u.id}, 'test.${category}', 'info', '${title}', 'body of ${title}', '${category}'${extra ? `, ${extra}` : ''}) RETURNING id`));
const unreadOf = async (u) => Number(await psql(stack, `SELECT count(*) FROM notifications WHERE user_id = ${u.id} AND read_at IS NULL`));
const badge = async (u) => {
  const html = await (await stack.fetch('/dashboard', { headers: { cookie: u.cookie } })).text();
  const m = /class="badge" data-unread="([^"]+)"/.exec(html);
  return m ? m[1] : null;
};

test('notify_send writes notifications and outbox deliveries per preferences, quiet hours and dedupe, in the caller\'s transaction', async () => {
  const bin = path.join(REPO, 'tests', 'unit', 'test_notify_db');
  assert.ok(existsSync(bin), 'tests/unit/test_notify_db is built by make check');
  // as the application's role, so the grants of 0024_notifications.sql are exercised too
  const dsn = `host=${path.join(stack.varDir, 'run')} port=${stack.env.BCF_PG_PORT} dbname=botcriptofy user=botcriptofy`;
  const { stdout } = await run(bin, [], { env: { ...process.env, BCF_TEST_DSN: dsn, BCF_SRCDIR: REPO, CK_FORK: 'no' } });
  assert.match(stdout, /100%: Checks: 7, Failures: 0, Errors: 0/);
});

test('the bell counts unread in-app notifications on every signed-in page', async () => {
  assert.equal(await badge(A), null);
  await note(A, 'financeiro', 'first');
  await note(A, 'seguranca', 'second');
  await note(A, 'financeiro', 'hidden', 'false'); // in-app turned off: outbox only, never counted
  assert.equal(await badge(A), '2');
  assert.equal(await badge(B), null);
  const html = await (await stack.fetch('/notificacoes/preferencias', { headers: { cookie: A.cookie } })).text();
  assert.match(html, /href="\/notificacoes"[^>]*>.*class="badge" data-unread="2"/);
});

test('the list: newest first, filtered by category, escaped, with its JSON twin; mark one and mark all', async () => {
  const third = await note(A, 'financeiro', 'third <b>bold</b>');
  const all = await apiGet(stack, A.cookie, '/api/v1/notificacoes');
  assert.equal(all.res.status, 200, all.text);
  assert.deepEqual(all.json.notifications.map((n) => n.title), ['third <b>bold</b>', 'second', 'first']);
  assert.equal(all.json.unread, 3);
  assert.equal(all.json.notifications[0].read, false);
  const fin = await apiGet(stack, A.cookie, '/api/v1/notificacoes?category=financeiro');
  assert.deepEqual(fin.json.notifications.map((n) => n.title), ['third <b>bold</b>', 'first']);
  const page = await (await stack.fetch('/notificacoes?category=seguranca', { headers: { cookie: A.cookie } })).text();
  assert.match(page, /second/);
  assert.doesNotMatch(page, /first/);
  const escaped = await (await stack.fetch('/notificacoes', { headers: { cookie: A.cookie } })).text();
  assert.match(escaped, /third &lt;b&gt;bold&lt;\/b&gt;/);

  const one = await apiPost(stack, A.cookie, A.csrf, `/api/v1/notificacoes/${third}/read`);
  assert.equal(one.res.status, 200, one.text);
  assert.deepEqual(one.json, { read: 1 });
  assert.equal(await unreadOf(A), 3); // 2 shown + the hidden one, which the routes never touch
  // mark all within one category, then everything; the browser form redirects back
  const sec = await apiPost(stack, A.cookie, A.csrf, '/api/v1/notificacoes/read-all', { category: 'seguranca' });
  assert.deepEqual(sec.json, { read: 1 });
  const form = await stack.fetch('/notificacoes/read-all', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: A.cookie },
    body: new URLSearchParams({ _csrf: A.csrf, category: '' }).toString(),
  });
  assert.equal(form.status, 303);
  assert.equal(form.headers.get('location'), '/notificacoes');
  assert.equal(await badge(A), null);
  assert.equal(await psql(stack, `SELECT count(*) FROM notifications WHERE user_id = ${A.id} AND read_at IS NULL AND in_app`), '0');
});

test('another user\'s notifications are never listed or markable', async () => {
  const theirs = await note(B, 'sistema', 'only for B');
  const mine = await apiGet(stack, A.cookie, '/api/v1/notificacoes');
  assert.ok(!mine.json.notifications.some((n) => n.id === theirs));
  const r = await apiPost(stack, A.cookie, A.csrf, `/api/v1/notificacoes/${theirs}/read`);
  assert.equal(r.res.status, 404);
  assert.equal((await apiPost(stack, A.cookie, A.csrf, '/api/v1/notificacoes/read-all', { category: 'all' })).res.status, 200);
  assert.equal(await psql(stack, `SELECT read_at IS NULL FROM notifications WHERE id = ${theirs}`), 't');
  const html = await stack.fetch(`/notificacoes/${theirs}/read`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: A.cookie },
    body: new URLSearchParams({ _csrf: A.csrf }).toString(),
  });
  assert.equal(html.status, 404);
  assert.equal(await badge(B), '1');
});

test('bad input and missing CSRF change nothing', async () => {
  const id = await note(A, 'p2p', 'csrf target');
  const noCsrf = await stack.fetch(`/notificacoes/${id}/read`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: A.cookie },
    body: '',
  });
  assert.equal(noCsrf.status, 403);
  assert.equal(await psql(stack, `SELECT read_at IS NULL FROM notifications WHERE id = ${id}`), 't');
  assert.equal((await apiGet(stack, A.cookie, '/api/v1/notificacoes?category=bogus')).res.status, 422);
  assert.equal((await apiPost(stack, A.cookie, A.csrf, '/api/v1/notificacoes/read-all', { category: 'segurança' })).res.status, 422);
  assert.equal((await apiPost(stack, A.cookie, A.csrf, '/api/v1/notificacoes/read-all', {})).res.status, 422);
  assert.equal(await psql(stack, `SELECT read_at IS NULL FROM notifications WHERE id = ${id}`), 't');
  assert.equal((await apiPost(stack, A.cookie, A.csrf, '/api/v1/notificacoes/abc/read')).res.status, 404);
  const anon = await stack.fetch('/api/v1/notificacoes');
  assert.equal(anon.status, 401);
});

const prefsRows = (u) => psql(stack, `SELECT coalesce(string_agg(category || '.' || channel || '=' || enabled, ',' ORDER BY category, channel), '')
  || '|' || coalesce((SELECT start_min || '-' || end_min || '@' || time_zone FROM notification_quiet_hours WHERE user_id = ${u.id}), '')
  FROM notification_preferences WHERE user_id = ${u.id}`);

test('preferences: documented defaults, JSON changes, the browser matrix, quiet hours, refusals', async () => {
  const d = await apiGet(stack, A.cookie, '/api/v1/notificacoes/preferencias');
  assert.equal(d.res.status, 200, d.text);
  const by = Object.fromEntries(d.json.preferences.map((p) => [p.category, p]));
  assert.deepEqual(Object.keys(by), ['financeiro', 'seguranca', 'trading', 'assinaturas', 'p2p', 'affiliate', 'sac', 'sistema']);
  assert.deepEqual(by.financeiro, { category: 'financeiro', in_app: true, telegram: true, email: true });
  assert.deepEqual(by.trading, { category: 'trading', in_app: true, telegram: true, email: false });
  assert.equal(d.json.quiet_hours.enabled, false);
  assert.equal(d.json.telegram_linked, false);

  const ok = await apiPost(stack, A.cookie, A.csrf, '/api/v1/notificacoes/preferencias', {
    'pref.trading.email': true, 'pref.sistema.in_app': false,
    quiet_enabled: true, quiet_start: '22:00', quiet_end: '07:00', time_zone: 'America/Sao_Paulo',
  });
  assert.equal(ok.res.status, 200, ok.text);
  const after1 = Object.fromEntries(ok.json.preferences.map((p) => [p.category, p]));
  assert.equal(after1.trading.email, true);
  assert.equal(after1.sistema.in_app, false);
  assert.equal(after1.financeiro.email, true); // untouched by a JSON change
  assert.deepEqual(ok.json.quiet_hours, { enabled: true, start: '22:00', end: '07:00', time_zone: 'America/Sao_Paulo' });
  const saved = await prefsRows(A);
  assert.equal(saved, 'sistema.in_app=false,trading.email=true|1320-420@America/Sao_Paulo');
  assert.equal(await psql(stack, `SELECT count(*) FROM audit_log WHERE action = 'notifications.preferences_update' AND actor_user_id = ${A.id}`), '1');

  for (const bad of [
    { 'pref.bogus.email': true },
    { 'pref.trading.fax': true },
    { 'pref.trading.email': 'maybe' },
    { quiet_enabled: true, quiet_start: '25:00', quiet_end: '07:00', time_zone: 'UTC' },
    { quiet_enabled: true, quiet_start: '07:00', quiet_end: '07:00', time_zone: 'UTC' },
    { quiet_enabled: true, quiet_start: '22:00', quiet_end: '07:00', time_zone: 'Mars/Olympus' },
    { quiet_enabled: 'sometimes' },
    {},
    { 'pref.trading.email': false, quiet_enabled: true, quiet_start: '1:00', quiet_end: '07:00', time_zone: 'UTC' },
  ]) {
    const r = await apiPost(stack, A.cookie, A.csrf, '/api/v1/notificacoes/preferencias', bad);
    assert.equal(r.res.status, 422, `${JSON.stringify(bad)}: ${r.text}`);
    assert.equal(await prefsRows(A), saved, JSON.stringify(bad));
  }
  const noCsrf = await stack.fetch('/notificacoes/preferencias', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: A.cookie },
    body: new URLSearchParams({ form: 'matrix' }).toString(),
  });
  assert.equal(noCsrf.status, 403);
  assert.equal(await prefsRows(A), saved);

  // the browser sends the whole matrix: an unticked box is off, no quiet_enabled turns quiet hours off
  const page = await (await stack.fetch('/notificacoes/preferencias', { headers: { cookie: A.cookie } })).text();
  assert.match(page, /name="pref\.trading\.email" value="1" checked/);
  const form = await stack.fetch('/notificacoes/preferencias', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: A.cookie },
    body: new URLSearchParams({ _csrf: A.csrf, form: 'matrix', 'pref.financeiro.in_app': '1', 'pref.seguranca.email': 'on' }).toString(),
  });
  assert.equal(form.status, 303);
  const matrix = await apiGet(stack, A.cookie, '/api/v1/notificacoes/preferencias');
  const on = matrix.json.preferences.flatMap((p) => ['in_app', 'telegram', 'email'].filter((c) => p[c]).map((c) => `${p.category}.${c}`));
  assert.deepEqual(on, ['financeiro.in_app', 'seguranca.email']);
  assert.equal(matrix.json.quiet_hours.enabled, false);
  // B's preferences were never touched
  assert.equal(await prefsRows(B), '|');
});
