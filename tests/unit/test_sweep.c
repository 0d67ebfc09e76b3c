/* test_sweep.c — unit tests of the sweep kernel and the CPU sweep (lib/trading/sweep*): the kernel
 * equals the engine's backtest for random configs of every covered strategy, threads change nothing. */
#include "backtest.h"
#include "report.h"
#include "sweep.h"
#include "synth.h"
#include "unit.h"
#include <math.h>

#define H 3600000LL
#define T0 1704067200000LL

static candle *make_candles(size_t n, uint64_t seed)
{
    synth_params p;
    synth_defaults(&p);
    p.seed = seed;
    p.start_ms = T0;
    p.tf_ms = H;
    p.switch_prob = 0.01;
    candle *c = malloc(n * sizeof *c);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(synth_generate(&p, c, n, NULL), 0);
    return c;
}

/* A random valid config of kind k, with random risk controls on about half of the draws. */
static void random_config(engine_config *c, int kind, synth_rng *r)
{
    ck_assert_int_eq(engine_config_defaults(c, kind), 0);
    double u = synth_rng_uniform(r);
    switch (kind) {
    case STRATEGY_SMA_CROSS:
    case STRATEGY_EMA_CROSS:
        c->params[STRAT_CROSS_FAST] = 2 + (int)(u * 20);
        c->params[STRAT_CROSS_SLOW] = c->params[STRAT_CROSS_FAST] + 1 + (int)(synth_rng_uniform(r) * 60);
        break;
    case STRATEGY_RSI_REVERSION:
        c->params[STRAT_RSI_PERIOD] = 2 + (int)(u * 30);
        c->params[STRAT_RSI_OVERSOLD] = 15 + (int)(synth_rng_uniform(r) * 20);
        c->params[STRAT_RSI_OVERBOUGHT] = 60 + (int)(synth_rng_uniform(r) * 25);
        break;
    case STRATEGY_BOLLINGER_BREAKOUT:
        c->params[STRAT_BB_PERIOD] = 5 + (int)(u * 40);
        c->params[STRAT_BB_K] = 1.0 + synth_rng_uniform(r) * 2;
        c->params[STRAT_BB_EXIT_MIDDLE] = synth_rng_uniform(r) < 0.5;
        break;
    case STRATEGY_MACD_TREND:
        c->params[STRAT_MACD_FAST] = 3 + (int)(u * 12);
        c->params[STRAT_MACD_SLOW] = c->params[STRAT_MACD_FAST] + 2 + (int)(synth_rng_uniform(r) * 20);
        c->params[STRAT_MACD_SIGNAL] = 2 + (int)(synth_rng_uniform(r) * 10);
        c->params[STRAT_MACD_ZERO_FILTER] = synth_rng_uniform(r) < 0.5;
        break;
    }
    if (synth_rng_uniform(r) < 0.5) {
        c->risk.stop_loss_pct = synth_rng_uniform(r) < 0.6 ? 1 + synth_rng_uniform(r) * 5 : 0;
        c->risk.take_profit_pct = synth_rng_uniform(r) < 0.6 ? 1 + synth_rng_uniform(r) * 8 : 0;
        if (synth_rng_uniform(r) < 0.5) {
            c->risk.trailing_stop_pct = 0.5 + synth_rng_uniform(r) * 3;
            c->risk.trailing_offset_pct = synth_rng_uniform(r) * 2;
        }
        if (synth_rng_uniform(r) < 0.3) {
            c->risk.roi_count = 2;
            c->risk.roi[0] = (roi_row){0, 6};
            c->risk.roi[1] = (roi_row){600, 1};
        }
        c->risk.cooldown_candles = synth_rng_uniform(r) < 0.5 ? (int)(synth_rng_uniform(r) * 10) : 0;
        c->risk.stake_pct = 20 + synth_rng_uniform(r) * 80;
    }
    c->costs.fee_bps = synth_rng_uniform(r) * 20;
    c->costs.slippage_bps = synth_rng_uniform(r) * 10;
    char err[128];
    ck_assert_msg(engine_config_check(c, err, sizeof err) == 0, "config: %s", err);
}

