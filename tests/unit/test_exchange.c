/* test_exchange.c — unit tests of lib/exchange: Binance signatures against the examples in Binance's API
 * documentation, error-code mapping, decimals fitted to step and tick sizes, client ids, the adapter factory. */
#include "unit.h"
#include "binance.h"
#include "exchange.h"
#include <math.h>

/* The key pair and payloads of Binance's "SIGNED endpoint examples for POST /api/v3/order". */
#define DOC_SECRET "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"

START_TEST(signature_matches_binance_documentation)
{
    char sig[65];
    /* example 1: everything in the query string */
    ck_assert_int_eq(binance_sign(DOC_SECRET,
                                  "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
                                  "&recvWindow=5000&timestamp=1499827319559",
                                  NULL, sig),
                     0);
    ck_assert_str_eq(sig, "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");
    /* example 3: query string and body, signed as one string with nothing in between */
    ck_assert_int_eq(binance_sign(DOC_SECRET, "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC",
                                  "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559", sig),
                     0);
    ck_assert_str_eq(sig, "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77");
    /* one character of the payload changes the signature */
    ck_assert_int_eq(binance_sign(DOC_SECRET,
                                  "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=2&price=0.1"
                                  "&recvWindow=5000&timestamp=1499827319559",
                                  "", sig),
                     0);
    ck_assert_str_ne(sig, "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");
    ck_assert_uint_eq(strlen(sig), 64);
}
END_TEST

