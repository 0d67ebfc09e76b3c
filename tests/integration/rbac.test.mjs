// tests/integration/rbac.test.mjs — role-based access through the real stack: 403 and a security event on every
// denial, the permission matrix, staff role grants and revokes (step-up, audited, effective at once), the last-CEO
// guard, and per-role IP allowlists.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { startStack } from './harness.mjs';
import { anonCsrf, apiPost, DEMO, findCookie, psql, redisCli, SESSION_COOKIE, sleep } from './lib.mjs';

const FORM = 'application/x-www-form-urlencoded';
const CEO = Object.freeze({ email: 'ceo@botcriptofy.dev', password: 'demo-company-2026' });
const COMPANY_PASSWORD = CEO.password;
const ROLES = '/api/v1/configuracoes/roles';

let stack; // defaults
let ipStack; // seguranca.manager only from 10.0.0.0/8 (not loopback), auditoria.manager only from 127.0.0.0/8
const ceo = {}; // { id, cookie, csrf, secret, recoveryCodes } on `stack`, enrolled in 2FA
let demoId;

const sha256 = (s) => createHash('sha256').update(s).digest('hex');

function oathtool(secret, t = Date.now() / 1000) {
  try {
    return execFileSync('oathtool', ['--totp', '-b', '-N', `@${Math.floor(t)}`, secret], { encoding: 'utf8' }).trim();
  } catch (e) {
    if (e.code === 'ENOENT') throw new Error('oathtool is not installed: install the Debian package "oathtool" (dev/deps lists it)');
    throw e;
  }
}

async function signIn(s, email, password) {
  const a = await anonCsrf(s);
  const res = await s.fetch('/login', {
    method: 'POST',
    headers: { 'content-type': FORM, cookie: a.cookie },
    body: new URLSearchParams({ _csrf: a.token, email, password }).toString(),
  });
  const text = await res.text();
  assert.equal(res.status, 303, `login ${email}: ${res.status} ${text.slice(0, 200)}`);
  return `${SESSION_COOKIE}=${findCookie(res, SESSION_COOKIE).value}`;
}

/** The session's CSRF token from the logout form of a page reachable before 2FA enrolment. */
async function csrfOf(s, cookie) {
  const res = await s.fetch('/account/2fa', { headers: { cookie } });
  const html = await res.text();
  assert.equal(res.status, 200, `GET /account/2fa: ${res.status}`);
  return /action="\/logout"[\s\S]*?name="_csrf" value="([^"]*)"/.exec(html)[1];
}

/** Enrols the signed-in user in 2FA (JSON routes, oathtool's code). Resolves { cookie, csrf, secret, recoveryCodes }. */
async function enrol(s, cookie) {
  const csrf = await csrfOf(s, cookie);
  const setup = await apiPost(s, cookie, csrf, '/api/v1/account/2fa/setup');
  assert.equal(setup.res.status, 200, `2fa setup: ${setup.text.slice(0, 200)}`);
  const en = await apiPost(s, cookie, csrf, '/api/v1/account/2fa/enable', { code: oathtool(setup.json.secret) });
  assert.equal(en.res.status, 200, `2fa enable: ${en.text.slice(0, 200)}`);
  const next = `${SESSION_COOKIE}=${findCookie(en.res, SESSION_COOKIE).value}`;
  return { cookie: next, csrf: await csrfOf(s, next), secret: setup.json.secret, recoveryCodes: en.json.recovery_codes };
}

let seq = 0;
/** A company employee holding `role`, with the company demo password (copied hash), verified. Resolves { id, email }. */
async function makeEmployee(label, role) {
  const email = `${label}-${process.pid}-${++seq}@botcriptofy.dev`;
  const id = Number(await psql(stack, `
    WITH u AS (INSERT INTO users (tenant_id, email, display_name, password_hash, role, email_verified_at)
               SELECT tenant_id, '${email}', 'Employee ${label}', password_hash, '${role}', now()
               FROM users WHERE email = '${CEO.email}' RETURNING id, tenant_id)
    INSERT INTO user_roles (tenant_id, user_id, role_key) SELECT tenant_id, id, '${role}' FROM u RETURNING user_id`));
  if ((await psql(stack, "SELECT to_regclass('public.consents') IS NOT NULL")) === 't') {
    await psql(stack, `INSERT INTO consents (tenant_id, user_id, document, version, granted, ip)
      SELECT u.tenant_id, u.id, d.document, max(d.version), true, '127.0.0.1' FROM users u, legal_documents d
      WHERE u.id = ${id} GROUP BY u.tenant_id, u.id, d.document`);
  }
  return { id, email };
}

