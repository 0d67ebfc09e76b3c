/* sweep.c — the CPU sweep: threads take blocks of parameter sets and run each block tile by tile
 * over the candles (so a tile stays in cache for the whole block); metrics from the statistics. */
#include "sweep.h"
#include "engine.h"
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SWEEP_BLOCK 8     /* parameter sets a thread takes at once */
#define SWEEP_TILE 16384  /* candles per tile: 5 arrays × 8 bytes × 16k = 640 KiB, an L2's worth */
#define SWEEP_YEAR_MS (365.0 * 86400000.0)

static int sweep_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int sweep_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int sweep_data_init(sweep_data *d, const candle *c, size_t n, size_t start, int64_t tf_ms, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    if (!c || n == 0 || start >= n)
        return sweep_fail(err, errlen, "candles: none to trade");
    if (tf_ms <= 0)
        return sweep_fail(err, errlen, "timeframe: invalid");
    for (size_t i = 0; i < n; i++) {
        const candle *k = &c[i];
        /* the engine's candle check (eng_candle_ok): NAN fails every comparison */
        if (!((k->low > 0) & (k->high < INFINITY) & (k->high >= k->open) & (k->high >= k->close) &
              (k->low <= k->open) & (k->low <= k->close)))
            return sweep_fail(err, errlen, "candle %zu: invalid prices", i);
        if (i && k->open_time <= c[i - 1].open_time)
            return sweep_fail(err, errlen, "candle %zu: not after the previous candle", i);
    }
    d->buf = malloc(4 * n * sizeof *d->buf);
    d->time = malloc(n * sizeof *d->time);
    if (!d->buf || !d->time) {
        sweep_data_free(d);
        return sweep_fail(err, errlen, "out of memory");
    }
    double *o = d->buf, *h = o + n, *l = h + n, *cl = l + n;
    for (size_t i = 0; i < n; i++) {
        o[i] = c[i].open;
        h[i] = c[i].high;
        l[i] = c[i].low;
        cl[i] = c[i].close;
        d->time[i] = c[i].open_time;
    }
    d->candles = c;
    d->se = (sweep_series){o, h, l, cl, d->time, (int64_t)n, (int64_t)start, tf_ms};
    return 0;
}

void sweep_data_free(sweep_data *d)
{
    free(d->buf);
    free(d->time);
    memset(d, 0, sizeof *d);
}

int64_t sweep_warmup(const engine_config *cfg, const sweep_series *se, int warmup_max)
{
    int64_t w = engine_warmup_candles(cfg);
    if (w > warmup_max)
        w = warmup_max;
    return w > se->start ? se->start : w;
}

static double sweep_finite(double v)
{
    return isfinite(v) ? v : NAN;
}

void sweep_metrics_compute(const sweep_stats *s, int64_t timeframe_ms, sweep_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->final_equity = s->final_equity;
    m->fees = s->fees;
    m->trades = s->trades;
    m->profit_pct = (s->final_equity / s->initial_balance - 1.0) * 100.0;
    double years = (double)(s->end_time - s->start_time) / SWEEP_YEAR_MS;
    if (!(years > 0))
        m->cagr_pct = NAN;
    else if (s->final_equity <= 0)
        m->cagr_pct = -100.0;
    else
        m->cagr_pct = sweep_finite((pow(s->final_equity / s->initial_balance, 1.0 / years) - 1.0) * 100.0);
    m->max_drawdown_pct = s->max_dd_pct;
    m->calmar = s->max_dd_pct > 0 ? sweep_finite(m->cagr_pct / s->max_dd_pct) : NAN;
    m->profit_dd = m->profit_pct / (s->max_dd_pct > 1.0 ? s->max_dd_pct : 1.0);
    double n = (double)s->points;
    double mean = s->points ? s->ret_sum / n : 0;
    double var = s->ret_sq - s->ret_sum * mean; /* Σ(r − mean)², in one pass */
    if (var < 0)
        var = 0;
    double sd = s->points > 1 ? sqrt(var / (n - 1)) : 0;
    double dd = s->points ? sqrt(s->down_sq / n) : 0;
    double ann = sqrt(SWEEP_YEAR_MS / (double)timeframe_ms);
    m->sharpe = sd > 0 ? sweep_finite(mean / sd * ann) : NAN;
    m->sortino = dd > 0 ? sweep_finite(mean / dd * ann) : NAN;
    m->win_rate_pct = s->trades ? (double)s->wins / (double)s->trades * 100.0 : NAN;
    m->exposure_pct = s->points ? (double)s->exposed / n * 100.0 : NAN;
}

