/* bots.c — bot ticks: the saved engine (lib/trading/engine.h) resumed, fed the closed candles it
 * has not seen, saved again with its trades in one transaction; live bots then send its orders. */
#include "bots.h"
#include "audit.h"
#include "candles.h"
#include "candles_db.h"
#include "ml_predictions.h"
#include "config.h"
#include "db.h"
#include "engine.h"
#include "exchange.h"
#include "sync.h"
#include "log.h"
#include "queue.h"
#include "vault.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- bytea as text */

static char *bots_hex(const void *data, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(2 * n + 3);
    if (!s)
        return NULL;
    s[0] = '\\';
    s[1] = 'x';
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        s[2 + 2 * i] = digits[p[i] >> 4];
        s[3 + 2 * i] = digits[p[i] & 15];
    }
    s[2 + 2 * n] = '\0';
    return s;
}

/* ---------------------------------------------------------------- the tick */

typedef struct bots_tick_run {
    long long bot_id, tenant_id;
    json_t *result;
    char err[256];
    int fail;          /* BOTS_TICK_FAIL: the bot cannot run */
    int live;          /* a running live bot: its unsent orders go out after COMMIT */
    size_t candles;    /* candles this transaction fed the engine */
    engine *e;
} bots_tick_run;

static const char *bots_kind(int kind)
{
    return kind == TEV_OPEN ? "open" : kind == TEV_ADD ? "add" : "close";
}

/* Writes one engine event as bot_trades row seq. */
static int bots_store_event(const char *bot, const char *tenant, const char *symbol, int seq, const trade_event *ev)
{
    char s[16], t[24], price[40], qty[40], fee[40], pnl[40], tid[24];
    snprintf(s, sizeof s, "%d", seq);
    snprintf(tid, sizeof tid, "%lld", (long long)ev->trade_id);
    snprintf(t, sizeof t, "%lld", (long long)ev->time);
    snprintf(price, sizeof price, "%.17g", ev->price);
    snprintf(qty, sizeof qty, "%.17g", ev->qty);
    snprintf(fee, sizeof fee, "%.17g", ev->fee);
    snprintf(pnl, sizeof pnl, "%.17g", ev->pnl);
    const int close = ev->kind == TEV_CLOSE;
    const char *p[] = {tenant, bot, s, bots_kind(ev->kind), symbol, t, price, qty, fee,
                       close ? pnl : NULL, close ? exit_reason_name(ev->reason) : NULL, tid};
    return db_exec(NULL, "bots_trade_insert",
                   "INSERT INTO bot_trades (tenant_id, bot_id, seq, kind, symbol, time_ms, price, qty, fee, pnl, reason, "
                   "trade_id) VALUES ($1::bigint, $2::bigint, $3::int, $4, $5, $6::bigint, $7::float8, $8::float8, "
                   "$9::float8, $10::float8, $11, $12::bigint)",
                   12, p) == 1
               ? 0
               : -1;
}

/* A live bot's orders for the engine's decisions now pending on symbol 0: one buy spending the
 * entry's quote amount, or one sell of everything held. Rows only: they are sent after COMMIT. */
static int bots_queue_orders(const char *bot, const char *tenant, const char *symbol, const engine *e, int seq)
{
    const engine_symbol *s = &e->sym[0];
    char id[48], qty[48];
    int n = 0;
    if (s->pend_sell && s->qty > 0) {
        snprintf(id, sizeof id, "bcf%s-%d-s", bot, seq);
        snprintf(qty, sizeof qty, "%.17g", s->qty);
        const char *p[] = {tenant, bot, id, "SELL", symbol, qty};
        if (db_exec(NULL, "bots_order_insert",
                    "INSERT INTO bot_orders (tenant_id, bot_id, client_order_id, side, symbol, qty, status) "
                    "VALUES ($1::bigint, $2::bigint, $3, $4, $5, $6, 'new') ON CONFLICT (client_order_id) DO NOTHING",
                    6, p) < 0)
            return -1;
        n++;
    }
    double quote = s->pend_buy ? s->pend_amount : 0;
    quote += s->pend_add;
    if (quote > 0) {
        snprintf(id, sizeof id, "bcf%s-%d-b", bot, seq);
        snprintf(qty, sizeof qty, "%.8f", quote);
        const char *p[] = {tenant, bot, id, "BUY", symbol, qty};
        if (db_exec(NULL, "bots_order_insert",
                    "INSERT INTO bot_orders (tenant_id, bot_id, client_order_id, side, symbol, qty, status) "
                    "VALUES ($1::bigint, $2::bigint, $3, $4, $5, $6, 'new') ON CONFLICT (client_order_id) DO NOTHING",
                    6, p) < 0)
            return -1;
        n++;
    }
    return n;
}