async function get(s, p, cookie) {
  const res = await s.fetch(p, { headers: cookie ? { cookie } : {} });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* HTML */ }
  return { res, status: res.status, text, json };
}

const count = async (s, sql) => Number(await psql(s, sql));
const rolesOf = (uid) => psql(stack, `SELECT coalesce(string_agg(role_key, ',' ORDER BY role_key), '') FROM user_roles WHERE user_id = ${uid}`);
const allGrants = () => psql(stack, "SELECT coalesce(string_agg(user_id || ':' || role_key, ',' ORDER BY user_id, role_key), '') FROM user_roles");

function change(who, userId, role, action) {
  return apiPost(stack, who.cookie, who.csrf, ROLES, { user_id: String(userId), role, action });
}

before(async () => {
  const started = await Promise.allSettled([
    startStack(),
    startStack({ config: { 'security.ip_allow.seguranca.manager': '10.0.0.0/8', 'security.ip_allow.auditoria.manager': '127.0.0.0/8' } }),
  ]);
  [stack, ipStack] = started.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  ceo.id = await count(stack, `SELECT id FROM users WHERE email = '${CEO.email}'`);
  demoId = await count(stack, `SELECT id FROM users WHERE email = '${DEMO.email}'`);
  Object.assign(ceo, await enrol(stack, await signIn(stack, CEO.email, CEO.password)));
});

after(async () => {
  await Promise.all([stack?.stop(), ipStack?.stop()]);
});

test('a trader gets 403 on the staff pages, and each denial is a permission_denied event naming the route', async (t) => {
  const cookie = await signIn(stack, DEMO.email, DEMO.password);
  const cases = [
    ['/configuracoes/roles', 'admin.roles.read', true],
    ['/api/v1/configuracoes/roles', 'admin.roles.read', true],
    ['/auditoria', 'audit.read', false],
    ['/api/v1/auditoria', 'audit.read', false],
    ['/seguranca', 'security.read', false],
    ['/api/v1/seguranca', 'security.read', false],
  ];
  let checked = 0;
  for (const [p, perm, required] of cases) {
    const before = await count(stack, `SELECT count(*) FROM security_events WHERE kind = 'permission_denied' AND user_id = ${demoId}`);
    const r = await get(stack, p, cookie);
    if (r.status === 404 && !required) {
      t.diagnostic(`${p} is not there yet (404): its module has not landed`);
      continue;
    }
    assert.equal(r.status, 403, `${p}: ${r.text.slice(0, 200)}`);
    if (p.startsWith('/api/')) assert.equal(r.json.error.code, 'forbidden', p);
    else assert.match(r.text, /<code>forbidden<\/code>/, p);
    const rows = await psql(stack, `SELECT (details->>'route') || '|' || (details->>'permission') || '|' || severity
      FROM security_events WHERE kind = 'permission_denied' AND user_id = ${demoId} ORDER BY id DESC LIMIT 1`);
    assert.equal(await count(stack, `SELECT count(*) FROM security_events WHERE kind = 'permission_denied' AND user_id = ${demoId}`),
      before + 1, `${p}: one event per denial`);
    assert.equal(rows, `${p}|${perm}|warning`);
    checked++;
  }
  assert.ok(checked >= 2);

  // a role change attempted by a trader is refused before anything else, and changes nothing
  const grants = await allGrants();
  const csrf = await csrfOf(stack, cookie);
  const post = await apiPost(stack, cookie, csrf, ROLES, { user_id: String(demoId), role: 'ceo', action: 'grant' });
  assert.equal(post.res.status, 403, post.text);
  assert.equal(post.json.error.code, 'forbidden');
  assert.equal(await allGrants(), grants);
});

test('the navigation links to /configuracoes/roles only for those who may open it', async () => {
  const trader = await signIn(stack, DEMO.email, DEMO.password);
  const th = await get(stack, '/dashboard', trader);
  assert.equal(th.status, 200);
  assert.ok(!th.text.includes('href="/configuracoes/roles"'), 'the trader has no link to the roles page');
  const ch = await get(stack, '/dashboard', ceo.cookie);
  assert.equal(ch.status, 200);
  assert.ok(ch.text.includes('href="/configuracoes/roles"'), 'the CEO has one');
});

