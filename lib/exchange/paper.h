/* paper.h — the paper exchange ("paper"): a simulated spot account in memory behind exchange_ops
 * that fills orders on the candles fed to it, with the trading engine's arithmetic (fills.h). */
#ifndef BCF_EXCHANGE_PAPER_H
#define BCF_EXCHANGE_PAPER_H
#include "exchange.h"

/*
 * Open it with exchange_open("paper", NULL) (no keys), then set it up with the calls below.
 *
 *  - Orders rest as NEW until the next candle of their symbol is fed (exchange_paper_feed):
 *    MARKET orders fill at that candle's open, buys at open × (1 + slippage) and sells at
 *    open × (1 − slippage), as the engine fills at the next open; LIMIT orders fill when the
 *    candle's low reaches a buy's price (its high a sell's), at the limit price itself (no
 *    slippage, no better price on a gap). Sells fill before buys, each in the order placed.
 *  - Fees are paid in the quote asset: a buy of quote_quantity A spends exactly A (qty = A /
 *    (price × (1 + fee rate))), a buy of a quantity spends qty × price plus the fee, a sale
 *    receives qty × price less the fee. cum_quote_qty is the notional, qty × price.
 *  - Amounts are never rounded: there is no lot or tick size (symbol_info reports a step and
 *    tick of 0.00000001 and no minimums only so that generic code has something to fit to). An
 *    order given as the "%.17g" text of an engine's double fills exactly as the engine does, to
 *    the last bit (tests/unit/test_exchange_paper.c replays a backtest through it).
 *  - Balances: a buy locks the quote it may spend when placed, a sale the base; insufficient free
 *    balance refuses the order (EXCHANGE_ERR_BALANCE) and changes nothing. Cancelling releases
 *    the lock. A balance itself moves only when an order fills, by exactly what the fill moves
 *    (the engine's cash moves the same way), and locked is summed from the open orders, so locks
 *    leave no rounding behind. Orders whose cost is only known at the fill (a MARKET buy by
 *    quantity, a MARKET sale by quote_quantity) lock an estimate at the symbol's last price and
 *    EXPIRE at the fill when the free balance cannot cover the difference. Unlike the engine, a
 *    buy cannot count on the proceeds of a sale that has not filled yet: its quote must be free
 *    when it is placed.
 *  - A client order id already used returns the existing order unchanged (EXCHANGE_OK), as the
 *    Binance adapter's look-up by client id does: a retried place never makes a second order.
 *  - The exchange's clock (server_time, order times) is the open time of the latest candle fed,
 *    or the wall clock before the first.
 */

/* Where klines and tickers of symbols not fed yet come from (a candle store, a synthetic series):
 * candles of timeframe with open_time in [start_ms, end_ms], oldest first, into *out (malloc'd;
 * the paper exchange frees it). Returns 0, or non-zero when none can be read (the call fails with
 * EXCHANGE_ERR_UNAVAILABLE). */
typedef int (*exchange_paper_source)(void *user, const char *symbol, const char *timeframe, int64_t start_ms,
                                     int64_t end_ms, candle **out, size_t *n);

/* What a filled order did, as the doubles the fill computed (the order's strings are their
 * "%.17g" text). */
typedef struct exchange_paper_fill {
    int64_t time_ms; /* open time of the candle it filled on; 0 while not filled */
    double price;    /* slippage included (MARKET) or the limit price (LIMIT) */
    double qty;      /* base bought or sold */
    double fee;      /* in quote */
    double quote;    /* quote spent by a buy (fee included), received by a sale (fee deducted) */
} exchange_paper_fill;

/* Every setup call returns EXCHANGE_OK, or EXCHANGE_ERR_INVALID (also for an exchange that is not
 * the paper one) with the reason in exchange_last_error(). */

/* Fee and slippage in basis points, 0..1000 each, as engine_config.costs (defaults 10 and 5). */
int exchange_paper_set_costs(exchange *ex, double fee_bps, double slippage_bps);
/* Sets the free balance of asset (1..15 of A-Z, 0-9) to amount (finite, >= 0); what open orders
 * lock of it stays locked. */
int exchange_paper_set_balance(exchange *ex, const char *asset, double amount);
/* Sets (fn NULL: removes) the candle source of klines and tickers. */
int exchange_paper_set_source(exchange *ex, exchange_paper_source fn, void *user);
/* One closed candle of symbol, after every earlier one of it (open times strictly increasing):
 * fills or expires the symbol's open orders, and becomes its last price. Returns the number of
 * orders that filled or expired (>= 0), or a negative exchange_err (INVALID for a bad candle or
 * one out of order, NOT_FOUND for a symbol with no known quote asset). */
int exchange_paper_feed(exchange *ex, const char *symbol, const candle *c);
/* The fill of an order, by order id or (order_id NULL) client id; zeros while it has not
 * filled. EXCHANGE_OK or EXCHANGE_ERR_NOT_FOUND. */
int exchange_paper_fill_of(exchange *ex, const char *order_id, const char *client_order_id,
                           exchange_paper_fill *out);

/* The account as JSON text (costs, balances, every order, each symbol's last candle time and
 * price, the clock), malloc'd, or NULL (out of memory, not the paper exchange). Doubles are
 * written so that they read back to the same bits. */
char *exchange_paper_save(exchange *ex);
/* Replaces the account with one saved by exchange_paper_save (the candle source stays).
 * EXCHANGE_OK, or EXCHANGE_ERR_INVALID with the account unchanged. */
int exchange_paper_load(exchange *ex, const char *json);
#endif
