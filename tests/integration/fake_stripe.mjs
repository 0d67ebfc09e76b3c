// tests/integration/fake_stripe.mjs — a local HTTP server speaking Stripe's REST wire format for the tests:
// Bearer secret keys, form-encoded bodies, idempotency keys replayed or refused as Stripe does, JSON objects and error bodies.
//
//   const fake = await startFakeStripe({ secretKey: 'sk_test_x', prices: ['price_pro'] });
//   startStack({ config: { 'stripe.api_base': fake.url, 'stripe.secret_key_file': file } });
//   fake.fail(1, { status: 500, path: '/v1/checkout/sessions' }); // the next matching request fails
//   fake.requests  // what it received: method, path, headers (lower-case), form (an object), status, replayed
//   const sub = fake.addSubscription({ customer, price: 'price_pro' }); // GET/POST /v1/subscriptions/{id} know it
import { randomBytes } from 'node:crypto';
import http from 'node:http';

const id = (prefix) => `${prefix}_${randomBytes(12).toString('hex')}`;

/** Stripe's error body and status. */
function stripeError(status, type, message, { code, param } = {}) {
  const error = { type, message };
  if (code) error.code = code;
  if (param) error.param = param;
  if (code) error.doc_url = `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`;
  return { status, body: { error } };
}

