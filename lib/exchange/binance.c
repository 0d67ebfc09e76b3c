/* binance.c — the Binance spot REST adapter: HMAC-SHA256 signed requests with timestamp and
 * recvWindow, server-time offset kept and re-measured on -1021, request-weight budget, bans, idempotent orders. */
#include "binance.h"
#include "buf.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define BN_SERVICE "binance"

/* What the process knows about Binance, whichever handle learnt it: the clock offset, the
 * weight used this minute (Binance counts per address, so every handle shares it) and bans. */
static struct {
    pthread_mutex_t lock;
    int64_t offset_ms;      /* server clock − local clock */
    int64_t synced_at_ms;   /* local time of the last measurement; 0 = never */
    long weight_used;       /* X-MBX-USED-WEIGHT-1M of the last answer */
    int64_t weight_minute;  /* the server minute that answer belonged to */
    int64_t blocked_until;  /* local ms: after a 429 or a 418 ban nothing is sent until then */
} bn_shared = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, -1, 0};

typedef struct binance {
    char base_url[256];
    exchange_symbol *symbols; /* exchangeInfo answers already read, by symbol */
    size_t nsymbols;
} binance;

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- pure parts ---- */

int binance_sign(const char *secret, const char *query, const char *body, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t ql = query ? strlen(query) : 0, bl = body ? strlen(body) : 0;
    unsigned char *msg = malloc(ql + bl + 1);
    if (!msg)
        return -1;
    memcpy(msg, query ? query : "", ql);
    memcpy(msg + ql, body ? body : "", bl);
    unsigned char *r = HMAC(EVP_sha256(), secret, (int)strlen(secret), msg, ql + bl, md, &mdlen);
    free(msg);
    if (!r || mdlen != 32)
        return -1;
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < mdlen; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
    sodium_memzero(md, sizeof md);
    return 0;
}

exchange_err binance_map_error(long http_status, long code, const char *msg)
{
    msg = msg ? msg : "";
    switch (code) {
    case -1021:
        return EXCHANGE_ERR_TIMESTAMP;
    case -1002: /* not authorized */
    case -1022: /* signature not valid */
    case -2008: /* invalid API-key id */
    case -2014: /* API-key format invalid */
    case -2015: /* invalid API-key, IP, or permissions for action */
        return EXCHANGE_ERR_AUTH;
    case -2010:
        if (strcasestr(msg, "insufficient balance"))
            return EXCHANGE_ERR_BALANCE;
        return EXCHANGE_ERR_REJECTED;
    case -2011: /* cancel rejected: unknown order */
    case -2013: /* order does not exist */
    case -1121: /* invalid symbol */
        return EXCHANGE_ERR_NOT_FOUND;
    case -1013: /* a filter failed */
    case -2026: /* order archived */
        return EXCHANGE_ERR_REJECTED;
    case -1003: /* too many requests */
    case -1015: /* too many orders */
        return EXCHANGE_ERR_RATE_LIMIT;
    case -1000: /* unknown error */
    case -1001: /* disconnected */
    case -1006: /* unexpected response */
    case -1007: /* backend timeout: outcome unknown */
    case -1008: /* server busy */
        return EXCHANGE_ERR_UNAVAILABLE;
    default:
        break;
    }
    if (http_status == 429 || http_status == 418)
        return EXCHANGE_ERR_RATE_LIMIT;
    if (http_status == 401)
        return EXCHANGE_ERR_AUTH;
    if (http_status >= 500 || http_status == 403) /* 403: the web application firewall */
        return EXCHANGE_ERR_UNAVAILABLE;
    if (code <= -1100 && code > -1200)
        return EXCHANGE_ERR_INVALID;
    if (http_status >= 400)
        return EXCHANGE_ERR_INVALID;
    return EXCHANGE_ERR_PROTOCOL;
}

/* ---- requests ---- */

/* Appends &name=value, the value percent-encoded (all we send is plain ASCII already). */
static void qs_add(buf *q, const char *name, const char *value)
{
    if (q->len)
        buf_putc(q, '&');
    buf_puts(q, name);
    buf_putc(q, '=');
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
            buf_putc(q, (char)*p);
        else
            buf_printf(q, "%%%02X", *p);
    }
}

static void qs_add_ll(buf *q, const char *name, long long v)
{
    char s[32];
    snprintf(s, sizeof s, "%lld", v);
    qs_add(q, name, s);
}

enum { BN_PUBLIC = 0, BN_SIGNED = 1 };

