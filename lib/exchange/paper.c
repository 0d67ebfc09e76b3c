/* paper.c — the paper exchange: a simulated spot account in memory (balances, locks, orders) that
 * fills on the candles fed to it with the engine's fill arithmetic (fills.h); see paper.h. */
#include "paper.h"
#include "fills.h"
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAPER_PAGE 1000         /* klines per call when no limit is given, as Binance */
#define PAPER_TICKER_TF "1m"    /* a ticker from the candle source: the last 1m close ... */
#define PAPER_TICKER_SPAN 86400000LL /* ... of the day before the clock */

/* An asset's whole balance. What is locked is summed from the open orders and free is the rest,
 * so a lock and its release leave no rounding residue, and the balance moves only on fills, as
 * the engine's cash does. */
typedef struct paper_asset {
    char name[EXCHANGE_ASSET];
    double total;
} paper_asset;

typedef struct paper_market {
    char symbol[EXCHANGE_SYM];
    int64_t last_time; /* open time of the last candle fed */
    double last_close;
} paper_market;

typedef struct paper_order {
    exchange_order o; /* what callers see; o.status "NEW" while open */
    exchange_side side;
    exchange_order_type type;
    exchange_tif tif;
    char base[EXCHANGE_ASSET], quote[EXCHANGE_ASSET];
    double qty;      /* base quantity asked; 0 for a MARKET order by quote amount */
    double amount;   /* quote amount asked (MARKET by quote_quantity); else 0 */
    double price;    /* LIMIT price; else 0 */
    double reserved; /* locked of the asset it spends (quote for buys, base for sales) while open */
    exchange_paper_fill fill;
} paper_order;

typedef struct paper {
    double fee_bps, slippage_bps;
    int64_t clock_ms; /* open time of the latest candle fed; 0 before the first */
    int64_t next_id;
    paper_asset *assets;
    size_t nassets, capassets;
    paper_market *markets;
    size_t nmarkets, capmarkets;
    paper_order *orders;
    size_t norders, caporders;
    exchange_paper_source source;
    void *source_user;
} paper;

extern const exchange_ops exchange_paper_ops;

/* Quote assets recognised at the end of a symbol: four letters first, so BTCUSDT is BTC/USDT. */
static const char *const paper_quotes[] = {"USDT", "BUSD", "USDC", "BRL", "BTC", "ETH", "BNB", "EUR"};

static paper *paper_of(exchange *ex)
{
    return ex && ex->ops == &exchange_paper_ops ? ex->priv : NULL;
}

/* The setup calls go around exchange.c's wrappers, so they clear the error record themselves. */
static paper *paper_begin(exchange *ex)
{
    paper *p = paper_of(ex);
    if (p) {
        memset(&ex->err, 0, sizeof ex->err);
        ex->err.retry_after_ms = -1;
    }
    return p;
}

/* The answer of a setup call made on another adapter's handle. */
static int not_paper(exchange *ex)
{
    return ex ? exchange_fail(ex, EXCHANGE_ERR_INVALID, 0, 0, "not the paper exchange") : EXCHANGE_ERR_INVALID;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t paper_clock(const paper *p)
{
    return p->clock_ms > 0 ? p->clock_ms : wall_ms();
}

/* arr (n elements of size bytes, room for *cap) with room for one more: arr itself, a grown copy,
 * or NULL when out of memory (arr is then still valid). */
static void *grow(void *arr, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return arr;
    size_t c = *cap ? *cap * 2 : 8;
    void *q = realloc(arr, c * size);
    if (q)
        *cap = c;
    return q;
}

static int name_ok(const char *s, size_t min, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n < min || n > max)
        return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == n;
}

/* BTCUSDT → BTC and USDT. 0, EXCHANGE_ERR_INVALID (not 2..20 of A-Z, 0-9) or _NOT_FOUND (no
 * known quote asset at its end). */
static int paper_split(exchange *ex, const char *symbol, char base[EXCHANGE_ASSET], char quote[EXCHANGE_ASSET])
{
    if (!name_ok(symbol, 2, 20))
        return exchange_fail(ex, EXCHANGE_ERR_INVALID, 0, 0, "a symbol is 2 to 20 of A-Z and 0-9");
    size_t n = strlen(symbol);
    for (size_t i = 0; i < sizeof paper_quotes / sizeof paper_quotes[0]; i++) {
        size_t q = strlen(paper_quotes[i]);
        if (n > q && n - q < EXCHANGE_ASSET && !strcmp(symbol + n - q, paper_quotes[i])) {
            snprintf(base, EXCHANGE_ASSET, "%.*s", (int)(n - q), symbol);
            snprintf(quote, EXCHANGE_ASSET, "%s", paper_quotes[i]);
            return 0;
        }
    }
    return exchange_fail(ex, EXCHANGE_ERR_NOT_FOUND, 0, 0, "unknown symbol %s (no known quote asset at its end)",
                         symbol);
}

static paper_asset *asset_find(paper *p, const char *name)
{
    for (size_t i = 0; i < p->nassets; i++)
        if (!strcmp(p->assets[i].name, name))
            return &p->assets[i];
    return NULL;
}

