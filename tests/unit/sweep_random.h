/* sweep_random.h — what the sweep tests share: synthetic hourly candles, random valid configs of
 * the kernel's strategies, a progress recorder and a relative comparison of two doubles (test_sweep.c,
 * test_backend.c, test_cuda.c). */
#ifndef BCF_TEST_SWEEP_RANDOM_H
#define BCF_TEST_SWEEP_RANDOM_H
#include "strategy.h"
#include "synth.h"
#include <check.h>
#include <math.h>
#include <stdlib.h>

#define H 3600000LL
#define T0 1704067200000LL

static inline candle *make_candles(size_t n, uint64_t seed)
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
static inline void random_config(engine_config *c, int kind, synth_rng *r)
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

/* cfgs[0..n): random configs of `kind` (-1: the five kernel kinds in turn) with a grid or dca
 * default (the engine's path) at every `every`-th place, from every / 2 on. */
static inline void mixed_configs(engine_config *cfgs, int n, int kind, int every, synth_rng *r)
{
    for (int i = 0; i < n; i++) {
        if (i % every == every / 2)
            ck_assert_int_eq(engine_config_defaults(&cfgs[i], i % 2 ? STRATEGY_GRID : STRATEGY_DCA), 0);
        else
            random_config(&cfgs[i], kind < 0 ? i % 5 : kind, r);
    }
}

/* What a sweep's progress callback saw: the last count and whether counts only grew. */
typedef struct progress_log {
    size_t last, calls;
    int monotonic;
} progress_log;

static inline int progress_record(size_t done, size_t total, void *ud)
{
    progress_log *s = ud;
    if (done < s->last || done > total)
        s->monotonic = 0;
    s->last = done;
    s->calls++;
    return 0;
}

static inline void assert_close(double a, double b, double rel, const char *what)
{
    if (isnan(a) || isnan(b)) {
        ck_assert_msg(isnan(a) && isnan(b), "%s: %.17g vs %.17g", what, a, b);
        return;
    }
    double scale = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    ck_assert_msg(fabs(a - b) <= rel * (scale > 1e-12 ? scale : 1e-12), "%s: %.17g vs %.17g", what, a, b);
}
#endif
