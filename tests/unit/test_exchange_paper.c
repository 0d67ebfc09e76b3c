/* test_exchange_paper.c — the paper exchange (lib/exchange/paper.c): fills on fed candles, locks,
 * limits, cancels, client ids, market data, saved state, and a backtest replayed through it to the bit. */
#include "engine.h"
#include "exchange.h"
#include "paper.h"
#include "synth.h"
#include "unit.h"
#include <math.h>

#define H 3600000LL
#define T0 1704067200000LL /* 2024-01-01T00:00:00Z */

static candle mk(int i, double o, double h, double l, double c)
{
    candle x = {T0 + i * H, o, h, l, c, 10};
    return x;
}

static const char *g17(double v)
{
    static char out[4][EXCHANGE_DEC];
    static int k;
    k = (k + 1) % 4;
    snprintf(out[k], sizeof out[k], "%.17g", v);
    return out[k];
}

/* A paper exchange with fee 10 bps, slippage 5 bps and 10000 USDT. */
static exchange *open_paper(void)
{
    exchange *ex = exchange_open("paper", NULL);
    ck_assert_ptr_nonnull(ex);
    ck_assert_int_eq(exchange_paper_set_costs(ex, 10, 5), EXCHANGE_OK);
    ck_assert_int_eq(exchange_paper_set_balance(ex, "USDT", 10000), EXCHANGE_OK);
    return ex;
}

/* The free and locked text of asset; both "" when it is not listed (nothing held). */
static void balance_of(exchange *ex, const char *asset, char free_out[EXCHANGE_DEC], char locked_out[EXCHANGE_DEC])
{
    exchange_balance *b;
    size_t n;
    ck_assert_int_eq(exchange_balances(ex, &b, &n), EXCHANGE_OK);
    free_out[0] = locked_out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!strcmp(b[i].asset, asset)) {
            strcpy(free_out, b[i].free);
            strcpy(locked_out, b[i].locked);
        }
    free(b);
}

#define CK_BALANCE(ex, asset, want_free, want_locked)                                                   \
    do {                                                                                                \
        char f_[EXCHANGE_DEC], l_[EXCHANGE_DEC];                                                        \
        balance_of((ex), (asset), f_, l_);                                                              \
        ck_assert_str_eq(f_, (want_free));                                                              \
        ck_assert_str_eq(l_, (want_locked));                                                            \
    } while (0)

static int place(exchange *ex, exchange_side side, exchange_order_type type, const char *qty, const char *quote_qty,
                 const char *price, const char *cid, exchange_order *o)
{
    exchange_order_req rq = {.symbol = "BTCUSDT", .side = side, .type = type, .quantity = qty,
                             .quote_quantity = quote_qty, .price = price, .client_order_id = cid};
    return exchange_place_order(ex, &rq, o);
}

static size_t count_open(exchange *ex)
{
    exchange_order *rows;
    size_t n;
    ck_assert_int_eq(exchange_open_orders(ex, NULL, &rows, &n), EXCHANGE_OK);
    free(rows);
    return n;
}

START_TEST(market_buy_fills_at_the_next_open)
{
    exchange *ex = open_paper();
    exchange_order o;
    ck_assert_int_eq(place(ex, EXCHANGE_BUY, EXCHANGE_MARKET, NULL, "1000", NULL, "b1", &o), EXCHANGE_OK);
    ck_assert_str_eq(o.status, "NEW");
    ck_assert_str_eq(o.side, "BUY");
    ck_assert_str_eq(o.type, "MARKET");
    /* placed: the quote is locked, nothing is bought until a candle comes */
    CK_BALANCE(ex, "USDT", "9000", "1000");
    CK_BALANCE(ex, "BTC", "", "");
    ck_assert_uint_eq(count_open(ex), 1);
    exchange_paper_fill f;
    ck_assert_int_eq(exchange_paper_fill_of(ex, o.order_id, NULL, &f), EXCHANGE_OK);
    ck_assert(f.qty == 0 && f.time_ms == 0);

    candle c = mk(1, 100, 104, 99, 103);
    ck_assert_int_eq(exchange_paper_feed(ex, "BTCUSDT", &c), 1);
    double price = 100 * (1.0 + 0.0005);
    double qty = 1000 / (price * (1.0 + 0.001));
    double fee = qty * price * 0.001;
    ck_assert_int_eq(exchange_paper_fill_of(ex, NULL, "b1", &f), EXCHANGE_OK);
    ck_assert(f.price == price);
    ck_assert(f.qty == qty);
    ck_assert(f.fee == fee);
    ck_assert(f.quote == 1000);
    ck_assert(f.time_ms == c.open_time);
    ck_assert(fabs(qty * price + fee - 1000) < 1e-9);
    ck_assert_int_eq(exchange_get_order(ex, "BTCUSDT", o.order_id, NULL, &o), EXCHANGE_OK);
    ck_assert_str_eq(o.status, "FILLED");
    ck_assert_str_eq(o.executed_qty, g17(qty));
    ck_assert_str_eq(o.orig_qty, g17(qty));
    ck_assert_str_eq(o.cum_quote_qty, g17(qty * price));
    ck_assert_int_eq(o.update_time_ms, c.open_time);
    CK_BALANCE(ex, "USDT", "9000", "0");
    CK_BALANCE(ex, "BTC", g17(qty), "0");
    ck_assert_uint_eq(count_open(ex), 0);
    /* a second candle changes nothing: the order filled once */
    candle c2 = mk(2, 103, 105, 101, 104);
    ck_assert_int_eq(exchange_paper_feed(ex, "BTCUSDT", &c2), 0);
    CK_BALANCE(ex, "BTC", g17(qty), "0");

    /* the sale: the base is locked, then sold at the next open less slippage, fee on the gross */
    ck_assert_int_eq(place(ex, EXCHANGE_SELL, EXCHANGE_MARKET, g17(qty), NULL, NULL, "s1", &o), EXCHANGE_OK);
    CK_BALANCE(ex, "BTC", "0", g17(qty));
    candle c3 = mk(3, 110, 111, 108, 109);
    ck_assert_int_eq(exchange_paper_feed(ex, "BTCUSDT", &c3), 1);
    double sp = 110 * (1.0 - 0.0005), gross = qty * sp, sfee = gross * 0.001;
    ck_assert_int_eq(exchange_paper_fill_of(ex, NULL, "s1", &f), EXCHANGE_OK);
    ck_assert(f.price == sp);
    ck_assert(f.qty == qty);
    ck_assert(f.fee == sfee);
    ck_assert(f.quote == gross - sfee);
    CK_BALANCE(ex, "USDT", g17(9000 + (gross - sfee)), "0");
    CK_BALANCE(ex, "BTC", "", ""); /* nothing left: not listed */
    /* the clock is the latest candle fed */
    int64_t now;
    ck_assert_int_eq(exchange_server_time(ex, &now), EXCHANGE_OK);
    ck_assert_int_eq(now, c3.open_time);
    exchange_close(ex);
}
END_TEST

