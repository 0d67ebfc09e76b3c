// tests/integration/audit.test.mjs — the audit trail on a real stack: rows from real actions, `botctl audit verify`
// catching altered, removed and rewound rows, the app role's missing write rights, concurrent appends, the Auditoria page and CSV.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';
import { DEMO, enrolTotp, login, psql, sessionCsrf } from './lib.mjs';

const CEO = Object.freeze({ email: 'ceo@botcriptofy.dev', password: 'demo-company-2026' });
const EXPORT_CAP = 120; // audit.export_max_rows for this stack: small enough to hit with the concurrent rows

let stack;
let ceoCookie = null;
const ids = {};

before(async () => {
  stack = await startStack({ config: { 'audit.export_max_rows': String(EXPORT_CAP) } });
  ids.ceo = Number(await psql(stack, `SELECT id FROM users WHERE email = '${CEO.email}'`));
  ids.trader = Number(await psql(stack, `SELECT id FROM users WHERE email = '${DEMO.email}'`));
  ids.traderTenant = Number(await psql(stack, `SELECT tenant_id FROM users WHERE id = ${ids.trader}`));
  ids.today = await psql(stack, "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')");
});

after(async () => {
  await stack?.stop();
});

/** A literal for test-controlled text (dollar-quoted, so quotes, commas and newlines pass as they are). */
function lit(v) {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') return String(v);
  if (v.includes('$q$')) throw new Error('lit: text holds the quote tag');
  return `$q$${v}$q$`;
}

/** Appends one row through audit_append as the application's role; resolves its id. */
async function append({ tenant = null, actor = null, action, type = 'test_object', id = '', before = null, after = null, ip = '127.0.0.1', rid = 'test-rid' }) {
  const j = (o) => (o === null ? 'NULL' : `${lit(JSON.stringify(o))}::jsonb`);
  return Number(await psql(stack, `SELECT audit_append(${lit(tenant)}, ${lit(actor)}, ${lit(action)}, ${lit(type)},
    ${lit(id)}, ${j(before)}, ${j(after)}, ${lit(ip)}, ${lit(rid)})`));
}

/** botctl audit verify: resolves { code, out } whatever the exit status. */
async function verify() {
  try {
    const { stdout, stderr } = await stack.botctl('audit', 'verify');
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    if (e.code === undefined) throw e;
    return { code: e.code, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

async function assertIntact(msg) {
  const v = await verify();
  assert.equal(v.code, 0, `${msg}: ${v.out}`);
  const n = Number(await psql(stack, 'SELECT count(*) FROM audit_log'));
  assert.match(v.out, new RegExp(`^audit chain intact: ${n} rows$`, 'm'), `${msg}: ${v.out}`);
  return n;
}

/** Runs SQL as the superuser with triggers off: an attacker with full database access. */
function asAttacker(sql) {
  return psql(stack, `SET session_replication_role = replica; ${sql}`, { user: 'postgres' });
}

/** psql as `user` must fail with an error matching re. */
async function assertRefused(sql, user, re) {
  await assert.rejects(psql(stack, sql, { user }), (e) => {
    assert.match(e.message, re, sql);
    return true;
  }, `${user} must not run: ${sql}`);
}

async function lastId() {
  return Number(await psql(stack, 'SELECT last_id FROM audit_chain_head'));
}

/** The CEO's session: staff enrol in 2FA before using the portal. */
async function ceo() {
  if (!ceoCookie) {
    const s = await login(stack, CEO);
    ceoCookie = (await enrolTotp(stack, s.cookie)).cookie;
  }
  return ceoCookie;
}

async function getJson(p, cookie) {
  const res = await stack.fetch(p, { headers: { cookie } });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* HTML or CSV */ }
  return { res, text, json };
}

/** RFC 4180 parser: rows of fields (quoted fields may hold commas, doubled quotes, CR and LF). */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let f = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { f += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      f += c; i++; continue;
    }
    if (c === '"' && f === '') { quoted = true; i++; continue; }
    if (c === ',') { row.push(f); f = ''; i++; continue; }
    if (c === '\r' && text[i + 1] === '\n') { row.push(f); rows.push(row); row = []; f = ''; i += 2; continue; }
    assert.notEqual(c, '"', `stray quote at ${i}`);
    assert.notEqual(c, '\n', `bare LF outside quotes at ${i}`);
    f += c; i++;
  }
  assert.equal(f, '', 'the last record ends with CRLF');
  assert.equal(row.length, 0, 'no dangling record');
  return rows;
}