static int bots_tick_tx(void *arg)
{
    bots_tick_run *t = arg;
    json_decref(t->result);
    t->result = NULL;
    t->fail = 0;
    t->live = 0;
    char id[24];
    snprintf(id, sizeof id, "%lld", t->bot_id);
    const char *p[] = {id};
    PGresult *r = db_query(NULL, "bots_tick_lock",
                           "SELECT b.tenant_id, b.status, b.config, b.initial_balance, b.state, "
                           "coalesce(b.start_ms, 0), coalesce(b.last_candle_ms, -1), b.timeframe, b.mode, b.exchange, "
                           "b.symbol, (SELECT halted FROM trading_halt), "
                           "(extract(epoch FROM now()) * 1000)::bigint, b.user_id "
                           "FROM bots b WHERE b.id = $1::bigint FOR UPDATE",
                           1, p);
    if (!r)
        return -1;
    int rc = 0;
    candle *warm = NULL, *rows = NULL;
    double *ext = NULL; /* ml_signal: the model's probability of each candle */
    unsigned char *blob = NULL;
    char *hex = NULL;
    if (PQntuples(r) != 1 || (t->tenant_id && atoll(PQgetvalue(r, 0, 0)) != t->tenant_id)) {
        t->result = json_pack("{s:s}", "skipped", "no such bot");
        goto out;
    }
    const char *tenant = PQgetvalue(r, 0, 0), *tf = PQgetvalue(r, 0, 7), *mode = PQgetvalue(r, 0, 8);
    const char *exch = PQgetvalue(r, 0, 9), *symbol = PQgetvalue(r, 0, 10);
    if (strcmp(PQgetvalue(r, 0, 1), "running")) {
        t->result = json_pack("{s:s}", "skipped", "stopped");
        goto out;
    }
    if (strcmp(PQgetvalue(r, 0, 11), "f")) {
        t->result = json_pack("{s:s}", "skipped", "halted");
        goto out;
    }
    /* set before the candles are read: a retried tick that finds none still sends what an earlier
     * attempt committed but could not send */
    t->live = !strcmp(mode, "live");
    json_error_t je;
    json_t *cj = json_loads(PQgetvalue(r, 0, 2), 0, &je);
    engine_config cfg;
    int bad = !cj || engine_config_from_json(&cfg, cj, t->err, sizeof t->err) != 0;
    json_decref(cj);
    int64_t tf_ms = candle_timeframe_ms(tf);
    if (bad || tf_ms <= 0) {
        if (!t->err[0])
            snprintf(t->err, sizeof t->err, "the bot's configuration cannot be read");
        t->fail = 1;
        goto out;
    }
    int64_t start_ms = strtoll(PQgetvalue(r, 0, 5), NULL, 10), last = strtoll(PQgetvalue(r, 0, 6), NULL, 10);
    int64_t now_ms = strtoll(PQgetvalue(r, 0, 12), NULL, 10);
    engine *e = t->e;
    if (PQgetisnull(r, 0, 4)) {
        /* first tick: a fresh engine, its indicators warmed on the history before the start */
        if (engine_init(e, &cfg, 1, atof(PQgetvalue(r, 0, 3))) != 0) {
            snprintf(t->err, sizeof t->err, "the bot's configuration is not valid");
            t->fail = 1;
            goto out;
        }
        size_t nw = 0;
        if (candles_db_before(exch, symbol, tf, start_ms, (size_t)engine_warmup_candles(&cfg), &warm, &nw) != 0) {
            rc = -1;
            goto out;
        }
        for (size_t i = 0; i < nw; i++)
            if (engine_warm(e, 0, &warm[i]) != 0)
                break;
        last = start_ms - 1;
    } else {
        size_t n = 0;
        blob = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 4), &n);
        if (!blob || engine_load(e, blob, n) != 0) {
            snprintf(t->err, sizeof t->err, "the bot's saved state belongs to another version; edit the bot to reset it");
            t->fail = 1;
            goto out;
        }
    }
    size_t n = 0;
    /* a live bot takes one candle per transaction, so that every decision becomes an order before
     * the next candle is traded (see bots_tick) */
    size_t limit = t->live ? 1 : (size_t)config_int("bots.max_candles_per_tick");
    if (candles_db_range(exch, symbol, tf, last + 1, INT64_MAX, limit, now_ms, &rows, &n) != 0) {
        rc = -1;
        goto out;
    }
    if (cfg.kind == STRATEGY_ML_SIGNAL && n) {
        /* the stored predictions, and the missing ones computed with the model and stored, so a
         * backtest of the same candles later reads what the bot traded on */
        int mrc = mlpred_series(atoll(tenant), &cfg, exch, symbol, tf, rows, n, &ext, t->err, sizeof t->err);
        if (mrc == -1) {
            rc = -1;
            goto out;
        }
        if (!ext && !(ext = malloc(n * sizeof *ext))) {
            rc = -1;
            goto out;
        }
        if (mrc == -2)
            for (size_t i = 0; i < n; i++)
                ext[i] = NAN;
        t->err[0] = '\0';
        long crc = mlpred_complete(atoll(tenant), &cfg, exch, symbol, tf, rows, n, ext, t->err, sizeof t->err);
        if (crc == -1) {
            rc = -1;
            goto out;
        }
        if (crc == -2) {
            t->fail = 1; /* the model is gone or untrained: the bot stops in error with the reason */
            goto out;
        }
    }
    PGresult *s = db_query(NULL, "bots_tick_seq", "SELECT coalesce(max(seq), 0) FROM bot_trades WHERE bot_id = $1::bigint",
                           1, p);
    if (!s) {
        rc = -1;
        goto out;
    }
    int seq = atoi(PQgetvalue(s, 0, 0)), first_seq = seq;
    PQclear(s);
    trade_event ev[ENGINE_MAX_STEP_EVENTS];
    double pnl = 0;
    for (size_t i = 0; i < n; i++) {
        if (ext)
            engine_set_external(e, 0, ext[i]);
        int k = engine_step(e, 0, &rows[i], ev, ENGINE_MAX_STEP_EVENTS);
        if (k < 0) {
            snprintf(t->err, sizeof t->err, "candle %lld was refused by the engine", (long long)rows[i].open_time);
            t->fail = 1;
            goto out;
        }
        for (int j = 0; j < k; j++) {
            if (bots_store_event(id, tenant, symbol, ++seq, &ev[j]) != 0) {
                rc = -1;
                goto out;
            }
            if (ev[j].kind == TEV_CLOSE)
                pnl += ev[j].pnl;
        }
        last = rows[i].open_time;
    }
    if (t->live && n && bots_queue_orders(id, tenant, symbol, e, seq) < 0) {
        rc = -1;
        goto out;
    }
    size_t sz = engine_state_size(e);
    unsigned char *blob_out = malloc(sz);
    long w = blob_out ? engine_save(e, blob_out, sz) : -1;
    hex = w > 0 ? bots_hex(blob_out, (size_t)w) : NULL;
    free(blob_out);
    if (!hex) {
        rc = -1;
        goto out;
    }
    char lastc[24], eq[40];
    snprintf(lastc, sizeof lastc, "%lld", (long long)last);
    snprintf(eq, sizeof eq, "%.17g", engine_equity(e));
    const char *u[] = {id, hex, lastc, eq};
    if (db_exec(NULL, "bots_tick_save",
                "UPDATE bots SET state = $2::bytea, last_candle_ms = $3::bigint, equity = $4::float8, updated_at = now() "
                "WHERE id = $1::bigint",
                4, u) != 1) {
        rc = -1;
        goto out;
    }
    if (seq > first_seq) {
        /* one audit record per tick that traded: the events themselves are in bot_trades */
        ctx c = {NULL, atoll(PQgetvalue(r, 0, 13)), atoll(tenant), "", ""};
        json_t *after = json_pack("{s:i, s:i, s:i, s:f}", "first_seq", first_seq + 1, "last_seq", seq, "candles", (int)n,
                                  "realised_pnl", pnl);
        rc = after ? audit_record(&c, "bots.trade", "bot", id, NULL, after) : -1;
        json_decref(after);
        if (rc != 0)
            goto out;
    }
    t->candles = n;
    t->result = json_pack("{s:i, s:i, s:f}", "candles", (int)n, "events", seq - first_seq, "equity", engine_equity(e));