START_TEST(limit_orders_fill_when_the_range_reaches_them)
{
    exchange *ex = open_paper();
    exchange_order o;
    ck_assert_int_eq(place(ex, EXCHANGE_BUY, EXCHANGE_LIMIT, "2", NULL, "90", "lb", &o), EXCHANGE_OK);
    ck_assert_str_eq(o.price, "90");
    ck_assert_str_eq(o.orig_qty, "2");
    double cost = 2.0 * 90 + 2.0 * 90 * 0.001; /* notional plus fee, no slippage at a limit */
    CK_BALANCE(ex, "USDT", g17(10000 - cost), g17(cost));
    candle above = mk(1, 95, 96, 91, 92);
    ck_assert_int_eq(exchange_paper_feed(ex, "BTCUSDT", &above), 0); /* low 91 > 90: no fill */
    ck_assert_int_eq(exchange_get_order(ex, NULL, NULL, "lb", &o), EXCHANGE_OK);
    ck_assert_str_eq(o.status, "NEW");
    /* a gap down to 85 still fills at the limit price itself */
    candle through = mk(2, 85, 92, 84, 91);
    ck_assert_int_eq(exchange_paper_feed(ex, "BTCUSDT", &through), 1);
    exchange_paper_fill f;
    ck_assert_int_eq(exchange_paper_fill_of(ex, NULL, "lb", &f), EXCHANGE_OK);
    ck_assert(f.price == 90);
    ck_assert(f.qty == 2);
    ck_assert(f.fee == 2.0 * 90 * 0.001);
    ck_assert(f.quote == cost);
    CK_BALANCE(ex, "USDT", g17(10000 - cost), "0");
    CK_BALANCE(ex, "BTC", "2", "0");

    /* a limit sale waits for the high */
    ck_assert_int_eq(place(ex, EXCHANGE_SELL, EXCHANGE_LIMIT, "1.5", NULL, "100", "ls", &o), EXCHANGE_OK);
    CK_BALANCE(ex, "BTC", "0.5", "1.5");
    candle below = mk(3, 95, 99.5, 94, 99);
    ck_assert_int_eq(exchange_paper_feed(ex, "BTCUSDT", &below), 0);
    candle reach = mk(4, 99, 100, 98, 99.5);
    ck_assert_int_eq(exchange_paper_feed(ex, "BTCUSDT", &reach), 1);
    ck_assert_int_eq(exchange_paper_fill_of(ex, NULL, "ls", &f), EXCHANGE_OK);
    ck_assert(f.price == 100);
    ck_assert(f.quote == 1.5 * 100 - 1.5 * 100 * 0.001);
    CK_BALANCE(ex, "BTC", "0.5", "0");
    CK_BALANCE(ex, "USDT", g17(10000 - cost + f.quote), "0");

    /* IOC gets one candle: not reached, it expires and its lock comes back */
    exchange_order_req rq = {.symbol = "BTCUSDT", .side = EXCHANGE_BUY, .type = EXCHANGE_LIMIT, .quantity = "1",
                             .price = "50", .tif = EXCHANGE_IOC, .client_order_id = "ioc"};
    ck_assert_int_eq(exchange_place_order(ex, &rq, &o), EXCHANGE_OK);
    ck_assert_str_eq(o.time_in_force, "IOC");
    candle next = mk(5, 99, 101, 97, 100);
    ck_assert_int_eq(exchange_paper_feed(ex, "BTCUSDT", &next), 1);
    ck_assert_int_eq(exchange_get_order(ex, NULL, NULL, "ioc", &o), EXCHANGE_OK);
    ck_assert_str_eq(o.status, "EXPIRED");
    CK_BALANCE(ex, "USDT", g17(10000 - cost + f.quote), "0");
    exchange_close(ex);
}
END_TEST