/* The asset, added with nothing free when new; NULL when out of memory. */
static paper_asset *asset_get(paper *p, const char *name)
{
    paper_asset *a = asset_find(p, name);
    if (a)
        return a;
    paper_asset *arr = grow(p->assets, p->nassets, &p->capassets, sizeof *arr);
    if (!arr)
        return NULL;
    p->assets = arr;
    a = &arr[p->nassets++];
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "%s", name);
    return a;
}

static paper_market *market_find(paper *p, const char *symbol)
{
    for (size_t i = 0; i < p->nmarkets; i++)
        if (!strcmp(p->markets[i].symbol, symbol))
            return &p->markets[i];
    return NULL;
}

static int order_open(const paper_order *o)
{
    return !strcmp(o->o.status, "NEW");
}

static const char *spends(const paper_order *o)
{
    return o->side == EXCHANGE_BUY ? o->quote : o->base;
}

/* Locked: what the open orders spending the asset have reserved. */
static double asset_locked(const paper *p, const char *name)
{
    double l = 0;
    for (size_t i = 0; i < p->norders; i++)
        if (order_open(&p->orders[i]) && !strcmp(spends(&p->orders[i]), name))
            l += p->orders[i].reserved;
    return l;
}

static double asset_free(const paper *p, const paper_asset *a)
{
    double locked = asset_locked(p, a->name);
    return locked > 0 ? a->total - locked : a->total;
}

/* An amount as text: a finite positive number that strtod reads whole, starting with a digit or
 * the point (no sign, no blanks). */
static int parse_amount(const char *s, double *v)
{
    if (!s || !((*s >= '0' && *s <= '9') || *s == '.') || strlen(s) >= EXCHANGE_DEC)
        return -1;
    char *end;
    *v = strtod(s, &end);
    return *end == '\0' && isfinite(*v) && *v > 0 ? 0 : -1;
}

static void fmt_double(char out[EXCHANGE_DEC], double v)
{
    snprintf(out, EXCHANGE_DEC, "%.17g", v);
}

/* ---- market data ---- */

static int pp_open(exchange *ex)
{
    paper *p = calloc(1, sizeof *p);
    if (!p)
        return -1;
    p->fee_bps = 10; /* engine_config_defaults' costs */
    p->slippage_bps = 5;
    p->next_id = 1;
    ex->priv = p;
    return 0;
}

static void paper_free(paper *p)
{
    if (!p)
        return;
    free(p->assets);
    free(p->markets);
    free(p->orders);
    free(p);
}

static void pp_close(exchange *ex)
{
    paper_free(ex->priv);
    ex->priv = NULL;
}

static int pp_ping(exchange *ex)
{
    (void)ex;
    return EXCHANGE_OK;
}

static int pp_server_time(exchange *ex, int64_t *ms)
{
    *ms = paper_clock(ex->priv);
    return EXCHANGE_OK;
}

static int pp_symbol_info(exchange *ex, const char *symbol, exchange_symbol *out)
{
    memset(out, 0, sizeof *out);
    int rc = paper_split(ex, symbol, out->base, out->quote);
    if (rc != 0)
        return rc;
    snprintf(out->symbol, sizeof out->symbol, "%s", symbol);
    snprintf(out->status, sizeof out->status, "TRADING");
    /* no lot or tick size is enforced: these only give generic fitting code something to use */
    snprintf(out->step_size, sizeof out->step_size, "0.00000001");
    snprintf(out->tick_size, sizeof out->tick_size, "0.00000001");
    snprintf(out->min_qty, sizeof out->min_qty, "0");
    snprintf(out->min_price, sizeof out->min_price, "0");
    snprintf(out->min_notional, sizeof out->min_notional, "0");
    return EXCHANGE_OK;
}

/* Candles from the source. EXCHANGE_ERR_UNSUPPORTED without one. */
static int source_read(exchange *ex, const char *symbol, const char *timeframe, int64_t start_ms, int64_t end_ms,
                       candle **out, size_t *n)
{
    paper *p = ex->priv;
    *out = NULL;
    *n = 0;
    if (!p->source)
        return exchange_fail(ex, EXCHANGE_ERR_UNSUPPORTED, 0, 0,
                             "the paper exchange has no candle source: market data comes from the candles fed to it");
    if (p->source(p->source_user, symbol, timeframe, start_ms, end_ms, out, n) != 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return exchange_fail(ex, EXCHANGE_ERR_UNAVAILABLE, 0, 0, "the candle source has no %s %s candles", symbol,
                             timeframe);
    }
    if (!*out)
        *n = 0;
    return EXCHANGE_OK;
}