test('the CEO sees the permission matrix: every role with one cell per permission, and the employees', async () => {
  const r = await get(stack, ROLES, ceo.cookie);
  assert.equal(r.status, 200, r.text.slice(0, 200));
  const { permissions, roles, employees, can_assign: canAssign } = r.json;
  const keys = permissions.map((p) => p.key);
  for (const k of ['admin.roles.read', 'admin.roles.assign', 'audit.read', 'security.read', 'trading.use']) assert.ok(keys.includes(k), k);
  assert.equal(keys.length, await count(stack, 'SELECT count(*) FROM permissions'));
  assert.equal(roles.length, await count(stack, 'SELECT count(*) FROM roles'));
  let cells = 0;
  for (const role of roles) {
    assert.equal(role.cells.length, keys.length, `${role.key}: one cell per permission`);
    cells += role.cells.filter(Boolean).length;
  }
  assert.equal(cells, await count(stack, 'SELECT count(*) FROM role_permissions'), 'the cells are the grants table');
  const row = (k) => roles.find((x) => x.key === k);
  const held = (k) => keys.filter((_, i) => row(k).cells[i]).sort();
  // markets.view: market data is the same for everyone, every role may look at it (sql/0012)
  assert.deepEqual(held('trader'), ['banco.use', 'billing.manage', 'credentials.manage', 'jobs.manage', 'jobs.view', 'markets.view', 'trading.use']);
  assert.deepEqual(held('ceo'), keys.filter((k) => k !== 'trading.use').sort());
  assert.deepEqual(held('auditoria.member'), ['audit.read', 'markets.view']);
  assert.equal(row('ceo').staff, true);
  assert.equal(row('trader').staff, false);
  const emails = employees.map((e) => e.email);
  for (const e of [CEO.email, 'auditoria@botcriptofy.dev', 'seguranca@botcriptofy.dev']) assert.ok(emails.includes(e), e);
  assert.ok(!emails.includes(DEMO.email), 'only the company\'s employees');
  assert.equal(employees.find((e) => e.email === CEO.email).roles, 'ceo');
  assert.equal(canAssign, true);
  assert.ok(!/csrf/i.test(r.text), 'no CSRF token in the JSON twin');

  const html = await get(stack, '/configuracoes/roles', ceo.cookie);
  assert.equal(html.status, 200);
  assert.match(html.text, /<table class="table matrix">/);
  assert.match(html.text, /<small>\(auditoria\.member\)<\/small>/);
  assert.match(html.text, /<form method="post" action="\/configuracoes\/roles"/, 'the CEO may assign');
});

test('a granted role works at once, a revoked one stops at once; each change is audited once', async (t) => {
  const e = await makeEmployee('grant', 'sac.member');
  const emp = await enrol(stack, await signIn(stack, e.email, COMPANY_PASSWORD));
  // the first checks fill the employee's permission cache: what follows cannot be a cache miss
  assert.equal((await get(stack, ROLES, emp.cookie)).status, 403);
  const audit = (await get(stack, '/api/v1/auditoria', emp.cookie)).status;
  const hasAuditoria = audit !== 404;
  if (hasAuditoria) assert.equal(audit, 403);
  else t.diagnostic('/auditoria is not there yet (404): the audit.read effect is checked through the roles page only');
  const grants = (action) => count(stack, `SELECT count(*) FROM audit_log WHERE action = '${action}' AND object_id = '${e.id}'`);

  const g = await change(ceo, e.id, 'configuracoes.member', 'grant');
  assert.equal(g.res.status, 200, g.text);
  assert.deepEqual(g.json, { user_id: e.id, role: 'configuracoes.member', action: 'grant' });
  assert.equal(await rolesOf(e.id), 'configuracoes.member,sac.member');
  assert.equal(await count(stack, `SELECT granted_by FROM user_roles WHERE user_id = ${e.id} AND role_key = 'configuracoes.member'`), ceo.id);
  assert.equal(await grants('admin.role_grant'), 1);
  assert.equal(await psql(stack, `SELECT actor_user_id || '|' || (after->>'role') FROM audit_log WHERE action = 'admin.role_grant' AND object_id = '${e.id}'`),
    `${ceo.id}|configuracoes.member`);
  const seen = await get(stack, ROLES, emp.cookie);
  assert.equal(seen.status, 200, 'the new role counts on the very next request');
  assert.equal(seen.json.can_assign, false, 'reading the matrix is not assigning');
  const nope = await change(emp, e.id, 'ceo', 'grant');
  assert.equal(nope.res.status, 403, 'configuracoes.member cannot assign roles');

  const ga = await change(ceo, e.id, 'auditoria.member', 'grant');
  assert.equal(ga.res.status, 200, ga.text);
  if (hasAuditoria) assert.equal((await get(stack, '/api/v1/auditoria', emp.cookie)).status, 200, 'audit.read granted');

  // granting a role already held changes nothing and is not audited again
  const dup = await change(ceo, e.id, 'auditoria.member', 'grant');
  assert.equal(dup.res.status, 200);
  assert.equal(await grants('admin.role_grant'), 2);

  const rv = await change(ceo, e.id, 'configuracoes.member', 'revoke');
  assert.equal(rv.res.status, 200, rv.text);
  assert.equal((await get(stack, ROLES, emp.cookie)).status, 403, 'the revoked role stops on the very next request');
  const ra = await change(ceo, e.id, 'auditoria.member', 'revoke');
  assert.equal(ra.res.status, 200, ra.text);
  if (hasAuditoria) assert.equal((await get(stack, '/api/v1/auditoria', emp.cookie)).status, 403);
  assert.equal(await grants('admin.role_revoke'), 2);
  assert.equal(await rolesOf(e.id), 'sac.member');

  // the HTML form does the same and comes back to the page
  const form = await stack.fetch('/configuracoes/roles', {
    method: 'POST',
    headers: { 'content-type': FORM, cookie: ceo.cookie },
    body: new URLSearchParams({ _csrf: ceo.csrf, user_id: String(e.id), role: 'documentos.member', action: 'grant' }).toString(),
  });
  await form.arrayBuffer();
  assert.equal(form.status, 303);
  assert.equal(form.headers.get('location'), '/configuracoes/roles');
  assert.equal(await rolesOf(e.id), 'documentos.member,sac.member');
});

