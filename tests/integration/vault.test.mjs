// tests/integration/vault.test.mjs — the credential vault on a real stack: exchange keys stored only as
// envelopes and shown only masked, step-up and tenant checks, and an online `botctl keys rotate` under reads.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { startStack } from './harness.mjs';
import { apiPost, enrolTotp, findCookie, login, makeTrader, psql, SESSION_COOKIE, sessionCsrf, sleep, stepUp } from './lib.mjs';
import { startFakeBinance } from './fake_binance.mjs';

// Recognisable values: any of them found in the database, a page or a log is a leak.
const KEY = 'VAULTKEY-7b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e';
const SECRET = 'VAULTSECRET-0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e';
const KEY2 = 'VAULTKEY2-aa11bb22cc33dd44ee55ff66aa77bb88';
const SECRET2 = 'VAULTSECRET2-99887766554433221100ffeeddccbbaa';
const PASSPHRASE = 'VAULTPASS-correct horse battery';
const KEY3 = 'VAULTKEY3-0123456789abcdef0123456789abcdef';
const SECRET3 = 'VAULTSECRET3-fedcba9876543210fedcba9876543210';
const PLAINTEXTS = [KEY, SECRET, KEY2, SECRET2, PASSPHRASE, KEY3, SECRET3];
const MASK = 'VAUL…4d5e'; // first 4 and last 4 of a 41-character key, 8/41 < 25%

let fake; // Binance keys are checked with the exchange before they are stored
let stack; // the main stack
let short; // session.stepup_s = 1: a step-up that has run out
const A = {}; // the demo trader (2FA enrolled, stepped up)
const B = {}; // another tenant's trader (2FA enrolled)


/** Signs in and enrols in 2FA (which leaves the session stepped up); resolves { cookie, csrf, secret }. */
async function enrolled(s, email, password) {
  const l = await login(s, { email, password });
  const en = await enrolTotp(s, l.cookie);
  return { cookie: en.cookie, csrf: await sessionCsrf(s, en.cookie), secret: en.secret };
}

function postForm(s, who, p, fields) {
  return s.fetch(p, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: who.cookie },
    body: new URLSearchParams({ _csrf: who.csrf, ...fields }).toString(),
  });
}

const count = async (s, where = 'true') => Number(await psql(s, `SELECT count(*) FROM credentials WHERE ${where}`));

before(async () => {
  fake = await startFakeBinance({ keys: { [KEY]: { secret: SECRET } } });
  // the refusals below are many more than ratelimit.credentials.validate allows a real user
  const config = { 'exchange.binance.base_url': fake.url, 'ratelimit.credentials.validate': '1000/min' };
  [stack, short] = await Promise.all([
    startStack({ config }),
    startStack({ config: { ...config, 'session.stepup_s': '1' } }),
  ]);
  Object.assign(A, await enrolled(stack, 'demo@botcriptofy.dev', 'demo-trader-2026'));
  A.id = Number(await psql(stack, "SELECT id FROM users WHERE email = 'demo@botcriptofy.dev'"));
  await makeTrader(stack, 'vault', { email: 'vault-b@example.com', name: 'Vault B' });
  Object.assign(B, await enrolled(stack, 'vault-b@example.com', 'demo-trader-2026'));
});

after(async () => {
  await Promise.all([stack?.stop(), short?.stop()]);
  await fake?.close();
});