static int pp_klines(exchange *ex, const char *symbol, const char *timeframe, int64_t start_ms, int64_t end_ms,
                     int limit, candle **out, size_t *n)
{
    char base[EXCHANGE_ASSET], quote[EXCHANGE_ASSET];
    *out = NULL;
    *n = 0;
    int rc = paper_split(ex, symbol, base, quote);
    if (rc != 0)
        return rc;
    if (!candle_timeframe_ms(timeframe))
        return exchange_fail(ex, EXCHANGE_ERR_INVALID, 0, 0, "timeframe must be 1m, 5m, 15m, 1h, 4h or 1d");
    if (end_ms < start_ms)
        return exchange_fail(ex, EXCHANGE_ERR_INVALID, 0, 0, "the end of the range is before its start");
    if ((rc = source_read(ex, symbol, timeframe, start_ms, end_ms, out, n)) != 0)
        return rc;
    size_t max = limit > 0 ? (size_t)limit : PAPER_PAGE;
    if (*n > max)
        *n = max;
    return EXCHANGE_OK;
}

/* The symbol's last price: the close of its last candle fed, else of the source's last 1m
 * candle in the day before the clock. */
static int last_price(exchange *ex, const char *symbol, double *px)
{
    paper *p = ex->priv;
    paper_market *m = market_find(p, symbol);
    if (m) {
        *px = m->last_close;
        return EXCHANGE_OK;
    }
    candle *rows;
    size_t n;
    int64_t now = paper_clock(p);
    int rc = source_read(ex, symbol, PAPER_TICKER_TF, now - PAPER_TICKER_SPAN, now, &rows, &n);
    if (rc != 0) {
        if (rc == EXCHANGE_ERR_UNSUPPORTED)
            exchange_fail(ex, rc, 0, 0, "no price for %s: no candle of it was fed and there is no candle source", symbol);
        return rc;
    }
    int found = n > 0;
    if (found)
        *px = rows[n - 1].close;
    free(rows);
    return found ? EXCHANGE_OK : exchange_fail(ex, EXCHANGE_ERR_NOT_FOUND, 0, 0, "no recent price for %s", symbol);
}

static int pp_ticker(exchange *ex, const char *symbol, exchange_price *out)
{
    char base[EXCHANGE_ASSET], quote[EXCHANGE_ASSET];
    memset(out, 0, sizeof *out);
    int rc = paper_split(ex, symbol, base, quote);
    if (rc != 0 || (rc = last_price(ex, symbol, &out->price_d)) != 0)
        return rc;
    snprintf(out->symbol, sizeof out->symbol, "%s", symbol);
    fmt_double(out->price, out->price_d);
    return EXCHANGE_OK;
}

/* ---- account ---- */

static int pp_balances(exchange *ex, exchange_balance **out, size_t *n)
{
    paper *p = ex->priv;
    *out = NULL;
    *n = 0;
    exchange_balance *rows = p->nassets ? calloc(p->nassets, sizeof *rows) : NULL;
    if (p->nassets && !rows)
        return exchange_fail(ex, EXCHANGE_ERR_UNAVAILABLE, 0, 0, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < p->nassets; i++) {
        double locked = asset_locked(p, p->assets[i].name);
        if (p->assets[i].total == 0 && locked == 0)
            continue;
        snprintf(rows[k].asset, sizeof rows[k].asset, "%s", p->assets[i].name);
        fmt_double(rows[k].free, asset_free(p, &p->assets[i]));
        fmt_double(rows[k].locked, locked);
        k++;
    }
    if (!k) {
        free(rows);
        rows = NULL;
    }
    *out = rows;
    *n = k;
    return EXCHANGE_OK;
}

static int pp_validate(exchange *ex, int need_trade, exchange_account *out)
{
    (void)ex;
    (void)need_trade;
    if (out) {
        memset(out, 0, sizeof *out);
        out->can_trade = 1;
        snprintf(out->account_type, sizeof out->account_type, "SPOT");
        snprintf(out->permissions, sizeof out->permissions, "SPOT");
    }
    return EXCHANGE_OK;
}

/* ---- orders ---- */

/* By order id, else by client id; a symbol, when given, must be the order's. */
static paper_order *order_find(paper *p, const char *symbol, const char *order_id, const char *client_order_id)
{
    int by_id = order_id && *order_id;
    for (size_t i = 0; i < p->norders; i++) {
        paper_order *o = &p->orders[i];
        if (by_id ? !strcmp(o->o.order_id, order_id)
                  : client_order_id && *client_order_id && !strcmp(o->o.client_order_id, client_order_id))
            return symbol && strcmp(o->o.symbol, symbol) ? NULL : o;
    }
    return NULL;
}

static int pp_open_orders(exchange *ex, const char *symbol, exchange_order **out, size_t *n)
{
    paper *p = ex->priv;
    *out = NULL;
    *n = 0;
    size_t k = 0;
    for (size_t i = 0; i < p->norders; i++)
        k += order_open(&p->orders[i]) && (!symbol || !strcmp(p->orders[i].o.symbol, symbol));
    if (!k)
        return EXCHANGE_OK;
    exchange_order *rows = calloc(k, sizeof *rows);
    if (!rows)
        return exchange_fail(ex, EXCHANGE_ERR_UNAVAILABLE, 0, 0, "out of memory");
    k = 0;
    for (size_t i = 0; i < p->norders; i++)
        if (order_open(&p->orders[i]) && (!symbol || !strcmp(p->orders[i].o.symbol, symbol)))
            rows[k++] = p->orders[i].o;
    *out = rows;
    *n = k;
    return EXCHANGE_OK;
}

