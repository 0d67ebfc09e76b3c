/* sweep_kernel.h — one parameter set's single-symbol backtest cut down to what an optimizer scores,
 * with the engine's arithmetic step for step; C for the CPU sweep and CUDA for worker/cuda alike. */
#ifndef BCF_TRADING_SWEEP_KERNEL_H
#define BCF_TRADING_SWEEP_KERNEL_H
#include "fills.h"
#include "strategy.h"
#include <math.h>
#include <stdint.h>

/*
 * Why a second copy of the engine's rules: an optimizer runs the same candles through thousands
 * of parameter sets and needs only their scores. The engine keeps every indicator's ring buffer
 * (4 KiB each), trade slots, events and the curve; here a parameter set's whole state is ~200
 * bytes, because a ring holds nothing but the closes already in the series array — the value
 * leaving a window of p is close[i − p], and a resync sums the same closes in the ring's slot
 * order. Small state is what lets a GPU thread or a CPU cache line hold it.
 *
 * Scope: the indicator strategies (sma_cross, ema_cross, rsi_reversion, bollinger_breakout,
 * macd_trend) on one symbol, every risk control included (stop-loss, take-profit, trailing stop,
 * ROI table, cooldown, stake). On one symbol these hold at most one trade, whatever
 * max_open_trades says. Grid, dca, ml_signal and several symbols go through the engine (sweep.c).
 *
 * Agreement: trade counts, fills, the final equity and the drawdowns are bit-identical to
 * backtest_run + bt_metrics_compute (the same operations in the same order, -ffp-contract=off
 * here and --fmad=false under nvcc). The return statistics are summed in one pass (sum and sum of
 * squares) where the report makes two, so Sharpe and Sortino agree to about 1e-12 relative;
 * tests/unit/test_sweep.c holds both to 1e-9.
 */

/* Always inlined, on both sides: `kind` must reach sweep_signal's switch as a constant, and the
 * state copied into sweep_advance must stay in registers. */
#ifdef __CUDACC__
#define SWEEP_FN static __host__ __device__ __forceinline__
#else
#define SWEEP_FN static inline __attribute__((always_inline))
#endif

/* The candles, one array per field so a GPU warp reading candle i reads one address. */
typedef struct sweep_series {
    const double *open, *high, *low, *close;
    const int64_t *time; /* open times, epoch ms, increasing */
    int64_t n;           /* candles */
    int64_t start;       /* the first traded candle; [0, start) is history the indicators warm on */
    int64_t timeframe_ms;
} sweep_series;

/* What a parameter set scores on (turned into Sharpe, Calmar, ... by sweep_metrics, sweep.h). */
typedef struct sweep_stats {
    double initial_balance, final_equity;
    double max_dd_pct, max_dd_abs; /* as bt_metrics: largest (peak − trough) / peak in %, and in quote */
    double ret_sum, ret_sq, down_sq; /* per-point returns: Σr, Σr², Σr² over r < 0 */
    double gross_profit, gross_loss, fees;
    int64_t trades, wins, losses;
    int64_t points;  /* equity points (candles traded) */
    int64_t exposed; /* points with the trade open */
    int64_t orders_skipped;
    int64_t start_time, end_time; /* first traded candle's open, last candle's close */
} sweep_stats;

/* The indicators' state: its own struct so the loop can hold it in registers. */
typedef struct sweep_sig {
    /* sma_cross a/b = fast/slow sums; bollinger a = mean, b = m2; ema a/b = fast/slow; macd a/b/c =
     * fast/slow/signal EMAs; rsi a/b = up/down averages, c = previous close */
    double a, b, c;
    double prev_a, prev_b;      /* the signal's previous values (NAN at first) */
    int64_t fed;                /* candles fed to the indicators (the engine's sig.candles) */
    int32_t a_resync, b_resync; /* updates left before a resync (sma); since the last (bollinger) */
    int32_t ind_count;          /* rsi, macd: the indicator's own count */
    int32_t c_seeded;           /* macd: the signal EMA has its first value */
} sweep_sig;