typedef struct bn_call {
    const char *method, *path;
    int security;          /* BN_PUBLIC or BN_SIGNED */
    int weight;            /* Binance's request weight of this call */
    int order_post;        /* POST /api/v3/order: an unanswered send has an unknown outcome */
    const char *params;    /* query without timestamp/recvWindow/signature */
} bn_call;

static int bn_time_sync(exchange *ex);

/* Waits for, or refuses with RATE_LIMIT, a request that would exceed this minute's weight budget
 * or come during a ban. */
static int bn_budget(exchange *ex, int weight)
{
    long limit = config_int("exchange.binance.weight_limit_1m");
    long reserve = config_int("exchange.binance.weight_reserve_pct");
    long max_wait = config_int("exchange.binance.max_wait_ms");
    long budget = limit > 0 ? limit - limit * (reserve > 0 && reserve < 100 ? reserve : 0) / 100 : 0;
    for (int round = 0; round < 2; round++) {
        pthread_mutex_lock(&bn_shared.lock);
        int64_t now = wall_ms(), server = now + bn_shared.offset_ms;
        long wait = 0;
        const char *why = NULL;
        if (bn_shared.blocked_until > now) {
            wait = (long)(bn_shared.blocked_until - now);
            why = "Binance asked us to back off";
        } else if (budget > 0 && bn_shared.weight_minute == server / 60000 && bn_shared.weight_used + weight > budget) {
            /* the weight counter restarts with the server's next minute */
            wait = (long)(60000 - server % 60000) + 50;
            why = "the request-weight budget of this minute is used up";
        }
        long used = bn_shared.weight_used;
        pthread_mutex_unlock(&bn_shared.lock);
        if (!why)
            return 0;
        if (wait > max_wait || round == 1) {
            ex->err.retry_after_ms = wait;
            return exchange_fail(ex, EXCHANGE_ERR_RATE_LIMIT, 0, 0, "%s (%ld of %ld used); retry in %ld ms", why, used,
                                 limit, wait);
        }
        sleep_ms(wait);
    }
    return 0;
}

static void bn_note_answer(const http_response *rs)
{
    const char *w = http_response_header(rs, "x-mbx-used-weight-1m");
    pthread_mutex_lock(&bn_shared.lock);
    int64_t now = wall_ms();
    if (w && isdigit((unsigned char)*w)) {
        bn_shared.weight_used = strtol(w, NULL, 10);
        bn_shared.weight_minute = (now + bn_shared.offset_ms) / 60000;
    }
    if ((rs->status == 429 || rs->status == 418) && rs->retry_after_ms > 0 &&
        now + rs->retry_after_ms > bn_shared.blocked_until)
        bn_shared.blocked_until = now + rs->retry_after_ms;
    pthread_mutex_unlock(&bn_shared.lock);
}

/* Sends one call; on success *out holds the parsed JSON answer (the caller decrefs). Signed calls
 * answered -1021 re-measure the clock and go once more with a fresh timestamp and signature. */