test('real actions and audit_append add rows; botctl audit verify recomputes every hash and passes', async () => {
  const start = await lastId();
  // a real audited action: signing in and out (auth.login / auth.logout)
  const s = await login(stack);
  const csrf = await sessionCsrf(stack, s.cookie);
  const out = await stack.fetch('/logout', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: s.cookie },
    body: new URLSearchParams({ _csrf: csrf }).toString(),
  });
  await out.text();
  assert.equal(out.status, 303);
  const actions = (await psql(stack, `SELECT action FROM audit_log WHERE id > ${start} ORDER BY id`)).split('\n');
  assert.ok(actions.includes('auth.login'), `login audited: ${actions}`);
  assert.ok(actions.includes('auth.logout'), `logout audited: ${actions}`);
  const row = await psql(stack, `SELECT actor_user_id, tenant_id, ip <> '', request_id <> '' FROM audit_log
    WHERE id > ${start} AND action = 'auth.login' ORDER BY id DESC LIMIT 1`);
  assert.equal(row, `${ids.trader}|${ids.traderTenant}|t|t`, 'actor, tenant, address and request id recorded');

  // rows whose text is hard to rebuild byte for byte: unicode, backslashes, newlines, numbers, nulls
  const a = await append({
    tenant: ids.traderTenant, actor: ids.trader, action: 'test.verify_text', type: 'note\\with\\backslash',
    id: 'line1\nline2 "quoted", ação', before: { saldo: 1.50, lista: [1, { x: null }], texto: 'ç\n\t"' },
    after: { big: 12345678901234567890, emoji: '🙂', esc: '\\u0041' },
  });
  const b = await append({ action: 'test.verify_nulls', type: '', id: '', ip: '', rid: '' });
  assert.equal(b, a + 1, 'ids follow each other');
  assert.equal(await lastId(), b, 'the chain head follows the last row');
  assert.equal(await psql(stack, `SELECT prev_hash = (SELECT hash FROM audit_log WHERE id = ${a}) FROM audit_log WHERE id = ${b}`), 't');
  const n = await assertIntact('fresh chain');
  assert.ok(n >= 4, `rows counted: ${n}`);

  // misuse: exit 2 with a usage line
  await assert.rejects(stack.botctl('audit'), (e) => e.code === 2 && /usage: botctl audit verify/.test(e.stderr));
  await assert.rejects(stack.botctl('audit', 'verify', 'extra'), (e) => e.code === 2);
  await assert.rejects(stack.botctl('audit', 'fix'), (e) => e.code === 2);
});