START_TEST(insufficient_balance_changes_nothing)
{
    exchange *ex = open_paper();
    exchange_order o;
    ck_assert_int_eq(place(ex, EXCHANGE_BUY, EXCHANGE_MARKET, NULL, "10000.01", NULL, "big", &o), EXCHANGE_ERR_BALANCE);
    ck_assert_int_eq(exchange_last_error(ex)->err, EXCHANGE_ERR_BALANCE);
    ck_assert_ptr_nonnull(strstr(exchange_last_error(ex)->message, "insufficient balance"));
    ck_assert_int_eq(place(ex, EXCHANGE_SELL, EXCHANGE_MARKET, "0.1", NULL, NULL, "nobtc", &o), EXCHANGE_ERR_BALANCE);
    /* 100 × 100 plus its fee is more than 10000 */
    ck_assert_int_eq(place(ex, EXCHANGE_BUY, EXCHANGE_LIMIT, "100", NULL, "100", "lim", &o), EXCHANGE_ERR_BALANCE);
    CK_BALANCE(ex, "USDT", "10000", "0");
    CK_BALANCE(ex, "BTC", "", "");
    ck_assert_uint_eq(count_open(ex), 0);
    /* a refused order left no record: its client id is free */
    ck_assert_int_eq(exchange_get_order(ex, NULL, NULL, "big", &o), EXCHANGE_ERR_NOT_FOUND);
    /* everything at once is fine, and then nothing more */
    ck_assert_int_eq(place(ex, EXCHANGE_BUY, EXCHANGE_MARKET, NULL, "10000", NULL, "all", &o), EXCHANGE_OK);
    ck_assert_int_eq(place(ex, EXCHANGE_BUY, EXCHANGE_MARKET, NULL, "0.01", NULL, "more", &o), EXCHANGE_ERR_BALANCE);
    CK_BALANCE(ex, "USDT", "0", "10000");
    exchange_close(ex);
}
END_TEST

START_TEST(cancel_releases_the_lock)
{
    exchange *ex = open_paper();
    exchange_order o, c;
    ck_assert_int_eq(place(ex, EXCHANGE_BUY, EXCHANGE_LIMIT, "3", NULL, "80.5", "c1", &o), EXCHANGE_OK);
    ck_assert_int_eq(place(ex, EXCHANGE_BUY, EXCHANGE_MARKET, NULL, "123.25", NULL, "c2", &o), EXCHANGE_OK);
    ck_assert_uint_eq(count_open(ex), 2);
    ck_assert_int_eq(exchange_cancel_order(ex, "BTCUSDT", NULL, "c1", &c), EXCHANGE_OK);
    ck_assert_str_eq(c.status, "CANCELED");
    CK_BALANCE(ex, "USDT", "9876.75", "123.25");
    ck_assert_int_eq(exchange_cancel_order(ex, "BTCUSDT", o.order_id, NULL, &c), EXCHANGE_OK);
    CK_BALANCE(ex, "USDT", "10000", "0");
    ck_assert_uint_eq(count_open(ex), 0);
    /* a repeated cancel reports the cancelled order; a candle no longer fills it */
    ck_assert_int_eq(exchange_cancel_order(ex, "BTCUSDT", NULL, "c2", &c), EXCHANGE_OK);
    ck_assert_str_eq(c.status, "CANCELED");
    candle k = mk(1, 100, 101, 70, 100);
    ck_assert_int_eq(exchange_paper_feed(ex, "BTCUSDT", &k), 0);
    CK_BALANCE(ex, "USDT", "10000", "0");
    /* unknown orders, and a filled one, cannot be cancelled */
    ck_assert_int_eq(exchange_cancel_order(ex, "BTCUSDT", "999", NULL, &c), EXCHANGE_ERR_NOT_FOUND);
    ck_assert_int_eq(exchange_cancel_order(ex, "BTCUSDT", NULL, "nope", &c), EXCHANGE_ERR_NOT_FOUND);
    ck_assert_int_eq(exchange_get_order(ex, "BTCUSDT", "999", NULL, &c), EXCHANGE_ERR_NOT_FOUND);
    ck_assert_int_eq(exchange_get_order(ex, "ETHUSDT", NULL, "c2", &c), EXCHANGE_ERR_NOT_FOUND); /* other symbol */
    ck_assert_int_eq(place(ex, EXCHANGE_BUY, EXCHANGE_MARKET, NULL, "10", NULL, "f1", &o), EXCHANGE_OK);
    candle k2 = mk(2, 100, 101, 99, 100);
    ck_assert_int_eq(exchange_paper_feed(ex, "BTCUSDT", &k2), 1);
    ck_assert_int_eq(exchange_cancel_order(ex, "BTCUSDT", NULL, "f1", &c), EXCHANGE_ERR_NOT_FOUND);
    ck_assert_int_eq(exchange_get_order(ex, "BTCUSDT", NULL, "f1", &c), EXCHANGE_OK);
    ck_assert_str_eq(c.status, "FILLED");
    exchange_close(ex);
}
END_TEST

