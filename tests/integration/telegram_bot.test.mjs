// tests/integration/telegram_bot.test.mjs — POST /telegram/webhook on a real stack, asserting on the
// telegram_outbox rows written: the secret header, duplicates, malformed updates, linking by code,
// every command, start/stop confirmed by callback_query, /backtest, /notifications, tenant isolation.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startStack } from './harness.mjs';
import { apiPost, login, makeTrader, psql, sessionCsrf, waitFor } from './lib.mjs';

const SECRET = randomBytes(24).toString('hex');
let stack;
let secretDir;
let nextUpdate = 900_000_000 + (process.pid % 10_000) * 1000;
let nextChat = 5_000_000_000 + (process.pid % 10_000) * 1000;

before(async () => {
  secretDir = await mkdtemp(path.join(tmpdir(), 'bcf-tg-'));
  const secretFile = path.join(secretDir, 'webhook_secret');
  await writeFile(secretFile, `${SECRET}\n`, { mode: 0o600 });
  stack = await startStack({ config: { 'telegram.webhook_secret_file': secretFile, 'telegram.bot_username': 'TestBcfBot' } });
  await stack.botctl('candles', 'synth', '--exchange', 'demo', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--from', '2024-01-01',
    '--count', '300', '--seed', '3');
});

after(async () => {
  await stack?.stop();
  if (secretDir) await rm(secretDir, { recursive: true, force: true });
});

const q = (sql) => psql(stack, sql);
const count = async (sql) => Number(await q(sql));

async function post(update, secret = SECRET) {
  const headers = { 'content-type': 'application/json' };
  if (secret !== null) headers['x-telegram-bot-api-secret-token'] = secret;
  const res = await stack.fetch('/telegram/webhook', { method: 'POST', headers, body: typeof update === 'string' ? update : JSON.stringify(update) });
  return { status: res.status, json: await res.json().catch(() => null) };
}

function message(chat, text, { id = ++nextUpdate, lang = 'pt-BR' } = {}) {
  return { update_id: id, message: { message_id: id % 100000, date: 1, chat: { id: chat, type: 'private' }, from: { id: chat, language_code: lang }, text } };
}

/** Sends text from chat; resolves the outbox rows that update wrote ({method, params}). */
async function say(chat, text, opts) {
  const u = message(chat, text, opts);
  const r = await post(u);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return outbox(u.update_id);
}

async function outbox(updateId) {
  const rows = await q(`SELECT coalesce(json_agg(json_build_object('method', method, 'params', params, 'chat', chat_id) ORDER BY id), '[]')
    FROM telegram_outbox WHERE dedupe_key LIKE 'upd:${updateId}:%'`);
  return JSON.parse(rows);
}

async function press(chat, data, messageId = 77) {
  const id = ++nextUpdate;
  const r = await post({ update_id: id, callback_query: { id: `cb${id}`, from: { id: chat }, data, message: { message_id: messageId, chat: { id: chat } } } });
  assert.equal(r.status, 200);
  return outbox(id);
}

/** A trader with a session, and a chat linked to them through the portal's code. */
async function linkedTrader(label) {
  const t = await makeTrader(stack, label);
  const { cookie } = await login(stack, { email: t.email });
  const csrf = await sessionCsrf(stack, cookie);
  const r = await apiPost(stack, cookie, csrf, '/api/v1/telegram/code');
  assert.equal(r.res.status, 201, r.text);
  assert.match(r.json.deep_link, /^https:\/\/t\.me\/TestBcfBot\?start=[0-9a-f]{32}$/);
  const chat = ++nextChat;
  const rows = await say(chat, `/start ${r.json.code}`);
  assert.match(rows[0].params.text, /Conta vinculada/);
  assert.equal(await count(`SELECT count(*) FROM telegram_links WHERE user_id = ${t.id} AND chat_id = ${chat}`), 1);
  return { ...t, cookie, csrf, chat, code: r.json.code };
}

