/* exchange.c — the adapter factory (exchange name → vtable), credential copies kept in guarded
 * memory, the common error record, and the decimal fitting orders need (step and tick sizes). */
#include "exchange.h"
#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const exchange_ops exchange_binance_ops;
extern const exchange_ops exchange_paper_ops;

/* Every adapter, by name: Binance spot, and the paper exchange (paper.c: a simulated account that
 * fills on the candles fed to it, with the trading engine's fill arithmetic). Credentials for
 * exchanges missing here can be stored, but are never validated or traded through. */
static const exchange_ops *const exchange_adapters[] = {
    &exchange_binance_ops,
    &exchange_paper_ops,
};

const exchange_ops *exchange_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof exchange_adapters / sizeof exchange_adapters[0]; i++)
        if (!strcmp(exchange_adapters[i]->name, name))
            return exchange_adapters[i];
    return NULL;
}

static char *secret_copy(const char *s, int *oom)
{
    if (!s || !*s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = sodium_malloc(n);
    if (!p) {
        *oom = 1;
        return NULL;
    }
    memcpy(p, s, n);
    return p;
}

static void secret_free(char *p)
{
    if (p) {
        sodium_memzero(p, strlen(p));
        sodium_free(p);
    }
}

exchange *exchange_open(const char *name, const exchange_credentials *cred)
{
    const exchange_ops *ops = exchange_find(name);
    if (!ops || sodium_init() < 0)
        return NULL;
    exchange *ex = calloc(1, sizeof *ex);
    if (!ex)
        return NULL;
    ex->ops = ops;
    ex->err.retry_after_ms = -1;
    int oom = 0;
    if (cred) {
        ex->api_key = secret_copy(cred->api_key, &oom);
        ex->api_secret = secret_copy(cred->api_secret, &oom);
        ex->passphrase = secret_copy(cred->passphrase, &oom);
    }
    if (oom || (ops->open && ops->open(ex) != 0)) {
        secret_free(ex->api_key);
        secret_free(ex->api_secret);
        secret_free(ex->passphrase);
        free(ex);
        return NULL;
    }
    return ex;
}

void exchange_close(exchange *ex)
{
    if (!ex)
        return;
    if (ex->ops->close)
        ex->ops->close(ex);
    secret_free(ex->api_key);
    secret_free(ex->api_secret);
    secret_free(ex->passphrase);
    free(ex);
}

const exchange_error *exchange_last_error(const exchange *ex)
{
    return &ex->err;
}

const char *exchange_err_name(exchange_err e)
{
    switch (e) {
    case EXCHANGE_OK:
        return "ok";
    case EXCHANGE_ERR_UNAVAILABLE:
        return "unavailable";
    case EXCHANGE_ERR_AUTH:
        return "auth";
    case EXCHANGE_ERR_PERMISSION:
        return "permission";
    case EXCHANGE_ERR_RATE_LIMIT:
        return "rate_limited";
    case EXCHANGE_ERR_TIMESTAMP:
        return "timestamp";
    case EXCHANGE_ERR_BALANCE:
        return "insufficient_balance";
    case EXCHANGE_ERR_REJECTED:
        return "rejected";
    case EXCHANGE_ERR_NOT_FOUND:
        return "not_found";
    case EXCHANGE_ERR_INVALID:
        return "invalid";
    case EXCHANGE_ERR_UNKNOWN:
        return "unknown_outcome";
    case EXCHANGE_ERR_PROTOCOL:
        return "protocol";
    case EXCHANGE_ERR_UNSUPPORTED:
        return "unsupported";
    }
    return "error";
}

int exchange_fail(exchange *ex, exchange_err err, long http_status, long code, const char *fmt, ...)
{
    ex->err.err = err;
    ex->err.http_status = http_status;
    ex->err.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ex->err.message, sizeof ex->err.message, fmt, ap);
    va_end(ap);
    return err;
}