test('bad input is refused with 422 and stores nothing', async () => {
  // HTML form without the secret: the form comes back with the field error, the key not echoed
  const res = await postForm(stack, A, '/credentials', { exchange: 'binance', label: 'Main', api_key: KEY });
  const html = await res.text();
  assert.equal(res.status, 422);
  assert.match(html, /name="api_secret"/);
  assert.match(html, /O segredo deve ter de 8 a 512|The secret must be 8 to 512/, 'the secret field error is shown');
  assert.ok(!html.includes(KEY), 'the typed key is not echoed back');
  assert.match(html, /value="Main"/, 'the label is kept');

  const cases = [
    { exchange: 'mtgox', label: 'x', api_key: KEY, api_secret: SECRET }, // unknown exchange
    { exchange: 'binance', label: 'x', api_key: KEY }, // missing secret
    { exchange: 'binance', label: '', api_key: KEY, api_secret: SECRET },
    { exchange: 'binance', label: 'x'.repeat(61), api_key: KEY, api_secret: SECRET },
    { exchange: 'binance', label: 'x', api_key: 'short', api_secret: SECRET },
    { exchange: 'binance', label: 'x', api_key: 'has space inside key', api_secret: SECRET },
    { exchange: 'binance', label: 'x', api_key: KEY, api_secret: 's'.repeat(513) },
    { exchange: 'binance', label: 'x', api_key: KEY, api_secret: SECRET, passphrase: 'p'.repeat(129) },
    { exchange: 'binance', label: 'x', api_key: KEY, api_secret: SECRET, permissions: 'withdraw' },
  ];
  for (const body of cases) {
    const r = await apiPost(stack, A.cookie, A.csrf, '/api/v1/credentials', body);
    assert.equal(r.res.status, 422, `${JSON.stringify(body).slice(0, 80)} → ${r.text.slice(0, 200)}`);
    assert.equal(r.json?.error?.code, 'invalid_credential');
    assert.ok(!r.text.includes(KEY) && !r.text.includes(SECRET), 'no secret in the error');
  }
  const unknown = await apiPost(stack, A.cookie, A.csrf, '/api/v1/credentials', cases[0]);
  assert.match(unknown.json.error.message, /exchange/);
  assert.equal(await count(stack), 0, 'nothing was stored');
  assert.equal(Number(await psql(stack, "SELECT count(*) FROM audit_log WHERE action = 'credentials.create'")), 0);
});

test('CSRF is required, and API tokens cannot add credentials', async () => {
  const res = await stack.fetch('/credentials', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: A.cookie },
    body: new URLSearchParams({ exchange: 'binance', label: 'x', api_key: KEY, api_secret: SECRET }).toString(),
  });
  const body = await res.text();
  assert.equal(res.status, 403, body.slice(0, 200));
  // a personal API token (even with write scope) reads the list but never changes it
  const tok = await apiPost(stack, A.cookie, A.csrf, '/api/v1/account/tokens', { name: 'bot', scope: 'write' });
  assert.equal(tok.res.status, 201, tok.text.slice(0, 200));
  const bearer = { authorization: `Bearer ${tok.json.token}` };
  const w = await stack.fetch('/api/v1/credentials', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer },
    body: JSON.stringify({ exchange: 'binance', label: 'x', api_key: KEY, api_secret: SECRET }),
  });
  const wj = await w.json();
  assert.equal(w.status, 403);
  assert.equal(wj.error.code, 'token_scope');
  const r = await stack.fetch('/api/v1/credentials', { headers: bearer });
  assert.equal(r.status, 200);
  assert.deepEqual((await r.json()).credentials, []);
  assert.equal(await count(stack), 0);
});

