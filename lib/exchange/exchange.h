/* exchange.h — one interface to every exchange (Binance spot, the paper exchange, ...): a vtable of
 * market data, account and order calls, opened by exchange name, with one error enum across venues. */
#ifndef BCF_EXCHANGE_H
#define BCF_EXCHANGE_H
#include <stddef.h>
#include <stdint.h>
#include "candles.h"

/* Amounts and prices cross this interface as the exchange's own decimal strings ("0.00120000"):
 * they go back on the wire unchanged, so no float formatting can alter an order. Doubles appear
 * only where a value is computed with (tickers, candles); exchange_format_decimal() turns a
 * computed double into a string that fits the symbol's step or tick size. */
enum { EXCHANGE_DEC = 40, EXCHANGE_SYM = 32, EXCHANGE_ASSET = 16, EXCHANGE_ID = 48, EXCHANGE_MSG = 256 };

typedef enum exchange_err {
    EXCHANGE_OK = 0,
    EXCHANGE_ERR_UNAVAILABLE = -1,  /* network, timeout, 5xx, circuit breaker open: try again later */
    EXCHANGE_ERR_AUTH = -2,         /* key or signature refused (Binance -2014, -2015, -1022) */
    EXCHANGE_ERR_PERMISSION = -3,   /* the key works but may not do this (no trading permission) */
    EXCHANGE_ERR_RATE_LIMIT = -4,   /* 429/418 or our own weight budget; see retry_after_ms */
    EXCHANGE_ERR_TIMESTAMP = -5,    /* clock outside recvWindow even after a resync (-1021) */
    EXCHANGE_ERR_BALANCE = -6,      /* insufficient balance (-2010 "insufficient balance") */
    EXCHANGE_ERR_REJECTED = -7,     /* order refused: filters, market closed, ... (-2010, -1013) */
    EXCHANGE_ERR_NOT_FOUND = -8,    /* unknown order or symbol (-2011, -2013, -1121) */
    EXCHANGE_ERR_INVALID = -9,      /* a request we built badly, or bad arguments (-11xx) */
    EXCHANGE_ERR_UNKNOWN = -10,     /* an order whose outcome is unknown (timeout or 503 after sending) */
    EXCHANGE_ERR_PROTOCOL = -11,    /* an answer we cannot read */
    EXCHANGE_ERR_UNSUPPORTED = -12, /* this adapter has no such call */
} exchange_err;

/* The last call's failure, in words fit for an operator or a user (never a secret). */
typedef struct exchange_error {
    exchange_err err;
    long http_status;               /* 0 when no HTTP answer */
    long code;                      /* the exchange's own error code (Binance "code"), 0 if none */
    long retry_after_ms;            /* -1 when unknown */
    char message[EXCHANGE_MSG];
} exchange_error;

typedef enum exchange_side { EXCHANGE_BUY = 0, EXCHANGE_SELL } exchange_side;
typedef enum exchange_order_type { EXCHANGE_MARKET = 0, EXCHANGE_LIMIT } exchange_order_type;
typedef enum exchange_tif { EXCHANGE_GTC = 0, EXCHANGE_IOC, EXCHANGE_FOK } exchange_tif;

typedef struct exchange_credentials {
    const char *api_key, *api_secret, *passphrase; /* copied at open, wiped at close */
} exchange_credentials;

typedef struct exchange_symbol {
    char symbol[EXCHANGE_SYM], base[EXCHANGE_ASSET], quote[EXCHANGE_ASSET], status[24];
    char step_size[EXCHANGE_DEC], min_qty[EXCHANGE_DEC], max_qty[EXCHANGE_DEC]; /* LOT_SIZE */
    char tick_size[EXCHANGE_DEC], min_price[EXCHANGE_DEC], max_price[EXCHANGE_DEC]; /* PRICE_FILTER */
    char min_notional[EXCHANGE_DEC]; /* NOTIONAL / MIN_NOTIONAL; "" when none */
} exchange_symbol;

typedef struct exchange_price {
    char symbol[EXCHANGE_SYM];
    char price[EXCHANGE_DEC];
    double price_d;
} exchange_price;

typedef struct exchange_balance {
    char asset[EXCHANGE_ASSET];
    char free[EXCHANGE_DEC], locked[EXCHANGE_DEC];
} exchange_balance;

typedef struct exchange_order_req {
    const char *symbol;
    exchange_side side;
    exchange_order_type type;
    const char *quantity;        /* base amount, already fitted to the step size */
    const char *quote_quantity;  /* MARKET only, instead of quantity: spend/receive this much quote */
    const char *price;           /* LIMIT only, fitted to the tick size */
    exchange_tif tif;            /* LIMIT only */
    /* Required: our id for the order (Binance newClientOrderId, 1..36 of [A-Za-z0-9_-]). An
     * outcome left unknown (timeout, 5xx) is looked up by it before the order is sent again, so
     * a retry never places a second order. */
    const char *client_order_id;
} exchange_order_req;

typedef struct exchange_order {
    char symbol[EXCHANGE_SYM];
    char order_id[EXCHANGE_ID];        /* the exchange's id, as text */
    char client_order_id[EXCHANGE_ID];
    char side[8], type[24], status[24], time_in_force[8]; /* the exchange's words: BUY, LIMIT, NEW, GTC */
    char price[EXCHANGE_DEC], orig_qty[EXCHANGE_DEC], executed_qty[EXCHANGE_DEC], cum_quote_qty[EXCHANGE_DEC];
    int64_t time_ms, update_time_ms;
} exchange_order;

typedef struct exchange_account {
    int can_trade, can_withdraw, can_deposit;
    char account_type[24];
    char permissions[128];             /* comma-separated, e.g. "SPOT" */
} exchange_account;