out:
    free(warm);
    free(rows);
    free(ext);
    if (blob)
        PQfreemem(blob);
    free(hex);
    PQclear(r);
    /* a bot that cannot run changes nothing in this transaction; it is marked afterwards */
    return t->fail ? -2 : rc;
}

/* Marks a bot that cannot run: status error with the reason, and one audit record. */
static void bots_set_error(long long bot_id, const char *why)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", bot_id);
    const char *p[] = {id, why};
    PGresult *r = db_query(NULL, "bots_set_error",
                           "UPDATE bots SET status = 'error', error = $2, updated_at = now() WHERE id = $1::bigint "
                           "AND status = 'running' RETURNING tenant_id, user_id",
                           2, p);
    if (r && PQntuples(r) == 1) {
        ctx c = {NULL, atoll(PQgetvalue(r, 0, 1)), atoll(PQgetvalue(r, 0, 0)), "", ""};
        json_t *after = json_pack("{s:s}", "error", why);
        audit_record(&c, "bots.error", "bot", id, NULL, after);
        json_decref(after);
    }
    PQclear(r);
}

/* Markets of an exchange with an adapter are fetched before the tick: the candles since the last
 * one stored (or, for a fresh bot, since its warm-up start) up to now. Demo and imported markets
 * have no adapter and are left as they are. A failure only delays the bot to its next tick. */
