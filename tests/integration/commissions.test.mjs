// commissions.test.mjs — commission accruals and payout runs on a real stack: idempotent accruals,
// a payout that moves exactly the payable balances over the minimum and pays nobody twice on a
// re-run, the ledger still consistent; the staff page's permission, step-up and input checks.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';
import { DEMO, apiPost, enrolTotp, login, makeTrader, psql, sessionCsrf } from './lib.mjs';

const CEO = Object.freeze({ email: 'ceo@botcriptofy.dev', password: 'demo-company-2026' });
let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

const botctl = (...a) => stack.botctl('commission', ...a);
const payable = (tenant, cur) => psql(stack, `SELECT coalesce((SELECT credits_posted - debits_posted - debits_pending
  FROM ledger_accounts WHERE code = 'commission_payable.${tenant}' AND currency = '${cur}'), 0)`);
const wallet = (tenant, cur) => psql(stack, `SELECT coalesce((SELECT credits_posted - debits_posted FROM ledger_accounts
  WHERE tenant_id = ${tenant} AND code = 'wallet' AND currency = '${cur}'), 0)`);
const ledgerRows = () => psql(stack, 'SELECT count(*) FROM ledger_transfers');

test('accrual is idempotent; a payout moves exactly the balances over the minimum, once per run key', async () => {
  const a = await makeTrader(stack, 'comm-a');
  const b = await makeTrader(stack, 'comm-b');
  const c = await makeTrader(stack, 'comm-c');
  assert.match((await botctl('accrue', a.tenantId, 'BRL', '1500', 'affiliate.signup', 'u1', `k-a1-${a.tenantId}`)).stdout, /^ok \d+/);
  const again = await botctl('accrue', a.tenantId, 'BRL', '1500', 'affiliate.signup', 'u1', `k-a1-${a.tenantId}`);
  assert.match(again.stdout, /^exists \d+/, 'the same key and fields answer exists');
  await assert.rejects(botctl('accrue', a.tenantId, 'BRL', '1501', 'affiliate.signup', 'u1', `k-a1-${a.tenantId}`), /conflict/);
  await assert.rejects(botctl('accrue', a.tenantId, 'EUR', '10', 'affiliate.signup', 'u1', `k-eur-${a.tenantId}`), /invalid/);
  await assert.rejects(botctl('accrue', '999999999', 'BRL', '10', 'affiliate.signup', 'u1', `k-none-${a.tenantId}`), /invalid/);
  await botctl('accrue', a.tenantId, 'BRL', '500', 'mmn.subscription', 's9', `k-a2-${a.tenantId}`);
  await botctl('accrue', b.tenantId, 'BRL', '300', 'affiliate.signup', 'u2', `k-b1-${b.tenantId}`);
  await botctl('accrue', c.tenantId, 'USDT', '7000000', 'affiliate.signup', 'u3', `k-c1-${c.tenantId}`);
  assert.equal(await payable(a.tenantId, 'BRL'), '2000', 'the retry added nothing');
  assert.equal(await psql(stack, `SELECT count(*) || '/' || sum(amount) FROM commissions WHERE beneficiary_tenant_id = ${a.tenantId}`), '2/2000');

  const run = `run-${a.tenantId}`;
  const first = await botctl('payout', 'BRL', '1000', run);
  assert.match(first.stdout, /paid 1 already_paid 0 skipped (\d+) failed 0 total_minor 2000 run_total_minor 2000/);
  assert.equal(await wallet(a.tenantId, 'BRL'), '2000');
  assert.equal(await payable(a.tenantId, 'BRL'), '0');
  assert.equal(await payable(b.tenantId, 'BRL'), '300', 'under the minimum: not paid');
  assert.equal(await wallet(b.tenantId, 'BRL'), '0');
  assert.equal(await payable(c.tenantId, 'USDT'), '7000000', 'another currency is not touched');
  assert.equal(await psql(stack, `SELECT string_agg(state, ',' ORDER BY id) FROM commissions WHERE beneficiary_tenant_id = ${a.tenantId}`), 'paid,paid');
  assert.equal(await psql(stack, `SELECT state FROM commissions WHERE beneficiary_tenant_id = ${b.tenantId}`), 'accrued');

  // a new commission after the run, then the same run again: nobody is paid twice
  await botctl('accrue', a.tenantId, 'BRL', '4000', 'affiliate.signup', 'u4', `k-a3-${a.tenantId}`);
  const rows = await ledgerRows();
  const rerun = await botctl('payout', 'BRL', '1000', run);
  assert.match(rerun.stdout, /paid 0 already_paid 1 .* total_minor 0 run_total_minor 2000/);
  assert.equal(await ledgerRows(), rows, 'the re-run wrote no transfer');
  assert.equal(await wallet(a.tenantId, 'BRL'), '2000');
  assert.equal(await payable(a.tenantId, 'BRL'), '4000');
  await assert.rejects(botctl('payout', 'BRL', '5', run), /conflict/, 'the same run key with another minimum');
  assert.match((await stack.botctl('ledger', 'verify')).stdout, /ledger consistent/);
  assert.equal(await psql(stack, `SELECT count(*) FROM audit_log WHERE action = 'financeiro.commission_payout' AND object_id = '${run}'`), '2');
});