/* The portfolio: cash and at most one trade, with the orders waiting for the next open. */
typedef struct sweep_pos {
    double cash, qty, cost, entry_price, peak, last_close, pend_amount;
    int64_t entry_time;
    int32_t open, pend_buy, pend_sell, cooldown;
} sweep_pos;

/* The equity curve, folded as it goes. */
typedef struct sweep_curve {
    double eq_prev, eq_peak, eq_trough; /* the last point, the peak, the lowest point since it */
    double ret_sum, ret_sq, down_sq;
    int64_t points, exposed;
} sweep_curve;

/* A parameter set in flight: small parts, each small enough for the compiler to keep in
 * registers inside the loop. Zeroed by sweep_init; plain value, no pointers. */
typedef struct sweep_state {
    int64_t next;  /* the next candle index to process */
    int64_t first; /* the first candle fed to the indicators (start − warm-up) */
    sweep_sig sig;
    sweep_pos pos;
    sweep_curve cv;
    sweep_stats st; /* the rest of the statistics (trades, drawdowns, fees) */
} sweep_state;

/* A parameter set's numbers in the form the loop wants them: periods as ints, reciprocals and
 * smoothing factors computed once (the values the engine's indicators keep in their states). */
typedef struct sweep_k {
    int pa, pb, pc;          /* periods: fast/slow (cross, macd), rsi, bollinger; macd signal */
    double scale_a, scale_b; /* sma: 1 / period */
    double alpha_a, alpha_b, alpha_c; /* ema / macd smoothing factors */
    int32_t sma_cadence_a, sma_cadence_b;
} sweep_k;

SWEEP_FN void sweep_k_init(sweep_k *k, const engine_config *cfg)
{
    const double *p = cfg->params;
    k->pa = k->pb = k->pc = 1;
    k->scale_a = k->scale_b = k->alpha_a = k->alpha_b = k->alpha_c = 0;
    switch (cfg->kind) {
    case STRATEGY_SMA_CROSS:
    case STRATEGY_EMA_CROSS:
        k->pa = (int)p[STRAT_CROSS_FAST];
        k->pb = (int)p[STRAT_CROSS_SLOW];
        break;
    case STRATEGY_RSI_REVERSION:
        k->pa = (int)p[STRAT_RSI_PERIOD];
        break;
    case STRATEGY_BOLLINGER_BREAKOUT:
        k->pa = (int)p[STRAT_BB_PERIOD];
        break;
    case STRATEGY_MACD_TREND:
        k->pa = (int)p[STRAT_MACD_FAST];
        k->pb = (int)p[STRAT_MACD_SLOW];
        k->pc = (int)p[STRAT_MACD_SIGNAL];
        break;
    default:
        break;
    }
    k->scale_a = 1.0 / k->pa;
    k->scale_b = 1.0 / k->pb;
    k->alpha_a = 2.0 / ((double)k->pa + 1.0);
    k->alpha_b = 2.0 / ((double)k->pb + 1.0);
    k->alpha_c = 2.0 / ((double)k->pc + 1.0);
    k->sma_cadence_a = k->pa > 1024 ? k->pa : 1024;
    k->sma_cadence_b = k->pb > 1024 ? k->pb : 1024;
}

/* The engine's SMA resync: the sum of the window's values in ring-slot order. The value of the
 * j-th input (j counted from 0) sits in slot j mod p, so slot j holds the latest input ≡ j. */
SWEEP_FN double sweep_ring_sum(const double *x, int64_t last, int p)
{
    int64_t base = last - last % p; /* the input in slot 0 */
    double sum = 0;
    for (int j = 0; j < p; j++) {
        int64_t k = base + j;
        if (k > last)
            k -= p;
        sum += x[k];
    }
    return sum;
}

