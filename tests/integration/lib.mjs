// tests/integration/lib.mjs — helpers shared by the integration test files, on top of harness.mjs:
// raw HTTP on fresh connections, login/CSRF plumbing, psql/redis-cli access, polling and metric parsing.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { run, REPO } from './harness.mjs';

export { REPO };

export const DEMO = Object.freeze({ email: 'demo@botcriptofy.dev', password: 'demo-trader-2026' });

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn() until it returns a truthy value or timeoutMs passes; resolves that value (or the last one). */
export async function waitFor(fn, { timeoutMs = 10_000, intervalMs = 100 } = {}) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
    } catch (e) {
      last = undefined;
      if (Date.now() >= end) throw e;
    }
    if (last) return last;
    if (Date.now() >= end) return last;
    await sleep(intervalMs);
  }
}

/**
 * One HTTP/1.1 request on a fresh connection (no keep-alive, no pooling) with node:http, for the
 * cases fetch() cannot express: exact bytes in the path, Connection: close, huge header sets.
 * Resolves { status, headers (lower-case names; set-cookie is an array), body: Buffer, text }.
 */
export function rawRequest(baseUrl, rawPath, { method = 'GET', headers = {}, body, timeoutMs = 15_000 } = {}) {
  const u = new URL(baseUrl);
  if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') throw new Error('rawRequest: loopback only');
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: u.hostname,
      port: u.port,
      method,
      path: rawPath,
      agent: false,
      headers: { Connection: 'close', ...headers },
      timeout: timeoutMs,
      maxHeaderSize: 256 * 1024,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const b = Buffer.concat(chunks);
        resolve({ status: res.statusCode, headers: res.headers, body: b, text: b.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`rawRequest ${method} ${rawPath}: timed out`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Set-Cookie headers of a fetch() Response as [{name, value, attrs (lower-case keys), raw}]. */
export function setCookies(res) {
  const list = typeof res.headers.getSetCookie === 'function' ? res.headers.getSetCookie() : [];
  return list.map((raw) => {
    const [pair, ...rest] = raw.split(';');
    const eq = pair.indexOf('=');
    const attrs = {};
    for (const a of rest) {
      const [k, ...v] = a.trim().split('=');
      if (k) attrs[k.toLowerCase()] = v.join('=');
    }
    return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attrs, raw };
  });
}

export function findCookie(res, name) {
  return setCookies(res).find((c) => c.name === name);
}

/** The value of the hidden _csrf input of the first form in an HTML page (or null). */
export function csrfFromHtml(html) {
  const m = /name="_csrf" value="([^"]*)"/.exec(html);
  return m ? m[1] : null;
}

/** GET /login anonymously: resolves { cookie: 'bcf_csrf=...', token, res, html }. */
export async function anonCsrf(stack, headers = {}) {
  const res = await stack.fetch('/login', { headers });
  const html = await res.text();
  // __Host-bcf_csrf when the stack runs with session.secure_cookie = 1
  const c = findCookie(res, 'bcf_csrf') ?? findCookie(res, '__Host-bcf_csrf');
  if (!c) throw new Error(`GET /login set no bcf_csrf cookie (status ${res.status})`);
  return { cookie: `${c.name}=${c.value}`, token: c.value, res, html };
}

export const SESSION_COOKIE = 'bcf_session'; // session.cookie without __Host- when session.secure_cookie = 0

/**
 * Logs in through the real form (GET /login for the CSRF cookie, POST /login).
 * Resolves { cookie: 'bcf_session=...', sessionCookie (parsed), res }; throws unless the answer is 303.
 */
export async function login(stack, { email = DEMO.email, password = DEMO.password, next } = {}) {
  const a = await anonCsrf(stack);
  const form = new URLSearchParams({ _csrf: a.token, email, password });
  if (next !== undefined) form.set('next', next);
  const res = await stack.fetch('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: a.cookie },
    body: form.toString(),
  });
  const body = await res.text();
  if (res.status !== 303) throw new Error(`login failed: ${res.status} ${body.slice(0, 300)}`);
  const sc = findCookie(res, SESSION_COOKIE);
  if (!sc || !sc.value) throw new Error('login answered 303 without a session cookie');
  return { cookie: `${SESSION_COOKIE}=${sc.value}`, sessionCookie: sc, res, anon: a };
}

