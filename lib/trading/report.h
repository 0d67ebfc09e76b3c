/* report.h — performance metrics of a backtest (profit, CAGR, Sharpe, Sortino, Calmar, drawdown,
 * trade statistics, exposure, market change), the exit-reason and monthly tables, chart curves. */
#ifndef BCF_TRADING_REPORT_H
#define BCF_TRADING_REPORT_H
#include "backtest.h"
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Every formula is in docs/trading.md, "Metrics". Conventions:
 *  - A metric that is undefined for the data (no trades, no losing trade for the profit factor,
 *    a flat equity curve for Sharpe, a run shorter than one candle for CAGR) is NAN here and
 *    null in JSON; nothing infinite or NAN ever reaches JSON.
 *  - Percentages are in percent (12.5 means 12.5%). Times are epoch ms, durations ms.
 *  - Sharpe and Sortino use the per-candle returns of the equity curve (the initial balance
 *    first), risk-free rate 0, annualised by sqrt(periods per year) with periods per year =
 *    365 days / timeframe (crypto trades every day of the year).
 *  - A winner has pnl > 0, a loser pnl < 0; a trade of exactly 0 is a draw (counted in the trade
 *    count, in neither win nor loss figures, and it ends both streaks).
 */

typedef struct bt_reason_row {
    int64_t trades, wins, losses;
    double pnl;         /* sum of pnl */
    double avg_pnl_pct; /* mean pnl_pct; NAN without trades */
} bt_reason_row;

/* One UTC calendar month of the run. */
typedef struct bt_month {
    int64_t start;        /* epoch ms of the month's first instant */
    int64_t trades, wins, losses; /* trades that closed in the month */
    double pnl;           /* their summed pnl */
    double start_equity;  /* equity at the end of the month before (the first: initial balance) */
    double end_equity;    /* the last equity point inside the month */
    double return_pct;    /* end / start − 1, in % */
} bt_month;

typedef struct bt_metrics {
    double initial_balance, final_equity;
    double profit_abs, profit_pct;
    double cagr_pct;
    double sharpe, sortino, calmar;
    double max_drawdown_abs; /* largest peak − trough, in quote */
    double max_drawdown_pct; /* largest (peak − trough) / peak, in % */
    int64_t drawdown_peak_time, drawdown_trough_time; /* of the largest % drawdown; 0 when none */
    int64_t trades, wins, losses, draws;
    double win_rate_pct;
    double gross_profit, gross_loss; /* sum of winners' pnl; sum of losers' |pnl| */
    double profit_factor;            /* gross_profit / gross_loss; NAN when there is no loss */
    double expectancy;               /* mean pnl per trade, quote */
    double expectancy_pct;           /* mean pnl_pct per trade */
    double avg_win, avg_loss;        /* mean pnl of winners; mean |pnl| of losers */
    double avg_duration_ms, avg_win_duration_ms, avg_loss_duration_ms;
    double best_trade_pct, worst_trade_pct; /* by pnl_pct */
    double best_trade_abs, worst_trade_abs; /* by pnl */
    int64_t max_consecutive_wins, max_consecutive_losses;
    double exposure_pct;      /* equity points with a position open / all points */
    double market_change_pct; /* mean over symbols of (last close / first open − 1) */
    double total_fees;
    int64_t start_time, end_time, candles;
    double years;            /* (end − start) / 365 days */
    double periods_per_year; /* 365 days / timeframe */
    int64_t orders_skipped;
    bt_reason_row reasons[EXIT_REASON_COUNT];
    bt_month *months; /* every month from the first candle to the last, in order */
    size_t nmonths;
} bt_metrics;

/* Computes every metric of r. Returns 0, or -1 when out of memory (m left empty). Free with
 * bt_metrics_free. */
int bt_metrics_compute(const bt_result *r, bt_metrics *m);
void bt_metrics_free(bt_metrics *m);

/*
 * The indexes of at most maxpoints points of an n-point equity curve for a chart, written to
 * idx (room for maxpoints); returns how many. With n <= maxpoints every index. Otherwise the
 * curve is cut into maxpoints − 1 equal buckets, each represented by its point of deepest
 * drawdown (the last one on a tie, so a bucket at new highs shows its last high), then the last
 * point: the chart never hides the maximum drawdown. maxpoints < 2 is taken as 2.
 */
size_t bt_curve_sample(const bt_result *r, size_t maxpoints, size_t *idx);

/*
 * The whole report as JSON: {"config", "summary", "exit_reasons", "monthly", "trades",
 * "equity_curve": {"time": [...], "equity": [...]}, "drawdown_curve": {"time": [...],
 * "drawdown_pct": [...]}}, curves sampled to at most max_points (bt_curve_sample); metrics
 * come from the full curve. symbols[i] names series i ("BTCUSDT"); NULL gives "0", "1", ...
 * Undefined numbers are null. NULL when out of memory.
 */
json_t *bt_report_json(const bt_result *r, const bt_metrics *m, const char *const *symbols, size_t max_points);
#endif