static int bn_request(exchange *ex, const bn_call *c, json_t **out)
{
    binance *b = ex->priv;
    *out = NULL;
    if (c->security == BN_SIGNED && (!ex->api_key || !ex->api_secret))
        return exchange_fail(ex, EXCHANGE_ERR_AUTH, 0, 0, "this call needs an API key and secret");
    long recv_window = config_int("exchange.binance.recv_window_ms");
    if (recv_window <= 0 || recv_window > 60000)
        recv_window = 5000;
    if (c->security == BN_SIGNED) {
        pthread_mutex_lock(&bn_shared.lock);
        int64_t synced = bn_shared.synced_at_ms;
        pthread_mutex_unlock(&bn_shared.lock);
        if (synced && wall_ms() - synced > config_int("exchange.binance.time_resync_s") * 1000L)
            bn_time_sync(ex); /* a failure keeps the old offset: the call itself tells */
    }
    int rc = EXCHANGE_ERR_PROTOCOL;
    for (int pass = 0; pass < 2; pass++) {
        if ((rc = bn_budget(ex, c->weight)) != 0)
            return rc;
        buf url = {0}, q = {0};
        buf_puts(&q, c->params ? c->params : "");
        char hdr[300];
        const char *headers[1];
        size_t nh = 0;
        if (c->security == BN_SIGNED) {
            pthread_mutex_lock(&bn_shared.lock);
            int64_t ts = wall_ms() + bn_shared.offset_ms;
            pthread_mutex_unlock(&bn_shared.lock);
            qs_add_ll(&q, "timestamp", ts);
            qs_add_ll(&q, "recvWindow", recv_window);
            char sig[65];
            if (binance_sign(ex->api_secret, q.data, NULL, sig) != 0) {
                buf_free(&q);
                return exchange_fail(ex, EXCHANGE_ERR_PROTOCOL, 0, 0, "cannot sign the request");
            }
            qs_add(&q, "signature", sig);
            sodium_memzero(sig, sizeof sig);
        }
        if (ex->api_key) {
            snprintf(hdr, sizeof hdr, "X-MBX-APIKEY: %s", ex->api_key);
            headers[nh++] = hdr;
        }
        buf_printf(&url, "%s%s%s%s", b->base_url, c->path, q.len ? "?" : "", q.len ? q.data : "");
        http_request rq = {.service = BN_SERVICE,
                           .method = c->method,
                           .url = url.data,
                           .headers = headers,
                           .nheaders = nh,
                           /* an order is resent only after looking it up (binance_place_order) */
                           .retry_unsafe = 0};
        if (url.oom || q.oom) {
            sodium_memzero(hdr, sizeof hdr);
            buf_free(&url);
            buf_free(&q);
            return exchange_fail(ex, EXCHANGE_ERR_PROTOCOL, 0, 0, "out of memory");
        }
        http_response rs;
        int herr = http_do(&rq, &rs);
        sodium_memzero(hdr, sizeof hdr);
        buf_free(&url);
        buf_free(&q);
        if (herr == HTTP_OK)
            bn_note_answer(&rs);
        ex->err.retry_after_ms = rs.retry_after_ms;
        if (herr != HTTP_OK) {
            exchange_err e = EXCHANGE_ERR_UNAVAILABLE;
            /* sent but unanswered: an order may or may not exist now */
            if (c->order_post && (herr == HTTP_ERR_TIMEOUT || herr == HTTP_ERR_TRANSPORT))
                e = EXCHANGE_ERR_UNKNOWN;
            rc = exchange_fail(ex, e, 0, 0, "Binance did not answer: %s", rs.error);
            http_response_free(&rs);
            return rc;
        }
        json_error_t jerr;
        json_t *j = rs.body.len ? json_loadb(rs.body.data, rs.body.len, 0, &jerr) : NULL;
        long status = rs.status;
        http_response_free(&rs);
        if (status >= 200 && status < 300) {
            if (!j)
                return exchange_fail(ex, EXCHANGE_ERR_PROTOCOL, status, 0, "Binance answered %s %s with no JSON",
                                     c->method, c->path);
            *out = j;
            return 0;
        }
        long code = j ? (long)json_integer_value(json_object_get(j, "code")) : 0;
        const char *msg = j ? json_string_value(json_object_get(j, "msg")) : NULL;
        exchange_err e = binance_map_error(status, code, msg);
        if (c->order_post && status >= 500)
            e = EXCHANGE_ERR_UNKNOWN;
        if (code == -1007 && c->order_post)
            e = EXCHANGE_ERR_UNKNOWN;
        if (code)
            rc = exchange_fail(ex, e, status, code, "Binance: %s (HTTP %ld, code %ld)", msg ? msg : "error", status, code);
        else
            rc = exchange_fail(ex, e, status, 0, "Binance answered HTTP %ld", status);
        json_decref(j);
        if (e == EXCHANGE_ERR_TIMESTAMP && c->security == BN_SIGNED && pass == 0) {
            /* our clock and Binance's disagree by more than recvWindow: measure and resend once */
            if (bn_time_sync(ex) == 0)
                continue;
            return exchange_fail(ex, EXCHANGE_ERR_TIMESTAMP, status, code, "%s",
                                 "Binance refused our timestamp and its clock could not be read");
        }
        if (e != EXCHANGE_ERR_NOT_FOUND && e != EXCHANGE_ERR_BALANCE)
            log_warn("binance: %s %s refused: HTTP %ld code %ld", c->method, c->path, status, code);
        return rc;
    }
    return rc;
}