START_TEST(client_id_is_idempotent)
{
    exchange *ex = open_paper();
    exchange_order a, b;
    ck_assert_int_eq(place(ex, EXCHANGE_BUY, EXCHANGE_MARKET, NULL, "500", NULL, "bcf7-1-b", &a), EXCHANGE_OK);
    /* the same client id again, even with other amounts: the first order, nothing new locked */
    ck_assert_int_eq(place(ex, EXCHANGE_BUY, EXCHANGE_MARKET, NULL, "700", NULL, "bcf7-1-b", &b), EXCHANGE_OK);
    ck_assert_str_eq(a.order_id, b.order_id);
    ck_assert_uint_eq(count_open(ex), 1);
    CK_BALANCE(ex, "USDT", "9500", "500");
    ck_assert_int_eq(place(ex, EXCHANGE_BUY, EXCHANGE_MARKET, NULL, "700", NULL, "bcf7-2-b", &b), EXCHANGE_OK);
    ck_assert_str_ne(a.order_id, b.order_id);
    /* a client id is required, as on every adapter */
    ck_assert_int_eq(place(ex, EXCHANGE_BUY, EXCHANGE_MARKET, NULL, "1", NULL, NULL, &b), EXCHANGE_ERR_INVALID);
    ck_assert_int_eq(place(ex, EXCHANGE_BUY, EXCHANGE_MARKET, NULL, "1", NULL, "a b", &b), EXCHANGE_ERR_INVALID);
    exchange_close(ex);
}
END_TEST

START_TEST(requests_are_checked)
{
    exchange *ex = open_paper();
    exchange_order o;
    const char *bad[] = {"0", "-1", "nan", "inf", "1e999", "abc", "1.5x", "", " 1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(place(ex, EXCHANGE_BUY, EXCHANGE_MARKET, NULL, bad[i], NULL, "x", &o) == EXCHANGE_ERR_INVALID,
                      "quote_quantity '%s'", bad[i]);
        ck_assert_msg(place(ex, EXCHANGE_BUY, EXCHANGE_LIMIT, "1", NULL, bad[i], "x", &o) == EXCHANGE_ERR_INVALID,
                      "price '%s'", bad[i]);
    }
    ck_assert_int_eq(place(ex, EXCHANGE_BUY, EXCHANGE_MARKET, "1", "100", NULL, "x", &o), EXCHANGE_ERR_INVALID);
    ck_assert_int_eq(place(ex, EXCHANGE_BUY, EXCHANGE_MARKET, "1", NULL, "100", "x", &o), EXCHANGE_ERR_INVALID);
    ck_assert_int_eq(place(ex, EXCHANGE_BUY, EXCHANGE_LIMIT, NULL, "100", "100", "x", &o), EXCHANGE_ERR_INVALID);
    ck_assert_int_eq(place(ex, EXCHANGE_BUY, EXCHANGE_LIMIT, "1", NULL, NULL, "x", &o), EXCHANGE_ERR_INVALID);
    exchange_order_req rq = {.symbol = "BTCXYZ", .type = EXCHANGE_MARKET, .quote_quantity = "1", .client_order_id = "x"};
    ck_assert_int_eq(exchange_place_order(ex, &rq, &o), EXCHANGE_ERR_NOT_FOUND);
    rq.symbol = "btcusdt";
    ck_assert_int_eq(exchange_place_order(ex, &rq, &o), EXCHANGE_ERR_INVALID);
    ck_assert_uint_eq(count_open(ex), 0);
    CK_BALANCE(ex, "USDT", "10000", "0");
    /* base and quote from the known quote suffixes */
    exchange_symbol si;
    ck_assert_int_eq(exchange_symbol_info(ex, "ETHBTC", &si), EXCHANGE_OK);
    ck_assert_str_eq(si.base, "ETH");
    ck_assert_str_eq(si.quote, "BTC");
    ck_assert_int_eq(exchange_symbol_info(ex, "USDTBRL", &si), EXCHANGE_OK);
    ck_assert_str_eq(si.base, "USDT");
    ck_assert_str_eq(si.quote, "BRL");
    ck_assert_int_eq(exchange_symbol_info(ex, "BTCUSDT", &si), EXCHANGE_OK);
    ck_assert_str_eq(si.base, "BTC");
    ck_assert_str_eq(si.status, "TRADING");
    ck_assert_str_eq(si.step_size, "0.00000001");
    ck_assert_str_eq(si.min_notional, "0");
    ck_assert_int_eq(exchange_symbol_info(ex, "USDT", &si), EXCHANGE_ERR_NOT_FOUND); /* no base */
    /* candles: valid, and in order per symbol */
    candle c = mk(5, 100, 101, 99, 100);
    ck_assert_int_eq(exchange_paper_feed(ex, "BTCUSDT", &c), 0);
    ck_assert_int_eq(exchange_paper_feed(ex, "BTCUSDT", &c), EXCHANGE_ERR_INVALID);
    candle early = mk(4, 100, 101, 99, 100);
    ck_assert_int_eq(exchange_paper_feed(ex, "BTCUSDT", &early), EXCHANGE_ERR_INVALID);
    ck_assert_int_eq(exchange_paper_feed(ex, "ETHUSDT", &early), 0); /* another symbol has its own order */
    candle inverted = mk(6, 100, 99, 101, 100);
    ck_assert_int_eq(exchange_paper_feed(ex, "BTCUSDT", &inverted), EXCHANGE_ERR_INVALID);
    candle nan = mk(6, NAN, 101, 99, 100);
    ck_assert_int_eq(exchange_paper_feed(ex, "BTCUSDT", &nan), EXCHANGE_ERR_INVALID);
    /* setup */
    ck_assert_int_eq(exchange_paper_set_costs(ex, -1, 5), EXCHANGE_ERR_INVALID);
    ck_assert_int_eq(exchange_paper_set_costs(ex, 10, 1001), EXCHANGE_ERR_INVALID);
    ck_assert_int_eq(exchange_paper_set_balance(ex, "usdt", 1), EXCHANGE_ERR_INVALID);
    ck_assert_int_eq(exchange_paper_set_balance(ex, "USDT", -1), EXCHANGE_ERR_INVALID);
    ck_assert_int_eq(exchange_paper_set_balance(ex, "USDT", INFINITY), EXCHANGE_ERR_INVALID);
    /* no keys, always allowed to trade */
    exchange_account acct;
    ck_assert_int_eq(exchange_validate_credentials(ex, 1, &acct), EXCHANGE_OK);
    ck_assert_int_eq(acct.can_trade, 1);
    ck_assert_int_eq(exchange_ping(ex), EXCHANGE_OK);
    exchange_close(ex);
    /* the table: paper is simulated, needs no keys; Binance is neither; the setup is paper's only */
    ck_assert_ptr_nonnull(exchange_find("paper"));
    ck_assert_int_eq(exchange_find("paper")->simulated, 1);
    ck_assert_int_eq(exchange_find("paper")->needs_credentials_for_market_data, 0);
    ck_assert_int_eq(exchange_find("binance")->simulated, 0);
    exchange *bn = exchange_open("binance", NULL);
    ck_assert_ptr_nonnull(bn);
    ck_assert_int_eq(exchange_paper_feed(bn, "BTCUSDT", &c), EXCHANGE_ERR_INVALID);
    ck_assert_int_eq(exchange_paper_set_balance(bn, "USDT", 1), EXCHANGE_ERR_INVALID);
    ck_assert_ptr_null(exchange_paper_save(bn));
    exchange_close(bn);
}
END_TEST