static void bots_sync_market(long long bot_id)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", bot_id);
    const char *p[] = {id};
    PGresult *r = db_query(NULL, "bots_sync_from",
                           "SELECT b.exchange, b.symbol, b.timeframe, coalesce(b.last_candle_ms, b.start_ms, 0), "
                           "coalesce((SELECT s.last_open_time FROM market_series s JOIN markets m ON m.id = s.market_id "
                           "WHERE m.exchange = b.exchange AND m.symbol = b.symbol AND s.timeframe = b.timeframe), -1), "
                           "b.config FROM bots b WHERE b.id = $1::bigint AND b.status = 'running'",
                           1, p);
    const exchange_ops *ops = r && PQntuples(r) == 1 ? exchange_find(PQgetvalue(r, 0, 0)) : NULL;
    if (!ops || ops->simulated) { /* the paper exchange's candles are the stored ones */
        PQclear(r);
        return;
    }
    int64_t tf = candle_timeframe_ms(PQgetvalue(r, 0, 2));
    int64_t seen = strtoll(PQgetvalue(r, 0, 3), NULL, 10), stored = strtoll(PQgetvalue(r, 0, 4), NULL, 10);
    int64_t from = stored >= 0 ? stored + tf : seen - (int64_t)config_int("backtests.warmup_max") * tf;
    if (from < 0)
        from = 0;
    exchange *ex = tf > 0 ? exchange_open(PQgetvalue(r, 0, 0), NULL) : NULL;
    if (ex) {
        exchange_sync_result res;
        int rc = exchange_sync_klines(ex, PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2), from,
                                      (int64_t)time(NULL) * 1000 + tf, &res);
        if (rc != 0)
            log_warn("bot %lld: market data of %s %s not refreshed (%s)", bot_id, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1),
                     rc == EXCHANGE_SYNC_ERR_DB ? "database" : exchange_last_error(ex)->message);
        exchange_close(ex);
    }
    PQclear(r);
}

