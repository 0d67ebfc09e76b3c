// tests/integration/banco.test.mjs — Banco on a real stack: deposits confirmed once, withdrawals behind 2FA step-up
// and their 3/h limit, reserve/cancel/approve/reject, pockets and transfers, and refusals that change nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startStack } from './harness.mjs';
import { apiGet, apiPost, enrolTotp, login, makeTrader, psql, sessionCsrf } from './lib.mjs';

const CEO = Object.freeze({ email: 'ceo@botcriptofy.dev', password: 'demo-company-2026' });

let stack;
let staff = null;
before(async () => {
  // the withdrawal limit (ratelimit.financeiro.withdraw_funds, 3/h) stays as configured: it is tested here
  stack = await startStack({ config: { 'ratelimit.banco.transfer': '1000/min', 'ratelimit.financeiro.create_transaction': '1000/min' } });
});
after(async () => { await stack?.stop(); });

const key = (p = 'k') => `${p}-${randomBytes(8).toString('hex')}`;

/** A signed-in session: { cookie, csrf, post(path, body, headers), get(path) }. */
async function session(cookie) {
  const csrf = await sessionCsrf(stack, cookie);
  return {
    cookie,
    csrf,
    post: (p, body = {}) => apiPost(stack, cookie, csrf, p, body),
    get: (p) => apiGet(stack, cookie, p),
  };
}

async function ceo() {
  if (!staff) staff = await session((await enrolTotp(stack, (await login(stack, CEO)).cookie)).cookie);
  return staff;
}

async function trader(label) {
  const t = await makeTrader(stack, label);
  return { ...t, s: await session((await login(stack, { email: t.email })).cookie) };
}

async function accounts(s) {
  const r = await s.get('/api/v1/banco');
  assert.equal(r.res.status, 200, r.text);
  return r.json;
}

async function wallet(s, cur = 'BRL') {
  return (await accounts(s)).accounts.find((a) => a.kind === 'wallet' && a.currency === cur);
}

/** Declares a deposit and has staff confirm it. */
async function fund(s, amount, cur = 'BRL') {
  const d = await s.post('/api/v1/banco/depositos', { currency: cur, amount, key: key('dep') });
  assert.equal(d.res.status, 201, d.text);
  const c = await (await ceo()).post(`/api/v1/banco/pedidos/${d.json.request.id}/confirmar`);
  assert.equal(c.res.status, 200, c.text);
  return d.json.request;
}

/** What must not change when a request is refused: the tenant's ledger and requests. */
async function footprint(tenantId) {
  return psql(stack, `SELECT (SELECT count(*) FROM ledger_transfers WHERE tenant_id = ${tenantId}) || '/' ||
    (SELECT count(*) FROM banco_requests WHERE tenant_id = ${tenantId}) || '/' ||
    (SELECT coalesce(string_agg(id || ':' || credits_posted || ':' || debits_posted || ':' || debits_pending, ',' ORDER BY id), '')
       FROM ledger_accounts WHERE tenant_id = ${tenantId})`);
}