/**
 * The session's CSRF token, read from the logout form of the dashboard page — or of the 2FA page
 * for staff who must enrol first (the dashboard redirects them there).
 */
export async function sessionCsrf(stack, cookie) {
  let res = await stack.fetch('/dashboard', { headers: { cookie } });
  if (res.status === 303 && res.headers.get('location') === '/account/2fa') {
    await res.text();
    res = await stack.fetch('/account/2fa', { headers: { cookie } });
  }
  const html = await res.text();
  if (res.status !== 200) throw new Error(`GET /dashboard: ${res.status}`);
  const m = /action="\/logout"[\s\S]*?name="_csrf" value="([^"]*)"/.exec(html);
  return m ? m[1] : null;
}

/**
 * Runs SQL through psql on the stack's socket; resolves trimmed stdout (-t -A). As the
 * application's role (botcriptofy) unless `user` says otherwise: 'botcriptofy_owner' owns the
 * schema, 'postgres' is the superuser (to play an attacker with full access).
 */
export async function psql(stack, sql, { user = 'botcriptofy' } = {}) {
  const bin = stack.env.BCF_PG_BIN ? path.join(stack.env.BCF_PG_BIN, 'psql') : 'psql';
  const { stdout } = await run(bin, ['-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1',
    '-h', path.join(stack.varDir, 'run'), '-p', stack.env.BCF_PG_PORT, '-U', user, '-d', 'botcriptofy',
    '-c', sql], { timeoutMs: 30_000 });
  return stdout.trim();
}

/** redis-cli against the stack's Redis; resolves trimmed stdout. */
export async function redisCli(stack, ...args) {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', stack.env.BCF_REDIS_PORT, ...args],
    { timeoutMs: 10_000 });
  return stdout.trim();
}

/** Parses Prometheus text: [{name, labels: {..}, value}] for the sample lines. */
export function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable metrics line: ${line}`);
    const labels = {};
    if (m[2]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let lm;
      while ((lm = re.exec(m[2]))) labels[lm[1]] = lm[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of the samples named `name` whose labels include all of `match`. */
export function metricValue(samples, name, match = {}) {
  let sum = 0;
  let found = false;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) {
      sum += s.value;
      found = true;
    }
  }
  return found ? sum : 0;
}

/** GET /metrics and parse it; resolves { text, samples }. */
export async function scrape(stack) {
  const res = await stack.fetch('/metrics');
  const text = await res.text();
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return { text, samples: parseMetrics(text) };
}

/** Strict UTF-8 decode: throws on invalid bytes. */
export function decodeUtf8Strict(buf) {
  return new TextDecoder('utf-8', { fatal: true }).decode(buf);
}

/** Unique-ish id usable as an X-Request-Id. */
export function rid(prefix = 't') {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s) of a base32 secret at unix time t, computed with node:crypto. */
export function totpCode(secretB32, t = Date.now() / 1000, stepOffset = 0) {
  const alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secretB32.replace(/[\s=]/g, '').toUpperCase()) {
    const v = alpha.indexOf(ch);
    if (v < 0) throw new Error(`totpCode: bad base32 character ${ch}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const key = Buffer.alloc(Math.floor(bits.length / 8));
  for (let i = 0; i < key.length; i++) key[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(t / 30) + stepOffset));
  const h = createHmac('sha1', key).update(counter).digest();
  const o = h[h.length - 1] & 0x0f;
  const n = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1_000_000).padStart(6, '0');
}

/** GETs a path with the session cookie; resolves { res, json (null when not JSON), text }. */
export async function apiGet(stack, cookie, p) {
  const res = await stack.fetch(p, { headers: { cookie } });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { res, json, text };
}