test('the application role can read the trail but not write or rewrite it; the owner cannot either', async () => {
  const before = await psql(stack, 'SELECT last_id, last_hash FROM audit_chain_head');
  assert.ok(Number(await psql(stack, 'SELECT count(*) FROM audit_log')) > 0, 'botcriptofy may SELECT');
  const denied = /permission denied/;
  await assertRefused("UPDATE audit_log SET action = 'x.y' WHERE id = 1", 'botcriptofy', denied);
  await assertRefused('DELETE FROM audit_log WHERE id = 1', 'botcriptofy', denied);
  await assertRefused('TRUNCATE audit_log', 'botcriptofy', denied);
  await assertRefused(`INSERT INTO audit_log SELECT id + 1000000, at, tenant_id, actor_user_id, action, object_type,
    object_id, before, after, ip, request_id, prev_hash, hash FROM audit_log WHERE id = 1`, 'botcriptofy', denied);
  await assertRefused('UPDATE audit_chain_head SET last_id = 0', 'botcriptofy', denied);
  await assertRefused('DELETE FROM audit_chain_head', 'botcriptofy', denied);
  // the schema owner holds the table, yet the trigger refuses every rewrite
  await assertRefused("UPDATE audit_log SET action = 'x.y' WHERE id = 1", 'botcriptofy_owner', /append-only/);
  await assertRefused('DELETE FROM audit_log WHERE id = 1', 'botcriptofy_owner', /append-only/);
  await assertRefused('TRUNCATE audit_log', 'botcriptofy_owner', /append-only/);
  // audit_append refuses a malformed action
  await assertRefused("SELECT audit_append(NULL, NULL, 'Not An Action', '', '', NULL, NULL, '', '')", 'botcriptofy', /module\.verb/);
  assert.equal(await psql(stack, 'SELECT last_id, last_hash FROM audit_chain_head'), before, 'nothing changed');
  await assertIntact('after the refused writes');
});

test('tampering: an altered row is named by id', async () => {
  const id = await append({ action: 'test.tamper_alter', after: { amount: 100 } });
  await append({ action: 'test.tamper_after' });
  await assertIntact('before tampering');
  const orig = await psql(stack, `SELECT after::text FROM audit_log WHERE id = ${id}`);
  await asAttacker(`UPDATE audit_log SET after = '{"amount": 1}' WHERE id = ${id}`);
  const v = await verify();
  assert.equal(v.code, 1, v.out);
  assert.match(v.out, new RegExp(`^row ${id}: content altered`, 'm'));
  assert.match(v.out, /^audit chain BROKEN: 1 problem$/m, 'the next row still links to the stored hash: one problem');
  await asAttacker(`UPDATE audit_log SET after = ${lit(orig)}::jsonb WHERE id = ${id}`);
  await assertIntact('restored');
});

test('tampering: bytes moved between neighbouring text fields change the hash (newline-safe canonical form)', async () => {
  const id = await append({ action: 'test.tamper_shift', type: 'user', id: 'a\nb' });
  await assertIntact('before tampering');
  // without escaping, "user" | "a\nb" and "user\na" | "b" would hash the same
  await asAttacker(`UPDATE audit_log SET object_type = E'user\\na', object_id = 'b' WHERE id = ${id}`);
  const v = await verify();
  assert.equal(v.code, 1, v.out);
  assert.match(v.out, new RegExp(`^row ${id}: content altered`, 'm'));
  await asAttacker(`UPDATE audit_log SET object_type = 'user', object_id = E'a\\nb' WHERE id = ${id}`);
  await assertIntact('restored');
});

test('tampering: a removed middle row is reported as a gap at the next id', async () => {
  const first = await append({ action: 'test.tamper_gap' });
  const mid = await append({ action: 'test.tamper_gap' });
  const next = await append({ action: 'test.tamper_gap' });
  await asAttacker(`DROP TABLE IF EXISTS tamper_keep; CREATE TABLE tamper_keep AS SELECT * FROM audit_log WHERE id = ${mid};
    DELETE FROM audit_log WHERE id = ${mid}`);
  const v = await verify();
  assert.equal(v.code, 1, v.out);
  assert.match(v.out, new RegExp(`^row ${next}: row ${mid} is missing`, 'm'));
  assert.match(v.out, /^audit chain BROKEN: 1 problem$/m, v.out);
  assert.doesNotMatch(v.out, new RegExp(`^row ${first}:`, 'm'), 'the row before the gap is fine');

  // renumbering the rest to close the gap leaves a broken link instead (ids pass through negatives
  // so the primary key never sees two rows with one id)
  await asAttacker(`UPDATE audit_log SET id = -id WHERE id > ${mid}; UPDATE audit_log SET id = -id - 1 WHERE id < 0;
    UPDATE audit_chain_head SET last_id = last_id - 1`);
  const v2 = await verify();
  assert.equal(v2.code, 1, v2.out);
  assert.match(v2.out, new RegExp(`^row ${mid}: prev_hash does not match row ${first}'s hash`, 'm'));
  await asAttacker(`UPDATE audit_chain_head SET last_id = last_id + 1;
    UPDATE audit_log SET id = -id WHERE id >= ${mid}; UPDATE audit_log SET id = -id + 1 WHERE id < 0;
    INSERT INTO audit_log SELECT * FROM tamper_keep; DROP TABLE tamper_keep`);
  await assertIntact('restored');
});