test('a deposit confirmed twice at once credits the wallet once; a rejected one credits nothing', async () => {
  const a = await trader('dep');
  const before = await accounts(a.s);
  assert.deepEqual(before.accounts.filter((x) => x.kind === 'wallet').map((x) => x.currency), ['BRL', 'USDT', 'BTC'],
    'the first visit opens a wallet per currency');
  const k = key('dep');
  const d = await a.s.post('/api/v1/banco/depositos', { currency: 'BRL', amount: '100,00', key: k });
  assert.equal(d.res.status, 201, d.text);
  assert.equal(d.json.request.status, 'pending');
  assert.equal(d.json.request.amount_minor, 10000);
  assert.match(d.json.request.reference, /^DEP-[0-9A-F]{10}$/);
  const again = await a.s.post('/api/v1/banco/depositos', { currency: 'BRL', amount: '100,00', key: k });
  assert.equal(again.res.status, 200, 'a retried declaration finds the first');
  assert.equal(again.json.request.id, d.json.request.id);

  const id = d.json.request.id;
  // a trader is not Finance
  assert.equal((await a.s.post(`/api/v1/banco/pedidos/${id}/confirmar`)).res.status, 403);
  assert.equal((await a.s.get('/api/v1/banco/pedidos')).res.status, 403);

  const s = await ceo();
  const queue = (await s.get('/api/v1/banco/pedidos')).json.requests;
  assert.ok(queue.some((q) => q.id === id && q.pending), 'the staff queue lists the pending deposit');
  const [c1, c2] = await Promise.all([s.post(`/api/v1/banco/pedidos/${id}/confirmar`), s.post(`/api/v1/banco/pedidos/${id}/confirmar`)]);
  assert.deepEqual([c1.res.status, c2.res.status], [200, 200], `${c1.text} ${c2.text}`);
  const c3 = await s.post(`/api/v1/banco/pedidos/${id}/confirmar`);
  assert.equal(c3.res.status, 200);
  assert.equal(c3.json.request.status, 'confirmed');
  const w = await wallet(a.s);
  assert.equal(w.available_minor, 10000, 'credited once');
  assert.equal(w.available, 'R$ 100,00');
  assert.equal(await psql(stack, `SELECT count(*) FROM ledger_transfers WHERE tenant_id = ${a.tenantId} AND idempotency_key = 'deposit:${id}'`), '1');
  assert.equal(await psql(stack, `SELECT count(*) FROM audit_log WHERE action = 'banco.deposit_confirm' AND object_id = '${id}'`), '1');
  // the notice, from its template, in the user's language with the amount formatted for it
  const ref = c3.json.request.reference;
  assert.equal(await psql(stack, `SELECT title || '|' || body FROM notifications WHERE user_id = ${a.id} AND kind = 'banco.deposit_confirmed'`),
    `Depósito confirmado|Seu depósito de R$ 100,00 (ref. ${ref}) foi creditado na sua carteira.`);
  assert.equal((await s.post(`/api/v1/banco/pedidos/${id}/rejeitar`)).res.status, 409, 'a confirmed deposit cannot be rejected');
  const wrong = await s.post(`/api/v1/banco/pedidos/${id}/aprovar`);
  assert.deepEqual([wrong.res.status, wrong.json.error.code], [422, 'not_a_withdrawal'], 'a deposit is confirmed, not approved');

  await psql(stack, `UPDATE users SET lang = 'en' WHERE id = ${a.id}`);
  const r = await a.s.post('/api/v1/banco/depositos', { currency: 'USDT', amount: '1234.5', key: key('dep') });
  const rej = await s.post(`/api/v1/banco/pedidos/${r.json.request.id}/rejeitar`);
  assert.equal(rej.res.status, 200, rej.text);
  assert.equal(rej.json.request.status, 'rejected');
  const late = await s.post(`/api/v1/banco/pedidos/${r.json.request.id}/confirmar`);
  assert.equal(late.res.status, 409);
  assert.equal(late.json.error.code, 'already_decided');
  assert.equal((await wallet(a.s, 'USDT')).available_minor, 0);
  assert.equal(await psql(stack, `SELECT title || '|' || body FROM notifications WHERE user_id = ${a.id} AND kind = 'banco.deposit_rejected'`),
    `Deposit rejected|The deposit request of USDT 1,234.500000 (ref. ${r.json.request.reference}) was rejected: the transfer was not found. Contact support if you made it.`);
  await psql(stack, `UPDATE users SET lang = 'pt-BR' WHERE id = ${a.id}`);

  // the page, in both languages
  const pt = await stack.fetch('/banco', { headers: { cookie: a.s.cookie } });
  const html = await pt.text();
  assert.equal(pt.status, 200);
  assert.match(html, /R\$ 100,00/);
  assert.match(html, /Caixinha|caixinha/);
  assert.match(html, /name="key" value="[0-9a-f]{32}"/, 'the transfer form carries a fresh idempotency key');
  const en = await (await stack.fetch('/banco', { headers: { cookie: `${a.s.cookie}; lang=en` } })).text();
  assert.match(en, /New pocket/);
  assert.match(en, /BRL 100\.00/);
});