test('a credential is stored as envelopes and shown only masked', async () => {
  const res = await postForm(stack, A, '/credentials', {
    exchange: 'binance', label: 'Conta principal', api_key: KEY, api_secret: SECRET,
  });
  await res.text();
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/credentials');
  const r2 = await apiPost(stack, A.cookie, A.csrf, '/api/v1/credentials', {
    exchange: 'okx', label: 'OKX read', api_key: ` ${KEY2} `, api_secret: SECRET2, passphrase: PASSPHRASE,
    permissions: 'read',
  });
  assert.equal(r2.res.status, 201, r2.text.slice(0, 300));
  assert.equal(r2.json.credentials.length, 2);

  // the rows: envelopes under key 1, the mask beside them, and no plaintext anywhere in the row
  const rows = (await psql(stack, 'SELECT row_to_json(c)::text FROM credentials c ORDER BY id')).split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(rows.length, 2);
  for (const row of rows) {
    assert.match(row.api_key, /^1\|[A-Za-z0-9_-]{32}\|[A-Za-z0-9_-]+$/);
    assert.match(row.api_secret, /^1\|/);
    assert.equal(row.user_id, A.id);
    const text = JSON.stringify(row);
    for (const p of PLAINTEXTS) assert.ok(!text.includes(p), `row ${row.id} holds a plaintext`);
  }
  assert.equal(rows[0].passphrase, null);
  assert.match(rows[1].passphrase, /^1\|/);
  assert.equal(rows[1].permissions, 'read');
  assert.equal(rows[0].key_mask, MASK);
  assert.equal(rows[1].key_mask, 'VAUL…bb88', 'surrounding blanks were trimmed before masking');
  // the database itself refuses a plain value in an envelope column
  await assert.rejects(psql(stack, `UPDATE credentials SET api_secret = 'plain-secret' WHERE id = ${rows[0].id}`));

  // the page and its JSON twin: masks only
  const page = await stack.fetch('/credentials', { headers: { cookie: A.cookie } });
  const html = await page.text();
  assert.equal(page.status, 200);
  assert.ok(html.includes(MASK));
  assert.ok(html.includes('Conta principal'));
  const api = await stack.fetch('/api/v1/credentials', { headers: { cookie: A.cookie } });
  const text = await api.text();
  assert.equal(api.status, 200);
  const data = JSON.parse(text);
  assert.deepEqual(data.credentials.map((c) => c.key_mask), [MASK, 'VAUL…bb88']);
  assert.equal(data.credentials[1].has_passphrase, true);
  for (const p of PLAINTEXTS) {
    assert.ok(!html.includes(p), 'page shows a plaintext');
    assert.ok(!text.includes(p), 'JSON shows a plaintext');
    assert.ok(!text.includes('1|'), 'JSON shows an envelope');
  }
  // audited once each, by mask, never with the secret
  const audit = await psql(stack, "SELECT after::text FROM audit_log WHERE action = 'credentials.create' ORDER BY id");
  assert.equal(audit.split('\n').length, 2);
  assert.ok(audit.includes(MASK));
  for (const p of PLAINTEXTS) assert.ok(!audit.includes(p), 'the audit log holds a plaintext');
  A.credIds = rows.map((r) => r.id);
});

test("another tenant's user cannot see or delete the credential", async () => {
  const [id] = A.credIds;
  const res = await postForm(stack, B, `/credentials/${id}/delete`, {});
  await res.text();
  assert.equal(res.status, 404);
  const r = await apiPost(stack, B.cookie, B.csrf, `/api/v1/credentials/${id}/delete`);
  assert.equal(r.res.status, 404);
  assert.equal(await count(stack, `id = ${id}`), 1, 'still there');
  const list = await stack.fetch('/api/v1/credentials', { headers: { cookie: B.cookie } });
  assert.deepEqual((await list.json()).credentials, []);
  // ids that are not ids are the same 404
  const bad = await postForm(stack, A, '/credentials/1x/delete', {});
  await bad.text();
  assert.equal(bad.status, 404);
  assert.equal(Number(await psql(stack, "SELECT count(*) FROM audit_log WHERE action = 'credentials.delete'")), 0);
});

test('without 2FA, or once the step-up has run out, changes are refused', async () => {
  // on the short stack (session.stepup_s = 1): first without 2FA at all
  const l = await login(short, { email: 'demo@botcriptofy.dev', password: 'demo-trader-2026' });
  const csrf = await sessionCsrf(short, l.cookie);
  const body = { exchange: 'binance', label: 'x', api_key: KEY, api_secret: SECRET };
  const r1 = await apiPost(short, l.cookie, csrf, '/api/v1/credentials', body);
  assert.equal(r1.res.status, 403);
  assert.equal(r1.json?.error?.code, 'mfa_required');
  // enrolled, but the 2FA check is older than session.stepup_s
  const en = await enrolTotp(short, l.cookie);
  const csrf2 = await sessionCsrf(short, en.cookie);
  await sleep(2500);
  const r2 = await apiPost(short, en.cookie, csrf2, '/api/v1/credentials', body);
  assert.equal(r2.res.status, 403, r2.text.slice(0, 200));
  assert.equal(r2.json?.error?.code, 'step_up_required');
  // the page says where to confirm a code
  const page = await short.fetch('/credentials', { headers: { cookie: en.cookie } });
  assert.match(await page.text(), /\/account\/2fa\/verify\?next=\/credentials/);
  assert.equal(await count(short), 0);
});