static int bots_send_orders(long long bot_id, char *err, size_t errlen);

int bots_tick(long long bot_id, long long tenant_id, json_t **result, char *err, size_t errlen)
{
    bots_tick_run t = {bot_id, tenant_id, NULL, "", 0, 0, 0, NULL};
    t.e = malloc(sizeof *t.e);
    if (!t.e) {
        snprintf(err, errlen, "out of memory");
        return BOTS_TICK_RETRY;
    }
    bots_sync_market(bot_id);
    /* A live bot that missed candles (the worker was down) catches up one candle per round, each
     * round's orders sent before the next candle is traded: the account on the exchange then holds
     * what the engine holds, instead of positions the engine opened and closed on paper alone. */
    long rounds = config_int("bots.max_candles_per_tick"), candles = 0;
    int rc = 0;
    for (long round = 0; round < rounds; round++) {
        json_decref(t.result);
        t.result = NULL;
        t.candles = 0;
        rc = db_tx(bots_tick_tx, &t);
        if (rc == -2 || t.fail) {
            free(t.e);
            snprintf(err, errlen, "%s", t.err);
            bots_set_error(bot_id, t.err);
            json_decref(t.result);
            return BOTS_TICK_FAIL;
        }
        if (rc != 0) {
            free(t.e);
            snprintf(err, errlen, "database unavailable: %s", db_error());
            json_decref(t.result);
            return BOTS_TICK_RETRY;
        }
        int sent = t.live ? bots_send_orders(bot_id, err, errlen) : 0;
        if (sent != 0) {
            free(t.e);
            json_decref(t.result);
            if (sent == -2) { /* the key can no longer trade: the bot stops with the reason */
                bots_set_error(bot_id, err);
                return BOTS_TICK_FAIL;
            }
            return BOTS_TICK_RETRY;
        }
        candles += (long)t.candles;
        if (!t.live || !t.candles)
            break;
    }
    free(t.e);
    if (t.result && t.live)
        json_object_set_new(t.result, "candles", json_integer(candles));
    if (result)
        *result = t.result;
    else
        json_decref(t.result);
    return BOTS_TICK_OK;
}

/* ---------------------------------------------------------------- live orders */

/* Opens the bot's exchange with its owner's credentials (from the vault); NULL with err set, and
 * *permanent (when given) set when no retry can help: the key lost its validation or was removed. */