/* ind_sma_step over x (inputs counted from 0; `i` the new one): *sum and *resync are the state. */
SWEEP_FN int sweep_sma(const double *x, int64_t i, int p, double scale, int32_t cadence, double *sum,
                       int32_t *resync, double *out)
{
    double v = x[i];
    if (i < p) {
        *sum += v;
        if (i + 1 < p)
            return 0;
    } else {
        *sum += v - x[i - p];
        if (--*resync == 0) {
            *sum = sweep_ring_sum(x, i, p);
            *resync = cadence;
        }
    }
    *out = *sum * scale;
    return 1;
}

/* ind_bbands_update, the ring read from x; a = mean, b = m2, *since = updates since the resync. */
SWEEP_FN int sweep_bbands(const double *x, int64_t i, int p, double k, double *mean, double *m2, int32_t *since,
                          double *lower, double *middle, double *upper)
{
    double value = x[i];
    if (i < p) {
        double delta = value - *mean;
        *mean += delta / (double)(i + 1);
        *m2 += delta * (value - *mean);
        if (i + 1 < p)
            return 0;
    } else {
        double old = x[i - p];
        double nm = *mean + (value - old) / p;
        *m2 += (value - old) * (value - nm + old - *mean);
        *mean = nm;
        if (++*since >= p) {
            double s = sweep_ring_sum(x, i, p);
            nm = s / p;
            int64_t base = i - i % p;
            double q = 0;
            for (int j = 0; j < p; j++) {
                int64_t kk = base + j;
                if (kk > i)
                    kk -= p;
                q += (x[kk] - nm) * (x[kk] - nm);
            }
            *mean = nm;
            *m2 = q;
            *since = 0;
        }
    }
    double var = *m2 / p;
    double sd = var > 0 ? sqrt(var) : 0;
    *middle = *mean;
    *lower = *mean - k * sd;
    *upper = *mean + k * sd;
    return 1;
}

/* ind_ema_update: seeded with the first value. */
SWEEP_FN double sweep_ema(double v, double prev, int seeded, double alpha)
{
    return seeded ? (v - prev) * alpha + prev : v;
}

/* sig_cross */
SWEEP_FN int sweep_cross(sweep_sig *s, double a, double b)
{
    int sig = 0;
    if (a < b)
        sig = 2;
    else if (a > b && s->prev_a <= s->prev_b)
        sig = 1;
    s->prev_a = a;
    s->prev_b = b;
    return sig;
}