/* A market buy by quantity locks an estimate at the last price; a sale by quote amount sells
 * amount / price. Their fills are known only at the next open. */
START_TEST(market_orders_sized_at_the_fill)
{
    exchange *ex = open_paper();
    exchange_order o;
    /* no price yet: such an order cannot be sized */
    ck_assert_int_eq(place(ex, EXCHANGE_BUY, EXCHANGE_MARKET, "1", NULL, NULL, "q0", &o), EXCHANGE_ERR_REJECTED);
    candle c1 = mk(1, 100, 101, 99, 100);
    ck_assert_int_eq(exchange_paper_feed(ex, "BTCUSDT", &c1), 0);
    ck_assert_int_eq(place(ex, EXCHANGE_BUY, EXCHANGE_MARKET, "2", NULL, NULL, "q1", &o), EXCHANGE_OK);
    double est = 2 * (100 * 1.0005) + 2 * (100 * 1.0005) * 0.001;
    CK_BALANCE(ex, "USDT", g17(10000 - est), g17(est));
    /* the next open is higher: the difference comes from free */
    candle c2 = mk(2, 102, 103, 101, 102);
    ck_assert_int_eq(exchange_paper_feed(ex, "BTCUSDT", &c2), 1);
    exchange_paper_fill f;
    ck_assert_int_eq(exchange_paper_fill_of(ex, NULL, "q1", &f), EXCHANGE_OK);
    double px = 102 * (1.0 + 0.0005);
    ck_assert(f.price == px);
    ck_assert(f.qty == 2);
    ck_assert(f.quote == 2 * px + 2 * px * 0.001);
    CK_BALANCE(ex, "BTC", "2", "0");
    CK_BALANCE(ex, "USDT", g17(10000 - f.quote), "0");
    double usdt = 10000 - f.quote;
    /* sell 102.05 quote worth at the next open: qty = amount / price */
    ck_assert_int_eq(place(ex, EXCHANGE_SELL, EXCHANGE_MARKET, NULL, "102.05", NULL, "q2", &o), EXCHANGE_OK);
    candle c3 = mk(3, 100, 101, 99, 100);
    ck_assert_int_eq(exchange_paper_feed(ex, "BTCUSDT", &c3), 1);
    ck_assert_int_eq(exchange_paper_fill_of(ex, NULL, "q2", &f), EXCHANGE_OK);
    double sp = 100 * (1.0 - 0.0005);
    ck_assert(f.price == sp);
    ck_assert(f.qty == 102.05 / sp);
    ck_assert(f.fee == 102.05 * 0.001);
    ck_assert(f.quote == 102.05 - 102.05 * 0.001);
    CK_BALANCE(ex, "USDT", g17(usdt + f.quote), "0");
    CK_BALANCE(ex, "BTC", g17(2 - 102.05 / sp), "0");
    /* a buy the account cannot cover at the fill expires and gives its lock back */
    ck_assert_int_eq(exchange_paper_set_balance(ex, "USDT", 100.2), EXCHANGE_OK);
    ck_assert_int_eq(place(ex, EXCHANGE_BUY, EXCHANGE_MARKET, "1", NULL, NULL, "q3", &o), EXCHANGE_OK);
    candle c4 = mk(4, 150, 151, 149, 150);
    ck_assert_int_eq(exchange_paper_feed(ex, "BTCUSDT", &c4), 1);
    ck_assert_int_eq(exchange_get_order(ex, NULL, NULL, "q3", &o), EXCHANGE_OK);
    ck_assert_str_eq(o.status, "EXPIRED");
    CK_BALANCE(ex, "USDT", "100.2", "0");
    exchange_close(ex);
}
END_TEST