/* GET /api/v3/time: offset = server time − the local midpoint of the round trip. */
static int bn_time_sync(exchange *ex)
{
    json_t *j;
    int64_t t0 = wall_ms();
    bn_call c = {"GET", "/api/v3/time", BN_PUBLIC, 1, 0, NULL};
    int rc = bn_request(ex, &c, &j);
    int64_t t1 = wall_ms();
    if (rc != 0)
        return rc;
    json_t *st = json_object_get(j, "serverTime");
    if (!json_is_integer(st)) {
        json_decref(j);
        return exchange_fail(ex, EXCHANGE_ERR_PROTOCOL, 200, 0, "Binance time answer without serverTime");
    }
    int64_t offset = (int64_t)json_integer_value(st) - (t0 + t1) / 2;
    json_decref(j);
    pthread_mutex_lock(&bn_shared.lock);
    int64_t before = bn_shared.offset_ms;
    bn_shared.offset_ms = offset;
    bn_shared.synced_at_ms = t1;
    pthread_mutex_unlock(&bn_shared.lock);
    if (llabs(offset - before) > 1000)
        log_info("binance: server clock offset %lld ms (was %lld ms)", (long long)offset, (long long)before);
    return 0;
}

/* ---- answers ---- */

static void jstr(json_t *o, const char *k, char *out, size_t n)
{
    json_t *v = json_object_get(o, k);
    if (json_is_string(v))
        snprintf(out, n, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, n, "%lld", (long long)json_integer_value(v));
    else
        out[0] = '\0';
}

static int64_t jint(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static int bn_order_from(exchange *ex, json_t *o, exchange_order *out)
{
    if (!json_is_object(o) || !json_object_get(o, "orderId") || !json_object_get(o, "symbol"))
        return exchange_fail(ex, EXCHANGE_ERR_PROTOCOL, 200, 0, "Binance order answer without orderId");
    memset(out, 0, sizeof *out);
    jstr(o, "symbol", out->symbol, sizeof out->symbol);
    jstr(o, "orderId", out->order_id, sizeof out->order_id);
    /* a cancel answer names the cancel's own id in clientOrderId and the order's in origClientOrderId */
    jstr(o, json_object_get(o, "origClientOrderId") ? "origClientOrderId" : "clientOrderId", out->client_order_id,
         sizeof out->client_order_id);
    jstr(o, "side", out->side, sizeof out->side);
    jstr(o, "type", out->type, sizeof out->type);
    jstr(o, "status", out->status, sizeof out->status);
    jstr(o, "timeInForce", out->time_in_force, sizeof out->time_in_force);
    jstr(o, "price", out->price, sizeof out->price);
    jstr(o, "origQty", out->orig_qty, sizeof out->orig_qty);
    jstr(o, "executedQty", out->executed_qty, sizeof out->executed_qty);
    jstr(o, "cummulativeQuoteQty", out->cum_quote_qty, sizeof out->cum_quote_qty);
    out->time_ms = json_object_get(o, "transactTime") ? jint(o, "transactTime") : jint(o, "time");
    out->update_time_ms = json_object_get(o, "updateTime") ? jint(o, "updateTime") : out->time_ms;
    return 0;
}

static int symbol_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 2 || n > 20)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(isupper((unsigned char)s[i]) || isdigit((unsigned char)s[i])))
            return 0;
    return 1;
}

#define NEED_SYMBOL(ex, s)                                                                                      \
    do {                                                                                                        \
        if (!symbol_ok(s))                                                                                      \
            return exchange_fail((ex), EXCHANGE_ERR_INVALID, 0, 0, "a symbol is 2 to 20 of A-Z and 0-9");      \
    } while (0)

/* ---- the calls ---- */

static int bn_open(exchange *ex)
{
    binance *b = calloc(1, sizeof *b);
    if (!b)
        return -1;
    const char *base = config_get("exchange.binance.base_url");
    snprintf(b->base_url, sizeof b->base_url, "%s", base && *base ? base : "https://api.binance.com");
    size_t n = strlen(b->base_url);
    while (n && b->base_url[n - 1] == '/')
        b->base_url[--n] = '\0';
    ex->priv = b;
    return 0;
}

static void bn_close(exchange *ex)
{
    binance *b = ex->priv;
    if (b)
        free(b->symbols);
    free(b);
    ex->priv = NULL;
}

static int bn_ping(exchange *ex)
{
    json_t *j;
    bn_call c = {"GET", "/api/v3/ping", BN_PUBLIC, 1, 0, NULL};
    int rc = bn_request(ex, &c, &j);
    json_decref(j);
    return rc;
}

static int bn_server_time(exchange *ex, int64_t *ms)
{
    int rc = bn_time_sync(ex);
    if (rc == 0) {
        pthread_mutex_lock(&bn_shared.lock);
        *ms = wall_ms() + bn_shared.offset_ms;
        pthread_mutex_unlock(&bn_shared.lock);
    }
    return rc;
}