/* sig_update_kind for candle index ci: 0 none, 1 buy, 2 sell (the sig_value numbers). */
SWEEP_FN int sweep_signal(sweep_sig *s, int64_t first, const engine_config *cfg, const sweep_k *k,
                          const sweep_series *se, int64_t ci, const int kind)
{
    const double *x = se->close + first; /* the indicators' inputs, counted from 0 */
    int64_t i = ci - first;
    double close = se->close[ci];
    const double *p = cfg->params;
    s->fed++;
    switch (kind) {
    case STRATEGY_SMA_CROSS: {
        double a = 0, b = 0;
        sweep_sma(x, i, k->pa, k->scale_a, k->sma_cadence_a, &s->a, &s->a_resync, &a);
        if (!sweep_sma(x, i, k->pb, k->scale_b, k->sma_cadence_b, &s->b, &s->b_resync, &b))
            return 0;
        return sweep_cross(s, a, b);
    }
    case STRATEGY_EMA_CROSS: {
        int seeded = s->fed > 1;
        s->a = sweep_ema(close, s->a, seeded, k->alpha_a);
        s->b = sweep_ema(close, s->b, seeded, k->alpha_b);
        if (s->fed < (int64_t)k->pb)
            return 0;
        return sweep_cross(s, s->a, s->b);
    }
    case STRATEGY_RSI_REVERSION: {
        int period = k->pa;
        int n = s->ind_count++;
        if (n == 0) {
            s->c = close;
            return 0;
        }
        double up = close > s->c ? close - s->c : 0;
        double down = close < s->c ? s->c - close : 0;
        s->c = close;
        if (n < period) {
            s->a += up;
            s->b += down;
            return 0;
        }
        if (n == period) {
            s->a = (s->a + up) / period;
            s->b = (s->b + down) / period;
        } else {
            s->a = (up - s->a) * k->scale_a + s->a;
            s->b = (down - s->b) * k->scale_a + s->b;
        }
        s->ind_count = period + 1;
        double r = s->a + s->b > 0 ? 100.0 * (s->a / (s->a + s->b)) : 50.0;
        if (r < p[STRAT_RSI_OVERSOLD])
            return 1;
        if (r > p[STRAT_RSI_OVERBOUGHT])
            return 2;
        return 0;
    }
    case STRATEGY_BOLLINGER_BREAKOUT: {
        double lo, mid, up;
        if (!sweep_bbands(x, i, k->pa, p[STRAT_BB_K], &s->a, &s->b, &s->a_resync, &lo, &mid, &up))
            return 0;
        int sig = 0;
        if (close < (p[STRAT_BB_EXIT_MIDDLE] != 0 ? mid : lo))
            sig = 2;
        else if (close > up && s->prev_a <= s->prev_b)
            sig = 1;
        s->prev_a = close;
        s->prev_b = up;
        return sig;
    }
    default: { /* STRATEGY_MACD_TREND */
        int seeded = s->fed > 1;
        s->a = sweep_ema(close, s->a, seeded, k->alpha_a);
        s->b = sweep_ema(close, s->b, seeded, k->alpha_b);
        if (s->ind_count < k->pb)
            s->ind_count++;
        if (s->ind_count < k->pb)
            return 0;
        double m = s->a - s->b;
        s->c = sweep_ema(m, s->c, s->c_seeded, k->alpha_c);
        s->c_seeded = 1;
        double h = m - s->c;
        int sig = 0;
        if (h < 0)
            sig = 2;
        else if (h > 0 && s->prev_a <= 0 && (p[STRAT_MACD_ZERO_FILTER] == 0 || m > 0))
            sig = 1;
        s->prev_a = h;
        return sig;
    }
    }
}

/* eng_close for the one trade, at market price px. */
SWEEP_FN void sweep_close(sweep_pos *s, sweep_stats *st, const engine_config *cfg, double px)
{
    double price, fee;
    double proceeds = fill_sell(s->qty, px, fill_rate(cfg->costs.fee_bps), fill_rate(cfg->costs.slippage_bps),
                                &price, &fee);
    double pnl = proceeds - s->cost;
    s->cash += proceeds;
    st->fees += fee;
    st->trades++;
    if (pnl > 0) {
        st->wins++;
        st->gross_profit += pnl;
    } else if (pnl < 0) {
        st->losses++;
        st->gross_loss += -pnl;
    }
    if (pnl < 0 && cfg->risk.cooldown_candles > 0)
        s->cooldown = cfg->risk.cooldown_candles;
    s->open = 0;
    s->qty = s->cost = s->entry_price = s->peak = 0;
    s->entry_time = 0;
}