test('Comissões page: permission, step-up, bad input changes nothing, a double submit pays once', async () => {
  const t = await makeTrader(stack, 'comm-page');
  await stack.botctl('commission', 'accrue', t.tenantId, 'BTC', '12345', 'affiliate.signup', 'p1', `k-p1-${t.tenantId}`);
  // a trader holds neither financeiro.read nor financeiro.manage
  const trader = await login(stack, { email: t.email, password: DEMO.password });
  {
    const res = await stack.fetch('/api/v1/financeiro/comissoes', { headers: { cookie: trader.cookie } });
    await res.text();
    assert.equal(res.status, 403);
    const csrf = await sessionCsrf(stack, trader.cookie);
    const post = await apiPost(stack, trader.cookie, csrf, '/api/v1/financeiro/comissoes/payout',
      { currency: 'BTC', minimum_minor: 0, run_key: 'payout-trader' });
    assert.equal(post.res.status, 403);
  }
  const cookie = (await enrolTotp(stack, (await login(stack, CEO)).cookie)).cookie;
  const page = await stack.fetch('/api/v1/financeiro/comissoes', { headers: { cookie } });
  const d = await page.json();
  assert.equal(page.status, 200);
  assert.ok(d.balances.some((b) => b.tenant_id === t.tenantId && b.balance_minor === 12345 && b.currency === 'BTC'));
  assert.match(d.run_key, /^payout-[0-9a-f]{24}$/);
  const csrf = await sessionCsrf(stack, cookie);
  const before = await ledgerRows();
  for (const bad of [{ currency: 'BTC', minimum_minor: -1 }, { currency: 'EUR', minimum_minor: 0 },
    { currency: 'BTC', minimum_minor: 'x' }, { currency: 'BTC', minimum_minor: 0, run_key: 'bad key!' }]) {
    const r = await apiPost(stack, cookie, csrf, '/api/v1/financeiro/comissoes/payout', { run_key: d.run_key, ...bad });
    assert.equal(r.res.status, 422, JSON.stringify(bad));
  }
  const noCsrf = await apiPost(stack, cookie, 'nope', '/api/v1/financeiro/comissoes/payout', { currency: 'BTC', minimum_minor: 0, run_key: d.run_key });
  assert.equal(noCsrf.res.status, 403);
  assert.equal(await ledgerRows(), before, 'refused requests moved nothing');
  assert.equal(await psql(stack, `SELECT count(*) FROM commission_payout_runs WHERE run_key = '${d.run_key}'`), '0');

  const body = { currency: 'BTC', minimum_minor: 10000, run_key: d.run_key };
  const one = await apiPost(stack, cookie, csrf, '/api/v1/financeiro/comissoes/payout', body);
  assert.equal(one.res.status, 200, one.text);
  assert.ok(one.json.paid >= 1 && one.json.total_minor >= 12345);
  const two = await apiPost(stack, cookie, csrf, '/api/v1/financeiro/comissoes/payout', body);
  assert.equal(two.res.status, 200);
  assert.equal(two.json.paid, 0);
  assert.equal(two.json.run_total_minor, one.json.run_total_minor);
  assert.equal(await wallet(t.tenantId, 'BTC'), '12345');
  const listed = await (await stack.fetch('/api/v1/financeiro/comissoes', { headers: { cookie } })).json();
  assert.ok(listed.runs.some((r) => r.run_key === d.run_key && r.total_minor === one.json.run_total_minor));
  const html = await (await stack.fetch('/financeiro/comissoes', { headers: { cookie } })).text();
  assert.match(html, /Comissões/);
  assert.match(html, /name="run_key" value="payout-[0-9a-f]{24}"/);
  assert.match((await stack.botctl('ledger', 'verify')).stdout, /ledger consistent/);
});