test('a missing or wrong secret token is refused with 401 and nothing is stored', async () => {
  const u = message(++nextChat, '/help');
  assert.equal((await post(u, null)).status, 401);
  assert.equal((await post(u, 'wrong')).status, 401);
  assert.equal((await post(u, SECRET.slice(0, -1))).status, 401);
  assert.equal(await count(`SELECT count(*) FROM telegram_updates WHERE update_id = ${u.update_id}`), 0);
  assert.equal((await outbox(u.update_id)).length, 0);
});

test('a duplicate update_id has one effect; malformed updates answer 200 and change nothing', async () => {
  const chat = ++nextChat;
  const u = message(chat, '/help');
  assert.equal((await post(u)).json.outcome, 'handled');
  const again = await post(u);
  assert.equal(again.status, 200);
  assert.equal(again.json.outcome, 'duplicate');
  assert.equal((await outbox(u.update_id)).length, 1);
  const before = await count('SELECT count(*) FROM telegram_outbox');
  const bad = { update_id: ++nextUpdate, message: { text: 'no chat' } };
  const r = await post(bad);
  assert.equal(r.status, 200);
  assert.equal(r.json.outcome, 'malformed');
  assert.equal(await q(`SELECT outcome FROM telegram_updates WHERE update_id = ${bad.update_id}`), 'malformed');
  assert.equal((await post({ no: 'id' })).status, 200);
  assert.equal((await post([1, 2])).status, 200);
  // not JSON at all, or JSON nested past http.max_json_depth: still 200 (Telegram would resend it forever), nothing stored
  const updates = await count('SELECT count(*) FROM telegram_updates');
  for (const body of ['{"update_id": 5, "message": {', 'not json', '\u0000\u0001', '['.repeat(200) + ']'.repeat(200)]) {
    const m = await post(body);
    assert.equal(m.status, 200, body.slice(0, 20));
    assert.equal(m.json.outcome, 'malformed');
  }
  assert.equal(await count('SELECT count(*) FROM telegram_updates'), updates);
  // without the secret a body that is not JSON is refused like any other
  assert.equal((await post('not json', 'wrong')).status, 401);
  assert.equal(await count('SELECT count(*) FROM telegram_outbox'), before);
});

test('an unlinked chat gets the linking explanation; bad, used, expired and other-user codes change nothing', async () => {
  const chat = ++nextChat;
  assert.match((await say(chat, '/status'))[0].params.text, /vincule sua conta/);
  assert.match((await say(chat, '/start'))[0].params.text, /\/telegram/);
  assert.match((await say(chat, 'hello', { lang: 'en' }))[0].params.text, /link your account/);
  assert.match((await say(chat, '/start deadbeef'))[0].params.text, /inválido, expirado ou já usado/);
  const a = await linkedTrader('tg-link-a');
  // the used code again, from another chat
  assert.match((await say(chat, `/start ${a.code}`))[0].params.text, /já usado/);
  assert.equal(await count(`SELECT count(*) FROM telegram_links WHERE chat_id = ${chat}`), 0);
  // an expired code
  const r = await apiPost(stack, a.cookie, a.csrf, '/api/v1/telegram/code');
  await q(`UPDATE telegram_link_codes SET expires_at = now() - interval '1 second' WHERE user_id = ${a.id} AND used_at IS NULL`);
  assert.match((await say(chat, `/start ${r.json.code}`))[0].params.text, /expirado/);
  assert.equal(await count(`SELECT count(*) FROM telegram_links WHERE chat_id = ${chat}`), 0);
  // a's chat cannot be taken by b's code
  const b = await makeTrader(stack, 'tg-link-b');
  const { cookie } = await login(stack, { email: b.email });
  const bc = await apiPost(stack, cookie, await sessionCsrf(stack, cookie), '/api/v1/telegram/code');
  assert.match((await say(a.chat, `/start ${bc.json.code}`))[0].params.text, /outra conta/);
  assert.equal(await count(`SELECT count(*) FROM telegram_links WHERE user_id = ${b.id}`), 0);
  assert.equal(await count(`SELECT count(*) FROM telegram_links WHERE user_id = ${a.id} AND chat_id = ${a.chat}`), 1);
  assert.equal(await count(`SELECT count(*) FROM telegram_link_codes WHERE code_hash = encode(sha256('${bc.json.code}'), 'hex') AND used_at IS NULL`), 1);
  assert.ok(await count(`SELECT count(*) FROM audit_log WHERE action = 'telegram.link' AND actor_user_id = ${a.id}`) >= 1);
});