test('bad amounts, currencies and keys are refused with 422 and change nothing', async () => {
  const a = await trader('bad');
  await fund(a.s, '50');
  const w = await wallet(a.s);
  const p = await a.s.post('/api/v1/banco/caixinhas', { currency: 'BRL', name: 'Reserva' });
  assert.equal(p.res.status, 201, p.text);
  const fp = await footprint(a.tenantId);
  for (const amount of ['0', '-5', 'abc', '1e3', '1.234', '', '0,00', '99999999999999999999']) {
    const d = await a.s.post('/api/v1/banco/depositos', { currency: 'BRL', amount, key: key() });
    assert.equal(d.res.status, 422, `deposit ${amount}`);
    assert.equal(d.json.error.code, 'bad_amount');
    const t = await a.s.post('/api/v1/banco/transferencias', { from: w.id, to: p.json.pocket.account_id, amount, key: key() });
    assert.equal(t.res.status, 422, `transfer ${amount}`);
  }
  for (const m of ['-5', '0', '1.5', 'x']) {
    const t = await a.s.post('/api/v1/banco/transferencias', { from: w.id, to: p.json.pocket.account_id, amount_minor: m, key: key() });
    assert.equal(t.res.status, 422, `amount_minor ${m}`);
  }
  const eur = await a.s.post('/api/v1/banco/depositos', { currency: 'EUR', amount: '10', key: key() });
  assert.equal(eur.res.status, 422);
  assert.equal(eur.json.error.code, 'bad_currency');
  assert.equal((await a.s.post('/api/v1/banco/caixinhas', { currency: 'DOGE', name: 'x' })).res.status, 422);
  const badKey = await a.s.post('/api/v1/banco/transferencias', { from: w.id, to: p.json.pocket.account_id, amount: '1', key: 'has space' });
  assert.equal(badKey.res.status, 422);
  assert.equal(badKey.json.error.code, 'bad_key');
  assert.equal((await a.s.post('/api/v1/banco/transferencias', { from: 'abc', to: w.id, amount: '1' })).res.status, 422);
  assert.equal(await footprint(a.tenantId), fp, 'nothing changed');
});

test('pockets: transfers are idempotent, overdrafts and other tenants\' accounts are refused and change nothing', async () => {
  const a = await trader('pock');
  const b = await trader('other');
  await fund(a.s, '100');
  await fund(b.s, '100');
  const w = await wallet(a.s);
  const bw = await wallet(b.s);
  const p = await a.s.post('/api/v1/banco/caixinhas', { currency: 'BRL', name: 'Férias' });
  assert.equal(p.res.status, 201, p.text);
  assert.equal((await a.s.post('/api/v1/banco/caixinhas', { currency: 'BRL', name: 'Férias' })).res.status, 409);
  const pocket = p.json.pocket.account_id;

  const k = key('t');
  const t1 = await a.s.post('/api/v1/banco/transferencias', { from: w.id, to: pocket, amount: '30,00', key: k });
  assert.equal(t1.res.status, 201, t1.text);
  const t2 = await a.s.post('/api/v1/banco/transferencias', { from: w.id, to: pocket, amount: '30,00', key: k });
  assert.equal(t2.res.status, 200, 'the same key again: the first transfer');
  assert.equal(t2.json.transfer_id, t1.json.transfer_id);
  assert.equal(t2.json.result, 'exists');
  const t3 = await a.s.post('/api/v1/banco/transferencias', { from: w.id, to: pocket, amount: '31,00', key: k });
  assert.equal(t3.res.status, 409);
  assert.equal(t3.json.error.code, 'exists_with_different_fields');
  // the same key from the Idempotency-Key header
  const h = await stack.fetch('/api/v1/banco/transferencias', {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: a.s.cookie, 'x-csrf-token': a.s.csrf, 'idempotency-key': k },
    body: JSON.stringify({ from: w.id, to: pocket, amount_minor: '3000' }),
  });
  assert.equal(h.status, 200);
  assert.equal((await h.json()).transfer_id, t1.json.transfer_id);

  const d = await accounts(a.s);
  assert.equal(d.accounts.find((x) => x.id === pocket).available_minor, 3000);
  assert.equal(d.accounts.find((x) => x.id === w.id).available_minor, 7000);
  assert.ok(d.entries.some((e) => e.transfer_id === t1.json.transfer_id && e.account_id === pocket && e.change_minor === 3000),
    'the history shows the move');

  const fpA = await footprint(a.tenantId);
  const fpB = await footprint(b.tenantId);
  const over = await a.s.post('/api/v1/banco/transferencias', { from: pocket, to: w.id, amount: '30,01', key: key() });
  assert.equal(over.res.status, 409, over.text);
  assert.equal(over.json.error.code, 'exceeds_credits');
  assert.match(over.json.error.message, /Saldo insuficiente/);
  const toOther = await a.s.post('/api/v1/banco/transferencias', { from: w.id, to: bw.id, amount: '1', key: key() });
  assert.equal(toOther.res.status, 404);
  assert.equal(toOther.json.error.code, 'account_not_found');
  assert.equal((await a.s.post('/api/v1/banco/transferencias', { from: bw.id, to: w.id, amount: '1', key: key() })).res.status, 404);
  const ext = await psql(stack, `SELECT id FROM ledger_accounts WHERE tenant_id = ${a.tenantId} AND currency = 'BRL' AND code = 'external'`);
  assert.equal((await a.s.post('/api/v1/banco/transferencias', { from: ext, to: w.id, amount: '1', key: key() })).res.status, 404,
    'the outside world\'s account is not the user\'s to draw on');
  const usdt = await wallet(a.s, 'USDT');
  const mix = await a.s.post('/api/v1/banco/transferencias', { from: w.id, to: usdt.id, amount: '1', key: key() });
  assert.equal(mix.res.status, 422);
  assert.equal(mix.json.error.code, 'currency_mismatch');
  assert.equal((await a.s.post('/api/v1/banco/transferencias', { from: w.id, to: w.id, amount: '1', key: key() })).res.status, 422);
  assert.equal(await footprint(a.tenantId), fpA, 'the refused transfers changed nothing');
  assert.equal(await footprint(b.tenantId), fpB, 'nor the other tenant');
});