/* ---- the two paths for one parameter set ---- */

void sweep_one_kernel(const sweep_data *d, const engine_config *cfg, double initial_balance, int warmup_max,
                      sweep_stats *out)
{
    sweep_state s;
    sweep_init(&s, cfg, &d->se, initial_balance, sweep_warmup(cfg, &d->se, warmup_max));
    sweep_advance(&s, cfg, &d->se, d->se.n, cfg->kind);
    sweep_finish(&s, cfg, &d->se, out);
}

int sweep_one_engine(const sweep_data *d, const engine_config *cfg, double initial_balance, int warmup_max,
                     sweep_stats *out)
{
    int64_t w = sweep_warmup(cfg, &d->se, warmup_max);
    int64_t from = d->se.start - w;
    bt_series bs = {d->candles + from, (size_t)(d->se.n - from), (size_t)w, d->ext ? d->ext + from : NULL};
    bt_result r;
    int rc = backtest_run(cfg, &bs, 1, initial_balance, NULL, NULL, &r, NULL, 0);
    if (rc != 0)
        return rc;
    /* fold the engine's curve and trades into the kernel's statistics, point by point */
    sweep_curve cv;
    sweep_stats st;
    memset(&st, 0, sizeof st);
    st.initial_balance = initial_balance;
    sweep_curve_init(&cv, initial_balance);
    for (size_t i = 0; i < r.npoints; i++)
        sweep_point(&cv, &st, r.equity[i]);
    cv.exposed = (int64_t)r.exposed_points;
    sweep_curve_end(&cv, &st);
    for (size_t i = 0; i < r.ntrades; i++) {
        double pnl = r.trades[i].pnl;
        st.trades++;
        if (pnl > 0) {
            st.wins++;
            st.gross_profit += pnl;
        } else if (pnl < 0) {
            st.losses++;
            st.gross_loss += -pnl;
        }
    }
    st.final_equity = r.final_equity;
    st.fees = r.fees_paid;
    st.orders_skipped = r.orders_skipped;
    st.start_time = r.start_time;
    st.end_time = r.end_time;
    *out = st;
    bt_result_free(&r);
    return 0;
}

/* ---- the threads ---- */

typedef struct sweep_job {
    const sweep_data *d;
    const engine_config *cfgs;
    const sweep_opts *o;
    sweep_stats *out;
    size_t n;
    size_t next;   /* the next block to hand out (atomic) */
    size_t done;   /* parameter sets finished (atomic) */
    int stop;      /* set to stop early (atomic) */
    int rc;        /* the first failure (under the atomic's ordering: written once) */
} sweep_job;

/* The kernel over a block of parameter sets of one kind, tile by tile. */
static inline __attribute__((always_inline)) void sweep_block_kind(const sweep_data *d, const engine_config *cfg,
                                                                   sweep_state *st, int m, const int kind)
{
    int64_t lo = d->se.n;
    for (int k = 0; k < m; k++)
        if (st[k].next < lo)
            lo = st[k].next;
    for (int64_t t = lo; t < d->se.n; t += SWEEP_TILE) {
        int64_t to = t + SWEEP_TILE < d->se.n ? t + SWEEP_TILE : d->se.n;
        for (int k = 0; k < m; k++)
            if (st[k].next < to)
                sweep_advance(&st[k], &cfg[k], &d->se, to, kind);
    }
}