static void bn_filters(json_t *sym, exchange_symbol *si)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(sym, "filters"), i, f)
    {
        const char *t = json_string_value(json_object_get(f, "filterType"));
        if (!t)
            continue;
        if (!strcmp(t, "LOT_SIZE")) {
            jstr(f, "stepSize", si->step_size, sizeof si->step_size);
            jstr(f, "minQty", si->min_qty, sizeof si->min_qty);
            jstr(f, "maxQty", si->max_qty, sizeof si->max_qty);
        } else if (!strcmp(t, "PRICE_FILTER")) {
            jstr(f, "tickSize", si->tick_size, sizeof si->tick_size);
            jstr(f, "minPrice", si->min_price, sizeof si->min_price);
            jstr(f, "maxPrice", si->max_price, sizeof si->max_price);
        } else if (!strcmp(t, "NOTIONAL") || (!strcmp(t, "MIN_NOTIONAL") && !si->min_notional[0])) {
            jstr(f, "minNotional", si->min_notional, sizeof si->min_notional);
        }
    }
}

static int bn_symbol_info(exchange *ex, const char *symbol, exchange_symbol *out)
{
    NEED_SYMBOL(ex, symbol);
    binance *b = ex->priv;
    for (size_t i = 0; i < b->nsymbols; i++)
        if (!strcmp(b->symbols[i].symbol, symbol)) {
            *out = b->symbols[i];
            return 0;
        }
    buf q = {0};
    qs_add(&q, "symbol", symbol);
    json_t *j;
    bn_call c = {"GET", "/api/v3/exchangeInfo", BN_PUBLIC, 20, 0, q.data};
    int rc = bn_request(ex, &c, &j);
    buf_free(&q);
    if (rc != 0)
        return rc;
    json_t *sym = json_array_get(json_object_get(j, "symbols"), 0);
    const char *name = json_string_value(json_object_get(sym, "symbol"));
    if (!name || strcmp(name, symbol)) {
        json_decref(j);
        return exchange_fail(ex, EXCHANGE_ERR_NOT_FOUND, 200, 0, "Binance does not list %s", symbol);
    }
    memset(out, 0, sizeof *out);
    jstr(sym, "symbol", out->symbol, sizeof out->symbol);
    jstr(sym, "baseAsset", out->base, sizeof out->base);
    jstr(sym, "quoteAsset", out->quote, sizeof out->quote);
    jstr(sym, "status", out->status, sizeof out->status);
    bn_filters(sym, out);
    json_decref(j);
    exchange_symbol *g = realloc(b->symbols, (b->nsymbols + 1) * sizeof *g);
    if (g) {
        b->symbols = g;
        b->symbols[b->nsymbols++] = *out;
    }
    return 0;
}

static int bn_ticker(exchange *ex, const char *symbol, exchange_price *out)
{
    NEED_SYMBOL(ex, symbol);
    buf q = {0};
    qs_add(&q, "symbol", symbol);
    json_t *j;
    bn_call c = {"GET", "/api/v3/ticker/price", BN_PUBLIC, 2, 0, q.data};
    int rc = bn_request(ex, &c, &j);
    buf_free(&q);
    if (rc != 0)
        return rc;
    memset(out, 0, sizeof *out);
    jstr(j, "symbol", out->symbol, sizeof out->symbol);
    jstr(j, "price", out->price, sizeof out->price);
    json_decref(j);
    char *end;
    out->price_d = strtod(out->price, &end);
    if (!out->price[0] || *end || !(out->price_d > 0))
        return exchange_fail(ex, EXCHANGE_ERR_PROTOCOL, 200, 0, "Binance ticker answer without a price");
    return 0;
}

static int num_field(json_t *a, size_t i, double *out)
{
    json_t *v = json_array_get(a, i);
    const char *s = json_string_value(v);
    if (!s)
        return json_is_number(v) ? (*out = json_number_value(v), 0) : -1;
    char *end;
    *out = strtod(s, &end);
    return *end || end == s ? -1 : 0;
}