/* A candle source: 1h or 1m candles whose open is 1000 + the candle's index since T0. */
static int source_calls;
static int synthetic_source(void *user, const char *symbol, const char *timeframe, int64_t start_ms, int64_t end_ms,
                            candle **out, size_t *n)
{
    source_calls++;
    ck_assert_str_eq((const char *)user, "ctx");
    if (strcmp(symbol, "BTCUSDT"))
        return -1;
    int64_t tf = candle_timeframe_ms(timeframe);
    int64_t first = (start_ms + tf - 1) / tf * tf;
    size_t cnt = end_ms >= first ? (size_t)((end_ms - first) / tf + 1) : 0;
    *out = cnt ? calloc(cnt, sizeof **out) : NULL;
    for (size_t i = 0; i < cnt; i++) {
        int64_t t = first + (int64_t)i * tf;
        double o = 1000 + (double)((t - T0) / tf);
        (*out)[i] = (candle){t, o, o + 2, o - 1, o + 1, 5};
    }
    *n = cnt;
    return 0;
}

START_TEST(market_data_from_the_source)
{
    exchange *ex = open_paper();
    candle *rows;
    size_t n;
    exchange_price t;
    /* without a source there are no klines, and no price for a symbol never fed */
    ck_assert_int_eq(exchange_klines(ex, "BTCUSDT", "1h", T0, T0 + 10 * H, 0, &rows, &n), EXCHANGE_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(exchange_last_error(ex)->message, "no candle source"));
    ck_assert_int_eq(exchange_ticker(ex, "BTCUSDT", &t), EXCHANGE_ERR_UNSUPPORTED);
    candle c = mk(0, 100, 101, 99, 100.5);
    ck_assert_int_eq(exchange_paper_feed(ex, "ETHUSDT", &c), 0);
    ck_assert_int_eq(exchange_ticker(ex, "ETHUSDT", &t), EXCHANGE_OK); /* a fed symbol has a price */
    ck_assert(t.price_d == 100.5);
    ck_assert_str_eq(t.price, "100.5");

    ck_assert_int_eq(exchange_paper_set_source(ex, synthetic_source, "ctx"), EXCHANGE_OK);
    ck_assert_int_eq(exchange_klines(ex, "BTCUSDT", "1h", T0, T0 + 10 * H, 0, &rows, &n), EXCHANGE_OK);
    ck_assert_uint_eq(n, 11);
    ck_assert_int_eq(rows[0].open_time, T0);
    ck_assert(rows[10].open == 1010);
    free(rows);
    ck_assert_int_eq(exchange_klines(ex, "BTCUSDT", "1h", T0, T0 + 10 * H, 4, &rows, &n), EXCHANGE_OK);
    ck_assert_uint_eq(n, 4); /* the limit keeps the oldest */
    ck_assert(rows[3].open == 1003);
    free(rows);
    ck_assert_int_eq(exchange_klines(ex, "BTCUSDT", "2h", T0, T0 + H, 0, &rows, &n), EXCHANGE_ERR_INVALID);
    ck_assert_int_eq(exchange_klines(ex, "BTCUSDT", "1h", T0 + H, T0, 0, &rows, &n), EXCHANGE_ERR_INVALID);
    ck_assert_int_eq(exchange_klines(ex, "SOLUSDT", "1h", T0, T0 + H, 0, &rows, &n), EXCHANGE_ERR_UNAVAILABLE);
    ck_assert_ptr_null(rows);
    /* the ticker of a symbol not fed: the source's last 1m close before the clock (ETHUSDT's
     * candle at T0) */
    ck_assert_int_eq(exchange_ticker(ex, "BTCUSDT", &t), EXCHANGE_OK);
    ck_assert(t.price_d == 1000 + 1);
    /* once fed, the fed candle is the price, without asking the source */
    candle b = mk(3, 50, 51, 49, 50.25);
    ck_assert_int_eq(exchange_paper_feed(ex, "BTCUSDT", &b), 0);
    int calls = source_calls;
    ck_assert_int_eq(exchange_ticker(ex, "BTCUSDT", &t), EXCHANGE_OK);
    ck_assert(t.price_d == 50.25);
    ck_assert_int_eq(source_calls, calls);
    ck_assert_int_eq(exchange_paper_set_source(ex, NULL, NULL), EXCHANGE_OK);
    ck_assert_int_eq(exchange_klines(ex, "BTCUSDT", "1h", T0, T0 + H, 0, &rows, &n), EXCHANGE_ERR_UNSUPPORTED);
    exchange_close(ex);
}
END_TEST