static void assert_close(double a, double b, double rel, const char *what)
{
    if (isnan(a) || isnan(b)) {
        ck_assert_msg(isnan(a) && isnan(b), "%s: %.17g vs %.17g", what, a, b);
        return;
    }
    double scale = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    ck_assert_msg(fabs(a - b) <= rel * (scale > 1e-12 ? scale : 1e-12), "%s: %.17g vs %.17g", what, a, b);
}

/* The kernel, the engine folded into sweep_stats, and the backtest report agree for 300 random
 * configs over 3000 candles with 400 of history. */
START_TEST(kernel_equals_engine)
{
    const size_t n = 3000, start = 400;
    candle *c = make_candles(n, 42);
    sweep_data d;
    char err[128];
    ck_assert_int_eq(sweep_data_init(&d, c, n, start, H, err, sizeof err), 0);
    synth_rng r;
    synth_rng_seed(&r, 7);
    int64_t traded = 0;
    for (int it = 0; it < 300; it++) {
        engine_config cfg;
        int kind = it % 5;
        random_config(&cfg, kind, &r);
        sweep_stats a, b;
        sweep_one_kernel(&d, &cfg, 10000, 1000, &a);
        ck_assert_int_eq(sweep_one_engine(&d, &cfg, 10000, 1000, &b), 0);
        ck_assert_msg(a.trades == b.trades, "config %d (%s): %lld vs %lld trades", it, strategy_get(kind)->name,
                      (long long)a.trades, (long long)b.trades);
        ck_assert_int_eq(a.wins, b.wins);
        ck_assert_int_eq(a.losses, b.losses);
        ck_assert_int_eq(a.exposed, b.exposed);
        ck_assert_int_eq(a.points, b.points);
        ck_assert_int_eq(a.orders_skipped, b.orders_skipped);
        ck_assert_int_eq(a.start_time, b.start_time);
        ck_assert_int_eq(a.end_time, b.end_time);
        /* the same operations in the same order: equal to the bit */
        ck_assert_msg(a.final_equity == b.final_equity, "config %d: %.17g vs %.17g", it, a.final_equity,
                      b.final_equity);
        ck_assert(a.max_dd_pct == b.max_dd_pct);
        ck_assert(a.max_dd_abs == b.max_dd_abs);
        ck_assert(a.fees == b.fees);
        ck_assert(a.gross_profit == b.gross_profit);
        ck_assert(a.ret_sum == b.ret_sum);
        traded += a.trades;

        /* and the metrics equal the backtest report's */
        int64_t w = sweep_warmup(&cfg, &d.se, 1000);
        bt_series bs = {c + start - w, n - start + w, (size_t)w};
        bt_result res;
        bt_metrics m;
        ck_assert_int_eq(backtest_run(&cfg, &bs, 1, 10000, NULL, NULL, &res, err, sizeof err), 0);
        ck_assert_int_eq(bt_metrics_compute(&res, &m), 0);
        sweep_metrics sm;
        sweep_metrics_compute(&a, H, &sm);
        assert_close(sm.profit_pct, m.profit_pct, 0, "profit_pct");
        assert_close(sm.cagr_pct, m.cagr_pct, 0, "cagr_pct");
        assert_close(sm.max_drawdown_pct, m.max_drawdown_pct, 0, "max_drawdown_pct");
        assert_close(sm.calmar, m.calmar, 0, "calmar");
        assert_close(sm.sharpe, m.sharpe, 1e-9, "sharpe");
        assert_close(sm.sortino, m.sortino, 1e-9, "sortino");
        assert_close(sm.win_rate_pct, m.win_rate_pct, 0, "win_rate_pct");
        assert_close(sm.exposure_pct, m.exposure_pct, 0, "exposure_pct");
        ck_assert_int_eq(sm.trades, m.trades);
        bt_metrics_free(&m);
        bt_result_free(&res);
    }
    ck_assert_int_gt(traded, 3000); /* the comparison saw plenty of trades */
    sweep_data_free(&d);
    free(c);
}
END_TEST

