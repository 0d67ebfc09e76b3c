// tests/bench/telegram_sink.mjs — the notify benchmark's Bot API server: the tests' fake (tests/integration/fake_telegram.mjs),
// plus a control port that reports the recorded calls as rates, so tests/bench/notify can check Telegram's limits.
//
//   node tests/bench/telegram_sink.mjs TOKEN        prints "api http://127.0.0.1:P" and "control http://127.0.0.1:Q"
//   GET  <control>/stats                            the successful sendMessage calls since the last reset:
//        { messages, chats, seconds (first to last arrival), per_s, max_1s (most calls in any window
//          shorter than 1 s, all chats), max_chat_1s (the same per chat), min_chat_gap_ms, max_gap_ms (the
//          longest silence between two messages), per_second (messages in each second from the first), errors }
//   POST <control>/reset                            forgets the calls recorded so far
// The windows are shortened by TOLERANCE_MS: the pacer spaces sends by Redis TIME and this server stamps
// arrivals, and the trip through libcurl and the loopback varies by a few milliseconds.
import http from 'node:http';
import { startFakeTelegram } from '../integration/fake_telegram.mjs';

const TOLERANCE_MS = 60;
const token = process.argv[2];
if (!token) {
  console.error('usage: node tests/bench/telegram_sink.mjs TOKEN');
  process.exit(2);
}
const fake = await startFakeTelegram({ token });

/** The most timestamps (sorted) in any window shorter than (1000 - TOLERANCE_MS) ms. */
function maxInWindow(ats) {
  let best = 0;
  for (let i = 0, j = 0; j < ats.length; j++) {
    while (ats[j] - ats[i] >= 1000 - TOLERANCE_MS) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

function stats() {
  const sends = fake.calls.filter((c) => c.method === 'sendMessage');
  const ok = sends.filter((c) => c.status === 200);
  const ats = ok.map((c) => c.at).sort((a, b) => a - b);
  const byChat = new Map();
  for (const c of ok) byChat.set(c.params.chat_id, [...(byChat.get(c.params.chat_id) ?? []), c.at]);
  let maxChat = 0;
  let minGap = Infinity;
  for (const list of byChat.values()) {
    list.sort((a, b) => a - b);
    maxChat = Math.max(maxChat, maxInWindow(list));
    for (let i = 1; i < list.length; i++) minGap = Math.min(minGap, list[i] - list[i - 1]);
  }
  let maxGap = 0;
  for (let i = 1; i < ats.length; i++) maxGap = Math.max(maxGap, ats[i] - ats[i - 1]);
  const perSecond = [];
  for (const t of ats) {
    const k = Math.floor((t - ats[0]) / 1000);
    perSecond[k] = (perSecond[k] ?? 0) + 1;
  }
  const seconds = ats.length > 1 ? (ats[ats.length - 1] - ats[0]) / 1000 : 0;
  return {
    messages: ok.length,
    chats: byChat.size,
    seconds: +seconds.toFixed(3),
    // n messages span n - 1 intervals
    per_s: seconds > 0 ? +((ok.length - 1) / seconds).toFixed(1) : null,
    max_1s: maxInWindow(ats),
    max_chat_1s: maxChat,
    min_chat_gap_ms: Number.isFinite(minGap) ? +minGap.toFixed(1) : null,
    max_gap_ms: +maxGap.toFixed(1),
    per_second: Array.from(perSecond, (n) => n ?? 0),
    errors: sends.length - ok.length,
  };
}

const control = http.createServer((req, res) => {
  const reply = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method === 'GET' && req.url === '/stats') return reply(200, stats());
  if (req.method === 'POST' && req.url === '/reset') {
    fake.reset();
    return reply(200, { ok: true });
  }
  return reply(404, { error: 'GET /stats or POST /reset' });
});
await new Promise((resolve) => control.listen(0, '127.0.0.1', resolve));
console.log(`api ${fake.url}`);
console.log(`control http://127.0.0.1:${control.address().port}`);
const stop = () => Promise.all([fake.close(), new Promise((r) => control.close(r))]).then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
