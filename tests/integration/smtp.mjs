// tests/integration/smtp.mjs — a small real SMTP server (node:net, loopback) that the worker's libcurl talks to in tests.
// It records every message ({from, to[], data}) and decodes headers (RFC 2047) and bodies (7bit/8bit/base64/QP) so tests can read links.
//
//   const smtp = await startSmtp();            // or startSmtp({ port }) to come back on a known port
//   stack = await startStack({ config: { 'mail.smtp_url': smtp.url } });
//   const m = await smtp.waitFor('a@b.dev', (m) => m.subject.includes('Confirm'));
//   m.subject, m.headers['message-id'], m.body, m.links
import net from 'node:net';

/** Decodes RFC 2047 encoded words (B and Q; UTF-8, ASCII or Latin-1) in a header value. */
export function decodeWords(value) {
  // white space between two adjacent encoded words is not part of the text (RFC 2047 §6.2)
  const joined = value.replace(/(=\?[^?]+\?[bBqQ]\?[^?]*\?=)\s+(?==\?[^?]+\?[bBqQ]\?[^?]*\?=)/g, '$1');
  return joined.replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (all, charset, enc, text) => {
    const cs = charset.toLowerCase().replace(/\*.*$/, '');
    const nodeCs = cs === 'utf-8' || cs === 'utf8' ? 'utf8' : cs === 'us-ascii' ? 'ascii' : cs === 'iso-8859-1' ? 'latin1' : null;
    if (!nodeCs) return all;
    let bytes;
    if (enc.toLowerCase() === 'b') {
      bytes = Buffer.from(text, 'base64');
    } else {
      bytes = Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    }
    return bytes.toString(nodeCs);
  });
}

/** Parses the message text (CRLF lines) into { headers (lower-case names; first wins), headerList, rawHeaders, body }. */
export function parseMessage(data) {
  const text = data.toString('latin1'); // bytes kept as they are until the body's charset is known
  const split = text.search(/\r?\n\r?\n/);
  const head = split < 0 ? text : text.slice(0, split);
  const rest = split < 0 ? '' : text.slice(split).replace(/^\r?\n\r?\n/, '');
  const headerList = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && headerList.length) headerList[headerList.length - 1].value += line;
    else {
      const i = line.indexOf(':');
      if (i > 0) headerList.push({ name: line.slice(0, i).trim().toLowerCase(), value: line.slice(i + 1).trim() });
    }
  }
  const headers = {};
  for (const h of headerList) {
    if (!(h.name in headers)) headers[h.name] = Buffer.from(h.value, 'latin1').toString('utf8');
  }
  const cte = (headers['content-transfer-encoding'] || '7bit').toLowerCase();
  let bodyBytes;
  if (cte === 'base64') bodyBytes = Buffer.from(rest.replace(/[\r\n\s]/g, ''), 'base64');
  else if (cte === 'quoted-printable') {
    bodyBytes = Buffer.from(rest.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1');
  } else bodyBytes = Buffer.from(rest, 'latin1');
  const body = new TextDecoder('utf-8', { fatal: true }).decode(bodyBytes).replace(/\r\n/g, '\n');
  return { headers, headerList, rawHeaders: head, body };
}

/**
 * Starts the server on 127.0.0.1 (port 0 = any free one). Resolves
 * { port, url, messages, waitFor(to, predicate, timeoutMs), stop() }.
 * Each message: { from, to: [..], data: Buffer, raw (latin1 text), headers, subject, body, links, taken }.
 */