/* What an order locks when placed, of the asset it spends. The orders whose cost depends on the
 * fill price lock an estimate at the last price (slippage and fee included). */
static int order_reserve(exchange *ex, paper_order *o, double *reserved)
{
    paper *p = ex->priv;
    double rate = fill_rate(p->fee_bps), slip = fill_rate(p->slippage_bps), px, fee, qty;
    int by_amount = o->amount > 0;
    if (o->side == EXCHANGE_BUY && by_amount) {
        *reserved = o->amount;
        return EXCHANGE_OK;
    }
    if (o->side == EXCHANGE_SELL && !by_amount) {
        *reserved = o->qty;
        return EXCHANGE_OK;
    }
    if (o->type == EXCHANGE_LIMIT) {
        *reserved = fill_buy_qty(o->qty, o->price, rate, 0.0, &px, &fee);
        return EXCHANGE_OK;
    }
    double last;
    if (last_price(ex, o->o.symbol, &last) != 0) {
        char why[EXCHANGE_MSG];
        snprintf(why, sizeof why, "%s", ex->err.message);
        return exchange_fail(ex, EXCHANGE_ERR_REJECTED, 0, 0, "%s (needed to size this MARKET order)", why);
    }
    if (o->side == EXCHANGE_BUY)
        *reserved = fill_buy_qty(o->qty, last, rate, slip, &px, &fee);
    else {
        fill_sell_amount(o->amount, last, rate, slip, &px, &qty, &fee);
        *reserved = qty;
    }
    return EXCHANGE_OK;
}

/* Reads a request into o (not yet placed). */
static int order_from_request(exchange *ex, const exchange_order_req *rq, paper_order *o)
{
    memset(o, 0, sizeof *o);
    int rc = paper_split(ex, rq->symbol, o->base, o->quote);
    if (rc != 0)
        return rc;
    if ((rq->side != EXCHANGE_BUY && rq->side != EXCHANGE_SELL) ||
        (rq->type != EXCHANGE_MARKET && rq->type != EXCHANGE_LIMIT) ||
        (rq->tif != EXCHANGE_GTC && rq->tif != EXCHANGE_IOC && rq->tif != EXCHANGE_FOK))
        return exchange_fail(ex, EXCHANGE_ERR_INVALID, 0, 0, "unknown side, order type or time in force");
    int has_qty = rq->quantity && *rq->quantity, has_quote = rq->quote_quantity && *rq->quote_quantity;
    int has_price = rq->price && *rq->price;
    o->side = rq->side;
    o->type = rq->type;
    o->tif = rq->type == EXCHANGE_LIMIT ? rq->tif : EXCHANGE_GTC;
    if (rq->type == EXCHANGE_MARKET) {
        if (has_qty == has_quote || has_price)
            return exchange_fail(ex, EXCHANGE_ERR_INVALID, 0, 0,
                                 "a MARKET order takes a quantity or a quote_quantity, and no price");
        if (has_qty ? parse_amount(rq->quantity, &o->qty) : parse_amount(rq->quote_quantity, &o->amount))
            return exchange_fail(ex, EXCHANGE_ERR_INVALID, 0, 0, "the quantity must be a positive number");
    } else {
        if (!has_qty || has_quote || !has_price)
            return exchange_fail(ex, EXCHANGE_ERR_INVALID, 0, 0, "a LIMIT order takes a quantity and a price");
        if (parse_amount(rq->quantity, &o->qty) || parse_amount(rq->price, &o->price))
            return exchange_fail(ex, EXCHANGE_ERR_INVALID, 0, 0, "quantity and price must be positive numbers");
    }
    exchange_order *e = &o->o;
    snprintf(e->symbol, sizeof e->symbol, "%s", rq->symbol);
    snprintf(e->client_order_id, sizeof e->client_order_id, "%s", rq->client_order_id);
    snprintf(e->side, sizeof e->side, "%s", rq->side == EXCHANGE_SELL ? "SELL" : "BUY");
    snprintf(e->type, sizeof e->type, "%s", rq->type == EXCHANGE_LIMIT ? "LIMIT" : "MARKET");
    snprintf(e->status, sizeof e->status, "NEW");
    snprintf(e->time_in_force, sizeof e->time_in_force, "%s",
             o->tif == EXCHANGE_IOC ? "IOC" : o->tif == EXCHANGE_FOK ? "FOK" : "GTC");
    snprintf(e->price, sizeof e->price, "%s", has_price ? rq->price : "0");
    snprintf(e->orig_qty, sizeof e->orig_qty, "%s", has_qty ? rq->quantity : "0");
    snprintf(e->executed_qty, sizeof e->executed_qty, "0");
    snprintf(e->cum_quote_qty, sizeof e->cum_quote_qty, "0");
    return EXCHANGE_OK;
}

