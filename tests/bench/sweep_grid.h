/* sweep_grid.h — the sweep benchmarks' one workload: a year of synthetic 1-minute candles and the
 * 10,000-set sma_cross grid, so the CPU rows (sweep_bench.c) and the CUDA row (cuda_bench.c) time the same work. */
#ifndef BCF_BENCH_SWEEP_GRID_H
#define BCF_BENCH_SWEEP_GRID_H
#include "strategy.h"
#include "synth.h"
#include <stdlib.h>
#include <time.h>

#define SWEEP_GRID_HISTORY 400 /* candles before the traded year: the slowest set's warm-up */

static inline double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* sma_cross over a 100 × 100 grid of periods (fast 2..101, slow 110..308 step 2), risk off: the
 * first `n` sets of it (repeated when n > 10,000). */
static inline engine_config *sweep_grid_configs(size_t n)
{
    engine_config *c = malloc(n * sizeof *c);
    if (!c)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t k = i % 10000;
        engine_config_defaults(&c[i], STRATEGY_SMA_CROSS);
        c[i].timeframe_ms = 60000;
        c[i].params[STRAT_CROSS_FAST] = 2 + (double)(k % 100);
        c[i].params[STRAT_CROSS_SLOW] = 110 + 2 * (double)(k / 100);
    }
    return c;
}

/* `traded` 1-minute candles after SWEEP_GRID_HISTORY of history (seed 2026, from 2024-01-01). */
static inline candle *sweep_grid_candles(size_t traded)
{
    size_t n = traded + SWEEP_GRID_HISTORY;
    candle *c = malloc(n * sizeof *c);
    synth_params sp;
    synth_defaults(&sp);
    sp.seed = 2026;
    sp.start_ms = 1704067200000LL;
    sp.tf_ms = 60000;
    if (c && synth_generate(&sp, c, n, NULL) != 0) {
        free(c);
        return NULL;
    }
    return c;
}
#endif
