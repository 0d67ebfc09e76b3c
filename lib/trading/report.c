/* report.c — the metrics of a backtest computed from its full equity curve and trade list
 * (formulas in docs/trading.md, "Metrics"); undefined values are NAN, never infinities. */
#include "report.h"
#include "candles.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RPT_YEAR_MS (365.0 * 86400000.0)

void bt_metrics_free(bt_metrics *m)
{
    if (!m)
        return;
    free(m->months);
    memset(m, 0, sizeof *m);
}

static double rpt_finite(double v)
{
    return isfinite(v) ? v : NAN;
}

/* Equity curve figures: drawdowns, then per-candle return statistics. */
static void rpt_curve(const bt_result *r, bt_metrics *m)
{
    double peak = r->initial_balance;
    int64_t peak_time = r->start_time;
    m->max_drawdown_abs = 0;
    m->max_drawdown_pct = 0;
    for (size_t i = 0; i < r->npoints; i++) {
        double eq = r->equity[i];
        if (eq > peak) {
            peak = eq;
            peak_time = r->times[i];
        }
        double dd = peak - eq, ddp = peak > 0 ? dd / peak * 100.0 : 0;
        if (dd > m->max_drawdown_abs)
            m->max_drawdown_abs = dd;
        if (ddp > m->max_drawdown_pct) {
            m->max_drawdown_pct = ddp;
            m->drawdown_peak_time = peak_time;
            m->drawdown_trough_time = r->times[i];
        }
    }
    /* returns r_i = E_i / E_{i-1} − 1 with E_{-1} = the initial balance */
    size_t n = r->npoints;
    double sum = 0, prev = r->initial_balance;
    for (size_t i = 0; i < n; i++) {
        sum += prev > 0 ? r->equity[i] / prev - 1.0 : 0;
        prev = r->equity[i];
    }
    double mean = n ? sum / (double)n : 0;
    double var = 0, down = 0;
    prev = r->initial_balance;
    for (size_t i = 0; i < n; i++) {
        double ret = prev > 0 ? r->equity[i] / prev - 1.0 : 0;
        prev = r->equity[i];
        var += (ret - mean) * (ret - mean);
        if (ret < 0)
            down += ret * ret;
    }
    double ann = sqrt(m->periods_per_year);
    double sd = n > 1 ? sqrt(var / (double)(n - 1)) : 0;
    double dd = n ? sqrt(down / (double)n) : 0;
    m->sharpe = sd > 0 ? rpt_finite(mean / sd * ann) : NAN;
    m->sortino = dd > 0 ? rpt_finite(mean / dd * ann) : NAN;
}

static void rpt_trades(const bt_result *r, bt_metrics *m)
{
    double win_dur = 0, loss_dur = 0, dur = 0, pct_sum = 0;
    int64_t streak_w = 0, streak_l = 0;
    double reason_pct[EXIT_REASON_COUNT] = {0};
    m->best_trade_pct = m->worst_trade_pct = m->best_trade_abs = m->worst_trade_abs = NAN;
    for (size_t i = 0; i < r->ntrades; i++) {
        const bt_trade *t = &r->trades[i];
        double d = (double)(t->exit_time - t->entry_time);
        dur += d;
        pct_sum += t->pnl_pct;
        if (t->pnl > 0) {
            m->wins++;
            m->gross_profit += t->pnl;
            win_dur += d;
            streak_w++;
            streak_l = 0;
        } else if (t->pnl < 0) {
            m->losses++;
            m->gross_loss += -t->pnl;
            loss_dur += d;
            streak_l++;
            streak_w = 0;
        } else {
            m->draws++;
            streak_w = streak_l = 0;
        }
        if (streak_w > m->max_consecutive_wins)
            m->max_consecutive_wins = streak_w;
        if (streak_l > m->max_consecutive_losses)
            m->max_consecutive_losses = streak_l;
        if (!(t->pnl_pct <= m->best_trade_pct))
            m->best_trade_pct = t->pnl_pct;
        if (!(t->pnl_pct >= m->worst_trade_pct))
            m->worst_trade_pct = t->pnl_pct;
        if (!(t->pnl <= m->best_trade_abs))
            m->best_trade_abs = t->pnl;
        if (!(t->pnl >= m->worst_trade_abs))
            m->worst_trade_abs = t->pnl;
        int reason = t->reason >= 0 && t->reason < EXIT_REASON_COUNT ? t->reason : EXIT_NONE;
        bt_reason_row *row = &m->reasons[reason];
        row->trades++;
        row->wins += t->pnl > 0;
        row->losses += t->pnl < 0;
        row->pnl += t->pnl;
        reason_pct[reason] += t->pnl_pct;
    }
    int64_t n = (int64_t)r->ntrades;
    m->trades = n;
    m->win_rate_pct = n ? (double)m->wins / (double)n * 100.0 : NAN;
    m->profit_factor = m->gross_loss > 0 ? rpt_finite(m->gross_profit / m->gross_loss) : NAN;
    m->expectancy = n ? (m->gross_profit - m->gross_loss) / (double)n : NAN;
    m->expectancy_pct = n ? pct_sum / (double)n : NAN;
    m->avg_win = m->wins ? m->gross_profit / (double)m->wins : NAN;
    m->avg_loss = m->losses ? m->gross_loss / (double)m->losses : NAN;
    m->avg_duration_ms = n ? dur / (double)n : NAN;
    m->avg_win_duration_ms = m->wins ? win_dur / (double)m->wins : NAN;
    m->avg_loss_duration_ms = m->losses ? loss_dur / (double)m->losses : NAN;
    for (int k = 0; k < EXIT_REASON_COUNT; k++)
        m->reasons[k].avg_pnl_pct = m->reasons[k].trades ? reason_pct[k] / (double)m->reasons[k].trades : NAN;
}