export async function startSmtp({ port = 0, host = '127.0.0.1' } = {}) {
  const messages = [];
  const waiters = new Set();
  const sockets = new Set();

  function deliver(msg) {
    messages.push(msg);
    for (const w of waiters) w.check();
  }

  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let buffer = Buffer.alloc(0);
    let inData = false;
    let dataLines = [];
    let tx = { from: null, to: [] };
    const reply = (line) => { if (!sock.destroyed) sock.write(`${line}\r\n`); };

    function endData() {
      const data = Buffer.concat(dataLines.flatMap((l) => [l, Buffer.from('\r\n')]));
      let parsed;
      try {
        parsed = parseMessage(data);
      } catch (e) {
        parsed = { headers: {}, headerList: [], rawHeaders: '', body: `(undecodable: ${e.message})` };
      }
      const subject = decodeWords(parsed.headers.subject || '');
      deliver({
        from: tx.from,
        to: tx.to.slice(),
        data,
        raw: data.toString('latin1'),
        headers: parsed.headers,
        rawHeaders: parsed.rawHeaders,
        subject,
        body: parsed.body,
        links: parsed.body.match(/https?:\/\/[^\s<>"]+/g) || [],
        taken: false,
      });
      tx = { from: null, to: [] };
      reply(`250 2.0.0 OK queued as ${messages.length}`);
    }

    function command(lineBuf) {
      const line = lineBuf.toString('latin1');
      const verb = line.slice(0, 4).toUpperCase();
      const arg = line.slice(4);
      if (verb === 'EHLO') {
        reply(`250-test-smtp greets ${arg.trim() || 'you'}`);
        reply('250-8BITMIME');
        reply('250 SIZE 10485760');
      } else if (verb === 'HELO') {
        reply('250 test-smtp');
      } else if (verb === 'MAIL') {
        const m = /^\s*FROM:\s*<([^>]*)>/i.exec(arg);
        if (!m) return reply('501 5.5.4 syntax: MAIL FROM:<address>');
        tx = { from: m[1], to: [] };
        reply('250 2.1.0 OK');
      } else if (verb === 'RCPT') {
        const m = /^\s*TO:\s*<([^>]+)>/i.exec(arg);
        if (tx.from === null) return reply('503 5.5.1 MAIL first');
        if (!m) return reply('501 5.5.4 syntax: RCPT TO:<address>');
        tx.to.push(m[1]);
        reply('250 2.1.5 OK');
      } else if (verb === 'DATA') {
        if (!tx.to.length) return reply('503 5.5.1 RCPT first');
        inData = true;
        dataLines = [];
        reply('354 end data with <CR><LF>.<CR><LF>');
      } else if (verb === 'RSET') {
        tx = { from: null, to: [] };
        reply('250 2.0.0 OK');
      } else if (verb === 'NOOP') {
        reply('250 2.0.0 OK');
      } else if (verb === 'QUIT') {
        reply('221 2.0.0 bye');
        sock.end();
      } else if (verb === 'VRFY') {
        reply('252 2.1.5 cannot verify');
      } else {
        reply('502 5.5.2 command not implemented');
      }
    }

    sock.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const nl = buffer.indexOf('\r\n');
        if (nl < 0) break;
        const lineBuf = buffer.subarray(0, nl);
        buffer = buffer.subarray(nl + 2);
        if (inData) {
          if (lineBuf.length === 1 && lineBuf[0] === 0x2e) {
            inData = false;
            endData();
          } else {
            // dot-unstuffing: a leading "." was doubled by the client (RFC 5321 §4.5.2)
            dataLines.push(lineBuf[0] === 0x2e ? lineBuf.subarray(1) : lineBuf);
          }
        } else {
          command(lineBuf);
        }
      }
    });
    reply('220 test-smtp ESMTP ready');
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = server.address().port;

  return {
    port: actualPort,
    url: `smtp://${host}:${actualPort}`,
    messages,

    /**
     * Resolves the first message not yet taken by an earlier waitFor whose recipients include `to`
     * (case-insensitive) and that satisfies predicate(msg); it is marked taken. Rejects after timeoutMs.
     */
    waitFor(to, predicate = () => true, timeoutMs = 15_000) {
      const want = to.toLowerCase();
      return new Promise((resolve, reject) => {
        const w = {
          reject,
          check() {
            const m = messages.find((x) => !x.taken && x.to.some((t) => t.toLowerCase() === want) && predicate(x));
            if (!m) return false;
            m.taken = true;
            clearTimeout(w.timer);
            waiters.delete(w);
            resolve(m);
            return true;
          },
        };
        if (w.check()) return;
        w.timer = setTimeout(() => {
          waiters.delete(w);
          const seen = messages.map((x) => `${x.to.join(',')}: ${x.subject}`).join('; ');
          reject(new Error(`smtp: no message for ${to} within ${timeoutMs} ms (seen: ${seen || 'none'})`));
        }, timeoutMs);
        waiters.add(w);
      });
    },

    /** Messages to `to` so far (taken or not). */
    messagesTo(to) {
      const want = to.toLowerCase();
      return messages.filter((x) => x.to.some((t) => t.toLowerCase() === want));
    },

    /** Closes the listener and every open connection. */
    stop() {
      for (const w of waiters) {
        clearTimeout(w.timer);
        waiters.delete(w);
        w.reject(new Error(`smtp: stopped while waiting for a message`));
      }
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
