// tests/integration/fake_binance.mjs — a local HTTP server speaking Binance spot REST's wire format for the tests:
// API keys, HMAC-SHA256 signatures, timestamp/recvWindow against its own (skewable) clock, weight headers, real JSON shapes and error bodies.
//
//   const fake = await startFakeBinance({ keys: { KEY: { secret: SECRET } } });
//   startStack({ config: { 'exchange.binance.base_url': fake.url } });
//   fake.fail(2, { status: 503 });      // the next 2 matching requests fail
//   fake.fail(3, { path, method, skip: 1 }); // let one matching request through, fail the 3 after it
//   fake.hang(1);                       // the next request never gets an answer
//   fake.setMarketTime(ms);             // market data as of a past moment: klines closed by then, its price
//   await fake.down(); await fake.up(); // connection refused, then back on the same port
//   fake.requests                       // what it received: method, path, params, apiKey, status, code, at
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';

const MINUTE = 60_000;
const TF = { '1m': 60_000, '5m': 300_000, '15m': 900_000, '1h': 3_600_000, '4h': 14_400_000, '1d': 86_400_000 };

/** Exchange info of the listed symbols: the filters our adapter reads. */
const SYMBOLS = {
  BTCUSDT: { base: 'BTC', quote: 'USDT', price: '42000.01000000', stepSize: '0.00001000', minQty: '0.00001000', tickSize: '0.01000000', minNotional: '5.00000000' },
  ETHUSDT: { base: 'ETH', quote: 'USDT', price: '2500.50000000', stepSize: '0.00010000', minQty: '0.00010000', tickSize: '0.01000000', minNotional: '5.00000000' },
};

const ERR = {
  badKeyFormat: { status: 401, code: -2014, msg: 'API-key format invalid.' },
  badKey: { status: 401, code: -2015, msg: 'Invalid API-key, IP, or permissions for action.' },
  badSig: { status: 400, code: -1022, msg: 'Signature for this request is not valid.' },
  noTimestamp: { status: 400, code: -1102, msg: "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed." },
  ahead: { status: 400, code: -1021, msg: "Timestamp for this request was 1000ms ahead of the server's time." },
  late: { status: 400, code: -1021, msg: 'Timestamp for this request is outside of the recvWindow.' },
  badSymbol: { status: 400, code: -1121, msg: 'Invalid symbol.' },
  badInterval: { status: 400, code: -1120, msg: 'Invalid interval.' },
  duplicate: { status: 400, code: -2010, msg: 'Duplicate order sent.' },
  balance: { status: 400, code: -2010, msg: 'Account has insufficient balance for requested action.' },
  lot: { status: 400, code: -1013, msg: 'Filter failure: LOT_SIZE' },
  priceFilter: { status: 400, code: -1013, msg: 'Filter failure: PRICE_FILTER' },
  notional: { status: 400, code: -1013, msg: 'Filter failure: NOTIONAL' },
  noOrder: { status: 400, code: -2013, msg: 'Order does not exist.' },
  unknownOrder: { status: 400, code: -2011, msg: 'Unknown order sent.' },
  mandatory: { status: 400, code: -1102, msg: 'Mandatory parameter was not sent, was empty/null, or malformed.' },
  weight: { status: 429, code: -1003, msg: 'Too much request weight used; current limit is 6000 request weight per 1 MINUTE.' },
};

const FAULT_BODIES = {
  429: { code: -1003, msg: 'Too much request weight used; current limit is 6000 request weight per 1 MINUTE.' },
  418: { code: -1003, msg: 'Way too much request weight used; IP banned.' },
};

/** Decimal string arithmetic in units of 1e-8 (Binance's precision), as BigInt. */
const toU = (s) => {
  const [i, f = ''] = String(s).split('.');
  return BigInt(i || '0') * 100_000_000n + BigInt((f + '00000000').slice(0, 8));
};
const fromU = (u) => {
  const neg = u < 0n;
  const a = neg ? -u : u;
  return `${neg ? '-' : ''}${a / 100_000_000n}.${String(a % 100_000_000n).padStart(8, '0')}`;
};
const isDecimal = (s) => typeof s === 'string' && /^\d+(\.\d{1,8})?$/.test(s);