/* eng_check_exits for the one trade against candle ci. */
SWEEP_FN void sweep_exits(sweep_pos *s, sweep_stats *st, const engine_config *cfg, const sweep_series *se,
                          int64_t ci)
{
    const risk_config *r = &cfg->risk;
    double sl = r->stop_loss_pct / 100.0, tp = r->take_profit_pct / 100.0;
    double trail = r->trailing_stop_pct / 100.0, offset = r->trailing_offset_pct / 100.0;
    double open = se->open[ci], avg = s->entry_price;
    double stop = 0;
    int stop_hit = 0;
    if (sl > 0) {
        stop = avg * (1.0 - sl);
        stop_hit = 1;
    }
    if (trail > 0 && s->peak >= avg * (1.0 + offset)) {
        double ts = s->peak * (1.0 - trail);
        if (ts > stop) {
            stop = ts;
            stop_hit = 1;
        }
    }
    if (stop_hit) {
        if (open <= stop) {
            sweep_close(s, st, cfg, open);
            return;
        }
        if (se->low[ci] <= stop) {
            sweep_close(s, st, cfg, stop);
            return;
        }
    }
    double target = INFINITY;
    int target_hit = 0;
    if (tp > 0) {
        target = avg * (1.0 + tp);
        target_hit = 1;
    }
    if (r->roi_count) {
        /* eng_roi */
        double pct = NAN;
        int64_t minutes = (se->time[ci] - s->entry_time) / 60000;
        for (int k = 0; k < r->roi_count && r->roi[k].minutes <= minutes; k++)
            pct = r->roi[k].profit_pct;
        double roi = pct / 100.0;
        if (!isnan(roi) && avg * (1.0 + roi) < target) {
            target = avg * (1.0 + roi);
            target_hit = 1;
        }
    }
    if (target_hit) {
        if (open >= target) {
            sweep_close(s, st, cfg, open);
            return;
        }
        if (se->high[ci] >= target) {
            sweep_close(s, st, cfg, target);
            return;
        }
    }
    if (se->high[ci] > s->peak)
        s->peak = se->high[ci];
}

/* The drawdown of the stretch since the last peak, into the maxima. Within a stretch the peak is
 * fixed, so its deepest point is its lowest equity, and rounding is monotonic: the largest
 * (peak − eq) / peak × 100 of the stretch is the one at its trough. One division per stretch
 * instead of one per point, and the same maxima as rpt_curve to the bit. */
SWEEP_FN void sweep_dd_stretch(const sweep_curve *c, sweep_stats *st)
{
    double dd = c->eq_peak - c->eq_trough;
    if (dd > 0) {
        double ddp = c->eq_peak > 0 ? dd / c->eq_peak * 100.0 : 0;
        if (dd > st->max_dd_abs)
            st->max_dd_abs = dd;
        if (ddp > st->max_dd_pct)
            st->max_dd_pct = ddp;
    }
}

/* One point of the equity curve into the running statistics (rpt_curve's arithmetic). */
SWEEP_FN void sweep_point(sweep_curve *c, sweep_stats *st, double eq)
{
    /* Which way a marked equity moves is a coin toss to the branch predictor, so the trough and
     * the downside sum are written without branches: adding 0.0 leaves a sum's bits as they are. */
    int up = eq > c->eq_peak;
    double dd = c->eq_peak - c->eq_trough, ddp = c->eq_peak > 0 ? dd / c->eq_peak * 100.0 : 0;
    /* at a new peak the stretch behind it ends: its drawdown joins the maxima (sweep_dd_stretch,
     * as selects: a maximum beaten is above 0, so the stretch's own dd > 0 test is implied) */
    st->max_dd_abs = up && dd > st->max_dd_abs ? dd : st->max_dd_abs;
    st->max_dd_pct = up && ddp > st->max_dd_pct ? ddp : st->max_dd_pct;
    c->eq_peak = up ? eq : c->eq_peak;
    c->eq_trough = up || eq < c->eq_trough ? eq : c->eq_trough;
    if (eq != c->eq_prev) { /* an unchanged equity is a return of exactly 0: nothing to add */
        double ret = c->eq_prev > 0 ? eq / c->eq_prev - 1.0 : 0;
        double down = ret < 0 ? ret : 0.0;
        c->ret_sum += ret;
        c->ret_sq += ret * ret;
        c->down_sq += down * down;
    }
    c->eq_prev = eq;
    c->points++;
}

/* Starts a curve at the initial balance. */
SWEEP_FN void sweep_curve_init(sweep_curve *c, double initial_balance)
{
    c->eq_prev = c->eq_peak = c->eq_trough = initial_balance;
    c->ret_sum = c->ret_sq = c->down_sq = 0;
    c->points = c->exposed = 0;
}

/* After the last point: the open stretch's drawdown counts too, and the curve's sums join the
 * statistics. */