static int pp_place_order(exchange *ex, const exchange_order_req *rq, exchange_order *out)
{
    paper *p = ex->priv;
    if (!exchange_client_id_ok(rq->client_order_id))
        return exchange_fail(ex, EXCHANGE_ERR_INVALID, 0, 0, "an order needs a client order id (1..36 of A-Za-z0-9_-)");
    paper_order *dup = order_find(p, NULL, NULL, rq->client_order_id);
    if (dup) {
        /* as a retried order on Binance finds its first try by client id: no second order */
        *out = dup->o;
        return EXCHANGE_OK;
    }
    paper_order o;
    double reserved;
    int rc = order_from_request(ex, rq, &o);
    if (rc != 0 || (rc = order_reserve(ex, &o, &reserved)) != 0)
        return rc;
    /* both assets exist before anything changes, so a fill never needs memory */
    paper_order *orders = grow(p->orders, p->norders, &p->caporders, sizeof *orders);
    if (orders)
        p->orders = orders;
    if (!orders || !asset_get(p, o.base) || !asset_get(p, o.quote))
        return exchange_fail(ex, EXCHANGE_ERR_UNAVAILABLE, 0, 0, "out of memory");
    paper_asset *a = asset_find(p, spends(&o));
    double free_now = asset_free(p, a);
    if (!(reserved <= free_now))
        return exchange_fail(ex, EXCHANGE_ERR_BALANCE, 0, 0,
                             "insufficient balance: the order needs %.17g %s and %.17g is free", reserved, a->name,
                             free_now);
    o.reserved = reserved;
    snprintf(o.o.order_id, sizeof o.o.order_id, "%lld", (long long)p->next_id++);
    o.o.time_ms = o.o.update_time_ms = paper_clock(p);
    p->orders[p->norders++] = o;
    *out = o.o;
    return EXCHANGE_OK;
}

static int pp_cancel_order(exchange *ex, const char *symbol, const char *order_id, const char *client_order_id,
                           exchange_order *out)
{
    paper *p = ex->priv;
    paper_order *o = order_find(p, symbol, order_id, client_order_id);
    if (o && order_open(o)) {
        o->reserved = 0; /* the lock is gone with the order */
        snprintf(o->o.status, sizeof o->o.status, "CANCELED");
        o->o.update_time_ms = paper_clock(p);
    }
    /* a cancel repeated after it went through reports the cancelled order, as the Binance adapter */
    if (!o || strcmp(o->o.status, "CANCELED"))
        return exchange_fail(ex, EXCHANGE_ERR_NOT_FOUND, 0, 0, "unknown order (not open)");
    *out = o->o;
    return EXCHANGE_OK;
}

static int pp_get_order(exchange *ex, const char *symbol, const char *order_id, const char *client_order_id,
                        exchange_order *out)
{
    paper_order *o = order_find(ex->priv, symbol, order_id, client_order_id);
    if (!o)
        return exchange_fail(ex, EXCHANGE_ERR_NOT_FOUND, 0, 0, "order does not exist");
    *out = o->o;
    return EXCHANGE_OK;
}

const exchange_ops exchange_paper_ops = {
    .name = "paper",
    .needs_credentials_for_market_data = 0,
    .simulated = 1,
    .open = pp_open,
    .close = pp_close,
    .ping = pp_ping,
    .server_time = pp_server_time,
    .symbol_info = pp_symbol_info,
    .ticker = pp_ticker,
    .klines = pp_klines,
    .balances = pp_balances,
    .open_orders = pp_open_orders,
    .place_order = pp_place_order,
    .cancel_order = pp_cancel_order,
    .get_order = pp_get_order,
    .validate_credentials = pp_validate,
};

/* ---- the simulation ---- */

static void order_end(paper_order *o, const char *status, int64_t time)
{
    o->reserved = 0;
    snprintf(o->o.status, sizeof o->o.status, "%s", status);
    o->o.update_time_ms = time;
}

/* Takes `used` of the asset order o spends, which it locked `o->reserved` of: more than the lock
 * must fit in what is free. 0, or -1 (nothing changed) when it does not. */
static int settle(paper *p, const paper_order *o, paper_asset *a, double used)
{
    if (used > o->reserved && used - o->reserved > asset_free(p, a))
        return -1;
    a->total -= used;
    return 0;
}