test('withdrawals: 2FA step-up required, reserve, cancel, approve, and the 4th in an hour is 429', async () => {
  const a = await trader('wd');
  await fund(a.s, '1000');
  const body = () => ({ currency: 'BRL', amount: '100', destination: 'pix: a@example.com', key: key('w') });
  const no = await a.s.post('/api/v1/banco/saques', body());
  assert.equal(no.res.status, 403);
  assert.equal(no.json.error.code, 'mfa_required');
  assert.match(no.json.error.message, /\S/);
  assert.equal(await psql(stack, `SELECT count(*) FROM banco_requests WHERE tenant_id = ${a.tenantId} AND kind = 'withdrawal'`), '0');

  const s = await session((await enrolTotp(stack, a.s.cookie)).cookie);
  const w1 = await s.post('/api/v1/banco/saques', body());
  assert.equal(w1.res.status, 201, w1.text);
  assert.equal(w1.json.request.status, 'pending');
  let w = await wallet(s);
  assert.equal(w.available_minor, 90000, 'the amount is reserved');
  assert.equal(w.pending_out_minor, 10000);
  assert.equal(await psql(stack, `SELECT kind || ':' || timeout_s FROM ledger_transfers WHERE id = ${w1.json.request.transfer_id}`), 'pending:604800');
  const c = await s.post(`/api/v1/banco/saques/${w1.json.request.id}/cancelar`);
  assert.equal(c.res.status, 200, c.text);
  assert.equal(c.json.request.status, 'canceled');
  w = await wallet(s);
  assert.equal(w.available_minor, 100000, 'the cancel released it');
  assert.equal(w.pending_out_minor, 0);
  assert.equal((await s.post(`/api/v1/banco/saques/${w1.json.request.id}/cancelar`)).res.status, 409);

  const w2 = await s.post('/api/v1/banco/saques', { ...body(), amount: '200' });
  assert.equal(w2.res.status, 201, w2.text);
  const notDeposit = await (await ceo()).post(`/api/v1/banco/pedidos/${w2.json.request.id}/confirmar`);
  assert.deepEqual([notDeposit.res.status, notDeposit.json.error.code], [422, 'not_a_deposit'], 'a withdrawal is approved, not confirmed');
  const ap = await (await ceo()).post(`/api/v1/banco/pedidos/${w2.json.request.id}/aprovar`);
  assert.equal(ap.res.status, 200, ap.text);
  assert.equal(ap.json.request.status, 'approved');
  w = await wallet(s);
  assert.equal(w.available_minor, 80000);
  assert.equal(w.posted_minor, 80000, 'the approval posted it');
  assert.equal(await psql(stack, `SELECT count(*) FROM notifications WHERE user_id = ${a.id} AND kind = 'banco.withdrawal_approved'`), '1');
  assert.equal((await s.post(`/api/v1/banco/saques/${w2.json.request.id}/cancelar`)).res.status, 409, 'too late to cancel');
  for (const action of ['banco.withdrawal_request', 'banco.withdrawal_canceled', 'banco.withdrawal_approved'])
    assert.ok(Number(await psql(stack, `SELECT count(*) FROM audit_log WHERE action = '${action}' AND tenant_id = ${a.tenantId}`)) >= 1, action);

  // the refused attempt without 2FA counted: this is the 4th in the hour
  const fp = await footprint(a.tenantId);
  const fourth = await s.post('/api/v1/banco/saques', body());
  assert.equal(fourth.res.status, 429, fourth.text);
  assert.equal(await footprint(a.tenantId), fp);
});

