// tests/integration/security_events.test.mjs — Segurança end to end: failed logins and denials stored as
// events, the per-account anomaly rule raising one alert and notification per window, the dashboard and ack.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';
import {
  anonCsrf, apiPost, DEMO, enrolTotp, login, metricValue, psql, scrape, sessionCsrf, sleep,
} from './lib.mjs';

const CEO = Object.freeze({ email: 'ceo@botcriptofy.dev', password: 'demo-company-2026' });
const FORM = 'application/x-www-form-urlencoded';

let stack;
let demoId;
let ceoId;
let ceo; // { cookie, csrf } once enrolled in 2FA

before(async () => {
  stack = await startStack({
    config: {
      'security.anomaly.account_failures_per_min': '3',
      'security.anomaly.denials_per_min': '5',
      // the login's own lockout and delays would answer before the password is checked
      'security.login.delay_after': '1000',
      'security.login.account_max_failures': '1000',
      'security.login.ip_max_failures': '1000',
      // Segurança and Financeiro alerts also go to the staff's Telegram chat (docs/telegram.md)
      'telegram.staff_chat_id': '-1001234567',
    },
  });
  demoId = Number(await psql(stack, `SELECT id FROM users WHERE email = '${DEMO.email}'`));
  ceoId = Number(await psql(stack, `SELECT id FROM users WHERE email = '${CEO.email}'`));
});

after(async () => {
  await stack?.stop();
});

/** The anomaly windows are calendar minutes: start a series well inside one. */
async function insideOneMinute() {
  const s = new Date().getUTCSeconds();
  if (s >= 45) await sleep((61 - s) * 1000);
}

async function failLogin(email, n) {
  const a = await anonCsrf(stack);
  for (let i = 0; i < n; i++) {
    const res = await stack.fetch('/login', {
      method: 'POST',
      headers: { 'content-type': FORM, cookie: a.cookie },
      body: new URLSearchParams({ _csrf: a.token, email, password: `wrong-${i}` }).toString(),
    });
    const body = await res.text();
    assert.equal(res.status, 401, body.slice(0, 200));
  }
}

const count = async (sql) => Number(await psql(stack, sql));

/** Active company users holding security.read: the audience of Segurança alerts. */
const holdersSql = `SELECT count(DISTINCT u.id) FROM users u JOIN tenants t ON t.id = u.tenant_id AND t.kind = 'company'
  JOIN user_roles ur ON ur.user_id = u.id JOIN role_permissions rp ON rp.role_key = ur.role_key
  AND rp.permission_key = 'security.read' WHERE u.status = 'active'`;

async function ceoSession() {
  if (ceo) return ceo;
  const first = await login(stack, CEO);
  const { cookie } = await enrolTotp(stack, first.cookie);
  ceo = { cookie, csrf: await sessionCsrf(stack, cookie) };
  return ceo;
}

async function getJson(p, cookie) {
  const res = await stack.fetch(p, { headers: { cookie } });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* HTML */ }
  return { res, json, text };
}