/* Fills o on candle c when it can (see paper.h); 1 when it filled or expired. */
static int order_fill(paper *p, paper_order *o, const candle *c)
{
    int limit = o->type == EXCHANGE_LIMIT;
    if (limit && !(o->side == EXCHANGE_BUY ? c->low <= o->price : c->high >= o->price)) {
        if (o->tif == EXCHANGE_GTC)
            return 0;
        order_end(o, "EXPIRED", c->open_time); /* IOC and FOK get one candle */
        return 1;
    }
    double rate = fill_rate(p->fee_bps), slip = limit ? 0.0 : fill_rate(p->slippage_bps);
    double px = limit ? o->price : c->open, price, fee, qty, quote, notional;
    int buy = o->side == EXCHANGE_BUY;
    if (buy && o->amount > 0) {
        quote = o->amount;
        qty = fill_buy_amount(quote, px, rate, slip, &price, &fee);
    } else if (buy) {
        qty = o->qty;
        quote = fill_buy_qty(qty, px, rate, slip, &price, &fee);
    } else if (o->amount > 0) {
        quote = fill_sell_amount(o->amount, px, rate, slip, &price, &qty, &fee);
    } else {
        qty = o->qty;
        quote = fill_sell(qty, px, rate, slip, &price, &fee);
    }
    /* a sale by quote amount grossed exactly that amount; otherwise the notional is qty × price */
    notional = !buy && o->amount > 0 ? o->amount : qty * price;
    paper_asset *base = asset_find(p, o->base), *quote_asset = asset_find(p, o->quote);
    if (settle(p, o, buy ? quote_asset : base, buy ? quote : qty) != 0) {
        order_end(o, "EXPIRED", c->open_time);
        return 1;
    }
    if (buy)
        base->total += qty;
    else
        quote_asset->total += quote;
    o->fill = (exchange_paper_fill){c->open_time, price, qty, fee, quote};
    fmt_double(o->o.executed_qty, qty);
    fmt_double(o->o.cum_quote_qty, notional);
    if (o->amount > 0)
        fmt_double(o->o.orig_qty, qty);
    order_end(o, "FILLED", c->open_time);
    return 1;
}

int exchange_paper_feed(exchange *ex, const char *symbol, const candle *c)
{
    paper *p = paper_begin(ex);
    if (!p)
        return not_paper(ex);
    char base[EXCHANGE_ASSET], quote[EXCHANGE_ASSET];
    int rc = paper_split(ex, symbol, base, quote);
    if (rc != 0)
        return rc;
    /* the engine's candle rules: low above zero, high and low around open and close, all finite */
    if (!c || !(c->low > 0 && c->high < INFINITY && c->high >= c->open && c->high >= c->close && c->low <= c->open &&
          c->low <= c->close))
        return exchange_fail(ex, EXCHANGE_ERR_INVALID, 0, 0, "invalid candle for %s", symbol);
    paper_market *m = market_find(p, symbol);
    if (m && c->open_time <= m->last_time)
        return exchange_fail(ex, EXCHANGE_ERR_INVALID, 0, 0, "candle of %s out of order: %lld after %lld", symbol,
                             (long long)c->open_time, (long long)m->last_time);
    if (!m) {
        paper_market *arr = grow(p->markets, p->nmarkets, &p->capmarkets, sizeof *arr);
        if (!arr)
            return exchange_fail(ex, EXCHANGE_ERR_UNAVAILABLE, 0, 0, "out of memory");
        p->markets = arr;
        m = &arr[p->nmarkets++];
        snprintf(m->symbol, sizeof m->symbol, "%s", symbol);
    }
    /* sells first (they free cash), then buys, each in the order placed: the engine's order */
    int n = 0;
    for (int pass = 0; pass < 2; pass++) {
        exchange_side side = pass == 0 ? EXCHANGE_SELL : EXCHANGE_BUY;
        for (size_t i = 0; i < p->norders; i++) {
            paper_order *o = &p->orders[i];
            if (o->side == side && order_open(o) && !strcmp(o->o.symbol, symbol))
                n += order_fill(p, o, c);
        }
    }
    m->last_time = c->open_time;
    m->last_close = c->close;
    if (c->open_time > p->clock_ms)
        p->clock_ms = c->open_time;
    return n;
}

int exchange_paper_fill_of(exchange *ex, const char *order_id, const char *client_order_id, exchange_paper_fill *out)
{
    paper *p = paper_begin(ex);
    if (!p)
        return not_paper(ex);
    paper_order *o = order_find(p, NULL, order_id, client_order_id);
    if (!o)
        return exchange_fail(ex, EXCHANGE_ERR_NOT_FOUND, 0, 0, "order does not exist");
    *out = o->fill;
    return EXCHANGE_OK;
}

/* ---- setup ---- */

static int bps_ok(double v)
{
    return isfinite(v) && v >= 0 && v <= 1000;
}

int exchange_paper_set_costs(exchange *ex, double fee_bps, double slippage_bps)
{
    paper *p = paper_begin(ex);
    if (!p)
        return not_paper(ex);
    if (!bps_ok(fee_bps) || !bps_ok(slippage_bps))
        return exchange_fail(ex, EXCHANGE_ERR_INVALID, 0, 0, "fee and slippage must be 0 to 1000 basis points");
    p->fee_bps = fee_bps;
    p->slippage_bps = slippage_bps;
    return EXCHANGE_OK;
}

int exchange_paper_set_balance(exchange *ex, const char *asset, double amount)
{
    paper *p = paper_begin(ex);
    if (!p)
        return not_paper(ex);
    if (!name_ok(asset, 1, EXCHANGE_ASSET - 1) || !isfinite(amount) || amount < 0)
        return exchange_fail(ex, EXCHANGE_ERR_INVALID, 0, 0, "an asset is 1 to 15 of A-Z and 0-9, its balance >= 0");
    paper_asset *a = asset_get(p, asset);
    if (!a)
        return exchange_fail(ex, EXCHANGE_ERR_UNAVAILABLE, 0, 0, "out of memory");
    double locked = asset_locked(p, asset);
    a->total = locked > 0 ? amount + locked : amount;
    return EXCHANGE_OK;
}

