/* test_report.c — unit tests of lib/trading/report.c and report_json.c: every metric on a small
 * hand-computed result, the undefined cases (no trades, no losses, a flat curve) as JSON null,
 * months, curve sampling, and a full backtest's report checked against its own invariants. */
#include "backtest.h"
#include "report.h"
#include "synth.h"
#include "unit.h"
#include <math.h>

#define H 3600000LL
#define D 86400000LL
#define JAN29 1706486400000LL /* 2024-01-29T00:00:00Z */

#define NEAR(got, want)                                                                            \
    ck_assert_msg(fabs((double)(got) - (double)(want)) <= 1e-9 * fmax(1.0, fabs((double)(want))),          \
                  "%s = %.17g, expected %.17g", #got, (double)(got), (double)(want))

static bt_trade trade(int64_t id, int64_t entry, int64_t hours, double pnl, double pct, int reason)
{
    bt_trade t;
    memset(&t, 0, sizeof t);
    t.id = id;
    t.entry_time = entry;
    t.exit_time = entry + hours * H;
    t.reason = reason;
    t.pnl = pnl;
    t.pnl_pct = pct;
    t.cost = 1000;
    t.qty = 1;
    t.entry_price = 100;
    t.exit_price = 100 + pct;
    return t;
}

/* Daily candles from 2024-01-29: equity closes on Jan 30, Jan 31, Feb 1 (the close of Jan 31's
 * candle, January's), Feb 2, Feb 3; five trades, two winners, two losers and a draw. */
static int64_t times[5];
static double equity[5];
static bt_trade trades[5];

static void hand_result(bt_result *r)
{
    memset(r, 0, sizeof *r);
    engine_config_defaults(&r->cfg, STRATEGY_SMA_CROSS);
    r->cfg.timeframe_ms = D;
    r->nsymbols = 2;
    r->initial_balance = 1000;
    r->final_equity = 1200;
    const double eq[5] = {1100, 990, 1045, 1210, 1200};
    for (int i = 0; i < 5; i++) {
        times[i] = JAN29 + (i + 1) * D;
        equity[i] = eq[i];
    }
    r->times = times;
    r->equity = equity;
    r->npoints = 5;
    r->exposed_points = 3;
    r->start_time = JAN29;
    r->end_time = JAN29 + 5 * D;
    r->candles = 10;
    r->fees_paid = 12.5;
    r->first_open[0] = 100;
    r->last_close[0] = 120;
    r->first_open[1] = 50;
    r->last_close[1] = 45;
    trades[0] = trade(1, JAN29, 2, 100, 10, EXIT_SIGNAL);
    trades[1] = trade(2, JAN29 + D, 1, -50, -5, EXIT_STOP_LOSS);
    trades[2] = trade(3, JAN29 + 2 * D, 4, -20, -2, EXIT_STOP_LOSS);       /* exits Jan 31 */
    trades[3] = trade(4, JAN29 + 3 * D + 2 * H, 3, 30, 3, EXIT_TAKE_PROFIT); /* exits Feb 1 */
    trades[4] = trade(5, JAN29 + 4 * D, 1, 0, 0, EXIT_END_OF_DATA);
    r->trades = trades;
    r->ntrades = 5;
}

START_TEST(test_hand_computed)
{
    bt_result r;
    bt_metrics m;
    hand_result(&r);
    ck_assert_int_eq(bt_metrics_compute(&r, &m), 0);
    NEAR(m.profit_abs, 200);
    NEAR(m.profit_pct, 20);
    /* returns 0.1, -0.1, 0.0555.., 0.1578.., -0.00826..: mean 0.0410371659; sample sd; 365 periods */
    NEAR(m.periods_per_year, 365);
    NEAR(m.sharpe, 7.873155551666778);
    NEAR(m.sortino, 17.471520084277657);
    NEAR(m.years, 5.0 / 365);
    NEAR(m.cagr_pct, 60287911.75788565); /* 1.2^(365/5) − 1: five days annualised */
    NEAR(m.max_drawdown_abs, 110);       /* 1100 → 990 */
    NEAR(m.max_drawdown_pct, 10);
    ck_assert_int_eq(m.drawdown_peak_time, times[0]);
    ck_assert_int_eq(m.drawdown_trough_time, times[1]);
    NEAR(m.calmar, 6028791.175788565);
    ck_assert_int_eq(m.trades, 5);
    ck_assert_int_eq(m.wins, 2);
    ck_assert_int_eq(m.losses, 2);
    ck_assert_int_eq(m.draws, 1);
    NEAR(m.win_rate_pct, 40);
    NEAR(m.gross_profit, 130);
    NEAR(m.gross_loss, 70);
    NEAR(m.profit_factor, 130.0 / 70.0);
    NEAR(m.expectancy, 12);
    NEAR(m.expectancy_pct, 1.2);
    NEAR(m.avg_win, 65);
    NEAR(m.avg_loss, 35);
    NEAR(m.avg_duration_ms, 2.2 * H);
    NEAR(m.avg_win_duration_ms, 2.5 * H);
    NEAR(m.avg_loss_duration_ms, 2.5 * H);
    NEAR(m.best_trade_pct, 10);
    NEAR(m.worst_trade_pct, -5);
    NEAR(m.best_trade_abs, 100);
    NEAR(m.worst_trade_abs, -50);
    ck_assert_int_eq(m.max_consecutive_wins, 1); /* W L L W D */
    ck_assert_int_eq(m.max_consecutive_losses, 2);
    NEAR(m.exposure_pct, 60);
    NEAR(m.market_change_pct, 5); /* (+20% − 10%) / 2 */
    NEAR(m.total_fees, 12.5);
    ck_assert_int_eq(m.reasons[EXIT_SIGNAL].trades, 1);
    ck_assert_int_eq(m.reasons[EXIT_STOP_LOSS].trades, 2);
    ck_assert_int_eq(m.reasons[EXIT_STOP_LOSS].losses, 2);
    NEAR(m.reasons[EXIT_STOP_LOSS].pnl, -70);
    NEAR(m.reasons[EXIT_STOP_LOSS].avg_pnl_pct, -3.5);
    ck_assert_int_eq(m.reasons[EXIT_TRAILING_STOP].trades, 0);
    ck_assert(isnan(m.reasons[EXIT_TRAILING_STOP].avg_pnl_pct));
    /* January: points to Feb 1 00:00 (the close of Jan 31), three trades; February: two */
    ck_assert_uint_eq(m.nmonths, 2);
    ck_assert_int_eq(m.months[0].start, 1704067200000LL);
    ck_assert_int_eq(m.months[1].start, 1706745600000LL);
    ck_assert_int_eq(m.months[0].trades, 3);
    ck_assert_int_eq(m.months[1].trades, 2);
    ck_assert_int_eq(m.months[0].losses, 2);
    NEAR(m.months[0].pnl, 30);
    NEAR(m.months[1].pnl, 30);
    NEAR(m.months[0].start_equity, 1000);
    NEAR(m.months[0].end_equity, 1045);
    NEAR(m.months[0].return_pct, 4.5);
    NEAR(m.months[1].start_equity, 1045);
    NEAR(m.months[1].end_equity, 1200);
    NEAR(m.months[1].return_pct, 14.832535885167463);

    json_t *j = bt_report_json(&r, &m, (const char *const[]){"BTCUSDT", "ETHUSDT"}, 100);
    ck_assert_ptr_nonnull(j);
    json_t *sum = json_object_get(j, "summary");
    NEAR(json_number_value(json_object_get(sum, "profit_factor")), 130.0 / 70.0);
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "trades")), 5);
    json_t *months = json_object_get(j, "monthly");
    ck_assert_uint_eq(json_array_size(months), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(months, 0), "month")), "2024-01");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(months, 1), "month")), "2024-02");
    json_t *reasons = json_object_get(j, "exit_reasons");
    ck_assert_uint_eq(json_array_size(reasons), 4); /* only reasons that closed something */
    json_t *tr = json_array_get(json_object_get(j, "trades"), 1);
    ck_assert_str_eq(json_string_value(json_object_get(tr, "exit_reason")), "stop_loss");
    ck_assert_str_eq(json_string_value(json_object_get(tr, "symbol")), "BTCUSDT");
    ck_assert_int_eq(json_integer_value(json_object_get(tr, "duration_ms")), H);
    json_t *dd = json_object_get(json_object_get(j, "drawdown_curve"), "drawdown_pct");
    ck_assert_uint_eq(json_array_size(dd), 5);
    NEAR(json_number_value(json_array_get(dd, 1)), 10);
    NEAR(json_number_value(json_array_get(dd, 0)), 0);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "config"), "strategy")), "sma_cross");
    json_decref(j);
    bt_metrics_free(&m);
}
END_TEST