test('withdrawals: rejection releases the money, an overdraft creates nothing, a cancel racing an approval resolves once', async () => {
  const a = await trader('wd2');
  await fund(a.s, '500');
  const s = await session((await enrolTotp(stack, a.s.cookie)).cookie);
  const staffS = await ceo();
  const body = (amount) => ({ currency: 'BRL', amount, destination: 'conta 123', key: key('w') });

  const w1 = await s.post('/api/v1/banco/saques', body('300'));
  assert.equal(w1.res.status, 201, w1.text);
  const rj = await staffS.post(`/api/v1/banco/pedidos/${w1.json.request.id}/rejeitar`);
  assert.equal(rj.res.status, 200, rj.text);
  assert.equal(rj.json.request.status, 'rejected');
  assert.equal((await wallet(s)).available_minor, 50000);
  assert.equal(await psql(stack, `SELECT count(*) FROM notifications WHERE user_id = ${a.id} AND kind = 'banco.withdrawal_rejected'`), '1');
  const late = await staffS.post(`/api/v1/banco/pedidos/${w1.json.request.id}/aprovar`);
  assert.equal(late.res.status, 409);

  const fp = await footprint(a.tenantId);
  const over = await s.post('/api/v1/banco/saques', body('500,01'));
  assert.equal(over.res.status, 409);
  assert.equal(over.json.error.code, 'exceeds_credits');
  assert.equal(await footprint(a.tenantId), fp, 'a refused withdrawal leaves no reservation and no request');

  const w3 = await s.post('/api/v1/banco/saques', body('50'));
  assert.equal(w3.res.status, 201, w3.text);
  const id = w3.json.request.id;
  const [cancel, approve] = await Promise.all([
    s.post(`/api/v1/banco/saques/${id}/cancelar`),
    staffS.post(`/api/v1/banco/pedidos/${id}/aprovar`),
  ]);
  const statuses = [cancel.res.status, approve.res.status].sort();
  assert.deepEqual(statuses, [200, 409], `${cancel.text} ${approve.text}`);
  const resolution = await psql(stack, `SELECT kind FROM ledger_transfers WHERE pending_id = ${w3.json.request.transfer_id}`);
  const row = await psql(stack, `SELECT status FROM banco_requests WHERE id = ${id}`);
  assert.equal(row, resolution === 'post' ? 'approved' : 'canceled', 'the row follows the ledger');
  assert.equal((await wallet(s)).available_minor, resolution === 'post' ? 45000 : 50000);
});

test('the ledger is consistent after everything', async () => {
  const { stdout } = await stack.botctl('ledger', 'verify');
  assert.match(stdout, /ledger consistent/);
});