int exchange_paper_set_source(exchange *ex, exchange_paper_source fn, void *user)
{
    paper *p = paper_begin(ex);
    if (!p)
        return not_paper(ex);
    p->source = fn;
    p->source_user = fn ? user : NULL;
    return EXCHANGE_OK;
}

/* ---- saved state ---- */

#define PAPER_STATE_VERSION 1

static json_t *fill_json(const exchange_paper_fill *f)
{
    return json_pack("{s:I, s:f, s:f, s:f, s:f}", "time_ms", (json_int_t)f->time_ms, "price", f->price, "qty", f->qty,
                     "fee", f->fee, "quote", f->quote);
}

static json_t *order_json(const paper_order *o)
{
    const exchange_order *e = &o->o;
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:f, s:f, s:f, s:f, s:o}",
                     "symbol", e->symbol, "order_id", e->order_id, "client_order_id", e->client_order_id, "side",
                     e->side, "type", e->type, "status", e->status, "time_in_force", e->time_in_force, "price_text",
                     e->price, "orig_qty", e->orig_qty, "executed_qty", e->executed_qty, "cum_quote_qty",
                     e->cum_quote_qty, "time_ms", (json_int_t)e->time_ms, "update_time_ms",
                     (json_int_t)e->update_time_ms, "qty", o->qty, "amount", o->amount, "price", o->price, "reserved",
                     o->reserved, "fill", fill_json(&o->fill));
}

char *exchange_paper_save(exchange *ex)
{
    paper *p = paper_begin(ex);
    if (!p)
        return NULL;
    json_t *assets = json_array(), *markets = json_array(), *orders = json_array();
    int bad = !assets || !markets || !orders;
    for (size_t i = 0; !bad && i < p->nassets; i++)
        bad = json_array_append_new(assets, json_pack("{s:s, s:f}", "asset", p->assets[i].name, "total",
                                                      p->assets[i].total)) != 0;
    for (size_t i = 0; !bad && i < p->nmarkets; i++)
        bad = json_array_append_new(markets, json_pack("{s:s, s:I, s:f}", "symbol", p->markets[i].symbol, "last_time",
                                                       (json_int_t)p->markets[i].last_time, "last_close",
                                                       p->markets[i].last_close)) != 0;
    for (size_t i = 0; !bad && i < p->norders; i++)
        bad = json_array_append_new(orders, order_json(&p->orders[i])) != 0;
    json_t *root = bad ? NULL
                       : json_pack("{s:i, s:f, s:f, s:I, s:I, s:O, s:O, s:O}", "version", PAPER_STATE_VERSION, "fee_bps",
                                   p->fee_bps, "slippage_bps", p->slippage_bps, "clock_ms", (json_int_t)p->clock_ms,
                                   "next_id", (json_int_t)p->next_id, "balances", assets, "markets", markets, "orders",
                                   orders);
    json_decref(assets);
    json_decref(markets);
    json_decref(orders);
    /* jansson writes reals with 17 significant digits, which read back to the same double */
    char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (!text)
        exchange_fail(ex, EXCHANGE_ERR_UNAVAILABLE, 0, 0, "out of memory");
    return text;
}

static int copy_text(char *dst, size_t size, const char *s)
{
    return s && strlen(s) < size ? (snprintf(dst, size, "%s", s), 0) : -1;
}

static int amount_ok(double v)
{
    return isfinite(v) && v >= 0;
}

