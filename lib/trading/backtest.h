/* backtest.h — runs the engine over stored candles: several symbols merged by time, open trades
 * closed at the end, the closed-trade list and the equity curve kept for the report. */
#ifndef BCF_TRADING_BACKTEST_H
#define BCF_TRADING_BACKTEST_H
#include "candles.h"
#include "engine.h"
#include "strategy.h"
#include <stddef.h>
#include <stdint.h>

/* One symbol's candles, increasing open time, all of cfg->timeframe_ms. */
typedef struct bt_series {
    const candle *candles;
    size_t n;
    size_t warmup; /* the first `warmup` of the n candles only warm the indicators (engine_warm):
                      history before the backtest's start, neither traded nor reported */
    const double *ext; /* ml_signal: each candle's external value (engine_set_external), n of
                          them; NULL: none (NAN for every candle) */
} bt_series;

/* Called about every 65,536 candles and once at the end with fraction = candles done / total
 * (0..1). A non-zero return cancels the run (backtest_run returns BT_ECANCELLED). */
typedef int (*bt_progress_fn)(double fraction, void *ud);

/* One closed trade (from the engine's close event). */
typedef struct bt_trade {
    int64_t id;
    int64_t entry_time, exit_time; /* epoch ms (see trade_event.time) */
    int32_t sym;                   /* index into the series array */
    int32_t reason;                /* exit_reason */
    int32_t tag;                   /* grid level, else 0 */
    int32_t reserved;
    double entry_price; /* average entry fill price */
    double exit_price;  /* exit fill price */
    double qty, cost, proceeds, fees, pnl, pnl_pct;
} bt_trade;

typedef struct bt_result {
    engine_config cfg;
    int nsymbols;
    double initial_balance;
    double final_equity;   /* cash after the end-of-data closes */
    bt_trade *trades;      /* closed trades in the order they closed */
    size_t ntrades;
    /* The equity curve: one point per distinct candle time (after every symbol's candle of that
     * time), at the candle's close time, every position marked at its symbol's last close. The
     * last point is the final equity, after the end-of-data closes. */
    int64_t *times;
    double *equity;
    size_t npoints;
    size_t exposed_points; /* points at which at least one trade was open */
    int64_t start_time;    /* open time of the first candle */
    int64_t end_time;      /* close time of the last candle */
    int64_t candles;       /* candles processed (engine steps) */
    int64_t orders_skipped;
    double fees_paid;
    double first_open[ENGINE_MAX_SYMBOLS]; /* per symbol: buy-and-hold reference */
    double last_close[ENGINE_MAX_SYMBOLS];
} bt_result;

#define BT_EINVAL (-1)     /* bad config, no candles, too many symbols, bad balance */
#define BT_ECANCELLED (-2) /* the progress callback asked to stop */
#define BT_ENOMEM (-3)
#define BT_EDATA (-4) /* a candle the engine refused (invalid, or out of order); err says which */

/* Runs cfg over nseries (1..ENGINE_MAX_SYMBOLS) series merged by open time (candles of the same
 * time in series order) with initial_balance of quote, then closes what is open at each
 * symbol's last close (reason end_of_data). progress may be NULL. Returns 0 with *out filled
 * (free it with bt_result_free), or a BT_E* code with a message in err and *out empty. */
int backtest_run(const engine_config *cfg, const bt_series *series, int nseries, double initial_balance,
                 bt_progress_fn progress, void *ud, bt_result *out, char *err, size_t errlen);
void bt_result_free(bt_result *r);
#endif
