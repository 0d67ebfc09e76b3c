// notify_delivery.test.mjs — the worker delivering the notification outbox and the bot's telegram_outbox to a
// local Bot API server: rendered text once, order per chat, pacing, 429 retry_after, 5xx to failed, e-mail, botctl telegram.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startStack } from './harness.mjs';
import { startFakeTelegram } from './fake_telegram.mjs';
import { apiGet, enrolTotp, login, makeTrader, psql, sleep, waitFor } from './lib.mjs';

const TOKEN = `${100000 + Math.floor(Math.random() * 1e6)}:${randomBytes(18).toString('base64url')}`;
const WEBHOOK_SECRET = randomBytes(24).toString('hex');
// clocks: the pacer spaces sends by Redis TIME, the fake stamps arrivals; the gap between the two
// (a request's trip through libcurl and the loopback) varies by a few milliseconds
const TOLERANCE_MS = 60;
let stack;
let fake;
let dir;
let chatSeq = 7_000_000 + Math.floor(Math.random() * 1_000_000);

before(async () => {
  fake = await startFakeTelegram({ token: TOKEN });
  dir = await mkdtemp(path.join(tmpdir(), 'bcf-tg-'));
  await writeFile(path.join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
  await writeFile(path.join(dir, 'secret'), `${WEBHOOK_SECRET}\n`, { mode: 0o600 });
  stack = await startStack({
    config: {
      'telegram.api_base': fake.url,
      'telegram.bot_token_file': path.join(dir, 'token'),
      'telegram.webhook_secret_file': path.join(dir, 'secret'),
      'telegram.poll_ms': '50',
      'telegram.max_attempts': '3',
      'telegram.backoff_base_ms': '200',
      'telegram.backoff_max_ms': '400',
      'http.client.telegram.breaker_failures': '1000',
      'mail.capture_dir': path.join(dir, 'mail'),
      'log.level': 'debug', // the HTTP client's per-request lines too: none may show the token
    },
  });
});

after(async () => {
  await stack?.stop();
  await fake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const owner = (sql) => psql(stack, sql, { user: 'botcriptofy_owner' });
const q = (s) => `'${String(s).replace(/'/g, "''")}'`;

/** A trader with a linked chat: { id, tenantId, email, chatId }. */
async function linkedTrader(label) {
  const u = await makeTrader(stack, label);
  const chatId = ++chatSeq;
  await owner(`INSERT INTO telegram_links (user_id, tenant_id, chat_id) VALUES (${u.id}, ${u.tenantId}, ${chatId})`);
  return { ...u, chatId };
}

/** What notify_send leaves for a templated notification: the notification and its delivery row; resolves the delivery id. */
async function notifyRow(u, channel, data, { template = 'sistema.announcement', category = 'sistema' } = {}) {
  const n = await owner(`INSERT INTO notifications (tenant_id, user_id, kind, severity, title, body, category, template, data)
    VALUES (${u.tenantId}, ${u.id}, 'test.delivery', 'info', ${q(data.title)}, ${q(data.body)}, '${category}', '${template}', ${q(JSON.stringify(data))})
    RETURNING id`);
  return Number(await owner(`INSERT INTO notification_deliveries (notification_id, tenant_id, user_id, channel, dedupe_key)
    VALUES (${n}, ${u.tenantId}, ${u.id}, '${channel}', '${u.id}:${channel}:n${n}') RETURNING id`));
}

/** Bot API calls written to the bot's outbox; resolves their ids in order. */
async function outbox(rows) {
  const values = rows.map(({ chatId, text, method = 'sendMessage' }) => {
    const params = method === 'answerCallbackQuery' ? { callback_query_id: text } : { chat_id: chatId, text };
    return `(${chatId}, '${method}', ${q(JSON.stringify(params))}, 'test:${randomBytes(8).toString('hex')}')`;
  });
  const ids = await owner(`INSERT INTO telegram_outbox (chat_id, method, params, dedupe_key) VALUES ${values.join(', ')} RETURNING id`);
  return ids.split('\n').map(Number);
}

const statusOf = async (table, id) => owner(`SELECT status FROM ${table} WHERE id = ${id}`);
async function waitStatus(table, ids, statuses, timeoutMs = 20_000) {
  const list = Array.isArray(ids) ? ids : [ids];
  const ok = await waitFor(async () => {
    const got = await owner(`SELECT count(*) FROM ${table} WHERE id IN (${list.join(',')}) AND status IN (${statuses.map(q).join(',')})`);
    return Number(got) === list.length;
  }, { timeoutMs, intervalMs: 50 });
  assert.ok(ok, `${table} ${list.join(',')} reached ${statuses.join('/')}: ${await owner(`SELECT string_agg(id || '=' || status || ' ' || coalesce(last_error, ''), '; ') FROM ${table} WHERE id IN (${list.join(',')})`)}`);
}

test('a notification to a linked user reaches the Bot API once, rendered in the user\'s language and escaped for HTML', async () => {
  const u = await linkedTrader('tg-one');
  await owner(`UPDATE users SET lang = 'en' WHERE id = ${u.id}`);
  const id = await notifyRow(u, 'telegram', { title: 'Maintenance <tonight>', body: 'Orders & bots pause at 02:00' });
  await waitStatus('notification_deliveries', id, ['sent']);
  await sleep(300); // a second send would come within a poll or two
  const calls = fake.sent('sendMessage', u.chatId);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].params.text, 'Maintenance &lt;tonight&gt;\nOrders &amp; bots pause at 02:00');
  assert.equal(calls[0].params.parse_mode, 'HTML');
  assert.match(calls[0].contentType, /^application\/json/);
  const row = await owner(`SELECT attempts || ',' || (sent_at IS NOT NULL) || ',' || coalesce(last_error, '-') FROM notification_deliveries WHERE id = ${id}`);
  assert.equal(row, '1,true,-');
});

test('a delivery to a user without a linked chat, or with the channel turned off, is suppressed and never sent', async () => {
  const unlinked = await makeTrader(stack, 'tg-unlinked');
  const off = await linkedTrader('tg-off');
  await owner(`INSERT INTO notification_preferences (user_id, tenant_id, category, channel, enabled)
    VALUES (${off.id}, ${off.tenantId}, 'sistema', 'telegram', false)`);
  const a = await notifyRow(unlinked, 'telegram', { title: 'x', body: 'y' });
  const b = await notifyRow(off, 'telegram', { title: 'x', body: 'y' });
  await waitStatus('notification_deliveries', [a, b], ['suppressed']);
  assert.equal(fake.sent('sendMessage', off.chatId).length, 0);
});

test('the bot\'s outbox is sent in order per chat', async () => {
  const chat = ++chatSeq;
  const ids = await outbox([1, 2, 3, 4].map((i) => ({ chatId: chat, text: `reply ${i}` })));
  await waitStatus('telegram_outbox', ids, ['sent']);
  assert.deepEqual(fake.sent('sendMessage', chat).map((c) => c.params.text), ['reply 1', 'reply 2', 'reply 3', 'reply 4']);
});

test('pacing: never more than 1 message a second to one chat nor 30 a second overall', async () => {
  const start = fake.calls.length;
  const busy = ++chatSeq;
  const many = Array.from({ length: 45 }, () => ++chatSeq);
  const u = await linkedTrader('tg-pace');
  const rows = [
    ...Array.from({ length: 4 }, (_, i) => ({ chatId: busy, text: `busy ${i}` })),
    ...many.map((chatId) => ({ chatId, text: `hello ${chatId}` })),
  ];
  const ids = await outbox(rows);
  const notes = [];
  for (let i = 0; i < 3; i++) notes.push(await notifyRow(u, 'telegram', { title: `n${i}`, body: 'b' }));
  await waitStatus('telegram_outbox', ids, ['sent'], 30_000);
  await waitStatus('notification_deliveries', notes, ['sent'], 30_000);
  const calls = fake.calls.slice(start).filter((c) => c.status === 200);
  assert.ok(calls.length >= ids.length + notes.length);
  const byChat = new Map();
  for (const c of calls) byChat.set(c.params.chat_id, [...(byChat.get(c.params.chat_id) ?? []), c.at]);
  for (const [chat, ats] of byChat) {
    for (let i = 1; i < ats.length; i++) {
      assert.ok(ats[i] - ats[i - 1] >= 1000 - TOLERANCE_MS, `chat ${chat}: ${(ats[i] - ats[i - 1]).toFixed(1)} ms between two messages`);
    }
  }
  assert.equal(byChat.get(busy).length, 4);
  assert.equal(byChat.get(u.chatId).length, 3);
  const ats = calls.map((c) => c.at).sort((a, b) => a - b);
  let worst = 0;
  for (let i = 0; i < ats.length; i++) {
    let j = i;
    while (j < ats.length && ats[j] < ats[i] + 1000 - TOLERANCE_MS) j++;
    worst = Math.max(worst, j - i);
  }
  assert.ok(worst <= 30, `${worst} messages within one second`);
  assert.ok(worst >= 10, `the 45 chats were sent in parallel (${worst} in the busiest second)`);
});

test('a 429 with retry_after holds the chat: nothing to it before, then the message is sent exactly once', async () => {
  const chat = ++chatSeq;
  fake.fail({ status: 429, retryAfter: 2, chatId: chat });
  const [id] = await outbox([{ chatId: chat, text: 'after the flood' }]);
  await waitStatus('telegram_outbox', id, ['sent'], 15_000);
  await sleep(300);
  const calls = fake.sent('sendMessage', chat);
  assert.deepEqual(calls.map((c) => c.status), [429, 200]);
  assert.ok(calls[1].at - calls[0].at >= 2000 - TOLERANCE_MS, `${(calls[1].at - calls[0].at).toFixed(0)} ms after the 429`);
  assert.equal(await owner(`SELECT attempts FROM telegram_outbox WHERE id = ${id}`), '1'); // a 429 is not a failed attempt
});

test('5xx answers are retried with backoff, then the row is failed after telegram.max_attempts with its last error', async () => {
  const u = await linkedTrader('tg-500');
  fake.fail({ status: 500, chatId: u.chatId, times: 10, description: 'Internal Server Error: test' });
  const id = await notifyRow(u, 'telegram', { title: 'doomed', body: 'b' });
  await waitStatus('notification_deliveries', id, ['failed'], 20_000);
  const calls = fake.sent('sendMessage', u.chatId);
  assert.equal(calls.length, 3);
  assert.ok(calls[1].at - calls[0].at >= 100 - TOLERANCE_MS / 2, 'a backoff before the retry');
  const row = await owner(`SELECT attempts || '|' || last_error FROM notification_deliveries WHERE id = ${id}`);
  assert.match(row, /^3\|500 Internal Server Error: test$/);
  // listed for the staff (Configurações, admin.roles.read), page and JSON twin; a trader is refused
  const email = `entregas-${process.pid}@botcriptofy.dev`;
  await psql(stack, `WITH u AS (INSERT INTO users (tenant_id, email, display_name, password_hash, role, email_verified_at)
      SELECT tenant_id, '${email}', 'Employee entregas', password_hash, 'configuracoes.member', now()
      FROM users WHERE email = 'ceo@botcriptofy.dev' RETURNING id, tenant_id)
    INSERT INTO user_roles (tenant_id, user_id, role_key) SELECT tenant_id, id, 'configuracoes.member' FROM u`);
  await psql(stack, `INSERT INTO consents (tenant_id, user_id, document, version, granted, ip)
    SELECT u.tenant_id, u.id, d.document, max(d.version), true, '127.0.0.1' FROM users u, legal_documents d
    WHERE u.email = '${email}' GROUP BY u.tenant_id, u.id, d.document`);
  const { cookie } = await enrolTotp(stack, (await login(stack, { email, password: 'demo-company-2026' })).cookie);
  const api = await apiGet(stack, cookie, '/api/v1/configuracoes/entregas');
  assert.equal(api.res.status, 200, api.text);
  const mine = api.json.failed.find((d) => d.source === 'notification' && d.id === id);
  assert.deepEqual({ ...mine, created_at: undefined }, { source: 'notification', id, channel: 'telegram', what: 'sistema.announcement',
    attempts: 3, last_error: '500 Internal Server Error: test', tenant_id: u.tenantId, user_id: u.id, chat_id: null, created_at: undefined });
  const page = await apiGet(stack, cookie, '/configuracoes/entregas');
  assert.equal(page.res.status, 200);
  assert.match(page.text, new RegExp(`data-source="notification" data-id="${id}"[\\s\\S]*?500 Internal Server Error: test`));
  const trader = await login(stack, { email: u.email });
  assert.equal((await apiGet(stack, trader.cookie, '/api/v1/configuracoes/entregas')).res.status, 403);
});

test('an e-mail delivery is handed to the mail outbox and arrives in the capture sink', async () => {
  const u = await makeTrader(stack, 'mail-one');
  // financeiro: e-mail is on by default there (sistema's is off)
  const id = await notifyRow(u, 'email', { title: 'Weekly report', body: 'Your bots made 3 trades.' }, { category: 'financeiro' });
  await waitStatus('notification_deliveries', id, ['sent']);
  const mailDir = path.join(dir, 'mail');
  let found = null;
  const ok = await waitFor(async () => {
    const files = await readdir(mailDir).catch(() => []);
    for (const f of files.filter((x) => x.endsWith('.eml'))) {
      const text = await readFile(path.join(mailDir, f), 'utf8');
      if (text.includes(`To: ${u.email}`)) found = text;
    }
    return found !== null;
  }, { timeoutMs: 15_000 });
  assert.ok(ok, 'the message was captured');
  assert.match(found, /Subject: BotCriptoFy: Weekly report/);
  const body = Buffer.from(found.split('\r\n\r\n').slice(1).join('\r\n\r\n').replace(/\r\n/g, ''), 'base64').toString('utf8');
  assert.match(found.includes('Your bots made 3 trades.') ? found : body, /Your bots made 3 trades\.[\s\S]*BotCriptoFy/);
  // an unverified address is not written to
  const v = await makeTrader(stack, 'mail-unverified');
  await owner(`UPDATE users SET email_verified_at = NULL WHERE id = ${v.id}`);
  const s = await notifyRow(v, 'email', { title: 'x', body: 'y' }, { category: 'financeiro' });
  await waitStatus('notification_deliveries', s, ['suppressed']);
});

test('botctl telegram set-webhook, info and delete-webhook send the right Bot API calls', async () => {
  const start = fake.calls.length;
  const hook = 'https://portal.test/telegram/webhook';
  const set = await stack.botctl('telegram', 'set-webhook', hook, '--secret-from-config');
  assert.match(set.stdout, /true/);
  const info = await stack.botctl('telegram', 'info');
  assert.equal(JSON.parse(info.stdout).url, hook);
  await stack.botctl('telegram', 'delete-webhook');
  const calls = fake.calls.slice(start);
  assert.deepEqual(calls.map((c) => c.method), ['setWebhook', 'getWebhookInfo', 'deleteWebhook']);
  assert.deepEqual(calls[0].params, { url: hook, secret_token: WEBHOOK_SECRET, allowed_updates: ['message', 'callback_query'], drop_pending_updates: false });
  await assert.rejects(stack.botctl('telegram', 'set-webhook', 'http://insecure.test/hook'));
});

test('neither the worker nor botctl ever logs the bot token', async () => {
  assert.ok(fake.calls.length > 0);
  for (const name of ['worker', 'botctl', 'fcgi']) {
    const log = await stack.logs(name);
    assert.ok(!log.includes(TOKEN.split(':')[1]), `${name}.log shows the token`);
  }
  assert.match(await stack.logs('worker'), /bot\*\*\*\/sendMessage/); // the debug lines are there, with the token masked
});