test('tampering: rows removed at the end are caught through the chain head; a rewound head too', async () => {
  await append({ action: 'test.tamper_tail' });
  const last = await append({ action: 'test.tamper_tail' });
  await asAttacker(`DROP TABLE IF EXISTS tamper_keep; CREATE TABLE tamper_keep AS SELECT * FROM audit_log WHERE id = ${last};
    DELETE FROM audit_log WHERE id = ${last}`);
  const v = await verify();
  assert.equal(v.code, 1, v.out);
  assert.match(v.out, new RegExp(`^chain head: says last row is ${last} but the log ends at ${last - 1}`, 'm'));
  assert.match(v.out, /^audit chain BROKEN: 1 problem$/m, v.out);
  await asAttacker('INSERT INTO audit_log SELECT * FROM tamper_keep; DROP TABLE tamper_keep');
  await assertIntact('restored');

  const head = await psql(stack, 'SELECT last_hash FROM audit_chain_head');
  await asAttacker(`UPDATE audit_chain_head SET last_hash = repeat('f', 64)`);
  let w = await verify();
  assert.equal(w.code, 1, w.out);
  assert.match(w.out, new RegExp(`^chain head: hash does not match row ${last}`, 'm'));
  await asAttacker(`UPDATE audit_chain_head SET last_id = last_id - 1, last_hash = ${lit(head)}`);
  w = await verify();
  assert.equal(w.code, 1, w.out);
  assert.match(w.out, new RegExp(`^chain head: says last row is ${last - 1} but the log goes on to ${last}`, 'm'));
  await asAttacker(`UPDATE audit_chain_head SET last_id = ${last}, last_hash = ${lit(head)}`);
  await assertIntact('restored');
});

test('concurrent appends from several sessions give one contiguous, intact chain with rising times', async (t) => {
  const start = await lastId();
  const WRITERS = 8;
  const EACH = 25;
  // each writer commits every append on its own (and pauses a moment), so the writers overlap
  await Promise.all(Array.from({ length: WRITERS }, (_, w) => psql(stack, `DO $$ BEGIN
    FOR i IN 1..${EACH} LOOP
      PERFORM audit_append(NULL, NULL, 'test.concurrent', 'writer', '${w}', NULL, jsonb_build_object('i', i), '', 'w${w}');
      COMMIT;
      PERFORM pg_sleep(0.002);
    END LOOP; END $$`)));
  const stats = await psql(stack, `SELECT count(*), min(id), max(id), count(DISTINCT object_id) FROM audit_log WHERE id > ${start}`);
  assert.equal(stats, `${WRITERS * EACH}|${start + 1}|${start + WRITERS * EACH}|${WRITERS}`, 'no gaps, no duplicates');
  const perWriter = await psql(stack, "SELECT DISTINCT count(*) FROM audit_log WHERE action = 'test.concurrent' GROUP BY object_id");
  assert.equal(perWriter, String(EACH), 'every append of every writer is there');
  const switches = await psql(stack, `SELECT count(*) FROM (SELECT object_id <> lag(object_id) OVER (ORDER BY id) AS sw
    FROM audit_log WHERE action = 'test.concurrent') s WHERE sw`);
  t.diagnostic(`writer switches along the chain: ${switches} (${WRITERS - 1} would mean no overlap)`);
  assert.equal(await psql(stack, 'SELECT count(*) FROM (SELECT at < lag(at) OVER (ORDER BY id) AS back FROM audit_log) s WHERE back'),
    '0', 'times never go back as ids rise');
  await assertIntact('after concurrent appends');
});