/* sweep_run gives the same statistics on 1 and 3 threads, for a mix of kernel and engine
 * configs (grid and dca go through the engine). */
START_TEST(threads_change_nothing)
{
    const size_t n = 2000, start = 200;
    candle *c = make_candles(n, 3);
    sweep_data d;
    ck_assert_int_eq(sweep_data_init(&d, c, n, start, H, NULL, 0), 0);
    enum { N = 37 };
    engine_config cfgs[N];
    synth_rng r;
    synth_rng_seed(&r, 11);
    for (int i = 0; i < N; i++) {
        if (i % 9 == 4)
            ck_assert_int_eq(engine_config_defaults(&cfgs[i], i % 2 ? STRATEGY_GRID : STRATEGY_DCA), 0);
        else
            random_config(&cfgs[i], STRATEGY_SMA_CROSS, &r);
    }
    sweep_stats a[N], b[N];
    sweep_opts o = {.initial_balance = 5000, .warmup_max = 1000, .threads = 1};
    ck_assert_int_eq(sweep_run(&d, cfgs, N, &o, a), 0);
    o.threads = 3;
    ck_assert_int_eq(sweep_run(&d, cfgs, N, &o, b), 0);
    ck_assert_int_eq(memcmp(a, b, sizeof a), 0);
    for (int i = 0; i < N; i++) {
        sweep_stats one;
        if (sweep_kernel_covers(&cfgs[i]))
            sweep_one_kernel(&d, &cfgs[i], 5000, 1000, &one);
        else
            ck_assert_int_eq(sweep_one_engine(&d, &cfgs[i], 5000, 1000, &one), 0);
        ck_assert_int_eq(memcmp(&one, &a[i], sizeof one), 0);
    }
    sweep_data_free(&d);
    free(c);
}
END_TEST

static int cancel_after_first(size_t done, size_t total, void *ud)
{
    (void)total;
    *(size_t *)ud = done;
    return 1;
}

START_TEST(progress_cancels)
{
    const size_t n = 500;
    candle *c = make_candles(n, 5);
    sweep_data d;
    ck_assert_int_eq(sweep_data_init(&d, c, n, 0, H, NULL, 0), 0);
    engine_config cfgs[64];
    synth_rng r;
    synth_rng_seed(&r, 1);
    for (int i = 0; i < 64; i++)
        random_config(&cfgs[i], STRATEGY_EMA_CROSS, &r);
    sweep_stats out[64];
    size_t seen = 0;
    sweep_opts o = {.initial_balance = 1000, .warmup_max = 1000, .threads = 1, .progress = cancel_after_first,
                    .ud = &seen};
    ck_assert_int_eq(sweep_run(&d, cfgs, 64, &o, out), SWEEP_ECANCELLED);
    ck_assert_uint_gt(seen, 0);
    ck_assert_uint_lt(seen, 64);
    sweep_data_free(&d);
    free(c);
}
END_TEST

/* Bad candles are refused with the index, before anything runs. */
START_TEST(bad_candles_refused)
{
    candle *c = make_candles(100, 9);
    sweep_data d;
    char err[128];
    c[50].low = NAN;
    ck_assert_int_eq(sweep_data_init(&d, c, 100, 10, H, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "candle 50"));
    c[50].low = c[50].open < c[50].close ? c[50].open : c[50].close;
    c[60].open_time = c[59].open_time;
    ck_assert_int_eq(sweep_data_init(&d, c, 100, 10, H, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "candle 60"));
    ck_assert_int_eq(sweep_data_init(&d, c, 100, 100, H, err, sizeof err), -1);
    free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sweep");
    /* generous ceiling for sanitizer builds, not a speed assertion */
    TCase *t = tcase_create("core");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, kernel_equals_engine);
    tcase_add_test(t, threads_change_nothing);
    tcase_add_test(t, progress_cancels);
    tcase_add_test(t, bad_candles_refused);
    suite_add_tcase(s, t);
    return unit_run(s);
}
