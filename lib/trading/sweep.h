/* sweep.h — scores many parameter sets of one strategy on one market's candles: the sweep kernel
 * where it applies, the engine elsewhere, on every CPU core; the metrics optimizers rank by. */
#ifndef BCF_TRADING_SWEEP_H
#define BCF_TRADING_SWEEP_H
#include "backtest.h"
#include "candles.h"
#include "strategy.h"
#include "sweep_kernel.h"
#include <stddef.h>
#include <stdint.h>

/* One market's candles in the two layouts the two paths read: arrays per field for the kernel,
 * the candle array for the engine. */
typedef struct sweep_data {
    sweep_series se;
    const candle *candles; /* the caller's, kept until sweep_data_free */
    double *buf;           /* open, high, low, close: 4 × n doubles */
    int64_t *time;
    const double *ext;     /* ml_signal: each candle's model probability (the caller's, may be NULL) */
} sweep_data;

/* Checks c[0..n) (valid prices, increasing open times, tf_ms apart or more) and lays it out;
 * candles [0, start) are history for the warm-up, [start, n) are traded (start < n). The caller
 * keeps c alive. 0, or -1 with the reason in err. */
int sweep_data_init(sweep_data *d, const candle *c, size_t n, size_t start, int64_t tf_ms, char *err,
                    size_t errlen);
void sweep_data_free(sweep_data *d);

/* The metrics of one scored parameter set (the formulas of bt_metrics, docs/trading.md). NAN
 * where undefined, as in the backtest report. */
typedef struct sweep_metrics {
    double profit_pct, cagr_pct, sharpe, sortino, calmar;
    double max_drawdown_pct, profit_dd; /* profit_pct / max(max_drawdown_pct, 1) */
    double win_rate_pct, exposure_pct, final_equity, fees;
    int64_t trades;
} sweep_metrics;
void sweep_metrics_compute(const sweep_stats *s, int64_t timeframe_ms, sweep_metrics *m);

/* Called from the calling thread between blocks: done out of total parameter sets; non-zero
 * stops the sweep (sweep_run returns SWEEP_ECANCELLED). */
typedef int (*sweep_progress_fn)(size_t done, size_t total, void *ud);

typedef struct sweep_opts {
    double initial_balance;
    int warmup_max; /* backtests.warmup_max */
    int threads;    /* 0: every online CPU */
    sweep_progress_fn progress;
    void *ud;
} sweep_opts;

#define SWEEP_EINVAL (-1)
#define SWEEP_ECANCELLED (-2)
#define SWEEP_ENOMEM (-3)

/* The warm-up a backtest of cfg would take: min(engine_warmup_candles, warmup_max, start). */
int64_t sweep_warmup(const engine_config *cfg, const sweep_series *se, int warmup_max);

/* Scores cfgs[0..n) (each already passed engine_config_check) into out[0..n) on o->threads
 * threads. A config the kernel covers runs there; others run the engine (backtest_run) and are
 * folded into the same statistics. The results do not depend on the number of threads. 0 or a
 * SWEEP_E* code. */
int sweep_run(const sweep_data *d, const engine_config *cfgs, size_t n, const sweep_opts *o, sweep_stats *out);

/* One parameter set through the engine, folded into sweep_stats (what sweep_run does for
 * configs outside the kernel; tests compare the two paths with it). 0 or a BT_E* code. */
int sweep_one_engine(const sweep_data *d, const engine_config *cfg, double initial_balance, int warmup_max,
                     sweep_stats *out);
/* One parameter set through the kernel on the calling thread. */
void sweep_one_kernel(const sweep_data *d, const engine_config *cfg, double initial_balance, int warmup_max,
                      sweep_stats *out);

/* Online CPUs (at least 1). */
int sweep_cpu_count(void);
#endif
