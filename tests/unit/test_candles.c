/* test_candles.c — unit tests for lib/trading/candles.c (CSV parsing, validation, timeframes)
 * and lib/trading/synth.c (determinism, OHLC invariants, regime switching). */
#include "candles.h"
#include "synth.h"
#include "unit.h"
#include <math.h>
#include <stdint.h>

#define H 3600000LL
/* 2024-01-01T00:00:00Z */
#define JAN1 1704067200000LL

/* Parses text, expecting failure; returns the number of errors and fills errs. */
static size_t parse_bad(candle_format fmt, const char *text, int64_t tf, candle_error *errs, size_t max)
{
    candle *rows = (candle *)1;
    size_t n = 99, nerr = 0;
    ck_assert_int_eq(candles_parse(fmt, text, strlen(text), tf, &rows, &n, errs, max, &nerr), -1);
    ck_assert_ptr_null(rows);
    ck_assert_uint_eq(n, 0);
    return nerr;
}

static void assert_one_error(candle_format fmt, const char *text, int line, const char *reason_part)
{
    candle_error errs[4];
    size_t nerr = parse_bad(fmt, text, H, errs, 4);
    ck_assert_uint_eq(nerr, 1);
    ck_assert_int_eq(errs[0].line, line);
    ck_assert_msg(strstr(errs[0].reason, reason_part), "reason '%s' lacks '%s'", errs[0].reason, reason_part);
}

START_TEST(test_timeframes)
{
    ck_assert_int_eq(candle_timeframe_ms("1m"), 60000);
    ck_assert_int_eq(candle_timeframe_ms("5m"), 300000);
    ck_assert_int_eq(candle_timeframe_ms("15m"), 900000);
    ck_assert_int_eq(candle_timeframe_ms("1h"), 3600000);
    ck_assert_int_eq(candle_timeframe_ms("4h"), 14400000);
    ck_assert_int_eq(candle_timeframe_ms("1d"), 86400000);
    ck_assert_int_eq(candle_timeframe_ms("2h"), 0);
    ck_assert_int_eq(candle_timeframe_ms("1H"), 0);
    ck_assert_int_eq(candle_timeframe_ms(""), 0);
    ck_assert_int_eq(candle_timeframe_ms(NULL), 0);
    candle_format f;
    ck_assert_int_eq(candle_format_parse("binance", &f), 0);
    ck_assert_int_eq(f, CANDLE_FORMAT_BINANCE);
    ck_assert_int_eq(candle_format_parse("generic", &f), 0);
    ck_assert_int_eq(f, CANDLE_FORMAT_GENERIC);
    ck_assert_int_eq(candle_format_parse("csv", &f), -1);
}
END_TEST

START_TEST(test_times_and_months)
{
    int64_t ms;
    ck_assert_int_eq(candle_parse_time("2024-01-02T03:04:05Z", 20, &ms), 0);
    ck_assert_int_eq(ms, 1704164645000LL);
    ck_assert_int_eq(candle_parse_time("2024-01-02T03:04:05.250Z", 24, &ms), 0);
    ck_assert_int_eq(ms, 1704164645250LL);
    ck_assert_int_eq(candle_parse_time("2024-01-02T03:04:05+00:00", 25, &ms), 0);
    ck_assert_int_eq(ms, 1704164645000LL);
    ck_assert_int_eq(candle_parse_time("2024-02-29", 10, &ms), 0);
    ck_assert_int_eq(ms, 1709164800000LL);
    ck_assert_int_eq(candle_parse_time("2023-02-29", 10, &ms), -1);           /* not a leap year */
    ck_assert_int_eq(candle_parse_time("2024-01-02T03:04:05", 19, &ms), -1);  /* no zone */
    ck_assert_int_eq(candle_parse_time("2024-01-02T03:04:05+03:00", 25, &ms), -1);
    ck_assert_int_eq(candle_parse_time("2024-13-01", 10, &ms), -1);
    ck_assert_int_eq(candle_parse_time("2024-01-02T24:00:00Z", 20, &ms), -1);
    ck_assert_int_eq(candle_month_start_ms(JAN1 + 15 * 24 * H + 7), JAN1);
    ck_assert_int_eq(candle_month_start_ms(JAN1 - 1), 1701388800000LL);       /* 2023-12-01 */
    ck_assert_int_eq(candle_month_start_ms(1709164800000LL), 1706745600000LL); /* 2024-02-29 -> 02-01 */
    ck_assert_int_eq(candle_month_start_ms(0), 0);
}
END_TEST

