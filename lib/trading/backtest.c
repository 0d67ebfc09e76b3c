/* backtest.c — the backtest driver: feeds every symbol's candles to one engine in time order,
 * collects closed trades, marks the portfolio to market at each close, reports progress. */
#include "backtest.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BT_PROGRESS_EVERY 65536

static int bt_fail(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int bt_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

void bt_result_free(bt_result *r)
{
    if (!r)
        return;
    free(r->trades);
    free(r->times);
    free(r->equity);
    memset(r, 0, sizeof *r);
}

/* Appends the closes among ev[0..n) to the trade list; -1 when out of memory. */
static int bt_collect(bt_result *r, size_t *cap, const trade_event *ev, int n)
{
    for (int i = 0; i < n; i++) {
        if (ev[i].kind != TEV_CLOSE)
            continue;
        if (r->ntrades == *cap) {
            size_t nc = *cap ? *cap * 2 : 256;
            bt_trade *t = realloc(r->trades, nc * sizeof *t);
            if (!t)
                return -1;
            r->trades = t;
            *cap = nc;
        }
        bt_trade *t = &r->trades[r->ntrades++];
        memset(t, 0, sizeof *t);
        t->id = ev[i].trade_id;
        t->entry_time = ev[i].entry_time;
        t->exit_time = ev[i].time;
        t->sym = ev[i].sym;
        t->reason = ev[i].reason;
        t->tag = ev[i].tag;
        t->entry_price = ev[i].entry_price;
        t->exit_price = ev[i].price;
        t->qty = ev[i].qty;
        t->cost = ev[i].cost;
        t->proceeds = ev[i].proceeds;
        t->fees = ev[i].fees;
        t->pnl = ev[i].pnl;
        t->pnl_pct = ev[i].pnl_pct;
    }
    return 0;
}

/* The series whose next candle comes first (lowest open time, then lowest index); -1 when all
 * are done. */
static int bt_next(const bt_series *series, int nseries, const size_t *pos)
{
    int best = -1;
    for (int s = 0; s < nseries; s++) {
        if (pos[s] >= series[s].n)
            continue;
        if (best < 0 || series[s].candles[pos[s]].open_time < series[best].candles[pos[best]].open_time)
            best = s;
    }
    return best;
}

static int backtest_run_warm(const engine_config *cfg, const bt_series *series, const bt_series *warm, int nseries,
                             double initial_balance, bt_progress_fn progress, void *ud, bt_result *out, char *err,
                             size_t errlen);

int backtest_run(const engine_config *cfg, const bt_series *series, int nseries, double initial_balance,
                 bt_progress_fn progress, void *ud, bt_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!cfg || !series || nseries < 1 || nseries > ENGINE_MAX_SYMBOLS)
        return bt_fail(err, errlen, BT_EINVAL, "series: between 1 and %d symbols", ENGINE_MAX_SYMBOLS);
    /* the warm-up candles are split off: the run proper sees only the candles it trades */
    bt_series run[ENGINE_MAX_SYMBOLS], warm[ENGINE_MAX_SYMBOLS];
    for (int s = 0; s < nseries; s++) {
        size_t w = series[s].warmup < series[s].n ? series[s].warmup : series[s].n;
        const double *ext = series[s].ext;
        warm[s] = (bt_series){series[s].candles, w, 0, ext};
        run[s] = (bt_series){series[s].candles ? series[s].candles + w : NULL, series[s].n - w, 0, ext ? ext + w : NULL};
    }
    return backtest_run_warm(cfg, run, warm, nseries, initial_balance, progress, ud, out, err, errlen);
}