test('botctl keys rotate re-seals every row online while requests keep reading', async () => {
  const before = (await psql(stack, 'SELECT api_key FROM credentials ORDER BY id')).split('\n');
  let reading = true;
  const seen = { ok: 0, bad: [] };
  const reader = (async () => {
    while (reading) {
      const res = await stack.fetch('/api/v1/credentials', { headers: { cookie: A.cookie } });
      const body = await res.text();
      if (res.status === 200 && JSON.parse(body).credentials.length >= 2) seen.ok++;
      else seen.bad.push(`${res.status} ${body.slice(0, 100)}`);
    }
  })();
  const rotation = stack.botctl('keys', 'rotate');
  // a credential added while the rotation runs ends up under the new key as well
  await sleep(300);
  const added = await apiPost(stack, A.cookie, A.csrf, '/api/v1/credentials', {
    exchange: 'kraken', label: 'during rotation', api_key: KEY3, api_secret: SECRET3,
  });
  const { stdout } = await rotation;
  reading = false;
  await reader;
  assert.equal(added.res.status, 201, added.text.slice(0, 200));
  assert.match(stdout, /added key 2 \(current\)/);
  assert.match(stdout, / 0 rows left under older keys/);
  assert.deepEqual(seen.bad, []);
  assert.ok(seen.ok > 5, `reads during the rotation: ${seen.ok}`);

  // every envelope is under key 2 now, the ciphertexts changed, the masks did not
  const env = (await psql(stack, `SELECT api_key FROM credentials UNION ALL SELECT api_secret FROM credentials
    UNION ALL SELECT passphrase FROM credentials WHERE passphrase IS NOT NULL
    UNION ALL SELECT totp_secret FROM users WHERE totp_secret IS NOT NULL`)).split('\n');
  assert.equal(env.length, 3 + 3 + 1 + 2);
  for (const e of env) assert.match(e, /^2\|[A-Za-z0-9_-]{32}\|[A-Za-z0-9_-]+$/);
  const afterKeys = (await psql(stack, 'SELECT api_key FROM credentials WHERE id <= ' +
    `${Math.max(...A.credIds)} ORDER BY id`)).split('\n');
  for (let i = 0; i < before.length; i++) assert.notEqual(afterKeys[i], before[i]);
  const list = await (await stack.fetch('/api/v1/credentials', { headers: { cookie: A.cookie } })).json();
  assert.deepEqual(list.credentials.map((c) => c.key_mask), [MASK, 'VAUL…bb88', 'VAUL…cdef']);

  // the re-sealed TOTP seed still opens in the web workers: a 2FA check passes after the rotation
  const su = await stepUp(stack, A.cookie, A.secret);
  // the check rotates the session id: carry on with the new one
  const sc = findCookie(su.res, SESSION_COOKIE);
  if (sc) {
    A.cookie = `${SESSION_COOKIE}=${sc.value}`;
    A.csrf = await sessionCsrf(stack, A.cookie);
  }

  // nothing is left under key 1, and a resume finds nothing to do
  const keys = await stack.botctl('keys', 'list');
  assert.match(keys.stdout, /^key 1: 0 rows$/m);
  assert.match(keys.stdout, /^key 2 \(current\): 9 rows$/m);
  const resume = await stack.botctl('keys', 'rotate', '--resume');
  assert.match(resume.stdout, /re-sealed 0 rows under key 2; 0 rows left under older keys/);
  // one audit row for the rotation (the empty resume changed nothing)
  const audit = (await psql(stack, "SELECT after::text FROM audit_log WHERE action = 'vault.rotate'")).split('\n');
  assert.equal(audit.length, 1);
  const a = JSON.parse(audit[0]);
  assert.equal(a.from_key, 1);
  assert.equal(a.to_key, 2);
  // 7 envelopes existed before; the one added meanwhile (2 more) was sealed under key 1 or 2
  assert.ok(a.rows === 7 || a.rows === 9, `rows ${a.rows}`);
  // the key file: still 0600, now two keys
  const keyfile = path.join(stack.varDir, 'etc', 'vault.keys');
  const text = await readFile(keyfile, 'utf8');
  assert.deepEqual(text.split('\n').filter((l) => /^\d+ /.test(l)).map((l) => l.split(' ')[0]), ['1', '2']);
});