test('unlinking from the portal and from Telegram', async () => {
  const a = await linkedTrader('tg-unlink-a');
  const r = await apiPost(stack, a.cookie, a.csrf, '/api/v1/telegram/unlink');
  assert.equal(r.res.status, 200, r.text);
  assert.equal(r.json.linked, false);
  assert.equal(await count(`SELECT count(*) FROM telegram_links WHERE user_id = ${a.id}`), 0);
  const b = await linkedTrader('tg-unlink-b');
  assert.match((await say(b.chat, '/unlink'))[0].params.text, /desvinculado/);
  assert.equal(await count(`SELECT count(*) FROM telegram_links WHERE user_id = ${b.id}`), 0);
  assert.match((await say(b.chat, '/bots'))[0].params.text, /vincule sua conta/);
});

test('every command answers the linked user in their language, about their tenant only', async () => {
  const a = await linkedTrader('tg-cmds');
  const other = await makeTrader(stack, 'tg-other');
  const cfg = `'{"strategy":"sma_cross"}'`;
  const mine = await q(`INSERT INTO bots (tenant_id, user_id, name, exchange, symbol, timeframe, config, initial_balance, equity)
    VALUES (${a.tenantId}, ${a.id}, 'Mine BTC', 'demo', 'BTCUSDT', '1h', ${cfg}, 1000, 1100) RETURNING id`);
  const theirs = await q(`INSERT INTO bots (tenant_id, user_id, name, exchange, symbol, timeframe, config, initial_balance)
    VALUES (${other.tenantId}, ${other.id}, 'Theirs', 'demo', 'BTCUSDT', '1h', ${cfg}, 1000) RETURNING id`);
  await q(`INSERT INTO bot_trades (tenant_id, bot_id, seq, kind, trade_id, symbol, time_ms, price, qty, fee, pnl)
    VALUES (${a.tenantId}, ${mine}, 1, 'open', 1, 'BTCUSDT', (extract(epoch FROM now()) * 1000)::bigint - 7200000, 40000, 0.01, 0.4, NULL),
           (${a.tenantId}, ${mine}, 2, 'close', 1, 'BTCUSDT', (extract(epoch FROM now()) * 1000)::bigint - 3600000, 42000, 0.01, 0.4, 19.2),
           (${other.tenantId}, ${theirs}, 1, 'close', 1, 'BTCUSDT', (extract(epoch FROM now()) * 1000)::bigint, 1, 1, 0, 777.77)`);
  const text = async (cmd, lang) => (await say(a.chat, cmd, { lang }))[0].params.text;

  assert.match(await text('/help'), /\/startbot/);
  assert.match(await text('/start'), /\/backtest/);
  assert.match(await text('/status'), /Plano: <b>free<\/b> · Robôs rodando: <b>0<\/b> de 1/);
  assert.match(await text('/balance'), /Saldos disponíveis/);
  const bots = await text('/bots');
  assert.match(bots, new RegExp(`#${mine} Mine BTC`));
  assert.ok(!bots.includes('Theirs'));
  const trades = await text('/trades');
  assert.match(trades, /fechamento/);
  assert.match(trades, /PnL 19\.20/);
  assert.ok(!trades.includes('777'));
  assert.match(await text('/profit'), /Operações fechadas: <b>1<\/b> · Lucro total: <b>19\.20<\/b> · Acertos: 100%/);
  assert.match(await text('/daily'), /Lucro por dia[\s\S]*19\.20/);
  assert.match(await text('/weekly'), /Lucro por semana[\s\S]*19\.20/);
  assert.match(await text('/monthly'), /Lucro por mês[\s\S]*19\.20/);
  const perf = await text('/performance');
  assert.match(perf, new RegExp(`#${mine} Mine BTC: 1 operações, 100% acertos, lucro 19\\.20, retorno \\+10\\.00%`));
  assert.ok(!perf.includes('Theirs'));
  assert.match(await text('/frobnicate'), /Comando desconhecido: \/frobnicate/);
  assert.match(await text('what is up'), /Não entendi/);
  // the user's language decides, not the Telegram client's
  await q(`UPDATE users SET lang = 'en' WHERE id = ${a.id}`);
  assert.match(await text('/profit', 'pt-BR'), /Closed trades: <b>1<\/b>/);
  assert.match(await text('/startbot'), /Usage: \/startbot/);
  await q(`UPDATE users SET lang = 'pt-BR' WHERE id = ${a.id}`);

  // another tenant's bot: refused, nothing changes, no button offered; nor through a forged button
  const refused = await say(a.chat, `/startbot ${theirs}`);
  assert.match(refused[0].params.text, /não encontrado/);
  assert.equal(refused[0].params.reply_markup, undefined);
  const forged = await press(a.chat, `bot:start:${theirs}`);
  assert.ok(forged.some((r) => r.method === 'answerCallbackQuery'));
  assert.equal(await q(`SELECT status FROM bots WHERE id = ${theirs}`), 'stopped');

  // start, confirmed through the inline keyboard
  const ask = await say(a.chat, `/startbot ${mine}`);
  assert.match(ask[0].params.text, /Iniciar o robô/);
  const kb = ask[0].params.reply_markup.inline_keyboard[0];
  assert.equal(kb[0].callback_data, `bot:start:${mine}`);
  assert.equal(await q(`SELECT status FROM bots WHERE id = ${mine}`), 'stopped');
  const done = await press(a.chat, kb[0].callback_data, 4242);
  const answer = done.find((r) => r.method === 'answerCallbackQuery');
  assert.ok(answer?.params.callback_query_id);
  const edit = done.find((r) => r.method === 'editMessageText');
  assert.equal(edit.params.message_id, 4242);
  assert.match(edit.params.text, /rodando/);
  assert.equal(await q(`SELECT status FROM bots WHERE id = ${mine}`), 'running');
  assert.equal(await count(`SELECT count(*) FROM audit_log WHERE action = 'bots.start' AND object_id = '${mine}' AND actor_user_id = ${a.id}`), 1);
  // stop, and a cancelled confirmation that changes nothing
  const askStop = await say(a.chat, `/stopbot ${mine}`);
  const cancel = await press(a.chat, askStop[0].params.reply_markup.inline_keyboard[0][1].callback_data);
  assert.ok(cancel.some((r) => r.method === 'answerCallbackQuery'));
  assert.equal(await q(`SELECT status FROM bots WHERE id = ${mine}`), 'running');
  await press(a.chat, `bot:stop:${mine}`);
  assert.equal(await q(`SELECT status FROM bots WHERE id = ${mine}`), 'stopped');
});