static int backtest_run_warm(const engine_config *cfg, const bt_series *series, const bt_series *warm, int nseries,
                             double initial_balance, bt_progress_fn progress, void *ud, bt_result *out, char *err,
                             size_t errlen)
{
    if (engine_config_check(cfg, err, errlen) < 0)
        return BT_EINVAL;
    size_t total = 0;
    for (int s = 0; s < nseries; s++) {
        if (series[s].n && !series[s].candles)
            return bt_fail(err, errlen, BT_EINVAL, "series %d: no candles array", s);
        total += series[s].n;
    }
    if (!total)
        return bt_fail(err, errlen, BT_EINVAL, "series: no candles");
    engine *e = malloc(sizeof *e);
    trade_event *ev = malloc(ENGINE_MAX_STEP_EVENTS * sizeof *ev);
    bt_result r;
    memset(&r, 0, sizeof r);
    size_t cap = 0, pos[ENGINE_MAX_SYMBOLS] = {0};
    int rc = BT_ENOMEM;
    r.times = malloc(total * sizeof *r.times);
    r.equity = malloc(total * sizeof *r.equity);
    if (!e || !ev || !r.times || !r.equity) {
        bt_fail(err, errlen, BT_ENOMEM, "out of memory");
        goto out;
    }
    if (engine_init(e, cfg, nseries, initial_balance) < 0) {
        rc = bt_fail(err, errlen, BT_EINVAL, "initial_balance: must be a positive number");
        goto out;
    }
    /* ml_signal judges each candle by its own external value: one candle per engine call */
    const int ext = cfg->kind == STRATEGY_ML_SIGNAL;
    for (int k = 0; k < nseries; k++)
        for (size_t i = 0; i < warm[k].n; i++)
            if ((ext && engine_set_external(e, k, warm[k].ext ? warm[k].ext[i] : NAN) < 0) ||
                engine_warm(e, k, &warm[k].candles[i]) < 0) {
                rc = bt_fail(err, errlen, BT_EDATA, "series %d, warm-up candle %zu: invalid prices", k, i);
                goto out;
            }
    r.cfg = *cfg;
    r.nsymbols = nseries;
    r.initial_balance = initial_balance;
    r.start_time = INT64_MAX;
    r.end_time = INT64_MIN;
    const int64_t tf = cfg->timeframe_ms;
    size_t done = 0, next_report = BT_PROGRESS_EVERY;
    if (nseries == 1 && !ext) {
        /* one symbol: every candle is an equity point; engine_run steps through a chunk at a
         * time and returns whenever a candle produced events */
        const candle *c = series[0].candles;
        while (done < total) {
            size_t chunk = (next_report < total ? next_report : total) - done, used = 0;
            engine_curve curve = {r.equity + done, r.times + done, 0};
            int n = engine_run(e, 0, c + done, chunk, &curve, &used, ev, ENGINE_MAX_STEP_EVENTS);
            done += used;
            r.exposed_points += curve.exposed;
            if (n < 0) {
                rc = bt_fail(err, errlen, BT_EDATA, "series 0, candle %zu (open_time %lld): %s", done,
                             (long long)c[done].open_time,
                             n == ENGINE_EORDER ? "not after the previous candle" : "invalid prices");
                goto out;
            }
            if (n && bt_collect(&r, &cap, ev, n) < 0) {
                rc = bt_fail(err, errlen, BT_ENOMEM, "out of memory");
                goto out;
            }
            if (done >= next_report) {
                next_report += BT_PROGRESS_EVERY;
                if (progress && progress((double)done / (double)total, ud)) {
                    rc = bt_fail(err, errlen, BT_ECANCELLED, "cancelled");
                    goto out;
                }
            }
        }
        r.npoints = total;
        r.start_time = c[0].open_time;
        r.end_time = c[total - 1].open_time + tf;
    }
    int s;
    while ((nseries > 1 || ext) && (s = bt_next(series, nseries, pos)) >= 0) {
        const candle *c = &series[s].candles[pos[s]];
        if (ext)
            engine_set_external(e, s, series[s].ext ? series[s].ext[pos[s]] : NAN);
        int n = engine_step(e, s, c, ev, ENGINE_MAX_STEP_EVENTS);
        if (n < 0) {
            rc = bt_fail(err, errlen, BT_EDATA, "series %d, candle %zu (open_time %lld): %s", s, pos[s],
                         (long long)c->open_time,
                         n == ENGINE_EORDER ? "not after the previous candle" : "invalid prices");
            goto out;
        }
        if (n && bt_collect(&r, &cap, ev, n) < 0) {
            rc = bt_fail(err, errlen, BT_ENOMEM, "out of memory");
            goto out;
        }
        if (c->open_time < r.start_time)
            r.start_time = c->open_time;
        if (c->open_time + tf > r.end_time)
            r.end_time = c->open_time + tf;
        pos[s]++;
        done++;
        /* one equity point per time: after the last symbol holding a candle of this time */
        int nx = bt_next(series, nseries, pos);
        if (nx < 0 || series[nx].candles[pos[nx]].open_time != c->open_time) {
            r.times[r.npoints] = c->open_time + tf;
            r.equity[r.npoints] = engine_equity(e);
            r.exposed_points += e->open_trades > 0;
            r.npoints++;
        }
        if (done >= next_report) {
            next_report += BT_PROGRESS_EVERY;
            if (progress && progress((double)done / (double)total, ud)) {
                rc = bt_fail(err, errlen, BT_ECANCELLED, "cancelled");
                goto out;
            }
        }
    }
    for (int k = 0; k < nseries; k++) {
        if (!series[k].n)
            continue;
        int n = engine_close_all(e, k, series[k].candles[series[k].n - 1].open_time + tf, ev, ENGINE_MAX_STEP_EVENTS);
        if (n < 0 || bt_collect(&r, &cap, ev, n) < 0) {
            rc = bt_fail(err, errlen, BT_ENOMEM, "out of memory");
            goto out;
        }
        r.first_open[k] = e->sym[k].first_open;
        r.last_close[k] = e->sym[k].last_close;
    }
    r.final_equity = engine_equity(e);
    r.equity[r.npoints - 1] = r.final_equity;
    r.candles = (int64_t)done;
    r.orders_skipped = e->orders_skipped;
    r.fees_paid = e->fees_paid;
    if (progress && progress(1.0, ud)) {
        rc = bt_fail(err, errlen, BT_ECANCELLED, "cancelled");
        goto out;
    }
    *out = r;
    memset(&r, 0, sizeof r);
    rc = 0;
out:
    bt_result_free(&r);
    free(ev);
    free(e);
    return rc;
}