/** POSTs JSON to an /api/v1 route with the session cookie and its CSRF header; resolves { res, json }. */
export async function apiPost(stack, cookie, csrf, p, body = {}) {
  const res = await stack.fetch(p, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { res, json, text };
}

/**
 * Enrols the signed-in user in TOTP 2FA through the real routes and leaves the session
 * stepped-up. Resolves { secret, recoveryCodes, cookie } — the session id rotates on enrolment,
 * so use the returned cookie (and read its CSRF token again with sessionCsrf) afterwards.
 */
export async function enrolTotp(stack, cookie) {
  const csrf = await sessionCsrf(stack, cookie);
  const setup = await apiPost(stack, cookie, csrf, '/api/v1/account/2fa/setup');
  if (setup.res.status !== 200 || !setup.json?.secret) throw new Error(`2fa setup: ${setup.res.status} ${setup.text.slice(0, 300)}`);
  const secret = setup.json.secret;
  const en = await apiPost(stack, cookie, csrf, '/api/v1/account/2fa/enable', { code: totpCode(secret) });
  if (en.res.status !== 200) throw new Error(`2fa enable: ${en.res.status} ${en.text.slice(0, 300)}`);
  const sc = findCookie(en.res, SESSION_COOKIE);
  return { secret, recoveryCodes: en.json.recovery_codes, cookie: sc ? `${SESSION_COOKIE}=${sc.value}` : cookie };
}

/**
 * Step-up: a fresh 2FA check for this session (POST /api/v1/account/2fa/verify). The code of
 * the next 30 s step is used, because the current one may already have been spent (replay guard).
 */
export async function stepUp(stack, cookie, secret) {
  const csrf = await sessionCsrf(stack, cookie);
  const r = await apiPost(stack, cookie, csrf, '/api/v1/account/2fa/verify', { code: totpCode(secret, Date.now() / 1000, 1) });
  if (r.res.status !== 200) throw new Error(`2fa verify: ${r.res.status} ${r.text.slice(0, 300)}`);
  return r;
}

/**
 * Login for an account with 2FA: POST /login (password) answers the second-step page holding
 * an mfa_token; POST /login/2fa with the code. Resolves like login().
 */
export async function loginMfa(stack, { email, password, secret, code }) {
  const a = await anonCsrf(stack);
  const res1 = await stack.fetch('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: a.cookie },
    body: new URLSearchParams({ _csrf: a.token, email, password }).toString(),
  });
  const html = await res1.text();
  const m = /name="mfa_token" value="([^"]+)"/.exec(html);
  if (res1.status !== 200 || !m) throw new Error(`login step 1: ${res1.status} ${html.slice(0, 300)}`);
  const res = await stack.fetch('/login/2fa', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: a.cookie },
    body: new URLSearchParams({ _csrf: a.token, mfa_token: m[1], code: code ?? totpCode(secret, Date.now() / 1000, 1) }).toString(),
  });
  const body = await res.text();
  if (res.status !== 303) throw new Error(`login step 2: ${res.status} ${body.slice(0, 300)}`);
  const sc = findCookie(res, SESSION_COOKIE);
  return { cookie: `${SESSION_COOKIE}=${sc.value}`, sessionCookie: sc, res, anon: a };
}

let traderSeq = 0;
/**
 * A trader of a new one-user tenant, signing in with the demo password (its hash is copied),
 * e-mail verified, with the terms and privacy policy in force accepted. `email` and `name` are
 * made up from `label` unless given. Resolves { id, tenantId, email }.
 */
export async function makeTrader(stack, label, { email, name } = {}) {
  const mail = email ?? `${label}-${process.pid}-${++traderSeq}@example.com`;
  const display = (name ?? `Trader ${label}`).replace(/'/g, "''");
  const row = await psql(stack, `
    WITH t AS (INSERT INTO tenants (kind, name, plan) VALUES ('trader', '${display}', 'free') RETURNING id),
    u AS (INSERT INTO users (tenant_id, email, display_name, password_hash, role, email_verified_at)
          SELECT t.id, '${mail}', '${display}', (SELECT password_hash FROM users WHERE email = '${DEMO.email}'),
                 'trader', now() FROM t RETURNING id, tenant_id)
    INSERT INTO user_roles (tenant_id, user_id, role_key) SELECT tenant_id, id, 'trader' FROM u
    RETURNING user_id || ',' || tenant_id`);
  const [id, tenantId] = row.split(',').map(Number);
  await psql(stack, `INSERT INTO consents (tenant_id, user_id, document, version, granted, ip)
    SELECT ${tenantId}, ${id}, document, max(version), true, '127.0.0.1' FROM legal_documents GROUP BY document`);
  return { id, tenantId, email: mail };
}