test('/backtest queues a job for the linked user and the chat is told when it is done', async () => {
  const a = await linkedTrader('tg-backtest');
  assert.match((await say(a.chat, '/backtest nope BTCUSDT'))[0].params.text, /Estratégia desconhecida/);
  assert.match((await say(a.chat, '/backtest sma_cross NOPEUSDT'))[0].params.text, /Não há candles/);
  const rows = await say(a.chat, '/backtest sma_cross btcusdt');
  const m = rows[0].params.text.match(/Backtest #(\d+) na fila/);
  assert.ok(m, rows[0].params.text);
  const id = m[1];
  assert.equal(await q(`SELECT tenant_id || '/' || user_id FROM backtests WHERE id = ${id}`), `${a.tenantId}/${a.id}`);
  assert.equal(await count(`SELECT count(*) FROM jobs WHERE id = (SELECT job_id FROM backtests WHERE id = ${id})`), 1);
  await waitFor(async () => (await count(`SELECT count(*) FROM telegram_outbox WHERE dedupe_key = 'bt:${id}:done'`)) === 1, { timeoutMs: 30_000 });
  assert.match(await q(`SELECT params->>'text' FROM telegram_outbox WHERE dedupe_key = 'bt:${id}:done'`), new RegExp(`Backtest #${id} concluído`));
});

test('a /backtest whose job fails is answered once, in the user\'s language, with a reason safe to show', async () => {
  const a = await linkedTrader('tg-backtest-fail');
  // ml_signal with its default model: the job fails for good, as no prediction is stored for it
  const failed = async (lang, pattern) => {
    const rows = await say(a.chat, '/backtest ml_signal btcusdt', { lang });
    const m = rows[0].params.text.match(/Backtest #(\d+)/);
    assert.ok(m, rows[0].params.text);
    const id = m[1];
    const jobStatus = () => q(`SELECT status FROM jobs WHERE id = (SELECT job_id FROM backtests WHERE id = ${id})`);
    assert.equal(await waitFor(async () => ((await jobStatus()) === 'failed' ? 'failed' : null), { timeoutMs: 30_000 }), 'failed');
    assert.equal(await waitFor(() => count(`SELECT count(*) FROM telegram_outbox WHERE dedupe_key = 'bt:${id}:failed'`)), 1);
    const text = await q(`SELECT params->>'text' FROM telegram_outbox WHERE dedupe_key = 'bt:${id}:failed' AND chat_id = ${a.chat}`);
    assert.match(text, pattern);
    // the job's own error names the model and the fix; the chat is told in plain words only
    const jobError = await q(`SELECT coalesce(error, '') FROM jobs WHERE id = (SELECT job_id FROM backtests WHERE id = ${id})`);
    assert.match(jobError, /model \d+ has no predictions/);
    assert.ok(!text.includes(jobError) && !/model \d/.test(text), text);
    assert.equal(await count(`SELECT count(*) FROM telegram_outbox WHERE dedupe_key = 'bt:${id}:done'`), 0);
    return id;
  };
  const id = await failed('pt-BR', /^❌ Backtest #\d+ \(ml_signal em BTCUSDT, 1h\) não foi concluído: o modelo de ML não tem previsões para BTCUSDT/);
  // retried from the portal, the job fails again: the chat was already told
  const jobId = await q(`SELECT job_id FROM backtests WHERE id = ${id}`);
  const finished = await q(`SELECT finished_at FROM jobs WHERE id = ${jobId}`);
  const retry = await apiPost(stack, a.cookie, a.csrf, `/api/v1/jobs/${jobId}/retry`);
  assert.equal(retry.res.status, 200, retry.text);
  assert.ok(await waitFor(() => count(`SELECT count(*) FROM jobs WHERE id = ${jobId} AND status = 'failed' AND finished_at > '${finished}'`), { timeoutMs: 30_000 }));
  assert.equal(await count(`SELECT count(*) FROM telegram_outbox WHERE chat_id = ${a.chat} AND params->>'text' LIKE '%não foi concluído%'`), 1);
  await q(`UPDATE users SET lang = 'en' WHERE id = ${a.id}`);
  const en = await failed('en', /^❌ Backtest #\d+ \(ml_signal on BTCUSDT, 1h\) did not complete: the ML model has no predictions for BTCUSDT/);
  assert.notEqual(en, id);
  assert.equal(await count(`SELECT count(*) FROM telegram_outbox WHERE chat_id = ${a.chat} AND dedupe_key LIKE 'bt:%:failed'`), 2);
});

test('/notifications on|off|silent changes the Telegram preferences and quiet hours', async () => {
  const a = await linkedTrader('tg-notify');
  assert.match((await say(a.chat, '/notifications loud'))[0].params.text, /Uso: \/notifications/);
  await say(a.chat, '/notifications off');
  assert.equal(await count(`SELECT count(*) FROM notification_preferences WHERE user_id = ${a.id} AND channel = 'telegram' AND NOT enabled`), 8);
  await say(a.chat, '/notifications silent');
  assert.equal(await count(`SELECT count(*) FROM notification_preferences WHERE user_id = ${a.id} AND channel = 'telegram' AND enabled`), 8);
  assert.equal(await q(`SELECT start_min || '-' || end_min FROM notification_quiet_hours WHERE user_id = ${a.id}`), '1320-420');
  await say(a.chat, '/notifications on');
  assert.equal(await count(`SELECT count(*) FROM notification_quiet_hours WHERE user_id = ${a.id}`), 0);
});