export async function startFakeStripe({ secretKey, prices = [] } = {}) {
  const customers = new Map();
  const idempotent = new Map(); // key → { path, raw, status, body }
  const faults = [];
  const requests = [];
  const knownPrices = new Set(prices);
  const subscriptions = new Map();
  const now = () => Math.floor(Date.now() / 1000);

  /** GET /v1/subscriptions/{id} and POST (update: items[0][id|price], proration_behavior, cancel_at_period_end). */
  function subscriptionCall(method, subId, f) {
    const sub = subscriptions.get(subId);
    if (!sub) return stripeError(404, 'invalid_request_error', `No such subscription: '${subId}'`, { code: 'resource_missing', param: 'id' });
    if (method === 'GET') return { status: 200, body: sub };
    if (f.proration_behavior !== undefined && !['create_prorations', 'none', 'always_invoice'].includes(f.proration_behavior)) {
      return stripeError(400, 'invalid_request_error', 'Invalid proration_behavior', { code: 'parameter_invalid_empty', param: 'proration_behavior' });
    }
    if (f.cancel_at_period_end !== undefined && !['true', 'false'].includes(f.cancel_at_period_end)) {
      return stripeError(400, 'invalid_request_error', 'Invalid boolean: ' + f.cancel_at_period_end, { code: 'parameter_invalid_boolean', param: 'cancel_at_period_end' });
    }
    const itemId = f['items[0][id]'];
    const price = f['items[0][price]'];
    const item = sub.items.data[0];
    if (price !== undefined) {
      if (itemId !== item.id) {
        return stripeError(400, 'invalid_request_error', `Invalid subscription_item: '${itemId}'`, { code: 'resource_missing', param: 'items[0][id]' });
      }
      if (!knownPrices.has(price)) {
        return stripeError(400, 'invalid_request_error', `No such price: '${price}'`, { code: 'resource_missing', param: 'items[0][price]' });
      }
      item.price = { id: price, object: 'price' };
    }
    if (f.cancel_at_period_end !== undefined) sub.cancel_at_period_end = f.cancel_at_period_end === 'true';
    return { status: 200, body: sub };
  }

  const handlers = {
    '/v1/customers': (f) => {
      const c = { id: id('cus'), object: 'customer', email: f.email ?? null, created: Math.floor(Date.now() / 1000),
        livemode: false, metadata: {} };
      for (const [k, v] of Object.entries(f)) {
        const m = /^metadata\[([^\]]+)\]$/.exec(k);
        if (m) c.metadata[m[1]] = v;
      }
      customers.set(c.id, c);
      return { status: 200, body: c };
    },
    '/v1/checkout/sessions': (f) => {
      if (!['payment', 'setup', 'subscription'].includes(f.mode)) {
        return stripeError(400, 'invalid_request_error', 'Invalid mode: must be one of payment, setup, or subscription',
          { code: 'parameter_invalid_empty', param: 'mode' });
      }
      if (f.customer && !customers.has(f.customer)) {
        return stripeError(400, 'invalid_request_error', `No such customer: '${f.customer}'`, { code: 'resource_missing', param: 'customer' });
      }
      const price = f['line_items[0][price]'];
      if (!knownPrices.has(price)) {
        return stripeError(400, 'invalid_request_error', `No such price: '${price}'`, { code: 'resource_missing', param: 'line_items[0][price]' });
      }
      if (!f.success_url) return stripeError(400, 'invalid_request_error', 'Missing required param: success_url.', { code: 'parameter_missing', param: 'success_url' });
      const s = id('cs_test');
      return { status: 200, body: { id: s, object: 'checkout.session', mode: f.mode, customer: f.customer ?? null,
        client_reference_id: f.client_reference_id ?? null, status: 'open', success_url: f.success_url,
        cancel_url: f.cancel_url ?? null, url: `https://checkout.stripe.com/c/pay/${s}#fid`, livemode: false } };
    },
    '/v1/billing_portal/sessions': (f) => {
      if (!customers.has(f.customer)) {
        return stripeError(400, 'invalid_request_error', `No such customer: '${f.customer}'`, { code: 'resource_missing', param: 'customer' });
      }
      return { status: 200, body: { id: id('bps'), object: 'billing_portal.session', customer: f.customer,
        return_url: f.return_url ?? null, url: `https://billing.stripe.com/p/session/test_${randomBytes(8).toString('hex')}`, livemode: false } };
    },
  };

  function answer(req, raw) {
    const auth = req.headers.authorization ?? '';
    if (auth !== `Bearer ${secretKey}`) {
      return stripeError(401, 'invalid_request_error', 'Invalid API Key provided: sk_test_****');
    }
    if (req.method === 'POST' && !(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return stripeError(400, 'invalid_request_error', 'Invalid request: the body must be form-encoded.');
    }
    const sm = /^\/v1\/subscriptions\/([A-Za-z0-9_]+)$/.exec(req.url);
    if (sm && (req.method === 'GET' || req.method === 'POST')) {
      return subscriptionCall(req.method, sm[1], Object.fromEntries(new URLSearchParams(raw)));
    }
    const handler = req.method === 'POST' ? handlers[req.url] : undefined;
    if (!handler) return stripeError(404, 'invalid_request_error', `Unrecognized request URL (${req.method}: ${req.url}).`);
    return handler(Object.fromEntries(new URLSearchParams(raw)));
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const key = req.headers['idempotency-key'];
      const rec = { method: req.method, path: req.url, headers: { ...req.headers }, raw,
        form: Object.fromEntries(new URLSearchParams(raw)), status: 0, replayed: false };
      requests.push(rec);
      let out;
      const fi = faults.findIndex((f) => !f.path || f.path === req.url);
      if (fi >= 0) {
        const f = faults[fi];
        if (--f.count <= 0) faults.splice(fi, 1);
        out = f.status >= 500
          ? stripeError(f.status, 'api_error', 'An unknown error occurred')
          : stripeError(f.status, f.type ?? 'invalid_request_error', f.message ?? 'Refused by the test', { code: f.code });
      } else if (key && idempotent.has(key)) {
        const first = idempotent.get(key);
        if (first.path !== req.url || first.raw !== raw) {
          out = stripeError(400, 'idempotency_error', `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`);
        } else {
          out = first;
          rec.replayed = true;
        }
      } else {
        out = answer(req, raw);
        // Stripe saves the result of a request that ran, errors included, but not a 5xx
        if (key && out.status < 500) idempotent.set(key, { path: req.url, raw, ...out });
      }
      rec.status = out.status;
      const headers = { 'content-type': 'application/json', 'request-id': id('req'), 'stripe-version': req.headers['stripe-version'] ?? '2024-06-20' };
      if (rec.replayed) headers['idempotent-replayed'] = 'true';
      res.writeHead(out.status, headers);
      res.end(JSON.stringify(out.body));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    customers,
    subscriptions,
    /** A subscription Stripe knows (as Checkout would have made it): its object, shaped as API 2024-06-20. */
    addSubscription({ customer, price, status = 'active', tenant, periodEnd = now() + 30 * 86400 }) {
      const sub = { id: id('sub'), object: 'subscription', customer, status,
        cancel_at_period_end: false, current_period_end: periodEnd, trial_end: null,
        metadata: tenant ? { tenant_id: String(tenant) } : {},
        items: { object: 'list', data: [{ id: id('si'), object: 'subscription_item', price: { id: price, object: 'price' } }] } };
      subscriptions.set(sub.id, sub);
      return sub;
    },
    /** The next `count` requests (to `path`, when given) answer `status` with Stripe's error body. */
    fail(count, { status = 500, path, type, code, message } = {}) {
      faults.push({ count, status, path, type, code, message });
    },
    clearFaults() { faults.length = 0; },
    /** Requests since index `from` (to `path`, when given). */
    since(from, path) { return requests.slice(from).filter((r) => !path || r.path === path); },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