typedef struct exchange exchange;

/* One adapter. Every call returns EXCHANGE_OK or a negative exchange_err, with the details in
 * exchange_last_error(). Lists are malloc'd arrays the caller frees with free(). */
typedef struct exchange_ops {
    const char *name;                  /* "binance" */
    int needs_credentials_for_market_data;
    /* 1 for a simulated venue (the paper exchange): it has no market of its own to fetch candles
     * from; its prices are the candles fed to it. */
    int simulated;
    int (*open)(exchange *ex);         /* sets up ex->priv; 0 or -1 */
    void (*close)(exchange *ex);
    int (*ping)(exchange *ex);
    int (*server_time)(exchange *ex, int64_t *ms);
    int (*symbol_info)(exchange *ex, const char *symbol, exchange_symbol *out);
    int (*ticker)(exchange *ex, const char *symbol, exchange_price *out);
    /* Candles of timeframe ("1m".."1d") with open_time in [start_ms, end_ms], oldest first, at most
     * limit (0 = the adapter's page size). */
    int (*klines)(exchange *ex, const char *symbol, const char *timeframe, int64_t start_ms, int64_t end_ms,
                  int limit, candle **out, size_t *n);
    int (*balances)(exchange *ex, exchange_balance **out, size_t *n); /* non-zero balances only */
    int (*open_orders)(exchange *ex, const char *symbol /* NULL = all */, exchange_order **out, size_t *n);
    int (*place_order)(exchange *ex, const exchange_order_req *rq, exchange_order *out);
    /* By the exchange's order id, or (order_id NULL) by our client_order_id. */
    int (*cancel_order)(exchange *ex, const char *symbol, const char *order_id, const char *client_order_id,
                        exchange_order *out);
    int (*get_order)(exchange *ex, const char *symbol, const char *order_id, const char *client_order_id,
                     exchange_order *out);
    /* Are the credentials accepted? With need_trade, may they also trade? Fills out when given.
     * EXCHANGE_OK, EXCHANGE_ERR_AUTH, EXCHANGE_ERR_PERMISSION, or a reason it could not be told
     * (EXCHANGE_ERR_UNAVAILABLE, _RATE_LIMIT, _TIMESTAMP, _PROTOCOL). */
    int (*validate_credentials)(exchange *ex, int need_trade, exchange_account *out);
} exchange_ops;

struct exchange {
    const exchange_ops *ops;
    void *priv;
    char *api_key, *api_secret, *passphrase; /* sodium_malloc'd copies, NULL when none */
    exchange_error err;
};

/* The adapter for name ("binance"), or NULL when there is none (an exchange whose keys can be
 * stored but not checked or traded through). */
const exchange_ops *exchange_find(const char *name);
/* Opens an adapter, copying the credentials (may be NULL for market data). NULL when the name has
 * no adapter or memory ran out. */
exchange *exchange_open(const char *name, const exchange_credentials *cred);
void exchange_close(exchange *ex);
const exchange_error *exchange_last_error(const exchange *ex);
const char *exchange_err_name(exchange_err e); /* "unavailable", "auth", ... */

/* Thin wrappers over ex->ops (EXCHANGE_ERR_UNSUPPORTED when the adapter lacks the call). */
int exchange_ping(exchange *ex);
int exchange_server_time(exchange *ex, int64_t *ms);
int exchange_symbol_info(exchange *ex, const char *symbol, exchange_symbol *out);
int exchange_ticker(exchange *ex, const char *symbol, exchange_price *out);
int exchange_klines(exchange *ex, const char *symbol, const char *timeframe, int64_t start_ms, int64_t end_ms,
                    int limit, candle **out, size_t *n);
int exchange_balances(exchange *ex, exchange_balance **out, size_t *n);
int exchange_open_orders(exchange *ex, const char *symbol, exchange_order **out, size_t *n);
int exchange_place_order(exchange *ex, const exchange_order_req *rq, exchange_order *out);
int exchange_cancel_order(exchange *ex, const char *symbol, const char *order_id, const char *client_order_id,
                          exchange_order *out);
int exchange_get_order(exchange *ex, const char *symbol, const char *order_id, const char *client_order_id,
                       exchange_order *out);
int exchange_validate_credentials(exchange *ex, int need_trade, exchange_account *out);

/* Records a failure on ex (adapters use it); returns err. */
int exchange_fail(exchange *ex, exchange_err err, long http_status, long code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* ---- decimals (pure) ---- */

typedef enum exchange_round { EXCHANGE_ROUND_DOWN = 0, EXCHANGE_ROUND_NEAREST, EXCHANGE_ROUND_UP } exchange_round;
/* Writes v as a multiple of step ("0.00100000", "0.5", "10") with as many decimals as step's last
 * significant digit needs: 0.0123456 with step "0.001" → "0.012" (down). A v within 1e-9 of a
 * multiple counts as that multiple, so 0.3 / "0.1" gives "0.3", not "0.2". Returns 0, or -1 for
 * a step that is not a positive decimal, v negative or not finite, or a result that does not fit. */
int exchange_format_decimal(double v, const char *step, exchange_round mode, char *out, size_t outlen);
/* Quantity rounded down to step_size and price to the nearest tick_size, checked against min_qty
 * and min_notional. 0, or a negative exchange_err (REJECTED, INVALID) with the reason in why. */
int exchange_fit_order(const exchange_symbol *si, double qty, double price, char qty_out[EXCHANGE_DEC],
                       char price_out[EXCHANGE_DEC], char *why, size_t whylen);
/* Is s a client order id every adapter accepts (1..36 of [A-Za-z0-9_-])? */
int exchange_client_id_ok(const char *s);
#endif