START_TEST(test_binance_ms_and_us)
{
    /* 2024 rows in milliseconds, then 2025 rows in microseconds as in Binance's newer files */
    const char *text = "1704067200000,42283.58,42554.57,42261.02,42475.23,1271.68108,1704070799999,53957248.97,47134,"
                       "682.57581,28957416.82,0\r\n"
                       "1704070800000,42475.23,42775.00,42431.65,42613.56,1196.37856,1704074399999,51000000.1,45000,"
                       "600.1,25000000.2,0\r\n"
                       "1735689600000000,93576.00,94509.42,93489.03,94401.14,1224.16,1735693199999999,1.1e8,1,1,1,0\n"
                       "\n";
    candle *rows = NULL;
    size_t n = 0, nerr = 0;
    candle_error errs[4];
    ck_assert_int_eq(candles_parse(CANDLE_FORMAT_BINANCE, text, strlen(text), H, &rows, &n, errs, 4, &nerr), 0);
    ck_assert_uint_eq(nerr, 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(rows[0].open_time, JAN1);
    ck_assert(rows[0].open == 42283.58 && rows[0].high == 42554.57 && rows[0].low == 42261.02);
    ck_assert(rows[0].close == 42475.23 && rows[0].volume == 1271.68108);
    ck_assert_int_eq(rows[1].open_time, JAN1 + H);
    ck_assert_int_eq(rows[2].open_time, 1735689600000LL);
    ck_assert(rows[2].close == 94401.14);
    free(rows);

    /* a header row, which some tools add, is skipped on the first line only */
    const char *hdr = "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,"
                      "taker_buy_quote_volume,ignore\n"
                      "1704067200000,1,2,0.5,1.5,10,1704070799999,0,0,0,0,0\n";
    ck_assert_int_eq(candles_parse(CANDLE_FORMAT_BINANCE, hdr, strlen(hdr), H, &rows, &n, errs, 4, &nerr), 0);
    ck_assert_uint_eq(n, 1);
    free(rows);
}
END_TEST

START_TEST(test_generic)
{
    const char *text = "timestamp,open,high,low,close,volume\n"
                       "2024-01-01T00:00:00Z,100,110,95,105,12.5\n"
                       "1704070800000, 105 ,106,104,104.5,0\n"
                       "2024-01-01T02:00:00+00:00,104.5,104.5,104.5,104.5,3\n";
    candle *rows = NULL;
    size_t n = 0, nerr = 0;
    candle_error errs[4];
    ck_assert_int_eq(candles_parse(CANDLE_FORMAT_GENERIC, text, strlen(text), H, &rows, &n, errs, 4, &nerr), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(rows[0].open_time, JAN1);
    ck_assert(rows[0].open == 100 && rows[0].high == 110 && rows[0].low == 95 && rows[0].close == 105);
    ck_assert(rows[0].volume == 12.5);
    ck_assert_int_eq(rows[1].open_time, JAN1 + H);
    ck_assert(rows[1].open == 105 && rows[1].volume == 0);
    ck_assert_int_eq(rows[2].open_time, JAN1 + 2 * H);
    free(rows);
}
END_TEST

START_TEST(test_every_error_reason)
{
    const char *hdr = "timestamp,open,high,low,close,volume\n";
    char buf[512];
    assert_one_error(CANDLE_FORMAT_GENERIC, "open,high,low,close,volume\n1704067200000,1,2,0.5,1.5,1\n", 1, "header");
#define G(row, line, why)                                                                         \
    do {                                                                                           \
        snprintf(buf, sizeof buf, "%s1704067200000,1,2,0.5,1.5,1\n%s\n", hdr, row);                \
        assert_one_error(CANDLE_FORMAT_GENERIC, buf, line, why);                                   \
    } while (0)
    G("1704070800000,1,2,0.5,1.5", 3, "expected 6 fields, got 5");
    G("1704070800000,1,2,0.5,1.5,1,7", 3, "expected 6 fields, got 7");
    G("yesterday,1,2,0.5,1.5,1", 3, "bad timestamp");
    G("2024-01-01T01:00:00,1,2,0.5,1.5,1", 3, "bad timestamp");
    G("17040708000000,1,2,0.5,1.5,1", 3, "bad timestamp"); /* 14 digits: neither ms nor µs */
    G("1704070800000,abc,2,0.5,1.5,1", 3, "open is not a number");
    G("1704070800000,1,2,0.5,,1", 3, "close is not a number");
    G("1704070800000,1,2,0.5,1.5,1e999", 3, "volume is not a number");
    G("1704070800000,nan,2,0.5,1.5,1", 3, "open is not a finite number");
    G("1704070800000,1,inf,0.5,1.5,1", 3, "high is not a finite number");
    G("1704070800000,1,1.4,0.5,1.5,1", 3, "high is below max(open, close)");
    G("1704070800000,1,2,1.2,1.5,1", 3, "low is above min(open, close)");
    G("1704070800000,1,2,0,1.5,1", 3, "low must be positive");
    G("1704070800000,1,2,-1,1.5,1", 3, "low must be positive");
    G("1704070800000,1,2,0.5,1.5,-0.1", 3, "volume is negative");
    G("1704070860000,1,2,0.5,1.5,1", 3, "not aligned");
    G("1704067200000,1,2,0.5,1.5,1", 3, "not after the previous");
    G("1704063600000,1,2,0.5,1.5,1", 3, "not after the previous");
#undef G
    assert_one_error(CANDLE_FORMAT_BINANCE, "1704067200000,1,2,0.5,1.5,1,0,0,0,0,0,0\n1704070800000,1,2,0.5,1.5,1\n", 2,
                     "expected 12 fields, got 6");
    /* a µs timestamp that is not a whole millisecond */
    assert_one_error(CANDLE_FORMAT_BINANCE, "1735689600000001,1,2,0.5,1.5,1,0,0,0,0,0,0\n", 1, "bad open time");
}
END_TEST

START_TEST(test_errors_all_lines_counted)
{
    /* bad rows in the middle and at the end: every one is found with its line, the cap on how
     * many are kept does not stop the count, and nothing is returned */
    const char *text = "timestamp,open,high,low,close,volume\n"
                       "2024-01-01T00:00:00Z,1,2,0.5,1.5,1\n"
                       "2024-01-01T01:00:00Z,1,0.9,0.5,1.5,1\n"
                       "\n"
                       "2024-01-01T02:00:00Z,1,2,0.5,1.5,1\n"
                       "2024-01-01T03:00:00Z,1,2,0.5,1.5,x\n"
                       "2024-01-01T03:30:00Z,1,2,0.5,1.5,1\n";
    candle_error errs[2];
    size_t nerr = parse_bad(CANDLE_FORMAT_GENERIC, text, H, errs, 2);
    ck_assert_uint_eq(nerr, 3);
    ck_assert_int_eq(errs[0].line, 3);
    ck_assert_int_eq(errs[1].line, 6);
}
END_TEST

START_TEST(test_check_alignment_per_timeframe)
{
    char why[128];
    candle c = {.open_time = JAN1 + 4 * H, .open = 1, .high = 1, .low = 1, .close = 1, .volume = 0};
    ck_assert_int_eq(candle_check(&c, candle_timeframe_ms("4h"), why, sizeof why), 0);
    ck_assert_int_eq(candle_check(&c, candle_timeframe_ms("1d"), why, sizeof why), -1);
    ck_assert_ptr_nonnull(strstr(why, "not aligned"));
    c.open_time = JAN1 + 15 * 60000;
    ck_assert_int_eq(candle_check(&c, candle_timeframe_ms("15m"), why, sizeof why), 0);
    ck_assert_int_eq(candle_check(&c, candle_timeframe_ms("1h"), why, sizeof why), -1);
    c.open_time = -H;
    ck_assert_int_eq(candle_check(&c, H, why, sizeof why), -1);
}
END_TEST

static candle *synth_series(uint64_t seed, size_t n, unsigned char *regimes)
{
    synth_params p;
    synth_defaults(&p);
    p.seed = seed;
    p.start_ms = JAN1;
    p.tf_ms = H;
    candle *out = malloc(n * sizeof *out);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(synth_generate(&p, out, n, regimes), 0);
    return out;
}

START_TEST(test_rng_known_values)
{
    /* splitmix64 seeding and xoshiro256** output pinned: a change here changes every series */
    synth_rng r;
    synth_rng_seed(&r, 0);
    ck_assert_uint_eq(r.s[0], 0xe220a8397b1dcdafULL); /* splitmix64(0), the published first value */
    uint64_t a = synth_rng_next(&r), b = synth_rng_next(&r);
    ck_assert_uint_ne(a, b);
    synth_rng_seed(&r, 0);
    ck_assert_uint_eq(synth_rng_next(&r), a);
    for (int i = 0; i < 10000; i++) {
        double u = synth_rng_uniform(&r);
        ck_assert(u >= 0.0 && u < 1.0);
    }
    /* the normals have about zero mean and unit variance */
    double sum = 0, sq = 0;
    for (int i = 0; i < 100000; i++) {
        double z = synth_rng_normal(&r);
        sum += z;
        sq += z * z;
    }
    ck_assert(fabs(sum / 100000) < 0.02);
    ck_assert(fabs(sq / 100000 - 1.0) < 0.03);
}
END_TEST

START_TEST(test_synth_deterministic)
{
    size_t n = 5000;
    candle *a = synth_series(42, n, NULL), *b = synth_series(42, n, NULL), *c = synth_series(43, n, NULL);
    ck_assert_int_eq(memcmp(a, b, n * sizeof *a), 0);
    ck_assert_int_ne(memcmp(a, c, n * sizeof *a), 0);
    ck_assert(a[0].open == 40000.0);
    ck_assert_int_eq(a[0].open_time, JAN1);
    ck_assert_int_eq(a[n - 1].open_time, JAN1 + (int64_t)(n - 1) * H);
    /* a prefix of a longer series is the shorter series */
    candle *p = synth_series(42, 100, NULL);
    ck_assert_int_eq(memcmp(a, p, 100 * sizeof *a), 0);
    free(a);
    free(b);
    free(c);
    free(p);
}
END_TEST

START_TEST(test_synth_invariants_and_regimes)
{
    size_t n = 100000;
    unsigned char *reg = malloc(n);
    candle *s = synth_series(7, n, reg);
    int seen[3] = {0};
    size_t switches = 0;
    char why[128];
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(candle_check(&s[i], H, why, sizeof why) == 0, "candle %zu: %s", i, why);
        ck_assert(s[i].low > 0 && s[i].high >= s[i].low && s[i].volume > 0);
        if (i > 0) {
            ck_assert(s[i].open == s[i - 1].close);
            ck_assert_int_eq(s[i].open_time - s[i - 1].open_time, H);
            switches += reg[i] != reg[i - 1];
        }
        ck_assert_uint_lt(reg[i], 3);
        seen[reg[i]] = 1;
    }
    ck_assert_msg(seen[0] && seen[1] && seen[2], "every regime visited");
    /* switch probability 0.002 over 100k candles: about 200 switches */
    ck_assert_uint_gt(switches, 100);
    ck_assert_uint_lt(switches, 400);
    free(s);
    free(reg);
}
END_TEST

START_TEST(test_synth_bad_params)
{
    synth_params p;
    synth_defaults(&p);
    candle c[1];
    p.start_ms = JAN1;
    p.tf_ms = 0;
    ck_assert_int_eq(synth_generate(&p, c, 1, NULL), -1);
    p.tf_ms = H;
    p.start_price = 0;
    ck_assert_int_eq(synth_generate(&p, c, 1, NULL), -1);
    p.start_price = 1;
    p.switch_prob = 1.5;
    ck_assert_int_eq(synth_generate(&p, c, 1, NULL), -1);
    p.switch_prob = 0;
    ck_assert_int_eq(synth_generate(&p, c, 1, NULL), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("candles");
    UNIT_ADD(s, test_timeframes);
    UNIT_ADD(s, test_times_and_months);
    UNIT_ADD(s, test_binance_ms_and_us);
    UNIT_ADD(s, test_generic);
    UNIT_ADD(s, test_every_error_reason);
    UNIT_ADD(s, test_errors_all_lines_counted);
    UNIT_ADD(s, test_check_alignment_per_timeframe);
    UNIT_ADD(s, test_rng_known_values);
    UNIT_ADD(s, test_synth_deterministic);
    UNIT_ADD(s, test_synth_invariants_and_regimes);
    UNIT_ADD(s, test_synth_bad_params);
    return unit_run(s);
}