static exchange *bots_exchange(arena *a, long long bot_id, char *symbol, size_t symlen, char *err, size_t errlen,
                               int *permanent)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", bot_id);
    const char *p[] = {id};
    PGresult *r = db_query(a, "bots_credential",
                           "SELECT c.exchange, c.api_key, c.api_secret, c.passphrase, c.tenant_id, c.user_id, b.symbol "
                           "FROM bots b JOIN credentials c ON c.id = b.credential_id AND c.tenant_id = b.tenant_id "
                           "WHERE b.id = $1::bigint AND b.mode = 'live' AND c.validated_at IS NOT NULL AND c.can_trade",
                           1, p);
    if (!r || PQntuples(r) != 1) {
        snprintf(err, errlen, r ? "the bot has no validated exchange key with trading permission" : "database unavailable");
        if (permanent)
            *permanent = r != NULL;
        return NULL;
    }
    long long tenant = atoll(PQgetvalue(r, 0, 4)), owner = atoll(PQgetvalue(r, 0, 5));
    snprintf(symbol, symlen, "%s", PQgetvalue(r, 0, 6));
    char *key = NULL, *secret = NULL, *pass = NULL;
    size_t kn, sn, pn;
    if (vault_open(a, vault_context(a, "credentials.api_key", owner), tenant, PQgetvalue(r, 0, 1), &key, &kn) != 0 ||
        vault_open(a, vault_context(a, "credentials.api_secret", owner), tenant, PQgetvalue(r, 0, 2), &secret, &sn) != 0 ||
        (!PQgetisnull(r, 0, 3) && vault_open(a, vault_context(a, "credentials.passphrase", owner), tenant,
                                             PQgetvalue(r, 0, 3), &pass, &pn) != 0)) {
        snprintf(err, errlen, "the exchange key cannot be opened (vault)");
        return NULL;
    }
    exchange_credentials cred = {key, secret, pass};
    exchange *ex = exchange_open(PQgetvalue(r, 0, 0), &cred);
    if (!ex)
        snprintf(err, errlen, "no adapter for exchange %s", PQgetvalue(r, 0, 0));
    return ex;
}

/* Sends the bot's orders still 'new', each looked up by its client order id first: a row still
 * 'new' may have been sent before (an attempt whose answer was lost, a worker killed after the
 * send), and Binance accepts the client id of a filled order again, so only the look-up keeps a
 * retried tick from buying twice. Within one send the adapter does the same for a lost answer.
 * 0, -1 to retry later, or -2 when the bot's key can no longer trade (err says why). Called with
 * the bot's send lock held (bots_send_orders). */
static int bots_send_orders_locked(long long bot_id, char *err, size_t errlen)
{
    arena a;
    arena_init(&a, 4096);
    char id[24], symbol[40];
    snprintf(id, sizeof id, "%lld", bot_id);
    const char *p[] = {id};
    int rc = 0;
    PGresult *r = db_query(&a, "bots_orders_new",
                           "SELECT id, client_order_id, side, qty FROM bot_orders WHERE bot_id = $1::bigint "
                           "AND status = 'new' ORDER BY id",
                           1, p);
    if (!r) {
        snprintf(err, errlen, "database unavailable");
        arena_destroy(&a);
        return -1;
    }
    if (!PQntuples(r)) {
        arena_destroy(&a);
        return 0;
    }
    int permanent = 0;
    exchange *ex = bots_exchange(&a, bot_id, symbol, sizeof symbol, err, errlen, &permanent);
    if (!ex) {
        arena_destroy(&a);
        return permanent ? -2 : -1;
    }
    exchange_symbol info;
    int have_info = exchange_symbol_info(ex, symbol, &info) == EXCHANGE_OK;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *oid = PQgetvalue(r, i, 0), *side = PQgetvalue(r, i, 2), *qty = PQgetvalue(r, i, 3);
        exchange_order_req rq = {0};
        char fitted[EXCHANGE_DEC];
        rq.symbol = symbol;
        rq.type = EXCHANGE_MARKET;
        rq.client_order_id = PQgetvalue(r, i, 1);
        if (!strcmp(side, "BUY")) {
            rq.side = EXCHANGE_BUY;
            rq.quote_quantity = qty; /* the engine decides how much quote to spend */
        } else {
            rq.side = EXCHANGE_SELL;
            if (!have_info || exchange_format_decimal(strtod(qty, NULL), info.step_size, EXCHANGE_ROUND_DOWN, fitted,
                                                      sizeof fitted) != 0) {
                snprintf(err, errlen, "symbol %s: lot size unknown", symbol);
                rc = -1;
                break;
            }
            rq.quantity = fitted;
        }
        exchange_order o;
        int e = exchange_get_order(ex, symbol, NULL, rq.client_order_id, &o);
        if (e == EXCHANGE_ERR_NOT_FOUND)
            e = exchange_place_order(ex, &rq, &o);
        const exchange_error *xe = exchange_last_error(ex);
        if (e == EXCHANGE_ERR_UNAVAILABLE || e == EXCHANGE_ERR_RATE_LIMIT || e == EXCHANGE_ERR_UNKNOWN ||
            e == EXCHANGE_ERR_TIMESTAMP) {
            snprintf(err, errlen, "exchange: %s", xe->message);
            rc = -1; /* the order stays 'new': the retried job sends it, safely, by its client id */
            break;
        }
        char price[40] = "";
        double exq = e == EXCHANGE_OK ? strtod(o.executed_qty, NULL) : 0;
        if (e == EXCHANGE_OK && exq > 0)
            snprintf(price, sizeof price, "%.17g", strtod(o.cum_quote_qty, NULL) / exq);
        const char *u[] = {oid, e == EXCHANGE_OK ? o.status : "REJECTED", e == EXCHANGE_OK ? o.order_id : NULL,
                           price[0] ? price : NULL, e == EXCHANGE_OK ? NULL : xe->message};
        db_exec(NULL, "bots_order_done",
                "UPDATE bot_orders SET status = $2, exchange_order_id = $3, fill_price = $4::float8, error = $5 "
                "WHERE id = $1::bigint",
                5, u);
        if (e != EXCHANGE_OK)
            log_warn("bot %s: order %s refused by the exchange: %s", id, rq.client_order_id, xe->message);
    }
    exchange_close(ex);
    arena_destroy(&a);
    return rc;
}