/* Dumps j and checks it is strict JSON (no NaN or Infinity) that reads back. */
static void assert_strict_json(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    ck_assert_ptr_nonnull(s);
    ck_assert_msg(!strstr(s, "nan") && !strstr(s, "NaN") && !strstr(s, "inf") && !strstr(s, "Inf"),
                  "non-finite number in %.300s", s);
    json_error_t e;
    json_t *back = json_loads(s, JSON_DECODE_ANY, &e);
    ck_assert_msg(back != NULL, "report does not parse back: %s", e.text);
    json_decref(back);
    free(s);
}

START_TEST(test_undefined_metrics)
{
    bt_result r;
    bt_metrics m;
    /* no trades and a flat curve */
    hand_result(&r);
    for (int i = 0; i < 5; i++)
        equity[i] = 1000;
    r.final_equity = 1000;
    r.ntrades = 0;
    ck_assert_int_eq(bt_metrics_compute(&r, &m), 0);
    ck_assert(isnan(m.profit_factor) && isnan(m.win_rate_pct) && isnan(m.expectancy) && isnan(m.best_trade_pct) &&
              isnan(m.avg_win_duration_ms) && isnan(m.sharpe) && isnan(m.sortino) && isnan(m.calmar));
    ck_assert(m.max_drawdown_pct == 0 && m.cagr_pct == 0);
    json_t *j = bt_report_json(&r, &m, NULL, 100);
    ck_assert_ptr_nonnull(j);
    assert_strict_json(j);
    json_t *sum = json_object_get(j, "summary");
    const char *nulls[] = {"profit_factor", "win_rate_pct", "expectancy", "sharpe", "sortino", "calmar",
                           "best_trade_pct", "worst_trade_pct", "avg_loss_duration_ms", "drawdown_peak_time"};
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        ck_assert_msg(json_is_null(json_object_get(sum, nulls[i])), "%s is not null", nulls[i]);
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "trades")), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "trades")), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "exit_reasons")), 0);
    json_decref(j);
    bt_metrics_free(&m);

    /* winners only: no profit factor (not infinity); only gains: no Sortino */
    hand_result(&r);
    const double up[5] = {1010, 1020, 1030, 1040, 1050};
    for (int i = 0; i < 5; i++)
        equity[i] = up[i];
    r.final_equity = 1050;
    trades[0] = trade(1, JAN29, 2, 25, 2.5, EXIT_SIGNAL);
    trades[1] = trade(2, JAN29 + D, 2, 25, 2.5, EXIT_ROI);
    r.ntrades = 2;
    ck_assert_int_eq(bt_metrics_compute(&r, &m), 0);
    ck_assert(isnan(m.profit_factor));
    ck_assert(isnan(m.sortino));
    ck_assert(isfinite(m.sharpe) && m.sharpe > 0);
    ck_assert_int_eq(m.max_consecutive_wins, 2);
    NEAR(m.win_rate_pct, 100);
    j = bt_report_json(&r, &m, NULL, 100);
    assert_strict_json(j);
    ck_assert(json_is_null(json_object_get(json_object_get(j, "summary"), "profit_factor")));
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(j, "trades"), 0), "symbol")),
                     "0");
    json_decref(j);
    bt_metrics_free(&m);

    /* a run of no length: no CAGR; an infinite CAGR (a tiny run with a big gain) becomes null */
    hand_result(&r);
    r.end_time = r.start_time;
    ck_assert_int_eq(bt_metrics_compute(&r, &m), 0);
    ck_assert(isnan(m.cagr_pct) && isnan(m.calmar));
    bt_metrics_free(&m);
    hand_result(&r);
    r.end_time = r.start_time + 1;
    r.final_equity = 5000;
    ck_assert_int_eq(bt_metrics_compute(&r, &m), 0);
    ck_assert(isnan(m.cagr_pct));
    j = bt_report_json(&r, &m, NULL, 100);
    assert_strict_json(j);
    json_decref(j);
    bt_metrics_free(&m);
}
END_TEST