test('rows that cannot be opened are reported, kept, and fail the run', async () => {
  // an envelope under a key the file does not hold (a restored old backup, say)
  const foreign = `9|${'A'.repeat(32)}|${'A'.repeat(40)}`;
  const id = await psql(stack, `INSERT INTO credentials (tenant_id, user_id, exchange, label, api_key, api_secret, key_mask)
    SELECT tenant_id, id, 'other', 'foreign', '${foreign}', '${foreign}', '••••' FROM users WHERE id = ${A.id}
    RETURNING id`);
  const list = await stack.botctl('keys', 'list').catch((e) => e);
  assert.equal(list.code, 1);
  assert.match(list.stdout, /^key 9 \(NOT IN THE KEY FILE\): 2 rows$/m);
  const resume = await stack.botctl('keys', 'rotate', '--resume').catch((e) => e);
  assert.equal(resume.code, 1);
  assert.match(resume.stderr, new RegExp(`credentials.api_key row ${id} cannot be opened`));
  assert.match(resume.stdout, /re-sealed 0 rows under key 2; 2 rows left under older keys/);
  assert.equal(await psql(stack, `SELECT api_key FROM credentials WHERE id = ${id}`), foreign, 'left as it was');
  await psql(stack, `DELETE FROM credentials WHERE id = ${id}`);
  assert.equal(Number(await psql(stack, "SELECT count(*) FROM audit_log WHERE action = 'vault.rotate'")), 1);
});

test('two rotations at once: one runs, the other is refused', async () => {
  const [r1, r2] = await Promise.all([
    stack.botctl('keys', 'rotate').catch((e) => e),
    stack.botctl('keys', 'rotate').catch((e) => e),
  ]);
  const outcomes = [r1, r2].map((r) => (r instanceof Error ? r.stderr : 'ok'));
  assert.equal(outcomes.filter((o) => o === 'ok').length, 1, outcomes.join(' / '));
  assert.ok(outcomes.some((o) => /another rotation is running/.test(o)), outcomes.join(' / '));
  const keyfile = path.join(stack.varDir, 'etc', 'vault.keys');
  const ids = (await readFile(keyfile, 'utf8')).split('\n').filter((l) => /^\d+ /.test(l)).map((l) => l.split(' ')[0]);
  assert.deepEqual(ids, ['1', '2', '3']);
  assert.equal((await stat(keyfile)).mode & 0o777, 0o600);
  const env = (await psql(stack, `SELECT api_key FROM credentials UNION ALL SELECT totp_secret FROM users
    WHERE totp_secret IS NOT NULL`)).split('\n');
  for (const e of env) assert.match(e, /^3\|/);
  assert.equal(Number(await psql(stack, "SELECT count(*) FROM audit_log WHERE action = 'vault.rotate'")), 2);
});

test('the owner deletes a credential: gone, audited by mask', async () => {
  const id = A.credIds[1];
  const res = await postForm(stack, A, `/credentials/${id}/delete`, {});
  await res.text();
  assert.equal(res.status, 303);
  assert.equal(await count(stack, `id = ${id}`), 0);
  const audit = await psql(stack, `SELECT before::text FROM audit_log WHERE action = 'credentials.delete'
    AND object_id = '${id}'`);
  assert.ok(audit.includes('VAUL…bb88'));
  // a second delete of the same id is a 404
  const again = await postForm(stack, A, `/credentials/${id}/delete`, {});
  await again.text();
  assert.equal(again.status, 404);
});

test('no log of the stack holds a secret', async () => {
  for (const s of [stack, short]) {
    const dir = path.join(s.varDir, 'log');
    const files = await readdir(dir);
    assert.ok(files.some((f) => f.startsWith('fcgi')), `logs in ${dir}: ${files.join(', ')}`);
    for (const f of files) {
      const text = await readFile(path.join(dir, f), 'utf8').catch(() => '');
      for (const p of [...PLAINTEXTS, A.secret, B.secret]) {
        assert.ok(!text.includes(p), `${f} holds a secret`);
      }
    }
  }
});