test('Auditoria: the CEO sees the platform trail newest first, filtered and paged; bad filters answer 422', async () => {
  const cookie = await ceo();
  const marker = await append({ tenant: ids.traderTenant, actor: ids.trader, action: 'test.page_marker', type: 'order',
    id: '<script>alert("audit")</script>', after: { note: '<b>bold</b>' } });

  const page = await stack.fetch('/auditoria', { headers: { cookie } });
  const html = await page.text();
  assert.equal(page.status, 200, html.slice(0, 300));
  assert.match(html, /test\.page_marker/);
  assert.ok(html.includes('&lt;script&gt;alert('), 'object id escaped');
  assert.ok(!html.includes('<script>alert("audit")'), 'never raw');
  assert.ok(html.includes(DEMO.email), 'actor shown by e-mail');
  assert.match(html, /href="\/auditoria\/export\.csv"/, 'export link for audit.export holders');
  assert.match(html, /rel="next" href="\/auditoria\?before=\d+"/, 'a next-page link');

  const all = await getJson('/api/v1/auditoria', cookie);
  assert.equal(all.res.status, 200, all.text.slice(0, 300));
  assert.equal(all.json.rows.length, 50, 'fifty rows a page');
  assert.equal(all.json.rows[0].id, marker, 'newest first');
  assert.match(all.json.rows[0].at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'ISO 8601 UTC');
  assert.equal(all.json.rows[0].actor_email, DEMO.email);
  assert.equal(all.json.rows[0].tenant_id, String(ids.traderTenant));
  assert.equal(all.json.rows[0].after, '{"note":"<b>bold</b>"}', 'compact JSON text');
  assert.ok(all.json.rows.every((r, i) => i === 0 || r.id < all.json.rows[i - 1].id), 'descending ids');

  // action prefix: "test.concurrent" holds 200 rows → four pages of 50, no overlap, nothing else
  const seen = new Set();
  let url = '/api/v1/auditoria?action=test.concurrent';
  let pages = 0;
  for (;;) {
    const p = await getJson(url, cookie);
    assert.equal(p.res.status, 200, p.text.slice(0, 200));
    pages++;
    for (const r of p.json.rows) {
      assert.equal(r.action, 'test.concurrent');
      assert.ok(!seen.has(r.id), `row ${r.id} shown twice`);
      seen.add(r.id);
    }
    if (!p.json.next_before) break;
    assert.equal(p.json.next_before, p.json.rows.at(-1).id);
    assert.match(p.json.next_url, /^\/auditoria\?action=test\.concurrent&before=\d+$/);
    url = `/api/v1/auditoria?action=test.concurrent&before=${p.json.next_before}`;
  }
  assert.equal(seen.size, 200);
  assert.equal(pages, 4);

  // a prefix matches every action under it
  const pre = await getJson('/api/v1/auditoria?action=test.tamper_', cookie);
  const kinds = new Set(pre.json.rows.map((r) => r.action));
  for (const k of ['test.tamper_alter', 'test.tamper_gap', 'test.tamper_tail']) assert.ok(kinds.has(k), `${k} in ${[...kinds]}`);
  // '_' is no LIKE wildcard: "tes_." matches nothing although "test." exists
  const wild = await getJson('/api/v1/auditoria?action=tes_.', cookie);
  assert.equal(wild.res.status, 200);
  assert.equal(wild.json.rows.length, 0, 'underscore taken literally');

  // actor, tenant, object type
  const byActor = await getJson(`/api/v1/auditoria?actor=${ids.ceo}`, cookie);
  assert.ok(byActor.json.rows.length >= 1, 'the CEO signed in: at least one row');
  assert.ok(byActor.json.rows.every((r) => r.actor_id === String(ids.ceo)));
  assert.ok(byActor.json.rows.some((r) => r.action === 'auth.login'));
  const byTenant = await getJson(`/api/v1/auditoria?tenant=${ids.traderTenant}&object_type=order`, cookie);
  assert.deepEqual(byTenant.json.rows.map((r) => r.id), [marker]);
  assert.deepEqual(byTenant.json.filters, { action: '', actor: '', tenant: String(ids.traderTenant), object_type: 'order', from: '', to: '' });

  // date range (UTC days)
  const today = await getJson(`/api/v1/auditoria?action=test.page_marker&from=${ids.today}&to=${ids.today}`, cookie);
  assert.deepEqual(today.json.rows.map((r) => r.id), [marker]);
  const past = await getJson('/api/v1/auditoria?from=2001-01-01&to=2001-12-31', cookie);
  assert.equal(past.res.status, 200);
  assert.equal(past.json.rows.length, 0);
  const since = await getJson(`/api/v1/auditoria?from=${ids.today}`, cookie);
  assert.equal(since.json.rows[0].id, marker);

  // malformed filters: 422 with the error shape (JSON and HTML), nothing written
  const head = await lastId();
  const bad = ['actor=abc', 'actor=-1', 'tenant=1.5', 'action=%25', 'action=Auth.', 'from=2026-13-01', 'from=2026-02-30',
    'to=2026-1-01', 'from=2026-05-02&to=2026-05-01', 'before=x', `object_type=${'x'.repeat(101)}`, 'object_type=a%0Ab'];
  for (const q of bad) {
    const r = await getJson(`/api/v1/auditoria?${q}`, cookie);
    assert.equal(r.res.status, 422, `${q}: ${r.text.slice(0, 200)}`);
    assert.equal(r.json.error.code, 'bad_filter', q);
    assert.ok(r.json.error.message && r.json.error.request_id, q);
  }
  const badHtml = await stack.fetch('/auditoria?from=2026-02-30', { headers: { cookie } });
  const badText = await badHtml.text();
  assert.equal(badHtml.status, 422);
  assert.match(badText, /bad_filter/);
  const badCsv = await stack.fetch('/auditoria/export.csv?actor=abc', { headers: { cookie } });
  await badCsv.text();
  assert.equal(badCsv.status, 422, 'the export validates the same filters');
  assert.equal(await lastId(), head, 'no audit row written by refused requests');
  // a leap day is a real date
  assert.equal((await getJson('/api/v1/auditoria?from=2024-02-29', cookie)).res.status, 200);
});