START_TEST(test_curve_sample)
{
    enum { N = 1000 };
    static int64_t t[N];
    static double eq[N];
    bt_result r;
    memset(&r, 0, sizeof r);
    r.initial_balance = 100;
    for (int i = 0; i < N; i++) {
        t[i] = JAN29 + (i + 1) * H;
        eq[i] = 100 + 0.01 * i;
    }
    eq[537] = 60; /* the deepest point, in the middle of a bucket */
    r.times = t;
    r.equity = eq;
    r.npoints = N;
    size_t idx[N];
    size_t k = bt_curve_sample(&r, 50, idx);
    ck_assert_uint_le(k, 50);
    ck_assert_uint_ge(k, 40);
    int has_trough = 0;
    for (size_t i = 0; i < k; i++) {
        if (i)
            ck_assert_uint_gt(idx[i], idx[i - 1]);
        has_trough |= idx[i] == 537;
    }
    ck_assert_msg(has_trough, "the maximum drawdown point was dropped");
    ck_assert_uint_eq(idx[k - 1], N - 1);
    ck_assert_uint_eq(bt_curve_sample(&r, 2000, idx), N);
    ck_assert_uint_eq(idx[999], 999);
    ck_assert_uint_le(bt_curve_sample(&r, 0, idx), 2);
}
END_TEST