test('refused role changes: another tenant\'s user, non-staff or unknown roles, bad input, the last CEO — and nothing changes', async () => {
  const e = await makeEmployee('refuse', 'vendas.member');
  const grants = await allGrants();
  const head = await psql(stack, 'SELECT last_id FROM audit_chain_head');
  const cases = [
    [demoId, 'auditoria.member', 'grant', 'a trader of another tenant'],
    [e.id, 'trader', 'grant', 'a non-staff role'],
    [e.id, 'influencer', 'grant', 'a non-staff role'],
    [e.id, 'no.such.role', 'grant', 'an unknown role'],
    [999999999, 'auditoria.member', 'grant', 'an unknown user'],
    [e.id, 'auditoria.member', 'promote', 'an unknown action'],
    ['12x', 'auditoria.member', 'grant', 'a malformed id'],
    [e.id, '', 'grant', 'no role'],
  ];
  for (const [uid, role, action, why] of cases) {
    const r = await change(ceo, uid, role, action);
    assert.equal(r.res.status, 422, `${why}: ${r.text.slice(0, 200)}`);
    assert.equal(r.json.error.code, 'bad_role_change', why);
  }
  // nobody changes their own roles (so the only CEO cannot step down and leave the company without one)
  const self = await change(ceo, ceo.id, 'ceo', 'revoke');
  assert.equal(self.res.status, 403, self.text);
  assert.equal(self.json.error.code, 'role_not_grantable');
  assert.equal(await allGrants(), grants, 'no grant changed');
  assert.equal(await psql(stack, 'SELECT last_id FROM audit_chain_head'), head, 'nothing audited');
  assert.equal(await count(stack, `SELECT count(*) FROM user_roles WHERE user_id = ${demoId} AND role_key <> 'trader'`), 0);

  // with a second CEO the guard lets one go
  const g = await change(ceo, e.id, 'ceo', 'grant');
  assert.equal(g.res.status, 200, g.text);
  const r = await change(ceo, e.id, 'ceo', 'revoke');
  assert.equal(r.res.status, 200, r.text);
  assert.equal(await rolesOf(ceo.id), 'ceo', 'the demo CEO is still CEO');
  assert.equal(await rolesOf(e.id), 'vendas.member');
});

test('without a recent 2FA check a role change needs a step-up first', async () => {
  const e = await makeEmployee('stepup', 'marketing.member');
  const h = sha256(ceo.cookie.slice(ceo.cookie.indexOf('=') + 1));
  await psql(stack, `UPDATE sessions SET mfa_at = now() - interval '10 minutes' WHERE id_hash = '${h}'`);
  await redisCli(stack, 'DEL', `s:${h}`);
  await sleep(100);
  const refused = await change(ceo, e.id, 'marketing.manager', 'grant');
  assert.equal(refused.res.status, 403, refused.text);
  assert.equal(refused.json.error.code, 'step_up_required');
  assert.equal(await rolesOf(e.id), 'marketing.member');
  assert.equal(await count(stack, `SELECT count(*) FROM audit_log WHERE action = 'admin.role_grant' AND object_id = '${e.id}'`), 0);

  // a recovery code is a valid second factor for the step-up (the TOTP step was spent on enrolment)
  const v = await apiPost(stack, ceo.cookie, ceo.csrf, '/api/v1/account/2fa/verify', { code: ceo.recoveryCodes[0] });
  assert.equal(v.res.status, 200, v.text);
  assert.equal(v.json.method, 'recovery');
  ceo.cookie = `${SESSION_COOKIE}=${findCookie(v.res, SESSION_COOKIE).value}`;
  ceo.csrf = await csrfOf(stack, ceo.cookie);
  const ok = await change(ceo, e.id, 'marketing.manager', 'grant');
  assert.equal(ok.res.status, 200, ok.text);
  assert.equal(await rolesOf(e.id), 'marketing.manager,marketing.member');
});