/* Two ticks of one bot on two workers (a start's tick beside a scheduled one) must not send the
 * same order at once: a session advisory lock per bot makes the second wait, then find the first's
 * orders no longer 'new'. hashtext may give two bots one lock; they then only take turns. */
static int bots_send_orders(long long bot_id, char *err, size_t errlen)
{
    char key[48];
    snprintf(key, sizeof key, "bot_orders:%lld", bot_id);
    const char *p[] = {key};
    PGresult *r = db_query(NULL, "bots_send_lock", "SELECT pg_advisory_lock(hashtext($1))", 1, p);
    if (!r) {
        snprintf(err, errlen, "database unavailable");
        return -1;
    }
    PQclear(r);
    int rc = bots_send_orders_locked(bot_id, err, errlen);
    PQclear(db_query(NULL, "bots_send_unlock", "SELECT pg_advisory_unlock(hashtext($1))", 1, p));
    return rc;
}

int bots_cancel_orders(long long bot_id, char *err, size_t errlen)
{
    char bid[24];
    snprintf(bid, sizeof bid, "%lld", bot_id);
    const char *q[] = {bid};
    PGresult *m = db_query(NULL, "bots_mode", "SELECT mode FROM bots WHERE id = $1::bigint", 1, q);
    if (!m) {
        snprintf(err, errlen, "database unavailable");
        return -1;
    }
    int live = PQntuples(m) == 1 && !strcmp(PQgetvalue(m, 0, 0), "live");
    PQclear(m);
    if (!live)
        return 0; /* a paper bot (or a deleted one) has no exchange orders */
    arena a;
    arena_init(&a, 4096);
    char symbol[40];
    exchange *ex = bots_exchange(&a, bot_id, symbol, sizeof symbol, err, errlen, NULL);
    if (!ex) {
        arena_destroy(&a);
        return -1;
    }
    exchange_order *orders = NULL;
    size_t n = 0;
    int rc = 0;
    if (exchange_open_orders(ex, symbol, &orders, &n) != EXCHANGE_OK) {
        snprintf(err, errlen, "exchange: %s", exchange_last_error(ex)->message);
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        /* only the orders this bot placed: the account may hold the user's own orders too */
        char prefix[32];
        snprintf(prefix, sizeof prefix, "bcf%lld-", bot_id);
        if (strncmp(orders[i].client_order_id, prefix, strlen(prefix)))
            continue;
        exchange_order o;
        int e = exchange_cancel_order(ex, symbol, orders[i].order_id, NULL, &o);
        if (e != EXCHANGE_OK && e != EXCHANGE_ERR_NOT_FOUND) {
            snprintf(err, errlen, "exchange: %s", exchange_last_error(ex)->message);
            rc = -1;
        }
    }
    free(orders);
    exchange_close(ex);
    arena_destroy(&a);
    return rc;
}