static int bn_klines(exchange *ex, const char *symbol, const char *timeframe, int64_t start_ms, int64_t end_ms,
                     int limit, candle **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    NEED_SYMBOL(ex, symbol);
    int64_t tf = candle_timeframe_ms(timeframe);
    if (!tf)
        return exchange_fail(ex, EXCHANGE_ERR_INVALID, 0, 0, "timeframe must be 1m, 5m, 15m, 1h, 4h or 1d");
    if (limit <= 0)
        limit = (int)config_int("exchange.binance.klines_limit");
    if (limit <= 0 || limit > 1000)
        limit = 1000;
    buf q = {0};
    qs_add(&q, "symbol", symbol);
    qs_add(&q, "interval", timeframe);
    if (start_ms >= 0)
        qs_add_ll(&q, "startTime", start_ms);
    if (end_ms >= 0)
        qs_add_ll(&q, "endTime", end_ms);
    qs_add_ll(&q, "limit", limit);
    json_t *j;
    bn_call c = {"GET", "/api/v3/klines", BN_PUBLIC, 2, 0, q.data};
    int rc = bn_request(ex, &c, &j);
    buf_free(&q);
    if (rc != 0)
        return rc;
    size_t cnt = json_array_size(j);
    candle *rows = cnt ? malloc(cnt * sizeof *rows) : NULL;
    if (cnt && !rows) {
        json_decref(j);
        return exchange_fail(ex, EXCHANGE_ERR_PROTOCOL, 200, 0, "out of memory");
    }
    for (size_t i = 0; i < cnt; i++) {
        json_t *k = json_array_get(j, i);
        candle *r = &rows[i];
        char why[112];
        if (!json_is_integer(json_array_get(k, 0)) || num_field(k, 1, &r->open) || num_field(k, 2, &r->high) ||
            num_field(k, 3, &r->low) || num_field(k, 4, &r->close) || num_field(k, 5, &r->volume)) {
            free(rows);
            json_decref(j);
            return exchange_fail(ex, EXCHANGE_ERR_PROTOCOL, 200, 0, "Binance kline %zu is malformed", i);
        }
        r->open_time = (int64_t)json_integer_value(json_array_get(k, 0));
        if (candle_check(r, tf, why, sizeof why) != 0 || (i && r->open_time <= rows[i - 1].open_time)) {
            free(rows);
            json_decref(j);
            return exchange_fail(ex, EXCHANGE_ERR_PROTOCOL, 200, 0, "Binance kline at %lld refused: %s",
                                 (long long)r->open_time, i && r->open_time <= rows[i - 1].open_time ? "out of order" : why);
        }
    }
    json_decref(j);
    *out = rows;
    *n = cnt;
    return 0;
}

/* GET /api/v3/account: balances, and whether the key may trade. */
static int bn_account(exchange *ex, json_t **j)
{
    bn_call c = {"GET", "/api/v3/account", BN_SIGNED, 20, 0, "omitZeroBalances=true"};
    int rc = bn_request(ex, &c, j);
    if (rc == 0 && !json_is_object(*j)) {
        json_decref(*j);
        *j = NULL;
        return exchange_fail(ex, EXCHANGE_ERR_PROTOCOL, 200, 0, "Binance account answer is not an object");
    }
    return rc;
}

static int bn_balances(exchange *ex, exchange_balance **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    json_t *j;
    int rc = bn_account(ex, &j);
    if (rc != 0)
        return rc;
    json_t *bal = json_object_get(j, "balances");
    size_t cnt = json_array_size(bal), k = 0;
    exchange_balance *rows = cnt ? calloc(cnt, sizeof *rows) : NULL;
    for (size_t i = 0; rows && i < cnt; i++) {
        json_t *o = json_array_get(bal, i);
        exchange_balance *r = &rows[k];
        jstr(o, "asset", r->asset, sizeof r->asset);
        jstr(o, "free", r->free, sizeof r->free);
        jstr(o, "locked", r->locked, sizeof r->locked);
        if (r->asset[0] && (strtod(r->free, NULL) != 0 || strtod(r->locked, NULL) != 0))
            k++;
    }
    json_decref(j);
    if (cnt && !rows)
        return exchange_fail(ex, EXCHANGE_ERR_PROTOCOL, 200, 0, "out of memory");
    *out = rows;
    *n = k;
    return 0;
}