SWEEP_FN void sweep_curve_end(const sweep_curve *c, sweep_stats *st)
{
    sweep_dd_stretch(c, st);
    st->ret_sum = c->ret_sum;
    st->ret_sq = c->ret_sq;
    st->down_sq = c->down_sq;
    st->points = c->points;
    st->exposed = c->exposed;
}

/* Starts a parameter set: `warm` candles before se->start warm its indicators (the backtest's
 * warm-up: min(engine_warmup_candles(cfg), backtests.warmup_max, start)). */
SWEEP_FN void sweep_init(sweep_state *s, const engine_config *cfg, const sweep_series *se, double initial_balance,
                         int64_t warm)
{
    char *b = (char *)s;
    for (unsigned k = 0; k < sizeof *s; k++)
        b[k] = 0;
    if (warm > se->start)
        warm = se->start;
    s->first = se->start - warm;
    s->next = s->first;
    s->sig.prev_a = s->sig.prev_b = NAN;
    if (cfg->kind == STRATEGY_SMA_CROSS) {
        sweep_k k;
        sweep_k_init(&k, cfg);
        s->sig.a_resync = k.sma_cadence_a;
        s->sig.b_resync = k.sma_cadence_b;
    }
    s->pos.cash = initial_balance;
    sweep_curve_init(&s->cv, initial_balance);
    s->st.initial_balance = initial_balance;
    if (se->start < se->n) {
        s->st.start_time = se->time[se->start];
        s->st.end_time = se->time[se->n - 1] + se->timeframe_ms;
    }
}

/* Processes candles up to (not including) `to`: warm-up candles feed the indicators only, the
 * others take the engine's three steps (fills at the open, exits in the candle, the decision on
 * the close). `kind` must be cfg->kind; a constant at the call site lets the compiler drop the
 * other strategies. */