/* A real backtest: the report must agree with itself. */
START_TEST(test_backtest_report)
{
    enum { N = 20000 };
    static candle c[2][N];
    for (int s = 0; s < 2; s++) {
        synth_params p;
        synth_defaults(&p);
        p.seed = 99 + (uint64_t)s;
        p.tf_ms = H;
        p.start_ms = 1704067200000LL;
        ck_assert_int_eq(synth_generate(&p, c[s], N, NULL), 0);
    }
    engine_config cfg;
    engine_config_defaults(&cfg, STRATEGY_EMA_CROSS);
    cfg.risk.max_open_trades = 2;
    cfg.risk.stake_pct = 50;
    cfg.risk.stop_loss_pct = 2;
    cfg.risk.trailing_stop_pct = 1;
    cfg.risk.trailing_offset_pct = 1.5;
    bt_series s[2] = {{c[0], N}, {c[1], N}};
    bt_result r;
    bt_metrics m;
    char err[160];
    ck_assert_int_eq(backtest_run(&cfg, s, 2, 50000, NULL, NULL, &r, err, sizeof err), 0);
    ck_assert_int_eq(bt_metrics_compute(&r, &m), 0);
    ck_assert_int_gt(m.trades, 50);
    double pnl = 0, fees = 0;
    for (size_t i = 0; i < r.ntrades; i++) {
        pnl += r.trades[i].pnl;
        fees += r.trades[i].fees;
    }
    /* everything is closed at the end: the trades' pnl is the whole profit, their fees all fees */
    ck_assert(fabs(pnl - m.profit_abs) < 1e-6);
    ck_assert(fabs(fees - m.total_fees) < 1e-6);
    ck_assert_int_eq(m.wins + m.losses + m.draws, m.trades);
    int64_t by_reason = 0, by_month = 0;
    for (int k = 0; k < EXIT_REASON_COUNT; k++)
        by_reason += m.reasons[k].trades;
    double month_pnl = 0;
    for (size_t i = 0; i < m.nmonths; i++) {
        by_month += m.months[i].trades;
        month_pnl += m.months[i].pnl;
        if (i)
            ck_assert(m.months[i].start_equity == m.months[i - 1].end_equity);
    }
    ck_assert_int_eq(by_reason, m.trades);
    ck_assert_int_eq(by_month, m.trades);
    ck_assert(fabs(month_pnl - pnl) < 1e-6);
    ck_assert(m.months[m.nmonths - 1].end_equity == r.final_equity);
    ck_assert_uint_eq(m.nmonths, 28); /* 20000 hours from 2024-01-01: to 2026-04 */
    ck_assert(m.max_drawdown_pct > 0 && m.max_drawdown_pct < 100);
    ck_assert(m.exposure_pct > 0 && m.exposure_pct < 100);
    ck_assert(m.reasons[EXIT_STOP_LOSS].trades > 0 && m.reasons[EXIT_TRAILING_STOP].trades > 0);
    json_t *j = bt_report_json(&r, &m, NULL, 300);
    ck_assert_ptr_nonnull(j);
    assert_strict_json(j);
    json_t *eq = json_object_get(json_object_get(j, "equity_curve"), "equity");
    ck_assert_uint_le(json_array_size(eq), 300);
    ck_assert(json_number_value(json_array_get(eq, json_array_size(eq) - 1)) == r.final_equity);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "trades")), r.ntrades);
    json_decref(j);
    bt_metrics_free(&m);
    bt_result_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("report");
    UNIT_ADD(s, test_hand_computed);
    UNIT_ADD(s, test_undefined_metrics);
    UNIT_ADD(s, test_curve_sample);
    TCase *tc = tcase_create("test_backtest_report");
    tcase_set_timeout(tc, 120); /* a ceiling for sanitizer builds, not a speed assertion */
    tcase_add_test(tc, test_backtest_report);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