test('Auditoria refuses a trader: 403 on the page, its JSON twin and the CSV', async () => {
  const s = await login(stack);
  const head = await lastId();
  for (const p of ['/auditoria', '/api/v1/auditoria', '/auditoria/export.csv', '/auditoria/export.csv?action=test.']) {
    const r = await stack.fetch(p, { headers: { cookie: s.cookie } });
    const text = await r.text();
    assert.equal(r.status, 403, `${p}: ${r.status}`);
    assert.ok(!text.includes('test.page_marker'), `${p} leaks no rows`);
    if (p.startsWith('/api/')) assert.equal(JSON.parse(text).error.code, 'forbidden');
  }
  assert.equal(await lastId(), head, 'no export recorded');
  const anon = await stack.fetch('/api/v1/auditoria');
  await anon.text();
  assert.equal(anon.status, 401);
});

test('CSV export: header, RFC 4180 quoting, formula neutralisation, the cap, and its own audit row', async () => {
  const cookie = await ceo();
  const formula = await append({ action: 'test.csv', type: 'link', id: '=HYPERLINK("http://evil.example/?x","click")' });
  const quoted = await append({ action: 'test.csv', type: 'text', id: 'a, "b"\r\nc', after: { k: 'v,w' } });
  const signs = await append({ action: 'test.csv', type: '+plus', id: '-1+2', ip: '@SUM(A1)', rid: '\tcmd' });
  const plain = await append({ action: 'test.csv', type: 'plain', id: '42' });

  const res = await stack.fetch('/auditoria/export.csv?action=test.csv', { headers: { cookie } });
  const text = await res.text();
  assert.equal(res.status, 200, text.slice(0, 300));
  assert.equal(res.headers.get('content-type'), 'text/csv; charset=utf-8');
  assert.match(res.headers.get('content-disposition'), new RegExp(`^attachment; filename="audit-${ids.today}\\.csv"$`));
  assert.equal(res.headers.get('x-truncated'), null, 'four rows are under the cap');
  const rows = parseCsv(text);
  assert.deepEqual(rows[0], ['id', 'at', 'tenant_id', 'actor_user_id', 'actor_email', 'action', 'object_type', 'object_id',
    'before', 'after', 'ip', 'request_id', 'hash']);
  assert.deepEqual(rows.slice(1).map((r) => Number(r[0])), [plain, signs, quoted, formula], 'newest first, only test.csv');
  const byId = Object.fromEntries(rows.slice(1).map((r) => [Number(r[0]), r]));
  assert.ok(rows.slice(1).every((r) => r.length === 13), 'thirteen fields each');
  assert.match(byId[plain][1], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'time in ISO 8601 UTC with microseconds');
  assert.equal(byId[plain][7], '42');
  // formula starts get an apostrophe, and the quotes/comma inside are still quoted
  assert.equal(byId[formula][7], `'=HYPERLINK("http://evil.example/?x","click")`);
  assert.ok(text.includes(`,"'=HYPERLINK(""http://evil.example/?x"",""click"")",`), 'raw RFC 4180 form');
  assert.equal(byId[quoted][7], 'a, "b"\r\nc', 'comma, quotes, CR and LF survive inside quotes');
  assert.ok(text.includes('"a, ""b""\r\nc"'), 'raw quoted form');
  assert.equal(byId[quoted][9], '{"k":"v,w"}');
  assert.equal(byId[signs][6], "'+plus");
  assert.equal(byId[signs][7], "'-1+2");
  assert.equal(byId[signs][10], "'@SUM(A1)");
  assert.equal(byId[signs][11], "'\tcmd");
  assert.equal(byId[plain][12], await psql(stack, `SELECT hash FROM audit_log WHERE id = ${plain}`), 'stored hash exported');

  // the export is itself audited, with its filters and row count
  const exp = await psql(stack, `SELECT action, actor_user_id, after->'filters'->>'action', after->>'rows', after->>'truncated'
    FROM audit_log ORDER BY id DESC LIMIT 1`);
  assert.equal(exp, `audit.export|${ids.ceo}|test.csv|4|false`);

  // the cap: 200 concurrent rows, at most EXPORT_CAP exported, X-Truncated set, newest first
  const capped = await stack.fetch('/auditoria/export.csv?action=test.concurrent', { headers: { cookie } });
  const ctext = await capped.text();
  assert.equal(capped.status, 200);
  assert.equal(capped.headers.get('x-truncated'), '1');
  const crows = parseCsv(ctext);
  assert.equal(crows.length - 1, EXPORT_CAP);
  const maxConcurrent = Number(await psql(stack, "SELECT max(id) FROM audit_log WHERE action = 'test.concurrent'"));
  assert.equal(Number(crows[1][0]), maxConcurrent);
  assert.equal(await psql(stack, "SELECT after->>'rows' || '|' || (after->>'truncated') FROM audit_log ORDER BY id DESC LIMIT 1"),
    `${EXPORT_CAP}|true`);
});

test('after everything above (restored tampering, web traffic, exports) the chain verifies intact', async () => {
  const n = await assertIntact('final');
  assert.equal(n, await lastId());
});