static int bn_validate(exchange *ex, int need_trade, exchange_account *out)
{
    json_t *j;
    int rc = bn_account(ex, &j);
    if (rc != 0)
        return rc;
    exchange_account a = {0};
    a.can_trade = json_is_true(json_object_get(j, "canTrade"));
    a.can_withdraw = json_is_true(json_object_get(j, "canWithdraw"));
    a.can_deposit = json_is_true(json_object_get(j, "canDeposit"));
    jstr(j, "accountType", a.account_type, sizeof a.account_type);
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(j, "permissions"), i, p)
    {
        const char *s = json_string_value(p);
        size_t used = strlen(a.permissions);
        if (s && used + strlen(s) + 2 < sizeof a.permissions)
            snprintf(a.permissions + used, sizeof a.permissions - used, "%s%s", used ? "," : "", s);
    }
    json_decref(j);
    if (out)
        *out = a;
    if (need_trade && !a.can_trade)
        return exchange_fail(ex, EXCHANGE_ERR_PERMISSION, 200, 0,
                             "Binance says this key cannot trade: enable spot trading for it, or store it as read only");
    return 0;
}

static int bn_open_orders(exchange *ex, const char *symbol, exchange_order **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (symbol)
        NEED_SYMBOL(ex, symbol);
    buf q = {0};
    if (symbol)
        qs_add(&q, "symbol", symbol);
    json_t *j;
    bn_call c = {"GET", "/api/v3/openOrders", BN_SIGNED, symbol ? 6 : 80, 0, q.data};
    int rc = bn_request(ex, &c, &j);
    buf_free(&q);
    if (rc != 0)
        return rc;
    size_t cnt = json_array_size(j);
    exchange_order *rows = cnt ? calloc(cnt, sizeof *rows) : NULL;
    for (size_t i = 0; rows && i < cnt; i++)
        if ((rc = bn_order_from(ex, json_array_get(j, i), &rows[i])) != 0)
            break;
    json_decref(j);
    if (rc != 0 || (cnt && !rows)) {
        free(rows);
        return rc ? rc : exchange_fail(ex, EXCHANGE_ERR_PROTOCOL, 200, 0, "out of memory");
    }
    *out = rows;
    *n = cnt;
    return 0;
}

static int bn_order_call(exchange *ex, const char *method, int weight, const char *symbol, const char *order_id,
                         const char *client_order_id, exchange_order *out)
{
    NEED_SYMBOL(ex, symbol);
    if (order_id ? !*order_id || strspn(order_id, "0123456789") != strlen(order_id) : !exchange_client_id_ok(client_order_id))
        return exchange_fail(ex, EXCHANGE_ERR_INVALID, 0, 0, "name the order by its numeric id or a valid client id");
    buf q = {0};
    qs_add(&q, "symbol", symbol);
    if (order_id)
        qs_add(&q, "orderId", order_id);
    else
        qs_add(&q, "origClientOrderId", client_order_id);
    json_t *j;
    bn_call c = {method, "/api/v3/order", BN_SIGNED, weight, 0, q.data};
    int rc = bn_request(ex, &c, &j);
    buf_free(&q);
    if (rc != 0)
        return rc;
    rc = bn_order_from(ex, j, out);
    json_decref(j);
    return rc;
}

static int bn_get_order(exchange *ex, const char *symbol, const char *order_id, const char *client_order_id,
                        exchange_order *out)
{
    return bn_order_call(ex, "GET", 4, symbol, order_id, client_order_id, out);
}

static int bn_cancel_order(exchange *ex, const char *symbol, const char *order_id, const char *client_order_id,
                           exchange_order *out)
{
    int rc = bn_order_call(ex, "DELETE", 1, symbol, order_id, client_order_id, out);
    if (rc != EXCHANGE_ERR_NOT_FOUND)
        return rc;
    /* a retried cancel whose first try went through is told "unknown order": look before saying so */
    exchange_error first = ex->err;
    if (bn_get_order(ex, symbol, order_id, client_order_id, out) == 0 && !strcmp(out->status, "CANCELED"))
        return 0;
    ex->err = first;
    return first.err;
}

static const char *side_name(exchange_side s)
{
    return s == EXCHANGE_SELL ? "SELL" : "BUY";
}

static const char *tif_name(exchange_tif t)
{
    return t == EXCHANGE_IOC ? "IOC" : t == EXCHANGE_FOK ? "FOK" : "GTC";
}

static int decimal_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n < EXCHANGE_DEC && strspn(s, "0123456789.") == n && strchr(s, '.') == strrchr(s, '.') &&
           strtod(s, NULL) > 0;
}