/* ---------------------------------------------------------------- scheduling */

int bots_schedule_tick(const ctx *c, long long bot_id)
{
    char params[64], key[96];
    snprintf(params, sizeof params, "{\"bot_id\":%lld}", bot_id);
    /* a start asks for a tick at once; the key names the second, so a double click makes one
     * tick and a later start another (ticks are idempotent either way) */
    snprintf(key, sizeof key, "bot:%lld:start:%lld", bot_id, (long long)time(NULL));
    queue_opts o = {0};
    o.dedupe_key = key;
    return queue_enqueue(c, "bot_tick", params, &o) > 0 ? 0 : -1;
}

void bots_cancel_orders_later(const ctx *c, long long bot_id)
{
    char params[64], key[96];
    snprintf(params, sizeof params, "{\"bot_id\":%lld}", bot_id);
    snprintf(key, sizeof key, "bot:%lld:cancel:%lld", bot_id, (long long)time(NULL));
    queue_opts o = {0};
    o.dedupe_key = key;
    /* only live bots have exchange orders; the job finds none for a paper bot and ends */
    if (queue_enqueue(c, "bot_cancel_orders", params, &o) <= 0)
        log_warn("bot %lld: cancelling its exchange orders could not be queued", bot_id);
}

int bots_schedule_due(void)
{
    /* every running bot whose last closed candle (open time = the current candle's start − tf)
     * is past what it has seen; the dedupe key is that candle, so many workers queue it once */
    PGresult *r = db_query(NULL, "bots_due",
                           "WITH b AS (SELECT id, tenant_id, user_id, coalesce(last_candle_ms, start_ms - 1) AS seen, "
                           "CASE timeframe WHEN '1m' THEN 60000 WHEN '5m' THEN 300000 WHEN '15m' THEN 900000 "
                           "WHEN '1h' THEN 3600000 WHEN '4h' THEN 14400000 ELSE 86400000 END AS tf "
                           "FROM bots WHERE status = 'running'), "
                           "n AS (SELECT (extract(epoch FROM now()) * 1000)::bigint AS ms) "
                           "SELECT b.id, b.tenant_id, b.user_id, (n.ms / b.tf) * b.tf AS close_ms FROM b, n "
                           "WHERE b.seen < (n.ms / b.tf) * b.tf - b.tf LIMIT 1000",
                           0, NULL);
    if (!r)
        return -1;
    int n = PQntuples(r);
    if (!n) {
        PQclear(r);
        return 0;
    }
    queue_item *items = calloc((size_t)n, sizeof *items);
    char (*params)[64] = calloc((size_t)n, sizeof *params);
    char (*keys)[96] = calloc((size_t)n, sizeof *keys);
    long long *ids = calloc((size_t)n, sizeof *ids);
    int queued = -1;
    if (items && params && keys && ids) {
        for (int i = 0; i < n; i++) {
            snprintf(params[i], sizeof params[i], "{\"bot_id\":%s}", PQgetvalue(r, i, 0));
            snprintf(keys[i], sizeof keys[i], "bot:%s:%s", PQgetvalue(r, i, 0), PQgetvalue(r, i, 3));
            items[i].tenant_id = atoll(PQgetvalue(r, i, 1));
            items[i].user_id = atoll(PQgetvalue(r, i, 2));
            items[i].type = "bot_tick";
            items[i].params_json = params[i];
            items[i].dedupe_key = keys[i];
        }
        queued = queue_enqueue_batch(items, n, ids);
    }
    free(items);
    free(params);
    free(keys);
    free(ids);
    PQclear(r);
    return queued;
}