/* Index of the month holding ms, clamped to the table (a close at the very end of the last
 * month's last candle is that month's). */
static size_t rpt_month_index(const bt_metrics *m, int64_t ms)
{
    size_t lo = 0, hi = m->nmonths;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (m->months[mid].start <= ms)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static int rpt_months(const bt_result *r, bt_metrics *m)
{
    int64_t first = candle_month_start_ms(r->start_time > 0 ? r->start_time : 0);
    int64_t last = candle_month_start_ms(r->end_time - 1 > 0 ? r->end_time - 1 : 0);
    size_t count = 0;
    for (int64_t ms = first; ms <= last; ms = candle_month_start_ms(ms + 32LL * 86400000))
        count++;
    m->months = calloc(count, sizeof *m->months);
    if (!m->months)
        return -1;
    m->nmonths = count;
    size_t k = 0;
    for (int64_t ms = first; ms <= last; ms = candle_month_start_ms(ms + 32LL * 86400000))
        m->months[k++].start = ms;
    for (size_t i = 0; i < r->ntrades; i++) {
        const bt_trade *t = &r->trades[i];
        bt_month *mo = &m->months[rpt_month_index(m, t->exit_time)];
        mo->trades++;
        mo->wins += t->pnl > 0;
        mo->losses += t->pnl < 0;
        mo->pnl += t->pnl;
    }
    /* a point is the close of a candle: it belongs to the month the candle ends in */
    double eq = r->initial_balance;
    size_t p = 0;
    for (size_t i = 0; i < m->nmonths; i++) {
        bt_month *mo = &m->months[i];
        mo->start_equity = eq;
        while (p < r->npoints && rpt_month_index(m, r->times[p] - 1) == i)
            eq = r->equity[p++];
        mo->end_equity = eq;
        mo->return_pct = mo->start_equity > 0 ? rpt_finite((mo->end_equity / mo->start_equity - 1.0) * 100.0) : NAN;
    }
    return 0;
}

int bt_metrics_compute(const bt_result *r, bt_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->initial_balance = r->initial_balance;
    m->final_equity = r->final_equity;
    m->profit_abs = r->final_equity - r->initial_balance;
    m->profit_pct = (r->final_equity / r->initial_balance - 1.0) * 100.0;
    m->start_time = r->start_time;
    m->end_time = r->end_time;
    m->candles = r->candles;
    m->total_fees = r->fees_paid;
    m->orders_skipped = r->orders_skipped;
    m->periods_per_year = RPT_YEAR_MS / (double)r->cfg.timeframe_ms;
    m->years = (double)(r->end_time - r->start_time) / RPT_YEAR_MS;
    if (!(m->years > 0))
        m->cagr_pct = NAN;
    else if (r->final_equity <= 0)
        m->cagr_pct = -100.0;
    else
        m->cagr_pct = rpt_finite((pow(r->final_equity / r->initial_balance, 1.0 / m->years) - 1.0) * 100.0);
    rpt_curve(r, m);
    m->calmar = m->max_drawdown_pct > 0 ? rpt_finite(m->cagr_pct / m->max_drawdown_pct) : NAN;
    rpt_trades(r, m);
    m->exposure_pct = r->npoints ? (double)r->exposed_points / (double)r->npoints * 100.0 : NAN;
    double mc = 0;
    int nmc = 0;
    for (int s = 0; s < r->nsymbols; s++)
        if (r->first_open[s] > 0) {
            mc += r->last_close[s] / r->first_open[s] - 1.0;
            nmc++;
        }
    m->market_change_pct = nmc ? mc / nmc * 100.0 : NAN;
    if (rpt_months(r, m) < 0) {
        bt_metrics_free(m);
        return -1;
    }
    return 0;
}

size_t bt_curve_sample(const bt_result *r, size_t maxpoints, size_t *idx)
{
    size_t n = r->npoints;
    if (maxpoints < 2)
        maxpoints = 2;
    if (n <= maxpoints) {
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
        return n;
    }
    size_t buckets = maxpoints - 1, out = 0;
    double peak = r->initial_balance;
    size_t i = 0;
    for (size_t b = 0; b < buckets; b++) {
        /* bucket b covers [b(n-1)/buckets, (b+1)(n-1)/buckets) of the first n-1 points */
        size_t end = (size_t)(((unsigned long long)(b + 1) * (n - 1)) / buckets);
        size_t best = i;
        double best_dd = -1;
        for (; i < end; i++) {
            if (r->equity[i] > peak)
                peak = r->equity[i];
            double dd = peak > 0 ? (peak - r->equity[i]) / peak : 0;
            if (dd >= best_dd) {
                best_dd = dd;
                best = i;
            }
        }
        if (best_dd >= 0)
            idx[out++] = best;
    }
    idx[out++] = n - 1;
    return out;
}