/** The deterministic candle of open time t: prices move with t, every row passes the database's checks. */
export function fakeKline(t, tfMs) {
  const base = 40000 + Number((BigInt(t) / BigInt(tfMs)) % 100n) * 10;
  return { openTime: t, open: base, high: base + 12, low: base - 7, close: base + 5, volume: 1.5 };
}

export async function startFakeBinance({ keys = {}, skewMs = 0, weightLimit = 6000 } = {}) {
  const accounts = new Map();
  const fake = {
    url: '',
    port: 0,
    requests: [],
    orders: [],
    skewMs,
    weightFloor: 0,
    faults: [],
    marketTime: null,
    marketTf: TF['1h'],

    /** Adds an API key: { secret, canTrade = true, balances = { USDT: '100000', BTC: '2' } }. */
    addKey(apiKey, { secret, canTrade = true, balances = { USDT: '100000.00000000', BTC: '2.00000000', ETH: '10.00000000' } }) {
      const bal = new Map();
      for (const [a, v] of Object.entries(balances)) bal.set(a, { free: toU(v), locked: 0n });
      accounts.set(apiKey, { secret, canTrade, balances: bal });
    },
    /** The next n requests matching { path, method } answer status (with Retry-After seconds when given),
     *  after the first `skip` of them went through untouched; with process: true the request is carried
     *  out first and only the answer is replaced (outcome unknown). */
    fail(n, { status = 503, retryAfter, path, method, process = false, skip = 0 } = {}) {
      fake.faults.push({ n, status, retryAfter, path, method, process, skip });
    },
    /** The next n requests matching { path, method } get no answer at all (a client timeout). */
    hang(n, { path, method } = {}) {
      fake.faults.push({ n, hang: true, path, method });
    },
    setSkew(ms) {
      fake.skewMs = ms;
    },
    /** Makes X-MBX-USED-WEIGHT-1M report at least n (as if other clients on the address used it). */
    setWeightFloor(n) {
      fake.weightFloor = n;
    },
    now() {
      return Date.now() + fake.skewMs;
    },
    /** Market data as of a past moment ms (null: now), for bots stepped candle by candle: klines end with
     *  the last candle closed by ms, and the ticker and market orders trade at the open of the candle of
     *  `timeframe` holding ms (fakeKline's). The server clock, which signatures are checked against, stays. */
    setMarketTime(ms, timeframe = '1h') {
      fake.marketTime = ms;
      fake.marketTf = TF[timeframe];
    },
    /** The price market orders fill at now. */
    price(symbol) {
      if (fake.marketTime === null) return SYMBOLS[symbol].price;
      const t = Math.floor(fake.marketTime / fake.marketTf) * fake.marketTf;
      return fakeKline(t, fake.marketTf).open.toFixed(8);
    },
    /** Requests received for path (and method). */
    count(path, method) {
      return fake.requests.filter((r) => r.path === path && (!method || r.method === method)).length;
    },
    reset() {
      fake.requests.length = 0;
      fake.faults.length = 0;
      fake.weightFloor = 0;
      fake.skewMs = 0;
      fake.marketTime = null;
      weights.clear();
    },
    /** Stops listening and drops every connection: clients get "connection refused". */
    async down() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(() => r()));
    },
    async up() {
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(fake.port, '127.0.0.1', () => resolve());
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(() => r()));
    },
  };
  for (const [k, v] of Object.entries(keys)) fake.addKey(k, v);

  const weights = new Map(); // server minute → weight used
  const sockets = new Set();
  let nextOrderId = 1000;

  function takeFault(method, path) {
    const f = fake.faults.find((x) => x.n > 0 && (!x.path || x.path === path) && (!x.method || x.method === method));
    if (!f) return null;
    if (f.skip > 0) {
      f.skip--;
      return null;
    }
    f.n--;
    return f;
  }

  function send(res, rec, status, body, extra = {}) {
    rec.status = status;
    rec.code = body && typeof body === 'object' && 'code' in body && status >= 400 ? body.code : 0;
    const minute = Math.floor(fake.now() / MINUTE);
    const used = Math.max(weights.get(minute) ?? 0, fake.weightFloor);
    res.writeHead(status, {
      'content-type': 'application/json;charset=UTF-8',
      'x-mbx-used-weight': String(used),
      'x-mbx-used-weight-1m': String(used),
      ...extra,
    });
    res.end(JSON.stringify(body));
  }

  const fail = (res, rec, e) => send(res, rec, e.status, { code: e.code, msg: e.msg });

  function weightOf(method, path, q) {
    if (path === '/api/v3/exchangeInfo' || path === '/api/v3/account') return 20;
    if (path === '/api/v3/ticker/price' || path === '/api/v3/klines') return 2;
    if (path === '/api/v3/openOrders') return q.get('symbol') ? 6 : 80;
    if (path === '/api/v3/order') return method === 'GET' ? 4 : 1;
    return 1;
  }

  /** Checks key, signature and timestamp; returns the account or answers the error itself. */
  function authenticate(req, res, rec, rawQuery, body) {
    const key = req.headers['x-mbx-apikey'];
    if (!key || !/^[A-Za-z0-9-]{8,256}$/.test(key)) return fail(res, rec, ERR.badKeyFormat), null;
    const acct = accounts.get(key);
    if (!acct) return fail(res, rec, ERR.badKey), null;
    // the signed payload is the query string without its signature parameter, then the body
    const parts = rawQuery.split('&').filter((p) => p.length);
    const sigPart = parts.find((p) => p.startsWith('signature='));
    const payload = parts.filter((p) => !p.startsWith('signature=')).join('&') + body;
    const given = Buffer.from(sigPart ? sigPart.slice(10) : '', 'utf8');
    const want = Buffer.from(createHmac('sha256', acct.secret).update(payload).digest('hex'), 'utf8');
    if (given.length !== want.length || !timingSafeEqual(given, want)) return fail(res, rec, ERR.badSig), null;
    const params = new URLSearchParams(rawQuery + (body ? `&${body}` : ''));
    const ts = Number(params.get('timestamp'));
    if (!params.get('timestamp') || !Number.isInteger(ts)) return fail(res, rec, ERR.noTimestamp), null;
    const recvWindow = Number(params.get('recvWindow') ?? 5000);
    const now = fake.now();
    if (ts >= now + 1000) return fail(res, rec, ERR.ahead), null;
    if (now - ts > recvWindow) return fail(res, rec, ERR.late), null;
    return acct;
  }

  function orderView(o) {
    return {
      symbol: o.symbol, orderId: o.orderId, orderListId: -1, clientOrderId: o.clientOrderId, transactTime: o.time,
      price: o.price, origQty: o.origQty, executedQty: o.executedQty, origQuoteOrderQty: '0.00000000',
      cummulativeQuoteQty: o.cummulativeQuoteQty, status: o.status, timeInForce: o.timeInForce, type: o.type,
      side: o.side, workingTime: o.time, selfTradePreventionMode: 'EXPIRE_MAKER',
    };
  }

  function queryView(o) {
    const v = orderView(o);
    delete v.transactTime;
    return { ...v, stopPrice: '0.00000000', icebergQty: '0.00000000', time: o.time, updateTime: o.updateTime, isWorking: true };
  }

  function findOrder(key, q) {
    const sym = q.get('symbol');
    if (q.get('orderId')) return fake.orders.find((o) => o.apiKey === key && o.symbol === sym && String(o.orderId) === q.get('orderId'));
    const cid = q.get('origClientOrderId');
    // the most recent order with that client id
    return [...fake.orders].reverse().find((o) => o.apiKey === key && o.symbol === sym && o.clientOrderId === cid);
  }

  function placeOrder(acct, key, q, res, rec) {
    const symbol = q.get('symbol');
    const s = SYMBOLS[symbol];
    if (!s) return fail(res, rec, ERR.badSymbol);
    const side = q.get('side');
    const type = q.get('type');
    const cid = q.get('newClientOrderId') || `fake${nextOrderId}`;
    if (!['BUY', 'SELL'].includes(side) || !['LIMIT', 'MARKET'].includes(type)) return fail(res, rec, ERR.mandatory);
    // Binance refuses a client id only while an order with it is still open
    if (fake.orders.some((o) => o.apiKey === key && o.clientOrderId === cid && ['NEW', 'PARTIALLY_FILLED'].includes(o.status))) {
      return fail(res, rec, ERR.duplicate);
    }
    let qty = q.get('quantity');
    const quoteQty = q.get('quoteOrderQty');
    const price = type === 'LIMIT' ? q.get('price') : fake.price(symbol);
    if (type === 'LIMIT' && (!isDecimal(price) || !q.get('timeInForce'))) return fail(res, rec, ERR.mandatory);
    if (type === 'MARKET' && !qty && isDecimal(quoteQty)) {
      const step = toU(s.stepSize);
      qty = fromU(((toU(quoteQty) * 100_000_000n) / toU(price) / step) * step);
    }
    if (!isDecimal(qty)) return fail(res, rec, ERR.mandatory);
    const qu = toU(qty);
    if (qu < toU(s.minQty) || qu % toU(s.stepSize) !== 0n) return fail(res, rec, ERR.lot);
    if (toU(price) % toU(s.tickSize) !== 0n) return fail(res, rec, ERR.priceFilter);
    const notional = (qu * toU(price)) / 100_000_000n;
    if (notional < toU(s.minNotional)) return fail(res, rec, ERR.notional);
    const payAsset = side === 'BUY' ? s.quote : s.base;
    const payAmount = side === 'BUY' ? notional : qu;
    const bal = acct.balances.get(payAsset) ?? { free: 0n, locked: 0n };
    if (bal.free < payAmount) return fail(res, rec, ERR.balance);
    const now = fake.now();
    const o = {
      apiKey: key, symbol, orderId: nextOrderId++, clientOrderId: cid, time: now, updateTime: now, price: type === 'LIMIT' ? fromU(toU(price)) : '0.00000000',
      origQty: fromU(qu), executedQty: '0.00000000', cummulativeQuoteQty: '0.00000000', status: 'NEW',
      timeInForce: type === 'LIMIT' ? q.get('timeInForce') : 'GTC', type, side, lockedAsset: payAsset, lockedAmount: 0n,
    };
    bal.free -= payAmount;
    acct.balances.set(payAsset, bal);
    if (type === 'MARKET') {
      o.status = 'FILLED';
      o.executedQty = fromU(qu);
      o.cummulativeQuoteQty = fromU(notional);
      const getAsset = side === 'BUY' ? s.base : s.quote;
      const g = acct.balances.get(getAsset) ?? { free: 0n, locked: 0n };
      g.free += side === 'BUY' ? qu : notional;
      acct.balances.set(getAsset, g);
    } else {
      bal.locked += payAmount;
      o.lockedAmount = payAmount;
    }
    fake.orders.push(o);
    return send(res, rec, 200, orderView(o));
  }

  function cancelOrder(acct, key, q, res, rec) {
    if (!SYMBOLS[q.get('symbol')]) return fail(res, rec, ERR.badSymbol);
    const o = findOrder(key, q);
    if (!o || !['NEW', 'PARTIALLY_FILLED'].includes(o.status)) return fail(res, rec, ERR.unknownOrder);
    o.status = 'CANCELED';
    o.updateTime = fake.now();
    const bal = acct.balances.get(o.lockedAsset);
    bal.locked -= o.lockedAmount;
    bal.free += o.lockedAmount;
    o.lockedAmount = 0n;
    return send(res, rec, 200, { ...orderView(o), origClientOrderId: o.clientOrderId, clientOrderId: `cancel${o.orderId}` });
  }

  function klines(q, res, rec) {
    const symbol = q.get('symbol');
    if (!SYMBOLS[symbol]) return fail(res, rec, ERR.badSymbol);
    const tf = TF[q.get('interval')];
    if (!tf) return fail(res, rec, ERR.badInterval);
    const limit = Math.min(Number(q.get('limit') ?? 500), 1000);
    const now = fake.now();
    const end = q.get('endTime') ? Number(q.get('endTime')) : now;
    let t = q.get('startTime') ? Math.ceil(Number(q.get('startTime')) / tf) * tf : Math.floor(now / tf) * tf - (limit - 1) * tf;
    const out = [];
    // the candle still open is included, as Binance does: its close time lies in the future (with a
    // market time set, its history ends with the last candle closed by then)
    while (out.length < limit && t <= end && t <= now && (fake.marketTime === null || t + tf <= fake.marketTime)) {
      const k = fakeKline(t, tf);
      out.push([t, k.open.toFixed(8), k.high.toFixed(8), k.low.toFixed(8), k.close.toFixed(8), k.volume.toFixed(8),
        t + tf - 1, (k.volume * k.close).toFixed(8), 42, '0.75000000', (0.75 * k.close).toFixed(8), '0']);
      t += tf;
    }
    return send(res, rec, 200, out);
  }

  function handle(req, res, body) {
    const u = new URL(req.url, 'http://x');
    const rawQuery = u.search.startsWith('?') ? u.search.slice(1) : '';
    const path = u.pathname;
    const q = new URLSearchParams(rawQuery + (body ? `&${body}` : ''));
    const rec = {
      method: req.method, path, params: Object.fromEntries(q), apiKey: req.headers['x-mbx-apikey'] ?? null,
      status: 0, code: 0, at: Date.now(),
    };
    fake.requests.push(rec);
    const minute = Math.floor(fake.now() / MINUTE);
    const used = (weights.get(minute) ?? 0) + weightOf(req.method, path, q);
    weights.set(minute, used);

    const fault = takeFault(req.method, path);
    if (fault?.hang) {
      rec.status = 'hung';
      return; // never answered; the socket is dropped at down()/close()
    }
    if (fault && !fault.process) {
      const extra = fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {};
      const b = FAULT_BODIES[fault.status] ?? { code: -1001, msg: 'Internal error; unable to process your request. Please try again.' };
      return send(res, rec, fault.status, b, extra);
    }
    let target = res;
    if (fault?.process) {
      // carry the request out, then lose the answer: the client cannot know the order exists
      target = { writeHead() {}, end() {} };
      setImmediate(() => send(res, rec, fault.status, { code: -1001, msg: 'Internal error; unable to process your request. Please try again.' }));
    }
    if (used > weightLimit) return fail(target, rec, ERR.weight);
    route(req, target, rec, path, q, rawQuery, body);
  }

  function route(req, res, rec, path, q, rawQuery, body) {
    const m = req.method;
    if (m === 'GET' && path === '/api/v3/ping') return send(res, rec, 200, {});
    if (m === 'GET' && path === '/api/v3/time') return send(res, rec, 200, { serverTime: fake.now() });
    if (m === 'GET' && path === '/api/v3/exchangeInfo') {
      const sym = q.get('symbol');
      const names = sym ? [sym] : Object.keys(SYMBOLS);
      if (names.some((n) => !SYMBOLS[n])) return fail(res, rec, ERR.badSymbol);
      return send(res, rec, 200, {
        timezone: 'UTC',
        serverTime: fake.now(),
        rateLimits: [{ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: weightLimit }],
        exchangeFilters: [],
        symbols: names.map((n) => {
          const s = SYMBOLS[n];
          return {
            symbol: n, status: 'TRADING', baseAsset: s.base, baseAssetPrecision: 8, quoteAsset: s.quote, quotePrecision: 8,
            quoteAssetPrecision: 8, orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'],
            icebergAllowed: true, ocoAllowed: true, isSpotTradingAllowed: true, isMarginTradingAllowed: false,
            filters: [
              { filterType: 'PRICE_FILTER', minPrice: s.tickSize, maxPrice: '1000000.00000000', tickSize: s.tickSize },
              { filterType: 'LOT_SIZE', minQty: s.minQty, maxQty: '9000.00000000', stepSize: s.stepSize },
              { filterType: 'NOTIONAL', minNotional: s.minNotional, applyMinToMarket: true, maxNotional: '9000000.00000000', applyMaxToMarket: false, avgPriceMins: 5 },
            ],
            permissions: [], permissionSets: [['SPOT']], defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
            allowedSelfTradePreventionModes: ['EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
          };
        }),
      });
    }
    if (m === 'GET' && path === '/api/v3/ticker/price') {
      const s = SYMBOLS[q.get('symbol')];
      if (!s) return fail(res, rec, ERR.badSymbol);
      return send(res, rec, 200, { symbol: q.get('symbol'), price: fake.price(q.get('symbol')) });
    }
    if (m === 'GET' && path === '/api/v3/klines') return klines(q, res, rec);

    const signed = (m === 'GET' && ['/api/v3/account', '/api/v3/openOrders', '/api/v3/order'].includes(path)) ||
      ((m === 'POST' || m === 'DELETE') && path === '/api/v3/order');
    if (!signed) return send(res, rec, 404, { code: -1000, msg: 'Unknown endpoint.' });
    const acct = authenticate(req, res, rec, rawQuery, body);
    if (!acct) return;
    const key = req.headers['x-mbx-apikey'];
    if (path === '/api/v3/account') {
      const balances = [...acct.balances.entries()]
        .filter(([, b]) => q.get('omitZeroBalances') !== 'true' || b.free !== 0n || b.locked !== 0n)
        .map(([asset, b]) => ({ asset, free: fromU(b.free), locked: fromU(b.locked) }));
      return send(res, rec, 200, {
        makerCommission: 10, takerCommission: 10, buyerCommission: 0, sellerCommission: 0,
        commissionRates: { maker: '0.00100000', taker: '0.00100000', buyer: '0.00000000', seller: '0.00000000' },
        canTrade: acct.canTrade, canWithdraw: false, canDeposit: true, brokered: false, requireSelfTradePrevention: false,
        preventSor: false, updateTime: fake.now(), accountType: 'SPOT', balances, permissions: ['SPOT'], uid: 354937868,
      });
    }
    if (path === '/api/v3/openOrders') {
      const sym = q.get('symbol');
      if (sym && !SYMBOLS[sym]) return fail(res, rec, ERR.badSymbol);
      return send(res, rec, 200, fake.orders
        .filter((o) => o.apiKey === key && (!sym || o.symbol === sym) && ['NEW', 'PARTIALLY_FILLED'].includes(o.status))
        .map(queryView));
    }
    if (m === 'POST') return placeOrder(acct, key, q, res, rec);
    if (m === 'DELETE') return cancelOrder(acct, key, q, res, rec);
    if (!SYMBOLS[q.get('symbol')]) return fail(res, rec, ERR.badSymbol);
    const o = findOrder(key, q);
    if (!o) return fail(res, rec, ERR.noOrder);
    return send(res, rec, 200, queryView(o));
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        handle(req, res, Buffer.concat(chunks).toString('utf8'));
      } catch (e) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ code: -1000, msg: `fake: ${e.message}` }));
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  fake.port = server.address().port;
  fake.url = `http://127.0.0.1:${fake.port}`;
  return fake;
}

/** Binance's documented HMAC example, for tests that compare signatures. */
export function binanceSign(secret, payload) {
  return createHmac('sha256', secret).update(payload).digest('hex');
}