test('per-role IP allowlist: a role limited to other addresses signs in but is refused everywhere; others are unaffected', async () => {
  const segId = await count(ipStack, "SELECT id FROM users WHERE email = 'seguranca@botcriptofy.dev'");
  const seg = await signIn(ipStack, 'seguranca@botcriptofy.dev', COMPANY_PASSWORD);
  const before = await count(ipStack, `SELECT count(*) FROM security_events WHERE kind = 'ip_not_allowed' AND user_id = ${segId}`);
  for (const p of ['/dashboard', '/account/2fa', '/api/v1/dashboard', '/api/v1/account/2fa']) {
    const r = await get(ipStack, p, seg);
    assert.equal(r.status, 403, `${p}: ${r.text.slice(0, 200)}`);
    if (p.startsWith('/api/')) assert.equal(r.json.error.code, 'ip_not_allowed', p);
    else assert.match(r.text, /<code>ip_not_allowed<\/code>/, p);
  }
  assert.equal(await count(ipStack, `SELECT count(*) FROM security_events WHERE kind = 'ip_not_allowed' AND user_id = ${segId}`), before + 4);
  assert.equal(await psql(ipStack, `SELECT ip || '|' || (details->>'route') FROM security_events
    WHERE kind = 'ip_not_allowed' AND user_id = ${segId} ORDER BY id DESC LIMIT 1`), '127.0.0.1|/api/v1/account/2fa');

  // auditoria.manager is limited to loopback, where the tests come from; the CEO has no limit
  for (const email of ['auditoria@botcriptofy.dev', CEO.email]) {
    const c = await signIn(ipStack, email, COMPANY_PASSWORD);
    const page = await get(ipStack, '/account/2fa', c);
    assert.equal(page.status, 200, `${email}: ${page.text.slice(0, 200)}`);
    const dash = await ipStack.fetch('/dashboard', { headers: { cookie: c } });
    await dash.arrayBuffer();
    assert.equal(dash.status, 303, `${email}: sent to enrol in 2FA, not refused`);
    assert.equal(dash.headers.get('location'), '/account/2fa');
  }
  assert.equal(await count(ipStack, "SELECT count(*) FROM security_events WHERE kind = 'ip_not_allowed'"), before + 4,
    'only the restricted role was refused');
});

test('a role administrator grants only permissions they hold, and never changes their own roles', async () => {
  const admin = await makeEmployee('roles-admin', 'configuracoes.manager');
  const other = await makeEmployee('roles-target', 'sac.member');
  const s = await enrol(stack, await signIn(stack, admin.email, CEO.password)); // enrolled: stepped up
  const head = await psql(stack, 'SELECT last_id FROM audit_chain_head');
  const refused = [
    [admin.id, 'ceo', 'grant', 'making oneself CEO'],
    [admin.id, 'configuracoes.member', 'grant', 'any change to one\'s own roles'],
    [other.id, 'financeiro.manager', 'grant', 'a role with permissions the administrator lacks'],
    [ceo.id, 'ceo', 'revoke', 'demoting the CEO'],
  ];
  for (const [uid, role, action, why] of refused) {
    const r = await change(s, uid, role, action);
    assert.equal(r.res.status, 403, `${why}: ${r.text.slice(0, 200)}`);
    assert.equal(r.json.error.code, 'role_not_grantable', why);
  }
  assert.equal(await psql(stack, 'SELECT last_id FROM audit_chain_head'), head, 'nothing changed, nothing audited');
  assert.equal(await rolesOf(admin.id), 'configuracoes.manager');
  assert.equal(await rolesOf(ceo.id), 'ceo');
  // within their own permissions it works
  const ok = await change(s, other.id, 'configuracoes.member', 'grant');
  assert.equal(ok.res.status, 200, ok.text);
  assert.equal(await rolesOf(other.id), 'configuracoes.member,sac.member');
});
