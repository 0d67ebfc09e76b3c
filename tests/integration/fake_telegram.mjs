// tests/integration/fake_telegram.mjs — a local HTTP server speaking the Bot API's wire format for the tests:
// POST /bot<token>/<method> with a JSON body, answers {"ok":true,"result":...}, records every call with its arrival time.
//
//   const fake = await startFakeTelegram({ token: '123:abc' });
//   startStack({ config: { 'telegram.api_base': fake.url, 'telegram.bot_token_file': file } });
//   fake.fail({ status: 429, retryAfter: 2, chatId: 42 });   // the next matching call answers 429
//   fake.fail({ status: 500, times: 3 });                     // the next 3 calls answer 500
//   fake.calls   // [{ method, params, at (ms, performance clock), status }]
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export async function startFakeTelegram({ token }) {
  const calls = [];
  const faults = []; // { status, retryAfter, chatId, method, times }
  let messageId = 1000;
  let webhook = { url: '', has_custom_certificate: false, pending_update_count: 0 };

  const results = {
    sendMessage: (p) => ({ message_id: ++messageId, date: Math.floor(Date.now() / 1000), chat: { id: p.chat_id, type: 'private' }, text: p.text }),
    editMessageText: (p) => ({ message_id: p.message_id ?? ++messageId, chat: { id: p.chat_id, type: 'private' }, text: p.text }),
    answerCallbackQuery: () => true,
    setWebhook: (p) => {
      webhook = { ...webhook, url: p.url, allowed_updates: p.allowed_updates ?? [] };
      return true;
    },
    deleteWebhook: () => {
      webhook = { ...webhook, url: '' };
      return true;
    },
    getWebhookInfo: () => webhook,
    getMe: () => ({ id: Number(token.split(':')[0]), is_bot: true, first_name: 'Test', username: 'bcf_test_bot' }),
  };

  function takeFault(method, params) {
    const i = faults.findIndex((f) => (!f.method || f.method === method) && (f.chatId === undefined || f.chatId === params.chat_id));
    if (i < 0) return null;
    const f = faults[i];
    if (--f.times <= 0) faults.splice(i, 1);
    return f;
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const at = performance.timeOrigin + performance.now();
      const reply = (status, body) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(req.url);
      if (req.method !== 'POST' || !m) return reply(404, { ok: false, error_code: 404, description: 'Not Found' });
      if (m[1] !== token) return reply(401, { ok: false, error_code: 401, description: 'Unauthorized' });
      let params;
      try {
        params = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      } catch {
        return reply(400, { ok: false, error_code: 400, description: 'Bad Request: invalid JSON' });
      }
      const method = m[2];
      const call = { method, params, at, contentType: req.headers['content-type'], status: 200 };
      calls.push(call);
      const f = takeFault(method, params);
      if (f) {
        call.status = f.status;
        if (f.status === 429) {
          return reply(429, { ok: false, error_code: 429, description: `Too Many Requests: retry after ${f.retryAfter}`,
            parameters: { retry_after: f.retryAfter } });
        }
        return reply(f.status, { ok: false, error_code: f.status, description: f.description ?? 'Internal Server Error' });
      }
      const make = results[method];
      if (!make) {
        call.status = 404;
        return reply(404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
      }
      return reply(200, { ok: true, result: make(params) });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    /** The next `times` calls (of method, to chatId when given) answer status (429 carries retry_after). */
    fail({ status, retryAfter = 1, chatId, method, times = 1, description }) {
      faults.push({ status, retryAfter, chatId, method, times, description });
    },
    /** Calls of method (to chatId when given). */
    sent(method = 'sendMessage', chatId) {
      return calls.filter((c) => c.method === method && (chatId === undefined || c.params.chat_id === chatId));
    },
    reset() {
      calls.length = 0;
      faults.length = 0;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