/* Clears the error record before a call; the adapter fills it on failure. */
static void reset(exchange *ex)
{
    memset(&ex->err, 0, sizeof ex->err);
    ex->err.retry_after_ms = -1;
}

#define EX_CALL(fn, ...)                                                                                   \
    do {                                                                                                   \
        reset(ex);                                                                                         \
        if (!ex->ops->fn)                                                                                  \
            return exchange_fail(ex, EXCHANGE_ERR_UNSUPPORTED, 0, 0, "%s has no " #fn, ex->ops->name);   \
        return ex->ops->fn(ex, ##__VA_ARGS__);                                                             \
    } while (0)

int exchange_ping(exchange *ex)
{
    EX_CALL(ping);
}

int exchange_server_time(exchange *ex, int64_t *ms)
{
    EX_CALL(server_time, ms);
}

int exchange_symbol_info(exchange *ex, const char *symbol, exchange_symbol *out)
{
    EX_CALL(symbol_info, symbol, out);
}

int exchange_ticker(exchange *ex, const char *symbol, exchange_price *out)
{
    EX_CALL(ticker, symbol, out);
}

int exchange_klines(exchange *ex, const char *symbol, const char *timeframe, int64_t start_ms, int64_t end_ms,
                    int limit, candle **out, size_t *n)
{
    EX_CALL(klines, symbol, timeframe, start_ms, end_ms, limit, out, n);
}

int exchange_balances(exchange *ex, exchange_balance **out, size_t *n)
{
    EX_CALL(balances, out, n);
}

int exchange_open_orders(exchange *ex, const char *symbol, exchange_order **out, size_t *n)
{
    EX_CALL(open_orders, symbol, out, n);
}

int exchange_place_order(exchange *ex, const exchange_order_req *rq, exchange_order *out)
{
    EX_CALL(place_order, rq, out);
}

int exchange_cancel_order(exchange *ex, const char *symbol, const char *order_id, const char *client_order_id,
                          exchange_order *out)
{
    EX_CALL(cancel_order, symbol, order_id, client_order_id, out);
}

int exchange_get_order(exchange *ex, const char *symbol, const char *order_id, const char *client_order_id,
                       exchange_order *out)
{
    EX_CALL(get_order, symbol, order_id, client_order_id, out);
}

int exchange_validate_credentials(exchange *ex, int need_trade, exchange_account *out)
{
    EX_CALL(validate_credentials, need_trade, out);
}

/* ---- decimals ---- */

/* A step "0.00100000" as units × 10^-decimals (1 × 10^-3); "10.00" is 10 × 10^0. */
static int step_parse(const char *step, int64_t *units, int *decimals)
{
    if (!step || !*step)
        return -1;
    char digits[40];
    size_t nd = 0;
    int dot = -1, frac = 0;
    for (const char *p = step; *p; p++) {
        if (*p == '.') {
            if (dot >= 0)
                return -1;
            dot = (int)nd;
        } else if (*p >= '0' && *p <= '9') {
            if (nd + 1 >= sizeof digits)
                return -1;
            digits[nd++] = *p;
            if (dot >= 0)
                frac++;
        } else {
            return -1;
        }
    }
    /* trailing zeros after the point carry no precision */
    while (frac > 0 && digits[nd - 1] == '0') {
        nd--;
        frac--;
    }
    if (frac > 18)
        return -1;
    int64_t u = 0;
    for (size_t i = 0; i < nd; i++) {
        if (u > (INT64_MAX - 9) / 10)
            return -1;
        u = u * 10 + (digits[i] - '0');
    }
    if (u <= 0)
        return -1;
    *units = u;
    *decimals = frac;
    return 0;
}

int exchange_format_decimal(double v, const char *step, exchange_round mode, char *out, size_t outlen)
{
    int64_t units;
    int d;
    if (!out || !outlen || !isfinite(v) || v < 0 || step_parse(step, &units, &d) != 0)
        return -1;
    long double scale = powl(10.0L, d);
    long double q = (long double)v * scale / (long double)units; /* v in steps */
    long double r = roundl(q);
    /* a value that is a multiple up to binary noise (0.3 is 0.29999...) counts as that multiple */
    long double tol = fmaxl(1e-9L, fabsl((long double)v) * 1e-14L);
    long double k;
    if (fabsl(q - r) * (long double)units / scale <= tol)
        k = r;
    else if (mode == EXCHANGE_ROUND_DOWN)
        k = floorl(q);
    else if (mode == EXCHANGE_ROUND_UP)
        k = ceill(q);
    else
        k = r;
    if (k < 0 || k > (long double)(INT64_MAX / units))
        return -1;
    int64_t n = (int64_t)k * units;
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%lld", (long long)n);
    char padded[64];
    /* at least one digit before the point */
    int pad = d + 1 - len > 0 ? d + 1 - len : 0;
    snprintf(padded, sizeof padded, "%.*s%s", pad, "0000000000000000000", digits);
    int pl = (int)strlen(padded);
    int w = d ? snprintf(out, outlen, "%.*s.%s", pl - d, padded, padded + pl - d) : snprintf(out, outlen, "%s", padded);
    return w < 0 || (size_t)w >= outlen ? -1 : 0;
}

/* strtod of an exchange decimal; 0 for "" */
static double dec(const char *s)
{
    return s && *s ? strtod(s, NULL) : 0.0;
}

int exchange_fit_order(const exchange_symbol *si, double qty, double price, char qty_out[EXCHANGE_DEC],
                       char price_out[EXCHANGE_DEC], char *why, size_t whylen)
{
    qty_out[0] = price_out[0] = '\0';
    if (!(qty > 0) || !isfinite(qty) || price < 0 || !isfinite(price)) {
        snprintf(why, whylen, "quantity must be positive and price not negative");
        return EXCHANGE_ERR_INVALID;
    }
    /* quantities round down: never more than asked for, never more than the balance allows */
    const char *step = si->step_size[0] && dec(si->step_size) > 0 ? si->step_size : "0.00000001";
    if (exchange_format_decimal(qty, step, EXCHANGE_ROUND_DOWN, qty_out, EXCHANGE_DEC) != 0) {
        snprintf(why, whylen, "quantity %.17g does not fit step %s", qty, step);
        return EXCHANGE_ERR_INVALID;
    }
    double q = dec(qty_out);
    if (q <= 0 || (si->min_qty[0] && q < dec(si->min_qty))) {
        snprintf(why, whylen, "quantity %s is below the minimum %s for %s", qty_out, si->min_qty[0] ? si->min_qty : step,
                 si->symbol);
        return EXCHANGE_ERR_REJECTED;
    }
    if (price > 0) {
        const char *tick = si->tick_size[0] && dec(si->tick_size) > 0 ? si->tick_size : "0.00000001";
        if (exchange_format_decimal(price, tick, EXCHANGE_ROUND_NEAREST, price_out, EXCHANGE_DEC) != 0) {
            snprintf(why, whylen, "price %.17g does not fit tick %s", price, tick);
            return EXCHANGE_ERR_INVALID;
        }
        double p = dec(price_out);
        if (p <= 0 || (si->min_price[0] && dec(si->min_price) > 0 && p < dec(si->min_price))) {
            snprintf(why, whylen, "price %s is below the minimum %s for %s", price_out, si->min_price, si->symbol);
            return EXCHANGE_ERR_REJECTED;
        }
        if (si->min_notional[0] && p * q < dec(si->min_notional)) {
            snprintf(why, whylen, "order value %.8g is below the minimum notional %s for %s", p * q, si->min_notional,
                     si->symbol);
            return EXCHANGE_ERR_REJECTED;
        }
    }
    return 0;
}

int exchange_client_id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 36)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}