START_TEST(binance_codes_map_to_our_errors)
{
    const struct {
        long http, code;
        const char *msg;
        exchange_err want;
    } cases[] = {
        {400, -1021, "Timestamp for this request is outside of the recvWindow.", EXCHANGE_ERR_TIMESTAMP},
        {400, -1022, "Signature for this request is not valid.", EXCHANGE_ERR_AUTH},
        {401, -2014, "API-key format invalid.", EXCHANGE_ERR_AUTH},
        {401, -2015, "Invalid API-key, IP, or permissions for action.", EXCHANGE_ERR_AUTH},
        {400, -2010, "Account has insufficient balance for requested action.", EXCHANGE_ERR_BALANCE},
        {400, -2010, "Duplicate order sent.", EXCHANGE_ERR_REJECTED},
        {400, -2011, "Unknown order sent.", EXCHANGE_ERR_NOT_FOUND},
        {400, -2013, "Order does not exist.", EXCHANGE_ERR_NOT_FOUND},
        {400, -1121, "Invalid symbol.", EXCHANGE_ERR_NOT_FOUND},
        {400, -1013, "Filter failure: LOT_SIZE", EXCHANGE_ERR_REJECTED},
        {429, -1003, "Too much request weight used", EXCHANGE_ERR_RATE_LIMIT},
        {418, -1003, "Way too much request weight used; IP banned", EXCHANGE_ERR_RATE_LIMIT},
        {400, -1015, "Too many new orders.", EXCHANGE_ERR_RATE_LIMIT},
        {503, -1001, "Internal error", EXCHANGE_ERR_UNAVAILABLE},
        {400, -1007, "Timeout waiting for response from backend server.", EXCHANGE_ERR_UNAVAILABLE},
        {400, -1102, "Mandatory parameter", EXCHANGE_ERR_INVALID},
        {400, -1100, "Illegal characters found in parameter", EXCHANGE_ERR_INVALID},
        {502, 0, NULL, EXCHANGE_ERR_UNAVAILABLE},
        {403, 0, NULL, EXCHANGE_ERR_UNAVAILABLE},
        {401, 0, NULL, EXCHANGE_ERR_AUTH},
        {404, 0, NULL, EXCHANGE_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(binance_map_error(cases[i].http, cases[i].code, cases[i].msg) == cases[i].want,
                      "case %zu (HTTP %ld, code %ld)", i, cases[i].http, cases[i].code);
}
END_TEST

static const char *fmt(double v, const char *step, exchange_round mode)
{
    static char out[EXCHANGE_DEC];
    if (exchange_format_decimal(v, step, mode, out, sizeof out) != 0)
        return "ERR";
    return out;
}

START_TEST(decimals_fit_the_step)
{
    ck_assert_str_eq(fmt(0.0123456, "0.00100000", EXCHANGE_ROUND_DOWN), "0.012");
    ck_assert_str_eq(fmt(0.0123456, "0.00100000", EXCHANGE_ROUND_UP), "0.013");
    ck_assert_str_eq(fmt(0.0123456, "0.00100000", EXCHANGE_ROUND_NEAREST), "0.012");
    ck_assert_str_eq(fmt(0.0125001, "0.001", EXCHANGE_ROUND_NEAREST), "0.013");
    /* binary noise is not a step short: 0.1 + 0.2 is 0.30000000000000004, 0.3 is 0.2999999999999999889 */
    ck_assert_str_eq(fmt(0.3, "0.1", EXCHANGE_ROUND_DOWN), "0.3");
    ck_assert_str_eq(fmt(0.1 + 0.2, "0.1", EXCHANGE_ROUND_UP), "0.3");
    ck_assert_str_eq(fmt(1.0 - 0.9, "0.01000000", EXCHANGE_ROUND_DOWN), "0.10");
    ck_assert_str_eq(fmt(41999.996, "0.01000000", EXCHANGE_ROUND_NEAREST), "42000.00");
    /* steps above one, and a step with trailing zeros */
    ck_assert_str_eq(fmt(12.5, "5", EXCHANGE_ROUND_DOWN), "10");
    ck_assert_str_eq(fmt(12.5, "5", EXCHANGE_ROUND_UP), "15");
    ck_assert_str_eq(fmt(7, "10.00000000", EXCHANGE_ROUND_DOWN), "0");
    ck_assert_str_eq(fmt(3.7, "1.00000000", EXCHANGE_ROUND_DOWN), "3");
    ck_assert_str_eq(fmt(1.74, "0.5", EXCHANGE_ROUND_DOWN), "1.5");
    ck_assert_str_eq(fmt(1.74, "0.25", EXCHANGE_ROUND_DOWN), "1.50");
    /* eight decimals, small and large values */
    ck_assert_str_eq(fmt(0.00000001, "0.00000001", EXCHANGE_ROUND_DOWN), "0.00000001");
    ck_assert_str_eq(fmt(0.000000009, "0.00000001", EXCHANGE_ROUND_DOWN), "0.00000000");
    ck_assert_str_eq(fmt(123456789.12345678, "0.00000001", EXCHANGE_ROUND_DOWN), "123456789.12345678");
    ck_assert_str_eq(fmt(0, "0.001", EXCHANGE_ROUND_DOWN), "0.000");
    /* refusals */
    ck_assert_str_eq(fmt(1, "0", EXCHANGE_ROUND_DOWN), "ERR");
    ck_assert_str_eq(fmt(1, "0.00000000", EXCHANGE_ROUND_DOWN), "ERR");
    ck_assert_str_eq(fmt(1, "1e-3", EXCHANGE_ROUND_DOWN), "ERR");
    ck_assert_str_eq(fmt(1, "-0.1", EXCHANGE_ROUND_DOWN), "ERR");
    ck_assert_str_eq(fmt(1, "0.1.2", EXCHANGE_ROUND_DOWN), "ERR");
    ck_assert_str_eq(fmt(1, "", EXCHANGE_ROUND_DOWN), "ERR");
    ck_assert_str_eq(fmt(-1, "0.1", EXCHANGE_ROUND_DOWN), "ERR");
    ck_assert_str_eq(fmt(NAN, "0.1", EXCHANGE_ROUND_DOWN), "ERR");
    ck_assert_str_eq(fmt(INFINITY, "0.1", EXCHANGE_ROUND_DOWN), "ERR");
    ck_assert_str_eq(fmt(1e300, "0.1", EXCHANGE_ROUND_DOWN), "ERR");
    char small[4];
    ck_assert_int_eq(exchange_format_decimal(12.5, "0.01", EXCHANGE_ROUND_DOWN, small, sizeof small), -1);
}
END_TEST

START_TEST(orders_fit_the_symbol_filters)
{
    exchange_symbol si = {.symbol = "BTCUSDT", .base = "BTC", .quote = "USDT"};
    strcpy(si.step_size, "0.00001000");
    strcpy(si.min_qty, "0.00001000");
    strcpy(si.tick_size, "0.01000000");
    strcpy(si.min_price, "0.01000000");
    strcpy(si.min_notional, "5.00000000");
    char q[EXCHANGE_DEC], p[EXCHANGE_DEC], why[200];
    ck_assert_int_eq(exchange_fit_order(&si, 0.0123456, 41000.006, q, p, why, sizeof why), 0);
    ck_assert_str_eq(q, "0.01234");
    ck_assert_str_eq(p, "41000.01");
    /* a market order: no price, no notional check here */
    ck_assert_int_eq(exchange_fit_order(&si, 0.5, 0, q, p, why, sizeof why), 0);
    ck_assert_str_eq(q, "0.50000");
    ck_assert_str_eq(p, "");
    /* below the step after rounding down, below the minimum value, nonsense */
    ck_assert_int_eq(exchange_fit_order(&si, 0.000009, 41000, q, p, why, sizeof why), EXCHANGE_ERR_REJECTED);
    ck_assert_ptr_nonnull(strstr(why, "minimum"));
    ck_assert_int_eq(exchange_fit_order(&si, 0.0001, 100, q, p, why, sizeof why), EXCHANGE_ERR_REJECTED);
    ck_assert_ptr_nonnull(strstr(why, "notional"));
    ck_assert_int_eq(exchange_fit_order(&si, -1, 100, q, p, why, sizeof why), EXCHANGE_ERR_INVALID);
    ck_assert_int_eq(exchange_fit_order(&si, NAN, 100, q, p, why, sizeof why), EXCHANGE_ERR_INVALID);
}
END_TEST

START_TEST(client_ids)
{
    ck_assert(exchange_client_id_ok("bcf-0123abcd"));
    ck_assert(exchange_client_id_ok("A_b-9"));
    ck_assert(exchange_client_id_ok("x"));
    ck_assert(exchange_client_id_ok("123456789012345678901234567890123456"));
    ck_assert(!exchange_client_id_ok("1234567890123456789012345678901234567"));
    ck_assert(!exchange_client_id_ok(""));
    ck_assert(!exchange_client_id_ok(NULL));
    ck_assert(!exchange_client_id_ok("has space"));
    ck_assert(!exchange_client_id_ok("a&b=c"));
    ck_assert(!exchange_client_id_ok("a.b"));
}
END_TEST

START_TEST(factory_by_name)
{
    ck_assert_ptr_nonnull(exchange_find("binance"));
    ck_assert_str_eq(exchange_find("binance")->name, "binance");
    ck_assert_ptr_null(exchange_find("bybit"));
    ck_assert_ptr_null(exchange_find("Binance"));
    ck_assert_ptr_null(exchange_find(NULL));
    ck_assert_ptr_null(exchange_open("mtgox", NULL));
    exchange_credentials c = {"key-0123456789", "secret-0123456789", NULL};
    exchange *ex = exchange_open("binance", &c);
    ck_assert_ptr_nonnull(ex);
    /* the copies are the adapter's own: the caller's buffers may be wiped at once */
    ck_assert_ptr_ne(ex->api_key, c.api_key);
    ck_assert_str_eq(ex->api_secret, "secret-0123456789");
    ck_assert_ptr_null(ex->passphrase);
    /* arguments are checked before anything is sent */
    exchange_price t;
    ck_assert_int_eq(exchange_ticker(ex, "btc/usdt", &t), EXCHANGE_ERR_INVALID);
    ck_assert_int_eq(exchange_last_error(ex)->err, EXCHANGE_ERR_INVALID);
    exchange_order_req rq = {.symbol = "BTCUSDT", .type = EXCHANGE_LIMIT, .quantity = "1", .price = "1"};
    exchange_order o;
    ck_assert_int_eq(exchange_place_order(ex, &rq, &o), EXCHANGE_ERR_INVALID); /* no client id */
    rq.client_order_id = "ok-id";
    rq.price = "1e5";
    ck_assert_int_eq(exchange_place_order(ex, &rq, &o), EXCHANGE_ERR_INVALID);
    candle *rows;
    size_t n;
    ck_assert_int_eq(exchange_klines(ex, "BTCUSDT", "2h", 0, 1, 10, &rows, &n), EXCHANGE_ERR_INVALID);
    exchange_close(ex);
    ck_assert_str_eq(exchange_err_name(EXCHANGE_ERR_AUTH), "auth");
    ck_assert_str_eq(exchange_err_name(EXCHANGE_ERR_UNKNOWN), "unknown_outcome");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("exchange");
    UNIT_ADD(s, signature_matches_binance_documentation);
    UNIT_ADD(s, binance_codes_map_to_our_errors);
    UNIT_ADD(s, decimals_fit_the_step);
    UNIT_ADD(s, orders_fit_the_symbol_filters);
    UNIT_ADD(s, client_ids);
    UNIT_ADD(s, factory_by_name);
    return unit_run(s);
}