START_TEST(saved_state_resumes_exactly)
{
    exchange *a = open_paper();
    exchange_order o;
    candle c[6] = {mk(0, 100, 101, 99, 100), mk(1, 101, 103, 100, 102), mk(2, 102, 104, 95, 96),
                   mk(3, 96, 99, 95, 98), mk(4, 98, 120, 97, 119), mk(5, 119, 121, 117, 118)};
    ck_assert_int_eq(exchange_paper_feed(a, "BTCUSDT", &c[0]), 0);
    ck_assert_int_eq(place(a, EXCHANGE_BUY, EXCHANGE_MARKET, NULL, "3333.3333333333335", NULL, "m1", &o), EXCHANGE_OK);
    ck_assert_int_eq(place(a, EXCHANGE_BUY, EXCHANGE_LIMIT, "10", NULL, "97", "l1", &o), EXCHANGE_OK);
    ck_assert_int_eq(exchange_paper_feed(a, "BTCUSDT", &c[1]), 1);
    ck_assert_int_eq(place(a, EXCHANGE_SELL, EXCHANGE_LIMIT, "5", NULL, "115", "l2", &o), EXCHANGE_OK);
    char *saved = exchange_paper_save(a);
    ck_assert_ptr_nonnull(saved);
    exchange *b = exchange_open("paper", NULL);
    ck_assert_int_eq(exchange_paper_load(b, saved), EXCHANGE_OK);
    /* both continue over the same candles and end the same, to the last bit */
    for (int i = 2; i < 6; i++)
        ck_assert_int_eq(exchange_paper_feed(a, "BTCUSDT", &c[i]), exchange_paper_feed(b, "BTCUSDT", &c[i]));
    const char *ids[] = {"m1", "l1", "l2"};
    for (int i = 0; i < 3; i++) {
        exchange_paper_fill fa, fb;
        exchange_order oa, ob;
        ck_assert_int_eq(exchange_paper_fill_of(a, NULL, ids[i], &fa), EXCHANGE_OK);
        ck_assert_int_eq(exchange_paper_fill_of(b, NULL, ids[i], &fb), EXCHANGE_OK);
        ck_assert(fa.qty > 0);
        ck_assert(!memcmp(&fa, &fb, sizeof fa));
        ck_assert_int_eq(exchange_get_order(a, NULL, NULL, ids[i], &oa), EXCHANGE_OK);
        ck_assert_int_eq(exchange_get_order(b, NULL, NULL, ids[i], &ob), EXCHANGE_OK);
        ck_assert_str_eq(oa.status, "FILLED");
        ck_assert(!memcmp(&oa, &ob, sizeof oa));
    }
    char *sa = exchange_paper_save(a), *sb = exchange_paper_save(b);
    ck_assert_str_eq(sa, sb);
    /* new order ids continue after the saved ones */
    exchange_order na, nb;
    ck_assert_int_eq(place(a, EXCHANGE_BUY, EXCHANGE_MARKET, NULL, "1", NULL, "n", &na), EXCHANGE_OK);
    ck_assert_int_eq(place(b, EXCHANGE_BUY, EXCHANGE_MARKET, NULL, "1", NULL, "n", &nb), EXCHANGE_OK);
    ck_assert_str_eq(na.order_id, nb.order_id);
    /* garbage is refused and the account stays as it was */
    ck_assert_int_eq(exchange_paper_load(b, "{\"version\":1}"), EXCHANGE_ERR_INVALID);
    ck_assert_int_eq(exchange_paper_load(b, "not json"), EXCHANGE_ERR_INVALID);
    ck_assert_int_eq(exchange_paper_load(b, NULL), EXCHANGE_ERR_INVALID);
    char *bad = strdup(saved);
    char *side = strstr(bad, "\"BUY\"");
    ck_assert_ptr_nonnull(side);
    memcpy(side, "\"BYE\"", 5);
    ck_assert_int_eq(exchange_paper_load(b, bad), EXCHANGE_ERR_INVALID);
    ck_assert_uint_eq(count_open(b), 1);
    free(bad);
    free(sa);
    free(sb);
    free(saved);
    exchange_close(a);
    exchange_close(b);
}
END_TEST

/* THE contract: a backtest's fills, replayed as MARKET orders on the paper exchange over the same
 * candles, are the paper exchange's fills to the last bit (price, qty, fee, proceeds, cash). */