static void sweep_block(sweep_job *j, size_t from, size_t to)
{
    sweep_state st[SWEEP_BLOCK];
    engine_config kc[SWEEP_BLOCK];
    size_t idx[SWEEP_BLOCK];
    int m = 0, kind = -1;
    for (size_t i = from; i < to; i++) {
        const engine_config *cfg = &j->cfgs[i];
        if (!sweep_kernel_covers(cfg)) {
            int rc = sweep_one_engine(j->d, cfg, j->o->initial_balance, j->o->warmup_max, &j->out[i]);
            if (rc != 0) {
                int zero = 0;
                __atomic_compare_exchange_n(&j->rc, &zero, rc == BT_ENOMEM ? SWEEP_ENOMEM : SWEEP_EINVAL, 0,
                                            __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
            }
            continue;
        }
        /* a block holds one kind, so the kernel's loop is specialised for it */
        if (m && cfg->kind != kind)
            continue;
        kind = cfg->kind;
        kc[m] = *cfg;
        idx[m] = i;
        sweep_init(&st[m], cfg, &j->d->se, j->o->initial_balance, sweep_warmup(cfg, &j->d->se, j->o->warmup_max));
        m++;
    }
    switch (kind) {
    case STRATEGY_SMA_CROSS:
        sweep_block_kind(j->d, kc, st, m, STRATEGY_SMA_CROSS);
        break;
    case STRATEGY_EMA_CROSS:
        sweep_block_kind(j->d, kc, st, m, STRATEGY_EMA_CROSS);
        break;
    case STRATEGY_RSI_REVERSION:
        sweep_block_kind(j->d, kc, st, m, STRATEGY_RSI_REVERSION);
        break;
    case STRATEGY_BOLLINGER_BREAKOUT:
        sweep_block_kind(j->d, kc, st, m, STRATEGY_BOLLINGER_BREAKOUT);
        break;
    case STRATEGY_MACD_TREND:
        sweep_block_kind(j->d, kc, st, m, STRATEGY_MACD_TREND);
        break;
    default:
        break;
    }
    for (int k = 0; k < m; k++)
        sweep_finish(&st[k], &kc[k], &j->d->se, &j->out[idx[k]]);
    /* sets of another kind skipped above: one at a time (a sweep has one kind, so this is rare) */
    for (size_t i = from; i < to; i++) {
        const engine_config *cfg = &j->cfgs[i];
        if (sweep_kernel_covers(cfg) && cfg->kind != kind)
            sweep_one_kernel(j->d, cfg, j->o->initial_balance, j->o->warmup_max, &j->out[i]);
    }
}

/* Takes blocks until none is left; the calling thread (main = 1) also reports progress. */
static void sweep_work(sweep_job *j, int main)
{
    for (;;) {
        if (__atomic_load_n(&j->stop, __ATOMIC_RELAXED))
            return;
        size_t from = __atomic_fetch_add(&j->next, SWEEP_BLOCK, __ATOMIC_RELAXED);
        if (from >= j->n)
            return;
        size_t to = from + SWEEP_BLOCK < j->n ? from + SWEEP_BLOCK : j->n;
        sweep_block(j, from, to);
        size_t done = __atomic_add_fetch(&j->done, to - from, __ATOMIC_RELAXED);
        if (main && j->o->progress && j->o->progress(done, j->n, j->o->ud))
            __atomic_store_n(&j->stop, 1, __ATOMIC_RELAXED);
    }
}

static void *sweep_thread(void *arg)
{
    sweep_work(arg, 0);
    return NULL;
}

int sweep_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int sweep_run(const sweep_data *d, const engine_config *cfgs, size_t n, const sweep_opts *o, sweep_stats *out)
{
    if (!d || !d->buf || (n && (!cfgs || !out)) || !o || !(o->initial_balance > 0))
        return SWEEP_EINVAL;
    sweep_job j = {.d = d, .cfgs = cfgs, .o = o, .out = out, .n = n};
    int threads = o->threads > 0 ? o->threads : sweep_cpu_count();
    size_t blocks = (n + SWEEP_BLOCK - 1) / SWEEP_BLOCK;
    if ((size_t)threads > blocks)
        threads = blocks ? (int)blocks : 1;
    pthread_t tid[64];
    if (threads > 64)
        threads = 64;
    int started = 0;
    for (int t = 1; t < threads; t++) {
        if (pthread_create(&tid[started], NULL, sweep_thread, &j) != 0)
            break; /* fewer threads: the same results, later */
        started++;
    }
    sweep_work(&j, 1);
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    if (j.rc)
        return j.rc;
    if (j.stop)
        return SWEEP_ECANCELLED;
    if (o->progress && o->progress(n, n, o->ud))
        return SWEEP_ECANCELLED;
    return 0;
}