SWEEP_FN void sweep_advance(sweep_state *sp, const engine_config *cfg, const sweep_series *se, int64_t to,
                            const int kind)
{
    const int64_t n = se->n;
    if (to > n)
        to = n;
    /* local copies: the candle arrays are doubles too, so through the pointer every store to the
     * state could alias them and nothing would stay in a register */
    sweep_sig g = sp->sig;
    sweep_pos p = sp->pos;
    sweep_curve cv = sp->cv;
    sweep_k k;
    sweep_k_init(&k, cfg);
    const double fee_rate = fill_rate(cfg->costs.fee_bps), slip = fill_rate(cfg->costs.slippage_bps);
    const double stake = cfg->risk.stake_pct / 100.0;
    const int armed = cfg->risk.stop_loss_pct > 0 || cfg->risk.take_profit_pct > 0 ||
                      cfg->risk.trailing_stop_pct > 0 || cfg->risk.roi_count > 0;
    const int64_t first = sp->first;
    const double *open_a = se->open, *close_a = se->close;
    int64_t i = sp->next;
    for (; i < to && i < se->start; i++) /* warm-up: the indicators only */
        sweep_signal(&g, first, cfg, &k, se, i, kind);
    for (; i < to; i++) {
        if (!(p.open | p.pend_sell | p.pend_buy | p.cooldown)) {
            /* Flat with nothing pending: until an entry signal nothing but the indicators moves.
             * The equity stays at the cash, which is the last point, at or below the peak and at
             * or above the trough since it, so each point only counts. A loop this small keeps
             * the indicators in registers. */
            int64_t j = i;
            int sig = 0;
            for (; j < to; j++)
                if ((sig = sweep_signal(&g, first, cfg, &k, se, j, kind)) == 1)
                    break;
            int64_t last = j < to ? j : to - 1; /* the last candle this consumed */
            cv.points += (last + 1 < n ? last + 1 : n - 1) - i;
            p.last_close = close_a[last];
            if (sig == 1) {
                p.pend_buy = 1;
                p.pend_amount = p.cash * stake;
            }
            i = last;
            continue;
        }
        if (p.open && !(p.pend_sell | p.pend_buy | p.cooldown | armed)) {
            /* In a trade with no exit inside candles and nothing pending: until an exit signal
             * only the indicators and the marked equity move. */
            int64_t j = i;
            int sig = 0;
            const double cash = p.cash, qty = p.qty;
            for (; j < to; j++) {
                sig = sweep_signal(&g, first, cfg, &k, se, j, kind);
                if (j + 1 < n)
                    sweep_point(&cv, &sp->st, cash + qty * close_a[j]);
                if (sig == 2)
                    break;
            }
            int64_t last = j < to ? j : to - 1;
            cv.exposed += last + 1 - i;
            p.last_close = close_a[last];
            if (sig == 2)
                p.pend_sell = 1;
            i = last;
            continue;
        }
        /* 1. the orders decided on the previous close, at this open: sell, then buy */
        if (p.pend_sell | p.pend_buy) {
            double open = open_a[i];
            if (p.pend_sell) {
                if (p.open)
                    sweep_close(&p, &sp->st, cfg, open);
                p.pend_sell = 0;
            }
            if (p.pend_buy) {
                double amount = p.pend_amount;
                if (amount > p.cash)
                    amount = p.cash;
                if (!p.open && amount > 0) {
                    double price, fee;
                    double qty = fill_buy_amount(amount, open, fee_rate, slip, &price, &fee);
                    p.cash -= amount;
                    sp->st.fees += fee;
                    p.open = 1;
                    p.qty = qty;
                    p.cost = amount;
                    p.entry_price = price;
                    p.peak = open;
                    p.entry_time = se->time[i];
                } else {
                    sp->st.orders_skipped++;
                }
                p.pend_buy = 0;
                p.pend_amount = 0;
            }
        }
        /* 2. exits inside the candle */
        if (p.open && armed)
            sweep_exits(&p, &sp->st, cfg, se, i);
        /* 3. the close: the signal, then the decision */
        double close = close_a[i];
        p.last_close = close;
        int sig = sweep_signal(&g, first, cfg, &k, se, i, kind);
        if ((sig == 1 && !p.open) || (sig == 2 && p.open) || p.cooldown) {
            if (sig == 2 && p.open)
                p.pend_sell = 1;
            else if (sig == 1 && !p.open && !p.cooldown) {
                p.pend_buy = 1;
                p.pend_amount = p.cash * stake;
            }
            if (p.cooldown)
                p.cooldown--;
        }
        cv.exposed += p.open;
        /* the last candle's point is the final equity (sweep_finish), after the closing sale */
        if (i + 1 < n)
            sweep_point(&cv, &sp->st, p.open ? p.cash + p.qty * close : p.cash);
    }
    if (to > sp->next)
        sp->next = to;
    sp->sig = g;
    sp->pos = p;
    sp->cv = cv;
}

/* After the last candle: the open trade is sold at the last close (end of data) and the final
 * equity becomes the last point. */
SWEEP_FN void sweep_finish(sweep_state *s, const engine_config *cfg, const sweep_series *se, sweep_stats *out)
{
    if (se->start < se->n) {
        if (s->pos.open)
            sweep_close(&s->pos, &s->st, cfg, s->pos.last_close);
        sweep_point(&s->cv, &s->st, s->pos.cash);
    }
    sweep_curve_end(&s->cv, &s->st);
    s->st.final_equity = s->pos.cash;
    *out = s->st;
}

/* 1 when the kernel covers cfg on one symbol (the engine takes the rest). */
SWEEP_FN int sweep_kernel_covers(const engine_config *cfg)
{
    return cfg->kind == STRATEGY_SMA_CROSS || cfg->kind == STRATEGY_EMA_CROSS ||
           cfg->kind == STRATEGY_RSI_REVERSION || cfg->kind == STRATEGY_BOLLINGER_BREAKOUT ||
           cfg->kind == STRATEGY_MACD_TREND;
}
#endif