START_TEST(paper_fills_equal_the_engine_bit_for_bit)
{
    enum { N = 6000 };
    static candle c[N];
    synth_params sp;
    synth_defaults(&sp);
    sp.seed = 20240101;
    sp.start_ms = T0;
    sp.tf_ms = H;
    ck_assert_int_eq(synth_generate(&sp, c, N, NULL), 0);
    engine_config cfg;
    engine_config_defaults(&cfg, STRATEGY_SMA_CROSS);
    cfg.params[STRAT_CROSS_FAST] = 10;
    cfg.params[STRAT_CROSS_SLOW] = 30;
    cfg.costs.fee_bps = 7.5;
    cfg.costs.slippage_bps = 3.3;
    cfg.risk.stake_pct = 95;
    static engine e;
    ck_assert_int_eq(engine_init(&e, &cfg, 1, 10000), 0);

    /* the backtest: every event and the candle it came from */
    static trade_event evs[N];
    static int at[N];
    int nev = 0;
    trade_event ev[ENGINE_MAX_STEP_EVENTS];
    for (int i = 0; i < N; i++) {
        int k = engine_step(&e, 0, &c[i], ev, ENGINE_MAX_STEP_EVENTS);
        ck_assert_int_ge(k, 0);
        for (int j = 0; j < k; j++) {
            ck_assert_int_lt(nev, N);
            evs[nev] = ev[j];
            at[nev++] = i;
        }
    }
    double cash = e.cash;
    double held = e.sym[0].qty;
    /* closing what is still open gives its cost (what its buy spent); it is not replayed */
    int tail = engine_close_all(&e, 0, c[N - 1].open_time + H, ev, ENGINE_MAX_STEP_EVENTS);
    ck_assert_int_ge(tail, 0);

    exchange *ex = exchange_open("paper", NULL);
    ck_assert_ptr_nonnull(ex);
    ck_assert_int_eq(exchange_paper_set_costs(ex, cfg.costs.fee_bps, cfg.costs.slippage_bps), EXCHANGE_OK);
    ck_assert_int_eq(exchange_paper_set_balance(ex, "USDT", 10000), EXCHANGE_OK);
    int opens = 0, closes = 0;
    for (int i = 0, k = 0; i < N; i++) {
        /* the engine decided these on candle i − 1: they go to the exchange before candle i */
        int first = k;
        for (; k < nev && at[k] == i; k++) {
            trade_event *x = &evs[k];
            ck_assert_int_eq(x->time, c[i].open_time);
            ck_assert_int_eq(x->reason, x->kind == TEV_CLOSE ? EXIT_SIGNAL : EXIT_NONE);
            char cid[32];
            snprintf(cid, sizeof cid, "t%lld-%d", (long long)x->trade_id, x->kind);
            exchange_order o;
            if (x->kind == TEV_OPEN) {
                double spent = -1; /* from the trade's close: the cost of its one buy */
                for (int m = k + 1; m < nev && spent < 0; m++)
                    if (evs[m].trade_id == x->trade_id && evs[m].kind == TEV_CLOSE)
                        spent = evs[m].cost;
                for (int m = 0; m < tail && spent < 0; m++)
                    if (ev[m].trade_id == x->trade_id)
                        spent = ev[m].cost;
                ck_assert(spent > 0);
                ck_assert_int_eq(place(ex, EXCHANGE_BUY, EXCHANGE_MARKET, NULL, g17(spent), NULL, cid, &o),
                                 EXCHANGE_OK);
            } else {
                ck_assert_int_eq(x->kind, TEV_CLOSE);
                ck_assert_int_eq(place(ex, EXCHANGE_SELL, EXCHANGE_MARKET, g17(x->qty), NULL, NULL, cid, &o),
                                 EXCHANGE_OK);
            }
        }
        ck_assert_int_eq(exchange_paper_feed(ex, "BTCUSDT", &c[i]), k - first);
        for (int m = first; m < k; m++) {
            trade_event *x = &evs[m];
            char cid[32];
            snprintf(cid, sizeof cid, "t%lld-%d", (long long)x->trade_id, x->kind);
            exchange_paper_fill f;
            ck_assert_int_eq(exchange_paper_fill_of(ex, NULL, cid, &f), EXCHANGE_OK);
            ck_assert_int_eq(f.time_ms, x->time);
            ck_assert_msg(f.price == x->price, "%s price %a vs %a", cid, f.price, x->price);
            ck_assert_msg(f.qty == x->qty, "%s qty %a vs %a", cid, f.qty, x->qty);
            ck_assert_msg(f.fee == x->fee, "%s fee %a vs %a", cid, f.fee, x->fee);
            if (x->kind == TEV_CLOSE) {
                ck_assert_msg(f.quote == x->proceeds, "%s proceeds %a vs %a", cid, f.quote, x->proceeds);
                closes++;
            } else {
                opens++;
            }
        }
    }
    ck_assert_int_ge(closes, 20); /* enough trades for the comparison to mean something */
    ck_assert_int_ge(opens, closes);
    /* the account ends where the engine's cash and position do */
    CK_BALANCE(ex, "USDT", g17(cash), "0");
    char fr[EXCHANGE_DEC], lk[EXCHANGE_DEC];
    balance_of(ex, "BTC", fr, lk);
    ck_assert(strtod(fr[0] ? fr : "0", NULL) == held);
    exchange_close(ex);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("exchange_paper");
    UNIT_ADD(s, market_buy_fills_at_the_next_open);
    UNIT_ADD(s, limit_orders_fill_when_the_range_reaches_them);
    UNIT_ADD(s, insufficient_balance_changes_nothing);
    UNIT_ADD(s, cancel_releases_the_lock);
    UNIT_ADD(s, client_id_is_idempotent);
    UNIT_ADD(s, requests_are_checked);
    UNIT_ADD(s, market_orders_sized_at_the_fill);
    UNIT_ADD(s, market_data_from_the_source);
    UNIT_ADD(s, saved_state_resumes_exactly);
    UNIT_ADD(s, paper_fills_equal_the_engine_bit_for_bit);
    return unit_run(s);
}
