// tests/bench/webhook_load.mjs — the load generator of tests/bench/billing: signed Stripe events (a mix of
// types and redeliveries) or a plain GET (the baseline), over keep-alive connections, for a fixed time.
// Usage: node webhook_load.mjs BASE_URL webhook|health SECONDS CONNECTIONS [TENANT_IDS] (secret: BCF_STRIPE_WEBHOOK_SECRET)
// Prints one line: BENCH_JSON {"row", "requests", "seconds", "per_s", "p50_ms", "p99_ms", "errors", "outcomes"}.
import http from 'node:http';
import { createHmac, randomBytes } from 'node:crypto';

const [baseUrl, mode, seconds, conns, tenantCsv = ''] = process.argv.slice(2);
const secret = process.env.BCF_STRIPE_WEBHOOK_SECRET ?? '';
const url = new URL(baseUrl);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(conns) });
const tenants = tenantCsv.split(',').filter(Boolean);
const SUBS = tenants.length || 500;
const run = randomBytes(4).toString('hex');
const base = Math.floor(Date.now() / 1000) - 86400;
const sent = [];
let seq = 0;

/** The next event: subscription updates (newer each time), invoices, checkouts, unknown types, redeliveries. */
function nextEvent() {
  const r = Math.random();
  if (r < 0.2 && sent.length) return sent[Math.floor(Math.random() * sent.length)];
  const n = ++seq;
  // one customer and one subscription per tenant, as the product maps them (a tenant has one customer);
  // the same ids in the warm-up and the measured run, and created is the clock, so neither run's
  // events are stale for the other
  const k = n % SUBS;
  const sub = `sub_bench${k}`;
  const cus = `cus_bench${k}`;
  const created = Math.floor(Date.now() / 1000);
  let type;
  let object;
  if (r < 0.6) {
    type = k === n ? 'customer.subscription.created' : 'customer.subscription.updated';
    object = {
      id: sub, object: 'subscription', customer: cus, status: n % 7 ? 'active' : 'past_due', cancel_at_period_end: false,
      current_period_end: base + 30 * 86400, trial_end: null,
      metadata: tenants.length ? { tenant_id: tenants[k] } : {},
      items: { object: 'list', data: [{ id: `si_${sub}`, price: { id: n % 3 ? 'price_bench_pro' : 'price_bench_ent', object: 'price' } }] },
    };
  } else if (r < 0.8) {
    type = n % 5 ? 'invoice.paid' : 'invoice.payment_failed';
    object = { id: `in_bench_${run}_${n}`, object: 'invoice', customer: cus, subscription: sub, hosted_invoice_url: `https://invoice.stripe.com/i/${n}` };
  } else if (r < 0.9) {
    type = 'checkout.session.completed';
    object = { id: `cs_bench_${run}_${n}`, object: 'checkout.session', mode: 'subscription', customer: cus, subscription: sub,
      client_reference_id: tenants.length ? tenants[k] : null };
  } else {
    type = 'charge.succeeded';
    object = { id: `ch_bench_${run}_${n}`, object: 'charge' };
  }
  const body = JSON.stringify({ id: `evt_bench_${run}_${n}`, object: 'event', type, created, livemode: false,
    api_version: '2024-06-20', data: { object } });
  sent.push(body);
  if (sent.length > 5000) sent.shift();
  return body;
}

function request() {
  const webhook = mode === 'webhook';
  const body = webhook ? nextEvent() : undefined;
  const headers = {};
  if (webhook) {
    const t = Math.floor(Date.now() / 1000);
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(body);
    headers['stripe-signature'] = `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
  }
  return new Promise((resolve) => {
    const req = http.request({ host: url.hostname, port: url.port, agent, method: webhook ? 'POST' : 'GET',
      path: webhook ? '/webhooks/stripe' : '/health', headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        let outcome = String(res.statusCode);
        if (webhook && res.statusCode === 200) {
          try { outcome = JSON.parse(Buffer.concat(chunks).toString()).outcome; } catch { /* counted as the status */ }
        }
        resolve({ ok: res.statusCode === 200, outcome });
      });
    });
    req.on('error', () => resolve({ ok: false, outcome: 'connection_error' }));
    if (body) req.write(body);
    req.end();
  });
}

const lat = [];
const outcomes = {};
let errors = 0;
const deadline = performance.now() + Number(seconds) * 1000;
const t0 = performance.now();
await Promise.all(Array.from({ length: Number(conns) }, async () => {
  while (performance.now() < deadline) {
    const s = performance.now();
    const r = await request();
    lat.push(performance.now() - s);
    outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    if (!r.ok) errors++;
  }
}));
const secs = (performance.now() - t0) / 1000;
lat.sort((a, b) => a - b);
const pct = (p) => +(lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] ?? 0).toFixed(2);
console.log(`BENCH_JSON ${JSON.stringify({ row: mode === 'webhook' ? 'webhook' : 'baseline-health', requests: lat.length,
  seconds: +secs.toFixed(2), per_s: Math.round(lat.length / secs), p50_ms: pct(0.5), p99_ms: pct(0.99), errors, outcomes })}`);
agent.destroy();