test('failed logins are events; past 3 per minute one account raises exactly one alert and one notification per holder', async () => {
  const holders = await count(holdersSql);
  assert.ok(holders >= 1, 'the CEO holds security.read');
  const m0 = (await scrape(stack)).samples;
  await insideOneMinute();
  await failLogin(DEMO.email, 3);
  assert.equal(await count(`SELECT count(*) FROM security_events WHERE kind = 'login_failed' AND user_id = ${demoId}`), 3);
  assert.equal(await count("SELECT count(*) FROM security_alerts"), 0, 'at the threshold: no alert yet');
  await failLogin(DEMO.email, 3); // 4th passes the threshold; 5th and 6th are in the same window
  assert.equal(await count(`SELECT count(*) FROM security_events WHERE kind = 'login_failed' AND user_id = ${demoId}`), 6);
  const rows = await psql(stack, "SELECT rule, subject, observed, threshold FROM security_alerts");
  assert.equal(rows, `account_failures|user:${demoId}|4|3`);
  assert.equal(await count("SELECT count(*) FROM notifications WHERE kind = 'security.anomaly'"), holders);
  const mine = await psql(stack, `SELECT severity, title, body FROM notifications WHERE kind = 'security.anomaly' AND user_id = ${ceoId}`);
  assert.equal(mine.split('\n').length, 1, 'one notification for the CEO');
  // in the reader's language (the CEO reads pt-BR; the English text is checked with the denials below)
  assert.match(mine, /^warning\|Alerta de segurança: account_failures\|4 logins com falha de uma conta \(user:\d+\) em um minuto; o limite é 3\. Alerta #\d+\.$/);
  // one message to the staff chat for the alert (not one per holder), in its outbox for the worker
  assert.equal(await count('SELECT count(*) FROM telegram_outbox WHERE chat_id = -1001234567'), 1, 'one staff-chat message');
  const staff = await psql(stack, `SELECT method || '|' || (params->>'parse_mode') || '|' || replace(params->>'text', E'\\n', ' / ')
    FROM telegram_outbox WHERE chat_id = -1001234567`);
  assert.match(staff, /^sendMessage\|HTML\|🚨 Alerta de segurança: account_failures \/ 4 logins com falha de uma conta \(user:\d+\)/);
  const m1 = (await scrape(stack)).samples;
  assert.equal(metricValue(m1, 'security_alerts_total', { rule: 'account_failures' })
    - metricValue(m0, 'security_alerts_total', { rule: 'account_failures' }), 1);
  assert.equal(metricValue(m1, 'security_events_total', { kind: 'login_failed' })
    - metricValue(m0, 'security_events_total', { kind: 'login_failed' }), 6);
});

test('an unknown e-mail is tracked by its hash: one alert for it, and the hash is all that is stored', async () => {
  const before = await count("SELECT count(*) FROM security_alerts");
  await insideOneMinute();
  await failLogin('ghost@botcriptofy.dev', 5);
  const rows = (await psql(stack, `SELECT subject, observed FROM security_alerts WHERE id > 0 ORDER BY id OFFSET ${before}`)).split('\n');
  assert.equal(rows.length, 1, rows.join(';'));
  const m = /^email:([0-9a-f]{64})\|4$/.exec(rows[0]);
  assert.ok(m, rows[0]);
  assert.equal(await count(`SELECT count(*) FROM security_events WHERE kind = 'login_failed' AND user_id IS NULL
    AND details->>'email_hash' = '${m[1]}'`), 5);
  assert.equal(await count("SELECT count(*) FROM security_events WHERE details::text LIKE '%ghost@%'"), 0,
    'the address itself is not stored');
});

test('a trader asking for /seguranca gets 403 and a permission_denied event is stored', async () => {
  const { cookie } = await login(stack);
  const before = await count(`SELECT count(*) FROM security_events WHERE kind = 'permission_denied' AND user_id = ${demoId}`);
  const page = await stack.fetch('/seguranca', { headers: { cookie } });
  await page.arrayBuffer();
  assert.equal(page.status, 403);
  const api = await getJson('/api/v1/seguranca', cookie);
  assert.equal(api.res.status, 403);
  assert.equal(api.json.error.code, 'forbidden');
  const csrf = await sessionCsrf(stack, cookie);
  const id = await psql(stack, 'SELECT min(id) FROM security_alerts');
  const ack = await apiPost(stack, cookie, csrf, `/api/v1/seguranca/alerts/${id}/ack`);
  assert.equal(ack.res.status, 403);
  assert.equal(await count(`SELECT count(*) FROM security_alerts WHERE id = ${id} AND acknowledged_at IS NULL`), 1);
  assert.equal(await count(`SELECT count(*) FROM security_events WHERE kind = 'permission_denied' AND user_id = ${demoId}`),
    before + 3);
  assert.equal(await count(`SELECT count(*) FROM security_events WHERE kind = 'permission_denied' AND user_id = ${demoId}
    AND details->>'route' IN ('/seguranca', '/api/v1/seguranca') AND details->>'permission' = 'security.read'`), 2);
  assert.equal(await count(`SELECT count(*) FROM security_events WHERE kind = 'permission_denied' AND user_id = ${demoId}
    AND details->>'permission' = 'security.manage'`), 1);
});

test('the CEO sees the open alerts first, counts of the last 24 h, and the events newest first', async () => {
  const { cookie } = await ceoSession();
  const alertId = await psql(stack, `SELECT id FROM security_alerts WHERE subject = 'user:${demoId}'`);
  const page = await stack.fetch('/seguranca', { headers: { cookie } });
  const html = await page.text();
  assert.equal(page.status, 200, html.slice(0, 300));
  assert.ok(html.includes(`data-alert="${alertId}"`), 'the alert is listed');
  assert.ok(html.includes('Muitas falhas de login de uma conta'), 'the rule is translated (pt-BR)');
  assert.ok(html.includes('Falha de login'), 'event kinds are translated');
  assert.ok(html.indexOf('data-alert=') < html.indexOf('data-event='), 'alerts come before events');
  assert.match(html, /name="_csrf" value="[^"]+"/);

  const { res, json } = await getJson('/api/v1/seguranca', cookie);
  assert.equal(res.status, 200);
  assert.deepEqual(json.alerts.map((a) => a.rule).sort(), ['account_failures', 'account_failures']);
  assert.equal(json.can_manage, true);
  const ids = json.events.map((e) => e.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest first');
  const failed = json.counts.find((c) => c.kind === 'login_failed');
  assert.equal(failed.count, await count("SELECT count(*) FROM security_events WHERE kind = 'login_failed'"));
  const ev = json.events.find((e) => e.kind === 'login_failed' && e.user_id === demoId);
  assert.ok(ev, 'a failed login of the trader');
  assert.equal(ev.user_email, DEMO.email);
  assert.equal(typeof ev.details.email_hash, 'string');

  const en = await stack.fetch('/seguranca?lang=en', { headers: { cookie } });
  const enHtml = await en.text();
  assert.equal(en.status, 200);
  assert.match(enHtml, /<html lang="en">/);
  assert.ok(enHtml.includes('Many failed logins of one account'), 'the rule is translated (en)');
  assert.ok(enHtml.includes('Failed login'));
});

test('filters: kind, user, ip and dates narrow the list; malformed filters answer 422', async () => {
  const { cookie } = await ceoSession();
  const get = (q) => getJson(`/api/v1/seguranca?${q}`, cookie);

  const byKind = await get('kind=permission_denied');
  assert.equal(byKind.res.status, 200);
  assert.ok(byKind.json.events.length >= 3);
  assert.ok(byKind.json.events.every((e) => e.kind === 'permission_denied'));
  assert.equal(byKind.json.filter.kind, 'permission_denied');
  const kindPage = await (await stack.fetch('/seguranca?kind=permission_denied', { headers: { cookie } })).text();
  assert.ok(kindPage.includes('<option value="permission_denied" selected>'), 'the form keeps the chosen kind');
  assert.ok(!/data-kind="(?!permission_denied)/.test(kindPage), 'only that kind is listed');

  const byUser = await get(`user=${demoId}`);
  assert.ok(byUser.json.events.length >= 9);
  assert.ok(byUser.json.events.every((e) => e.user_id === demoId || e.actor_id === demoId));
  const none = await get('user=999999999');
  assert.equal(none.json.events.length, 0);

  const byIp = await get('ip=127.0.0.1&kind=login_failed');
  assert.ok(byIp.json.events.length >= 11);
  assert.ok(byIp.json.events.every((e) => e.ip === '127.0.0.1' && e.kind === 'login_failed'));

  const today = new Date().toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  assert.ok((await get(`from=${yesterday}&to=${tomorrow}`)).json.events.length > 0);
  assert.ok((await get(`from=${today}&to=${today}`)).json.events.length > 0);
  assert.equal((await get(`from=${tomorrow}`)).json.events.length, 0);
  assert.equal((await get(`to=${yesterday}`)).json.events.length, 0);

  const eventsBefore = await count('SELECT count(*) FROM security_events');
  for (const q of ['from=2026-13-01', 'from=2026-02-30', 'to=yesterday', 'from=26-01-01', `from=${tomorrow}&to=${yesterday}`,
    'kind=DROP%20TABLE', 'kind=login_failed%27', 'user=abc', 'user=-1', 'ip=1.2.3.4%3Cscript%3E', 'before=x']) {
    const r = await get(q);
    assert.equal(r.res.status, 422, `${q}: ${r.text.slice(0, 200)}`);
    assert.equal(r.json.error.code, 'bad_filter', q);
  }
  const html = await stack.fetch('/seguranca?from=2026-02-30', { headers: { cookie } });
  const body = await html.text();
  assert.equal(html.status, 422);
  assert.match(body, /Filtro inválido/);
  assert.equal(await count('SELECT count(*) FROM security_events'), eventsBefore, 'bad filters change nothing');
});

test('keyset paging: 50 per page, then the rest with before=<id>', async () => {
  const { cookie } = await ceoSession();
  await psql(stack, `INSERT INTO security_events (kind, severity, ip, details)
    SELECT 'csrf_failed', 'warning', '192.0.2.77', jsonb_build_object('n', g) FROM generate_series(1, 60) g`);
  const p1 = await getJson('/api/v1/seguranca?ip=192.0.2.77', cookie);
  assert.equal(p1.json.events.length, 50);
  assert.equal(p1.json.next_before, p1.json.events[49].id);
  const p2 = await getJson(`/api/v1/seguranca?ip=192.0.2.77&before=${p1.json.next_before}`, cookie);
  assert.equal(p2.json.events.length, 10);
  assert.equal(p2.json.next_before, undefined);
  const all = [...p1.json.events, ...p2.json.events].map((e) => e.details.n);
  assert.deepEqual(all, Array.from({ length: 60 }, (_, i) => 60 - i), 'every event once, newest first');
  const html = await (await stack.fetch('/seguranca?ip=192.0.2.77', { headers: { cookie } })).text();
  assert.ok(html.includes(`href="/seguranca?before=${p1.json.next_before}&amp;kind=&amp;user=&amp;ip=192.0.2.77`), 'a link to the next page');
});

test('acknowledging an alert works once (then 409), is audited once, and needs CSRF', async () => {
  const { cookie, csrf } = await ceoSession();
  const [a1, a2] = (await psql(stack, 'SELECT id FROM security_alerts ORDER BY id')).split('\n');
  const auditSql = (id) => `SELECT count(*) FROM audit_log WHERE action = 'security.alert_ack' AND object_id = '${id}'`;

  const noCsrf = await stack.fetch(`/api/v1/seguranca/alerts/${a1}/ack`, {
    method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: '{}',
  });
  await noCsrf.arrayBuffer();
  assert.equal(noCsrf.status, 403);
  assert.equal(await count(`SELECT count(*) FROM security_alerts WHERE id = ${a1} AND acknowledged_at IS NULL`), 1);

  const ok = await apiPost(stack, cookie, csrf, `/api/v1/seguranca/alerts/${a1}/ack`);
  assert.equal(ok.res.status, 200, ok.text);
  assert.deepEqual(ok.json, { id: Number(a1), acknowledged: true });
  assert.equal(await psql(stack, `SELECT acknowledged_by, acknowledged_at IS NOT NULL FROM security_alerts WHERE id = ${a1}`), `${ceoId}|t`);
  assert.equal(await count(auditSql(a1)), 1);
  assert.equal(await psql(stack, `SELECT actor_user_id, object_type, after->>'acknowledged' FROM audit_log WHERE action = 'security.alert_ack'`),
    `${ceoId}|security_alert|true`);

  const again = await apiPost(stack, cookie, csrf, `/api/v1/seguranca/alerts/${a1}/ack`);
  assert.equal(again.res.status, 409);
  assert.equal(again.json.error.code, 'already_acknowledged');
  assert.equal(await count(auditSql(a1)), 1, 'no second audit row');

  for (const bad of ['99999999', 'abc', '1e3']) {
    const r = await apiPost(stack, cookie, csrf, `/api/v1/seguranca/alerts/${bad}/ack`);
    assert.equal(r.res.status, 404, bad);
  }

  const list = await getJson('/api/v1/seguranca', cookie);
  assert.deepEqual(list.json.alerts.map((a) => String(a.id)), [a2], 'only the other alert is still open');

  // the browser form: redirect back to the dashboard
  const form = await stack.fetch(`/seguranca/alerts/${a2}/ack`, {
    method: 'POST',
    headers: { cookie, 'content-type': FORM },
    body: new URLSearchParams({ _csrf: csrf }).toString(),
  });
  await form.arrayBuffer();
  assert.equal(form.status, 303);
  assert.equal(form.headers.get('location'), '/seguranca');
  assert.equal(await count(auditSql(a2)), 1);
  assert.equal((await getJson('/api/v1/seguranca', cookie)).json.alerts.length, 0);
});

test('platform-wide denials past 5 per minute raise one alert with no subject, told in the reader\'s language', async (t) => {
  const lang = await psql(stack, `SELECT lang FROM users WHERE id = ${ceoId}`);
  await psql(stack, `UPDATE users SET lang = 'en' WHERE id = ${ceoId}`);
  t.after(() => psql(stack, `UPDATE users SET lang = '${lang}' WHERE id = ${ceoId}`));
  const { cookie } = await login(stack);
  const before = await count("SELECT count(*) FROM security_alerts WHERE rule = 'denials'");
  assert.equal(before, 0);
  await insideOneMinute();
  let n = 0;
  // earlier denials of this minute count too: ask until the alert is there, then three more
  while (n < 12 && (await count("SELECT count(*) FROM security_alerts WHERE rule = 'denials'")) === 0) {
    const r = await stack.fetch('/api/v1/seguranca', { headers: { cookie } });
    await r.arrayBuffer();
    assert.equal(r.status, 403);
    n++;
  }
  assert.ok(n <= 6, `the alert came after ${n} denials of this test`);
  for (let i = 0; i < 3; i++) await (await stack.fetch('/api/v1/seguranca', { headers: { cookie } })).arrayBuffer();
  assert.equal(await psql(stack, "SELECT subject, observed, threshold FROM security_alerts WHERE rule = 'denials'"), '|6|5');
  assert.equal(await psql(stack, `SELECT title || '|' || body FROM notifications WHERE user_id = ${ceoId}
    AND kind = 'security.anomaly' AND data->>'rule' = 'denials'`).then((t) => t.replace(/#\d+/, '#N')),
  'Security alert: denials|6 permission denials within one minute; the threshold is 5. Alert #N.');
});

test('with Redis down a failed login is still stored and answered; the rules are skipped, not fatal', async () => {
  const a = await anonCsrf(stack);
  const before = await count("SELECT count(*) FROM security_events WHERE kind = 'login_failed'");
  const alerts = await count('SELECT count(*) FROM security_alerts');
  await stack.redisCtl('stop');
  try {
    for (let i = 0; i < 5; i++) {
      const res = await stack.fetch('/login', {
        method: 'POST',
        headers: { 'content-type': FORM, cookie: a.cookie },
        body: new URLSearchParams({ _csrf: a.token, email: DEMO.email, password: 'wrong' }).toString(),
      });
      await res.arrayBuffer();
      assert.equal(res.status, 401);
    }
  } finally {
    await stack.redisCtl('start');
  }
  assert.equal(await count("SELECT count(*) FROM security_events WHERE kind = 'login_failed'"), before + 5);
  assert.equal(await count('SELECT count(*) FROM security_alerts'), alerts, 'no alert without the counters');
});