static int bn_place_order(exchange *ex, const exchange_order_req *rq, exchange_order *out)
{
    NEED_SYMBOL(ex, rq->symbol);
    if (!exchange_client_id_ok(rq->client_order_id))
        return exchange_fail(ex, EXCHANGE_ERR_INVALID, 0, 0, "an order needs a client order id (1..36 of A-Za-z0-9_-)");
    int by_quote = rq->type == EXCHANGE_MARKET && rq->quote_quantity && !rq->quantity;
    if (by_quote ? !decimal_ok(rq->quote_quantity) : !decimal_ok(rq->quantity))
        return exchange_fail(ex, EXCHANGE_ERR_INVALID, 0, 0, "the quantity must be a positive decimal string");
    if (rq->type == EXCHANGE_LIMIT && !decimal_ok(rq->price))
        return exchange_fail(ex, EXCHANGE_ERR_INVALID, 0, 0, "a limit order needs a positive decimal price");
    buf q = {0};
    qs_add(&q, "symbol", rq->symbol);
    qs_add(&q, "side", side_name(rq->side));
    qs_add(&q, "type", rq->type == EXCHANGE_LIMIT ? "LIMIT" : "MARKET");
    if (rq->type == EXCHANGE_LIMIT) {
        qs_add(&q, "timeInForce", tif_name(rq->tif));
        qs_add(&q, "quantity", rq->quantity);
        qs_add(&q, "price", rq->price);
    } else if (by_quote) {
        qs_add(&q, "quoteOrderQty", rq->quote_quantity);
    } else {
        qs_add(&q, "quantity", rq->quantity);
    }
    qs_add(&q, "newClientOrderId", rq->client_order_id);
    qs_add(&q, "newOrderRespType", "RESULT");
    int attempts = (int)config_int("http.client.binance.max_attempts");
    if (attempts <= 0)
        attempts = (int)config_int("http.client.max_attempts");
    if (attempts <= 0)
        attempts = 1;
    long base = config_int("http.client.backoff_base_ms");
    int rc = EXCHANGE_ERR_UNKNOWN;
    for (int attempt = 1; attempt <= attempts; attempt++) {
        json_t *j;
        bn_call c = {"POST", "/api/v3/order", BN_SIGNED, 1, 1, q.data};
        rc = bn_request(ex, &c, &j);
        if (rc == 0) {
            rc = bn_order_from(ex, j, out);
            json_decref(j);
            break;
        }
        int duplicate = rc == EXCHANGE_ERR_REJECTED && ex->err.code == -2010 && strcasestr(ex->err.message, "duplicate");
        if (rc != EXCHANGE_ERR_UNKNOWN && !duplicate)
            break;
        /* the order may exist: ask for it by our id before anything is sent again */
        exchange_error sent = ex->err;
        int found = bn_get_order(ex, rq->symbol, NULL, rq->client_order_id, out);
        if (found == 0) {
            log_info("binance: order %s found after an unanswered send; not sent again", rq->client_order_id);
            rc = 0;
            break;
        }
        if (found != EXCHANGE_ERR_NOT_FOUND || duplicate) {
            /* cannot tell: the caller must look it up later, never just resend */
            ex->err = sent;
            rc = exchange_fail(ex, EXCHANGE_ERR_UNKNOWN, sent.http_status, sent.code,
                               "order %s: outcome unknown (%s); look it up by its client id before sending it again",
                               rq->client_order_id, sent.message);
            break;
        }
        ex->err = sent;
        rc = EXCHANGE_ERR_UNKNOWN;
        if (attempt < attempts)
            sleep_ms(http_backoff_ms(attempt, base > 0 ? base : 200, config_int("http.client.backoff_max_ms"),
                                     randombytes_random()));
    }
    if (rc == EXCHANGE_ERR_UNKNOWN && ex->err.err != EXCHANGE_ERR_UNKNOWN)
        exchange_fail(ex, EXCHANGE_ERR_UNKNOWN, ex->err.http_status, ex->err.code,
                      "order %s: not confirmed after %d attempts (%s)", rq->client_order_id, attempts, ex->err.message);
    buf_free(&q);
    return rc;
}

const exchange_ops exchange_binance_ops = {
    .name = "binance",
    .needs_credentials_for_market_data = 0,
    .simulated = 0,
    .open = bn_open,
    .close = bn_close,
    .ping = bn_ping,
    .server_time = bn_server_time,
    .symbol_info = bn_symbol_info,
    .ticker = bn_ticker,
    .klines = bn_klines,
    .balances = bn_balances,
    .open_orders = bn_open_orders,
    .place_order = bn_place_order,
    .cancel_order = bn_cancel_order,
    .get_order = bn_get_order,
    .validate_credentials = bn_validate,
};