static int order_load(exchange *ex, json_t *j, paper_order *o)
{
    const char *sym, *id, *cid, *side, *type, *status, *tif, *price_text, *orig, *exec, *cum;
    json_int_t t, ut, ft;
    json_t *fill;
    memset(o, 0, sizeof *o);
    if (json_unpack(j, "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:F, s:F, s:F, s:F, s:o}",
                    "symbol", &sym, "order_id", &id, "client_order_id", &cid, "side", &side, "type", &type, "status",
                    &status, "time_in_force", &tif, "price_text", &price_text, "orig_qty", &orig, "executed_qty", &exec,
                    "cum_quote_qty", &cum, "time_ms", &t, "update_time_ms", &ut, "qty", &o->qty, "amount", &o->amount,
                    "price", &o->price, "reserved", &o->reserved, "fill", &fill) != 0 ||
        json_unpack(fill, "{s:I, s:F, s:F, s:F, s:F}", "time_ms", &ft, "price", &o->fill.price, "qty", &o->fill.qty,
                    "fee", &o->fill.fee, "quote", &o->fill.quote) != 0)
        return -1;
    exchange_order *e = &o->o;
    if (paper_split(ex, sym, o->base, o->quote) != 0 || !exchange_client_id_ok(cid) ||
        copy_text(e->symbol, sizeof e->symbol, sym) || copy_text(e->order_id, sizeof e->order_id, id) ||
        copy_text(e->client_order_id, sizeof e->client_order_id, cid) || copy_text(e->side, sizeof e->side, side) ||
        copy_text(e->type, sizeof e->type, type) || copy_text(e->status, sizeof e->status, status) ||
        copy_text(e->time_in_force, sizeof e->time_in_force, tif) || copy_text(e->price, sizeof e->price, price_text) ||
        copy_text(e->orig_qty, sizeof e->orig_qty, orig) || copy_text(e->executed_qty, sizeof e->executed_qty, exec) ||
        copy_text(e->cum_quote_qty, sizeof e->cum_quote_qty, cum))
        return -1;
    if (strcmp(side, "BUY") && strcmp(side, "SELL"))
        return -1;
    if (strcmp(type, "MARKET") && strcmp(type, "LIMIT"))
        return -1;
    if (strcmp(status, "NEW") && strcmp(status, "FILLED") && strcmp(status, "CANCELED") && strcmp(status, "EXPIRED"))
        return -1;
    o->side = !strcmp(side, "SELL") ? EXCHANGE_SELL : EXCHANGE_BUY;
    o->type = !strcmp(type, "LIMIT") ? EXCHANGE_LIMIT : EXCHANGE_MARKET;
    o->tif = !strcmp(tif, "IOC") ? EXCHANGE_IOC : !strcmp(tif, "FOK") ? EXCHANGE_FOK : EXCHANGE_GTC;
    e->time_ms = t;
    e->update_time_ms = ut;
    o->fill.time_ms = ft;
    if (!amount_ok(o->qty) || !amount_ok(o->amount) || !amount_ok(o->price) || !amount_ok(o->reserved) ||
        !amount_ok(o->fill.price) || !amount_ok(o->fill.qty) || !amount_ok(o->fill.fee) || !amount_ok(o->fill.quote) ||
        (o->qty > 0) == (o->amount > 0) || (o->type == EXCHANGE_LIMIT) != (o->price > 0))
        return -1;
    return 0;
}

/* Reads a saved account into q (zeroed by the caller); 0 or -1. */
static int paper_load_into(exchange *ex, json_t *root, paper *q)
{
    json_t *assets, *markets, *orders;
    int version;
    json_int_t clock, next;
    if (json_unpack(root, "{s:i, s:F, s:F, s:I, s:I, s:o, s:o, s:o}", "version", &version, "fee_bps", &q->fee_bps,
                    "slippage_bps", &q->slippage_bps, "clock_ms", &clock, "next_id", &next, "balances", &assets,
                    "markets", &markets, "orders", &orders) != 0 ||
        version != PAPER_STATE_VERSION || !bps_ok(q->fee_bps) || !bps_ok(q->slippage_bps) || next < 1 ||
        !json_is_array(assets) || !json_is_array(markets) || !json_is_array(orders))
        return -1;
    q->clock_ms = clock;
    q->next_id = next;
    size_t i;
    json_t *v;
    json_array_foreach(assets, i, v) {
        const char *name;
        double total;
        paper_asset *a;
        if (json_unpack(v, "{s:s, s:F}", "asset", &name, "total", &total) != 0 ||
            !name_ok(name, 1, EXCHANGE_ASSET - 1) || !amount_ok(total) || asset_find(q, name) ||
            !(a = asset_get(q, name)))
            return -1;
        a->total = total;
    }
    json_array_foreach(markets, i, v) {
        const char *sym;
        json_int_t last;
        double close;
        char base[EXCHANGE_ASSET], quote[EXCHANGE_ASSET];
        if (json_unpack(v, "{s:s, s:I, s:F}", "symbol", &sym, "last_time", &last, "last_close", &close) != 0 ||
            paper_split(ex, sym, base, quote) != 0 || !(close > 0) || !isfinite(close) || market_find(q, sym))
            return -1;
        paper_market *arr = grow(q->markets, q->nmarkets, &q->capmarkets, sizeof *arr);
        if (!arr)
            return -1;
        q->markets = arr;
        paper_market *m = &arr[q->nmarkets++];
        snprintf(m->symbol, sizeof m->symbol, "%s", sym);
        m->last_time = last;
        m->last_close = close;
    }
    json_array_foreach(orders, i, v) {
        paper_order o;
        if (order_load(ex, v, &o) != 0 || order_find(q, NULL, o.o.order_id, NULL) ||
            order_find(q, NULL, NULL, o.o.client_order_id) || !asset_get(q, o.base) || !asset_get(q, o.quote))
            return -1;
        paper_order *arr = grow(q->orders, q->norders, &q->caporders, sizeof *arr);
        if (!arr)
            return -1;
        q->orders = arr;
        arr[q->norders++] = o;
    }
    return 0;
}

int exchange_paper_load(exchange *ex, const char *text)
{
    paper *p = paper_begin(ex);
    if (!p)
        return not_paper(ex);
    json_t *root = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
    paper *q = calloc(1, sizeof *q);
    int rc = root && q ? paper_load_into(ex, root, q) : -1;
    json_decref(root);
    if (rc != 0) {
        paper_free(q);
        return exchange_fail(ex, EXCHANGE_ERR_INVALID, 0, 0, "not a saved paper account");
    }
    q->source = p->source;
    q->source_user = p->source_user;
    ex->priv = q;
    paper_free(p);
    return EXCHANGE_OK;
}
